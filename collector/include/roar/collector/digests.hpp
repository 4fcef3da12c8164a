// The digests of one recorded file or object, by algorithm ("blake3",
// "etag", "sha256" ...), read like a const std::map and kept small: a job
// with a million inputs holds a million of these, and a map of one BLAKE3
// digest costs about 240 bytes on the heap. A BLAKE3 digest in its usual
// form (64 lower-case hex digits) is kept as its 32 bytes inside the object;
// anything else (other algorithms, a digest in another form) in a map
// allocated only when there is one.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace roar::collector {

class Digests {
public:
    using Map = std::map<std::string, std::string, std::less<>>;
    using value_type = std::pair<const std::string, std::string>;

    // Walks the digests in algorithm order, as a map's iterator does. It
    // holds the pair it points at: a reference taken from it lives as long
    // as the iterator.
    class const_iterator {
    public:
        using value_type = Digests::value_type;
        using reference = const value_type&;
        using pointer = const value_type*;
        using difference_type = std::ptrdiff_t;
        using iterator_category = std::input_iterator_tag; // each iterator holds its own pair

        const_iterator() = default;
        reference operator*() const;
        pointer operator->() const { return &**this; }
        const_iterator& operator++();
        const_iterator operator++(int)
        {
            auto before = *this;
            ++*this;
            return before;
        }
        bool operator==(const const_iterator& o) const { return m_at == o.m_at && m_b3_next == o.m_b3_next; }

    private:
        friend class Digests;
        const_iterator(const Digests* of, Map::const_iterator at, bool b3_next) : m_of(of), m_at(at), m_b3_next(b3_next)
        { }
        bool on_b3() const;

        const Digests* m_of = nullptr;
        Map::const_iterator m_at{};
        bool m_b3_next = false; // the inline BLAKE3 digest is not passed yet
        mutable std::optional<value_type> m_value;
    };

    Digests() = default;
    Digests(std::initializer_list<std::pair<std::string, std::string>> entries);
    Digests(const std::map<std::string, std::string>& entries); // NOLINT: a map converts as it did before
    Digests(const Digests& o);
    Digests(Digests&&) noexcept = default;
    Digests& operator=(const Digests& o);
    Digests& operator=(Digests&&) noexcept = default;

    bool empty() const { return !m_has_b3 && (!m_others || m_others->empty()); }
    size_t size() const { return (m_has_b3 ? 1 : 0) + (m_others ? m_others->size() : 0); }
    const_iterator begin() const { return {this, others().begin(), m_has_b3}; }
    const_iterator end() const { return {this, others().end(), false}; }
    // The entry of `algorithm`, or end().
    const_iterator find(std::string_view algorithm) const;
    size_t count(std::string_view algorithm) const { return find(algorithm) == end() ? 0 : 1; }
    bool contains(std::string_view algorithm) const { return count(algorithm) != 0; }
    // The digest of `algorithm`; throws std::out_of_range when there is none.
    std::string at(std::string_view algorithm) const;
    // Sets `algorithm`'s digest to `digest`, replacing any.
    void set(std::string_view algorithm, std::string_view digest);
    std::map<std::string, std::string> to_map() const;

    bool operator==(const Digests& o) const { return to_map() == o.to_map(); }
    bool operator==(const std::map<std::string, std::string>& o) const { return to_map() == o; }

private:
    const Map& others() const;
    std::string b3_hex() const;

    bool m_has_b3 = false;
    std::array<uint8_t, 32> m_b3{};
    std::unique_ptr<Map> m_others;
};

void to_json(nlohmann::json& j, const Digests& d);
// Reads an object of algorithm -> digest strings.
void from_json(const nlohmann::json& j, Digests& d);

} // namespace roar::collector
