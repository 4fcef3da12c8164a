// The pure parts of `roar reproduce`'s plan: the order jobs run in,
// moving recorded paths (whole or inside arguments) into the rebuild's
// checkout, finding external inputs by content, and comparing the
// recorded Debian packages with this machine's.
#include "reproduce_plan.hpp"

#include "described_lines.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <map>

using namespace roar::cli;
using roar::cli::test::lines_of;

TEST_CASE("Jobs run oldest first, ties in the order they were stored", "[cli][reproduce]")
{
    const std::vector<double> started = {30.0, 10.0, 20.0, 10.0};
    const std::vector<int64_t> rows = {4, 2, 3, 1};
    CHECK(dependency_order(started, rows) == std::vector<size_t>{3, 1, 2, 0});
}

TEST_CASE("A path inside the work tree is relative to it and one outside is not", "[cli][reproduce]")
{
    CHECK(relative_to("/repo/out/a.txt", "/repo") == std::optional<std::string>("out/a.txt"));
    CHECK(relative_to("/repo", "/repo") == std::optional<std::string>(""));
    CHECK_FALSE(relative_to("/repository/a.txt", "/repo").has_value());
    CHECK_FALSE(relative_to("/data/raw.csv", "/repo").has_value());
    CHECK_FALSE(relative_to("/repo/a.txt", "").has_value());
}

TEST_CASE("A recorded work-tree path inside an argument moves into the checkout", "[cli][reproduce]")
{
    CHECK(moved_argument("/repo/in.txt", "/repo", "/rb") == "/rb/in.txt");
    CHECK(moved_argument("/repo", "/repo", "/rb") == "/rb");
    CHECK(moved_argument("--out=/repo/out.txt", "/repo", "/rb") == "--out=/rb/out.txt");
    CHECK(moved_argument("cat /repo/a.txt > /repo/b.txt", "/repo", "/rb") == "cat /rb/a.txt > /rb/b.txt");
    CHECK(moved_argument("cd '/repo' && ls", "/repo/", "/rb") == "cd '/rb' && ls");
    CHECK(moved_argument("PYTHONPATH=/repo:/repo/lib", "/repo", "/rb") == "PYTHONPATH=/rb:/rb/lib");
    CHECK(moved_argument("x=\"$(cat /repo/v)\"", "/repo", "/rb") == "x=\"$(cat /rb/v)\"");
}

TEST_CASE("A path that only starts or ends like the work tree stays as it is", "[cli][reproduce]")
{
    CHECK(moved_argument("/repository/a.txt", "/repo", "/rb") == "/repository/a.txt");
    CHECK(moved_argument("cp /repo.bak/a /repo-old/b", "/repo", "/rb") == "cp /repo.bak/a /repo-old/b");
    CHECK(moved_argument("/other/repo/a.txt", "/repo", "/rb") == "/other/repo/a.txt");
    CHECK(moved_argument("--in=data/repo/x", "/repo", "/rb") == "--in=data/repo/x");
    CHECK(moved_argument("relative/path.txt", "/repo", "/rb") == "relative/path.txt");
    CHECK(moved_argument("/repo/a", "", "/rb") == "/repo/a");
}

namespace {

// A plan of one local external input recorded at `path` (and `also`)
// with digest `digest`, for the work tree /repo.
ReproducePlan plan_reading(const std::string& path, const std::string& digest,
                           const std::vector<std::string>& also = {})
{
    ReproducePlan plan;
    plan.root = "/repo";
    PlanInput in;
    in.path = path;
    in.digest = digest;
    in.seen_at = {path};
    in.seen_at.insert(in.seen_at.end(), also.begin(), also.end());
    plan.inputs.push_back(in);
    return plan;
}

} // namespace

TEST_CASE("An external input is taken from the first recorded location that still has its content", "[cli][reproduce]")
{
    ReproducePlan plan = plan_reading("/repo/data/raw.csv", "aa", {"/repo/data/copy.csv", "/repo/data/kept.csv"});
    const std::map<std::string, std::string> now = {
        {"/repo/data/raw.csv", "bb"}, {"/repo/data/copy.csv", "aa"}, {"/repo/data/kept.csv", "aa"}};
    locate_external_inputs(plan, [&](const std::string& p) { return now.count(p) > 0 ? now.at(p) : ""; });
    CHECK(plan.problems.empty());
    CHECK(plan.inputs[0].source == "/repo/data/copy.csv");
}

TEST_CASE("An external input no location has now, or never hashed, is a problem of the plan", "[cli][reproduce]")
{
    const auto nothing = [](const std::string&) { return std::string(); };
    ReproducePlan gone = plan_reading("/repo/data/raw.csv", "0123456789abcdef");
    locate_external_inputs(gone, nothing);
    REQUIRE(gone.problems.size() == 1);
    CHECK(gone.problems[0]
          == "external input /repo/data/raw.csv (blake3 0123456789ab) is not available: no recorded location "
             "(/repo/data/raw.csv) has that content now; put it back and try again");
    CHECK(gone.inputs[0].source.empty());

    ReproducePlan unhashed = plan_reading("/data/raw.csv", "");
    locate_external_inputs(unhashed, nothing);
    REQUIRE(unhashed.problems.size() == 1);
    CHECK(unhashed.problems[0]
          == "external input /data/raw.csv was not hashed when it was read: its content "
             "cannot be checked");
}

TEST_CASE("An input outside the work tree is only taken from its own path; checkout and S3 inputs are not looked up",
          "[cli][reproduce]")
{
    ReproducePlan plan = plan_reading("/data/raw.csv", "aa", {"/data/other.csv"});
    PlanInput tracked;
    tracked.path = "/repo/step1.py";
    tracked.in_checkout = true;
    plan.inputs.push_back(tracked);
    PlanInput s3;
    s3.path = "s3://bucket/raw.csv";
    s3.digest = "etag";
    plan.inputs.push_back(s3);
    std::vector<std::string> asked;
    locate_external_inputs(plan, [&](const std::string& p) {
        asked.push_back(p);
        return p == "/data/other.csv" ? std::string("aa") : std::string();
    });
    CHECK(asked == std::vector<std::string>{"/data/raw.csv"});
    REQUIRE(plan.problems.size() == 1);
    CHECK(plan.problems[0].rfind("external input /data/raw.csv (blake3 aa) is not available", 0) == 0);
}

namespace {

// A plan job whose environment record lists `packages` (name, version,
// architecture) as the Debian packages owning the system files it used.
PlanJob job_using(const std::vector<std::array<const char*, 3>>& packages)
{
    PlanJob job;
    job.environment = {{"system_packages", nlohmann::json::array()}};
    for (const auto& [name, version, arch] : packages) {
        job.environment["system_packages"].push_back(
            {{"name", name}, {"version", version}, {"architecture", arch}, {"files", 3}});
    }
    return job;
}

} // namespace

TEST_CASE("Recorded Debian packages missing here or at another version are differences", "[cli][reproduce]")
{
    const std::vector<PlanJob> jobs = {
        job_using({{"libc6", "2.36-9", "amd64"}, {"python3.11-minimal", "3.11.2-6", "amd64"}}),
        job_using({{"libssl3", "3.0.11-1", "amd64"}, {"tzdata", "2024a-0", "all"}, {"libc6", "2.36-9", "amd64"}})};
    const std::vector<DebianPackage> here = {{"libc6", "2.36-9", "amd64"},
                                             {"python3.11-minimal", "3.11.2-6+deb12u1", "amd64"},
                                             {"tzdata", "2024a-0", "all"}};
    const auto differences = debian_package_differences(jobs, here);
    CHECK(lines_of(differences, describe_debian_difference)
          == std::vector<std::string>{"debian package libssl3:amd64 3.0.11-1 is not installed here",
                                      "debian package python3.11-minimal:amd64: 3.11.2-6+deb12u1 here, recorded "
                                      "3.11.2-6"});
    REQUIRE(differences.size() == 2);
    CHECK(differences[0].here.empty());
    CHECK(differences[1].recorded == "3.11.2-6");
    CHECK(differences[1].here == "3.11.2-6+deb12u1");
}

TEST_CASE("A Debian package installed only for another architecture counts as missing", "[cli][reproduce]")
{
    const std::vector<DebianPackage> here = {{"libc6", "2.36-9", "arm64"}};
    CHECK(lines_of(debian_package_differences({job_using({{"libc6", "2.36-9", "amd64"}})}, here),
                   describe_debian_difference)
          == std::vector<std::string>{"debian package libc6:amd64 2.36-9 is not installed here"});
}

TEST_CASE("A differing version several jobs recorded is listed once and a matching one not at all", "[cli][reproduce]")
{
    const std::vector<PlanJob> jobs = {job_using({{"libc6", "2.36-8", "amd64"}}),
                                       job_using({{"libc6", "2.36-9", "amd64"}}),
                                       job_using({{"libc6", "2.36-8", "amd64"}})};
    CHECK(lines_of(debian_package_differences(jobs, std::vector<DebianPackage>{{"libc6", "2.36-9", "amd64"}}),
                   describe_debian_difference)
          == std::vector<std::string>{"debian package libc6:amd64: 2.36-9 here, recorded 2.36-8"});
}

TEST_CASE("Without a dpkg database every recorded Debian package is missing", "[cli][reproduce]")
{
    const auto differences = debian_package_differences({job_using({{"libc6", "2.36-9", "amd64"}})}, std::nullopt);
    REQUIRE(differences.size() == 1);
    CHECK(differences[0].here.empty());
}

TEST_CASE("Jobs with no environment record or no Debian packages give no differences", "[cli][reproduce]")
{
    PlanJob bare;
    CHECK(debian_package_differences({bare, job_using({})}, std::vector<DebianPackage>{}).empty());
}
