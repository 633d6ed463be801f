// SPDX-License-Identifier: MIT
// cli/setup_commands.cc: commands that help set a server up: the systemd unit and PM2 import.
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/atomic_file.h"
#include "base/child_process.h"
#include "base/unique_fd.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "config/pm2_import.h"
#include "provision/system.h"

namespace gc::cli {
namespace {

std::string self_path() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "/usr/local/bin/groundctl";
}

std::string absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[PATH_MAX];
  return ::getcwd(cwd, sizeof cwd) != nullptr ? std::string(cwd) + "/" + path : path;
}

}  // namespace

int cmd_startup(const Globals& g, bool install) {
  std::string unit = provision::systemd_unit(self_path(), absolute(g.config_path));
  if (!install) {
    std::fputs(unit.c_str(), stdout);
    return kExitOk;
  }
  const std::string path = "/etc/systemd/system/groundctl.service";
  if (auto st = write_file_atomic(path, unit, 0644); !st) {
    std::fprintf(stderr, "groundctl: %s (run as root)\n", st.error().message.c_str());
    return kExitProblem;
  }
  std::printf("wrote %s\n", path.c_str());
  for (const char* cmd : {"daemon-reload", "enable"}) {
    SpawnOptions o;
    o.argv = {"systemctl", cmd};
    if (std::string(cmd) == "enable") o.argv.push_back("groundctl.service");
    o.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    o.stdout_fd = 1;
    o.stderr_fd = 2;
    auto child = ChildProcess::spawn(o);
    if (!child || !child->wait()->success()) {
      std::fprintf(stderr, "groundctl: systemctl %s failed; run it by hand\n", cmd);
      return kExitProblem;
    }
  }
  std::printf("enabled groundctl.service; start it with: systemctl start groundctl\n");
  return kExitOk;
}

int cmd_import_pm2(const Globals& g, const std::string& file) {
  (void)g;
  std::string json_text;
  bool is_js = file.size() > 3 && (file.ends_with(".js") || file.ends_with(".cjs"));
  if (is_js) {
    // An ecosystem.config.js is a program: node evaluates it and prints the JSON it exports.
    auto pipe = Pipe::create();
    if (!pipe) return kExitProblem;
    SpawnOptions o;
    o.argv = {"node", "-e", "process.stdout.write(JSON.stringify(require(process.argv[1])))",
              absolute(file)};
    const char* path = std::getenv("PATH");
    o.env = {std::string("PATH=") + (path ? path : "/usr/local/bin:/usr/bin:/bin")};
    o.stdout_fd = pipe->write.get();
    o.stderr_fd = 2;
    auto child = ChildProcess::spawn(o);
    if (!child) {
      std::fprintf(stderr, "groundctl: import-pm2: %s (node is needed for .js files)\n",
                   child.error().message.c_str());
      return kExitProblem;
    }
    pipe->write.reset();
    char buf[65536];
    ssize_t n;
    while ((n = ::read(pipe->read.get(), buf, sizeof buf)) > 0)
      json_text.append(buf, static_cast<size_t>(n));
    auto st = child->wait();
    if (!st || !st->success()) {
      std::fprintf(stderr, "groundctl: import-pm2: node could not evaluate %s\n", file.c_str());
      return kExitUsage;
    }
  } else {
    auto text = read_file(file);
    if (!text) {
      std::fprintf(stderr, "groundctl: import-pm2: %s\n", text.error().message.c_str());
      return kExitUsage;
    }
    json_text = std::move(*text);
  }
  auto toml = config::pm2_ecosystem_to_toml(json_text);
  if (!toml) {
    std::fprintf(stderr, "groundctl: import-pm2: %s\n", toml.error().message.c_str());
    return kExitUsage;
  }
  std::fputs(toml->c_str(), stdout);
  return kExitOk;
}

}  // namespace gc::cli
