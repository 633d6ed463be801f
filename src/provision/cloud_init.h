// SPDX-License-Identifier: MIT
// provision/cloud_init.h: renders a cloud-init user-data document (#cloud-config YAML) that turns
// a fresh Debian 12 / Ubuntu machine into the server a groundctl config describes. Pure: the
// caller reads the config file, the key files and writes the result.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace gc::provision {

// One --ssh-key file: its name (for messages) and contents.
struct SshKeyFile {
  std::string name;
  std::string content;
};

struct CloudInitOptions {
  // Where the config lands on the new host (write_files, 0600) and what -c names there.
  std::string config_path = "/etc/groundctl/groundctl.toml";
  // The groundctl binary to download, and its SHA-256 (64 hex digits, any case). Required.
  std::string binary_url;
  std::string binary_sha256;
  bool insecure_url = false;  // Accept http:// (the checksum still guards the download).
  // The --ssh-key files: OpenSSH public keys, one a line ('#' comments and blank lines skipped).
  // Every [ssh].allow_users user gets all of them, with sudo.
  std::vector<SshKeyFile> ssh_keys;
  std::vector<std::string> extra_packages;  // --package: more Debian packages (the app's runtime).
};

struct CloudInitDocument {
  std::string text;  // The document, starting with "#cloud-config\n".
  // Files the config references that the document does not carry (secrets, env files, explicit
  // certificates), as "PATH ([section].key)": the operator must put them on the host. Sorted by
  // path, no duplicates.
  std::vector<std::string> files_to_provision;
};

// Renders the document for `config`, whose file content is `config_text` (written verbatim to
// options.config_path). Errors (kInvalidArgument, message naming the option): a missing or
// non-https URL, a checksum that is not 64 hex digits, [ssh] without any public key (a key-only
// server with no key locks everyone out), a key file holding a private key or a line that is not
// a public key, keys without [ssh] (no user would receive them), a bad package name.
Result<CloudInitDocument> render_cloud_init(const config::Config& config,
                                            std::string_view config_text,
                                            const CloudInitOptions& options);

// The Debian packages the config needs on the host, in install order, without duplicates.
std::vector<std::string> cloud_init_packages(const config::Config& config,
                                             const std::vector<std::string>& extra);

namespace detail {

// A YAML double-quoted scalar for any byte string that is valid UTF-8: '"', '\\' and every
// character YAML does not allow raw (C0/C1 controls, DEL, U+2028/9, U+FEFF) escaped. Invalid
// UTF-8 bytes come out as "\xNN", which YAML reads as U+00NN: callers pass valid UTF-8.
std::string yaml_quote(std::string_view s);

// True when `s` can be written as a literal block scalar and read back byte for byte: valid
// UTF-8 without CR, other controls except TAB, NEL, U+2028/9 or a byte-order mark.
bool yaml_block_safe(std::string_view s);

// "|" plus the indentation and chomping indicators `s` needs, a newline, then each line of `s`
// indented by `parent_indent` + 2 spaces (empty lines stay empty). `parent_indent` is the column
// of the mapping key (or sequence dash) the block is the value of. Requires yaml_block_safe(s)
// and a non-empty `s`.
std::string yaml_literal_block(std::string_view s, int parent_indent);

}  // namespace detail
}  // namespace gc::provision
