// `roar export --format openlineage [REF | --session N] [--url URL]`: the
// recorded jobs as OpenLineage RunEvents, one JSON event per line on
// stdout, or POSTed one by one to an OpenLineage HTTP endpoint. Which jobs:
// REF's (a job, or every job upstream of an artifact), a session's, or all.
#include "commands.hpp"

#include "job_queries.hpp"
#include "openlineage.hpp"
#include "openlineage_http.hpp"
#include "project.hpp"

#include "roar/collector/progress.hpp"
#include "roar/collector/redact.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <map>
#include <unistd.h>

namespace roar::cli {

namespace {

// The rows of the jobs `options` selects, oldest first.
std::vector<int64_t> selected_jobs(collector::Store& store, const Project& project, const ExportOptions& options)
{
    std::vector<int64_t> rows;
    if (!options.ref.empty()) {
        const Ref ref = resolve_ref(store, project, options.ref);
        if (ref.kind == Ref::Kind::job) {
            return {ref.id};
        }
        const collector::Upstream upstream = store.upstream(ref.id);
        if (upstream.jobs.empty()) {
            throw FatalError(
                fmt::format("no recorded job produced '{}' (a source): there is no lineage to export", options.ref));
        }
        std::vector<std::pair<double, int64_t>> by_time;
        for (const auto& job : upstream.jobs) {
            const auto match = store.match_prefix(job.uid);
            if (match.jobs.size() == 1) {
                by_time.emplace_back(job.started_at, match.jobs.front());
            }
        }
        std::sort(by_time.begin(), by_time.end());
        for (const auto& [when, row] : by_time) {
            rows.push_back(row);
        }
        return rows;
    }
    collector::JobFilter filter;
    if (options.session == "current") {
        filter.session = store.active_session().value_or(0);
    } else if (!options.session.empty()) {
        int64_t n = 0;
        const auto* end = options.session.data() + options.session.size();
        if (std::from_chars(options.session.data(), end, n).ptr != end || n <= 0) {
            throw FatalError(fmt::format("--session takes a session number or 'current', not '{}'", options.session));
        }
        if (!store.session_exists(n)) {
            throw FatalError(fmt::format("no session {} in this project ('roar log' lists the jobs of each)", n));
        }
        filter.session = n;
    }
    for (const auto& job : store.job_summaries(filter)) {
        rows.push_back(job.row);
    }
    return rows;
}

// `text` (a message naming the endpoint) with the secret shapes of a URL
// redacted: a password in it, an access_token parameter.
std::string without_secrets(const std::string& text)
{
    static const auto redactor = collector::Redactor::create();
    return redactor ? redactor->text(text) : text;
}

} // namespace

int cmd_export(const ExportOptions& options)
{
    if (!options.ref.empty() && !options.session.empty()) {
        throw FatalError("export takes a job or artifact, or --session, not both");
    }
    std::optional<std::string> endpoint;
    if (!options.url.empty()) {
        auto url = openlineage::endpoint_url(options.url);
        if (!url) {
            throw FatalError(url.error().message);
        }
        endpoint = *url;
    }
    Project project = Project::find();
    collector::Store store = project.open_store(collector::Access::read);
    const auto snapshot = store.snapshot();

    openlineage::EventOptions event_options;
    event_options.job_namespace = options.job_namespace.empty()
                                      ? fmt::format("roar/{}", project.root().filename().string())
                                      : options.job_namespace;
    if (!project.config().openlineage_schema_base.empty()) {
        std::string base = project.config().openlineage_schema_base;
        while (base.ends_with('/')) {
            base.pop_back();
        }
        event_options.schema_base = std::move(base);
    }
    if (!project.config().openlineage_producer.empty()) {
        event_options.producer = project.config().openlineage_producer;
    }
    std::map<int64_t, std::optional<openlineage::SessionRun>> sessions;
    auto session_of = [&](int64_t id) -> std::optional<openlineage::SessionRun> {
        if (id <= 0) {
            return std::nullopt;
        }
        auto [it, added] = sessions.try_emplace(id);
        if (added) {
            if (const auto created = store.session_created_at(id)) {
                it->second = openlineage::SessionRun{id, *created};
            }
        }
        return it->second;
    };

    std::unique_ptr<openlineage::EventSender> sender;
    if (endpoint) {
        openlineage::SenderOptions sender_options;
        if (const char* key = std::getenv("OPENLINEAGE_API_KEY")) {
            sender_options.api_key = key;
        }
        sender = std::make_unique<openlineage::EventSender>(*endpoint, sender_options);
    }
    const std::vector<int64_t> rows = selected_jobs(store, project, options);
    size_t sent = 0;
    {
        // A progress line on stderr when it is a terminal, unless the events
        // themselves go to that terminal (stdout one too): they show progress.
        // It is erased (end of this block) before the summary below.
        collector::ProgressLine progress(collector::stderr_shows_progress() && (sender || isatty(1) == 0),
                                         "roar: exporting", 2, collector::progress_delay(), "jobs");
        progress.set_total(rows.size());
        for (const int64_t row : rows) {
            const auto job = store.job(row);
            if (!job) {
                throw FatalError(fmt::format("job {} vanished from the database", row));
            }
            event_options.session = session_of(job->session);
            for (const auto& event : openlineage::run_events(*job, event_options)) {
                const std::string line = openlineage::to_json_line(event);
                if (!sender) {
                    std::cout << line << '\n';
                    continue;
                }
                if (auto posted = sender->send(line); !posted) {
                    throw FatalError(without_secrets(fmt::format(
                        "export: sending an event of job {} to {} failed: {}; {} of {} events were sent (exporting "
                        "again is safe: run ids are stable)",
                        job->uid, *endpoint, posted.error().message, sent, rows.size() * 2)));
                }
                ++sent;
            }
            progress.add(1);
        }
    }
    std::cout.flush();
    if (sender) {
        std::cerr << fmt::format("roar: sent {} events ({} job{}) to {}\n", sent, rows.size(),
                                 rows.size() == 1 ? "" : "s", without_secrets(*endpoint));
    }
    return 0;
}

} // namespace roar::cli
