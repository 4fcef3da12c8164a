// Finding the project and opening its pieces.
#include "project.hpp"

#include "text_style.hpp"

#include "roar/collector/byte_text.hpp"
#include "roar/collector/path_resolver.hpp"

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
