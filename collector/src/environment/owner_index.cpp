// OwnerIndex (see owner_index.hpp). File layout, native byte order (the
// cache never leaves the machine that wrote it):
//   header   magic "ROAROWN1", u32 identity size, u32 owner count,
//            u64 entry count, u64 strings size
//   identity the caller's stamp, padded to 4 bytes
//   owners   owner count x u32 (name, version, detail) string offsets
//   entries  entry count x u32 (path string offset, owner), sorted by path
//   strings  NUL-terminated strings, the last byte a NUL
// Every offset is checked against the strings' size when used, so a
// damaged file yields wrong answers at worst, never a read out of bounds.
#include "roar/collector/environment/owner_index.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace roar::collector {

namespace {

constexpr char k_magic[8] = {'R', 'O', 'A', 'R', 'O', 'W', 'N', '1'};

struct Header {
    char magic[8];
    uint32_t identity_size;
    uint32_t owner_count;
    uint64_t entry_count;
    uint64_t strings_size;
};
static_assert(sizeof(Header) == 32);

size_t padded4(size_t n) { return (n + 3) & ~size_t(3); }

// The byte size of a file with these counts, or 0 if it would overflow.
size_t layout_size(const Header& h)
{
    const uint64_t owners = uint64_t(h.owner_count) * 12;
    if (h.entry_count > (uint64_t(1) << 40) || h.strings_size > (uint64_t(1) << 40)) {
        return 0;
    }
    return sizeof(Header) + padded4(h.identity_size) + owners + h.entry_count * 8 + h.strings_size;
}

void append_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }

} // namespace

OwnerIndex::OwnerIndex(OwnerIndex&& other) noexcept { *this = std::move(other); }

OwnerIndex& OwnerIndex::operator=(OwnerIndex&& other) noexcept
{
    if (this == &other) {
        return *this;
    }
    if (m_map) {
        munmap(m_map, m_size);
    }
    const bool in_memory = other.m_map == nullptr && other.m_data != nullptr;
    m_bytes = std::move(other.m_bytes);
    m_map = std::exchange(other.m_map, nullptr);
    m_size = std::exchange(other.m_size, 0);
    // A moved std::string may keep its characters in place or not (short
    // strings): recompute every view from wherever the bytes are now.
    const ptrdiff_t owners_at = other.m_owners ? reinterpret_cast<const char*>(other.m_owners) - other.m_data : 0;
    const ptrdiff_t entries_at = other.m_entries ? reinterpret_cast<const char*>(other.m_entries) - other.m_data : 0;
    const ptrdiff_t strings_at = other.m_strings ? other.m_strings - other.m_data : 0;
    m_data = in_memory ? m_bytes.data() : static_cast<const char*>(m_map);
    m_owners = other.m_owners ? reinterpret_cast<const uint32_t*>(m_data + owners_at) : nullptr;
    m_entries = other.m_entries ? reinterpret_cast<const uint32_t*>(m_data + entries_at) : nullptr;
    m_strings = other.m_strings ? m_data + strings_at : nullptr;
    m_strings_size = std::exchange(other.m_strings_size, 0);
    m_owner_count = std::exchange(other.m_owner_count, 0);
    m_entry_count = std::exchange(other.m_entry_count, 0);
    other.m_data = nullptr;
    other.m_owners = other.m_entries = nullptr;
    other.m_strings = nullptr;
    return *this;
}

OwnerIndex::~OwnerIndex()
{
    if (m_map) {
        munmap(m_map, m_size);
    }
}

OwnerIndex OwnerIndex::build(std::string_view identity, const std::vector<PathOwner>& owners,
                             std::vector<std::pair<std::string, uint32_t>> entries)
{
    std::sort(entries.begin(), entries.end());
    // One entry per path; two owners of one path make it shared.
    std::vector<std::pair<std::string, uint32_t>> unique;
    unique.reserve(entries.size());
    for (auto& entry : entries) {
        if (!unique.empty() && unique.back().first == entry.first) {
            if (unique.back().second != entry.second) {
                unique.back().second = k_shared;
            }
            continue;
        }
        unique.push_back(std::move(entry));
    }

    std::string strings;
    auto add_string = [&strings](std::string_view s) {
        const auto offset = uint32_t(strings.size());
        strings.append(s);
        strings.push_back('\0');
        return offset;
    };
    std::string owner_table, entry_table;
    for (const auto& owner : owners) {
        append_u32(owner_table, add_string(owner.name));
        append_u32(owner_table, add_string(owner.version));
        append_u32(owner_table, add_string(owner.detail));
    }
    for (const auto& [path, owner] : unique) {
        append_u32(entry_table, add_string(path));
        append_u32(entry_table, owner);
    }
    if (strings.empty()) {
        strings.push_back('\0');
    }

    Header h{};
    std::memcpy(h.magic, k_magic, sizeof k_magic);
    h.identity_size = uint32_t(identity.size());
    h.owner_count = uint32_t(owners.size());
    h.entry_count = unique.size();
    h.strings_size = strings.size();

    OwnerIndex index;
    std::string& bytes = index.m_bytes;
    bytes.reserve(layout_size(h));
    bytes.append(reinterpret_cast<const char*>(&h), sizeof h);
    bytes.append(identity);
    bytes.resize(sizeof h + padded4(identity.size()), '\0');
    bytes += owner_table;
    bytes += entry_table;
    bytes += strings;
    index.m_data = bytes.data();
    index.m_size = bytes.size();
    index.attach(identity);
    return index;
}

Result<void> OwnerIndex::save(const std::filesystem::path& file) const
{
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    std::random_device rd;
    const std::string tmp = file.string() + ".tmp" + std::to_string(rd());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        return fail("cannot write the cache file {}: {}", tmp, std::strerror(errno));
    }
    size_t done = 0;
    while (done < m_size) {
        const ssize_t n = ::write(fd, m_data + done, m_size - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            return fail("cannot write the cache file {}: {}", tmp, std::strerror(err));
        }
        done += size_t(n);
    }
    ::close(fd);
    if (::rename(tmp.c_str(), file.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return fail("cannot rename {} to {}: {}", tmp, file.string(), std::strerror(err));
    }
    return {};
}

Result<OwnerIndex> OwnerIndex::load(const std::filesystem::path& file, std::string_view identity)
{
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return fail("cannot open {}: {}", file.string(), std::strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < off_t(sizeof(Header))) {
        ::close(fd);
        return fail("{} is not an owner index", file.string());
    }
    void* map = mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) {
        return fail("cannot map {}: {}", file.string(), std::strerror(errno));
    }
    OwnerIndex index;
    index.m_map = map;
    index.m_data = static_cast<const char*>(map);
    index.m_size = size_t(st.st_size);
    if (!index.attach(identity)) {
        return fail("{} is stale or damaged", file.string());
    }
    return index;
}

bool OwnerIndex::attach(std::string_view identity)
{
    Header h;
    std::memcpy(&h, m_data, sizeof h);
    if (std::memcmp(h.magic, k_magic, sizeof k_magic) != 0 || layout_size(h) != m_size || h.strings_size == 0) {
        return false;
    }
    if (std::string_view(m_data + sizeof h, h.identity_size) != identity) {
        return false;
    }
    const char* at = m_data + sizeof h + padded4(h.identity_size);
    m_owners = reinterpret_cast<const uint32_t*>(at);
    at += size_t(h.owner_count) * 12;
    m_entries = reinterpret_cast<const uint32_t*>(at);
    at += h.entry_count * 8;
    m_strings = at;
    m_strings_size = h.strings_size;
    if (m_strings[m_strings_size - 1] != '\0') {
        return false;
    }
    m_owner_count = h.owner_count;
    m_entry_count = h.entry_count;
    return true;
}

std::string_view OwnerIndex::string_at(uint32_t offset) const
{
    if (offset >= m_strings_size) {
        return {};
    }
    return std::string_view(m_strings + offset); // the blob ends with a NUL
}

std::optional<uint32_t> OwnerIndex::find(std::string_view path) const
{
    size_t lo = 0, hi = m_entry_count;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        const std::string_view key = string_at(m_entries[2 * mid]);
        const int c = key.compare(path);
        if (c == 0) {
            const uint32_t owner = m_entries[2 * mid + 1];
            if (owner != k_shared && owner >= m_owner_count) {
                return std::nullopt;
            }
            return owner;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return std::nullopt;
}

OwnerIndex::OwnerView OwnerIndex::owner(uint32_t i) const
{
    if (i >= m_owner_count) {
        return {};
    }
    return {string_at(m_owners[3 * i]), string_at(m_owners[3 * i + 1]), string_at(m_owners[3 * i + 2])};
}

} // namespace roar::collector
