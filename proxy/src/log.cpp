// The proxy's logger and the redaction rules for request data.
#include "roar/proxy/log.hpp"

#include "roar/proxy/request.hpp"

#include <chrono>
#include <ctime>

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

void Logger::write(std::string_view level, std::string_view text)
{
    const auto now = std::chrono::system_clock::now();
    const std::time_t tt = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    const std::string line = fmt::format("{}.{:03d}Z roar-proxy[{}] {}: {}\n", stamp, ms, getpid(), level, text);
    const std::lock_guard<std::mutex> lock(m_mutex);
    std::fwrite(line.data(), 1, line.size(), m_file);
    std::fflush(m_file);
}

std::string redact_target(std::string_view target)
{
    std::string out;
    const auto q = target.find('?');
    out.append(target.substr(0, q));
    if (q == std::string_view::npos) {
        return out;
    }
    out.push_back('?');
    std::string_view rest = target.substr(q + 1);
    bool first = true;
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view part = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        const std::string_view name = part.substr(0, part.find('='));
        if (!first) {
            out.push_back('&');
        }
        first = false;
        if (iequals(name, "X-Amz-Signature") || iequals(name, "X-Amz-Security-Token")
            || iequals(name, "X-Amz-Credential")) {
            out.append(name).append("=REDACTED");
        } else {
            out.append(part);
        }
    }
    return out;
}

std::string redact_header(std::string_view name, std::string_view value)
{
    if (iequals(name, "authorization") || iequals(name, "x-amz-security-token") || iequals(name, "cookie")
        || iequals(name, "proxy-authorization")) {
        return "REDACTED";
    }
    return std::string(value);
}

} // namespace roar::proxy
