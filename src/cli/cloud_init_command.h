// SPDX-License-Identifier: MIT
// cli/cloud_init_command.h: `groundctl cloud-init`: prints the cloud-init user-data document that
// turns a fresh Debian 12 / Ubuntu machine into the server of the config (provision/cloud_init.h).
#pragma once

#include <string>
#include <vector>

#include "cli/commands.h"

namespace CLI {
class App;
}  // namespace CLI

namespace gc::cli {

struct CloudInitArgs {
  std::vector<std::string> ssh_key_files;  // --ssh-key FILE (repeatable): public keys.
  std::string binary_url;                  // --binary-url URL (required).
  std::string binary_sha256;               // --binary-sha256 HEX (required).
  bool insecure_url = false;               // --insecure-url: accept http://.
  std::vector<std::string> packages;       // --package NAME (repeatable).
  std::string output;                      // -o FILE: write it there (0600), not to stdout.
};

// Registers the `cloud-init` subcommand and its options on `app`, filling `args` when parsed.
CLI::App* add_cloud_init_command(CLI::App& app, CloudInitArgs& args);

// Loads and validates the config of -c, renders the document on stdout (or -o FILE, 0600) and
// lists on stderr the files the config references that the operator must put on the host.
// Exit 0; 2 for a bad config, a missing or unreadable key file or a refused option.
int cmd_cloud_init(const Globals& g, const CloudInitArgs& args);

}  // namespace gc::cli
