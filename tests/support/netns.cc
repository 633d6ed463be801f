// SPDX-License-Identifier: MIT
// tests/support/netns.cc: network namespaces and the server box, driven through iproute2,
// nsenter, unshare and mount (util-linux), the same tools an operator would use.
#include "support/netns.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "base/unique_fd.h"

namespace gc::testing {
namespace {

const std::vector<std::string> kEnv = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8",
    "HOME=/root"};

std::atomic<int> next_netns{0};

Error command_error(const std::vector<std::string>& argv, const CommandResult& r) {
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  return Error{Errc::kInternal, cmd + ": exit " + std::to_string(r.exit_code) + ": " + r.err};
}

// Runs argv and turns a non-zero exit into an error.
Status must(const std::vector<std::string>& argv) {
  GC_ASSIGN_OR_RETURN(CommandResult r, run_command(argv));
  if (!r.ok()) return tl::unexpected(command_error(argv, r));
  return {};
}

}  // namespace

Result<CommandResult> run_command(const std::vector<std::string>& argv,
                                  const std::string& stdin_text) {
  GC_ASSIGN_OR_RETURN(TempDir dir, TempDir::create("gc-cmd-"));
  GC_ASSIGN_OR_RETURN(UniqueFd out, open_fd(dir.file("out"), O_WRONLY | O_CREAT | O_TRUNC));
  GC_ASSIGN_OR_RETURN(UniqueFd err, open_fd(dir.file("err"), O_WRONLY | O_CREAT | O_TRUNC));
  GC_ASSIGN_OR_RETURN(UniqueFd in, open_fd(dir.file("in"), O_RDWR | O_CREAT | O_TRUNC));
  GC_TRY(write_all(in.get(), stdin_text));
  if (::lseek(in.get(), 0, SEEK_SET) != 0) return tl::unexpected(sys_error("lseek", "in", errno));
  SpawnOptions o;
  o.argv = argv;
  o.env = kEnv;
  o.stdin_fd = in.get();
  o.stdout_fd = out.get();
  o.stderr_fd = err.get();
  o.new_session = false;
  o.parent_death_signal = SIGKILL;
  GC_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::spawn(o));
  GC_ASSIGN_OR_RETURN(ExitStatus st, child.wait());
  CommandResult r;
  r.exit_code = st.signaled ? 128 + st.signal : st.code;
  r.out = read_file(dir.file("out")).value_or("");
  r.err = read_file(dir.file("err")).value_or("");
  return r;
}

// --- Netns ---------------------------------------------------------------------------------

Result<std::unique_ptr<Netns>> Netns::create(int clients) {
  if (::geteuid() != 0)
    return tl::unexpected(Error{Errc::kPermission, "network namespaces need root"});
  int n = next_netns++;
  std::string base = "gc-" + std::to_string(::getpid()) + "-" + std::to_string(n);
  std::unique_ptr<Netns> ns(new Netns());
  ns->server_ = base;
  GC_TRY(must({"ip", "netns", "add", ns->server_}));
  GC_TRY(must({"ip", "-n", ns->server_, "link", "set", "lo", "up"}));
  for (int i = 0; i < clients; ++i) {
    std::string c = base + "c" + std::to_string(i);
    GC_TRY(must({"ip", "netns", "add", c}));
    ns->clients_.push_back(c);
    // Interface names are limited to 15 bytes: "g<pid>n<n>s<i>".
    std::string tag = "g" + std::to_string(::getpid()) + "n" + std::to_string(n);
    std::string sv = tag + "s" + std::to_string(i), cv = tag + "c" + std::to_string(i);
    std::string k = std::to_string(i + 1);
    // Both ends are created directly inside their namespaces: nothing appears in ours.
    GC_TRY(must({"ip", "link", "add", sv, "netns", ns->server_, "type", "veth", "peer", "name", cv,
                 "netns", c}));
    GC_TRY(must({"ip", "-n", ns->server_, "addr", "add", "10.77." + k + ".1/24", "dev", sv}));
    GC_TRY(must({"ip", "-n", c, "addr", "add", "10.77." + k + ".2/24", "dev", cv}));
    // nodad: the addresses are usable at once instead of after duplicate address detection.
    GC_TRY(
        must({"ip", "-n", ns->server_, "addr", "add", "fd77:" + k + "::1/64", "dev", sv, "nodad"}));
    GC_TRY(must({"ip", "-n", c, "addr", "add", "fd77:" + k + "::2/64", "dev", cv, "nodad"}));
    GC_TRY(must({"ip", "-n", ns->server_, "link", "set", sv, "up"}));
    GC_TRY(must({"ip", "-n", c, "link", "set", cv, "up"}));
    GC_TRY(must({"ip", "-n", c, "link", "set", "lo", "up"}));
  }
  return ns;
}

Netns::~Netns() {
  // A namespace still holding processes lives on until they exit, but its name goes now;
  // the veth pairs disappear with the namespaces.
  for (const auto& c : clients_) (void)run_command({"ip", "netns", "del", c});
  if (!server_.empty()) (void)run_command({"ip", "netns", "del", server_});
}

std::string Netns::server_address(int client) const {
  return "10.77." + std::to_string(client + 1) + ".1";
}
std::string Netns::server_address6(int client) const {
  return "fd77:" + std::to_string(client + 1) + "::1";
}
std::string Netns::client_address(int client) const {
  return "10.77." + std::to_string(client + 1) + ".2";
}
std::vector<std::string> Netns::in_client(int i) const {
  return {"ip", "netns", "exec", client(i)};
}

// --- ServerBox -----------------------------------------------------------------------------

Result<std::unique_ptr<ServerBox>> ServerBox::create(const Netns& ns) {
  std::unique_ptr<ServerBox> box(new ServerBox());
  GC_ASSIGN_OR_RETURN(TempDir dir, TempDir::create("gc-box-"));
  box->dir_.emplace(std::move(dir));
  // nsenter and unshare (without --fork) exec, so the pid we hold is the sleeping holder's.
  SpawnOptions o;
  o.argv = {"nsenter", "--net=/run/netns/" + ns.server(),
            "--",      "unshare",
            "--mount", "--propagation",
            "private", "--",
            "sleep",   "infinity"};
  o.env = kEnv;
  o.parent_death_signal = SIGKILL;  // A crashed test takes its box with it.
  GC_ASSIGN_OR_RETURN(ChildProcess holder, ChildProcess::spawn(o));
  box->holder_.emplace(std::move(holder));
  // The holder is in place once it runs `sleep` (after unshare made the mount namespace).
  std::string comm = "/proc/" + std::to_string(box->holder_pid()) + "/comm";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (read_file(comm).value_or("") != "sleep\n") {
    if (std::chrono::steady_clock::now() > deadline)
      return tl::unexpected(Error{Errc::kTimeout, "box holder did not start"});
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Overlays rather than bind-mounted copies: the box starts with exactly the machine's files
  // (package defaults, users) and every tool may replace files by rename (useradd, ufw, apply),
  // which a bind-mounted single file would refuse with EBUSY. The upper layers live on a tmpfs
  // mounted only inside the box, so nothing written there reaches the machine's disk.
  const std::string l = box->dir_->path();
  std::string script =
      "set -e\n"
      "mount -t tmpfs -o mode=0755 gc-box " +
      l +
      "\n"
      "mkdir -p " +
      l + "/etc.u " + l + "/etc.w " + l + "/var.u " + l +
      "/var.w\n"
      "mount -t overlay gc-box-etc -o lowerdir=/etc,upperdir=" +
      l + "/etc.u,workdir=" + l +
      "/etc.w /etc\n"
      "mount -t overlay gc-box-var -o lowerdir=/var,upperdir=" +
      l + "/var.u,workdir=" + l +
      "/var.w /var\n"
      "mount -t tmpfs -o mode=0755 gc-box-run /run\n"
      "mount -t tmpfs -o mode=0755 gc-box-home /home\n"
      "mount -t tmpfs -o mode=0700 gc-box-root /root\n"
      "mkdir -p /run/lock /run/sshd /run/postgresql /run/fail2ban /run/nginx\n"
      "chmod 1777 /run/lock\n";
  GC_ASSIGN_OR_RETURN(CommandResult r, box->sh(script));
  if (!r.ok()) return tl::unexpected(Error{Errc::kInternal, "box mounts: " + r.err});
  return box;
}

ServerBox::~ServerBox() {
  for (auto it = daemons_.rbegin(); it != daemons_.rend(); ++it) {
    if (it->child && !it->child->reaped())
      (void)it->child->terminate(SIGTERM, std::chrono::seconds(10));
  }
  daemons_.clear();
  if (holder_ && !holder_->reaped()) (void)holder_->terminate(SIGKILL, std::chrono::seconds(5));
}

std::vector<std::string> ServerBox::prefix() const {
  return {"nsenter", "-t", std::to_string(holder_pid()), "-n", "-m", "--"};
}

std::vector<std::string> ServerBox::as_user(const std::string& user,
                                            const std::vector<std::string>& argv) const {
  std::vector<std::string> full = prefix();
  if (!user.empty()) {
    // Names are resolved by setpriv inside the box, against the box's /etc/passwd.
    for (std::string a :
         {"setpriv", "--reuid", user.c_str(), "--regid", user.c_str(), "--init-groups", "--"})
      full.push_back(a);
  }
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

Result<CommandResult> ServerBox::run(const std::vector<std::string>& argv,
                                     const std::string& stdin_text, const std::string& user) const {
  return run_command(as_user(user, argv), stdin_text);
}

Result<CommandResult> ServerBox::sh(const std::string& script,
                                    const std::string& stdin_text) const {
  return run({"sh", "-c", script}, stdin_text);
}

std::string ServerBox::path(const std::string& absolute) const {
  return "/proc/" + std::to_string(holder_pid()) + "/root" + absolute;
}

Result<int> ServerBox::start_daemon(const std::string& name, const std::vector<std::string>& argv,
                                    const std::string& log, const std::string& user) {
  UniqueFd log_fd;
  if (!log.empty()) {
    GC_ASSIGN_OR_RETURN(log_fd, open_fd(log, O_WRONLY | O_CREAT | O_APPEND, 0644));
  }
  SpawnOptions o;
  o.argv = as_user(user, argv);
  o.env = kEnv;
  o.stdout_fd = log_fd ? log_fd.get() : -1;
  o.stderr_fd = log_fd ? log_fd.get() : -1;
  o.new_session = true;  // Its own process group: stop_daemon reaches every process it forked.
  o.parent_death_signal = SIGKILL;
  auto child = ChildProcess::spawn(o);
  if (!child) return tl::unexpected(Error{child.error().code, name + ": " + child.error().message});
  daemons_.push_back(Daemon{name, std::move(*child)});
  return static_cast<int>(daemons_.size()) - 1;
}

Status ServerBox::stop_daemon(int id) {
  auto& d = daemons_.at(id);
  if (!d.child || d.child->reaped()) return {};
  GC_ASSIGN_OR_RETURN(ExitStatus st, d.child->terminate(SIGTERM, std::chrono::seconds(10)));
  (void)st;
  return {};
}

pid_t ServerBox::daemon_pid(int id) const {
  const auto& d = daemons_.at(id);
  return d.child && !d.child->reaped() ? d.child->pid() : -1;
}

bool ServerBox::daemon_running(int id) {
  auto& d = daemons_.at(id);
  if (!d.child || d.child->reaped()) return false;
  auto st = d.child->try_wait();
  return st && !st->has_value();
}

}  // namespace gc::testing
