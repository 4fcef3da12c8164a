// The record's vocabulary: an artifact kind reads back as the name it was
// given, known or not, and goes to JSON as that name.
#include "roar/collector/job_record.hpp"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>

using namespace roar::collector;

TEST_CASE("an artifact kind is \"file\" unless given, and compares with its name", "[collector][job_record]")
{
    const ArtifactKind none;
    CHECK(none == "file");
    CHECK(none.view() == "file");
    const ArtifactKind s3 = std::string("s3");
    CHECK(s3 == "s3");
    CHECK(s3 != "file");
    CHECK(s3 == ArtifactKind("s3"));
    CHECK(s3 == std::string_view("s3"));
    CHECK(std::string(ArtifactKind("dataset")) == "dataset");
}

TEST_CASE("an artifact kind roar does not know keeps its name", "[collector][job_record]")
{
    std::string name = "model-registry-entry";
    const ArtifactKind a(name);
    name = "changed"; // the kind holds its own copy
    CHECK(a == "model-registry-entry");
    const ArtifactKind b("model-registry-entry");
    CHECK(a.view().data() == b.view().data()); // kept once
    std::ostringstream out;
    out << a;
    CHECK(out.str() == "model-registry-entry");
}

TEST_CASE("an artifact kind goes to and comes from JSON as its name", "[collector][job_record]")
{
    ArtifactUse use;
    use.kind = "dataset";
    const nlohmann::json j = use.kind;
    CHECK(j == "dataset");
    CHECK(nlohmann::json("s3").get<ArtifactKind>() == "s3");
    CHECK_THROWS(nlohmann::json(3).get<ArtifactKind>());
}
