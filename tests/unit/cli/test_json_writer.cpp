// The streaming JSON writer: what it writes parses back to the same values,
// lays out like nlohmann::json's dump(), and stays valid JSON for any bytes.
#include "json_writer.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <sstream>

using roar::cli::JsonWriter;

namespace {

// A document with every kind of value, written by `w`.
void write_sample(JsonWriter& w)
{
    w.begin_object()
        .field("name", "roar")
        .field("count", int64_t(-42))
        .field("big", uint64_t(18446744073709551615ULL))
        .field("ratio", 0.125)
        .field("whole", 3.0)
        .field("yes", true)
        .field("no", false)
        .key("nothing")
        .null()
        .field("maybe", std::optional<int64_t>())
        .field("some", std::optional<int64_t>(7));
    w.key("empty_list").begin_array().end_array();
    w.key("empty_map").begin_object().end_object();
    w.key("list").begin_array().value(1).value("two").begin_object().field("three", 3).end_object().end_array();
    w.end_object();
}

nlohmann::json sample_json()
{
    return {{"name", "roar"},
            {"count", -42},
            {"big", 18446744073709551615ULL},
            {"ratio", 0.125},
            {"whole", 3.0},
            {"yes", true},
            {"no", false},
            {"nothing", nullptr},
            {"maybe", nullptr},
            {"some", 7},
            {"empty_list", nlohmann::json::array()},
            {"empty_map", nlohmann::json::object()},
            {"list", nlohmann::json::array({1, "two", {{"three", 3}}})}};
}

std::string written(int indent, bool escape_lt, const std::function<void(JsonWriter&)>& fill)
{
    std::ostringstream out;
    {
        JsonWriter w(out, indent, escape_lt);
        fill(w);
    }
    return out.str();
}

} // namespace

TEST_CASE("json writer: values read back the same, pretty and compact", "[cli][json_writer]")
{
    for (int indent : {0, 2, 4}) {
        const std::string text = written(indent, false, write_sample);
        CHECK(nlohmann::json::parse(text) == sample_json());
    }
}

TEST_CASE("json writer: layout is nlohmann's dump() for the same keys in the same order", "[cli][json_writer]")
{
    const auto fill = [](JsonWriter& w) {
        w.begin_object().field("a", 1).key("b").begin_array().value("x").value(2.5).end_array();
        w.key("c").begin_object().end_object().key("d").begin_array().end_array().end_object();
    };
    const nlohmann::json same = {
        {"a", 1}, {"b", {"x", 2.5}}, {"c", nlohmann::json::object()}, {"d", nlohmann::json::array()}};
    CHECK(written(2, false, fill) == same.dump(2));
    CHECK(written(0, false, fill) == same.dump());
}

TEST_CASE("json writer: strings are escaped; invalid UTF-8 is written as its escaped text", "[cli][json_writer]")
{
    const std::string tricky = std::string("quote\" back\\ nl\n tab\t bell\x07 nul") + '\0' + "é 😀 <b>";
    const std::string text = written(0, false, [&](JsonWriter& w) { w.value(tricky); });
    CHECK(text == nlohmann::json(tricky).dump());
    CHECK(nlohmann::json::parse(text).get<std::string>() == tricky);

    const std::string html = written(0, true, [&](JsonWriter& w) { w.value("</script>"); });
    CHECK(html == "\"\\u003c/script>\"");
    CHECK(nlohmann::json::parse(html).get<std::string>() == "</script>");

    // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate.
    const std::string bad = "a\x80"
                            "b\xE2\x82"
                            "c\xC0\xAF"
                            "d\xED\xA0\x80";
    const std::string repaired = nlohmann::json::parse(written(0, false, [&](JsonWriter& w) { w.value(bad); }));
    CHECK(repaired == R"(a\x80b\xe2\x82c\xc0\xafd\xed\xa0\x80)");
}

TEST_CASE("json writer: a string member that is not UTF-8 gets its exact bytes in <name>_b64", "[cli][json_writer]")
{
    const std::string path = "/p/a\xff\n";
    const auto doc = nlohmann::json::parse(written(2, false, [&](JsonWriter& w) {
        w.begin_object().field("path", path).field("plain", std::string("é")).end_object();
    }));
    CHECK(doc["path"] == R"(/p/a\xff\n)");
    CHECK(doc["path_b64"] == "L3AvYf8K");
    CHECK(doc["plain"] == "é");
    CHECK_FALSE(doc.contains("plain_b64"));
}

TEST_CASE("json writer: non-finite numbers are null; doubles round-trip", "[cli][json_writer]")
{
    const std::string text = written(0, false, [](JsonWriter& w) {
        w.begin_array()
            .value(std::numeric_limits<double>::quiet_NaN())
            .value(std::numeric_limits<double>::infinity())
            .value(0.1)
            .value(1e300)
            .value(-0.0)
            .end_array();
    });
    const auto back = nlohmann::json::parse(text);
    CHECK(back[0].is_null());
    CHECK(back[1].is_null());
    CHECK(back[2].get<double>() == 0.1);
    CHECK(back[3].get<double>() == 1e300);
    CHECK(back[4].is_number_float());
}

TEST_CASE("json writer: a large document streams through a bounded buffer", "[cli][json_writer]")
{
    std::ostringstream out;
    {
        JsonWriter w(out, 2);
        w.begin_array();
        for (int i = 0; i < 100000; ++i) {
            w.begin_object().field("i", i).field("path", "/data/some/long/path/name.csv").end_object();
        }
        w.end_array();
    }
    const auto back = nlohmann::json::parse(out.str());
    REQUIRE(back.size() == 100000);
    CHECK(back[99999]["i"] == 99999);
}
