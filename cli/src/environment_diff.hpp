// Comparing two jobs' environment records (what `roar env` prints):
// machine facts, Python interpreters with their imported distributions,
// and Debian packages, as one list of changes that `roar diff` prints and
// returns as JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace roar::cli {

// One way the second record differs from the first.
struct EnvironmentChange {
    std::string what;          // "machine", "python", "package" or "debian"
    std::string name;          // the machine fact, interpreter, distribution or Debian package (name:architecture)
    std::string before, after; // "" when absent on that side
    std::string python;        // for a package: the interpreter that imported it
};

// The string member `key` of JSON object `j`; "" when it is absent or not
// a string (environment records leave out what was not found).
std::string json_text(const nlohmann::json& j, const char* key);

// A distribution name as installers compare them: lower case, runs of
// '-', '_' and '.' as one '_'; `name` as recorded.
std::string normalized_distribution_name(std::string_view name);

// The changes from environment record `before` to record `after` (both as
// `roar env --json` shows them): machine facts, interpreters added, removed
// or at another version, each interpreter's imported distributions (by
// normalized name) and the Debian packages; machine facts first, then by
// name; empty when nothing differs.
std::vector<EnvironmentChange> compare_environment_records(const nlohmann::json& before, const nlohmann::json& after);

// The one-line form of `change`, as `roar diff` prints it.
std::string describe_environment_change(const EnvironmentChange& change);

// `change` as a JSON object (what, name, before, after and, for packages, python).
nlohmann::json environment_change_json(const EnvironmentChange& change);

} // namespace roar::cli
