// `roar import FILE...` and `roar store sync`: store job records that were
// saved to recovery files because storing them failed (disk full, database
// gone, server down). A record already in the store is not stored twice;
// each imported file is removed.
#include "commands.hpp"

#include "project.hpp"

#include "roar/collector/store/recovery.hpp"

#include <fmt/format.h>

#include <iostream>

namespace roar::cli {

int cmd_import(const std::vector<std::string>& files)
{
    Project project = Project::find();
    // The named files first: the automatic import would take them too.
    collector::Store store = project.open_store(collector::Access::write, false);
    int failed = 0;
    for (const auto& file : files) {
        auto imported = collector::import_recovery_file(store, file, project.redactor());
        if (!imported) {
            std::cerr << "roar: " << imported.error().message << "\n";
            ++failed;
        } else if (imported->row) {
            std::cout << fmt::format("Stored job {} from {}.\n", imported->uid, file);
        } else {
            std::cout << fmt::format("Job {} is recorded already; removed {}.\n", imported->uid, file);
        }
    }
    return failed ? 1 : 0;
}

int cmd_store_sync()
{
    Project project = Project::find();
    collector::Store store = project.open_store(collector::Access::write, false);
    int waiting = 0;
    for (const auto& line : collector::import_pending_recovery_files(store, project.recovery_places())) {
        std::cout << "roar: " << line << "\n";
        waiting += line.starts_with("could not") ? 1 : 0;
    }
    std::cout << fmt::format("{} is up to date{}.\n", store.describe(),
                             waiting ? fmt::format(" except {} record(s) that could not be stored", waiting) : "");
    return waiting ? 1 : 0;
}

} // namespace roar::cli
