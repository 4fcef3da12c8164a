// Digests recorded in addition to BLAKE3 (`roar run --hash sha256`, run.hash
// in roar.toml), for users whose other tools name files by SHA-256. BLAKE3
// stays the artifact identity; the extra digest is taken of the same bytes
// or not at all: each file is read once more after the job, BLAKE3 and the
// extra algorithm over the same pass, and the extra digest is kept only
// when that BLAKE3 matches the recorded one (a file the job rewrote after
// reading it gets a note instead).
#pragma once

#include "roar/collector/job_record.hpp"
#include "roar/collector/result.hpp"

#include <string>
#include <vector>

namespace roar::collector {

// The extra algorithms roar can record ("sha256").
const std::vector<std::string>& extra_digest_algorithms();

// `names` (e.g. {"sha256"}, "blake3" allowed and ignored) checked against
// extra_digest_algorithms(), or an error naming the first unknown one.
Result<std::vector<std::string>> parse_extra_digests(const std::vector<std::string>& names);

// Adds the digest of each algorithm in `algorithms` to every file input
// and output of `job` that has a BLAKE3 digest, reading each file once; a
// file whose content no longer has its recorded BLAKE3 (or cannot be read)
// gets a note saying the extra digest was not taken.
void add_extra_digests(JobRecord& job, const std::vector<std::string>& algorithms);

// Lowercase hex SHA-256 of `data` (for tests and small inputs).
std::string sha256_hex(std::string_view data);

} // namespace roar::collector
