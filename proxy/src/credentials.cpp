// Credential chain resolution: environment, then shared credentials and
// config files. Only static keys (with an optional session token) are
// supported; credential_process, SSO and instance metadata are out of
// scope for a loopback proxy and reported as such.
#include "roar/proxy/credentials.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace roar::proxy {

namespace {

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

std::optional<std::string> read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string expand_home(const std::string& path, const EnvLookup& env)
{
    if (!path.empty() && path[0] == '~') {
        return env("HOME").value_or("") + path.substr(1);
    }
    return path;
}

} // namespace

EnvLookup process_env()
{
    return [](std::string_view name) -> std::optional<std::string> {
        const char* v = std::getenv(std::string(name).c_str());
        if (v == nullptr) {
            return std::nullopt;
        }
        return std::string(v);
    };
}

std::optional<std::string> ini_value(std::string_view text, std::string_view section, std::string_view key)
{
    bool in_section = false;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = trim(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (line.empty() || line.front() == '#' || line.front() == ';') {
            continue;
        }
        if (line.front() == '[') {
            const auto close = line.find(']');
            in_section = close != std::string_view::npos && trim(line.substr(1, close - 1)) == section;
            continue;
        }
        if (!in_section) {
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) {
            continue;
        }
        if (trim(line.substr(0, eq)) == key) {
            return std::string(trim(line.substr(eq + 1)));
        }
    }
    return std::nullopt;
}

namespace {

tl::expected<Credentials, std::string> resolve_keys(const EnvLookup& env)
{
    const auto env_key = env("AWS_ACCESS_KEY_ID");
    const auto env_secret = env("AWS_SECRET_ACCESS_KEY");
    if (env_key && env_secret && !env_key->empty() && !env_secret->empty()) {
        return Credentials{*env_key, *env_secret, env("AWS_SESSION_TOKEN").value_or(""), "env", {}};
    }

    std::string profile = env("AWS_PROFILE").value_or(env("AWS_DEFAULT_PROFILE").value_or("default"));
    if (profile.empty()) {
        profile = "default";
    }
    const std::string home = env("HOME").value_or("");
    const std::string cred_path =
        expand_home(env("AWS_SHARED_CREDENTIALS_FILE").value_or(home + "/.aws/credentials"), env);
    const std::string config_path = expand_home(env("AWS_CONFIG_FILE").value_or(home + "/.aws/config"), env);

    // In the credentials file sections are bare profile names; in the config
    // file they are "profile NAME" except for "default".
    struct Source {
        std::string path;
        std::string section;
    };
    const Source sources[] = {
        {cred_path, profile},
        {config_path, profile == "default" ? std::string("default") : "profile " + profile},
    };
    for (const auto& src : sources) {
        const auto text = read_file(src.path);
        if (!text) {
            continue;
        }
        auto key = ini_value(*text, src.section, "aws_access_key_id");
        auto secret = ini_value(*text, src.section, "aws_secret_access_key");
        if (key && secret && !key->empty() && !secret->empty()) {
            return Credentials{*key,
                               *secret,
                               ini_value(*text, src.section, "aws_session_token").value_or(""),
                               "profile " + profile + " in " + src.path,
                               {}};
        }
    }
    // A profile the SDKs could use through a source roar does not implement
    // is named as such, so the user knows why keys that work elsewhere fail.
    for (const auto& src : sources) {
        const auto text = read_file(src.path);
        if (!text) {
            continue;
        }
        for (const char* key : {"credential_process", "sso_session", "sso_start_url", "role_arn",
                                "web_identity_token_file", "credential_source"}) {
            if (ini_value(*text, src.section, key)) {
                return tl::unexpected("profile " + profile + " in " + src.path + " gets its keys through " + key
                                      + ", which roar does not support (only static keys: set AWS_ACCESS_KEY_ID and "
                                        "AWS_SECRET_ACCESS_KEY, with AWS_SESSION_TOKEN for temporary ones)");
            }
        }
    }
    return tl::unexpected("no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE "
                          "naming a profile with static keys in "
                          + cred_path + " or " + config_path + ")");
}

// The region as the SDKs resolve it: environment, then the profile's config.
std::string resolve_region(const EnvLookup& env)
{
    for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
        if (auto v = env(name); v && !v->empty()) {
            return *v;
        }
    }
    std::string profile = env("AWS_PROFILE").value_or(env("AWS_DEFAULT_PROFILE").value_or("default"));
    if (profile.empty()) {
        profile = "default";
    }
    const std::string config_path =
        expand_home(env("AWS_CONFIG_FILE").value_or(env("HOME").value_or("") + "/.aws/config"), env);
    if (const auto text = read_file(config_path)) {
        return ini_value(*text, profile == "default" ? std::string("default") : "profile " + profile, "region")
            .value_or("");
    }
    return {};
}

} // namespace

tl::expected<Credentials, std::string> resolve_credentials(const EnvLookup& env)
{
    auto creds = resolve_keys(env);
    if (creds) {
        creds->region = resolve_region(env);
    }
    return creds;
}

} // namespace roar::proxy
