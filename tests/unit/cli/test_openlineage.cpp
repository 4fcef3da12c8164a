// OpenLineage events from job records (cli/src/openlineage.cpp) and the
// HTTP endpoint's URL (openlineage_http.cpp): dataset names, stable run
// ids, START/COMPLETE/FAIL, parent and content facets, and lines that stay
// valid JSON whatever bytes a path holds.
#include "openlineage.hpp"
#include "openlineage_http.hpp"

#include <catch2/catch.hpp>

using namespace roar;
using namespace roar::cli::openlineage;

namespace {

collector::JobDetail sample_job()
{
    collector::JobDetail job;
    job.uid = "0123456789abcdef";
    job.command = "python3 train.py data.csv";
    job.argv = {"python3", "train.py", "data.csv"};
    job.cwd = "/work/p";
    job.started_at = 1764748800.25;
    job.ended_at = 1764748802.5;
    job.host = "node7";
    job.user = "ana";
    job.roar_version = "0.1.0";
    job.step = 2;
    job.session = 3;
    collector::UseDetail in;
    in.path = "/work/p/data.csv";
    in.size = 10;
    in.hashes["blake3"] = std::string(64, 'a');
    job.inputs.push_back(in);
    collector::UseDetail out;
    out.path = "s3://models/run1/model.bin";
    out.size = 20;
    out.hashes["etag"] = "\"abc\"";
    job.outputs.push_back(out);
    return job;
}

EventOptions with_session() { return {"roar/p", SessionRun{3, 1764748000.5}}; }

} // namespace

TEST_CASE("files are named under file://HOST and S3 objects under s3://BUCKET", "[cli][openlineage]")
{
    const auto file = dataset_name("/data/x.csv", "node7");
    CHECK(file.namespace_ == "file://node7");
    CHECK(file.name == "/data/x.csv");
    CHECK(dataset_name("/data/x.csv", "").namespace_ == "file");
    const auto object = dataset_name("s3://bucket/a/b.bin", "node7");
    CHECK(object.namespace_ == "s3://bucket");
    CHECK(object.name == "a/b.bin");
}

TEST_CASE("run ids are UUIDv7s fixed by the identity and time they come from", "[cli][openlineage]")
{
    const std::string id = stable_uuid_v7(1764748800.25, "roar job x");
    CHECK(id == stable_uuid_v7(1764748800.25, "roar job x"));
    CHECK(id != stable_uuid_v7(1764748800.25, "roar job y"));
    REQUIRE(id.size() == 36);
    CHECK(id[14] == '7');                                         // version
    CHECK(std::string("89ab").find(id[19]) != std::string::npos); // variant
    // The first 48 bits are the time in milliseconds: 1764748800250 = 0x019AE339B0FA.
    CHECK(id.substr(0, 13) == "019ae339-b0fa");
    const auto job = sample_job();
    CHECK(job_run_id(job) == job_run_id(sample_job()));
    CHECK(session_run_id({3, 1.5}) != session_run_id({4, 1.5}));
}

TEST_CASE("a job becomes START at its start and COMPLETE at its end", "[cli][openlineage]")
{
    const auto events = run_events(sample_job(), with_session());
    REQUIRE(events.size() == 2);
    const auto& start = events[0];
    const auto& end = events[1];
    CHECK(start["eventType"] == "START");
    CHECK(start["eventTime"] == "2025-12-03T08:00:00.250Z");
    CHECK(end["eventType"] == "COMPLETE");
    CHECK(end["eventTime"] == "2025-12-03T08:00:02.500Z");
    CHECK(start["run"]["runId"] == end["run"]["runId"]);
    CHECK(start["job"]["namespace"] == "roar/p");
    CHECK(start["job"]["name"] == "python3 train.py data.csv");
    CHECK(start["job"]["facets"]["jobType"]["processingType"] == "BATCH");

    const auto& facets = end["run"]["facets"];
    CHECK(facets["roar_command"]["argv"] == nlohmann::json({"python3", "train.py", "data.csv"}));
    CHECK(facets["roar_command"]["step"] == 2);
    CHECK(facets["roar_host"]["hostname"] == "node7");
    CHECK_FALSE(facets.contains("roar_git"));
    CHECK(facets["parent"]["run"]["runId"] == session_run_id({3, 1764748000.5}));
    CHECK(facets["parent"]["job"]["name"] == "session");
    CHECK(facets["parent"]["_schemaURL"].get<std::string>().find("ParentRunFacet.json#/$defs/ParentRunFacet")
          != std::string::npos);

    const auto& in = end["inputs"][0];
    CHECK(in["namespace"] == "file://node7");
    CHECK(in["facets"]["roar_content"]["blake3"] == std::string(64, 'a'));
    CHECK(in["facets"]["roar_content"]["size"] == 10);
    CHECK(in["facets"]["version"]["datasetVersion"] == std::string(64, 'a'));
    const auto& out = end["outputs"][0];
    CHECK(out["namespace"] == "s3://models");
    CHECK(out["name"] == "run1/model.bin");
    CHECK(out["facets"]["roar_content"]["s3ETag"] == "\"abc\"");
    CHECK(out["outputFacets"]["outputStatistics"]["size"] == 20);
    // When the job starts its outputs are names only: their content comes later.
    CHECK(start["outputs"][0].contains("facets") == false);
    CHECK(start["inputs"][0]["facets"].contains("roar_content"));
}

TEST_CASE("a job that exited non-zero or was killed FAILs, and a job outside a session has no parent",
          "[cli][openlineage]")
{
    auto job = sample_job();
    job.exit_code = 2;
    CHECK(run_events(job, with_session())[1]["eventType"] == "FAIL");
    job.exit_code = 0;
    job.signal = 9;
    const auto events = run_events(job, EventOptions{"roar/p", std::nullopt});
    CHECK(events[1]["eventType"] == "FAIL");
    CHECK(events[1]["run"]["facets"]["roar_command"]["signal"] == 9);
    CHECK_FALSE(events[1]["run"]["facets"].contains("parent"));
}

TEST_CASE("git state is a run facet", "[cli][openlineage]")
{
    auto job = sample_job();
    job.git = collector::GitDetail{"c0ffee", "main", "https://example.invalid/r.git", true, {"a.py"}};
    const auto git = run_events(job, with_session())[0]["run"]["facets"]["roar_git"];
    CHECK(git["commit"] == "c0ffee");
    CHECK(git["dirty"] == true);
    CHECK(git["dirtyFiles"] == nlohmann::json({"a.py"}));
}

TEST_CASE("bytes that are not UTF-8 are written as \\xNN and the line stays valid JSON", "[cli][openlineage]")
{
    auto job = sample_job();
    job.inputs[0].path = std::string("/p/caf\xE9\xFF.csv");
    job.command = std::string("cat \xC3\xA9t\xE9");
    const std::string line = to_json_line(run_events(job, with_session())[0]);
    const auto parsed = nlohmann::json::parse(line); // throws on invalid UTF-8
    CHECK(parsed["inputs"][0]["name"] == "/p/caf\\xE9\\xFF.csv");
    CHECK(parsed["job"]["name"] == "cat \xC3\xA9t\\xE9"); // valid sequences are kept
    CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("an export URL naming no path gets /api/v1/lineage", "[cli][openlineage]")
{
    CHECK(endpoint_url("http://127.0.0.1:5000").value() == "http://127.0.0.1:5000/api/v1/lineage");
    CHECK(endpoint_url("http://127.0.0.1:5000/").value() == "http://127.0.0.1:5000/api/v1/lineage");
    CHECK(endpoint_url("https://ol.example.invalid/custom/path").value() == "https://ol.example.invalid/custom/path");
    CHECK_FALSE(endpoint_url("ftp://x/").has_value());
    CHECK_FALSE(endpoint_url("localhost:5000").has_value());
    CHECK_FALSE(endpoint_url("http:///api").has_value());
}

TEST_CASE("roar's own facets name their schema file under the schema base", "[cli][openlineage]")
{
    auto url_of = [](const EventOptions& options) {
        return run_events(sample_job(), options)[1]["inputs"][0]["facets"]["roar_content"]["_schemaURL"];
    };
    CHECK(url_of(with_session())
          == "file:///usr/share/roar/openlineage/facets/1-0-0/RoarContentDatasetFacet.json#/$defs/"
             "RoarContentDatasetFacet");
    EventOptions published = with_session();
    published.schema_base = "https://docs.example.com/roar/facets";
    CHECK(url_of(published)
          == "https://docs.example.com/roar/facets/1-0-0/RoarContentDatasetFacet.json#/$defs/RoarContentDatasetFacet");
    const auto facets = run_events(sample_job(), published)[1]["run"]["facets"];
    CHECK(facets["roar_host"]["_schemaURL"]
          == "https://docs.example.com/roar/facets/1-0-0/RoarHostRunFacet.json#/$defs/RoarHostRunFacet");
    // OpenLineage's own facets keep their spec URLs.
    CHECK(facets["parent"]["_schemaURL"].get<std::string>().rfind("https://openlineage.io/spec/facets/", 0) == 0);
}
