// The names of the digests roar records besides BLAKE3 (extra_digests.hpp),
// apart from the hashing itself so that roar.toml's checks need no crypto
// library (the roar.toml fuzz target links this file alone).
#include "roar/collector/extra_digests.hpp"

#include <algorithm>

namespace roar::collector {

const std::vector<std::string>& extra_digest_algorithms()
{
    static const std::vector<std::string> algorithms = {"sha256"};
    return algorithms;
}

Result<std::vector<std::string>> parse_extra_digests(const std::vector<std::string>& names)
{
    const auto& known = extra_digest_algorithms();
    std::vector<std::string> out;
    for (const auto& name : names) {
        if (name == "blake3") {
            continue; // always recorded
        }
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            return fail("unknown digest '{}': roar records blake3 always, and sha256 on request", name);
        }
        if (std::find(out.begin(), out.end(), name) == out.end()) {
            out.push_back(name);
        }
    }
    return out;
}

} // namespace roar::collector
