// handle(): operational endpoints, authentication, operation
// classification and the header transform that produces the re-signed
// upstream request. Pure apart from reading the clock value passed in.
#include "roar/proxy/handler.hpp"

#include "roar/proxy/request_auth.hpp"

#include <algorithm>
#include <charconv>

namespace roar::proxy {

namespace {

// Headers the proxy sets itself or that must not reach the upstream.
bool is_dropped(std::string_view lname)
{
    static constexpr std::string_view k_names[] = {"host",
                                                   "authorization",
                                                   "expect",
                                                   "content-length",
                                                   "x-amz-date",
                                                   "x-amz-content-sha256",
                                                   "x-amz-decoded-content-length",
                                                   "x-amz-trailer",
                                                   "x-amz-security-token"};
    return is_hop_by_hop(lname) || std::find(std::begin(k_names), std::end(k_names), lname) != std::end(k_names);
}

// Content-Encoding without the aws-chunked token; empty when nothing is left.
std::string strip_aws_chunked(std::string_view enc)
{
    std::string out;
    while (!enc.empty()) {
        const auto comma = enc.find(',');
        std::string_view tok = enc.substr(0, comma);
        while (!tok.empty() && tok.front() == ' ') {
            tok.remove_prefix(1);
        }
        while (!tok.empty() && tok.back() == ' ') {
            tok.remove_suffix(1);
        }
        if (!tok.empty() && !iequals(tok, "aws-chunked")) {
            if (!out.empty()) {
                out += ",";
            }
            out += tok;
        }
        enc = comma == std::string_view::npos ? std::string_view{} : enc.substr(comma + 1);
    }
    return out;
}

// Plans the re-framing that passes a verified trailing checksum of
// `algorithm` on to the upstream (ForwardPlan::forward_checksum): the
// upstream gets `decoded` payload bytes as unsigned-trailer aws-chunked,
// `upstream_hash` becomes that mode's payload hash, and `headers` the
// framing headers to add (those curl and sign_outbound set left out). The
// BLAKE3 of the body is taken over a decoded copy, as on redirected
// connections.
void forward_trailer(ForwardPlan& plan, ChecksumAlgorithm algorithm, std::uint64_t decoded, std::string& upstream_hash,
                     std::vector<std::pair<std::string, std::string>>& headers)
{
    plan.forward_checksum = true;
    plan.upstream_length = AwsChunkedEncoder::encoded_length(decoded, algorithm);
    plan.hash_decodes_aws_chunked = true;
    plan.hash_trailer = plan.trailer;
    plan.decoded_length = decoded;
    for (auto& [name, value] : AwsChunkedEncoder::upstream_headers(decoded, algorithm)) {
        if (name == "x-amz-content-sha256") {
            upstream_hash = std::move(value);
        } else if (name != "content-length") {
            headers.emplace_back(std::move(name), std::move(value));
        }
    }
}

} // namespace

LocalResponse error_response(const S3Error& err, std::string_view resource, std::string_view request_id)
{
    LocalResponse r;
    r.status = err.status;
    r.content_type = "application/xml";
    r.body = error_xml(err, resource, request_id);
    r.headers.emplace_back("x-amz-request-id", std::string(request_id));
    r.error_code = err.code;
    return r;
}

std::optional<Endpoint> parse_endpoint(std::string_view url)
{
    Endpoint ep;
    const auto sep = url.find("://");
    if (sep == std::string_view::npos) {
        return std::nullopt;
    }
    ep.scheme = to_lower(url.substr(0, sep));
    if (ep.scheme != "http" && ep.scheme != "https") {
        return std::nullopt;
    }
    std::string_view rest = url.substr(sep + 3);
    while (!rest.empty() && rest.back() == '/') {
        rest.remove_suffix(1);
    }
    if (rest.empty() || rest.find('/') != std::string_view::npos || rest.find('@') != std::string_view::npos) {
        return std::nullopt;
    }
    const auto close = rest.rfind(']');
    const auto colon = rest.rfind(':');
    if (colon != std::string_view::npos && (close == std::string_view::npos || colon > close)) {
        ep.host = std::string(rest.substr(0, colon));
        ep.port = std::string(rest.substr(colon + 1));
        if (ep.port.empty() || !parse_decimal(ep.port)) {
            return std::nullopt;
        }
    } else {
        ep.host = std::string(rest);
    }
    return ep;
}

void describe_call(ForwardPlan& plan, const RequestHead& head, std::string_view host, std::string_view decoded_path,
                   const std::vector<sigv4::QueryParam>& query)
{
    plan.target = locate(host, decoded_path);
    const auto copy_source = head.header("x-amz-copy-source");
    plan.op = classify(head.method, plan.target, query, copy_source.has_value());
    plan.range = std::string(head.header("range").value_or(""));
    for (const auto& p : query) {
        if (p.name == "uploadId") {
            plan.upload_id = p.value;
        } else if (p.name == "partNumber") {
            plan.part_number = p.value;
        } else if (p.name == "versionId") {
            plan.version_id = p.value;
        }
    }
    if (copy_source) {
        std::string src = sigv4::percent_decode(*copy_source).value_or(std::string(*copy_source));
        if (!src.empty() && src.front() == '/') {
            src.erase(0, 1);
        }
        src = src.substr(0, src.find("?versionId="));
        plan.copy_source = "s3://" + src;
        plan.copy_source_if_match = std::string(head.header("x-amz-copy-source-if-match").value_or(""));
        plan.copy_source_range = std::string(head.header("x-amz-copy-source-range").value_or(""));
    }
}

Decision handle(const RequestHead& head, const HandlerConfig& config, const Credentials& creds,
                std::chrono::system_clock::time_point now)
{
    const std::string request_id = new_request_id();
    const std::string_view path = head.raw_path();

    // Operational endpoints: "_roar" cannot be a bucket name (underscore).
    if (path.rfind("/_roar/", 0) == 0) {
        if (head.method != "GET" && head.method != "HEAD") {
            return error_response({405, "MethodNotAllowed", "Only GET is allowed here."}, path, request_id);
        }
        if (path == "/_roar/health") {
            return LocalResponse{200, "text/plain", "ok\n", {}, {}};
        }
        if (path == "/_roar/metrics") {
            return LocalResponse{
                200, "text/plain; version=0.0.4", config.metrics_text ? config.metrics_text() : std::string(), {}, {}};
        }
        return error_response({404, "NoSuchKey", "No such roar endpoint (try /_roar/health or /_roar/metrics)."}, path,
                              request_id);
    }

    auto auth = verify_request(head, creds, now);
    if (!auth) {
        return error_response(auth.error(), path, request_id);
    }

    // Verified above, so these parse. Presigned auth parameters are
    // replaced by header auth upstream and take no part in classification.
    std::vector<std::pair<std::string, std::string>> query_headers;
    auto query = forwarded_query(*auth, *sigv4::parse_query(head.raw_query()), query_headers);
    const std::string decoded_path = *sigv4::percent_decode(path.empty() ? std::string_view("/") : path);

    ForwardPlan plan;
    plan.request_id = request_id;
    plan.method = head.method;
    describe_call(plan, head, head.header("host").value_or(""), decoded_path, query);

    // Upstream endpoint.
    std::string upstream = config.upstream;
    if (upstream.empty()) {
        upstream = "https://s3." + auth->region + ".amazonaws.com";
    }
    const auto ep = parse_endpoint(upstream);
    if (!ep) {
        return error_response({500, "InternalError", "roar-proxy's upstream endpoint is not a valid http(s) URL."},
                              path, request_id);
    }

    // Upstream URI: always path style, canonical form, sent verbatim.
    std::string uri = *sigv4::canonical_uri(path);
    if (plan.target.virtual_host) {
        uri = "/" + sigv4::uri_encode(plan.target.bucket, false) + (uri == "/" && plan.target.key.empty() ? "" : uri);
    }
    const std::string cquery = sigv4::canonical_query(query);

    // Body framing.
    const auto content_length = head.header("content-length");
    const bool te_chunked = head.header("transfer-encoding").has_value();
    const std::string content_sha = auth->payload_hash;
    const bool aws_chunked = content_sha.rfind("STREAMING-", 0) == 0;
    std::vector<std::pair<std::string, std::string>> forwarded; // upstream framing headers of a forwarded checksum
    if (content_length) {
        const auto n = parse_decimal(*content_length);
        if (!n) {
            return error_response({400, "InvalidArgument", "Content-Length is not a number."}, path, request_id);
        }
        plan.client_length = *n;
        plan.body = *n > 0 ? BodyKind::Plain : BodyKind::None;
    } else if (te_chunked) {
        plan.client_length = k_unknown_length;
        plan.body = BodyKind::Plain;
    }
    plan.upstream_length = plan.client_length;
    std::string upstream_hash = content_sha;
    if (aws_chunked) {
        if (content_sha != "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" && content_sha != "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
            && content_sha != "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") {
            return error_response({400, "InvalidArgument", "Unsupported x-amz-content-sha256 streaming mode."}, path,
                                  request_id);
        }
        const auto decoded = parse_decimal(head.header("x-amz-decoded-content-length").value_or(""));
        if (!decoded) {
            return error_response(
                {411, "MissingContentLength", "aws-chunked uploads need x-amz-decoded-content-length."}, path,
                request_id);
        }
        plan.body = BodyKind::AwsChunked;
        plan.upstream_length = *decoded;
        if (content_sha.rfind("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 0) == 0) {
            plan.chunk_signing =
                ChunkSigning{auth->signing_key, auth->amz_date, auth->credential.scope(), auth->signature};
            plan.signed_trailer = content_sha.size() > std::string_view("STREAMING-AWS4-HMAC-SHA256-PAYLOAD").size();
        }
        // The decoded bytes are not covered by any hash we know up front.
        upstream_hash = std::string(sigv4::k_unsigned_payload);
        // A trailing checksum is verified by the decoder; refuse what it
        // cannot verify before a byte moves.
        plan.trailer = std::string(sigv4::trim_blanks(head.header("x-amz-trailer").value_or("")));
        if (!plan.trailer.empty()) {
            auto declared = parse_declared_trailer(plan.trailer);
            if (!declared) {
                return error_response(to_s3_error(declared.error()), path, request_id);
            }
            if (config.forward_checksums) {
                forward_trailer(plan, *declared, *decoded, upstream_hash, forwarded);
            }
        }
    }
    const std::uint64_t payload_length = plan.forward_checksum ? *plan.decoded_length : plan.upstream_length;
    if (payload_length != k_unknown_length && payload_length > config.max_single_put
        && (plan.op == S3Op::PutObject || plan.op == S3Op::UploadPart)) {
        return error_response({400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size (5 GiB)."},
                              path, request_id);
    }
    const auto expect = head.header("expect");
    plan.expect_continue = expect && iequals(*expect, "100-continue");

    // Header transform.
    OutboundRequest out;
    out.method = head.method;
    out.uri = uri;
    out.query = cquery;
    out.payload_hash = upstream_hash;
    out.headers.emplace_back("host", ep->authority());
    for (const auto& [name, value] : head.headers) {
        std::string lname = to_lower(name);
        if (is_dropped(lname) || named_in_connection(head, lname)) {
            continue;
        }
        // Unless the trailer's checksum is passed on, S3 would refuse the
        // algorithm without its checksum.
        if (lname == "x-amz-sdk-checksum-algorithm" && !plan.trailer.empty() && !plan.forward_checksum) {
            continue;
        }
        if (lname == "content-encoding" && aws_chunked) {
            std::string rest = strip_aws_chunked(value);
            if (plan.forward_checksum) {
                rest = rest.empty() ? "aws-chunked" : "aws-chunked," + rest;
            }
            if (!rest.empty()) {
                out.headers.emplace_back(std::move(lname), std::move(rest));
            }
            continue;
        }
        out.headers.emplace_back(std::move(lname), value);
    }
    for (auto& [name, value] : forwarded) {
        if (name == "content-encoding" && head.header("content-encoding")) {
            continue; // merged with the client's other codings above
        }
        out.headers.emplace_back(std::move(name), std::move(value));
    }
    if (auto token = head.header("x-amz-security-token")) {
        out.headers.emplace_back("x-amz-security-token", std::string(*token));
    }
    for (auto& [name, value] : query_headers) {
        if (!head.header(name)) {
            out.headers.emplace_back(std::move(name), std::move(value));
        }
    }
    // A CORS preflight carries no credentials and goes upstream as it came.
    if (auth->scheme != AuthScheme::Preflight) {
        sign_outbound(out, creds, auth->region, now);
    }

    plan.url = ep->scheme + "://" + ep->authority() + out.uri + (out.query.empty() ? "" : "?" + out.query);
    plan.headers = std::move(out.headers);
    return plan;
}

} // namespace roar::proxy
