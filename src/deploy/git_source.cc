// SPDX-License-Identifier: MIT
#include "deploy/git_source.h"

#include <sys/stat.h>
#include <unistd.h>

#include "base/unique_fd.h"

namespace gc::deploy {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

bool is_hex_commit(std::string_view s) {
  if (s.size() != 40) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string ref_problem(std::string_view ref) {
  if (ref.empty()) return "is empty";
  if (ref.front() == '-') return "must not start with \"-\"";
  if (ref.front() == '/' || ref.back() == '/' || ref.back() == '.') {
    return "must not start or end with \"/\" or end with \".\"";
  }
  if (ref.find("..") != std::string_view::npos || ref.find("@{") != std::string_view::npos ||
      ref.find("//") != std::string_view::npos) {
    return "must name one branch, tag or commit, not a range or reflog entry";
  }
  for (char c : ref) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '/' || c == '+';
    if (!ok) return "may hold only letters, digits and . _ - / +";
  }
  return "";
}

Step GitSource::git(std::vector<std::string> args, std::string what) const {
  Step s;
  s.argv = {"git", "--git-dir=" + mirror_};
  s.argv.insert(s.argv.end(), args.begin(), args.end());
  s.env = env_;
  s.what = std::move(what);
  return s;
}

Status GitSource::fetch(DeployLog& log) {
  struct stat st {};
  if (::stat((mirror_ + "/HEAD").c_str(), &st) != 0) {
    GC_TRY(make_directories(mirror_, 0700));
    GC_TRY(run_step(git({"init", "--bare", "--quiet"}, "git init of the mirror " + mirror_), log,
                    cancel_));
  }
  // Set on every fetch: a changed `source` in the config takes effect on the next deploy.
  GC_TRY(run_step(git({"config", "remote.origin.url", url_}, "git config"), log, cancel_));
  log.note("fetch " + url_);
  return run_step(
      git({"fetch", "--prune", "--tags", "--force", "origin", "+refs/heads/*:refs/heads/*"},
          "git fetch from " + url_),
      log, cancel_);
}

Result<std::string> GitSource::default_branch(DeployLog& log) {
  GC_ASSIGN_OR_RETURN(std::string out, run_capture(git({"ls-remote", "--symref", "origin", "HEAD"},
                                                       "git ls-remote of " + url_),
                                                   log, cancel_));
  // "ref: refs/heads/main\tHEAD"
  constexpr std::string_view kPrefix = "ref: refs/heads/";
  std::size_t at = out.find(kPrefix);
  if (at == std::string::npos) {
    return make_error(Errc::kNotFound,
                      url_ +
                          " names no default branch (its HEAD is detached): give the branch, "
                          "tag or commit to deploy");
  }
  std::size_t start = at + kPrefix.size();
  std::size_t end = out.find_first_of("\t\n", start);
  return out.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

Result<std::string> GitSource::resolve(const std::string& ref, DeployLog& log) {
  std::string problem = ref_problem(ref);
  if (!problem.empty()) {
    return make_error(Errc::kInvalidArgument, "ref \"" + ref + "\" " + problem);
  }
  auto out = run_capture(
      git({"rev-parse", "--verify", "--quiet", ref + "^{commit}"}, "git rev-parse " + ref), log,
      cancel_);
  if (!out) {
    if (out.error().code == Errc::kCancelled) return out.error();
    return make_error(Errc::kNotFound,
                      "no branch, tag or commit \"" + ref + "\" in " + url_ +
                          " (branches and tags are fetched; a commit must be on one of them)");
  }
  std::string commit = trim(*out);
  if (!is_hex_commit(commit)) {
    return make_error(Errc::kInternal, "git rev-parse printed \"" + commit + "\" for " + ref);
  }
  return commit;
}

Status GitSource::export_tree(const std::string& commit, const std::string& dir, DeployLog& log) {
  // A private index, so that the mirror itself is never touched and exports can run side by side.
  std::string index = dir + ".git-index";
  Step s = git({"--work-tree=" + dir, "checkout", "--force", "--quiet", commit, "--", "."},
               "git checkout of " + commit.substr(0, 12));
  s.env.push_back("GIT_INDEX_FILE=" + index);
  Status st = run_step(s, log, cancel_);
  ::unlink(index.c_str());
  return st;
}

}  // namespace gc::deploy
