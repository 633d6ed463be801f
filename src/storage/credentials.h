// SPDX-License-Identifier: MIT
// storage/credentials.h: S3 access keys read from a file in the AWS shared-credentials format
// (~/.aws/credentials), so that the operator's existing file works and no secret sits in the
// TOML config.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace gc::storage {

// An access key pair. Deliberately has no operator<< and no formatter: the secret must never
// reach a log or an error message. Print access_key_id alone if needed.
struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
};

// Parses credentials-file text. Takes `aws_access_key_id` and `aws_secret_access_key` from the
// `[profile]` section (also written `[profile NAME]`), or, when the file has no such section,
// from lines before any section header. Other keys and sections are ignored; `#` and `;` start
// comments. `origin` (the file name) prefixes messages. Pure. Errors: kInvalidConfig naming
// origin:line for a malformed line, or the missing key; values never appear in messages.
Result<S3Credentials> parse_credentials(std::string_view text, std::string_view origin,
                                        std::string_view profile = "default");

// Reads and parses the file at `path`. Refuses a file that grants any access to group or
// others, with a message saying to run `chmod 600`. Errors: kNotFound, kPermission (mode or
// EACCES), kIo, kInvalidConfig.
Result<S3Credentials> load_credentials_file(const std::string& path,
                                            std::string_view profile = "default");

}  // namespace gc::storage
