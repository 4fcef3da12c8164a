// Tracee memory access (see tracee_memory.hpp).
#include "tracee_memory.hpp"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace roar::collector::tracer {

namespace {

constexpr size_t k_page = 4096;

// Reads up to `len` bytes at `addr`, one remote iovec per page, so a read
// that runs into an unmapped page returns what came before it.
ssize_t read_pages(pid_t tid, uint64_t addr, char* buf, size_t len)
{
    constexpr size_t k_max_iov = 16;
    iovec local{buf, len};
    iovec remote[k_max_iov];
    size_t n = 0;
    uint64_t at = addr;
    size_t left = len;
    while (left > 0 && n < k_max_iov) {
        const size_t in_page = k_page - size_t(at % k_page);
        const size_t take = std::min(left, in_page);
        remote[n++] = iovec{reinterpret_cast<void*>(at), take};
        at += take;
        left -= take;
    }
    local.iov_len = len - left;
    return process_vm_readv(tid, &local, 1, remote, n, 0);
}

} // namespace

bool read_string(pid_t tid, uint64_t addr, size_t max, std::string& out, bool& truncated)
{
    out.clear();
    truncated = false;
    if (addr == 0) {
        return false;
    }
    char chunk[k_page];
    while (out.size() < max) {
        // First up to the page end, then a page at a time: most paths are
        // read with one call.
        const size_t want = std::min(max - out.size() + 1, k_page - size_t(addr % k_page));
        const ssize_t got = read_pages(tid, addr, chunk, want);
        if (got <= 0) {
            return !out.empty();
        }
        const void* nul = std::memchr(chunk, 0, size_t(got));
        if (nul) {
            out.append(chunk, size_t(static_cast<const char*>(nul) - chunk));
            return true;
        }
        out.append(chunk, size_t(got));
        addr += uint64_t(got);
    }
    truncated = true;
    out.resize(max);
    return true;
}

bool read_bytes(pid_t tid, uint64_t addr, void* buf, size_t len)
{
    if (addr == 0) {
        return false;
    }
    return read_pages(tid, addr, static_cast<char*>(buf), len) == ssize_t(len);
}

bool write_bytes(pid_t tid, uint64_t addr, const void* buf, size_t len)
{
    iovec local{const_cast<void*>(buf), len};
    iovec remote{reinterpret_cast<void*>(addr), len};
    return process_vm_writev(tid, &local, 1, &remote, 1, 0) == ssize_t(len);
}

std::vector<std::string> read_argv(pid_t tid, uint64_t addr, size_t max_total, bool& truncated)
{
    std::vector<std::string> argv;
    truncated = false;
    if (addr == 0) {
        return argv;
    }
    size_t total = 0;
    constexpr size_t k_batch = 64;
    uint64_t ptrs[k_batch];
    for (uint64_t at = addr;; at += sizeof ptrs) {
        const ssize_t got = read_pages(tid, at, reinterpret_cast<char*>(ptrs), sizeof ptrs);
        if (got < ssize_t(sizeof(uint64_t))) {
            return argv;
        }
        for (size_t i = 0; i < size_t(got) / sizeof(uint64_t); ++i) {
            if (ptrs[i] == 0) {
                return argv;
            }
            if (total >= max_total) {
                truncated = true;
                return argv;
            }
            std::string arg;
            bool cut = false;
            read_string(tid, ptrs[i], max_total - total, arg, cut);
            truncated = truncated || cut;
            total += arg.size() + 1;
            argv.push_back(std::move(arg));
        }
    }
}

} // namespace roar::collector::tracer
