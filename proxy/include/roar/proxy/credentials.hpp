// The standard AWS credential chain, as far as a local proxy needs it:
// environment variables first, then the profile named by AWS_PROFILE (or
// AWS_DEFAULT_PROFILE, else "default") in the shared credentials file and
// the config file (AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE, else
// ~/.aws/credentials and ~/.aws/config). The proxy verifies inbound
// signatures and re-signs with exactly these credentials.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace roar::proxy {

struct Credentials {
    std::string access_key;
    std::string secret_key;
    std::string session_token; // empty when none
    std::string source;        // "env" or "profile <name> in <file>", for logs (never the secret)
    // The region SigV2 requests are re-signed for (SigV2 names none):
    // AWS_REGION, else AWS_DEFAULT_REGION, else the profile's `region` in
    // the config file; empty means us-east-1.
    std::string region;
    // region, or us-east-1 when none is configured.
    std::string region_or_default() const { return region.empty() ? std::string("us-east-1") : region; }
};

// Reads an environment variable; returns nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

// The process environment as an EnvLookup.
EnvLookup process_env();

// Looks up `key` in section `section` of the INI text `text` (AWS flavour:
// '#'/';' comments, "key = value", case-sensitive section names).
std::optional<std::string> ini_value(std::string_view text, std::string_view section, std::string_view key);

// Resolves credentials (and the default region) through the chain using
// `env` for variables and the file system for the shared files; the error
// says what is missing and how to fix it.
tl::expected<Credentials, std::string> resolve_credentials(const EnvLookup& env);

} // namespace roar::proxy
