// A hint for large buffers that are about to be filled: back them with
// transparent huge pages where the kernel offers them on request
// (/sys/kernel/mm/transparent_hugepage/enabled set to "madvise", the
// usual default), so that filling them costs one page fault per 2 MiB
// instead of one per 4 KiB.
#pragma once

#include <cstddef>

namespace roar::collector {

// Advises the kernel to back the whole 2 MiB pages inside [data, data +
// bytes) with huge pages. Only a hint: smaller ranges, kernels without
// transparent huge pages and any error leave memory as it was.
void prefer_huge_pages(const void* data, size_t bytes);

// The same for the room a vector has reserved.
template <typename Vector> void prefer_huge_pages_for(const Vector& v)
{
    prefer_huge_pages(v.data(), v.capacity() * sizeof(typename Vector::value_type));
}

} // namespace roar::collector
