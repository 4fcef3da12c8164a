// The gateway's metadata model and every operation on it, as one abstract
// interface (MetadataStore) so the engine behind it can change without
// touching its callers. What it holds:
//   - objects: (tenant, bucket, key) -> version id, size, ETag, BLAKE3 when
//     known, and the backend copies (backend, backend bucket, backend key);
//   - quota counters per backend: used bytes (everything physically on the
//     backend, including copies waiting to be deleted) and reserved bytes
//     (uploads in flight, multipart parts);
//   - multipart uploads pinned to one backend, and their parts; a completed
//     upload's object keeps its parts' numbers and sizes;
//   - tenants, their access keys (secrets sealed, see secret_box.hpp), bucket
//     policies and the namespace (backend bucket) of each tenant bucket;
//   - a durable job queue: replication copies and deletions of copies.
// Invariants every implementation keeps:
//   - a reservation succeeds only if used + reserved + bytes <= quota at
//     that instant, checked and applied by one conditional UPDATE, so
//     concurrent gateways on one database never over-allocate;
//   - an object row, its copy rows and the quota counters change in one
//     transaction (commit_object, complete_upload, add_copy, move_copy,
//     import_object); deleting or replacing an object queues a deletion job
//     per copy in that same transaction, and the copy's bytes stay counted
//     until the job has removed it from the backend;
//   - a job is run by one worker at a time (a lease taken by a conditional
//     UPDATE; an expired lease is taken over), and a job finished by a
//     worker that lost its lease changes nothing.
// Times are milliseconds since the Unix epoch, passed in by the caller.
#pragma once

#include "roar/collector/result.hpp"
#include "roar/proxy/gateway/config.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roar::proxy::gateway {

using Millis = std::int64_t;

struct BucketRef {
    std::string tenant;
    std::string bucket;
    bool operator==(const BucketRef&) const = default;
};

// Where one copy of an object lives.
struct Location {
    std::string backend;
    std::string bucket; // the backend bucket
    std::string key;    // the backend key
    bool operator==(const Location&) const = default;
};

struct ObjectRecord {
    std::string id; // version id: a new one for every write of the key
    BucketRef bucket;
    std::string key;
    std::uint64_t size = 0;
    std::string etag;   // as the backend returned it, quotes kept
    std::string blake3; // lower-case hex; empty when the gateway did not see the whole body
    std::string content_type;
    Millis last_modified = 0;
    std::vector<Location> copies; // in the order they were made
    // The client's x-amz-meta-* headers at PUT (names in lower case, without the prefix).
    std::vector<std::pair<std::string, std::string>> user_metadata;
    // The flexible checksum the client sent with the object's bytes and the
    // gateway verified: the header's name in lower case
    // ("x-amz-checksum-crc32", -crc32c, -sha1, -sha256) and its base64
    // value. Both empty when there was none (or the object came another way:
    // multipart, sync).
    std::string checksum_header;
    std::string checksum_value;
    // The standard headers the client set at PUT or CreateMultipartUpload
    // that GET and HEAD give back (Cache-Control, Content-Disposition,
    // Content-Encoding, Content-Language, Expires), names as S3 writes them.
    std::vector<std::pair<std::string, std::string>> object_headers;
    // How many parts the object was uploaded in: 0 for one PUT or copy
    // (which S3 reads as one part without a parts count), the count of a
    // CompleteMultipartUpload (whose part sizes object_parts gives), and
    // nullopt when not known (a multipart ETag recorded by an older
    // gateway, or found by sync).
    std::optional<unsigned> parts_count;
};

struct BackendLimit {
    std::string name;
    std::optional<std::uint64_t> quota_bytes; // nullopt: unlimited
};

struct BackendUsage {
    std::string name;
    std::optional<std::uint64_t> quota_bytes;
    std::uint64_t used_bytes = 0;
    std::uint64_t reserved_bytes = 0;
    std::uint64_t objects = 0; // copies on this backend
    std::uint64_t active_uploads = 0;
    // Bytes that can still be reserved; nullopt when unlimited.
    std::optional<std::uint64_t> available() const;
};

struct Reservation {
    std::string id;
    std::string backend;
    std::uint64_t bytes = 0;
};

// What a conditional write (PutObject, CompleteMultipartUpload) asks of
// the key's current object, checked in the transaction that would make the
// new version current, so two writers never both pass it.
struct WriteCondition {
    bool if_none_match_any = false;      // If-None-Match: * (create only)
    std::optional<std::string> if_match; // If-Match: the ETag list (or *) the current object must match
    bool any() const { return if_none_match_any || if_match.has_value(); }
};

// How a write's condition fared against the key's current object.
enum class ConditionCheck {
    met,
    failed,    // S3's 412 PreconditionFailed
    no_object, // If-Match on a key with no object: S3's 404 NoSuchKey
};

// Whether the ETag `etag` (quotes kept or not) is in `list`, the value of
// an If-Match or If-None-Match header ("*" matches any; weak tags compare
// by their opaque part, as S3 does).
bool etag_list_matches(std::string_view list, std::string_view etag);

// The check of write condition `c` against the key's current object
// `current` (null when the key has none).
ConditionCheck check_write_condition(const WriteCondition& c, const ObjectRecord* current);

// A whole object written to `location` under `reservation`.
struct NewObject {
    BucketRef bucket;
    std::string key;
    std::uint64_t size = 0;
    std::string etag;
    std::string blake3;
    std::string content_type;
    std::vector<std::pair<std::string, std::string>> user_metadata; // x-amz-meta-* as sent, names in lower case
    std::string checksum_header;                                    // as ObjectRecord's
    std::string checksum_value;
    std::vector<std::pair<std::string, std::string>> object_headers; // as ObjectRecord's
    std::string version; // the version id chosen before the upload (it is part of the backend key)
    Location location;
    Reservation reservation;
    unsigned replicas = 1; // the policy's count: more than 1 queues a replication job
    Millis now = 0;
    Millis delete_at = 0;     // when the copies of a replaced version may be removed
    WriteCondition condition; // checked against the current object in the commit's transaction
};

struct PutResult {
    std::string id;
    std::vector<Location> replaced; // copies of the previous version, queued for deletion
    // Not `met`: the write's condition did not hold and no object changed.
    ConditionCheck condition = ConditionCheck::met;
};

struct UploadRecord {
    std::string id; // the gateway's upload id (what clients see)
    BucketRef bucket;
    std::string key;
    Location location; // the backend and the backend key the object will have
    std::string backend_upload_id;
    std::string content_type;
    // x-amz-meta-* given at CreateMultipartUpload, which the completed object keeps.
    std::vector<std::pair<std::string, std::string>> user_metadata;
    std::vector<std::pair<std::string, std::string>> object_headers; // as ObjectRecord's, kept by the object
    Millis created_at = 0;
};

struct PartRecord {
    int number = 0;
    std::uint64_t size = 0;
    std::string etag;
    Millis created_at = 0;
};

struct CompleteUpload {
    std::string upload_id;
    std::vector<int> parts; // the part numbers the object is made of, ascending
    std::string etag;       // the backend's ETag of the completed object
    unsigned replicas = 1;
    Millis now = 0;
    Millis delete_at = 0;
    // Checked against the current object in the completion's transaction;
    // when it fails the upload is gone and its completed bytes are queued
    // for removal (the backend already joined them).
    WriteCondition condition;
};

enum class JobKind { replicate, remove };

struct Job {
    std::string id;
    JobKind kind = JobKind::replicate;
    std::string object_id;   // replicate: the object version to copy
    Location location;       // remove: the copy to delete
    std::uint64_t bytes = 0; // remove: bytes released once it is gone
    unsigned attempts = 0;   // including the current one
    std::string last_error;
    Millis created_at = 0;
};

struct JobCount {
    JobKind kind = JobKind::replicate;
    std::string state; // "queued", "running" or "failed"
    std::uint64_t count = 0;
    Millis oldest = 0; // creation time of the oldest such job
};

struct TenantRecord {
    std::string name;
    bool disabled = false;
    Millis created_at = 0;
};

enum class KeyState { active, revoked };

struct KeyRecord {
    std::string access_key;
    std::string tenant;
    std::string secret_sealed; // SecretBox::seal output, never the secret
    KeyState state = KeyState::active;
    Millis created_at = 0;
    std::optional<Millis> expires_at; // set when a rotation leaves the old key a grace period
};

// Per-bucket overrides an administrator set; absent fields inherit.
struct StoredPolicy {
    std::optional<unsigned> replicas;
    std::optional<Placement> placement;
    std::optional<std::vector<std::string>> residencies;
    Millis updated_at = 0;
};

struct NamespaceRecord {
    BucketRef bucket;
    std::string backend_bucket;
    Millis created_at = 0;
};

// An object found on a backend by sync.
struct ImportRecord {
    BucketRef bucket;
    std::string key;
    std::uint64_t size = 0;
    std::string etag;
    Millis last_modified = 0;
    Location location;
    std::string version; // used when the key is new
    // From the backend's HEAD; kept only when the key is new.
    std::string content_type;
    std::vector<std::pair<std::string, std::string>> user_metadata;
};

enum class ImportOutcome {
    imported,   // a new object
    added_copy, // the key was known with the same size and ETag elsewhere: recorded as one more copy
    known,      // this backend copy is already in the metadata
    conflict,   // the key is known with other content: left alone
};

// See MetadataStore::read_scope.
class ReadScope {
public:
    virtual ~ReadScope() = default;
};

class MetadataStore {
public:
    virtual ~MetadataStore() = default;

    // Lookups this thread makes on this store while the returned scope
    // lives read one snapshot, in one read transaction, instead of one
    // each (a GET's bucket policy and object: on SQLite a read transaction
    // costs about as much as the lookups in it). Writes are not part of it
    // and are not seen by it: a scope is for a run of lookups only, ended
    // before anything long (a backend transfer). Null when lookups would
    // not gain (no reader connection, or a scope is already open here).
    virtual std::unique_ptr<ReadScope> read_scope() { return nullptr; }

    // --- backends and quota -------------------------------------------------
    // Creates or updates the quota limit of each backend in `limits`, keeping
    // their counters.
    virtual Result<void> register_backends(const std::vector<BackendLimit>& limits) = 0;
    // Counters of every registered backend, in name order.
    virtual Result<std::vector<BackendUsage>> backend_usage() = 0;
    // Reserves `bytes` on `backend` if its quota has room, valid until
    // `expires_at`; nullopt when it has not.
    virtual Result<std::optional<Reservation>> reserve(const std::string& backend, std::uint64_t bytes, Millis now,
                                                       Millis expires_at) = 0;
    // Gives back an unused reservation `r` (no effect if it is already gone).
    virtual Result<void> release(const Reservation& r) = 0;
    // Releases reservations whose time ran out before `now` (their uploads
    // died with a gateway); returns how many.
    virtual Result<std::uint64_t> expire_reservations(Millis now) = 0;

    // --- objects ------------------------------------------------------------
    virtual Result<std::optional<ObjectRecord>> find_object(const BucketRef& bucket, std::string_view key) = 0;
    virtual Result<std::optional<ObjectRecord>> find_object_by_id(std::string_view id) = 0;
    // Records object `o` (replacing the key's previous version) in one
    // transaction: object and copy rows, reservation to used bytes, deletion
    // jobs for the replaced copies, a replication job if o.replicas > 1.
    // When o.condition does not hold against the current object nothing
    // changes and the result says why (the caller abandons its bytes).
    virtual Result<PutResult> commit_object(const NewObject& o) = 0;
    // Removes the key `key` of `bucket` and queues the deletion of every
    // copy (runnable from `delete_at`); returns the removed record.
    virtual Result<std::optional<ObjectRecord>> delete_object(const BucketRef& bucket, std::string_view key, Millis now,
                                                              Millis delete_at) = 0;
    // Up to `limit` objects of `bucket` whose key starts with `prefix` and
    // sorts after `after` (byte order), in key order; copies not filled in.
    virtual Result<std::vector<ObjectRecord>> list_objects(const BucketRef& bucket, std::string_view prefix,
                                                           std::string_view after, std::size_t limit) = 0;
    // Up to `limit` objects with a copy on `backend` and an id after
    // `after_id`, in id order, with their copies.
    virtual Result<std::vector<ObjectRecord>> objects_on_backend(const std::string& backend, std::string_view after_id,
                                                                 std::size_t limit) = 0;
    // Records one more copy `at` of object `object_id` (only if it still has
    // ETag `etag` and no copy on that backend), turning `r` into used bytes;
    // false (and nothing changed) otherwise.
    virtual Result<bool> add_copy(const std::string& object_id, const std::string& etag, const Location& at,
                                  const Reservation& r, Millis now) = 0;
    // Replaces the copy of `object_id` on `from_backend` by `to` (made under
    // `r`) and queues the old copy's deletion; false if the object or that
    // copy is gone.
    virtual Result<bool> move_copy(const std::string& object_id, const std::string& from_backend, const Location& to,
                                   const Reservation& r, Millis now, Millis delete_at) = 0;
    // Bytes written to `at` under `r` that no object will reference (a
    // failed commit, a copy made for a version that changed): charges them
    // as used and queues their deletion.
    virtual Result<void> abandon_copy(const Reservation& r, const Location& at, Millis now) = 0;
    // The parts (number and size, ascending by number) of object version
    // `object_id` as its CompleteMultipartUpload made it; empty for an
    // object of one PUT or copy, or one whose layout is not known.
    virtual Result<std::vector<PartRecord>> object_parts(std::string_view object_id) = 0;
    // Records the BLAKE3 `digest` of object `object_id` if it had none.
    virtual Result<void> set_blake3(const std::string& object_id, const std::string& digest) = 0;
    // Whether a copy row points at `at`.
    virtual Result<bool> location_referenced(const Location& at) = 0;
    // Records object `rec` found on a backend (sync), counting its bytes.
    virtual Result<ImportOutcome> import_object(const ImportRecord& rec, Millis now) = 0;

    // --- multipart uploads --------------------------------------------------
    virtual Result<void> create_upload(const UploadRecord& u) = 0;
    virtual Result<std::optional<UploadRecord>> find_upload(std::string_view upload_id) = 0;
    // Records part `number` of upload `upload_id`, made under `r` (whose
    // bytes stay reserved until the upload completes or is aborted); a part
    // uploaded again replaces the earlier one and frees its bytes. False
    // when the upload is gone (the caller releases `r`).
    virtual Result<bool> record_part(const std::string& upload_id, int number, std::uint64_t size,
                                     const std::string& etag, const Reservation& r, Millis now) = 0;
    // Up to `limit` parts of `upload_id` numbered above `after`, ascending.
    virtual Result<std::vector<PartRecord>> list_parts(std::string_view upload_id, int after, std::size_t limit) = 0;
    // Up to `limit` uploads of `bucket` whose key starts with `prefix`, after
    // (`key_marker`, `upload_marker`) in (key, upload id) order.
    virtual Result<std::vector<UploadRecord>> list_uploads(const BucketRef& bucket, std::string_view prefix,
                                                           std::string_view key_marker, std::string_view upload_marker,
                                                           std::size_t limit) = 0;
    // Turns upload `c.upload_id` into an object made of `c.parts`, in one
    // transaction (like commit_object; parts not used are freed), which
    // keeps those parts' numbers and sizes (object_parts). When
    // c.condition does not hold the upload is removed instead, its bytes
    // queued for removal, and the result says why.
    virtual Result<PutResult> complete_upload(const CompleteUpload& c) = 0;
    // Removes upload `upload_id` and frees its parts' bytes; returns it.
    virtual Result<std::optional<UploadRecord>> remove_upload(std::string_view upload_id) = 0;
    // Up to `limit` uploads created before `created_before`, oldest first.
    virtual Result<std::vector<UploadRecord>> stale_uploads(Millis created_before, std::size_t limit) = 0;

    // --- jobs ---------------------------------------------------------------
    // Queues a replication job for every object of `bucket` that has none
    // pending (after its replica policy grew); returns how many.
    virtual Result<std::uint64_t> enqueue_replication(const BucketRef& bucket, Millis now) = 0;
    // Claims the next runnable job for `worker` until `lease_until`.
    virtual Result<std::optional<Job>> claim_job(const std::string& worker, Millis now, Millis lease_until) = 0;
    // Ends job `job` (a removal also frees its bytes); false when `worker`
    // no longer holds it.
    virtual Result<bool> finish_job(const Job& job, const std::string& worker) = 0;
    // Puts `job` back in the queue, runnable from `next_at`, noting `error`.
    virtual Result<bool> retry_job(const Job& job, const std::string& worker, Millis next_at,
                                   const std::string& error) = 0;
    // Parks `job` as failed (kept for inspection, never run again) with `error`.
    virtual Result<bool> fail_job(const Job& job, const std::string& worker, const std::string& error) = 0;
    // Job counts by kind and state.
    virtual Result<std::vector<JobCount>> job_backlog() = 0;

    // --- tenants, keys, policies, namespaces ----------------------------------
    // Creates tenant `name`; false if it exists.
    virtual Result<bool> create_tenant(const std::string& name, Millis now) = 0;
    virtual Result<std::vector<TenantRecord>> list_tenants() = 0;
    virtual Result<std::optional<TenantRecord>> find_tenant(std::string_view name) = 0;
    // Sets whether tenant `name` is disabled; false if there is no such tenant.
    virtual Result<bool> set_tenant_disabled(const std::string& name, bool disabled) = 0;
    virtual Result<void> create_key(const KeyRecord& key) = 0;
    virtual Result<std::optional<KeyRecord>> find_key(std::string_view access_key) = 0;
    virtual Result<std::vector<KeyRecord>> list_keys(std::string_view tenant) = 0;
    // Revokes `access_key` now; false if there is no such active key.
    virtual Result<bool> revoke_key(const std::string& access_key, Millis now) = 0;
    // Lets active key `access_key` work until `at` only.
    virtual Result<bool> expire_key(const std::string& access_key, Millis at) = 0;
    virtual Result<void> set_bucket_policy(const BucketRef& bucket, const StoredPolicy& policy) = 0;
    virtual Result<std::optional<StoredPolicy>> find_bucket_policy(const BucketRef& bucket) = 0;
    // Records that `bucket` lives in backend bucket `backend_bucket`; an error
    // if that backend bucket already belongs to another tenant bucket.
    virtual Result<void> bind_namespace(const BucketRef& bucket, const std::string& backend_bucket, Millis now) = 0;
    virtual Result<std::optional<NamespaceRecord>> find_namespace(const BucketRef& bucket) = 0;
    virtual Result<std::vector<NamespaceRecord>> list_namespaces(std::string_view tenant) = 0;
    // Forgets the namespace of `bucket` (DeleteBucket of an empty bucket).
    virtual Result<void> remove_namespace(const BucketRef& bucket) = 0;

    // --- settings -----------------------------------------------------------
    virtual Result<std::optional<std::string>> setting(std::string_view name) = 0;
    // Stores `value` under `name` unless one is there; returns what is stored.
    virtual Result<std::string> init_setting(const std::string& name, const std::string& value) = 0;
};

// Opens (creating or upgrading the schema of) the metadata store that
// `config` names. PostgreSQL URLs are refused until the shared store layer
// provides that engine.
Result<std::unique_ptr<MetadataStore>> open_metadata_store(const MetadataConfig& config);

// Registers the configured backends' quotas, creates the configured
// tenants ([auth] tenant and [[tenant]] names) in `store` and records `now`
// as the first-seen time of each configured bucket not seen before.
Result<void> seed_metadata(MetadataStore& store, const GatewayConfig& config, Millis now);

// The setting (gw_settings name) keeping when configured bucket `bucket`
// (its owner and name) was first seen by a gateway on this metadata, in
// milliseconds since the epoch, written once and never overwritten:
// ListBuckets answers it as the bucket's CreationDate.
std::string bucket_first_seen_setting(const BucketRef& bucket);

// A new version/upload/job id: 26 characters of lower-case Crockford
// base32, time-ordered (48-bit milliseconds `now`, 80 random bits).
std::string new_id(Millis now);

// The current time in milliseconds since the Unix epoch.
Millis now_millis();

} // namespace roar::proxy::gateway
