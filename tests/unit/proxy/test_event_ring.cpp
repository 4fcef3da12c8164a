// Lineage events: which S3 exchanges publish what, and the ring publisher
// writing them into a real shared-memory ring.
#include "ring_test_support.hpp"
#include "roar/proxy/event_ring.hpp"
#include "roar/proxy/s3_event.hpp"

#include <catch2/catch.hpp>

#include <random>

#include <unistd.h>

using namespace roar::proxy;

namespace {

ForwardPlan plan_for(S3Op op, const std::string& bucket, const std::string& key)
{
    ForwardPlan p;
    p.op = op;
    p.target.bucket = bucket;
    p.target.key = key;
    return p;
}

} // namespace

TEST_CASE("GET: whole body carries blake3, ranged carries the range", "[proxy][events]")
{
    auto p = plan_for(S3Op::GetObject, "b", "k");
    ExchangeFacts f;
    f.status = 200;
    f.headers = {{"etag", "\"abc\""}, {"x-amz-version-id", "v9"}};
    f.response_bytes = 42;
    f.blake3_hex = "deadbeef";
    auto evs = lineage_events(p, f);
    REQUIRE(evs.size() == 1);
    CHECK(evs[0].op == ROAR_OP_S3_GET);
    CHECK(evs[0].uri == "s3://b/k");
    CHECK(evs[0].etag == "\"abc\"");
    CHECK(evs[0].bytes == 42);
    CHECK(evs[0].status == 200);
    CHECK(evs[0].extra == "version_id=v9\nblake3=deadbeef\n");

    p.range = "bytes=0-9";
    f.status = 206;
    f.response_bytes = 10;
    f.headers.emplace_back("content-range", "bytes 0-9/42");
    auto ranged = lineage_events(p, f);
    REQUIRE(ranged.size() == 1);
    CHECK(ranged[0].extra == "version_id=v9\nrange=bytes=0-9\ncontent_range=bytes 0-9/42\n");
}

TEST_CASE("failed calls and non-data calls publish nothing", "[proxy][events]")
{
    ExchangeFacts f;
    f.status = 404;
    CHECK(lineage_events(plan_for(S3Op::GetObject, "b", "k"), f).empty());
    f.status = 200;
    CHECK(lineage_events(plan_for(S3Op::ListObjects, "b", ""), f).empty());
    CHECK(lineage_events(plan_for(S3Op::UploadPart, "b", "k"), f).empty());
    f.xml_body = "<Error><Code>InternalError</Code></Error>";
    CHECK(lineage_events(plan_for(S3Op::CompleteMultipartUpload, "b", "k"), f).empty());
}

TEST_CASE("PUT, copy, multipart completion and deletes", "[proxy][events]")
{
    ExchangeFacts put;
    put.status = 200;
    put.headers = {{"etag", "\"e1\""}};
    put.request_bytes = 5;
    put.blake3_hex = "ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f";
    auto p = lineage_events(plan_for(S3Op::PutObject, "b", "out/x"), put);
    REQUIRE(p.size() == 1);
    CHECK(p[0].op == ROAR_OP_S3_PUT);
    CHECK(p[0].bytes == 5);
    CHECK(p[0].extra == "blake3=" + put.blake3_hex + "\n");

    auto copy_plan = plan_for(S3Op::CopyObject, "b", "dst");
    copy_plan.copy_source = "s3://b/src";
    ExchangeFacts copy;
    copy.status = 200;
    copy.xml_body = "<CopyObjectResult><LastModified>x</LastModified><ETag>&quot;c0&quot;</ETag></CopyObjectResult>";
    auto c = lineage_events(copy_plan, copy);
    REQUIRE(c.size() == 1);
    CHECK(c[0].op == ROAR_OP_S3_COPY);
    CHECK(c[0].etag == "\"c0\"");
    CHECK(c[0].extra == "source=s3://b/src\n");

    auto mpu_plan = plan_for(S3Op::CompleteMultipartUpload, "b", "big");
    mpu_plan.upload_id = "up1";
    MultipartSizes sizes;
    sizes.add_part("up1", "1", 100);
    sizes.add_part("up1", "2", 50);
    sizes.add_part("up1", "1", 80); // re-uploaded part replaces the first
    ExchangeFacts mpu;
    mpu.status = 200;
    mpu.xml_body = "<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>big</Key>"
                   "<ETag>\"3858f62230ac3c915f300c664312c11f-2\"</ETag></CompleteMultipartUploadResult>";
    mpu.multipart_bytes = sizes.take("up1");
    CHECK(sizes.take("up1") == -1);
    auto m = lineage_events(mpu_plan, mpu);
    REQUIRE(m.size() == 1);
    CHECK(m[0].op == ROAR_OP_S3_MULTIPART_COMPLETE);
    CHECK(m[0].etag == "\"3858f62230ac3c915f300c664312c11f-2\"");
    CHECK(m[0].bytes == 130);
    CHECK(m[0].extra == "upload_id=up1\nsize=130\n");

    ExchangeFacts del;
    del.status = 204;
    auto d = lineage_events(plan_for(S3Op::DeleteObject, "b", "gone"), del);
    REQUIRE(d.size() == 1);
    CHECK(d[0].op == ROAR_OP_S3_DELETE);

    ExchangeFacts many;
    many.status = 200;
    many.xml_body = "<DeleteResult><Deleted><Key>a&amp;b</Key></Deleted><Deleted><Key>c</Key>"
                    "<VersionId>v2</VersionId></Deleted><Error><Key>d</Key></Error></DeleteResult>";
    auto dm = lineage_events(plan_for(S3Op::DeleteObjects, "b", ""), many);
    REQUIRE(dm.size() == 2);
    CHECK(dm[0].uri == "s3://b/a&b");
    CHECK(dm[1].uri == "s3://b/c");
    CHECK(dm[1].extra == "version_id=v2\n");
}

TEST_CASE("malformed upstream values never throw: bad character references, a non-numeric length", "[proxy][events]")
{
    // Found by fuzz_s3_xml: "&#x;" used to throw out of std::stoul.
    CHECK(*xml_element("<ETag>&#x;&#;&#x41;&#66;&#xZZ;&#99999999999999999999;</ETag>", "ETag")
          == "&#x;&#;AB&#xZZ;&#99999999999999999999;");
    auto copy_plan = plan_for(S3Op::CopyObject, "b", "dst");
    ExchangeFacts copy;
    copy.status = 200;
    copy.xml_body = "<CopyObjectResult><ETag>&#x;</ETag></CopyObjectResult>";
    REQUIRE(lineage_events(copy_plan, copy).size() == 1);
    CHECK(lineage_events(copy_plan, copy)[0].etag == "&#x;");

    ExchangeFacts head;
    head.status = 200;
    for (const char* length : {"12x", "", "-5", "99999999999999999999"}) {
        head.headers = {{"content-length", length}};
        auto h = lineage_events(plan_for(S3Op::HeadObject, "b", "k"), head);
        REQUIRE(h.size() == 1);
        CHECK(h[0].bytes == -1);
    }
    head.headers = {{"content-length", "42"}};
    CHECK(lineage_events(plan_for(S3Op::HeadObject, "b", "k"), head)[0].bytes == 42);
}

TEST_CASE("RingPublisher writes records a consumer can read; a full ring drops", "[proxy][events]")
{
    std::random_device rd;
    const std::string name = "/roar-proxy-unit-" + std::to_string(rd());
    REQUIRE(test::create_ring(name, 16));
    auto pub = RingPublisher::open(name);
    REQUIRE(pub);
    S3Event ev;
    ev.op = ROAR_OP_S3_PUT;
    ev.uri = "s3://bucket/key";
    ev.etag = "\"etag\"";
    ev.extra = "blake3=00\n";
    ev.bytes = 1234;
    ev.status = 200;
    CHECK((*pub)->publish(ev));
    auto recs = test::read_ring(name);
    REQUIRE(recs.size() == 1);
    CHECK(recs[0].ev.op == ROAR_OP_S3_PUT);
    CHECK(recs[0].ev.pid == static_cast<std::uint32_t>(getpid()));
    CHECK(recs[0].ev.result == 1234);
    CHECK(recs[0].ev.flags == 200);
    CHECK(recs[0].ev.time_ns > 0);
    CHECK(recs[0].s1 == "s3://bucket/key");
    CHECK(recs[0].s2 == "\"etag\"");
    CHECK(recs[0].s3 == "blake3=00\n");

    // 16 slots, 2 per record, no consumer: the ring fills and refuses.
    int published = 1;
    while ((*pub)->publish(ev)) {
        ++published;
        REQUIRE(published <= 16);
    }
    CHECK(published == 8);
    std::uint64_t dropped = 0;
    test::read_ring(name, &dropped);
    CHECK(dropped == 1);

    CHECK_FALSE(RingPublisher::open("/roar-proxy-unit-missing-ring"));
    ::shm_unlink(name.c_str());
}
