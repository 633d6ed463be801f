// SPDX-License-Identifier: MIT
// Unit tests for storage/s3_protocol.h: encoding, the XML answers S3 sends, error mapping.
#include "storage/s3_protocol.h"

#include <string>

#include <gtest/gtest.h>

namespace gc::storage {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

SystemTime utc(int y, unsigned m, unsigned d, int hh, int mm, int ss) {
  return std::chrono::sys_days(std::chrono::year(y) / std::chrono::month(m) / std::chrono::day(d)) +
         std::chrono::hours(hh) + std::chrono::minutes(mm) + seconds(ss);
}

TEST(S3UriEncode, KeepsUnreservedAndEncodesTheRest) {
  EXPECT_EQ(s3_uri_encode("db/2024-05-01T03:00:00Z.dump~1_a.b", true),
            "db/2024-05-01T03%3A00%3A00Z.dump~1_a.b");
  EXPECT_EQ(s3_uri_encode("a b+c/é!", true), "a%20b%2Bc/%C3%A9%21");
  EXPECT_EQ(s3_uri_encode("a/b", false), "a%2Fb");
}

TEST(S3CanonicalQuery, SortsEncodesAndSpellsEmptyValues) {
  EXPECT_EQ(s3_canonical_query({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(s3_canonical_query({{"prefix", "db/a b"}, {"list-type", "2"}, {"max-keys", "2"}}),
            "list-type=2&max-keys=2&prefix=db%2Fa%20b");
  EXPECT_EQ(s3_canonical_query({{"uploadId", "x.y_z-1"}, {"partNumber", "10"}}),
            "partNumber=10&uploadId=x.y_z-1");
  EXPECT_EQ(s3_canonical_query({{"continuation-token", "1+ab/c=="}, {"list-type", "2"}}),
            "continuation-token=1%2Bab%2Fc%3D%3D&list-type=2");
}

TEST(ParseS3Error, ReadsCodeAndMessage) {
  auto e = parse_s3_error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
      "<Message>The specified key does not exist.</Message><Key>a&amp;b</Key>"
      "<RequestId>4442587FB7D0A2F9</RequestId></Error>");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "NoSuchKey");
  EXPECT_EQ(e->message, "The specified key does not exist.");
  EXPECT_EQ(e->request_id, "4442587FB7D0A2F9");
}

TEST(ParseS3Error, IgnoresWhatIsNotAnErrorDocument) {
  EXPECT_FALSE(parse_s3_error(""));
  EXPECT_FALSE(parse_s3_error("<html><body>502 Bad Gateway</body></html>"));
  EXPECT_FALSE(parse_s3_error("<Error><Code>Truncated"));
  EXPECT_FALSE(parse_s3_error("upstream connect error"));
}

TEST(ParseListObjectsV2, ReadsAnAwsPage) {
  auto page = parse_list_objects_v2(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>db/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents>
    <Key>db/a &amp; b.age</Key>
    <LastModified>2024-05-01T03:00:01.500Z</LastModified>
    <ETag>&quot;599bab3ed2c697f1d26842727561fd94&quot;</ETag>
    <Size>142863</Size>
    <Owner><ID>x</ID><DisplayName>y</DisplayName></Owner>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <!-- a comment -->
  <Contents><Key><![CDATA[db/<raw>]]></Key><LastModified>2024-05-02T00:00:00Z</LastModified><Size>0</Size></Contents>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>)");
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "db/a & b.age");
  EXPECT_EQ(page->objects[0].size_bytes, 142863u);
  EXPECT_EQ(page->objects[0].last_modified, utc(2024, 5, 1, 3, 0, 1) + milliseconds(500));
  EXPECT_EQ(page->objects[1].key, "db/<raw>");
  EXPECT_EQ(page->objects[1].size_bytes, 0u);
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(ParseListObjectsV2, ReadsAnEmptyLastPage) {
  auto page = parse_list_objects_v2(
      "<ListBucketResult><Name>b</Name><Prefix/><KeyCount>0</KeyCount>"
      "<IsTruncated>false</IsTruncated></ListBucketResult>");
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_TRUE(page->objects.empty());
  EXPECT_FALSE(page->is_truncated);
}

TEST(ParseListObjectsV2, RefusesBrokenPages) {
  // Cut off mid-way: an error, not a silently shorter list.
  auto cut = parse_list_objects_v2(
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key>");
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, Errc::kInvalidArgument);
  EXPECT_FALSE(parse_list_objects_v2(
      "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"));
  EXPECT_FALSE(parse_list_objects_v2(
      "<ListBucketResult><Contents><Key>a</Key><Size>-1</Size>"
      "<LastModified>2024-05-01T00:00:00Z</LastModified></Contents></ListBucketResult>"));
  EXPECT_FALSE(parse_list_objects_v2(
      "<ListBucketResult><Contents><Key>a</Key><Size>1</Size>"
      "<LastModified>yesterday</LastModified></Contents></ListBucketResult>"));
  EXPECT_FALSE(parse_list_objects_v2("<Wrong></Wrong>"));
  EXPECT_FALSE(parse_list_objects_v2("<a><b></a></b>"));
  auto error =
      parse_list_objects_v2("<Error><Code>AccessDenied</Code><Message>no</Message></Error>");
  ASSERT_FALSE(error);
  EXPECT_NE(error.error().message.find("AccessDenied"), std::string::npos);
}

TEST(ParseXml, SurvivesHostileNesting) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<a>";
  auto page = parse_list_objects_v2(deep);
  ASSERT_FALSE(page);
  EXPECT_NE(page.error().message.find("nested too deeply"), std::string::npos);
}

TEST(ParseXml, DecodesCharacterReferencesAndKeepsStrayAmpersands) {
  auto e =
      parse_s3_error("<Error><Code>X</Code><Message>&#233;&#x41; a & b &bogus;</Message></Error>");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message,
            "\xc3\xa9"
            "A a & b &bogus;");
}

TEST(ParseInitiateMultipart, ReadsTheUploadId) {
  auto id = parse_initiate_multipart(
      "<?xml version=\"1.0\"?><InitiateMultipartUploadResult xmlns=\"x\"><Bucket>b</Bucket>"
      "<Key>k</Key><UploadId>VXBsb2FkIElE.ZWxv-dmlz</UploadId></InitiateMultipartUploadResult>");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "VXBsb2FkIElE.ZWxv-dmlz");
  EXPECT_FALSE(parse_initiate_multipart("<InitiateMultipartUploadResult/>"));
}

TEST(ParseCompleteMultipart, ReadsTheETagOrTheHiddenError) {
  auto etag = parse_complete_multipart(
      "<CompleteMultipartUploadResult><Location>l</Location><Bucket>b</Bucket><Key>k</Key>"
      "<ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag></CompleteMultipartUploadResult>");
  ASSERT_TRUE(etag) << etag.error().message;
  EXPECT_EQ(*etag, "\"3858f62230ac3c915f300c664312c11f-9\"");
  auto hidden = parse_complete_multipart(
      "\n\n<Error><Code>InternalError</Code><Message>We encountered an internal error."
      "</Message></Error>");
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().message, "s3 error InternalError: We encountered an internal error.");
}

TEST(CompleteMultipartXml, ListsThePartsInOrder) {
  std::vector<S3Part> parts = {{1, "\"a1\""}, {2, "\"b&2\""}};
  EXPECT_EQ(complete_multipart_xml(parts),
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Part><PartNumber>1</PartNumber><ETag>\"a1\"</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>\"b&amp;2\"</ETag></Part>"
            "</CompleteMultipartUpload>");
}

TEST(ParseIso8601, AcceptsS3FormsAndRefusesOthers) {
  EXPECT_EQ(*parse_iso8601_utc("2024-02-29T23:59:59Z"), utc(2024, 2, 29, 23, 59, 59));
  EXPECT_EQ(*parse_iso8601_utc("2024-02-29T23:59:59"), utc(2024, 2, 29, 23, 59, 59));
  EXPECT_EQ(*parse_iso8601_utc("1970-01-01T00:00:00.123456Z"),
            SystemTime(std::chrono::microseconds(123456)));
  for (const char* bad :
       {"", "2024-02-30T00:00:00Z", "2024-01-01 00:00:00Z", "2024-01-01T24:00:00Z",
        "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00+01:00", "Wed, 01 May 2024 03:00:00 GMT"}) {
    EXPECT_FALSE(parse_iso8601_utc(bad)) << bad;
  }
}

TEST(S3Answers, MapToErrcAndRetryVerdicts) {
  EXPECT_EQ(errc_for_s3_answer(404, "NoSuchKey"), Errc::kNotFound);
  EXPECT_EQ(errc_for_s3_answer(403, "SignatureDoesNotMatch"), Errc::kPermission);
  EXPECT_EQ(errc_for_s3_answer(400, "XAmzContentSHA256Mismatch"), Errc::kCorrupt);
  EXPECT_EQ(errc_for_s3_answer(400, "BadDigest"), Errc::kCorrupt);
  EXPECT_EQ(errc_for_s3_answer(400, "EntityTooSmall"), Errc::kInvalidArgument);
  EXPECT_EQ(errc_for_s3_answer(400, "RequestTimeout"), Errc::kTimeout);
  EXPECT_EQ(errc_for_s3_answer(301, "PermanentRedirect"), Errc::kInvalidConfig);
  EXPECT_EQ(errc_for_s3_answer(409, "BucketNotEmpty"), Errc::kConflict);
  EXPECT_EQ(errc_for_s3_answer(503, "SlowDown"), Errc::kUnavailable);
  EXPECT_EQ(errc_for_s3_answer(429, ""), Errc::kUnavailable);

  EXPECT_TRUE(is_retryable_s3_answer(500, "InternalError"));
  EXPECT_TRUE(is_retryable_s3_answer(503, "SlowDown"));
  EXPECT_TRUE(is_retryable_s3_answer(429, ""));
  EXPECT_TRUE(is_retryable_s3_answer(400, "RequestTimeout"));
  EXPECT_FALSE(is_retryable_s3_answer(403, "SignatureDoesNotMatch"));
  EXPECT_FALSE(is_retryable_s3_answer(403, "InvalidAccessKeyId"));
  EXPECT_FALSE(is_retryable_s3_answer(404, "NoSuchKey"));
  EXPECT_FALSE(is_retryable_s3_answer(400, "InvalidArgument"));
}

}  // namespace
}  // namespace gc::storage
