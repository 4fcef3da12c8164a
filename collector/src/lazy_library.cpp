// Loading a library on first use (see lazy_library.hpp).
#include "roar/collector/lazy_library.hpp"

#include <dlfcn.h>

namespace roar::collector {

Result<void> LazyLibrary::load()
{
    std::call_once(m_once, [this] {
        void* handle = ::dlopen(m_soname, RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            const char* why = ::dlerror();
            m_error = fmt::format("cannot load {} ({}): install the {} package", m_soname, why ? why : "not found",
                                  m_package);
            return;
        }
        for (std::size_t i = 0; i < m_count; ++i) {
            if (!::dlsym(handle, m_names[i])) {
                m_error =
                    fmt::format("{} has no function {}: install a newer {} package", m_soname, m_names[i], m_package);
                return;
            }
        }
        for (std::size_t i = 0; i < m_count; ++i) {
            m_slots[i].store(::dlsym(handle, m_names[i]), std::memory_order_release);
        }
    });
    if (!m_error.empty()) {
        return fail("{}", m_error);
    }
    return {};
}

void* LazyLibrary::resolve(std::size_t index)
{
    if (auto loaded = load(); !loaded) {
        throw FatalError(loaded.error().message);
    }
    return m_slots[index];
}

} // namespace roar::collector
