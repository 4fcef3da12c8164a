// SigV2 primitives on OpenSSL: HMAC-SHA1, base64, the canonicalized
// resource and amz headers, and the date parsing the verifier needs. Free
// of I/O and of the clock, so the documented examples check every step
// (tests/unit/proxy/test_sigv2.cpp).
#include "roar/proxy/sigv2.hpp"

#include "roar/proxy/request.hpp"
#include "roar/proxy/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>
#include <map>

namespace roar::proxy::sigv2 {

std::string base64(std::string_view raw)
{
    // OpenSSL's encoder: 4 characters per 3 bytes, padded, plus a NUL.
    std::string out((raw.size() + 2) / 3 * 4 + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
    out.resize(n > 0 ? std::size_t(n) : 0);
    return out;
}

std::string hmac_sha1(std::string_view key, std::string_view data)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int len = 0;
    HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), out.data(), &len);
    return std::string(reinterpret_cast<const char*>(out.data()), len);
}

std::string signature(std::string_view secret, std::string_view to_sign) { return base64(hmac_sha1(secret, to_sign)); }

bool is_signed_subresource(std::string_view name)
{
    // The S3 documentation's list, plus the sub-resources and response
    // overrides that S3 and the SDKs (botocore, s3cmd) sign as well.
    static constexpr std::string_view k_names[] = {
        "accelerate",
        "acl",
        "analytics",
        "cors",
        "defaultObjectAcl",
        "delete",
        "inventory",
        "lifecycle",
        "location",
        "logging",
        "metrics",
        "notification",
        "object-lock",
        "partNumber",
        "policy",
        "replication",
        "requestPayment",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "response-content-language",
        "response-content-type",
        "response-expires",
        "restore",
        "select",
        "select-type",
        "storageClass",
        "tagging",
        "torrent",
        "uploadId",
        "uploads",
        "versionId",
        "versioning",
        "versions",
        "website",
    };
    return std::find(std::begin(k_names), std::end(k_names), name) != std::end(k_names);
}

std::string canonical_resource(std::string_view bucket, std::string_view raw_path, std::string_view raw_query)
{
    std::string out;
    if (!bucket.empty()) {
        out.append("/").append(bucket);
    }
    out.append(raw_path.empty() ? std::string_view("/") : raw_path);
    // A path-style request for a bucket alone is signed as "/bucket/" (what
    // S3 expects and the SDKs sign), like the virtual-host form.
    if (bucket.empty() && raw_path.size() > 1 && raw_path.find('/', 1) == std::string_view::npos) {
        out.push_back('/');
    }

    // (name, "=value" or "") in the order sent; a stable sort by name keeps
    // repeated names in that order.
    std::vector<std::pair<std::string, std::string>> subresources;
    while (!raw_query.empty()) {
        const auto amp = raw_query.find('&');
        const std::string_view part = raw_query.substr(0, amp);
        raw_query = amp == std::string_view::npos ? std::string_view{} : raw_query.substr(amp + 1);
        const auto eq = part.find('=');
        const std::string_view name = part.substr(0, eq);
        if (!is_signed_subresource(name)) {
            continue;
        }
        std::string value;
        if (eq != std::string_view::npos) {
            const std::string_view raw_value = part.substr(eq + 1);
            value = "=" + sigv4::percent_decode(raw_value).value_or(std::string(raw_value));
        }
        subresources.emplace_back(std::string(name), std::move(value));
    }
    std::stable_sort(subresources.begin(), subresources.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < subresources.size(); ++i) {
        out.push_back(i == 0 ? '?' : '&');
        out.append(subresources[i].first).append(subresources[i].second);
    }
    return out;
}

namespace {

// `value` trimmed, with line breaks and runs of blanks inside it as one space.
std::string unfold(std::string_view value)
{
    std::string out;
    bool blank = false;
    for (const char c : sigv4::trim_blanks(value)) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            blank = true;
            continue;
        }
        if (blank && !out.empty()) {
            out.push_back(' ');
        }
        blank = false;
        out.push_back(c);
    }
    return out;
}

} // namespace

std::string canonical_amz_headers(const std::vector<std::pair<std::string, std::string>>& headers)
{
    std::map<std::string, std::string> amz;
    for (const auto& [name, value] : headers) {
        std::string lname = to_lower(sigv4::trim_blanks(name));
        if (lname.rfind("x-amz-", 0) != 0) {
            continue;
        }
        auto [it, fresh] = amz.try_emplace(std::move(lname), unfold(value));
        if (!fresh) {
            it->second.append(",").append(unfold(value));
        }
    }
    std::string out;
    for (const auto& [name, value] : amz) {
        out.append(name).append(":").append(value).append("\n");
    }
    return out;
}

std::string string_to_sign(const StringToSignParts& parts)
{
    std::string out;
    out.append(parts.method).append("\n");
    out.append(parts.content_md5).append("\n");
    out.append(parts.content_type).append("\n");
    out.append(parts.date).append("\n");
    out.append(parts.amz_headers);
    out.append(parts.resource);
    return out;
}

std::optional<AuthFields> parse_authorization(std::string_view value)
{
    value = sigv4::trim_blanks(value);
    constexpr std::string_view k_prefix = "AWS ";
    if (value.substr(0, k_prefix.size()) != k_prefix) {
        return std::nullopt;
    }
    value = sigv4::trim_blanks(value.substr(k_prefix.size()));
    // The signature is base64 (never ':'); the access key is everything before the last ':'.
    const auto colon = value.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == value.size()) {
        return std::nullopt;
    }
    const std::string_view key = value.substr(0, colon);
    const std::string_view sig = value.substr(colon + 1);
    if (key.find_first_of(" \t") != std::string_view::npos || sig.find_first_of(" \t") != std::string_view::npos) {
        return std::nullopt;
    }
    return AuthFields{std::string(key), std::string(sig)};
}

namespace {

// Parses exactly `text` as an unsigned decimal in [lo, hi].
std::optional<int> number(std::string_view text, int lo, int hi)
{
    int v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty() || v < lo || v > hi) {
        return std::nullopt;
    }
    return v;
}

} // namespace

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text)
{
    // [Www, ]DD Mon YYYY HH:MM:SS ZONE
    text = sigv4::trim_blanks(text);
    if (const auto comma = text.find(','); comma != std::string_view::npos) {
        text = sigv4::trim_blanks(text.substr(comma + 1));
    }
    std::vector<std::string_view> fields;
    while (!text.empty()) {
        const auto sp = text.find(' ');
        fields.push_back(text.substr(0, sp));
        text = sp == std::string_view::npos ? std::string_view{} : sigv4::trim_blanks(text.substr(sp + 1));
    }
    if (fields.size() != 5 || fields[3].size() != 8 || fields[3][2] != ':' || fields[3][5] != ':') {
        return std::nullopt;
    }
    static constexpr std::string_view k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto month = std::find(std::begin(k_months), std::end(k_months), fields[1]);
    const auto day = number(fields[0], 1, 31);
    // Years up to 2199: a time_point counts nanoseconds in 64 bits.
    const auto year = number(fields[2], 1970, 2199);
    const auto hour = number(fields[3].substr(0, 2), 0, 23);
    const auto minute = number(fields[3].substr(3, 2), 0, 59);
    const auto second = number(fields[3].substr(6, 2), 0, 60);
    if (month == std::end(k_months) || !day || !year || !hour || !minute || !second) {
        return std::nullopt;
    }
    long offset = 0; // seconds east of UTC
    const std::string_view zone = fields[4];
    if (zone == "GMT" || zone == "UTC" || zone == "UT" || zone == "Z") {
        offset = 0;
    } else if (zone.size() == 5 && (zone[0] == '+' || zone[0] == '-')) {
        const auto hh = number(zone.substr(1, 2), 0, 23);
        const auto mm = number(zone.substr(3, 2), 0, 59);
        if (!hh || !mm) {
            return std::nullopt;
        }
        offset = (*hh * 3600L + *mm * 60L) * (zone[0] == '-' ? -1 : 1);
    } else {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = *year - 1900;
    tm.tm_mon = static_cast<int>(month - std::begin(k_months));
    tm.tm_mday = *day;
    tm.tm_hour = *hour;
    tm.tm_min = *minute;
    tm.tm_sec = *second;
    const std::time_t tt = timegm(&tm);
    if (tt == static_cast<std::time_t>(-1)) {
        return std::nullopt;
    }
    return std::chrono::system_clock::from_time_t(tt - offset);
}

} // namespace roar::proxy::sigv2
