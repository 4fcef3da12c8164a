// The environment capture's cache directory and its small facts file (see
// facts_cache.hpp).
#include "roar/collector/environment/facts_cache.hpp"

#include "text_files.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <unistd.h>

namespace roar::collector {

namespace {

// Facts about files that no longer exist pile up as packages are upgraded:
// past this many the file starts again from empty.
constexpr size_t k_max_facts = 2000;

// Whether the fact under `key` was learnt from a file that no longer has
// that identity (rebuilt, upgraded, deleted): keys "libraries PATH ID" and
// "python-version PATH ID" (the path may hold spaces; the identity cannot).
// Such a fact can never be found again; others are kept.
bool about_a_replaced_file(const std::string& key)
{
    for (const std::string_view kind : {std::string_view("libraries "), std::string_view("python-version ")}) {
        if (!key.starts_with(kind)) {
            continue;
        }
        const size_t last = key.rfind(' ');
        if (last == std::string::npos || last <= kind.size()) {
            return false;
        }
        const auto id = identify_file(key.substr(kind.size(), last - kind.size()));
        return !id || identity_key(*id) != std::string_view(key).substr(last + 1);
    }
    return false;
}

} // namespace

std::filesystem::path default_environment_cache_dir()
{
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/') {
        return std::filesystem::path(xdg) / "roar" / "environment";
    }
    const char* home = std::getenv("HOME");
    if (home && home[0] == '/') {
        return std::filesystem::path(home) / ".cache" / "roar" / "environment";
    }
    return std::filesystem::path(fmt::format("/tmp/roar-cache-{}", getuid())) / "environment";
}

std::string identity_key(const FileIdentity& id)
{
    return fmt::format("{}:{}:{}:{}", id.device, id.inode, id.size, id.mtime_ns);
}

std::string short_name(std::string_view text)
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return fmt::format("{:016x}", h);
}

FactsCache::FactsCache(std::filesystem::path file) : m_file(std::move(file))
{
    const auto text = text::read_file(m_file.string());
    if (!text) {
        return;
    }
    auto parsed = nlohmann::json::parse(*text, nullptr, false);
    if (parsed.is_object() && parsed.size() <= k_max_facts) {
        m_facts = std::move(parsed);
    }
}

const nlohmann::json* FactsCache::find(const std::string& key) const
{
    auto it = m_facts.find(key);
    return it == m_facts.end() ? nullptr : &*it;
}

void FactsCache::put(const std::string& key, nlohmann::json value)
{
    if (m_facts.size() >= k_max_facts) {
        m_facts = nlohmann::json::object();
    }
    m_facts[key] = std::move(value);
    m_dirty = true;
}

Result<void> FactsCache::save()
{
    if (!m_dirty) {
        return {};
    }
    // Every job reads the whole file: facts about programs since rebuilt or
    // deleted (test binaries under /tmp, upgraded interpreters) go when it
    // is written, so it holds what is still true rather than growing to
    // k_max_facts (at 500 facts, parsing it cost each `roar run` 3 ms).
    for (auto it = m_facts.begin(); it != m_facts.end();) {
        it = about_a_replaced_file(it.key()) ? m_facts.erase(it) : std::next(it);
    }
    std::error_code ec;
    std::filesystem::create_directories(m_file.parent_path(), ec);
    std::random_device rd;
    const std::filesystem::path tmp = m_file.string() + ".tmp" + std::to_string(rd());
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << m_facts.dump();
        if (!out.flush()) {
            std::filesystem::remove(tmp, ec);
            return fail("cannot write the cache file {}", tmp.string());
        }
    }
    std::filesystem::rename(tmp, m_file, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        return fail("cannot write the cache file {}: {}", m_file.string(), ec.message());
    }
    m_dirty = false;
    return {};
}

} // namespace roar::collector
