// The admin API under /_roar/admin/, as a pure request -> response step
// over the metadata store (the server only moves bytes). Every call needs
// `Authorization: Bearer <admin token>` (the configuration's [admin]
// token_env / token_file; compared in constant time); without [admin] in
// the configuration every call is refused. Bodies are JSON both ways.
//
//   GET    /_roar/admin/tenants                              list tenants
//   POST   /_roar/admin/tenants            {"name": "t"}     create a tenant (201)
//   GET    /_roar/admin/tenants/T                            one tenant, with its keys (no secrets)
//   POST   /_roar/admin/tenants/T/disable | /enable          disable or enable a tenant
//   GET    /_roar/admin/tenants/T/keys                       its keys (no secrets)
//   POST   /_roar/admin/tenants/T/keys                       a new key: the only response with its secret (201)
//   POST   /_roar/admin/keys/AK/rotate     {"grace_seconds": N}
//                                                            a new key for AK's tenant (201); AK is revoked now,
//                                                            or stays valid N more seconds
//   POST   /_roar/admin/keys/AK/revoke   (or DELETE /_roar/admin/keys/AK)
//   GET    /_roar/admin/tenants/T/buckets/B/policy           the effective policy and the stored overrides
//   PUT    /_roar/admin/tenants/T/buckets/B/policy
//          {"replicas": 2, "placement": "most-free", "residencies": ["eu-*"]}
//                                                            set overrides (null removes one); more replicas
//                                                            queue replication of the bucket's objects
//   GET    /_roar/admin/backends                             quota counters per backend
//   GET    /_roar/admin/jobs                                 the job queue's backlog
//
// Errors: {"error": {"code": "...", "message": "..."}} with 400, 401, 403,
// 404, 405, 409 or 500.
#pragma once

#include "roar/proxy/gateway/config.hpp"
#include "roar/proxy/gateway/metadata.hpp"
#include "roar/proxy/gateway/secret_box.hpp"

#include <string>
#include <string_view>

namespace roar::proxy::gateway {

inline constexpr std::string_view k_admin_prefix = "/_roar/admin/";

struct AdminRequest {
    std::string method;
    std::string path;          // the decoded request path, starting with /_roar/admin/
    std::string authorization; // the Authorization header's value
    std::string body;
};

struct AdminResponse {
    unsigned status = 200;
    std::string body; // JSON
};

// Whether request path `path` belongs to the admin API.
bool is_admin_path(std::string_view path);

class AdminApi {
public:
    // Serves the API over `store` for `config`; `box` seals new secrets (may
    // be null only when the configuration has no [admin]).
    AdminApi(const GatewayConfig& config, MetadataStore& store, const SecretBox* box);

    // Answers `request` at time `now`.
    AdminResponse handle(const AdminRequest& request, Millis now);

private:
    const GatewayConfig& m_config;
    MetadataStore& m_store;
    const SecretBox* m_box;
};

} // namespace roar::proxy::gateway
