// Datasets: a directory or S3 prefix a job read as a whole, recorded as one
// artifact besides its member files. Holds the rules that decide which
// listed directories and prefixes count (find_datasets, find_s3_datasets),
// the digests' byte encodings (dataset_digest, s3_dataset_digest) and the
// walk `roar status` repeats (walk_dataset).
// docs/ARCHITECTURE.md ("Datasets") explains the choices.
#pragma once

#include "roar/collector/result.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roar::collector {

// One file of a dataset: its path relative to the dataset's directory
// (bytes, '/'-separated, never starting with '/'), size and BLAKE3 (hex).
struct DatasetMember {
    std::string relative;
    uint64_t size = 0;
    std::string blake3;
};

// Returns the dataset digest of `members` (any order): BLAKE3, as lowercase
// hex, of "roar-dataset-v1\n" followed, for each member in byte order of
// its relative path, by the path's length as 8 bytes little-endian, the
// path's bytes, the size as 8 bytes little-endian and the member's 32-byte
// BLAKE3 (decoded from hex; a malformed digest is hashed as its text).
std::string dataset_digest(std::vector<DatasetMember> members);

// Returns the digest of an S3 prefix dataset: dataset_digest's encoding
// with the tag "roar-s3-dataset-v1\n", each member's relative path being
// its key without the prefix and its digest the object's BLAKE3.
std::string s3_dataset_digest(std::vector<DatasetMember> members);

// One entry of a directory listing.
struct DirectoryEntry {
    enum class Type { file, directory, other } type = Type::other; // other: symlinks, devices, fifos, sockets
    std::string name;
};

// Lists the directory `path` (without "." and ".."); an error when it cannot.
using DirectoryLister = std::function<Result<std::vector<DirectoryEntry>>(const std::string& path)>;
// The file system's lister (readdir, with lstat when d_type is unknown).
Result<std::vector<DirectoryEntry>> list_directory(const std::string& path);

// A file a job read, as find_datasets sees it.
struct ReadFile {
    std::string_view path; // absolute
    uint64_t size = 0;
    std::string_view blake3;
};

struct FoundDataset {
    std::string path; // the directory, absolute, with a trailing '/'
    std::vector<DatasetMember> members;
    uint64_t bytes = 0;
    std::string digest; // dataset_digest(members)
};

// The smallest number of files a dataset has: one file is just a file.
inline constexpr size_t k_min_dataset_files = 2;

// Returns the datasets among the directories a job listed: a directory in
// `listed` (absolute, no trailing '/') counts when, at the job's end, every
// regular file in it was read by the job (in `reads`, sorted by path), every
// subdirectory was listed too and counts, no path under it is in `changed`
// (the job's outputs and deletions, sorted), and it holds at least
// k_min_dataset_files files in all; only the topmost such directories are
// returned, in path order. `list` reads a directory (list_directory by default).
std::vector<FoundDataset> find_datasets(const std::vector<std::string>& listed, const std::vector<ReadFile>& reads,
                                        const std::vector<std::string_view>& changed,
                                        const DirectoryLister& list = list_directory);

// What a job's ListObjects(V2) calls returned for one prefix, all pages together.
struct S3Listing {
    struct Object {
        std::string uri; // s3://bucket/key
        uint64_t size = 0;
    };
    bool saw_first = false; // a page that starts the listing
    bool saw_last = false;  // a page that is not truncated
    std::vector<Object> objects;
    std::vector<std::string> common_prefixes; // s3://bucket/prefix/
};

// Returns the S3 datasets among the prefixes a job listed (`listings`, by
// "s3://bucket/prefix"): a prefix counts when it is empty or ends in '/',
// its listing was whole (a first and a last page seen), every object it
// returned was read whole by the job (in `reads`, sorted by uri, with the
// listed size and a BLAKE3), every common prefix it returned counts too,
// nothing under it is in `changed` (sorted) and it holds at least
// k_min_dataset_files objects; only the topmost are returned, by uri.
std::vector<FoundDataset> find_s3_datasets(const std::map<std::string, S3Listing>& listings,
                                           const std::vector<ReadFile>& reads,
                                           const std::vector<std::string_view>& changed);

// A dataset directory as it is now: every regular file under `directory`
// (absolute, trailing '/' optional), recursively, symlinks not followed,
// as absolute paths in byte order; an error when the directory cannot be
// listed. Subdirectories that cannot be listed are skipped.
Result<std::vector<std::string>> walk_dataset(const std::string& directory,
                                              const DirectoryLister& list = list_directory);

} // namespace roar::collector
