// Digests: a use's digests read back exactly as they were set, in
// algorithm order, whether a BLAKE3 digest is kept as bytes or as text.
#include "roar/collector/digests.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <stdexcept>
#include <string>

using namespace roar::collector;

namespace {

const std::string k_b3 = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";

std::map<std::string, std::string> walked(const Digests& d)
{
    std::map<std::string, std::string> out;
    std::string last;
    for (const auto& [algorithm, digest] : d) {
        CHECK(algorithm > last); // in algorithm order, each once
        last = algorithm;
        out.emplace(algorithm, digest);
    }
    return out;
}

} // namespace

TEST_CASE("a BLAKE3 digest set as 64 lower-case hex digits reads back as the same text", "[collector][digests]")
{
    Digests d{{"blake3", k_b3}};
    CHECK(d.size() == 1);
    CHECK_FALSE(d.empty());
    REQUIRE(d.find("blake3") != d.end());
    CHECK(d.find("blake3")->second == k_b3);
    CHECK(d.at("blake3") == k_b3);
    CHECK(walked(d) == std::map<std::string, std::string>{{"blake3", k_b3}});
}

TEST_CASE("digests in any other form, and other algorithms, read back unchanged", "[collector][digests]")
{
    const std::string upper = "AF1349B9F5F9A1A6A0404DEA36DCC9499BCB25C9ADC112B7CC9A93CAE41F3262";
    for (const std::string& odd : {std::string("aa11"), upper, k_b3 + "00", std::string(64, 'g'), std::string()}) {
        Digests d{{"blake3", odd}};
        CHECK(d.at("blake3") == odd);
        CHECK(walked(d) == std::map<std::string, std::string>{{"blake3", odd}});
    }
    const std::map<std::string, std::string> many{
        {"a-first", "1"}, {"blake3", k_b3}, {"etag", "\"9b2cf535f27731c974343645a3985328\""}, {"sha256", "ab"}};
    const Digests d(many);
    CHECK(d.size() == 4);
    CHECK(walked(d) == many);
    CHECK(d == many);
    CHECK(d.count("etag") == 1);
    CHECK(d.count("md5") == 0);
    CHECK(d.find("md5") == d.end());
    CHECK_THROWS_AS(d.at("md5"), std::out_of_range);
}

TEST_CASE("walking from a found digest visits the rest in order", "[collector][digests]")
{
    const Digests d{{"a-first", "1"}, {"blake3", k_b3}, {"etag", "e"}};
    auto it = d.find("a-first");
    REQUIRE(it != d.end());
    ++it;
    REQUIRE(it != d.end());
    CHECK(it->first == "blake3");
    ++it;
    REQUIRE(it != d.end());
    CHECK(it->first == "etag");
    CHECK(++it == d.end());
    auto from_b3 = d.find("blake3");
    CHECK((++from_b3)->first == "etag");
}

TEST_CASE("setting a digest replaces the one of that algorithm, in either form", "[collector][digests]")
{
    Digests d{{"blake3", "aa11"}};
    d.set("blake3", k_b3);
    CHECK(d.size() == 1);
    CHECK(d.at("blake3") == k_b3);
    d.set("blake3", "cc33");
    CHECK(d.size() == 1);
    CHECK(d.at("blake3") == "cc33");
    d.set("sha256", "ab");
    d.set("blake3", k_b3);
    CHECK(d == std::map<std::string, std::string>{{"blake3", k_b3}, {"sha256", "ab"}});
}

TEST_CASE("copies are independent and an empty set has nothing to walk", "[collector][digests]")
{
    Digests a{{"blake3", k_b3}, {"etag", "e"}};
    Digests b = a;
    b.set("etag", "f");
    CHECK(a.at("etag") == "e");
    CHECK(b.at("etag") == "f");
    a = b;
    CHECK(a == b);
    const Digests none;
    CHECK(none.empty());
    CHECK(none.size() == 0);
    CHECK(none.begin() == none.end());
    CHECK(none.find("blake3") == none.end());
}

TEST_CASE("digests go to and come from JSON as an object of strings", "[collector][digests]")
{
    const Digests d{{"blake3", k_b3}, {"etag", "e"}};
    const nlohmann::json j = d;
    CHECK(j == nlohmann::json{{"blake3", k_b3}, {"etag", "e"}});
    CHECK(j.get<Digests>() == d);
    CHECK_THROWS(nlohmann::json::array({1, 2}).get<Digests>());
    CHECK_THROWS(nlohmann::json{{"blake3", 3}}.get<Digests>());
}
