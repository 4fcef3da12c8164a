// The libcurl S3 client of the gateway's backends, the request signing it
// uses and the parsing of backend responses (see backend_client.hpp).
#include "roar/proxy/gateway/backend_client.hpp"

#include "roar/proxy/gateway/trace_context.hpp"
#include "roar/proxy/gateway/xml_tree.hpp"
#include "roar/proxy/request_auth.hpp"
#include "roar/proxy/s3_error.hpp"

#include <curl/curl.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <mutex>

namespace roar::proxy::gateway {

// --- ObjectBackend helpers ------------------------------------------------------

bool BackendError::retryable() const
{
    return status == 0 || status >= 500 || status == 429 || code == "SlowDown" || code == "RequestTimeout"
           || code == "Timeout" || code == "Transport" || code == "InternalError" || code == "ServiceUnavailable";
}

bool BackendError::not_found() const { return status == 404; }

std::string BackendError::describe() const
{
    if (status == 0) {
        return fmt::format("{}: {}", code, message);
    }
    return fmt::format("HTTP {} {}: {}", status, code, message);
}

std::optional<std::string> ObjectHead::meta_value(std::string_view name) const
{
    for (const auto& [n, v] : meta) {
        if (n == name) {
            return v;
        }
    }
    return std::nullopt;
}

BodySource memory_source(std::string_view data)
{
    auto offset = std::make_shared<std::size_t>(0);
    return [data, offset](char* buf, std::size_t size) -> std::optional<std::size_t> {
        const std::size_t n = std::min(size, data.size() - *offset);
        std::memcpy(buf, data.data() + *offset, n);
        *offset += n;
        return n;
    };
}

void BackendSet::add(const BackendConfig& config, ObjectBackend& io) { m_backends[config.name] = {&config, &io}; }

ObjectBackend* BackendSet::io(std::string_view name) const
{
    const auto it = m_backends.find(name);
    return it == m_backends.end() ? nullptr : it->second.io;
}

const BackendConfig* BackendSet::config(std::string_view name) const
{
    const auto it = m_backends.find(name);
    return it == m_backends.end() ? nullptr : it->second.config;
}

std::vector<std::string> BackendSet::names() const
{
    std::vector<std::string> out;
    for (const auto& [name, e] : m_backends) {
        out.push_back(name);
    }
    return out;
}

// --- request building and response parsing --------------------------------------

SignedRequest sign_backend_request(const BackendConfig& backend, std::string_view method, std::string_view bucket,
                                   std::string_view key, const std::vector<sigv4::QueryParam>& query,
                                   std::vector<Header> headers, std::string_view payload_hash,
                                   std::chrono::system_clock::time_point now)
{
    const auto scheme_end = backend.endpoint.find("://");
    const std::string scheme = backend.endpoint.substr(0, scheme_end);
    const std::string host = backend.endpoint.substr(scheme_end + 3);
    std::string url_host = host;
    std::string uri;
    if (backend.path_style || bucket.empty()) {
        uri = "/";
        if (!bucket.empty()) {
            uri += bucket;
            if (!key.empty()) {
                uri += "/" + sigv4::uri_encode(key, true);
            }
        }
    } else {
        url_host = std::string(bucket) + "." + host;
        uri = "/" + sigv4::uri_encode(key, true);
    }
    OutboundRequest out;
    out.method = std::string(method);
    out.uri = uri;
    out.query = sigv4::canonical_query(query);
    out.headers = std::move(headers);
    out.headers.emplace_back("host", url_host);
    out.payload_hash = std::string(payload_hash);
    sign_outbound(out, backend.credentials, backend.region, now);
    SignedRequest r;
    r.method = out.method;
    r.url = scheme + "://" + url_host + uri + (out.query.empty() ? "" : "?" + out.query);
    r.headers = std::move(out.headers);
    return r;
}

BackendError parse_backend_error(long status, std::string_view body)
{
    BackendError e;
    e.status = status;
    if (!body.empty()) {
        if (auto doc = parse_xml(body); doc && doc->name == "Error") {
            e.code = doc->child_text("Code");
            e.message = doc->child_text("Message");
        }
    }
    if (e.code.empty()) {
        switch (status) {
        case 400: e.code = "BadRequest"; break;
        case 403: e.code = "AccessDenied"; break;
        case 404: e.code = "NotFound"; break;
        case 409: e.code = "Conflict"; break;
        case 412: e.code = "PreconditionFailed"; break;
        case 416: e.code = "InvalidRange"; break;
        case 429: e.code = "SlowDown"; break;
        case 503: e.code = "ServiceUnavailable"; break;
        default: e.code = status >= 500 ? "InternalError" : "HttpError";
        }
    }
    if (e.message.empty()) {
        e.message = fmt::format("the backend answered HTTP {}", status);
    }
    return e;
}

namespace {

// A decimal size from a backend's answer; 0 when absent or malformed.
std::uint64_t u64_or_zero(std::string_view s)
{
    std::uint64_t n = 0;
    std::from_chars(s.data(), s.data() + s.size(), n);
    return n;
}

// Millis from an ISO 8601 time such as 2024-03-01T12:00:00.000Z (0 when malformed).
Millis parse_iso8601(std::string_view s)
{
    std::tm tm{};
    int ms = 0;
    auto num = [&](std::size_t pos, std::size_t len, int& out) {
        if (s.size() < pos + len) {
            return false;
        }
        return std::from_chars(s.data() + pos, s.data() + pos + len, out).ec == std::errc();
    };
    int year = 0, mon = 0;
    if (!num(0, 4, year) || !num(5, 2, mon) || !num(8, 2, tm.tm_mday) || !num(11, 2, tm.tm_hour)
        || !num(14, 2, tm.tm_min) || !num(17, 2, tm.tm_sec)) {
        return 0;
    }
    if (s.size() > 20 && s[19] == '.') {
        num(20, 3, ms);
    }
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    return static_cast<Millis>(timegm(&tm)) * 1000 + ms;
}

} // namespace

tl::expected<BackendListPage, std::string> parse_list_objects_response(std::string_view body)
{
    auto doc = parse_xml(body);
    if (!doc) {
        return tl::unexpected(doc.error().message);
    }
    if (doc->name != "ListBucketResult") {
        return tl::unexpected(fmt::format("expected ListBucketResult, got {}", doc->name));
    }
    BackendListPage page;
    for (const XmlElement* c : doc->children_named("Contents")) {
        // Sizes become quota: one that is missing or not a number fails the
        // listing rather than counting as 0.
        const auto size = parse_decimal(c->child_text("Size"));
        if (!size) {
            return tl::unexpected(fmt::format("object {:?} is listed without a valid Size", c->child_text("Key")));
        }
        page.objects.push_back(
            {c->child_text("Key"), *size, c->child_text("ETag"), parse_iso8601(c->child_text("LastModified"))});
    }
    for (const XmlElement* p : doc->children_named("CommonPrefixes")) {
        page.prefixes.push_back(p->child_text("Prefix"));
    }
    page.truncated = doc->child_text("IsTruncated") == "true";
    page.next_token = doc->child_text("NextContinuationToken");
    if (page.truncated && page.next_token.empty()) {
        return tl::unexpected(std::string("a truncated listing without NextContinuationToken"));
    }
    return page;
}

tl::expected<std::string, std::string> parse_upload_id(std::string_view body)
{
    auto doc = parse_xml(body);
    if (!doc) {
        return tl::unexpected(doc.error().message);
    }
    std::string id = doc->child_text("UploadId");
    if (doc->name != "InitiateMultipartUploadResult" || id.empty()) {
        return tl::unexpected(std::string("expected InitiateMultipartUploadResult with an UploadId"));
    }
    return id;
}

BackendResult<std::string> parse_etag_result(std::string_view body)
{
    auto doc = parse_xml(body);
    if (!doc) {
        return tl::unexpected(BackendError{200, "BadResponse", doc.error().message});
    }
    if (doc->name == "Error") {
        // S3 reports some failures of long calls (copy, complete) in a 200 body.
        return tl::unexpected(BackendError{200, doc->child_text("Code", "InternalError"), doc->child_text("Message")});
    }
    std::string etag = doc->child_text("ETag");
    if (etag.empty()) {
        return tl::unexpected(BackendError{200, "BadResponse", fmt::format("no ETag in {}", doc->name)});
    }
    return etag;
}

std::string complete_multipart_body(const std::vector<UploadedPart>& parts)
{
    std::string out = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    for (const auto& p : parts) {
        out += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", p.number, xml_escape(p.etag));
    }
    out += "</CompleteMultipartUpload>";
    return out;
}

// --- the libcurl client ----------------------------------------------------------

namespace {

constexpr long k_buffer = 512 * 1024;             // curl's largest receive buffer: fewer, larger reads
constexpr std::size_t k_max_captured = 16u << 20; // XML answers; bigger ones are refused

std::once_flag g_curl_init;

// One HTTP transfer with a backend: what to send and what came back.
struct Transfer {
    SignedRequest request;
    std::optional<std::uint64_t> upload_size; // a request body of this many bytes
    const BodySource* source = nullptr;
    const BodySink* sink = nullptr; // 2xx bodies go here; others are captured
    const HeadCallback* on_head = nullptr;
    bool no_body = false; // HEAD

    long status = 0;
    std::vector<Header> headers; // lower-case names
    std::string captured;
    bool head_delivered = false;
    bool cancelled = false;
    std::string cancel_code = "Aborted"; // "BadResponse" when the backend's answer was at fault
    std::string cancel_reason;
    GetResponse response;

    std::optional<std::string> header(std::string_view name) const
    {
        for (const auto& [n, v] : headers) {
            if (n == name) {
                return v;
            }
        }
        return std::nullopt;
    }

    // The answer's Content-Length, when it has a valid one.
    std::optional<std::uint64_t> length() const
    {
        const auto text = header("content-length");
        return text ? parse_decimal(*text) : std::nullopt;
    }

    ObjectHead object_head() const
    {
        ObjectHead h;
        h.size = length().value_or(0);
        h.etag = header("etag").value_or("");
        h.content_type = header("content-type").value_or("");
        if (auto lm = header("last-modified")) {
            const auto t = curl_getdate(lm->c_str(), nullptr);
            h.last_modified = t > 0 ? static_cast<Millis>(t) * 1000 : 0;
        }
        for (const auto& [n, v] : headers) {
            if (n.rfind("x-amz-meta-", 0) == 0) {
                h.meta.emplace_back(n.substr(11), v);
            }
        }
        return h;
    }

    bool success() const { return status >= 200 && status < 300; }

    // Builds the response and hands it to on_head, once, before the first
    // body byte (or after the whole exchange, for an empty body); false, with
    // cancel_reason set, when the body must not be passed on. The client is
    // told the body's length from the backend's Content-Length: an answer
    // without a valid one (chunked, say) cannot be relayed as it is.
    bool deliver_head()
    {
        head_delivered = true;
        if (!length()) {
            cancel_code = "BadResponse";
            cancel_reason = "the backend answered without a valid Content-Length";
            return false;
        }
        build_response();
        if (on_head && !(*on_head)(response)) {
            cancel_reason = "the receiver declined the response";
            return false;
        }
        return true;
    }

    // The GetResponse the head callback receives.
    void build_response()
    {
        response.status = static_cast<unsigned>(status);
        response.head = object_head();
        response.content_length = response.head.size;
        response.content_range = header("content-range").value_or("");
        if (status == 206) {
            // "bytes a-b/total"
            const auto slash = response.content_range.rfind('/');
            if (slash != std::string::npos) {
                response.head.size = u64_or_zero(std::string_view(response.content_range).substr(slash + 1));
            }
        }
    }

    static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* self)
    {
        auto* x = static_cast<Transfer*>(self);
        std::string_view line(data, size * n);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
            line.remove_suffix(1);
        }
        if (line.rfind("HTTP/", 0) == 0) {
            x->headers.clear(); // a new response (after 100 Continue)
            const auto space = line.find(' ');
            long status = 0;
            if (space != std::string_view::npos && line.size() >= space + 4) {
                std::from_chars(line.data() + space + 1, line.data() + space + 4, status);
            }
            x->status = status;
            return size * n;
        }
        const auto colon = line.find(':');
        if (colon != std::string_view::npos) {
            std::string name(line.substr(0, colon));
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            x->headers.emplace_back(std::move(name), std::string(sigv4::trim_blanks(line.substr(colon + 1))));
        }
        return size * n;
    }

    static std::size_t on_write(char* data, std::size_t size, std::size_t n, void* self)
    {
        auto* x = static_cast<Transfer*>(self);
        const std::size_t len = size * n;
        if (x->sink && x->success()) {
            if (!x->head_delivered && !x->deliver_head()) {
                x->cancelled = true;
                return 0;
            }
            if (!(*x->sink)(data, len)) {
                x->cancelled = true;
                x->cancel_reason = "the receiver stopped reading";
                return 0;
            }
            return len;
        }
        if (x->captured.size() + len > k_max_captured) {
            x->cancelled = true;
            x->cancel_reason = "the backend's answer is too large";
            return 0;
        }
        x->captured.append(data, len);
        return len;
    }

    static std::size_t on_read(char* buf, std::size_t size, std::size_t n, void* self)
    {
        auto* x = static_cast<Transfer*>(self);
        const auto got = (*x->source)(buf, size * n);
        if (!got) {
            x->cancelled = true;
            x->cancel_reason = "the body's source failed";
            return CURL_READFUNC_ABORT;
        }
        return *got;
    }
};

} // namespace

struct BackendClient::Impl {
    Impl(const BackendConfig& c, BackendClientOptions o) : config(c), options(std::move(o)) { }

    const BackendConfig& config;
    BackendClientOptions options;
    std::mutex mutex;
    std::vector<CURL*> idle;

    CURL* acquire()
    {
        {
            std::lock_guard lock(mutex);
            if (!idle.empty()) {
                CURL* h = idle.back();
                idle.pop_back();
                curl_easy_reset(h);
                return h;
            }
        }
        return curl_easy_init();
    }

    void release(CURL* h)
    {
        std::lock_guard lock(mutex);
        if (idle.size() < options.max_idle_handles) {
            idle.push_back(h);
        } else {
            curl_easy_cleanup(h);
        }
    }

    SignedRequest sign(std::string_view method, std::string_view bucket, std::string_view key,
                       const std::vector<sigv4::QueryParam>& query, std::vector<Header> headers,
                       std::string_view payload_hash)
    {
        // Every call made while a request or job is served carries its
        // trace, with the gateway's span as the parent.
        if (TraceScope* trace = TraceScope::current()) {
            std::erase_if(headers, [](const Header& h) { return iequals(h.first, "traceparent"); });
            headers.emplace_back("traceparent", format_traceparent(trace->context()));
            trace->note_backend(config.name);
        }
        return sign_backend_request(config, method, bucket, key, query, std::move(headers), payload_hash,
                                    std::chrono::system_clock::now());
    }

    // Runs exchange `x`; an error only when no complete HTTP answer arrived.
    BackendResult<void> perform(Transfer& x)
    {
        CURL* h = acquire();
        if (!h) {
            return tl::unexpected(BackendError{0, "Transport", "curl_easy_init failed"});
        }
        curl_slist* list = nullptr;
        for (const auto& [name, value] : x.request.headers) {
            list = curl_slist_append(list, fmt::format("{}: {}", name, value).c_str());
        }
        list = curl_slist_append(list, "Expect:"); // no 100-continue round trip
        if (!x.upload_size) {
            list = curl_slist_append(list, "Transfer-Encoding:");
        }
        curl_easy_setopt(h, CURLOPT_URL, x.request.url.c_str());
        curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(config.connect_timeout.count()));
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(config.stall_timeout.count()));
        curl_easy_setopt(h, CURLOPT_BUFFERSIZE, k_buffer);
        curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, k_buffer);
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        if (!options.ca_bundle.empty()) {
            curl_easy_setopt(h, CURLOPT_CAINFO, options.ca_bundle.c_str());
        }
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Transfer::on_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
        if (x.no_body) {
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (x.upload_size) {
            curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(h, CURLOPT_READFUNCTION, &Transfer::on_read);
            curl_easy_setopt(h, CURLOPT_READDATA, &x);
            curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(*x.upload_size));
            if (x.request.method != "PUT") {
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x.request.method.c_str());
            }
        } else if (x.request.method != "GET") {
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x.request.method.c_str());
        }
        const CURLcode rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x.status);
        curl_slist_free_all(list);
        if (rc != CURLE_OK) {
            // A connection that failed mid-transfer is not reused.
            curl_easy_cleanup(h);
            if (x.cancelled) {
                return tl::unexpected(BackendError{x.status, x.cancel_code, x.cancel_reason});
            }
            const char* code = rc == CURLE_OPERATION_TIMEDOUT ? "Timeout" : "Transport";
            return tl::unexpected(
                BackendError{0, code, fmt::format("{} {}: {}", x.request.method, config.name, curl_easy_strerror(rc))});
        }
        release(h);
        if (x.success() && x.sink && !x.head_delivered && !x.deliver_head()) {
            return tl::unexpected(BackendError{x.status, x.cancel_code, x.cancel_reason});
        }
        return {};
    }

    // Runs a request whose answer is a small document (or nothing).
    BackendResult<Transfer> simple(SignedRequest req, const std::string* body = nullptr)
    {
        Transfer x;
        x.request = std::move(req);
        BodySource source;
        if (body) {
            source = memory_source(*body);
            x.source = &source;
            x.upload_size = body->size();
        }
        if (auto ok = perform(x); !ok) {
            return tl::unexpected(ok.error());
        }
        return x;
    }
};

BackendClient::BackendClient(const BackendConfig& backend, BackendClientOptions options)
    : m_impl(std::make_unique<Impl>(backend, std::move(options)))
{
    std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

BackendClient::~BackendClient()
{
    for (CURL* h : m_impl->idle) {
        curl_easy_cleanup(h);
    }
}

namespace {

std::vector<Header> put_headers(const PutOptions& options)
{
    std::vector<Header> h;
    if (!options.content_type.empty()) {
        h.emplace_back("content-type", options.content_type);
    }
    for (const auto& [name, value] : options.meta) {
        h.emplace_back("x-amz-meta-" + name, value);
    }
    for (const auto& [name, value] : options.headers) {
        h.emplace_back(name, value);
    }
    return h;
}

} // namespace

BackendResult<ObjectHead> BackendClient::head_object(const std::string& bucket, const std::string& key)
{
    Transfer x;
    x.request = m_impl->sign("HEAD", bucket, key, {}, {}, sigv4::k_empty_sha256);
    x.no_body = true;
    if (auto ok = m_impl->perform(x); !ok) {
        return tl::unexpected(ok.error());
    }
    if (!x.success()) {
        auto e = parse_backend_error(x.status, "");
        if (x.status == 404) {
            e.code = "NoSuchKey";
        }
        return tl::unexpected(e);
    }
    if (!x.length()) { // the object's size would be taken as 0
        return tl::unexpected(
            BackendError{x.status, "BadResponse", "the backend answered without a valid Content-Length"});
    }
    return x.object_head();
}

BackendResult<GetResponse> BackendClient::get_object(const std::string& bucket, const std::string& key,
                                                     const GetOptions& options, const HeadCallback& on_head,
                                                     const BodySink& sink)
{
    std::vector<Header> headers = options.headers;
    if (options.range) {
        headers.emplace_back("range", options.range->last
                                          ? fmt::format("bytes={}-{}", options.range->first, *options.range->last)
                                          : fmt::format("bytes={}-", options.range->first));
    }
    Transfer x;
    x.request = m_impl->sign("GET", bucket, key, {}, std::move(headers), sigv4::k_empty_sha256);
    x.sink = &sink;
    x.on_head = on_head ? &on_head : nullptr;
    if (auto ok = m_impl->perform(x); !ok) {
        return tl::unexpected(ok.error());
    }
    if (!x.success()) {
        return tl::unexpected(parse_backend_error(x.status, x.captured));
    }
    return x.response;
}

BackendResult<std::string> BackendClient::put_object(const std::string& bucket, const std::string& key,
                                                     std::uint64_t size, const BodySource& source,
                                                     const PutOptions& options)
{
    Transfer x;
    x.request = m_impl->sign("PUT", bucket, key, {}, put_headers(options), sigv4::k_unsigned_payload);
    x.source = &source;
    x.upload_size = size;
    if (auto ok = m_impl->perform(x); !ok) {
        return tl::unexpected(ok.error());
    }
    if (!x.success()) {
        return tl::unexpected(parse_backend_error(x.status, x.captured));
    }
    return x.header("etag").value_or("");
}

BackendResult<void> BackendClient::delete_object(const std::string& bucket, const std::string& key)
{
    auto x = m_impl->simple(m_impl->sign("DELETE", bucket, key, {}, {}, sigv4::k_empty_sha256));
    if (!x) {
        return tl::unexpected(x.error());
    }
    if (!x->success() && x->status != 404) {
        return tl::unexpected(parse_backend_error(x->status, x->captured));
    }
    return {};
}

namespace {

// The ETag in the XML answer `x` of a copy or completion call, or its error.
BackendResult<std::string> etag_answer(const BackendResult<Transfer>& x)
{
    if (!x) {
        return tl::unexpected(x.error());
    }
    if (!x->success()) {
        return tl::unexpected(parse_backend_error(x->status, x->captured));
    }
    return parse_etag_result(x->captured);
}

} // namespace

BackendResult<std::string> BackendClient::copy_object(const std::string& src_bucket, const std::string& src_key,
                                                      const std::string& dst_bucket, const std::string& dst_key)
{
    std::vector<Header> headers{{"x-amz-copy-source", "/" + src_bucket + "/" + sigv4::uri_encode(src_key, true)}};
    const std::string empty;
    auto x =
        m_impl->simple(m_impl->sign("PUT", dst_bucket, dst_key, {}, std::move(headers), sigv4::k_empty_sha256), &empty);
    return etag_answer(x);
}

BackendResult<BackendListPage> BackendClient::list_objects(const std::string& bucket, const std::string& prefix,
                                                           const std::string& delimiter, const std::string& token,
                                                           unsigned max_keys)
{
    std::vector<sigv4::QueryParam> query{{"list-type", "2"}, {"max-keys", std::to_string(max_keys)}};
    if (!prefix.empty()) {
        query.push_back({"prefix", prefix});
    }
    if (!delimiter.empty()) {
        query.push_back({"delimiter", delimiter});
    }
    if (!token.empty()) {
        query.push_back({"continuation-token", token});
    }
    auto x = m_impl->simple(m_impl->sign("GET", bucket, "", query, {}, sigv4::k_empty_sha256));
    if (!x) {
        return tl::unexpected(x.error());
    }
    if (!x->success()) {
        return tl::unexpected(parse_backend_error(x->status, x->captured));
    }
    auto page = parse_list_objects_response(x->captured);
    if (!page) {
        return tl::unexpected(BackendError{x->status, "BadResponse", page.error()});
    }
    return std::move(*page);
}

BackendResult<void> BackendClient::create_bucket(const std::string& bucket)
{
    std::string body;
    if (m_impl->config.region != "us-east-1") {
        body = fmt::format("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                           "<LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                           xml_escape(m_impl->config.region));
    }
    auto x = m_impl->simple(m_impl->sign("PUT", bucket, "", {}, {}, sigv4::sha256_hex(body)), &body);
    if (!x) {
        return tl::unexpected(x.error());
    }
    if (x->success()) {
        return {};
    }
    BackendError e = parse_backend_error(x->status, x->captured);
    if (e.code == "BucketAlreadyOwnedByYou") {
        return {};
    }
    if (e.code == "BucketAlreadyExists") {
        // Some servers say so for our own bucket: it is ours if we can list it.
        if (auto listed = list_objects(bucket, "", "", "", 1)) {
            return {};
        }
    }
    return tl::unexpected(e);
}

BackendResult<std::string> BackendClient::create_multipart(const std::string& bucket, const std::string& key,
                                                           const PutOptions& options)
{
    const std::string empty;
    auto x = m_impl->simple(
        m_impl->sign("POST", bucket, key, {{"uploads", ""}}, put_headers(options), sigv4::k_empty_sha256), &empty);
    if (!x) {
        return tl::unexpected(x.error());
    }
    if (!x->success()) {
        return tl::unexpected(parse_backend_error(x->status, x->captured));
    }
    auto id = parse_upload_id(x->captured);
    if (!id) {
        return tl::unexpected(BackendError{x->status, "BadResponse", id.error()});
    }
    return std::move(*id);
}

BackendResult<std::string> BackendClient::upload_part(const std::string& bucket, const std::string& key,
                                                      const std::string& upload_id, int number, std::uint64_t size,
                                                      const BodySource& source)
{
    Transfer x;
    x.request = m_impl->sign("PUT", bucket, key, {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}}, {},
                             sigv4::k_unsigned_payload);
    x.source = &source;
    x.upload_size = size;
    if (auto ok = m_impl->perform(x); !ok) {
        return tl::unexpected(ok.error());
    }
    if (!x.success()) {
        return tl::unexpected(parse_backend_error(x.status, x.captured));
    }
    return x.header("etag").value_or("");
}

BackendResult<std::string> BackendClient::upload_part_copy(const std::string& src_bucket, const std::string& src_key,
                                                           const ByteRange& range, const std::string& dst_bucket,
                                                           const std::string& dst_key, const std::string& upload_id,
                                                           int number)
{
    std::vector<Header> headers{
        {"x-amz-copy-source", "/" + src_bucket + "/" + sigv4::uri_encode(src_key, true)},
        {"x-amz-copy-source-range", fmt::format("bytes={}-{}", range.first, range.last.value_or(range.first))}};
    const std::string empty;
    auto x = m_impl->simple(m_impl->sign("PUT", dst_bucket, dst_key,
                                         {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}},
                                         std::move(headers), sigv4::k_empty_sha256),
                            &empty);
    return etag_answer(x);
}

BackendResult<std::string> BackendClient::complete_multipart(const std::string& bucket, const std::string& key,
                                                             const std::string& upload_id,
                                                             const std::vector<UploadedPart>& parts)
{
    const std::string body = complete_multipart_body(parts);
    auto x = m_impl->simple(m_impl->sign("POST", bucket, key, {{"uploadId", upload_id}},
                                         {{"content-type", "application/xml"}}, sigv4::sha256_hex(body)),
                            &body);
    return etag_answer(x);
}

BackendResult<void> BackendClient::abort_multipart(const std::string& bucket, const std::string& key,
                                                   const std::string& upload_id)
{
    auto x = m_impl->simple(m_impl->sign("DELETE", bucket, key, {{"uploadId", upload_id}}, {}, sigv4::k_empty_sha256));
    if (!x) {
        return tl::unexpected(x.error());
    }
    if (!x->success() && x->status != 404) {
        return tl::unexpected(parse_backend_error(x->status, x->captured));
    }
    return {};
}

} // namespace roar::proxy::gateway
