// SigV4 Authorization-header parsing, and verification of a request that
// carries the input as its Authorization header. Input: the header value.
#include "fuzz_proxy.hpp"

#include "roar/proxy/log.hpp"
#include "roar/proxy/request_auth.hpp"
#include "roar/proxy/sigv4.hpp"

#include <cstdint>
#include <string>

using namespace roar::proxy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string value(reinterpret_cast<const char*>(data), size);
    if (auto fields = sigv4::parse_authorization(value)) {
        roar::fuzz::require(!fields->signature.empty() && !fields->signed_headers.empty(),
                            "a parsed Authorization has a signature and signed headers");
        (void)fields->credential.scope();
    }
    (void)sigv4::parse_credential(value);
    (void)sigv4::canonical_header_value(value);

    const RequestHead head{"PUT",
                           "/bucket/key?partNumber=1&uploadId=u",
                           {{"Host", "127.0.0.1:9090"},
                            {"x-amz-date", "20240301T120000Z"},
                            {"x-amz-content-sha256", std::string(sigv4::k_unsigned_payload)},
                            {"Content-Length", "3"},
                            {"Authorization", value}}};
    auto verified = verify_request(head, roar::fuzz::credentials(), roar::fuzz::now());
    roar::fuzz::require(!verified || verified->scheme == AuthScheme::SigV4Header
                            || verified->scheme == AuthScheme::SigV2Header,
                        "a request with an Authorization header is header-signed");
    // What reaches a log never shows the header.
    roar::fuzz::require(redact_header("Authorization", value) == k_redacted, "Authorization is redacted whole");
    return 0;
}
