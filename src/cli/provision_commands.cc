// SPDX-License-Identifier: MIT
// cli/provision_commands.cc: plan and apply. The decisions are in provision/; this file renders
// the components for this machine and prints.
#include "cli/provision_commands.h"

#include <unistd.h>

#include <cstdio>
#include <optional>

#include "audit/run.h"
#include "cli/exit_codes.h"
#include "cli/tls_commands.h"
#include "provision/apply.h"
#include "provision/render_all.h"

namespace gc::cli {
namespace {

using json = nlohmann::json;

std::string self_exe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "/usr/local/bin/groundctl";
}

// The root without a trailing slash ("/" means the live system too).
Result<std::string> normalize_root(const std::string& root) {
  std::string r = root;
  while (!r.empty() && r.back() == '/') r.pop_back();
  if (!root.empty() && r.empty()) return r;
  if (!r.empty() && r.front() != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd) == nullptr) return sys_error("getcwd", ".", errno);
    r = std::string(cwd) + "/" + r;
  }
  if (!r.empty() && ::access(r.c_str(), F_OK) != 0) {
    return make_error(Errc::kInvalidArgument, "--root " + root + ": no such directory");
  }
  return r;
}

struct Prepared {
  config::Config config;
  std::vector<provision::Component> components;
  provision::ApplyOptions options;
};

Result<Prepared> prepare(const Globals& g, const ProvisionArgs& args) {
  Prepared p;
  GC_ASSIGN_OR_RETURN(p.config, load_config_for_provisioning(g));
  GC_ASSIGN_OR_RETURN(p.options.root, normalize_root(args.root));
  provision::Target target;
  target.root = p.options.root;
  target.systemd = ::access("/run/systemd/system", F_OK) == 0;  // sd_booted(3)'s test.
  p.components = provision::render_all(p.config, target, self_exe());
  return p;
}

void print_refusal(const provision::Plan& plan) {
  for (const auto& problem : plan.guards) std::fprintf(stderr, "groundctl: %s\n", problem.c_str());
}

// The audit that follows every live apply (the issue: "the daemon runs it daily and after every
// apply"). audit::run saves the report in the state store, where the daemon's audit thread picks
// it up within a minute: its metrics and drift alerts see this run without a request to the
// daemon, and without a daemon the report still waits there. Findings do not fail the apply.
std::optional<audit::Report> audit_after_apply(const config::Config& config) {
  auto report = audit::run(config, audit::Options{});
  if (!report) {
    std::fprintf(stderr, "groundctl: warning: the audit after apply failed: %s\n",
                 report.error().message.c_str());
    return std::nullopt;
  }
  return std::move(*report);
}

// The site's TLS rating after a live apply (the issue: "`apply` runs it against the new site"),
// as SSL Labs would rate it, from 127.0.0.1:443 with the domain as SNI and the system's trust
// store. A low grade or a probe that fails is reported, not an apply failure: the files are in
// place either way, and a placeholder certificate rates T until the first issuance.
struct SiteGrade {
  std::string text;  // One line plus the reasons, for people.
  json doc;          // {"grade", "score", "reasons"} or {"error"}.
};

std::optional<SiteGrade> grade_after_apply(const config::Config& config) {
  if (!config.nginx) return std::nullopt;
  tls::ProbeOptions o;
  o.host = "127.0.0.1";
  o.port = 443;
  o.sni = config.nginx->domain;
  SiteGrade g;
  auto probe = tls::probe_server(o);
  if (!probe) {
    g.text = "tls grade: " + probe.error().message;
    g.doc = {{"error", probe.error().message}};
    return g;
  }
  auto now = std::chrono::system_clock::now();
  tls::GradeReport report = tls::grade_server(*probe, now);
  json full = tls_grade_json(*probe, report, now);
  g.doc = {{"grade", full["grade"]}, {"score", full["score"]}, {"reasons", full["reasons"]}};
  g.text = std::string("tls grade: ") + tls::grade_name(report.grade) + " (score " +
           std::to_string(report.score) + "; `groundctl tls grade 127.0.0.1:443 --sni " +
           config.nginx->domain + "` for details)";
  for (const auto& r : report.reasons) g.text += "\n  " + r.id + ": " + r.message;
  return g;
}

json audit_summary_json(const audit::Report& report) {
  return {{"score", report.score}, {"failed", report.failed_ids()}};
}

std::string audit_summary_text(const audit::Report& report) {
  std::string failed;
  for (const auto& id : report.failed_ids()) failed += (failed.empty() ? "" : ", ") + id;
  return "audit: score " + std::to_string(report.score) + "/100, failed: " +
         (failed.empty() ? std::string("none") : failed + " (`groundctl audit` for details)");
}

}  // namespace

int cmd_plan(const Globals& g, const ProvisionArgs& args) {
  auto p = prepare(g, args);
  if (!p) return report_failure(g, p.error(), kExitUsage);
  auto plan = provision::make_plan(p->config, p->components, p->options);
  if (!plan) return report_failure(g, plan.error(), exit_code_for(plan.error()));
  if (g.json) {
    print_json(provision::plan_to_json(*plan));
  } else {
    std::fputs(provision::format_plan(*plan).c_str(), stdout);
  }
  if (!plan->guards.empty()) {
    print_refusal(*plan);
    return kExitUsage;
  }
  return plan->changes() ? kExitProblem : kExitOk;
}

int cmd_apply(const Globals& g, const ProvisionArgs& args) {
  auto p = prepare(g, args);
  if (!p) return report_failure(g, p.error(), kExitUsage);
  auto report = provision::apply(p->config, p->components, p->options);
  if (!report) return report_failure(g, report.error(), exit_code_for(report.error()));
  const provision::ApplyReport& r = *report;
  std::optional<audit::Report> audited;
  std::optional<SiteGrade> graded;
  if (!r.refused() && p->options.root.empty()) {
    audited = audit_after_apply(p->config);
    if (r.failed.empty()) graded = grade_after_apply(p->config);
  }
  if (g.json) {
    json out = provision::plan_to_json(r.plan);
    if (audited) out["audit"] = audit_summary_json(*audited);
    if (graded) out["tls_grade"] = graded->doc;
    out["ok"] = r.ok();
    out["applied"] = r.applied;
    out["log"] = r.log;
    if (!r.backup_dir.empty()) out["backup_dir"] = r.backup_dir;
    if (!r.failed.empty()) {
      out["failed"] = r.failed;
      out["error"] = r.error;
      out["not_run"] = r.not_run;
    }
    print_json(out);
  }
  if (r.refused()) {
    if (!g.json) std::fputs("refused: nothing was written\n", stdout);
    print_refusal(r.plan);
    return kExitUsage;
  }
  if (!g.json) {
    if (r.applied.empty() && r.failed.empty()) std::fputs("no changes\n", stdout);
    for (const auto& line : r.log) std::printf("%s\n", line.c_str());
    if (!r.backup_dir.empty()) std::printf("previous versions saved in %s\n", r.backup_dir.c_str());
    if (audited) std::printf("%s\n", audit_summary_text(*audited).c_str());
    if (graded) std::printf("%s\n", graded->text.c_str());
  }
  if (!r.failed.empty()) {
    std::string stayed;
    for (const auto& name : r.applied) stayed += (stayed.empty() ? "" : ", ") + name;
    std::string skipped;
    for (const auto& name : r.not_run) skipped += (skipped.empty() ? "" : ", ") + name;
    std::fprintf(stderr, "groundctl: apply failed in %s: %s\n", r.failed.c_str(), r.error.c_str());
    std::fprintf(stderr, "groundctl: applied before it (left in place): %s; not run: %s\n",
                 stayed.empty() ? "none" : stayed.c_str(),
                 skipped.empty() ? "none" : skipped.c_str());
    return kExitProblem;
  }
  return kExitOk;
}

}  // namespace gc::cli
