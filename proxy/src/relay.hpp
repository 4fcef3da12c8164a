// The relay: runs one forward plan as a libcurl transfer on the
// connection's event loop and returns what it saw. The request body flows
// client socket -> (chunked / aws-chunked decoding) -> curl's upload
// buffer, read straight from the socket when it needs no decoding; the
// response flows curl -> the client's output queue, sent straight from
// curl's buffer when the socket takes it, else from one copy. Both
// directions are backpressured: a slow client pauses curl
// (CURL_WRITEFUNC_PAUSE), a slow upstream stops reading the client (the
// read callback pauses until the socket is readable again). The BLAKE3 of
// a PutObject body or a GetObject response is computed on the hashing pool
// from blocks that are sent (GET) from the same memory. A request body cut
// short (the client vanished, a chunk signature failed, a framing error)
// ends the upstream connection with a reset, so the upstream never sees
// the declared length of a request the proxy refused. The relay knows
// nothing of lineage: it hands back an ExchangeRecord.
#pragma once

#include "client_io.hpp"
#include "curl_multi.hpp"
#include "hash_pool.hpp"
#include "multipart_digest.hpp"
#include "proxy_context.hpp"
#include "roar/proxy/exchange.hpp"
#include "roar/proxy/handler.hpp"
#include "roar/proxy/http_front.hpp"

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace roar::proxy {

struct RelayOutcome {
    unsigned status = 0;     // status sent to the client (0: none; the connection must close)
    bool keep_alive = false; // the connection may serve another request
    // Set when the whole response reached the client's socket, and when a
    // 2xx head did but its body was cut short (record->cut).
    std::optional<ExchangeRecord> record;
};

// What the connection knows about the request besides the plan.
struct RelayRequest {
    BodyFraming framing = BodyFraming::None;
    std::uint64_t content_length = 0; // Length framing: body bytes on the wire
    bool client_keep_alive = false;
    std::uint32_t pid = 0; // for the record
};

class StreamHash;

class Exchange final : public CurlTransfer, public std::enable_shared_from_this<Exchange> {
public:
    using Done = std::function<void(RelayOutcome)>;

    // An exchange of `plan` for `request` on `client`, on loop `io` with
    // curl multi `multi`; `done` is called once, on the loop, when it ended.
    Exchange(ProxyContext& ctx, boost::asio::io_context& io, CurlMulti& multi, std::shared_ptr<ClientIo> client,
             ForwardPlan plan, RelayRequest request, Done done);
    ~Exchange() override;
    Exchange(const Exchange&) = delete;
    Exchange& operator=(const Exchange&) = delete;

    // Starts the transfer.
    void start();
    // Ends the exchange now (shutdown, client timeout, connection failure):
    // the upstream transfer stops (its connection reset when the request
    // body was incomplete) and `done` is called with no record.
    void abort(std::string_view why);
    // Whether the exchange is waiting for the client: to send request body
    // bytes, or to take response bytes.
    bool waiting_on_client() const;

    void on_curl_done(CURLcode result) override;

private:
    static std::size_t curl_read(char* dst, std::size_t size, std::size_t n, void* self);
    static std::size_t curl_header(char* data, std::size_t size, std::size_t n, void* self);
    static std::size_t curl_write(char* data, std::size_t size, std::size_t n, void* self);

    // Request body.
    std::size_t produce(char* dst, std::size_t cap);
    std::size_t produce_raw(char* dst, std::size_t cap);
    std::size_t produce_decoded(char* dst, std::size_t cap);
    // Feeds `framed` client bytes to the aws-chunked decoder, appending what
    // goes upstream to m_pending (re-framed when m_encoder is set).
    tl::expected<void, ChunkError> decode_aws(std::string_view framed);
    bool finish_body();
    void body_error(S3Error err);
    std::size_t pause_read_until_readable();
    void account_sent(const char* data, std::size_t n);
    bool request_body_complete() const;

    // Response.
    bool header_line(std::string_view line);
    std::size_t consume(const char* data, std::size_t n);
    void build_head();
    bool write_capacity(std::size_t n) const;

    // Flow control.
    void set_pause();
    void resume();
    void watch_client_writes();

    // Completion.
    void store_part_then_respond();
    void respond();
    void complete(bool keep_alive);
    void maybe_done();
    void fail(unsigned status_sent);
    void post_done(RelayOutcome out);
    bool send_error(const S3Error& err);
    void release_easy(bool reset);
    ExchangeRecord make_record() const;

    ProxyContext& m_ctx;
    boost::asio::io_context& m_io;
    CurlMulti& m_multi;
    std::shared_ptr<ClientIo> m_client;
    const ForwardPlan m_plan;
    const RelayRequest m_request;
    Done m_done;
    CURL* m_easy = nullptr;
    curl_slist* m_headers = nullptr;
    // plan.connect_to, for CURLOPT_CONNECT_TO.
    curl_slist* m_connect_to = nullptr;
    std::shared_ptr<Exchange> m_self; // keeps the exchange alive while curl or a wait holds `this`
    bool m_finished = false;          // done() called (or about to be)

    // Request body.
    std::optional<AwsChunkedDecoder> m_aws;
    std::optional<AwsChunkedEncoder> m_encoder; // ForwardPlan::forward_checksum: re-frames m_aws's output
    std::string m_decoded;                      // m_aws's output on its way into m_encoder
    std::optional<ChunkedBodyDecoder> m_chunked;
    std::uint64_t m_raw_left = 0; // Length framing: wire bytes still to read
    bool m_raw_done = false;      // the client's body has been read completely
    bool m_body_done = false;     // and handed to curl
    std::string m_pending;        // decoded (or re-framed) bytes not handed to curl yet
    std::size_t m_pending_pos = 0;
    std::uint64_t m_sent = 0;
    std::optional<S3Error> m_body_error;
    bool m_client_failed = false;
    bool m_read_paused = false;
    bool m_read_waiting = false; // a wait for the client to be readable is pending
    std::unique_ptr<StreamHash> m_request_hash;
    std::shared_ptr<PartHash> m_part; // UploadPart: the part's pieces (m_request_hash feeds them)
    std::uint32_t m_part_number = 0;
    std::optional<AwsChunkedDecoder> m_hash_decoder; // aws-chunked passing through: decodes a copy for the hash
    std::string m_hash_scratch;
    bool m_hash_broken = false;    // the copy did not decode: no BLAKE3
    std::string m_request_capture; // CompleteMultipartUpload: its part list

    // Response.
    std::chrono::steady_clock::time_point m_started = std::chrono::steady_clock::now();
    bool m_latency_seen = false;
    unsigned m_status = 0;
    std::string m_reason;
    std::vector<std::pair<std::string, std::string>> m_response_headers;
    std::optional<std::uint64_t> m_response_length;
    std::string m_upstream_bad; // why the upstream's response cannot be relayed
    bool m_head_built = false;
    std::string m_head; // built, not queued yet
    bool m_head_queued = false;
    bool m_chunked_out = false;
    bool m_keep_alive = false;
    bool m_write_paused = false;
    bool m_watching_writes = false;
    std::uint64_t m_received = 0;
    std::unique_ptr<StreamHash> m_response_hash;
    std::string m_capture;

    // Completion: waiting for the hashes and the client's output queue.
    bool m_completing = false;
    bool m_completion_keep_alive = false;
    int m_waiting_hashes = 0;
    std::string m_request_blake3;
    std::string m_response_blake3;
};

} // namespace roar::proxy
