// Fakes for the libc table and the in-memory ring fixture (fake_libc.hpp).
#include "fake_libc.hpp"

#include <cstdarg>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>

namespace roar::preload::test {

FakeState g_fake;

namespace {

uint64_t head_now() { return g_fake.hdr ? __atomic_load_n(&g_fake.hdr->head, __ATOMIC_ACQUIRE) : 0; }

// The common body of a fake syscall wrapper: log, note the ring head, and
// either fail with the configured errno or return `ok`.
long fake_call(const std::string& what, long ok)
{
    g_fake.calls.push_back(what);
    g_fake.head_at_call = head_now();
    if (g_fake.fail_errno) {
        errno = g_fake.fail_errno;
        g_fake.fail_errno = 0;
        return -1;
    }
    return ok;
}

void capture(char* const* argv, char* const* envp)
{
    g_fake.argv_seen.clear();
    g_fake.env_seen.clear();
    for (char* const* a = argv; a && *a; ++a) {
        g_fake.argv_seen.emplace_back(*a);
    }
    for (char* const* e = envp; e && *e; ++e) {
        g_fake.env_seen.emplace_back(*e);
    }
}

// Variadic fakes cannot be lambdas.
int fake_open(const char* p, int, ...) { return (int)fake_call(std::string("open ") + p, g_fake.next_fd); }

int fake_openat(int, const char* p, int, ...) { return (int)fake_call(std::string("openat ") + p, g_fake.next_fd); }

int fake_fcntl(int, int, ...) { return (int)fake_call("fcntl", g_fake.next_fd); }

} // namespace

void install_fakes(roar_libc& L)
{
    L.open = fake_open;
    L.open64 = fake_open;
    L.openat = fake_openat;
    L.__openat_2 = [](int, const char* p, int) -> int {
        return (int)fake_call(std::string("__openat_2 ") + p, g_fake.next_fd);
    };
    L.creat = [](const char* p, mode_t) -> int { return (int)fake_call(std::string("creat ") + p, g_fake.next_fd); };
    L.close = [](int) -> int { return (int)fake_call("close", 0); };
    L.close_range = [](unsigned, unsigned, int) -> int { return (int)fake_call("close_range", 0); };
    L.dup = [](int) -> int { return (int)fake_call("dup", g_fake.next_fd); };
    L.dup2 = [](int, int n) -> int { return (int)fake_call("dup2", n); };
    L.fcntl = fake_fcntl;
    L.write = [](int, const void*, size_t n) -> ssize_t { return fake_call("write", (long)n); };
    L.pwrite64 = [](int, const void*, size_t n, off_t) -> ssize_t { return fake_call("pwrite64", (long)n); };
    L.mmap = [](void*, size_t, int, int, int, off_t) -> void* {
        return fake_call("mmap", 0) < 0 ? MAP_FAILED : reinterpret_cast<void*>(0x10000);
    };
    L.sendfile = [](int, int, off_t*, size_t n) -> ssize_t { return fake_call("sendfile", (long)n); };
    L.copy_file_range = [](int, off_t*, int, off_t*, size_t n, unsigned) -> ssize_t {
        return fake_call("copy_file_range", (long)n);
    };
    L.ftruncate = [](int, off_t) -> int { return (int)fake_call("ftruncate", 0); };
    L.truncate = [](const char*, off_t) -> int { return (int)fake_call("truncate", 0); };
    L.rename = [](const char*, const char*) -> int { return (int)fake_call("rename", 0); };
    L.renameat2 = [](int, const char*, int, const char*, unsigned) -> int { return (int)fake_call("renameat2", 0); };
    L.unlink = [](const char*) -> int { return (int)fake_call("unlink", 0); };
    L.rmdir = [](const char*) -> int { return (int)fake_call("rmdir", 0); };
    L.mkdir = [](const char*, mode_t) -> int { return (int)fake_call("mkdir", 0); };
    L.symlink = [](const char*, const char*) -> int { return (int)fake_call("symlink", 0); };
    L.chdir = [](const char*) -> int { return (int)fake_call("chdir", 0); };
    L.fopen = [](const char* p, const char* m) -> FILE* {
        if (fake_call(std::string("fopen ") + p + " " + m, 0) < 0) {
            return nullptr;
        }
        return ::fdopen(::open("/dev/null", O_RDWR | O_CLOEXEC), "r+");
    };
    L.fclose = [](FILE* f) -> int {
        fake_call("fclose", 0);
        return ::fclose(f);
    };
    L.execve = [](const char* p, char* const* a, char* const* e) -> int {
        capture(a, e);
        fake_call(std::string("execve ") + p, 0);
        errno = ENOENT;
        return -1;
    };
    L.execvpe = [](const char* p, char* const* a, char* const* e) -> int {
        capture(a, e);
        fake_call(std::string("execvpe ") + p, 0);
        errno = ENOENT;
        return -1;
    };
    L.posix_spawn = [](pid_t* pid, const char* p, const posix_spawn_file_actions_t*, const posix_spawnattr_t*,
                       char* const* a, char* const* e) -> int {
        capture(a, e);
        fake_call(std::string("posix_spawn ") + p, 0);
        *pid = 4343;
        return 0;
    };
    L.fork = []() -> pid_t { return (pid_t)fake_call("fork", g_fake.fork_result); };
    L.waitpid = [](pid_t, int* st, int) -> pid_t {
        *st = g_fake.wait_status;
        return (pid_t)fake_call("waitpid", 555);
    };
    L.waitid = [](idtype_t, id_t, siginfo_t* si, int) -> int {
        *si = g_fake.waitid_info;
        return (int)fake_call("waitid", 0);
    };
    L._exit = [](int status) {
        fake_call("_exit", 0);
        g_fake.exit_status = status;
        std::longjmp(*g_fake.exit_jump, 1);
    };
    L.getpid_fn = []() -> pid_t { return g_fake.new_pid ? g_fake.new_pid : g_fake.pid; };
    L.getppid_fn = []() -> pid_t { return g_fake.ppid; };
    L.faccessat_fn = [](int, const char*, int, int) -> int {
        if (g_fake.exists) {
            return 0;
        }
        errno = ENOENT;
        return -1;
    };
}

ShimFixture::ShimFixture()
{
    const uint64_t bytes = roar_ring_bytes(k_slots);
    memory.assign(bytes / sizeof(uint64_t), 0);
    roar_ring_header* h = header();
    h->version = ROAR_RING_VERSION;
    h->slot_size = ROAR_SLOT_SIZE;
    h->nslots = k_slots;
    h->sync_timeout_ms = 10;
    h->magic = ROAR_RING_MAGIC;
    S = static_cast<roar_shim*>(std::calloc(1, sizeof(roar_shim)));
    REQUIRE(roar_shim_attach(S, h, bytes, 1000) == 0);
    static const char* env[] = {"HOME=/root",
                                "ROAR_RING=/roar-test",
                                "ROAR_PRELOAD=/opt/roar/lib/roar/libroar_preload.so",
                                "ROAR_JOB_ID=job1",
                                "ROAR_KEEP_ENV=AWS_ENDPOINT_URL:AWS_ENDPOINT_URL_S3",
                                "AWS_ENDPOINT_URL=http://127.0.0.1:9",
                                "LD_PRELOAD=/opt/roar/lib/roar/libroar_preload.so",
                                nullptr};
    roar_shim_save_env(S, const_cast<char* const*>(env), nullptr);
    g_fake = FakeState{};
    g_fake.hdr = h;
    install_fakes(L);
    roar_t_depth = 0;
}

ShimFixture::~ShimFixture()
{
    std::free(S);
    g_fake = FakeState{};
}

std::vector<Event> ShimFixture::events() const
{
    std::vector<Event> out;
    const auto* h = reinterpret_cast<const roar_ring_header*>(memory.data());
    const auto* slots = reinterpret_cast<const unsigned char*>(memory.data()) + ROAR_HEADER_SIZE;
    const roar_ring ring{const_cast<roar_ring_header*>(h), const_cast<unsigned char*>(slots), k_slots};
    const uint64_t head = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);
    for (uint64_t i = 0; i < head;) {
        Event e;
        roar_ring_copy_out(&ring, i * ROAR_SLOT_SIZE, &e.h, sizeof e.h);
        REQUIRE(e.h.stamp == ROAR_STAMP(i));
        REQUIRE(e.h.nslots > 0);
        std::string strings(e.h.len1 + e.h.len2 + e.h.len3, '\0');
        roar_ring_copy_out(&ring, i * ROAR_SLOT_SIZE + sizeof e.h, strings.data(), strings.size());
        size_t off = 0;
        auto take = [&](uint32_t len, std::string& s, bool& has) {
            if (len) {
                REQUIRE(strings[off + len - 1] == '\0');
                s = strings.substr(off, len - 1);
                has = true;
                off += len;
            }
        };
        take(e.h.len1, e.s1, e.has1);
        take(e.h.len2, e.s2, e.has2);
        take(e.h.len3, e.s3, e.has3);
        out.push_back(e);
        i += e.h.nslots;
    }
    return out;
}

std::vector<Event> ShimFixture::events_of(uint16_t op) const
{
    std::vector<Event> out;
    for (auto& e : events()) {
        if (e.h.op == op) {
            out.push_back(e);
        }
    }
    return out;
}

std::vector<std::string> split_nul(const std::string& s)
{
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        const size_t nul = s.find('\0', start);
        out.push_back(s.substr(start, nul == std::string::npos ? std::string::npos : nul - start));
        if (nul == std::string::npos) {
            break;
        }
        start = nul + 1;
    }
    return out;
}

} // namespace roar::preload::test
