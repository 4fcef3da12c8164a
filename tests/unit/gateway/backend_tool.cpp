// roar_gateway_backend_tool: drives the gateway's BackendClient (and its
// streaming copy) from the command line, for the functional smoke test
// against real S3 servers (tests/functional/gateway/backend_client.sh).
//
//   roar_gateway_backend_tool --endpoint URL [--region R] [--virtual-host]
//       --access-key-env VAR --secret-key-env VAR  OP ARGS...
//   OPs: create-bucket B | put B K FILE [CONTENT-TYPE] | get B K FILE [FIRST LAST] | head B K
//        | delete B K | copy SB SK DB DK | list B [PREFIX] [PAGE]
//        | multipart B K FILE PART_SIZE | abort-new B K
//        | stream-copy SB SK DB DK SIZE [THRESHOLD PART_SIZE]   (to --to-* backend)
//   roar_gateway_backend_tool config GATEWAY.TOML   (lists the backends it configures)
// Prints results on stdout; exits 1 with "error: ..." on stderr, 3 when
// the object does not exist.
#include "roar/proxy/gateway/backend_client.hpp"
#include "roar/proxy/gateway/object_copy.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace roar::proxy::gateway;

namespace {

struct Args {
    BackendConfig from;
    BackendConfig to;
    std::vector<std::string> rest;
};

[[noreturn]] void die(const std::string& why, int code = 1)
{
    std::fprintf(stderr, "error: %s\n", why.c_str());
    std::exit(code);
}

std::string env_or_die(const std::string& name)
{
    const char* v = std::getenv(name.c_str());
    if (!v || !*v) {
        die("environment variable " + name + " is not set");
    }
    return v;
}

Args parse(int argc, char** argv)
{
    Args a;
    a.from.name = "from";
    a.to.name = "to";
    int i = 1;
    auto value = [&](const char* flag) {
        if (i + 1 >= argc) {
            die(std::string(flag) + " needs a value");
        }
        return std::string(argv[++i]);
    };
    for (; i < argc && std::strncmp(argv[i], "--", 2) == 0; ++i) {
        const std::string f = argv[i];
        if (f == "--endpoint") {
            a.from.endpoint = value("--endpoint");
        } else if (f == "--region") {
            a.from.region = a.to.region = value("--region");
        } else if (f == "--virtual-host") {
            a.from.path_style = false;
        } else if (f == "--access-key-env") {
            a.from.credentials.access_key = env_or_die(value("--access-key-env"));
        } else if (f == "--secret-key-env") {
            a.from.credentials.secret_key = env_or_die(value("--secret-key-env"));
        } else if (f == "--to-endpoint") {
            a.to.endpoint = value("--to-endpoint");
        } else if (f == "--to-access-key-env") {
            a.to.credentials.access_key = env_or_die(value("--to-access-key-env"));
        } else if (f == "--to-secret-key-env") {
            a.to.credentials.secret_key = env_or_die(value("--to-secret-key-env"));
        } else {
            die("unknown option " + f);
        }
    }
    for (; i < argc; ++i) {
        a.rest.emplace_back(argv[i]);
    }
    if (a.rest.empty() || (a.from.endpoint.empty() && a.rest[0] != "config")) {
        die("usage: roar_gateway_backend_tool --endpoint URL --access-key-env V --secret-key-env V OP ARGS...");
    }
    return a;
}

std::uint64_t number(const std::string& s)
{
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
        die("not a number: " + s);
    }
    return v;
}

template <typename T> T check(BackendResult<T> r)
{
    if (!r) {
        die(r.error().describe(), r.error().not_found() ? 3 : 1);
    }
    return std::move(*r);
}

void check(BackendResult<void> r)
{
    if (!r) {
        die(r.error().describe(), r.error().not_found() ? 3 : 1);
    }
}

// A BodySource over an open file.
BodySource file_source(std::FILE* f, std::uint64_t limit)
{
    auto left = std::make_shared<std::uint64_t>(limit);
    return [f, left](char* buf, std::size_t n) -> std::optional<std::size_t> {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(n, *left));
        const std::size_t got = want ? std::fread(buf, 1, want, f) : 0;
        if (got < want && std::ferror(f)) {
            return std::nullopt;
        }
        *left -= got;
        return got;
    };
}

std::uint64_t file_size(std::FILE* f)
{
    std::fseek(f, 0, SEEK_END);
    const long n = std::ftell(f);
    std::fseek(f, 0, SEEK_SET);
    return static_cast<std::uint64_t>(n);
}

std::FILE* open_or_die(const std::string& path, const char* mode)
{
    std::FILE* f = std::fopen(path.c_str(), mode);
    if (!f) {
        die("cannot open " + path + ": " + std::strerror(errno));
    }
    return f;
}

} // namespace

int main(int argc, char** argv)
{
    Args a = parse(argc, argv);
    if (a.rest[0] == "config") {
        // Reads a gateway.toml with the process environment and lists its backends.
        if (a.rest.size() < 2) {
            die("config needs a file");
        }
        auto c = load_gateway_config(a.rest[1], roar::proxy::process_env());
        if (!c) {
            die(c.error().message);
        }
        for (const auto& b : c->backends) {
            std::printf("backend %s %s %s %s %s\n", b.name.c_str(), b.endpoint.c_str(), b.bucket.c_str(),
                        b.quota_bytes ? std::to_string(*b.quota_bytes).c_str() : "unlimited", b.residency.c_str());
        }
        return 0;
    }
    BackendClient client(a.from);
    const auto& r = a.rest;
    const std::string& op = r[0];
    auto need = [&](std::size_t n) {
        if (r.size() < n + 1) {
            die(op + " needs " + std::to_string(n) + " arguments");
        }
    };
    if (op == "create-bucket") {
        need(1);
        check(client.create_bucket(r[1]));
    } else if (op == "put") {
        need(3);
        std::FILE* f = open_or_die(r[3], "rb");
        PutOptions o;
        o.content_type = r.size() > 4 ? r[4] : "";
        o.meta = {{"roar-test", "yes"}};
        const std::uint64_t size = file_size(f);
        std::printf("%s\n", check(client.put_object(r[1], r[2], size, file_source(f, size), o)).c_str());
        std::fclose(f);
    } else if (op == "get") {
        need(3);
        std::FILE* f = open_or_die(r[3], "wb");
        GetOptions o;
        if (r.size() > 5) {
            o.range = ByteRange{number(r[4]), number(r[5])};
        }
        auto resp = check(client.get_object(
            r[1], r[2], o, nullptr, [&](const char* p, std::size_t n) { return std::fwrite(p, 1, n, f) == n; }));
        std::fclose(f);
        std::printf("%u %llu %s\n", resp.status, static_cast<unsigned long long>(resp.head.size),
                    resp.head.etag.c_str());
    } else if (op == "head") {
        need(2);
        auto h = check(client.head_object(r[1], r[2]));
        std::printf("%llu %s %s", static_cast<unsigned long long>(h.size), h.etag.c_str(), h.content_type.c_str());
        for (const auto& [n, v] : h.meta) {
            std::printf(" %s=%s", n.c_str(), v.c_str());
        }
        std::printf("\n");
    } else if (op == "delete") {
        need(2);
        check(client.delete_object(r[1], r[2]));
    } else if (op == "copy") {
        need(4);
        std::printf("%s\n", check(client.copy_object(r[1], r[2], r[3], r[4])).c_str());
    } else if (op == "list") {
        need(1);
        std::string token;
        const unsigned page = r.size() > 3 ? static_cast<unsigned>(number(r[3])) : 1000;
        int pages = 0;
        do {
            auto p = check(client.list_objects(r[1], r.size() > 2 ? r[2] : "", "", token, page));
            ++pages;
            for (const auto& o : p.objects) {
                std::printf("%s %llu %s\n", o.key.c_str(), static_cast<unsigned long long>(o.size), o.etag.c_str());
            }
            token = p.truncated ? p.next_token : "";
        } while (!token.empty());
        std::fprintf(stderr, "pages: %d\n", pages);
    } else if (op == "multipart") {
        need(4);
        std::FILE* f = open_or_die(r[3], "rb");
        const std::uint64_t size = file_size(f);
        const std::uint64_t part = number(r[4]);
        const std::string id = check(client.create_multipart(r[1], r[2], {}));
        std::vector<UploadedPart> parts;
        for (std::uint64_t at = 0; at < size; at += part) {
            const std::uint64_t n = std::min(part, size - at);
            const int num = static_cast<int>(parts.size() + 1);
            parts.push_back({num, check(client.upload_part(r[1], r[2], id, num, n, file_source(f, n)))});
        }
        std::printf("%s\n", check(client.complete_multipart(r[1], r[2], id, parts)).c_str());
        std::fclose(f);
    } else if (op == "abort-new") {
        need(2);
        const std::string id = check(client.create_multipart(r[1], r[2], {}));
        check(client.abort_multipart(r[1], r[2], id));
        std::printf("%s\n", id.c_str());
    } else if (op == "stream-copy") {
        need(5);
        if (a.to.endpoint.empty()) {
            die("stream-copy needs --to-endpoint and its keys");
        }
        BackendClient target(a.to);
        CopyRequest req;
        req.source = &client;
        req.from = {"from", r[1], r[2]};
        req.target = &target;
        req.to = {"to", r[3], r[4]};
        req.size = number(r[5]);
        if (r.size() > 7) {
            req.multipart_threshold = number(r[6]);
            req.part_size = number(r[7]);
        }
        auto res = check(stream_copy(req));
        std::printf("%s %s\n", res.etag.c_str(), res.blake3.c_str());
    } else {
        die("unknown operation " + op);
    }
    return 0;
}
