/* Shim state: attaching to the ring, saving the start environment, and the
 * cached process and thread ids. */
#include "roar/preload/shim_state.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

__thread int roar_t_depth __attribute__((tls_model("initial-exec")));
__thread uint32_t roar_t_tid __attribute__((tls_model("initial-exec")));
__thread uint32_t roar_t_tid_generation __attribute__((tls_model("initial-exec")));

int roar_shim_attach(struct roar_shim* S, void* base, uint64_t size, uint32_t pid)
{
    if (roar_ring_view(&S->ring, base, size) != 0) {
        __atomic_store_n(&S->status, ROAR_SHIM_OFF, __ATOMIC_RELEASE);
        return -1;
    }
    S->pid = pid;
    __atomic_store_n(&S->status, ROAR_SHIM_READY, __ATOMIC_RELEASE);
    return 0;
}

void* roar_shim_map_ring(const char* name, uint64_t* size)
{
    static const char k_dir[] = "/dev/shm/";
    char path[sizeof k_dir + 256];
    while (*name == '/') {
        ++name;
    }
    const size_t len = strnlen(name, 256);
    if (len == 0 || len >= 256 || memchr(name, '/', len) != NULL) {
        return NULL;
    }
    memcpy(path, k_dir, sizeof k_dir - 1);
    memcpy(path + sizeof k_dir - 1, name, len + 1);
    const long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | ROAR_OPEN_OWN);
    if (fd < 0) {
        return NULL;
    }
    struct stat st;
    void* base = NULL;
    if (syscall(SYS_fstat, fd, &st) == 0 && st.st_size >= (off_t)ROAR_HEADER_SIZE) {
        const long addr = syscall(SYS_mmap, NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (addr != -1) {
            base = (void*)addr;
            *size = (uint64_t)st.st_size;
        }
    }
    /* Programs close inherited fds (close_range in subprocess): report
     * through the mapping only. */
    syscall(SYS_close, (unsigned long long)fd | ROAR_CLOSE_OWN);
    return base;
}

/* Whether `entry` ("NAME=value") is named `name` (`len` bytes). */
static int env_named(const char* entry, const char* name, size_t len)
{
    return strncmp(entry, name, len) == 0 && entry[len] == '=';
}

/* Whether `entry`'s name is one of the colon-separated names in `list`. */
static int env_in_list(const char* entry, const char* list)
{
    while (list && *list) {
        const char* end = strchrnul(list, ':');
        if (end > list && env_named(entry, list, (size_t)(end - list))) {
            return 1;
        }
        list = *end ? end + 1 : end;
    }
    return 0;
}

/* Appends "name=value" (or `entry` as is when name is NULL) to the saved
 * environment, if it fits. */
static const char* save_entry(struct roar_shim* S, const char* entry, const char* name, const char* value, size_t* used)
{
    if (S->env_count >= ROAR_SAVED_ENV_MAX) {
        return NULL;
    }
    const size_t nlen = name ? strlen(name) : (size_t)(strchr(entry, '=') - entry);
    const size_t total = name ? nlen + 1 + strlen(value) : strlen(entry);
    if (*used + total + 1 > sizeof S->env_buf || nlen > 0xffff) {
        return NULL;
    }
    char* dst = S->env_buf + *used;
    if (name) {
        memcpy(dst, name, nlen);
        dst[nlen] = '=';
        memcpy(dst + nlen + 1, value, total - nlen - 1);
    } else {
        memcpy(dst, entry, total);
    }
    dst[total] = 0;
    S->env_entries[S->env_count] = dst;
    S->env_name_len[S->env_count] = (uint16_t)nlen;
    S->env_count++;
    *used += total + 1;
    return dst + nlen + 1;
}

void roar_shim_save_env(struct roar_shim* S, char* const* envp, const char* self_path)
{
    static const char* const k_fixed[] = {ROAR_ENV_RING,     ROAR_ENV_PRELOAD,   ROAR_ENV_JOB,      ROAR_ENV_KEEP,
                                          ROAR_ENV_S3_PROXY, ROAR_ENV_S3_SECRET, ROAR_ENV_S3_HOSTS, ROAR_ENV_S3_TLS};
    size_t used = 0;
    const char* keep = NULL;
    S->env_count = 0;
    S->preload_path = NULL;
    S->preload_path_len = 0;
    for (char* const* e = envp; e && *e; ++e) {
        if (env_named(*e, ROAR_ENV_KEEP, sizeof ROAR_ENV_KEEP - 1)) {
            keep = *e + sizeof ROAR_ENV_KEEP;
        }
    }
    for (char* const* e = envp; e && *e; ++e) {
        int wanted = env_in_list(*e, keep);
        for (size_t i = 0; !wanted && i < sizeof k_fixed / sizeof k_fixed[0]; ++i) {
            wanted = env_named(*e, k_fixed[i], strlen(k_fixed[i]));
        }
        if (!wanted || strncmp(*e, "LD_PRELOAD=", 11) == 0) {
            continue;
        }
        const char* value = save_entry(S, *e, NULL, NULL, &used);
        if (value && env_named(*e, ROAR_ENV_PRELOAD, sizeof ROAR_ENV_PRELOAD - 1) && *value) {
            S->preload_path = value;
        }
    }
    if (!S->preload_path && self_path && *self_path) {
        S->preload_path = save_entry(S, NULL, ROAR_ENV_PRELOAD, self_path, &used);
    }
    S->preload_path_len = S->preload_path ? (uint32_t)strlen(S->preload_path) : 0;
}

uint32_t roar_shim_tid_fetch(const struct roar_shim* S)
{
    roar_t_tid = (uint32_t)syscall(SYS_gettid);
    roar_t_tid_generation = __atomic_load_n(&S->fork_generation, __ATOMIC_RELAXED) + 1;
    return roar_t_tid;
}
