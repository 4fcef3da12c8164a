// See huge_pages.hpp.
#include "roar/collector/huge_pages.hpp"

#include <cstdint>
#include <sys/mman.h>

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

} // namespace roar::collector
