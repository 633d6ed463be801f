// SPDX-License-Identifier: MIT
// backup/offsite.h: the offsite copy of the repository in an object store (S3-compatible): one
// key per artifact under ID/, manifest.json uploaded last so its presence marks a complete set
// there too. Sets can be listed, checked, fetched back (disaster recovery) and removed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backup/catalog.h"
#include "backup/repository.h"
#include "base/result.h"
#include "config/config.h"
#include "storage/object_store.h"

namespace gc::backup {

// The store of [backup.s3], its credentials file read (and its 0600 mode checked) now.
Result<std::unique_ptr<storage::ObjectStore>> open_offsite(const config::S3Config& s3);

// Uploads a complete local set. Objects already there with the manifest's SHA-256 are skipped,
// so an interrupted upload resumes. Errors: the store's (named, never with credentials).
Status upload_set(storage::ObjectStore& store, const LocalSet& set);

struct RemoteSet {
  std::string id;
  bool complete = false;  // manifest.json is there.
  std::uint64_t bytes = 0;
  std::size_t objects = 0;
};
// Sets found in the store, oldest first.
Result<std::vector<RemoteSet>> list_remote_sets(storage::ObjectStore& store);

// The manifest of a remote set. Errors: kNotFound, kCorrupt.
Result<Manifest> fetch_remote_manifest(storage::ObjectStore& store, const std::string& id);

// Reads every artifact of a remote set back and checks size and SHA-256 against its manifest.
// Errors: kCorrupt naming the object and what differs; the store's errors.
Status verify_remote_set(storage::ObjectStore& store, const std::string& id);

// Downloads a remote set into repo/ID (through a staging directory, every artifact checked), for
// a restore on a server that lost its local repository.
Result<LocalSet> fetch_set(storage::ObjectStore& store, const std::string& repo,
                           const std::string& id);

struct UploadFailure {
  std::string id;
  std::string error;
};
// Uploads every set the catalog marks pending (oldest first) and records each outcome. Returns
// the sets still pending; stops trying after the first failure (the store is likely down).
Result<std::vector<UploadFailure>> upload_pending(storage::ObjectStore& store, Catalog& catalog,
                                                  const std::string& repo);

// Deletes every object of a set (manifest first, so a half-deleted set is never "complete").
Status remove_remote_set(storage::ObjectStore& store, const std::string& id);

}  // namespace gc::backup
