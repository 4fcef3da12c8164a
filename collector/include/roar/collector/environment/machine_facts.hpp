// The machine a job ran on: OS release, kernel, CPU model and count, memory,
// and NVIDIA GPUs when there are any. Everything comes from small files
// (/etc/os-release, /proc, /sys); nvidia-smi is run only when it is
// installed and only on a machine whose answer is not cached yet (the
// answer is kept per NVIDIA driver version).
#pragma once

#include "roar/collector/environment/facts_cache.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace roar::collector {

struct GpuFacts {
    std::string name;           // "NVIDIA A100-SXM4-40GB"
    std::string driver_version; // "535.104.05"
    std::string cuda_version;   // the newest CUDA the driver supports, "12.2" ("" unless nvidia-smi said)
    std::optional<uint64_t> memory_bytes;
    std::string uuid;
    std::string bus; // PCI bus location
};

struct MachineFacts {
    std::string os;         // PRETTY_NAME: "Debian GNU/Linux 12 (bookworm)"
    std::string os_id;      // ID: "debian"
    std::string os_version; // VERSION_ID: "12"
    std::string kernel;     // "Linux 6.1.0-18-amd64"
    std::string arch;       // "x86_64"
    std::string cpu;        // model name
    unsigned cpu_count = 0; // online logical CPUs
    uint64_t memory_bytes = 0;
    std::vector<GpuFacts> gpus;
};

// Where the facts are read from (every root replaceable by tests).
struct MachineSources {
    std::filesystem::path os_release = "/etc/os-release"; // falls back to /usr/lib/os-release
    std::filesystem::path proc = "/proc";
    std::filesystem::path sys = "/sys";
    // nvidia-smi to run when GPUs are present: empty means look it up on
    // PATH; a path that does not exist means "not installed".
    std::filesystem::path nvidia_smi;
};

// The facts about this machine, GPUs from `cache` when it holds them for
// the current driver (queries nvidia-smi and stores the answer otherwise).
MachineFacts read_machine_facts(const MachineSources& sources, FactsCache& cache);

// Parses one "KEY=value" os-release file (values may be quoted).
void parse_os_release(std::string_view content, MachineFacts& facts);

} // namespace roar::collector
