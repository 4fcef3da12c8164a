// roar_gateway_sql_tool: prints the gateway's metadata SQL for the test
// that runs it on a real PostgreSQL (tests/functional/gateway/sql_postgres.sh).
//   roar_gateway_sql_tool schema sqlite|postgresql   the schema
//   roar_gateway_sql_tool statements                 every data statement, one per line ($N placeholders)
#include "roar/collector/store/postgres_engine.hpp"
#include "roar/proxy/gateway/sql_metadata.hpp"

#include <cstdio>
#include <string>

using namespace roar::proxy::gateway;

int main(int argc, char** argv)
{
    const std::string op = argc > 1 ? argv[1] : "";
    if (op == "schema" && argc > 2) {
        const std::string engine = argv[2];
        std::fputs(
            metadata_schema_sql(engine == "postgresql" ? MetadataEngine::postgresql : MetadataEngine::sqlite).c_str(),
            stdout);
        return 0;
    }
    if (op == "statements") {
        for (const auto s : metadata_statements()) {
            const std::string text = roar::collector::postgres_placeholders(s);
            std::printf("%s\n", text.c_str());
        }
        return 0;
    }
    std::fputs("usage: roar_gateway_sql_tool schema sqlite|postgresql | statements\n", stderr);
    return 2;
}
