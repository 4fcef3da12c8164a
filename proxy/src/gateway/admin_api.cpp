// The admin API's routes, authentication and JSON (see admin_api.hpp).
#include "roar/proxy/gateway/admin_api.hpp"

#include "roar/proxy/gateway/bucket_policy.hpp"
#include "roar/proxy/gateway/tenant_keys.hpp"

#include "encoding.hpp"

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <algorithm>
#include <vector>

namespace roar::proxy::gateway {

using nlohmann::json;

namespace {

AdminResponse error(unsigned status, std::string_view code, std::string_view message)
{
    return {status, json{{"error", {{"code", code}, {"message", message}}}}.dump() + "\n"};
}

AdminResponse ok(unsigned status, const json& body) { return {status, body.dump() + "\n"}; }

AdminResponse internal(const Error& e) { return error(500, "InternalError", e.message); }

std::vector<std::string_view> split_path(std::string_view path)
{
    std::vector<std::string_view> parts;
    while (!path.empty()) {
        const auto slash = path.find('/');
        const auto part = path.substr(0, slash);
        if (!part.empty()) {
            parts.push_back(part);
        }
        if (slash == std::string_view::npos) {
            break;
        }
        path.remove_prefix(slash + 1);
    }
    return parts;
}

json tenant_json(const TenantRecord& t)
{
    return {{"name", t.name}, {"disabled", t.disabled}, {"created_at", iso8601_utc(t.created_at)}};
}

json key_json(const KeyRecord& k, Millis now)
{
    json j{{"access_key", k.access_key},
           {"tenant", k.tenant},
           {"state", k.state == KeyState::active && !(k.expires_at && *k.expires_at <= now) ? "active" : "revoked"},
           {"created_at", iso8601_utc(k.created_at)}};
    if (k.expires_at) {
        j["expires_at"] = iso8601_utc(*k.expires_at);
    }
    return j;
}

json policy_json(const BucketPolicy& p, const std::optional<StoredPolicy>& stored)
{
    json overrides = json::object();
    if (stored) {
        if (stored->replicas) {
            overrides["replicas"] = *stored->replicas;
        }
        if (stored->placement) {
            overrides["placement"] = placement_name(*stored->placement);
        }
        if (stored->residencies) {
            overrides["residencies"] = *stored->residencies;
        }
    }
    return {{"tenant", p.bucket.tenant},
            {"bucket", p.bucket.bucket},
            {"namespace", p.mode == NamespaceMode::direct ? "direct" : "hashed"},
            {"backend_bucket", p.backend_bucket},
            {"replicas", p.replicas},
            {"placement", placement_name(p.placement)},
            {"residencies", p.residencies},
            {"backends", p.backends},
            {"refused_backends", p.refused},
            {"overrides", overrides}};
}

} // namespace

bool is_admin_path(std::string_view path)
{
    return path.substr(0, k_admin_prefix.size()) == k_admin_prefix || path == k_admin_prefix.substr(0, 12);
}

AdminApi::AdminApi(const GatewayConfig& config, MetadataStore& store, const SecretBox* box)
    : m_config(config), m_store(store), m_box(box)
{ }

AdminResponse AdminApi::handle(const AdminRequest& request, Millis now)
{
    if (!m_config.admin.enabled || !m_box) {
        return error(403, "AdminDisabled", "the admin API is off: configure [admin] token_env in the gateway file");
    }
    constexpr std::string_view k_bearer = "Bearer ";
    const std::string_view auth = request.authorization;
    if (auth.substr(0, k_bearer.size()) != k_bearer) {
        return error(401, "MissingToken", "send the admin token as 'Authorization: Bearer TOKEN'");
    }
    const std::string_view token = auth.substr(k_bearer.size());
    const std::string& want = m_config.admin.token;
    if (token.size() != want.size() || CRYPTO_memcmp(token.data(), want.data(), want.size()) != 0) {
        return error(403, "InvalidToken", "the admin token is not valid");
    }

    const auto parts =
        split_path(std::string_view(request.path).substr(std::min(request.path.size(), k_admin_prefix.size())));
    const std::string& m = request.method;
    json body;
    if (!request.body.empty()) {
        body = json::parse(request.body, nullptr, false);
        if (body.is_discarded() || !body.is_object()) {
            return error(400, "MalformedJSON", "the request body is not a JSON object");
        }
    }
    auto method_not_allowed = [&] { return error(405, "MethodNotAllowed", m + " is not allowed on " + request.path); };

    // tenants
    if (parts.size() == 1 && parts[0] == "tenants") {
        if (m == "GET") {
            auto tenants = m_store.list_tenants();
            if (!tenants) {
                return internal(tenants.error());
            }
            json list = json::array();
            for (const auto& t : *tenants) {
                list.push_back(tenant_json(t));
            }
            return ok(200, {{"tenants", list}});
        }
        if (m == "POST") {
            const auto name = body.value("name", std::string());
            if (!valid_tenant_name(name)) {
                return error(400, "InvalidTenantName", "\"name\" must be 1-63 characters of a-z, 0-9, '-' and '_'");
            }
            auto created = m_store.create_tenant(name, now);
            if (!created) {
                return internal(created.error());
            }
            if (!*created) {
                return error(409, "TenantExists", "tenant " + name + " already exists");
            }
            return ok(201, tenant_json({name, false, now}));
        }
        return method_not_allowed();
    }
    if (parts.size() >= 2 && parts[0] == "tenants") {
        const std::string tenant(parts[1]);
        auto found = m_store.find_tenant(tenant);
        if (!found) {
            return internal(found.error());
        }
        if (!*found) {
            return error(404, "NoSuchTenant", "there is no tenant " + tenant);
        }
        if (parts.size() == 2) {
            if (m != "GET") {
                return method_not_allowed();
            }
            auto keys = m_store.list_keys(tenant);
            if (!keys) {
                return internal(keys.error());
            }
            json j = tenant_json(**found);
            j["keys"] = json::array();
            for (const auto& k : *keys) {
                j["keys"].push_back(key_json(k, now));
            }
            return ok(200, j);
        }
        if (parts.size() == 3 && (parts[2] == "disable" || parts[2] == "enable")) {
            if (m != "POST") {
                return method_not_allowed();
            }
            const bool disabled = parts[2] == "disable";
            auto set = m_store.set_tenant_disabled(tenant, disabled);
            if (!set) {
                return internal(set.error());
            }
            return ok(200, tenant_json({tenant, disabled, (*found)->created_at}));
        }
        if (parts.size() == 3 && parts[2] == "keys") {
            if (m == "GET") {
                auto keys = m_store.list_keys(tenant);
                if (!keys) {
                    return internal(keys.error());
                }
                json list = json::array();
                for (const auto& k : *keys) {
                    list.push_back(key_json(k, now));
                }
                return ok(200, {{"keys", list}});
            }
            if (m == "POST") {
                auto pair = issue_key(m_store, *m_box, tenant, now);
                if (!pair) {
                    return internal(pair.error());
                }
                return ok(201,
                          {{"tenant", tenant}, {"access_key", pair->access_key}, {"secret_key", pair->secret_key}});
            }
            return method_not_allowed();
        }
        if (parts.size() == 5 && parts[2] == "buckets" && parts[4] == "policy") {
            const BucketRef ref{tenant, std::string(parts[3])};
            if (!valid_bucket_name(ref.bucket)) {
                return error(400, "InvalidBucketName", ref.bucket + " is not a valid S3 bucket name");
            }
            auto stored = m_store.find_bucket_policy(ref);
            if (!stored) {
                return internal(stored.error());
            }
            if (m == "GET") {
                auto policy = resolve_bucket_policy(m_config, ref, *stored);
                if (!policy) {
                    return error(409, "PolicyUnsatisfiable", policy.error().message);
                }
                return ok(200, policy_json(*policy, *stored));
            }
            if (m != "PUT") {
                return method_not_allowed();
            }
            StoredPolicy next = stored->value_or(StoredPolicy{});
            next.updated_at = now;
            for (const auto& [name, value] : body.items()) {
                if (name == "replicas") {
                    if (value.is_null()) {
                        next.replicas.reset();
                    } else if (value.is_number_unsigned() && value.get<std::uint64_t>() >= 1
                               && value.get<std::uint64_t>() <= 16) {
                        next.replicas = value.get<unsigned>();
                    } else {
                        return error(400, "InvalidPolicy", "\"replicas\" must be an integer from 1 to 16, or null");
                    }
                } else if (name == "placement") {
                    if (value.is_null()) {
                        next.placement.reset();
                    } else if (value.is_string() && parse_placement(value.get<std::string>())) {
                        next.placement = parse_placement(value.get<std::string>());
                    } else {
                        return error(400, "InvalidPolicy", "\"placement\" must be \"first-fit\" or \"most-free\"");
                    }
                } else if (name == "residencies") {
                    if (value.is_null()) {
                        next.residencies.reset();
                        continue;
                    }
                    std::vector<std::string> patterns;
                    const bool valid = value.is_array() && std::all_of(value.begin(), value.end(), [&](const json& p) {
                                           if (!p.is_string() || p.get<std::string>().empty()) {
                                               return false;
                                           }
                                           patterns.push_back(p.get<std::string>());
                                           return true;
                                       });
                    if (!valid) {
                        return error(400, "InvalidPolicy", "\"residencies\" must be a list of non-empty patterns");
                    }
                    next.residencies = std::move(patterns);
                } else {
                    return error(400, "InvalidPolicy",
                                 "unknown policy field \"" + name + "\"; valid: replicas, placement, residencies");
                }
            }
            auto before = resolve_bucket_policy(m_config, ref, *stored);
            auto after = resolve_bucket_policy(m_config, ref, next);
            if (!after) {
                return error(400, "PolicyUnsatisfiable", after.error().message);
            }
            if (auto set = m_store.set_bucket_policy(ref, next); !set) {
                return internal(set.error());
            }
            json j = policy_json(*after, next);
            if (!before || after->replicas > before->replicas) {
                auto queued = m_store.enqueue_replication(ref, now);
                if (!queued) {
                    return internal(queued.error());
                }
                j["replication_jobs_queued"] = *queued;
            }
            return ok(200, j);
        }
        return error(404, "NoSuchRoute", "no admin route " + m + " " + request.path);
    }
    // keys
    if (parts.size() >= 2 && parts[0] == "keys") {
        const std::string access_key(parts[1]);
        auto key = m_store.find_key(access_key);
        if (!key) {
            return internal(key.error());
        }
        if (!*key) {
            return error(404, "NoSuchKey", "there is no access key " + access_key);
        }
        const bool revoke =
            (parts.size() == 3 && parts[2] == "revoke" && m == "POST") || (parts.size() == 2 && m == "DELETE");
        if (revoke) {
            auto revoked = m_store.revoke_key(access_key, now);
            if (!revoked) {
                return internal(revoked.error());
            }
            if (!*revoked) {
                return error(409, "KeyNotActive", "access key " + access_key + " is already revoked");
            }
            KeyRecord k = **key;
            k.state = KeyState::revoked;
            return ok(200, key_json(k, now));
        }
        if (parts.size() == 3 && parts[2] == "rotate") {
            if (m != "POST") {
                return method_not_allowed();
            }
            if ((*key)->state != KeyState::active) {
                return error(409, "KeyNotActive", "access key " + access_key + " is revoked; create a new key instead");
            }
            std::uint64_t grace = 0;
            if (body.contains("grace_seconds")) {
                const auto& g = body["grace_seconds"];
                if (!g.is_number_unsigned() || g.get<std::uint64_t>() > 30ull * 24 * 3600) {
                    return error(400, "InvalidGrace", "\"grace_seconds\" must be an integer from 0 to 2592000");
                }
                grace = g.get<std::uint64_t>();
            }
            auto pair = issue_key(m_store, *m_box, (*key)->tenant, now);
            if (!pair) {
                return internal(pair.error());
            }
            auto old = grace == 0 ? m_store.revoke_key(access_key, now)
                                  : m_store.expire_key(access_key, now + static_cast<Millis>(grace) * 1000);
            if (!old) {
                return internal(old.error());
            }
            return ok(201, {{"tenant", (*key)->tenant},
                            {"access_key", pair->access_key},
                            {"secret_key", pair->secret_key},
                            {"replaces", access_key},
                            {"old_key_valid_until", iso8601_utc(now + static_cast<Millis>(grace) * 1000)}});
        }
        if (parts.size() == 2 && m == "GET") {
            return ok(200, key_json(**key, now));
        }
        return error(404, "NoSuchRoute", "no admin route " + m + " " + request.path);
    }
    if (parts.size() == 1 && parts[0] == "backends") {
        if (m != "GET") {
            return method_not_allowed();
        }
        auto usage = m_store.backend_usage();
        if (!usage) {
            return internal(usage.error());
        }
        json list = json::array();
        for (const auto& u : *usage) {
            json j{{"name", u.name},
                   {"used_bytes", u.used_bytes},
                   {"reserved_bytes", u.reserved_bytes},
                   {"objects", u.objects},
                   {"active_uploads", u.active_uploads}};
            j["quota_bytes"] = u.quota_bytes ? json(*u.quota_bytes) : json(nullptr);
            j["available_bytes"] = u.available() ? json(*u.available()) : json(nullptr);
            if (const BackendConfig* b = m_config.backend(u.name)) {
                j["residency"] = b->residency;
            }
            list.push_back(std::move(j));
        }
        return ok(200, {{"backends", list}});
    }
    if (parts.size() == 1 && parts[0] == "jobs") {
        if (m != "GET") {
            return method_not_allowed();
        }
        auto backlog = m_store.job_backlog();
        if (!backlog) {
            return internal(backlog.error());
        }
        json list = json::array();
        for (const auto& c : *backlog) {
            list.push_back({{"kind", c.kind == JobKind::replicate ? "replicate" : "remove"},
                            {"state", c.state},
                            {"count", c.count},
                            {"oldest", iso8601_utc(c.oldest)}});
        }
        return ok(200, {{"jobs", list}});
    }
    return error(404, "NoSuchRoute", "no admin route " + m + " " + request.path);
}

} // namespace roar::proxy::gateway
