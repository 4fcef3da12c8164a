// Environment repair for exec/spawn (env_repair.c).
#include "fake_libc.hpp"

#include <string>
#include <vector>

using namespace roar::preload::test;

namespace {

std::vector<std::string> to_vec(char* const* env)
{
    std::vector<std::string> out;
    for (char* const* e = env; e && *e; ++e) {
        out.emplace_back(*e);
    }
    return out;
}

int count_prefix(const std::vector<std::string>& v, const std::string& prefix)
{
    int n = 0;
    for (auto& s : v) {
        n += s.rfind(prefix, 0) == 0;
    }
    return n;
}

std::string value_of(const std::vector<std::string>& v, const std::string& name)
{
    for (auto& s : v) {
        if (s.rfind(name + "=", 0) == 0) {
            return s.substr(name.size() + 1);
        }
    }
    return "<absent>";
}

} // namespace

TEST_CASE("a complete environment is passed through as the same array", "[preload][env]")
{
    ShimFixture f;
    char* envp[] = {(char*)"ROAR_RING=/roar-test",
                    (char*)"ROAR_PRELOAD=/opt/roar/lib/roar/libroar_preload.so",
                    (char*)"ROAR_JOB_ID=job1",
                    (char*)"ROAR_KEEP_ENV=AWS_ENDPOINT_URL:AWS_ENDPOINT_URL_S3",
                    (char*)"AWS_ENDPOINT_URL=http://127.0.0.1:9",
                    (char*)"LD_PRELOAD=/opt/roar/lib/roar/libroar_preload.so",
                    nullptr};
    roar_env_scratch scratch;
    CHECK(roar_env_repair(f.S, envp, &scratch) == envp);
    CHECK(scratch.map == nullptr);
}

TEST_CASE("an empty or NULL environment gets the shim and every saved variable", "[preload][env]")
{
    ShimFixture f;
    char* empty[] = {nullptr};
    for (char* const* envp : {static_cast<char* const*>(empty), static_cast<char* const*>(nullptr)}) {
        roar_env_scratch scratch;
        auto env = to_vec(roar_env_repair(f.S, envp, &scratch));
        CHECK(value_of(env, "LD_PRELOAD") == "/opt/roar/lib/roar/libroar_preload.so");
        CHECK(value_of(env, "ROAR_RING") == "/roar-test");
        CHECK(value_of(env, "ROAR_JOB_ID") == "job1");
        CHECK(value_of(env, "AWS_ENDPOINT_URL") == "http://127.0.0.1:9");
        CHECK(value_of(env, "AWS_ENDPOINT_URL_S3") == "<absent>"); // was not set at start
        CHECK(env.size() == 6);
    }
}

TEST_CASE("other preloaded libraries are kept after the shim", "[preload][env]")
{
    ShimFixture f;
    char* envp[] = {(char*)"A=1", (char*)"LD_PRELOAD=/usr/lib/libfoo.so libbar.so", nullptr};
    roar_env_scratch scratch;
    auto env = to_vec(roar_env_repair(f.S, envp, &scratch));
    CHECK(count_prefix(env, "LD_PRELOAD=") == 1);
    CHECK(value_of(env, "LD_PRELOAD") == "/opt/roar/lib/roar/libroar_preload.so:/usr/lib/libfoo.so libbar.so");
    CHECK(value_of(env, "A") == "1");
}

TEST_CASE("values the program set deliberately are kept", "[preload][env]")
{
    ShimFixture f;
    char* envp[] = {(char*)"AWS_ENDPOINT_URL=http://elsewhere", (char*)"ROAR_JOB_ID=other", nullptr};
    roar_env_scratch scratch;
    auto env = to_vec(roar_env_repair(f.S, envp, &scratch));
    CHECK(value_of(env, "AWS_ENDPOINT_URL") == "http://elsewhere");
    CHECK(value_of(env, "ROAR_JOB_ID") == "other");
    CHECK(count_prefix(env, "ROAR_JOB_ID=") == 1);
    CHECK(value_of(env, "ROAR_RING") == "/roar-test");
}

TEST_CASE("the shim is recognised in LD_PRELOAD by path or file name", "[preload][env]")
{
    const char* self = "/opt/roar/lib/roar/libroar_preload.so";
    CHECK(roar_env_ld_has_shim("/opt/roar/lib/roar/libroar_preload.so", self));
    CHECK(roar_env_ld_has_shim("/x/libfoo.so:/usr/lib/roar/libroar_preload.so", self));
    CHECK(roar_env_ld_has_shim("libroar_preload.so", self));
    CHECK_FALSE(roar_env_ld_has_shim("/x/notlibroar_preload.so", self));
    CHECK_FALSE(roar_env_ld_has_shim("/opt/roar/lib/roar/libroar_preload.so.bak", self));
    CHECK_FALSE(roar_env_ld_has_shim("", self));
}

TEST_CASE("a large environment is repaired in mapped scratch, not on the stack", "[preload][env]")
{
    ShimFixture f;
    std::vector<std::string> storage;
    for (int i = 0; i < 5000; ++i) {
        storage.push_back("VAR" + std::to_string(i) + "=" + std::to_string(i));
    }
    std::vector<char*> envp;
    for (auto& s : storage) {
        envp.push_back(s.data());
    }
    envp.push_back(nullptr);
    roar_env_scratch scratch;
    auto env = to_vec(roar_env_repair(f.S, envp.data(), &scratch));
    CHECK(scratch.map != nullptr);
    CHECK(env.size() == 5000 + 6);
    CHECK(value_of(env, "VAR4999") == "4999");
    CHECK(value_of(env, "ROAR_RING") == "/roar-test");
    roar_env_release(&scratch);
    CHECK(scratch.map == nullptr);
}
