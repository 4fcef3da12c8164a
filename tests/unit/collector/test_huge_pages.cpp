// The huge-page hint for large buffers: it marks the whole 2 MiB pages
// inside a range (as /proc/self/smaps shows), leaves ranges holding no
// whole huge page alone, and never changes what the memory holds. The
// heap's hint gives glibc's heap a marked room that blocks of a few MB
// come from.
#include "roar/collector/huge_pages.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <cstdlib>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace roar::collector;

namespace {

constexpr size_t k_huge = size_t(2) << 20;

// The VmFlags of the mapping of /proc/self/smaps that holds `address`.
std::string flags_at(const void* address)
{
    const auto at = reinterpret_cast<uintptr_t>(address);
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool inside = false;
    while (std::getline(smaps, line)) {
        uintptr_t low = 0, high = 0;
        char dash = 0;
        std::istringstream range(line);
        if (range >> std::hex >> low >> dash >> high && dash == '-') {
            inside = at >= low && at < high;
        } else if (inside && line.rfind("VmFlags:", 0) == 0) {
            return line;
        }
    }
    return "";
}

bool has_flag(const std::string& flags, const char* flag)
{
    std::istringstream words(flags);
    std::string word;
    while (words >> word) {
        if (word == flag) {
            return true;
        }
    }
    return false;
}

} // namespace

TEST_CASE("prefer_huge_pages marks the whole huge pages of a range, and only them", "[collector][huge_pages]")
{
    if (!std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled")) {
        WARN("this kernel has no transparent huge pages: nothing to mark");
        return;
    }
    // 8 MiB of address space aligned to a huge page, filled before the hint.
    const size_t length = 4 * k_huge;
    void* mapped = mmap(nullptr, length + k_huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(mapped != MAP_FAILED);
    auto* base = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(mapped) + k_huge - 1) & ~(k_huge - 1));
    std::memset(base, 'x', length);

    // A range starting mid-page and ending mid-page: only the huge pages
    // wholly inside it (the second and third) are marked ("hg").
    prefer_huge_pages(base + 4096, 3 * k_huge);
    CHECK_FALSE(has_flag(flags_at(base), "hg"));
    CHECK(has_flag(flags_at(base + k_huge), "hg"));
    CHECK(has_flag(flags_at(base + 2 * k_huge + k_huge - 1), "hg"));
    CHECK_FALSE(has_flag(flags_at(base + 3 * k_huge), "hg"));
    // Nothing whole inside, a null pointer: no change, no failure.
    prefer_huge_pages(base + 3 * k_huge + 1, k_huge);
    prefer_huge_pages(nullptr, length);
    CHECK_FALSE(has_flag(flags_at(base + 3 * k_huge), "hg"));
    CHECK(std::all_of(base, base + length, [](char c) { return c == 'x'; }));
    munmap(mapped, length + k_huge);
}

// Under a sanitizer its allocator serves malloc: the heap is not used.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ROAR_SANITIZED_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ROAR_SANITIZED_ALLOCATOR 1
#endif
#endif
#ifdef ROAR_SANITIZED_ALLOCATOR
constexpr bool k_sanitized = true;
#else
constexpr bool k_sanitized = false;
#endif

namespace {

// prefer_huge_pages_for_heap's checks, in a process of their own: 0 when
// they pass, else which failed (the parent's message says).
int check_heap_hint()
{
    char* const before = static_cast<char*>(sbrk(0));
    prefer_huge_pages_for_heap();
    char* const after = static_cast<char*>(sbrk(0));
    if (after <= before || mallinfo2().keepcost < size_t(1) << 30) {
        return 1; // the heap did not grow, or has less than 1 GiB free at its top
    }
    if (!has_flag(flags_at(before + (after - before) / 2), "hg")) {
        return 2; // the room is not marked
    }
    // A 4 MiB block (by glibc's default a mapping of its own) comes from the heap.
    const size_t mapped = mallinfo2().hblkhd;
    void* volatile block = malloc(size_t(4) << 20);
    std::memset(block, 'x', size_t(4) << 20);
    if (mallinfo2().hblkhd != mapped) {
        return 3;
    }
    free(block);
    return sbrk(0) == after ? 0 : 4; // freed room is kept
}

} // namespace

// Run by the test below in a new process of this program: the hint is for
// a process whose threads have not started yet (roar's main() calls it
// first). A fork of this one would not do: a thread that ever found its
// arena busy (earlier tests run thread pools) allocates from another
// arena for good, not from the heap.
TEST_CASE("heap hint, in a new process", "[.heap_hint]")
{
    // ctest runs it on its own too: a new process all the same. Under a
    // sanitizer there is no glibc heap to check.
    _exit(k_sanitized ? 0 : check_heap_hint());
}

TEST_CASE("prefer_huge_pages_for_heap grows the heap by 1 GiB of marked room that blocks of MBs come from",
          "[collector][huge_pages]")
{
    if (k_sanitized || !std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled")) {
        WARN("no glibc heap or no transparent huge pages here: nothing to check");
        return;
    }
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        execl("/proc/self/exe", "roar_collector_tests", "[.heap_hint]", static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    INFO("1: no growth or under 1 GiB of room, 2: room not marked, 3: a 4 MiB block mapped on its own, 4: room "
         "given back, 127: could not start this program again");
    CHECK(WEXITSTATUS(status) == 0);
}
