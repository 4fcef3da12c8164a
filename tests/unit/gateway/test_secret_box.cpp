// Tenant secrets at rest: sealed with AES-256-GCM under an scrypt key, bound
// to their access key, and a wrong passphrase is caught at start.
#include "gateway_test_support.hpp"

#include "roar/proxy/gateway/secret_box.hpp"
#include "roar/proxy/gateway/tenant_keys.hpp"

#include <catch2/catch.hpp>

#include <cctype>
#include <fstream>
#include <sstream>

using namespace roar::test;
using namespace roar::proxy::gateway;

namespace {

// Cheap scrypt parameters so the tests stay fast (the default is N = 2^15).
const KdfParams k_fast{1024, 8, 1};

} // namespace

TEST_CASE("a sealed secret opens with the same key and context only", "[gateway][secrets]")
{
    auto box = SecretBox::derive("correct horse battery staple", "0123456789abcdef", k_fast);
    REQUIRE(box);
    const std::string sealed = box->seal("wJalrXUtnFEMI/K7MDENG", "key:RKAAAA");
    CHECK(sealed.rfind("v1:", 0) == 0);
    CHECK(sealed.find("wJalrXUtnFEMI") == std::string::npos);
    CHECK(box->seal("wJalrXUtnFEMI/K7MDENG", "key:RKAAAA") != sealed); // a fresh nonce each time
    auto opened = box->open(sealed, "key:RKAAAA");
    REQUIRE(opened);
    CHECK(*opened == "wJalrXUtnFEMI/K7MDENG");
    CHECK_FALSE(box->open(sealed, "key:RKBBBB")); // moved to another key's row
    auto other = SecretBox::derive("another passphrase!!", "0123456789abcdef", k_fast);
    REQUIRE(other);
    CHECK_FALSE(other->open(sealed, "key:RKAAAA"));
    std::string tampered = sealed;
    tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
    CHECK_FALSE(box->open(tampered, "key:RKAAAA"));
    CHECK_FALSE(box->open("v2:xyz", "key:RKAAAA"));
    CHECK_FALSE(box->open("v1:!!!", "key:RKAAAA"));
}

TEST_CASE("the store remembers the salt and refuses another passphrase", "[gateway][secrets]")
{
    TempStore s;
    auto first = open_secret_box(*s, "the team passphrase", k_fast);
    REQUIRE(first);
    const std::string sealed = first->seal("s3cr3t", "ctx");
    auto kdf = s->setting("secrets.kdf");
    REQUIRE(*kdf);
    CHECK((*kdf)->rfind("scrypt:1024:8:1:", 0) == 0);
    // A restart with the same passphrase opens old secrets (same salt).
    auto again = open_secret_box(*s, "the team passphrase", KdfParams{});
    REQUIRE(again);
    CHECK(*again->open(sealed, "ctx") == "s3cr3t");
    auto wrong = open_secret_box(*s, "not the passphrase", k_fast);
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().message.find("passphrase does not match") != std::string::npos);
}

TEST_CASE("an issued key's secret is stored only sealed and resolves to its tenant", "[gateway][secrets]")
{
    TempStore s;
    const GatewayConfig c = example_config();
    auto box = open_secret_box(*s, "the team passphrase", k_fast);
    REQUIRE(box);
    REQUIRE(*s->create_tenant("team-a", 1000));
    auto pair = issue_key(*s, *box, "team-a", 1000);
    REQUIRE(pair);
    CHECK(pair->access_key.size() == 20);
    CHECK(pair->access_key.rfind("RK", 0) == 0);
    CHECK(pair->secret_key.size() == 40);
    auto rec = s->find_key(pair->access_key);
    REQUIRE(*rec);
    CHECK((*rec)->secret_sealed.find(pair->secret_key) == std::string::npos);

    // The database file never holds the secret in clear (on PostgreSQL
    // there is no file; the sealed row is checked above).
    std::ifstream in(s.where.dir / "gw.db", std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    CHECK(bytes.str().find(pair->secret_key) == std::string::npos);

    auto caller = resolve_caller(c, *s, &*box, pair->access_key, 2000);
    REQUIRE(caller);
    REQUIRE(*caller);
    CHECK((*caller)->tenant == "team-a");
    CHECK((*caller)->credentials.secret_key == pair->secret_key);
    CHECK_FALSE((*caller)->static_key);

    auto static_caller = resolve_caller(c, *s, &*box, "AKIAGATEWAY", 2000);
    REQUIRE(*static_caller);
    CHECK((*static_caller)->tenant == "default");
    CHECK((*static_caller)->static_key);

    CHECK_FALSE(*resolve_caller(c, *s, &*box, "RKUNKNOWN", 2000));
    CHECK_FALSE(*resolve_caller(c, *s, nullptr, pair->access_key, 2000)); // no [secrets]: tenant keys never match

    REQUIRE(*s->set_tenant_disabled("team-a", true));
    CHECK_FALSE(*resolve_caller(c, *s, &*box, pair->access_key, 2000));
    REQUIRE(*s->set_tenant_disabled("team-a", false));
    REQUIRE(*s->expire_key(pair->access_key, 3000));
    CHECK(*resolve_caller(c, *s, &*box, pair->access_key, 2999));
    CHECK_FALSE(*resolve_caller(c, *s, &*box, pair->access_key, 3000));
}

TEST_CASE("generated keys are distinct and use safe alphabets", "[gateway][secrets]")
{
    const KeyPair a = generate_key_pair();
    const KeyPair b = generate_key_pair();
    CHECK(a.access_key != b.access_key);
    CHECK(a.secret_key != b.secret_key);
    for (const char ch : a.secret_key) {
        CHECK(std::isalnum(static_cast<unsigned char>(ch)));
    }
}
