// LinkedLibraries (see linked_libraries.hpp). Simplifications against the
// real loader, none of which changes which package a library comes from in
// practice: LD_LIBRARY_PATH and LD_PRELOAD are not known here, glibc-hwcaps
// subdirectories are not preferred, and a library's DT_RPATH applies to
// itself only.
#include "roar/collector/environment/linked_libraries.hpp"

#include "roar/collector/environment/elf_file.hpp"
#include "roar/collector/file_hasher.hpp"
#include "roar/collector/path_resolver.hpp"
#include "text_files.hpp"

#include <cstring>
#include <deque>
#include <set>
#include <unistd.h>

namespace roar::collector {

namespace {

constexpr std::string_view k_cache_magic = "glibc-ld.so.cache1.1";
constexpr size_t k_cache_header = 48;
constexpr size_t k_cache_entry = 24;
constexpr size_t k_max_libraries = 512;

// ld.so.cache entry flags for 64-bit libraries of this architecture
// (FLAG_ELF_LIBC6 | the architecture's FLAG_*_LIB64); 0 accepts any.
#if defined(__x86_64__)
constexpr uint32_t k_arch_flags = 0x0303;
constexpr const char* k_multiarch = "x86_64-linux-gnu";
#elif defined(__aarch64__)
constexpr uint32_t k_arch_flags = 0x0a03;
constexpr const char* k_multiarch = "aarch64-linux-gnu";
#else
constexpr uint32_t k_arch_flags = 0;
constexpr const char* k_multiarch = "";
#endif

uint32_t u32_at(std::string_view bytes, size_t at)
{
    uint32_t v;
    std::memcpy(&v, bytes.data() + at, sizeof v);
    return v;
}

uint64_t u64_at(std::string_view bytes, size_t at)
{
    uint64_t v;
    std::memcpy(&v, bytes.data() + at, sizeof v);
    return v;
}

std::string_view string_at(std::string_view bytes, uint32_t offset)
{
    if (offset >= bytes.size()) {
        return {};
    }
    const std::string_view rest = bytes.substr(offset);
    const size_t nul = rest.find('\0');
    return nul == std::string_view::npos ? std::string_view() : rest.substr(0, nul);
}

std::string expand_origin(std::string dir, const std::string& origin)
{
    for (const std::string_view token : {"$ORIGIN", "${ORIGIN}"}) {
        for (size_t at = dir.find(token); at != std::string::npos; at = dir.find(token, at)) {
            dir.replace(at, token.size(), origin);
            at += origin.size();
        }
    }
    return dir;
}

} // namespace

std::unordered_map<std::string, std::string> parse_ld_so_cache(std::string_view bytes)
{
    std::unordered_map<std::string, std::string> out;
    if (bytes.size() < k_cache_header || bytes.substr(0, k_cache_magic.size()) != k_cache_magic) {
        return out;
    }
    const uint32_t count = u32_at(bytes, 20);
    if (count > (bytes.size() - k_cache_header) / k_cache_entry) {
        return out;
    }
    for (uint32_t i = 0; i < count; ++i) {
        const size_t at = k_cache_header + size_t(i) * k_cache_entry;
        const uint32_t flags = u32_at(bytes, at);
        const uint64_t hwcap = u64_at(bytes, at + 16);
        if ((k_arch_flags != 0 && (flags & 0xffff) != k_arch_flags) || hwcap != 0) {
            continue;
        }
        const std::string_view key = string_at(bytes, u32_at(bytes, at + 4));
        const std::string_view value = string_at(bytes, u32_at(bytes, at + 8));
        if (!key.empty() && !value.empty() && value.front() == '/') {
            out.emplace(std::string(key), std::string(value));
        }
    }
    return out;
}

LinkedLibraries::LinkedLibraries(std::filesystem::path ld_so_cache, FactsCache& facts)
    : m_cache_file(std::move(ld_so_cache)), m_facts(facts)
{ }

void LinkedLibraries::load_cache()
{
    if (m_cache_loaded) {
        return;
    }
    m_cache_loaded = true;
    if (auto bytes = text::read_file(m_cache_file.string(), 64 << 20)) {
        m_sonames = parse_ld_so_cache(*bytes);
    }
}

std::string LinkedLibraries::resolve(const std::string& name, const std::vector<std::string>& runpath,
                                     const std::string& origin)
{
    if (name.find('/') != std::string::npos) {
        return name.front() == '/' ? name : resolve_path(origin, name);
    }
    for (const auto& dir : runpath) {
        const std::string candidate = resolve_path("/", expand_origin(dir, origin) + "/" + name);
        if (access(candidate.c_str(), F_OK) == 0) {
            return candidate;
        }
    }
    load_cache();
    if (auto it = m_sonames.find(name); it != m_sonames.end()) {
        return it->second;
    }
    for (const std::string& dir :
         {std::string("/lib/") + k_multiarch, std::string("/usr/lib/") + k_multiarch, std::string("/lib64"),
          std::string("/usr/lib64"), std::string("/lib"), std::string("/usr/lib")}) {
        const std::string candidate = dir + "/" + name;
        if (access(candidate.c_str(), F_OK) == 0) {
            return candidate;
        }
    }
    return {};
}

std::vector<std::string> LinkedLibraries::of(const std::string& executable)
{
    auto id = identify_file(executable);
    if (!id) {
        return {};
    }
    const std::string key = "libraries " + executable + " " + identity_key(*id);
    if (const auto* fact = m_facts.find(key); fact && fact->is_array()) {
        std::vector<std::string> cached;
        for (const auto& p : *fact) {
            if (p.is_string()) {
                cached.push_back(p.get<std::string>());
            }
        }
        return cached;
    }
    std::vector<std::string> found;
    std::set<std::string> seen{executable};
    std::deque<std::string> queue{executable};
    while (!queue.empty() && found.size() < k_max_libraries) {
        const std::string object = queue.front();
        queue.pop_front();
        auto facts = read_elf_facts(object);
        if (!facts) {
            continue;
        }
        const std::string origin = std::filesystem::path(object).parent_path().string();
        for (const auto& needed : facts->needed) {
            std::string path = resolve(needed, facts->runpath, origin);
            if (path.empty() || !seen.insert(path).second) {
                continue;
            }
            found.push_back(path);
            queue.push_back(std::move(path));
        }
    }
    m_facts.put(key, found);
    return found;
}

} // namespace roar::collector
