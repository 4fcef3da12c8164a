// Process-wide counters for /_roar/metrics in the Prometheus text format:
// requests by operation and status, bytes in/out, an upstream latency
// histogram, in-flight requests and ring publish outcomes. Updates are
// lock-free except the (operation, status) table, which takes a short mutex
// once per request.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace roar::proxy {

class Metrics {
public:
    static constexpr std::array<double, 12> k_buckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                         0.1,   0.25,   0.5,   1.0,  2.5,   10.0};

    // Counts one finished request of operation `op` answered with `status`.
    void count_request(std::string_view op, unsigned status);
    // Records the time `seconds` from sending a request upstream to its response head.
    void observe_upstream_latency(double seconds);

    std::atomic<std::uint64_t> bytes_in{0};  // request body bytes read from clients
    std::atomic<std::uint64_t> bytes_out{0}; // response body bytes written to clients
    std::atomic<std::uint64_t> upstream_bytes_sent{0};
    std::atomic<std::uint64_t> upstream_bytes_received{0};
    std::atomic<std::int64_t> inflight{0};
    std::atomic<std::uint64_t> upstream_requests{0};
    std::atomic<std::uint64_t> upstream_errors{0}; // transport failures (no HTTP response)
    std::atomic<std::uint64_t> events_published{0};
    std::atomic<std::uint64_t> events_dropped{0};
    std::atomic<std::uint64_t> client_aborts{0};
    std::atomic<std::uint64_t> auth_failures{0};
    std::atomic<std::uint64_t> redirects_admitted{0};   // redirected connections (PROXY v2 header) admitted
    std::atomic<std::uint64_t> redirects_refused{0};    // and refused
    std::atomic<std::uint64_t> aws_chunked_requests{0}; // request bodies decoded from aws-chunked
    std::atomic<std::uint64_t> header_timeouts{0};      // connections closed for a request head that took too long
    std::atomic<std::int64_t> connections_open{0};      // admitted and being served
    std::atomic<std::int64_t> connections_waiting{0};   // accepted, waiting for admission

    // The Prometheus text exposition of everything above.
    std::string render() const;

private:
    mutable std::mutex m_mutex;
    std::map<std::pair<std::string, unsigned>, std::uint64_t> m_requests;
    std::array<std::atomic<std::uint64_t>, k_buckets.size() + 1> m_latency_buckets{};
    std::atomic<std::uint64_t> m_latency_count{0};
    std::atomic<std::uint64_t> m_latency_sum_us{0};
};

} // namespace roar::proxy
