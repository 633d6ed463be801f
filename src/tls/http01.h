// SPDX-License-Identifier: MIT
// tls/http01.h: the two ways groundctl answers HTTP-01 challenges (RFC 8555 section 8.3):
// files in a webroot that Nginx serves at /.well-known/acme-challenge/, or a small HTTP server of
// its own for hosts without a web server on port 80.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"

namespace gc::tls {

// Serves key authorizations for tokens until it is destroyed, which withdraws them all.
class Http01Responder {
 public:
  virtual ~Http01Responder() = default;
  // Makes GET /.well-known/acme-challenge/`token` answer `key_authorization`. The token must
  // pass is_valid_token() (it becomes a file name): kInvalidArgument otherwise. Other errors
  // follow errno.
  virtual Status add(const std::string& token, const std::string& key_authorization) = 0;
};

// Writes {webroot}/.well-known/acme-challenge/TOKEN (0644; missing directories are created 0755
// so that the web server can traverse them). Destruction removes the files it wrote. Errors:
// kInvalidArgument for a relative webroot.
Result<std::unique_ptr<Http01Responder>> make_webroot_responder(const std::string& webroot);

// Binds `listen` ("[::]:80", "127.0.0.1:8080"; "[::]" also accepts IPv4) and answers challenge
// requests from a thread, one connection at a time, everything else 404. Destruction closes the
// socket and joins the thread. Errors: kInvalidArgument for a bad address, kConflict when the
// address is in use (say what holds port 80), kPermission for a privileged port.
class StandaloneResponder;
Result<std::unique_ptr<Http01Responder>> start_standalone_responder(const std::string& listen,
                                                                    int* bound_port = nullptr);

}  // namespace gc::tls
