// SPDX-License-Identifier: MIT
// backup/media_archive.h: the media directories as one POSIX (pax) tar stream, written with
// libarchive into a ByteSink, so that stock `tar` restores it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/byte_sink.h"
#include "base/result.h"

namespace gc::backup {

struct MediaStats {
  std::uint64_t entries = 0;  // Files, directories and symlinks archived.
  std::uint64_t bytes = 0;    // Tar stream size.
};

// Archives each directory in `paths` recursively (symlinks stored as links, never followed).
// Entry names are the absolute paths without the leading '/', as GNU tar stores them, so two
// directories with the same base name cannot collide. Errors: a missing or unreadable path or
// file (named), or the sink's error.
Result<MediaStats> write_media_tar(const std::vector<std::string>& paths, const ByteSink& sink);

}  // namespace gc::backup
