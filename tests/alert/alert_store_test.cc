// SPDX-License-Identifier: MIT
// The alert tables of the state store: active alerts across restarts, bounded history,
// silences.
#include "alert/alert_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/temp_dir.h"

namespace gc::alert {
namespace {

ActiveAlert firing(const std::string& mount) {
  ActiveAlert a;
  a.rule = "DiskAlmostFull";
  a.labels = {{"alertname", "DiskAlmostFull"}, {"mountpoint", mount}, {"severity", "warning"}};
  a.phase = Phase::kFiring;
  a.active_since_ms = 1000;
  a.fired_at_ms = 2000;
  a.notified = true;
  a.last_notified_ms = 2000;
  a.value = 0.83;
  a.summary = "disk " + mount;
  return a;
}

TEST(AlertStore, ActiveAlertsSurviveReopen) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  {
    auto store = AlertStore::open(dir->path() + "/state");
    ASSERT_TRUE(store) << store.error().message;
    AlertStates states({firing("/"), firing("/srv")});
    ASSERT_TRUE(store->save_active(states.alerts()));
  }
  struct stat st {};
  ASSERT_EQ(::stat((dir->path() + "/state/state.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto store = AlertStore::open(dir->path() + "/state");
  ASSERT_TRUE(store);
  auto loaded = store->load_active();
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].phase, Phase::kFiring);
  EXPECT_TRUE((*loaded)[0].notified);
  EXPECT_EQ((*loaded)[0].last_notified_ms, 2000);
  EXPECT_EQ((*loaded)[0].labels.at("severity"), "warning");
  EXPECT_DOUBLE_EQ((*loaded)[0].value, 0.83);
  ASSERT_TRUE(store->save_active({}));
  EXPECT_TRUE(store->load_active()->empty());
}

TEST(AlertStore, HistoryIsBoundedAndNewestFirst) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  auto store = AlertStore::open(dir->path());
  ASSERT_TRUE(store);
  for (int i = 0; i < 12; ++i) {
    Notice n{i % 2 ? NoticeKind::kResolved : NoticeKind::kFiring, firing("/" + std::to_string(i)),
             3000 + i};
    std::vector<Notice> sent;
    if (i != 4) sent.push_back(n);
    ASSERT_TRUE(store->add_history({n}, sent, 10));
  }
  auto h = store->history(100);
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 10u);
  EXPECT_EQ(h->front().labels.at("mountpoint"), "/11");
  EXPECT_EQ(h->front().event, "resolved");
  EXPECT_EQ(h->front().at_ms, 3011);
  EXPECT_EQ(h->back().labels.at("mountpoint"), "/2");
  EXPECT_EQ(h->back().at_ms, 2000);  // A firing event is dated when it fired.
  bool found_unsent = false;
  for (const auto& e : *h)
    found_unsent = found_unsent || (!e.notified && e.labels.at("mountpoint") == "/4");
  EXPECT_TRUE(found_unsent);
}

TEST(AlertStore, Silences) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir);
  auto store = AlertStore::open(dir->path());
  ASSERT_TRUE(store);
  Silence s{0, {{"alertname", "LoadHigh"}}, 100, 10000, "maintenance", "root"};
  auto id = store->add_silence(s);
  ASSERT_TRUE(id);
  auto id2 = store->add_silence({0, {{"alertname", "DiskFull"}}, 100, 500, "", "root"});
  ASSERT_TRUE(id2);
  auto active = store->silences(200);
  ASSERT_TRUE(active);
  ASSERT_EQ(active->size(), 2u);
  EXPECT_EQ((*active)[0].comment, "maintenance");
  EXPECT_EQ(store->silences(600)->size(), 1u);  // The second one ended.
  auto ended = store->end_silences(0, {{"alertname", "LoadHigh"}}, 700);
  ASSERT_TRUE(ended);
  EXPECT_EQ(*ended, 1);
  EXPECT_TRUE(store->silences(701)->empty());
  EXPECT_EQ(*store->end_silences(*id, {}, 800), 0);
}

}  // namespace
}  // namespace gc::alert
