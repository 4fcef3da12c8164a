// See huge_pages.hpp.
#include "roar/collector/huge_pages.hpp"

#include <cstdint>
#include <cstdlib>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

namespace roar::collector {

void prefer_huge_pages(const void* data, size_t bytes)
{
    constexpr uintptr_t k_huge = uintptr_t(2) << 20;
    const auto begin = (reinterpret_cast<uintptr_t>(data) + k_huge - 1) & ~(k_huge - 1);
    const auto end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(k_huge - 1);
    if (data == nullptr || end <= begin) {
        return;
    }
    // EINVAL on a kernel built without transparent huge pages: nothing to do.
    (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

void prefer_huge_pages_for_heap()
{
    constexpr int k_room = 1 << 30;
    // Blocks below this come from the heap, not from mappings of their
    // own (32 MiB is glibc's largest threshold); a vector or hash table of
    // a few MB is then inside the hinted room as well.
    constexpr int k_mmap_threshold = 32 << 20;
    constexpr size_t k_grow = size_t(1) << 20;
    (void)mallopt(M_MMAP_THRESHOLD, k_mmap_threshold);
    (void)mallopt(M_TRIM_THRESHOLD, k_room);
    (void)mallopt(M_TOP_PAD, k_room);
    // One block larger than the free room at the heap's top makes it
    // grow now, by the block and the pad; a heap that cannot grow (an
    // allocator other than glibc's, or no address space to spare) leaves
    // the break where it was and nothing is hinted.
    const size_t top = mallinfo2().keepcost;
    if (top + k_grow >= size_t(k_mmap_threshold)) {
        return; // room enough already, or the block would be a mapping of its own
    }
    char* const before = static_cast<char*>(sbrk(0));
    void* volatile block = malloc(top + k_grow); // volatile: the compiler may not drop the pair
    char* const after = static_cast<char*>(sbrk(0));
    free(block);
    if (before != reinterpret_cast<char*>(-1) && after > before) {
        prefer_huge_pages(before, size_t(after - before));
    }
}

} // namespace roar::collector
