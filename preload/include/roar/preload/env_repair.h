/* Environment repair for exec and spawn: a program may hand its children a
 * scrubbed environment (Python's env={}, `env -i`), which would drop the
 * shim. The repaired copy has LD_PRELOAD with this library first (other
 * preloaded libraries kept) and every variable the shim saved at start
 * that the given environment lacks. Values the program set deliberately
 * are kept, except that LD_PRELOAD always gains the shim.
 *
 * The copy is built in caller-provided stack scratch; only an environment
 * with more than ROAR_ENV_STACK_ENTRIES entries (or a huge LD_PRELOAD) uses
 * an anonymous mmap, never the heap. */
#ifndef ROAR_PRELOAD_ENV_REPAIR_H
#define ROAR_PRELOAD_ENV_REPAIR_H

#include "roar/preload/shim_state.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ROAR_ENV_STACK_ENTRIES 256
#define ROAR_ENV_LD_BYTES 1024

struct roar_env_scratch {
    char* vec[ROAR_ENV_STACK_ENTRIES];
    char ld[ROAR_ENV_LD_BYTES];
    void* map;
    size_t map_len;
};

/* Whether LD_PRELOAD entry value `value` already names this library
 * (`preload_path`, or any element whose file name is libroar_preload.so). */
int roar_env_ld_has_shim(const char* value, const char* preload_path);

/* Returns `envp` itself when it already carries everything, else a
 * repaired copy living in `scratch`. Returns `envp` unchanged when the
 * copy cannot be made (the program then runs untraced, as it asked). */
char* const* roar_env_repair(const struct roar_shim* S, char* const* envp, struct roar_env_scratch* scratch);

/* Releases what roar_env_repair may have mapped (needed only when the
 * process goes on, e.g. after a failed exec). */
void roar_env_release(struct roar_env_scratch* scratch);

#ifdef __cplusplus
}
#endif

#endif
