// SPDX-License-Identifier: MIT
// provision/planner.h: decides what apply would do, from the rendered Components and the facts
// a driver read off the target (file contents, modes, owners, step checks). Pure: the same
// components and facts always give the same plan.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "provision/resource.h"

namespace gc::provision {

// A managed file as it is on the target.
struct FileFacts {
  bool exists = false;
  std::string content;
  mode_t mode = 0;    // Permission bits only (07777).
  std::string owner;  // Names; the numeric id as text when the target has no name for it.
  std::string group;
};

// The facts for one component, parallel to its vectors.
struct ComponentFacts {
  std::vector<FileFacts> files;
  // Whether each step's check exited 0. Ignored with skip_commands.
  std::vector<bool> before_satisfied;
  std::vector<bool> after_satisfied;
  // Work the driver does itself before validate ("placeholder certificate for api.example.org").
  std::vector<std::string> builtin_steps;
};

enum class FileAction { kCreate, kModify, kMetadata, kUnchanged };
// "create", "modify", "mode-change", "unchanged".
std::string_view file_action_name(FileAction a);

struct FilePlan {
  std::string path;
  FileAction action = FileAction::kUnchanged;
  bool secret = false;
  // The unified diff; empty for secret files (never shown) and unchanged content.
  std::string diff;
  // For kMetadata and kModify: "mode 0644 -> 0600", "owner root:root -> postgres:postgres".
  std::string metadata;
};

struct ComponentPlan {
  std::string name;
  std::vector<FilePlan> files;
  std::vector<std::string> builtin_steps;  // Run even with --root (they write under it).
  std::vector<std::string> steps_before;   // Summaries of the steps that would run.
  std::vector<std::string> steps_after;
  std::vector<std::string> lifecycle;  // "validate: nginx -t", "reload: ..." if files change.
  std::vector<std::string> skipped;    // With --root: what is not run, and why.
  bool files_change() const;
  bool changes() const;  // Files, builtin steps or steps (skipped ones are not changes).
};

struct Plan {
  std::vector<ComponentPlan> components;
  std::vector<std::string> guards;  // Lock-out problems (provision/guards.h): apply refuses.
  bool changes() const;
};

// The change for one file: create when absent, modify when the content differs (its diff, or
// none for a secret), mode-change when only the mode or owner differ.
FilePlan plan_file(const ManagedFile& desired, const FileFacts& current);

// Which steps run: a step with a check runs when its check failed; a step without a check runs
// when a file of the component changes (it belongs to that change). With `skip_commands`
// (--root) no step, validate or reload runs: they are listed in `skipped` instead.
ComponentPlan plan_component(const Component& component, const ComponentFacts& facts,
                             bool skip_commands);

// The plan for people: per component with changes, its files (diffs; "(secret, changed)" for
// secrets), the builtin steps, steps and lifecycle commands that would run and what --root
// skips; then the guard problems. "no changes" when there is nothing to do. Never holds a secret.
std::string format_plan(const Plan& plan);

// {"changes": bool, "components": [{"name", "changes", "files": [{"path", "action", "secret",
// "metadata"?, "diff"?}], "steps": [summary...], "skipped": [...]}], "guards": [...]}. "steps"
// lists builtin steps, steps_before, lifecycle and steps_after in run order. Never holds a
// secret: a secret file has no "diff".
nlohmann::json plan_to_json(const Plan& plan);

// An argv as one display line, each argument quoted only when it needs it. {root} is shown as is.
std::string command_line(const std::vector<std::string>& argv);

}  // namespace gc::provision
