// SPDX-License-Identifier: MIT
// cli/backup_commands.cc: `groundctl backup ...`, run in-process (design.md: one-shot commands
// need no daemon).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "backup/artifact_reader.h"
#include "backup/catalog.h"
#include "backup/from_config.h"
#include "backup/offsite.h"
#include "backup/repository.h"
#include "backup/restore.h"
#include "backup/retention.h"
#include "backup/run.h"
#include "base/atomic_file.h"
#include "base/units.h"
#include "cli/backup_commands.h"
#include "cli/exit_codes.h"
#include "cli/table.h"
#include "config/loader.h"
#include "crypto/age_keys.h"
#include "storage/object_store.h"

namespace gc::cli {
namespace {

using json = nlohmann::ordered_json;

// The config, which must have a [backup] section (a usage error otherwise).
Result<config::Config> load_with_backup(const Globals& g) {
  GC_ASSIGN_OR_RETURN(config::Config cfg, load_config(g));
  if (!cfg.backup) {
    return make_error(Errc::kInvalidConfig, g.config_path + ": no [backup] section");
  }
  return cfg;
}

// One line, rewritten in place, on a terminal only: "orbital.dump.zst.age  812 MiB  95 MiB/s".
void print_progress(const backup::Progress& p) {
  double rate = p.seconds > 0 ? static_cast<double>(p.plaintext) / p.seconds : 0;
  std::string line = p.artifact + "  " + format_size(p.plaintext) + " read  " +
                     format_size(static_cast<std::uint64_t>(rate)) + "/s";
  if (p.done) {
    line += "  -> " + format_size(p.written) + " written";
  } else if (p.expected > p.plaintext && rate > 0) {
    // The database size is an upper bound of the dump's size: the ETA errs on the long side.
    auto eta = static_cast<std::int64_t>(static_cast<double>(p.expected - p.plaintext) / rate);
    line += "  eta <= " + std::to_string(eta) + "s";
  }
  std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), p.done ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace

int cmd_backup_keygen(const Globals& g, const std::string& output) {
  if (output.empty()) {
    return report_failure(
        g, Error{Errc::kInvalidArgument, "backup keygen needs -o FILE for the identity"},
        kExitUsage);
  }
  if (::access(output.c_str(), F_OK) == 0) {
    return report_failure(
        g,
        Error{Errc::kConflict, output + " already exists; a key is never overwritten "
                                        "(move it away first, or pick another name)"},
        kExitProblem);
  }
  auto id = crypto::generate_identity();
  if (!id) return report_failure(g, id.error(), kExitProblem);
  std::string text = crypto::format_identity_file(*id, std::chrono::system_clock::now());
  if (auto st = write_file_atomic(output, text, 0600); !st)
    return report_failure(g, st.error(), kExitProblem);
  std::string recipient = id->recipient().to_string();
  if (g.json) {
    std::printf("%s\n", json({{"ok", true},
                              {"identity_file", output},
                              {"recipient", recipient},
                              {"fingerprint", crypto::recipient_fingerprint(id->recipient())}})
                            .dump(2)
                            .c_str());
  } else {
    std::printf("%s\n", recipient.c_str());
    std::fprintf(stderr,
                 "groundctl: wrote %s (0600). Add the recipient above to [backup] recipients, and "
                 "keep the identity file off this server: it is what restores need.\n",
                 output.c_str());
  }
  return kExitOk;
}

int cmd_backup_run(const Globals& g) {
  auto cfg = load_config(g);
  if (!cfg) return report_failure(g, cfg.error(), kExitUsage);
  auto options = backup::run_options_from_config(*cfg);
  if (!options) return report_failure(g, options.error(), exit_code_for(options.error()));
  auto catalog = backup::Catalog::open(cfg->server.state_dir);
  if (!catalog) return report_failure(g, catalog.error(), kExitProblem);
  // A verification restore that dies must be an error on its pipe, not the end of this process.
  ::signal(SIGPIPE, SIG_IGN);
  options->groundctl_version = GC_VERSION;
  if (!g.json && ::isatty(STDERR_FILENO)) options->on_progress = print_progress;
  std::string started = format_utc(std::chrono::system_clock::now());
  auto result = backup::run_backup(*options);
  auto now_text = [] { return format_utc(std::chrono::system_clock::now()); };
  if (!result) {
    (void)catalog->record_run({started, now_text(), false, "", result.error().message});
    return report_failure(g, result.error(), kExitProblem);
  }
  const backup::Manifest& m = result->manifest;
  bool verify_failed = m.verification.result == backup::VerifyResult::kFailed;
  std::uint64_t bytes = 0;
  for (const auto& a : m.artifacts) bytes += a.ciphertext_bytes;
  bool offsite = cfg->backup->s3.has_value();
  Status recorded = catalog->record_set(
      m, bytes, offsite ? backup::UploadState::kPending : backup::UploadState::kNone);
  if (recorded) {
    recorded =
        catalog->record_run({started, now_text(), !verify_failed, m.id,
                             verify_failed ? "verification failed: " + m.verification.detail : ""});
  }
  if (!recorded) return report_failure(g, recorded.error(), kExitProblem);

  // The offsite copy: this set and any earlier one still pending.
  std::string upload_error;
  if (offsite) {
    auto store = backup::open_offsite(*cfg->backup->s3);
    if (!store) {
      upload_error = store.error().message;
      (void)catalog->set_upload(m.id, backup::UploadState::kPending, upload_error, now_text());
    } else if (auto failed = backup::upload_pending(**store, *catalog, options->repo); !failed) {
      upload_error = failed.error().message;
    } else {
      for (const auto& f : *failed) {
        if (f.id == m.id || upload_error.empty()) upload_error = f.error;
      }
    }
  }
  std::string upload = !offsite ? "none" : upload_error.empty() ? "uploaded" : "pending";
  if (g.json) {
    auto set = backup::find_local_set(options->repo, m.id);
    json j = set ? backup::local_set_json(*set) : json{{"id", m.id}};
    j["upload"] = upload;
    if (!upload_error.empty()) j["upload_error"] = upload_error;
    j["ok"] = !verify_failed && upload_error.empty();
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::vector<std::vector<std::string>> rows = {{"ARTIFACT", "SOURCE", "STORED", "DETAIL"}};
    for (const auto& a : m.artifacts) {
      std::string detail;
      if (a.kind == backup::ArtifactKind::kDatabase) {
        std::int64_t n = 0;
        for (const auto& t : a.tables) n += t.rows;
        detail = std::to_string(a.tables.size()) + " tables, " + std::to_string(n) + " rows";
      } else if (a.kind == backup::ArtifactKind::kMedia) {
        detail = std::to_string(a.files) + " entries";
      }
      rows.push_back(
          {a.name, format_size(a.plaintext_bytes), format_size(a.ciphertext_bytes), detail});
    }
    std::printf("backup %s in %s\n", m.id.c_str(), result->set_dir.c_str());
    std::fputs(render_table(rows).c_str(), stdout);
    std::printf("verification: %s%s%s\n",
                std::string(backup::verify_result_name(m.verification.result)).c_str(),
                m.verification.detail.empty() ? "" : ": ", m.verification.detail.c_str());
    if (offsite) std::printf("offsite: %s\n", upload.c_str());
  }
  if (verify_failed) {
    std::fprintf(stderr, "groundctl: backup %s did NOT pass verification: %s\n", m.id.c_str(),
                 m.verification.detail.c_str());
    return kExitProblem;
  }
  if (!upload_error.empty()) {
    std::fprintf(stderr,
                 "groundctl: backup %s is complete locally, but its offsite copy is pending: %s "
                 "(the next backup run uploads it)\n",
                 m.id.c_str(), upload_error.c_str());
    return kExitProblem;
  }
  return kExitOk;
}

int cmd_backup_list(const Globals& g) {
  auto cfg = load_with_backup(g);
  if (!cfg) return report_failure(g, cfg.error(), kExitUsage);
  auto sets = backup::list_local_sets(cfg->backup->repo);
  if (!sets) return report_failure(g, sets.error(), kExitProblem);
  auto catalog = backup::Catalog::open(cfg->server.state_dir);
  std::map<std::string, backup::RemoteSet> remote;
  std::string remote_error;
  if (cfg->backup->s3) {
    auto store = backup::open_offsite(*cfg->backup->s3);
    auto listed = store ? backup::list_remote_sets(**store)
                        : Result<std::vector<backup::RemoteSet>>(tl::unexpected(store.error()));
    if (listed) {
      for (auto& r : *listed) remote[r.id] = r;
    } else {
      remote_error = listed.error().message;
    }
  }
  json arr = json::array();
  std::vector<std::vector<std::string>> rows = {
      {"ID", "WHERE", "AGE", "SIZE", "VERIFIED", "OFFSITE", "ARTIFACTS"}};
  auto age_of = [](const std::optional<backup::Manifest>& m) -> std::string {
    auto done = m ? parse_utc(m->finished_at) : std::nullopt;
    if (!done) return "-";
    return format_duration(
        std::chrono::duration_cast<Duration>(std::chrono::system_clock::now() - *done));
  };
  auto upload_of = [&](const std::string& id) -> std::string {
    if (!catalog) return "?";
    auto c = catalog->find_set(id);
    return c && *c ? std::string(backup::upload_state_name((*c)->upload)) : "-";
  };
  for (const auto& s : *sets) {
    json j = backup::local_set_json(s);
    auto r = remote.find(s.id);
    bool on_s3 = r != remote.end() && r->second.complete;
    j["offsite"] = on_s3;
    j["upload"] = upload_of(s.id);
    arr.push_back(j);
    std::string where = on_s3 ? "local+s3" : "local";
    if (!s.manifest) {
      rows.push_back({s.id, where, "-", "-", "-", "-", s.problem});
    } else {
      rows.push_back({s.id, where, age_of(s.manifest), format_size(s.bytes),
                      std::string(backup::verify_result_name(s.manifest->verification.result)),
                      j["upload"].get<std::string>(),
                      std::to_string(s.manifest->artifacts.size())});
    }
    if (r != remote.end()) remote.erase(r);
  }
  // Sets only the offsite store has (this server lost them, or another wrote them).
  for (const auto& [id, r] : remote) {
    arr.push_back({{"id", id},
                   {"location", "s3"},
                   {"complete", r.complete},
                   {"bytes", r.bytes},
                   {"offsite", true}});
    rows.push_back({id, "s3", "-", format_size(r.bytes), "-",
                    r.complete ? "uploaded" : "incomplete", std::to_string(r.objects)});
  }
  std::sort(arr.begin(), arr.end(), [](const json& a, const json& b) { return a["id"] < b["id"]; });
  if (g.json) {
    json out = {{"sets", arr}};
    if (!remote_error.empty()) out["offsite_error"] = remote_error;
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::fputs(render_table(rows).c_str(), stdout);
    if (!remote_error.empty()) std::printf("offsite store unreachable: %s\n", remote_error.c_str());
  }
  return remote_error.empty() ? kExitOk : kExitProblem;
}

namespace {

Result<backup::RestoreContext> restore_context(const config::Config& cfg,
                                               const std::string& identity_file) {
  backup::RestoreContext ctx;
  GC_ASSIGN_OR_RETURN(ctx.identities, crypto::load_identity_file(identity_file));
  GC_ASSIGN_OR_RETURN(ctx.postgres, backup::pg_target_from_config(cfg));
  return ctx;
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, s < 10 ? "%.2fs" : "%.0fs", s);
  return buf;
}

// The local sets and, with [backup.s3], the offsite ones and their store: what verify and prune
// decide over.
struct Inventory {
  std::vector<backup::LocalSet> local;
  std::unique_ptr<storage::ObjectStore> store;  // Null without [backup.s3].
  std::map<std::string, backup::RemoteSet> remote;
};

// Errors carry the exit code to use.
Result<Inventory> take_inventory(const config::Config& cfg, int& exit_code) {
  Inventory inv;
  exit_code = kExitProblem;
  GC_ASSIGN_OR_RETURN(inv.local, backup::list_local_sets(cfg.backup->repo));
  if (cfg.backup->s3) {
    auto s = backup::open_offsite(*cfg.backup->s3);
    if (!s) {
      exit_code = exit_code_for(s.error());
      return tl::unexpected(s.error());
    }
    inv.store = std::move(*s);
    GC_ASSIGN_OR_RETURN(std::vector<backup::RemoteSet> listed,
                        backup::list_remote_sets(*inv.store));
    for (auto& r : listed) inv.remote[r.id] = r;
  }
  return inv;
}

}  // namespace

int cmd_backup_verify(const Globals& g, const std::string& id, bool all,
                      const std::string& identity_file) {
  auto cfg = load_with_backup(g);
  if (!cfg) return report_failure(g, cfg.error(), kExitUsage);
  const std::string& repo = cfg->backup->repo;
  int code = kExitProblem;
  auto inv = take_inventory(*cfg, code);
  if (!inv) return report_failure(g, inv.error(), code);
  const std::vector<backup::LocalSet>* local = &inv->local;
  std::unique_ptr<storage::ObjectStore>& store = inv->store;
  std::map<std::string, backup::RemoteSet>& remote = inv->remote;
  // Which sets: the one named, every one (local and offsite), or the newest.
  std::vector<std::string> ids;
  for (const auto& s : *local) ids.push_back(s.id);
  for (const auto& [rid, r] : remote) {
    if (std::find(ids.begin(), ids.end(), rid) == ids.end()) ids.push_back(rid);
  }
  std::sort(ids.begin(), ids.end());
  if (!id.empty()) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) {
      return report_failure(
          g, Error{Errc::kNotFound, "no backup set " + id + " (groundctl backup list)"},
          kExitUsage);
    }
    ids = {id};
  } else if (ids.empty()) {
    return report_failure(
        g, Error{Errc::kNotFound, "no backup sets in " + repo + " yet (groundctl backup run)"},
        kExitUsage);
  } else if (!all) {
    ids = {ids.back()};
  }
  std::optional<backup::RestoreContext> ctx;
  if (!identity_file.empty()) {
    auto c = restore_context(*cfg, identity_file);
    if (!c) return report_failure(g, c.error(), exit_code_for(c.error()));
    ctx.emplace(std::move(*c));
  }
  auto catalog = backup::Catalog::open(cfg->server.state_dir);
  ::signal(SIGPIPE, SIG_IGN);
  bool all_ok = true;
  json out = json::array();
  std::vector<std::vector<std::string>> rows = {
      {"ID", "LOCAL", "OFFSITE", "DRILL", "RTO", "DATA AGE", "DETAIL"}};
  for (const auto& sid : ids) {
    json j = {{"id", sid}};
    std::string local_state = "-", offsite_state = "-", detail;
    auto it = std::find_if(local->begin(), local->end(),
                           [&](const backup::LocalSet& s) { return s.id == sid; });
    const backup::LocalSet* set = it != local->end() ? &*it : nullptr;
    if (set) {
      std::string problem = set->problem;
      if (set->manifest) {
        for (const auto& a : set->manifest->artifacts) {
          if (auto st = backup::check_artifact_file(set->dir + "/" + a.name, a); !st) {
            problem = st.error().message;
            break;
          }
        }
      }
      local_state = problem.empty() ? "ok" : "CORRUPT";
      j["local"] = problem.empty() ? json("ok") : json(problem);
      if (!problem.empty()) detail = problem;
    }
    if (store && remote.count(sid)) {
      Status st = backup::verify_remote_set(*store, sid);
      offsite_state = st ? "ok" : "CORRUPT";
      j["offsite"] = st ? json("ok") : json(st.error().message);
      if (!st && detail.empty()) detail = st.error().message;
    }
    if (local_state == "CORRUPT" || offsite_state == "CORRUPT") all_ok = false;
    std::string drill = "-", rto = "-", age = "-";
    if (ctx && set && local_state == "ok") {
      auto d = backup::restore_drill(*ctx, *set, std::chrono::system_clock::now());
      if (!d) return report_failure(g, d.error(), kExitProblem);
      drill = d->ok ? "passed" : "FAILED";
      rto = seconds_text(d->restore_seconds);
      age = format_duration(
          std::chrono::duration_cast<Duration>(std::chrono::duration<double>(d->data_age_seconds)));
      if (detail.empty()) detail = d->detail;
      j["drill"] = {{"ok", d->ok},
                    {"restore_seconds", d->restore_seconds},
                    {"data_age_seconds", d->data_age_seconds},
                    {"detail", d->detail}};
      if (!d->ok) all_ok = false;
      if (catalog) {
        (void)catalog->record_drill({sid, format_utc(std::chrono::system_clock::now()), d->ok,
                                     d->restore_seconds, d->data_age_seconds, d->detail});
      }
    }
    out.push_back(j);
    rows.push_back({sid, local_state, offsite_state, drill, rto, age, detail});
  }
  if (g.json) {
    std::printf("%s\n", json({{"ok", all_ok}, {"sets", out}}).dump(2).c_str());
  } else {
    std::fputs(render_table(rows).c_str(), stdout);
    if (!ctx) std::printf("(checksums only; --identity FILE also runs a restore drill)\n");
  }
  return all_ok ? kExitOk : kExitProblem;
}

int cmd_backup_restore(const Globals& g, const RestoreArgs& args) {
  auto cfg = load_with_backup(g);
  if (!cfg) return report_failure(g, cfg.error(), kExitUsage);
  auto ctx = restore_context(*cfg, args.identity_file);
  if (!ctx) return report_failure(g, ctx.error(), exit_code_for(ctx.error()));
  ::signal(SIGPIPE, SIG_IGN);
  auto set = backup::find_local_set(cfg->backup->repo, args.id);
  if (!set && set.error().code == Errc::kNotFound && cfg->backup->s3) {
    // Disaster recovery: this server has no local copy; bring the set back from offsite.
    auto store = backup::open_offsite(*cfg->backup->s3);
    if (!store) return report_failure(g, store.error(), kExitProblem);
    set = backup::fetch_set(**store, cfg->backup->repo, args.id);
    if (set && !g.json)
      std::printf("fetched %s from %s\n", args.id.c_str(), (*store)->describe().c_str());
  }
  if (!set) return report_failure(g, set.error(), exit_code_for(set.error()));
  std::vector<const backup::Artifact*> dbs;
  const backup::Artifact* media = nullptr;
  for (const auto& a : set->manifest->artifacts) {
    if (a.kind == backup::ArtifactKind::kDatabase && (args.db.empty() || a.database == args.db)) {
      dbs.push_back(&a);
    }
    if (a.kind == backup::ArtifactKind::kMedia) media = &a;
  }
  if (args.db.empty() && !args.media_to.empty()) dbs.clear();  // Only the media asked for.
  if (!args.db.empty() && dbs.empty()) {
    return report_failure(
        g, Error{Errc::kNotFound, "set " + args.id + " has no database " + args.db}, kExitUsage);
  }
  if (!args.to.empty() && dbs.size() != 1) {
    return report_failure(g, Error{Errc::kInvalidArgument, "--to needs --db NAME (one database)"},
                          kExitUsage);
  }
  if (!args.media_to.empty() && !media) {
    return report_failure(g, Error{Errc::kNotFound, "set " + args.id + " has no media archive"},
                          kExitUsage);
  }
  json out = {{"id", args.id}, {"databases", json::array()}};
  bool ok = true;
  for (const auto* a : dbs) {
    std::string into = args.to.empty() ? a->database : args.to;
    auto r = backup::restore_database(*ctx, *set, *a, into, args.force);
    if (!r) return report_failure(g, r.error(), exit_code_for(r.error()));
    out["databases"].push_back({{"database", r->database},
                                {"into", r->into},
                                {"seconds", r->seconds},
                                {"rows_match", !r->mismatch.has_value()}});
    if (r->mismatch) ok = false;
    if (!g.json) {
      std::printf("restored %s into database %s in %s%s%s\n", r->database.c_str(), r->into.c_str(),
                  seconds_text(r->seconds).c_str(), r->mismatch ? "; WARNING: " : "",
                  r->mismatch ? r->mismatch->c_str() : "");
    }
  }
  if (!args.media_to.empty()) {
    auto n = backup::restore_media(*ctx, *set, *media, args.media_to, args.force);
    if (!n) return report_failure(g, n.error(), exit_code_for(n.error()));
    out["media"] = {{"into", args.media_to}, {"entries", *n}};
    if (!g.json) {
      std::printf("restored %llu media entries into %s\n", static_cast<unsigned long long>(*n),
                  args.media_to.c_str());
    }
  }
  out["ok"] = ok;
  if (g.json) std::printf("%s\n", out.dump(2).c_str());
  return ok ? kExitOk : kExitProblem;
}

int cmd_backup_prune(const Globals& g, bool dry_run) {
  auto cfg = load_with_backup(g);
  if (!cfg) return report_failure(g, cfg.error(), kExitUsage);
  const std::string& repo = cfg->backup->repo;
  // Without the offsite listing a decision could delete the newest verified set there.
  int code = kExitProblem;
  auto inv = take_inventory(*cfg, code);
  if (!inv) return report_failure(g, inv.error(), code);
  const std::vector<backup::LocalSet>* local = &inv->local;
  std::unique_ptr<storage::ObjectStore>& store = inv->store;
  std::map<std::string, backup::RemoteSet>& remote = inv->remote;
  std::map<std::string, backup::BackupSetInfo> info;
  auto describe = [](const std::string& id, const std::optional<backup::Manifest>& m) {
    backup::BackupSetInfo i;
    i.id = id;
    auto when = m ? parse_utc(m->finished_at) : std::nullopt;
    if (!when) {
      // No manifest: when the run started, from the id.
      std::string t = id.substr(0, 4) + "-" + id.substr(4, 2) + "-" + id.substr(6, 2) + "T" +
                      id.substr(9, 2) + ":" + id.substr(11, 2) + ":" + id.substr(13, 2) + "Z";
      when = parse_utc(t);
    }
    i.completed = when.value_or(std::chrono::sys_seconds{});
    i.complete = m.has_value() && m->verification.result != backup::VerifyResult::kFailed;
    i.verified = m.has_value() && m->verification.result == backup::VerifyResult::kPassed;
    return i;
  };
  for (const auto& s : *local) info[s.id] = describe(s.id, s.manifest);
  for (const auto& [id, r] : remote) {
    if (info.count(id) && info[id].complete) continue;
    std::optional<backup::Manifest> m;
    if (r.complete) {
      auto fetched = backup::fetch_remote_manifest(*store, id);
      if (fetched) m = std::move(*fetched);
    }
    info[id] = describe(id, m);
  }
  std::vector<backup::BackupSetInfo> sets;
  for (auto& [id, i] : info) sets.push_back(i);
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  auto decisions =
      backup::decide_retention(sets, cfg->backup->retention, now, config::system_utc_offset());
  auto catalog = backup::Catalog::open(cfg->server.state_dir);
  json out = json::array();
  std::vector<std::vector<std::string>> rows = {{"ID", "ACTION", "WHERE", "REASON"}};
  bool ok = true;
  for (const auto& d : decisions) {
    bool is_local = std::any_of(local->begin(), local->end(),
                                [&](const backup::LocalSet& s) { return s.id == d.id; });
    bool is_remote = remote.count(d.id) > 0;
    std::string where = is_local && is_remote ? "local+s3" : is_local ? "local" : "s3";
    std::string action = d.keep ? "keep" : dry_run ? "would delete" : "delete";
    std::string error;
    if (!d.keep && !dry_run) {
      if (is_remote) {
        if (Status st = backup::remove_remote_set(*store, d.id); !st) error = st.error().message;
      }
      if (is_local && error.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(repo + "/" + d.id, ec);
        if (ec) error = "remove " + repo + "/" + d.id + ": " + ec.message();
      }
      if (error.empty() && catalog) (void)catalog->forget_set(d.id);
      if (!error.empty()) {
        ok = false;
        action = "FAILED";
      } else {
        action = "deleted";
      }
    }
    json j = {{"id", d.id}, {"keep", d.keep}, {"where", where}, {"reason", d.reason}};
    if (!error.empty()) j["error"] = error;
    out.push_back(j);
    rows.push_back({d.id, action, where, error.empty() ? d.reason : error});
  }
  if (g.json) {
    std::printf("%s\n", json({{"ok", ok}, {"dry_run", dry_run}, {"sets", out}}).dump(2).c_str());
  } else {
    std::fputs(render_table(rows).c_str(), stdout);
  }
  return ok ? kExitOk : kExitProblem;
}

}  // namespace gc::cli
