// Presigned-query parsing and verification (SigV4 and SigV2 share the
// query), the canonical query and URI, redaction of the target, and the
// whole pure request step. Input: a request-target ("/path?query").
#include "fuzz_proxy.hpp"

#include "roar/proxy/handler.hpp"
#include "roar/proxy/log.hpp"
#include "roar/proxy/request_auth.hpp"
#include "roar/proxy/sigv4.hpp"

#include <cstdint>
#include <string>

using namespace roar::proxy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string target(reinterpret_cast<const char*>(data), size);
    const RequestHead head{"GET", target, {{"Host", "bucket.localhost:9090"}}};

    if (auto query = sigv4::parse_query(head.raw_query())) {
        // Canonicalising is idempotent: what the proxy forwards (the
        // canonical query) canonicalises to itself, so the upstream
        // verifies exactly what was signed.
        const std::string canonical = sigv4::canonical_query(*query);
        const auto again = sigv4::parse_query(canonical);
        roar::fuzz::require(again.has_value(), "the canonical query parses");
        roar::fuzz::require(sigv4::canonical_query(*again) == canonical, "the canonical query is a fixed point");
    }
    if (auto uri = sigv4::canonical_uri(head.raw_path())) {
        roar::fuzz::require(sigv4::canonical_uri(*uri) == *uri, "the canonical URI is a fixed point");
    }
    const std::string redacted = redact_target(target);
    roar::fuzz::require(redact_target(redacted) == redacted, "redaction is idempotent");

    auto verified = verify_request(head, roar::fuzz::credentials(), roar::fuzz::now());
    if (verified) {
        std::vector<std::pair<std::string, std::string>> as_headers;
        (void)forwarded_query(*verified, *sigv4::parse_query(head.raw_query()), as_headers);
    }
    HandlerConfig config;
    config.upstream = "http://127.0.0.1:7000";
    (void)handle(head, config, roar::fuzz::credentials(), roar::fuzz::now());
    return 0;
}
