// SPDX-License-Identifier: MIT
#include "provision/planner.h"

#include <algorithm>
#include <cstdio>

#include "provision/unified_diff.h"

namespace gc::provision {
namespace {

std::string octal(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

void plan_steps(const std::vector<Step>& steps, const std::vector<bool>& satisfied,
                bool files_change, bool skip_commands, std::vector<std::string>& run,
                std::vector<std::string>& skipped) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    if (skip_commands) {
      skipped.push_back(s.summary + " (skipped with --root)");
      continue;
    }
    bool needed = s.check.empty() ? files_change : !(i < satisfied.size() && satisfied[i]);
    if (needed) run.push_back(s.summary);
  }
}

}  // namespace

std::string_view file_action_name(FileAction a) {
  switch (a) {
    case FileAction::kCreate:
      return "create";
    case FileAction::kModify:
      return "modify";
    case FileAction::kMetadata:
      return "mode-change";
    case FileAction::kUnchanged:
      return "unchanged";
  }
  return "unchanged";
}

bool ComponentPlan::files_change() const {
  return std::any_of(files.begin(), files.end(),
                     [](const FilePlan& f) { return f.action != FileAction::kUnchanged; });
}

bool ComponentPlan::changes() const {
  return files_change() || !builtin_steps.empty() || !steps_before.empty() || !steps_after.empty();
}

bool Plan::changes() const {
  return std::any_of(components.begin(), components.end(),
                     [](const ComponentPlan& c) { return c.changes(); });
}

FilePlan plan_file(const ManagedFile& desired, const FileFacts& current) {
  FilePlan p;
  p.path = desired.path;
  p.secret = desired.secret;
  if (!current.exists) {
    p.action = FileAction::kCreate;
    if (!desired.secret) p.diff = unified_diff("", desired.content, desired.path);
    p.metadata = "mode " + octal(desired.mode) + ", owner " + desired.owner + ":" + desired.group;
    return p;
  }
  std::vector<std::string> meta;
  if ((current.mode & 07777) != (desired.mode & 07777)) {
    meta.push_back("mode " + octal(current.mode) + " -> " + octal(desired.mode));
  }
  if (current.owner != desired.owner || current.group != desired.group) {
    meta.push_back("owner " + current.owner + ":" + current.group + " -> " + desired.owner + ":" +
                   desired.group);
  }
  for (const auto& m : meta) p.metadata += (p.metadata.empty() ? "" : ", ") + m;
  if (current.content != desired.content) {
    p.action = FileAction::kModify;
    if (!desired.secret) p.diff = unified_diff(current.content, desired.content, desired.path);
  } else if (!meta.empty()) {
    p.action = FileAction::kMetadata;
  }
  return p;
}

ComponentPlan plan_component(const Component& component, const ComponentFacts& facts,
                             bool skip_commands) {
  ComponentPlan plan;
  plan.name = component.name;
  for (std::size_t i = 0; i < component.files.size(); ++i) {
    FileFacts none;
    plan.files.push_back(
        plan_file(component.files[i], i < facts.files.size() ? facts.files[i] : none));
  }
  plan.builtin_steps = facts.builtin_steps;
  bool files_change = plan.files_change();
  plan_steps(component.steps_before, facts.before_satisfied, files_change, skip_commands,
             plan.steps_before, plan.skipped);
  if (files_change) {
    const Lifecycle& l = component.lifecycle;
    using Entry = std::pair<std::string, const std::vector<std::string>*>;
    for (const auto& [what, argv] :
         {Entry{"validate: ", &l.validate}, Entry{"reload: ", &l.reload}}) {
      if (argv->empty()) continue;
      if (skip_commands) {
        plan.skipped.push_back(what + command_line(*argv) + " (skipped with --root)");
      } else {
        plan.lifecycle.push_back(what + command_line(*argv));
      }
    }
  }
  plan_steps(component.steps_after, facts.after_satisfied, files_change, skip_commands,
             plan.steps_after, plan.skipped);
  return plan;
}

static std::vector<std::string> run_order(const ComponentPlan& c) {
  std::vector<std::string> out = c.builtin_steps;
  out.insert(out.end(), c.steps_before.begin(), c.steps_before.end());
  out.insert(out.end(), c.lifecycle.begin(), c.lifecycle.end());
  out.insert(out.end(), c.steps_after.begin(), c.steps_after.end());
  return out;
}

std::string format_plan(const Plan& plan) {
  std::string out;
  for (const ComponentPlan& c : plan.components) {
    if (!c.changes()) {
      if (!c.skipped.empty()) out += c.name + ": no changes to files\n";
      for (const auto& s : c.skipped) out += "  skipped: " + s + "\n";
      continue;
    }
    out += c.name + ":\n";
    for (const FilePlan& f : c.files) {
      if (f.action == FileAction::kUnchanged) continue;
      out += "  " + std::string(file_action_name(f.action)) + " " + f.path;
      if (!f.metadata.empty()) out += " (" + f.metadata + ")";
      out += "\n";
      if (f.secret && f.action != FileAction::kMetadata) out += "    (secret, changed)\n";
      out += f.diff;
    }
    for (const auto& s : run_order(c)) out += "  run: " + s + "\n";
    for (const auto& s : c.skipped) out += "  skipped: " + s + "\n";
  }
  for (const auto& g : plan.guards) out += "refused: " + g + "\n";
  if (!plan.changes() && plan.guards.empty()) out += "no changes\n";
  return out;
}

nlohmann::json plan_to_json(const Plan& plan) {
  nlohmann::json components = nlohmann::json::array();
  for (const ComponentPlan& c : plan.components) {
    nlohmann::json files = nlohmann::json::array();
    for (const FilePlan& f : c.files) {
      nlohmann::json j = {{"path", f.path},
                          {"action", std::string(file_action_name(f.action))},
                          {"secret", f.secret}};
      if (!f.metadata.empty() && f.action != FileAction::kUnchanged) j["metadata"] = f.metadata;
      if (!f.secret && !f.diff.empty()) j["diff"] = f.diff;
      files.push_back(std::move(j));
    }
    components.push_back({{"name", c.name},
                          {"changes", c.changes()},
                          {"files", std::move(files)},
                          {"steps", run_order(c)},
                          {"skipped", c.skipped}});
  }
  return {
      {"changes", plan.changes()}, {"components", std::move(components)}, {"guards", plan.guards}};
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`;&|<>*?()") == std::string::npos;
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    out += '\'';
  }
  return out;
}

}  // namespace gc::provision
