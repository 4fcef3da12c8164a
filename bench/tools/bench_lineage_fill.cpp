// Bench row 7's history, written through the store itself: fills a
// database made by `roar init` with a pipeline-shaped lineage history by
// calling Store::store_job once per job, as `roar run` does (step matching,
// artifacts found or created by digest, multi-row writes). Same shape as
// bench/gen_lineage_db.py: about JOBS/9.5 steps run in ten rounds (the last
// one half-way, so half the steps are stale); step k writes a fixed set of
// outputs (new content every run) and reads outputs of earlier steps plus
// its script. USES counts job_io rows (inputs + outputs).
//   bench_lineage_fill TARGET JOBS USES
//   bench_lineage_fill TARGET --one-job INPUTS
// TARGET is the SQLite file (.roar/roar.db) or, for bench row 9, a shared
// PostgreSQL project: --store URL --project NAME --cache FILE (the project
// made by `roar init --store URL --join NAME`; FILE is a scratch hash
// cache). --one-job stores one job reading INPUTS new files and times that
// store_job alone. Prints {"jobs":..,"uses":..,"seconds":..}. The paths do
// not exist on disk.
#include "roar/collector/database.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
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

bool parse_count(std::string_view text, long& out)
{
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size() && out > 0;
}

int usage()
{
    std::fprintf(stderr, "usage: bench_lineage_fill {DB | --store URL --project NAME --cache FILE} "
                         "{JOBS USES | --one-job INPUTS}\n");
    return 2;
}

// The JobRecord of a one-process job run at unix time `t` in `cwd`.
roar::collector::JobRecord new_job(const std::string& uid, std::vector<std::string> argv, const std::string& cwd,
                                   double t, uint32_t pid)
{
    roar::collector::JobRecord job;
    job.uid = uid;
    job.argv = std::move(argv);
    for (const auto& a : job.argv) {
        job.command += (job.command.empty() ? "" : " ") + a;
    }
    job.cwd = cwd;
    job.started_at = t;
    job.ended_at = t + 30.0;
    job.hostname = "bench-host";
    job.user = "bench";
    roar::collector::ProcessRecord proc;
    proc.pid = pid;
    proc.exe = "/usr/bin/python3";
    proc.argv = job.argv;
    proc.cwd = cwd;
    proc.exit_code = 0;
    job.processes.push_back(proc);
    return job;
}

// Stores one job reading `inputs` new files and prints how long store_job took.
int store_one_job(roar::collector::Store& store, long inputs)
{
    using namespace roar::collector;
    std::mt19937_64 rng(7);
    char buf[128];
    std::snprintf(buf, sizeof buf, "one%09llx", static_cast<unsigned long long>(rng() & 0xfffffffffULL));
    JobRecord job = new_job(buf, {"python3", "src/read_all.py"}, "/data/proj", 1.8e9, 4242);
    for (long i = 0; i < inputs; ++i) {
        std::snprintf(buf, sizeof buf, "/data/proj/inputs/%04ld/file-%07ld.bin", i / 1000, i);
        job.inputs.push_back(ArtifactUse{buf, "file", uint64_t(1000 + i % 4096), {{"blake3", hex_digest(rng)}}, {}});
    }
    job.outputs.push_back(ArtifactUse{"/data/proj/summary.json", "file", 512, {{"blake3", hex_digest(rng)}}, {}});
    const auto t0 = std::chrono::steady_clock::now();
    if (auto stored = store.store_job(job); !stored) {
        std::fprintf(stderr, "bench_lineage_fill: %s\n", stored.error().message.c_str());
        return 1;
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("{\"jobs\":1,\"uses\":%ld,\"seconds\":%.3f}\n", inputs + 1, secs);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    using namespace roar::collector;
    std::vector<std::string_view> args(argv + 1, argv + argc);
    std::unique_ptr<Store> store;
    Database* sqlite = nullptr;
    std::size_t next = 0;
    if (args.size() >= 6 && args[0] == "--store" && args[2] == "--project" && args[4] == "--cache") {
        StoreLocation where{{}, std::string(args[1]), std::string(args[3]), std::string(args[5]), {}};
        auto opened = Store::open(where, Access::write);
        if (!opened) {
            std::fprintf(stderr, "bench_lineage_fill: %s\n", opened.error().message.c_str());
            return 1;
        }
        store = std::make_unique<Store>(std::move(*opened));
        next = 6;
    } else if (!args.empty()) {
        auto db = Database::open(std::string(args[0]));
        if (!db) {
            std::fprintf(stderr, "bench_lineage_fill: %s\n", db.error().message.c_str());
            return 1;
        }
        auto owned = std::make_unique<Database>(std::move(*db));
        sqlite = owned.get();
        store = std::move(owned);
        next = 1;
    } else {
        return usage();
    }
    long jobs = 0;
    long uses = 0;
    if (args.size() == next + 2 && args[next] == "--one-job") {
        long inputs = 0;
        if (!parse_count(args[next + 1], inputs)) {
            return usage();
        }
        return store_one_job(*store, inputs);
    }
    if (args.size() != next + 2 || !parse_count(args[next], jobs) || !parse_count(args[next + 1], uses)) {
        return usage();
    }
    if (sqlite != nullptr) {
        // A fixture, not a record anyone relies on: no fsync per job's commit
        // (--one-job, which is timed, keeps roar's own settings).
        sqlite->exec("PRAGMA synchronous = OFF");
    }
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
            std::snprintf(buf, sizeof buf, "%08lx%04llx", job_no, static_cast<unsigned long long>(rng() & 0xffff));
            const std::string uid = buf;
            std::snprintf(buf, sizeof buf, "src/step%05ld.py", k);
            JobRecord job = new_job(uid, {"python3", buf, "--round", std::to_string(r)}, cwd, t + double(job_no) * 60.0,
                                    uint32_t(1000 + job_no));
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
            if (auto stored = store->store_job(job); !stored) {
                std::fprintf(stderr, "bench_lineage_fill: %s\n", stored.error().message.c_str());
                return 1;
            }
        }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("{\"jobs\":%ld,\"uses\":%ld,\"seconds\":%.2f}\n", job_no, rows, secs);
    return 0;
}
