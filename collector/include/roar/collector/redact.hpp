// Secrets in what roar records: the one place that decides which parts of
// a job's command lines, environment, URLs and notes are replaced by
// "<redacted>" before anything is stored or printed. The rules (option
// and variable names, URL passwords and signed query parameters,
// Authorization headers, well-known token shapes, program-specific short
// options such as `mysql -pX`) are documented in docs/redaction.md;
// roar.toml's `redact.extra_patterns` adds regular expressions.
#pragma once

#include "roar/collector/job_record.hpp"
#include "roar/collector/result.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace roar::collector {

// What a redacted value is replaced with.
inline constexpr std::string_view k_redacted = "<redacted>";

class Redactor {
public:
    // The built-in rules plus `extra_patterns`: POSIX extended regular
    // expressions (case-insensitive) whose first capture groups, or whole
    // match when they have none, are redacted wherever they match. An
    // invalid pattern is an error naming it.
    static Result<Redactor> create(const std::vector<std::string>& extra_patterns = {});

    // `args` (a command line, argv[0] first) with every secret replaced:
    // values of secret-named options (`--password=x`, `--token x`), secret
    // `NAME=value` assignments, program-specific short options, and secret
    // shapes inside each argument; an argument with spaces (`sh -c '...'`)
    // is read as shell words with the same rules.
    std::vector<std::string> argv(std::vector<std::string> args) const;

    // The value of environment variable `name` as it may be recorded:
    // "<redacted>" when the name says secret (PASS, SECRET, TOK, SIGNING,
    // CREDENTIAL, ..., KEY/AUTH/SESSION when the value looks like a key),
    // else `value` with secret shapes (URL passwords, tokens) redacted.
    std::string env_value(std::string_view name, std::string_view value) const;

    // Free text (a URL, a git remote, a note) with secret shapes redacted.
    std::string text(std::string_view text) const;

    // Redacts a finished job record in place before it is stored or shown:
    // argv and command, the recorded environment, every process's argv,
    // the git remote and the notes.
    void apply(JobRecord& job) const;

private:
    struct Pattern;
    std::vector<std::shared_ptr<const Pattern>> m_extra;
};

} // namespace roar::collector
