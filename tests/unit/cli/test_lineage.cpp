// Steps, sessions and staleness over databases filled directly with
// store_job (no shim needed): which jobs are one step, what is stale and
// why, the dag document, and `roar run @N` overrides.
#include "dag_render.hpp"
#include "lineage.hpp"
#include "rerun.hpp"

#include "roar/collector/database.hpp"

#include "../collector/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <sstream>

using namespace roar;
using namespace roar::cli;
using roar::collector::ArtifactUse;
using roar::collector::Database;
using roar::collector::JobRecord;

namespace {

// A fresh project directory with .roar/roar.db.
struct Fixture {
    test::TempDir dir;
    std::optional<Database> db;
    int counter = 0;
    double clock = 1000;
    std::string host; // the machine the next jobs record
    Fixture()
    {
        std::filesystem::create_directories(dir / ".roar");
        test::write_file(dir / "roar.toml", default_config_text());
        auto created = Database::create(dir / ".roar" / "roar.db");
        REQUIRE(created);
        db.emplace(std::move(*created));
    }
    Project project() const { return Project::find(dir.path()); }
    std::string path(const std::string& name) const { return (dir / name).string(); }

    // Stores a job running `argv` that read `inputs` and wrote `outputs`
    // ({name, content}); returns its row id.
    int64_t run(std::vector<std::string> argv, std::vector<std::pair<std::string, std::string>> inputs,
                std::vector<std::pair<std::string, std::string>> outputs, int exit_code = 0,
                std::optional<int64_t> step = std::nullopt)
    {
        JobRecord job;
        job.uid = fmt::format("{:012x}", ++counter);
        job.argv = argv;
        job.command = collector::join_command(argv);
        job.cwd = dir.path().string();
        job.hostname = host;
        job.started_at = clock;
        job.ended_at = clock + 1;
        clock += 10;
        job.exit_code = exit_code;
        auto use = [&](const std::pair<std::string, std::string>& io) {
            return ArtifactUse{
                path(io.first), "file", io.second.size(), {{"blake3", collector::blake3_hex(io.second)}}, {}};
        };
        for (const auto& i : inputs) {
            job.inputs.push_back(use(i));
        }
        for (const auto& o : outputs) {
            job.outputs.push_back(use(o));
        }
        auto stored = db->store_job(job, step);
        REQUIRE(stored);
        return *stored;
    }
};

std::vector<int64_t> numbers(const Lineage& g, const std::vector<int>& steps)
{
    std::vector<int64_t> out;
    for (int s : steps) {
        out.push_back(g.steps[size_t(s)].number);
    }
    return out;
}

} // namespace

TEST_CASE("a failed run and its retry are one step; variants writing other outputs are not", "[cli][lineage][steps]")
{
    Fixture f;
    f.run({"python3", "prep.py"}, {{"data.csv", "d"}}, {{"features.csv", "f"}});
    // Fails after reading, before writing; then the retry.
    f.run({"python3", "train.py", "--seed", "1"}, {{"features.csv", "f"}}, {}, 1);
    f.run({"python3", "train.py", "--seed", "2"}, {{"features.csv", "f"}}, {{"model.bin", "m"}});
    // Hyperparameter variants: same program, different output files.
    f.run({"python3", "train.py", "--out", "model_fast.pkl"}, {{"features.csv", "f"}}, {{"model_fast.pkl", "1"}});
    f.run({"python3", "train.py", "--out", "model_slow.pkl"}, {{"features.csv", "f"}}, {{"model_slow.pkl", "2"}});
    // Different outputs are different steps, run numbers or not.
    f.run({"python3", "eval.py", "run_7"}, {{"model.bin", "m"}}, {{"run_7/metrics.json", "a"}});
    f.run({"python3", "eval.py", "run_8"}, {{"model.bin", "m"}}, {{"run_8/metrics.json", "b"}});
    // The same outputs with other option values: one step.
    f.run({"python3", "eval.py", "run_8", "--opt", "sgd"}, {{"model.bin", "m"}}, {{"run_8/metrics.json", "c"}});

    // A chain of numbered scripts: different programs, so different steps.
    f.run({"python3", "step_1.py"}, {{"input.csv", "i"}, {"step_1.py", "s1"}}, {{"output_1.txt", "o1"}});
    f.run({"python3", "step_2.py"}, {{"output_1.txt", "o1"}, {"step_2.py", "s2"}}, {{"output_2.txt", "o2"}});
    f.run({"python3", "step_3.py"}, {{"output_2.txt", "o2"}, {"step_3.py", "s3"}}, {{"output_3.txt", "o3"}});

    const Lineage g = Lineage::load(*f.db);
    REQUIRE(g.steps.size() == 9);
    CHECK(g.steps[8].dependencies == std::vector<int>{7});
    CHECK(g.steps[1].executions.size() == 2);
    CHECK(g.executions[size_t(g.steps[1].current())].exit_code == 0);
    CHECK(g.steps[2].command == "python3 train.py --out model_fast.pkl");
    CHECK(g.steps[3].command == "python3 train.py --out model_slow.pkl");
    CHECK(g.steps[4].executions.size() == 1);
    CHECK(g.steps[5].executions.size() == 2);
}

TEST_CASE("the program of a step: the script it read or the -c text, not options or data", "[cli][lineage][steps]")
{
    using collector::ArtifactUse;
    const std::vector<ArtifactUse> read{{"/p/train.py", "file", 1, {}, {}}, {"/p/data.csv", "file", 1, {}, {}}};
    const auto program = [&](std::vector<std::string> argv) { return collector::step_program(argv, "/p", read); };
    CHECK(program({"python3", "train.py", "data.csv", "--lr", "0.1"})
          == program({"python3", "train.py", "data.csv", "--lr", "0.5"}));
    CHECK(program({"python3", "-u", "train.py", "--opt", "adam"}) == program({"python3", "train.py", "data.csv"}));
    CHECK(program({"python3", "train.py"}) != program({"python3", "other.py"}));
    CHECK(program({"./fit", "0.1", "out.txt"})
          == program({"./fit", "0.5", "out.txt"}));                                // not read: digits do not count
    CHECK(program({"python3", "step_1.py"}) == program({"python3", "step_2.py"})); // neither read
    const std::vector<ArtifactUse> scripts{{"/p/step_1.py", "file", 1, {}, {}}, {"/p/step_2.py", "file", 1, {}, {}}};
    CHECK(collector::step_program({"python3", "step_1.py"}, "/p", scripts)
          != collector::step_program({"python3", "step_2.py"}, "/p", scripts)); // read: as named
    CHECK(program({"sh", "-c", "sort a > b"}) != program({"sh", "-c", "cat a > b"}));
    CHECK(program({"sh", "-c", "sleep 1"}) == program({"sh", "-c", "sleep 2"}));
}

TEST_CASE("staleness is per job: a step with several current jobs, and a plan in dependency order",
          "[cli][lineage][stale]")
{
    Fixture f;
    f.run({"python3", "prep.py"}, {{"input.csv", "i1"}}, {{"processed.csv", "p1"}});
    for (int i = 1; i <= 3; ++i) {
        const std::string model = fmt::format("model_{}.pkl", i);
        f.run({"python3", "train.py", model}, {{"processed.csv", "p1"}}, {{model, "m1"}}, 0,
              i == 1 ? std::nullopt : std::optional<int64_t>(2));
    }
    f.run({"python3", "combine.py"}, {{"model_1.pkl", "m1"}, {"model_2.pkl", "m1"}, {"model_3.pkl", "m1"}},
          {{"best.json", "b1"}});
    {
        const Lineage g = Lineage::load(*f.db);
        REQUIRE(g.steps.size() == 3);
        CHECK(g.steps[1].current_jobs.size() == 3);
        CHECK(g.stale_count() == 0);
        CHECK(g.plan().empty());
    }
    // prep re-run with new content: every train job is stale, not only the last.
    f.run({"python3", "prep.py"}, {{"input.csv", "i2"}}, {{"processed.csv", "p2"}});
    {
        const Lineage g = Lineage::load(*f.db);
        CHECK(g.stale_job_count() == 4);
        CHECK(numbers(g, g.plan()) == std::vector<int64_t>{2, 3});
    }
    // Only the last train job re-run: model_1 and model_2 (and so best.json) stay stale.
    f.run({"python3", "train.py", "model_3.pkl"}, {{"processed.csv", "p2"}}, {{"model_3.pkl", "m2"}}, 0, 2);
    {
        const Lineage g = Lineage::load(*f.db);
        CHECK(g.stale_job_count() == 3);
        CHECK(g.steps[1].stale);
        CHECK(numbers(g, g.plan()) == std::vector<int64_t>{2, 3});
        size_t stale_paths = 0;
        for (const auto& p : g.paths) {
            stale_paths += p.stale ? 1 : 0;
        }
        CHECK(stale_paths == 3); // model_1, model_2, best.json
    }
}

TEST_CASE("step paths: subsets match, disjoint outputs do not", "[cli][lineage][steps]")
{
    using collector::StepPaths;
    const StepPaths full{{"/p/a", "/p/b"}, {"/p/out"}};
    CHECK(collector::step_io_compatible(StepPaths{{"/p/a"}, {}}, full));
    CHECK(collector::step_io_compatible(StepPaths{{"/p/a", "/p/b", "/p/__pycache__/m.pyc"}, {"/p/out"}}, full));
    CHECK_FALSE(collector::step_io_compatible(StepPaths{{"/p/a", "/p/b"}, {"/p/other"}}, full));
    CHECK(collector::normalise_digits("run_0042/x9.csv") == "run_#/x#.csv");
}

TEST_CASE("re-producing an input with new content makes consumers stale, downstream too", "[cli][lineage][stale]")
{
    Fixture f;
    f.run({"python3", "prep.py"}, {{"data.csv", "d1"}}, {{"features.csv", "f1"}});
    f.run({"python3", "train.py"}, {{"features.csv", "f1"}}, {{"model.bin", "m1"}});
    f.run({"python3", "eval.py"}, {{"model.bin", "m1"}}, {{"metrics.json", "e1"}});
    {
        const Lineage g = Lineage::load(*f.db);
        CHECK(g.stale_count() == 0);
        CHECK(g.steps[1].dependencies == std::vector<int>{0});
        CHECK(g.steps[2].consumed == 1);
    }
    // Same content again: nothing is stale.
    f.run({"python3", "prep.py"}, {{"data.csv", "d1"}}, {{"features.csv", "f1"}});
    CHECK(Lineage::load(*f.db).stale_count() == 0);

    f.run({"python3", "prep.py"}, {{"data.csv", "d2"}}, {{"features.csv", "f2"}});
    const Lineage g = Lineage::load(*f.db);
    CHECK_FALSE(g.steps[0].stale);
    REQUIRE(g.steps[1].stale);
    REQUIRE(g.steps[2].stale);
    CHECK(g.steps[1].stale_reasons.front().kind == StaleReason::Kind::reproduced);
    CHECK(g.steps[1].stale_reasons.front().step == 1);
    CHECK(g.steps[2].stale_reasons.front().kind == StaleReason::Kind::upstream);
    CHECK(numbers(g, g.stale_downstream(0)) == std::vector<int64_t>{2, 3});
    CHECK(numbers(g, g.stale_upstream(2)) == std::vector<int64_t>{2});
    CHECK(describe_reason(g, g.steps[1].stale_reasons.front(), f.project())
          == "features.csv was re-produced by @1 with different content");

    // Re-running @2 and @3 brings everything up to date.
    f.run({"python3", "train.py"}, {{"features.csv", "f2"}}, {{"model.bin", "m2"}});
    f.run({"python3", "eval.py"}, {{"model.bin", "m2"}}, {{"metrics.json", "e2"}});
    CHECK(Lineage::load(*f.db).stale_count() == 0);
}

TEST_CASE("a file changed on disk makes its consumers stale", "[cli][lineage][stale]")
{
    Fixture f;
    test::write_file(f.dir / "data.csv", "d1");
    f.run({"python3", "prep.py"}, {{"data.csv", "d1"}}, {{"features.csv", "f1"}});
    f.run({"python3", "train.py"}, {{"features.csv", "f1"}}, {{"model.bin", "m1"}});
    CHECK(Lineage::load(*f.db).stale_count() == 0);
    test::write_file(f.dir / "data.csv", "d2 edited");
    const Lineage g = Lineage::load(*f.db);
    CHECK(g.stale_count() == 2);
    CHECK(g.steps[0].stale_reasons.front().kind == StaleReason::Kind::modified);
    // A deleted output is missing, not a change: its consumer stays current.
    test::write_file(f.dir / "data.csv", "d1");
    CHECK(Lineage::load(*f.db).stale_count() == 0);
}

TEST_CASE("a job that reads and rewrites a file is not stale because of itself", "[cli][lineage][stale]")
{
    Fixture f;
    f.run({"python3", "append.py"}, {{"log.txt", "a"}}, {{"log.txt", "ab"}});
    CHECK(Lineage::load(*f.db).stale_count() == 0);
}

namespace {

// The `roar dag --json` document for `options`, parsed back.
nlohmann::json dag_json(const Lineage& g, ArtifactDigests& digests, const Project& project, const DagOptions& options)
{
    std::ostringstream out;
    write_dag_json(out, build_dag(g, options), g, digests, project);
    return nlohmann::json::parse(out.str());
}

} // namespace

TEST_CASE("the dag document: diamond dependencies, terminal artifacts, expanded executions", "[cli][lineage][dag]")
{
    Fixture f;
    f.run({"python3", "a.py"}, {{"input.csv", "i"}}, {{"features_a.csv", "a"}});
    f.run({"python3", "b.py"}, {{"input.csv", "i"}}, {{"features_b.csv", "b"}});
    f.run({"python3", "combine.py"}, {{"features_a.csv", "a"}, {"features_b.csv", "b"}}, {{"combined.json", "c"}});
    f.run({"python3", "a.py"}, {{"input.csv", "i"}}, {{"features_a.csv", "a2"}});
    const Project project = f.project();
    const Lineage g = Lineage::load(*f.db);
    ArtifactDigests digests(*f.db);

    auto dag = dag_json(g, digests, project, {});
    REQUIRE(dag["nodes"].size() == 3);
    CHECK(dag["total_steps"] == 3);
    CHECK(dag["stale_count"] == 1);
    const auto& combine = dag["nodes"][2];
    CHECK(combine["state"] == "stale");
    CHECK(combine["dependencies"] == nlohmann::json::array({1, 2}));
    CHECK(combine["metrics"]["consumed"] == 2);
    CHECK(dag["nodes"][0]["executions"] == 2);
    // Default: terminal outputs only: combined.json, and the new features_a.csv nothing read yet.
    REQUIRE(dag["artifacts"].size() == 2);
    CHECK(dag["artifacts"][0]["display_path"] == "features_a.csv");
    CHECK(dag["artifacts"][0]["state"] == "active");
    CHECK(dag["artifacts"][1]["display_path"] == "combined.json");
    CHECK(dag["artifacts"][1]["state"] == "stale");

    auto all = dag_json(g, digests, project, {false, false, true});
    bool found_old_a = false;
    for (const auto& a : all["artifacts"]) {
        if (a["display_path"] == "features_a.csv" && a["digest"] == collector::blake3_hex("a")) {
            found_old_a = true;
            CHECK(a["state"] == "superseded");
            CHECK(a["superseded_by"] == collector::blake3_hex("a2"));
            CHECK(a["consumer_steps"] == nlohmann::json::array({3}));
        }
    }
    CHECK(found_old_a);

    auto expanded = dag_json(g, digests, project, {true, false, false});
    CHECK(expanded["nodes"].size() == 4);
    CHECK(expanded["nodes"][0]["state"] == "superseded");
    CHECK(expanded["is_expanded"] == true);

    auto stale_only = dag_json(g, digests, project, {false, true, false});
    REQUIRE(stale_only["nodes"].size() == 1);
    CHECK(stale_only["nodes"][0]["step"] == 3);

    const Dag view = build_dag(g, {});
    const std::string text = render_dag_text(view, g, digests, project, 1);
    CHECK(text.find("Pipeline: 3 steps (1 stale)") != std::string::npos);
    CHECK(text.find("└──>@3 python3 combine.py") != std::string::npos);
    CHECK(text.find("(also needs @1)") != std::string::npos);
    const std::string dot = render_dag_dot(view, g, project);
    CHECK(dot.find("n__1 -> n__3") != std::string::npos);
    const std::string mermaid = render_dag_mermaid(view, g, project);
    CHECK(mermaid.find(":::stale") != std::string::npos);
    std::ostringstream page;
    write_dag_html(page, build_dag(g, {false, false, true}), g, digests, project);
    const std::string html = page.str();
    CHECK(html.find("<script id=\"dag-data\"") != std::string::npos);
    CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg")); // no other URL
}

TEST_CASE("a long chain is drawn in pieces no deeper than the depth limit", "[cli][lineage][dag]")
{
    Fixture f;
    const int n = 40;
    for (int i = 1; i <= n; ++i) {
        const std::string script = fmt::format("step_{}.py", i);
        f.run({"python3", script}, {{fmt::format("out_{}.txt", i - 1), fmt::format("o{}", i - 1)}},
              {{fmt::format("out_{}.txt", i), fmt::format("o{}", i)}});
    }
    const Project project = f.project();
    const Lineage g = Lineage::load(*f.db);
    ArtifactDigests digests(*f.db);
    const std::string text = render_dag_text(build_dag(g, {}), g, digests, project, 1);
    size_t deepest = 0, steps = 0, lines_at_margin = 0;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.find(".py") == std::string::npos) {
            continue;
        }
        ++steps;
        const size_t at = line.find('@');
        // Columns, not bytes: the box-drawing characters take three bytes each.
        const size_t column =
            size_t(std::count_if(line.begin(), line.begin() + long(at), [](char c) { return (c & 0xC0) != 0x80; }));
        deepest = std::max(deepest, column);
        lines_at_margin += at == 0;
    }
    CHECK(steps == size_t(n));    // every step once
    CHECK(lines_at_margin == 3);  // @1, and the two continuations of a 40-deep chain
    CHECK(deepest <= 16 * 4 + 4); // "│   " or "    " per level, then the connector
    CHECK(text.find("@18 python3 step_18.py") != std::string::npos);
    CHECK(text.find("(under @17)") != std::string::npos);
    CHECK(text.find("(under @34)") != std::string::npos);
}

TEST_CASE("roar run @N keeps the step; reset starts an empty session", "[cli][lineage][session]")
{
    Fixture f;
    f.run({"python3", "train.py", "--model=resnet"}, {{"features.csv", "f"}}, {{"model.bin", "m"}});
    f.run({"python3", "train.py", "--model=vgg"}, {{"features.csv", "f"}}, {{"model.bin", "v"}}, 0, 1);
    {
        const Lineage g = Lineage::load(*f.db);
        REQUIRE(g.steps.size() == 1);
        CHECK(g.steps[0].executions.size() == 2);
    }
    const int64_t first = Lineage::load(*f.db).session_id;
    const int64_t second = f.db->start_new_session();
    CHECK(second != first);
    const Lineage empty = Lineage::load(*f.db);
    CHECK(empty.session_id == second);
    CHECK(empty.steps.empty());
    f.run({"python3", "train.py", "--model=resnet"}, {{"features.csv", "f"}}, {{"model.bin", "m"}});
    const Lineage fresh = Lineage::load(*f.db);
    REQUIRE(fresh.steps.size() == 1);
    CHECK(fresh.steps[0].number == 1);
    CHECK(fresh.steps[0].executions.size() == 1);
}

TEST_CASE("overrides replace --name=x and --name x, append what is not there, and refuse non-options", "[cli][rerun]")
{
    const std::vector<std::string> argv{"python3", "train.py", "--epochs=10", "--lr", "0.1", "data.csv"};
    CHECK(apply_overrides(argv, {"--epochs=20"}, "@2")
          == std::vector<std::string>{"python3", "train.py", "--epochs=20", "--lr", "0.1", "data.csv"});
    CHECK(apply_overrides(argv, {"--lr=0.5", "--epochs=3"}, "@2")
          == std::vector<std::string>{"python3", "train.py", "--epochs=3", "--lr", "0.5", "data.csv"});
    // `--name value` is understood like `--name=value`; the recorded form is kept.
    CHECK(apply_overrides(argv, {"--lr", "0.5", "--epochs", "3"}, "@2")
          == std::vector<std::string>{"python3", "train.py", "--epochs=3", "--lr", "0.5", "data.csv"});
    // Absent: appended in the form given.
    CHECK(apply_overrides(argv, {"--batch=4"}, "@2")
          == std::vector<std::string>{"python3", "train.py", "--epochs=10", "--lr", "0.1", "data.csv", "--batch=4"});
    CHECK(apply_overrides(argv, {"--opt", "sgd"}, "@2")
          == std::vector<std::string>{"python3", "train.py", "--epochs=10", "--lr", "0.1", "data.csv", "--opt", "sgd"});
    // A lone flag is appended once.
    CHECK(apply_overrides(argv, {"--verbose"}, "@2").back() == "--verbose");
    CHECK(apply_overrides(argv, {"--epochs"}, "@2") == argv);
    CHECK_THROWS_WITH(apply_overrides(argv, {"epochs=4"}, "@2"), Catch::Contains("not an override"));
    CHECK_THROWS_WITH(apply_overrides(argv, {"--=4"}, "@2"), Catch::Contains("not an override"));
}

TEST_CASE("a job's uses are read in byte order of their paths, whenever each path was first recorded", "[cli][lineage]")
{
    // Path ids follow first recording: z.csv, recorded in an earlier
    // session, has a lower id than a.csv, new in the job that reads both.
    Fixture f;
    f.run({"python3", "old.py"}, {{"z.csv", "z"}}, {});
    f.db->start_new_session();
    f.run({"python3", "new.py"}, {{"z.csv", "z"}, {"a.csv", "a"}}, {{"m.bin", "m"}});
    const Lineage g = Lineage::load(*f.db);
    REQUIRE(g.executions.size() == 1);
    std::vector<std::string> read;
    for (uint32_t u : g.executions[0].inputs) {
        read.push_back(g.paths[g.uses[u].path].path);
    }
    CHECK(read == std::vector<std::string>{f.path("a.csv"), f.path("z.csv")});
    // Paths are numbered by first use: the output, then the inputs in byte order.
    REQUIRE(g.paths.size() == 3);
    CHECK(g.paths[0].path == f.path("m.bin"));
    CHECK(g.paths[1].path == f.path("a.csv"));
    CHECK(g.paths[2].path == f.path("z.csv"));
    CHECK(g.paths[2].uses.size() == 1);
}

TEST_CASE("a session's uses come job by job, outputs first, each job's by path id", "[cli][lineage]")
{
    // The whole project in one session, then a session of one job of four.
    // Rows go in with path ids out of byte order (z.csv is recorded first).
    Fixture f;
    f.run({"python3", "old.py"}, {{"z.csv", "z"}}, {{"y.bin", "y"}});
    auto order_of = [&f] {
        auto& store = static_cast<collector::Store&>(*f.db);
        const int64_t session = *store.active_session();
        const auto jobs = store.session_jobs(session);
        std::vector<std::tuple<int64_t, bool, int64_t>> rows; // (job row, output, path id)
        std::map<std::pair<int64_t, bool>, int> calls;        // each job's rows of a direction come in one call
        auto take = [&rows, &calls](bool output) {
            return [&rows, &calls, output](int64_t job, std::span<const collector::ScannedUse> uses) {
                ++calls[{job, output}];
                CHECK_FALSE(uses.empty());
                for (const auto& use : uses) {
                    rows.emplace_back(job, output, use.path_id);
                }
            };
        };
        store.scan_session_uses(session, jobs, take(true), take(false));
        for (const auto& [job_direction, n] : calls) {
            CHECK(n == 1);
        }
        std::vector<std::tuple<int64_t, bool, int64_t>> expected;
        for (const bool output : {true, false}) {
            for (const auto& job : jobs) {
                for (const auto& row : rows) {
                    if (std::get<0>(row) == job.row && std::get<1>(row) == output) {
                        expected.push_back(row);
                    }
                }
            }
        }
        for (size_t i = 1; i < expected.size(); ++i) {
            const auto& [job, output, path] = expected[i];
            const auto& [before_job, before_output, before_path] = expected[i - 1];
            if (job == before_job && output == before_output) {
                CHECK(before_path < path);
            }
        }
        return std::pair(rows, expected);
    };
    const int64_t second =
        f.run({"python3", "b.py"}, {{"m.csv", "m"}, {"a.csv", "a"}, {"z.csv", "z"}}, {{"x.bin", "x"}, {"b.bin", "b"}});
    f.run({"python3", "c.py"}, {{"b.bin", "b"}, {"y.bin", "y"}}, {{"c.bin", "c"}});
    const auto [whole, whole_expected] = order_of();
    CHECK(whole.size() == 10);
    CHECK(whole == whole_expected);
    CHECK(std::count_if(whole.begin(), whole.end(), [&](const auto& r) { return std::get<0>(r) == second; }) == 5);

    // Three jobs outside the new session, one in it.
    f.db->start_new_session();
    f.run({"python3", "d.py"}, {{"c.bin", "c"}, {"a.csv", "a"}, {"z.csv", "z"}}, {{"d.bin", "d"}});
    const auto [indexed, indexed_expected] = order_of();
    CHECK(indexed.size() == 4);
    CHECK(indexed == indexed_expected);
}

TEST_CASE("every input of a long session is compared with the disk: present, modified, missing, replaced",
          "[cli][lineage]")
{
    // Enough inputs that the paths are stat-ed in parallel; each kind of
    // answer lands on its own path, wherever it falls in the list.
    Fixture f;
    constexpr int k_inputs = 20000;
    std::vector<std::pair<std::string, std::string>> inputs;
    for (int i = 0; i < k_inputs; ++i) {
        inputs.emplace_back(fmt::format("in/{:05}.txt", i), fmt::format("content {}", i));
    }
    f.run({"python3", "wide.py"}, inputs, {{"out.bin", "o"}});
    auto expected = [](int i) {
        if (i % 7 == 0) {
            return DiskState::present;
        }
        if (i % 11 == 0) {
            return DiskState::modified;
        }
        return DiskState::missing;
    };
    // A directory where the file was: modified, and says so.
    const auto replaced = [](int i) { return i == 5000 || i == 15002; };
    std::filesystem::create_directories(f.dir / "in");
    for (int i = 0; i < k_inputs; ++i) {
        const auto path = f.dir / "in" / fmt::format("{:05}.txt", i);
        switch (expected(i)) {
        case DiskState::present: test::write_file(path, fmt::format("content {}", i)); break;
        case DiskState::modified: test::write_file(path, "changed"); break;
        default: break;
        }
        if (replaced(i)) {
            std::filesystem::create_directories(path);
        }
    }

    const Lineage g = Lineage::load(*f.db);
    std::map<std::string, DiskState> seen;
    std::map<std::string, std::string> kinds;
    for (const auto& p : g.paths) {
        seen[p.path] = p.disk;
        kinds[p.path] = p.disk_kind;
    }
    REQUIRE(seen.size() == k_inputs + 1);
    int wrong = 0;
    for (int i = 0; i < k_inputs; ++i) {
        const DiskState disk = seen.at(f.path(fmt::format("in/{:05}.txt", i)));
        const DiskState want = replaced(i) ? DiskState::modified : expected(i);
        if (disk != want && ++wrong <= 5) {
            FAIL_CHECK(
                fmt::format("input {}: {} on disk, expected {}", i, disk_state_name(disk), disk_state_name(want)));
        }
    }
    CHECK(wrong == 0);
    CHECK(kinds.at(f.path("in/05000.txt")) == "directory");
    CHECK(kinds.at(f.path("in/15002.txt")) == "directory");
    CHECK(kinds.at(f.path("in/00007.txt")).empty());
    CHECK(seen.at(f.path("out.bin")) == DiskState::missing);
    REQUIRE(g.executions.size() == 1);
    CHECK(g.executions[0].stale);
}

TEST_CASE("a session in a longer project comes a job at a time, each job's uses by path id", "[cli][lineage]")
{
    // Only the session's jobs are read. Each job's uses of a direction come
    // in one call, in the jobs' order, by path id.
    Fixture f;
    auto& store = static_cast<collector::Store&>(*f.db);
    auto job = [&](int i) {
        // Paths first recorded in an order other than their byte order.
        f.run({"python3", "step.py", std::to_string(i)},
              {{fmt::format("in/{:03}/z.csv", i % 7), "z"}, {fmt::format("in/{:03}/a.csv", i), "a"}},
              {{fmt::format("out/{:03}.bin", i), std::to_string(i)}});
    };
    for (int i = 0; i < 25; ++i) {
        job(i);
    }
    const int64_t session = store.start_new_session();
    for (int i = 25; i < 45; ++i) {
        job(i);
    }
    const auto jobs = store.session_jobs(session);
    REQUIRE(jobs.size() == 20);
    std::vector<std::tuple<bool, int64_t, size_t>> calls; // (output, job row, rows)
    size_t rows = 0;
    auto take = [&](bool output) {
        return [&, output](int64_t row, std::span<const collector::ScannedUse> uses) {
            calls.emplace_back(output, row, uses.size());
            for (size_t i = 1; i < uses.size(); ++i) {
                CHECK(uses[i - 1].path_id < uses[i].path_id);
            }
            rows += uses.size();
        };
    };
    store.scan_session_uses(session, jobs, take(true), take(false));
    std::vector<std::tuple<bool, int64_t, size_t>> expected;
    for (const bool output : {true, false}) {
        for (const auto& j : jobs) {
            expected.emplace_back(output, j.row, output ? 1 : 2);
        }
    }
    CHECK(calls == expected);
    CHECK(rows == 3 * 20);
}

TEST_CASE("with local_host, another machine's files stay unchecked and a path both use keeps each one's history",
          "[cli][lineage][hosts]")
{
    Fixture f;
    f.host = "alpha";
    f.run({"sh", "make-a.sh"}, {}, {{"a.txt", "a"}}); // on alpha's disk only
    f.host = "here";
    f.run({"sh", "write-shared.sh"}, {}, {{"shared.txt", "mine"}});
    f.run({"sh", "read-shared.sh"}, {{"shared.txt", "mine"}}, {{"copy.txt", "mine"}});
    f.host = "alpha"; // later, the same path on alpha's disk
    f.run({"sh", "write-shared-alpha.sh"}, {}, {{"shared.txt", "theirs"}});
    f.run({"sh", "read-shared-alpha.sh"}, {{"shared.txt", "theirs"}}, {{"alpha-copy.txt", "theirs"}});
    // A shared file system: alpha writes features, this machine reads them.
    f.host = "alpha";
    f.run({"sh", "features.sh"}, {}, {{"features.bin", "x"}});
    f.host = "here";
    f.run({"sh", "train.sh"}, {{"features.bin", "x"}}, {{"model.bin", "m"}});
    f.host = ""; // a record saved without a host name
    f.run({"sh", "nameless.sh"}, {}, {{"nameless.txt", "n"}});
    for (const auto& [name, content] :
         {std::pair{"shared.txt", "mine"}, {"copy.txt", "mine"}, {"features.bin", "x"}, {"model.bin", "m"}}) {
        test::write_file(f.dir / name, content);
    }

    LineageOptions here;
    here.check_all_paths = true;
    here.local_host = "here";
    const Lineage g = Lineage::load(*f.db, here);
    std::map<std::pair<std::string, std::string>, const PathState*> by; // (path, host)
    for (const auto& p : g.paths) {
        CHECK(by.emplace(std::pair{p.path, p.host}, &p).second);
    }
    CHECK(by.size() == 9);
    CHECK(by.at({f.path("nameless.txt"), "(no host recorded)"})->disk == DiskState::unchecked);
    CHECK(by.at({f.path("a.txt"), "alpha"})->disk == DiskState::unchecked);
    CHECK(by.at({f.path("alpha-copy.txt"), "alpha"})->disk == DiskState::unchecked);
    CHECK(by.at({f.path("shared.txt"), ""})->disk == DiskState::present);
    CHECK(by.at({f.path("shared.txt"), "alpha"})->disk == DiskState::unchecked);
    CHECK(by.at({f.path("features.bin"), ""})->disk == DiskState::present);
    for (const auto& e : g.executions) {
        CHECK_FALSE(e.stale);
    }
    // The read here of alpha's write at the same path comes from alpha's job.
    const Execution& train = g.executions[g.executions.size() - 2];
    REQUIRE(train.inputs.size() == 1);
    const int producer = g.uses[train.inputs[0]].producer;
    REQUIRE(producer >= 0);
    CHECK(g.executions[size_t(producer)].command == "sh features.sh");
    CHECK(g.steps[size_t(train.step)].dependencies == std::vector<int>{g.executions[size_t(producer)].step});

    // Without it (a SQLite store), every job's files are this disk's.
    LineageOptions all;
    all.check_all_paths = true;
    const Lineage one = Lineage::load(*f.db, all);
    std::map<std::string, DiskState> disk;
    for (const auto& p : one.paths) {
        CHECK(p.host.empty());
        disk[p.path] = p.disk;
    }
    CHECK(disk.size() == 7);
    CHECK(disk.at(f.path("a.txt")) == DiskState::missing);
    CHECK(disk.at(f.path("shared.txt")) == DiskState::modified);
    CHECK(one.executions[4].stale); // alpha's read of shared.txt, judged by this disk
}

TEST_CASE("the dag document with local_host: another machine's entry of a path has its host and its own id",
          "[cli][lineage][dag][hosts]")
{
    Fixture f;
    f.host = "alpha";
    f.run({"sh", "same.sh"}, {}, {{"same.txt", "s"}}); // the same bytes at the same path on both machines
    f.run({"sh", "only-alpha.sh"}, {}, {{"alpha.txt", "a"}});
    f.host = "here";
    f.run({"sh", "same-here.sh"}, {}, {{"same.txt", "s"}});
    test::write_file(f.dir / "same.txt", "s");
    const Project project = f.project();
    ArtifactDigests digests(*f.db);

    LineageOptions here;
    here.local_host = "here";
    const Lineage g = Lineage::load(*f.db, here);
    const NotCheckedHere elsewhere = not_checked_here(g);
    CHECK(elsewhere.files == 2);
    CHECK(elsewhere.datasets == 0);
    CHECK(elsewhere.hosts == std::set<std::string>{"alpha"});
    auto dag = dag_json(g, digests, project, {false, false, true});
    CHECK(dag["not_checked_here"] == nlohmann::json({{"datasets", 0}, {"files", 2}, {"hosts", {"alpha"}}}));
    std::map<std::string, nlohmann::json> same; // host ("" here) -> entry of same.txt
    for (const auto& a : dag["artifacts"]) {
        if (a["display_path"] == "same.txt") {
            CHECK(same.emplace(a.value("host", ""), a).second);
        }
        if (a["display_path"] == "alpha.txt") {
            CHECK(a["host"] == "alpha");
            CHECK(a["on_disk"] == "unchecked");
        }
    }
    REQUIRE(same.size() == 2);
    CHECK(same.at("")["on_disk"] == "present");
    CHECK(same.at("alpha")["on_disk"] == "unchecked");
    CHECK(same.at("")["artifact_id"] == same.at("alpha")["artifact_id"]);
    CHECK(same.at("")["id"] != same.at("alpha")["id"]);
    const std::string text = render_dag_text(build_dag(g, {false, false, true}), g, digests, project, 1);
    CHECK_THAT(text, Catch::Contains("alpha.txt") && Catch::Contains("(not checked here, recorded on alpha)")
                         && Catch::Contains("Not checked here: 2 files recorded by jobs on another host (alpha)"));

    // Without it (a SQLite store) the document is as on one machine.
    const Lineage one = Lineage::load(*f.db);
    CHECK(not_checked_here(one).empty());
    auto plain = dag_json(one, digests, project, {false, false, true});
    CHECK_FALSE(plain.contains("not_checked_here"));
    for (const auto& a : plain["artifacts"]) {
        CHECK_FALSE(a.contains("host"));
    }
}
