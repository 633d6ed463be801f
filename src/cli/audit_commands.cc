// SPDX-License-Identifier: MIT
// cli/audit_commands.cc: `groundctl audit`.
#include "cli/audit_commands.h"

#include <cstdio>

#include "audit/run.h"
#include "cli/exit_codes.h"

namespace gc::cli {

int cmd_audit(const Globals& g, const std::string& root) {
  auto cfg = load_config_for_provisioning(g);
  if (!cfg) return report_failure(g, cfg.error(), kExitUsage);
  audit::Options options;
  // "/" and "" both mean this machine; a trailing '/' would double every joined path's slash.
  options.root = root;
  while (!options.root.empty() && options.root.back() == '/') options.root.pop_back();
  audit::Report report = audit::make_report(audit::gather(*cfg, options), *cfg);
  if (options.root.empty()) {
    if (auto st = audit::save_report(*cfg, report); !st) {
      std::fprintf(stderr, "groundctl: warning: audit report not saved: %s\n",
                   st.error().message.c_str());
    }
  }
  if (g.json) {
    print_json(audit::to_json(report));
  } else {
    std::fputs(audit::to_text(report).c_str(), stdout);
  }
  return report.count(audit::CheckStatus::kFail) > 0 ? kExitProblem : kExitOk;
}

}  // namespace gc::cli
