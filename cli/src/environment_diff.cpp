// Comparing two environment records (see environment_diff.hpp). The Debian
// part is reproduce's comparison of recorded packages with an installed
// list, run both ways: the second record's packages stand for "installed".
#include "environment_diff.hpp"

#include "reproduce_plan.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

namespace roar::cli {

namespace {

// A machine fact as text: a string, a number, or the GPUs' names.
std::string machine_fact(const nlohmann::json& machine, const char* key)
{
    const auto it = machine.find(key);
    if (it == machine.end() || it->is_null()) {
        return "";
    }
    if (it->is_string()) {
        return it->get<std::string>();
    }
    if (it->is_array()) {
        std::vector<std::string> names;
        for (const auto& g : *it) {
            names.push_back(json_text(g, "name"));
        }
        return names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "));
    }
    return it->dump();
}

// Interpreters of record `e` by executable.
std::map<std::string, const nlohmann::json*> interpreters(const nlohmann::json& e)
{
    std::map<std::string, const nlohmann::json*> out;
    if (const auto p = e.find("python"); p != e.end() && p->is_array()) {
        for (const auto& python : *p) {
            out.emplace(json_text(python, "executable"), &python);
        }
    }
    return out;
}

// The imported distributions of `python` (null for none): normalized name
// -> (name as recorded, version).
std::map<std::string, std::pair<std::string, std::string>> imported(const nlohmann::json* python)
{
    std::map<std::string, std::pair<std::string, std::string>> out;
    if (python == nullptr) {
        return out;
    }
    for (const auto& pkg : python->value("packages", nlohmann::json::array())) {
        const std::string name = json_text(pkg, "name");
        out.emplace(normalized_distribution_name(name), std::pair(name, json_text(pkg, "version")));
    }
    return out;
}

// The keys of maps `a` and `b` together, sorted.
template <typename Map> std::set<std::string> keys_of(const Map& a, const Map& b)
{
    std::set<std::string> keys;
    for (const auto& [key, value] : a) {
        keys.insert(key);
    }
    for (const auto& [key, value] : b) {
        keys.insert(key);
    }
    return keys;
}

void compare_machines(const nlohmann::json& before, const nlohmann::json& after, std::vector<EnvironmentChange>& out)
{
    const nlohmann::json none = nlohmann::json::object();
    const auto& a = before.contains("machine") && before["machine"].is_object() ? before["machine"] : none;
    const auto& b = after.contains("machine") && after["machine"].is_object() ? after["machine"] : none;
    for (const char* key : {"os", "kernel", "arch", "cpu", "cpu_count", "memory_bytes", "gpus"}) {
        std::string x = machine_fact(a, key), y = machine_fact(b, key);
        if (x != y) {
            out.push_back({"machine", key, std::move(x), std::move(y), ""});
        }
    }
}

void compare_pythons(const nlohmann::json& before, const nlohmann::json& after, std::vector<EnvironmentChange>& out)
{
    const auto a = interpreters(before), b = interpreters(after);
    for (const auto& exe : keys_of(a, b)) {
        const auto x = a.find(exe), y = b.find(exe);
        const nlohmann::json* pa = x == a.end() ? nullptr : x->second;
        const nlohmann::json* pb = y == b.end() ? nullptr : y->second;
        const std::string va = pa ? json_text(*pa, "version") : "", vb = pb ? json_text(*pb, "version") : "";
        if (!pa || !pb || va != vb) {
            out.push_back({"python", exe, va, vb, ""});
        }
        const auto da = imported(pa), db = imported(pb);
        for (const auto& n : keys_of(da, db)) {
            const auto i = da.find(n), j = db.find(n);
            const std::string shown = j != db.end() ? j->second.first : i->second.first;
            const std::string wa = i == da.end() ? "" : i->second.second, wb = j == db.end() ? "" : j->second.second;
            if (i == da.end() || j == db.end() || wa != wb) {
                out.push_back({"package", shown, wa, wb, exe});
            }
        }
    }
}

// The Debian packages of record `e` as an installed list.
std::vector<DebianPackage> debian_packages(const nlohmann::json& e)
{
    std::vector<DebianPackage> out;
    for (const auto& p : e.value("system_packages", nlohmann::json::array())) {
        out.push_back({json_text(p, "name"), json_text(p, "version"), json_text(p, "architecture")});
    }
    return out;
}

void compare_debian(const nlohmann::json& before, const nlohmann::json& after, std::vector<EnvironmentChange>& out)
{
    PlanJob a, b;
    a.environment = before;
    b.environment = after;
    auto label = [](const DebianDifference& d) {
        return d.architecture.empty() ? d.name : d.name + ":" + d.architecture;
    };
    std::map<std::string, EnvironmentChange> found;
    // Removed or changed: `before`'s packages against `after`'s as installed.
    for (const auto& d : debian_package_differences({a}, debian_packages(after))) {
        found.try_emplace(label(d), EnvironmentChange{"debian", label(d), d.recorded, d.here, ""});
    }
    // Added: `after`'s packages `before` lacks (changes were found above).
    for (const auto& d : debian_package_differences({b}, debian_packages(before))) {
        if (d.here.empty()) {
            found.try_emplace(label(d), EnvironmentChange{"debian", label(d), "", d.recorded, ""});
        }
    }
    for (auto& [name, change] : found) {
        out.push_back(std::move(change));
    }
}

} // namespace

std::string json_text(const nlohmann::json& j, const char* key)
{
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string normalized_distribution_name(std::string_view name)
{
    std::string out;
    for (char c : name) {
        if (c == '-' || c == '_' || c == '.') {
            if (out.empty() || out.back() != '_') {
                out += '_';
            }
        } else {
            out += char(std::tolower(static_cast<unsigned char>(c)));
        }
    }
    return out;
}

std::vector<EnvironmentChange> compare_environment_records(const nlohmann::json& before, const nlohmann::json& after)
{
    std::vector<EnvironmentChange> out;
    const nlohmann::json none = nlohmann::json::object();
    const auto& a = before.is_object() ? before : none;
    const auto& b = after.is_object() ? after : none;
    compare_machines(a, b, out);
    compare_pythons(a, b, out);
    compare_debian(a, b, out);
    return out;
}

std::string describe_environment_change(const EnvironmentChange& c)
{
    const std::string subject = c.what == "machine" ? "machine " + c.name : c.what + " " + c.name;
    const std::string where = c.python.empty() ? "" : fmt::format(" (python {})", c.python);
    if (c.before.empty() && c.what != "machine") {
        return fmt::format("{} added: {}{}", subject, c.after, where);
    }
    if (c.after.empty() && c.what != "machine") {
        return fmt::format("{} removed: {}{}", subject, c.before, where);
    }
    return fmt::format("{}: {} -> {}{}", subject, c.before.empty() ? "(none)" : c.before,
                       c.after.empty() ? "(none)" : c.after, where);
}

nlohmann::json environment_change_json(const EnvironmentChange& c)
{
    nlohmann::json j = {{"what", c.what}, {"name", c.name}, {"before", c.before}, {"after", c.after}};
    if (!c.python.empty()) {
        j["python"] = c.python;
    }
    return j;
}

} // namespace roar::cli
