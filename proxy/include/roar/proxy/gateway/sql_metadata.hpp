// MetadataStore on the store layer's engines: SQLite (one gateway) or a
// shared PostgreSQL (several gateways on one metadata). sql_metadata.cpp
// holds every SQL statement of the gateway, one text for both engines
// (?N parameters, ON CONFLICT upserts, no RETURNING, quota checks as
// conditional UPDATEs in write transactions).
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

// Every data statement of the gateway (all but the "does the schema
// exist" probe, which has one text per engine), placeholders written ?N,
// for the test that prepares each on PostgreSQL.
std::vector<std::string_view> metadata_statements();

// Opens or creates the gateway metadata database at `path` (WAL mode,
// schema created or upgraded).
Result<std::unique_ptr<MetadataStore>> open_sqlite_metadata(const std::filesystem::path& path);

// Opens the gateway metadata in schema `schema` of the PostgreSQL database
// at `url` (the schema and tables created or upgraded when missing), which
// other gateways may share.
Result<std::unique_ptr<MetadataStore>> open_postgres_metadata(const std::string& url, const std::string& schema);

} // namespace roar::proxy::gateway
