// The PostgreSQL engine's pure parts: store URLs without their password
// (for roar.toml) and redacted (for messages), project schema names, and
// the ?N -> $N placeholder rewrite. The engine against a server is tested
// by tests/functional/teams and the lineage-postgres scenarios.
#include "roar/collector/store/postgres_engine.hpp"

#include <catch2/catch.hpp>

using namespace roar::collector;

TEST_CASE("a store URL's password is split off and its user, host and database kept", "[collector][postgres]")
{
    const auto split = split_store_url_password("postgresql://ana:p%40ss:w@db.example.org:5432/lineage");
    CHECK(split.url == "postgresql://ana@db.example.org:5432/lineage");
    CHECK(split.password == "p@ss:w");
    CHECK(split_store_url_password("postgresql://ana@h/db").password.empty());
    CHECK(split_store_url_password("postgresql://ana@h/db").url == "postgresql://ana@h/db");
}

TEST_CASE("a password in the query string is split off too", "[collector][postgres]")
{
    const auto split = split_store_url_password("postgresql://h/db?sslmode=require&password=x1&connect_timeout=3");
    CHECK(split.url == "postgresql://h/db?sslmode=require&connect_timeout=3");
    CHECK(split.password == "x1");
}

TEST_CASE("messages show a store URL with its password as ***", "[collector][postgres]")
{
    CHECK(redact_store_url("postgresql://ana:secret@h:5432/db") == "postgresql://ana:***@h:5432/db");
    CHECK(redact_store_url("postgres://h/db?password=secret") == "postgres://h/db?password=***");
    CHECK(redact_store_url("postgresql://ana@h/db") == "postgresql://ana@h/db");
}

TEST_CASE("only postgresql:// and postgres:// URLs name a shared store", "[collector][postgres]")
{
    CHECK(is_postgres_url("postgresql://h/db"));
    CHECK(is_postgres_url("postgres://h/db"));
    CHECK_FALSE(is_postgres_url("mysql://h/db"));
    CHECK_FALSE(is_postgres_url(".roar/roar.db"));
}

TEST_CASE("a project's schema is roar_<name>, for names of [a-z0-9_] only", "[collector][postgres]")
{
    CHECK(postgres_schema_for("team_1").value() == "roar_team_1");
    CHECK_FALSE(postgres_schema_for("").has_value());
    CHECK_FALSE(postgres_schema_for("Team").has_value());
    CHECK_FALSE(postgres_schema_for("a;drop").has_value());
    CHECK_FALSE(postgres_schema_for(std::string(49, 'a')).has_value());
}

TEST_CASE("?N placeholders become $N outside quoted text", "[collector][postgres]")
{
    CHECK(postgres_placeholders("SELECT a FROM t WHERE b = ?1 AND c < ?12")
          == "SELECT a FROM t WHERE b = $1 AND c < $12");
    CHECK(postgres_placeholders("SELECT '?1', \"?2\" FROM t WHERE x = ?3")
          == "SELECT '?1', \"?2\" FROM t WHERE x = $3");
}
