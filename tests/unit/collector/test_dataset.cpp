// Datasets: the digest's byte encoding, the rule for which listed
// directories a job read as a whole, and the walk status repeats.
#include "roar/collector/dataset.hpp"
#include "roar/collector/file_hasher.hpp"
#include "roar/collector/job_tracker.hpp"

#include "raw_event.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <filesystem>
#include <map>
#include <set>

using namespace roar::collector;
using roar::test::TempDir;

namespace {

// A file system of directories given as name lists: "d/" a subdirectory,
// "@l" a symlink, anything else a regular file.
DirectoryLister fake_tree(std::map<std::string, std::vector<std::string>> tree)
{
    return [tree = std::move(tree)](const std::string& path) -> roar::Result<std::vector<DirectoryEntry>> {
        auto it = tree.find(path);
        if (it == tree.end()) {
            return roar::fail("no directory {}", path);
        }
        std::vector<DirectoryEntry> out;
        for (const auto& name : it->second) {
            if (name.ends_with('/')) {
                out.push_back({DirectoryEntry::Type::directory, name.substr(0, name.size() - 1)});
            } else if (name.starts_with('@')) {
                out.push_back({DirectoryEntry::Type::other, name.substr(1)});
            } else {
                out.push_back({DirectoryEntry::Type::file, name});
            }
        }
        return out;
    };
}

std::string le64(uint64_t v)
{
    std::string s;
    for (int i = 0; i < 8; ++i) {
        s.push_back(char((v >> (8 * i)) & 0xff));
    }
    return s;
}

const std::string k_d1 = blake3_hex("one");
const std::string k_d2 = blake3_hex("two");

// The reads of files named in `paths`, each of size 3 with digest k_d1.
std::vector<ReadFile> reads_of(const std::vector<std::string>& paths)
{
    std::vector<ReadFile> out;
    for (const auto& p : paths) {
        out.push_back(ReadFile{p, 3, k_d1});
    }
    std::sort(out.begin(), out.end(), [](const ReadFile& a, const ReadFile& b) { return a.path < b.path; });
    return out;
}

} // namespace

TEST_CASE("the dataset digest is BLAKE3 of the documented length-prefixed encoding", "[collector][dataset]")
{
    std::string raw1;
    for (size_t i = 0; i < 64; i += 2) {
        raw1.push_back(char(std::stoi(k_d1.substr(i, 2), nullptr, 16)));
    }
    std::string raw2;
    for (size_t i = 0; i < 64; i += 2) {
        raw2.push_back(char(std::stoi(k_d2.substr(i, 2), nullptr, 16)));
    }
    const std::string expected =
        "roar-dataset-v1\n" + le64(3) + "a/x" + le64(3) + raw1 + le64(1) + "b" + le64(7) + raw2;
    CHECK(dataset_digest({{"b", 7, k_d2}, {"a/x", 3, k_d1}}) == blake3_hex(expected));
}

TEST_CASE("the dataset digest ignores member order and sees every field and boundary", "[collector][dataset]")
{
    const std::string base = dataset_digest({{"a", 3, k_d1}, {"b", 3, k_d2}});
    CHECK(dataset_digest({{"b", 3, k_d2}, {"a", 3, k_d1}}) == base);
    CHECK(dataset_digest({{"a", 3, k_d1}, {"c", 3, k_d2}}) != base);
    CHECK(dataset_digest({{"a", 4, k_d1}, {"b", 3, k_d2}}) != base);
    CHECK(dataset_digest({{"a", 3, k_d2}, {"b", 3, k_d2}}) != base);
    CHECK(dataset_digest({{"a", 3, k_d1}}) != base);
    // Paths are bytes: no separator can make two lists encode alike.
    CHECK(dataset_digest({{"ab", 3, k_d1}}) != dataset_digest({{"a", 3, k_d1}, {"b", 3, k_d1}}));
    CHECK(dataset_digest({{std::string("caf\xe9", 4), 3, k_d1}}) != dataset_digest({{"caf\xc3\xa9", 3, k_d1}}));
}

TEST_CASE("a dataset of many members digests as its whole encoding", "[collector][dataset]")
{
    // Far more than the block the digest is hashed in, with members whose
    // encodings straddle the block boundaries.
    std::vector<DatasetMember> members;
    for (int i = 0; i < 3000; ++i) {
        members.push_back({"shard_" + std::to_string(i % 7) + "/sample_" + std::to_string(i) + ".bin",
                           uint64_t(4096 + i), i % 2 ? k_d1 : k_d2});
    }
    auto sorted = members;
    std::sort(sorted.begin(), sorted.end(),
              [](const DatasetMember& a, const DatasetMember& b) { return a.relative < b.relative; });
    std::string expected = "roar-dataset-v1\n";
    for (const auto& m : sorted) {
        std::string raw;
        for (size_t i = 0; i < 64; i += 2) {
            raw.push_back(char(std::stoi(m.blake3.substr(i, 2), nullptr, 16)));
        }
        expected += le64(m.relative.size()) + m.relative + le64(m.size) + raw;
    }
    REQUIRE(expected.size() > 4 * 16384);
    CHECK(dataset_digest(members) == blake3_hex(expected));
}

TEST_CASE("a dataset's members are in byte order of their whole relative path", "[collector][dataset]")
{
    // "a-b" sorts before "a/x" ('-' < '/'), though the directory "a" sorts
    // before the file "a-b" by name.
    auto list = fake_tree({{"/p/d", {"a/", "a-b", "z"}}, {"/p/d/a", {"x", "y/"}}, {"/p/d/a/y", {"q"}}});
    auto found = find_datasets({"/p/d", "/p/d/a", "/p/d/a/y"},
                               reads_of({"/p/d/a-b", "/p/d/z", "/p/d/a/x", "/p/d/a/y/q"}), {}, list);
    REQUIRE(found.size() == 1);
    CHECK(found[0].path == "/p/d/");
    std::vector<std::string> relative;
    for (const auto& m : found[0].members) {
        relative.push_back(m.relative);
    }
    CHECK(relative == std::vector<std::string>{"a-b", "a/x", "a/y/q", "z"});
    CHECK(found[0].bytes == 12);
    CHECK(found[0].digest == dataset_digest(found[0].members));
}

TEST_CASE("a listed directory whose every file was read is one dataset", "[collector][dataset]")
{
    auto list = fake_tree({{"/p/data", {"a.csv", "b.csv", "sub/", "@link"}}, {"/p/data/sub", {"c.csv"}}});
    auto found = find_datasets({"/p/data", "/p/data/sub"},
                               reads_of({"/p/data/a.csv", "/p/data/b.csv", "/p/data/sub/c.csv"}), {}, list);
    REQUIRE(found.size() == 1);
    CHECK(found[0].path == "/p/data/");
    REQUIRE(found[0].members.size() == 3);
    CHECK(found[0].members[0].relative == "a.csv");
    CHECK(found[0].members[2].relative == "sub/c.csv");
    CHECK(found[0].bytes == 9);
    CHECK(found[0].digest == dataset_digest(found[0].members));
}

TEST_CASE("a listed directory with a file the job did not read is no dataset", "[collector][dataset]")
{
    auto list = fake_tree({{"/p/data", {"a.csv", "b.csv", "c.csv"}}});
    CHECK(find_datasets({"/p/data"}, reads_of({"/p/data/a.csv", "/p/data/b.csv"}), {}, list).empty());
}

TEST_CASE("a directory read file by file but never listed is no dataset", "[collector][dataset]")
{
    auto list = fake_tree({{"/p/data", {"a.csv", "b.csv"}}});
    CHECK(find_datasets({}, reads_of({"/p/data/a.csv", "/p/data/b.csv"}), {}, list).empty());
}

TEST_CASE("a subdirectory the job did not list keeps its parent from being a dataset", "[collector][dataset]")
{
    auto list = fake_tree(
        {{"/p/data", {"a.csv", "b.csv", "cache/"}}, {"/p/data/cache", {"x"}}, {"/p/data/more", {"m1", "m2"}}});
    CHECK(find_datasets({"/p/data"}, reads_of({"/p/data/a.csv", "/p/data/b.csv"}), {}, list).empty());
}

TEST_CASE("only the topmost dataset is recorded, and a complete subdirectory of an incomplete parent is one",
          "[collector][dataset]")
{
    auto list = fake_tree({{"/p/data", {"skipped.csv", "train/"}}, {"/p/data/train", {"t1", "t2"}}});
    auto found =
        find_datasets({"/p/data", "/p/data/train"}, reads_of({"/p/data/train/t1", "/p/data/train/t2"}), {}, list);
    REQUIRE(found.size() == 1);
    CHECK(found[0].path == "/p/data/train/");
}

TEST_CASE("a directory the job wrote or deleted in is no dataset", "[collector][dataset]")
{
    auto list = fake_tree({{"/p/data", {"a.csv", "b.csv"}}});
    const std::vector<std::string> paths{"/p/data/a.csv", "/p/data/b.csv"};
    const auto reads = reads_of(paths); // views into `paths`
    CHECK(find_datasets({"/p/data"}, reads, {"/p/data/gone.csv"}, list).empty());
    CHECK(find_datasets({"/p/data"}, reads, {"/p/database.db"}, list).size() == 1);
}

TEST_CASE("a directory of fewer than two files is no dataset", "[collector][dataset]")
{
    auto list = fake_tree({{"/p/one", {"a.csv"}}, {"/p/empty", {}}});
    CHECK(find_datasets({"/p/one", "/p/empty"}, reads_of({"/p/one/a.csv"}), {}, list).empty());
}

TEST_CASE("walking a dataset finds its regular files recursively, in byte order, without following symlinks",
          "[collector][dataset]")
{
    TempDir dir;
    std::filesystem::create_directories(dir / "d" / "sub");
    roar::test::write_file(dir / "d" / "b", "1");
    roar::test::write_file(dir / "d" / "sub" / "a", "2");
    std::filesystem::create_symlink(dir / "d" / "b", dir / "d" / "link");
    std::filesystem::create_directory_symlink(dir / "d" / "sub", dir / "d" / "linkdir");
    const std::string root = (dir / "d").string();
    auto files = walk_dataset(root + "/");
    REQUIRE(files);
    CHECK(*files == std::vector<std::string>{root + "/b", root + "/sub/a"});
    CHECK_FALSE(walk_dataset((dir / "absent").string()));
}

TEST_CASE("the tracker records a listed directory whose files the job read as a dataset input",
          "[collector][dataset][tracker]")
{
    TempDir dir;
    std::filesystem::create_directories(dir / "train");
    roar::test::write_file(dir / "train" / "a", "aaa");
    roar::test::write_file(dir / "train" / "b", "bb");
    JobTracker tracker(dir.path().string(), PathFilter(PathFilter::default_excludes(), {}),
                       [](const std::string& p) { return blake3_file(p); });
    uint64_t index = 0;
    auto send = [&](uint16_t op, int flags, int64_t result, std::string s1, std::string s2 = {}, std::string s3 = {}) {
        RawEvent e =
            roar::test::raw_event(op, 100, op == ROAR_OP_PROC_START ? 1 : ROAR_AT_FDCWD, flags, result, s1, s2, s3, 0);
        e.index = index++;
        tracker.on_event(e);
    };
    send(ROAR_OP_PROC_START, 0, 0, "/usr/bin/python3", dir.path().string(), std::string("python3\0job.py", 14));
    send(ROAR_OP_OPEN, O_RDONLY | O_DIRECTORY, 3, "train");
    send(ROAR_OP_OPEN, O_RDONLY, 4, "train/a");
    send(ROAR_OP_OPEN, O_RDONLY, 5, "train/b");
    JobRecord job;
    tracker.finish(job);
    REQUIRE(job.inputs.size() == 3);
    const ArtifactUse& d = job.inputs.back();
    CHECK(d.kind == "dataset");
    CHECK(d.path == (dir / "train").string() + "/");
    CHECK(*d.size == 5);
    CHECK(d.hashes.at("blake3") == dataset_digest({{"a", 3, blake3_hex("aaa")}, {"b", 2, blake3_hex("bb")}}));
}

namespace {

// The whole reads of S3 objects `uris`, each of size 3 with digest k_d1;
// the uris are kept for the test's run (ReadFile holds views).
std::vector<ReadFile> s3_reads_of(const std::vector<std::string>& uris)
{
    static std::set<std::string> kept;
    std::vector<ReadFile> out;
    for (const auto& u : uris) {
        out.push_back(ReadFile{*kept.insert(u).first, 3, k_d1});
    }
    std::sort(out.begin(), out.end(), [](const ReadFile& a, const ReadFile& b) { return a.path < b.path; });
    return out;
}

// A whole listing (first and last page seen) of `objects`, each of size 3.
S3Listing whole_listing(const std::vector<std::string>& objects, const std::vector<std::string>& common = {})
{
    S3Listing l;
    l.saw_first = true;
    l.saw_last = true;
    for (const auto& o : objects) {
        l.objects.push_back({o, 3});
    }
    l.common_prefixes = common;
    return l;
}

} // namespace

TEST_CASE("the S3 dataset digest is the dataset encoding under its own version tag", "[collector][dataset][s3]")
{
    std::string raw1;
    for (size_t i = 0; i < 64; i += 2) {
        raw1.push_back(char(std::stoi(k_d1.substr(i, 2), nullptr, 16)));
    }
    const std::string expected = "roar-s3-dataset-v1\n" + le64(3) + "a/x" + le64(3) + raw1;
    CHECK(s3_dataset_digest({{"a/x", 3, k_d1}}) == blake3_hex(expected));
    CHECK(s3_dataset_digest({{"a/x", 3, k_d1}}) != dataset_digest({{"a/x", 3, k_d1}}));
}

TEST_CASE("a wholly listed prefix whose every object was read is one S3 dataset", "[collector][dataset][s3]")
{
    std::map<std::string, S3Listing> listings{
        {"s3://b/train/", whole_listing({"s3://b/train/a", "s3://b/train/b"}, {"s3://b/train/sub/"})},
        {"s3://b/train/sub/", whole_listing({"s3://b/train/sub/c"})},
    };
    auto found =
        find_s3_datasets(listings, s3_reads_of({"s3://b/train/a", "s3://b/train/b", "s3://b/train/sub/c"}), {});
    REQUIRE(found.size() == 1);
    CHECK(found[0].path == "s3://b/train/");
    CHECK(found[0].bytes == 9);
    REQUIRE(found[0].members.size() == 3);
    CHECK(found[0].members[2].relative == "sub/c");
    CHECK(found[0].digest == s3_dataset_digest({{"a", 3, k_d1}, {"b", 3, k_d1}, {"sub/c", 3, k_d1}}));
}

TEST_CASE("an S3 prefix is no dataset when an object, a page or a common prefix was missed", "[collector][dataset][s3]")
{
    const auto all = s3_reads_of({"s3://b/p/a", "s3://b/p/b"});
    std::map<std::string, S3Listing> listings{{"s3://b/p/", whole_listing({"s3://b/p/a", "s3://b/p/b"})}};
    CHECK(find_s3_datasets(listings, all, {}).size() == 1);
    CHECK(find_s3_datasets(listings, s3_reads_of({"s3://b/p/a"}), {}).empty());

    auto unfinished = listings;
    unfinished["s3://b/p/"].saw_last = false;
    CHECK(find_s3_datasets(unfinished, all, {}).empty());
    auto no_start = listings;
    no_start["s3://b/p/"].saw_first = false;
    CHECK(find_s3_datasets(no_start, all, {}).empty());

    auto with_sub = listings;
    with_sub["s3://b/p/"].common_prefixes = {"s3://b/p/sub/"};
    CHECK(find_s3_datasets(with_sub, all, {}).empty());

    std::vector<ReadFile> resized = all;
    resized[1].size = 4; // changed between the listing and the read
    CHECK(find_s3_datasets(listings, resized, {}).empty());
    std::vector<ReadFile> ranged = all;
    ranged[1].blake3 = {}; // only part of it read
    CHECK(find_s3_datasets(listings, ranged, {}).empty());

    const std::vector<std::string_view> wrote{"s3://b/p/out"};
    CHECK(find_s3_datasets(listings, all, wrote).empty());
}

TEST_CASE("an S3 prefix that is not folder-like or has fewer than two objects is no dataset, only the topmost counts",
          "[collector][dataset][s3]")
{
    const auto all = s3_reads_of({"s3://b/p/a", "s3://b/p/q/b", "s3://b/p/q/c"});
    CHECK(find_s3_datasets({{"s3://b/p/q", whole_listing({"s3://b/p/q/b", "s3://b/p/q/c"})}}, all, {}).empty());
    CHECK(find_s3_datasets({{"s3://b/p/", whole_listing({"s3://b/p/a"})}}, all, {}).empty());
    auto nested = find_s3_datasets({{"s3://b/p/", whole_listing({"s3://b/p/a", "s3://b/p/q/b", "s3://b/p/q/c"})},
                                    {"s3://b/p/q/", whole_listing({"s3://b/p/q/b", "s3://b/p/q/c"})}},
                                   all, {});
    REQUIRE(nested.size() == 1);
    CHECK(nested[0].path == "s3://b/p/");
}

TEST_CASE("the tracker records a prefix listed over several pages whose objects the job read as an S3 dataset",
          "[collector][dataset][tracker][s3]")
{
    TempDir dir;
    JobTracker tracker(dir.path().string(), PathFilter(PathFilter::default_excludes(), {}),
                       [](const std::string& p) { return blake3_file(p); });
    uint64_t index = 0;
    auto send = [&](uint16_t op, int64_t result, std::string s1, std::string s2 = {}, std::string s3 = {}) {
        RawEvent e =
            roar::test::raw_event(op, 100, op == ROAR_OP_PROC_START ? 1 : ROAR_AT_FDCWD, 200, result, s1, s2, s3, 0);
        e.index = index++;
        tracker.on_event(e);
    };
    send(ROAR_OP_PROC_START, 0, "/usr/bin/python3", dir.path().string(), std::string("python3\0job.py", 14));
    send(ROAR_OP_S3_LIST_PAGE, 1, "s3://b/train/", {}, "truncated=1\nfirst=1\n");
    send(ROAR_OP_S3_LISTED, 3, "s3://b/train/a", "\"e1\"", "prefix=train/\n");
    send(ROAR_OP_S3_LIST_PAGE, 1, "s3://b/train/", {}, "truncated=0\n");
    send(ROAR_OP_S3_LISTED, 2, "s3://b/train/b", "\"e2\"", "prefix=train/\n");
    send(ROAR_OP_S3_GET, 3, "s3://b/train/a", "\"e1\"", "blake3=" + blake3_hex("aaa") + "\n");
    send(ROAR_OP_S3_GET, 2, "s3://b/train/b", "\"e2\"", "blake3=" + blake3_hex("bb") + "\n");
    JobRecord job;
    tracker.finish(job);
    REQUIRE(job.inputs.size() == 3);
    const ArtifactUse& d = job.inputs.back();
    CHECK(d.kind == "dataset");
    CHECK(d.path == "s3://b/train/");
    CHECK(*d.size == 5);
    CHECK(d.hashes.at("blake3") == s3_dataset_digest({{"a", 3, blake3_hex("aaa")}, {"b", 2, blake3_hex("bb")}}));
    CHECK(job.inputs[0].kind == "s3");
}
