// roar.toml loading: parse errors and every known key's type and range
// checks come back as errors, never as a crash. Input: the file's text.
#include "config.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace {

// Config::load reads a file: one per fuzzing process, rewritten per input,
// removed at exit.
const std::filesystem::path& input_path()
{
    static const std::filesystem::path path = [] {
        auto p = std::filesystem::temp_directory_path() / ("roar-fuzz-toml-" + std::to_string(getpid()) + ".toml");
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove(input_path(), ec);
        });
        return p;
    }();
    return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::filesystem::path& path = input_path();
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    auto config = roar::cli::Config::load(path);
    if (config) {
        (void)config->proxy_upstream.size();
    } else {
        (void)config.error().message.size();
    }
    return 0;
}
