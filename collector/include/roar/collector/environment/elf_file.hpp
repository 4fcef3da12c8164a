// What environment capture reads from an ELF file without running it: the
// bytes of its read-only data (where a Python build keeps its version
// string) and its dynamic section's needed libraries and search paths.
// 64-bit little-endian ELF only (x86-64, AArch64, RISC-V 64, ...).
#pragma once

#include "roar/collector/result.hpp"

#include <string>
#include <vector>

namespace roar::collector {

struct ElfFacts {
    std::vector<std::string> needed;  // DT_NEEDED, in order
    std::vector<std::string> runpath; // DT_RUNPATH (or DT_RPATH when there is no RUNPATH), split at ':'
    bool has_rodata = false;
    uint64_t rodata_offset = 0; // file offset and size of .rodata
    uint64_t rodata_size = 0;
};

// Reads the section and dynamic headers of `path`; fails when it is not a
// 64-bit little-endian ELF file or its headers point outside the file.
Result<ElfFacts> read_elf_facts(const std::string& path);

// The bytes [offset, offset + size) of `path`, or an error.
Result<std::string> read_file_range(const std::string& path, uint64_t offset, uint64_t size);

} // namespace roar::collector
