// Finding a CPython version without running the interpreter (see
// python_version.hpp).
#include "roar/collector/environment/python_version.hpp"

#include "roar/collector/environment/elf_file.hpp"
#include "roar/collector/file_hasher.hpp"
#include "text_files.hpp"

#include <algorithm>
#include <filesystem>

namespace roar::collector {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads digits at `i`; returns how many.
size_t digits_at(std::string_view s, size_t i)
{
    size_t n = 0;
    while (i + n < s.size() && is_digit(s[i + n])) {
        ++n;
    }
    return n;
}

// The one candidate of `found` matching `hint` (or, with no hint, the one
// whose major version is 2 or 3); "" when there is none or several.
std::string pick(const std::vector<std::string>& found, const std::string& hint)
{
    std::string chosen;
    for (const auto& v : found) {
        const bool fits = hint.empty() ? (text::starts_with(v, "3.") || text::starts_with(v, "2."))
                                       : text::starts_with(v, hint + ".");
        if (!fits) {
            continue;
        }
        if (!chosen.empty() && chosen != v) {
            return {};
        }
        chosen = v;
    }
    return chosen;
}

std::string version_in_rodata(const std::string& path, const ElfFacts& facts, const std::string& hint)
{
    if (!facts.has_rodata || facts.rodata_size > (uint64_t(256) << 20)) {
        return {};
    }
    auto bytes = read_file_range(path, facts.rodata_offset, facts.rodata_size);
    return bytes ? pick(version_strings_in(*bytes), hint) : std::string();
}

#if defined(__x86_64__)
constexpr const char* k_multiarch = "x86_64-linux-gnu";
#elif defined(__aarch64__)
constexpr const char* k_multiarch = "aarch64-linux-gnu";
#else
constexpr const char* k_multiarch = "";
#endif

// Where the loader would find `library` for the executable `exe`: its
// run path ($ORIGIN expanded), the installation's lib/, the system's.
std::string find_library(const std::string& exe, const ElfFacts& facts, const std::string& library)
{
    const std::filesystem::path origin = std::filesystem::path(exe).parent_path();
    std::vector<std::string> dirs;
    for (std::string dir : facts.runpath) {
        for (const std::string_view token : {"$ORIGIN", "${ORIGIN}"}) {
            if (const size_t at = dir.find(token); at != std::string::npos) {
                dir.replace(at, token.size(), origin.string());
            }
        }
        dirs.push_back(dir);
    }
    dirs.push_back((origin.parent_path() / "lib").string());
    dirs.push_back("/usr/local/lib");
    dirs.push_back(std::string("/usr/lib/") + k_multiarch);
    dirs.push_back("/usr/lib");
    for (const auto& dir : dirs) {
        const std::string candidate = dir + "/" + library;
        if (access(candidate.c_str(), R_OK) == 0) {
            return candidate;
        }
    }
    return {};
}

std::string version_in_patchlevel(const std::string& exe, const std::string& hint)
{
    if (hint.empty()) {
        return {};
    }
    const auto prefix = std::filesystem::path(exe).parent_path().parent_path();
    auto header = text::read_file((prefix / "include" / ("python" + hint) / "patchlevel.h").string(), 16 << 10);
    if (!header) {
        return {};
    }
    std::string found;
    text::for_each_line(*header, [&](std::string_view line) {
        constexpr std::string_view k_define = "#define PY_VERSION ";
        if (!found.empty() || !text::starts_with(line, k_define)) {
            return;
        }
        std::string_view value = text::trim(line.substr(k_define.size()));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            found = value.substr(1, value.size() - 2);
        }
    });
    return text::starts_with(found, hint + ".") ? found : std::string();
}

// "version = 3.11.7" (Python 3.3-3.10 venvs) or "version_info = 3.12.1.final.0".
std::string version_in_pyvenv_cfg(const std::string& cfg, const std::string& hint)
{
    auto content = cfg.empty() ? std::nullopt : text::read_file(cfg, 64 << 10);
    if (!content) {
        return {};
    }
    std::string found;
    text::for_each_line(*content, [&](std::string_view line) {
        const size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
            return;
        }
        const std::string_view key = text::trim(line.substr(0, eq));
        std::string_view value = text::trim(line.substr(eq + 1));
        if (key == "version_info") {
            // major.minor.micro.releaselevel.serial
            size_t dots = 0, end = 0;
            for (; end < value.size() && dots < 3; ++end) {
                dots += value[end] == '.';
            }
            found = value.substr(0, dots == 3 ? end - 1 : value.size());
        } else if (key == "version" && found.empty()) {
            found = value;
        }
    });
    if (found.empty() || (!hint.empty() && !text::starts_with(found, hint + "."))) {
        return {};
    }
    return found;
}

} // namespace

std::vector<std::string> version_strings_in(std::string_view bytes)
{
    std::vector<std::string> out;
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (!is_digit(bytes[i]) || (i > 0 && (is_digit(bytes[i - 1]) || bytes[i - 1] == '.'))) {
            continue;
        }
        size_t j = i;
        bool ok = true;
        for (int part = 0; part < 3 && ok; ++part) {
            const size_t n = digits_at(bytes, j);
            ok = n > 0 && n <= 3;
            j += n;
            if (ok && part < 2) {
                ok = j < bytes.size() && bytes[j] == '.';
                ++j;
            }
        }
        if (!ok) {
            i = j > i ? j - 1 : i;
            continue;
        }
        for (const std::string_view level : {"a", "b", "rc"}) {
            if (bytes.substr(j, level.size()) == level && digits_at(bytes, j + level.size()) > 0) {
                j += level.size();
                j += digits_at(bytes, j);
                break;
            }
        }
        if (j < bytes.size() && bytes[j] == '+') {
            ++j;
        }
        if (j < bytes.size() && bytes[j] == '\0') {
            std::string v(bytes.substr(i, j - i));
            if (std::find(out.begin(), out.end(), v) == out.end()) {
                out.push_back(std::move(v));
            }
        }
        i = j;
    }
    return out;
}

std::string major_minor_in_name(std::string_view name)
{
    for (size_t at = name.find("python"); at != std::string_view::npos; at = name.find("python", at + 1)) {
        size_t j = at + 6;
        const size_t major = digits_at(name, j);
        if (major == 0 || j + major >= name.size() || name[j + major] != '.') {
            continue;
        }
        const size_t minor = digits_at(name, j + major + 1);
        if (minor == 0) {
            continue;
        }
        return std::string(name.substr(j, major + 1 + minor));
    }
    return {};
}

PythonVersion find_python_version(const std::string& executable, std::string hint, const std::string& pyvenv_cfg,
                                  FactsCache& cache)
{
    auto id = identify_file(executable);
    const std::string key = id ? "python-version " + executable + " " + identity_key(*id) : std::string();
    if (!key.empty()) {
        if (const auto* fact = cache.find(key); fact && fact->is_object()) {
            return {fact->value("version", ""), fact->value("source", "")};
        }
    }
    const std::string named = major_minor_in_name(std::filesystem::path(executable).filename().string());
    if (!named.empty()) {
        hint = named;
    }
    PythonVersion found;
    auto elf = read_elf_facts(executable);
    if (elf) {
        for (const auto& lib : elf->needed) {
            if (text::starts_with(lib, "libpython") && hint.empty()) {
                hint = major_minor_in_name(lib);
            }
        }
        found = {version_in_rodata(executable, *elf, hint), "binary"};
        for (const auto& lib : elf->needed) {
            if (!found.version.empty() || !text::starts_with(lib, "libpython")) {
                continue;
            }
            const std::string path = find_library(executable, *elf, lib);
            auto lib_elf = path.empty() ? Result<ElfFacts>(fail("not found")) : read_elf_facts(path);
            if (lib_elf) {
                found = {version_in_rodata(path, *lib_elf, hint), "libpython"};
            }
        }
    }
    if (found.version.empty()) {
        found = {version_in_patchlevel(executable, hint), "patchlevel.h"};
    }
    if (!found.version.empty()) {
        if (!key.empty()) {
            cache.put(key, {{"version", found.version}, {"source", found.source}});
        }
        return found;
    }
    // Not cached: these depend on the venv, not on the binary.
    if (auto v = version_in_pyvenv_cfg(pyvenv_cfg, hint); !v.empty()) {
        return {v, "pyvenv.cfg"};
    }
    if (!hint.empty()) {
        return {hint, "name"};
    }
    return {};
}

} // namespace roar::collector
