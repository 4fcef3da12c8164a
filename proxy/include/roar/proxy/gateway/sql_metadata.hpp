// The SQLite implementation of MetadataStore (sqlite_metadata.cpp holds
// every SQL statement of the gateway, written to run unchanged on
// PostgreSQL too: $N parameters, ON CONFLICT upserts, no RETURNING, quota
// checks as conditional UPDATEs).
#pragma once

#include "roar/proxy/gateway/metadata.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace roar::proxy::gateway {

// The schema (every migration in order) for `engine`: object keys are
// TEXT on SQLite and TEXT COLLATE "C" on PostgreSQL, so both sort bytes.
std::string metadata_schema_sql(MetadataEngine engine);

// Every data statement of the gateway (all but SQLite's own "does the
// schema exist" probe), for the test that prepares each on PostgreSQL.
std::vector<std::string_view> metadata_statements();

// Opens or creates the gateway metadata database at `path` (WAL mode,
// schema created or upgraded).
Result<std::unique_ptr<MetadataStore>> open_sqlite_metadata(const std::filesystem::path& path);

} // namespace roar::proxy::gateway
