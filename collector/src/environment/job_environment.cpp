// capture_job_environment (see job_environment.hpp), in four steps:
//  1. the machine's facts;
//  2. the job's Python interpreters: its processes grouped by interpreter
//     (real binary and venv/conda prefix), each group's version, and the
//     distributions owning the files it read under site directories;
//  3. the Debian packages owning the files the job read, the executables
//     it ran and the libraries those load;
//  4. a count of the system files by what explains them.
#include "roar/collector/environment/job_environment.hpp"

#include "roar/collector/environment/dpkg_owners.hpp"
#include "roar/collector/environment/linked_libraries.hpp"
#include "roar/collector/environment/python_distributions.hpp"
#include "roar/collector/environment/python_version.hpp"
#include "roar/collector/path_resolver.hpp"
#include "text_files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <unistd.h>

namespace roar::collector {

namespace {

constexpr size_t k_other_examples = 10;

// What explains a system file, in the order the summary tries them.
enum class Explained : uint8_t { none, debian, python_distribution, python_stdlib };

std::string parent_of(std::string_view path)
{
    const size_t slash = path.rfind('/');
    if (slash == std::string_view::npos) {
        return {};
    }
    return slash == 0 ? std::string("/") : std::string(path.substr(0, slash));
}

std::string_view base_name(std::string_view path)
{
    const size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool exists(const std::string& path) { return !path.empty() && access(path.c_str(), F_OK) == 0; }

// One interpreter as the job used it, and everything its processes read.
struct InterpreterUse {
    std::string real_exe, executable, prefix, base_prefix, kind, pyvenv_cfg, hint;
    std::vector<uint32_t> pids;
    std::set<uint32_t> reads;
};

// The pyvenv.cfg that put `process` in a venv: the one it read at start,
// else the one next to the argv[0] it was started as, else the one above a
// site directory it read from.
std::string find_pyvenv_cfg(const FootprintProcess& process, const std::vector<std::string_view>& paths,
                            const std::string& argv0_path)
{
    for (const uint32_t r : process.reads) {
        if (base_name(paths[r]) == "pyvenv.cfg") {
            return std::string(paths[r]);
        }
    }
    if (!argv0_path.empty()) {
        const std::string bin = parent_of(argv0_path);
        for (const std::string& dir : {bin, parent_of(bin)}) {
            if (exists(dir + "/pyvenv.cfg")) {
                return dir + "/pyvenv.cfg";
            }
        }
    }
    for (const uint32_t r : process.reads) {
        const std::string site = site_dir_of(paths[r]);
        if (!site.empty()) {
            // <prefix>/lib/pythonX.Y/site-packages
            const std::string prefix = parent_of(parent_of(parent_of(site)));
            if (exists(prefix + "/pyvenv.cfg")) {
                return prefix + "/pyvenv.cfg";
            }
        }
    }
    return {};
}

// What the job ran the venv's interpreter as: argv[0] when it names a file
// in the venv, else the venv's bin/ entry of the same name.
std::string venv_executable(const std::string& prefix, const std::string& argv0_path, std::string_view argv0,
                            const std::string& real_exe)
{
    if (!argv0_path.empty() && path_is_within(argv0_path, prefix) && exists(argv0_path)) {
        return argv0_path;
    }
    for (const std::string_view name : {base_name(argv0), base_name(real_exe), std::string_view("python3")}) {
        const std::string candidate = prefix + "/bin/" + std::string(name);
        if (is_python_executable_name(name) && exists(candidate)) {
            return candidate;
        }
    }
    return real_exe;
}

// The major.minor of the standard library `process` read ("" if none).
std::string hint_from_reads(const FootprintProcess& process, const std::vector<std::string_view>& paths)
{
    for (const uint32_t r : process.reads) {
        const std::string_view path = paths[r];
        const size_t at = path.find("/lib/python");
        if (at != std::string_view::npos) {
            std::string found = major_minor_in_name(path.substr(at + 5));
            if (!found.empty()) {
                return found;
            }
        }
    }
    return {};
}

// The job's processes that ran a Python interpreter, one entry per
// (binary, prefix), in the order they first ran.
std::vector<InterpreterUse> group_interpreters(const JobFootprint& footprint)
{
    std::vector<InterpreterUse> groups;
    std::map<std::string, size_t> by_key;
    const auto& paths = footprint.paths();
    for (const auto& process : footprint.processes()) {
        if (!is_python_executable_name(base_name(process.exe))) {
            continue;
        }
        const std::string argv0 = process.argv.empty() ? std::string() : process.argv[0];
        std::string argv0_path;
        // By text, not as the kernel applies "..": Python finds its prefix
        // and pyvenv.cfg from argv[0] normalised by text (`lnk/../venv/bin/
        // python` runs with sys.prefix ./venv wherever lnk points).
        if (argv0.find('/') != std::string::npos) {
            argv0_path = resolve_path(process.cwd.empty() ? std::string("/") : process.cwd, argv0);
        }
        InterpreterUse use;
        use.real_exe = process.exe;
        use.base_prefix = parent_of(parent_of(process.exe));
        use.pyvenv_cfg = find_pyvenv_cfg(process, paths, argv0_path);
        if (!use.pyvenv_cfg.empty()) {
            use.kind = "venv";
            use.prefix = parent_of(use.pyvenv_cfg);
            use.executable = venv_executable(use.prefix, argv0_path, argv0, process.exe);
        } else {
            use.kind = exists(use.base_prefix + "/conda-meta") ? "conda" : "system";
            use.prefix = use.base_prefix;
            use.executable = process.exe;
        }
        const std::string key = use.real_exe + "\n" + use.prefix;
        auto [it, added] = by_key.try_emplace(key, groups.size());
        if (added) {
            groups.push_back(std::move(use));
        }
        InterpreterUse& group = groups[it->second];
        group.pids.push_back(process.pid);
        group.reads.insert(process.reads.begin(), process.reads.end());
        if (group.hint.empty()) {
            group.hint = hint_from_reads(process, paths);
        }
    }
    return groups;
}

// Whether the venv's pyvenv.cfg lets it see the base installation's
// distributions.
bool includes_system_site_packages(const std::string& pyvenv_cfg)
{
    auto content = text::read_file(pyvenv_cfg, 64 << 10);
    bool include = false;
    if (content) {
        text::for_each_line(*content, [&](std::string_view line) {
            const size_t eq = line.find('=');
            if (eq != std::string_view::npos && text::trim(line.substr(0, eq)) == "include-system-site-packages") {
                include = text::trim(line.substr(eq + 1)) == "true";
            }
        });
    }
    return include;
}

// The site directories an interpreter searches by default (those that
// exist): its prefix's, the base installation's when a venv includes them,
// and Debian's for /usr.
std::vector<std::string> standard_site_dirs(const InterpreterUse& use, const std::string& major_minor)
{
    std::vector<std::string> dirs;
    const std::string lib = "/lib/python" + major_minor;
    auto add_base = [&] {
        dirs.push_back(use.base_prefix + lib + "/site-packages");
        if (use.base_prefix == "/usr") {
            dirs.push_back("/usr/local" + lib + "/dist-packages");
            dirs.push_back("/usr/lib/python3/dist-packages");
            dirs.push_back("/usr" + lib + "/dist-packages");
        }
    };
    if (use.kind == "venv") {
        dirs.push_back(use.prefix + lib + "/site-packages");
        if (includes_system_site_packages(use.pyvenv_cfg)) {
            add_base();
        }
    } else {
        add_base();
    }
    std::erase_if(dirs, [](const std::string& d) { return !exists(d); });
    return dirs;
}

// Site directories' indexes, opened once per job and shared by interpreters.
class SiteIndexes {
public:
    explicit SiteIndexes(std::filesystem::path cache_dir) : m_cache_dir(std::move(cache_dir)) { }

    SiteDistributions* get(const std::string& site)
    {
        auto it = m_sites.find(site);
        if (it == m_sites.end()) {
            auto opened = SiteDistributions::open(site, m_cache_dir);
            std::unique_ptr<SiteDistributions> index;
            if (opened) {
                index = std::make_unique<SiteDistributions>(std::move(*opened));
            }
            it = m_sites.emplace(site, std::move(index)).first;
        }
        return it->second.get();
    }

private:
    std::filesystem::path m_cache_dir;
    std::map<std::string, std::unique_ptr<SiteDistributions>> m_sites;
};

std::string lowercase(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return out;
}

// Sorts by name (case-insensitively), then version; drops repeats.
void sort_packages(std::vector<PythonPackage>& packages)
{
    std::vector<std::pair<std::string, size_t>> keys;
    keys.reserve(packages.size());
    for (size_t i = 0; i < packages.size(); ++i) {
        keys.emplace_back(lowercase(packages[i].name) + '\0' + packages[i].version, i);
    }
    std::sort(keys.begin(), keys.end());
    std::vector<PythonPackage> sorted;
    sorted.reserve(packages.size());
    for (size_t k = 0; k < keys.size(); ++k) {
        if (k == 0 || keys[k].first != keys[k - 1].first) {
            sorted.push_back(std::move(packages[keys[k].second]));
        }
    }
    packages = std::move(sorted);
}

PythonPackage package_of(const SiteDistributions& site, uint32_t i)
{
    const auto d = site.distribution(i);
    return {std::string(d.name), std::string(d.version), std::string(d.installer)};
}

// Step 2 for one interpreter: its version, and the distributions owning
// the module files it read (marking those files as explained).
PythonEnvironment describe_interpreter(const InterpreterUse& use, const JobFootprint& footprint, SiteIndexes& sites,
                                       FactsCache& facts, bool record_all, std::vector<Explained>& explained)
{
    PythonEnvironment env;
    env.executable = use.executable;
    env.real_executable = use.real_exe;
    env.kind = use.kind;
    env.prefix = use.prefix;
    env.base_prefix = use.base_prefix;
    env.pids = use.pids;
    const PythonVersion version = find_python_version(use.real_exe, use.hint, use.pyvenv_cfg, facts);
    env.version = version.version;
    env.version_source = version.source;
    const std::string major_minor = use.hint.empty() ? major_minor_in_name("python" + version.version) : use.hint;
    const std::string stdlib = use.base_prefix + "/lib/python" + major_minor + "/";

    std::set<std::string> site_dirs;
    std::set<std::pair<const SiteDistributions*, uint32_t>> imported;
    for (const uint32_t r : use.reads) {
        const std::string_view path = footprint.paths()[r];
        const std::string site = site_dir_of(path);
        if (site.empty()) {
            if (!major_minor.empty() && text::starts_with(path, stdlib) && explained[r] == Explained::none) {
                explained[r] = Explained::python_stdlib;
            }
            continue;
        }
        site_dirs.insert(site);
        if (is_site_bookkeeping(path, site)) {
            // Metadata and .pth files: part of the installation, read by
            // importlib.metadata or at start-up, not imported modules.
            if (explained[r] == Explained::none) {
                explained[r] = Explained::python_distribution;
            }
            continue;
        }
        ++env.module_files;
        SiteDistributions* index = sites.get(site);
        auto owner = index ? index->distribution_of(path) : std::nullopt;
        if (!owner) {
            ++env.unattributed_files;
            continue;
        }
        imported.emplace(index, *owner);
        if (explained[r] == Explained::none) {
            explained[r] = Explained::python_distribution;
        }
    }
    for (const auto& [index, owner] : imported) {
        env.packages.push_back(package_of(*index, owner));
    }
    sort_packages(env.packages);
    env.site_dirs.assign(site_dirs.begin(), site_dirs.end());

    if (record_all) {
        std::vector<PythonPackage> installed;
        for (const auto& dir : standard_site_dirs(use, major_minor)) {
            site_dirs.insert(dir);
        }
        for (const auto& dir : site_dirs) {
            if (SiteDistributions* index = sites.get(dir)) {
                for (uint32_t i = 0; i < index->size(); ++i) {
                    installed.push_back(package_of(*index, i));
                }
            }
        }
        sort_packages(installed);
        env.installed = std::move(installed);
    }
    return env;
}

// Step 3: the Debian packages owning the job's files, executables and
// their libraries.
void describe_system_packages(const JobFootprint& footprint, const EnvironmentOptions& options, FactsCache& facts,
                              JobEnvironment& out, std::vector<Explained>& explained)
{
    auto dpkg = DpkgOwners::open({options.dpkg_dir, options.cache_dir, options.merged_usr});
    if (!dpkg) {
        out.notes.push_back(fmt::format("system files are not summarised as packages: {}", dpkg.error().message));
        return;
    }
    std::map<uint32_t, size_t> files_per_package;
    const auto& paths = footprint.paths();
    for (uint32_t i = 0; i < paths.size(); ++i) {
        if (auto owner = dpkg->owner_of(paths[i])) {
            ++files_per_package[*owner];
            explained[i] = Explained::debian;
        }
    }
    // Executables and the libraries the loader maps are not among the
    // files the shim saw opened.
    std::set<std::string> extra;
    LinkedLibraries libraries(options.ld_so_cache, facts);
    for (const auto& process : footprint.processes()) {
        if (process.exe.empty() || process.exe.front() != '/' || !extra.insert(process.exe).second) {
            continue;
        }
        if (options.linked_libraries) {
            for (auto& lib : libraries.of(process.exe)) {
                extra.insert(std::move(lib));
            }
        }
    }
    for (const auto& path : extra) {
        if (footprint.contains(path)) {
            continue;
        }
        if (auto owner = dpkg->owner_of(path)) {
            ++files_per_package[*owner];
        }
    }
    for (const auto& [owner, files] : files_per_package) {
        const auto p = dpkg->package(owner);
        out.system_packages.push_back(
            SystemPackage{std::string(p.name), std::string(p.version), std::string(p.architecture), files});
    }
    std::sort(out.system_packages.begin(), out.system_packages.end(),
              [](const SystemPackage& a, const SystemPackage& b) {
                  return std::tie(a.name, a.architecture) < std::tie(b.name, b.architecture);
              });
}

// Step 4: the filtered files counted by what explains them.
SystemFiles summarise_system_files(const JobFootprint& footprint, const std::vector<Explained>& explained)
{
    SystemFiles s;
    std::vector<std::string_view> others;
    for (uint32_t i = 0; i < footprint.paths().size(); ++i) {
        if (!footprint.filtered(i)) {
            continue;
        }
        ++s.total;
        switch (explained[i]) {
        case Explained::debian: ++s.debian_packages; break;
        case Explained::python_distribution: ++s.python_distributions; break;
        case Explained::python_stdlib: ++s.python_stdlib; break;
        case Explained::none:
            ++s.other;
            others.push_back(footprint.paths()[i]);
            break;
        }
    }
    std::sort(others.begin(), others.end());
    for (size_t i = 0; i < others.size() && i < k_other_examples; ++i) {
        s.other_examples.emplace_back(others[i]);
    }
    return s;
}

nlohmann::json packages_json(const std::vector<PythonPackage>& packages)
{
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : packages) {
        nlohmann::json j = {{"name", p.name}, {"version", p.version}};
        if (!p.installer.empty()) {
            j["installer"] = p.installer;
        }
        out.push_back(std::move(j));
    }
    return out;
}

} // namespace

bool is_python_executable_name(std::string_view name)
{
    if (!text::starts_with(name, "python")) {
        return false;
    }
    name.remove_prefix(6);
    size_t i = 0;
    while (i < name.size() && ((name[i] >= '0' && name[i] <= '9') || name[i] == '.')) {
        ++i;
    }
    // ABI flags: d (debug), t (free-threaded), m and u (older builds).
    for (; i < name.size(); ++i) {
        if (name[i] != 'd' && name[i] != 't' && name[i] != 'm' && name[i] != 'u') {
            return false;
        }
    }
    return true;
}

JobEnvironment capture_job_environment(const JobFootprint& footprint, const EnvironmentOptions& options)
{
    JobEnvironment out;
    FactsCache facts(options.cache_dir / "facts.json");
    out.machine = read_machine_facts(options.machine, facts);

    std::vector<Explained> explained(footprint.paths().size(), Explained::none);
    describe_system_packages(footprint, options, facts, out, explained);

    SiteIndexes sites(options.cache_dir);
    for (const auto& use : group_interpreters(footprint)) {
        out.python.push_back(
            describe_interpreter(use, footprint, sites, facts, options.record_all_packages, explained));
        if (out.python.back().version.empty()) {
            out.notes.push_back(fmt::format("the version of {} could not be told without running it", use.real_exe));
        }
    }
    out.system_files = summarise_system_files(footprint, explained);
    if (auto saved = facts.save(); !saved) {
        out.notes.push_back(saved.error().message);
    }
    return out;
}

nlohmann::json to_json(const JobEnvironment& e)
{
    nlohmann::json gpus = nlohmann::json::array();
    for (const auto& g : e.machine.gpus) {
        nlohmann::json j = {{"name", g.name}, {"driver_version", g.driver_version}, {"uuid", g.uuid}, {"bus", g.bus}};
        if (!g.cuda_version.empty()) {
            j["cuda_version"] = g.cuda_version;
        }
        if (g.memory_bytes) {
            j["memory_bytes"] = *g.memory_bytes;
        }
        gpus.push_back(std::move(j));
    }
    nlohmann::json machine = {
        {"os", e.machine.os},
        {"os_id", e.machine.os_id},
        {"os_version", e.machine.os_version},
        {"kernel", e.machine.kernel},
        {"arch", e.machine.arch},
        {"cpu", e.machine.cpu},
        {"cpu_count", e.machine.cpu_count},
        {"memory_bytes", e.machine.memory_bytes},
        {"gpus", std::move(gpus)},
    };
    nlohmann::json python = nlohmann::json::array();
    for (const auto& p : e.python) {
        nlohmann::json j = {
            {"executable", p.executable},
            {"real_executable", p.real_executable},
            {"version", p.version},
            {"version_source", p.version_source},
            {"kind", p.kind},
            {"prefix", p.prefix},
            {"base_prefix", p.base_prefix},
            {"site_dirs", p.site_dirs},
            {"pids", p.pids},
            {"packages", packages_json(p.packages)},
            {"module_files", p.module_files},
            {"unattributed_files", p.unattributed_files},
        };
        if (p.installed) {
            j["installed_packages"] = packages_json(*p.installed);
        }
        python.push_back(std::move(j));
    }
    nlohmann::json system = nlohmann::json::array();
    for (const auto& s : e.system_packages) {
        system.push_back(
            {{"name", s.name}, {"version", s.version}, {"architecture", s.architecture}, {"files", s.files}});
    }
    const auto& f = e.system_files;
    return {
        {"machine", std::move(machine)},
        {"python", std::move(python)},
        {"system_packages", std::move(system)},
        {"system_files",
         {{"total", f.total},
          {"debian_packages", f.debian_packages},
          {"python_distributions", f.python_distributions},
          {"python_stdlib", f.python_stdlib},
          {"other", f.other},
          {"other_examples", f.other_examples}}},
        {"notes", e.notes},
    };
}

} // namespace roar::collector
