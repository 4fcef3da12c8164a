// Which installed Debian package owns a file, from dpkg's database: the
// file lists (info/*.list) and the installed versions (status). The
// database is read once per change of dpkg's status file and kept as an
// OwnerIndex in the cache; each job then pays one lookup per path.
#pragma once

#include "roar/collector/environment/owner_index.hpp"
#include "roar/collector/result.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace roar::collector {

class DpkgOwners {
public:
    struct Options {
        std::filesystem::path dpkg_dir = "/var/lib/dpkg"; // holds status and info/
        std::filesystem::path cache_dir;                  // where the index is kept
        // Whether /bin, /sbin and /lib* are links into /usr (dpkg may list a
        // file under either name); unset: look at "/lib".
        std::optional<bool> merged_usr;
    };

    // The index of the database in `options.dpkg_dir`, from the cache when
    // dpkg has not changed since it was built, else built and cached now.
    // Fails when there is no dpkg database (not a Debian system).
    static Result<DpkgOwners> open(const Options& options);

    // The owner of `path` (absolute): an index for package(), or nothing
    // if no installed package lists it (a compiled .pyc is looked up as its
    // source file; a path through a symbolic link to a directory is looked
    // up under the directory's real name too).
    std::optional<uint32_t> owner_of(std::string_view path);

    struct Package {
        std::string_view name, version, architecture;
    };
    Package package(uint32_t owner) const;

    // Every installed package of the database (the owners the index was
    // built from), in dpkg's status-file order.
    std::vector<Package> packages() const;

    // Whether open() had to read dpkg's database (the cache was cold).
    bool built() const { return m_built; }

private:
    std::optional<uint32_t> find(std::string path) const;

    OwnerIndex m_index;
    bool m_merged_usr = false;
    bool m_built = false;
    std::unordered_map<std::string, std::string> m_real_dirs; // directory -> its realpath, per job
};

// The name dpkg would list `path` under on a merged-/usr system: /bin, /sbin
// and /lib* are spelled as their /usr counterparts (so both spellings meet).
std::string merged_usr_spelling(std::string_view path);

// The source file a compiled module stands for: dir/__pycache__/m.cpython-311.pyc
// (or .opt-1.pyc) -> dir/m.py; any other path is returned unchanged.
std::string source_of_bytecode(std::string_view path);

} // namespace roar::collector
