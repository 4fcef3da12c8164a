// SigV2: Authorization parsing, HTTP dates, the canonicalized resource and
// amz headers, and verification of header- and query-signed requests.
// Input: lines "Authorization value \n Date \n target \n name: value...".
#include "fuzz_proxy.hpp"

#include "roar/proxy/request_auth.hpp"
#include "roar/proxy/sigv2.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace roar::proxy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view in(reinterpret_cast<const char*>(data), size);
    std::vector<std::string_view> lines;
    while (!in.empty() && lines.size() < 40) {
        const auto nl = in.find('\n');
        lines.push_back(in.substr(0, nl));
        in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
    }
    lines.resize(std::max<std::size_t>(lines.size(), 3));

    (void)sigv2::parse_authorization(lines[0]);
    if (auto t = sigv2::parse_http_date(lines[1])) {
        (void)t->time_since_epoch().count();
    }
    RequestHead head{"GET", std::string(lines[2].empty() ? std::string_view("/") : lines[2]), {}};
    std::vector<std::pair<std::string, std::string>> headers;
    for (std::size_t i = 3; i < lines.size(); ++i) {
        const auto colon = lines[i].find(':');
        headers.emplace_back(std::string(lines[i].substr(0, colon)),
                             colon == std::string_view::npos ? std::string() : std::string(lines[i].substr(colon + 1)));
    }
    (void)sigv2::canonical_amz_headers(headers);
    (void)sigv2::canonical_resource("bucket", head.raw_path(), head.raw_query());

    head.headers = headers;
    head.headers.emplace_back("Host", "127.0.0.1:9090");
    head.headers.emplace_back("Date", std::string(lines[1]));
    head.headers.emplace_back("Authorization", std::string(lines[0]));
    (void)verify_request(head, roar::fuzz::credentials(), roar::fuzz::now());
    head.headers.pop_back(); // the same target as a presigned URL
    (void)verify_request(head, roar::fuzz::credentials(), roar::fuzz::now());
    return 0;
}
