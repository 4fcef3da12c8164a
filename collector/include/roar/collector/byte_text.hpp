// Recorded text is bytes: Linux paths, arguments and environment values
// may hold any byte but NUL, valid UTF-8 or not. This file decides how such
// bytes are shown and exchanged, in one place for every component:
// - escaped_text(): the one escaping function of every text view (invalid
//   bytes and control characters written as escapes, e.g. "a\xff");
// - bytes_json() / bytes_from_json(): the documented, lossless JSON form
//   (a string that is not UTF-8 is written escaped, with its exact bytes
//   in base64 in a sibling member "<name>_b64"), used by every JSON output
//   (show, log, dag, status, run --json, recovery files, roar-events);
// - stored_json() / parse_stored_json(): how the store keeps JSON-valued
//   columns (argv, environment, notes) so the exact bytes round-trip;
// - base64_encode() / base64_decode(): roar's one base64 codec (the JSON
//   form, the PostgreSQL engine's bytes, the gateway's sealed secrets and
//   continuation tokens).
#pragma once

#include "roar/collector/hex_digit.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace roar::collector {

// Whether `bytes` is valid UTF-8 (no overlong forms, surrogates or code
// points above U+10FFFF).
bool is_utf8(std::string_view bytes);

// `bytes` safe and faithful on a terminal: valid UTF-8 is kept, except
// control characters; a byte that is not part of valid UTF-8 is written as
// \xHH (lower-case hex), a C0 control or DEL as \n, \t, \r or \xHH, a C1
// control (U+0080..U+009F) as \u00HH. Backslashes are kept as they are.
std::string escaped_text(std::string_view bytes);

// The bytes escaped_text() stands for: \xHH, \n, \t, \r and \u00HH
// (HH in 80..9f) are replaced by what they escape; everything else,
// including a backslash that starts no such escape, is kept. Lets a path
// copied from a text view ("a\xff") name the recorded one.
std::string unescaped_text(std::string_view text);

// RFC 4648's two base64 alphabets: standard ('+' and '/', padded with '='
// to whole groups of four; the JSON form, the store, sealed secrets) and
// URL-safe ('-' and '_', unpadded; the gateway's continuation tokens).
enum class Base64Alphabet { standard, url_safe };

// Base64 of `bytes` in `alphabet`.
std::string base64_encode(std::string_view bytes, Base64Alphabet alphabet = Base64Alphabet::standard);

// The bytes `text` (base64 in `alphabet`) stands for; nullopt unless `text`
// is exactly what base64_encode() writes for some bytes: only that
// alphabet's digits, the standard alphabet's padding and no other '=', no
// whitespace, and zero unused bits in the last digit.
std::optional<std::string> base64_decode(std::string_view text, Base64Alphabet alphabet = Base64Alphabet::standard);

// `doc` in roar's JSON form for bytes: every string that is valid UTF-8 is
// kept as is; in an object, a member `name` whose string value is not UTF-8
// becomes escaped_text() of it plus a member `name_b64` with its exact bytes
// in base64; a member holding an array of strings gets `name_b64`, an array
// of the same length with null for the elements that are UTF-8 and base64
// for the others; a member holding an object of strings (the environment)
// gets `name_b64`, an object with the base64 of each value that is not
// UTF-8 under its (escaped) key, and that object's own string members get
// no companion inside it (their names are data: a variable may be called
// FOO_b64). Object keys that are not UTF-8 are escaped. The result always
// dumps as valid JSON.
nlohmann::json bytes_json(const nlohmann::json& doc);

// The inverse of bytes_json(): every `name_b64` companion next to a `name`
// member puts its exact bytes back into `name` and is removed (inside an
// object held by a member, a `name_b64` next to a string `name` is a
// member of its own, as bytes_json() writes none there).
nlohmann::json bytes_from_json(const nlohmann::json& doc);

// `doc` as the store's column text: a string that is not UTF-8 is written
// as the object {"b64": "<base64 of its bytes>"}; object keys that are not
// UTF-8 are escaped.
std::string stored_json(const nlohmann::json& doc);

// The inverse of stored_json(); `fallback` when `text` is not JSON.
nlohmann::json parse_stored_json(std::string_view text, nlohmann::json fallback);

} // namespace roar::collector
