// TextArena: keeps many short strings' bytes in large blocks that never
// move, so each costs its length and the caller holds a view: a job's
// million paths are one allocation per 64 KiB, not one each.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace roar::collector {

class TextArena {
public:
    // A copy of `text` that lives as long as the arena (moves included).
    std::string_view keep(std::string_view text)
    {
        if (m_block_size - m_block_used < text.size()) {
            // A new block: 64 KiB, or the text's own size when longer.
            m_block_size = std::max(k_block, text.size());
            m_blocks.push_back(std::make_unique<char[]>(m_block_size));
            m_block_used = 0;
        }
        char* bytes = m_blocks.back().get() + m_block_used;
        if (!text.empty()) {
            std::memcpy(bytes, text.data(), text.size());
        }
        m_block_used += text.size();
        return {bytes, text.size()};
    }

private:
    static constexpr size_t k_block = 64 * 1024;
    std::vector<std::unique_ptr<char[]>> m_blocks;
    size_t m_block_used = 0, m_block_size = 0;
};

} // namespace roar::collector
