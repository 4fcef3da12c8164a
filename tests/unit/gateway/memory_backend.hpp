// An in-memory ObjectBackend for the gateway's unit tests: buckets of
// objects with MD5 ETags (multipart ETags "<md5 of md5s>-N" like S3), user
// metadata, multipart uploads, a log of calls, and switches that make GETs,
// PUTs or deletes fail.
#pragma once

#include "roar/proxy/gateway/object_backend.hpp"

#include <openssl/evp.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace roar::test {

using namespace roar::proxy::gateway;

inline std::string md5_hex(std::string_view data)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), out, &len, EVP_md5(), nullptr);
    std::string hex;
    for (unsigned i = 0; i < len; ++i) {
        hex += fmt::format("{:02x}", out[i]);
    }
    return hex;
}

class MemoryBackend final : public ObjectBackend {
public:
    struct Object {
        std::string data;
        std::string etag;
        std::string content_type;
        std::vector<Header> meta;
    };

    explicit MemoryBackend(std::string name) : m_name(std::move(name)) { }

    // Switches.
    bool fail_gets = false;
    bool fail_puts = false;
    bool fail_deletes = false;
    bool fail_aborts = false;
    bool corrupt_puts = false; // store the bytes with one flipped (the ETag is the MD5 of what was stored)

    std::vector<std::string> calls; // "PUT bucket/key", "GET bucket/key", ...

    void put_raw(const std::string& bucket, const std::string& key, const std::string& data)
    {
        std::lock_guard lock(m_mutex);
        m_buckets[bucket][key] = {data, "\"" + md5_hex(data) + "\"", "", {}};
    }
    const Object* find(const std::string& bucket, const std::string& key) const
    {
        auto b = m_buckets.find(bucket);
        if (b == m_buckets.end()) {
            return nullptr;
        }
        auto o = b->second.find(key);
        return o == b->second.end() ? nullptr : &o->second;
    }
    std::size_t object_count() const
    {
        std::size_t n = 0;
        for (const auto& [b, objects] : m_buckets) {
            n += objects.size();
        }
        return n;
    }
    std::size_t open_uploads() const { return m_uploads.size(); }
    bool has_bucket(const std::string& bucket) const { return m_buckets.count(bucket) != 0; }

    BackendResult<ObjectHead> head_object(const std::string& bucket, const std::string& key) override
    {
        std::lock_guard lock(m_mutex);
        calls.push_back("HEAD " + bucket + "/" + key);
        const Object* o = find(bucket, key);
        if (!o) {
            return tl::unexpected(BackendError{404, "NoSuchKey", "no such key"});
        }
        return ObjectHead{o->data.size(), o->etag, o->content_type, 0, o->meta};
    }

    BackendResult<GetResponse> get_object(const std::string& bucket, const std::string& key, const GetOptions& options,
                                          const HeadCallback& on_head, const BodySink& sink) override
    {
        Object copy;
        {
            std::lock_guard lock(m_mutex);
            calls.push_back("GET " + bucket + "/" + key);
            if (fail_gets) {
                return tl::unexpected(BackendError{0, "Transport", m_name + " is down"});
            }
            const Object* o = find(bucket, key);
            if (!o) {
                return tl::unexpected(BackendError{404, "NoSuchKey", "no such key"});
            }
            copy = *o;
        }
        std::uint64_t first = 0, last = copy.data.size() ? copy.data.size() - 1 : 0;
        GetResponse r;
        r.status = 200;
        if (options.range) {
            first = options.range->first;
            last = options.range->last.value_or(copy.data.size() - 1);
            r.status = 206;
        }
        const std::string body = copy.data.empty() ? std::string() : copy.data.substr(first, last - first + 1);
        r.head = {copy.data.size(), copy.etag, copy.content_type, 0, copy.meta};
        r.content_length = body.size();
        if (on_head && !on_head(r)) {
            return tl::unexpected(BackendError{r.status, "Aborted", "declined"});
        }
        // Deliver in small pieces, like a network would.
        for (std::size_t at = 0; at < body.size(); at += 7000) {
            if (!sink(body.data() + at, std::min<std::size_t>(7000, body.size() - at))) {
                return tl::unexpected(BackendError{r.status, "Aborted", "sink stopped"});
            }
        }
        return r;
    }

    BackendResult<std::string> put_object(const std::string& bucket, const std::string& key, std::uint64_t size,
                                          const BodySource& source, const PutOptions& options) override
    {
        {
            std::lock_guard lock(m_mutex);
            calls.push_back("PUT " + bucket + "/" + key);
            if (fail_puts) {
                return tl::unexpected(BackendError{503, "ServiceUnavailable", m_name + " refuses writes"});
            }
        }
        auto data = read_all(source, size);
        if (!data) {
            return tl::unexpected(data.error());
        }
        std::lock_guard lock(m_mutex);
        if (!m_buckets.count(bucket)) {
            return tl::unexpected(BackendError{404, "NoSuchBucket", "no such bucket " + bucket});
        }
        if (corrupt_puts && !data->empty()) {
            (*data)[0] = static_cast<char>((*data)[0] ^ 1);
        }
        const std::string etag = "\"" + md5_hex(*data) + "\"";
        m_buckets[bucket][key] = {*data, etag, options.content_type, options.meta};
        return etag;
    }

    BackendResult<void> delete_object(const std::string& bucket, const std::string& key) override
    {
        std::lock_guard lock(m_mutex);
        calls.push_back("DELETE " + bucket + "/" + key);
        if (fail_deletes) {
            return tl::unexpected(BackendError{0, "Transport", m_name + " is down"});
        }
        if (m_buckets.count(bucket)) {
            m_buckets[bucket].erase(key);
        }
        return {};
    }

    BackendResult<std::string> copy_object(const std::string& src_bucket, const std::string& src_key,
                                           const std::string& dst_bucket, const std::string& dst_key) override
    {
        std::lock_guard lock(m_mutex);
        const Object* o = find(src_bucket, src_key);
        if (!o) {
            return tl::unexpected(BackendError{404, "NoSuchKey", "no such key"});
        }
        m_buckets[dst_bucket][dst_key] = *o;
        return o->etag;
    }

    BackendResult<BackendListPage> list_objects(const std::string& bucket, const std::string& prefix,
                                                const std::string& /*delimiter*/, const std::string& token,
                                                unsigned max_keys) override
    {
        std::lock_guard lock(m_mutex);
        calls.push_back("LIST " + bucket);
        auto b = m_buckets.find(bucket);
        if (b == m_buckets.end()) {
            return tl::unexpected(BackendError{404, "NoSuchBucket", "no such bucket"});
        }
        BackendListPage page;
        for (auto it = b->second.upper_bound(token); it != b->second.end(); ++it) {
            if (it->first.compare(0, prefix.size(), prefix) != 0) {
                continue;
            }
            if (page.objects.size() == max_keys) {
                page.truncated = true;
                page.next_token = page.objects.back().key;
                break;
            }
            page.objects.push_back({it->first, it->second.data.size(), it->second.etag, 1700000000000});
        }
        return page;
    }

    BackendResult<void> create_bucket(const std::string& bucket) override
    {
        std::lock_guard lock(m_mutex);
        calls.push_back("CREATEBUCKET " + bucket);
        m_buckets[bucket];
        return {};
    }

    BackendResult<std::string> create_multipart(const std::string& bucket, const std::string& key,
                                                const PutOptions& options) override
    {
        std::lock_guard lock(m_mutex);
        calls.push_back("CREATEMPU " + bucket + "/" + key);
        if (fail_puts) {
            return tl::unexpected(BackendError{503, "ServiceUnavailable", m_name + " refuses writes"});
        }
        const std::string id = fmt::format("mpu-{}", ++m_next_upload);
        m_uploads[id] = {bucket, key, options, {}};
        return id;
    }

    BackendResult<std::string> upload_part(const std::string& bucket, const std::string& key,
                                           const std::string& upload_id, int number, std::uint64_t size,
                                           const BodySource& source) override
    {
        {
            std::lock_guard lock(m_mutex);
            calls.push_back(fmt::format("PART {}/{} {}", bucket, key, number));
            if (fail_puts) {
                return tl::unexpected(BackendError{503, "ServiceUnavailable", m_name + " refuses writes"});
            }
        }
        auto data = read_all(source, size);
        if (!data) {
            return tl::unexpected(data.error());
        }
        std::lock_guard lock(m_mutex);
        auto u = m_uploads.find(upload_id);
        if (u == m_uploads.end()) {
            return tl::unexpected(BackendError{404, "NoSuchUpload", "no such upload"});
        }
        u->second.parts[number] = *data;
        return "\"" + md5_hex(*data) + "\"";
    }

    BackendResult<std::string> upload_part_copy(const std::string& src_bucket, const std::string& src_key,
                                                const ByteRange& range, const std::string& dst_bucket,
                                                const std::string& dst_key, const std::string& upload_id,
                                                int number) override
    {
        std::lock_guard lock(m_mutex);
        calls.push_back(fmt::format("PARTCOPY {}/{} {}-{} {}/{} {}", src_bucket, src_key, range.first,
                                    range.last.value_or(range.first), dst_bucket, dst_key, number));
        const Object* o = find(src_bucket, src_key);
        auto u = m_uploads.find(upload_id);
        if (!o || u == m_uploads.end()) {
            return tl::unexpected(BackendError{404, o ? "NoSuchUpload" : "NoSuchKey", "not found"});
        }
        const std::uint64_t last = range.last.value_or(range.first);
        if (last >= o->data.size() || range.first > last) {
            return tl::unexpected(BackendError{400, "InvalidArgument", "range outside the source"});
        }
        u->second.parts[number] = o->data.substr(range.first, last - range.first + 1);
        return "\"" + md5_hex(u->second.parts[number]) + "\"";
    }

    BackendResult<std::string> complete_multipart(const std::string& bucket, const std::string& key,
                                                  const std::string& upload_id,
                                                  const std::vector<UploadedPart>& parts) override
    {
        std::lock_guard lock(m_mutex);
        calls.push_back("COMPLETE " + bucket + "/" + key);
        auto u = m_uploads.find(upload_id);
        if (u == m_uploads.end()) {
            return tl::unexpected(BackendError{404, "NoSuchUpload", "no such upload"});
        }
        std::string data, md5s;
        for (const auto& p : parts) {
            auto it = u->second.parts.find(p.number);
            if (it == u->second.parts.end()) {
                return tl::unexpected(BackendError{400, "InvalidPart", "missing part"});
            }
            data += it->second;
            const std::string hex = md5_hex(it->second);
            for (std::size_t i = 0; i < hex.size(); i += 2) {
                unsigned byte = 0;
                std::from_chars(hex.data() + i, hex.data() + i + 2, byte, 16);
                md5s.push_back(static_cast<char>(byte));
            }
        }
        const std::string etag = fmt::format("\"{}-{}\"", md5_hex(md5s), parts.size());
        m_buckets[bucket][key] = {data, etag, u->second.options.content_type, u->second.options.meta};
        m_uploads.erase(u);
        return etag;
    }

    BackendResult<void> abort_multipart(const std::string& bucket, const std::string& key,
                                        const std::string& upload_id) override
    {
        std::lock_guard lock(m_mutex);
        calls.push_back("ABORT " + bucket + "/" + key + " " + upload_id);
        if (fail_aborts) {
            return tl::unexpected(BackendError{0, "Transport", m_name + " is down"});
        }
        m_uploads.erase(upload_id);
        return {};
    }

    // Starts an upload directly (as a client of the backend would).
    std::string start_upload(const std::string& bucket, const std::string& key)
    {
        return *create_multipart(bucket, key, {});
    }

private:
    static BackendResult<std::string> read_all(const BodySource& source, std::uint64_t size)
    {
        std::string data;
        char buf[5000];
        for (;;) {
            auto n = source(buf, sizeof buf);
            if (!n) {
                return tl::unexpected(BackendError{0, "Aborted", "the source failed"});
            }
            if (*n == 0) {
                break;
            }
            data.append(buf, *n);
        }
        if (data.size() != size) {
            return tl::unexpected(BackendError{400, "IncompleteBody", "short body"});
        }
        return data;
    }

    struct Upload {
        std::string bucket;
        std::string key;
        PutOptions options;
        std::map<int, std::string> parts;
    };
    std::string m_name;
    mutable std::mutex m_mutex;
    std::map<std::string, std::map<std::string, Object>> m_buckets;
    std::map<std::string, Upload> m_uploads;
    int m_next_upload = 0;
};

} // namespace roar::test
