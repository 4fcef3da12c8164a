// Locating libroar_preload.so, roar-guard and roar-proxy next to the running binary.
#include "roar/collector/install_layout.hpp"

#include <cstdlib>
#include <system_error>

#ifndef ROAR_INSTALL_PREFIX
#define ROAR_INSTALL_PREFIX "/usr"
#endif

namespace fs = std::filesystem;

namespace roar::collector {

fs::path self_exe_dir()
{
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::current_path() : exe.parent_path();
}

namespace {

Result<fs::path> find_first(const char* env_name, const std::vector<fs::path>& candidates, const char* what)
{
    if (const char* value = std::getenv(env_name); value && *value) {
        if (fs::exists(value)) {
            return fs::absolute(value);
        }
        return fail("{} is set to '{}', which does not exist", env_name, value);
    }
    for (const auto& candidate : candidates) {
        std::error_code ec;
        if (fs::exists(candidate, ec)) {
            return fs::weakly_canonical(candidate, ec);
        }
    }
    return fail("cannot find {} (looked in {}); reinstall roar or set {}", what,
                candidates.empty() ? std::string("nowhere") : candidates.front().parent_path().string(), env_name);
}

} // namespace

Result<fs::path> find_preload_library()
{
    const fs::path dir = self_exe_dir();
    return find_first(
        "ROAR_PRELOAD_LIBRARY",
        {dir / "../lib/roar/libroar_preload.so", fs::path(ROAR_INSTALL_PREFIX) / "lib/roar/libroar_preload.so"},
        "libroar_preload.so");
}

Result<fs::path> find_guard_program()
{
    const fs::path dir = self_exe_dir();
    return find_first("ROAR_GUARD_PROGRAM",
                      {dir / "../lib/roar/roar-guard", fs::path(ROAR_INSTALL_PREFIX) / "lib/roar/roar-guard"},
                      "roar-guard");
}

Result<fs::path> find_proxy_binary()
{
    const fs::path dir = self_exe_dir();
    return find_first("ROAR_PROXY_BINARY", {dir / "roar-proxy", fs::path(ROAR_INSTALL_PREFIX) / "bin/roar-proxy"},
                      "roar-proxy");
}

} // namespace roar::collector
