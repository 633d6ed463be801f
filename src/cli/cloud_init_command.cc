// SPDX-License-Identifier: MIT
// cli/cloud_init_command.cc: the thin driver of `groundctl cloud-init`: reads the files, renders,
// writes.
#include "cli/cloud_init_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "base/atomic_file.h"
#include "base/unique_fd.h"
#include "cli/exit_codes.h"
#include "provision/cloud_init.h"

namespace gc::cli {

CLI::App* add_cloud_init_command(CLI::App& app, CloudInitArgs& args) {
  auto* sub = app.add_subcommand(
      "cloud-init",
      "print cloud-init user-data that turns a fresh Debian/Ubuntu droplet into this "
      "server (user, packages, groundctl, config, apply)");
  sub->add_option("--ssh-key", args.ssh_key_files,
                  "public key file for the [ssh].allow_users users (repeatable; required with "
                  "[ssh])");
  sub->add_option("--binary-url", args.binary_url, "https:// URL of the groundctl binary")
      ->required();
  sub->add_option("--binary-sha256", args.binary_sha256, "its SHA-256 (64 hex digits)")->required();
  sub->add_flag("--insecure-url", args.insecure_url,
                "accept an http:// URL (the SHA-256 still guards the download)");
  sub->add_option("--package", args.packages, "one more Debian package to install (repeatable)");
  sub->add_option("-o,--output", args.output, "write the document to this file (0600)");
  return sub;
}

int cmd_cloud_init(const Globals& g, const CloudInitArgs& args) {
  auto cfg = load_config_for_provisioning(g);
  if (!cfg) return report_failure(g, cfg.error(), kExitUsage);
  // The file itself goes onto the host verbatim (comments and all), not a re-rendering.
  auto text = read_file(g.config_path);
  if (!text) return report_failure(g, text.error().with_context(g.config_path), kExitUsage);
  provision::CloudInitOptions o;
  o.binary_url = args.binary_url;
  o.binary_sha256 = args.binary_sha256;
  o.insecure_url = args.insecure_url;
  o.extra_packages = args.packages;
  for (const auto& f : args.ssh_key_files) {
    auto key = read_file(f);
    if (!key) return report_failure(g, key.error().with_context("--ssh-key " + f), kExitUsage);
    o.ssh_keys.push_back({f, std::move(*key)});
  }
  auto doc = provision::render_cloud_init(*cfg, *text, o);
  if (!doc) return report_failure(g, doc.error().with_context("cloud-init"), kExitUsage);
  if (!doc->files_to_provision.empty()) {
    std::fprintf(stderr,
                 "groundctl: cloud-init: the config names files this document does not carry; "
                 "put them on the new host (mode 0600 for secrets) before groundctl needs them:\n");
    for (const auto& f : doc->files_to_provision) std::fprintf(stderr, "  %s\n", f.c_str());
  }
  if (args.output.empty()) {
    std::fwrite(doc->text.data(), 1, doc->text.size(), stdout);
    return std::fflush(stdout) == 0 ? kExitOk : kExitProblem;
  }
  // 0600: the document holds the config, which may name internal hosts and paths.
  if (auto st = write_file_atomic(args.output, doc->text, 0600); !st) {
    return report_failure(g, st.error(), kExitProblem);
  }
  std::fprintf(stderr, "groundctl: wrote %s\n", args.output.c_str());
  return kExitOk;
}

}  // namespace gc::cli
