// SPDX-License-Identifier: MIT
// deploy/git_source.h: the app's git repository, fetched into a bare mirror under the state dir
// (state_dir/deploy/source.git) so that each deploy transfers only what is new, and exported
// commit by commit into release directories that hold no .git of their own.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "base/result.h"
#include "deploy/step_runner.h"

namespace gc::deploy {

// Why `ref` cannot be a branch, tag or commit name, or empty if it can. Refuses what git could
// take for an option or a revision range.
std::string ref_problem(std::string_view ref);

class GitSource {
 public:
  // `env` is git's whole environment (PATH, HOME, SSH_AUTH_SOCK...).
  GitSource(std::string mirror_dir, std::string url, std::vector<std::string> env,
            const std::atomic<bool>* cancel)
      : mirror_(std::move(mirror_dir)),
        url_(std::move(url)),
        env_(std::move(env)),
        cancel_(cancel) {}

  // Creates the mirror on first use, then fetches every branch and tag of the source (pruning
  // deleted branches). Errors name the source and quote git's last output.
  Status fetch(DeployLog& log);
  // The source's default branch ("main"), as its HEAD names it.
  Result<std::string> default_branch(DeployLog& log);
  // A branch, tag or commit of the fetched mirror → the 40-hex commit id. Errors: kNotFound.
  Result<std::string> resolve(const std::string& ref, DeployLog& log);
  // Writes `commit`'s files into `dir` (existing, empty). Leaves the mirror unchanged.
  Status export_tree(const std::string& commit, const std::string& dir, DeployLog& log);

 private:
  Step git(std::vector<std::string> args, std::string what) const;
  std::string mirror_;
  std::string url_;
  std::vector<std::string> env_;
  const std::atomic<bool>* cancel_;
};

}  // namespace gc::deploy
