// roar.toml handling (see config.hpp).
#include "config.hpp"

#include "roar/collector/extra_digests.hpp"
#include "roar/collector/redact.hpp"
#include "roar/collector/s3_routing.hpp"
#include "roar/collector/store/postgres_engine.hpp"

#include <toml++/toml.h>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace roar::cli {

const std::vector<ConfigKey>& config_keys()
{
    static const std::vector<ConfigKey> keys = {
        {"run.ring_size_mb", "int", "64", "size of the shared-memory event ring of each job, in MiB", 1, 4096},
        {"run.sync_timeout_ms", "int", "10000",
         "longest a traced process waits for roar to hash a file it is about to overwrite (0: never waits)", 0, 600000},
        {"run.tracer", "string", "\"auto\"",
         "ptrace tracing of what the shim cannot enter: \"auto\" (static and Go programs), \"complete\" (every "
         "process, catching raw syscalls too; costs a stop per file syscall) or \"off\""},
        {"run.capture_environment", "bool", "true",
         "record the environment each job ran in: machine, Python versions and imported packages, Debian packages"},
        {"run.record_all_packages", "bool", "false",
         "also record every installed distribution of each Python interpreter, not only those the job imported"},
        {"run.hash", "string-list", "[]",
         "digests recorded in addition to BLAKE3 for the job's files: [\"sha256\"] (as 'roar run --hash sha256')"},
        {"filter.defaults", "bool", "true",
         "exclude system and interpreter files (/usr, /proc, site-packages, .pyc, ...) from inputs and outputs"},
        {"filter.exclude", "string-list", "[]",
         "more paths never recorded: 'dir/' prefixes or globs ('*' crosses '/'); '~/' is your home"},
        {"filter.include", "string-list", "[]", "paths always recorded, even when excluded above"},
        {"store.url", "string", "\"\"",
         "shared PostgreSQL store, postgresql://USER@HOST:PORT/DB (empty: .roar/roar.db; never put a password here: "
         "use ~/.pgpass, PGPASSFILE or PGPASSWORD)"},
        {"store.project", "string", "\"\"", "the project's name in the shared store (roar init --join NAME)"},
        {"proxy.enabled", "bool", "false", "route the job's S3 calls through roar-proxy to record S3 lineage"},
        {"proxy.port", "int", "9090", "port of the standalone daemon ('roar proxy start')", 1, 65535},
        {"proxy.daemon_idle_seconds", "int", "60",
         "the standalone daemon stores a client process's job after this many seconds without a call from it", 1,
         86400},
        {"proxy.daemon_exit_check_ms", "int", "250",
         "how often the standalone daemon looks for client processes that exited, to store their jobs (ms)", 10, 60000},
        {"proxy.upstream_endpoint", "string", "\"\"",
         "S3 endpoint to forward to (empty: https://s3.<region>.amazonaws.com)"},
        {"proxy.s3_hosts", "string-list", "[]",
         "more S3 endpoints routed to the job's proxy (MinIO, Ceph...): host, host:port, *.suffix, ip[:port] or "
         "[v6]:port, optionally with http:// or https://"},
        {"proxy.forward_checksums", "bool", "false",
         "pass a client's verified trailing checksum (aws-chunked trailer) on to the upstream as aws-chunked: only "
         "for upstreams that decode aws-chunked (AWS S3, MinIO, moto; not s3rver)"},
        {"proxy.intercept_tls", "bool", "false",
         "also route S3 connections that use TLS (HTTPS); off: they are not observed and the job gets a note"},
        {"redact.extra_patterns", "string-list", "[]",
         "more secrets to redact from recorded commands, environment and URLs: extended regular expressions "
         "(case-insensitive); a capture group limits redaction to that part (docs/redaction.md)"},
        {"export.openlineage_schema_base", "string", "\"\"",
         "where roar's OpenLineage facet schemas are published, the base of their _schemaURL (empty: "
         "file:///usr/share/roar/openlineage/facets, where the package installs them)"},
        {"export.openlineage_producer", "string", "\"\"",
         "the producer URI of exported OpenLineage events, e.g. the repository and tag roar was built from (empty: "
         "https://roar.invalid/roar/releases/VERSION)"},
    };
    return keys;
}

namespace {

const ConfigKey* find_key(const std::string& name)
{
    for (const auto& key : config_keys()) {
        if (name == key.name) {
            return &key;
        }
    }
    return nullptr;
}

// An absolute URL ("scheme://..."), without spaces, or empty.
Result<void> check_absolute_url(const std::string& base)
{
    const size_t colon = base.find("://");
    const bool scheme =
        colon != std::string::npos && colon > 0 && std::all_of(base.begin(), base.begin() + long(colon), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-'
                   || c == '.';
        });
    const bool clean = std::none_of(base.begin(), base.end(), [](char c) { return c <= ' ' || c == '#' || c == '?'; });
    if (!base.empty() && !(scheme && clean && colon + 3 < base.size())) {
        return fail("'{}' is not an absolute URL (expected scheme://host/path, e.g. https://example.com/roar)", base);
    }
    return {};
}

std::string valid_keys()
{
    std::string out;
    for (const auto& key : config_keys()) {
        out += out.empty() ? "" : ", ";
        out += key.name;
    }
    return out;
}

// Checks `node` against the key's type; returns an error text or "".
std::string type_error(const ConfigKey& key, const toml::node& node)
{
    const std::string type = key.type;
    if (type == "bool" && !node.is_boolean()) {
        return "expected true or false";
    }
    if (type == "int") {
        if (!node.is_integer()) {
            return fmt::format("expected a whole number from {} to {}", key.min, key.max);
        }
        const int64_t value = node.value<int64_t>().value_or(key.min - 1);
        if (value < key.min || value > key.max) {
            return fmt::format("{} is out of range (valid: {} to {})", value, key.min, key.max);
        }
    }
    if (type == "string" && !node.is_string()) {
        return "expected a quoted string";
    }
    if (type == "string-list") {
        const auto* arr = node.as_array();
        if (!arr || !arr->is_homogeneous(toml::node_type::string)) {
            if (!(arr && arr->empty())) {
                return "expected a list of strings, e.g. [\"data/raw/\", \"*.tmp\"]";
            }
        }
    }
    return "";
}

Result<toml::table> parse(const fs::path& path)
{
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        return toml::table{};
    }
    try {
        return toml::parse_file(path.string());
    } catch (const toml::parse_error& e) {
        return fail("{}:{}:{}: {}", path.string(), e.source().begin.line, e.source().begin.column,
                    std::string(e.description()));
    }
}

std::vector<std::string> strings_of(const toml::node* node)
{
    std::vector<std::string> out;
    if (const auto* arr = node ? node->as_array() : nullptr) {
        for (const auto& item : *arr) {
            out.push_back(item.value<std::string>().value_or(""));
        }
    }
    return out;
}

} // namespace

Result<Config> Config::load(const fs::path& path)
{
    auto table = parse(path);
    if (!table) {
        return tl::unexpected(table.error());
    }
    // Reject what we do not know before reading what we do.
    for (const auto& [section, node] : *table) {
        const auto* sub = node.as_table();
        if (!sub) {
            return fail("{}: '{}' is not a section; valid keys: {}", path.string(), section.str(), valid_keys());
        }
        for (const auto& [name, value] : *sub) {
            const std::string full = std::string(section.str()) + "." + std::string(name.str());
            const ConfigKey* key = find_key(full);
            if (!key) {
                return fail("{}: unknown key '{}'; valid keys: {}", path.string(), full, valid_keys());
            }
            if (auto err = type_error(*key, value); !err.empty()) {
                return fail("{}: {}: {}", path.string(), full, err);
            }
        }
    }
    Config c;
    const toml::table& t = *table;
    // Every int key was range-checked above (type_error).
    c.ring_size_mb = uint64_t(t["run"]["ring_size_mb"].value_or<int64_t>(int64_t(c.ring_size_mb)));
    c.sync_timeout_ms = uint32_t(t["run"]["sync_timeout_ms"].value_or<int64_t>(c.sync_timeout_ms));
    c.tracer = t["run"]["tracer"].value_or(c.tracer);
    if (c.tracer != "auto" && c.tracer != "complete" && c.tracer != "off") {
        return fail("{}: run.tracer must be \"auto\", \"complete\" or \"off\", not \"{}\"", path.string(), c.tracer);
    }
    c.capture_environment = t["run"]["capture_environment"].value_or(c.capture_environment);
    c.record_all_packages = t["run"]["record_all_packages"].value_or(c.record_all_packages);
    c.hash = strings_of(t["run"]["hash"].node());
    if (auto ok = collector::parse_extra_digests(c.hash); !ok) {
        return fail("{}: run.hash: {}", path.string(), ok.error().message);
    }
    c.filter_defaults = t["filter"]["defaults"].value_or(c.filter_defaults);
    c.filter_exclude = strings_of(t["filter"]["exclude"].node());
    c.filter_include = strings_of(t["filter"]["include"].node());
    c.proxy_enabled = t["proxy"]["enabled"].value_or(c.proxy_enabled);
    c.proxy_port = int(t["proxy"]["port"].value_or<int64_t>(c.proxy_port));
    c.proxy_daemon_idle_seconds =
        uint32_t(t["proxy"]["daemon_idle_seconds"].value_or<int64_t>(c.proxy_daemon_idle_seconds));
    c.proxy_daemon_exit_check_ms =
        uint32_t(t["proxy"]["daemon_exit_check_ms"].value_or<int64_t>(c.proxy_daemon_exit_check_ms));
    c.proxy_upstream = t["proxy"]["upstream_endpoint"].value_or(std::string());
    c.proxy_forward_checksums = t["proxy"]["forward_checksums"].value_or(c.proxy_forward_checksums);
    c.redact_extra_patterns = strings_of(t["redact"]["extra_patterns"].node());
    if (auto redactor = collector::Redactor::create(c.redact_extra_patterns); !redactor) {
        return fail("{}: {}", path.string(), redactor.error().message);
    }
    c.store_url = t["store"]["url"].value_or(std::string());
    c.store_project = t["store"]["project"].value_or(std::string());
    if (!collector::split_store_url_password(c.store_url).password.empty()) {
        return fail("{}: store.url holds a password; remove it and put it in ~/.pgpass (or PGPASSFILE, "
                    "PGPASSWORD) instead",
                    path.string());
    }
    c.openlineage_schema_base = t["export"]["openlineage_schema_base"].value_or(std::string());
    if (auto ok = check_absolute_url(c.openlineage_schema_base); !ok) {
        return fail("{}: export.openlineage_schema_base: {}", path.string(), ok.error().message);
    }
    c.openlineage_producer = t["export"]["openlineage_producer"].value_or(std::string());
    if (auto ok = check_absolute_url(c.openlineage_producer); !ok) {
        return fail("{}: export.openlineage_producer: {}", path.string(), ok.error().message);
    }
    c.proxy_s3_hosts = strings_of(t["proxy"]["s3_hosts"].node());
    c.proxy_intercept_tls = t["proxy"]["intercept_tls"].value_or(c.proxy_intercept_tls);
    for (const auto& host : c.proxy_s3_hosts) {
        if (auto ok = collector::check_s3_host_entry(host); !ok) {
            return fail("{}: proxy.s3_hosts: {}", path.string(), ok.error().message);
        }
    }
    return c;
}

std::string default_config_text()
{
    std::string out = "# roar project configuration. 'roar config list' shows every key;\n"
                      "# 'roar config set KEY VALUE' edits this file.\n";
    std::string section;
    for (const auto& key : config_keys()) {
        const std::string name = key.name;
        const std::string sec = name.substr(0, name.find('.'));
        if (sec != section) {
            out += "\n[" + sec + "]\n";
            section = sec;
        }
        out += fmt::format("# {}\n{} = {}\n", key.description, name.substr(sec.size() + 1), key.default_toml);
    }
    return out;
}

Result<std::string> config_get(const fs::path& path, const std::string& name)
{
    const ConfigKey* key = find_key(name);
    if (!key) {
        return fail("unknown key '{}'; valid keys: {}", name, valid_keys());
    }
    auto table = parse(path);
    if (!table) {
        return tl::unexpected(table.error());
    }
    const toml::node* node = table->at_path(name).node();
    if (!node) {
        return std::string(key->default_toml);
    }
    std::ostringstream os;
    if (const auto* arr = node->as_array()) {
        os << toml::toml_formatter(*arr);
    } else {
        node->visit([&](const auto& v) {
            if constexpr (toml::is_value<decltype(v)>) {
                os << v;
            }
        });
    }
    return os.str();
}

Result<void> config_set(const fs::path& path, const std::string& name, const std::string& value)
{
    const ConfigKey* key = find_key(name);
    if (!key) {
        return fail("unknown key '{}'; valid keys: {}", name, valid_keys());
    }
    // Accept bare words for strings ("roar config set proxy.upstream_endpoint http://...").
    std::string toml_value = value;
    if (std::string(key->type) == "string" && (value.empty() || value.front() != '"')) {
        std::ostringstream os;
        os << toml::value<std::string>(value);
        toml_value = os.str();
    }
    if (name == "store.url" && !value.empty() && !collector::is_postgres_url(value)) {
        return fail("store.url: {} is not a store roar can use (expected postgresql://USER@HOST:PORT/DB, or \"\" for "
                    "the project's own SQLite file)",
                    collector::redact_store_url(value));
    }
    if (name == "store.url" && !collector::split_store_url_password(value).password.empty()) {
        return fail("store.url: a password is never written to roar.toml; put it in ~/.pgpass (or PGPASSFILE, "
                    "PGPASSWORD) and set {}",
                    collector::split_store_url_password(value).url);
    }
    const std::string section = name.substr(0, name.find('.'));
    const std::string leaf = name.substr(section.size() + 1);
    try {
        auto parsed = toml::parse("v = " + toml_value);
        if (auto err = type_error(*key, *parsed["v"].node()); !err.empty()) {
            return fail("{}: {} (got {})", name, err, value);
        }
    } catch (const toml::parse_error&) {
        if (std::string_view(key->type) == "int") { // also a number too large for TOML's 64 bits
            return fail("{}: '{}' is not a whole number from {} to {}", name, value, key->min, key->max);
        }
        return fail("{}: '{}' is not a valid {} value", name, value, key->type);
    }

    std::vector<std::string> lines;
    {
        std::ifstream in(path);
        for (std::string line; std::getline(in, line);) {
            lines.push_back(line);
        }
    }
    auto trim = [](std::string s) {
        const size_t b = s.find_first_not_of(" \t");
        const size_t e = s.find_last_not_of(" \t");
        return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    std::string current;
    int section_end = -1;
    bool done = false;
    for (size_t i = 0; i < lines.size() && !done; ++i) {
        const std::string t = trim(lines[i]);
        if (!t.empty() && t.front() == '[') {
            current = trim(t.substr(1, t.find(']') - 1));
            continue;
        }
        if (current != section) {
            continue;
        }
        section_end = int(i);
        const size_t eq = t.find('=');
        if (!t.empty() && t.front() != '#' && eq != std::string::npos && trim(t.substr(0, eq)) == leaf) {
            lines[i] = leaf + " = " + toml_value;
            done = true;
        }
    }
    if (!done) {
        if (section_end >= 0) {
            lines.insert(lines.begin() + section_end + 1, leaf + " = " + toml_value);
        } else {
            lines.push_back("");
            lines.push_back("[" + section + "]");
            lines.push_back(leaf + " = " + toml_value);
        }
    }
    std::string text;
    for (const auto& line : lines) {
        text += line + "\n";
    }
    // Validate the whole result before replacing the file.
    const fs::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp);
        out << text;
        if (!out) {
            return fail("cannot write {}", tmp.string());
        }
    }
    if (auto check = Config::load(tmp); !check) {
        fs::remove(tmp);
        return tl::unexpected(check.error());
    }
    fs::rename(tmp, path);
    return {};
}

} // namespace roar::cli
