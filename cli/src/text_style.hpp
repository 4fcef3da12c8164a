// Human-facing text helpers: sizes, short digests, durations, and colour
// that appears only on a terminal and never with NO_COLOR or --no-color.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace roar::cli {

// "1.2 MiB", "532 B".
std::string human_size(std::optional<uint64_t> bytes);

// "blake3:1a2b3c4d5e6f" from a hashes map entry (first 12 hex digits).
std::string short_digest(const std::string& algorithm, const std::string& digest);

// "0.42 s", "3 min 2 s".
std::string human_duration(double seconds);

// `text` safe to print on a terminal: every control character (C0, DEL,
// and C1 such as U+009B CSI) is written as an escape (\n, \t, \r,
// \x1b, \u009b), so a file name, command or note recorded from a job can
// neither inject terminal escapes nor forge lines. Every text view (show,
// log, status, dag, the run report, error messages) prints recorded text
// through this; JSON output is left to the JSON encoder.
std::string printable(std::string_view text);
inline std::string printable(const std::string& text) { return printable(std::string_view(text)); }
inline std::string printable(const char* text) { return printable(std::string_view(text)); }

// `doc` with printable() applied to every string in it (keys too), for
// text views that render a JSON record.
nlohmann::json printable(const nlohmann::json& doc);

// `command` for one-line listings (printable): an absolute program path is cut to its
// file name ("/root/.pyenv/versions/3.11/bin/python3 train.py" becomes
// "python3 train.py"), escaped for a terminal (collector::escaped_text);
// records and JSON keep the full command.
std::string display_command(const std::string& command);

// `command` (as display_command gives it) fitted into `width` terminal
// columns by cutting its middle, not its end: the program (and its script
// when there is room) stay at the front and as many whole trailing words
// as fit at the back, "python3 train.py ... --lr=0.03 model_3.pkl", so runs
// that differ in their last arguments still look different. Unchanged when
// it fits; a command of one long word keeps its start and end.
std::string elide_middle(const std::string& command, size_t width);

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
