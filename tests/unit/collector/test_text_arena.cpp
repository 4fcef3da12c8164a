// TextArena: views that stay valid while blocks fill, and blocks let go of
// from the oldest without touching the strings kept after them.
#include "roar/collector/text_arena.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <string>
#include <vector>

using roar::collector::TextArena;

TEST_CASE("a text arena's views keep their bytes as blocks fill, long strings included", "[collector][arena]")
{
    TextArena arena;
    std::vector<std::string> texts;
    std::vector<std::string_view> views;
    for (int i = 0; i < 5000; ++i) { // about 6 blocks of 64 KiB
        texts.push_back(fmt::format("/data/set/{:06}/{}", i, std::string(size_t(i % 50), 'x')));
        views.push_back(arena.keep(texts.back()));
    }
    texts.emplace_back(200 * 1024, 'L'); // longer than a block: a block of its own
    views.push_back(arena.keep(texts.back()));
    views.push_back(arena.keep(""));
    texts.emplace_back();
    for (size_t i = 0; i < texts.size(); ++i) {
        REQUIRE(views[i] == texts[i]);
    }
}

TEST_CASE("releasing a text arena's older blocks keeps the strings from the one named on, and keeping goes on",
          "[collector][arena]")
{
    TextArena arena;
    std::vector<std::string> texts;
    std::vector<std::string_view> views;
    auto keep = [&](int i) {
        texts.push_back(fmt::format("/data/set/{:06}/{}", i, std::string(size_t(i % 70), 'y')));
        views.push_back(arena.keep(texts.back()));
    };
    for (int i = 0; i < 4000; ++i) {
        keep(i);
    }
    arena.release_before(views[2500]);
    for (size_t i = 2500; i < views.size(); ++i) {
        REQUIRE(views[i] == texts[i]);
    }
    for (int i = 4000; i < 6000; ++i) {
        keep(i);
    }
    arena.release_before(views[5999]); // the block being filled stays
    for (int i = 6000; i < 6100; ++i) {
        keep(i);
    }
    CHECK(views[5999] == texts[5999]);
    for (size_t i = 6000; i < views.size(); ++i) {
        REQUIRE(views[i] == texts[i]);
    }
}
