// Reading a tracee's strings with process_vm_readv (the tracer's
// tracee_memory.cpp), tried on this very process: a path that ends just
// before an unmapped page is still read whole, long strings are cut at the
// bound and say so, and argv arrays are gathered within their budget.
#include "tracee_memory.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

using namespace roar::collector::tracer;

namespace {

// Two pages with the second unmapped: text placed to end at the boundary.
struct EdgeOfMapping {
    char* base = nullptr;
    size_t page = size_t(sysconf(_SC_PAGESIZE));
    EdgeOfMapping()
    {
        base = static_cast<char*>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        REQUIRE(base != MAP_FAILED);
        munmap(base + page, page);
    }
    ~EdgeOfMapping() { munmap(base, page); }
    // Copies `text` with its NUL so that the NUL is the page's last byte.
    uint64_t place(const std::string& text)
    {
        char* at = base + page - text.size() - 1;
        std::memcpy(at, text.c_str(), text.size() + 1);
        return reinterpret_cast<uint64_t>(at);
    }
};

} // namespace

TEST_CASE("a path ending right before an unmapped page is read whole", "[collector][tracer][memory]")
{
    EdgeOfMapping m;
    const std::string path = "/data/run_7/metrics.json";
    std::string got;
    bool cut = true;
    REQUIRE(read_string(getpid(), m.place(path), 4095, got, cut));
    CHECK(got == path);
    CHECK_FALSE(cut);
}

TEST_CASE("a string longer than the bound is cut and flagged", "[collector][tracer][memory]")
{
    const std::string longer(10000, 'p');
    std::string got;
    bool cut = false;
    REQUIRE(read_string(getpid(), reinterpret_cast<uint64_t>(longer.c_str()), 4095, got, cut));
    CHECK(got.size() == 4095);
    CHECK(cut);
}

TEST_CASE("an unreadable address reads nothing", "[collector][tracer][memory]")
{
    std::string got;
    bool cut = false;
    CHECK_FALSE(read_string(getpid(), 0, 4095, got, cut));
    CHECK_FALSE(read_string(getpid(), 16, 4095, got, cut)); // the zero page is never mapped
    CHECK(got.empty());
}

TEST_CASE("argv is gathered up to its NULL, within a byte budget", "[collector][tracer][memory]")
{
    const char* argv[] = {"rclone", "copy", "src", "dst", nullptr};
    bool cut = true;
    auto got = read_argv(getpid(), reinterpret_cast<uint64_t>(argv), 32768, cut);
    CHECK(got == std::vector<std::string>{"rclone", "copy", "src", "dst"});
    CHECK_FALSE(cut);
    got = read_argv(getpid(), reinterpret_cast<uint64_t>(argv), 10, cut);
    CHECK(cut);
    CHECK(got.size() < 4);
}

TEST_CASE("bytes round-trip through write_bytes and read_bytes", "[collector][tracer][memory]")
{
    uint64_t flags = 0x800000ull | 0x11;
    const uint64_t cleared = 0x11;
    REQUIRE(write_bytes(getpid(), reinterpret_cast<uint64_t>(&flags), &cleared, sizeof cleared));
    uint64_t back = 0;
    REQUIRE(read_bytes(getpid(), reinterpret_cast<uint64_t>(&flags), &back, sizeof back));
    CHECK(back == 0x11);
}
