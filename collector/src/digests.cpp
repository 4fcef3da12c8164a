// Digests: a BLAKE3 digest kept as 32 bytes, the rest in a map made on
// demand, read in algorithm order as one map.
#include "roar/collector/digests.hpp"

#include "roar/collector/blake3_tree.hpp"
#include "roar/collector/hex_digit.hpp"

#include <algorithm>
#include <stdexcept>

namespace roar::collector {

namespace {

constexpr std::string_view k_blake3 = "blake3";

// The 32 bytes of `hex` when it is 64 lower-case hex digits (the form roar
// writes), so that reading it back gives the same text.
std::optional<std::array<uint8_t, 32>> canonical_blake3(std::string_view hex)
{
    if (std::any_of(hex.begin(), hex.end(), [](char c) { return c >= 'A' && c <= 'F'; })) {
        return std::nullopt;
    }
    return digest_bytes(hex);
}

} // namespace

Digests::Digests(std::initializer_list<std::pair<std::string, std::string>> entries)
{
    for (const auto& [algorithm, digest] : entries) {
        set(algorithm, digest);
    }
}

Digests::Digests(const std::map<std::string, std::string>& entries)
{
    for (const auto& [algorithm, digest] : entries) {
        set(algorithm, digest);
    }
}

Digests::Digests(const Digests& o)
    : m_has_b3(o.m_has_b3), m_b3(o.m_b3), m_others(o.m_others ? std::make_unique<Map>(*o.m_others) : nullptr)
{ }

Digests& Digests::operator=(const Digests& o)
{
    if (this != &o) {
        m_has_b3 = o.m_has_b3;
        m_b3 = o.m_b3;
        m_others = o.m_others ? std::make_unique<Map>(*o.m_others) : nullptr;
    }
    return *this;
}

const Digests::Map& Digests::others() const
{
    static const Map k_none;
    return m_others ? *m_others : k_none;
}

std::string Digests::b3_hex() const { return blake3::to_hex(m_b3); }

bool Digests::const_iterator::on_b3() const
{
    // The inline digest goes where "blake3" sorts among the map's keys (the
    // map never holds "blake3" while the inline one is set).
    return m_b3_next && (m_at == m_of->others().end() || m_at->first > k_blake3);
}

Digests::const_iterator::reference Digests::const_iterator::operator*() const
{
    if (on_b3()) {
        m_value.emplace(std::string(k_blake3), m_of->b3_hex());
    } else {
        m_value.emplace(m_at->first, m_at->second);
    }
    return *m_value;
}

Digests::const_iterator& Digests::const_iterator::operator++()
{
    if (on_b3()) {
        m_b3_next = false;
    } else {
        ++m_at;
    }
    m_value.reset();
    return *this;
}

Digests::const_iterator Digests::find(std::string_view algorithm) const
{
    const Map& rest = others();
    if (algorithm == k_blake3 && m_has_b3) {
        return {this, rest.lower_bound(algorithm), true};
    }
    auto at = rest.find(algorithm);
    if (at == rest.end()) {
        return end();
    }
    return {this, at, m_has_b3 && at->first < k_blake3};
}

std::string Digests::at(std::string_view algorithm) const
{
    auto it = find(algorithm);
    if (it == end()) {
        throw std::out_of_range("no " + std::string(algorithm) + " digest");
    }
    return it->second;
}

void Digests::set(std::string_view algorithm, std::string_view digest)
{
    if (algorithm == k_blake3) {
        if (auto bytes = canonical_blake3(digest)) {
            m_has_b3 = true;
            m_b3 = *bytes;
            if (m_others) {
                m_others->erase(std::string(algorithm));
            }
            return;
        }
        m_has_b3 = false;
    }
    if (!m_others) {
        m_others = std::make_unique<Map>();
    }
    m_others->insert_or_assign(std::string(algorithm), std::string(digest));
}

std::map<std::string, std::string> Digests::to_map() const
{
    std::map<std::string, std::string> out;
    for (const auto& [algorithm, digest] : *this) {
        out.emplace(algorithm, digest);
    }
    return out;
}

void to_json(nlohmann::json& j, const Digests& d)
{
    j = nlohmann::json::object();
    for (const auto& [algorithm, digest] : d) {
        j[algorithm] = digest;
    }
}

void from_json(const nlohmann::json& j, Digests& d)
{
    // Through a map: anything but an object of strings fails as it did
    // when the field was one.
    d = Digests(j.get<std::map<std::string, std::string>>());
}

} // namespace roar::collector
