// Raw events as JSON objects: one key per header field, strings as text
// (argv split at NULs).
#include "roar/collector/event_json.hpp"

#include <fmt/format.h>

namespace roar::collector {

std::string op_name(uint16_t op)
{
    switch (op) {
    case ROAR_OP_PROC_START: return "proc_start";
    case ROAR_OP_PROC_EXIT: return "proc_exit";
    case ROAR_OP_EXEC: return "exec";
    case ROAR_OP_EXEC_FAILED: return "exec_failed";
    case ROAR_OP_SPAWN: return "spawn";
    case ROAR_OP_FORK: return "fork";
    case ROAR_OP_WAIT: return "wait";
    case ROAR_OP_NOTE: return "note";
    case ROAR_OP_OPEN: return "open";
    case ROAR_OP_CLOSE: return "close";
    case ROAR_OP_DUP: return "dup";
    case ROAR_OP_CHDIR: return "chdir";
    case ROAR_OP_RENAME: return "rename";
    case ROAR_OP_LINK: return "link";
    case ROAR_OP_SYMLINK: return "symlink";
    case ROAR_OP_UNLINK: return "unlink";
    case ROAR_OP_TRUNCATE: return "truncate";
    case ROAR_OP_WRITE_FD: return "write_fd";
    case ROAR_OP_TRANSFER: return "transfer";
    case ROAR_OP_FD_INHERITED: return "fd_inherited";
    case ROAR_OP_PRE_MODIFY: return "pre_modify";
    case ROAR_OP_READ_FD: return "read_fd";
    case ROAR_OP_MKDIR: return "mkdir";
    case ROAR_OP_S3_GET: return "s3_get";
    case ROAR_OP_S3_PUT: return "s3_put";
    case ROAR_OP_S3_DELETE: return "s3_delete";
    case ROAR_OP_S3_COPY: return "s3_copy";
    case ROAR_OP_S3_MULTIPART_COMPLETE: return "s3_multipart_complete";
    case ROAR_OP_S3_HEAD: return "s3_head";
    case ROAR_OP_S3_LIST_PAGE: return "s3_list_page";
    case ROAR_OP_S3_LISTED: return "s3_listed";
    case ROAR_OP_S3_PART_COPY: return "s3_part_copy";
    default: return fmt::format("op{}", op);
    }
}

nlohmann::json event_to_json(const RawEvent& event)
{
    const roar_event& h = event.header;
    nlohmann::json j = {
        {"index", event.index}, {"op", op_name(h.op)}, {"pid", h.pid},   {"tid", h.tid},       {"fd", h.fd},
        {"fd2", h.fd2},         {"flags", h.flags},    {"mode", h.mode}, {"result", h.result}, {"time_ns", h.time_ns},
    };
    if (event.has_s1) {
        j["s1"] = std::string(event.s1);
    }
    if (event.has_s2) {
        j["s2"] = std::string(event.s2);
    }
    if (event.has_s3) {
        if (h.op == ROAR_OP_PROC_START || h.op == ROAR_OP_EXEC || h.op == ROAR_OP_SPAWN) {
            j["argv"] = split_argv(event.s3);
        } else {
            j["s3"] = std::string(event.s3);
        }
    }
    return j;
}

} // namespace roar::collector
