// The credential chain: environment first, then AWS_PROFILE in the shared
// credentials file and the config file, honouring the file overrides.
#include "roar/proxy/credentials.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

using namespace roar::proxy;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir()
    {
        std::random_device rd;
        path = fs::temp_directory_path() / ("roar-proxy-unit-" + std::to_string(rd()));
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
    fs::path write(const std::string& name, const std::string& text) const
    {
        const auto p = path / name;
        fs::create_directories(p.parent_path());
        std::ofstream(p) << text;
        return p;
    }
};

EnvLookup env_of(std::map<std::string, std::string> vars)
{
    return [vars](std::string_view name) -> std::optional<std::string> {
        const auto it = vars.find(std::string(name));
        if (it == vars.end()) {
            return std::nullopt;
        }
        return it->second;
    };
}

} // namespace

TEST_CASE("environment variables come first", "[proxy][credentials]")
{
    TempDir dir;
    dir.write(".aws/credentials", "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = FILESECRET\n");
    auto c = resolve_credentials(env_of({{"HOME", dir.path.string()},
                                         {"AWS_ACCESS_KEY_ID", "ENVKEY"},
                                         {"AWS_SECRET_ACCESS_KEY", "ENVSECRET"},
                                         {"AWS_SESSION_TOKEN", "ENVTOKEN"}}));
    REQUIRE(c);
    CHECK(c->access_key == "ENVKEY");
    CHECK(c->secret_key == "ENVSECRET");
    CHECK(c->session_token == "ENVTOKEN");
    CHECK(c->source == "env");
}

TEST_CASE("the default profile of ~/.aws/credentials", "[proxy][credentials]")
{
    TempDir dir;
    dir.write(".aws/credentials",
              "# comment\n[other]\naws_access_key_id=OTHER\naws_secret_access_key=X\n\n"
              "[default]\r\naws_access_key_id = DEFKEY \r\n; note\r\naws_secret_access_key= DEF/SE+CRET\r\n");
    auto c = resolve_credentials(env_of({{"HOME", dir.path.string()}}));
    REQUIRE(c);
    CHECK(c->access_key == "DEFKEY");
    CHECK(c->secret_key == "DEF/SE+CRET");
    CHECK(c->session_token.empty());
}

TEST_CASE("AWS_PROFILE selects a profile; config file uses 'profile NAME'", "[proxy][credentials]")
{
    TempDir dir;
    dir.write("creds", "[default]\naws_access_key_id=D\naws_secret_access_key=D\n");
    dir.write("config", "[default]\nregion=us-east-1\n[profile dev]\nregion = eu-west-1\naws_access_key_id = DEVKEY\n"
                        "aws_secret_access_key = DEVSECRET\naws_session_token = DEVTOKEN\n");
    auto c = resolve_credentials(env_of({{"HOME", "/nonexistent"},
                                         {"AWS_PROFILE", "dev"},
                                         {"AWS_SHARED_CREDENTIALS_FILE", (dir.path / "creds").string()},
                                         {"AWS_CONFIG_FILE", (dir.path / "config").string()}}));
    REQUIRE(c);
    CHECK(c->access_key == "DEVKEY");
    CHECK(c->session_token == "DEVTOKEN");
    CHECK(c->source.find("profile dev") != std::string::npos);

    // The credentials file wins over the config file for the same profile.
    dir.write("creds", "[dev]\naws_access_key_id=CREDKEY\naws_secret_access_key=CREDSECRET\n");
    auto c2 = resolve_credentials(env_of({{"AWS_PROFILE", "dev"},
                                          {"AWS_SHARED_CREDENTIALS_FILE", (dir.path / "creds").string()},
                                          {"AWS_CONFIG_FILE", (dir.path / "config").string()}}));
    REQUIRE(c2);
    CHECK(c2->access_key == "CREDKEY");
}

TEST_CASE("incomplete environment falls through; nothing found is an explained error", "[proxy][credentials]")
{
    TempDir dir;
    auto none = resolve_credentials(env_of({{"HOME", dir.path.string()}, {"AWS_ACCESS_KEY_ID", "ONLYKEY"}}));
    REQUIRE_FALSE(none);
    CHECK(none.error().find("AWS_ACCESS_KEY_ID") != std::string::npos);

    auto missing_profile = resolve_credentials(env_of({{"HOME", dir.path.string()}, {"AWS_PROFILE", "nope"}}));
    CHECK_FALSE(missing_profile);
}

TEST_CASE("ini_value parsing", "[proxy][credentials]")
{
    const std::string text = "[a]\nk = 1\n[ b ]\nk=2\n# k=3\n";
    CHECK(ini_value(text, "a", "k") == "1");
    CHECK(ini_value(text, "b", "k") == "2");
    CHECK_FALSE(ini_value(text, "c", "k"));
    CHECK_FALSE(ini_value(text, "a", "missing"));
}

TEST_CASE("a profile that gets its keys through SSO or credential_process is named as unsupported",
          "[proxy][credentials]")
{
    TempDir dir;
    dir.write("config", "[profile sso]\nsso_session = corp\nregion = eu-west-1\n[profile proc]\n"
                        "credential_process = /usr/bin/get-keys\n");
    for (const auto& [profile, source] : {std::pair<std::string, std::string>{"sso", "sso_session"},
                                          std::pair<std::string, std::string>{"proc", "credential_process"}}) {
        auto c = resolve_credentials(env_of({{"AWS_PROFILE", profile},
                                             {"AWS_SHARED_CREDENTIALS_FILE", (dir.path / "none").string()},
                                             {"AWS_CONFIG_FILE", (dir.path / "config").string()}}));
        REQUIRE_FALSE(c);
        CHECK(c.error().find("profile " + profile) != std::string::npos);
        CHECK(c.error().find("gets its keys through " + source + ", which roar does not support") != std::string::npos);
    }
}
