// Summaries of long file lists (see list_summary.hpp).
#include "list_summary.hpp"

#include "text_style.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace roar::cli {

std::string human_count(uint64_t n)
{
    std::string digits = std::to_string(n);
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) {
            out += ',';
        }
        out += digits[i];
    }
    return out;
}

namespace {

struct Group {
    size_t files = 0;
    uint64_t bytes = 0;
    bool all_sizes = true;
};

std::string files_text(size_t files, const Group& g)
{
    std::string text = fmt::format("{} file{}", human_count(files), files == 1 ? "" : "s");
    if (g.all_sizes) {
        text += ", " + human_size(g.bytes);
    }
    return text;
}

// "data/train/" for "data/train/a.csv", "./" for "a.csv", "s3://b/x/" for "s3://b/x/k".
std::string directory_of(const std::string& path)
{
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? std::string("./") : path.substr(0, slash + 1);
}

} // namespace

std::vector<std::string> directory_groups(const std::vector<ListedFile>& rest, size_t max_groups)
{
    std::map<std::string, Group> groups;
    for (const auto& file : rest) {
        Group& g = groups[directory_of(file.path)];
        ++g.files;
        if (file.size) {
            g.bytes += *file.size;
        } else {
            g.all_sizes = false;
        }
    }
    std::vector<std::pair<std::string, Group>> order(groups.begin(), groups.end());
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.second.files > b.second.files; });
    std::vector<std::string> lines;
    size_t width = 0;
    for (size_t i = 0; i < order.size() && i < max_groups; ++i) {
        width = std::max(width, order[i].first.size());
    }
    Group others;
    size_t other_dirs = 0;
    for (size_t i = 0; i < order.size(); ++i) {
        const auto& [dir, g] = order[i];
        if (i < max_groups) {
            lines.push_back(fmt::format("{:<{}}  {}", dir, width, files_text(g.files, g)));
            continue;
        }
        ++other_dirs;
        others.files += g.files;
        others.bytes += g.bytes;
        others.all_sizes = others.all_sizes && g.all_sizes;
    }
    if (other_dirs > 0) {
        lines.push_back(fmt::format("{} in {} other director{}", files_text(others.files, others),
                                    human_count(other_dirs), other_dirs == 1 ? "y" : "ies"));
    }
    return lines;
}

std::string exec_chain(const std::vector<std::string>& programs)
{
    if (programs.size() > 3) {
        return programs.front() + ">+" + std::to_string(programs.size() - 2) + ">" + programs.back();
    }
    std::string out;
    for (const auto& p : programs) {
        out += (out.empty() ? "" : ">") + p;
    }
    return out;
}

} // namespace roar::cli
