// Bytes as text and JSON (see byte_text.hpp): UTF-8 validation, the text
// escape, base64, and the JSON walks that add, remove or store the exact
// bytes of strings that are not UTF-8.
#include "roar/collector/byte_text.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace roar::collector {

namespace {

using json = nlohmann::json;

// Length of the valid UTF-8 sequence starting at `s[i]` (1 for ASCII), or 0.
size_t utf8_length(std::string_view s, size_t i)
{
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
        return 1;
    }
    size_t n = 0;
    uint32_t min = 0;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, min = 0x10000;
    } else {
        return 0;
    }
    if (i + n > s.size()) {
        return 0;
    }
    uint32_t code = c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) {
            return 0;
        }
        code = (code << 6) | (b & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
        return 0;
    }
    return n;
}

constexpr std::string_view k_standard_digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view k_url_safe_digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Each byte's value as a digit of `digits`, -1 for a byte that is not one.
std::array<int8_t, 256> digit_values(std::string_view digits)
{
    std::array<int8_t, 256> values{};
    values.fill(-1);
    for (size_t k = 0; k < digits.size(); ++k) {
        values[static_cast<unsigned char>(digits[k])] = int8_t(k);
    }
    return values;
}

bool is_bad_string(const json& j) { return j.is_string() && !is_utf8(j.get_ref<const std::string&>()); }

std::string shown_key(const std::string& key) { return is_utf8(key) ? key : escaped_text(key); }

std::string b64_of(const json& j) { return base64_encode(j.get_ref<const std::string&>()); }

// The `name_b64` companion of `value`, or null when it needs none.
json companion(const json& value)
{
    if (is_bad_string(value)) {
        return b64_of(value);
    }
    if (value.is_array()) {
        json out = json::array();
        bool any = false;
        for (const auto& item : value) {
            any = any || is_bad_string(item);
            out.push_back(is_bad_string(item) ? json(b64_of(item)) : json(nullptr));
        }
        return any ? out : json(nullptr);
    }
    if (value.is_object()) {
        json out = json::object();
        for (const auto& [key, item] : value.items()) {
            if (is_bad_string(item)) {
                out[shown_key(key)] = b64_of(item);
            }
        }
        return out.empty() ? json(nullptr) : out;
    }
    return nullptr;
}

constexpr std::string_view k_suffix = "_b64";

json stored_form(const json& doc)
{
    if (is_bad_string(doc)) {
        return json{{"b64", b64_of(doc)}};
    }
    if (doc.is_array()) {
        json out = json::array();
        for (const auto& item : doc) {
            out.push_back(stored_form(item));
        }
        return out;
    }
    if (doc.is_object()) {
        json out = json::object();
        for (const auto& [key, item] : doc.items()) {
            out[shown_key(key)] = stored_form(item);
        }
        return out;
    }
    return doc;
}

json from_stored_form(json doc, bool root)
{
    if (doc.is_object()) {
        if (!root && doc.size() == 1 && doc.contains("b64") && doc["b64"].is_string()) {
            if (auto bytes = base64_decode(doc["b64"].get_ref<const std::string&>())) {
                return *bytes;
            }
        }
        for (auto& [key, item] : doc.items()) {
            item = from_stored_form(std::move(item), false);
        }
    } else if (doc.is_array()) {
        for (auto& item : doc) {
            item = from_stored_form(std::move(item), false);
        }
    }
    return doc;
}

} // namespace

bool is_utf8(std::string_view bytes)
{
    for (size_t i = 0; i < bytes.size();) {
        // Plain ASCII (most text) eight bytes at a time.
        constexpr uint64_t k_high_bits = 0x8080808080808080ULL;
        for (uint64_t word = 0; i + sizeof word <= bytes.size(); i += sizeof word) {
            std::memcpy(&word, bytes.data() + i, sizeof word);
            if ((word & k_high_bits) != 0) {
                break;
            }
        }
        if (i == bytes.size()) {
            break;
        }
        const size_t n = utf8_length(bytes, i);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

std::string escaped_text(std::string_view bytes)
{
    std::string out;
    out.reserve(bytes.size());
    for (size_t i = 0; i < bytes.size();) {
        // Printable ASCII (most text) is copied in runs.
        size_t plain = i;
        while (plain < bytes.size() && bytes[plain] >= 0x20 && bytes[plain] < 0x7F) {
            ++plain;
        }
        out.append(bytes.substr(i, plain - i));
        i = plain;
        if (i == bytes.size()) {
            break;
        }
        const auto c = static_cast<unsigned char>(bytes[i]);
        const size_t n = utf8_length(bytes, i);
        if (n == 0) {
            out += fmt::format("\\x{:02x}", unsigned(c));
            ++i;
            continue;
        }
        if (n == 2 && c == 0xC2 && static_cast<unsigned char>(bytes[i + 1]) <= 0x9F) {
            out += fmt::format("\\u{:04x}", unsigned(static_cast<unsigned char>(bytes[i + 1])));
        } else if (n == 1 && (c < 0x20 || c == 0x7F)) {
            switch (c) {
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default: out += fmt::format("\\x{:02x}", unsigned(c));
            }
        } else {
            out.append(bytes.substr(i, n));
        }
        i += n;
    }
    return out;
}

std::string unescaped_text(std::string_view text)
{
    auto hex = [](std::string_view digits) -> int {
        int v = 0;
        for (const char c : digits) {
            const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0) {
                return -1;
            }
            v = v * 16 + d;
        }
        return v;
    };
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\' || i + 1 == text.size()) {
            out += text[i];
            continue;
        }
        const char kind = text[i + 1];
        if (kind == 'n' || kind == 't' || kind == 'r') {
            out += kind == 'n' ? '\n' : kind == 't' ? '\t' : '\r';
            ++i;
        } else if (int v = kind == 'x' ? hex(text.substr(i + 2, 2)) : -1; v >= 0 && i + 4 <= text.size()) {
            out += char(v);
            i += 3;
        } else if (int u = kind == 'u' && text.substr(i + 2, 2) == "00" ? hex(text.substr(i + 4, 2)) : -1;
                   u >= 0x80 && u <= 0x9F && i + 6 <= text.size()) {
            out += '\xC2';
            out += char(u);
            i += 5;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string base64_encode(std::string_view bytes, Base64Alphabet alphabet)
{
    const std::string_view digits = alphabet == Base64Alphabet::url_safe ? k_url_safe_digits : k_standard_digits;
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const uint32_t v =
            uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 | uint32_t(uint8_t(bytes[i + 2]));
        out += digits[v >> 18];
        out += digits[(v >> 12) & 63];
        out += digits[(v >> 6) & 63];
        out += digits[v & 63];
    }
    if (const size_t rest = bytes.size() - i; rest > 0) {
        uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
        if (rest == 2) {
            v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
        }
        out += digits[v >> 18];
        out += digits[(v >> 12) & 63];
        if (rest == 2) {
            out += digits[(v >> 6) & 63];
        }
        if (alphabet == Base64Alphabet::standard) {
            out.append(3 - rest, '=');
        }
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text, Base64Alphabet alphabet)
{
    static const std::array<int8_t, 256> k_standard_values = digit_values(k_standard_digits);
    static const std::array<int8_t, 256> k_url_safe_values = digit_values(k_url_safe_digits);
    const auto& values = alphabet == Base64Alphabet::url_safe ? k_url_safe_values : k_standard_values;
    if (alphabet == Base64Alphabet::standard) {
        // Padded to whole groups of four; '=' (at most two) only at the end.
        if (text.size() % 4 != 0) {
            return std::nullopt;
        }
        for (int k = 0; k < 2 && !text.empty() && text.back() == '='; ++k) {
            text.remove_suffix(1);
        }
    }
    // A last group of one digit holds no whole byte.
    if (text.size() % 4 == 1) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    uint32_t bits = 0;
    int count = 0; // bits in `bits` not yet written
    for (const char c : text) {
        const int8_t d = values[static_cast<unsigned char>(c)];
        if (d < 0) {
            return std::nullopt;
        }
        bits = (bits << 6) | uint32_t(d);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out += char((bits >> count) & 0xFF);
        }
    }
    // The last digit's unused bits are zero: one text for each byte string.
    if ((bits & ((1u << count) - 1)) != 0) {
        return std::nullopt;
    }
    return out;
}

namespace {

// bytes_json() of `doc`; `covered`: `doc` is an object held by a member,
// whose `name_b64` companion (in the object around it) already carries
// the bytes of its string members, so it gets none of its own for them. Its
// members' names are data then (an environment's variable may be called
// FOO_b64).
json shown_form(const json& doc, bool covered)
{
    if (is_bad_string(doc)) {
        return escaped_text(doc.get_ref<const std::string&>());
    }
    if (doc.is_array()) {
        json out = json::array();
        for (const auto& item : doc) {
            out.push_back(shown_form(item, false));
        }
        return out;
    }
    if (!doc.is_object()) {
        return doc;
    }
    json out = json::object();
    for (const auto& [raw_key, value] : doc.items()) {
        const std::string key = shown_key(raw_key);
        out[key] = shown_form(value, value.is_object());
        if (covered && value.is_string()) {
            continue;
        }
        if (json b64 = companion(value); !b64.is_null()) {
            out[key + std::string(k_suffix)] = std::move(b64);
        }
    }
    return out;
}

// The inverse of shown_form(doc, covered).
json exact_form(const json& doc, bool covered)
{
    if (doc.is_array()) {
        json out = json::array();
        for (const auto& item : doc) {
            out.push_back(exact_form(item, false));
        }
        return out;
    }
    if (!doc.is_object()) {
        return doc;
    }
    json out = json::object();
    for (const auto& [key, value] : doc.items()) {
        out[key] = exact_form(value, value.is_object());
    }
    for (const auto& [key, b64] : doc.items()) {
        if (key.size() <= k_suffix.size() || !key.ends_with(k_suffix)) {
            continue;
        }
        const std::string name = key.substr(0, key.size() - k_suffix.size());
        if (!out.contains(name) || (covered && doc[name].is_string())) {
            continue; // no companion: a member of its own
        }
        json& target = out[name];
        auto decoded = [](const json& j) { return j.is_string() ? base64_decode(j.get<std::string>()) : std::nullopt; };
        if (b64.is_string() && target.is_string()) {
            if (auto bytes = decoded(b64)) {
                target = *bytes;
            }
        } else if (b64.is_array() && target.is_array() && b64.size() == target.size()) {
            for (size_t i = 0; i < b64.size(); ++i) {
                if (auto bytes = decoded(b64[i])) {
                    target[i] = *bytes;
                }
            }
        } else if (b64.is_object() && target.is_object()) {
            for (const auto& [item_key, item] : b64.items()) {
                if (auto bytes = decoded(item); bytes && target.contains(item_key)) {
                    target[item_key] = *bytes;
                }
            }
        } else {
            continue; // not a companion's shape: a member of its own
        }
        out.erase(key);
    }
    return out;
}

} // namespace

json bytes_json(const json& doc) { return shown_form(doc, false); }

json bytes_from_json(const json& doc) { return exact_form(doc, false); }

std::string stored_json(const json& doc) { return stored_form(doc).dump(); }

json parse_stored_json(std::string_view text, json fallback)
{
    auto doc = json::parse(text, nullptr, false);
    if (doc.is_discarded()) {
        return fallback;
    }
    return from_stored_form(std::move(doc), true);
}

} // namespace roar::collector
