// The progress line: what it says, and that it shows only when enabled
// and only for work that lasts.
#include "roar/collector/progress.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <fcntl.h>
#include <string>
#include <thread>
#include <unistd.h>

using roar::collector::progress_text;
using roar::collector::ProgressLine;

namespace {

// Everything written to the pipe so far (non-blocking read end).
std::string drain(int fd)
{
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        out.append(buf, size_t(n));
    }
    return out;
}

struct Pipe {
    int fds[2] = {-1, -1};
    Pipe() { REQUIRE(pipe2(fds, O_NONBLOCK) == 0); }
    ~Pipe()
    {
        close(fds[0]);
        close(fds[1]);
    }
};

} // namespace

TEST_CASE("progress text: files, bytes, rate and time left", "[collector][progress]")
{
    CHECK(progress_text("roar: recording", 2500, 10000, 0, 2.0) == "roar: recording: 2,500/10,000 files, 6 s left");
    CHECK(progress_text("roar: recording", 1000, 0, 0, 1.0) == "roar: recording: 1,000 files");
    CHECK(progress_text("x", 1, 2, 3 * 1024 * 1024, 1.5) == "x: 1/2 files, 3.0 MiB (2.0 MiB/s), 2 s left");
    CHECK(progress_text("x", 1, 100, 0, 10.0) == "x: 1/100 files, 16 min 30 s left");
    CHECK(progress_text("x", 5, 5, 0, 1.0) == "x: 5/5 files");
    CHECK(progress_text("roar: exporting", 3, 12, 0, 1.0, "jobs") == "roar: exporting: 3/12 jobs, 3 s left");
}

TEST_CASE("the progress line shows only when enabled and the work lasts", "[collector][progress]")
{
    Pipe pipe;
    SECTION("disabled: nothing is written")
    {
        {
            ProgressLine line(false, "work", pipe.fds[1], std::chrono::milliseconds(0));
            CHECK_FALSE(line.enabled());
            line.set_total(10);
            line.add(3);
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        CHECK(drain(pipe.fds[0]).empty());
    }
    SECTION("work that ends before the delay: nothing is written")
    {
        {
            ProgressLine line(true, "work", pipe.fds[1], std::chrono::milliseconds(10000));
            line.add(3);
        }
        CHECK(drain(pipe.fds[0]).empty());
    }
    SECTION("no delay: even work that ends at once draws the line with its final counts, then erases it")
    {
        {
            ProgressLine line(true, "work", pipe.fds[1], std::chrono::milliseconds(0));
            line.set_total(2);
            line.add(2);
        }
        const std::string out = drain(pipe.fds[0]);
        CHECK(out.rfind("\rwork: ", 0) == 0);
        CHECK(out.find("\rwork: 2/2 files\x1b[K\r\x1b[K") != std::string::npos);
        CHECK(out.size() >= 4);
        CHECK(out.substr(out.size() - 4) == "\r\x1b[K");
    }
    SECTION("long work: the line is drawn in place, then erased")
    {
        {
            ProgressLine line(true, "work", pipe.fds[1], std::chrono::milliseconds(0));
            line.set_total(10);
            line.add(4);
            std::this_thread::sleep_for(std::chrono::milliseconds(400)); // a redraw after the counts are set
        }
        const std::string out = drain(pipe.fds[0]);
        CHECK(out.rfind("\rwork: ", 0) == 0);
        CHECK(out.find("/10 files") != std::string::npos);
        CHECK(out.size() >= 4);
        CHECK(out.substr(out.size() - 4) == "\r\x1b[K");
    }
}
