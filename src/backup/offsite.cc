// SPDX-License-Identifier: MIT
#include "backup/offsite.h"

#include <fcntl.h>
#include <unistd.h>

#include <map>

#include "backup/artifact_reader.h"
#include "backup/run.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "crypto/sha256.h"
#include "storage/credentials.h"
#include "storage/s3_store.h"

namespace gc::backup {
namespace {

std::string key_of(const std::string& id, const std::string& name) { return id + "/" + name; }

Result<std::string> get_text(storage::ObjectStore& store, const std::string& key) {
  std::string out;
  GC_TRY(store.get(key, [&out](std::span<const std::uint8_t> d) -> Status {
    out.append(reinterpret_cast<const char*>(d.data()), d.size());
    return {};
  }));
  return out;
}

// Downloads an object into a file, checking size and SHA-256 against the manifest's entry.
Status download_artifact(storage::ObjectStore& store, const std::string& id, const Artifact& a,
                         const std::string& path) {
  GC_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path, O_WRONLY | O_CREAT | O_EXCL, 0600));
  GC_TRY(store.get(key_of(id, a.name), [&fd](std::span<const std::uint8_t> d) {
    return write_all(fd.get(), std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
  }));
  if (::fsync(fd.get()) != 0) return tl::unexpected(sys_error("fsync", path, errno));
  return check_artifact_file(path, a);
}

}  // namespace

Result<std::unique_ptr<storage::ObjectStore>> open_offsite(const config::S3Config& s3) {
  storage::S3Config c;
  c.endpoint = s3.endpoint;
  c.region = s3.region;
  c.bucket = s3.bucket;
  c.prefix = s3.prefix;
  GC_ASSIGN_OR_RETURN(c.credentials, storage::load_credentials_file(s3.credentials_file));
  GC_ASSIGN_OR_RETURN(storage::S3Store store, storage::S3Store::create(std::move(c)));
  return std::unique_ptr<storage::ObjectStore>(new storage::S3Store(std::move(store)));
}

Status upload_set(storage::ObjectStore& store, const LocalSet& set) {
  const Manifest& m = *set.manifest;
  GC_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> there, store.list(m.id + "/"));
  std::map<std::string, std::string> existing;
  for (const auto& o : there) existing[o.key] = o.sha256;
  for (const auto& a : m.artifacts) {
    std::string key = key_of(m.id, a.name);
    if (auto it = existing.find(key); it != existing.end() && it->second == a.sha256) continue;
    GC_TRY(store.put_file(key, set.dir + "/" + a.name, storage::ObjectMetadata{a.sha256}));
  }
  // Last: a set is complete offsite only once every artifact is.
  return store.put_file(key_of(m.id, kManifestName), set.dir + "/" + kManifestName, {});
}

Result<std::vector<RemoteSet>> list_remote_sets(storage::ObjectStore& store) {
  GC_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects, store.list(""));
  std::map<std::string, RemoteSet> sets;
  for (const auto& o : objects) {
    auto slash = o.key.find('/');
    if (slash == std::string::npos) continue;
    std::string id = o.key.substr(0, slash);
    if (!is_set_id(id)) continue;
    RemoteSet& s = sets[id];
    s.id = id;
    s.bytes += o.size_bytes;
    ++s.objects;
    if (o.key.substr(slash + 1) == kManifestName) s.complete = true;
  }
  std::vector<RemoteSet> out;
  for (auto& [id, s] : sets) out.push_back(std::move(s));
  return out;
}

Result<Manifest> fetch_remote_manifest(storage::ObjectStore& store, const std::string& id) {
  GC_ASSIGN_OR_RETURN(std::string text, get_text(store, key_of(id, kManifestName)));
  GC_ASSIGN_OR_RETURN(Manifest m, parse_manifest(text));
  if (m.id != id) {
    return tl::unexpected(
        Error{Errc::kCorrupt, store.describe() + ": " + id + "/manifest.json names set " + m.id});
  }
  return m;
}

Status verify_remote_set(storage::ObjectStore& store, const std::string& id) {
  GC_ASSIGN_OR_RETURN(Manifest m, fetch_remote_manifest(store, id));
  for (const auto& a : m.artifacts) {
    crypto::Sha256 hash;
    std::uint64_t bytes = 0;
    GC_TRY(store.get(key_of(id, a.name), [&](std::span<const std::uint8_t> d) -> Status {
      hash.update(d);
      bytes += d.size();
      return {};
    }));
    if (bytes != a.ciphertext_bytes || crypto::to_hex(hash.finish()) != a.sha256) {
      return tl::unexpected(Error{Errc::kCorrupt, store.describe() + ": " + key_of(id, a.name) +
                                                      " does not match the manifest (size or "
                                                      "SHA-256): the offsite copy is corrupt"});
    }
  }
  return {};
}

Result<LocalSet> fetch_set(storage::ObjectStore& store, const std::string& repo,
                           const std::string& id) {
  GC_ASSIGN_OR_RETURN(Manifest m, fetch_remote_manifest(store, id));
  GC_TRY(make_directories(repo, 0700));
  GC_ASSIGN_OR_RETURN(TempDir staging, TempDir::create(".partial-" + id + "-", repo));
  for (const auto& a : m.artifacts) {
    GC_TRY(download_artifact(store, id, a, staging.file(a.name)));
  }
  GC_ASSIGN_OR_RETURN(std::string text, get_text(store, key_of(id, kManifestName)));
  GC_ASSIGN_OR_RETURN(UniqueFd mf, open_fd(staging.file(kManifestName), O_WRONLY | O_CREAT, 0600));
  GC_TRY(write_all(mf.get(), text));
  if (::fsync(mf.get()) != 0)
    return tl::unexpected(sys_error("fsync", staging.file(kManifestName), errno));
  std::string final_dir = repo + "/" + id;
  if (::rename(staging.path().c_str(), final_dir.c_str()) != 0) {
    return tl::unexpected(sys_error("rename", final_dir, errno));
  }
  staging.keep();
  return find_local_set(repo, id);
}

Result<std::vector<UploadFailure>> upload_pending(storage::ObjectStore& store, Catalog& catalog,
                                                  const std::string& repo) {
  GC_ASSIGN_OR_RETURN(std::vector<CatalogSet> pending, catalog.pending_uploads());
  std::vector<UploadFailure> failed;
  for (const auto& p : pending) {
    if (!failed.empty()) {
      failed.push_back({p.id, failed.front().error});
      continue;
    }
    auto set = find_local_set(repo, p.id);
    Status st = set ? upload_set(store, *set) : Status(tl::unexpected(set.error()));
    std::string now = format_utc(std::chrono::system_clock::now());
    if (st) {
      GC_TRY(catalog.set_upload(p.id, UploadState::kUploaded, "", now));
    } else {
      GC_TRY(catalog.set_upload(p.id, UploadState::kPending, st.error().message, now));
      failed.push_back({p.id, st.error().message});
    }
  }
  return failed;
}

Status remove_remote_set(storage::ObjectStore& store, const std::string& id) {
  GC_TRY(store.remove(key_of(id, kManifestName)));
  GC_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> objects, store.list(id + "/"));
  for (const auto& o : objects) GC_TRY(store.remove(o.key));
  return {};
}

}  // namespace gc::backup
