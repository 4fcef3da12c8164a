// SHA-256 recorded beside BLAKE3 (`roar run --hash sha256`): the digest
// matches the standard's test vector, is added only to files whose content
// still has the recorded BLAKE3, and unknown algorithm names are refused.
#include "roar/collector/extra_digests.hpp"
#include "roar/collector/file_hasher.hpp"

#include "temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace roar::collector;

TEST_CASE("sha256 of 'abc' is the FIPS 180-2 test vector", "[collector][extra_digests]")
{
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("a file still holding its recorded bytes gets its sha256", "[collector][extra_digests]")
{
    roar::test::TempDir dir;
    const auto path = (dir / "a.txt").string();
    roar::test::write_file(path, "abc");
    JobRecord job;
    job.inputs.push_back({path, "file", 3, {{"blake3", blake3_hex("abc")}}, {}});
    add_extra_digests(job, {"sha256"});
    CHECK(job.inputs[0].hashes.at("sha256") == sha256_hex("abc"));
    CHECK(job.inputs[0].notes.empty());
}

TEST_CASE("a file rewritten since it was hashed gets a note instead", "[collector][extra_digests]")
{
    roar::test::TempDir dir;
    const auto path = (dir / "a.txt").string();
    roar::test::write_file(path, "new");
    JobRecord job;
    job.outputs.push_back({path, "file", 3, {{"blake3", blake3_hex("old")}}, {}});
    job.outputs.push_back({(dir / "gone").string(), "file", 3, {{"blake3", blake3_hex("old")}}, {}});
    job.outputs.push_back({"s3://b/k", "s3", 3, {{"etag", "e"}}, {}});
    add_extra_digests(job, {"sha256"});
    CHECK(job.outputs[0].hashes.count("sha256") == 0);
    REQUIRE(job.outputs[0].notes.size() == 1);
    CHECK(job.outputs[0].notes[0] == "sha256 not recorded: the file changed after roar hashed it");
    REQUIRE(job.outputs[1].notes.size() == 1);
    CHECK(job.outputs[1].notes[0].find("sha256 not recorded: cannot open") == 0);
    CHECK(job.outputs[2].notes.empty()); // S3 objects keep their ETag only
}

TEST_CASE("without sha256 asked for nothing is read or added", "[collector][extra_digests]")
{
    JobRecord job;
    job.inputs.push_back({"/nonexistent/x", "file", 3, {{"blake3", "00"}}, {}});
    add_extra_digests(job, {});
    CHECK(job.inputs[0].hashes.size() == 1);
    CHECK(job.inputs[0].notes.empty());
}

TEST_CASE("digest names are checked", "[collector][extra_digests]")
{
    CHECK(parse_extra_digests({"sha256", "blake3", "sha256"}).value() == std::vector<std::string>{"sha256"});
    const auto bad = parse_extra_digests({"md5"});
    REQUIRE(!bad);
    CHECK(bad.error().message.find("unknown digest 'md5'") == 0);
}
