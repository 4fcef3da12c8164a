// /proc reads about tracees (see proc_files.hpp). Raw open/read/readlink:
// this runs once per process image and per fd, on the tracer's thread.
#include "proc_files.hpp"

#include "roar/collector/event_format.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <string_view>

namespace roar::collector::tracer {

namespace {

// The flag the kernel adds to every file opened on a 64-bit system (the
// glibc headers define O_LARGEFILE as 0 there).
constexpr int k_kernel_largefile = 0100000;

std::string proc_path(pid_t pid, const char* leaf) { return "/proc/" + std::to_string(pid) + "/" + leaf; }

// Reads up to `max` bytes of a /proc file; `full` says whether it ended.
std::string read_file(const std::string& path, size_t max, bool* full = nullptr)
{
    std::string out;
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return out;
    }
    char buf[8192];
    ssize_t n = 0;
    while (out.size() < max && (n = read(fd, buf, sizeof buf)) > 0) {
        out.append(buf, size_t(n));
    }
    if (full) {
        *full = out.size() <= max && n == 0;
    }
    if (out.size() > max) {
        out.resize(max);
        if (full) {
            *full = false;
        }
    }
    close(fd);
    return out;
}

// The start of an fd's fdinfo (pos, then flags, then more): one read,
// since the kernel writes a whole fdinfo in one go and the fields roar
// wants come first. This runs at every stopped close: a second read just
// to see the end of the file would be a syscall more per stop.
std::string read_fdinfo(pid_t pid, const std::string& fd)
{
    const std::string path = proc_path(pid, "fdinfo/") + fd;
    const int f = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (f < 0) {
        return {};
    }
    char buf[1024];
    const ssize_t n = read(f, buf, sizeof buf);
    close(f);
    return n > 0 ? std::string(buf, size_t(n)) : std::string();
}

std::string read_link(const std::string& path)
{
    char buf[ROAR_MAX_PATH_BYTES];
    const ssize_t n = readlink(path.c_str(), buf, sizeof buf);
    return n > 0 ? std::string(buf, size_t(n)) : std::string();
}

template <typename T> T number(std::string_view text, int base = 10)
{
    T v{};
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    std::from_chars(text.data(), text.data() + text.size(), v, base);
    return v;
}

// The value of "Name:\t..." in a status-like file.
std::string_view field(std::string_view text, std::string_view name)
{
    size_t at = 0;
    while (at < text.size()) {
        size_t end = text.find('\n', at);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        std::string_view line = text.substr(at, end - at);
        if (line.size() > name.size() && line.substr(0, name.size()) == name && line[name.size()] == ':') {
            return line.substr(name.size() + 1);
        }
        at = end + 1;
    }
    return {};
}

} // namespace

ProcessImage read_image(pid_t pid)
{
    ProcessImage img;
    img.exe = read_link(proc_path(pid, "exe"));
    img.cwd = read_link(proc_path(pid, "cwd"));
    bool full = true;
    img.argv = read_file(proc_path(pid, "cmdline"), ROAR_MAX_ARGV_BYTES - 1, &full);
    img.argv_truncated = !full;
    if (!img.argv.empty() && img.argv.back() == '\0') {
        img.argv.pop_back(); // each argument ends with a NUL; s3 separates them
    }
    // /proc/<pid>/stat: "pid (comm) state ppid ...": comm may hold spaces
    // and parentheses, so read after the last ')'.
    const std::string stat = read_file(proc_path(pid, "stat"), 4096);
    const size_t close = stat.rfind(')');
    if (close != std::string::npos && close + 4 < stat.size()) {
        img.ppid = number<pid_t>(std::string_view(stat).substr(close + 4));
    }
    return img;
}

std::vector<OpenFd> read_path_fds(pid_t pid)
{
    std::vector<OpenFd> fds;
    const std::string dir = proc_path(pid, "fd");
    DIR* d = opendir(dir.c_str());
    if (!d) {
        return fds;
    }
    while (const dirent* entry = readdir(d)) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') {
            continue;
        }
        const int fd = number<int>(entry->d_name);
        std::string target = read_link(dir + "/" + entry->d_name);
        if (target.empty() || target.front() != '/') {
            continue;
        }
        const std::string info = read_fdinfo(pid, entry->d_name);
        fds.push_back(OpenFd{fd, number<int>(field(info, "flags"), 8), std::move(target)});
    }
    closedir(d);
    return fds;
}

std::optional<OpenFd> read_path_fd(pid_t tid, int fd, bool& is_open)
{
    const std::string name = std::to_string(fd);
    std::string target = read_link(proc_path(tid, "fd/") + name);
    is_open = !target.empty();
    constexpr std::string_view k_deleted = " (deleted)";
    if (target.empty() || target.front() != '/'
        || (target.size() > k_deleted.size()
            && target.compare(target.size() - k_deleted.size(), k_deleted.size(), k_deleted) == 0)) {
        return std::nullopt;
    }
    // The link's permission bits are the fd's access mode (r for a
    // readable fd, w for a writable one): one lstat instead of opening,
    // reading and closing the fdinfo, at every stopped close. An fd that
    // can do neither (O_PATH) gets fdinfo's flags.
    struct stat link { };
    if (lstat((proc_path(tid, "fd/") + name).c_str(), &link) != 0) {
        is_open = false;
        return std::nullopt;
    }
    const bool can_read = link.st_mode & S_IRUSR;
    const bool can_write = link.st_mode & S_IWUSR;
    if (!can_read && !can_write) {
        const int flags = read_fd_flags(tid, fd);
        return flags < 0 ? std::nullopt : std::optional<OpenFd>(OpenFd{fd, flags, std::move(target)});
    }
    return OpenFd{fd, can_write ? (can_read ? O_RDWR : O_WRONLY) : O_RDONLY, std::move(target)};
}

int read_fd_flags(pid_t tid, int fd)
{
    const std::string info = read_fdinfo(tid, std::to_string(fd));
    const std::string_view flags = field(info, "flags");
    return flags.empty() ? -1 : number<int>(flags, 8) & ~int(k_kernel_largefile);
}

std::vector<int> read_fd_numbers(pid_t tid)
{
    std::vector<int> fds;
    DIR* d = opendir(proc_path(tid, "fd").c_str());
    if (!d) {
        return fds;
    }
    while (const dirent* entry = readdir(d)) {
        if (entry->d_name[0] >= '0' && entry->d_name[0] <= '9') {
            fds.push_back(number<int>(entry->d_name));
        }
    }
    closedir(d);
    return fds;
}

int64_t read_fd_pos(pid_t tid, int fd)
{
    const std::string info = read_fdinfo(tid, std::to_string(fd));
    const std::string_view pos = field(info, "pos");
    return pos.empty() ? -1 : number<int64_t>(pos);
}

bool environment_has_shim(pid_t pid, const std::string& preload, const std::string& ring)
{
    const std::string env = read_file(proc_path(pid, "environ"), 1 << 20);
    bool has_preload = false;
    bool has_ring = false;
    size_t at = 0;
    while (at < env.size()) {
        size_t end = env.find('\0', at);
        if (end == std::string::npos) {
            end = env.size();
        }
        const std::string_view entry(env.data() + at, end - at);
        if (entry.rfind("LD_PRELOAD=", 0) == 0 && !preload.empty() && entry.find(preload) != std::string_view::npos) {
            has_preload = true;
        } else if (entry.rfind("ROAR_RING=", 0) == 0 && entry.substr(10) == ring) {
            has_ring = true;
        }
        at = end + 1;
    }
    return has_preload && has_ring;
}

void read_ids(pid_t tid, pid_t& tgid, pid_t& ppid)
{
    const std::string status = read_file(proc_path(tid, "status"), 8192);
    tgid = number<pid_t>(field(status, "Tgid"));
    ppid = number<pid_t>(field(status, "PPid"));
}

std::string path_from_here(pid_t tid, int dirfd, const std::string& path)
{
    if (path.empty()) {
        return {};
    }
    if (path.front() == '/') {
        return path;
    }
    if (dirfd == ROAR_AT_FDCWD) {
        return proc_path(tid, "cwd/") + path;
    }
    return proc_path(tid, "fd/") + std::to_string(dirfd) + "/" + path;
}

bool path_exists(pid_t tid, int dirfd, const std::string& path, bool follow)
{
    const std::string here = path_from_here(tid, dirfd, path);
    struct stat st;
    return !here.empty() && fstatat(AT_FDCWD, here.c_str(), &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0;
}

} // namespace roar::collector::tracer
