// TextArena: keeps many short strings' bytes in large blocks that never
// move, so each costs its length and the caller holds a view: a job's
// million paths are one allocation per 64 KiB, not one each. Strings kept
// one after another can be let go of from the oldest (release_before), so
// a caller walking them in the order they were kept gives their memory
// back as it goes.
#pragma once

#include <algorithm>
#include <cstring>
#include <functional>
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
            m_blocks.push_back(Block{std::make_unique<char[]>(m_block_size), m_block_size});
            m_block_used = 0;
        }
        char* bytes = m_blocks.back().bytes.get() + m_block_used;
        if (!text.empty()) {
            std::memcpy(bytes, text.data(), text.size());
        }
        m_block_used += text.size();
        return {bytes, text.size()};
    }

    // Frees every block before the one holding `kept`, a view keep()
    // returned of a string not yet freed: the strings kept before it may be
    // freed with them. keep() goes on as before.
    void release_before(std::string_view kept)
    {
        const std::less_equal<const char*> le;
        for (size_t i = m_first_live; i < m_blocks.size(); ++i) {
            const char* bytes = m_blocks[i].bytes.get();
            if (le(bytes, kept.data()) && le(kept.data(), bytes + m_blocks[i].size)) {
                for (; m_first_live < i; ++m_first_live) {
                    m_blocks[m_first_live].bytes.reset();
                }
                return;
            }
        }
    }

private:
    struct Block {
        std::unique_ptr<char[]> bytes;
        size_t size = 0;
    };
    static constexpr size_t k_block = 64 * 1024;
    std::vector<Block> m_blocks;
    size_t m_first_live = 0; // blocks before it are released
    size_t m_block_used = 0, m_block_size = 0;
};

} // namespace roar::collector
