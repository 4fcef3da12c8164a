// `roar init`: creates .roar/ with an empty database and a commented
// roar.toml in the current directory.
#include "commands.hpp"

#include "config.hpp"

#include "roar/collector/store/store.hpp"
#include "roar/collector/result.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>

namespace fs = std::filesystem;

namespace roar::cli {

int cmd_init(bool /*force_here*/)
{
    const fs::path root = fs::current_path();
    const fs::path dir = root / ".roar";
    const fs::path db = dir / "roar.db";
    std::error_code ec;
    if (fs::exists(db, ec)) {
        fmt::print("roar: {} is already a roar project (nothing changed)\n", root.string());
        return 0;
    }
    fs::create_directories(dir, ec);
    if (ec) {
        throw FatalError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    }
    auto created = collector::Store::create({db});
    if (!created) {
        throw FatalError(created.error().message);
    }
    {
        std::ofstream ignore(dir / ".gitignore");
        ignore << "# roar's own data: the lineage database and its journal\n*\n";
    }
    const fs::path config = root / "roar.toml";
    if (!fs::exists(config, ec)) {
        std::ofstream out(config);
        out << default_config_text();
        if (!out) {
            throw FatalError(fmt::format("cannot write {}", config.string()));
        }
    }
    fmt::print("Initialized roar project in {} (database .roar/roar.db, settings roar.toml)\n", root.string());
    return 0;
}

} // namespace roar::cli
