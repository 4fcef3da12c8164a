// libcurl's functions as the CLI calls them (remote_check.cpp,
// openlineage_http.cpp), forwarding to the real libcurl loaded on first use
// (see roar/collector/lazy_library.hpp): `roar` does not link libcurl, so
// the commands that never make an HTTP request (nearly all of them) do not
// load it and the ~30 libraries it brings. Signatures are curl.h's (the
// compiler checks them); a function the CLI starts using must be added here,
// or the link fails. The scaffolding is roar/collector/lazy_library_stubs.hpp's.
#define CURL_DISABLE_TYPECHECK
#include "roar/collector/lazy_library_stubs.hpp"

#include <curl/curl.h>

#include <cstdarg>

// X(return type, name, (parameters), (arguments)); the two variadic
// functions (ROAR_LIBCURL_VARIADIC) are defined by hand below.
#define ROAR_LIBCURL_FUNCTIONS(X)                                                                                      \
    X(CURLcode, curl_global_init, (long flags), (flags))                                                               \
    X(CURL*, curl_easy_init, (void), ())                                                                               \
    X(CURLcode, curl_easy_perform, (CURL * handle), (handle))                                                          \
    X(void, curl_easy_cleanup, (CURL * handle), (handle))                                                              \
    X(const char*, curl_easy_strerror, (CURLcode code), (code))                                                        \
    X(CURLM*, curl_multi_init, (void), ())                                                                             \
    X(CURLMcode, curl_multi_add_handle, (CURLM * multi, CURL * handle), (multi, handle))                               \
    X(CURLMcode, curl_multi_remove_handle, (CURLM * multi, CURL * handle), (multi, handle))                            \
    X(CURLMcode, curl_multi_perform, (CURLM * multi, int* running), (multi, running))                                  \
    X(CURLMcode, curl_multi_poll,                                                                                      \
      (CURLM * multi, struct curl_waitfd extra[], unsigned int extra_count, int timeout_ms, int* ready),               \
      (multi, extra, extra_count, timeout_ms, ready))                                                                  \
    X(CURLMcode, curl_multi_cleanup, (CURLM * multi), (multi))                                                         \
    X(CURLMsg*, curl_multi_info_read, (CURLM * multi, int* queued), (multi, queued))                                   \
    X(struct curl_slist*, curl_slist_append, (struct curl_slist * list, const char* text), (list, text))               \
    X(void, curl_slist_free_all, (struct curl_slist * list), (list))
#define ROAR_LIBCURL_VARIADIC(V) V(curl_easy_setopt) V(curl_easy_getinfo)

ROAR_LAZY_LIBRARY(libcurl, "libcurl.so.4", "libcurl4", ROAR_LIBCURL_FUNCTIONS, ROAR_LIBCURL_VARIADIC)

// The option's type decides how its one argument was passed (curl.h's
// CURLOPTTYPE_* ranges); it is read and passed on as that type.
extern "C" CURLcode curl_easy_setopt(CURL* handle, CURLoption option, ...)
{
    auto* setopt = real<decltype(::curl_easy_setopt)>(k_curl_easy_setopt);
    va_list args;
    va_start(args, option);
    CURLcode result;
    if (option < CURLOPTTYPE_OBJECTPOINT) {
        result = setopt(handle, option, va_arg(args, long));
    } else if (option >= CURLOPTTYPE_FUNCTIONPOINT && option < CURLOPTTYPE_OFF_T) {
        result = setopt(handle, option, va_arg(args, void (*)()));
    } else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB) {
        result = setopt(handle, option, va_arg(args, curl_off_t));
    } else {
        result = setopt(handle, option, va_arg(args, void*));
    }
    va_end(args);
    return result;
}

// Every CURLINFO_* takes a pointer to where the answer goes.
extern "C" CURLcode curl_easy_getinfo(CURL* handle, CURLINFO info, ...)
{
    auto* getinfo = real<decltype(::curl_easy_getinfo)>(k_curl_easy_getinfo);
    va_list args;
    va_start(args, info);
    CURLcode result = getinfo(handle, info, va_arg(args, void*));
    va_end(args);
    return result;
}
