// Prometheus text rendering of the proxy's counters.
#include "roar/proxy/metrics.hpp"

#include <fmt/format.h>

namespace roar::proxy {

void Metrics::count_request(std::string_view op, unsigned status)
{
    const std::lock_guard<std::mutex> lock(m_mutex);
    ++m_requests[{std::string(op), status}];
}

void Metrics::observe_upstream_latency(double seconds)
{
    std::size_t i = 0;
    while (i < k_buckets.size() && seconds > k_buckets[i]) {
        ++i;
    }
    m_latency_buckets[i].fetch_add(1, std::memory_order_relaxed);
    m_latency_count.fetch_add(1, std::memory_order_relaxed);
    m_latency_sum_us.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string Metrics::render() const
{
    std::string out;
    auto counter = [&](const char* name, const char* help, std::uint64_t v) {
        out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, v);
    };
    out += "# HELP roar_proxy_requests_total Requests answered, by S3 operation and HTTP status.\n"
           "# TYPE roar_proxy_requests_total counter\n";
    {
        const std::lock_guard<std::mutex> lock(m_mutex);
        for (const auto& [key, n] : m_requests) {
            out += fmt::format("roar_proxy_requests_total{{operation=\"{}\",status=\"{}\"}} {}\n", key.first,
                               key.second, n);
        }
    }
    counter("roar_proxy_bytes_in_total", "Request body bytes read from clients.", bytes_in.load());
    counter("roar_proxy_bytes_out_total", "Response body bytes written to clients.", bytes_out.load());
    counter("roar_proxy_upstream_bytes_sent_total", "Request body bytes sent upstream (decoded).",
            upstream_bytes_sent.load());
    counter("roar_proxy_upstream_bytes_received_total", "Response body bytes received from upstream.",
            upstream_bytes_received.load());
    counter("roar_proxy_upstream_requests_total", "Requests forwarded upstream.", upstream_requests.load());
    counter("roar_proxy_upstream_errors_total", "Upstream transfers that failed without an HTTP response.",
            upstream_errors.load());
    counter("roar_proxy_auth_failures_total", "Requests refused by inbound signature verification.",
            auth_failures.load());
    counter("roar_proxy_redirects_admitted_total", "Redirected connections (PROXY v2 header) admitted.",
            redirects_admitted.load());
    counter("roar_proxy_redirects_refused_total",
            "Redirected connections refused (not loopback, malformed header, wrong secret, destination not routed, "
            "TLS).",
            redirects_refused.load());
    counter("roar_proxy_aws_chunked_requests_total", "Request bodies decoded from aws-chunked before forwarding.",
            aws_chunked_requests.load());
    counter("roar_proxy_header_timeouts_total", "Connections closed because a request head did not arrive in time.",
            header_timeouts.load());
    counter("roar_proxy_client_aborts_total", "Requests whose client went away mid-transfer.", client_aborts.load());
    counter("roar_proxy_events_published_total", "S3 lineage events written to the ring.", events_published.load());
    counter("roar_proxy_events_dropped_total", "S3 lineage events dropped because the ring was full or absent.",
            events_dropped.load());
    out += fmt::format("# HELP roar_proxy_inflight_requests Requests being served now.\n"
                       "# TYPE roar_proxy_inflight_requests gauge\nroar_proxy_inflight_requests {}\n",
                       inflight.load());
    out += fmt::format("# HELP roar_proxy_connections Client connections being served.\n"
                       "# TYPE roar_proxy_connections gauge\nroar_proxy_connections {}\n",
                       connections_open.load());
    out += fmt::format("# HELP roar_proxy_connections_waiting Client connections accepted and waiting for a slot.\n"
                       "# TYPE roar_proxy_connections_waiting gauge\nroar_proxy_connections_waiting {}\n",
                       connections_waiting.load());
    out += "# HELP roar_proxy_upstream_latency_seconds Time from sending a request upstream to its response head.\n"
           "# TYPE roar_proxy_upstream_latency_seconds histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < k_buckets.size(); ++i) {
        cumulative += m_latency_buckets[i].load();
        out += fmt::format("roar_proxy_upstream_latency_seconds_bucket{{le=\"{}\"}} {}\n", k_buckets[i], cumulative);
    }
    cumulative += m_latency_buckets[k_buckets.size()].load();
    out += fmt::format("roar_proxy_upstream_latency_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
    out += fmt::format("roar_proxy_upstream_latency_seconds_sum {}\n", m_latency_sum_us.load() / 1e6);
    out += fmt::format("roar_proxy_upstream_latency_seconds_count {}\n", m_latency_count.load());
    return out;
}

} // namespace roar::proxy
