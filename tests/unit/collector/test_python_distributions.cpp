// SiteDistributions: which distribution a module file belongs to, from a
// fake site-packages with every metadata flavour pip, setuptools and Debian
// leave behind.
#include "roar/collector/environment/python_distributions.hpp"

#include "environment_fixtures.hpp"

#include <catch2/catch.hpp>

#include <thread>

using roar::collector::site_dir_of;
using roar::collector::SiteDistributions;
using roar::test::put;
using roar::test::put_dist_info;
using roar::test::TempDir;

namespace {

// site-packages with:
//  numpy 1.26.4 (wheel: RECORD, a bin/ script outside the site directory,
//    a data file added after installation);
//  protobuf and googleapis-common-protos sharing the google/ namespace;
//  six 1.16.0 (a single module);
//  "odd,name" (a RECORD path with a comma, so quoted);
//  legacy 2.0 (egg-info with installed-files.txt);
//  PyYAML 6.0 (Debian-style egg-info with top_level.txt only);
//  flatfile 0.3 (an egg-info that is a PKG-INFO file).
std::filesystem::path fake_site(const TempDir& dir)
{
    const auto site = dir / "venv/lib/python3.11/site-packages";
    put_dist_info(
        site, "numpy", "1.26.4",
        {"numpy/__init__.py", "numpy/core/multiarray.py", "numpy/core/_multiarray_umath.so", "../../../bin/f2py"});
    put(site / "numpy/core/tests/data/generated.npy");
    put_dist_info(site, "protobuf", "4.25.3", {"google/protobuf/__init__.py", "google/protobuf/message.py"});
    put_dist_info(site, "googleapis-common-protos", "1.63.0", {"google/api/__init__.py", "google/api/http_pb2.py"});
    put(site / "google/stray.py");
    put_dist_info(site, "six", "1.16.0", {"six.py"});
    put(site / "odd,name/mod.py");
    put(site / "odd_name-1.0.dist-info/METADATA", "Name: odd_name\nVersion: 1.0\n");
    put(site / "odd_name-1.0.dist-info/RECORD", "\"odd,name/mod.py\",sha256=x,1\n");
    put(site / "legacy/__init__.py");
    put(site / "legacy-2.0-py3.11.egg-info/PKG-INFO", "Metadata-Version: 1.0\nName: legacy\nVersion: 2.0\n");
    put(site / "legacy-2.0-py3.11.egg-info/installed-files.txt",
        "../legacy/__init__.py\n../legacy/__pycache__/__init__.cpython-311.pyc\nPKG-INFO\n");
    put(site / "yaml/__init__.py");
    put(site / "PyYAML-6.0.egg-info/PKG-INFO", "Name: PyYAML\nVersion: 6.0\n");
    put(site / "PyYAML-6.0.egg-info/top_level.txt", "_yaml\nyaml\n");
    put(site / "flatfile-0.3.egg-info", "Metadata-Version: 1.1\nName: flatfile\nVersion: 0.3\n");
    put(site / "flatfile/__init__.py");
    put(site / "distutils-precedence.pth", "import _distutils_hack\n");
    put(site / "unclaimed/__init__.py");
    return site;
}

// "name version" of the distribution owning `rel` in `site`, or "(none)".
std::string owner(const SiteDistributions& index, const std::filesystem::path& site, const std::string& rel)
{
    auto d = index.distribution_of((site / rel).string());
    if (!d) {
        return "(none)";
    }
    const auto dist = index.distribution(*d);
    return std::string(dist.name) + " " + std::string(dist.version);
}

} // namespace

TEST_CASE("the site directory of a path is the prefix through site-packages or dist-packages",
          "[collector][environment][python]")
{
    CHECK(site_dir_of("/v/lib/python3.11/site-packages/numpy/__init__.py") == "/v/lib/python3.11/site-packages");
    CHECK(site_dir_of("/usr/lib/python3/dist-packages/yaml/__init__.py") == "/usr/lib/python3/dist-packages");
    CHECK(site_dir_of("/usr/lib/python3.11/os.py").empty());
    CHECK(site_dir_of("/x/site-packages-old/y.py").empty());
    CHECK(site_dir_of("/usr/lib/python3/dist-packages/pkg/_vendor/site-packages/m.py")
          == "/usr/lib/python3/dist-packages"); // the first one wins
}

TEST_CASE("module files map to the distribution whose RECORD lists them", "[collector][environment][python]")
{
    TempDir dir;
    const auto site = fake_site(dir);
    auto index = SiteDistributions::open(site, dir / "cache");
    REQUIRE(index);
    CHECK(index->built());
    CHECK(owner(*index, site, "numpy/__init__.py") == "numpy 1.26.4");
    CHECK(owner(*index, site, "numpy/core/_multiarray_umath.so") == "numpy 1.26.4");
    CHECK(owner(*index, site, "six.py") == "six 1.16.0");
    CHECK(owner(*index, site, "odd,name/mod.py") == "odd_name 1.0");
    CHECK(index->distribution(*index->distribution_of((site / "six.py").string())).installer == "pip");
}

TEST_CASE("compiled modules count as their sources, unlisted files as their package directory",
          "[collector][environment][python]")
{
    TempDir dir;
    const auto site = fake_site(dir);
    auto index = SiteDistributions::open(site, dir / "cache");
    REQUIRE(index);
    CHECK(owner(*index, site, "numpy/core/__pycache__/multiarray.cpython-311.pyc") == "numpy 1.26.4");
    CHECK(owner(*index, site, "__pycache__/six.cpython-311.pyc") == "six 1.16.0");
    CHECK(owner(*index, site, "numpy/core/tests/data/generated.npy") == "numpy 1.26.4");
}

TEST_CASE("a namespace directory two distributions share attributes only the files each lists",
          "[collector][environment][python]")
{
    TempDir dir;
    const auto site = fake_site(dir);
    auto index = SiteDistributions::open(site, dir / "cache");
    REQUIRE(index);
    CHECK(owner(*index, site, "google/protobuf/message.py") == "protobuf 4.25.3");
    CHECK(owner(*index, site, "google/api/http_pb2.py") == "googleapis-common-protos 1.63.0");
    CHECK(owner(*index, site, "google/stray.py") == "(none)");
}

TEST_CASE("egg-info: installed-files.txt, else top_level.txt, else the name", "[collector][environment][python]")
{
    TempDir dir;
    const auto site = fake_site(dir);
    auto index = SiteDistributions::open(site, dir / "cache");
    REQUIRE(index);
    CHECK(owner(*index, site, "legacy/__init__.py") == "legacy 2.0");
    CHECK(owner(*index, site, "yaml/__init__.py") == "PyYAML 6.0");
    CHECK(owner(*index, site, "yaml/__pycache__/__init__.cpython-311.pyc") == "PyYAML 6.0");
    CHECK(owner(*index, site, "flatfile/__init__.py") == "flatfile 0.3");
}

TEST_CASE("metadata, .pth files and unclaimed modules belong to no distribution", "[collector][environment][python]")
{
    TempDir dir;
    const auto site = fake_site(dir);
    auto index = SiteDistributions::open(site, dir / "cache");
    REQUIRE(index);
    CHECK(owner(*index, site, "numpy-1.26.4.dist-info/METADATA") == "(none)");
    CHECK(owner(*index, site, "distutils-precedence.pth") == "(none)");
    CHECK(owner(*index, site, "unclaimed/__init__.py") == "(none)");
    CHECK_FALSE(index->distribution_of("/elsewhere/numpy/__init__.py"));
    CHECK_FALSE(index->distribution_of(site.string()));
}

TEST_CASE("the index lists every distribution once, with name and version", "[collector][environment][python]")
{
    TempDir dir;
    const auto site = fake_site(dir);
    auto index = SiteDistributions::open(site, dir / "cache");
    REQUIRE(index);
    std::vector<std::string> all;
    for (uint32_t i = 0; i < index->size(); ++i) {
        all.push_back(std::string(index->distribution(i).name) + " " + std::string(index->distribution(i).version));
    }
    std::sort(all.begin(), all.end());
    CHECK(all
          == std::vector<std::string>{"PyYAML 6.0", "flatfile 0.3", "googleapis-common-protos 1.63.0", "legacy 2.0",
                                      "numpy 1.26.4", "odd_name 1.0", "protobuf 4.25.3", "six 1.16.0"});
}

TEST_CASE("a site directory is indexed once, and again after a distribution is installed",
          "[collector][environment][python]")
{
    TempDir dir;
    const auto site = fake_site(dir);
    REQUIRE(SiteDistributions::open(site, dir / "cache")->built());
    auto warm = SiteDistributions::open(site, dir / "cache");
    REQUIRE(warm);
    CHECK_FALSE(warm->built());
    CHECK(owner(*warm, site, "numpy/__init__.py") == "numpy 1.26.4");

    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    put_dist_info(site, "tinypkg", "0.1", {"tinypkg/__init__.py"});
    auto rebuilt = SiteDistributions::open(site, dir / "cache");
    REQUIRE(rebuilt);
    CHECK(rebuilt->built());
    CHECK(owner(*rebuilt, site, "tinypkg/__init__.py") == "tinypkg 0.1");
}

TEST_CASE("a missing site directory is an error", "[collector][environment][python]")
{
    TempDir dir;
    CHECK_FALSE(SiteDistributions::open(dir / "nope/site-packages", dir / "cache"));
}
