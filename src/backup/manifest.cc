// SPDX-License-Identifier: MIT
#include "backup/manifest.h"

#include <nlohmann/json.hpp>

namespace gc::backup {
namespace {

using nlohmann::ordered_json;

}  // namespace

std::string_view kind_name(ArtifactKind k) {
  switch (k) {
    case ArtifactKind::kDatabase:
      return "database";
    case ArtifactKind::kGlobals:
      return "globals";
    case ArtifactKind::kMedia:
      return "media";
  }
  return "database";
}

std::string_view verify_result_name(VerifyResult r) {
  switch (r) {
    case VerifyResult::kNotRun:
      return "not_run";
    case VerifyResult::kPassed:
      return "passed";
    case VerifyResult::kFailed:
      return "failed";
  }
  return "not_run";
}

std::string to_json(const Manifest& m) {
  ordered_json j;
  j["format"] = m.format;
  j["id"] = m.id;
  j["host"] = m.host;
  j["groundctl_version"] = m.groundctl_version;
  j["started_at"] = m.started_at;
  j["finished_at"] = m.finished_at;
  j["postgres_version"] = m.postgres_version;
  j["pg_dump_version"] = m.pg_dump_version;
  j["recipients"] = ordered_json::array();
  for (const auto& r : m.recipients) {
    j["recipients"].push_back({{"recipient", r.recipient}, {"fingerprint", r.fingerprint}});
  }
  j["artifacts"] = ordered_json::array();
  for (const auto& a : m.artifacts) {
    ordered_json x;
    x["name"] = a.name;
    x["kind"] = kind_name(a.kind);
    if (a.kind == ArtifactKind::kDatabase) x["database"] = a.database;
    if (a.kind == ArtifactKind::kMedia) {
      x["paths"] = a.paths;
      x["files"] = a.files;
    }
    x["plaintext_bytes"] = a.plaintext_bytes;
    x["compressed_bytes"] = a.compressed_bytes;
    x["ciphertext_bytes"] = a.ciphertext_bytes;
    x["sha256"] = a.sha256;
    if (a.kind == ArtifactKind::kDatabase) {
      x["tables"] = ordered_json::array();
      for (const auto& t : a.tables) {
        x["tables"].push_back({{"schema", t.schema}, {"table", t.table}, {"rows", t.rows}});
      }
    }
    j["artifacts"].push_back(std::move(x));
  }
  j["verification"] = {{"mode", m.verification.mode},
                       {"result", verify_result_name(m.verification.result)},
                       {"detail", m.verification.detail},
                       {"seconds", m.verification.seconds}};
  return j.dump(2) + "\n";
}

Result<Manifest> parse_manifest(std::string_view text) {
  ordered_json j = ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto bad = [](std::string what) {
    return tl::unexpected(Error{Errc::kCorrupt, "manifest.json: " + std::move(what)});
  };
  if (!j.is_object()) return bad("not a JSON object");
  auto str = [&](const ordered_json& o, const char* key, std::string& out) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  auto num = [&](const ordered_json& o, const char* key, std::uint64_t& out) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_number_unsigned()) return false;
    out = it->get<std::uint64_t>();
    return true;
  };
  Manifest m;
  if (!str(j, "format", m.format)) return bad("missing \"format\"");
  if (m.format != kManifestFormat) {
    return bad("unsupported format \"" + m.format + "\" (this groundctl reads " + kManifestFormat +
               ")");
  }
  if (!str(j, "id", m.id)) return bad("missing \"id\"");
  str(j, "host", m.host);
  str(j, "groundctl_version", m.groundctl_version);
  str(j, "started_at", m.started_at);
  if (!str(j, "finished_at", m.finished_at)) return bad("missing \"finished_at\"");
  str(j, "postgres_version", m.postgres_version);
  str(j, "pg_dump_version", m.pg_dump_version);
  if (auto it = j.find("recipients"); it != j.end() && it->is_array()) {
    for (const auto& r : *it) {
      RecipientInfo ri;
      if (!r.is_object() || !str(r, "recipient", ri.recipient)) return bad("bad recipient entry");
      str(r, "fingerprint", ri.fingerprint);
      m.recipients.push_back(std::move(ri));
    }
  }
  auto arts = j.find("artifacts");
  if (arts == j.end() || !arts->is_array()) return bad("missing \"artifacts\"");
  for (const auto& x : *arts) {
    Artifact a;
    std::string kind;
    if (!x.is_object() || !str(x, "name", a.name) || !str(x, "kind", kind) ||
        !num(x, "ciphertext_bytes", a.ciphertext_bytes) || !str(x, "sha256", a.sha256)) {
      return bad("artifact entry without name, kind, ciphertext_bytes or sha256");
    }
    // A name is joined to the set's directory: it must stay inside it.
    if (a.name.empty() || a.name.find('/') != std::string::npos || a.name[0] == '.') {
      return bad("artifact name \"" + a.name + "\" is not a plain file name");
    }
    if (kind == "database") {
      a.kind = ArtifactKind::kDatabase;
    } else if (kind == "globals") {
      a.kind = ArtifactKind::kGlobals;
    } else if (kind == "media") {
      a.kind = ArtifactKind::kMedia;
    } else {
      return bad("artifact " + a.name + " has unknown kind \"" + kind + "\"");
    }
    str(x, "database", a.database);
    num(x, "files", a.files);
    num(x, "plaintext_bytes", a.plaintext_bytes);
    num(x, "compressed_bytes", a.compressed_bytes);
    if (auto p = x.find("paths"); p != x.end() && p->is_array()) {
      for (const auto& s : *p) {
        if (s.is_string()) a.paths.push_back(s.get<std::string>());
      }
    }
    if (auto t = x.find("tables"); t != x.end() && t->is_array()) {
      for (const auto& row : *t) {
        TableCount tc;
        auto rows = row.is_object() ? row.find("rows") : row.end();
        if (!row.is_object() || !str(row, "schema", tc.schema) || !str(row, "table", tc.table) ||
            rows == row.end() || !rows->is_number_integer()) {
          return bad("artifact " + a.name + " has a malformed table entry");
        }
        tc.rows = rows->get<std::int64_t>();
        a.tables.push_back(std::move(tc));
      }
    }
    m.artifacts.push_back(std::move(a));
  }
  if (auto v = j.find("verification"); v != j.end() && v->is_object()) {
    str(*v, "mode", m.verification.mode);
    std::string result;
    str(*v, "result", result);
    m.verification.result = result == "passed"   ? VerifyResult::kPassed
                            : result == "failed" ? VerifyResult::kFailed
                                                 : VerifyResult::kNotRun;
    str(*v, "detail", m.verification.detail);
    if (auto s = v->find("seconds"); s != v->end() && s->is_number()) {
      m.verification.seconds = s->get<double>();
    }
  }
  return m;
}

}  // namespace gc::backup
