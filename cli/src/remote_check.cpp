// S3 HEAD checks for `roar status --remote`: endpoint choice, request
// signing with the proxy's SigV4 functions, judging an answer against the
// record, and a bounded number of HEADs in flight through curl multi.
#include "remote_check.hpp"

#include "roar/proxy/sigv4.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <memory>

namespace roar::cli {

namespace {

std::string_view strip_trailing_slashes(std::string_view s)
{
    while (!s.empty() && s.back() == '/') {
        s.remove_suffix(1);
    }
    return s;
}

// Whether `bucket` can be a DNS label under s3.REGION.amazonaws.com with a
// valid wildcard certificate: lower case, digits and '-', no dots.
bool virtual_host_bucket(std::string_view bucket)
{
    if (bucket.size() < 3 || bucket.size() > 63 || bucket.front() == '-' || bucket.back() == '-') {
        return false;
    }
    return std::all_of(bucket.begin(), bucket.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

// An ETag without its quotes and weak marker, for comparison.
std::string_view bare_etag(std::string_view etag)
{
    etag = proxy::sigv4::trim_blanks(etag);
    if (etag.rfind("W/", 0) == 0) {
        etag.remove_prefix(2);
    }
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
        etag = etag.substr(1, etag.size() - 2);
    }
    return etag;
}

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string amz_date_now()
{
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &utc);
    return buf;
}

// One HEAD in flight and what its response headers said.
struct Transfer {
    size_t index = 0;
    CURL* handle = nullptr;
    curl_slist* headers = nullptr;
    std::string etag, bucket_region;
    std::optional<int64_t> content_length;
    char error[CURL_ERROR_SIZE] = {};
    ~Transfer()
    {
        curl_slist_free_all(headers);
        if (handle != nullptr) {
            curl_easy_cleanup(handle);
        }
    }
};

size_t on_header(char* data, size_t size, size_t count, void* user)
{
    auto* t = static_cast<Transfer*>(user);
    const std::string_view line(data, size * count);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
        return size * count;
    }
    const std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    value = proxy::sigv4::trim_blanks(value.substr(0, value.find_first_of("\r\n")));
    if (iequals(name, "etag")) {
        t->etag = std::string(value);
    } else if (iequals(name, "x-amz-bucket-region")) {
        t->bucket_region = std::string(value);
    } else if (iequals(name, "content-length")) {
        int64_t n = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec == std::errc() && end == value.data() + value.size() && n >= 0) {
            t->content_length = n;
        }
    }
    return size * count;
}

} // namespace

std::string remote_endpoint(const proxy::EnvLookup& env, const std::string& configured)
{
    for (const char* name : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "ROAR_UPSTREAM_S3_ENDPOINT"}) {
        if (auto v = env(name); v && !v->empty()) {
            return std::string(strip_trailing_slashes(*v));
        }
    }
    return std::string(strip_trailing_slashes(configured));
}

Result<HeadRequest> signed_head(std::string_view uri, const std::string& endpoint,
                                const proxy::Credentials& credentials, std::string_view amz_date)
{
    namespace sigv4 = proxy::sigv4;
    if (uri.rfind("s3://", 0) != 0) {
        return fail("'{}' is not an s3:// URI", uri);
    }
    const std::string_view rest = uri.substr(5);
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) {
        return fail("'{}' names no object (expected s3://bucket/key)", uri);
    }
    const std::string_view bucket = rest.substr(0, slash);
    const std::string_view key = rest.substr(slash + 1);
    const std::string region = credentials.region_or_default();

    std::string scheme, authority, path;
    if (endpoint.empty()) {
        scheme = "https";
        if (virtual_host_bucket(bucket)) {
            authority = fmt::format("{}.s3.{}.amazonaws.com", bucket, region);
            path = "/" + sigv4::uri_encode(key, true);
        } else {
            authority = fmt::format("s3.{}.amazonaws.com", region);
            path = "/" + sigv4::uri_encode(bucket, false) + "/" + sigv4::uri_encode(key, true);
        }
    } else {
        const auto sep = endpoint.find("://");
        if (sep == std::string::npos
            || (endpoint.compare(0, sep, "http") != 0 && endpoint.compare(0, sep, "https") != 0)) {
            return fail("endpoint '{}' is not an http:// or https:// URL", endpoint);
        }
        scheme = endpoint.substr(0, sep);
        const std::string_view after = std::string_view(endpoint).substr(sep + 3);
        const auto path_start = after.find('/');
        authority = std::string(after.substr(0, path_start));
        if (authority.empty()) {
            return fail("endpoint '{}' has no host", endpoint);
        }
        const std::string_view base = path_start == std::string_view::npos ? "" : after.substr(path_start);
        path = std::string(base) + "/" + sigv4::uri_encode(bucket, false) + "/" + sigv4::uri_encode(key, true);
    }
    const auto canonical_path = sigv4::canonical_uri(path);
    if (!canonical_path) {
        return fail("'{}' cannot be encoded as a request path", uri);
    }

    sigv4::CanonicalParts parts;
    parts.method = "HEAD";
    parts.uri = *canonical_path;
    parts.headers = {{"host", authority},
                     {"x-amz-content-sha256", std::string(sigv4::k_empty_sha256)},
                     {"x-amz-date", std::string(amz_date)}};
    parts.signed_headers = {"host", "x-amz-content-sha256", "x-amz-date"};
    if (!credentials.session_token.empty()) {
        parts.headers.emplace_back("x-amz-security-token", credentials.session_token);
        parts.signed_headers.emplace_back("x-amz-security-token");
    }
    parts.payload_hash = std::string(sigv4::k_empty_sha256);
    const std::string date8(amz_date.substr(0, 8));
    const std::string scope = sigv4::credential_scope(date8, region, "s3");
    const std::string to_sign = sigv4::string_to_sign(amz_date, scope, sigv4::canonical_request(parts));
    const std::string sig = sigv4::signature(sigv4::signing_key(credentials.secret_key, date8, region, "s3"), to_sign);

    HeadRequest request;
    request.url = scheme + "://" + authority + path;
    for (const auto& [name, value] : parts.headers) {
        request.headers.push_back(name + ": " + value);
    }
    std::string signed_list;
    for (const auto& name : parts.signed_headers) {
        signed_list += (signed_list.empty() ? "" : ";") + name;
    }
    request.headers.push_back(fmt::format("authorization: {} Credential={}/{}, SignedHeaders={}, Signature={}",
                                          sigv4::k_algorithm, credentials.access_key, scope, signed_list, sig));
    return request;
}

const char* remote_state_name(RemoteState state)
{
    switch (state) {
    case RemoteState::present: return "present";
    case RemoteState::modified: return "modified";
    case RemoteState::missing: return "missing";
    case RemoteState::not_checked: return "not checked";
    }
    return "not checked";
}

RemoteResult judge_head(const RemoteObject& recorded, long status, const std::string& etag,
                        std::optional<int64_t> content_length, const std::string& bucket_region,
                        const std::string& network_error)
{
    RemoteResult r;
    if (!network_error.empty() || status == 0) {
        r.reason = "network error: " + (network_error.empty() ? std::string("no HTTP answer") : network_error);
        return r;
    }
    if (status == 404) {
        r.state = RemoteState::missing;
        r.reason = "HEAD answered 404";
        return r;
    }
    if (status == 403) {
        r.reason = "HTTP 403: these credentials may not read it";
        return r;
    }
    if (status != 200) {
        r.reason = !bucket_region.empty() ? fmt::format("HTTP {}: the bucket is in {} (set AWS_REGION={})", status,
                                                        bucket_region, bucket_region)
                                          : fmt::format("HTTP {}", status);
        return r;
    }
    r.etag = etag;
    r.size = content_length;
    const bool etag_known = !recorded.etag.empty() && !etag.empty();
    const bool size_known = recorded.size.has_value() && content_length.has_value();
    if (!etag_known && !size_known) {
        r.reason = "nothing recorded to compare with (no ETag or size)";
        return r;
    }
    if (etag_known && bare_etag(recorded.etag) != bare_etag(etag)) {
        r.state = RemoteState::modified;
        r.reason = fmt::format("ETag {}, recorded {}", etag, recorded.etag);
    } else if (size_known && *recorded.size != *content_length) {
        r.state = RemoteState::modified;
        r.reason = fmt::format("{} bytes, recorded {}", *content_length, *recorded.size);
    } else {
        r.state = RemoteState::present;
    }
    return r;
}

std::vector<RemoteResult> check_remote(const std::vector<RemoteObject>& objects, const RemoteCheckOptions& options)
{
    std::vector<RemoteResult> results(objects.size());
    if (objects.empty()) {
        return results;
    }
    if (!options.credentials) {
        for (auto& r : results) {
            r.reason = "no credentials: " + options.credentials.error();
        }
        return results;
    }
    std::unique_ptr<CURLM, decltype(&curl_multi_cleanup)> multi(curl_multi_init(), &curl_multi_cleanup);
    if (!multi) {
        for (auto& r : results) {
            r.reason = "network error: libcurl could not start";
        }
        return results;
    }
    std::vector<std::unique_ptr<Transfer>> transfers(objects.size());
    size_t next = 0;
    size_t running = 0;
    // Starts the next HEAD; false when every object has been started.
    auto start_next = [&]() -> bool {
        while (next < objects.size()) {
            const size_t i = next++;
            auto request = signed_head(objects[i].uri, options.endpoint, *options.credentials, amz_date_now());
            if (!request) {
                results[i].reason = request.error().message;
                continue;
            }
            auto t = std::make_unique<Transfer>();
            t->index = i;
            t->handle = curl_easy_init();
            if (t->handle == nullptr) {
                results[i].reason = "network error: libcurl could not start";
                continue;
            }
            for (const auto& h : request->headers) {
                t->headers = curl_slist_append(t->headers, h.c_str());
            }
            CURL* h = t->handle;
            curl_easy_setopt(h, CURLOPT_URL, request->url.c_str());
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
            curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
            curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
            curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
            curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, long(options.timeout.count()));
            curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, long(std::min<int64_t>(options.timeout.count(), 5000)));
            curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
            curl_easy_setopt(h, CURLOPT_HEADERDATA, t.get());
            curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->error);
            curl_easy_setopt(h, CURLOPT_PRIVATE, t.get());
            curl_multi_add_handle(multi.get(), h);
            transfers[i] = std::move(t);
            ++running;
            return true;
        }
        return false;
    };
    const size_t parallel = std::max<size_t>(1, options.parallel);
    while (running < parallel && start_next()) {
    }
    while (running > 0) {
        int still = 0;
        curl_multi_perform(multi.get(), &still);
        int queued = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued)) {
            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            Transfer* t = nullptr;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
            long status = 0;
            std::string error;
            if (msg->data.result == CURLE_OK) {
                curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            } else {
                error = t->error[0] != '\0' ? t->error : curl_easy_strerror(msg->data.result);
            }
            results[t->index] =
                judge_head(objects[t->index], status, t->etag, t->content_length, t->bucket_region, error);
            curl_multi_remove_handle(multi.get(), msg->easy_handle);
            transfers[t->index].reset();
            --running;
            start_next();
        }
        if (running > 0) {
            curl_multi_poll(multi.get(), nullptr, 0, 1000, nullptr);
        }
    }
    return results;
}

} // namespace roar::cli
