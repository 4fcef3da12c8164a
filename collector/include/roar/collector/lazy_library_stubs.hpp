// The scaffolding of a file of forwarding definitions for a library loaded on
// first use (lazy_library.hpp): one macro turns the file's list of functions
// into their index enum, name table and address slots, the library's
// LazyLibrary, and a definition of each function that calls the real one.
// libpq_stubs.cpp and the CLI's libcurl_stubs.cpp each list their functions
// and invoke it once; the stubs of one library share a translation unit.
#pragma once

#include "roar/collector/lazy_library.hpp"

#include <atomic>
#include <cstddef>

// A list is a macro taking X and expanding to X(return type, name,
// (parameters), (arguments)) per function; a BY_HAND list expands to V(name)
// per function the file defines itself (variadic ones: their arguments cannot
// be forwarded by a macro). ROAR_LAZY_NONE is the empty BY_HAND list.
#define ROAR_LAZY_NONE(V)
#define ROAR_LAZY_INDEX(ret, name, params, args) k_##name,
#define ROAR_LAZY_NAME(ret, name, params, args) #name,
#define ROAR_LAZY_BY_HAND_INDEX(name) k_##name,
#define ROAR_LAZY_BY_HAND_NAME(name) #name,
#define ROAR_LAZY_FORWARD(ret, name, params, args)                                                                     \
    extern "C" ret name params { return real<decltype(::name)>(k_##name) args; }

// Defines, for the library `soname` (from the Debian package `package`):
// `accessor()`, its LazyLibrary, resolving the functions of FUNCTIONS and
// BY_HAND; `real<F>(k_<name>)`, function <name>'s real address as an F*, for
// the definitions written by hand; and a forwarding definition, with the
// header's exact signature, of every function in FUNCTIONS.
#define ROAR_LAZY_LIBRARY(accessor, soname, package, FUNCTIONS, BY_HAND)                                               \
    namespace {                                                                                                        \
    enum Function : std::size_t { FUNCTIONS(ROAR_LAZY_INDEX) BY_HAND(ROAR_LAZY_BY_HAND_INDEX) k_count };               \
    constexpr const char* k_names[] = {FUNCTIONS(ROAR_LAZY_NAME) BY_HAND(ROAR_LAZY_BY_HAND_NAME)};                     \
    std::atomic<void*> g_slots[k_count];                                                                               \
    roar::collector::LazyLibrary& accessor()                                                                           \
    {                                                                                                                  \
        static roar::collector::LazyLibrary library(soname, package, k_names, g_slots, k_count);                       \
        return library;                                                                                                \
    }                                                                                                                  \
    template <typename F> F* real(Function index) { return reinterpret_cast<F*>(accessor().function(index)); }         \
    }                                                                                                                  \
    FUNCTIONS(ROAR_LAZY_FORWARD)
