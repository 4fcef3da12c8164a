// Shared libraries roar loads when it first needs them rather than at
// start-up. libpq and libcurl bring about 30 libraries with them (Kerberos,
// LDAP, SASL, GnuTLS, p11-kit) whose loading and constructors cost every
// `roar` process about 4 ms, though most commands never talk to PostgreSQL or
// HTTP. Programs call these libraries' functions as usual: small forwarding
// definitions (libpq_stubs.cpp, the CLI's libcurl_stubs.cpp, both built on
// lazy_library_stubs.hpp) resolve the real ones from the library the first
// time it is required.
#pragma once

#include "roar/collector/result.hpp"

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>

namespace roar::collector {

// One library (`soname`, from the Debian package `package`) and the
// addresses of the functions named in `names`, stored in `slots` (both
// `count` long) once it is loaded.
class LazyLibrary {
public:
    LazyLibrary(const char* soname, const char* package, const char* const* names, std::atomic<void*>* slots,
                std::size_t count)
        : m_soname(soname), m_package(package), m_names(names), m_slots(slots), m_count(count)
    { }

    // Loads the library and resolves every function, once; later calls
    // return the first call's result. The error says which library is
    // missing and which package provides it.
    Result<void> load();

    // The address of function `index`, loading the library first; throws
    // FatalError with load()'s message when it cannot be loaded.
    void* function(std::size_t index)
    {
        void* address = m_slots[index].load(std::memory_order_acquire);
        return address ? address : resolve(index);
    }

private:
    void* resolve(std::size_t index);

    const char* m_soname;
    const char* m_package;
    const char* const* m_names;
    std::atomic<void*>* m_slots;
    std::size_t m_count;
    std::once_flag m_once;
    std::string m_error; // empty once loaded
};

// Loads libpq (the PostgreSQL store's client library); an error names the
// package to install.
Result<void> load_libpq();

} // namespace roar::collector
