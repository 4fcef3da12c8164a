// A byte block moved through the relay: filled once on the event loop,
// then read by the client writer and the hashing pool at the same time (so
// a response body is copied once, out of curl's buffer, and sent and
// hashed from the same memory). Shared ownership tells when every reader is
// done: a block whose use_count() is 1 is free to be filled again. Only
// the loop thread creates, fills or releases references to a block.
#pragma once

#include <cstddef>
#include <memory>

namespace roar::proxy {

struct Block {
    explicit Block(std::size_t capacity) : data(new char[capacity]), cap(capacity) { } // not zeroed
    std::unique_ptr<char[]> data;
    std::size_t cap;
    std::size_t len = 0; // bytes filled

    char* tail() { return data.get() + len; }
    std::size_t room() const { return cap - len; }
};

using BlockPtr = std::shared_ptr<Block>;

} // namespace roar::proxy
