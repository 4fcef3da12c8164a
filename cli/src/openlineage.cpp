// OpenLineage RunEvents from job records (see openlineage.hpp).
#include "openlineage.hpp"

#include "job_queries.hpp"

#include "roar/collector/file_hasher.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace roar::cli::openlineage {

namespace {

// The base fields every facet carries; `schema` is OpenLineage's facet
// file URL with its definition, or one of roar's (roar_facet).
nlohmann::json facet(const EventOptions& options, const std::string& schema)
{
    return nlohmann::json{{"_producer", options.producer}, {"_schemaURL", schema}};
}

// One of roar's facets: its schema is `file` under the options' schema base.
nlohmann::json roar_facet(const EventOptions& options, const char* file, const char* definition)
{
    return facet(options, fmt::format("{}/{}#/$defs/{}", options.schema_base, file, definition));
}

constexpr const char* k_parent_schema =
    "https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet";
constexpr const char* k_engine_schema =
    "https://openlineage.io/spec/facets/1-1-1/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet";
constexpr const char* k_job_type_schema =
    "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet";
constexpr const char* k_version_schema =
    "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet";
constexpr const char* k_output_stats_schema = "https://openlineage.io/spec/facets/1-0-2/"
                                              "OutputStatisticsOutputDatasetFacet.json#/$defs/"
                                              "OutputStatisticsOutputDatasetFacet";

nlohmann::json run_facets(const collector::JobDetail& job, const EventOptions& options)
{
    nlohmann::json facets = nlohmann::json::object();
    if (options.session) {
        const nlohmann::json parent_job{{"namespace", options.job_namespace}, {"name", "session"}};
        const nlohmann::json parent_run{{"runId", session_run_id(*options.session)}};
        auto parent = facet(options, k_parent_schema);
        parent["run"] = parent_run;
        parent["job"] = parent_job;
        parent["root"] = {{"run", parent_run}, {"job", parent_job}};
        facets["parent"] = std::move(parent);
    }
    auto engine = facet(options, k_engine_schema);
    engine["name"] = "roar";
    engine["version"] = job.roar_version.empty() ? ROAR_VERSION_STRING : job.roar_version;
    engine["openlineageAdapterVersion"] = ROAR_VERSION_STRING;
    facets["processing_engine"] = std::move(engine);

    auto command = roar_facet(options, "1-0-0/RoarCommandRunFacet.json", "RoarCommandRunFacet");
    command["jobId"] = job.uid;
    command["command"] = job.command;
    command["argv"] = job.argv;
    command["cwd"] = job.cwd;
    command["exitCode"] = job.exit_code;
    if (job.signal) {
        command["signal"] = *job.signal;
    }
    if (job.step) {
        command["step"] = *job.step;
    }
    if (options.session) {
        command["session"] = options.session->id;
    }
    facets["roar_command"] = std::move(command);

    auto host = roar_facet(options, "1-0-0/RoarHostRunFacet.json", "RoarHostRunFacet");
    host["hostname"] = job.host;
    host["user"] = job.user;
    facets["roar_host"] = std::move(host);

    if (job.git) {
        auto git = roar_facet(options, "1-0-0/RoarGitRunFacet.json", "RoarGitRunFacet");
        git["commit"] = job.git->commit;
        git["branch"] = job.git->branch;
        git["remote"] = job.git->remote;
        git["dirty"] = job.git->dirty;
        git["dirtyFiles"] = job.git->dirty_files;
        facets["roar_git"] = std::move(git);
    }
    return facets;
}

nlohmann::json job_of(const collector::JobDetail& job, const EventOptions& options)
{
    auto type = facet(options, k_job_type_schema);
    type["processingType"] = "BATCH";
    type["integration"] = "ROAR";
    type["jobType"] = "COMMAND";
    return {{"namespace", options.job_namespace}, {"name", job.command}, {"facets", {{"jobType", std::move(type)}}}};
}

// One dataset of `job`; its content facets only `with_content` (an output's
// content does not exist yet when its job starts).
nlohmann::json dataset(const collector::JobDetail& job, const collector::UseDetail& use, const EventOptions& options,
                       bool with_content, bool output)
{
    const DatasetName name = dataset_name(use.path, job.host);
    nlohmann::json d{{"namespace", name.namespace_}, {"name", name.name}};
    if (!with_content) {
        return d;
    }
    nlohmann::json facets = nlohmann::json::object();
    auto content = roar_facet(options, "1-0-0/RoarContentDatasetFacet.json", "RoarContentDatasetFacet");
    if (use.size) {
        content["size"] = *use.size;
    }
    const auto blake3 = use.hashes.find("blake3");
    const auto etag = use.hashes.find("etag");
    if (blake3 != use.hashes.end()) {
        content["blake3"] = blake3->second;
    }
    if (etag != use.hashes.end()) {
        content["s3ETag"] = etag->second;
    }
    facets["roar_content"] = std::move(content);
    if (use.pid) {
        auto process = roar_facet(options, "1-0-0/RoarProcessDatasetFacet.json", "RoarProcessDatasetFacet");
        process["pid"] = *use.pid;
        process["programs"] = nlohmann::json::array();
        for (const auto& p : job.processes) {
            if (p.pid == *use.pid) {
                const std::string& path = p.argv.empty() ? p.exe : p.argv.front();
                process["programs"].push_back(path.substr(path.rfind('/') + 1));
            }
        }
        facets["roar_process"] = std::move(process);
    }
    // The identifying digest is the dataset's version: the same bytes are
    // the same version wherever and by whichever job they were seen.
    if (blake3 != use.hashes.end() || etag != use.hashes.end()) {
        auto version = facet(options, k_version_schema);
        version["datasetVersion"] = blake3 != use.hashes.end() ? blake3->second : etag->second;
        facets["version"] = std::move(version);
    }
    d["facets"] = std::move(facets);
    if (output && use.size) {
        auto stats = facet(options, k_output_stats_schema);
        stats["size"] = *use.size;
        d["outputFacets"] = {{"outputStatistics", std::move(stats)}};
    }
    return d;
}

nlohmann::json event(const char* type, double when, const collector::JobDetail& job, const EventOptions& options,
                     bool outputs_with_content)
{
    nlohmann::json inputs = nlohmann::json::array();
    for (const auto& use : job.inputs) {
        inputs.push_back(dataset(job, use, options, true, false));
    }
    nlohmann::json outputs = nlohmann::json::array();
    for (const auto& use : job.outputs) {
        outputs.push_back(dataset(job, use, options, outputs_with_content, true));
    }
    return {{"eventType", type},
            {"eventTime", iso_time(when)},
            {"producer", options.producer},
            {"schemaURL", k_event_schema},
            {"run", {{"runId", job_run_id(job)}, {"facets", run_facets(job, options)}}},
            {"job", job_of(job, options)},
            {"inputs", std::move(inputs)},
            {"outputs", std::move(outputs)}};
}

// The length of the valid UTF-8 sequence at `s[i]`, or 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF included).
size_t utf8_length(std::string_view s, size_t i)
{
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    if (c < 0x80) {
        return 1;
    }
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) {
        return 0;
    }
    for (size_t k = 2; k < n; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
            return 0;
        }
    }
    return n;
}

// `s` with every byte that is not part of valid UTF-8 written as \xNN.
// TODO(bytes): a lossless JSON form for byte strings is being defined
// (issue 10 item 1); until then "\xNN" cannot be told from those four
// characters in a real name.
std::string escape_invalid_utf8(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        const size_t n = utf8_length(s, i);
        if (n == 0) {
            out += fmt::format("\\x{:02X}", static_cast<unsigned char>(s[i]));
            ++i;
        } else {
            out.append(s, i, n);
            i += n;
        }
    }
    return out;
}

bool valid_utf8(std::string_view s)
{
    for (size_t i = 0; i < s.size();) {
        const size_t n = utf8_length(s, i);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

// Whether every string of `j` (keys too) is valid UTF-8: the common case,
// checked without copying the document.
bool all_valid(const nlohmann::json& j)
{
    if (j.is_string()) {
        return valid_utf8(j.get_ref<const std::string&>());
    }
    if (j.is_array()) {
        return std::all_of(j.begin(), j.end(), [](const nlohmann::json& item) { return all_valid(item); });
    }
    if (j.is_object()) {
        for (const auto& [key, value] : j.items()) {
            if (!valid_utf8(key) || !all_valid(value)) {
                return false;
            }
        }
    }
    return true;
}

// `j` with every string (keys too) made valid UTF-8.
nlohmann::json sanitized(const nlohmann::json& j)
{
    if (j.is_string()) {
        const auto& s = j.get_ref<const std::string&>();
        return valid_utf8(s) ? j : nlohmann::json(escape_invalid_utf8(s));
    }
    if (j.is_array()) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& item : j) {
            out.push_back(sanitized(item));
        }
        return out;
    }
    if (j.is_object()) {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& [key, value] : j.items()) {
            out[valid_utf8(key) ? key : escape_invalid_utf8(key)] = sanitized(value);
        }
        return out;
    }
    return j;
}

} // namespace

std::string default_producer() { return fmt::format("https://roar.invalid/roar/releases/{}", ROAR_VERSION_STRING); }

DatasetName dataset_name(std::string_view path, std::string_view host)
{
    constexpr std::string_view s3 = "s3://";
    if (path.substr(0, s3.size()) == s3) {
        const std::string_view rest = path.substr(s3.size());
        const size_t slash = rest.find('/');
        if (slash == std::string_view::npos) {
            return {std::string(path), ""};
        }
        return {std::string(path.substr(0, s3.size() + slash)), std::string(rest.substr(slash + 1))};
    }
    return {host.empty() ? std::string("file") : fmt::format("file://{}", host), std::string(path)};
}

std::string stable_uuid_v7(double unix_seconds, std::string_view identity)
{
    const std::string hash = collector::blake3_hex(identity);
    std::array<uint8_t, 16> b{};
    for (size_t i = 0; i < b.size(); ++i) {
        std::from_chars(hash.data() + i * 2, hash.data() + i * 2 + 2, b[i], 16);
    }
    const auto millis = static_cast<uint64_t>(std::max(0.0, std::floor(unix_seconds * 1000.0)));
    for (int i = 0; i < 6; ++i) {
        b[size_t(i)] = static_cast<uint8_t>(millis >> (8 * (5 - i)));
    }
    b[6] = static_cast<uint8_t>(0x70 | (b[6] & 0x0F)); // version 7
    b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3F)); // RFC 9562 variant
    std::string out;
    for (size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out += '-';
        }
        out += fmt::format("{:02x}", b[i]);
    }
    return out;
}

std::string job_run_id(const collector::JobDetail& job)
{
    return stable_uuid_v7(job.started_at, fmt::format("roar job {}", job.uid));
}

std::string session_run_id(const SessionRun& session)
{
    return stable_uuid_v7(session.created_at, fmt::format("roar session {} {:.6f}", session.id, session.created_at));
}

std::vector<nlohmann::json> run_events(const collector::JobDetail& job, const EventOptions& options)
{
    const bool ok = job.exit_code == 0 && !job.signal;
    return {event("START", job.started_at, job, options, false),
            event(ok ? "COMPLETE" : "FAIL", job.ended_at, job, options, true)};
}

std::string to_json_line(const nlohmann::json& event)
{
    return all_valid(event) ? event.dump() : sanitized(event).dump();
}

} // namespace roar::cli::openlineage
