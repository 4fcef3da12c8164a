// Machine facts from fake /etc/os-release, /proc and /sys trees, and a fake
// nvidia-smi that counts how often it runs.
#include "roar/collector/environment/machine_facts.hpp"

#include "environment_fixtures.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sys/utsname.h>

using namespace roar::collector;
using roar::test::put;
using roar::test::TempDir;

namespace {

MachineSources fake_machine(const TempDir& dir)
{
    put(dir / "os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
                            "NAME=\"Debian GNU/Linux\"\n"
                            "VERSION_ID=\"12\"\n"
                            "# a comment\n"
                            "ID=debian\n");
    put(dir / "proc/cpuinfo", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n\n"
                              "processor\t: 1\nmodel name\t: AMD EPYC 7B13\n");
    put(dir / "proc/meminfo", "MemTotal:       16380092 kB\nMemFree:         1000000 kB\n");
    put(dir / "sys/devices/system/cpu/online", "0-3,6\n");
    MachineSources sources;
    sources.os_release = dir / "os-release";
    sources.proc = dir / "proc";
    sources.sys = dir / "sys";
    sources.nvidia_smi = dir / "no-nvidia-smi";
    return sources;
}

void fake_nvidia_driver(const TempDir& dir)
{
    put(dir / "proc/driver/nvidia/version", "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 "
                                            "01:15:15 UTC 2023\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n");
    put(dir / "proc/driver/nvidia/gpus/0000:3b:00.0/information", "Model: \t\t NVIDIA A100-SXM4-40GB\n"
                                                                  "IRQ:   \t\t 150\n"
                                                                  "GPU UUID: \t GPU-1111\n"
                                                                  "Bus Location: \t 0000:3b:00.0\n");
}

// A nvidia-smi that appends a line to `runs` per run and answers the query
// and the banner the way the real one does.
std::filesystem::path fake_nvidia_smi(const TempDir& dir)
{
    const auto smi = dir / "bin/nvidia-smi";
    put(smi, "#!/bin/sh\n"
             "echo run >> '"
                 + (dir / "runs").string()
                 + "'\n"
                   "case \"$1\" in\n"
                   "--query-gpu=*) echo 'NVIDIA A100-SXM4-40GB, GPU-1111, 00000000:3B:00.0, 40960, 535.104.05' ;;\n"
                   "*) echo '| NVIDIA-SMI 535.104.05   Driver Version: 535.104.05   CUDA Version: 12.2     |' ;;\n"
                   "esac\n");
    std::filesystem::permissions(smi, std::filesystem::perms::owner_all);
    return smi;
}

size_t runs(const TempDir& dir)
{
    std::ifstream in(dir / "runs");
    size_t n = 0;
    std::string line;
    while (std::getline(in, line)) {
        ++n;
    }
    return n;
}

} // namespace

TEST_CASE("OS, kernel, CPU and memory come from os-release, uname, /proc and /sys", "[collector][environment][machine]")
{
    TempDir dir;
    FactsCache cache(dir / "facts.json");
    const MachineFacts m = read_machine_facts(fake_machine(dir), cache);
    CHECK(m.os == "Debian GNU/Linux 12 (bookworm)");
    CHECK(m.os_id == "debian");
    CHECK(m.os_version == "12");
    struct utsname u;
    REQUIRE(uname(&u) == 0);
    CHECK(m.kernel == std::string(u.sysname) + " " + u.release);
    CHECK(m.arch == u.machine);
    CHECK(m.cpu == "AMD EPYC 7B13");
    CHECK(m.cpu_count == 5);
    CHECK(m.memory_bytes == 16380092ull * 1024);
    CHECK(m.gpus.empty());
}

TEST_CASE("os-release: quotes and escapes are removed, NAME stands in for a missing PRETTY_NAME",
          "[collector][environment][machine]")
{
    MachineFacts m;
    parse_os_release("NAME='Fedora Linux'\nID=fedora\nVERSION_ID=40\n", m);
    CHECK(m.os == "Fedora Linux");
    MachineFacts q;
    parse_os_release("PRETTY_NAME=\"A \\\"quoted\\\" OS\"\n", q);
    CHECK(q.os == "A \"quoted\" OS");
}

TEST_CASE("no NVIDIA driver: no GPUs, and nvidia-smi is never run", "[collector][environment][machine]")
{
    TempDir dir;
    MachineSources sources = fake_machine(dir);
    sources.nvidia_smi = fake_nvidia_smi(dir);
    FactsCache cache(dir / "facts.json");
    CHECK(read_machine_facts(sources, cache).gpus.empty());
    CHECK(runs(dir) == 0);
}

TEST_CASE("GPUs from the driver's /proc files when nvidia-smi is not installed", "[collector][environment][machine]")
{
    TempDir dir;
    const MachineSources sources = fake_machine(dir);
    fake_nvidia_driver(dir);
    FactsCache cache(dir / "facts.json");
    const auto gpus = read_machine_facts(sources, cache).gpus;
    REQUIRE(gpus.size() == 1);
    CHECK(gpus[0].name == "NVIDIA A100-SXM4-40GB");
    CHECK(gpus[0].driver_version == "535.104.05");
    CHECK(gpus[0].uuid == "GPU-1111");
    CHECK(gpus[0].bus == "0000:3b:00.0");
    CHECK_FALSE(gpus[0].memory_bytes);
    CHECK(gpus[0].cuda_version.empty());
}

TEST_CASE("nvidia-smi adds memory and CUDA version, and runs once per driver, not per job",
          "[collector][environment][machine]")
{
    TempDir dir;
    MachineSources sources = fake_machine(dir);
    fake_nvidia_driver(dir);
    sources.nvidia_smi = fake_nvidia_smi(dir);
    {
        FactsCache cache(dir / "facts.json");
        const auto gpus = read_machine_facts(sources, cache).gpus;
        REQUIRE(gpus.size() == 1);
        CHECK(gpus[0].name == "NVIDIA A100-SXM4-40GB");
        CHECK(gpus[0].memory_bytes == 40960ull << 20);
        CHECK(gpus[0].cuda_version == "12.2");
        CHECK(gpus[0].driver_version == "535.104.05");
        REQUIRE(cache.save());
    }
    const size_t first = runs(dir);
    CHECK(first == 2); // the query and the banner
    for (int job = 0; job < 3; ++job) {
        FactsCache cache(dir / "facts.json");
        CHECK(read_machine_facts(sources, cache).gpus.at(0).cuda_version == "12.2");
    }
    CHECK(runs(dir) == first);

    // A new driver is a new machine as far as the answer goes.
    put(dir / "proc/driver/nvidia/version", "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  ...\n");
    FactsCache cache(dir / "facts.json");
    read_machine_facts(sources, cache);
    CHECK(runs(dir) == first + 2);
}
