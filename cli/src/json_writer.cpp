// The streaming JSON writer (see json_writer.hpp). Strings are written as
// UTF-8 with the escapes JSON requires; a string that is not valid UTF-8
// (a path on Linux can hold any byte) is written as its escaped text
// (collector::escaped_text, "a\xff"), never as an invalid document, and
// field() adds its exact bytes as "<name>_b64".
#include "json_writer.hpp"

#include "roar/collector/byte_text.hpp"

#include <fmt/format.h>

#include <cmath>

namespace roar::cli {

namespace {

constexpr size_t k_flush_at = 1 << 16;

} // namespace

JsonWriter::JsonWriter(std::ostream& out, int indent, bool escape_lt)
    : m_out(out), m_indent(indent), m_escape_lt(escape_lt)
{
    m_buffer.reserve(k_flush_at + 4096);
}

JsonWriter::~JsonWriter() { flush(); }

void JsonWriter::flush()
{
    m_out.write(m_buffer.data(), std::streamsize(m_buffer.size()));
    m_buffer.clear();
}

void JsonWriter::newline_indent()
{
    if (m_indent > 0) {
        m_buffer += '\n';
        m_buffer.append(m_empty.size() * size_t(m_indent), ' ');
    }
}

void JsonWriter::before_value()
{
    if (m_buffer.size() >= k_flush_at) {
        flush();
    }
    if (m_after_key) {
        m_after_key = false;
        return;
    }
    if (!m_empty.empty()) {
        if (!m_empty.back()) {
            m_buffer += ',';
        }
        m_empty.back() = false;
        newline_indent();
    }
}

JsonWriter& JsonWriter::begin_object()
{
    before_value();
    m_buffer += '{';
    m_empty.push_back(true);
    return *this;
}

JsonWriter& JsonWriter::begin_array()
{
    before_value();
    m_buffer += '[';
    m_empty.push_back(true);
    return *this;
}

void JsonWriter::close(char bracket)
{
    const bool empty = m_empty.back();
    m_empty.pop_back();
    if (!empty) {
        newline_indent();
    }
    m_buffer += bracket;
}

JsonWriter& JsonWriter::end_object()
{
    close('}');
    return *this;
}

JsonWriter& JsonWriter::end_array()
{
    close(']');
    return *this;
}

JsonWriter& JsonWriter::key(std::string_view name)
{
    before_value();
    put_string(name);
    m_buffer += m_indent > 0 ? ": " : ":";
    m_after_key = true;
    return *this;
}

void JsonWriter::put_string(std::string_view s)
{
    if (!collector::is_utf8(s)) {
        put_string(collector::escaped_text(s)); // valid UTF-8: the exact bytes go in field()'s "_b64"
        return;
    }
    m_buffer += '"';
    size_t i = 0;
    while (i < s.size()) {
        // Most text needs no escaping: copy runs of plain ASCII at once.
        size_t plain = i;
        while (plain < s.size()) {
            const auto c = static_cast<unsigned char>(s[plain]);
            if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || (c == '<' && m_escape_lt)) {
                break;
            }
            ++plain;
        }
        m_buffer.append(s.data() + i, plain - i);
        i = plain;
        if (i == s.size()) {
            break;
        }
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) { // part of a valid UTF-8 sequence (checked above)
            m_buffer += char(c);
            ++i;
            continue;
        }
        switch (c) {
        case '"': m_buffer += "\\\""; break;
        case '\\': m_buffer += "\\\\"; break;
        case '\b': m_buffer += "\\b"; break;
        case '\f': m_buffer += "\\f"; break;
        case '\n': m_buffer += "\\n"; break;
        case '\r': m_buffer += "\\r"; break;
        case '\t': m_buffer += "\\t"; break;
        default:
            if (c < 0x20 || (c == '<' && m_escape_lt)) {
                m_buffer += fmt::format("\\u{:04x}", c);
            } else {
                m_buffer += char(c);
            }
        }
        ++i;
    }
    m_buffer += '"';
}

JsonWriter& JsonWriter::value(std::string_view text)
{
    before_value();
    put_string(text);
    return *this;
}

JsonWriter& JsonWriter::field(std::string_view name, std::string_view text)
{
    key(name).value(text);
    if (!collector::is_utf8(text)) {
        key(std::string(name) + "_b64").value(collector::base64_encode(text));
    }
    return *this;
}

JsonWriter& JsonWriter::value(int64_t number)
{
    before_value();
    fmt::format_to(std::back_inserter(m_buffer), "{}", number);
    return *this;
}

JsonWriter& JsonWriter::value(uint64_t number)
{
    before_value();
    fmt::format_to(std::back_inserter(m_buffer), "{}", number);
    return *this;
}

JsonWriter& JsonWriter::value(double number)
{
    if (!std::isfinite(number)) {
        return null();
    }
    before_value();
    // Shortest text that reads back as the same double; always with a
    // fraction or exponent so it stays a JSON number of the same kind.
    const size_t start = m_buffer.size();
    fmt::format_to(std::back_inserter(m_buffer), "{}", number);
    if (m_buffer.find_first_of(".eE", start) == std::string::npos) {
        m_buffer += ".0";
    }
    return *this;
}

JsonWriter& JsonWriter::value(bool flag)
{
    before_value();
    m_buffer += flag ? "true" : "false";
    return *this;
}

JsonWriter& JsonWriter::null()
{
    before_value();
    m_buffer += "null";
    return *this;
}

} // namespace roar::cli
