// Building fixture trees for the environment capture tests: files with
// their parent directories, and a dist-info the way pip writes one.
#pragma once

#include "temp_dir.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace roar::test {

// Writes `content` to `path`, creating its directories.
inline void put(const std::filesystem::path& path, const std::string& content = "")
{
    std::filesystem::create_directories(path.parent_path());
    write_file(path, content);
}

// A wheel-installed distribution in `site`: its files (relative to the
// site directory) and name-version.dist-info with METADATA, INSTALLER and
// a RECORD listing every file.
inline void put_dist_info(const std::filesystem::path& site, const std::string& name, const std::string& version,
                          const std::vector<std::string>& files)
{
    const std::string info = name + "-" + version + ".dist-info";
    std::string record;
    for (const auto& f : files) {
        if (f.rfind("../", 0) != 0) {
            put(site / f, "# " + f + "\n");
        }
        record += f + ",sha256=x,10\n";
    }
    record += info + "/METADATA,,\n" + info + "/RECORD,,\n";
    put(site / info / "METADATA",
        "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\nSummary: test\n\nName: not-a-header\n");
    put(site / info / "INSTALLER", "pip\n");
    put(site / info / "RECORD", record);
}

} // namespace roar::test
