// Bytes as text and JSON (byte_text.hpp): the text escape every view uses,
// base64, the JSON form with "<name>_b64" members and its inverse, and the
// store's column form; each round-trips every byte value.
#include "roar/collector/byte_text.hpp"

#include <catch2/catch.hpp>

using namespace roar::collector;
using json = nlohmann::json;

namespace {

std::string every_byte()
{
    std::string all;
    for (int c = 1; c < 256; ++c) {
        all += char(c);
    }
    return all;
}

} // namespace

TEST_CASE("byte text: UTF-8 validation rejects stray, truncated, overlong and surrogate sequences",
          "[collector][byte_text]")
{
    CHECK(is_utf8(""));
    CHECK(is_utf8("plain ascii"));
    CHECK(is_utf8("é 😀 \xE2\x82\xAC"));
    CHECK_FALSE(is_utf8("a\xff"));
    CHECK_FALSE(is_utf8("\x80"));
    CHECK_FALSE(is_utf8("\xE2\x82"));
    CHECK_FALSE(is_utf8("\xC0\xAF"));
    CHECK_FALSE(is_utf8("\xED\xA0\x80"));
    CHECK_FALSE(is_utf8("\xF4\x90\x80\x80"));
}

TEST_CASE("byte text: long text is judged and escaped the same past its plain ASCII runs", "[collector][byte_text]")
{
    // Runs longer than the eight bytes checked at once, with what needs
    // care at every offset of a word and at the very end.
    const std::string run = "/data/proj/stage00001/part-021.bin";
    for (size_t at = 0; at <= run.size(); ++at) {
        const std::string head = run.substr(0, at), tail = run.substr(at);
        CHECK(is_utf8(head + "é" + tail));
        CHECK(is_utf8(head + "\xF0\x9F\x98\x80" + tail));
        CHECK_FALSE(is_utf8(head + "\xff" + tail));
        CHECK_FALSE(is_utf8(head + "\xE2\x82"));
        CHECK(escaped_text(head + "\xff" + tail) == head + R"(\xff)" + tail);
        CHECK(escaped_text(head + "\n" + tail) == head + R"(\n)" + tail);
        CHECK(escaped_text(head + "\x7f" + tail) == head + R"(\x7f)" + tail);
        CHECK(escaped_text(head + "é" + tail) == head + "é" + tail);
    }
    CHECK(is_utf8(run + run));
    CHECK(escaped_text(run + run) == run + run);
}

TEST_CASE("byte text: escaped_text writes invalid bytes and controls as escapes and keeps UTF-8",
          "[collector][byte_text]")
{
    CHECK(escaped_text("a\xff") == R"(a\xff)");
    CHECK(escaped_text("v\xE2\x82") == R"(v\xe2\x82)");
    CHECK(escaped_text("é 😀 back\\slash") == "é 😀 back\\slash");
    CHECK(escaped_text("line\nnext\ttab\rcr") == R"(line\nnext\ttab\rcr)");
    CHECK(escaped_text("\x1b[31mred\x7f") == R"(\x1b[31mred\x7f)");
    CHECK(escaped_text("csi\xC2\x9B") == R"(csi\u009b)");
    CHECK(escaped_text("nbsp\xC2\xA0") == "nbsp\xC2\xA0");
    const std::string shown = escaped_text(every_byte());
    CHECK(is_utf8(shown));
    CHECK(shown.find('\x1b') == std::string::npos);
}

TEST_CASE("byte text: unescaped_text gives back the bytes escaped_text wrote", "[collector][byte_text]")
{
    const std::string all = every_byte();
    CHECK(unescaped_text(escaped_text(all)) == all);
    CHECK(unescaped_text(R"(a\xff)") == "a\xff");
    CHECK(unescaped_text(R"(csi\u009b)") == "csi\xC2\x9B");
    CHECK(unescaped_text(R"(plain\ \x \xg1 \u0041 end\)") == R"(plain\ \x \xg1 \u0041 end\)");
}

TEST_CASE("byte text: base64 round-trips every length and byte and rejects what is not base64",
          "[collector][byte_text][base64]")
{
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("a\xff") == "Yf8=");
    CHECK(base64_encode("\xfb\xff") == "+/8=");
    const std::string all = every_byte() + std::string(1, '\0');
    for (size_t n = 0; n <= all.size(); n += 7) {
        const std::string part = all.substr(0, n);
        CHECK(base64_decode(base64_encode(part)) == part);
    }
    CHECK(base64_decode("") == std::string());
    CHECK(base64_decode("Zm8=") == std::string("fo"));
    CHECK(base64_decode("+/8=") == std::string("\xfb\xff"));
    // Padding: exactly to a group of four, only at the end.
    CHECK_FALSE(base64_decode("Zg").has_value());
    CHECK_FALSE(base64_decode("Zg=").has_value());
    CHECK_FALSE(base64_decode("Zg===").has_value());
    CHECK_FALSE(base64_decode("Zm9v====").has_value());
    CHECK_FALSE(base64_decode("Z===").has_value());
    CHECK_FALSE(base64_decode("====").has_value());
    CHECK_FALSE(base64_decode("Zg==Zg==").has_value());
    CHECK_FALSE(base64_decode("Zm=v").has_value());
    // Characters: the alphabet's only, no whitespace, no URL-safe digits.
    CHECK_FALSE(base64_decode("Z!==").has_value());
    CHECK_FALSE(base64_decode("Zm9v\n").has_value());
    CHECK_FALSE(base64_decode("Zm 9v").has_value());
    CHECK_FALSE(base64_decode(" Zm9v").has_value());
    CHECK_FALSE(base64_decode("-_8=").has_value());
    CHECK_FALSE(base64_decode(std::string("Zm9v\0", 5)).has_value());
    // The last digit's unused bits are zero ("Zh==" would also read as "f").
    CHECK_FALSE(base64_decode("Zh==").has_value());
    CHECK_FALSE(base64_decode("Zm9=").has_value());
}

TEST_CASE("byte text: URL-safe base64 uses '-' and '_', has no padding and rejects the standard alphabet's",
          "[collector][byte_text][base64]")
{
    constexpr auto url = Base64Alphabet::url_safe;
    CHECK(base64_encode("", url) == "");
    CHECK(base64_encode("f", url) == "Zg");
    CHECK(base64_encode("fo", url) == "Zm8");
    CHECK(base64_encode("foo", url) == "Zm9v");
    CHECK(base64_encode("\xfb\xff", url) == "-_8");
    const std::string all = every_byte() + std::string(1, '\0');
    for (size_t n = 0; n <= all.size(); ++n) {
        const std::string part = all.substr(0, n);
        const std::string text = base64_encode(part, url);
        CHECK(text.find_first_of("+/=") == std::string::npos);
        CHECK(base64_decode(text, url) == part);
    }
    CHECK(base64_decode("-_8", url) == std::string("\xfb\xff"));
    CHECK_FALSE(base64_decode("+/8", url).has_value());
    CHECK_FALSE(base64_decode("Zg==", url).has_value());
    CHECK_FALSE(base64_decode("Zm8=", url).has_value());
    CHECK_FALSE(base64_decode("Zm9vZ", url).has_value()); // a last group of one digit
    CHECK_FALSE(base64_decode("Zh", url).has_value());
    CHECK_FALSE(base64_decode("Zm9v\n", url).has_value());
    CHECK_FALSE(base64_decode("not a token", url).has_value());
}

TEST_CASE("byte text: the JSON form keeps UTF-8 as is and adds <name>_b64 for members that are not UTF-8",
          "[collector][byte_text]")
{
    const json record = {{"cwd", "/w/d\xff"},
                         {"command", "true"},
                         {"argv", {"true", "\xff", "x"}},
                         {"env", {{"FOO", "v\xff"}, {"HOME", "/root"}}},
                         {"inputs", json::array({{{"path", "/w/a\xfe"}, {"size", 3}}})},
                         {"notes", json::array()}};
    const json shown = bytes_json(record);
    CHECK(shown["cwd"] == R"(/w/d\xff)");
    CHECK(shown["cwd_b64"] == base64_encode("/w/d\xff"));
    CHECK(shown["command"] == "true");
    CHECK_FALSE(shown.contains("command_b64"));
    CHECK(shown["argv"] == json({"true", R"(\xff)", "x"}));
    CHECK(shown["argv_b64"] == json({nullptr, "/w==", nullptr}));
    CHECK(shown["env"]["FOO"] == R"(v\xff)");
    CHECK(shown["env_b64"] == json({{"FOO", "dv8="}}));
    CHECK(shown["inputs"][0]["path"] == R"(/w/a\xfe)");
    CHECK(shown["inputs"][0]["path_b64"] == "L3cvYf4=");
    CHECK_FALSE(shown.contains("notes_b64"));
    CHECK_NOTHROW(shown.dump());
    CHECK(bytes_from_json(json::parse(shown.dump())) == record);
}

TEST_CASE("byte text: an object held by a member gets its companion outside only, and its names are data",
          "[collector][byte_text]")
{
    // A variable that is not UTF-8, and two whose names end in _b64.
    const json record = {{"env", {{"MYVAR", "two\xff"}, {"FOO", "plain"}, {"FOO_b64", "aGVsbG8="}}},
                         {"job", {{"cwd", "/w/\xfe"}, {"argv", {"a", "\xff"}}}}};
    const json shown = bytes_json(record);
    CHECK(shown["env"] == json({{"MYVAR", R"(two\xff)"}, {"FOO", "plain"}, {"FOO_b64", "aGVsbG8="}}));
    CHECK(shown["env_b64"] == json({{"MYVAR", base64_encode("two\xff")}}));
    CHECK(shown["job_b64"] == json({{"cwd", base64_encode("/w/\xfe")}}));
    CHECK_FALSE(shown["job"].contains("cwd_b64"));
    CHECK(shown["job"]["argv_b64"] == json({nullptr, "/w=="})); // an array's companion stays beside it
    CHECK(bytes_from_json(json::parse(shown.dump())) == record);
    const json plain = {{"env", {{"FOO", "plain"}, {"FOO_b64", "aGVsbG8="}}}};
    CHECK(bytes_json(plain) == plain);
    CHECK(bytes_from_json(plain) == plain);
}

TEST_CASE("byte text: the JSON form of a document with only UTF-8 is the document", "[collector][byte_text]")
{
    const json record = {{"path", "/w/é"}, {"argv", {"a", "b"}}, {"n", 1}, {"list", json::array({{{"k", "v"}}})}};
    CHECK(bytes_json(record) == record);
    CHECK(bytes_from_json(record) == record);
}

TEST_CASE("byte text: stored JSON keeps the exact bytes of every string", "[collector][byte_text]")
{
    const json argv = {"true", every_byte(), "é"};
    const std::string text = stored_json(argv);
    CHECK(is_utf8(text));
    CHECK(parse_stored_json(text, nullptr) == argv);
    const json env = {{"FOO", "v\xff"}, {"b64", "plain"}};
    CHECK(parse_stored_json(stored_json(env), nullptr) == env);
    CHECK(parse_stored_json(R"(["a","b"])", nullptr) == json({"a", "b"}));
    CHECK(parse_stored_json("not json", json::array()) == json::array());
}
