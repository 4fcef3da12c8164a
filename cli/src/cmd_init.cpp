// `roar init`: creates .roar/ with an empty database and a commented
// roar.toml in the current directory.
#include "commands.hpp"

#include "config.hpp"

#include "roar/collector/store/store.hpp"
#include "roar/collector/result.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iterator>
#include <optional>

namespace fs = std::filesystem;

namespace roar::cli {

int cmd_init(std::optional<bool> gitignore)
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
    // .roar/ holds its own .gitignore; -y also lists it in the project's.
    if (gitignore.value_or(false)) {
        const fs::path project_ignore = root / ".gitignore";
        std::string text;
        {
            std::ifstream in(project_ignore);
            text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        }
        if (text.find(".roar/") == std::string::npos) {
            std::ofstream out(project_ignore, std::ios::app);
            out << (text.empty() || text.back() == '\n' ? "" : "\n") << ".roar/\n";
            if (!out) {
                throw FatalError(fmt::format("cannot write {}", project_ignore.string()));
            }
            fmt::print("Added .roar/ to .gitignore\n");
        }
    }
    return 0;
}

} // namespace roar::cli
