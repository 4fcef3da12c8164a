// parse_request_head() and ChunkedBodyDecoder: the proxy's HTTP/1.1
// request framing, strict where leniency would let a proxy and its
// upstream disagree about where a request ends.
#include "roar/proxy/http_front.hpp"

#include <charconv>
#include <cstring>

namespace roar::proxy {

namespace {

bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool is_token(std::string_view s)
{
    if (s.empty()) {
        return false;
    }
    for (const char c : s) {
        if (!is_tchar(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    return true;
}

// A field value byte: visible ASCII, obs-text, space or tab.
bool is_value_char(unsigned char c) { return c == '\t' || c == ' ' || (c > 0x20 && c != 0x7f); }

std::string_view trim_ows(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

// Calls `fn(token)` for each non-empty element of the comma-separated list `s`.
template <typename Fn> void for_each_element(std::string_view s, Fn&& fn)
{
    while (true) {
        const auto comma = s.find(',');
        const std::string_view item = trim_ows(s.substr(0, comma));
        if (!item.empty()) {
            fn(item);
        }
        if (comma == std::string_view::npos) {
            return;
        }
        s.remove_prefix(comma + 1);
    }
}

HeadResult invalid(unsigned status, std::string code, std::string message)
{
    HeadResult r;
    r.status = HeadStatus::Invalid;
    r.error = HeadError{status, std::move(code), std::move(message)};
    return r;
}

HeadResult bad_request(std::string message) { return invalid(400, "BadRequest", std::move(message)); }

} // namespace

std::size_t find_head_end(std::string_view bytes, std::size_t from)
{
    // Leading empty lines before a request line are allowed (RFC 9112 2.2)
    // and are not the end of a head.
    std::size_t start = 0;
    while (start + 1 < bytes.size() && bytes[start] == '\r' && bytes[start + 1] == '\n') {
        start += 2;
    }
    std::size_t i = std::max(start, from < 3 ? std::size_t{0} : from - 3);
    while (true) {
        const auto hit = bytes.find("\r\n\r\n", i);
        if (hit == std::string_view::npos) {
            return std::string_view::npos;
        }
        if (hit >= start) {
            return hit + 4;
        }
        i = hit + 1;
    }
}

HeadResult parse_request_head(std::string_view bytes, const HeadLimits& limits)
{
    const std::size_t end = find_head_end(bytes.substr(0, std::min(bytes.size(), limits.max_bytes)));
    if (end == std::string_view::npos) {
        if (bytes.size() >= limits.max_bytes) {
            return invalid(431, "RequestHeaderSectionTooLarge",
                           "Your request header section exceeds the maximum allowed size.");
        }
        return {};
    }
    std::string_view text = bytes.substr(0, end - 2); // every line still ends in CRLF
    HeadResult r;
    ParsedHead& p = r.parsed;
    p.size = end;
    while (text.size() >= 2 && text[0] == '\r' && text[1] == '\n') {
        text.remove_prefix(2);
    }
    auto next_line = [&text]() -> std::optional<std::string_view> {
        const auto crlf = text.find("\r\n");
        if (crlf == std::string_view::npos) {
            return std::nullopt;
        }
        std::string_view line = text.substr(0, crlf);
        text.remove_prefix(crlf + 2);
        return line;
    };

    // Request line: method SP request-target SP HTTP-version.
    const auto request_line = next_line();
    if (!request_line) {
        return bad_request("Malformed HTTP request line.");
    }
    const std::string_view line = *request_line;
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
        return bad_request("Malformed HTTP request line.");
    }
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (!is_token(method)) {
        return bad_request("Malformed HTTP method.");
    }
    if (target.empty() || target.front() != '/') {
        return bad_request("The request target must be a path (origin form).");
    }
    for (const char c : target) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) {
            return bad_request("Malformed request target.");
        }
    }
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0'
        || version[5] > '9' || version[7] < '0' || version[7] > '9') {
        return bad_request("Malformed HTTP version.");
    }
    if (version[5] != '1') {
        return invalid(505, "HttpVersionNotSupported", "Only HTTP/1.0 and HTTP/1.1 are supported.");
    }
    p.minor = static_cast<unsigned>(version[7] - '0');
    p.head.method = std::string(method);
    p.head.target = std::string(target);

    // Header fields.
    std::optional<std::uint64_t> content_length;
    bool has_transfer_encoding = false;
    std::size_t codings = 0;
    bool chunked_last = false;
    bool connection_close = false;
    bool connection_keep_alive = false;
    std::size_t hosts = 0;
    while (!text.empty()) {
        const auto field = next_line();
        if (!field) {
            return bad_request("Malformed header field.");
        }
        if (field->empty()) {
            break;
        }
        if (field->front() == ' ' || field->front() == '\t') {
            return bad_request("Obsolete line folding is not accepted.");
        }
        if (p.head.headers.size() >= limits.max_fields) {
            return invalid(431, "RequestHeaderSectionTooLarge",
                           "Your request has more than " + std::to_string(limits.max_fields) + " header fields.");
        }
        const auto colon = field->find(':');
        if (colon == std::string_view::npos) {
            return bad_request("Malformed header field (no colon).");
        }
        const std::string_view name = field->substr(0, colon);
        if (!is_token(name)) {
            return bad_request("Malformed header field name.");
        }
        const std::string_view raw_value = field->substr(colon + 1);
        for (const char c : raw_value) {
            if (!is_value_char(static_cast<unsigned char>(c))) {
                return bad_request("A header field value contains a control character.");
            }
        }
        const std::string_view value = trim_ows(raw_value);
        if (iequals(name, "content-length")) {
            bool ok = true;
            for_each_element(value, [&](std::string_view item) {
                const auto n = parse_decimal(item);
                if (!n || (content_length && *content_length != *n)) {
                    ok = false;
                } else {
                    content_length = n;
                }
            });
            if (!ok || !content_length) {
                return bad_request("Content-Length is not one non-negative number.");
            }
        } else if (iequals(name, "transfer-encoding")) {
            has_transfer_encoding = true;
            for_each_element(value, [&](std::string_view item) {
                ++codings;
                chunked_last = iequals(item, "chunked");
            });
        } else if (iequals(name, "connection")) {
            for_each_element(value, [&](std::string_view item) {
                connection_close = connection_close || iequals(item, "close");
                connection_keep_alive = connection_keep_alive || iequals(item, "keep-alive");
            });
        } else if (iequals(name, "host")) {
            ++hosts;
        } else if (iequals(name, "expect")) {
            p.expect_continue = iequals(value, "100-continue");
        }
        p.head.headers.emplace_back(std::string(name), std::string(value));
    }

    if (has_transfer_encoding) {
        if (content_length) {
            return bad_request("A request must not have both Content-Length and Transfer-Encoding.");
        }
        if (p.minor == 0) {
            return bad_request("Transfer-Encoding is not allowed in an HTTP/1.0 request.");
        }
        if (codings != 1 || !chunked_last) {
            return bad_request("Only Transfer-Encoding: chunked is supported.");
        }
        p.framing = BodyFraming::Chunked;
    } else if (content_length) {
        p.framing = *content_length > 0 ? BodyFraming::Length : BodyFraming::None;
        p.content_length = *content_length;
    }
    if (hosts > 1 || (hosts == 0 && p.minor == 1)) {
        return bad_request("An HTTP/1.1 request needs exactly one Host header.");
    }
    p.keep_alive = p.minor == 1 ? !connection_close : (connection_keep_alive && !connection_close);
    r.status = HeadStatus::Complete;
    return r;
}

ChunkedBodyDecoder::Step ChunkedBodyDecoder::step(std::string_view in)
{
    Step s;
    auto fail = [&s](std::string message) {
        s.error = std::move(message);
        return s;
    };
    std::size_t i = 0;
    while (i < in.size() && m_state != State::Done) {
        const auto c = static_cast<unsigned char>(in[i]);
        switch (m_state) {
        case State::Size: {
            int digit = -1;
            if (c >= '0' && c <= '9') {
                digit = c - '0';
            } else if (c >= 'a' && c <= 'f') {
                digit = c - 'a' + 10;
            } else if (c >= 'A' && c <= 'F') {
                digit = c - 'A' + 10;
            }
            if (digit >= 0) {
                if (m_digits == 16 || (m_digits > 0 && m_size > (UINT64_MAX >> 4))) {
                    return fail("chunk size too large");
                }
                m_size = (m_size << 4) | static_cast<std::uint64_t>(digit);
                ++m_digits;
            } else if (m_digits == 0) {
                return fail("chunk size expected");
            } else if (c == ';' || c == ' ' || c == '\t') {
                m_state = State::Ext;
            } else if (c == '\r') {
                m_state = State::SizeLf;
            } else {
                return fail("malformed chunk size line");
            }
            ++m_line;
            break;
        }
        case State::Ext:
            if (c == '\r') {
                m_state = State::SizeLf;
            } else if (c != '\t' && (c < 0x20 || c == 0x7f)) {
                return fail("control character in a chunk extension");
            }
            if (++m_line > k_max_line) {
                return fail("chunk size line too long");
            }
            break;
        case State::SizeLf:
            if (c != '\n') {
                return fail("chunk size line does not end in CRLF");
            }
            m_line = 0;
            m_digits = 0;
            m_state = m_size == 0 ? State::TrailerStart : State::Data;
            break;
        case State::Data: {
            const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(m_size, in.size() - i));
            s.data = in.substr(i, take);
            m_size -= take;
            m_decoded += take;
            if (m_size == 0) {
                m_state = State::DataCr;
            }
            s.consumed = i + take;
            return s;
        }
        case State::DataCr:
            if (c != '\r') {
                return fail("chunk data does not end in CRLF");
            }
            m_state = State::DataLf;
            break;
        case State::DataLf:
            if (c != '\n') {
                return fail("chunk data does not end in CRLF");
            }
            m_state = State::Size;
            break;
        case State::TrailerStart:
            m_state = c == '\r' ? State::EndLf : State::Trailer;
            if (m_state == State::Trailer && (c == ' ' || c == '\t' || c == ':')) {
                return fail("malformed trailer field");
            }
            [[fallthrough]];
        case State::Trailer:
            if (m_state == State::Trailer) {
                if (c == '\r') {
                    m_state = State::TrailerLf;
                } else if (c != '\t' && (c < 0x20 || c == 0x7f)) {
                    return fail("control character in a trailer field");
                }
            }
            if (++m_trailer > k_max_trailer) {
                return fail("trailer section too large");
            }
            break;
        case State::TrailerLf:
            if (c != '\n') {
                return fail("trailer field does not end in CRLF");
            }
            m_state = State::TrailerStart;
            break;
        case State::EndLf:
            if (c != '\n') {
                return fail("chunked body does not end in CRLF");
            }
            m_state = State::Done;
            break;
        case State::Done: break;
        }
        ++i;
    }
    s.consumed = i;
    return s;
}

} // namespace roar::proxy
