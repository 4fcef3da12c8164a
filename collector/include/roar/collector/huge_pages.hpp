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

// For a command about to build a large structure out of many small
// allocations (`roar dag` or `roar status` reading a long history): the
// heap is made to grow in one step of 1 GiB (address space, not memory),
// that room is kept rather than given back as blocks are freed, blocks up
// to 32 MiB are taken from it, and the kernel is asked to back it with
// huge pages. Memory is then touched in 2 MiB pages, so a command holding
// a few hundred MB takes a few hundred page faults instead of tens of
// thousands (on a VM, each is a trip through the hypervisor). Only for a
// short-lived process: freed memory stays with it. Does nothing under an
// allocator other than glibc's heap (a sanitizer's).
void prefer_huge_pages_for_heap();

} // namespace roar::collector
