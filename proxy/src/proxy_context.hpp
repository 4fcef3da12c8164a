// State shared by the listener, its sessions and their relays: options,
// the handler configuration, credentials, metrics, the event ring, the
// curl handle pool and the shutdown flags.
#pragma once

#include "roar/proxy/credentials.hpp"
#include "roar/proxy/event_ring.hpp"
#include "roar/proxy/handler.hpp"
#include "roar/proxy/metrics.hpp"
#include "roar/proxy/s3_event.hpp"
#include "roar/proxy/server.hpp"

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace roar::proxy {

// Idle curl easy handles; each keeps its own connection cache, so taking a
// handle back from the pool reuses its upstream connections.
class CurlPool {
public:
    static constexpr std::size_t k_max_idle = 32;
    ~CurlPool();
    CURL* acquire();
    void release(CURL* h);

private:
    std::mutex m_mutex;
    std::vector<CURL*> m_idle;
};

// The credential chain, re-resolved at most every few seconds so edited
// credential files and a late `aws configure` are picked up.
class CredentialCache {
public:
    tl::expected<Credentials, std::string> get();

private:
    std::mutex m_mutex;
    std::chrono::steady_clock::time_point m_checked{};
    tl::expected<Credentials, std::string> m_value = tl::unexpected(std::string("not resolved yet"));
};

struct ProxyContext {
    ServerOptions opts;
    HandlerConfig handler;
    Metrics metrics;
    std::unique_ptr<RingPublisher> ring;
    MultipartSizes parts;
    CurlPool curl;
    CredentialCache creds;
    std::string ca_bundle;             // AWS_CA_BUNDLE, used for https upstreams
    std::atomic<bool> stopping{false}; // no new requests
    std::atomic<bool> aborting{false}; // cut in-flight transfers now
};

} // namespace roar::proxy
