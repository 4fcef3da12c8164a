// Secret redaction: argument shapes, environment names, URLs, tokens,
// program-specific options, extra patterns, and what must be kept.
#include "roar/collector/redact.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using roar::collector::JobRecord;
using roar::collector::Redactor;
using Args = std::vector<std::string>;

namespace {

const Redactor& rules()
{
    static const Redactor r = *Redactor::create();
    return r;
}

Args redact(Args args) { return rules().argv(std::move(args)); }

} // namespace

TEST_CASE("secret-named options lose their values in every form", "[collector][redact]")
{
    CHECK(redact({"tool", "--password=hunter2"}) == Args{"tool", "--password=<redacted>"});
    CHECK(redact({"tool", "--password", "hunter2", "x"}) == Args{"tool", "--password", "<redacted>", "x"});
    CHECK(redact({"tool", "--token", "abc123"}) == Args{"tool", "--token", "<redacted>"});
    CHECK(redact({"tool", "--hf-token=hf_x"}) == Args{"tool", "--hf-token=<redacted>"});
    CHECK(redact({"tool", "--api-key", "k"}) == Args{"tool", "--api-key", "<redacted>"});
    CHECK(redact({"tool", "--apiKey=k"}) == Args{"tool", "--apiKey=<redacted>"});
    CHECK(redact({"tool", "--aws-secret-access-key", "wJalr/K7MDENG"})
          == Args{"tool", "--aws-secret-access-key", "<redacted>"});
    CHECK(redact({"tool", "--db_pass", "x"}) == Args{"tool", "--db_pass", "<redacted>"});
    CHECK(redact({"tool", "-password", "x"}) == Args{"tool", "-password", "<redacted>"});
    CHECK(redact({"java", "-Djavax.net.ssl.keyStorePassword=changeit", "-jar", "a.jar"})
          == Args{"java", "-Djavax.net.ssl.keyStorePassword=<redacted>", "-jar", "a.jar"});
    CHECK(redact({"plink", "-pw", "s3cret", "host"}) == Args{"plink", "-pw", "<redacted>", "host"});
    CHECK(redact({"tool", "--client-secret=abc"}) == Args{"tool", "--client-secret=<redacted>"});
    CHECK(redact({"tool", "--passphrase", "correct horse"}) == Args{"tool", "--passphrase", "<redacted>"});
}

TEST_CASE("options about a secret, switches and look-alikes keep their values", "[collector][redact]")
{
    const std::vector<Args> kept = {
        {"tool", "--password-file", "/run/secrets/db"},
        {"docker", "login", "--password-stdin", "--username", "u"},
        {"psql", "--no-password", "-h", "db"},
        {"aws", "s3api", "get-object", "--bucket", "b", "--key", "data/train.csv", "out"},
        {"aws", "configure", "set", "default.s3.signature_version", "s3v4"},
        {"aws", "s3", "cp", "--signature-version", "s3v4", "a", "s3://b/a"},
        {"python3", "train.py", "--tokenizer=gpt2", "--max-tokens", "512", "--epochs=3"},
        {"tool", "--token-url", "https://auth.example/token", "--bypass=1", "--passes", "3"},
        {"tool", "--sort-key", "name", "--key", "ssh-ed25519"},
        {"tool", "--private-key", "~/.ssh/id_ed25519"},
        {"tool", "--auth", "none", "--session", "3"},
        {"tool", "--token", "--verbose"},
        {"tool", "--password", "-"},
        {"mkdir", "-p", "a/b"},
        {"ssh", "-p", "2222", "host"},
        {"mysql", "-p", "mydatabase"},
        {"docker", "run", "-p", "8080:80", "img"},
        {"tool", "--token=false"},
        {"make", "model.tokenizer=bert", "epochs=3"},
    };
    for (const auto& args : kept) {
        INFO(args.front() << " " << args.back());
        CHECK(redact(args) == args);
    }
}

TEST_CASE("short options are secret only for the programs that mean it", "[collector][redact]")
{
    CHECK(redact({"mysql", "-uroot", "-phunter2", "db"}) == Args{"mysql", "-uroot", "-p<redacted>", "db"});
    CHECK(redact({"/usr/bin/mysqldump", "-ps3cr3t", "db"}) == Args{"/usr/bin/mysqldump", "-p<redacted>", "db"});
    CHECK(redact({"sshpass", "-p", "hunter2", "ssh", "h"}) == Args{"sshpass", "-p", "<redacted>", "ssh", "h"});
    CHECK(redact({"redis-cli", "-a", "pw", "ping"}) == Args{"redis-cli", "-a", "<redacted>", "ping"});
    CHECK(redact({"zip", "-P", "pw", "a.zip", "a"}) == Args{"zip", "-P", "<redacted>", "a.zip", "a"});
    CHECK(redact({"7z", "a", "-ppw", "a.7z"}) == Args{"7z", "a", "-p<redacted>", "a.7z"});
    CHECK(redact({"ldapsearch", "-x", "-w", "pw"}) == Args{"ldapsearch", "-x", "-w", "<redacted>"});
    CHECK(redact({"curl", "-u", "alice:pw", "https://h/"}) == Args{"curl", "-u", "alice:<redacted>", "https://h/"});
    CHECK(redact({"curl", "-ualice:pw"}) == Args{"curl", "-ualice:<redacted>"});
    CHECK(redact({"curl", "--user=alice:pw"}) == Args{"curl", "--user=alice:<redacted>"});
    CHECK(redact({"curl", "-u", "alice"}) == Args{"curl", "-u", "alice"}); // curl prompts
    CHECK(redact({"smbclient", "-U", "bob%pw", "//h/s"}) == Args{"smbclient", "-U", "bob%<redacted>", "//h/s"});
    CHECK(redact({"docker", "login", "-u", "me", "-p", "pw", "reg"})
          == Args{"docker", "login", "-u", "me", "-p", "<redacted>", "reg"});
    CHECK(redact({"htpasswd", "-bc", ".htpasswd", "user", "pw"})
          == Args{"htpasswd", "-bc", ".htpasswd", "user", "<redacted>"});
    CHECK(redact({"openssl", "enc", "-k", "pw", "-in", "a"}) == Args{"openssl", "enc", "-k", "<redacted>", "-in", "a"});
    CHECK(redact({"openssl", "pkcs12", "-passin", "pass:pw"}) == Args{"openssl", "pkcs12", "-passin", "<redacted>"});
    CHECK(redact({"aws", "configure", "set", "aws_secret_access_key", "wJalrXUtnFEMI"})
          == Args{"aws", "configure", "set", "aws_secret_access_key", "<redacted>"});
    CHECK(redact({"npm", "config", "set", "//registry.npmjs.org/:_authToken=npm_x"})
          == Args{"npm", "config", "set", "//registry.npmjs.org/:_authToken=<redacted>"});
}

TEST_CASE("assignments with secret names are redacted, also inside option values", "[collector][redact]")
{
    CHECK(redact({"env", "MYSQL_PWD=pw", "GITHUB_TOKEN=t", "PATH=/bin", "mysql"})
          == Args{"env", "MYSQL_PWD=<redacted>", "GITHUB_TOKEN=<redacted>", "PATH=/bin", "mysql"});
    CHECK(redact({"python3", "main.py", "db.password=hunter2", "db.host=x"})
          == Args{"python3", "main.py", "db.password=<redacted>", "db.host=x"});
    CHECK(redact({"kubectl", "create", "secret", "generic", "s", "--from-literal=password=pw"})
          == Args{"kubectl", "create", "secret", "generic", "s", "--from-literal=password=<redacted>"});
    CHECK(redact({"docker", "run", "-e", "AWS_SECRET_ACCESS_KEY=abc", "img"})
          == Args{"docker", "run", "-e", "AWS_SECRET_ACCESS_KEY=<redacted>", "img"});
}

TEST_CASE("URLs lose passwords, tokens in the user part and signed query parameters", "[collector][redact]")
{
    CHECK(redact({"git", "clone", "https://user:PASS@host/repo.git"})
          == Args{"git", "clone", "https://user:<redacted>@host/repo.git"});
    CHECK(redact({"psql", "postgresql://app:p%40ss@db:5432/x?sslmode=require"})
          == Args{"psql", "postgresql://app:<redacted>@db:5432/x?sslmode=require"});
    CHECK(redact({"git", "clone", "https://x1y2z3w4v5u6t7s8r9@github.com/o/r"})
          == Args{"git", "clone", "https://<redacted>@github.com/o/r"});
    CHECK(redact({"git", "clone", "ssh://git@github.com/o/r"}) == Args{"git", "clone", "ssh://git@github.com/o/r"});
    CHECK(redact({"curl", "https://api.example/v1?access_token=abc&page=2"})
          == Args{"curl", "https://api.example/v1?access_token=<redacted>&page=2"});
    CHECK(redact({"curl", "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2030&sp=r&sig=AbC%2Bd"})
          == Args{"curl", "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2030&sp=r&sig=<redacted>"});
    const std::string v4 =
        "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIDEXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Security-Token=FQoG&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    CHECK(redact({"curl", v4})[1]
          == "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=<redacted>"
             "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
             "&X-Amz-Security-Token=<redacted>&X-Amz-Signature=<redacted>");
    CHECK(redact({"curl", "http://h/o?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1&Signature=vjbyPxyb%2B"})
          == Args{"curl", "http://h/o?AWSAccessKeyId=<redacted>&Expires=1&Signature=<redacted>"});
    CHECK(redact({"wget", "https://h/file?key=value&id_token=eyJ"})
          == Args{"wget", "https://h/file?key=value&id_token=<redacted>"});
}

TEST_CASE("Authorization headers and bearer tokens keep only their scheme", "[collector][redact]")
{
    CHECK(redact({"curl", "-H", "Authorization: Bearer abc.def", "https://h/"})
          == Args{"curl", "-H", "Authorization: Bearer <redacted>", "https://h/"});
    CHECK(redact({"curl", "-H", "authorization: Basic dXNlcjpwdw==", "u"})
          == Args{"curl", "-H", "authorization: Basic <redacted>", "u"});
    CHECK(redact({"curl", "--header", "X-Api-Key: k123", "u"})
          == Args{"curl", "--header", "X-Api-Key: <redacted>", "u"});
    CHECK(redact({"curl", "-H", "Content-Type: application/json"})
          == Args{"curl", "-H", "Content-Type: application/json"});
    CHECK(redact({"curl", "--oauth2-bearer", "tok"}) == Args{"curl", "--oauth2-bearer", "<redacted>"});
    CHECK(redact({"git", "-c", "http.extraHeader=Authorization: Bearer ghx", "fetch"})
          == Args{"git", "-c", "http.extraHeader=Authorization: Bearer <redacted>", "fetch"});
    const std::string aws =
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
    CHECK(redact({"curl", "-H", aws})[2] == "Authorization: AWS4-HMAC-SHA256 <redacted>");
}

TEST_CASE("well-known token shapes are redacted wherever they appear", "[collector][redact]")
{
    CHECK(redact({"tool", "AKIAIOSFODNN7EXAMPLE"}) == Args{"tool", "<redacted>"});
    CHECK(redact({"tool", "id=ASIAIOSFODNN7EXAMPLE,"}) == Args{"tool", "id=<redacted>,"});
    CHECK(redact({"tool", "ghp_0123456789abcdefghijABCDEFGHIJ0123"}) == Args{"tool", "<redacted>"});
    CHECK(redact({"tool", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"}) == Args{"tool", "<redacted>"});
    CHECK(redact({"tool", "--x=hf_abcdefghijklmnopqrstuvwxyz0123456789"}) == Args{"tool", "--x=<redacted>"});
    CHECK(redact({"tool", "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"}) == Args{"tool", "<redacted>"});
    CHECK(redact({"tool", "xoxb-123456789012-abcdef"}) == Args{"tool", "<redacted>"});
    CHECK(redact({"tool", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk"})
          == Args{"tool", "<redacted>"});
    const Args kept = {"tool", "AKIA-docs", "task-abcdefghijklmnopqrstuvwxyz0123456789", "sk-learn", "eyJ"};
    CHECK(redact(kept) == kept);
}

TEST_CASE("a PEM private key in an argument keeps only its armour", "[collector][redact]")
{
    const std::string pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE "
                            "KEY-----\n";
    CHECK(redact({"tool", pem})[1]
          == "-----BEGIN OPENSSH PRIVATE KEY-----<redacted>-----END OPENSSH PRIVATE KEY-----\n");
    const std::string cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    CHECK(redact({"tool", cert})[1] == cert);
}

TEST_CASE("a shell command in an argument is read word by word", "[collector][redact]")
{
    CHECK(redact({"sh", "-c", "mysql -uroot -phunter2 db < dump.sql"})
          == Args{"sh", "-c", "mysql -uroot -p<redacted> db < dump.sql"});
    CHECK(redact({"bash", "-c", "cd x && curl -H 'Authorization: Bearer abc' https://u:p@h/ ; mkdir -p out"})
          == Args{"bash", "-c",
                  "cd x && curl -H 'Authorization: Bearer <redacted>' https://u:<redacted>@h/ ; mkdir -p out"});
    CHECK(redact({"sh", "-c", "tool --password 'two words' --verbose"})
          == Args{"sh", "-c", "tool --password '<redacted>' --verbose"});
    CHECK(redact({"sh", "-c", "FOO_TOKEN=abc ./run.sh; 7z x a.7z; cp -pR a b"})
          == Args{"sh", "-c", "FOO_TOKEN=<redacted> ./run.sh; 7z x a.7z; cp -pR a b"});
    CHECK(redact({"sh", "-c", "bash -c 'sshpass -p pw ssh h'"})
          == Args{"sh", "-c", "bash -c 'sshpass -p <redacted> ssh h'"});
    CHECK(redact({"python3", "-c", "connect(host='h', password='pw')"})
          == Args{"python3", "-c", "connect(host='h', password=<redacted>"});
    CHECK(redact({"python3", "-c", "cfg = {\"api_key\": \"k-123\", \"epochs\": 3}"})
          == Args{"python3", "-c", "cfg = {\"api_key\": \"<redacted>\", \"epochs\": 3}"});
}

TEST_CASE("environment values are redacted by variable name and by shape", "[collector][redact]")
{
    const Redactor& r = rules();
    for (const char* name : {"DB_PASSWORD", "PGPASSWORD", "MYSQL_PWD", "GITHUB_TOKEN", "HF_TOKEN", "AWS_SESSION_TOKEN",
                             "AWS_SECRET_ACCESS_KEY", "gcp_credentials_json", "COSIGN_SIGNING_SECRET",
                             "GPG_SIGNING_KEY", "SESSION_COOKIE", "APP_SECRET"}) {
        INFO(name);
        CHECK(r.env_value(name, "x-1") == "<redacted>");
    }
    // KEY, AUTH, SESSION: when the value looks like a key.
    CHECK(r.env_value("MY_API_KEY", "sekrit-key-4711") == "<redacted>");
    CHECK(r.env_value("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE") == "<redacted>");
    CHECK(r.env_value("SSH_AUTH_SOCK", "/tmp/ssh-X/agent.1") == "/tmp/ssh-X/agent.1");
    CHECK(r.env_value("XDG_SESSION_ID", "3") == "3");
    CHECK(r.env_value("KEYMAP", "us") == "us");
    // Settings, pointers to secrets, and the working directory are kept.
    CHECK(r.env_value("TOKENIZERS_PARALLELISM", "false") == "false");
    CHECK(r.env_value("DB_PASSWORD_FILE", "/run/secrets/db") == "/run/secrets/db");
    CHECK(r.env_value("PWD", "/home/u/proj") == "/home/u/proj");
    CHECK(r.env_value("PATH", "/usr/bin:/bin") == "/usr/bin:/bin");
    // Shapes in harmless names.
    CHECK(r.env_value("DATABASE_URL", "postgres://app:pw@db/x") == "postgres://app:<redacted>@db/x");
    CHECK(r.env_value("HTTPS_PROXY", "http://u:pw@proxy:3128") == "http://u:<redacted>@proxy:3128");
    CHECK(r.env_value("JAVA_TOOL_OPTIONS", "-Xmx1g -Djavax.net.ssl.trustStorePassword=changeit")
          == "-Xmx1g -Djavax.net.ssl.trustStorePassword=<redacted>");
    CHECK(r.env_value("SOME_URL", "https://h/?access_token=abc") == "https://h/?access_token=<redacted>");
}

TEST_CASE("redacting is idempotent", "[collector][redact]")
{
    const Args args = {"sh", "-c", "curl -u a:b 'https://u:p@h/?sig=x' -H 'Authorization: Bearer t' --token y"};
    const Args once = redact(args);
    CHECK(once != args);
    CHECK(redact(once) == once);
    CHECK(rules().text(rules().text("postgres://a:b@h")) == "postgres://a:<redacted>@h");
}

TEST_CASE("bytes that are not UTF-8 pass through untouched", "[collector][redact]")
{
    const Args args = {"tool", "caf\xe9", "--password=\xff\xfe", "\xff"};
    CHECK(redact(args) == Args{"tool", "caf\xe9", "--password=<redacted>", "\xff"});
}

TEST_CASE("extra patterns redact their capture groups, also across two arguments", "[collector][redact]")
{
    auto r = Redactor::create({"--vault-role[= ]([^ ]+)", "corp_[a-z0-9]{8}", "^INTERNAL_[A-Z_]+=(.*)"});
    REQUIRE(r);
    CHECK(r->argv({"tool", "--vault-role=admin"}) == Args{"tool", "--vault-role=<redacted>"});
    CHECK(r->argv({"tool", "--vault-role", "admin", "x"}) == Args{"tool", "--vault-role", "<redacted>", "x"});
    CHECK(r->argv({"tool", "id:corp_ab12cd34!"}) == Args{"tool", "id:<redacted>!"});
    CHECK(r->argv({"tool", "ID:CORP_AB12CD34"}) == Args{"tool", "ID:<redacted>"}); // case-insensitive
    CHECK(r->env_value("INTERNAL_ENDPOINT", "10.0.0.1") == "<redacted>");
    CHECK(r->env_value("OTHER", "corp_ab12cd34") == "<redacted>");
    CHECK(r->text("see corp_ab12cd34") == "see <redacted>");
}

TEST_CASE("an invalid extra pattern is an error naming it", "[collector][redact]")
{
    auto r = Redactor::create({"ok", "([unclosed"});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("'([unclosed'") != std::string::npos);
    CHECK(r.error().message.find("redact.extra_patterns") != std::string::npos);
}

TEST_CASE("a job record is redacted everywhere it holds command lines, environment and URLs", "[collector][redact]")
{
    JobRecord job;
    job.argv = {"python3", "train.py", "--token", "t0k", "--epochs", "3"};
    job.command = "python3 train.py --token t0k --epochs 3";
    job.env = {{"HF_TOKEN", "hf_secret"}, {"HOME", "/root"}, {"DATABASE_URL", "mysql://u:pw@h/db"}};
    roar::collector::ProcessRecord child;
    child.argv = {"mysql", "-pSECRET", "db"};
    child.notes = {"saw https://u:pw@h/"};
    job.processes.push_back(child);
    job.git = roar::collector::GitState{"abc", "main", "https://oauth2:glpat-abcdefghij0123456789@gitlab.com/o/r.git"};
    job.notes = {"fetched https://h/x?X-Amz-Signature=abc"};
    rules().apply(job);
    CHECK(job.argv == Args{"python3", "train.py", "--token", "<redacted>", "--epochs", "3"});
    CHECK(job.command == "python3 train.py --token '<redacted>' --epochs 3");
    CHECK(job.env["HF_TOKEN"] == "<redacted>");
    CHECK(job.env["HOME"] == "/root");
    CHECK(job.env["DATABASE_URL"] == "mysql://u:<redacted>@h/db");
    CHECK(job.processes[0].argv == Args{"mysql", "-p<redacted>", "db"});
    CHECK(job.processes[0].notes[0] == "saw https://u:<redacted>@h/");
    CHECK(job.git->remote == "https://oauth2:<redacted>@gitlab.com/o/r.git");
    CHECK(job.notes[0] == "fetched https://h/x?X-Amz-Signature=<redacted>");
}
