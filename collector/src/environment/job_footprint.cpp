// JobFootprint (see job_footprint.hpp).
#include "roar/collector/environment/job_footprint.hpp"

#include <functional>

namespace roar::collector {

namespace {

constexpr size_t k_first_slots = 1024;

} // namespace

size_t JobFootprint::add_process(uint32_t pid, std::string exe, std::vector<std::string> argv, std::string cwd)
{
    m_processes.push_back(FootprintProcess{pid, std::move(exe), std::move(argv), std::move(cwd), {}});
    return m_processes.size() - 1;
}

size_t JobFootprint::slot_of(std::string_view path) const
{
    const size_t mask = m_slots.size() - 1;
    size_t slot = std::hash<std::string_view>{}(path)&mask;
    while (m_slots[slot] != 0 && m_paths[m_slots[slot] - 1] != path) {
        slot = (slot + 1) & mask;
    }
    return slot;
}

void JobFootprint::grow_index()
{
    std::vector<uint32_t> old(std::max(k_first_slots, m_slots.size() * 2), 0);
    old.swap(m_slots);
    for (uint32_t number = 0; number < m_paths.size(); ++number) {
        m_slots[slot_of(m_paths[number])] = number + 1;
    }
}

bool JobFootprint::contains(std::string_view path) const { return !m_slots.empty() && m_slots[slot_of(path)] != 0; }

void JobFootprint::add_read(size_t process, std::string_view path, bool filtered)
{
    if ((m_paths.size() + 1) * 2 > m_slots.size()) {
        grow_index();
    }
    const size_t slot = slot_of(path);
    if (m_slots[slot] == 0) {
        m_paths.push_back(m_text.keep(path));
        m_filtered.push_back(filtered);
        m_slots[slot] = uint32_t(m_paths.size());
    }
    m_processes.at(process).reads.push_back(m_slots[slot] - 1);
}

} // namespace roar::collector
