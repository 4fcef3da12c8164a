// Redaction of secrets (see redact.hpp). Everything that decides what is
// a secret is in the tables at the top of this file, and docs/redaction.md
// describes them for users: keep the two in step.
//
// Every rule finds byte ranges ("spans") of one string to replace; the
// spans are merged and each becomes "<redacted>", so redacting twice
// gives the same text. All scanning is byte-wise and linear: command
// lines of arbitrary bytes (not UTF-8) are handled like any other.
#include "roar/collector/redact.hpp"

#include "roar/collector/database.hpp" // join_command

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <regex.h>

namespace roar::collector {

namespace {

// ---- The rules -------------------------------------------------------------

// Names (of options, assignments, query parameters, headers) are split into
// lower-case words at - _ . / : and case changes: "--aws-secret-access-key",
// "AWS_SECRET_ACCESS_KEY", "awsSecretAccessKey" all give aws|secret|access|key.

// A name with one of these words is secret.
constexpr std::array<std::string_view, 20> k_secret_words = {
    "pass",   "pwd",      "pw",        "token",     "sig",           "signature", "cookie",
    "bearer", "apikey",   "accesskey", "authtoken", "authorization", "passin",    "passout",
    "creds",  "passcode", "jwt",       "otp",       "sessiontoken",  "secretkey"};
// A name with a word containing one of these is secret ("pgpassword").
constexpr std::array<std::string_view, 5> k_secret_stems = {"password", "passwd", "passphrase", "secret", "credential"};
// "key" is secret after one of these ("--api-key", "ACCESS_KEY_ID"); a
// bare "--key" (an S3 object key, a sort key) is not.
constexpr std::array<std::string_view, 16> k_key_qualifiers = {
    "api",     "access",   "secret",  "signing", "master",     "client", "account", "subscription",
    "license", "consumer", "storage", "sas",     "encryption", "auth",   "app",     "session"};
// Names whose values are secret only when they look like a key (not a
// path, not a short setting): "--private-key ~/.ssh/id_ed25519" is kept.
constexpr std::array<std::string_view, 4> k_key_like_words = {"auth", "session", "privatekey", "private"};
// A name ending in one of these is about a secret, not one
// ("--password-file", "--token-url", "--signature-version").
constexpr std::array<std::string_view, 40> k_about_words = {
    "file",   "files",  "path",    "dir",     "directory", "stdin",   "fd",     "env",   "prompt",   "command",
    "cmd",    "helper", "program", "type",    "kind",      "length",  "len",    "limit", "count",    "size",
    "min",    "max",    "ttl",     "timeout", "expiry",    "expires", "url",    "uri",   "endpoint", "host",
    "server", "port",   "header",  "name",    "format",    "mode",    "method", "store", "version",  "location"};
// A name starting with one of these is a switch ("--no-password").
constexpr std::array<std::string_view, 14> k_switch_words = {"no",      "ask",   "prompt",  "skip",  "without",
                                                             "with",    "use",   "read",    "show",  "print",
                                                             "require", "allow", "disable", "enable"};

// Environment variable names are matched by upper-case substring, as
// people name them: any of these makes the value secret...
constexpr std::array<std::string_view, 7> k_env_secret = {"PASS",       "SECRET", "TOK",      "SIGNING",
                                                          "CREDENTIAL", "COOKIE", "MYSQL_PWD"};
// ...and these when the value looks like a key.
constexpr std::array<std::string_view, 4> k_env_key_like = {"KEY", "AUTH", "SESSION", "PRIVATE"};

// Values that are settings, never secrets ("TOKENIZERS_PARALLELISM=false").
constexpr std::array<std::string_view, 12> k_plain_values = {"",    "true", "false", "yes", "no", "on",
                                                             "off", "none", "null",  "0",   "1",  "-"};

// Well-known token shapes, redacted wherever they appear.
enum class Chars { upper_digits, word, jwt };
struct TokenShape {
    std::string_view prefix;
    size_t min_rest; // characters after the prefix
    size_t max_rest;
    Chars chars;
};
constexpr std::array<TokenShape, 20> k_token_shapes = {{
    {"AKIA", 16, 16, Chars::upper_digits}, // AWS access key id
    {"ASIA", 16, 16, Chars::upper_digits}, // AWS temporary access key id
    {"ghp_", 30, 255, Chars::word},        // GitHub tokens
    {"gho_", 30, 255, Chars::word},        {"ghu_", 30, 255, Chars::word},
    {"ghs_", 30, 255, Chars::word},        {"ghr_", 30, 255, Chars::word},
    {"github_pat_", 30, 255, Chars::word}, {"glpat-", 20, 255, Chars::word}, // GitLab
    {"xoxb-", 10, 255, Chars::word},                                         // Slack
    {"xoxp-", 10, 255, Chars::word},       {"xoxa-", 10, 255, Chars::word},
    {"xoxs-", 10, 255, Chars::word},       {"hf_", 30, 255, Chars::word},  // Hugging Face
    {"sk-", 30, 255, Chars::word},                                         // OpenAI, Anthropic
    {"sk_live_", 20, 255, Chars::word},                                    // Stripe
    {"rk_live_", 20, 255, Chars::word},    {"AIza", 30, 255, Chars::word}, // Google API key
    {"npm_", 30, 255, Chars::word},                                        // npm
    {"eyJ", 20, 65535, Chars::jwt},                                        // a JSON Web Token: header.payload.signature
}};

// Short options that carry a password only for particular programs
// (`mysql -pX`, `sshpass -p X`): elsewhere `-p` is a port or "parents".
enum class Form {
    attached,         // only glued to the option: mysql -pSECRET (mysql -p DB prompts)
    next,             // only the next word: openssl -k SECRET (-kfile is another option)
    next_or_attached, // -p SECRET or -pSECRET (or --opt=SECRET)
    last_word,        // the command's last word, when an option cluster has this letter (htpasswd -b)
    name_then_value,  // a secret-named word, then its value (aws configure set NAME VALUE)
};
enum class Part { whole, after_colon, after_percent };
struct ProgramRule {
    std::string_view program; // basename; a trailing '*' matches any suffix
    std::string_view option;
    Form form;
    Part part = Part::whole;
    std::string_view requires_word = {}; // a word the command must contain ("login")
};
constexpr std::array<ProgramRule, 42> k_program_rules = {{
    {"mysql*", "-p", Form::attached},
    {"mariadb*", "-p", Form::attached},
    {"sshpass", "-p", Form::next_or_attached},
    {"redis-cli", "-a", Form::next},
    {"valkey-cli", "-a", Form::next},
    {"zip", "-P", Form::next_or_attached},
    {"unzip", "-P", Form::next_or_attached},
    {"7z", "-p", Form::attached},
    {"7za", "-p", Form::attached},
    {"7zz", "-p", Form::attached},
    {"7zr", "-p", Form::attached},
    {"rar", "-p", Form::attached},
    {"unrar", "-p", Form::attached},
    {"mongo", "-p", Form::next_or_attached},
    {"mongosh", "-p", Form::next_or_attached},
    {"mongodump", "-p", Form::next_or_attached},
    {"mongorestore", "-p", Form::next_or_attached},
    {"mongoexport", "-p", Form::next_or_attached},
    {"mongoimport", "-p", Form::next_or_attached},
    {"sqlcmd", "-P", Form::next_or_attached},
    {"bcp", "-P", Form::next_or_attached},
    {"ldap*", "-w", Form::next_or_attached},
    {"ldappasswd", "-s", Form::next_or_attached},
    {"openssl", "-k", Form::next},
    {"curl", "-u", Form::next_or_attached, Part::after_colon},
    {"curl", "--user", Form::next_or_attached, Part::after_colon},
    {"curl", "-U", Form::next_or_attached, Part::after_colon},
    {"curl", "--proxy-user", Form::next_or_attached, Part::after_colon},
    {"smbclient", "-U", Form::next_or_attached, Part::after_percent},
    {"smbclient", "--user", Form::next_or_attached, Part::after_percent},
    {"docker", "-p", Form::next_or_attached, Part::whole, "login"},
    {"podman", "-p", Form::next_or_attached, Part::whole, "login"},
    {"nerdctl", "-p", Form::next_or_attached, Part::whole, "login"},
    {"buildah", "-p", Form::next_or_attached, Part::whole, "login"},
    {"skopeo", "-p", Form::next_or_attached, Part::whole, "login"},
    {"htpasswd", "b", Form::last_word},
    {"aws", "", Form::name_then_value, Part::whole, "configure"},
    {"git", "", Form::name_then_value, Part::whole, "config"},
    {"npm", "", Form::name_then_value, Part::whole, "config"},
    {"yarn", "", Form::name_then_value, Part::whole, "config"},
    {"pip*", "", Form::name_then_value, Part::whole, "config"},
    {"poetry", "", Form::name_then_value, Part::whole, "config"},
}};

// Shell words that end one command and start the next.
constexpr std::array<std::string_view, 12> k_separators = {";", "&&",   "||", "|",    "&", "(",
                                                           ")", "then", "do", "else", "{", "}"};

// Options whose value is a script: `sh -c TEXT`, `perl -e TEXT`.
constexpr std::array<std::string_view, 5> k_script_options = {"-c", "-e", "--command", "--eval", "-lc"};

constexpr int k_max_shell_depth = 3; // sh -c "bash -c '...'" nesting that is still read

// ---- Helpers ---------------------------------------------------------------

template <size_t N> bool one_of(const std::array<std::string_view, N>& list, std::string_view word)
{
    return std::find(list.begin(), list.end(), word) != list.end();
}

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_quote(char c) { return c == '\'' || c == '"' || c == '`'; }
// Where a value embedded in text ends.
bool is_terminator(char c) { return is_space(c) || is_quote(c); }

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return out;
}

std::string upper(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return char(std::toupper(c)); });
    return out;
}

// Whether `s` holds `lower_word` at `at`, ignoring case.
bool iequals_at(std::string_view s, size_t at, std::string_view lower_word)
{
    if (s.size() - at < lower_word.size()) {
        return false;
    }
    for (size_t k = 0; k < lower_word.size(); ++k) {
        if (std::tolower(static_cast<unsigned char>(s[at + k])) != lower_word[k]) {
            return false;
        }
    }
    return true;
}

// `name` split into lower-case words (see the note above the tables).
std::vector<std::string> name_words(std::string_view name)
{
    std::vector<std::string> words;
    std::string current;
    auto flush = [&] {
        if (!current.empty()) {
            words.push_back(std::move(current));
            current.clear();
        }
    };
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        if (!is_alnum(c)) {
            flush();
            continue;
        }
        if (std::isupper(static_cast<unsigned char>(c)) && !current.empty()) {
            const unsigned char prev = static_cast<unsigned char>(name[i - 1]);
            const unsigned char next = i + 1 < name.size() ? static_cast<unsigned char>(name[i + 1]) : 0;
            if (std::islower(prev) || std::isdigit(prev) || (std::isupper(prev) && std::islower(next))) {
                flush();
            }
        }
        current.push_back(char(std::tolower(static_cast<unsigned char>(c))));
    }
    flush();
    return words;
}

enum class Secrecy { none, key_like, always };

// How secret a value named by `words` is.
Secrecy classify(const std::vector<std::string>& words)
{
    if (words.empty()) {
        return Secrecy::none;
    }
    if (words.size() > 1 && (one_of(k_switch_words, words.front()) || one_of(k_about_words, words.back()))) {
        return Secrecy::none;
    }
    Secrecy result = Secrecy::none;
    for (size_t i = 0; i < words.size(); ++i) {
        const std::string& w = words[i];
        if (one_of(k_secret_words, w)) {
            return Secrecy::always;
        }
        for (std::string_view stem : k_secret_stems) {
            if (w.find(stem) != std::string::npos) {
                return Secrecy::always;
            }
        }
        if ((w == "key" || w == "keys") && i > 0) {
            if (one_of(k_key_qualifiers, words[i - 1])) {
                return Secrecy::always;
            }
            if (words[i - 1] == "private") {
                result = Secrecy::key_like;
            }
        } else if (one_of(k_key_like_words, w) && w != "private") {
            result = Secrecy::key_like;
        }
    }
    return result;
}

// Every secret word above contains one of these: a name with none of them
// is not split into words at all (most names, and most of the cost).
constexpr std::array<std::string_view, 14> k_name_triggers = {"pass",   "pw",      "tok",     "sig",   "cookie",
                                                              "bearer", "key",     "auth",    "cred",  "jwt",
                                                              "otp",    "session", "private", "secret"};

bool contains_trigger(std::string_view name)
{
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = char(std::tolower(static_cast<unsigned char>(name[i])));
        for (std::string_view t : k_name_triggers) {
            if (t.front() == c && iequals_at(name, i, t)) {
                return true;
            }
        }
    }
    return false;
}

Secrecy classify_name(std::string_view name)
{
    return contains_trigger(name) ? classify(name_words(name)) : Secrecy::none;
}

// An environment variable's name, matched by substring.
Secrecy classify_env(std::string_view name)
{
    const std::string up = upper(name);
    if (up == "PWD" || up == "OLDPWD") {
        return Secrecy::none;
    }
    if (const size_t us = up.rfind('_'); us != std::string::npos && one_of(k_about_words, lower(up.substr(us + 1)))) {
        return Secrecy::none;
    }
    for (std::string_view s : k_env_secret) {
        if (up.find(s) != std::string::npos) {
            return Secrecy::always;
        }
    }
    if (up.size() > 4 && up.compare(up.size() - 4, 4, "_PWD") == 0) {
        return Secrecy::always;
    }
    for (std::string_view s : k_env_key_like) {
        if (up.find(s) != std::string::npos) {
            return Secrecy::key_like;
        }
    }
    return Secrecy::none;
}

struct Unquoted {
    std::string_view bare;
    size_t offset = 0;
};

// `word` without one layer of matching outer quotes.
Unquoted unquote(std::string_view word)
{
    if (word.size() >= 2 && (word.front() == '\'' || word.front() == '"') && word.back() == word.front()) {
        return {word.substr(1, word.size() - 2), 1};
    }
    return {word, 0};
}

bool plain_value(std::string_view value) { return one_of(k_plain_values, lower(unquote(value).bare)); }

// A value that could be a key or password: not a setting, not a path,
// not a URL, no spaces, at least 8 characters.
bool looks_like_key(std::string_view value)
{
    const std::string_view v = unquote(value).bare;
    if (v.size() < 8 || plain_value(v) || v.front() == '/' || v.front() == '~' || v.substr(0, 2) == "./"
        || v.substr(0, 3) == "../" || v.find("://") != std::string_view::npos) {
        return false;
    }
    return std::none_of(v.begin(), v.end(), is_space);
}

bool is_secret_value(Secrecy secrecy, std::string_view value)
{
    switch (secrecy) {
    case Secrecy::always: return !plain_value(value);
    case Secrecy::key_like: return looks_like_key(value);
    case Secrecy::none: break;
    }
    return false;
}

// A user name that is really a token (https://ghp_xxx@github.com/...).
bool token_like(std::string_view s)
{
    return s.size() >= 16 && std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '_' || c == '-'; })
           && std::any_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })
           && std::any_of(s.begin(), s.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
}

// ---- Spans -----------------------------------------------------------------

struct Span {
    size_t begin, end;
};

class Spans {
public:
    void add(size_t begin, size_t end)
    {
        if (end > begin) {
            m_spans.push_back({begin, end});
        }
    }
    bool empty() const { return m_spans.empty(); }
    const std::vector<Span>& list() const { return m_spans; }

    // `s` with every span (merged where they overlap or touch) replaced.
    std::string apply(std::string_view s)
    {
        if (m_spans.empty()) {
            return std::string(s);
        }
        std::sort(m_spans.begin(), m_spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
        std::string out;
        size_t pos = 0;
        for (size_t i = 0; i < m_spans.size();) {
            size_t begin = std::min(m_spans[i].begin, s.size());
            size_t end = std::min(m_spans[i].end, s.size());
            for (++i; i < m_spans.size() && m_spans[i].begin <= end; ++i) {
                end = std::max(end, std::min(m_spans[i].end, s.size()));
            }
            if (begin < pos) {
                begin = pos;
            }
            out.append(s.substr(pos, begin - pos));
            out.append(k_redacted);
            pos = std::max(pos, end);
        }
        out.append(s.substr(pos));
        return out;
    }

private:
    std::vector<Span> m_spans;
};

// ---- Secret shapes in any text -----------------------------------------

// scheme://user:PASSWORD@host and scheme://TOKEN@host.
void url_userinfo_spans(std::string_view s, Spans& out)
{
    for (size_t p = s.find("://"); p != std::string_view::npos; p = s.find("://", p + 3)) {
        size_t b = p;
        while (b > 0 && (is_alnum(s[b - 1]) || s[b - 1] == '+' || s[b - 1] == '-' || s[b - 1] == '.')) {
            --b;
        }
        if (b == p || !std::isalpha(static_cast<unsigned char>(s[b]))) {
            continue;
        }
        const size_t a = p + 3;
        size_t e = a;
        while (e < s.size() && !is_terminator(s[e]) && s[e] != '/' && s[e] != '?' && s[e] != '#') {
            ++e;
        }
        const size_t at = s.substr(a, e - a).rfind('@');
        if (at == std::string_view::npos) {
            continue;
        }
        const std::string_view userinfo = s.substr(a, at);
        if (const size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
            out.add(a + colon + 1, a + at);
        } else if (token_like(userinfo)) {
            out.add(a, a + at);
        }
    }
}

bool is_param_char(char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.'; }

// ?access_token=X, &X-Amz-Signature=X, &sig=X ... (URLs with or without a scheme).
void query_spans(std::string_view s, Spans& out)
{
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '?' && s[i] != '&') {
            continue;
        }
        size_t n = i + 1;
        while (n < s.size() && is_param_char(s[n])) {
            ++n;
        }
        if (n == i + 1 || n >= s.size() || s[n] != '=') {
            continue;
        }
        size_t e = n + 1;
        while (e < s.size() && s[e] != '&' && s[e] != '#' && !is_terminator(s[e])) {
            ++e;
        }
        if (is_secret_value(classify_name(s.substr(i + 1, n - i - 1)), s.substr(n + 1, e - n - 1))) {
            out.add(n + 1, e);
        }
    }
}

// "Authorization: Bearer X", "X-Api-Key: X", "password: X", and the JSON or
// dict forms "password": "X" / 'password': 'X'.
void header_spans(std::string_view s, Spans& out)
{
    for (size_t c = s.find(':'); c != std::string_view::npos; c = s.find(':', c + 1)) {
        size_t name_end = c;
        size_t b = c;
        bool quoted_name = false;
        if (c > 0 && (s[c - 1] == '"' || s[c - 1] == '\'')) {
            const size_t open = c >= 2 ? s.rfind(s[c - 1], c - 2) : std::string_view::npos;
            if (open == std::string_view::npos) {
                continue;
            }
            b = open + 1;
            name_end = c - 1;
            quoted_name = true;
        } else {
            while (b > 0 && (is_alnum(s[b - 1]) || s[b - 1] == '-' || s[b - 1] == '_')) {
                --b;
            }
        }
        const size_t name_begin = b - (quoted_name ? 1 : 0);
        if (b >= name_end
            || (name_begin > 0 && !is_space(s[name_begin - 1]) && !is_quote(s[name_begin - 1])
                && std::string_view("={,(").find(s[name_begin - 1]) == std::string_view::npos)) {
            continue;
        }
        size_t v = c + 1;
        if (!quoted_name && (v >= s.size() || (s[v] != ' ' && s[v] != '\t'))) {
            continue; // "https://", "user:pass", "a:b" are not headers
        }
        while (v < s.size() && (s[v] == ' ' || s[v] == '\t')) {
            ++v;
        }
        size_t e = v;
        if (quoted_name && v < s.size() && (s[v] == '"' || s[v] == '\'')) {
            const size_t close = s.find(s[v], v + 1);
            ++v;
            e = close == std::string_view::npos ? s.size() : close;
        } else if (quoted_name) {
            while (e < s.size() && !is_terminator(s[e]) && s[e] != ',' && s[e] != '}') {
                ++e;
            }
        } else {
            while (e < s.size() && s[e] != '\n' && s[e] != '\r' && !is_quote(s[e])) {
                ++e;
            }
            while (e > v && is_space(s[e - 1])) {
                --e;
            }
        }
        const std::vector<std::string> words = name_words(s.substr(b, name_end - b));
        if (std::find(words.begin(), words.end(), "authorization") != words.end()) {
            // Keep the scheme (Bearer, Basic, AWS4-HMAC-SHA256 ...), redact the rest.
            size_t w = v;
            while (w < e && (is_alnum(s[w]) || s[w] == '-' || s[w] == '_')) {
                ++w;
            }
            if (w < e && s[w] == ' ' && w > v) {
                while (w < e && s[w] == ' ') {
                    ++w;
                }
                v = w;
            }
            out.add(v, e);
        } else if (is_secret_value(classify(words), s.substr(v, e - v))) {
            out.add(v, e);
        }
    }
}

// "Bearer X" anywhere (curl --oauth2-bearer aside, it is how tokens travel).
void bearer_spans(std::string_view s, Spans& out)
{
    for (size_t p = s.find_first_of("bB"); p != std::string_view::npos; p = s.find_first_of("bB", p + 1)) {
        if ((p > 0 && is_alnum(s[p - 1])) || !iequals_at(s, p, "bearer")) {
            continue;
        }
        size_t v = p + 6;
        if (v >= s.size() || (s[v] != ' ' && s[v] != '\t' && s[v] != '=')) {
            continue;
        }
        while (v < s.size() && (s[v] == ' ' || s[v] == '\t' || s[v] == '=')) {
            ++v;
        }
        size_t e = v;
        while (e < s.size() && !is_terminator(s[e])) {
            ++e;
        }
        out.add(v, e);
    }
}

bool shape_char(Chars chars, char c)
{
    switch (chars) {
    case Chars::upper_digits:
        return std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c));
    case Chars::word: return is_alnum(c) || c == '_' || c == '-';
    case Chars::jwt: return is_alnum(c) || c == '_' || c == '-' || c == '.';
    }
    return false;
}

// The first characters of k_token_shapes' prefixes, to skip the rest fast.
constexpr std::array<bool, 256> k_shape_starts = [] {
    std::array<bool, 256> starts{};
    for (const TokenShape& shape : k_token_shapes) {
        starts[static_cast<unsigned char>(shape.prefix.front())] = true;
    }
    return starts;
}();

// Tokens recognisable by their prefix (k_token_shapes).
void token_shape_spans(std::string_view s, Spans& out)
{
    for (size_t i = 0; i < s.size(); ++i) {
        if (i > 0 && (is_alnum(s[i - 1]) || s[i - 1] == '_' || s[i - 1] == '-')) {
            continue;
        }
        if (!k_shape_starts[static_cast<unsigned char>(s[i])]) {
            continue;
        }
        for (const TokenShape& shape : k_token_shapes) {
            if (s.substr(i, shape.prefix.size()) != shape.prefix) {
                continue;
            }
            const size_t rest = i + shape.prefix.size();
            size_t e = rest;
            while (e < s.size() && e - rest <= shape.max_rest && shape_char(shape.chars, s[e])) {
                ++e;
            }
            const size_t n = e - rest;
            if (n < shape.min_rest || n > shape.max_rest || (e < s.size() && is_alnum(s[e]))) {
                continue;
            }
            if (shape.chars == Chars::jwt && std::count(s.begin() + long(i), s.begin() + long(e), '.') < 2) {
                continue;
            }
            out.add(i, e);
            i = e;
            break;
        }
    }
}

// The body of a PEM private key.
void pem_spans(std::string_view s, Spans& out)
{
    for (size_t p = s.find("-----BEGIN "); p != std::string_view::npos; p = s.find("-----BEGIN ", p + 1)) {
        const size_t header_end = s.find("-----", p + 11);
        if (header_end == std::string_view::npos) {
            return;
        }
        if (s.substr(p, header_end - p).find("PRIVATE KEY") == std::string_view::npos) {
            continue;
        }
        const size_t body = header_end + 5;
        const size_t end = s.find("-----END", body);
        out.add(body, end == std::string_view::npos ? s.size() : end);
    }
}

void shape_spans(std::string_view s, Spans& out)
{
    url_userinfo_spans(s, out);
    query_spans(s, out);
    header_spans(s, out);
    bearer_spans(s, out);
    token_shape_spans(s, out);
    pem_spans(s, out);
}

std::string redact_shapes(std::string_view s)
{
    Spans spans;
    shape_spans(s, spans);
    return spans.apply(s);
}

// ---- Command lines ---------------------------------------------------------

// Whether `base` (a basename) is `pattern` (a trailing '*' matches any suffix).
bool program_matches(std::string_view pattern, std::string_view base)
{
    if (pattern.back() == '*') {
        return base.substr(0, pattern.size() - 1) == pattern.substr(0, pattern.size() - 1);
    }
    return base == pattern;
}

// The span of `value` (at `offset` in its word) that `part` says is secret.
void part_span(std::string_view value, size_t offset, Part part, Spans& out)
{
    if (part == Part::whole) {
        out.add(offset, offset + value.size());
        return;
    }
    const size_t sep = value.find(part == Part::after_colon ? ':' : '%');
    if (sep != std::string_view::npos) {
        out.add(offset + sep + 1, offset + value.size());
    }
}

// What the next word must be redacted as, once an option has asked for it.
struct Pending {
    bool active = false;
    Secrecy secrecy = Secrecy::none;
    Part part = Part::whole;
    bool program = false; // set by a k_program_rules row: the value is a password whatever it looks like
};

class CommandRedactor {
public:
    explicit CommandRedactor(std::vector<std::string>& words, bool shell_text) : m_words(words), m_shell(shell_text) { }

    void run()
    {
        for (size_t i = 0; i < m_words.size(); ++i) {
            const Unquoted u = unquote(m_words[i]);
            if (m_shell && one_of(k_separators, u.bare)) {
                new_segment(i + 1);
                continue;
            }
            // `u` views m_words[i]: read what it says before the word is replaced.
            const bool ends_segment = m_shell && !u.bare.empty() && u.bare.back() == ';';
            Spans spans;
            word(i, u, spans);
            if (!spans.empty()) {
                m_words[i] = spans.apply(m_words[i]);
            }
            if (ends_segment) {
                new_segment(i + 1);
            }
        }
    }

private:
    void new_segment(size_t start)
    {
        m_active.clear();
        m_pending = {};
        m_segment_start = start;
    }

    size_t segment_end() const
    {
        size_t e = m_segment_start;
        while (e < m_words.size() && !(m_shell && one_of(k_separators, unquote(m_words[e]).bare))) {
            ++e;
        }
        return e;
    }

    bool segment_has(std::string_view w) const
    {
        const size_t end = segment_end();
        for (size_t i = m_segment_start; i < end; ++i) {
            if (unquote(m_words[i]).bare == w) {
                return true;
            }
        }
        return false;
    }

    void word(size_t i, const Unquoted& u, Spans& spans)
    {
        const std::string_view w = u.bare;
        if (m_pending.active) {
            const Pending p = m_pending;
            m_pending = {};
            if (w.substr(0, 2) != "--" && w != "-") {
                if (p.program) {
                    part_span(w, u.offset, p.part, spans);
                } else if (is_secret_value(p.secrecy, w)) {
                    spans.add(u.offset, u.offset + w.size());
                }
                return;
            }
        }
        if (!m_shell && i > 0 && std::any_of(w.begin(), w.end(), is_space)
            && one_of(k_script_options, unquote(m_words[i - 1]).bare)) {
            return; // a script (sh -c TEXT): read word by word, not as one assignment
        }
        if (activates_programs(w)) {
            return;
        }
        for (const ProgramRule* rule : m_active) {
            if (program_option(i, *rule, u, spans)) {
                return;
            }
        }
        if (w.size() > 1 && w.front() == '-' && w != "--") {
            option(u, spans);
            return;
        }
        assignment(w, u.offset, spans);
    }

    // Whether `w` names a program of k_program_rules (whose rules then
    // apply to the rest of the command).
    bool activates_programs(std::string_view w)
    {
        if (w.empty() || w.front() == '-' || w.find('=') != std::string_view::npos) {
            return false;
        }
        const size_t slash = w.rfind('/');
        const std::string_view base = slash == std::string_view::npos ? w : w.substr(slash + 1);
        bool activated = false;
        for (const ProgramRule& rule : k_program_rules) {
            if (!base.empty() && rule.program.front() == base.front() && program_matches(rule.program, base)
                && (rule.requires_word.empty() || segment_has(rule.requires_word))) {
                m_active.push_back(&rule);
                activated = true;
            }
        }
        return activated;
    }

    // A program-specific rule; true if it applied to this word.
    bool program_option(size_t i, const ProgramRule& rule, const Unquoted& u, Spans& spans)
    {
        const std::string_view w = u.bare;
        switch (rule.form) {
        case Form::attached:
            if (w.size() > rule.option.size() && w.substr(0, rule.option.size()) == rule.option) {
                part_span(w.substr(rule.option.size()), u.offset + rule.option.size(), rule.part, spans);
                return true;
            }
            return false;
        case Form::next:
            if (w == rule.option) {
                m_pending = {true, Secrecy::always, rule.part, true};
                return true;
            }
            return false;
        case Form::next_or_attached:
            if (w == rule.option) {
                m_pending = {true, Secrecy::always, rule.part, true};
                return true;
            }
            if (w.size() > rule.option.size() && w.substr(0, rule.option.size()) == rule.option) {
                size_t at = rule.option.size();
                if (rule.option.substr(0, 2) == "--") {
                    if (w[at] != '=') {
                        return false;
                    }
                    ++at;
                }
                part_span(w.substr(at), u.offset + at, rule.part, spans);
                return true;
            }
            return false;
        case Form::last_word: {
            if (i + 1 != segment_end()) {
                return false;
            }
            for (size_t k = m_segment_start; k < i; ++k) {
                const std::string_view o = unquote(m_words[k]).bare;
                if (o.size() > 1 && o[0] == '-' && o[1] != '-' && o.find(rule.option) != std::string_view::npos) {
                    part_span(w, u.offset, Part::whole, spans);
                    return true;
                }
            }
            return false;
        }
        case Form::name_then_value:
            if (!w.empty() && w.front() != '-' && w.find('=') == std::string_view::npos) {
                if (const Secrecy s = classify_name(w); s != Secrecy::none) {
                    m_pending = {true, s, Part::whole};
                    return true;
                }
            }
            return false;
        }
        return false;
    }

    // --name=value, -name=value, --name value (the value is the next word).
    void option(const Unquoted& u, Spans& spans)
    {
        const std::string_view w = u.bare;
        const size_t dashes = w.substr(0, 2) == "--" ? 2 : 1;
        const size_t eq = w.find('=');
        if (eq == std::string_view::npos) {
            if (dashes == 1 && w.size() == 2) {
                return; // -p, -u: meaning depends on the program (k_program_rules)
            }
            if (const Secrecy s = classify_name(w.substr(dashes)); s != Secrecy::none) {
                m_pending = {true, s, Part::whole};
            }
            return;
        }
        const std::string_view value = w.substr(eq + 1);
        if (is_secret_value(classify_name(w.substr(dashes, eq - dashes)), value)) {
            spans.add(u.offset + eq + 1, u.offset + w.size());
            return;
        }
        assignment(value, u.offset + eq + 1, spans); // --from-literal=password=X, --env=TOKEN=X
    }

    // NAME=value (env assignments, make variables, Hydra overrides db.password=X).
    static void assignment(std::string_view w, size_t offset, Spans& spans)
    {
        const size_t eq = w.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            return;
        }
        const std::string_view name = w.substr(0, eq);
        if (std::any_of(name.begin(), name.end(), [](char c) { return is_space(c) || is_quote(c) || c == '?'; })) {
            return;
        }
        if (is_secret_value(classify_name(name), w.substr(eq + 1))) {
            spans.add(offset + eq + 1, offset + w.size());
        }
    }

    std::vector<std::string>& m_words;
    bool m_shell;
    std::vector<const ProgramRule*> m_active;
    Pending m_pending;
    size_t m_segment_start = 0;
};

// Word boundaries of shell text: whitespace outside quotes.
std::vector<Span> shell_words(std::string_view s)
{
    std::vector<Span> words;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_space(s[i])) {
            ++i;
        }
        if (i == s.size()) {
            break;
        }
        const size_t start = i;
        char quote = 0;
        while (i < s.size()) {
            const char c = s[i];
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && quote == '"' && i + 1 < s.size()) {
                    ++i;
                }
            } else if (is_space(c)) {
                break;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '\\' && i + 1 < s.size()) {
                ++i;
            }
            ++i;
        }
        words.push_back({start, i});
    }
    return words;
}

void redact_command(std::vector<std::string>& words, bool shell_text, int depth);

// An argument that holds a shell command (`sh -c '...'`), or a quoted
// word inside one, read as words with the command-line rules.
std::string redact_shell_text(std::string_view text, int depth)
{
    const Unquoted u = unquote(text);
    const std::vector<Span> ranges = shell_words(u.bare);
    std::vector<std::string> words;
    words.reserve(ranges.size());
    for (const Span& r : ranges) {
        words.emplace_back(u.bare.substr(r.begin, r.end - r.begin));
    }
    redact_command(words, true, depth);
    std::string out(text.substr(0, u.offset));
    size_t pos = 0;
    for (size_t i = 0; i < ranges.size(); ++i) {
        out.append(u.bare.substr(pos, ranges[i].begin - pos));
        out.append(words[i]);
        pos = ranges[i].end;
    }
    out.append(u.bare.substr(pos));
    out.append(text.substr(u.offset + u.bare.size()));
    return out;
}

void redact_command(std::vector<std::string>& words, bool shell_text, int depth)
{
    CommandRedactor(words, shell_text).run();
    if (depth >= k_max_shell_depth) {
        return;
    }
    for (auto& w : words) {
        if (std::any_of(w.begin(), w.end(), is_space)) {
            w = redact_shell_text(w, depth + 1);
        }
    }
}

} // namespace

// ---- Redactor --------------------------------------------------------------

struct Redactor::Pattern {
    regex_t regex{};
    size_t groups = 0;
    bool compiled = false;

    Pattern() = default;
    Pattern(const Pattern&) = delete;
    Pattern& operator=(const Pattern&) = delete;
    ~Pattern()
    {
        if (compiled) {
            regfree(&regex);
        }
    }

    // Adds the spans of `s` this pattern redacts, shifted by `offset`, only
    // those at or after `from`.
    void spans(const std::string& s, Spans& out, size_t offset = 0, size_t from = 0) const
    {
        std::vector<regmatch_t> m(groups + 1);
        size_t start = 0;
        int flags = 0;
        while (start <= s.size()) {
            if (regexec(&regex, s.c_str() + start, m.size(), m.data(), flags) != 0 || m[0].rm_so < 0) {
                return;
            }
            auto add = [&](const regmatch_t& r) {
                if (r.rm_so >= 0) {
                    const size_t b = std::max(start + size_t(r.rm_so), from);
                    out.add(offset + b, offset + std::max(b, start + size_t(r.rm_eo)));
                }
            };
            if (groups == 0) {
                add(m[0]);
            }
            for (size_t g = 1; g <= groups; ++g) {
                add(m[g]);
            }
            start += size_t(m[0].rm_eo) + (m[0].rm_eo == m[0].rm_so ? 1 : 0);
            flags = REG_NOTBOL;
        }
    }
};

Result<Redactor> Redactor::create(const std::vector<std::string>& extra_patterns)
{
    Redactor r;
    for (const auto& text : extra_patterns) {
        auto p = std::make_shared<Pattern>();
        if (const int rc = regcomp(&p->regex, text.c_str(), REG_EXTENDED | REG_ICASE); rc != 0) {
            char message[256];
            regerror(rc, &p->regex, message, sizeof message);
            return fail("redact.extra_patterns: '{}' is not a valid extended regular expression: {}", text, message);
        }
        p->compiled = true;
        p->groups = p->regex.re_nsub;
        r.m_extra.push_back(std::move(p));
    }
    return r;
}

std::vector<std::string> Redactor::argv(std::vector<std::string> args) const
{
    redact_command(args, false, 0);
    for (auto& a : args) {
        a = redact_shapes(a);
    }
    if (m_extra.empty()) {
        return args;
    }
    // Each pattern sees every argument, and every argument joined to the
    // next by a space, so `--vault[= ]([^ ]+)` covers both forms.
    std::vector<Spans> spans(args.size());
    for (const auto& p : m_extra) {
        for (size_t i = 0; i < args.size(); ++i) {
            p->spans(args[i], spans[i]);
            if (i + 1 == args.size()) {
                continue;
            }
            Spans pair;
            p->spans(args[i] + " " + args[i + 1], pair);
            const size_t second = args[i].size() + 1;
            for (const Span& sp : pair.list()) {
                if (sp.begin < second - 1) {
                    spans[i].add(sp.begin, std::min(sp.end, second - 1));
                }
                if (sp.end > second) {
                    spans[i + 1].add(std::max(sp.begin, second) - second, sp.end - second);
                }
            }
        }
    }
    for (size_t i = 0; i < args.size(); ++i) {
        args[i] = spans[i].apply(args[i]);
    }
    return args;
}

std::string Redactor::env_value(std::string_view name, std::string_view value) const
{
    if (is_secret_value(classify_env(name), value)) {
        return std::string(k_redacted);
    }
    std::string out = redact_shell_text(value, 1); // JAVA_TOOL_OPTIONS="-Dx.password=y", DATABASE_URL=...
    out = redact_shapes(out);
    if (!m_extra.empty()) {
        const std::string entry = std::string(name) + "=" + out;
        Spans spans;
        for (const auto& p : m_extra) {
            p->spans(entry, spans, 0, name.size() + 1);
        }
        out = spans.apply(entry).substr(name.size() + 1);
    }
    return out;
}

std::string Redactor::text(std::string_view text) const
{
    std::string out = redact_shapes(text);
    if (!m_extra.empty()) {
        Spans spans;
        for (const auto& p : m_extra) {
            p->spans(out, spans);
        }
        out = spans.apply(out);
    }
    return out;
}

void Redactor::apply(JobRecord& job) const
{
    job.argv = argv(std::move(job.argv));
    job.command = join_command(job.argv);
    for (auto it = job.env.begin(); it != job.env.end(); ++it) {
        if (it->is_string()) {
            *it = env_value(it.key(), it->get_ref<const std::string&>());
        }
    }
    for (auto& rec : job.processes) {
        rec.argv = argv(std::move(rec.argv));
        for (auto& note : rec.notes) {
            note = text(note);
        }
    }
    if (job.git) {
        job.git->remote = text(job.git->remote);
    }
    for (auto& note : job.notes) {
        note = text(note);
    }
}

} // namespace roar::collector
