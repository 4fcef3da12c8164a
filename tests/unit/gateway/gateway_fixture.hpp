// A gateway without a server for the worker and maintenance tests: the
// example configuration, a SQLite store seeded from it, three in-memory
// backends (a: eu-fi 1000 B, b: eu-de 2000 B, c: us-east unlimited), a
// settable clock, and put(), which writes an object the way the gateway's
// PUT path does (policy, placement, reservation, backend write, commit).
#pragma once

#include "gateway_test_support.hpp"
#include "memory_backend.hpp"

#include "roar/proxy/gateway/bucket_policy.hpp"
#include "roar/proxy/gateway/placement.hpp"

namespace roar::test {

struct Gateway {
    GatewayConfig config;
    TempStore store;
    MemoryBackend a{"a"}, b{"b"}, c{"c"};
    BackendSet backends;
    Millis now = 1000000;

    explicit Gateway(const std::string& extra = "") : config(example_config(extra))
    {
        REQUIRE(seed_metadata(*store, config, now));
        backends.add(config.backends[0], a);
        backends.add(config.backends[1], b);
        backends.add(config.backends[2], c);
        a.create_bucket("store-a");
        b.create_bucket("store-b");
        c.create_bucket("store-c");
    }

    std::function<Millis()> clock()
    {
        return [this] { return now; };
    }

    MemoryBackend& backend(const std::string& name) { return name == "a" ? a : name == "b" ? b : c; }

    BucketPolicy policy(const std::string& bucket, const std::string& tenant = "default")
    {
        auto p = lookup_bucket_policy(*store, config, {tenant, bucket});
        REQUIRE(p);
        REQUIRE(*p);
        return **p;
    }

    // Writes `data` as `key` of `bucket`; returns the version, or "" when no backend had room.
    std::string put(const std::string& bucket, const std::string& key, const std::string& data)
    {
        const BucketPolicy p = policy(bucket);
        auto r = reserve_placement(*store, p, data.size(), {}, now, 3600000);
        REQUIRE(r);
        if (!*r) {
            return "";
        }
        const std::string version = new_id(now);
        const Location at = location_for(p, *backends.config((*r)->backend), key, version);
        auto etag = backend(at.backend).put_object(at.bucket, at.key, data.size(), memory_source(data), {});
        REQUIRE(etag);
        NewObject o;
        o.bucket = p.bucket;
        o.key = key;
        o.size = data.size();
        o.etag = *etag;
        o.version = version;
        o.location = at;
        o.reservation = **r;
        o.replicas = p.replicas;
        o.now = now;
        o.delete_at = now;
        REQUIRE(store->commit_object(o));
        return version;
    }

    ObjectRecord object(const std::string& bucket, const std::string& key)
    {
        auto o = store->find_object({"default", bucket}, key);
        REQUIRE(o);
        REQUIRE(*o);
        return **o;
    }

    BackendUsage usage(const std::string& name)
    {
        auto all = store->backend_usage();
        REQUIRE(all);
        for (const auto& u : *all) {
            if (u.name == name) {
                return u;
            }
        }
        FAIL("no backend " << name);
        return {};
    }
};

} // namespace roar::test
