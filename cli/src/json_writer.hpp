// A streaming JSON writer for documents too large to build as a tree
// first (`roar dag --json` on a big project lists hundreds of thousands of
// artifacts). Values go straight to an std::ostream through a buffer, so
// memory stays flat whatever the document's size. The layout matches
// nlohmann::json's dump(2) (or dump() when compact): small documents are
// still built with nlohmann::json; this is for the large ones.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace roar::cli {

class JsonWriter {
public:
    // Writes to `out`; `indent` spaces per level, or a compact document
    // when 0. With `escape_lt`, '<' in strings is written as \u003c so the
    // text can sit inside an HTML <script> element.
    explicit JsonWriter(std::ostream& out, int indent = 2, bool escape_lt = false);
    // Flushes what is buffered (also done by the destructor).
    ~JsonWriter();
    JsonWriter(const JsonWriter&) = delete;
    JsonWriter& operator=(const JsonWriter&) = delete;

    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    // The key of the next value; only inside an object.
    JsonWriter& key(std::string_view name);

    JsonWriter& value(std::string_view text);
    JsonWriter& value(const char* text) { return value(std::string_view(text)); }
    JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
    JsonWriter& value(int64_t number);
    JsonWriter& value(int number) { return value(int64_t(number)); }
    JsonWriter& value(uint64_t number);
    JsonWriter& value(double number); // NaN and infinities become null, as in nlohmann::json
    JsonWriter& value(bool flag);
    JsonWriter& null();
    template <typename T> JsonWriter& value(const std::optional<T>& maybe) { return maybe ? value(*maybe) : null(); }

    // key(name) then value(v).
    template <typename T> JsonWriter& field(std::string_view name, const T& v) { return key(name).value(v); }
    // A string member in the JSON form for bytes (collector/byte_text.hpp):
    // text that is not UTF-8 is written escaped, followed by a member
    // "<name>_b64" with its exact bytes in base64.
    JsonWriter& field(std::string_view name, std::string_view text);
    JsonWriter& field(std::string_view name, const std::string& text) { return field(name, std::string_view(text)); }
    JsonWriter& field(std::string_view name, const char* text) { return field(name, std::string_view(text)); }

    // Sends the buffer to the stream; the document may be unfinished.
    void flush();

private:
    void before_value();
    void close(char bracket);
    void newline_indent();
    void put_string(std::string_view text);

    std::ostream& m_out;
    std::string m_buffer;
    int m_indent;
    bool m_escape_lt;
    std::vector<bool> m_empty; // per open container: nothing written in it yet
    bool m_after_key = false;
};

} // namespace roar::cli
