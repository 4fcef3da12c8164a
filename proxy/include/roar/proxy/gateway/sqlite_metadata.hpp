// The SQLite implementation of MetadataStore (sqlite_metadata.cpp holds
// every SQL statement of the gateway, written to run unchanged on
// PostgreSQL too: $N parameters, ON CONFLICT upserts, no RETURNING, quota
// checks as conditional UPDATEs).
#pragma once

#include "roar/proxy/gateway/metadata.hpp"

#include <filesystem>
#include <memory>

namespace roar::proxy::gateway {

// Opens or creates the gateway metadata database at `path` (WAL mode,
// schema created or upgraded).
Result<std::unique_ptr<MetadataStore>> open_sqlite_metadata(const std::filesystem::path& path);

} // namespace roar::proxy::gateway
