// What environment a job ran in, decided from its JobFootprint: the
// machine, every Python interpreter that ran (version, venv or conda
// prefix, the distributions it imported), and the Debian packages that own
// the system files it used (read, executed or linked). Cheap by design: no
// subprocess per job, no network; the slow sources (dpkg's database, site
// directories' metadata, interpreter binaries) are read once and cached on
// the machine (facts_cache.hpp), so a job pays lookups.
#pragma once

#include "roar/collector/environment/facts_cache.hpp"
#include "roar/collector/environment/job_footprint.hpp"
#include "roar/collector/environment/machine_facts.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace roar::collector {

struct PythonPackage {
    std::string name;      // as its metadata spells it ("PyYAML")
    std::string version;   // "6.0.1"
    std::string installer; // "pip", "conda", … ("" when not recorded)
};

struct PythonEnvironment {
    std::string executable;              // as the job ran it (a venv's bin/python3)
    std::string real_executable;         // the binary behind it
    std::string version;                 // "3.11.7"
    std::string version_source;          // see PythonVersion::source
    std::string kind;                    // "venv", "conda" or "system"
    std::string prefix;                  // sys.prefix: the venv or conda environment, else the installation
    std::string base_prefix;             // the installation the interpreter belongs to
    std::vector<std::string> site_dirs;  // where its imported distributions live
    std::vector<uint32_t> pids;          // the job's processes that ran it
    std::vector<PythonPackage> packages; // distributions it imported, by name
    std::optional<std::vector<PythonPackage>> installed; // every distribution (record_all_packages)
    size_t module_files = 0;                             // modules it read from site directories (not metadata, .pth)
    size_t unattributed_files = 0;                       // ... that no distribution's metadata claims
};

struct SystemPackage {
    std::string name, version, architecture;
    size_t files = 0; // the job's files it owns (read, executed or linked)
};

// What the job's system files (those the path filter kept out of its
// inputs) were, counted once each.
struct SystemFiles {
    size_t total = 0;
    size_t debian_packages = 0;              // owned by an installed Debian package
    size_t python_distributions = 0;         // in a site directory, claimed by a distribution
    size_t python_stdlib = 0;                // an interpreter's standard library
    size_t other = 0;                        // none of these
    std::vector<std::string> other_examples; // the first few of `other`, sorted
};

struct JobEnvironment {
    MachineFacts machine;
    std::vector<PythonEnvironment> python;
    std::vector<SystemPackage> system_packages; // by name
    SystemFiles system_files;
    std::vector<std::string> notes; // what could not be found out, and why
};

struct EnvironmentOptions {
    MachineSources machine;
    std::filesystem::path dpkg_dir = "/var/lib/dpkg";
    std::optional<bool> merged_usr; // see DpkgOwners::Options
    std::filesystem::path ld_so_cache = "/etc/ld.so.cache";
    std::filesystem::path cache_dir = default_environment_cache_dir();
    bool record_all_packages = false; // roar.toml run.record_all_packages
    bool linked_libraries = true;     // follow executables' DT_NEEDED to their packages
};

// Decides the environment `footprint`'s job ran in. Never fails: what
// cannot be found out is left empty and said in `notes`.
JobEnvironment capture_job_environment(const JobFootprint& footprint, const EnvironmentOptions& options);

// The record as JSON: {"machine": {"os", "os_id", "os_version", "kernel",
// "arch", "cpu", "cpu_count", "memory_bytes", "gpus": [...]}, "python":
// [{"executable", "version", "packages": [{"name", "version"}], ...}],
// "system_packages": [{"name", "version", "architecture", "files"}],
// "system_files": {...}, "notes": [...]}.
nlohmann::json to_json(const JobEnvironment& environment);

// Whether a file name is a CPython interpreter's: python, python3,
// python3.11, python3.13t, python3.11d ...
bool is_python_executable_name(std::string_view name);

} // namespace roar::collector
