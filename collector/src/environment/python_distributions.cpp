// SiteDistributions (see python_distributions.hpp). The index maps every
// file a distribution installed (relative to the site directory) and every
// directory holding such files ("pkg/", "pkg/sub/") to the distribution;
// a directory two distributions share (a namespace package) is marked
// shared, so a file in it is only attributed by its own entry.
#include "roar/collector/environment/python_distributions.hpp"

#include "roar/collector/environment/dpkg_owners.hpp"
#include "roar/collector/environment/facts_cache.hpp"
#include "roar/collector/file_hasher.hpp"
#include "text_files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <dirent.h>
#include <sys/stat.h>

namespace roar::collector {

namespace {

bool is_metadata_dir(std::string_view name)
{
    return text::ends_with(name, ".dist-info") || text::ends_with(name, ".egg-info");
}

// The first field of a RECORD line (CSV: quoted when it holds a comma).
std::string record_path(std::string_view line)
{
    if (line.empty() || line.front() != '"') {
        return std::string(line.substr(0, line.find(',')));
    }
    std::string out;
    for (size_t i = 1; i < line.size(); ++i) {
        if (line[i] == '"') {
            if (i + 1 < line.size() && line[i + 1] == '"') {
                out.push_back('"');
                ++i;
                continue;
            }
            break;
        }
        out.push_back(line[i]);
    }
    return out;
}

// `relative` joined onto `base` (both relative to the site directory) with
// "." and ".." resolved; nothing if it leaves the site directory (scripts
// installed into bin/, for example).
std::optional<std::string> inside_site(std::string_view base, std::string_view relative)
{
    std::vector<std::string_view> parts;
    auto push = [&parts](std::string_view path) {
        while (!path.empty()) {
            const size_t slash = path.find('/');
            const std::string_view part = path.substr(0, slash);
            if (part == "..") {
                if (parts.empty()) {
                    return false;
                }
                parts.pop_back();
            } else if (!part.empty() && part != ".") {
                parts.push_back(part);
            }
            if (slash == std::string_view::npos) {
                break;
            }
            path.remove_prefix(slash + 1);
        }
        return true;
    };
    if (!push(base) || !push(relative) || parts.empty()) {
        return std::nullopt;
    }
    std::string out;
    for (const auto part : parts) {
        if (!out.empty()) {
            out.push_back('/');
        }
        out.append(part);
    }
    return out;
}

// Name and version from the headers of METADATA or PKG-INFO.
void read_metadata_headers(const std::string& file, PathOwner& owner)
{
    auto content = text::read_file(file, 64 << 10);
    if (!content) {
        return;
    }
    bool done = false;
    text::for_each_line(*content, [&](std::string_view line) {
        if (done) {
            return;
        }
        if (line.empty()) {
            done = true; // the body (the long description) follows
        } else if (auto name = text::header_value(line, "Name"); name && owner.name.empty()) {
            owner.name = *name;
        } else if (auto version = text::header_value(line, "Version"); version && owner.version.empty()) {
            owner.version = *version;
        }
    });
}

// "name-version.dist-info" -> name, version (the fallback when there is no
// readable METADATA).
void name_from_dir(std::string_view dir, PathOwner& owner)
{
    const std::string_view stem = dir.substr(0, dir.rfind('.'));
    const size_t dash = stem.find('-');
    if (owner.name.empty()) {
        owner.name = stem.substr(0, dash);
    }
    if (owner.version.empty() && dash != std::string_view::npos) {
        owner.version = stem.substr(dash + 1, stem.find('-', dash + 1) - dash - 1);
    }
}

using Entries = std::vector<std::pair<std::string, uint32_t>>;

// Adds `file` (relative to the site directory) and its directories.
void add_file(Entries& entries, const std::string& file, uint32_t owner)
{
    const size_t first_slash = file.find('/');
    if (first_slash != std::string::npos && is_metadata_dir(std::string_view(file).substr(0, first_slash))) {
        return;
    }
    if (file.find("__pycache__/") != std::string::npos) {
        return; // looked up as their source files
    }
    entries.emplace_back(file, owner);
    for (size_t slash = file.find('/'); slash != std::string::npos; slash = file.find('/', slash + 1)) {
        entries.emplace_back(file.substr(0, slash + 1), owner);
    }
}

// Top-level module names: a package directory and a module file each.
void add_top_level(Entries& entries, std::string_view name, uint32_t owner)
{
    name = text::trim(name);
    if (name.empty() || name.find('/') != std::string_view::npos || name.find("..") != std::string_view::npos) {
        return;
    }
    entries.emplace_back(std::string(name) + "/", owner);
    entries.emplace_back(std::string(name) + ".py", owner);
}

// Indexes one *.dist-info or *.egg-info entry of the site directory.
void index_distribution(const std::string& site, std::string_view entry, bool is_dir, std::vector<PathOwner>& owners,
                        Entries& entries)
{
    const std::string meta = site + "/" + std::string(entry);
    const bool dist_info = text::ends_with(entry, ".dist-info");
    PathOwner owner;
    if (!is_dir) {
        read_metadata_headers(meta, owner); // an egg-info file is PKG-INFO itself
    } else {
        read_metadata_headers(meta + (dist_info ? "/METADATA" : "/PKG-INFO"), owner);
        if (auto installer = text::read_file(meta + "/INSTALLER", 256)) {
            owner.detail = text::trim(std::string_view(*installer).substr(0, installer->find('\n')));
        }
    }
    name_from_dir(entry, owner);
    const auto id = uint32_t(owners.size());
    owners.push_back(owner);

    size_t listed = 0;
    if (is_dir && dist_info) {
        if (auto record = text::read_file(meta + "/RECORD")) {
            text::for_each_line(*record, [&](std::string_view line) {
                if (auto file = inside_site("", record_path(line))) {
                    add_file(entries, *file, id);
                    ++listed;
                }
            });
        }
    } else if (is_dir) {
        if (auto installed = text::read_file(meta + "/installed-files.txt")) {
            text::for_each_line(*installed, [&](std::string_view line) {
                if (auto file = inside_site(entry, text::trim(line))) {
                    add_file(entries, *file, id);
                    ++listed;
                }
            });
        }
    }
    if (listed > 0) {
        return;
    }
    if (is_dir) {
        if (auto top = text::read_file(meta + "/top_level.txt", 64 << 10)) {
            text::for_each_line(*top, [&](std::string_view name) {
                add_top_level(entries, name, id);
                ++listed;
            });
        }
    }
    if (listed == 0) {
        // No file list at all: the import name is usually the distribution's
        // name with '-' and '.' spelled '_'.
        std::string name = owner.name;
        std::replace(name.begin(), name.end(), '-', '_');
        std::replace(name.begin(), name.end(), '.', '_');
        add_top_level(entries, name, id);
    }
}

OwnerIndex build_index(const std::string& site, const std::string& identity)
{
    std::vector<PathOwner> owners;
    Entries entries;
    DIR* d = opendir(site.c_str());
    if (!d) {
        return OwnerIndex::build(identity, owners, {});
    }
    std::vector<std::pair<std::string, bool>> metadata; // name, is a directory
    while (const dirent* ent = readdir(d)) {
        const std::string_view name = ent->d_name;
        if (!is_metadata_dir(name)) {
            continue;
        }
        bool is_dir = ent->d_type == DT_DIR;
        if (ent->d_type == DT_UNKNOWN || ent->d_type == DT_LNK) {
            struct stat sb;
            is_dir = stat((site + "/" + std::string(name)).c_str(), &sb) == 0 && S_ISDIR(sb.st_mode);
        }
        metadata.emplace_back(std::string(name), is_dir);
    }
    closedir(d);
    std::sort(metadata.begin(), metadata.end()); // the same index whatever readdir's order
    for (const auto& [name, is_dir] : metadata) {
        index_distribution(site, name, is_dir, owners, entries);
    }
    return OwnerIndex::build(identity, owners, std::move(entries));
}

} // namespace

std::string site_dir_of(std::string_view path)
{
    size_t first_end = std::string_view::npos;
    for (const std::string_view name : {"/site-packages", "/dist-packages"}) {
        for (size_t at = path.find(name); at != std::string_view::npos; at = path.find(name, at + 1)) {
            const size_t end = at + name.size();
            if (end == path.size() || path[end] == '/') {
                first_end = std::min(first_end, end);
                break;
            }
        }
    }
    return first_end == std::string_view::npos ? std::string() : std::string(path.substr(0, first_end));
}

bool is_site_bookkeeping(std::string_view path, std::string_view site)
{
    if (path.size() <= site.size() + 1 || path.substr(0, site.size()) != site || path[site.size()] != '/') {
        return false;
    }
    const std::string_view rel = path.substr(site.size() + 1);
    const size_t first_slash = rel.find('/');
    return first_slash == std::string_view::npos ? text::ends_with(rel, ".pth")
                                                 : is_metadata_dir(rel.substr(0, first_slash));
}

Result<SiteDistributions> SiteDistributions::open(const std::filesystem::path& site_dir,
                                                  const std::filesystem::path& cache_dir)
{
    auto dir = identify_file(site_dir.string());
    if (!dir) {
        return tl::unexpected(dir.error());
    }
    SiteDistributions site;
    site.m_site = site_dir.string();
    const std::string identity = fmt::format("python site {} dir {}", site.m_site, identity_key(*dir));
    const auto file = cache_dir / fmt::format("python-site-{}.idx", short_name(site.m_site));
    if (auto cached = OwnerIndex::load(file, identity)) {
        site.m_index = std::move(*cached);
        return site;
    }
    site.m_index = build_index(site.m_site, identity);
    site.m_built = true;
    (void)site.m_index.save(file); // unwritable cache: the next job rebuilds
    return site;
}

std::optional<uint32_t> SiteDistributions::distribution_of(std::string_view path) const
{
    if (path.size() <= m_site.size() + 1 || path.compare(0, m_site.size(), m_site) != 0 || path[m_site.size()] != '/') {
        return std::nullopt;
    }
    const std::string source = source_of_bytecode(path);
    if (is_site_bookkeeping(source, m_site)) {
        return std::nullopt;
    }
    const std::string_view rel = std::string_view(source).substr(m_site.size() + 1);
    auto owner = m_index.find(rel);
    // Not listed itself (a file the package wrote later, a data file):
    // the innermost listed directory holding it decides.
    for (size_t slash = rel.rfind('/'); !owner && slash != std::string_view::npos && slash > 0;
         slash = rel.rfind('/', slash - 1)) {
        owner = m_index.find(rel.substr(0, slash + 1));
    }
    if (!owner || *owner == OwnerIndex::k_shared) {
        return std::nullopt;
    }
    return owner;
}

SiteDistributions::Distribution SiteDistributions::distribution(uint32_t i) const
{
    const auto view = m_index.owner(i);
    return {view.name, view.version, view.detail};
}

} // namespace roar::collector
