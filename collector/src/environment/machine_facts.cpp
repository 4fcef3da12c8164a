// Machine facts (see machine_facts.hpp): small files read directly, and
// nvidia-smi run at most once per driver version (its answer is cached).
#include "roar/collector/environment/machine_facts.hpp"

#include "roar/collector/file_hasher.hpp"
#include "text_files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace roar::collector {

namespace {

constexpr int k_nvidia_smi_timeout_ms = 10000;

// The unquoted value of an os-release assignment.
std::string os_release_value(std::string_view v)
{
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
        const char quote = v.front();
        v = v.substr(1, v.size() - 2);
        std::string out;
        for (size_t i = 0; i < v.size(); ++i) {
            if (quote == '"' && v[i] == '\\' && i + 1 < v.size()) {
                ++i;
            }
            out.push_back(v[i]);
        }
        return out;
    }
    return std::string(v);
}

// "0-3,8-11" -> 8.
unsigned count_cpu_list(std::string_view list)
{
    unsigned count = 0;
    list = text::trim(list.substr(0, list.find('\n')));
    while (!list.empty()) {
        const size_t comma = list.find(',');
        const std::string_view range = list.substr(0, comma);
        const size_t dash = range.find('-');
        auto first = text::parse_u64(range.substr(0, dash));
        auto last = dash == std::string_view::npos ? first : text::parse_u64(range.substr(dash + 1));
        if (first && last && *last >= *first && *last - *first < 1u << 20) {
            count += unsigned(*last - *first + 1);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        list.remove_prefix(comma + 1);
    }
    return count;
}

std::string cpu_model(const std::filesystem::path& proc)
{
    auto info = text::read_file((proc / "cpuinfo").string(), 64 << 10);
    if (!info) {
        return {};
    }
    // x86 says "model name"; other architectures use other keys.
    for (const std::string_view key : {"model name", "Model", "cpu model", "uarch", "Hardware"}) {
        std::string found;
        text::for_each_line(*info, [&](std::string_view line) {
            const size_t colon = line.find(':');
            if (found.empty() && colon != std::string_view::npos && text::trim(line.substr(0, colon)) == key) {
                found = text::trim(line.substr(colon + 1));
            }
        });
        if (!found.empty()) {
            return found;
        }
    }
    return {};
}

uint64_t memory_total(const std::filesystem::path& proc)
{
    auto info = text::read_file((proc / "meminfo").string(), 16 << 10);
    uint64_t bytes = 0;
    if (info) {
        text::for_each_line(*info, [&](std::string_view line) {
            if (auto v = text::header_value(line, "MemTotal")) {
                std::string_view kib = *v;
                if (text::ends_with(kib, "kB")) {
                    kib.remove_suffix(2);
                }
                if (auto n = text::parse_u64(kib)) {
                    bytes = *n * 1024;
                }
            }
        });
    }
    return bytes;
}

// "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug ..."
// -> "535.104.05": the first word after the key that starts with a digit
// and holds a dot.
std::string nvidia_driver_version(std::string_view version_file)
{
    auto rest = text::header_value(version_file.substr(0, version_file.find('\n')), "NVRM version");
    if (!rest) {
        return {};
    }
    std::string_view s = *rest;
    while (!s.empty()) {
        const size_t space = s.find_first_of(" \t");
        const std::string_view word = s.substr(0, space);
        if (!word.empty() && word[0] >= '0' && word[0] <= '9' && word.find('.') != std::string_view::npos) {
            return std::string(word);
        }
        if (space == std::string_view::npos) {
            break;
        }
        s.remove_prefix(space + 1);
    }
    return {};
}

// One GPU per directory of /proc/driver/nvidia/gpus, in bus order.
std::vector<GpuFacts> gpus_from_proc(const std::filesystem::path& nvidia, const std::string& driver)
{
    std::vector<GpuFacts> gpus;
    std::error_code ec;
    std::vector<std::filesystem::path> dirs;
    for (const auto& entry : std::filesystem::directory_iterator(nvidia / "gpus", ec)) {
        dirs.push_back(entry.path());
    }
    std::sort(dirs.begin(), dirs.end());
    for (const auto& dir : dirs) {
        auto info = text::read_file((dir / "information").string(), 16 << 10);
        if (!info) {
            continue;
        }
        GpuFacts gpu;
        gpu.driver_version = driver;
        gpu.bus = dir.filename().string();
        text::for_each_line(*info, [&](std::string_view line) {
            if (auto v = text::header_value(line, "Model")) {
                gpu.name = *v;
            } else if (auto u = text::header_value(line, "GPU UUID")) {
                gpu.uuid = *u;
            } else if (auto b = text::header_value(line, "Bus Location")) {
                gpu.bus = *b;
            }
        });
        gpus.push_back(std::move(gpu));
    }
    return gpus;
}

// nvidia-smi on PATH, or "".
std::string find_on_path(const std::string& name)
{
    const char* path = std::getenv("PATH");
    std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    while (!dirs.empty()) {
        const size_t colon = dirs.find(':');
        const std::string_view dir = dirs.substr(0, colon);
        if (!dir.empty()) {
            const std::string candidate = std::string(dir) + "/" + name;
            if (access(candidate.c_str(), X_OK) == 0) {
                return candidate;
            }
        }
        if (colon == std::string_view::npos) {
            break;
        }
        dirs.remove_prefix(colon + 1);
    }
    return {};
}

// Runs `argv` (no shell), returns its standard output if it exits 0 within
// the timeout; the program is killed otherwise.
std::optional<std::string> run_for_output(const std::vector<std::string>& argv)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        return std::nullopt;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        return std::nullopt;
    }
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(k_nvidia_smi_timeout_ms);
    bool timed_out = false;
    char buf[4096];
    while (true) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{pipefd[0], POLLIN, 0};
        const int ready = poll(&p, 1, int(left.count()));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0) {
            timed_out = ready == 0;
            break;
        }
        const ssize_t n = read(pipefd[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0 || out.size() > (1u << 20)) {
            break;
        }
        out.append(buf, size_t(n));
    }
    close(pipefd[0]);
    if (timed_out) {
        kill(pid, SIGKILL);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return std::nullopt;
    }
    return out;
}

std::vector<std::string> split_csv_row(std::string_view line)
{
    std::vector<std::string> out;
    while (true) {
        const size_t comma = line.find(',');
        out.emplace_back(text::trim(line.substr(0, comma)));
        if (comma == std::string_view::npos) {
            break;
        }
        line.remove_prefix(comma + 1);
    }
    return out;
}

// GPUs as nvidia-smi reports them (memory, CUDA version), as JSON for the
// cache; nothing if it fails.
std::optional<nlohmann::json> query_nvidia_smi(const std::string& smi)
{
    auto rows = run_for_output(
        {smi, "--query-gpu=name,uuid,pci.bus_id,memory.total,driver_version", "--format=csv,noheader,nounits"});
    if (!rows) {
        return std::nullopt;
    }
    std::string cuda;
    if (auto banner = run_for_output({smi})) {
        const size_t at = banner->find("CUDA Version:");
        if (at != std::string::npos) {
            std::string_view rest = text::trim(std::string_view(*banner).substr(at + 13));
            cuda = rest.substr(0, rest.find_first_of(" \t|\n"));
        }
    }
    nlohmann::json gpus = nlohmann::json::array();
    text::for_each_line(*rows, [&](std::string_view line) {
        const auto fields = split_csv_row(line);
        if (fields.size() < 5 || fields[0].empty()) {
            return;
        }
        nlohmann::json gpu = {{"name", fields[0]},
                              {"uuid", fields[1]},
                              {"bus", fields[2]},
                              {"driver_version", fields[4]},
                              {"cuda_version", cuda}};
        if (auto mib = text::parse_u64(fields[3])) {
            gpu["memory_bytes"] = *mib << 20;
        }
        gpus.push_back(std::move(gpu));
    });
    return gpus;
}

std::vector<GpuFacts> read_gpus(const MachineSources& sources, FactsCache& cache)
{
    const auto nvidia = sources.proc / "driver" / "nvidia";
    const auto version_file = text::read_file((nvidia / "version").string(), 4096);
    const std::string driver = version_file ? nvidia_driver_version(*version_file) : std::string();
    std::vector<GpuFacts> gpus = gpus_from_proc(nvidia, driver);

    const std::string smi = sources.nvidia_smi.empty() ? find_on_path("nvidia-smi") : sources.nvidia_smi.string();
    auto smi_id = smi.empty() ? Result<FileIdentity>(fail("none")) : identify_file(smi);
    if (!smi_id || (!version_file && gpus.empty())) {
        return gpus; // no nvidia-smi, or no NVIDIA driver loaded
    }
    const std::string key = fmt::format("nvidia-smi {} {} driver {}", smi, identity_key(*smi_id),
                                        version_file ? version_file->substr(0, version_file->find('\n')) : "");
    const nlohmann::json* answer = cache.find(key);
    if (!answer) {
        auto queried = query_nvidia_smi(smi);
        // A failed query is remembered too: it would fail the same way for
        // every job until the driver changes.
        cache.put(key, queried ? *queried : nlohmann::json::array());
        answer = cache.find(key);
    }
    if (!answer || !answer->is_array() || answer->empty()) {
        return gpus;
    }
    std::vector<GpuFacts> merged;
    for (const auto& g : *answer) {
        GpuFacts gpu;
        gpu.name = g.value("name", "");
        gpu.uuid = g.value("uuid", "");
        gpu.bus = g.value("bus", "");
        gpu.driver_version = g.value("driver_version", driver);
        gpu.cuda_version = g.value("cuda_version", "");
        if (g.contains("memory_bytes") && g["memory_bytes"].is_number_unsigned()) {
            gpu.memory_bytes = g["memory_bytes"].get<uint64_t>();
        }
        merged.push_back(std::move(gpu));
    }
    return merged;
}

} // namespace

void parse_os_release(std::string_view content, MachineFacts& facts)
{
    text::for_each_line(content, [&](std::string_view line) {
        const size_t eq = line.find('=');
        if (eq == std::string_view::npos || line.front() == '#') {
            return;
        }
        const std::string_view key = line.substr(0, eq);
        const std::string value = os_release_value(text::trim(line.substr(eq + 1)));
        if (key == "PRETTY_NAME") {
            facts.os = value;
        } else if (key == "ID") {
            facts.os_id = value;
        } else if (key == "VERSION_ID") {
            facts.os_version = value;
        } else if (key == "NAME" && facts.os.empty()) {
            facts.os = value; // PRETTY_NAME, when present, replaces it
        }
    });
}

MachineFacts read_machine_facts(const MachineSources& sources, FactsCache& cache)
{
    MachineFacts facts;
    auto release = text::read_file(sources.os_release.string(), 64 << 10);
    if (!release && sources.os_release == "/etc/os-release") {
        release = text::read_file("/usr/lib/os-release", 64 << 10);
    }
    if (release) {
        parse_os_release(*release, facts);
    }
    struct utsname u;
    if (uname(&u) == 0) {
        facts.kernel = fmt::format("{} {}", u.sysname, u.release);
        facts.arch = u.machine;
    }
    facts.cpu = cpu_model(sources.proc);
    if (auto online = text::read_file((sources.sys / "devices/system/cpu/online").string(), 4096)) {
        facts.cpu_count = count_cpu_list(*online);
    }
    if (facts.cpu_count == 0) {
        const long n = sysconf(_SC_NPROCESSORS_ONLN);
        facts.cpu_count = n > 0 ? unsigned(n) : 0;
    }
    facts.memory_bytes = memory_total(sources.proc);
    facts.gpus = read_gpus(sources, cache);
    return facts;
}

} // namespace roar::collector
