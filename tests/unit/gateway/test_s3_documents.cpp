// The gateway's own S3 documents and the client bodies it reads, and the
// XML reader's limits on untrusted input.
#include "roar/proxy/gateway/s3_documents.hpp"
#include "roar/proxy/gateway/xml_tree.hpp"

#include <catch2/catch.hpp>

using namespace roar::proxy::gateway;

TEST_CASE("no room anywhere is InsufficientStorage with HTTP 507", "[gateway][s3]")
{
    const auto e = s3::insufficient_storage("data", 4096);
    CHECK(e.status == 507);
    CHECK(e.code == "InsufficientStorage");
    const std::string xml = roar::proxy::error_xml(e, "/data/k", "REQ1");
    auto doc = parse_xml(xml);
    REQUIRE(doc);
    CHECK(doc->child_text("Code") == "InsufficientStorage");
    CHECK(doc->child_text("Message").find("4096") != std::string::npos);
}

TEST_CASE("CompleteMultipartUpload bodies are read strictly", "[gateway][s3]")
{
    auto parts = s3::parse_complete_multipart(
        R"(<?xml version="1.0"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
        R"(<Part><ETag>"a"</ETag><PartNumber>1</PartNumber></Part>)"
        R"(<Part><PartNumber>3</PartNumber><ETag>&quot;c&quot;</ETag></Part></CompleteMultipartUpload>)");
    REQUIRE(parts);
    REQUIRE(parts->size() == 2);
    CHECK((*parts)[0].number == 1);
    CHECK((*parts)[0].etag == "\"a\"");
    CHECK((*parts)[1].etag == "\"c\"");
    auto order = s3::parse_complete_multipart("<CompleteMultipartUpload><Part><PartNumber>2</PartNumber></Part>"
                                              "<Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>");
    CHECK(order.error().code == "InvalidPartOrder");
    CHECK(s3::parse_complete_multipart("<CompleteMultipartUpload/>").error().code == "MalformedXML");
    CHECK(s3::parse_complete_multipart("<Other/>").error().code == "MalformedXML");
    CHECK(s3::parse_complete_multipart("<CompleteMultipartUpload><Part><PartNumber>0</PartNumber></Part>"
                                       "</CompleteMultipartUpload>")
              .error()
              .code
          == "MalformedXML");
    CHECK(s3::parse_complete_multipart("<CompleteMultipartUpload><Part>").error().code == "MalformedXML");
}

TEST_CASE("DeleteObjects bodies list 1 to 1000 keys", "[gateway][s3]")
{
    auto d = s3::parse_delete_objects("<Delete><Quiet>true</Quiet><Object><Key>a &amp; b</Key></Object>"
                                      "<Object><Key>c</Key><VersionId>v</VersionId></Object></Delete>");
    REQUIRE(d);
    CHECK(d->quiet);
    CHECK(d->keys == std::vector<std::string>{"a & b", "c"});
    std::string many = "<Delete>";
    for (int i = 0; i < 1001; ++i) {
        many += "<Object><Key>k</Key></Object>";
    }
    many += "</Delete>";
    CHECK_FALSE(s3::parse_delete_objects(many));
    CHECK_FALSE(s3::parse_delete_objects("<Delete><Object/></Delete>"));
}

TEST_CASE("results the gateway writes parse back", "[gateway][s3]")
{
    auto init = parse_xml(s3::initiate_multipart_xml("data", "a<b", "up1"));
    REQUIRE(init);
    CHECK(init->child_text("Key") == "a<b");
    CHECK(init->child_text("UploadId") == "up1");
    auto done = parse_xml(s3::complete_multipart_xml("http://gw/data/k", "data", "k", "\"x-2\""));
    CHECK(done->child_text("ETag") == "\"x-2\"");
    auto copied = parse_xml(s3::copy_object_xml("\"e\"", 0));
    CHECK(copied->child_text("LastModified") == "1970-01-01T00:00:00.000Z");
    auto del = parse_xml(s3::delete_result_xml({{"a", std::nullopt}, {"b", s3::internal_error("boom")}}, false));
    CHECK(del->children_named("Deleted").size() == 1);
    CHECK(del->child("Error")->child_text("Code") == "InternalError");
    auto quiet = parse_xml(s3::delete_result_xml({{"a", std::nullopt}}, true));
    CHECK(quiet->children.empty());
    auto buckets = parse_xml(s3::list_buckets_xml({{"analytics", 1000}}));
    CHECK(buckets->child("Buckets")->child("Bucket")->child_text("Name") == "analytics");
}

TEST_CASE("the XML reader refuses DOCTYPEs, entities and oversized input", "[gateway][s3][xml]")
{
    auto laughs = parse_xml(R"(<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>)"
                            R"(<Delete><Object><Key>&lol2;</Key></Object></Delete>)");
    REQUIRE_FALSE(laughs);
    CHECK(laughs.error().message.find("DOCTYPE") != std::string::npos);
    XmlLimits small;
    small.max_bytes = 10;
    CHECK_FALSE(parse_xml("<a>0123456789</a>", small));
    XmlLimits shallow;
    shallow.max_depth = 2;
    CHECK_FALSE(parse_xml("<a><b><c/></b></a>", shallow));
    CHECK(parse_xml("<a><b/></a>", shallow));
    XmlLimits few;
    few.max_elements = 3;
    CHECK_FALSE(parse_xml("<a><b/><b/><b/></a>", few));
    CHECK_FALSE(parse_xml(""));
    CHECK_FALSE(parse_xml("<a></b>"));
    auto ns = parse_xml(R"(<x:Error xmlns:x="urn:y"><x:Code>C</x:Code></x:Error>)");
    REQUIRE(ns);
    CHECK(ns->name == "Error");
    CHECK(ns->child_text("Code") == "C");
}
