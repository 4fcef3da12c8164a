// Lineage events: which S3 exchanges publish what, the ring publisher
// writing them into a real shared-memory ring, and the recorder between
// the relay's records and the ring.
#include "recorder.hpp"
#include "ring_test_support.hpp"
#include "roar/proxy/event_ring.hpp"
#include "roar/proxy/s3_event.hpp"

#include <catch2/catch.hpp>

#include <random>

#include <unistd.h>

using namespace roar::proxy;

namespace {

ExchangeRecord record_for(S3Op op, const std::string& bucket, const std::string& key, unsigned status)
{
    ExchangeRecord r;
    r.op = op;
    r.target.bucket = bucket;
    r.target.key = key;
    r.status = status;
    return r;
}

} // namespace

TEST_CASE("GET: whole body carries blake3, ranged carries the range", "[proxy][events]")
{
    auto r = record_for(S3Op::GetObject, "b", "k", 200);
    r.etag = "\"abc\"";
    r.version_id = "v9";
    r.response_bytes = 42;
    r.blake3_hex = "deadbeef";
    r.pid = 4321;
    auto evs = lineage_events(r);
    REQUIRE(evs.size() == 1);
    CHECK(evs[0].op == ROAR_OP_S3_GET);
    CHECK(evs[0].uri == "s3://b/k");
    CHECK(evs[0].etag == "\"abc\"");
    CHECK(evs[0].bytes == 42);
    CHECK(evs[0].status == 200);
    CHECK(evs[0].pid == 4321);
    CHECK(evs[0].extra == "version_id=v9\nblake3=deadbeef\n");

    r.range = "bytes=0-9";
    r.status = 206;
    r.response_bytes = 10;
    r.content_range = "bytes 0-9/42";
    auto ranged = lineage_events(r);
    REQUIRE(ranged.size() == 1);
    CHECK(ranged[0].extra == "version_id=v9\nrange=bytes=0-9\ncontent_range=bytes 0-9/42\nsize=42\n");
}

TEST_CASE("a GET cut short after its head was sent is a read with the object's size and no blake3", "[proxy][events]")
{
    auto r = record_for(S3Op::GetObject, "b", "big", 200);
    r.etag = "\"abc\"";
    r.content_length = 11534336;
    r.response_bytes = 1048576;
    r.cut = true;
    r.blake3_hex = "deadbeef"; // never published for a body not seen whole
    auto evs = lineage_events(r);
    REQUIRE(evs.size() == 1);
    CHECK(evs[0].op == ROAR_OP_S3_GET);
    CHECK(evs[0].etag == "\"abc\"");
    CHECK(evs[0].bytes == 1048576);
    CHECK(evs[0].extra == "size=11534336\ncut=1\n");

    SECTION("a ranged one takes the size from Content-Range, or has none when it says '*'")
    {
        r.status = 206;
        r.range = "bytes=0-99";
        r.content_range = "bytes 0-99/5000";
        CHECK(lineage_events(r).at(0).extra == "range=bytes=0-99\ncontent_range=bytes 0-99/5000\nsize=5000\ncut=1\n");
        r.content_range = "bytes 0-99/*";
        CHECK(lineage_events(r).at(0).extra == "range=bytes=0-99\ncontent_range=bytes 0-99/*\ncut=1\n");
        r.content_range = "bytes 0-99/-1";
        CHECK(lineage_events(r).at(0).extra == "range=bytes=0-99\ncontent_range=bytes 0-99/-1\ncut=1\n");
    }
    SECTION("with no Content-Length the size is unknown")
    {
        r.content_length.reset();
        CHECK(lineage_events(r).at(0).extra == "cut=1\n");
    }
    SECTION("any other call cut short publishes nothing: its outcome was in the body")
    {
        for (const auto op : {S3Op::CopyObject, S3Op::UploadPartCopy, S3Op::CompleteMultipartUpload, S3Op::ListObjects,
                              S3Op::HeadObject, S3Op::PutObject, S3Op::DeleteObjects}) {
            r.op = op;
            r.response_body = "<CopyObjectResult><ETag>\"0123456789abcdef0123456789abcdef\"</ETag></CopyObjectResult>";
            CHECK(lineage_events(r).empty());
        }
    }
}

TEST_CASE("a copy names its source's ETag when S3 vouches for it, else says why not", "[proxy][events]")
{
    const std::string md5 = "\"0123456789abcdef0123456789abcdef\"";
    auto copy = record_for(S3Op::CopyObject, "b", "dst", 200);
    copy.copy_source = "s3://b/src";
    copy.response_body = "<CopyObjectResult><ETag>" + md5 + "</ETag></CopyObjectResult>";

    SECTION("the copy's MD5 ETag is the source's, marked as inferred")
    {
        const std::string inferred = "source=s3://b/src\nsource_etag=" + md5 + "\nsource_etag_inferred=1\n";
        CHECK(lineage_events(copy).at(0).extra == inferred);
        copy.encryption = "AES256"; // SSE-S3 keeps MD5 ETags
        CHECK(lineage_events(copy).at(0).extra == inferred);
    }
    SECTION("x-amz-copy-source-if-match names it exactly, whatever the copy's ETag")
    {
        copy.copy_source_if_match = "\"9f0e-4\"";
        copy.copy_source_version_id = "v3";
        CHECK(lineage_events(copy).at(0).extra == "source=s3://b/src\nsource_version_id=v3\nsource_etag=\"9f0e-4\"\n");
        copy.copy_source_if_match = "*";
        CHECK(lineage_events(copy).at(0).extra.find("source_etag=" + md5) != std::string::npos);
    }
    SECTION("an ETag that is not an MD5 (a multipart form, SSE-KMS, SSE-C) leaves a note instead")
    {
        const std::string note = "source_note=copied without a digest: the copy's ETag is not the MD5 of its bytes, "
                                 "so the source's is unknown\n";
        copy.response_body = "<CopyObjectResult><ETag>\"0123456789abcdef0123456789abcdef-2\"</ETag></CopyObjectResult>";
        CHECK(lineage_events(copy).at(0).extra == "source=s3://b/src\n" + note);
        copy.response_body = "<CopyObjectResult><ETag>" + md5 + "</ETag></CopyObjectResult>";
        for (const char* sse : {"aws:kms", "aws:kms:dsse", "SSE-C"}) {
            copy.encryption = sse;
            CHECK(lineage_events(copy).at(0).extra == "source=s3://b/src\n" + note);
        }
    }
}

TEST_CASE("an UploadPartCopy is a read of its source, with the ETag S3 vouches for and the range copied",
          "[proxy][events]")
{
    auto part = record_for(S3Op::UploadPartCopy, "b", "big2", 200);
    part.copy_source = "s3://b/big";
    part.copy_source_range = "bytes=0-5242879";
    part.upload_id = "up1";
    part.part_number = "1";
    part.pid = 4321;
    // The answer's ETag is the new part's, never the source's.
    part.response_body = "<CopyPartResult><ETag>\"0123456789abcdef0123456789abcdef\"</ETag></CopyPartResult>";

    SECTION("without x-amz-copy-source-if-match the source's ETag is left to the collector")
    {
        const auto evs = lineage_events(part);
        REQUIRE(evs.size() == 1);
        CHECK(evs[0].op == ROAR_OP_S3_PART_COPY);
        CHECK(evs[0].uri == "s3://b/big");
        CHECK(evs[0].etag.empty());
        CHECK(evs[0].bytes == -1);
        CHECK(evs[0].pid == 4321);
        CHECK(evs[0].extra == "range=bytes=0-5242879\nupload_id=up1\npart_number=1\ndestination=s3://b/big2\n");
    }
    SECTION("x-amz-copy-source-if-match names it exactly; the source's version id is kept")
    {
        part.copy_source_if_match = "\"9f0e-4\"";
        part.copy_source_version_id = "v3";
        part.copy_source_range.clear(); // the whole object in one part
        const auto evs = lineage_events(part);
        REQUIRE(evs.size() == 1);
        CHECK(evs[0].etag == "\"9f0e-4\"");
        CHECK(evs[0].extra == "version_id=v3\nupload_id=up1\npart_number=1\ndestination=s3://b/big2\n");
        part.copy_source_if_match = "*";
        CHECK(lineage_events(part).at(0).etag.empty());
    }
    SECTION("a failure, even one answered 200, publishes nothing")
    {
        part.response_body = "<Error><Code>InternalError</Code></Error>";
        CHECK(lineage_events(part).empty());
        part.response_body.clear();
        part.status = 412; // the source no longer matches x-amz-copy-source-if-match
        CHECK(lineage_events(part).empty());
    }
}

TEST_CASE("failed calls and non-data calls publish nothing", "[proxy][events]")
{
    CHECK(lineage_events(record_for(S3Op::GetObject, "b", "k", 404)).empty());
    CHECK(lineage_events(record_for(S3Op::ListObjects, "b", "", 200)).empty());
    CHECK(lineage_events(record_for(S3Op::UploadPart, "b", "k", 200)).empty());
    auto failed = record_for(S3Op::CompleteMultipartUpload, "b", "k", 200);
    failed.response_body = "<Error><Code>InternalError</Code></Error>";
    CHECK(lineage_events(failed).empty());
}

TEST_CASE("PUT, copy, multipart completion and deletes", "[proxy][events]")
{
    auto put = record_for(S3Op::PutObject, "b", "out/x", 200);
    put.etag = "\"e1\"";
    put.request_bytes = 5;
    put.blake3_hex = "ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f";
    auto p = lineage_events(put);
    REQUIRE(p.size() == 1);
    CHECK(p[0].op == ROAR_OP_S3_PUT);
    CHECK(p[0].bytes == 5);
    CHECK(p[0].extra == "blake3=" + put.blake3_hex + "\n");

    auto copy = record_for(S3Op::CopyObject, "b", "dst", 200);
    copy.copy_source = "s3://b/src";
    copy.response_body =
        "<CopyObjectResult><LastModified>x</LastModified><ETag>&quot;c0&quot;</ETag></CopyObjectResult>";
    auto c = lineage_events(copy);
    REQUIRE(c.size() == 1);
    CHECK(c[0].op == ROAR_OP_S3_COPY);
    CHECK(c[0].etag == "\"c0\"");
    CHECK(c[0].extra
          == "source=s3://b/src\nsource_note=copied without a digest: the copy's ETag is not the MD5 of its bytes, "
             "so the source's is unknown\n");

    auto mpu = record_for(S3Op::CompleteMultipartUpload, "b", "big", 200);
    mpu.upload_id = "up1";
    MultipartSizes sizes;
    sizes.add_part("up1", "1", 100);
    sizes.add_part("up1", "2", 50);
    sizes.add_part("up1", "1", 80); // re-uploaded part replaces the first
    mpu.response_body = "<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>big</Key>"
                        "<ETag>\"3858f62230ac3c915f300c664312c11f-2\"</ETag></CompleteMultipartUploadResult>";
    const auto total = sizes.take("up1");
    CHECK(sizes.take("up1") == -1);
    auto m = lineage_events(mpu, total);
    REQUIRE(m.size() == 1);
    CHECK(m[0].op == ROAR_OP_S3_MULTIPART_COMPLETE);
    CHECK(m[0].etag == "\"3858f62230ac3c915f300c664312c11f-2\"");
    CHECK(m[0].bytes == 130);
    CHECK(m[0].extra == "upload_id=up1\nsize=130\n");
    mpu.blake3_hex = "ab12";
    CHECK(lineage_events(mpu, 130).at(0).extra == "upload_id=up1\nsize=130\nblake3=ab12\n");
    mpu.blake3_hex.clear();
    mpu.note = "no BLAKE3: part 2 was not seen";
    CHECK(lineage_events(mpu, 130).at(0).extra == "upload_id=up1\nsize=130\nnote=no BLAKE3: part 2 was not seen\n");

    auto d = lineage_events(record_for(S3Op::DeleteObject, "b", "gone", 204));
    REQUIRE(d.size() == 1);
    CHECK(d[0].op == ROAR_OP_S3_DELETE);

    auto many = record_for(S3Op::DeleteObjects, "b", "", 200);
    many.pid = 77;
    many.response_body = "<DeleteResult><Deleted><Key>a&amp;b</Key></Deleted><Deleted><Key>c</Key>"
                         "<VersionId>v2</VersionId></Deleted><Error><Key>d</Key></Error></DeleteResult>";
    auto dm = lineage_events(many);
    REQUIRE(dm.size() == 2);
    CHECK(dm[0].uri == "s3://b/a&b");
    CHECK(dm[1].uri == "s3://b/c");
    CHECK(dm[1].extra == "version_id=v2\n");
    CHECK(dm[1].pid == 77);
}

namespace {

// A ListObjectsV2 page of bucket "b" listing `prefix` with `contents` (raw XML of <Contents> items).
std::string list_page(const std::string& prefix, bool truncated, const std::string& token, const std::string& contents)
{
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
           "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix>"
           + prefix + "</Prefix><MaxKeys>2</MaxKeys><IsTruncated>" + (truncated ? "true" : "false") + "</IsTruncated>"
           + (token.empty() ? "" : "<ContinuationToken>" + token + "</ContinuationToken>") + contents
           + "</ListBucketResult>";
}

} // namespace

TEST_CASE("a listing page is parsed into its prefix, objects, common prefixes and place in the listing",
          "[proxy][events][list]")
{
    const std::string xml = list_page("train/", true, "",
                                      "<Contents><Key>train/a.csv</Key><LastModified>x</LastModified>"
                                      "<ETag>&quot;e1&quot;</ETag><Size>10</Size></Contents>"
                                      "<Contents><Key>train/b&amp;c</Key><ETag>\"e2\"</ETag><Size>0</Size></Contents>"
                                      "<CommonPrefixes><Prefix>train/sub/</Prefix></CommonPrefixes>");
    auto page = parse_list_page(xml);
    REQUIRE(page);
    CHECK(page->bucket == "b");
    CHECK(page->prefix == "train/");
    CHECK(page->truncated);
    CHECK(page->first);
    REQUIRE(page->objects.size() == 2);
    CHECK(page->objects[0].key == "train/a.csv");
    CHECK(page->objects[0].etag == "\"e1\"");
    CHECK(page->objects[0].size == 10);
    CHECK(page->objects[1].key == "train/b&c");
    CHECK(page->objects[1].size == 0);
    CHECK(page->common_prefixes == std::vector<std::string>{"train/sub/"});

    auto later = parse_list_page(list_page("", false, "tok", ""));
    REQUIRE(later);
    CHECK(later->prefix.empty());
    CHECK_FALSE(later->truncated);
    CHECK_FALSE(later->first);
    CHECK(later->objects.empty());
}

TEST_CASE("a listing page's own elements are found after its entries too, as moto places them", "[proxy][events][list]")
{
    auto page = parse_list_page("<ListBucketResult><IsTruncated>true</IsTruncated>"
                                "<Contents><Key>t/a</Key><ETag>\"e\"</ETag><Size>1</Size></Contents>"
                                "<CommonPrefixes><Prefix>t/s/</Prefix></CommonPrefixes>"
                                "<Name>bkt</Name><Prefix>t/</Prefix><NextContinuationToken>n</NextContinuationToken>"
                                "</ListBucketResult>");
    REQUIRE(page);
    CHECK(page->bucket == "bkt");
    CHECK(page->prefix == "t/");
    CHECK(page->truncated);
    CHECK(page->first);
    REQUIRE(page->objects.size() == 1);
    CHECK(page->common_prefixes == std::vector<std::string>{"t/s/"});
}

TEST_CASE("a listing page with EncodingType url has its prefix and keys decoded", "[proxy][events][list]")
{
    std::string xml = list_page("my%20data/", false, "",
                                "<Contents><Key>my%20data/a+b%2Bc</Key><ETag>\"e\"</ETag><Size>1</Size></Contents>");
    xml.insert(xml.find("<MaxKeys>"), "<EncodingType>url</EncodingType>");
    auto page = parse_list_page(xml);
    REQUIRE(page);
    CHECK(page->prefix == "my data/");
    REQUIRE(page->objects.size() == 1);
    CHECK(page->objects[0].key == "my data/a b+c");
}

TEST_CASE("a listing page that is cut, an error or has a malformed size is not parsed", "[proxy][events][list]")
{
    const std::string xml =
        list_page("p/", false, "", "<Contents><Key>p/a</Key><ETag>\"e\"</ETag><Size>1</Size></Contents>");
    CHECK(parse_list_page(xml));
    CHECK_FALSE(parse_list_page(xml.substr(0, xml.size() - 5)));
    CHECK_FALSE(parse_list_page("<Error><Code>AccessDenied</Code></Error>"));
    CHECK_FALSE(parse_list_page(
        list_page("p/", false, "", "<Contents><Key>p/a</Key><ETag>\"e\"</ETag><Size>1x</Size></Contents>")));
    CHECK_FALSE(parse_list_page(list_page("p/", false, "", "<Contents><ETag>\"e\"</ETag><Size>1</Size></Contents>")));
}

TEST_CASE("a ListObjects page publishes one page event and one event per entry", "[proxy][events][list]")
{
    auto r = record_for(S3Op::ListObjects, "b", "", 200);
    r.response_body = list_page("train/", true, "",
                                "<Contents><Key>train/a</Key><ETag>\"e1\"</ETag><Size>3</Size></Contents>"
                                "<CommonPrefixes><Prefix>train/sub/</Prefix></CommonPrefixes>");
    r.response_bytes = r.response_body.size();
    r.pid = 7;
    auto evs = lineage_events(r);
    REQUIRE(evs.size() == 3);
    CHECK(evs[0].op == ROAR_OP_S3_LIST_PAGE);
    CHECK(evs[0].uri == "s3://b/train/");
    CHECK(evs[0].bytes == 1);
    CHECK(evs[0].extra == "truncated=1\nfirst=1\n");
    CHECK(evs[1].op == ROAR_OP_S3_LISTED);
    CHECK(evs[1].uri == "s3://b/train/a");
    CHECK(evs[1].etag == "\"e1\"");
    CHECK(evs[1].bytes == 3);
    CHECK(evs[1].pid == 7);
    CHECK(evs[1].extra == "prefix=train/\n");
    CHECK(evs[2].op == ROAR_OP_S3_LISTED);
    CHECK(evs[2].uri == "s3://b/train/sub/");
    CHECK(evs[2].bytes == -1);
    CHECK(evs[2].extra == "prefix=train/\ncommon_prefix=1\n");

    // A body longer than what the relay captured is not a whole page.
    r.response_bytes = r.response_body.size() + 1;
    CHECK(lineage_events(r).empty());
}

TEST_CASE("malformed values from the upstream never throw", "[proxy][events][malformed]")
{
    // Issue 10 item 11: an ETag with an empty character reference used to
    // end the process through std::stoul.
    for (const char* etag : {"&#x;", "&#;", "&#xZZ;", "&#99999999999999999999;", "&#x110000;", "&#0;", "&#-1;"}) {
        auto copy = record_for(S3Op::CopyObject, "b", "dst", 200);
        copy.response_body = std::string("<CopyObjectResult><ETag>") + etag + "</ETag></CopyObjectResult>";
        std::vector<S3Event> evs;
        REQUIRE_NOTHROW(evs = lineage_events(copy));
        REQUIRE(evs.size() == 1);
        CHECK(evs[0].etag == etag); // kept as sent
    }
    CHECK(xml_element("<ETag>&#x41;&#66;&#x;</ETag>", "ETag") == "AB&#x;");

    // A HEAD whose Content-Length the relay could not read: size unknown.
    auto head = record_for(S3Op::HeadObject, "b", "k", 200);
    CHECK(lineage_events(head).at(0).bytes == -1);
    head.content_length = 12;
    CHECK(lineage_events(head).at(0).bytes == 12);
    head.content_length = UINT64_MAX;
    CHECK(lineage_events(head).at(0).bytes == -1);
}

TEST_CASE("malformed upstream values never throw: bad character references, a non-numeric length", "[proxy][events]")
{
    // Found by fuzz_s3_xml: "&#x;" used to throw out of std::stoul.
    CHECK(*xml_element("<ETag>&#x;&#;&#x41;&#66;&#xZZ;&#99999999999999999999;</ETag>", "ETag")
          == "&#x;&#;AB&#xZZ;&#99999999999999999999;");
    auto copy = record_for(S3Op::CopyObject, "b", "dst", 200);
    copy.response_body = "<CopyObjectResult><ETag>&#x;</ETag></CopyObjectResult>";
    REQUIRE(lineage_events(copy).size() == 1);
    CHECK(lineage_events(copy)[0].etag == "&#x;");
    // A HEAD's Content-Length is read by the relay with a checked conversion
    // (parse_length); one it could not read arrives as "unknown".
    auto head = record_for(S3Op::HeadObject, "b", "k", 200);
    head.content_length.reset();
    CHECK(lineage_events(head).at(0).bytes == -1);
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

TEST_CASE("the recorder sums parts into the completion event and stamps the record's pid", "[proxy][events][recorder]")
{
    std::random_device rd;
    const std::string name = "/roar-proxy-unit-rec-" + std::to_string(rd());
    REQUIRE(test::create_ring(name, 64));
    auto pub = RingPublisher::open(name);
    REQUIRE(pub);
    Metrics metrics;
    Recorder recorder(std::move(*pub), metrics);

    for (const auto& [part, bytes] : {std::pair<std::string, std::uint64_t>{"1", 100}, {"2", 50}}) {
        auto up = record_for(S3Op::UploadPart, "b", "big", 200);
        up.upload_id = "u1";
        up.part_number = part;
        up.request_bytes = bytes;
        recorder.record(up);
    }
    auto done = record_for(S3Op::CompleteMultipartUpload, "b", "big", 200);
    done.upload_id = "u1";
    done.pid = 4242;
    done.response_body = "<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag></CompleteMultipartUploadResult>";
    recorder.record(done);
    recorder.record(record_for(S3Op::GetObject, "b", "missing", 404));

    const auto recs = test::read_ring(name);
    REQUIRE(recs.size() == 1); // parts and failures publish nothing
    CHECK(recs[0].ev.op == ROAR_OP_S3_MULTIPART_COMPLETE);
    CHECK(recs[0].ev.pid == 4242);
    CHECK(recs[0].ev.result == 150);
    CHECK(recs[0].s2 == "\"x-2\"");
    CHECK(recs[0].s3 == "upload_id=u1\nsize=150\n");
    CHECK(metrics.events_published.load() == 1);
    ::shm_unlink(name.c_str());
}
