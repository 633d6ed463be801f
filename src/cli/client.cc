// SPDX-License-Identifier: MIT
#include "cli/client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gc::cli {

Result<ControlClient> ControlClient::connect(const std::string& socket_path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket", "", errno);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof sa.sun_path) {
    return make_error(Errc::kInvalidArgument, "control socket path too long: " + socket_path);
  }
  std::memcpy(sa.sun_path, socket_path.data(), socket_path.size());
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    int err = errno;
    Error e = sys_error("connect", socket_path, err);
    if (err == ENOENT || err == ECONNREFUSED) e.code = Errc::kUnavailable;
    return e;
  }
  return ControlClient(std::move(fd));
}

Result<std::string> ControlClient::read_line() {
  for (;;) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    char buf[65536];
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read", "control socket", errno);
    if (n == 0) return make_error(Errc::kUnavailable, "the daemon closed the connection");
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

Result<nlohmann::json> ControlClient::call(const nlohmann::json& request) {
  GC_TRY(write_all(fd_.get(), request.dump() + "\n"));
  GC_ASSIGN_OR_RETURN(std::string line, read_line());
  auto reply = nlohmann::json::parse(line, nullptr, false);
  if (reply.is_discarded() || !reply.is_object()) {
    return make_error(Errc::kInternal, "unreadable reply from the daemon");
  }
  if (!reply.value("ok", false)) {
    const auto& e = reply["error"];
    Error err{errc_from_name(e.value("code", "internal")), e.value("message", "unknown error")};
    return err;
  }
  return reply["result"];
}

Status ControlClient::stream(const std::function<bool(const nlohmann::json&)>& on_line) {
  for (;;) {
    auto line = read_line();
    if (!line) return ok();
    auto msg = nlohmann::json::parse(*line, nullptr, false);
    if (msg.is_discarded()) continue;
    if (!on_line(msg)) return ok();
  }
}

}  // namespace gc::cli
