// A job's uses of one direction kept together as one text value (the
// job_uses table, beside job_io's row per use), so reading a session's
// pipeline costs a row per job instead of a row per use. The text lists the
// uses in path-id order, each path once, as "D:A" items joined by ",": D is
// the path id minus the previous item's (the first item's is the path id
// itself), so it is at least 1, and A is the artifact id, 0 when the use
// has none. "" is no use. Both engines build the same text in SQL when a
// store is migrated (sqlite_schema.cpp, postgres_schema.cpp). A job of
// more than k_max_listed_uses uses has no lists (its writer's memory stays
// bounded; a reader takes its rows of job_io, by the index). Internal to
// the store.
#pragma once

#include "roar/collector/store/store.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace roar::collector::store_detail {

// The most uses (inputs and outputs together) a job with use lists has;
// the migrations' SQL says the same number.
inline constexpr size_t k_max_listed_uses = 65536;

// `uses` (in path-id order, each path once) as a use list.
std::string use_list_text(std::span<const ScannedUse> uses);

// Appends the uses `text` lists to `out`. False, with `out` as it was, when
// `text` is not a use list (a malformed item, a path id not above the one
// before it).
bool parse_use_list(std::string_view text, std::vector<ScannedUse>& out);

} // namespace roar::collector::store_detail
