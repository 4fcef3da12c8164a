// JobFootprint (see job_footprint.hpp).
#include "roar/collector/environment/job_footprint.hpp"

namespace roar::collector {

size_t JobFootprint::add_process(uint32_t pid, std::string exe, std::vector<std::string> argv, std::string cwd)
{
    m_processes.push_back(FootprintProcess{pid, std::move(exe), std::move(argv), std::move(cwd), {}});
    return m_processes.size() - 1;
}

void JobFootprint::add_read(size_t process, std::string_view path, bool filtered)
{
    uint32_t number = 0;
    if (const auto found = m_index.find(path); found != m_index.end()) {
        number = found->second;
    } else {
        number = uint32_t(m_paths.size());
        const std::string& stored = m_paths.emplace_back(path);
        m_filtered.push_back(filtered);
        m_index.emplace(stored, number);
    }
    m_processes.at(process).reads.push_back(number);
}

} // namespace roar::collector
