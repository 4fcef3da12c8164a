// Which installed Python distribution a module file belongs to. One
// SiteDistributions indexes one site directory (…/site-packages,
// …/dist-packages) from its *.dist-info and *.egg-info metadata: the files
// listed in RECORD or installed-files.txt, else the top-level names in
// top_level.txt, else the distribution's own name. The index is cached as an
// OwnerIndex stamped with the directory's identity (installing, upgrading
// or removing a distribution changes the directory's mtime).
#pragma once

#include "roar/collector/environment/owner_index.hpp"
#include "roar/collector/result.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace roar::collector {

class SiteDistributions {
public:
    // The index of `site_dir`, from `cache_dir` when the directory has not
    // changed since it was built, else built (and cached) now. Fails only
    // when `site_dir` is not a directory.
    static Result<SiteDistributions> open(const std::filesystem::path& site_dir,
                                          const std::filesystem::path& cache_dir);

    // The distribution `path` (absolute, under the site directory) belongs
    // to: an index for distribution(), or nothing when no distribution
    // claims it or several do. Compiled modules count as their source file;
    // the metadata directories themselves and top-level *.pth files (read by
    // every interpreter start, not imported) belong to none.
    std::optional<uint32_t> distribution_of(std::string_view path) const;

    struct Distribution {
        std::string_view name, version, installer; // installer: pip, conda, … ("" when not recorded)
    };
    Distribution distribution(uint32_t i) const;
    size_t size() const { return m_index.owner_count(); }

    const std::string& site_dir() const { return m_site; }
    bool built() const { return m_built; } // open() read the metadata (the cache was cold)

private:
    std::string m_site;
    OwnerIndex m_index;
    bool m_built = false;
};

// Whether `path` (in site directory `site`) is one of the files a site
// directory keeps for installers and for the interpreter's start-up (under
// *.dist-info/ or *.egg-info/, or a top-level *.pth) rather than a module.
bool is_site_bookkeeping(std::string_view path, std::string_view site);

// The site directory `path` is in: its prefix up to and including the first
// "site-packages" or "dist-packages" component, or "" when there is none.
std::string site_dir_of(std::string_view path);

} // namespace roar::collector
