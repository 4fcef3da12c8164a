// DpkgOwners (see dpkg_owners.hpp). The index's identity is dpkg's status
// file (device, inode, size, mtime: dpkg replaces it on every change), the
// mtime of info/ and the merged-/usr setting, so any install, removal or
// upgrade rebuilds it on the next job.
#include "roar/collector/environment/dpkg_owners.hpp"

#include "roar/collector/environment/facts_cache.hpp"
#include "roar/collector/file_hasher.hpp"
#include "text_files.hpp"

#include <fmt/format.h>

#include <climits>
#include <cstdlib>
#include <dirent.h>
#include <map>
#include <sys/stat.h>

namespace roar::collector {

namespace {

struct StatusEntry {
    std::string name, version, architecture, status;
};

// Installed packages from dpkg's status file, in file order.
std::vector<StatusEntry> parse_status(std::string_view text)
{
    std::vector<StatusEntry> out;
    StatusEntry cur;
    auto flush = [&] {
        // "config-files" and "not-installed" leave no files behind.
        const bool present = !cur.name.empty() && cur.status.find("not-installed") == std::string::npos
                             && cur.status.find("config-files") == std::string::npos;
        if (present) {
            out.push_back(std::move(cur));
        }
        cur = StatusEntry{};
    };
    text::for_each_line(text, [&](std::string_view line) {
        if (line.empty()) {
            flush();
            return;
        }
        if (auto v = text::header_value(line, "Package")) {
            cur.name = *v;
        } else if (auto v2 = text::header_value(line, "Version")) {
            cur.version = *v2;
        } else if (auto v3 = text::header_value(line, "Architecture")) {
            cur.architecture = *v3;
        } else if (auto v4 = text::header_value(line, "Status")) {
            cur.status = *v4;
        }
    });
    flush();
    return out;
}

// Builds the index from the database in `dir`.
OwnerIndex build_index(const std::filesystem::path& dir, const std::string& identity, bool merged_usr)
{
    std::vector<PathOwner> owners;
    std::map<std::string, uint32_t, std::less<>> by_list_name; // "name" and "name:arch" -> owner
    if (auto status = text::read_file((dir / "status").string())) {
        for (auto& e : parse_status(*status)) {
            const auto id = uint32_t(owners.size());
            by_list_name.emplace(e.name + ":" + e.architecture, id);
            by_list_name.emplace(e.name, id); // the first of several architectures keeps the bare name
            owners.push_back(PathOwner{std::move(e.name), std::move(e.version), std::move(e.architecture)});
        }
    }

    std::vector<std::pair<std::string, uint32_t>> entries;
    entries.reserve(200000);
    const std::string info = (dir / "info").string();
    DIR* d = opendir(info.c_str());
    if (!d) {
        return OwnerIndex::build(identity, owners, {});
    }
    while (const dirent* ent = readdir(d)) {
        const std::string_view file = ent->d_name;
        if (!text::ends_with(file, ".list")) {
            continue;
        }
        auto owner = by_list_name.find(file.substr(0, file.size() - 5));
        if (owner == by_list_name.end()) {
            continue; // lists of packages that are not installed
        }
        auto lines = text::read_file(info + "/" + std::string(file));
        if (!lines) {
            continue;
        }
        text::for_each_line(*lines, [&](std::string_view path) {
            if (path.size() < 2 || path.front() != '/') {
                return; // "/." and blank lines
            }
            entries.emplace_back(merged_usr ? merged_usr_spelling(path) : std::string(path), owner->second);
        });
    }
    closedir(d);
    return OwnerIndex::build(identity, owners, std::move(entries));
}

} // namespace

std::string merged_usr_spelling(std::string_view path)
{
    static constexpr std::string_view k_linked[] = {"/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/"};
    for (const auto prefix : k_linked) {
        if (text::starts_with(path, prefix)) {
            return "/usr" + std::string(path);
        }
    }
    return std::string(path);
}

std::string source_of_bytecode(std::string_view path)
{
    if (!text::ends_with(path, ".pyc")) {
        return std::string(path);
    }
    const size_t slash = path.rfind('/');
    if (slash == std::string_view::npos) {
        return std::string(path);
    }
    const std::string_view dir = path.substr(0, slash);
    const std::string_view name = path.substr(slash + 1);
    if (!text::ends_with(dir, "/__pycache__")) {
        return std::string(path); // a .pyc that is itself the module (no source)
    }
    const std::string_view module = name.substr(0, name.find('.'));
    return fmt::format("{}/{}.py", dir.substr(0, dir.size() - 12), module);
}

Result<DpkgOwners> DpkgOwners::open(const Options& options)
{
    auto status = identify_file((options.dpkg_dir / "status").string());
    if (!status) {
        return fail("no dpkg database in {}", options.dpkg_dir.string());
    }
    auto info = identify_file((options.dpkg_dir / "info").string());
    DpkgOwners owners;
    if (options.merged_usr) {
        owners.m_merged_usr = *options.merged_usr;
    } else {
        struct stat sb;
        owners.m_merged_usr = lstat("/lib", &sb) == 0 && S_ISLNK(sb.st_mode);
    }
    const std::string identity = fmt::format("dpkg {} status {} info {} merged-usr {}", options.dpkg_dir.string(),
                                             identity_key(*status), info ? info->mtime_ns : 0, owners.m_merged_usr);
    const auto file = options.cache_dir / fmt::format("dpkg-{}.idx", short_name(options.dpkg_dir.string()));
    if (auto cached = OwnerIndex::load(file, identity)) {
        owners.m_index = std::move(*cached);
        return owners;
    }
    owners.m_index = build_index(options.dpkg_dir, identity, owners.m_merged_usr);
    owners.m_built = true;
    (void)owners.m_index.save(file); // an unwritable cache costs the next job a rebuild, nothing more
    return owners;
}

std::optional<uint32_t> DpkgOwners::find(std::string path) const
{
    auto owner = m_index.find(m_merged_usr ? merged_usr_spelling(path) : path);
    if (owner && *owner == OwnerIndex::k_shared) {
        return std::nullopt;
    }
    return owner;
}

std::optional<uint32_t> DpkgOwners::owner_of(std::string_view path)
{
    std::string source = source_of_bytecode(path);
    if (auto owner = find(source)) {
        return owner;
    }
    // dpkg lists files under the directory names the package ships; the job
    // may have reached them through a link (/usr/lib/python3 -> ... or an
    // alternatives link).
    const size_t slash = source.rfind('/');
    if (slash == std::string::npos || slash == 0) {
        return std::nullopt;
    }
    const std::string dir = source.substr(0, slash);
    auto it = m_real_dirs.find(dir);
    if (it == m_real_dirs.end()) {
        char buf[PATH_MAX];
        const char* real = realpath(dir.c_str(), buf);
        it = m_real_dirs.emplace(dir, real ? std::string(real) : dir).first;
    }
    if (it->second == dir) {
        return std::nullopt;
    }
    return find(it->second + source.substr(slash));
}

DpkgOwners::Package DpkgOwners::package(uint32_t owner) const
{
    const auto view = m_index.owner(owner);
    return {view.name, view.version, view.detail};
}

std::vector<DpkgOwners::Package> DpkgOwners::packages() const
{
    std::vector<Package> out;
    out.reserve(m_index.owner_count());
    for (uint32_t i = 0; i < m_index.owner_count(); ++i) {
        out.push_back(package(i));
    }
    return out;
}

} // namespace roar::collector
