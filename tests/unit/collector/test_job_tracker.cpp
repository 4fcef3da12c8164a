// Event interpretation: what becomes an input, an output or a deletion,
// driven by synthetic events on real files.
#include "roar/collector/job_tracker.hpp"
#include "roar/collector/syscall_filter.h"

#include "raw_event.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <ctime>
#include <fmt/format.h>
#include <fcntl.h>
#include <map>
#include <sys/wait.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

using namespace roar::collector;
using roar::test::TempDir;

namespace {

struct Harness {
    TempDir dir;
    JobTracker tracker;
    uint64_t index = 0;
    Harness()
        : tracker(dir.path().string(), PathFilter(PathFilter::default_excludes(), {}),
                  [](const std::string& p) { return blake3_file(p); })
    { }
    void send(uint16_t op, uint32_t pid, int fd, int flags, int64_t result, std::string s1 = {}, std::string s2 = {},
              std::string s3 = {}, int fd2 = 0)
    {
        RawEvent e = roar::test::raw_event(op, pid, fd, flags, result, s1, s2, s3, fd2);
        e.index = index++;
        tracker.on_event(e);
    }
    void start(uint32_t pid, uint32_t ppid)
    {
        send(ROAR_OP_PROC_START, pid, int(ppid), 0, 0, "/usr/bin/python3", dir.path().string(),
             std::string("python3\0job.py", 14));
    }
    JobRecord finish()
    {
        JobRecord job;
        tracker.finish(job);
        return job;
    }
    std::string path(const char* name) const { return (dir / name).string(); }
};

const ArtifactUse* find(const std::vector<ArtifactUse>& uses, const std::string& path)
{
    for (const auto& u : uses) {
        if (u.path == path) {
            return &u;
        }
    }
    return nullptr;
}

} // namespace

TEST_CASE("a read file is an input and a written file an output, with BLAKE3 digests", "[collector][tracker]")
{
    Harness h;
    roar::test::write_file(h.dir / "in.csv", "a,b\n1,2\n");
    h.start(100, 1);
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 3, "in.csv");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 4, "out.bin");
    roar::test::write_file(h.dir / "out.bin", "result");
    JobRecord job = h.finish();
    REQUIRE(job.inputs.size() == 1);
    CHECK(job.inputs[0].path == h.path("in.csv"));
    CHECK(job.inputs[0].hashes.at("blake3") == blake3_hex("a,b\n1,2\n"));
    REQUIRE(job.outputs.size() == 1);
    CHECK(job.outputs[0].hashes.at("blake3") == blake3_hex("result"));
    CHECK(*job.outputs[0].size == 6);
}

TEST_CASE("read then rewritten: the input digest is of the bytes before the first write", "[collector][tracker]")
{
    Harness h;
    roar::test::write_file(h.dir / "state.json", "before");
    h.start(100, 1);
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 3, "state.json");
    h.send(ROAR_OP_CLOSE, 100, 3, 0, 0);
    // The shim's sync point before the write-open: the file is still intact.
    h.send(ROAR_OP_PRE_MODIFY, 100, ROAR_AT_FDCWD, O_WRONLY | O_TRUNC, 0, "state.json");
    roar::test::write_file(h.dir / "state.json", "after!");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_WRONLY | O_TRUNC, 3, "state.json");
    JobRecord job = h.finish();
    const ArtifactUse* in = find(job.inputs, h.path("state.json"));
    const ArtifactUse* out = find(job.outputs, h.path("state.json"));
    REQUIRE(in);
    REQUIRE(out);
    CHECK(in->hashes.at("blake3") == blake3_hex("before"));
    CHECK(out->hashes.at("blake3") == blake3_hex("after!"));
}

TEST_CASE("a write-only open without truncation changes nothing until the first write", "[collector][tracker]")
{
    // `sort -o f f`: opens f for writing, reads it, then truncates and writes.
    Harness h;
    roar::test::write_file(h.dir / "f", "b\na\n");
    h.start(100, 1);
    h.send(ROAR_OP_PRE_MODIFY, 100, ROAR_AT_FDCWD, O_WRONLY | O_CREAT, 0, "f");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_WRONLY | O_CREAT, 3, "f");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 4, "f");
    h.send(ROAR_OP_PRE_MODIFY, 100, 3, 0, 0);
    roar::test::write_file(h.dir / "f", "a\nb\n");
    h.send(ROAR_OP_TRUNCATE, 100, 3, 0, 0);
    JobRecord job = h.finish();
    const ArtifactUse* in = find(job.inputs, h.path("f"));
    const ArtifactUse* out = find(job.outputs, h.path("f"));
    REQUIRE(in);
    REQUIRE(out);
    CHECK(in->hashes.at("blake3") == blake3_hex("b\na\n"));
    CHECK(out->hashes.at("blake3") == blake3_hex("a\nb\n"));
}

TEST_CASE("a file created and deleted inside the job is neither input nor output", "[collector][tracker]")
{
    Harness h;
    h.start(100, 1);
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 3, "scratch.tmp");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 4, "scratch.tmp");
    h.send(ROAR_OP_UNLINK, 100, ROAR_AT_FDCWD, 0, 0, "scratch.tmp");
    JobRecord job = h.finish();
    CHECK(job.inputs.empty());
    CHECK(job.outputs.empty());
    CHECK(job.deleted.empty());
}

TEST_CASE("a file from before the job that the job unlinks is deleted", "[collector][tracker]")
{
    Harness h;
    roar::test::write_file(h.dir / "old.log", "stale");
    h.start(100, 1);
    h.send(ROAR_OP_PRE_MODIFY, 100, ROAR_AT_FDCWD, 0, 0, "old.log");
    std::filesystem::remove(h.dir / "old.log");
    h.send(ROAR_OP_UNLINK, 100, ROAR_AT_FDCWD, 0, 0, "old.log");
    JobRecord job = h.finish();
    REQUIRE(job.deleted.size() == 1);
    CHECK(job.deleted[0].path == h.path("old.log"));
    CHECK(job.inputs.empty());
    CHECK(job.outputs.empty());
}

TEST_CASE("atomic save: the renamed target is the output, not the temp name", "[collector][tracker]")
{
    Harness h;
    h.start(100, 1);
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_EXCL, 3, "model.bin.tmp");
    h.send(ROAR_OP_WRITE_FD, 100, 3, 0, 0);
    roar::test::write_file(h.dir / "model.bin", "weights");
    h.send(ROAR_OP_RENAME, 100, ROAR_AT_FDCWD, 0, 0, "model.bin.tmp", "model.bin", {}, ROAR_AT_FDCWD);
    JobRecord job = h.finish();
    REQUIRE(job.outputs.size() == 1);
    CHECK(job.outputs[0].path == h.path("model.bin"));
    CHECK(job.deleted.empty());
}

TEST_CASE("an exchange swaps two names' contents: both are outputs, each with what it holds, a read one an input",
          "[collector][tracker]")
{
    Harness h;
    roar::test::write_file(h.dir / "model.bin", "old");
    roar::test::write_file(h.dir / "a.txt", "A");
    roar::test::write_file(h.dir / "b.txt", "B");
    h.start(100, 1);
    h.start(101, 100);
    // 101 writes new.tmp, 100 exchanges it with model.bin (the sync points first).
    h.send(ROAR_OP_OPEN, 101, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 3, "new.tmp");
    roar::test::write_file(h.dir / "new.tmp", "new");
    h.send(ROAR_OP_WRITE_FD, 101, 3, 0, 0);
    h.send(ROAR_OP_PRE_MODIFY, 100, ROAR_AT_FDCWD, 0, 0, "model.bin");
    h.send(ROAR_OP_PRE_MODIFY, 100, ROAR_AT_FDCWD, 0, 0, "new.tmp");
    std::filesystem::rename(h.dir / "new.tmp", h.dir / "swap");
    std::filesystem::rename(h.dir / "model.bin", h.dir / "new.tmp");
    std::filesystem::rename(h.dir / "swap", h.dir / "model.bin");
    h.send(ROAR_OP_RENAME, 100, ROAR_AT_FDCWD, RENAME_EXCHANGE, 0, "new.tmp", "model.bin", {}, ROAR_AT_FDCWD);
    // a.txt read, then exchanged with b.txt before any sync point hashed it.
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 4, "a.txt");
    h.send(ROAR_OP_READ_FD, 100, 4, 0, 1);
    std::filesystem::rename(h.dir / "a.txt", h.dir / "swap");
    std::filesystem::rename(h.dir / "b.txt", h.dir / "a.txt");
    std::filesystem::rename(h.dir / "swap", h.dir / "b.txt");
    h.send(ROAR_OP_RENAME, 100, ROAR_AT_FDCWD, RENAME_EXCHANGE, 0, "a.txt", "b.txt", {}, ROAR_AT_FDCWD);
    JobRecord job = h.finish();
    const ArtifactUse* model = find(job.outputs, h.path("model.bin"));
    const ArtifactUse* tmp = find(job.outputs, h.path("new.tmp"));
    REQUIRE(model);
    REQUIRE(tmp);
    CHECK(model->hashes.at("blake3") == blake3_hex("new"));
    CHECK(model->pid == std::optional<uint32_t>(101)); // the writer of the content it holds
    CHECK(tmp->hashes.at("blake3") == blake3_hex("old"));
    CHECK(tmp->pid == std::optional<uint32_t>(100)); // placed there by the exchange
    const ArtifactUse* read = find(job.inputs, h.path("a.txt"));
    REQUIRE(read);
    CHECK(read->hashes.at("blake3") == blake3_hex("A"));
    CHECK(find(job.outputs, h.path("a.txt")));
    CHECK(find(job.outputs, h.path("b.txt")));
    CHECK(job.outputs.size() == 4);
    CHECK(job.inputs.size() == 1);
    CHECK(job.deleted.empty());
    CHECK(job.notes.empty());
}

TEST_CASE("two directories exchanged swap the paths below them and the working directories in them",
          "[collector][tracker]")
{
    Harness h;
    std::filesystem::create_directories(h.dir / "x");
    std::filesystem::create_directories(h.dir / "y");
    h.start(100, 1);
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 3, "x/only_x.txt");
    roar::test::write_file(h.dir / "x/only_x.txt", "x");
    h.send(ROAR_OP_CHDIR, 100, ROAR_AT_FDCWD, 0, 0, "y");
    std::filesystem::rename(h.dir / "x", h.dir / "swap");
    std::filesystem::rename(h.dir / "y", h.dir / "x");
    std::filesystem::rename(h.dir / "swap", h.dir / "y");
    h.send(ROAR_OP_RENAME, 100, ROAR_AT_FDCWD, RENAME_EXCHANGE, 0, "../x", "../y", {}, ROAR_AT_FDCWD);
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 4, "here.txt");
    roar::test::write_file(h.dir / "x/here.txt", "here");
    JobRecord job = h.finish();
    CHECK(find(job.outputs, h.path("y/only_x.txt")));
    CHECK(find(job.outputs, h.path("x/here.txt"))); // the cwd went along with its directory
    CHECK(job.outputs.size() == 2);
    CHECK(job.notes.empty());
}

TEST_CASE("O_RDWR opened but only read is an input, not an output", "[collector][tracker]")
{
    Harness h;
    roar::test::write_file(h.dir / "db.sqlite", "pages");
    h.start(100, 1);
    h.send(ROAR_OP_PRE_MODIFY, 100, ROAR_AT_FDCWD, O_RDWR, 0, "db.sqlite");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDWR, 5, "db.sqlite");
    JobRecord job = h.finish();
    CHECK(find(job.inputs, h.path("db.sqlite")));
    CHECK_FALSE(find(job.outputs, h.path("db.sqlite")));

    Harness w;
    roar::test::write_file(w.dir / "db.sqlite", "pages");
    w.start(100, 1);
    w.send(ROAR_OP_PRE_MODIFY, 100, ROAR_AT_FDCWD, O_RDWR, 0, "db.sqlite");
    w.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDWR, 5, "db.sqlite");
    w.send(ROAR_OP_WRITE_FD, 100, 5, 0, 0);
    JobRecord written = w.finish();
    CHECK(find(written.inputs, w.path("db.sqlite")));
    CHECK(find(written.outputs, w.path("db.sqlite")));
}

TEST_CASE("writes through dup'd, inherited and forked fds land on the right file", "[collector][tracker]")
{
    Harness h;
    roar::test::write_file(h.dir / "log.txt", "x");
    roar::test::write_file(h.dir / "child.txt", "y");
    h.start(100, 1);
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDWR, 3, "log.txt");
    h.send(ROAR_OP_DUP, 100, 3, 0, 1); // dup2(3, 1)
    h.send(ROAR_OP_FORK, 100, 0, 0, 0);
    h.send(ROAR_OP_PROC_START, 101, 100, ROAR_START_FORKED, 0);
    h.send(ROAR_OP_WRITE_FD, 101, 1, 0, 0); // the child writes stdout
    // A new image inheriting fd 4 open on child.txt for writing.
    h.send(ROAR_OP_PROC_START, 102, 100, 0, 0, "/bin/cat", h.dir.path().string(), std::string("cat", 3));
    h.send(ROAR_OP_FD_INHERITED, 102, 4, O_WRONLY, 0, h.path("child.txt"));
    h.send(ROAR_OP_WRITE_FD, 102, 4, 0, 0);
    JobRecord job = h.finish();
    CHECK(find(job.outputs, h.path("log.txt")));
    CHECK(find(job.outputs, h.path("child.txt")));
}

TEST_CASE("relative paths follow chdir and dirfds", "[collector][tracker]")
{
    Harness h;
    std::filesystem::create_directories(h.dir / "sub/deeper");
    roar::test::write_file(h.dir / "sub/deeper/a.txt", "A");
    roar::test::write_file(h.dir / "sub/b.txt", "B");
    h.start(100, 1);
    h.send(ROAR_OP_CHDIR, 100, ROAR_AT_FDCWD, 0, 0, "sub");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 3, "b.txt");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY | O_DIRECTORY, 4, "deeper");
    h.send(ROAR_OP_OPEN, 100, 4, O_RDONLY, 5, "a.txt");
    JobRecord job = h.finish();
    CHECK(find(job.inputs, h.path("sub/b.txt")));
    CHECK(find(job.inputs, h.path("sub/deeper/a.txt")));
    CHECK(job.inputs.size() == 2); // the directory itself is not an input
}

TEST_CASE("a Go executable that never ran the shim gets the Go note", "[collector][tracker]")
{
    Harness h;
    h.start(100, 1);
    h.send(ROAR_OP_EXEC, 100, 0, ROAR_EXEC_GO | ROAR_EXEC_STATIC, 0, "/opt/tool", {}, std::string("tool", 4));
    JobRecord job = h.finish();
    bool go_noted = false;
    for (const auto& p : job.processes) {
        go_noted = go_noted || (!p.observed && p.notes.front().find("Go executable") != std::string::npos);
    }
    CHECK(go_noted);
}

TEST_CASE("killed and unobserved processes are marked", "[collector][tracker]")
{
    Harness h;
    h.tracker.set_root(100, {"python3", "job.py"});
    h.start(100, 1);
    h.send(ROAR_OP_EXEC, 100, 0, ROAR_EXEC_STATIC, 0, "/tmp/static-tool", {}, std::string("static-tool", 11));
    h.send(ROAR_OP_SPAWN, 100, 0, 0, 200, "/bin/sh", {}, std::string("sh\0-c\0sleep 9", 13));
    h.tracker.add_reaped({{200, SIGKILL}});
    JobRecord job = h.finish();
    bool static_noted = false, killed_noted = false;
    for (const auto& p : job.processes) {
        if (p.pid == 100 && !p.observed) {
            static_noted = !p.notes.empty() && p.notes.front().find("statically linked") != std::string::npos;
        }
        if (p.pid == 200) {
            killed_noted = p.signal == SIGKILL && p.exit_code == 128 + SIGKILL;
        }
    }
    CHECK(static_noted);
    CHECK(killed_noted);
    CHECK_FALSE(job.notes.empty());
}

TEST_CASE("the tracer field says who reported each process", "[collector][tracker][tracer]")
{
    Harness h;
    h.start(100, 1);
    h.send(ROAR_OP_PROC_START, 200, 100, ROAR_START_TRACED, 0, "/tmp/static-tool", h.dir.path().string(),
           std::string("static-tool", 11));
    h.send(ROAR_OP_PROC_START, 201, 200, ROAR_START_FORKED | ROAR_START_TRACED, 0);
    h.send(ROAR_OP_PROC_START, 300, 200, ROAR_START_FS_TRACED, 0, "/usr/bin/cat", h.dir.path().string(),
           std::string("cat", 3));
    h.send(ROAR_OP_EXEC, 100, 0, ROAR_EXEC_STATIC, 0, "/tmp/other-static", {}, std::string("other-static", 12));
    JobRecord job = h.finish();
    std::map<uint32_t, std::string> tracer;
    for (const auto& p : job.processes) {
        tracer[p.pid] = p.observed ? p.tracer : "unobserved:" + p.tracer;
    }
    CHECK(tracer[200] == "ptrace");
    CHECK(tracer[201] == "ptrace");
    CHECK(tracer[300] == "shim+ptrace");
    CHECK(tracer[100] == "unobserved:"); // its exec of a static program was not followed
}

TEST_CASE("events before a process's PROC_START belong to it, not to an earlier image", "[collector][tracker][tracer]")
{
    // Under the tracer, the loader's opens precede the shim's PROC_START.
    Harness h;
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY | O_CLOEXEC, 3, "/etc/ld.so.cache");
    h.send(ROAR_OP_CLOSE, 100, 3, 0, 0, {}, {}, {}, 3);
    h.start(100, 1);
    JobRecord job = h.finish();
    REQUIRE(job.processes.size() == 1);
    CHECK(job.processes[0].exe == "/usr/bin/python3");
    CHECK(job.processes[0].tracer == "shim");
    for (const auto& note : job.processes[0].notes) {
        CHECK(note != "replaced by exec");
    }
}

TEST_CASE("S3 objects from the proxy become inputs and outputs", "[collector][tracker][s3]")
{
    Harness h;
    h.send(ROAR_OP_S3_GET, 7, 0, 200, 1234, "s3://b/data.csv", "\"etag-in\"", "blake3=abcd\n");
    h.send(ROAR_OP_S3_PUT, 7, 0, 200, 99, "s3://b/model.bin", "\"etag-out\"", "");
    JobRecord job = h.finish();
    REQUIRE(job.inputs.size() == 1);
    CHECK(job.inputs[0].kind == "s3");
    CHECK(job.inputs[0].hashes.at("etag") == "\"etag-in\"");
    CHECK(job.inputs[0].hashes.at("blake3") == "abcd");
    CHECK(*job.inputs[0].size == 1234);
    REQUIRE(job.outputs.size() == 1);
    CHECK(job.outputs[0].path == "s3://b/model.bin");
}

TEST_CASE("an S3 object read in part is an input known by its ETag and size, with a note", "[collector][tracker][s3]")
{
    Harness h;
    h.send(ROAR_OP_S3_GET, 7, 0, 200, 1048576, "s3://b/big.bin", "\"e1\"", "size=11534336\ncut=1\n");
    h.send(ROAR_OP_S3_GET, 7, 0, 200, 4096, "s3://b/big.bin", "\"e1\"", "size=11534336\ncut=1\n");
    h.send(ROAR_OP_S3_GET, 7, 0, 206, 10, "s3://b/ranged.bin", "\"e2\"",
           "range=bytes=0-9\ncontent_range=bytes 0-9/42\nsize=42\n");
    h.send(ROAR_OP_S3_GET, 7, 0, 200, 700, "s3://b/nosize.bin", "\"e3\"", "cut=1\n");
    JobRecord job = h.finish();
    const ArtifactUse* big = find(job.inputs, "s3://b/big.bin");
    const ArtifactUse* ranged = find(job.inputs, "s3://b/ranged.bin");
    const ArtifactUse* nosize = find(job.inputs, "s3://b/nosize.bin");
    REQUIRE(big);
    REQUIRE(ranged);
    REQUIRE(nosize);
    CHECK(big->hashes == std::map<std::string, std::string>{{"etag", "\"e1\""}});
    CHECK(big->size == std::optional<uint64_t>(11534336));
    CHECK(big->notes == std::vector<std::string>{"read partially (the transfer stopped before the end of the object)"});
    CHECK(ranged->size == std::optional<uint64_t>(42));
    CHECK(ranged->notes == std::vector<std::string>{"read partially (bytes=0-9)"});
    CHECK(nosize->size == std::nullopt); // never the bytes that happened to go through
}

TEST_CASE("a whole read after a partial one gives the input its BLAKE3, unless the object changed in between",
          "[collector][tracker][s3]")
{
    Harness h;
    h.send(ROAR_OP_S3_GET, 7, 0, 206, 10, "s3://b/same.bin", "\"e1\"", "range=bytes=0-9\nsize=42\n");
    h.send(ROAR_OP_S3_GET, 7, 0, 200, 42, "s3://b/same.bin", "\"e1\"", "blake3=ab12\n");
    h.send(ROAR_OP_S3_GET, 7, 0, 206, 10, "s3://b/changed.bin", "\"e1\"", "range=bytes=0-9\nsize=42\n");
    h.send(ROAR_OP_S3_GET, 7, 0, 200, 50, "s3://b/changed.bin", "\"e2\"", "blake3=cd34\n");
    JobRecord job = h.finish();
    const ArtifactUse* same = find(job.inputs, "s3://b/same.bin");
    const ArtifactUse* changed = find(job.inputs, "s3://b/changed.bin");
    REQUIRE(same);
    REQUIRE(changed);
    CHECK(same->hashes == std::map<std::string, std::string>{{"etag", "\"e1\""}, {"blake3", "ab12"}});
    CHECK(same->size == std::optional<uint64_t>(42));
    CHECK(changed->hashes == std::map<std::string, std::string>{{"etag", "\"e1\""}});
}

TEST_CASE("a copy's source is an input with the ETag the proxy gives it, or a note saying it has none",
          "[collector][tracker][s3]")
{
    Harness h;
    h.send(ROAR_OP_S3_COPY, 7, 0, 200, -1, "s3://b/dst", "\"c1\"", "source=s3://b/src\nsource_etag=\"c1\"\n");
    h.send(ROAR_OP_S3_COPY, 7, 0, 200, -1, "s3://b/dst-kms", "\"k\"",
           "source=s3://b/src-kms\nsource_note=copied without a digest\n");
    h.send(ROAR_OP_S3_COPY, 7, 0, 200, -1, "s3://b/dst-bare", "\"c2\"", "source=s3://b/src-bare\n");
    // A source the job read itself keeps what that read saw.
    h.send(ROAR_OP_S3_GET, 7, 0, 200, 5, "s3://b/read", "\"r1\"", "blake3=ab12\n");
    h.send(ROAR_OP_S3_COPY, 7, 0, 200, -1, "s3://b/dst-read", "\"x\"", "source=s3://b/read\nsource_etag=\"x\"\n");
    JobRecord job = h.finish();
    const ArtifactUse* src = find(job.inputs, "s3://b/src");
    const ArtifactUse* kms = find(job.inputs, "s3://b/src-kms");
    const ArtifactUse* bare = find(job.inputs, "s3://b/src-bare");
    const ArtifactUse* read = find(job.inputs, "s3://b/read");
    REQUIRE(src);
    REQUIRE(kms);
    REQUIRE(bare);
    REQUIRE(read);
    CHECK(src->hashes == std::map<std::string, std::string>{{"etag", "\"c1\""}});
    CHECK(src->notes.empty());
    CHECK(src->pid == std::nullopt); // pid 7 is not a process of this job
    CHECK(kms->hashes.empty());
    CHECK(kms->notes == std::vector<std::string>{"copied without a digest"});
    CHECK(bare->hashes.empty());
    CHECK(bare->notes == std::vector<std::string>{"copied without a digest: the source's is unknown"});
    CHECK(read->hashes == std::map<std::string, std::string>{{"etag", "\"r1\""}, {"blake3", "ab12"}});
    CHECK(find(job.outputs, "s3://b/dst")->hashes.at("etag") == "\"c1\"");
}

TEST_CASE("an object copied in parts is one input, with the ETag of the copier's HEAD or its if-match, partial "
          "only when its parts did not cover it",
          "[collector][tracker][s3]")
{
    Harness h;
    // aws s3 cp s3://b/big s3://b/big2: a HEAD, then one part copy per range.
    h.send(ROAR_OP_S3_HEAD, 7, 0, 200, 12, "s3://b/big", "\"h-2\"", "");
    h.send(ROAR_OP_S3_PART_COPY, 7, 0, 200, -1, "s3://b/big", {},
           "range=bytes=5-11\nupload_id=u1\npart_number=2\ndestination=s3://b/big2\n");
    h.send(ROAR_OP_S3_PART_COPY, 7, 0, 200, -1, "s3://b/big", {},
           "range=bytes=0-4\nupload_id=u1\npart_number=1\ndestination=s3://b/big2\n");
    h.send(ROAR_OP_S3_MULTIPART_COMPLETE, 7, 0, 200, 12, "s3://b/big2", "\"c-2\"", "size=12\n");
    // Only the first half copied; the if-match names the ETag exactly.
    h.send(ROAR_OP_S3_HEAD, 7, 0, 200, 100, "s3://b/half", "\"h-old\"", "");
    h.send(ROAR_OP_S3_PART_COPY, 7, 0, 200, -1, "s3://b/half", "\"m1\"", "range=bytes=0-49\nupload_id=u2\n");
    // HEADed by another process: its ETag is not taken, nor its size.
    h.send(ROAR_OP_S3_HEAD, 8, 0, 200, 10, "s3://b/other", "\"o1\"", "");
    h.send(ROAR_OP_S3_PART_COPY, 7, 0, 200, -1, "s3://b/other", {}, "range=bytes=0-9\nupload_id=u3\n");
    // A HEAD of another version is not the one copied.
    h.send(ROAR_OP_S3_HEAD, 7, 0, 200, 10, "s3://b/versioned", "\"v-old\"", "version_id=v1\n");
    h.send(ROAR_OP_S3_PART_COPY, 7, 0, 200, -1, "s3://b/versioned", {}, "version_id=v2\nupload_id=u4\n");
    // The job's own output copied again is no input.
    h.send(ROAR_OP_S3_PUT, 7, 0, 200, 3, "s3://b/mine", "\"p1\"", "");
    h.send(ROAR_OP_S3_PART_COPY, 7, 0, 200, -1, "s3://b/mine", {}, "upload_id=u5\n");
    JobRecord job = h.finish();

    const ArtifactUse* big = find(job.inputs, "s3://b/big");
    REQUIRE(big);
    CHECK(big->hashes == std::map<std::string, std::string>{{"etag", "\"h-2\""}});
    CHECK(big->size == std::optional<uint64_t>(12));
    CHECK(big->notes.empty());
    REQUIRE(find(job.outputs, "s3://b/big2"));
    CHECK(find(job.outputs, "s3://b/big2")->hashes.at("etag") == "\"c-2\"");

    const ArtifactUse* half = find(job.inputs, "s3://b/half");
    REQUIRE(half);
    CHECK(half->hashes == std::map<std::string, std::string>{{"etag", "\"m1\""}});
    CHECK(half->size == std::optional<uint64_t>(100));
    CHECK(half->notes
          == std::vector<std::string>{"read partially (copied in parts that do not cover the whole object)"});

    const ArtifactUse* other = find(job.inputs, "s3://b/other");
    REQUIRE(other);
    CHECK(other->hashes.empty());
    CHECK(other->size == std::nullopt);
    CHECK(other->notes
          == std::vector<std::string>{"copied in parts without a digest: the version read is unknown (no "
                                      "x-amz-copy-source-if-match, and no HEAD of it by the same process before)",
                                      "copied in parts: whether they cover the whole object is unknown"});

    const ArtifactUse* versioned = find(job.inputs, "s3://b/versioned");
    REQUIRE(versioned);
    CHECK(versioned->hashes.empty());
    CHECK(find(job.inputs, "s3://b/mine") == nullptr);
    CHECK(job.inputs.size() == 4); // HEADs alone make no input
}

TEST_CASE("the HEADs kept for part copies are the latest 65,536: an older one gives the version-unknown note",
          "[collector][tracker][s3]")
{
    Harness h;
    h.send(ROAR_OP_S3_HEAD, 7, 0, 200, 12, "s3://b/early", "\"e1\"", "");
    for (int i = 0; i < 65536; ++i) { // a sync checking what exists
        h.send(ROAR_OP_S3_HEAD, 7, 0, 200, 1, "s3://b/listed/" + std::to_string(i), "\"l\"", "");
    }
    h.send(ROAR_OP_S3_HEAD, 7, 0, 200, 12, "s3://b/late", "\"t1\"", "");
    for (const char* source : {"s3://b/early", "s3://b/late"}) {
        h.send(ROAR_OP_S3_PART_COPY, 7, 0, 200, -1, source, {}, "range=bytes=0-11\nupload_id=u1\n");
    }
    JobRecord job = h.finish();
    const ArtifactUse* early = find(job.inputs, "s3://b/early");
    REQUIRE(early);
    CHECK(early->hashes.empty());
    CHECK(!early->notes.empty());
    CHECK(early->notes.front().starts_with("copied in parts without a digest: the version read is unknown"));
    const ArtifactUse* late = find(job.inputs, "s3://b/late");
    REQUIRE(late);
    CHECK(late->hashes == std::map<std::string, std::string>{{"etag", "\"t1\""}});
    CHECK(late->notes.empty());
}

TEST_CASE("a multipart object keeps the proxy's BLAKE3 or its note saying why there is none",
          "[collector][tracker][s3]")
{
    Harness h;
    h.send(ROAR_OP_S3_MULTIPART_COMPLETE, 7, 0, 200, 300, "s3://b/whole.bin", "\"e-3\"", "size=300\nblake3=ab12\n");
    h.send(ROAR_OP_S3_MULTIPART_COMPLETE, 7, 0, 200, -1, "s3://b/part.bin", "\"e-2\"",
           "note=no BLAKE3: part 2 was not seen\n");
    JobRecord job = h.finish();
    REQUIRE(job.outputs.size() == 2);
    const auto& part = job.outputs[0].path == "s3://b/part.bin" ? job.outputs[0] : job.outputs[1];
    const auto& whole = job.outputs[0].path == "s3://b/part.bin" ? job.outputs[1] : job.outputs[0];
    CHECK(whole.hashes.at("blake3") == "ab12");
    CHECK(*whole.size == 300);
    CHECK(whole.notes.empty());
    CHECK(part.hashes.count("blake3") == 0);
    CHECK(part.notes == std::vector<std::string>{"no BLAKE3: part 2 was not seen"});
}

TEST_CASE("finish hashes the remaining inputs and outputs in one batch, in the order the job first used them, and "
          "records them in path order",
          "[collector][tracker]")
{
    TempDir dir;
    std::vector<std::vector<std::string>> batches;
    int single = 0;
    JobTracker tracker(
        dir.path().string(), PathFilter(PathFilter::default_excludes(), {}),
        [&](const std::string& p) {
            ++single;
            return blake3_file(p);
        },
        [&](const std::vector<std::string>& paths) {
            batches.push_back(paths);
            std::vector<roar::Result<FileDigest>> out;
            for (const auto& p : paths) {
                out.push_back(blake3_file(p));
            }
            return out;
        });
    roar::test::write_file(dir / "b_in", "input b");
    roar::test::write_file(dir / "a_in", "input a");
    roar::test::write_file(dir / "rewritten", "before");
    auto send = [&](uint16_t op, int fd, int flags, int64_t result, std::string s1) {
        tracker.on_event(roar::test::raw_event(op, 100, fd, flags, result, s1));
    };
    send(ROAR_OP_PROC_START, 1, 0, 0, "/bin/sh");
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_RDONLY, 3, "b_in");
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_RDONLY, 4, "a_in");
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_RDONLY, 5, "rewritten");
    // The sync point before the rewrite hashes the input there and then.
    send(ROAR_OP_PRE_MODIFY, ROAR_AT_FDCWD, O_WRONLY | O_TRUNC, 0, "rewritten");
    CHECK(single == 1);
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_WRONLY | O_TRUNC, 6, "rewritten");
    roar::test::write_file(dir / "rewritten", "after");
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 7, "out");
    roar::test::write_file(dir / "out", "output");
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_RDONLY, 8, "vanished"); // failed to hash: not recorded

    JobRecord job;
    tracker.finish(job);
    CHECK(single == 1);
    REQUIRE(batches.size() == 1);
    const std::string d = dir.path().string() + "/";
    CHECK(batches[0] == std::vector<std::string>{d + "b_in", d + "a_in", d + "rewritten", d + "out", d + "vanished"});
    REQUIRE(job.inputs.size() == 3);
    CHECK(job.inputs[0].path == d + "a_in");
    CHECK(job.inputs[0].hashes.at("blake3") == blake3_hex("input a"));
    CHECK(job.inputs[1].path == d + "b_in");
    CHECK(job.inputs[1].hashes.at("blake3") == blake3_hex("input b"));
    CHECK(job.inputs[2].path == d + "rewritten");
    CHECK(job.inputs[2].hashes.at("blake3") == blake3_hex("before"));
    REQUIRE(job.outputs.size() == 2);
    CHECK(job.outputs[0].hashes.at("blake3") == blake3_hex("output"));
    CHECK(job.outputs[1].hashes.at("blake3") == blake3_hex("after"));
}

namespace {

// A tracker whose "digest" of a file is the BLAKE3 of its path and whose
// size is the path's length, so no file need exist; the size of each batch
// it hashes goes to `batch_sizes` when given.
JobTracker digest_of_name_tracker(const TempDir& dir, std::vector<size_t>* batch_sizes = nullptr)
{
    auto fake = [](const std::string& p) {
        FileDigest d;
        d.blake3 = blake3_hex(p);
        d.identity.size = p.size();
        d.identity.is_regular = true;
        return roar::Result<FileDigest>(d);
    };
    return JobTracker(dir.path().string(), PathFilter(PathFilter::default_excludes(), {}), fake,
                      [fake, batch_sizes](const std::vector<std::string>& paths) {
                          if (batch_sizes) {
                              batch_sizes->push_back(paths.size());
                          }
                          std::vector<roar::Result<FileDigest>> out;
                          for (const auto& p : paths) {
                              out.push_back(fake(p));
                          }
                          return out;
                      });
}

} // namespace

TEST_CASE("finish records many paths a batch at a time, in path order, moved directories included",
          "[collector][tracker]")
{
    // A job can read a million files: they are hashed and recorded a batch
    // at a time (so digests never pile up), and a directory renamed by the
    // job carries what was read below it.
    TempDir dir;
    std::vector<size_t> batch_sizes;
    JobTracker tracker = digest_of_name_tracker(dir, &batch_sizes);
    auto send = [&](uint16_t op, int fd, int flags, int64_t result, std::string s1, std::string s2 = {}) {
        tracker.on_event(roar::test::raw_event(op, 100, fd, flags, result, s1, s2));
    };
    send(ROAR_OP_PROC_START, 1, 0, 0, "/bin/sh");
    constexpr int k_files = 10000;
    for (int i = k_files - 1; i >= 0; --i) { // opened in reverse: the record is in path order anyway
        send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_RDONLY, 3, fmt::format("data/{:05}.bin", i));
        send(ROAR_OP_CLOSE, 3, 0, 0, "");
    }
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_RDONLY, 3, "tmpdir/a");
    send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_RDONLY, 4, "tmpdir/sub/b");
    tracker.on_event(
        roar::test::raw_event(ROAR_OP_RENAME, 100, ROAR_AT_FDCWD, 0, 0, "tmpdir", "final", {}, ROAR_AT_FDCWD));

    JobRecord job;
    tracker.finish(job);
    REQUIRE(batch_sizes.size() > 1);
    size_t total = 0;
    for (size_t n : batch_sizes) {
        CHECK(n <= 4096);
        total += n;
    }
    const std::string d = dir.path().string() + "/";
    REQUIRE(job.inputs.size() == k_files + 2);
    CHECK(job.inputs.front().path == d + "data/00000.bin");
    CHECK(job.inputs[k_files - 1].path == d + "data/09999.bin");
    CHECK(std::is_sorted(job.inputs.begin(), job.inputs.end(),
                         [](const ArtifactUse& a, const ArtifactUse& b) { return a.path < b.path; }));
    // What was read under tmpdir/ was read before the move: inputs, with
    // the bytes now under final/ (the move changed no content).
    CHECK(job.inputs[k_files].path == d + "tmpdir/a");
    CHECK(job.inputs[k_files].hashes.at("blake3") == blake3_hex(d + "final/a"));
    CHECK(job.inputs[k_files + 1].path == d + "tmpdir/sub/b");
    CHECK(job.inputs[k_files + 1].hashes.at("blake3") == blake3_hex(d + "final/sub/b"));
    REQUIRE(job.outputs.size() == 2);
    CHECK(job.outputs[0].path == d + "final/a");
    CHECK(job.outputs[1].path == d + "final/sub/b");
    CHECK(total == k_files + 2);
}

TEST_CASE("finish records paths first used in any order in path order, each with its own digest",
          "[collector][tracker]")
{
    // The tracker frees each path as it records it, walking them in the
    // order the job first used them; the record is put in path order after.
    TempDir dir;
    JobTracker tracker = digest_of_name_tracker(dir);
    auto send = [&](uint16_t op, int fd, int flags, int64_t result, std::string s1) {
        tracker.on_event(roar::test::raw_event(op, 100, fd, flags, result, s1));
    };
    send(ROAR_OP_PROC_START, 1, 0, 0, "/bin/sh");
    // Long names, so that the paths fill many of the tracker's text blocks,
    // and an order unrelated to the names' (a fixed shuffle).
    constexpr int k_files = 9000;
    std::vector<int> order(k_files);
    for (int i = 0; i < k_files; ++i) {
        order[size_t(i)] = int((int64_t(i) * 7919) % k_files); // 7919 is prime: a permutation
    }
    const std::string padding(120, 'p');
    for (const int i : order) {
        const std::string name = fmt::format("set/{}/{:05}", padding, i);
        switch (i % 3) {
        case 0: // read: an input
            send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_RDONLY, 3, name);
            send(ROAR_OP_CLOSE, 3, 0, 0, "");
            break;
        case 1: // written: an output
            send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 3, name);
            send(ROAR_OP_CLOSE, 3, 0, 0, "");
            break;
        default: // read, then deleted: an input and a deletion
            send(ROAR_OP_OPEN, ROAR_AT_FDCWD, O_RDONLY, 3, name);
            send(ROAR_OP_CLOSE, 3, 0, 0, "");
            send(ROAR_OP_UNLINK, ROAR_AT_FDCWD, 0, 0, name);
            break;
        }
    }

    JobRecord job;
    tracker.finish(job);
    const std::string d = dir.path().string() + "/set/" + padding + "/";
    const auto by_path = [](const ArtifactUse& a, const ArtifactUse& b) { return a.path < b.path; };
    REQUIRE(job.inputs.size() == 6000);
    REQUIRE(job.outputs.size() == 3000);
    REQUIRE(job.deleted.size() == 3000);
    CHECK(std::is_sorted(job.inputs.begin(), job.inputs.end(), by_path));
    CHECK(std::is_sorted(job.outputs.begin(), job.outputs.end(), by_path));
    CHECK(std::is_sorted(job.deleted.begin(), job.deleted.end(), by_path));
    CHECK(job.inputs.front().path == d + "00000");
    CHECK(job.inputs.back().path == d + "08999");
    CHECK(job.outputs.front().path == d + "00001");
    CHECK(job.deleted.front().path == d + "00002");
    for (const auto* uses : {&job.inputs, &job.outputs}) {
        for (const ArtifactUse& use : *uses) {
            REQUIRE(use.hashes.at("blake3") == blake3_hex(use.path));
            REQUIRE(use.size == use.path.size());
        }
    }
}

namespace {

// The tracker's start, read now (after a pause, so file times taken before
// this fall in an earlier tick of the kernel's coarse clock than the start).
void restart_clock(JobTracker& tracker)
{
    const timespec pause{0, 50 * 1000 * 1000};
    nanosleep(&pause, nullptr);
    timespec coarse{};
    timespec precise{};
    clock_gettime(CLOCK_REALTIME_COARSE, &coarse);
    clock_gettime(CLOCK_REALTIME, &precise);
    tracker.set_start(coarse, precise);
    nanosleep(&pause, nullptr);
}

JobRecord finish_with_drops(JobTracker& tracker, uint64_t dropped)
{
    JobRecord job;
    job.ring.dropped = dropped;
    tracker.finish(job);
    return job;
}

} // namespace

TEST_CASE("events dropped: a file the job created and read back is its output, never its input",
          "[collector][tracker][faults]")
{
    Harness h;
    roar::test::write_file(h.dir / "old.csv", "before the job\n");
    restart_clock(h.tracker);
    h.start(100, 1);
    // The job's open(O_CREAT) of made.csv was among the dropped events;
    // only its later read is seen.
    roar::test::write_file(h.dir / "made.csv", "made by the job\n");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 3, "made.csv");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 4, "old.csv");
    JobRecord job = finish_with_drops(h.tracker, 7);
    CHECK(find(job.inputs, h.path("made.csv")) == nullptr);
    REQUIRE(find(job.outputs, h.path("made.csv")) != nullptr);
    CHECK(find(job.outputs, h.path("made.csv"))->hashes.at("blake3") == blake3_hex("made by the job\n"));
    REQUIRE(find(job.inputs, h.path("old.csv")) != nullptr); // unchanged since before the job: still an input
    CHECK(find(job.inputs, h.path("old.csv"))->notes.empty());
    bool noted = false;
    for (const auto& note : job.notes) {
        noted =
            noted
            || (note.find("created while it ran") != std::string::npos && note.find("made.csv") != std::string::npos);
    }
    CHECK(noted);
}

TEST_CASE("events dropped: an input that changed while the job ran says it is undecidable",
          "[collector][tracker][faults]")
{
    Harness h;
    roar::test::write_file(h.dir / "shared.csv", "v1\n");
    restart_clock(h.tracker);
    h.start(100, 1);
    roar::test::write_file(h.dir / "shared.csv", "v2\n"); // a write the tracker never saw
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 3, "shared.csv");
    JobRecord job = finish_with_drops(h.tracker, 1);
    const ArtifactUse* in = find(job.inputs, h.path("shared.csv"));
    REQUIRE(in != nullptr); // it existed before the job
    REQUIRE(!in->notes.empty());
    CHECK(in->notes.back().find("undecidable") != std::string::npos);
}

TEST_CASE("no events dropped: a file someone else created and the job read is an input", "[collector][tracker]")
{
    Harness h;
    restart_clock(h.tracker);
    h.start(100, 1);
    roar::test::write_file(h.dir / "given.csv", "from outside\n");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 3, "given.csv");
    JobRecord job = finish_with_drops(h.tracker, 0);
    CHECK(find(job.inputs, h.path("given.csv")) != nullptr);
    CHECK(find(job.outputs, h.path("given.csv")) == nullptr);
}

// A job started after `file` (when given) was made with `content`, by
// process 100: the start of the learnt-late cases below.
void start_after(Harness& h, const char* file = nullptr, const char* content = "")
{
    if (file) {
        roar::test::write_file(h.dir / file, content);
    }
    restart_clock(h.tracker);
    h.start(100, 1);
}

// The OPEN the tracer publishes for an fd it learnt from /proc: by default
// a write-capable one, after an unstopped open that created or replaced the
// file; a read-only one may carry the digest and size the tracer took.
void learnt_open(Harness& h, uint32_t pid, const std::string& path, int fd, int flags = O_WRONLY | O_CREAT | O_TRUNC,
                 const std::string& blake3 = {}, const std::string& size = {})
{
    RawEvent e = roar::test::raw_event(ROAR_OP_OPEN, pid, ROAR_AT_FDCWD, flags, fd, path, blake3, size);
    e.header.mode = ROAR_OPEN_LEARNT;
    e.index = h.index++;
    h.tracker.on_event(e);
}

TEST_CASE("learnt late: a file read, then replaced by an unstopped open, is an input with no digest and a note",
          "[collector][tracker][tracer]")
{
    Harness h;
    start_after(h, "settings.txt", "before");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 3, "settings.txt");
    h.send(ROAR_OP_CLOSE, 100, 3, 0, 0);
    roar::test::write_file(h.dir / "settings.txt", "after!"); // the unstopped O_CREAT|O_TRUNC open and its write
    learnt_open(h, 100, h.path("settings.txt"), 3);
    JobRecord job = finish_with_drops(h.tracker, 0);
    const ArtifactUse* in = find(job.inputs, h.path("settings.txt"));
    REQUIRE(in != nullptr);
    CHECK(in->hashes.empty()); // never the new bytes' digest
    REQUIRE(in->notes.size() == 1);
    CHECK(in->notes[0].find("learnt only later") != std::string::npos);
    const ArtifactUse* out = find(job.outputs, h.path("settings.txt"));
    REQUIRE(out != nullptr);
    CHECK(out->hashes.at("blake3") == blake3_hex("after!"));
}

TEST_CASE("learnt late: a file read, hashed by the tracer, then replaced is an input with that digest",
          "[collector][tracker][tracer]")
{
    Harness h;
    start_after(h, "settings.txt", "before");
    learnt_open(h, 100, h.path("settings.txt"), 3, O_RDONLY, blake3_hex("before"), "6");
    h.send(ROAR_OP_CLOSE, 100, 3, 0, 0);
    roar::test::write_file(h.dir / "settings.txt", "after!");
    learnt_open(h, 100, h.path("settings.txt"), 3);
    JobRecord job = finish_with_drops(h.tracker, 0);
    const ArtifactUse* in = find(job.inputs, h.path("settings.txt"));
    REQUIRE(in != nullptr);
    CHECK(in->hashes.at("blake3") == blake3_hex("before"));
    CHECK(in->size == std::optional<uint64_t>(6));
    CHECK(in->notes.empty());
    REQUIRE(find(job.outputs, h.path("settings.txt")) != nullptr);
}

TEST_CASE("learnt late: a malformed digest on a learnt read is ignored", "[collector][tracker][tracer]")
{
    Harness h;
    roar::test::write_file(h.dir / "b.txt", "bbb");
    start_after(h, "a.txt", "aaa");
    learnt_open(h, 100, h.path("a.txt"), 3, O_RDONLY, "not-a-digest", "3");
    h.send(ROAR_OP_CLOSE, 100, 3, 0, 0);
    learnt_open(h, 100, h.path("b.txt"), 4, O_RDONLY, blake3_hex("bbb"), "3x");
    h.send(ROAR_OP_CLOSE, 100, 4, 0, 0);
    JobRecord job = finish_with_drops(h.tracker, 0);
    // Unchanged, so hashed at the end as any input.
    REQUIRE(find(job.inputs, h.path("a.txt")) != nullptr);
    CHECK(find(job.inputs, h.path("a.txt"))->hashes.at("blake3") == blake3_hex("aaa"));
    REQUIRE(find(job.inputs, h.path("b.txt")) != nullptr);
    CHECK(find(job.inputs, h.path("b.txt"))->hashes.at("blake3") == blake3_hex("bbb"));
}

TEST_CASE("learnt late: a file born during the job and read before its writer's open was learnt is no input",
          "[collector][tracker][tracer]")
{
    Harness h;
    start_after(h);
    h.start(101, 100);
    roar::test::write_file(h.dir / "handed.txt", "made by 100");         // 100's unstopped open and write
    h.send(ROAR_OP_OPEN, 101, ROAR_AT_FDCWD, O_RDONLY, 3, "handed.txt"); // 101 reads it first, in ring order
    learnt_open(h, 100, h.path("handed.txt"), 4);
    JobRecord job = finish_with_drops(h.tracker, 0);
    CHECK(find(job.inputs, h.path("handed.txt")) == nullptr);
    REQUIRE(find(job.outputs, h.path("handed.txt")) != nullptr);
    CHECK(find(job.outputs, h.path("handed.txt"))->pid == std::optional<uint32_t>(100));
}

TEST_CASE("learnt late: a file replaced and then removed that predates the job is deleted",
          "[collector][tracker][tracer]")
{
    Harness h;
    start_after(h, "old.txt", "from before");
    roar::test::write_file(h.dir / "old.txt", "replaced");
    learnt_open(h, 100, h.path("old.txt"), 3);
    h.send(ROAR_OP_CLOSE, 100, 3, 0, 0);
    std::filesystem::remove(h.dir / "old.txt");
    h.send(ROAR_OP_UNLINK, 100, ROAR_AT_FDCWD, 0, 0, "old.txt");
    JobRecord job = finish_with_drops(h.tracker, 0);
    CHECK(find(job.outputs, h.path("old.txt")) == nullptr);
    CHECK(find(job.deleted, h.path("old.txt")) != nullptr);
}

TEST_CASE("learnt late: a write-capable fd on a file unchanged since before the job does not make it an output",
          "[collector][tracker][tracer]")
{
    Harness h;
    start_after(h, "passed.log", "untouched");
    learnt_open(h, 100, h.path("passed.log"), 5); // say, an fd received over SCM_RIGHTS
    JobRecord job = finish_with_drops(h.tracker, 0);
    CHECK(find(job.outputs, h.path("passed.log")) == nullptr);
}

TEST_CASE("the footprint keeps, per process, what it opened for reading, filtered system files included",
          "[collector][tracker][environment]")
{
    Harness h;
    roar::test::write_file(h.dir / "in.csv", "a\n");
    h.start(100, 1);
    const std::string module = "/usr/lib/python3/dist-packages/yaml/__init__.py";
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 3, module);
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 4, module); // reopened: one entry
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 5, "in.csv");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 6, "out.bin");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY | O_DIRECTORY, 7, "/usr/lib");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, -2, "/usr/lib/missing.so");
    h.send(ROAR_OP_FORK, 100, 0, 0, 101);
    h.send(ROAR_OP_PROC_START, 101, 100, ROAR_START_FORKED, 0);
    h.send(ROAR_OP_OPEN, 101, ROAR_AT_FDCWD, O_RDWR, 3, "/etc/ld.so.cache");
    roar::test::write_file(h.dir / "out.bin", "x");
    JobRecord job;
    h.tracker.finish_processes(job);
    const JobFootprint footprint = h.tracker.footprint(job); // as the job session takes it
    h.tracker.finish_paths(job);

    REQUIRE(footprint.processes().size() == job.processes.size());
    REQUIRE(footprint.processes().size() == 2);
    const auto& parent = footprint.processes()[0];
    CHECK(parent.pid == 100);
    CHECK(parent.exe == "/usr/bin/python3");
    CHECK(parent.argv == std::vector<std::string>{"python3", "job.py"});
    CHECK(parent.cwd == h.dir.path().string());
    std::vector<std::string> read;
    for (const uint32_t r : parent.reads) {
        read.emplace_back(footprint.paths()[r]);
    }
    CHECK(read == std::vector<std::string>{module, h.path("in.csv")});
    CHECK(footprint.filtered(parent.reads[0]));
    CHECK_FALSE(footprint.filtered(parent.reads[1]));

    const auto& child = footprint.processes()[1];
    CHECK(child.pid == 101);
    CHECK(child.exe == "/usr/bin/python3");
    REQUIRE(child.reads.size() == 1);
    CHECK(footprint.paths()[child.reads[0]] == "/etc/ld.so.cache");
}

TEST_CASE("each input is attributed to its first reader and each output to its first writer, in ring order",
          "[collector][tracker][attribution]")
{
    Harness h;
    roar::test::write_file(h.dir / "in.csv", "a,b\n");
    roar::test::write_file(h.dir / "state.json", "before");
    h.start(100, 1);
    h.start(101, 100);
    h.start(102, 100);
    // in.csv: read by 101, then by 100.
    h.send(ROAR_OP_OPEN, 101, ROAR_AT_FDCWD, O_RDONLY, 3, "in.csv");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 3, "in.csv");
    // out.bin: created by 102, then appended to by 100.
    h.send(ROAR_OP_OPEN, 102, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 4, "out.bin");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_WRONLY | O_APPEND, 5, "out.bin");
    h.send(ROAR_OP_WRITE_FD, 100, 5, 0, 1);
    // state.json: read by 102, rewritten by 101.
    h.send(ROAR_OP_OPEN, 102, ROAR_AT_FDCWD, O_RDONLY, 6, "state.json");
    h.send(ROAR_OP_PRE_MODIFY, 101, ROAR_AT_FDCWD, O_WRONLY | O_TRUNC, 0, "state.json");
    h.send(ROAR_OP_OPEN, 101, ROAR_AT_FDCWD, O_WRONLY | O_TRUNC, 7, "state.json");
    roar::test::write_file(h.dir / "out.bin", "result");
    roar::test::write_file(h.dir / "state.json", "after");
    JobRecord job = h.finish();
    const ArtifactUse* in = find(job.inputs, h.path("in.csv"));
    const ArtifactUse* out = find(job.outputs, h.path("out.bin"));
    const ArtifactUse* state_in = find(job.inputs, h.path("state.json"));
    const ArtifactUse* state_out = find(job.outputs, h.path("state.json"));
    REQUIRE(in);
    REQUIRE(out);
    REQUIRE(state_in);
    REQUIRE(state_out);
    CHECK(in->pid == 101u);
    CHECK(out->pid == 102u);
    CHECK(state_in->pid == 102u);
    CHECK(state_out->pid == 101u);
}

TEST_CASE("a rename carries its source's writer, a deleted path names its remover, and content written again after "
          "a removal names its new writer",
          "[collector][tracker][attribution]")
{
    Harness h;
    roar::test::write_file(h.dir / "old.log", "stale");
    h.start(100, 1);
    h.start(101, 100);
    h.start(102, 100);
    // An atomic save: 101 writes the temp file, 100 renames it into place.
    h.send(ROAR_OP_OPEN, 101, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_EXCL, 3, "model.bin.tmp");
    h.send(ROAR_OP_WRITE_FD, 101, 3, 0, 7);
    h.send(ROAR_OP_RENAME, 100, ROAR_AT_FDCWD, 0, 0, "model.bin.tmp", "model.bin", {}, ROAR_AT_FDCWD);
    roar::test::write_file(h.dir / "model.bin", "weights");
    // old.log, from before the job, removed by 102.
    h.send(ROAR_OP_PRE_MODIFY, 102, ROAR_AT_FDCWD, 0, 0, "old.log");
    std::filesystem::remove(h.dir / "old.log");
    h.send(ROAR_OP_UNLINK, 102, ROAR_AT_FDCWD, 0, 0, "old.log");
    // log.txt: written by 101 and removed, then written afresh by 102.
    h.send(ROAR_OP_OPEN, 101, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 4, "log.txt");
    h.send(ROAR_OP_UNLINK, 101, ROAR_AT_FDCWD, 0, 0, "log.txt");
    h.send(ROAR_OP_OPEN, 102, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 5, "log.txt");
    roar::test::write_file(h.dir / "log.txt", "second");
    JobRecord job = h.finish();
    const ArtifactUse* model = find(job.outputs, h.path("model.bin"));
    const ArtifactUse* gone = find(job.deleted, h.path("old.log"));
    const ArtifactUse* log = find(job.outputs, h.path("log.txt"));
    REQUIRE(model);
    REQUIRE(gone);
    REQUIRE(log);
    CHECK(model->pid == 101u);
    CHECK(gone->pid == 102u);
    CHECK(log->pid == 102u);
}

TEST_CASE("an S3 call is attributed to the job's process that made it, and the proxy's own pid to none",
          "[collector][tracker][s3][attribution]")
{
    Harness h;
    h.start(100, 1);
    h.start(101, 100);
    h.send(ROAR_OP_S3_GET, 101, 0, 200, 4, "s3://b/data.csv", "\"e1\"", "");
    h.send(ROAR_OP_S3_GET, 100, 0, 200, 4, "s3://b/data.csv", "\"e1\"", "");
    h.send(ROAR_OP_S3_PUT, 100, 0, 200, 2, "s3://b/model.bin", "\"e2\"", "");
    h.send(ROAR_OP_S3_DELETE, 101, 0, 204, 0, "s3://b/old.bin");
    h.send(ROAR_OP_S3_PUT, 4242, 0, 200, 2, "s3://b/resigned.bin", "\"e3\"", ""); // the re-signing path
    JobRecord job = h.finish();
    const ArtifactUse* in = find(job.inputs, "s3://b/data.csv");
    const ArtifactUse* out = find(job.outputs, "s3://b/model.bin");
    const ArtifactUse* gone = find(job.deleted, "s3://b/old.bin");
    const ArtifactUse* resigned = find(job.outputs, "s3://b/resigned.bin");
    REQUIRE(in);
    REQUIRE(out);
    REQUIRE(gone);
    REQUIRE(resigned);
    CHECK(in->pid == 101u);
    CHECK(out->pid == 100u);
    CHECK(gone->pid == 101u);
    CHECK_FALSE(resigned->pid);
}

TEST_CASE("'..' after a symbolically linked directory names the file the kernel opened", "[collector][tracker]")
{
    // real/sub/ and alias -> real/sub: alias/../x.txt is real/x.txt.
    Harness h;
    std::filesystem::create_directories(h.dir / "real/sub");
    std::filesystem::create_directory_symlink("real/sub", h.dir / "alias");
    roar::test::write_file(h.dir / "real/x.txt", "REAL");
    roar::test::write_file(h.dir / "x.txt", "TOP");
    roar::test::write_file(h.dir / "model.bin", "an old model");
    h.start(100, 1);
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 3, "alias/../x.txt");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 4, "alias/../model.bin");
    roar::test::write_file(h.dir / "real/model.bin", "new model");
    h.send(ROAR_OP_CHDIR, 100, ROAR_AT_FDCWD, 0, 0, "alias");
    roar::test::write_file(h.dir / "real/y.txt", "Y");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 5, "../y.txt");
    JobRecord job = h.finish();
    const ArtifactUse* in = find(job.inputs, h.path("real/x.txt"));
    REQUIRE(in);
    CHECK(in->hashes.at("blake3") == blake3_hex("REAL"));
    CHECK_FALSE(find(job.inputs, h.path("x.txt")));
    CHECK(find(job.inputs, h.path("real/y.txt")));
    const ArtifactUse* out = find(job.outputs, h.path("real/model.bin"));
    REQUIRE(out);
    CHECK(out->hashes.at("blake3") == blake3_hex("new model"));
    CHECK_FALSE(find(job.outputs, h.path("model.bin"))); // the old one at the name by text is not the job's
}

TEST_CASE("a renamed directory takes the working directories and open fds in it along", "[collector][tracker]")
{
    Harness h;
    std::filesystem::create_directories(h.dir / "work");
    std::filesystem::create_directories(h.dir / "cwd");
    roar::test::write_file(h.dir / "work/in.txt", "in");
    h.start(100, 1);
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY | O_DIRECTORY, 3, "work");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 4, "work/early.txt");
    h.send(ROAR_OP_CHDIR, 100, ROAR_AT_FDCWD, 0, 0, "cwd");
    h.send(ROAR_OP_FORK, 100, 0, 0, 0);
    std::filesystem::rename(h.dir / "work", h.dir / "done");
    h.send(ROAR_OP_RENAME, 100, ROAR_AT_FDCWD, 0, 0, "../work", "../done", {}, ROAR_AT_FDCWD);
    std::filesystem::rename(h.dir / "cwd", h.dir / "cwd2");
    h.send(ROAR_OP_RENAME, 100, ROAR_AT_FDCWD, 0, 0, "../cwd", "../cwd2", {}, ROAR_AT_FDCWD);
    // Through the directory fd, the cwd, an fd opened before, and a child forked before the renames.
    h.send(ROAR_OP_OPEN, 100, 3, O_WRONLY | O_CREAT | O_TRUNC, 5, "out.txt");
    roar::test::write_file(h.dir / "done/out.txt", "result");
    h.send(ROAR_OP_OPEN, 100, 3, O_RDONLY, 6, "in.txt");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 7, "here.txt");
    roar::test::write_file(h.dir / "cwd2/here.txt", "here");
    roar::test::write_file(h.dir / "done/early.txt", "early");
    h.send(ROAR_OP_WRITE_FD, 100, 4, 0, 0);
    h.send(ROAR_OP_PROC_START, 101, 100, ROAR_START_FORKED, 0);
    h.send(ROAR_OP_OPEN, 101, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 8, "child.txt");
    roar::test::write_file(h.dir / "cwd2/child.txt", "child");
    JobRecord job = h.finish();
    CHECK(find(job.outputs, h.path("done/out.txt")));
    CHECK(find(job.inputs, h.path("done/in.txt")));
    CHECK(find(job.outputs, h.path("cwd2/here.txt")));
    CHECK(find(job.outputs, h.path("cwd2/child.txt")));
    const ArtifactUse* early = find(job.outputs, h.path("done/early.txt"));
    REQUIRE(early);
    CHECK(early->pid == std::optional<uint32_t>(100));
    CHECK(job.outputs.size() == 4);
    CHECK(job.notes.empty());
}

TEST_CASE("a renamed or exchanged directory takes its files along when a sibling's name extends its own",
          "[collector][tracker]")
{
    // "work.log" and "work-2" sort between "work" and "work/...": the walk
    // below a directory must not stop at them.
    Harness h;
    std::filesystem::create_directories(h.dir / "work");
    std::filesystem::create_directories(h.dir / "x");
    std::filesystem::create_directories(h.dir / "y");
    h.start(100, 1);
    for (const char* name : {"work.log", "work-2", "work/out.txt", "x.txt", "x/in_x.txt", "y/in_y.txt"}) {
        h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 3, name);
        roar::test::write_file(h.dir / name, name);
        h.send(ROAR_OP_CLOSE, 100, 3, 0, 0);
    }
    std::filesystem::rename(h.dir / "work", h.dir / "done");
    h.send(ROAR_OP_RENAME, 100, ROAR_AT_FDCWD, 0, 0, "work", "done", {}, ROAR_AT_FDCWD);
    std::filesystem::rename(h.dir / "x", h.dir / "swap");
    std::filesystem::rename(h.dir / "y", h.dir / "x");
    std::filesystem::rename(h.dir / "swap", h.dir / "y");
    h.send(ROAR_OP_RENAME, 100, ROAR_AT_FDCWD, RENAME_EXCHANGE, 0, "x", "y", {}, ROAR_AT_FDCWD);
    JobRecord job = h.finish();
    CHECK(find(job.outputs, h.path("done/out.txt")));
    CHECK(find(job.outputs, h.path("y/in_x.txt")));
    CHECK(find(job.outputs, h.path("x/in_y.txt")));
    CHECK(find(job.outputs, h.path("work.log")));
    CHECK(find(job.outputs, h.path("work-2")));
    CHECK(find(job.outputs, h.path("x.txt")));
    CHECK(job.outputs.size() == 6);
    CHECK(job.notes.empty());
}

TEST_CASE("files lost with a directory renamed where roar could not see it are named in a note", "[collector][tracker]")
{
    Harness h;
    std::filesystem::create_directories(h.dir / "work");
    h.start(100, 1);
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY | O_DIRECTORY, 3, "work");
    std::filesystem::rename(h.dir / "work", h.dir / "done"); // by a process outside the job: no event
    h.send(ROAR_OP_OPEN, 100, 3, O_WRONLY | O_CREAT | O_TRUNC, 4, "out.txt");
    roar::test::write_file(h.dir / "done/out.txt", "result");
    JobRecord job = h.finish();
    CHECK(job.outputs.empty());
    REQUIRE(job.notes.size() == 1);
    CHECK(job.notes[0]
          == fmt::format("1 file the job used is not recorded: its directory no longer exists (renamed or removed "
                         "where roar could not see it): {}",
                         h.path("work/out.txt")));
}

TEST_CASE("outputs removed where roar could not see it are named in a note, those the job removed are not",
          "[collector][tracker]")
{
    Harness h;
    h.start(100, 1);
    // Twelve files written, then removed by something outside the job: no event.
    for (int i = 0; i < 12; ++i) {
        const std::string name = fmt::format("gone{:02}.txt", i);
        h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 3, name);
        h.send(ROAR_OP_CLOSE, 100, 3, 0, 0);
    }
    // Written and removed by the job (an unlink, a rename away), or still there: no note.
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 3, "scratch.tmp");
    h.send(ROAR_OP_UNLINK, 100, ROAR_AT_FDCWD, 0, 0, "scratch.tmp");
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_WRONLY | O_CREAT | O_TRUNC, 4, "a.tmp");
    h.send(ROAR_OP_RENAME, 100, ROAR_AT_FDCWD, 0, 0, "a.tmp", "kept.txt", {}, ROAR_AT_FDCWD);
    roar::test::write_file(h.dir / "kept.txt", "kept");
    // Only read, and gone at the end: not the job's output, no note either.
    h.send(ROAR_OP_OPEN, 100, ROAR_AT_FDCWD, O_RDONLY, 5, "read.txt");
    h.send(ROAR_OP_READ_FD, 100, 5, 0, 1);
    JobRecord job = h.finish();
    REQUIRE(job.outputs.size() == 1);
    CHECK(job.outputs[0].path == h.path("kept.txt"));
    REQUIRE(job.notes.size() == 1);
    std::string named;
    for (int i = 0; i < 10; ++i) {
        named += (i ? ", " : "") + h.path(fmt::format("gone{:02}.txt", i).c_str());
    }
    CHECK(job.notes[0]
          == fmt::format("12 files the job wrote were gone at the end, removed by something roar did not observe: {} "
                         "and 2 more",
                         named));
}
