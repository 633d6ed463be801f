// SPDX-License-Identifier: MIT
// monitor/tls_child.h: the daemon's TLS certificate collector, run in a short-lived child
// process. Inspecting a certificate needs libcrypto and libssl, which stay mapped once loaded:
// ~4-5 MiB of the daemon's RSS for a check that runs every 5 minutes. The daemon instead runs
// `groundctl __tls-facts` (this binary), hands it the targets as JSON on stdin and reads one
// CertFacts per target back as JSON on stdout; OpenSSL lives and dies in the child.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "monitor/tls_metrics.h"

namespace gc::monitor {

// argv[1] that makes the binary run tls_facts_main() (see cli::run). Not a user command.
inline constexpr std::string_view kTlsFactsCommand = "__tls-facts";

// The request and the answer, as JSON. Pure.
nlohmann::json tls_request_json(const std::vector<TlsTarget>& targets, const TlsOptions& o);
nlohmann::json cert_facts_json(const CertFacts& f);
// Errors: kCorrupt when `j` is not what cert_facts_json() writes.
Result<CertFacts> cert_facts_from_json(const nlohmann::json& j);

// The child's side: reads a tls_request_json() document from stdin, inspects each target in
// turn (inspect_target) and writes a JSON array of cert_facts_json() to stdout. Returns the
// exit code: 0, or 2 when the request cannot be read (with the reason on stderr).
int tls_facts_main();

// The daemon's side: runs `exe __tls-facts` with the request on stdin and returns one CertFacts
// per target, in order. When the child cannot run, fails or answers nonsense, every target gets
// ok=false and an error saying so (a collector reports what it can; it never throws or
// returns an Error). The child gets o.timeout per target plus a margin, then is killed. Blocks;
// call it from a worker thread.
std::vector<CertFacts> inspect_targets_in_child(const std::string& exe,
                                                const std::vector<TlsTarget>& targets,
                                                const TlsOptions& o);

}  // namespace gc::monitor
