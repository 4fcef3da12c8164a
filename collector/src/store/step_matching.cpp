// Step matching (see step_matching.hpp): command shapes and the path sets
// that tell a re-run from a variant.
#include "roar/collector/store/step_matching.hpp"

#include "roar/collector/path_resolver.hpp"

#include <algorithm>
#include <cctype>

namespace roar::collector {

std::string step_program(const std::vector<std::string>& argv, std::string_view cwd,
                         const std::vector<ArtifactUse>& inputs)
{
    std::string program(cwd);
    if (argv.empty()) {
        return program;
    }
    program += '\x1f';
    program += argv[0];
    for (size_t i = 1; i < argv.size(); ++i) {
        const std::string& arg = argv[i];
        if ((arg == "-c" || arg == "-e" || arg == "-m") && i + 1 < argv.size()) {
            program += '\x1f';
            program += arg;
            program += ' ';
            program += normalise_digits(argv[i + 1]);
            break;
        }
        if (arg.empty() || arg[0] == '-') {
            continue;
        }
        // The script as named when the job read it (step_1.py and step_2.py
        // are different code); else digit runs do not count (`./fit 0.1`).
        // Its ".." is applied as the kernel does, as the job's inputs were
        // recorded: `alias/../step_1.py` read as `real/step_1.py` is read.
        const std::string path = PathResolver().resolve(cwd, arg);
        const bool read =
            std::any_of(inputs.begin(), inputs.end(), [&](const ArtifactUse& u) { return u.path == path; });
        program += '\x1f';
        program += read ? arg : normalise_digits(arg);
        break;
    }
    return program;
}

std::vector<std::string> output_paths(const JobRecord& job)
{
    std::vector<std::string> out;
    out.reserve(job.outputs.size());
    for (const auto& use : job.outputs) {
        out.push_back(use.path);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

bool nested_paths(const std::vector<std::string>& a, const std::vector<std::string>& b)
{
    return std::includes(a.begin(), a.end(), b.begin(), b.end())
           || std::includes(b.begin(), b.end(), a.begin(), a.end());
}

std::string normalise_digits(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    bool in_digits = false;
    for (char c : text) {
        if (std::isdigit(static_cast<unsigned char>(c))) {
            if (!in_digits) {
                out += '#';
            }
            in_digits = true;
        } else {
            out += c;
            in_digits = false;
        }
    }
    return out;
}

std::string step_signature(const std::vector<std::string>& argv, std::string_view cwd)
{
    std::string sig(cwd);
    for (const auto& arg : argv) {
        sig += '\x1f';
        sig += normalise_digits(arg);
    }
    return sig;
}

StepPaths step_paths(const JobRecord& job)
{
    // Inputs are compared exactly: step_1.py and step_2.py are different
    // code, output_1.txt and output_2.txt different data. Outputs are
    // compared up to digit runs: run_7/metrics.json and run_8/metrics.json
    // are one step run twice.
    auto normalised = [](const std::vector<ArtifactUse>& uses, bool digits) {
        std::vector<std::string> out;
        for (const auto& use : uses) {
            out.push_back(digits ? normalise_digits(use.path) : use.path);
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    };
    return {normalised(job.inputs, false), normalised(job.outputs, true)};
}

bool step_io_compatible(const StepPaths& job, const StepPaths& step)
{
    auto nested = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
        return std::includes(a.begin(), a.end(), b.begin(), b.end())
               || std::includes(b.begin(), b.end(), a.begin(), a.end());
    };
    return nested(job.inputs, step.inputs) && nested(job.outputs, step.outputs);
}

std::string join_command(const std::vector<std::string>& argv)
{
    std::string out;
    for (const auto& arg : argv) {
        if (!out.empty()) {
            out += ' ';
        }
        const bool plain = !arg.empty() && arg.find_first_of(" \t\n'\"\\$`;&|<>()*?[]{}!#~") == std::string::npos;
        if (plain) {
            out += arg;
        } else {
            out += '\'';
            for (char c : arg) {
                if (c == '\'') {
                    out += "'\\''";
                } else {
                    out += c;
                }
            }
            out += '\'';
        }
    }
    return out;
}

} // namespace roar::collector
