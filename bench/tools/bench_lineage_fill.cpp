// Bench row 7's history, written through the store itself: fills a
// database made by `roar init` with a pipeline-shaped lineage history by
// calling Store::store_job once per job, as `roar run` does (step matching,
// artifacts found or created by digest, multi-row writes). Same shape as
// bench/gen_lineage_db.py: about JOBS/9.5 steps run in ten rounds (the last
// one half-way, so half the steps are stale); step k writes a fixed set of
// outputs (new content every run) and reads outputs of earlier steps plus
// its script. USES counts job_io rows (inputs + outputs).
//   bench_lineage_fill DB JOBS USES
// Prints {"jobs":..,"uses":..,"seconds":..}. The paths do not exist on disk.
#include "roar/collector/database.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

constexpr int k_rounds = 10;

std::string hex_digest(std::mt19937_64& rng)
{
    std::string out;
    for (int i = 0; i < 4; ++i) {
        char buf[17];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
        out += buf;
    }
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    using namespace roar::collector;
    if (argc != 4) {
        std::fprintf(stderr, "usage: bench_lineage_fill DB JOBS USES\n");
        return 2;
    }
    const long jobs = std::strtol(argv[2], nullptr, 10);
    const long uses = std::strtol(argv[3], nullptr, 10);
    if (jobs <= 0 || uses <= 0) {
        std::fprintf(stderr, "bench_lineage_fill: JOBS and USES must be positive\n");
        return 2;
    }
    auto db = Database::open(argv[1]);
    if (!db) {
        std::fprintf(stderr, "bench_lineage_fill: %s\n", db.error().message.c_str());
        return 1;
    }
    // A fixture, not a record anyone relies on: no fsync per job's commit.
    db->exec("PRAGMA synchronous = OFF");
    std::mt19937_64 rng(1);
    const long steps = std::max(1L, long(double(jobs) / (k_rounds - 0.5)));
    const long per_job = std::max(2L, uses / jobs);
    const long outs = std::max(1L, per_job / 2);
    const long ins = std::max(1L, per_job - outs - 1); // plus the script
    const std::string cwd = "/data/proj";
    char buf[128];
    std::vector<std::vector<std::string>> out_paths(static_cast<size_t>(steps));
    std::vector<std::vector<std::string>> in_paths(static_cast<size_t>(steps));
    for (long k = 0; k < steps; ++k) {
        for (long i = 0; i < outs; ++i) {
            std::snprintf(buf, sizeof buf, "/stage%05ld/part-%03ld.bin", k, i);
            out_paths[size_t(k)].push_back(cwd + buf);
        }
        std::set<std::string> chosen;
        if (k == 0) {
            for (long i = 0; i < ins; ++i) {
                std::snprintf(buf, sizeof buf, "/raw/source-%03ld.csv", i);
                chosen.insert(cwd + buf);
            }
        } else {
            std::vector<std::string> pool = out_paths[size_t(k - 1)];
            for (int j = 0; j < 3; ++j) {
                const auto& older = out_paths[size_t(rng() % uint64_t(k))];
                pool.insert(pool.end(), older.begin(), older.end());
            }
            std::shuffle(pool.begin(), pool.end(), rng);
            for (size_t i = 0; i < pool.size() && long(chosen.size()) < ins; ++i) {
                chosen.insert(pool[i]);
            }
        }
        in_paths[size_t(k)].assign(chosen.begin(), chosen.end());
        std::snprintf(buf, sizeof buf, "/src/step%05ld.py", k);
        in_paths[size_t(k)].push_back(cwd + buf);
    }

    std::map<std::string, std::string> current; // path -> digest of its latest version
    const auto t0 = std::chrono::steady_clock::now();
    const double t = 1.7e9;
    long job_no = 0, rows = 0;
    const long total = std::min(jobs, steps * k_rounds);
    for (int r = 0; r < k_rounds && job_no < total; ++r) {
        for (long k = 0; k < steps && job_no < total; ++k) {
            ++job_no;
            JobRecord job;
            std::snprintf(buf, sizeof buf, "%08lx%04llx", job_no, static_cast<unsigned long long>(rng() & 0xffff));
            job.uid = buf;
            std::snprintf(buf, sizeof buf, "src/step%05ld.py", k);
            job.argv = {"python3", buf, "--round", std::to_string(r)};
            job.command = "python3 " + std::string(buf) + " --round " + std::to_string(r);
            job.cwd = cwd;
            job.started_at = t + double(job_no) * 60.0;
            job.ended_at = job.started_at + 30.0;
            job.hostname = "bench-host";
            job.user = "bench";
            ProcessRecord proc;
            proc.pid = uint32_t(1000 + job_no);
            proc.exe = "/usr/bin/python3";
            proc.argv = job.argv;
            proc.cwd = cwd;
            proc.exit_code = 0;
            job.processes.push_back(proc);
            for (const auto& p : in_paths[size_t(k)]) {
                auto [it, fresh] = current.try_emplace(p);
                if (fresh) {
                    it->second = hex_digest(rng);
                }
                job.inputs.push_back(ArtifactUse{p, "file", 1000 + p.size(), {{"blake3", it->second}}, {}});
            }
            for (const auto& p : out_paths[size_t(k)]) {
                current[p] = hex_digest(rng);
                job.outputs.push_back(
                    ArtifactUse{p, "file", uint64_t(4096 + job_no % 1000), {{"blake3", current[p]}}, {}});
            }
            rows += long(job.inputs.size() + job.outputs.size());
            if (auto stored = db->store_job(job); !stored) {
                std::fprintf(stderr, "bench_lineage_fill: %s\n", stored.error().message.c_str());
                return 1;
            }
        }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("{\"jobs\":%ld,\"uses\":%ld,\"seconds\":%.2f}\n", job_no, rows, secs);
    return 0;
}
