// Result and error types shared by the host-side components (collector,
// proxy, cli). Recoverable failures travel as Result<T>; the one fatal
// error type, FatalError, is caught in main() and printed as one line.
#pragma once

#include <fmt/format.h>
#include <stdexcept>
#include <string>
#include <tl/expected.hpp>

namespace roar {

// What went wrong, phrased for the user: what happened and what to do.
struct Error {
    std::string message;
};

template <typename T> using Result = tl::expected<T, Error>;

// Builds the unexpected value of a Result from a fmt format string.
template <typename... Args> tl::unexpected<Error> fail(fmt::format_string<Args...> format, Args&&... args)
{
    return tl::unexpected<Error>(Error{fmt::format(format, std::forward<Args>(args)...)});
}

// Thrown only to end the program; main() prints "roar: <what>" and exits
// with `exit_code`.
class FatalError : public std::runtime_error {
public:
    explicit FatalError(const std::string& what, int exit_code = 1) : std::runtime_error(what), m_exit_code(exit_code)
    { }
    int exit_code() const { return m_exit_code; }

private:
    int m_exit_code;
};

} // namespace roar
