// Finding the project and opening its pieces.
#include "project.hpp"

#include "text_style.hpp"

#include "roar/collector/byte_text.hpp"
#include "roar/collector/path_resolver.hpp"

#include "roar/collector/store/postgres_engine.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

namespace fs = std::filesystem;

namespace roar::cli {

Project Project::find(const fs::path& start)
{
    std::error_code ec;
    for (fs::path dir = fs::absolute(start, ec); !dir.empty(); dir = dir.parent_path()) {
        if (fs::is_directory(dir / ".roar", ec)) {
            auto config = Config::load(dir / "roar.toml");
            if (!config) {
                throw FatalError(config.error().message);
            }
            return Project(dir, std::move(*config));
        }
        if (dir == dir.root_path()) {
            break;
        }
    }
    throw FatalError("no roar project here or in any parent directory (run 'roar init' first)");
}

collector::Redactor Project::redactor() const
{
    auto redactor = collector::Redactor::create(m_config.redact_extra_patterns);
    if (!redactor) {
        throw FatalError(redactor.error().message);
    }
    return std::move(*redactor);
}

std::string Project::default_project_name(const fs::path& dir)
{
    std::string name;
    for (const char c : dir.filename().string()) {
        if (name.size() == 48) {
            break;
        }
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            name += c;
        } else if (c >= 'A' && c <= 'Z') {
            name += char(c - 'A' + 'a');
        } else {
            name += '_';
        }
    }
    return name.empty() ? "project" : name;
}

collector::StoreLocation Project::store_location() const
{
    collector::StoreLocation where{db_path(), {}, {}, {}};
    const char* env = std::getenv("ROAR_STORE_URL");
    where.url = env && *env ? env : m_config.store_url;
    if (where.url.empty()) {
        return where;
    }
    if (!collector::is_postgres_url(where.url)) {
        throw FatalError(fmt::format("{} is not a store roar can use (expected postgresql://USER@HOST:PORT/DB)",
                                     collector::redact_store_url(where.url)));
    }
    where.project = m_config.store_project.empty() ? default_project_name(m_root) : m_config.store_project;
    where.local_cache = roar_dir() / "hash_cache.db";
    std::error_code ec;
    if (fs::exists(pgpass_path(), ec)) {
        where.passfile = pgpass_path();
    }
    return where;
}

collector::Store Project::open_store(collector::Access access, bool import_saved) const
{
    auto store = collector::Store::open(store_location(), access);
    if (!store) {
        throw FatalError(store.error().message);
    }
    if (access == collector::Access::write && import_saved) {
        for (const auto& line : collector::import_pending_recovery_files(*store, recovery_places(), redactor())) {
            std::cerr << "roar: " << printable(line) << "\n";
        }
    }
    return std::move(*store);
}

std::string Project::shown_path(const std::string& path) const { return printable(display_path(path)); }

std::string Project::display_path(const std::string& path) const
{
    const std::string root = m_root.string();
    if (collector::path_is_within(path, root) && path.size() > root.size()) {
        return collector::escaped_text(std::string_view(path).substr(root.size() + 1));
    }
    return collector::escaped_text(path);
}

} // namespace roar::cli
