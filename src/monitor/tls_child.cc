// SPDX-License-Identifier: MIT
#include "monitor/tls_child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/child_process.h"
#include "base/unique_fd.h"

namespace gc::monitor {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// The answer is a few hundred bytes per target; anything this large is not ours.
constexpr std::size_t kMaxAnswer = 4 << 20;

std::vector<CertFacts> all_failed(const std::vector<TlsTarget>& targets, const std::string& why) {
  std::vector<CertFacts> out;
  for (const auto& t : targets) {
    CertFacts f;
    f.source = t.file.empty() ? "endpoint:" + t.endpoint : "file:" + t.file;
    f.error = "tls check process: " + why;
    out.push_back(std::move(f));
  }
  return out;
}

// The child's environment: OpenSSL's own variables pass through, so the child trusts what the
// daemon would have trusted in-process.
std::vector<std::string> child_env() {
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
  for (const char* name : {"SSL_CERT_FILE", "SSL_CERT_DIR", "OPENSSL_CONF"}) {
    if (const char* v = std::getenv(name)) env.push_back(std::string(name) + "=" + v);
  }
  return env;
}

// Runs the child and returns what it wrote on stdout. Errors name what went wrong with it.
Result<std::string> run_child(const std::string& exe, const std::string& request,
                              std::chrono::milliseconds budget) {
  int in = ::memfd_create("groundctl-tls", MFD_CLOEXEC);
  if (in < 0) return sys_error("memfd_create", "", errno);
  UniqueFd input(in);
  GC_TRY(write_all(input.get(), request));
  if (::lseek(input.get(), 0, SEEK_SET) != 0) return sys_error("lseek", "memfd", errno);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe2", "", errno);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  SpawnOptions o;
  o.argv = {exe, std::string(kTlsFactsCommand)};
  o.env = child_env();
  o.stdin_fd = input.get();
  o.stdout_fd = write_end.get();
  o.parent_death_signal = SIGKILL;
  GC_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::spawn(o));
  write_end.reset();  // EOF on read_end once the child has gone.
  auto deadline = Clock::now() + budget;
  std::string out;
  char buf[8192];
  while (true) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      (void)child.terminate(SIGKILL, std::chrono::seconds(1));
      return make_error(Errc::kTimeout,
                        "no answer within " + std::to_string(budget.count()) + " ms; killed");
    }
    pollfd p{read_end.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno != EINTR) return sys_error("poll", "tls check output", errno);
    if (r <= 0) continue;
    ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n < 0 && errno != EINTR && errno != EAGAIN) {
      return sys_error("read", "tls check output", errno);
    }
    if (n == 0) break;
    if (n > 0) out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kMaxAnswer) return make_error(Errc::kCorrupt, "answer too large");
  }
  // Its stdout is closed: it is exiting, or about to.
  pollfd p{child.pidfd(), POLLIN, 0};
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  if (::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 1000))) <= 0) {
    (void)child.terminate(SIGKILL, std::chrono::seconds(1));
    return make_error(Errc::kTimeout, "closed its output but did not exit; killed");
  }
  GC_ASSIGN_OR_RETURN(ExitStatus st, child.wait());
  if (!st.success()) return make_error(Errc::kUnavailable, st.to_string());
  return out;
}

}  // namespace

json tls_request_json(const std::vector<TlsTarget>& targets, const TlsOptions& o) {
  json t = json::array();
  for (const auto& x : targets) {
    t.push_back({{"file", x.file},
                 {"endpoint", x.endpoint},
                 {"sni", x.sni},
                 {"expected_name", x.expected_name}});
  }
  return {{"targets", t}, {"ca_file", o.ca_file}, {"timeout_ms", o.timeout.count()}};
}

json cert_facts_json(const CertFacts& f) {
  return {{"source", f.source},
          {"ok", f.ok},
          {"error", f.error},
          {"subject_cn", f.subject_cn},
          {"issuer_cn", f.issuer_cn},
          {"dns_names", f.dns_names},
          {"not_before", f.not_before},
          {"not_after", f.not_after},
          {"chain_not_after", f.chain_not_after},
          {"chain_valid", f.chain_valid},
          {"name_matches", f.name_matches},
          {"verify_error", f.verify_error}};
}

Result<CertFacts> cert_facts_from_json(const json& j) {
  // nlohmann throws on a wrong type: this adapter turns that into an Error.
  try {
    CertFacts f;
    f.source = j.at("source").get<std::string>();
    f.ok = j.at("ok").get<bool>();
    f.error = j.at("error").get<std::string>();
    f.subject_cn = j.at("subject_cn").get<std::string>();
    f.issuer_cn = j.at("issuer_cn").get<std::string>();
    f.dns_names = j.at("dns_names").get<std::vector<std::string>>();
    f.not_before = j.at("not_before").get<int64_t>();
    f.not_after = j.at("not_after").get<int64_t>();
    f.chain_not_after = j.at("chain_not_after").get<int64_t>();
    f.chain_valid = j.at("chain_valid").get<bool>();
    f.name_matches = j.at("name_matches").get<bool>();
    f.verify_error = j.at("verify_error").get<std::string>();
    return f;
  } catch (const json::exception& e) {
    return make_error(Errc::kCorrupt, std::string("certificate facts: ") + e.what());
  }
}

int tls_facts_main() {
  std::string request;
  char buf[8192];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, stdin)) > 0;) request.append(buf, n);
  std::vector<TlsTarget> targets;
  TlsOptions o;
  try {
    json r = json::parse(request);
    for (const auto& t : r.at("targets")) {
      targets.push_back({t.at("file").get<std::string>(), t.at("endpoint").get<std::string>(),
                         t.at("sni").get<std::string>(), t.at("expected_name").get<std::string>()});
    }
    o.ca_file = r.at("ca_file").get<std::string>();
    o.timeout = std::chrono::milliseconds(r.at("timeout_ms").get<int64_t>());
  } catch (const json::exception& e) {
    std::fprintf(stderr, "groundctl %s: bad request on stdin: %s\n", kTlsFactsCommand.data(),
                 e.what());
    return 2;
  }
  json out = json::array();
  for (const auto& t : targets) out.push_back(cert_facts_json(inspect_target(t, o)));
  std::string text = out.dump();
  std::fwrite(text.data(), 1, text.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

std::vector<CertFacts> inspect_targets_in_child(const std::string& exe,
                                                const std::vector<TlsTarget>& targets,
                                                const TlsOptions& o) {
  if (targets.empty()) return {};
  // Each endpoint may take its whole timeout; the margin covers the start and the files.
  auto budget = o.timeout * static_cast<int64_t>(targets.size()) + std::chrono::seconds(10);
  auto answer = run_child(exe, tls_request_json(targets, o).dump(), budget);
  if (!answer) return all_failed(targets, answer.error().message);
  json doc = json::parse(*answer, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array() || doc.size() != targets.size()) {
    return all_failed(targets, "unexpected answer");
  }
  std::vector<CertFacts> out;
  for (const auto& j : doc) {
    auto f = cert_facts_from_json(j);
    if (!f) return all_failed(targets, f.error().message);
    out.push_back(std::move(*f));
  }
  return out;
}

}  // namespace gc::monitor
