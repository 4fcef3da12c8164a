/* Environment repair for exec/spawn (see env_repair.h). */
#include "roar/preload/env_repair.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char k_ld[] = "LD_PRELOAD=";
static const char k_shim_name[] = "libroar_preload.so";

int roar_env_ld_has_shim(const char* value, const char* preload_path)
{
    const size_t plen = preload_path ? strlen(preload_path) : 0;
    const size_t nlen = sizeof k_shim_name - 1;
    const char* p = value;
    while (*p) {
        while (*p == ':' || *p == ' ') {
            ++p;
        }
        const char* end = p;
        while (*end && *end != ':' && *end != ' ') {
            ++end;
        }
        const size_t len = (size_t)(end - p);
        if (len > 0) {
            if (plen > 0 && len == plen && memcmp(p, preload_path, len) == 0) {
                return 1;
            }
            if (len >= nlen && memcmp(end - nlen, k_shim_name, nlen) == 0
                && (len == nlen || end[-(long)nlen - 1] == '/')) {
                return 1;
            }
        }
        p = end;
    }
    return 0;
}

char* const* roar_env_repair(const struct roar_shim* S, char* const* envp, struct roar_env_scratch* scratch)
{
    scratch->map = NULL;
    scratch->map_len = 0;
    int present[ROAR_SAVED_ENV_MAX] = {0};
    size_t count = 0;
    long ld_index = -1;
    for (char* const* e = envp; e && *e; ++e, ++count) {
        if (strncmp(*e, k_ld, sizeof k_ld - 1) == 0) {
            ld_index = (long)count;
            continue;
        }
        for (int i = 0; i < S->env_count; ++i) {
            const size_t n = S->env_name_len[i];
            if (!present[i] && strncmp(*e, S->env_entries[i], n + 1) == 0) {
                present[i] = 1;
            }
        }
    }
    int missing = 0;
    for (int i = 0; i < S->env_count; ++i) {
        missing += !present[i];
    }
    const int ld_ok = S->preload_path == NULL
                      || (ld_index >= 0 && roar_env_ld_has_shim(envp[ld_index] + sizeof k_ld - 1, S->preload_path));
    if (missing == 0 && ld_ok) {
        return envp;
    }

    const size_t vec_len = count + (size_t)missing + 2;
    const size_t old_ld = ld_index >= 0 ? strlen(envp[ld_index] + sizeof k_ld - 1) : 0;
    const size_t ld_len = ld_ok ? 0 : sizeof k_ld + S->preload_path_len + 1 + old_ld;
    char** vec = scratch->vec;
    char* ld = scratch->ld;
    if (vec_len > ROAR_ENV_STACK_ENTRIES || ld_len > ROAR_ENV_LD_BYTES) {
        const size_t bytes = vec_len * sizeof(char*) + ld_len;
        const long addr = syscall(SYS_mmap, NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (addr == -1) {
            return envp;
        }
        scratch->map = (void*)addr;
        scratch->map_len = bytes;
        vec = (char**)scratch->map;
        ld = (char*)scratch->map + vec_len * sizeof(char*);
    }
    if (!ld_ok) {
        size_t n = sizeof k_ld - 1;
        memcpy(ld, k_ld, n);
        memcpy(ld + n, S->preload_path, S->preload_path_len);
        n += S->preload_path_len;
        if (old_ld > 0) {
            ld[n++] = ':';
            memcpy(ld + n, envp[ld_index] + sizeof k_ld - 1, old_ld);
            n += old_ld;
        }
        ld[n] = 0;
    }
    size_t out = 0;
    if (!ld_ok) {
        vec[out++] = ld; /* first, so a later duplicate cannot shadow it */
    }
    for (size_t i = 0; i < count; ++i) {
        if ((long)i != ld_index || ld_ok) {
            vec[out++] = envp[i];
        }
    }
    for (int i = 0; i < S->env_count; ++i) {
        if (!present[i]) {
            vec[out++] = (char*)S->env_entries[i];
        }
    }
    vec[out] = NULL;
    return vec;
}

void roar_env_release(struct roar_env_scratch* scratch)
{
    if (scratch->map) {
        syscall(SYS_munmap, scratch->map, scratch->map_len);
        scratch->map = NULL;
    }
}
