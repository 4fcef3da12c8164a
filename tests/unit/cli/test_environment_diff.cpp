// Comparing two jobs' environment records for `roar diff`: machine facts,
// interpreters, their imported distributions and Debian packages, each a
// change with its one-line form.
#include "environment_diff.hpp"

#include "described_lines.hpp"

#include <catch2/catch.hpp>

using namespace roar::cli;
using roar::cli::test::lines_of;

namespace {

// A record on a Debian 12 machine with one interpreter importing numpy
// `numpy` (none when empty) and libc6 at `libc`.
nlohmann::json record(const std::string& kernel, const std::string& python, const std::string& numpy,
                      const std::string& libc)
{
    nlohmann::json packages = nlohmann::json::array();
    if (!numpy.empty()) {
        packages.push_back({{"name", "numpy"}, {"version", numpy}});
    }
    return {{"machine",
             {{"os", "Debian GNU/Linux 12 (bookworm)"},
              {"kernel", kernel},
              {"arch", "x86_64"},
              {"cpu", "Xeon"},
              {"cpu_count", 2},
              {"memory_bytes", 8589934592},
              {"gpus", nlohmann::json::array()}}},
            {"python", {{{"executable", "/usr/bin/python3"}, {"version", python}, {"packages", packages}}}},
            {"system_packages", {{{"name", "libc6"}, {"version", libc}, {"architecture", "amd64"}, {"files", 2}}}}};
}

} // namespace

TEST_CASE("Equal environment records have no changes", "[cli][environment_diff]")
{
    const auto r = record("6.1.0", "3.11.2", "1.26.0", "2.36-9");
    CHECK(compare_environment_records(r, r).empty());
}

TEST_CASE("Each differing fact is one change, machine first, in before-after form", "[cli][environment_diff]")
{
    const auto changes = compare_environment_records(record("6.1.0", "3.11.2", "1.26.0", "2.36-9"),
                                                     record("6.5.0", "3.12.1", "2.0.0", "2.36-10"));
    CHECK(lines_of(changes, describe_environment_change)
          == std::vector<std::string>{"machine kernel: 6.1.0 -> 6.5.0", "python /usr/bin/python3: 3.11.2 -> 3.12.1",
                                      "package numpy: 1.26.0 -> 2.0.0 (python /usr/bin/python3)",
                                      "debian libc6:amd64: 2.36-9 -> 2.36-10"});
    REQUIRE(changes.size() == 4);
    CHECK(environment_change_json(changes[2])
          == nlohmann::json{{"what", "package"},
                            {"name", "numpy"},
                            {"before", "1.26.0"},
                            {"after", "2.0.0"},
                            {"python", "/usr/bin/python3"}});
}

TEST_CASE("Packages and interpreters present on one side only are added or removed", "[cli][environment_diff]")
{
    auto before = record("6.1.0", "3.11.2", "", "2.36-9");
    auto after = record("6.1.0", "3.11.2", "1.26.0", "2.36-9");
    after["python"].push_back({{"executable", "/opt/venv/bin/python"}, {"version", "3.12.1"}});
    after["system_packages"].push_back({{"name", "tzdata"}, {"version", "2024a-0"}, {"architecture", "all"}});
    CHECK(lines_of(compare_environment_records(before, after), describe_environment_change)
          == std::vector<std::string>{"python /opt/venv/bin/python added: 3.12.1",
                                      "package numpy added: 1.26.0 (python /usr/bin/python3)",
                                      "debian tzdata:all added: 2024a-0"});
    CHECK(lines_of(compare_environment_records(after, before), describe_environment_change)
          == std::vector<std::string>{"python /opt/venv/bin/python removed: 3.12.1",
                                      "package numpy removed: 1.26.0 (python /usr/bin/python3)",
                                      "debian tzdata:all removed: 2024a-0"});
}

TEST_CASE("Distribution names are compared as installers normalize them", "[cli][environment_diff]")
{
    CHECK(normalized_distribution_name("Typing.Extensions") == "typing_extensions");
    CHECK(normalized_distribution_name("zope--interface") == "zope_interface");
    auto before = record("6.1.0", "3.11.2", "", "2.36-9");
    auto after = before;
    before["python"][0]["packages"] = {{{"name", "PyYAML"}, {"version", "6.0"}}};
    after["python"][0]["packages"] = {{{"name", "pyyaml"}, {"version", "6.0"}}};
    CHECK(compare_environment_records(before, after).empty());
}

TEST_CASE("A GPU appearing is a machine change naming the GPUs", "[cli][environment_diff]")
{
    const auto before = record("6.1.0", "3.11.2", "", "2.36-9");
    auto after = before;
    after["machine"]["gpus"] = {{{"name", "NVIDIA A100"}, {"driver_version", "550.54"}}};
    CHECK(lines_of(compare_environment_records(before, after), describe_environment_change)
          == std::vector<std::string>{"machine gpus: none -> NVIDIA A100"});
}
