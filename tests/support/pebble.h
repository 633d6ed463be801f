// SPDX-License-Identifier: MIT
// tests/support/pebble.h: Debian's `pebble` ACME test server on loopback for one test, with
// `pebble-challtestsrv` as its DNS server so that every name resolves to 127.0.0.1. Both are
// stopped by PID.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "base/child_process.h"
#include "base/result.h"

namespace gc::testing {

struct PebbleOptions {
  std::string dir;                   // Existing test-owned directory for config, certs and logs.
  int http_port = 5002;              // Where pebble's VA connects to answer HTTP-01.
  int nonce_reject_percent = 0;      // PEBBLE_WFE_NONCEREJECT (pebble's own default is 5).
  int authz_reuse_percent = 0;       // PEBBLE_AUTHZREUSE.
  std::chrono::seconds validity{0};  // certificateValidityPeriod; 0: pebble's default (5 years).
};

class Pebble {
 public:
  // Writes a self-signed HTTPS certificate for 127.0.0.1/localhost (openssl req), the config,
  // starts pebble-challtestsrv and pebble on free loopback ports, and waits until both accept
  // connections. Errors: kNotFound when pebble is not installed, kUnavailable when it does not
  // come up (with its log).
  static Result<std::unique_ptr<Pebble>> start(const PebbleOptions& options);
  ~Pebble();  // SIGTERM both, SIGKILL after 5 s.

  std::string directory_url() const;  // https://127.0.0.1:PORT/dir
  int port() const { return port_; }
  // The PEM file that trusts pebble's HTTPS certificate ([tls] ca_bundle).
  std::string ca_bundle() const { return dir_ + "/pebble-https.pem"; }
  // Pebble's issuing root and intermediate (regenerated at every start), from its management
  // interface. Errors: kUnavailable.
  Result<std::string> root_pem() const;
  Result<std::string> intermediate_pem() const;
  std::string log() const;  // Pebble's stdout and stderr so far.

 private:
  Pebble() = default;
  Result<std::string> management_get(const std::string& path) const;
  std::string dir_;
  int port_ = 0;
  int management_port_ = 0;
  std::optional<ChildProcess> dns_;
  std::optional<ChildProcess> pebble_;
};

}  // namespace gc::testing
