// Compiled into every program of a sanitized build (ROAR_SANITIZE, see
// cmake/RoarSettings.cmake) and nowhere else: the runtime options of the
// sanitizers, so a test, a script or a hand-run program gets the same
// strict settings without any environment, and a death callback that
// leaves a file in ROAR_SANITIZER_REPORTS for every report. That file is
// what catches a report in a program a test expected to fail (`roar` with
// a bad argument, a proxy that must refuse): the sanitizer/no_reports
// test fails when the directory is not empty after the run. Options set
// in ASAN_OPTIONS/UBSAN_OPTIONS/TSAN_OPTIONS still override these.
#include <fcntl.h>
#include <sanitizer/common_interface_defs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

extern "C" {

// ASan: stop at the first report; leaks, use after return and init order too.
const char* __asan_default_options()
{
    return "halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:"
           "strict_init_order=1:strict_string_checks=1";
}

// UBSan: every check is fatal (also -fno-sanitize-recover=all), with a stack.
const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1"; }

// TSan: stop at the first report.
const char* __tsan_default_options() { return "halt_on_error=1:second_deadlock_stack=1"; }

// Leak suppressions, each with its reason. None are needed today.
const char* __lsan_default_suppressions() { return ""; }

} // extern "C"

namespace {

// The report file of this process: ROAR_SANITIZER_REPORTS/<pid>.txt.
int open_report_file()
{
    const char* dir = std::getenv("ROAR_SANITIZER_REPORTS");
    if (dir == nullptr || *dir == '\0') {
        dir = ROAR_SANITIZER_REPORTS;
    }
    ::mkdir(dir, 0777);
    char path[4096];
    std::snprintf(path, sizeof path, "%s/%d.txt", dir, int(::getpid()));
    return ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
}

void write_all(int fd, const char* text, size_t size)
{
    while (size > 0) {
        const ssize_t n = ::write(fd, text, size);
        if (n <= 0) {
            return;
        }
        text += n;
        size -= size_t(n);
    }
}

// Runs when a sanitizer ends the program: names the program and its pid.
void on_sanitizer_death()
{
    const int fd = open_report_file();
    if (fd < 0) {
        return;
    }
    char exe[4096] = "?";
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 1] = '\0';
    char line[4200];
    const int len = std::snprintf(line, sizeof line, "sanitizer report in %s (pid %d)\n", exe, int(::getpid()));
    write_all(fd, line, size_t(len > 0 ? len : 0));
    ::close(fd);
}

#if defined(__SANITIZE_ADDRESS__)
// ASan (and LSan under it) hand over the report's text: keep it too.
void on_asan_report(const char* report)
{
    const int fd = open_report_file();
    if (fd >= 0) {
        write_all(fd, report, std::strlen(report));
        ::close(fd);
    }
}
#endif

__attribute__((constructor)) void install_sanitizer_callbacks()
{
    __sanitizer_set_death_callback(on_sanitizer_death);
#if defined(__SANITIZE_ADDRESS__)
    __asan_set_error_report_callback(on_asan_report);
#endif
}

} // namespace
