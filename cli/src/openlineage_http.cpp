// Posting OpenLineage events over HTTP (see openlineage_http.hpp).
#include "openlineage_http.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <thread>

namespace roar::cli::openlineage {

namespace {

constexpr const char* k_lineage_path = "/api/v1/lineage";
// How much of a failing answer's body the error quotes.
constexpr size_t k_quoted_body = 200;

size_t collect_body(char* data, size_t size, size_t count, void* user)
{
    auto* body = static_cast<std::string*>(user);
    const size_t n = size * count;
    if (body->size() < 4096) {
        body->append(data, std::min(n, 4096 - body->size()));
    }
    return n;
}

// The first line of `body`, cut to k_quoted_body characters.
std::string first_line(const std::string& body)
{
    std::string line = body.substr(0, body.find_first_of("\r\n"));
    if (line.size() > k_quoted_body) {
        line = line.substr(0, k_quoted_body) + "...";
    }
    return line;
}

} // namespace

Result<std::string> endpoint_url(const std::string& url)
{
    const size_t scheme_end = url.find("://");
    const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
    if (scheme != "http" && scheme != "https") {
        return fail("--url takes an http:// or https:// URL (e.g. http://localhost:5000), not '{}'", url);
    }
    const size_t path_start = url.find_first_of("/?#", scheme_end + 3);
    if (path_start == scheme_end + 3) {
        return fail("--url '{}' names no host", url);
    }
    if (path_start == std::string::npos) {
        return url + k_lineage_path;
    }
    if (url.compare(path_start, std::string::npos, "/") == 0) {
        return url.substr(0, path_start) + k_lineage_path;
    }
    return url;
}

struct EventSender::Curl {
    CURL* handle = nullptr;
    curl_slist* headers = nullptr;
    ~Curl()
    {
        curl_slist_free_all(headers);
        if (handle) {
            curl_easy_cleanup(handle);
        }
    }
};

EventSender::EventSender(std::string endpoint, SenderOptions options)
    : m_curl(std::make_unique<Curl>()), m_endpoint(std::move(endpoint)), m_options(std::move(options))
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    m_curl->handle = curl_easy_init();
    if (!m_curl->handle) {
        throw FatalError("export: could not start libcurl");
    }
    m_curl->headers = curl_slist_append(m_curl->headers, "Content-Type: application/json");
    if (!m_options.api_key.empty()) {
        m_curl->headers =
            curl_slist_append(m_curl->headers, fmt::format("Authorization: Bearer {}", m_options.api_key).c_str());
    }
    CURL* h = m_curl->handle;
    curl_easy_setopt(h, CURLOPT_URL, m_endpoint.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, m_curl->headers);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, long(std::chrono::milliseconds(m_options.timeout).count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_body);
    // Redirects would turn the POST into a GET: an endpoint answers directly.
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
}

EventSender::~EventSender() = default;

Result<void> EventSender::send(const std::string& event_json)
{
    CURL* h = m_curl->handle;
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, event_json.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(event_json.size()));
    std::string why;
    auto delay = m_options.first_retry_delay;
    for (int attempt = 1; attempt <= m_options.attempts; ++attempt) {
        std::string body;
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
        const CURLcode rc = curl_easy_perform(h);
        bool retry = true;
        if (rc != CURLE_OK) {
            why = curl_easy_strerror(rc);
        } else {
            long status = 0;
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            if (status >= 200 && status < 300) {
                return {};
            }
            why = body.empty() ? fmt::format("HTTP {}", status) : fmt::format("HTTP {}: {}", status, first_line(body));
            retry = status == 429 || status >= 500;
        }
        if (!retry) {
            return fail("{}", why);
        }
        if (attempt < m_options.attempts) {
            std::this_thread::sleep_for(delay);
            delay *= 2;
        }
    }
    return fail("{} (tried {} times)", why, m_options.attempts);
}

} // namespace roar::cli::openlineage
