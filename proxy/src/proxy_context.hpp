// State shared by the listener, every event loop and their connections:
// options, the handler configuration, credentials, metrics, the recorder,
// the hashing pool and the shutdown flags. Everything here is safe to use
// from any loop thread.
#pragma once

#include "hash_pool.hpp"
#include "multipart_digest.hpp"
#include "recorder.hpp"
#include "roar/proxy/credentials.hpp"
#include "roar/proxy/handler.hpp"
#include "roar/proxy/metrics.hpp"
#include "roar/proxy/redirect.hpp"
#include "roar/proxy/server.hpp"
#include "tls_front.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

namespace roar::proxy {

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
    std::unique_ptr<Recorder> recorder;
    std::unique_ptr<HashPool> hashes;
    std::unique_ptr<MultipartDigests> multipart; // the recorder holds a pointer to it
    CredentialCache creds;
    RedirectPolicy redirect;           // which redirected connections are admitted
    std::unique_ptr<TlsFront> tls;     // terminates redirected TLS (null: proxy.intercept_tls is off)
    std::string ca_bundle;             // AWS_CA_BUNDLE, used for https upstreams
    std::atomic<bool> stopping{false}; // no new requests; idle connections close
};

} // namespace roar::proxy
