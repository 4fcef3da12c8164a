// Human-facing text helpers: sizes, short digests, durations, and colour
// that appears only on a terminal and never with NO_COLOR or --no-color.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace roar::cli {

// "1.2 MiB", "532 B".
std::string human_size(std::optional<uint64_t> bytes);

// "blake3:1a2b3c4d5e6f" from a hashes map entry (first 12 hex digits).
std::string short_digest(const std::string& algorithm, const std::string& digest);

// "0.42 s", "3 min 2 s".
std::string human_duration(double seconds);

// `command` for one-line listings: an absolute program path is cut to its
// file name ("/root/.pyenv/versions/3.11/bin/python3 train.py" becomes
// "python3 train.py"), escaped for a terminal (collector::escaped_text);
// records and JSON keep the full command.
std::string display_command(const std::string& command);

// Colour control: decided once from the stream, NO_COLOR and --no-color.
void set_color_enabled(bool enabled);
bool color_enabled(int fd);
std::string paint(int fd, const char* sgr, const std::string& text);

inline const char* k_bold = "1";
inline const char* k_dim = "2";
inline const char* k_red = "31";
inline const char* k_green = "32";
inline const char* k_yellow = "33";
inline const char* k_cyan = "36";

} // namespace roar::cli
