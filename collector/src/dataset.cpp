// Datasets: which listed directories a job read as a whole, their digest,
// and the walk that finds a dataset's files on disk again.
#include "roar/collector/dataset.hpp"
#include "roar/collector/byte_text.hpp"

#include "roar/collector/blake3_tree.hpp"
#include "roar/collector/file_hasher.hpp"

#include <blake3.h>

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

namespace roar::collector {

namespace {

void append_u64(std::string& out, uint64_t value)
{
    for (int i = 0; i < 8; ++i) {
        out.push_back(char((value >> (8 * i)) & 0xff));
    }
}

// The 32 bytes `hex` spells, or the text itself when it is not 64 hex digits.
void append_digest(std::string& out, std::string_view hex)
{
    if (const auto bytes = digest_bytes(hex)) {
        out.append(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    } else {
        out += hex;
    }
}

bool has_prefix(std::string_view s, std::string_view prefix)
{
    return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// Memoised "does this directory count" over the listed directories. A
// directory that counts is kept as its own entries (a file with what the
// job read of it, a subdirectory by reference): the members of a dataset
// are spelled out once, for the topmost directory only (a dataset of
// 4,000 files in 8 subdirectories made each member's strings five times
// before, 12 ms of a job's recording on a VM with slow page faults).
class DatasetRule {
public:
    struct Node {
        std::vector<std::pair<std::string, const ReadFile*>> files; // name, what the job read
        std::vector<std::pair<std::string, const Node*>> directories;
        size_t count = 0; // files, subdirectories' included
    };

    DatasetRule(const std::vector<std::string>& listed, const std::vector<ReadFile>& reads,
                const std::vector<std::string_view>& changed, const DirectoryLister& list)
        : m_listed(listed), m_reads(reads), m_changed(changed), m_list(list)
    {
        std::sort(m_listed.begin(), m_listed.end());
    }

    bool listed(const std::string& dir) const { return std::binary_search(m_listed.begin(), m_listed.end(), dir); }

    // `dir`'s entries when it counts, else nothing (kept until the rule goes).
    const std::optional<Node>& node(const std::string& dir)
    {
        if (auto it = m_memo.find(dir); it != m_memo.end()) {
            return it->second;
        }
        auto found = compute(dir);
        return m_memo.emplace(dir, std::move(found)).first->second;
    }

    // The files under `node`, paths relative to it, in byte order of the path.
    static std::vector<DatasetMember> members(const Node& node)
    {
        std::vector<std::pair<std::string, const ReadFile*>> flat;
        flat.reserve(node.count);
        std::string prefix;
        flatten(node, prefix, flat);
        std::sort(flat.begin(), flat.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        std::vector<DatasetMember> out;
        out.reserve(flat.size());
        for (auto& [relative, read] : flat) {
            out.push_back(DatasetMember{std::move(relative), read->size, std::string(read->blake3)});
        }
        return out;
    }

    const std::vector<std::string>& all_listed() const { return m_listed; }

private:
    static void flatten(const Node& node, std::string& prefix,
                        std::vector<std::pair<std::string, const ReadFile*>>& out)
    {
        for (const auto& [name, read] : node.files) {
            out.emplace_back(prefix + name, read);
        }
        for (const auto& [name, sub] : node.directories) {
            const size_t was = prefix.size();
            prefix.append(name).push_back('/');
            flatten(*sub, prefix, out);
            prefix.resize(was);
        }
    }

    std::optional<Node> compute(const std::string& dir)
    {
        const std::string prefix = dir == "/" ? dir : dir + "/";
        // Something under it was written or removed: not read as it was.
        auto changed = std::lower_bound(m_changed.begin(), m_changed.end(), std::string_view(prefix));
        if (changed != m_changed.end() && has_prefix(*changed, prefix)) {
            return std::nullopt;
        }
        auto entries = m_list(dir);
        if (!entries) {
            return std::nullopt;
        }
        Node out;
        std::string path = prefix;
        for (auto& entry : *entries) {
            path.resize(prefix.size());
            path += entry.name;
            if (entry.type == DirectoryEntry::Type::file) {
                auto read = std::lower_bound(m_reads.begin(), m_reads.end(), std::string_view(path),
                                             [](const ReadFile& r, std::string_view p) { return r.path < p; });
                if (read == m_reads.end() || read->path != path) {
                    return std::nullopt; // a file it did not read
                }
                out.files.emplace_back(std::move(entry.name), &*read);
                ++out.count;
            } else if (entry.type == DirectoryEntry::Type::directory) {
                if (!listed(path)) {
                    return std::nullopt; // a subdirectory it did not look into
                }
                const auto& sub = node(path);
                if (!sub) {
                    return std::nullopt;
                }
                out.directories.emplace_back(std::move(entry.name), &*sub);
                out.count += sub->count;
            }
        }
        return out;
    }

    std::vector<std::string> m_listed;
    const std::vector<ReadFile>& m_reads;
    const std::vector<std::string_view>& m_changed;
    const DirectoryLister& m_list;
    std::map<std::string, std::optional<Node>> m_memo; // map: a node's address never changes
};

} // namespace

namespace {

constexpr std::string_view k_dataset_tag = "roar-dataset-v1\n";
constexpr std::string_view k_s3_dataset_tag = "roar-s3-dataset-v1\n";

// BLAKE3 of `tag` and the members' encoding (dataset_digest's contract),
// `members` being sorted by relative path; hashed as it is encoded, a block
// at a time, so a large dataset's encoding is never held whole.
std::string tagged_digest_of_sorted(std::string_view tag, const std::vector<DatasetMember>& members)
{
    constexpr size_t k_block = 16384;
    blake3_hasher hasher;
    blake3_hasher_init(&hasher);
    std::string encoded(tag);
    encoded.reserve(k_block + 4096);
    for (const auto& m : members) {
        append_u64(encoded, m.relative.size());
        encoded += m.relative;
        append_u64(encoded, m.size);
        append_digest(encoded, m.blake3);
        if (encoded.size() >= k_block) {
            blake3_hasher_update(&hasher, encoded.data(), encoded.size());
            encoded.clear();
        }
    }
    blake3_hasher_update(&hasher, encoded.data(), encoded.size());
    blake3::Cv out;
    blake3_hasher_finalize(&hasher, out.data(), out.size());
    return blake3::to_hex(out);
}

std::string tagged_digest(std::string_view tag, std::vector<DatasetMember> members)
{
    std::sort(members.begin(), members.end(),
              [](const DatasetMember& a, const DatasetMember& b) { return a.relative < b.relative; });
    return tagged_digest_of_sorted(tag, members);
}

// Memoised "does this prefix count" over a job's listings.
class S3DatasetRule {
public:
    S3DatasetRule(const std::map<std::string, S3Listing>& listings, const std::vector<ReadFile>& reads,
                  const std::vector<std::string_view>& changed)
        : m_listings(listings), m_reads(reads), m_changed(changed)
    { }

    // The objects under `prefix` (relative to it) when it counts, else nothing.
    const std::optional<std::vector<DatasetMember>>& members(const std::string& prefix)
    {
        if (auto it = m_memo.find(prefix); it != m_memo.end()) {
            return it->second;
        }
        // Placed first: a listing that names itself as a common prefix ends here.
        m_memo.emplace(prefix, std::nullopt);
        auto found = compute(prefix);
        return m_memo[prefix] = std::move(found);
    }

private:
    std::optional<std::vector<DatasetMember>> compute(const std::string& prefix)
    {
        auto listing = m_listings.find(prefix);
        if (listing == m_listings.end() || !listing->second.saw_first || !listing->second.saw_last) {
            return std::nullopt;
        }
        if (!prefix.ends_with('/')) {
            return std::nullopt; // "s3://bucket/pre": not a folder-like prefix
        }
        auto changed = std::lower_bound(m_changed.begin(), m_changed.end(), std::string_view(prefix));
        if (changed != m_changed.end() && has_prefix(*changed, prefix)) {
            return std::nullopt;
        }
        std::vector<DatasetMember> out;
        for (const auto& object : listing->second.objects) {
            auto read = std::lower_bound(m_reads.begin(), m_reads.end(), std::string_view(object.uri),
                                         [](const ReadFile& r, std::string_view p) { return r.path < p; });
            if (read == m_reads.end() || read->path != object.uri || read->size != object.size || read->blake3.empty()
                || !has_prefix(object.uri, prefix)) {
                return std::nullopt; // not read whole, or not as listed
            }
            out.push_back(DatasetMember{object.uri.substr(prefix.size()), read->size, std::string(read->blake3)});
        }
        for (const auto& common : listing->second.common_prefixes) {
            if (!has_prefix(common, prefix) || common == prefix) {
                return std::nullopt;
            }
            const auto& sub = members(common);
            if (!sub) {
                return std::nullopt;
            }
            const std::string relative = common.substr(prefix.size());
            for (const auto& m : *sub) {
                out.push_back(DatasetMember{relative + m.relative, m.size, m.blake3});
            }
        }
        // Pages listed twice repeat their objects.
        std::sort(out.begin(), out.end(),
                  [](const DatasetMember& a, const DatasetMember& b) { return a.relative < b.relative; });
        out.erase(std::unique(out.begin(), out.end(),
                              [](const DatasetMember& a, const DatasetMember& b) { return a.relative == b.relative; }),
                  out.end());
        return out;
    }

    const std::map<std::string, S3Listing>& m_listings;
    const std::vector<ReadFile>& m_reads;
    const std::vector<std::string_view>& m_changed;
    std::map<std::string, std::optional<std::vector<DatasetMember>>> m_memo;
};

} // namespace

std::string dataset_digest(std::vector<DatasetMember> members)
{
    return tagged_digest(k_dataset_tag, std::move(members));
}

std::string s3_dataset_digest(std::vector<DatasetMember> members)
{
    return tagged_digest(k_s3_dataset_tag, std::move(members));
}

std::vector<FoundDataset> find_s3_datasets(const std::map<std::string, S3Listing>& listings,
                                           const std::vector<ReadFile>& reads,
                                           const std::vector<std::string_view>& changed)
{
    S3DatasetRule rule(listings, reads, changed);
    std::vector<FoundDataset> out;
    for (const auto& [prefix, listing] : listings) {
        const auto& members = rule.members(prefix);
        if (!members || members->size() < k_min_dataset_files) {
            continue;
        }
        // Only the topmost: `listings` is in order, so an enclosing one came first.
        if (!out.empty() && has_prefix(prefix, out.back().path)) {
            continue;
        }
        FoundDataset d;
        d.path = prefix;
        d.members = *members;
        for (const auto& m : d.members) {
            d.bytes += m.size;
        }
        d.digest = tagged_digest_of_sorted(k_s3_dataset_tag, d.members); // the rule sorted them
        out.push_back(std::move(d));
    }
    return out;
}

Result<std::vector<DirectoryEntry>> list_directory(const std::string& path)
{
    std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(path.c_str()), closedir);
    if (!dir) {
        return fail("cannot list {}: {}", path, strerror(errno));
    }
    std::vector<DirectoryEntry> out;
    while (const dirent* d = readdir(dir.get())) {
        const std::string_view name = d->d_name;
        if (name == "." || name == "..") {
            continue;
        }
        DirectoryEntry entry;
        entry.name = std::string(name);
        unsigned char type = d->d_type;
        if (type == DT_UNKNOWN) {
            struct stat sb;
            const std::string full = path + (path.ends_with('/') ? "" : "/") + entry.name;
            if (lstat(full.c_str(), &sb) == 0) {
                type = S_ISREG(sb.st_mode) ? DT_REG : S_ISDIR(sb.st_mode) ? DT_DIR : DT_LNK;
            }
        }
        entry.type = type == DT_REG   ? DirectoryEntry::Type::file
                     : type == DT_DIR ? DirectoryEntry::Type::directory
                                      : DirectoryEntry::Type::other;
        out.push_back(std::move(entry));
    }
    return out;
}

std::vector<FoundDataset> find_datasets(const std::vector<std::string>& listed, const std::vector<ReadFile>& reads,
                                        const std::vector<std::string_view>& changed, const DirectoryLister& list)
{
    DatasetRule rule(listed, reads, changed, list);
    std::vector<FoundDataset> out;
    for (const auto& dir : rule.all_listed()) {
        const auto& node = rule.node(dir);
        if (!node || node->count < k_min_dataset_files) {
            continue;
        }
        // Only the topmost: a dataset inside a dataset is part of it.
        const size_t slash = dir.find_last_of('/');
        if (slash != std::string::npos && slash > 0) {
            const std::string parent = dir.substr(0, slash);
            if (rule.listed(parent) && rule.node(parent)) {
                continue;
            }
        }
        FoundDataset d;
        d.path = dir == "/" ? dir : dir + "/";
        d.members = DatasetRule::members(*node);
        for (const auto& m : d.members) {
            d.bytes += m.size;
        }
        d.digest = tagged_digest_of_sorted(k_dataset_tag, d.members);
        out.push_back(std::move(d));
    }
    return out;
}

Result<std::vector<std::string>> walk_dataset(const std::string& directory, const DirectoryLister& list)
{
    std::string root = directory;
    while (root.size() > 1 && root.ends_with('/')) {
        root.pop_back();
    }
    std::vector<std::string> files;
    std::vector<std::string> pending{root};
    bool first = true;
    while (!pending.empty()) {
        const std::string dir = std::move(pending.back());
        pending.pop_back();
        auto entries = list(dir);
        if (!entries) {
            if (first) {
                return tl::unexpected(entries.error());
            }
            continue;
        }
        first = false;
        const std::string prefix = dir == "/" ? dir : dir + "/";
        for (const auto& entry : *entries) {
            if (entry.type == DirectoryEntry::Type::file) {
                files.push_back(prefix + entry.name);
            } else if (entry.type == DirectoryEntry::Type::directory) {
                pending.push_back(prefix + entry.name);
            }
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

} // namespace roar::collector
