// Shared by the proxy's fuzz targets: a fixed clock and the credentials
// requests are verified against.
#pragma once

#include "fuzz_support.hpp"

#include "roar/proxy/credentials.hpp"
#include "roar/proxy/request_auth.hpp"

#include <chrono>

namespace roar::fuzz {

inline const proxy::Credentials& credentials()
{
    static const proxy::Credentials creds{"AKIDFUZZ", "fuzz/secret+key", "", "fuzz", "us-east-1"};
    return creds;
}

inline std::chrono::system_clock::time_point now() { return *proxy::parse_amz_date("20240301T120000Z"); }

} // namespace roar::fuzz
