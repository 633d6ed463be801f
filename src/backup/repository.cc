// SPDX-License-Identifier: MIT
#include "backup/repository.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "base/unique_fd.h"

namespace gc::backup {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

LocalSet load_set(const std::string& repo, const std::string& id) {
  LocalSet s;
  s.id = id;
  s.dir = repo + "/" + id;
  auto text = read_file(s.dir + "/" + kManifestName);
  if (!text) {
    s.problem = text.error().code == Errc::kNotFound ? "incomplete: no manifest.json"
                                                     : text.error().message;
    return s;
  }
  auto m = parse_manifest(*text);
  if (!m) {
    s.problem = m.error().message;
    return s;
  }
  if (m->id != id) {
    s.problem = "manifest.json names set " + m->id + ", not " + id;
    return s;
  }
  for (const auto& a : m->artifacts) s.bytes += a.ciphertext_bytes;
  s.manifest = std::move(*m);
  return s;
}

}  // namespace

bool is_set_id(std::string_view n) {
  if (n.size() != 16 || n[8] != 'T' || n[15] != 'Z') return false;
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && !std::isdigit(static_cast<unsigned char>(n[i]))) return false;
  }
  return true;
}

Result<std::vector<LocalSet>> list_local_sets(const std::string& repo) {
  std::unique_ptr<DIR, DirCloser> dir(::opendir(repo.c_str()));
  if (!dir) {
    if (errno == ENOENT) return std::vector<LocalSet>{};
    return tl::unexpected(sys_error("open backup repository", repo, errno));
  }
  std::vector<std::string> ids;
  while (dirent* e = ::readdir(dir.get())) {
    if (is_set_id(e->d_name)) ids.emplace_back(e->d_name);
  }
  std::sort(ids.begin(), ids.end());  // The id format sorts chronologically.
  std::vector<LocalSet> out;
  out.reserve(ids.size());
  for (const auto& id : ids) out.push_back(load_set(repo, id));
  return out;
}

Result<LocalSet> find_local_set(const std::string& repo, const std::string& id) {
  struct stat st {};
  if (!is_set_id(id) || ::stat((repo + "/" + id).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return tl::unexpected(Error{Errc::kNotFound, "no backup set " + id + " in " + repo +
                                                     " (groundctl backup list shows them)"});
  }
  LocalSet s = load_set(repo, id);
  if (!s.manifest)
    return tl::unexpected(Error{Errc::kCorrupt, "backup set " + id + ": " + s.problem});
  return s;
}

namespace {

nlohmann::ordered_json artifact_json(const Artifact& a) {
  nlohmann::ordered_json j = {{"name", a.name},
                              {"kind", kind_name(a.kind)},
                              {"plaintext_bytes", a.plaintext_bytes},
                              {"ciphertext_bytes", a.ciphertext_bytes},
                              {"sha256", a.sha256}};
  if (a.kind == ArtifactKind::kDatabase) {
    j["database"] = a.database;
    std::int64_t rows = 0;
    for (const auto& t : a.tables) rows += t.rows;
    j["tables"] = a.tables.size();
    j["rows"] = rows;
  }
  if (a.kind == ArtifactKind::kMedia) j["files"] = a.files;
  return j;
}

}  // namespace

nlohmann::ordered_json local_set_json(const LocalSet& s) {
  nlohmann::ordered_json j = {
      {"id", s.id}, {"location", "local"}, {"complete", s.manifest.has_value()}};
  if (!s.manifest) {
    j["problem"] = s.problem;
    return j;
  }
  const Manifest& m = *s.manifest;
  j["started_at"] = m.started_at;
  j["finished_at"] = m.finished_at;
  j["bytes"] = s.bytes;
  j["verification"] = {{"mode", m.verification.mode},
                       {"result", verify_result_name(m.verification.result)},
                       {"detail", m.verification.detail}};
  j["artifacts"] = nlohmann::ordered_json::array();
  for (const auto& a : m.artifacts) j["artifacts"].push_back(artifact_json(a));
  return j;
}

}  // namespace gc::backup
