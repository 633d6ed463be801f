// SPDX-License-Identifier: MIT
// cli/alert_commands.h: `groundctl alerts [--history | --export-rules]` and `groundctl silence`.
#pragma once

#include <string>
#include <vector>

#include "cli/commands.h"

namespace gc::cli {

// Pending and firing alerts from the daemon, with silences and rule errors. Exit 1 when any
// alert is firing.
int cmd_alerts(const Globals& g);
// The newest `limit` firing/resolved events, from the state store (no daemon needed).
int cmd_alert_history(const Globals& g, int limit);
// The rules of the config (built-ins merged with [[alert]]) as a Prometheus rule file on stdout.
int cmd_export_rules(const Globals& g);

struct SilenceArgs {
  std::string name;                 // alertname to silence.
  std::string duration = "1h";      // --for
  std::vector<std::string> labels;  // --label k=v, narrowing it.
  std::string comment;
  bool list = false;
  std::string end;  // --end ID|NAME: end silences now.
};
// Adds, lists or ends silences in the state store; the daemon applies them at its next
// evaluation.
int cmd_silence(const Globals& g, const SilenceArgs& args);

}  // namespace gc::cli
