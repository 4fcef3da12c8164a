// The shared libraries an executable loads at start-up, found the way the
// dynamic loader finds them (the object's run path, /etc/ld.so.cache, the
// default directories) but without running it. The shim cannot see these
// opens (the loader makes them before it starts), so this is how a job's
// record learns that python3 used libc6, libexpat1 and zlib1g. Answers are
// cached per executable (device, inode, size, mtime).
#pragma once

#include "roar/collector/environment/facts_cache.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace roar::collector {

class LinkedLibraries {
public:
    // `ld_so_cache`: the loader's cache file (absent: default directories
    // only); `facts`: where answers are remembered between jobs.
    LinkedLibraries(std::filesystem::path ld_so_cache, FactsCache& facts);

    // Every library `executable` needs, directly or through another
    // library, as absolute paths; empty for a static or non-ELF file.
    std::vector<std::string> of(const std::string& executable);

private:
    void load_cache(); // reads ld.so.cache on first use
    std::string resolve(const std::string& name, const std::vector<std::string>& runpath, const std::string& origin);

    std::filesystem::path m_cache_file;
    FactsCache& m_facts;
    bool m_cache_loaded = false;
    std::unordered_map<std::string, std::string> m_sonames; // soname -> path, from ld.so.cache
};

// The soname -> path pairs of an ld.so.cache (glibc's "glibc-ld.so.cache1.1"
// format) for libraries of this machine's architecture, first entry wins.
std::unordered_map<std::string, std::string> parse_ld_so_cache(std::string_view bytes);

} // namespace roar::collector
