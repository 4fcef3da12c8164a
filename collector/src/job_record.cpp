// ArtifactKind: the few kind names a record uses, each kept once.
#include "roar/collector/job_record.hpp"

#include <mutex>
#include <ostream>
#include <set>

namespace roar::collector {

ArtifactKind::ArtifactKind(std::string_view name)
{
    for (const char* known : {"file", "s3", "dataset"}) {
        if (name == known) {
            m_name = known;
            return;
        }
    }
    // Another name (read from a newer database or a recovery file): kept
    // for the life of the process, as the known ones are; there are few.
    static std::mutex mutex;
    static std::set<std::string, std::less<>> others;
    std::lock_guard lock(mutex);
    auto it = others.find(name);
    if (it == others.end()) {
        it = others.emplace(name).first;
    }
    m_name = it->c_str();
}

std::ostream& operator<<(std::ostream& out, const ArtifactKind& kind) { return out << kind.view(); }

void to_json(nlohmann::json& j, const ArtifactKind& kind) { j = std::string(kind); }

void from_json(const nlohmann::json& j, ArtifactKind& kind) { kind = ArtifactKind(j.get<std::string>()); }

} // namespace roar::collector
