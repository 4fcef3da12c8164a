// ELF headers read with pread (see elf_file.hpp). Every size and offset
// read from the file is checked against the file's size before use.
#include "roar/collector/environment/elf_file.hpp"

#include <cerrno>
#include <cstring>
#include <elf.h>
#include <optional>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace roar::collector {

namespace {

constexpr uint64_t k_max_section_table = 4 << 20;
constexpr uint64_t k_max_string_table = 64 << 20;

class Fd {
public:
    explicit Fd(int fd) : m_fd(fd) { }
    ~Fd()
    {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }

private:
    int m_fd;
};

bool read_at(int fd, void* buf, size_t size, uint64_t offset)
{
    auto* out = static_cast<char*>(buf);
    size_t done = 0;
    while (done < size) {
        const ssize_t n = pread(fd, out + done, size - done, off_t(offset + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        done += size_t(n);
    }
    return true;
}

bool within(uint64_t offset, uint64_t size, uint64_t file_size)
{
    return offset <= file_size && size <= file_size - offset;
}

std::vector<std::string> split_path_list(const std::string& list)
{
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= list.size()) {
        const size_t colon = list.find(':', start);
        const std::string part = list.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        if (!part.empty()) {
            out.push_back(part);
        }
        if (colon == std::string::npos) {
            break;
        }
        start = colon + 1;
    }
    return out;
}

} // namespace

Result<std::string> read_file_range(const std::string& path, uint64_t offset, uint64_t size)
{
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        return fail("cannot open {}: {}", path, std::strerror(errno));
    }
    std::string out(size, '\0');
    if (!read_at(fd.get(), out.data(), size, offset)) {
        return fail("cannot read {} bytes at {} of {}", size, offset, path);
    }
    return out;
}

Result<ElfFacts> read_elf_facts(const std::string& path)
{
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st;
    if (fd.get() < 0 || fstat(fd.get(), &st) != 0) {
        return fail("cannot open {}: {}", path, std::strerror(errno));
    }
    const auto file_size = uint64_t(st.st_size);
    Elf64_Ehdr eh;
    if (!S_ISREG(st.st_mode) || !read_at(fd.get(), &eh, sizeof eh, 0) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0
        || eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
        return fail("{} is not a 64-bit little-endian ELF file", path);
    }
    const uint64_t table_size = uint64_t(eh.e_shnum) * sizeof(Elf64_Shdr);
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || table_size > k_max_section_table
        || !within(eh.e_shoff, table_size, file_size) || eh.e_shstrndx >= eh.e_shnum) {
        return fail("{} has no usable section headers", path);
    }
    std::vector<Elf64_Shdr> sections(eh.e_shnum);
    if (!read_at(fd.get(), sections.data(), table_size, eh.e_shoff)) {
        return fail("cannot read the section headers of {}", path);
    }
    auto read_section = [&](const Elf64_Shdr& s, uint64_t limit) -> std::optional<std::string> {
        if (s.sh_type == SHT_NOBITS || s.sh_size > limit || !within(s.sh_offset, s.sh_size, file_size)) {
            return std::nullopt;
        }
        std::string bytes(s.sh_size, '\0');
        if (!read_at(fd.get(), bytes.data(), bytes.size(), s.sh_offset)) {
            return std::nullopt;
        }
        return bytes;
    };
    auto names = read_section(sections[eh.e_shstrndx], k_max_string_table);
    if (!names) {
        return fail("cannot read the section names of {}", path);
    }
    auto name_of = [&](const Elf64_Shdr& s) -> std::string_view {
        if (s.sh_name >= names->size()) {
            return {};
        }
        return std::string_view(names->c_str() + s.sh_name);
    };

    ElfFacts facts;
    for (const auto& s : sections) {
        const std::string_view name = name_of(s);
        if (name == ".rodata" && s.sh_type != SHT_NOBITS && within(s.sh_offset, s.sh_size, file_size)) {
            facts.has_rodata = true;
            facts.rodata_offset = s.sh_offset;
            facts.rodata_size = s.sh_size;
        }
        if (s.sh_type != SHT_DYNAMIC || s.sh_link >= sections.size()) {
            continue;
        }
        auto dynamic = read_section(s, k_max_section_table);
        auto strings = read_section(sections[s.sh_link], k_max_string_table);
        if (!dynamic || !strings) {
            continue;
        }
        auto string_at = [&strings](uint64_t offset) -> std::string {
            return offset < strings->size() ? std::string(strings->c_str() + offset) : std::string();
        };
        std::string runpath, rpath;
        for (size_t i = 0; i + sizeof(Elf64_Dyn) <= dynamic->size(); i += sizeof(Elf64_Dyn)) {
            Elf64_Dyn d;
            std::memcpy(&d, dynamic->data() + i, sizeof d);
            if (d.d_tag == DT_NULL) {
                break;
            }
            if (d.d_tag == DT_NEEDED) {
                facts.needed.push_back(string_at(d.d_un.d_val));
            } else if (d.d_tag == DT_RUNPATH) {
                runpath = string_at(d.d_un.d_val);
            } else if (d.d_tag == DT_RPATH) {
                rpath = string_at(d.d_un.d_val);
            }
        }
        facts.runpath = split_path_list(runpath.empty() ? rpath : runpath);
    }
    return facts;
}

} // namespace roar::collector
