// SPDX-License-Identifier: MIT
// cli/client.h: the CLI side of the control socket: one JSON request, JSON response lines.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace gc::cli {

class ControlClient {
 public:
  // Connects to the daemon. Errors: kUnavailable when no daemon listens (exit code 3).
  static Result<ControlClient> connect(const std::string& socket_path);
  // Sends one request and returns the first response line's "result"; a daemon-side error
  // becomes an Error with the daemon's code and message.
  Result<nlohmann::json> call(const nlohmann::json& request);
  // Reads further lines (streaming replies) until EOF or `on_line` returns false.
  Status stream(const std::function<bool(const nlohmann::json&)>& on_line);

 private:
  explicit ControlClient(UniqueFd fd) : fd_(std::move(fd)) {}
  Result<std::string> read_line();
  UniqueFd fd_;
  std::string buffer_;
};

}  // namespace gc::cli
