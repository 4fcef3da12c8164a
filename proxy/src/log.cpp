// The proxy's logger and the redaction rules for request data: one
// scanner, redact(), that every log line goes through.
#include "roar/proxy/log.hpp"

#include "roar/proxy/request.hpp"
#include "roar/proxy/sigv4.hpp"

#include <chrono>
#include <ctime>
#include <initializer_list>
#include <type_traits>

#include <nlohmann/json.hpp>

#include <unistd.h>

namespace roar::proxy {

Logger& logger()
{
    static Logger instance;
    return instance;
}

bool Logger::open(const std::string& path, bool verbose)
{
    m_verbose = verbose;
    if (path.empty()) {
        return true;
    }
    std::FILE* f = std::fopen(path.c_str(), "a");
    if (f == nullptr) {
        return false;
    }
    std::setvbuf(f, nullptr, _IOLBF, 0);
    m_file = f;
    return true;
}

Logger::~Logger()
{
    if (m_file != stderr) {
        std::fclose(m_file);
    }
}

void Logger::write_record(std::string_view level, std::string_view message, const std::vector<LogField>& fields)
{
    const auto now = std::chrono::system_clock::now();
    const std::time_t tt = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string line;
    if (m_format == LogFormat::json) {
        nlohmann::ordered_json j;
        j["time"] = fmt::format("{}.{:03d}Z", stamp, ms);
        j["level"] = std::string(level);
        j["pid"] = getpid();
        j["msg"] = redact(message);
        for (const auto& f : fields) {
            std::visit(
                [&](const auto& v) {
                    if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) {
                        j[f.name] = redact(v);
                    } else {
                        j[f.name] = v;
                    }
                },
                f.value);
        }
        // Replace invalid UTF-8 rather than fail: a key can be any bytes.
        line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    } else {
        std::string text(message);
        for (const auto& f : fields) {
            std::visit([&](const auto& v) { text += fmt::format(" {}={}", f.name, v); }, f.value);
        }
        line = fmt::format("{}.{:03d}Z roar-proxy[{}] {}: {}\n", stamp, ms, getpid(), level, redact(text));
    }
    const std::lock_guard<std::mutex> lock(m_mutex);
    std::fwrite(line.data(), 1, line.size(), m_file);
    std::fflush(m_file);
}

namespace {

bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
           || c == '.' || c == '%';
}

// Where a redacted `name=value` value ends: the next parameter, field or word.
bool ends_value(char c)
{
    return c == '&' || c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"' || c == '\''
           || c == '<' || c == '>';
}

// `text` with the password of every scheme://user:PASSWORD@host replaced
// by REDACTED (an upstream URL written with credentials in it).
std::string redact_url_passwords(std::string text)
{
    for (std::size_t p = text.find("://"); p != std::string::npos; p = text.find("://", p + 3)) {
        const std::size_t authority = p + 3;
        std::size_t end = authority;
        while (end < text.size() && text[end] != '/' && text[end] != '?' && text[end] != '#' && text[end] != '\''
               && text[end] != '"' && text[end] != ' ' && text[end] != '\t' && text[end] != '\n' && text[end] != '\r') {
            ++end;
        }
        const std::size_t at = text.rfind('@', end == 0 ? 0 : end - 1);
        if (at == std::string::npos || at < authority) {
            continue;
        }
        const std::size_t colon = text.find(':', authority);
        if (colon < at && at > colon + 1) {
            text.replace(colon + 1, at - colon - 1, k_redacted);
        }
    }
    return text;
}

bool name_in(std::string_view name, std::initializer_list<std::string_view> names)
{
    // A client may percent-encode a parameter name; S3 decodes it, so do we.
    std::string decoded;
    if (name.find('%') != std::string_view::npos) {
        decoded = sigv4::query_decode(name).value_or(std::string(name));
        name = decoded;
    }
    for (const auto n : names) {
        if (iequals(n, name)) {
            return true;
        }
    }
    return false;
}

} // namespace

bool is_secret_parameter(std::string_view name)
{
    return name_in(name, {// SigV4: presigned query parameters and Authorization fields.
                          "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "Credential", "Signature",
                          // SigV2 (query string and the Authorization header's AWS form).
                          "AWSAccessKeyId",
                          // aws-chunked framing.
                          "chunk-signature", "x-amz-trailer-signature",
                          // Other stores' presigned URLs and common token names.
                          "X-Goog-Signature", "X-Goog-Credential", "sig", "access_token", "id_token", "refresh_token",
                          "token", "password", "secret", "client_secret", "api_key", "apikey"});
}

bool is_secret_header(std::string_view name)
{
    return name_in(name, {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-amz-security-token",
                          "x-amz-server-side-encryption-customer-key",
                          "x-amz-copy-source-server-side-encryption-customer-key"});
}

std::string redact(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        if (!is_name_char(text[i])) {
            out.push_back(text[i++]);
            continue;
        }
        std::size_t j = i;
        while (j < text.size() && is_name_char(text[j])) {
            ++j;
        }
        const std::string_view name = text.substr(i, j - i);
        out.append(name);
        i = j;
        if (j == text.size()) {
            break;
        }
        if (text[j] == '=' && is_secret_parameter(name)) {
            std::size_t k = j + 1;
            while (k < text.size() && !ends_value(text[k])) {
                ++k;
            }
            out.push_back('=');
            if (k > j + 1) {
                out.append(k_redacted);
            }
            i = k;
        } else if (text[j] == ':' && is_secret_header(name)) {
            // "Name: value" up to the end of its line.
            std::size_t k = j + 1;
            while (k < text.size() && (text[k] == ' ' || text[k] == '\t')) {
                ++k;
            }
            out.append(text.substr(j, k - j));
            std::size_t end = k;
            while (end < text.size() && text[end] != '\r' && text[end] != '\n') {
                ++end;
            }
            if (end > k) {
                out.append(k_redacted);
            }
            i = end;
        }
    }
    return redact_url_passwords(std::move(out));
}

std::string redact_target(std::string_view target) { return redact(target); }

std::string redact_header(std::string_view name, std::string_view value)
{
    if (is_secret_header(name)) {
        return std::string(k_redacted);
    }
    return redact(value);
}

} // namespace roar::proxy
