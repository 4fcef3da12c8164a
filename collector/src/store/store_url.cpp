// Store URLs (see postgres_engine.hpp): recognising a PostgreSQL URL,
// keeping its password out of files and messages, and the schema a shared
// project lives in. No libpq here, so the configuration loader (and its
// fuzzer) can use it without a server library.
#include "roar/collector/store/postgres_engine.hpp"

#include "roar/collector/byte_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace roar::collector {

namespace {

std::string percent_decode(std::string_view text)
{
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() + 0 && hex_digit_value(text[i + 1]) >= 0
            && hex_digit_value(text[i + 2]) >= 0) {
            out += char(hex_digit_value(text[i + 1]) * 16 + hex_digit_value(text[i + 2]));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

// The userinfo part of a postgresql:// URL: [begin, end) of "user[:password]".
std::pair<size_t, size_t> userinfo_span(std::string_view url)
{
    const size_t scheme = url.find("://");
    if (scheme == std::string_view::npos) {
        return {0, 0};
    }
    const size_t begin = scheme + 3;
    const size_t authority_end = url.find_first_of("/?", begin);
    const std::string_view authority =
        url.substr(begin, authority_end == std::string_view::npos ? std::string_view::npos : authority_end - begin);
    const size_t at = authority.rfind('@');
    if (at == std::string_view::npos) {
        return {begin, begin};
    }
    return {begin, begin + at};
}

} // namespace

bool is_postgres_url(std::string_view url)
{
    return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

SplitStoreUrl split_store_url_password(std::string_view url)
{
    SplitStoreUrl out{std::string(url), {}, {}};
    const auto [begin, end] = userinfo_span(url);
    const std::string_view userinfo = url.substr(begin, end - begin);
    const size_t colon = userinfo.find(':');
    if (colon != std::string_view::npos) {
        out.written_password = std::string(userinfo.substr(colon + 1));
        out.password = percent_decode(out.written_password);
        out.url = std::string(url.substr(0, begin + colon)) + std::string(url.substr(end));
    }
    // A password in the query string (?password=...) goes the same way.
    const size_t query = out.url.find('?');
    if (query != std::string::npos) {
        std::string kept;
        std::string_view rest = std::string_view(out.url).substr(query + 1);
        while (!rest.empty()) {
            const size_t amp = rest.find('&');
            const std::string_view item = rest.substr(0, amp);
            if (item.starts_with("password=")) {
                out.written_password = std::string(item.substr(9));
                out.password = percent_decode(out.written_password);
            } else if (!item.empty()) {
                kept += (kept.empty() ? "" : "&") + std::string(item);
            }
            rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
        }
        out.url = out.url.substr(0, query) + (kept.empty() ? "" : "?" + kept);
    }
    return out;
}

std::string redact_store_url(std::string_view url)
{
    const SplitStoreUrl split = split_store_url_password(url);
    if (split.password.empty()) {
        return split.url;
    }
    const auto [begin, end] = userinfo_span(split.url);
    std::string out = split.url;
    if (end > begin) {
        out.insert(end, ":***");
    } else {
        out += out.find('?') == std::string::npos ? "?password=***" : "&password=***";
    }
    return out;
}

Result<std::string> postgres_schema_for(std::string_view name)
{
    const bool valid = !name.empty() && name.size() <= 48 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!valid) {
        return fail("'{}' is not a usable project name for a shared store: use 1 to 48 lower-case letters, digits "
                    "and '_'",
                    name);
    }
    return "roar_" + std::string(name);
}

} // namespace roar::collector
