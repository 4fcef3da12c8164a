// `roar config list|get|set` over roar.toml.
#include "commands.hpp"

#include "config.hpp"
#include "project.hpp"

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

namespace roar::cli {

int cmd_config_list(bool json)
{
    Project project = Project::find();
    nlohmann::json out = nlohmann::json::array();
    for (const auto& key : config_keys()) {
        auto value = config_get(project.config_path(), key.name);
        if (!value) {
            throw FatalError(value.error().message);
        }
        if (json) {
            out.push_back({{"key", key.name},
                           {"value", *value},
                           {"type", key.type},
                           {"default", key.default_toml},
                           {"description", key.description}});
            if (std::string_view(key.type) == "int") {
                out.back()["min"] = key.min;
                out.back()["max"] = key.max;
            }
        } else if (std::string_view(key.type) == "int") {
            std::cout << fmt::format("{} = {}\n    {} ({} to {})\n", key.name, *value, key.description, key.min,
                                     key.max);
        } else {
            std::cout << fmt::format("{} = {}\n    {}\n", key.name, *value, key.description);
        }
    }
    if (json) {
        std::cout << out.dump(2) << std::endl;
    }
    return 0;
}

int cmd_config_get(const std::string& key)
{
    Project project = Project::find();
    auto value = config_get(project.config_path(), key);
    if (!value) {
        throw FatalError(value.error().message);
    }
    std::cout << *value << "\n";
    return 0;
}

int cmd_config_set(const std::string& key, const std::string& value)
{
    Project project = Project::find();
    if (auto done = config_set(project.config_path(), key, value); !done) {
        throw FatalError(done.error().message);
    }
    auto now = config_get(project.config_path(), key);
    std::cout << fmt::format("{} = {}\n", key, now ? *now : value);
    return 0;
}

} // namespace roar::cli
