/* The library's single shim state and libc table, and lazy start-up for
 * hooks that run before the constructor. Private to libroar_preload.so
 * (unit tests build their own state instead). */
#ifndef ROAR_PRELOAD_LIFECYCLE_H
#define ROAR_PRELOAD_LIFECYCLE_H

#include "roar/preload/core.h"

extern struct roar_libc g_roar_libc;
extern struct roar_shim g_roar_shim;

/* Starts the shim once per process image: maps ROAR_RING, saves the
 * environment, reports the process (argv from the constructor, or NULL to
 * read /proc/self/cmdline). Any failure leaves the shim a pass-through. */
void roar_lifecycle_start(char* const* argv);

/* The shim state, started if no hook or constructor has done it yet. */
static inline struct roar_shim* roar_shim_get(void)
{
    if (__builtin_expect(__atomic_load_n(&g_roar_shim.status, __ATOMIC_ACQUIRE) == ROAR_SHIM_UNINIT, 0)) {
        roar_lifecycle_start(NULL);
    }
    return &g_roar_shim;
}

#endif
