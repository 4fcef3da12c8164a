// The full version of a CPython interpreter (3.11.7, 3.13.0rc2) found
// without running it. CPython keeps its version (PY_VERSION) as a string
// in the read-only data of the executable or of libpython, where the linker
// may share it with the tail of a longer string ("/opt/python/3.11.7"): the
// scan accepts a version that ends at a NUL and starts after any byte that
// cannot be part of it, and only the one whose major.minor matches what
// the file names say. Then, in order: the installed patchlevel.h, the
// venv's pyvenv.cfg, the major.minor from the file names. Answers from the
// binary are cached by its (device, inode, size, mtime).
#pragma once

#include "roar/collector/environment/facts_cache.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace roar::collector {

struct PythonVersion {
    std::string version; // "3.11.7", or "3.11" when only the names tell
    std::string source;  // "binary", "libpython", "patchlevel.h", "pyvenv.cfg", "name" ("" when unknown)
};

// The version of the interpreter whose real executable is `executable`.
// `hint`: its major.minor when the caller knows it from the paths the
// process opened ("" otherwise); `pyvenv_cfg`: the venv configuration it
// started with ("" for none). Binary answers are looked up in, and added
// to, `cache`.
PythonVersion find_python_version(const std::string& executable, std::string hint, const std::string& pyvenv_cfg,
                                  FactsCache& cache);

// Every distinct version string X.Y.Z[{a,b,rc}N][+] in `bytes` that ends at
// a NUL and is not preceded by a digit or a dot, in order of appearance.
std::vector<std::string> version_strings_in(std::string_view bytes);

// "3.11" from an interpreter's file name (python3.11, libpython3.11.so.1.0,
// .../lib/python3.11/...), or "".
std::string major_minor_in_name(std::string_view name);

} // namespace roar::collector
