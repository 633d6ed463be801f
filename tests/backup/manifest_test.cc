// SPDX-License-Identifier: MIT
#include "backup/manifest.h"

#include <gtest/gtest.h>

namespace gc::backup {
namespace {

Manifest sample() {
  Manifest m;
  m.id = "20261127T031500Z";
  m.host = "vps-1";
  m.started_at = "2026-11-27T03:15:00Z";
  m.finished_at = "2026-11-27T03:16:40Z";
  m.postgres_version = "15.18";
  m.recipients = {{"age1example", "0011223344556677"}};
  Artifact db;
  db.name = "orbital.dump.zst.age";
  db.database = "orbital";
  db.plaintext_bytes = 1000;
  db.compressed_bytes = 400;
  db.ciphertext_bytes = 450;
  db.sha256 = std::string(64, 'a');
  db.tables = {{"public", "users", 1500}, {"media", "files", 0}};
  Artifact media;
  media.name = "media.tar.zst.age";
  media.kind = ArtifactKind::kMedia;
  media.paths = {"/srv/uploads"};
  media.files = 12;
  media.ciphertext_bytes = 99;
  media.sha256 = std::string(64, 'b');
  m.artifacts = {db, media};
  m.verification = {"stream", VerifyResult::kPassed, "ok", 1.5};
  return m;
}

TEST(Manifest, RoundTrips) {
  Manifest m = sample();
  auto back = parse_manifest(to_json(m));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(to_json(*back), to_json(m));
  EXPECT_EQ(back->artifacts[0].tables[0], (TableCount{"public", "users", 1500}));
  EXPECT_EQ(back->artifacts[1].kind, ArtifactKind::kMedia);
  EXPECT_EQ(back->verification.result, VerifyResult::kPassed);
}

TEST(Manifest, RejectsWhatCannotBeTrusted) {
  EXPECT_FALSE(parse_manifest("not json"));
  EXPECT_FALSE(parse_manifest("[]"));
  std::string text = to_json(sample());
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    t.replace(t.find(from), from.size(), to);
    return parse_manifest(t);
  };
  auto future = with("groundctl-backup/1", "groundctl-backup/9");
  ASSERT_FALSE(future);
  EXPECT_NE(future.error().message.find("unsupported format"), std::string::npos);
  // A name that would escape the set directory.
  auto escape = with("\"orbital.dump.zst.age\"", "\"../../etc/passwd\"");
  ASSERT_FALSE(escape);
  EXPECT_NE(escape.error().message.find("not a plain file name"), std::string::npos);
  EXPECT_FALSE(with("\"kind\": \"media\"", "\"kind\": \"video\""));
  EXPECT_FALSE(with("\"sha256\"", "\"sha\""));
  EXPECT_EQ(parse_manifest("{}").error().code, Errc::kCorrupt);
}

}  // namespace
}  // namespace gc::backup
