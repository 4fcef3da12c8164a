// `roar init`: creates .roar/ and a commented roar.toml in the current
// directory, with the lineage in .roar/roar.db, or, with `--store URL` (or
// ROAR_STORE_URL), in a project on a shared PostgreSQL server: a new one,
// or with `--join NAME` the project NAME, created by the first checkout
// that names it. A password in the URL goes to .roar/pgpass (this user
// only), never to roar.toml or the screen.
#include "commands.hpp"

#include "config.hpp"
#include "project.hpp"

#include "roar/collector/result.hpp"
#include "roar/collector/store/postgres_engine.hpp"
#include "roar/collector/store/store.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iterator>
#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace roar::cli {

namespace {

void write_ignore_file(const fs::path& dir)
{
    std::ofstream ignore(dir / ".gitignore");
    ignore << "# roar's own data: the lineage database and its journal\n*\n";
}

void write_config(const fs::path& config)
{
    std::error_code ec;
    if (!fs::exists(config, ec)) {
        std::ofstream out(config);
        out << default_config_text();
        if (!out) {
            throw FatalError(fmt::format("cannot write {}", config.string()));
        }
    }
}

// A pgpass line matching any server: the file belongs to this project.
std::string pgpass_line(const std::string& password)
{
    std::string escaped;
    for (const char c : password) {
        if (c == ':' || c == '\\') {
            escaped += '\\';
        }
        escaped += c;
    }
    return "*:*:*:*:" + escaped + "\n";
}

void write_private_file(const fs::path& file, const std::string& text)
{
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ::write(fd, text.data(), text.size()) != ssize_t(text.size())) {
        if (fd >= 0) {
            ::close(fd);
        }
        throw FatalError(fmt::format("cannot write {}", file.string()));
    }
    ::fchmod(fd, 0600);
    ::close(fd);
}

int init_shared(const fs::path& root, const std::string& given_url, const std::string& join)
{
    const fs::path dir = root / ".roar";
    const std::string shown = collector::redact_store_url(given_url);
    if (!collector::is_postgres_url(given_url)) {
        throw FatalError(
            fmt::format("{} is not a store roar can use (expected postgresql://USER@HOST:PORT/DB)", shown));
    }
    const std::string name = join.empty() ? Project::default_project_name(root) : join;
    if (auto schema = collector::postgres_schema_for(name); !schema) {
        throw FatalError(schema.error().message + (join.empty() ? " (name it with --join NAME)" : ""));
    }
    auto exists = collector::PostgresEngine::project_exists(given_url, name);
    if (!exists) {
        throw FatalError(exists.error().message);
    }
    if (*exists && join.empty()) {
        throw FatalError(fmt::format("the store {} already has a project '{}': 'roar init --store URL --join {}' "
                                     "attaches this checkout to it, or name a new one with --join NEW_NAME",
                                     shown, name, name));
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        throw FatalError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    }
    const collector::SplitStoreUrl split = collector::split_store_url_password(given_url);
    collector::StoreLocation where{dir / "roar.db", given_url, name, dir / "hash_cache.db", {}};
    auto created = collector::Store::create(where);
    if (!created) {
        throw FatalError(created.error().message);
    }
    write_ignore_file(dir);
    if (!split.password.empty()) {
        write_private_file(dir / "pgpass", pgpass_line(split.password));
    }
    const fs::path config = root / "roar.toml";
    write_config(config);
    for (const auto& [key, value] : {std::pair<const char*, std::string>{"store.url", split.url},
                                     std::pair<const char*, std::string>{"store.project", name}}) {
        if (auto set = config_set(config, key, value); !set) {
            throw FatalError(set.error().message);
        }
    }
    fmt::print("Initialized roar project in {} ({} project '{}' in the store {}{}, settings roar.toml)\n",
               root.string(), *exists ? "joined" : "created", name, split.url,
               split.password.empty() ? "" : "; its password is in .roar/pgpass");
    return 0;
}

} // namespace

int cmd_init(const InitOptions& options)
{
    const fs::path root = fs::current_path();
    const fs::path dir = root / ".roar";
    const fs::path db = dir / "roar.db";
    std::error_code ec;
    auto existing = Config::load(root / "roar.toml");
    if (fs::exists(db, ec) || (fs::exists(dir, ec) && existing && !existing->store_url.empty())) {
        fmt::print("roar: {} is already a roar project (nothing changed)\n", root.string());
        return 0;
    }
    std::string url = options.store;
    if (url.empty()) {
        const char* env = std::getenv("ROAR_STORE_URL");
        url = env ? env : "";
    }
    if (!url.empty()) {
        return init_shared(root, url, options.join);
    }
    if (!options.join.empty()) {
        throw FatalError("--join NAME names a project in a shared store: give the store with --store URL");
    }
    fs::create_directories(dir, ec);
    if (ec) {
        throw FatalError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    }
    auto created = collector::Store::create({db});
    if (!created) {
        throw FatalError(created.error().message);
    }
    write_ignore_file(dir);
    write_config(root / "roar.toml");
    fmt::print("Initialized roar project in {} (database .roar/roar.db, settings roar.toml)\n", root.string());
    // .roar/ holds its own .gitignore; -y also lists it in the project's.
    if (options.gitignore.value_or(false)) {
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
