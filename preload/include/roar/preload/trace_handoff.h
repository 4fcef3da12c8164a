/* Handing a process to roar run's ptrace tracer before it execs a program
 * the shim cannot enter (static, Go), and noticing at start-up that the
 * tracer already follows this process (it then publishes the file syscalls,
 * and the shim leaves those events to it). See collector/include/roar/
 * collector/tracer.hpp and docs/ARCHITECTURE.md, "The ptrace tracer". */
#ifndef ROAR_PRELOAD_TRACE_HANDOFF_H
#define ROAR_PRELOAD_TRACE_HANDOFF_H

#include "roar/preload/shim_state.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Whether the calling thread is traced by the tracer thread of `ring`'s
 * job (its TracerPid is the ring header's tracer_tid). */
int roar_traced_by_roar(const struct roar_ring* ring);

/* Whether an exec of a target the exec probe found `probe` should be handed
 * to the tracer: it is static or Go (not setid, file-caps or 32-bit), the
 * job's tracer mode allows it, and this process is not traced already. */
int roar_handoff_wanted(const struct roar_shim* S, int probe);

/* After the EXEC at ring index `index` asked for tracing: waits (bounded,
 * as any sync point) until the collector has taken it, and when the
 * tracer has attached, installs its syscall filter on this thread. Safe in
 * a vfork-like child: writes nothing to S. Clobbers errno. */
void roar_handoff_complete(struct roar_shim* S, int64_t index);

/* Ops the tracer publishes itself for a process it follows: the shim's
 * would be duplicates. Not TRANSFER: the tracer does not stop on the
 * in-kernel copies, so the shim's hook still reports the libc calls. */
static inline int roar_op_from_tracer(uint16_t op)
{
    switch (op) {
    case ROAR_OP_OPEN:
    case ROAR_OP_CLOSE:
    case ROAR_OP_DUP:
    case ROAR_OP_CHDIR:
    case ROAR_OP_RENAME:
    case ROAR_OP_LINK:
    case ROAR_OP_SYMLINK:
    case ROAR_OP_UNLINK:
    case ROAR_OP_TRUNCATE:
    case ROAR_OP_MKDIR:
    case ROAR_OP_PRE_MODIFY: return 1;
    default: return 0;
    }
}

#ifdef __cplusplus
}
#endif

#endif
