// The exec probe (collector/include/roar/collector/exec_probe.h) on
// synthetic ELF files, scripts and mode bits.
#include "roar/collector/exec_probe.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <elf.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir()
    {
        char templ[] = "/tmp/roar-probe-XXXXXX";
        path = mkdtemp(templ);
    }
    ~TempDir() { fs::remove_all(path); }
};

enum class Kind { Static, Dynamic, GoNote, GoSection };

// A minimal ELF64 executable: header, program headers, optional note and
// section table. Enough for the probe, not for the kernel.
std::vector<unsigned char> make_elf(Kind kind)
{
    std::vector<unsigned char> out(4096, 0);
    auto* eh = reinterpret_cast<Elf64_Ehdr*>(out.data());
    std::memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_phoff = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    auto* ph = reinterpret_cast<Elf64_Phdr*>(out.data() + eh->e_phoff);
    int n = 0;
    ph[n++].p_type = PT_LOAD;
    if (kind == Kind::Dynamic) {
        ph[n].p_type = PT_INTERP;
        ph[n].p_offset = 1024;
        ph[n].p_filesz = 28;
        std::memcpy(out.data() + 1024, "/lib64/ld-linux-x86-64.so.2", 28);
        ++n;
    }
    if (kind == Kind::GoNote) {
        // A non-Go note first, then Go's build id note.
        unsigned char* p = out.data() + 2048;
        const uint32_t gnu[3] = {4, 4, 1};
        std::memcpy(p, gnu, 12);
        std::memcpy(p + 12, "GNU\0", 4);
        const uint32_t go[3] = {4, 8, 4};
        std::memcpy(p + 20, go, 12);
        std::memcpy(p + 32, "Go\0\0", 4);
        std::memcpy(p + 36, "buildid!", 8);
        ph[n].p_type = PT_NOTE;
        ph[n].p_offset = 2048;
        ph[n].p_filesz = 44;
        ++n;
    }
    if (kind == Kind::GoSection) {
        // Sections: null, .text, .go.buildinfo, .shstrtab.
        const char names[] = "\0.text\0.go.buildinfo\0.shstrtab\0";
        std::memcpy(out.data() + 3000, names, sizeof names);
        eh->e_shoff = 3072;
        eh->e_shentsize = sizeof(Elf64_Shdr);
        eh->e_shnum = 4;
        eh->e_shstrndx = 3;
        auto* sh = reinterpret_cast<Elf64_Shdr*>(out.data() + 3072);
        sh[1].sh_name = 1;
        sh[2].sh_name = 7;
        sh[3].sh_name = 21;
        sh[3].sh_offset = 3000;
        sh[3].sh_size = sizeof names;
    }
    eh->e_phnum = (Elf64_Half)n;
    return out;
}

// A minimal ELF32 executable (i386, or x32 with `machine` EM_X86_64),
// static or with an interpreter.
std::vector<unsigned char> make_elf32(bool dynamic, Elf32_Half machine = EM_386)
{
    std::vector<unsigned char> out(2048, 0);
    auto* eh = reinterpret_cast<Elf32_Ehdr*>(out.data());
    std::memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS32;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = machine;
    eh->e_version = EV_CURRENT;
    eh->e_phoff = sizeof(Elf32_Ehdr);
    eh->e_phentsize = sizeof(Elf32_Phdr);
    eh->e_ehsize = sizeof(Elf32_Ehdr);
    auto* ph = reinterpret_cast<Elf32_Phdr*>(out.data() + eh->e_phoff);
    int n = 0;
    ph[n++].p_type = PT_LOAD;
    if (dynamic) {
        ph[n].p_type = PT_INTERP;
        ph[n].p_offset = 1024;
        ph[n].p_filesz = 19;
        std::memcpy(out.data() + 1024, "/lib/ld-linux.so.2", 19);
        ++n;
    }
    eh->e_phnum = (Elf32_Half)n;
    return out;
}

fs::path write_file(const fs::path& path, const std::vector<unsigned char>& bytes, mode_t mode = 0755)
{
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), (long)bytes.size());
    fs::permissions(path, fs::perms::none);
    chmod(path.c_str(), mode);
    return path;
}

fs::path write_text(const fs::path& path, const std::string& text, mode_t mode = 0755)
{
    return write_file(path, std::vector<unsigned char>(text.begin(), text.end()), mode);
}

} // namespace

TEST_CASE("a dynamically linked ELF has no flags", "[preload][probe]")
{
    TempDir d;
    auto p = write_file(d.path / "dyn", make_elf(Kind::Dynamic));
    CHECK(roar_exec_probe_at(AT_FDCWD, p.c_str()) == 0);
    CHECK(roar_exec_probe_at(AT_FDCWD, "/bin/sh") == 0);
}

TEST_CASE("an ELF without PT_INTERP is static", "[preload][probe]")
{
    TempDir d;
    auto p = write_file(d.path / "static", make_elf(Kind::Static));
    CHECK(roar_exec_probe_at(AT_FDCWD, p.c_str()) == ROAR_EXEC_STATIC);
}

TEST_CASE("32-bit executables (i386 and x32) are flagged, static or not", "[preload][probe]")
{
    TempDir d;
    auto dyn = write_file(d.path / "i386-dyn", make_elf32(true));
    CHECK(roar_exec_probe_at(AT_FDCWD, dyn.c_str()) == ROAR_EXEC_32BIT);
    auto st = write_file(d.path / "i386-static", make_elf32(false));
    CHECK(roar_exec_probe_at(AT_FDCWD, st.c_str()) == (ROAR_EXEC_32BIT | ROAR_EXEC_STATIC));
    auto x32 = write_file(d.path / "x32", make_elf32(true, EM_X86_64));
    CHECK(roar_exec_probe_at(AT_FDCWD, x32.c_str()) == ROAR_EXEC_32BIT);
    // A 64-bit one is not.
    auto dyn64 = write_file(d.path / "dyn64", make_elf(Kind::Dynamic));
    CHECK((roar_exec_probe_at(AT_FDCWD, dyn64.c_str()) & ROAR_EXEC_32BIT) == 0);
}

TEST_CASE("Go binaries are recognised by their note or their .go.buildinfo section", "[preload][probe]")
{
    TempDir d;
    auto note = write_file(d.path / "gonote", make_elf(Kind::GoNote));
    CHECK(roar_exec_probe_at(AT_FDCWD, note.c_str()) == (ROAR_EXEC_STATIC | ROAR_EXEC_GO));
    auto section = write_file(d.path / "gosection", make_elf(Kind::GoSection));
    CHECK(roar_exec_probe_at(AT_FDCWD, section.c_str()) == (ROAR_EXEC_STATIC | ROAR_EXEC_GO));
}

TEST_CASE("setuid and setgid-with-group-exec are flagged; setgid alone is not", "[preload][probe]")
{
    TempDir d;
    auto u = write_file(d.path / "u", make_elf(Kind::Dynamic), 04755);
    auto g = write_file(d.path / "g", make_elf(Kind::Dynamic), 02755);
    auto lock = write_file(d.path / "lock", make_elf(Kind::Dynamic), 02745);
    CHECK(roar_exec_probe_at(AT_FDCWD, u.c_str()) == ROAR_EXEC_SETID);
    CHECK(roar_exec_probe_at(AT_FDCWD, g.c_str()) == ROAR_EXEC_SETID);
    CHECK(roar_exec_probe_at(AT_FDCWD, lock.c_str()) == 0);
}

TEST_CASE("a script is NOT_ELF, plus what its interpreter would be", "[preload][probe]")
{
    TempDir d;
    auto interp = write_file(d.path / "static-sh", make_elf(Kind::Static));
    auto s1 = write_text(d.path / "s1", "#!/bin/sh\necho hi\n");
    auto s2 = write_text(d.path / "s2", "#! " + interp.string() + " -e\nexit 0\n");
    auto data = write_text(d.path / "data", "just text\n");
    CHECK(roar_exec_probe_at(AT_FDCWD, s1.c_str()) == ROAR_EXEC_NOT_ELF);
    CHECK(roar_exec_probe_at(AT_FDCWD, s2.c_str()) == (ROAR_EXEC_NOT_ELF | ROAR_EXEC_STATIC));
    CHECK(roar_exec_probe_at(AT_FDCWD, data.c_str()) == ROAR_EXEC_NOT_ELF);
}

TEST_CASE("a target that cannot be opened yields no flags", "[preload][probe]")
{
    CHECK(roar_exec_probe_at(AT_FDCWD, "/nonexistent/prog") == 0);
}

TEST_CASE("PATH resolution follows execvp", "[preload][probe]")
{
    char buf[256];
    CHECK(std::string(roar_exec_resolve("sh", "/nonexistent:/bin:/usr/bin", buf, sizeof buf)) == "/bin/sh");
    const char* given = "./local/prog";
    CHECK(roar_exec_resolve(given, "/bin", buf, sizeof buf) == given);
    const char* missing = "no-such-program-roar";
    CHECK(roar_exec_resolve(missing, "/bin:/usr/bin", buf, sizeof buf) == missing);
    TempDir d;
    write_text(d.path / "tool", "#!/bin/sh\n");
    const fs::path cwd = fs::current_path();
    fs::current_path(d.path);
    CHECK(std::string(roar_exec_resolve("tool", "/nonexistent::/bin", buf, sizeof buf)) == "./tool");
    fs::current_path(cwd);
}
