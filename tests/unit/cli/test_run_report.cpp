// The run report's pieces without running a job: the gaps of a record
// grouped one line per kind, long file lists summarised by directory, and
// commands elided in the middle for the dag's one-line listings.
#include "list_summary.hpp"
#include "run_report.hpp"
#include "text_style.hpp"

#include <catch2/catch.hpp>

using namespace roar::cli;
using roar::collector::ArtifactUse;
using roar::collector::JobRecord;
using roar::collector::ProcessRecord;

namespace {

std::string same(const std::string& path) { return path; }

ProcessRecord unobserved(uint32_t pid, const std::string& program, const std::string& why)
{
    ProcessRecord p;
    p.pid = pid;
    p.argv = {"/usr/bin/" + program};
    p.observed = false;
    p.notes = {why};
    return p;
}

} // namespace

TEST_CASE("a job roar observed completely has nothing to report", "[cli][run_report]")
{
    JobRecord job;
    ProcessRecord root;
    root.pid = 10;
    root.argv = {"python3"};
    job.processes = {root};
    ArtifactUse in{"/p/a.txt", "file", 3, {{"blake3", "ab"}}, {"read partially (bytes 0-2)"}};
    job.inputs = {in};
    CHECK(unobserved_lines(job, same).empty());
}

TEST_CASE("unobserved processes are one line per reason, naming programs and pids", "[cli][run_report]")
{
    JobRecord job;
    const std::string statically = "statically linked: the shim cannot load, its file I/O was not observed";
    const std::string go = "Go executable: it makes system calls itself, bypassing the shim";
    job.processes = {unobserved(12, "busybox", statically), unobserved(11, "busybox", statically),
                     unobserved(13, "hello-go", go), unobserved(14, "static-cat", statically)};
    // The tracker's per-process job notes are said by the grouped lines instead.
    job.notes = {"process 11 (/usr/bin/busybox) was not observed: " + statically,
                 "process 13 (/usr/bin/hello-go) was not observed: " + go};
    const auto lines = unobserved_lines(job, same);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "3 processes not observed, busybox (pids 11, 12), static-cat (pid 14): " + statically);
    CHECK(lines[1] == "1 process not observed, hello-go (pid 13): " + go);
}

TEST_CASE("the job's other notes are reported once each, in order", "[cli][run_report]")
{
    JobRecord job;
    job.notes = {"12 events were dropped because the event ring was full", "S3 calls over TLS are not observed",
                 "12 events were dropped because the event ring was full"};
    const auto lines = unobserved_lines(job, same);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "12 events were dropped because the event ring was full");
    CHECK(lines[1] == "S3 calls over TLS are not observed");
}

TEST_CASE("file notes are grouped by note with the paths, cut after four", "[cli][run_report]")
{
    JobRecord job;
    const std::string changed = "the file changed while it was being hashed";
    for (int i = 1; i <= 6; ++i) {
        job.inputs.push_back({"/p/in" + std::to_string(i), "file", 1, {}, {changed}});
    }
    job.outputs.push_back({"/p/gone", "file", std::nullopt, {}, {"read, then deleted before it could be hashed"}});
    const auto lines = unobserved_lines(job, [](const std::string& p) { return p.substr(3); });
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "6 files, in1, in2, in3, in4 and 2 more: " + changed);
    CHECK(lines[1] == "1 file, gone: read, then deleted before it could be hashed");
}

TEST_CASE("counts are written with thousands separators", "[cli][list_summary]")
{
    CHECK(human_count(0) == "0");
    CHECK(human_count(999) == "999");
    CHECK(human_count(1996) == "1,996");
    CHECK(human_count(1234567) == "1,234,567");
}

TEST_CASE("the rest of a long list is grouped by directory, most files first", "[cli][list_summary]")
{
    std::vector<ListedFile> rest;
    for (int i = 0; i < 1996; ++i) {
        rest.push_back({"data/train/f" + std::to_string(i), 4096});
    }
    rest.push_back({"data/val/v1", 10});
    rest.push_back({"top.txt", std::nullopt});
    const auto lines = directory_groups(rest);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "data/train/  1,996 files, 7.8 MiB");
    CHECK(lines[1] == "./           1 file"); // ties by name; a size unknown: none is claimed
    CHECK(lines[2] == "data/val/    1 file, 10 B");
}

TEST_CASE("directories past the group limit are counted together", "[cli][list_summary]")
{
    std::vector<ListedFile> rest;
    for (int d = 0; d < 7; ++d) {
        for (int i = 0; i <= d; ++i) {
            rest.push_back({"d" + std::to_string(d) + "/f" + std::to_string(i), 1});
        }
    }
    const auto lines = directory_groups(rest, 2);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "d6/  7 files, 7 B");
    CHECK(lines[1] == "d5/  6 files, 6 B");
    CHECK(lines[2] == "15 files, 15 B in 5 other directories");
}

TEST_CASE("a long command keeps its program and its distinguishing tail", "[cli][text_style]")
{
    const std::string base = "python3 train.py --data /very/long/path/to/the/processed/dataset.csv --epochs 100";
    const std::string a = elide_middle(base + " --lr=0.01 model_1.pkl", 60);
    const std::string b = elide_middle(base + " --lr=0.03 model_3.pkl", 60);
    CHECK(a.size() <= 60);
    CHECK(a.rfind("python3 train.py ... ", 0) == 0);
    CHECK(a.find("--lr=0.01 model_1.pkl") != std::string::npos);
    CHECK(a != b);
    CHECK(elide_middle("python3 short.py", 60) == "python3 short.py");
}

TEST_CASE("a command of one long word keeps its start and its end", "[cli][text_style]")
{
    const std::string word(100, 'x');
    const std::string cut = elide_middle("a" + word + "z", 30);
    CHECK(cut.size() == 30);
    CHECK(cut.front() == 'a');
    CHECK(cut.back() == 'z');
    CHECK(cut.find(" ... ") != std::string::npos);
}

TEST_CASE("a pid's exec chain names its programs and counts the middle of a long one", "[cli][run_report]")
{
    CHECK(exec_chain({}).empty());
    CHECK(exec_chain({"sh", "python3"}) == "sh>python3");
    CHECK(exec_chain({"env", "bash", "python3"}) == "env>bash>python3");
    CHECK(exec_chain({"env", "bash", "env", "bash", "env", "bash", "python3"}) == "env>+5>python3");
}

TEST_CASE("a process label names the pid and the programs it ran", "[cli][run_report]")
{
    std::vector<ProcessRecord> procs(3);
    procs[0].pid = 10;
    procs[0].argv = {"/bin/sh", "-c", "x"};
    procs[1].pid = 11;
    procs[1].argv = {"/bin/sh"};
    procs[2].pid = 11;
    procs[2].exe = "/usr/bin/cat";
    CHECK(process_label(procs, 10) == "pid 10 sh");
    CHECK(process_label(procs, 11) == "pid 11 sh>cat");
    CHECK(process_label(procs, 12) == "pid 12");
}
