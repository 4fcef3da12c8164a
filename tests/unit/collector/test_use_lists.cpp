// A job's uses of one direction as one text value (job_uses): the text
// lists them in path-id order with the path ids as differences, and
// anything else is refused whole, so a reader falls back to job_io.
#include "use_lists.hpp"

#include <catch2/catch.hpp>

#include <random>

using roar::collector::ScannedUse;
using roar::collector::store_detail::parse_use_list;
using roar::collector::store_detail::use_list_text;

TEST_CASE("a use list names paths by their difference from the one before, artifacts by id, 0 for none",
          "[collector][store][use_lists]")
{
    const std::vector<ScannedUse> uses{{3, 10}, {4, 0}, {9, 7}, {1000000, 123456789}};
    CHECK(use_list_text(uses) == "3:10,1:0,5:7,999991:123456789");
    CHECK(use_list_text({}).empty());
    std::vector<ScannedUse> back{{99, 99}}; // appended to
    REQUIRE(parse_use_list("3:10,1:0,5:7,999991:123456789", back));
    CHECK(back == std::vector<ScannedUse>{{99, 99}, {3, 10}, {4, 0}, {9, 7}, {1000000, 123456789}});
    std::vector<ScannedUse> none;
    REQUIRE(parse_use_list("", none));
    CHECK(none.empty());
}

TEST_CASE("use lists of many uses read back exactly", "[collector][store][use_lists]")
{
    std::mt19937_64 random(20261206);
    for (int round = 0; round < 200; ++round) {
        std::vector<ScannedUse> uses;
        int64_t path = 0;
        const size_t n = random() % 300;
        for (size_t i = 0; i < n; ++i) {
            path += 1 + int64_t(random() % (round % 2 ? 3 : 100000));
            uses.push_back({path, random() % 4 == 0 ? 0 : int64_t(random() >> 2)});
        }
        std::vector<ScannedUse> back;
        REQUIRE(parse_use_list(use_list_text(uses), back));
        CHECK(back == uses);
    }
}

TEST_CASE("text that is not a use list is refused whole and leaves the output as it was",
          "[collector][store][use_lists]")
{
    for (const char* bad : {"1:2,",                         // a trailing comma
                            ",1:2",                         // an empty item
                            "1:2,,3:4",                     // another
                            "1",                            // no artifact
                            "1:",                           // an empty artifact
                            ":1",                           // an empty path
                            "0:1",                          // a path not above the one before
                            "2:1,0:1",                      // the same path twice
                            "-1:2",                         // a negative difference
                            "1:-2",                         // a negative artifact
                            "+1:2",                         // a sign
                            "1:2;3:4",                      // another separator
                            "1:2:3",                        // three fields
                            "1 :2",                         // a space
                            "a:b",                          // not numbers
                            "99999999999999999999:1",       // out of range
                            "9223372036854775807:1,1:1"}) { // the path id past the largest
        std::vector<ScannedUse> out{{5, 6}};
        CAPTURE(bad);
        CHECK_FALSE(parse_use_list(bad, out));
        CHECK(out == std::vector<ScannedUse>{{5, 6}});
    }
}
