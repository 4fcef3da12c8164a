// gateway.toml: parsing, ${ENV} expansion, credential references and the
// checks that tie backends, buckets and tenants together (see config.hpp).
#include "roar/proxy/gateway/config.hpp"

#include "result_try.hpp"

#include "roar/collector/path_filter.hpp"

#include <toml++/toml.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace roar::proxy::gateway {

std::string_view placement_name(Placement p) { return p == Placement::first_fit ? "first-fit" : "most-free"; }

std::optional<Placement> parse_placement(std::string_view text)
{
    if (text == "first-fit") {
        return Placement::first_fit;
    }
    if (text == "most-free") {
        return Placement::most_free;
    }
    return std::nullopt;
}

const BackendConfig* GatewayConfig::backend(std::string_view name) const
{
    for (const auto& b : backends) {
        if (b.name == name) {
            return &b;
        }
    }
    return nullptr;
}

const BucketConfig* GatewayConfig::bucket(std::string_view tenant, std::string_view name) const
{
    for (const auto& b : buckets) {
        if (b.name == name && b.tenant == tenant) {
            return &b;
        }
    }
    return nullptr;
}

const TenantSettings& GatewayConfig::tenant_settings(std::string_view name) const
{
    for (const auto& t : tenants) {
        if (t.name == name) {
            return t;
        }
    }
    return tenant_defaults;
}

Result<std::string> expand_env(std::string_view text, const EnvLookup& env)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '$') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '$') {
            out.push_back('$');
            ++i;
            continue;
        }
        if (i + 1 >= text.size() || text[i + 1] != '{') {
            out.push_back('$');
            continue;
        }
        const std::size_t close = text.find('}', i + 2);
        if (close == std::string_view::npos) {
            return fail("unterminated ${{ in \"{}\"", text);
        }
        std::string_view inner = text.substr(i + 2, close - i - 2);
        std::optional<std::string_view> fallback;
        if (const auto dash = inner.find(":-"); dash != std::string_view::npos) {
            fallback = inner.substr(dash + 2);
            inner = inner.substr(0, dash);
        }
        const bool valid = !inner.empty() && std::all_of(inner.begin(), inner.end(), [](char c) {
            return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        });
        if (!valid) {
            return fail("\"${{{}}}\" is not a variable name (letters, digits and '_')", inner);
        }
        auto value = env(inner);
        if (value && !value->empty()) {
            out += *value;
        } else if (fallback) {
            out += *fallback;
        } else {
            return fail("environment variable {} is not set (used as ${{{}}})", inner, inner);
        }
        i = close;
    }
    return out;
}

std::optional<std::uint64_t> parse_byte_size(std::string_view text)
{
    std::uint64_t n = 0;
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, n);
    if (ec != std::errc() || p == text.data()) {
        return std::nullopt;
    }
    std::string_view unit(p, static_cast<std::size_t>(end - p));
    while (!unit.empty() && unit.front() == ' ') {
        unit.remove_prefix(1);
    }
    static const std::pair<std::string_view, std::uint64_t> k_units[] = {
        {"", 1},
        {"B", 1},
        {"KB", 1000ull},
        {"MB", 1000ull * 1000},
        {"GB", 1000ull * 1000 * 1000},
        {"TB", 1000ull * 1000 * 1000 * 1000},
        {"KiB", 1ull << 10},
        {"MiB", 1ull << 20},
        {"GiB", 1ull << 30},
        {"TiB", 1ull << 40},
    };
    for (const auto& [name, factor] : k_units) {
        if (unit == name) {
            if (n > UINT64_MAX / factor) {
                return std::nullopt;
            }
            return n * factor;
        }
    }
    return std::nullopt;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text)
{
    std::uint64_t n = 0;
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, n);
    if (ec != std::errc() || p == text.data()) {
        return std::nullopt;
    }
    const std::string_view unit(p, static_cast<std::size_t>(end - p));
    std::uint64_t factor = 0;
    if (unit == "ms") {
        factor = 1;
    } else if (unit == "s") {
        factor = 1000;
    } else if (unit == "m") {
        factor = 60 * 1000;
    } else if (unit == "h") {
        factor = 3600 * 1000;
    } else if (unit == "d") {
        factor = 24ull * 3600 * 1000;
    } else {
        return std::nullopt;
    }
    constexpr std::uint64_t k_max_ms = 100ull * 365 * 24 * 3600 * 1000;
    if (n > k_max_ms / factor) {
        return std::nullopt;
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(n * factor));
}

bool valid_bucket_name(std::string_view name)
{
    if (name.size() < 3 || name.size() > 63) {
        return false;
    }
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(name.front()) || !alnum(name.back())) {
        return false;
    }
    for (const char c : name) {
        if (!alnum(c) && c != '-' && c != '.') {
            return false;
        }
    }
    if (name.find("..") != std::string_view::npos || name.rfind("xn--", 0) == 0 || name.rfind("sthree-", 0) == 0
        || (name.size() >= 8 && name.substr(name.size() - 8) == "-s3alias")
        || (name.size() >= 7 && name.substr(name.size() - 7) == "--ol-s3")) {
        return false;
    }
    // An IPv4 address in dotted form is not a bucket name.
    int dots = 0;
    bool digits_and_dots = true;
    for (const char c : name) {
        dots += c == '.';
        digits_and_dots = digits_and_dots && ((c >= '0' && c <= '9') || c == '.');
    }
    return !(digits_and_dots && dots == 3);
}

bool valid_tenant_name(std::string_view name)
{
    if (name.empty() || name.size() > 63) {
        return false;
    }
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; });
}

bool residency_allowed(std::string_view label, const std::vector<std::string>& patterns)
{
    if (patterns.empty()) {
        return true;
    }
    if (label.empty()) {
        return false;
    }
    return std::any_of(patterns.begin(), patterns.end(),
                       [&](const std::string& pat) { return collector::star_match(pat, label); });
}

namespace {

// Reads typed values out of toml tables, naming the key path and the line
// in every error.
class Reader {
public:
    Reader(const fs::path& origin, const EnvLookup& env) : m_origin(origin), m_env(env) { }

    tl::unexpected<Error> error(const toml::node* node, std::string_view key, std::string_view reason) const
    {
        if (node && node->source().begin.line > 0) {
            return fail("{}:{}: {}: {}", m_origin.string(), node->source().begin.line, key, reason);
        }
        return fail("{}: {}: {}", m_origin.string(), key, reason);
    }

    // Rejects keys of `table` (at `path`) that are not in `known`.
    Result<void> known_keys(const toml::table& table, std::string_view path,
                            std::initializer_list<std::string_view> known) const
    {
        for (const auto& [name, node] : table) {
            const std::string_view n = name.str();
            if (std::find(known.begin(), known.end(), n) == known.end()) {
                std::string list;
                for (const auto k : known) {
                    list += list.empty() ? "" : ", ";
                    list += k;
                }
                return error(&node, join(path, n), fmt::format("unknown key; valid keys here: {}", list));
            }
        }
        return {};
    }

    static std::string join(std::string_view path, std::string_view key)
    {
        return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
    }

    Result<std::optional<std::string>> string(const toml::table& t, std::string_view path, std::string_view key) const
    {
        const toml::node* node = t.get(key);
        if (!node) {
            return std::optional<std::string>();
        }
        const auto* s = node->as_string();
        if (!s) {
            return error(node, join(path, key), "expected a quoted string");
        }
        auto expanded = expand_env(s->get(), m_env);
        if (!expanded) {
            return error(node, join(path, key), expanded.error().message);
        }
        return std::optional<std::string>(std::move(*expanded));
    }

    Result<std::string> required_string(const toml::table& t, std::string_view path, std::string_view key,
                                        const toml::node* parent) const
    {
        auto v = string(t, path, key);
        if (!v) {
            return tl::unexpected(v.error());
        }
        if (!*v || (*v)->empty()) {
            return error(parent, join(path, key), "is required");
        }
        return std::move(**v);
    }

    Result<std::optional<bool>> boolean(const toml::table& t, std::string_view path, std::string_view key) const
    {
        const toml::node* node = t.get(key);
        if (!node) {
            return std::optional<bool>();
        }
        if (!node->is_boolean()) {
            return error(node, join(path, key), "expected true or false");
        }
        return std::optional<bool>(node->value<bool>().value_or(false));
    }

    Result<std::optional<std::uint64_t>> integer(const toml::table& t, std::string_view path, std::string_view key,
                                                 std::uint64_t min, std::uint64_t max) const
    {
        const toml::node* node = t.get(key);
        if (!node) {
            return std::optional<std::uint64_t>();
        }
        const auto v = node->value<std::int64_t>();
        if (!node->is_integer() || !v || *v < 0 || static_cast<std::uint64_t>(*v) < min
            || static_cast<std::uint64_t>(*v) > max) {
            return error(node, join(path, key), fmt::format("expected an integer from {} to {}", min, max));
        }
        return std::optional<std::uint64_t>(static_cast<std::uint64_t>(*v));
    }

    // An integer of bytes or a string with a unit ("20 GiB").
    Result<std::optional<std::uint64_t>> bytes(const toml::table& t, std::string_view path, std::string_view key) const
    {
        const toml::node* node = t.get(key);
        if (!node) {
            return std::optional<std::uint64_t>();
        }
        std::optional<std::uint64_t> n;
        if (node->is_integer()) {
            const auto v = node->value<std::int64_t>();
            if (v && *v >= 0) {
                n = static_cast<std::uint64_t>(*v);
            }
        } else if (const auto* s = node->as_string()) {
            auto expanded = expand_env(s->get(), m_env);
            if (!expanded) {
                return error(node, join(path, key), expanded.error().message);
            }
            n = parse_byte_size(*expanded);
        }
        if (!n) {
            return error(node, join(path, key),
                         "expected bytes: a non-negative integer or a string such as \"20 GiB\" or \"500MB\"");
        }
        return n;
    }

    // Seconds as an integer, or a string with a unit ("90s", "15m", "24h", "7d", "250ms").
    Result<std::optional<std::chrono::milliseconds>> duration(const toml::table& t, std::string_view path,
                                                              std::string_view key) const
    {
        const toml::node* node = t.get(key);
        if (!node) {
            return std::optional<std::chrono::milliseconds>();
        }
        std::optional<std::chrono::milliseconds> d;
        if (node->is_integer()) {
            const auto v = node->value<std::int64_t>();
            if (v && *v >= 0 && *v <= 100ll * 365 * 24 * 3600) {
                d = std::chrono::milliseconds(*v * 1000);
            }
        } else if (const auto* s = node->as_string()) {
            auto expanded = expand_env(s->get(), m_env);
            if (!expanded) {
                return error(node, join(path, key), expanded.error().message);
            }
            d = parse_duration(*expanded);
        }
        if (!d) {
            return error(node, join(path, key),
                         "expected a duration: seconds as an integer, or a string such as \"90s\", \"15m\", "
                         "\"24h\", \"7d\" or \"250ms\"");
        }
        return d;
    }

    Result<std::optional<std::vector<std::string>>> string_list(const toml::table& t, std::string_view path,
                                                                std::string_view key) const
    {
        const toml::node* node = t.get(key);
        if (!node) {
            return std::optional<std::vector<std::string>>();
        }
        const auto* arr = node->as_array();
        if (!arr) {
            return error(node, join(path, key), "expected a list of strings, e.g. [\"a\", \"b\"]");
        }
        std::vector<std::string> out;
        for (const auto& item : *arr) {
            const auto* s = item.as_string();
            if (!s) {
                return error(node, join(path, key), "expected a list of strings, e.g. [\"a\", \"b\"]");
            }
            auto expanded = expand_env(s->get(), m_env);
            if (!expanded) {
                return error(node, join(path, key), expanded.error().message);
            }
            out.push_back(std::move(*expanded));
        }
        return std::optional<std::vector<std::string>>(std::move(out));
    }

    // A secret referenced as `<base>_env` (a variable name) or `<base>_file`
    // (a path; its content without the trailing newline). A literal `<base>`
    // is refused so that secrets stay out of configuration files.
    Result<std::optional<std::string>> secret(const toml::table& t, std::string_view path, std::string_view base) const
    {
        const std::string env_key = fmt::format("{}_env", base);
        const std::string file_key = fmt::format("{}_file", base);
        if (const toml::node* literal = t.get(base)) {
            return error(literal, join(path, base),
                         fmt::format("secrets are not written in the configuration; name an environment variable "
                                     "with {} or a file with {}",
                                     env_key, file_key));
        }
        auto env_name = string(t, path, env_key);
        auto file_name = string(t, path, file_key);
        if (!env_name) {
            return tl::unexpected(env_name.error());
        }
        if (!file_name) {
            return tl::unexpected(file_name.error());
        }
        if (*env_name && *file_name) {
            return error(t.get(file_key), join(path, file_key),
                         fmt::format("give either {} or {}, not both", env_key, file_key));
        }
        if (*env_name) {
            auto value = m_env(**env_name);
            if (!value || value->empty()) {
                return error(t.get(env_key), join(path, env_key),
                             fmt::format("environment variable {} is not set", **env_name));
            }
            return std::optional<std::string>(std::move(*value));
        }
        if (*file_name) {
            fs::path file = **file_name;
            if (file.is_relative()) {
                file = m_origin.parent_path() / file;
            }
            std::ifstream in(file, std::ios::binary);
            if (!in) {
                return error(t.get(file_key), join(path, file_key),
                             fmt::format("cannot read {}: {}", file.string(), std::strerror(errno)));
            }
            std::ostringstream ss;
            ss << in.rdbuf();
            std::string value = ss.str();
            while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
                value.pop_back();
            }
            if (value.empty()) {
                return error(t.get(file_key), join(path, file_key), fmt::format("{} is empty", file.string()));
            }
            return std::optional<std::string>(std::move(value));
        }
        return std::optional<std::string>();
    }

    // A plain value (such as an access key id) given as `<base>`, `<base>_env` or `<base>_file`.
    Result<std::optional<std::string>> reference(const toml::table& t, std::string_view path,
                                                 std::string_view base) const
    {
        auto literal = string(t, path, base);
        if (!literal) {
            return tl::unexpected(literal.error());
        }
        toml::table rest;
        for (const auto& [name, node] : t) {
            if (name.str() != base) {
                rest.insert(name, node);
            }
        }
        auto referenced = secret(rest, path, base);
        if (!referenced) {
            return tl::unexpected(referenced.error());
        }
        if (*literal && *referenced) {
            return error(t.get(base), join(path, base),
                         fmt::format("give one of {0}, {0}_env or {0}_file, not several", base));
        }
        return *literal ? std::move(*literal) : std::move(*referenced);
    }

    const fs::path& origin() const { return m_origin; }

private:
    fs::path m_origin;
    const EnvLookup& m_env;
};

Result<void> read_listen(const Reader& r, const toml::table& root, GatewayConfig& c)
{
    GW_TRY(listen, r.required_string(root, "", "listen", nullptr));
    c.listen = *listen;
    const auto colon = c.listen.rfind(':');
    unsigned port = 0;
    bool ok = colon != std::string::npos && colon > 0;
    if (ok) {
        const char* b = c.listen.data() + colon + 1;
        const char* e = c.listen.data() + c.listen.size();
        auto [p, ec] = std::from_chars(b, e, port);
        ok = ec == std::errc() && p == e && b != e && port <= 65535;
    }
    if (!ok) {
        return r.error(root.get("listen"), "listen", "expected \"host:port\", e.g. \"127.0.0.1:9000\"");
    }
    c.listen_host = c.listen.substr(0, colon);
    if (c.listen_host.size() > 2 && c.listen_host.front() == '[' && c.listen_host.back() == ']') {
        c.listen_host = c.listen_host.substr(1, c.listen_host.size() - 2);
    }
    c.listen_port = static_cast<std::uint16_t>(port);
    GW_TRY(suffix, r.string(root, "", "virtual_host_suffix"));
    const auto dns_name = [](std::string_view name) {
        const auto label_char = [](char ch) {
            return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
        };
        return !name.empty() && name.size() <= 253 && name.front() != '.' && name.back() != '.'
               && name.find("..") == std::string_view::npos && std::all_of(name.begin(), name.end(), label_char);
    };
    if (*suffix) {
        if (!dns_name(**suffix)) {
            return r.error(root.get("virtual_host_suffix"), "virtual_host_suffix",
                           "expected a lower-case DNS name such as \"gw.example\"");
        }
        c.virtual_host_suffix = **suffix;
    } else {
        // A host name (one with a letter outside an IPv6 literal) serves virtual hosts under itself.
        const bool ip_literal = c.listen_host.find(':') != std::string::npos
                                || std::all_of(c.listen_host.begin(), c.listen_host.end(),
                                               [](char ch) { return (ch >= '0' && ch <= '9') || ch == '.'; });
        if (!ip_literal && dns_name(c.listen_host)) {
            c.virtual_host_suffix = c.listen_host;
        }
    }
    GW_TRY(format, r.string(root, "", "log_format"));
    if (*format) {
        if (**format != "text" && **format != "json") {
            return r.error(root.get("log_format"), "log_format", "expected \"text\" or \"json\"");
        }
        c.log_format = **format;
    }
    return {};
}

Result<void> read_auth(const Reader& r, const toml::table& root, GatewayConfig& c)
{
    const toml::node* node = root.get("auth");
    if (!node) {
        return {};
    }
    const auto* t = node->as_table();
    if (!t) {
        return r.error(node, "auth", "expected a table ([auth])");
    }
    if (auto ok = r.known_keys(*t, "auth", {"access_key", "secret_key", "secret_key_env", "secret_key_file", "tenant"});
        !ok) {
        return ok;
    }
    GW_TRY(key, r.required_string(*t, "auth", "access_key", node));
    GW_TRY(secret, r.secret(*t, "auth", "secret_key"));
    if (!*secret) {
        return r.error(node, "auth.secret_key_env", "is required (or auth.secret_key_file)");
    }
    GW_TRY(tenant, r.string(*t, "auth", "tenant"));
    c.auth.enabled = true;
    c.auth.access_key = *key;
    c.auth.secret_key = **secret;
    if (*tenant) {
        if (!valid_tenant_name(**tenant)) {
            return r.error(t->get("tenant"), "auth.tenant", "expected a name of a-z, 0-9, '-' and '_'");
        }
        c.auth.tenant = **tenant;
    }
    return {};
}

Result<void> read_admin(const Reader& r, const toml::table& root, GatewayConfig& c)
{
    if (const toml::node* node = root.get("admin")) {
        const auto* t = node->as_table();
        if (!t) {
            return r.error(node, "admin", "expected a table ([admin])");
        }
        if (auto ok = r.known_keys(*t, "admin", {"token_env", "token_file"}); !ok) {
            return ok;
        }
        GW_TRY(token, r.secret(*t, "admin", "token"));
        if (!*token) {
            return r.error(node, "admin.token_env", "is required (or admin.token_file)");
        }
        if ((*token)->size() < 16) {
            return r.error(node, "admin.token_env", "the admin token must have at least 16 characters");
        }
        c.admin.enabled = true;
        c.admin.token = **token;
    }
    if (const toml::node* node = root.get("secrets")) {
        const auto* t = node->as_table();
        if (!t) {
            return r.error(node, "secrets", "expected a table ([secrets])");
        }
        if (auto ok = r.known_keys(*t, "secrets", {"passphrase_env", "passphrase_file"}); !ok) {
            return ok;
        }
        GW_TRY(pass, r.secret(*t, "secrets", "passphrase"));
        if (!*pass) {
            return r.error(node, "secrets.passphrase_env", "is required (or secrets.passphrase_file)");
        }
        if ((*pass)->size() < 12) {
            return r.error(node, "secrets.passphrase_env", "the passphrase must have at least 12 characters");
        }
        c.secrets.enabled = true;
        c.secrets.passphrase = **pass;
    }
    if (c.admin.enabled && !c.secrets.enabled) {
        return r.error(root.get("admin"), "secrets.passphrase_env",
                       "is required with [admin]: tenant secrets are stored encrypted with a key derived from it");
    }
    return {};
}

Result<void> read_metadata(const Reader& r, const toml::table& root, GatewayConfig& c)
{
    const toml::node* node = root.get("metadata");
    if (!node || !node->as_table()) {
        return r.error(node, "metadata.url", "is required, e.g. [metadata] url = \"sqlite:///var/lib/roar/gw.db\"");
    }
    const auto& t = *node->as_table();
    if (auto ok = r.known_keys(t, "metadata", {"url", "schema", "reservation_ttl"}); !ok) {
        return ok;
    }
    GW_TRY(url, r.required_string(t, "metadata", "url", node));
    c.metadata.url = *url;
    if (url->rfind("sqlite://", 0) == 0) {
        c.metadata.engine = MetadataEngine::sqlite;
        fs::path p = url->substr(9);
        if (p.empty()) {
            return r.error(t.get("url"), "metadata.url", "sqlite:// needs a path, e.g. sqlite:///var/lib/roar/gw.db");
        }
        if (p.is_relative()) {
            p = r.origin().parent_path() / p;
        }
        c.metadata.sqlite_path = p;
    } else if (url->rfind("postgresql://", 0) == 0 || url->rfind("postgres://", 0) == 0) {
        c.metadata.engine = MetadataEngine::postgresql;
    } else {
        return r.error(t.get("url"), "metadata.url", "expected sqlite:///PATH or postgresql://...");
    }
    GW_TRY(schema, r.string(t, "metadata", "schema"));
    if (*schema) {
        const std::string& name = **schema;
        const bool valid = !name.empty() && name.size() <= 63 && name.rfind("roar_", 0) != 0
                           && name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
        if (!valid) {
            return r.error(t.get("schema"), "metadata.schema",
                           "expected 1 to 63 of [a-z0-9_], not starting with roar_ (those are lineage projects)");
        }
        c.metadata.schema = name;
    }
    GW_TRY(ttl, r.duration(t, "metadata", "reservation_ttl"));
    if (*ttl) {
        if (**ttl < std::chrono::minutes(1)) {
            return r.error(t.get("reservation_ttl"), "metadata.reservation_ttl", "must be at least 60 s");
        }
        c.metadata.reservation_ttl = std::chrono::duration_cast<std::chrono::seconds>(**ttl);
    }
    return {};
}

Result<void> read_backends(const Reader& r, const toml::table& root, GatewayConfig& c)
{
    const toml::node* node = root.get("backend");
    const auto* arr = node ? node->as_array() : nullptr;
    if (!arr || arr->empty() || !arr->is_array_of_tables()) {
        return r.error(node, "backend", "at least one [[backend]] table is required");
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const toml::node& item = *arr->get(i);
        const auto& t = *item.as_table();
        const std::string path = fmt::format("backend[{}]", i);
        if (auto ok = r.known_keys(t, path,
                                   {"name", "endpoint", "bucket", "region", "path_style", "quota_bytes", "residency",
                                    "access_key", "access_key_env", "access_key_file", "secret_key", "secret_key_env",
                                    "secret_key_file", "session_token_env", "session_token_file", "connect_timeout",
                                    "timeout"});
            !ok) {
            return ok;
        }
        BackendConfig b;
        GW_TRY(name, r.required_string(t, path, "name", &item));
        if (!valid_tenant_name(*name)) {
            return r.error(t.get("name"), path + ".name", "expected a name of a-z, 0-9, '-' and '_'");
        }
        if (c.backend(*name)) {
            return r.error(t.get("name"), path + ".name", fmt::format("backend \"{}\" is defined twice", *name));
        }
        b.name = *name;
        GW_TRY(endpoint, r.required_string(t, path, "endpoint", &item));
        if (endpoint->rfind("http://", 0) != 0 && endpoint->rfind("https://", 0) != 0) {
            return r.error(t.get("endpoint"), path + ".endpoint", "expected an http:// or https:// URL");
        }
        b.endpoint = *endpoint;
        while (b.endpoint.size() > 8 && b.endpoint.back() == '/') {
            b.endpoint.pop_back();
        }
        if (b.endpoint.find('/', b.endpoint.find("//") + 2) != std::string::npos) {
            return r.error(t.get("endpoint"), path + ".endpoint",
                           "expected scheme://host[:port] without a path; the bucket goes in `bucket`");
        }
        GW_TRY(bucket, r.required_string(t, path, "bucket", &item));
        if (!valid_bucket_name(*bucket)) {
            return r.error(t.get("bucket"), path + ".bucket",
                           fmt::format("\"{}\" is not a valid S3 bucket name", *bucket));
        }
        b.bucket = *bucket;
        GW_TRY(region, r.string(t, path, "region"));
        if (*region) {
            b.region = **region;
        }
        GW_TRY(path_style, r.boolean(t, path, "path_style"));
        b.path_style = path_style->value_or(true);
        GW_TRY(quota, r.bytes(t, path, "quota_bytes"));
        b.quota_bytes = *quota;
        GW_TRY(residency, r.string(t, path, "residency"));
        b.residency = residency->value_or("");
        GW_TRY(access_key, r.reference(t, path, "access_key"));
        GW_TRY(secret_key, r.secret(t, path, "secret_key"));
        GW_TRY(token, r.secret(t, path, "session_token"));
        if (!*access_key) {
            return r.error(&item, path + ".access_key_env", "is required (or access_key / access_key_file)");
        }
        if (!*secret_key) {
            return r.error(&item, path + ".secret_key_env", "is required (or secret_key_file)");
        }
        b.credentials.access_key = **access_key;
        b.credentials.secret_key = **secret_key;
        b.credentials.session_token = token->value_or("");
        b.credentials.source = fmt::format("backend {} in {}", b.name, r.origin().filename().string());
        GW_TRY(connect_timeout, r.duration(t, path, "connect_timeout"));
        GW_TRY(timeout, r.duration(t, path, "timeout"));
        if (*connect_timeout) {
            b.connect_timeout =
                std::max(std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::seconds>(**connect_timeout));
        }
        if (*timeout) {
            b.stall_timeout =
                std::max(std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::seconds>(**timeout));
        }
        c.backends.push_back(std::move(b));
    }
    return {};
}

// The policy keys shared by [[bucket]], [[tenant]] and [tenant_defaults].
struct PolicyKeys {
    std::optional<std::vector<std::string>> backends;
    std::optional<Placement> placement;
    std::optional<unsigned> replicas;
    std::optional<std::vector<std::string>> residencies;
};

Result<PolicyKeys> read_policy(const Reader& r, const toml::table& t, const std::string& path, const GatewayConfig& c)
{
    PolicyKeys k;
    GW_TRY(backends, r.string_list(t, path, "backends"));
    if (*backends) {
        std::set<std::string> seen;
        for (const auto& name : **backends) {
            if (!c.backend(name)) {
                return r.error(t.get("backends"), path + ".backends",
                               fmt::format("no [[backend]] is named \"{}\"", name));
            }
            if (!seen.insert(name).second) {
                return r.error(t.get("backends"), path + ".backends", fmt::format("\"{}\" is listed twice", name));
            }
        }
        k.backends = std::move(**backends);
    }
    GW_TRY(placement, r.string(t, path, "placement"));
    if (*placement) {
        k.placement = parse_placement(**placement);
        if (!k.placement) {
            return r.error(t.get("placement"), path + ".placement", "expected \"first-fit\" or \"most-free\"");
        }
    }
    GW_TRY(replicas, r.integer(t, path, "replicas", 1, 16));
    if (*replicas) {
        k.replicas = static_cast<unsigned>(**replicas);
    }
    GW_TRY(residencies, r.string_list(t, path, "residencies"));
    if (*residencies) {
        for (const auto& p : **residencies) {
            if (p.empty()) {
                return r.error(t.get("residencies"), path + ".residencies", "an empty pattern matches nothing");
            }
        }
        k.residencies = std::move(**residencies);
    }
    return k;
}

// How many of the backends in `names` (all when empty) carry a residency `patterns` allow.
std::size_t allowed_count(const GatewayConfig& c, const std::vector<std::string>& names,
                          const std::vector<std::string>& patterns)
{
    std::size_t n = 0;
    for (const auto& b : c.backends) {
        const bool listed = names.empty() || std::find(names.begin(), names.end(), b.name) != names.end();
        n += listed && residency_allowed(b.residency, patterns);
    }
    return n;
}

Result<void> check_replicas(const Reader& r, const toml::table& t, const std::string& path, const GatewayConfig& c,
                            const std::vector<std::string>& backends, const std::vector<std::string>& residencies,
                            unsigned replicas)
{
    const std::size_t n = allowed_count(c, backends, residencies);
    if (n == 0) {
        return r.error(&t, path + ".residencies", "no backend of this policy has an allowed residency label");
    }
    if (replicas > n) {
        return r.error(t.get("replicas") ? t.get("replicas") : &t, path + ".replicas",
                       fmt::format("{} replicas need {} backends with an allowed residency, but only {} qualify",
                                   replicas, replicas, n));
    }
    return {};
}

Result<void> read_tenants(const Reader& r, const toml::table& root, GatewayConfig& c)
{
    if (const toml::node* node = root.get("tenant_defaults")) {
        const auto* t = node->as_table();
        if (!t) {
            return r.error(node, "tenant_defaults", "expected a table ([tenant_defaults])");
        }
        if (auto ok = r.known_keys(*t, "tenant_defaults",
                                   {"backends", "placement", "replicas", "residencies", "create_buckets"});
            !ok) {
            return ok;
        }
        GW_TRY(p, read_policy(r, *t, "tenant_defaults", c));
        GW_TRY(create, r.boolean(*t, "tenant_defaults", "create_buckets"));
        auto& d = c.tenant_defaults;
        d.backends = p->backends.value_or(std::vector<std::string>{});
        d.placement = p->placement.value_or(Placement::first_fit);
        d.replicas = p->replicas.value_or(1);
        d.residencies = p->residencies.value_or(std::vector<std::string>{});
        d.create_buckets = create->value_or(true);
        if (auto ok = check_replicas(r, *t, "tenant_defaults", c, d.backends, d.residencies, d.replicas); !ok) {
            return ok;
        }
    }
    const toml::node* node = root.get("tenant");
    if (!node) {
        return {};
    }
    const auto* arr = node->as_array();
    if (!arr || !arr->is_array_of_tables()) {
        return r.error(node, "tenant", "expected [[tenant]] tables");
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const toml::node& item = *arr->get(i);
        const auto& t = *item.as_table();
        const std::string path = fmt::format("tenant[{}]", i);
        if (auto ok =
                r.known_keys(t, path, {"name", "backends", "placement", "replicas", "residencies", "create_buckets"});
            !ok) {
            return ok;
        }
        TenantSettings s = c.tenant_defaults;
        GW_TRY(name, r.required_string(t, path, "name", &item));
        if (!valid_tenant_name(*name)) {
            return r.error(t.get("name"), path + ".name", "expected a name of a-z, 0-9, '-' and '_'");
        }
        for (const auto& other : c.tenants) {
            if (other.name == *name) {
                return r.error(t.get("name"), path + ".name", fmt::format("tenant \"{}\" is defined twice", *name));
            }
        }
        s.name = *name;
        GW_TRY(p, read_policy(r, t, path, c));
        GW_TRY(create, r.boolean(t, path, "create_buckets"));
        if (p->backends) {
            s.backends = *p->backends;
        }
        s.placement = p->placement.value_or(s.placement);
        s.replicas = p->replicas.value_or(s.replicas);
        if (p->residencies) {
            s.residencies = *p->residencies;
        }
        s.create_buckets = create->value_or(s.create_buckets);
        if (auto ok = check_replicas(r, t, path, c, s.backends, s.residencies, s.replicas); !ok) {
            return ok;
        }
        c.tenants.push_back(std::move(s));
    }
    return {};
}

// Whether one of `a` and `b` is a prefix of the other (so keys could collide).
bool prefixes_overlap(std::string_view a, std::string_view b)
{
    return a.substr(0, std::min(a.size(), b.size())) == b.substr(0, std::min(a.size(), b.size()));
}

Result<void> read_buckets(const Reader& r, const toml::table& root, GatewayConfig& c)
{
    const toml::node* node = root.get("bucket");
    if (!node) {
        return {};
    }
    const auto* arr = node->as_array();
    if (!arr || !arr->is_array_of_tables()) {
        return r.error(node, "bucket", "expected [[bucket]] tables");
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const toml::node& item = *arr->get(i);
        const auto& t = *item.as_table();
        const std::string path = fmt::format("bucket[{}]", i);
        if (auto ok = r.known_keys(
                t, path, {"name", "tenant", "backends", "placement", "replicas", "residencies", "key_prefix"});
            !ok) {
            return ok;
        }
        BucketConfig b;
        GW_TRY(name, r.required_string(t, path, "name", &item));
        if (!valid_bucket_name(*name)) {
            return r.error(t.get("name"), path + ".name", fmt::format("\"{}\" is not a valid S3 bucket name", *name));
        }
        b.name = *name;
        GW_TRY(tenant, r.string(t, path, "tenant"));
        b.tenant = tenant->value_or(c.auth.tenant);
        if (!valid_tenant_name(b.tenant)) {
            return r.error(t.get("tenant"), path + ".tenant", "expected a name of a-z, 0-9, '-' and '_'");
        }
        if (c.bucket(b.tenant, b.name)) {
            return r.error(t.get("name"), path + ".name",
                           fmt::format("bucket \"{}\" of tenant \"{}\" is defined twice", b.name, b.tenant));
        }
        GW_TRY(p, read_policy(r, t, path, c));
        if (!p->backends || p->backends->empty()) {
            return r.error(&item, path + ".backends", "is required: the backends this bucket may use");
        }
        b.backends = *p->backends;
        b.placement = p->placement.value_or(Placement::first_fit);
        b.replicas = p->replicas.value_or(1);
        b.residencies = p->residencies.value_or(std::vector<std::string>{});
        GW_TRY(prefix, r.string(t, path, "key_prefix"));
        b.key_prefix = prefix->value_or("");
        if (auto ok = check_replicas(r, t, path, c, b.backends, b.residencies, b.replicas); !ok) {
            return ok;
        }
        // Two configured buckets sharing a backend bucket need key prefixes
        // that keep their keys apart.
        for (const auto& other : c.buckets) {
            for (const auto& be : b.backends) {
                const bool shared = std::find(other.backends.begin(), other.backends.end(), be) != other.backends.end();
                if (shared && prefixes_overlap(b.key_prefix, other.key_prefix)) {
                    return r.error(t.get("key_prefix") ? t.get("key_prefix") : &item, path + ".key_prefix",
                                   fmt::format("bucket \"{}\" also stores into backend \"{}\" with key_prefix \"{}\"; "
                                               "give each a key_prefix that is not a prefix of the other's",
                                               other.name, be, other.key_prefix));
                }
            }
        }
        c.buckets.push_back(std::move(b));
    }
    return {};
}

Result<void> read_background(const Reader& r, const toml::table& root, GatewayConfig& c)
{
    if (const toml::node* node = root.get("namespace")) {
        const auto* t = node->as_table();
        if (!t) {
            return r.error(node, "namespace", "expected a table ([namespace])");
        }
        if (auto ok = r.known_keys(*t, "namespace", {"prefix"}); !ok) {
            return ok;
        }
        GW_TRY(prefix, r.string(*t, "namespace", "prefix"));
        if (*prefix) {
            const std::string& p = **prefix;
            const bool ok = !p.empty() && p.size() <= 16 && p.front() >= 'a' && p.front() <= 'z'
                            && std::all_of(p.begin(), p.end(),
                                           [](char ch) {
                                               return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
                                           })
                            && p.back() != '-' && p.rfind("xn--", 0) != 0 && p.rfind("sthree", 0) != 0;
            if (!ok) {
                return r.error(t->get("prefix"), "namespace.prefix",
                               "expected 1-16 characters of a-z, 0-9 and '-', starting with a letter");
            }
            c.namespace_prefix = p;
        }
    }
    if (const toml::node* node = root.get("multipart")) {
        const auto* t = node->as_table();
        if (!t) {
            return r.error(node, "multipart", "expected a table ([multipart])");
        }
        if (auto ok = r.known_keys(*t, "multipart", {"stale_after", "sweep_interval"}); !ok) {
            return ok;
        }
        GW_TRY(stale, r.duration(*t, "multipart", "stale_after"));
        GW_TRY(interval, r.duration(*t, "multipart", "sweep_interval"));
        if (*stale) {
            c.multipart.stale_after = std::chrono::duration_cast<std::chrono::seconds>(**stale);
            if (c.multipart.stale_after < std::chrono::seconds(1)) {
                return r.error(t->get("stale_after"), "multipart.stale_after", "must be at least 1 s");
            }
        }
        if (*interval) {
            c.multipart.sweep_interval =
                std::max(std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::seconds>(**interval));
        }
    }
    if (const toml::node* node = root.get("replication")) {
        const auto* t = node->as_table();
        if (!t) {
            return r.error(node, "replication", "expected a table ([replication])");
        }
        if (auto ok = r.known_keys(*t, "replication",
                                   {"workers", "max_attempts", "backoff_initial", "backoff_max", "poll_interval",
                                    "lease", "delete_grace", "multipart_threshold", "part_size"});
            !ok) {
            return ok;
        }
        auto& rep = c.replication;
        GW_TRY(workers, r.integer(*t, "replication", "workers", 0, 64));
        GW_TRY(attempts, r.integer(*t, "replication", "max_attempts", 1, 1000));
        GW_TRY(initial, r.duration(*t, "replication", "backoff_initial"));
        GW_TRY(max, r.duration(*t, "replication", "backoff_max"));
        GW_TRY(poll, r.duration(*t, "replication", "poll_interval"));
        GW_TRY(lease, r.duration(*t, "replication", "lease"));
        GW_TRY(grace, r.duration(*t, "replication", "delete_grace"));
        GW_TRY(threshold, r.bytes(*t, "replication", "multipart_threshold"));
        GW_TRY(part, r.bytes(*t, "replication", "part_size"));
        rep.workers = static_cast<unsigned>(workers->value_or(rep.workers));
        rep.max_attempts = static_cast<unsigned>(attempts->value_or(rep.max_attempts));
        rep.backoff_initial = initial->value_or(rep.backoff_initial);
        rep.backoff_max = max->value_or(rep.backoff_max);
        rep.poll_interval = poll->value_or(rep.poll_interval);
        if (*lease) {
            rep.lease = std::chrono::duration_cast<std::chrono::seconds>(**lease);
        }
        if (*grace) {
            rep.delete_grace = std::chrono::duration_cast<std::chrono::seconds>(**grace);
        }
        rep.multipart_threshold = threshold->value_or(rep.multipart_threshold);
        rep.part_size = part->value_or(rep.part_size);
        if (rep.backoff_max < rep.backoff_initial) {
            return r.error(t->get("backoff_max"), "replication.backoff_max", "must not be less than backoff_initial");
        }
        if (rep.lease < std::chrono::seconds(5)) {
            return r.error(t->get("lease"), "replication.lease", "must be at least 5 s");
        }
        if (rep.part_size < (5ull << 20) || rep.part_size > (5ull << 30)) {
            return r.error(t->get("part_size"), "replication.part_size", "must be from 5 MiB to 5 GiB (S3's limits)");
        }
        if (rep.multipart_threshold > (5ull << 30)) {
            return r.error(t->get("multipart_threshold"), "replication.multipart_threshold",
                           "must be at most 5 GiB (S3's largest single PUT)");
        }
    }
    if (const toml::node* node = root.get("rebalance")) {
        const auto* t = node->as_table();
        if (!t) {
            return r.error(node, "rebalance", "expected a table ([rebalance])");
        }
        if (auto ok = r.known_keys(*t, "rebalance", {"high_water", "low_water"}); !ok) {
            return ok;
        }
        for (const char* key : {"high_water", "low_water"}) {
            const toml::node* v = t->get(key);
            if (!v) {
                continue;
            }
            const auto d = v->value<double>();
            if (!(v->is_floating_point() || v->is_integer()) || !d || *d <= 0 || *d > 1) {
                return r.error(v, fmt::format("rebalance.{}", key), "expected a fraction of the quota, 0 < x <= 1");
            }
            (std::string_view(key) == "high_water" ? c.rebalance.high_water : c.rebalance.low_water) = *d;
        }
        if (c.rebalance.low_water > c.rebalance.high_water) {
            return r.error(t, "rebalance.low_water", "must not be above high_water");
        }
    }
    return {};
}

} // namespace

Result<GatewayConfig> parse_gateway_config(std::string_view text, const fs::path& origin, const EnvLookup& env)
{
    toml::table root;
    try {
        root = toml::parse(text, origin.string());
    } catch (const toml::parse_error& e) {
        return fail("{}:{}:{}: {}", origin.string(), e.source().begin.line, e.source().begin.column,
                    std::string(e.description()));
    }
    Reader r(origin, env);
    if (auto ok = r.known_keys(root, "",
                               {"listen", "virtual_host_suffix", "log_format", "auth", "admin", "secrets", "metadata",
                                "backend", "bucket", "tenant", "tenant_defaults", "namespace", "multipart",
                                "replication", "rebalance"});
        !ok) {
        return tl::unexpected(ok.error());
    }
    GatewayConfig c;
    c.source = origin;
    for (auto step : {read_listen, read_auth, read_admin, read_metadata, read_backends, read_tenants, read_buckets,
                      read_background}) {
        if (auto ok = step(r, root, c); !ok) {
            return tl::unexpected(ok.error());
        }
    }
    if (!c.auth.enabled && !c.admin.enabled) {
        return fail("{}: nobody could call this gateway: configure [auth] (a static key) or [admin] (tenants)",
                    origin.string());
    }
    const std::string reserved = c.namespace_prefix + "-";
    for (std::size_t i = 0; i < c.backends.size(); ++i) {
        if (c.backends[i].bucket.rfind(reserved, 0) == 0) {
            return fail("{}: backend[{}].bucket: names starting with \"{}\" are reserved for tenant namespaces "
                        "(see [namespace] prefix)",
                        origin.string(), i, reserved);
        }
    }
    return c;
}

Result<GatewayConfig> load_gateway_config(const fs::path& path, const EnvLookup& env)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return fail("cannot read gateway configuration {}: {}", path.string(), std::strerror(errno));
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse_gateway_config(ss.str(), path, env);
}

} // namespace roar::proxy::gateway
