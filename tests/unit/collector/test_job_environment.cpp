// The job environment every entry point runs jobs with: the shim leads
// LD_PRELOAD, an enclosing job's ring and ids are replaced, the caller's
// ROAR_KEEP_ENV names stay and the proxy's join them.
#include "roar/collector/job_environment.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>

using namespace roar::collector;

namespace {

std::vector<std::string> named(const std::vector<std::string>& env, const std::string& name)
{
    std::vector<std::string> out;
    std::copy_if(env.begin(), env.end(), std::back_inserter(out),
                 [&](const std::string& e) { return e.rfind(name + "=", 0) == 0; });
    return out;
}

} // namespace

TEST_CASE("the job environment replaces an enclosing job's and keeps the caller's kept names", "[collector][session]")
{
    setenv("ROAR_RING", "/roar-outer", 1);
    setenv("ROAR_JOB_ID", "outer", 1);
    setenv("ROAR_KEEP_ENV", "MY_ENDPOINT", 1);
    setenv("LD_PRELOAD", "/lib/other.so", 1);
    std::vector<std::string> env = job_environment("/lib/roar/libroar_preload.so", "/roar-inner", "inner");
    unsetenv("ROAR_RING");
    unsetenv("ROAR_JOB_ID");
    unsetenv("LD_PRELOAD");
    CHECK(named(env, "ROAR_RING") == std::vector<std::string>{"ROAR_RING=/roar-inner"});
    CHECK(named(env, "ROAR_JOB_ID") == std::vector<std::string>{"ROAR_JOB_ID=inner"});
    CHECK(named(env, "LD_PRELOAD")
          == std::vector<std::string>{"LD_PRELOAD=/lib/roar/libroar_preload.so:/lib/other.so"});
    CHECK(named(env, "ROAR_KEEP_ENV") == std::vector<std::string>{"ROAR_KEEP_ENV=MY_ENDPOINT"});

    set_environment(env, {"AWS_ENDPOINT_URL_S3=http://127.0.0.1:9", "ROAR_KEEP_ENV=AWS_ENDPOINT_URL_S3"});
    CHECK(named(env, "ROAR_KEEP_ENV") == std::vector<std::string>{"ROAR_KEEP_ENV=MY_ENDPOINT:AWS_ENDPOINT_URL_S3"});
    CHECK(named(env, "AWS_ENDPOINT_URL_S3") == std::vector<std::string>{"AWS_ENDPOINT_URL_S3=http://127.0.0.1:9"});
    unsetenv("ROAR_KEEP_ENV");
}
