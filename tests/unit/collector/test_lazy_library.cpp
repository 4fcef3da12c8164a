// Libraries loaded on first use (lazy_library.hpp): functions resolved
// once, a missing library or function reported in one line naming the
// package, and the error kept for later calls.
#include "roar/collector/lazy_library.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using roar::collector::LazyLibrary;

TEST_CASE("a lazy library resolves every named function when first loaded", "[collector][lazy_library]")
{
    static constexpr const char* names[] = {"strlen", "getpid"};
    static std::atomic<void*> slots[2];
    LazyLibrary libc("libc.so.6", "libc6", names, slots, 2);
    CHECK(slots[0].load() == nullptr);
    REQUIRE(libc.load());
    auto* length = reinterpret_cast<size_t (*)(const char*)>(libc.function(0));
    CHECK(length("roar") == 4);
    CHECK(slots[1].load() != nullptr);
    CHECK(libc.load()); // a second call keeps the first answer
}

TEST_CASE("a library that cannot be loaded names its package, now and on every later call", "[collector][lazy_library]")
{
    static constexpr const char* names[] = {"anything"};
    static std::atomic<void*> slots[1];
    LazyLibrary missing("libroar-not-installed.so.7", "roar-missing", names, slots, 1);
    auto loaded = missing.load();
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().message.find("cannot load libroar-not-installed.so.7") != std::string::npos);
    CHECK(loaded.error().message.find("install the roar-missing package") != std::string::npos);
    CHECK_FALSE(missing.load());
    CHECK_THROWS_AS(missing.function(0), roar::FatalError);
}

TEST_CASE("a library without one of the functions is refused whole", "[collector][lazy_library]")
{
    static constexpr const char* names[] = {"strlen", "roar_no_such_function"};
    static std::atomic<void*> slots[2];
    LazyLibrary old("libc.so.6", "libc6", names, slots, 2);
    auto loaded = old.load();
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().message.find("has no function roar_no_such_function") != std::string::npos);
    CHECK(slots[0].load() == nullptr); // nothing half-resolved
}
