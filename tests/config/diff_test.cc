// SPDX-License-Identifier: MIT
#include "config/diff.h"

#include <gtest/gtest.h>

namespace gc::config {
namespace {

using Names = std::vector<std::string>;

ServiceConfig service(const std::string& name) {
  ServiceConfig s;
  s.name = name;
  s.command = {"node", name + ".js"};
  return s;
}

Config config_of(std::vector<ServiceConfig> services) {
  Config c;
  c.services = std::move(services);
  return c;
}

TEST(ConfigDiff, IsEmptyForEqualConfigs) {
  Config a = config_of({service("web"), service("worker")});
  ConfigDiff diff = diff_configs(a, a);
  EXPECT_TRUE(diff.empty());
  EXPECT_EQ(diff.unchanged, (Names{"web", "worker"}));
}

TEST(ConfigDiff, IgnoresTheConfigPath) {
  Config a = config_of({service("web")});
  Config b = a;
  b.path = "/elsewhere.toml";
  EXPECT_TRUE(diff_configs(a, b).empty());
}

TEST(ConfigDiff, ClassifiesServicesByName) {
  Config before = config_of({service("a"), service("gone1"), service("b"), service("gone2")});
  ServiceConfig b2 = service("b");
  b2.instances = 3;
  Config after = config_of({service("new2"), b2, service("a"), service("new1")});
  ConfigDiff diff = diff_configs(before, after);
  EXPECT_EQ(diff.added, (Names{"new2", "new1"}));
  EXPECT_EQ(diff.removed, (Names{"gone1", "gone2"}));
  EXPECT_EQ(diff.changed, (Names{"b"}));
  EXPECT_EQ(diff.unchanged, (Names{"a"}));
  EXPECT_FALSE(diff.empty());
  EXPECT_FALSE(diff.server_changed);
  EXPECT_FALSE(diff.http_changed);
}

TEST(ConfigDiff, SeesAChangeInAnyNestedField) {
  Config before = config_of({service("web")});
  std::vector<void (*)(ServiceConfig&)> edits = {
      [](ServiceConfig& s) { s.env["A"] = "1"; },
      [](ServiceConfig& s) {
        s.listen.push_back(ListenAddress{"127.0.0.1:1", "127.0.0.1", 1});
      },
      [](ServiceConfig& s) { s.ready.kind = ReadyKind::kIpc; },
      [](ServiceConfig& s) { s.backoff.max = std::chrono::seconds(5); },
      [](ServiceConfig& s) { s.logs.keep = 3; },
      [](ServiceConfig& s) { s.max_memory_bytes = 1; },
      [](ServiceConfig& s) { s.stop_signal = 2; },
  };
  for (std::size_t i = 0; i < edits.size(); ++i) {
    Config after = before;
    edits[i](after.services[0]);
    EXPECT_EQ(diff_configs(before, after).changed, (Names{"web"})) << "edit " << i;
  }
}

TEST(ConfigDiff, ReportsServerAndHttpChanges) {
  Config before;
  Config after;
  after.server.log_dir = "/srv/logs";
  ConfigDiff diff = diff_configs(before, after);
  EXPECT_TRUE(diff.server_changed);
  EXPECT_FALSE(diff.http_changed);
  EXPECT_FALSE(diff.empty());
  after = before;
  after.http.listen = "127.0.0.1:9200";
  diff = diff_configs(before, after);
  EXPECT_TRUE(diff.http_changed);
  EXPECT_FALSE(diff.empty());
}

}  // namespace
}  // namespace gc::config
