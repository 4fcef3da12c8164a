// Sending OpenLineage events to an HTTP endpoint (`roar export --url`):
// one POST of a JSON event per request to URL/api/v1/lineage (the path
// OpenLineage's HTTP transport and Marquez use), over libcurl, retrying
// what may pass on a second try (no connection, timeouts, 429 and 5xx).
#pragma once

#include "roar/collector/result.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace roar::cli::openlineage {

// `url` with /api/v1/lineage appended when it names no path (or just "/"),
// else unchanged; an error unless it is an http:// or https:// URL.
Result<std::string> endpoint_url(const std::string& url);

struct SenderOptions {
    int attempts = 4;                                 // tries per event
    std::chrono::milliseconds first_retry_delay{250}; // doubled after each failed try
    std::chrono::seconds timeout{30};                 // per request
    std::string api_key;                              // sent as "Authorization: Bearer KEY" when set
};

class EventSender {
public:
    // A sender posting to `endpoint` (from endpoint_url).
    EventSender(std::string endpoint, SenderOptions options);
    ~EventSender();
    EventSender(const EventSender&) = delete;
    EventSender& operator=(const EventSender&) = delete;

    // POSTs `event_json` (one event) and waits for a 2xx answer; the error
    // says why the last try failed (the HTTP status and the start of the
    // server's answer, or the transport's message).
    Result<void> send(const std::string& event_json);

private:
    struct Curl;
    std::unique_ptr<Curl> m_curl;
    std::string m_endpoint;
    SenderOptions m_options;
};

} // namespace roar::cli::openlineage
