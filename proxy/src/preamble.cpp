// classify_preamble(): PROXY protocol v2 signature or HTTP.
#include "roar/proxy/preamble.hpp"

namespace roar::proxy {

PreambleKind classify_preamble(std::string_view first)
{
    const std::size_t n = std::min(first.size(), k_proxy_v2_signature.size());
    if (first.substr(0, n) != k_proxy_v2_signature.substr(0, n)) {
        return PreambleKind::Http;
    }
    return n == k_proxy_v2_signature.size() ? PreambleKind::ProxyV2 : PreambleKind::NeedMore;
}

} // namespace roar::proxy
