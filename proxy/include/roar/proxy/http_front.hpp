// The HTTP/1.1 front of the proxy as pure functions: the parse of a
// request head (request line, header fields, and how the body that follows
// is framed) and the incremental decoder of a chunked request body. No
// sockets: a connection feeds them bytes and acts on the result, and a
// fuzzer feeds them anything. Whatever makes the end of a request
// ambiguous (a transfer coding other than one "chunked", Content-Length
// together with Transfer-Encoding, differing Content-Lengths, obsolete
// line folding) is refused: a proxy and an upstream that disagree about
// where a request ends can be made to see different requests.
#pragma once

#include "roar/proxy/request.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace roar::proxy {

struct HeadLimits {
    std::size_t max_bytes = 64 * 1024; // the whole head: request line, fields, CRLFs
    std::size_t max_fields = 100;      // header fields
};

enum class BodyFraming {
    None,    // no body
    Length,  // Content-Length bytes
    Chunked, // Transfer-Encoding: chunked
};

struct ParsedHead {
    RequestHead head;
    std::size_t size = 0; // bytes of the head, leading empty lines and the final empty line included
    unsigned minor = 1;   // HTTP/1.minor
    BodyFraming framing = BodyFraming::None;
    std::uint64_t content_length = 0; // when framing is Length
    bool keep_alive = true;           // what the client asked for (HTTP/1.1 default, Connection header)
    bool expect_continue = false;     // Expect: 100-continue
};

struct HeadError {
    unsigned status = 400; // 400, 431 or 505
    std::string code;      // S3-style error code
    std::string message;   // for the client and the log; never echoes header values
};

enum class HeadStatus {
    Incomplete, // no end of head yet and still within the size limit: read more
    Complete,   // `parsed` is set
    Invalid,    // `error` is set: answer it and close the connection
};

struct HeadResult {
    HeadStatus status = HeadStatus::Incomplete;
    ParsedHead parsed;
    HeadError error;
};

// Where the head in `bytes` ends (the offset just past its empty line), or
// npos; `from` is where a previous call stopped looking (it may rescan the
// last three bytes), so feeding a growing buffer costs linear time.
std::size_t find_head_end(std::string_view bytes, std::size_t from = 0);

// Parses the request head at the start of `bytes` under `limits`. Bytes
// after the head (the body, a pipelined request) are not looked at.
HeadResult parse_request_head(std::string_view bytes, const HeadLimits& limits = {});

// Incremental decoder of a chunked message body (RFC 9112 section 7.1).
// Chunk extensions and trailer fields are checked for shape and dropped.
class ChunkedBodyDecoder {
public:
    static constexpr std::size_t k_max_line = 4096;     // a chunk-size line with extensions
    static constexpr std::size_t k_max_trailer = 16384; // the whole trailer section

    struct Step {
        std::size_t consumed = 0;         // bytes of the input used (payload included)
        std::string_view data;            // payload bytes among them (a view into the input)
        std::optional<std::string> error; // malformed framing: stop reading this connection
    };

    // Decodes from the start of `in`: stops after one run of payload
    // bytes, at the end of the body, at an error or when `in` is used up.
    // Call again with the rest of the input.
    Step step(std::string_view in);
    // Whether the terminating chunk and trailer section have been read.
    bool done() const { return m_state == State::Done; }
    // Payload bytes decoded so far.
    std::uint64_t decoded() const { return m_decoded; }

private:
    enum class State { Size, Ext, SizeLf, Data, DataCr, DataLf, TrailerStart, Trailer, TrailerLf, EndLf, Done };
    State m_state = State::Size;
    std::uint64_t m_size = 0;
    std::size_t m_digits = 0;
    std::size_t m_line = 0;
    std::size_t m_trailer = 0;
    std::uint64_t m_decoded = 0;
};

} // namespace roar::proxy
