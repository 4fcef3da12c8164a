// The pure parts of `roar reproduce`'s plan: the order jobs run in,
// moving recorded paths into the rebuild's checkout, and comparing the
// recorded Debian packages with this machine's.
#include "reproduce_plan.hpp"

#include "described_lines.hpp"

#include <catch2/catch.hpp>

#include <array>

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
