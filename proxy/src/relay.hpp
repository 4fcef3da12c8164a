// The relay: runs one forward plan as a libcurl transfer, streaming the
// client's request body (aws-chunked decoded when needed) to the upstream
// and the upstream's response back to the client, then publishes the
// lineage events of the exchange.
#pragma once

#include "client_stream.hpp"
#include "proxy_context.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

namespace roar::proxy {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;

struct RelayResult {
    unsigned status = 0;     // status sent to the client (0 = none, connection dropped)
    bool keep_alive = false; // the connection may serve another request
};

// Runs `plan` for the request being parsed by `parser` (head already read,
// leftover bytes in `buffer`) on `client`, with shared state `ctx`;
// `client_keep_alive` is what the client asked for.
RelayResult relay(ProxyContext& ctx, ClientStream& client, boost::beast::flat_buffer& buffer, RequestParser& parser,
                  const ForwardPlan& plan, bool client_keep_alive);

// Writes a complete local response `resp` (body omitted for HEAD when
// `head_only`); false when the client went away.
bool write_local_response(ClientStream& client, const LocalResponse& resp, bool keep_alive, bool head_only);

} // namespace roar::proxy
