// OwnerIndex: a sorted table from path to owner (a Debian package, a Python
// distribution) kept in one cache file. It is built once from the slow
// source (dpkg's lists, a site directory's RECORDs) and then memory-mapped
// by every job, which pays a binary search per path instead of a scan.
#pragma once

#include "roar/collector/result.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roar::collector {

// Who owns paths: the name and version of a package, plus one free detail
// (a Debian architecture, a Python installer).
struct PathOwner {
    std::string name;
    std::string version;
    std::string detail;
};

class OwnerIndex {
public:
    // The owner number of a path that several owners claim.
    static constexpr uint32_t k_shared = UINT32_MAX;

    OwnerIndex() = default;
    OwnerIndex(OwnerIndex&& other) noexcept;
    OwnerIndex& operator=(OwnerIndex&& other) noexcept;
    OwnerIndex(const OwnerIndex&) = delete;
    OwnerIndex& operator=(const OwnerIndex&) = delete;
    ~OwnerIndex();

    // Builds an index of `entries` (path, index into `owners`; a path
    // listed with two owners becomes k_shared) stamped with `identity`, the
    // caller's description of the source it was built from.
    static OwnerIndex build(std::string_view identity, const std::vector<PathOwner>& owners,
                            std::vector<std::pair<std::string, uint32_t>> entries);

    // Writes this index to `file` (a temporary file renamed into place, so
    // readers never see half a file).
    Result<void> save(const std::filesystem::path& file) const;

    // Maps `file` if it holds an index stamped with exactly `identity`;
    // fails if it is absent, stale or damaged (the caller rebuilds).
    static Result<OwnerIndex> load(const std::filesystem::path& file, std::string_view identity);

    // The owner of `path`: an index below owner_count(), k_shared, or
    // nothing if the path is not listed.
    std::optional<uint32_t> find(std::string_view path) const;

    size_t owner_count() const { return m_owner_count; }
    size_t entry_count() const { return m_entry_count; }

    // Owner `i` (below owner_count()); its strings point into the index.
    struct OwnerView {
        std::string_view name, version, detail;
    };
    OwnerView owner(uint32_t i) const;

private:
    std::string_view string_at(uint32_t offset) const;
    bool attach(std::string_view identity); // sets the views from m_data/m_size

    std::string m_bytes;          // an index built in memory
    void* m_map = nullptr;        // or a mapped file
    const char* m_data = nullptr; // whichever of the two holds the bytes
    size_t m_size = 0;
    const uint32_t* m_owners = nullptr;  // owner_count x (name, version, detail) offsets
    const uint32_t* m_entries = nullptr; // entry_count x (path offset, owner)
    const char* m_strings = nullptr;
    size_t m_strings_size = 0;
    size_t m_owner_count = 0;
    size_t m_entry_count = 0;
};

} // namespace roar::collector
