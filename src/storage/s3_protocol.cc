// SPDX-License-Identifier: MIT
#include "storage/s3_protocol.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>

namespace gc::storage {
namespace {

// A parsed element: local name (namespace prefix dropped), its direct text, its children.
// Attributes are skipped: nothing S3Store reads is in one.
struct XmlNode {
  std::string name;
  std::string text;
  std::vector<XmlNode> children;

  const XmlNode* child(std::string_view n) const {
    for (const auto& c : children) {
      if (c.name == n) return &c;
    }
    return nullptr;
  }
  std::string child_text(std::string_view n) const {
    const XmlNode* c = child(n);
    return c ? c->text : std::string();
  }
};

// Reads the small documents S3 sends: elements, text, entities, CDATA, comments, processing
// instructions, DOCTYPE. Tolerant of what it does not need (attributes, namespaces, mixed
// content), strict about structure, so a truncated answer is an error rather than half a list.
class XmlReader {
 public:
  explicit XmlReader(std::string_view doc) : doc_(doc) {}

  Result<XmlNode> document() {
    skip_misc();
    if (!starts_with("<")) return fail("no root element");
    XmlNode root;
    GC_TRY(element(root, 0));
    skip_misc();
    if (pos_ != doc_.size()) return fail("content after the root element");
    return root;
  }

 private:
  // Deeper nesting than any S3 answer: a bound so hostile input cannot exhaust the stack.
  static constexpr int kMaxDepth = 32;

  Error fail(std::string_view why) const {
    return make_error(Errc::kInvalidArgument,
                      "malformed xml at byte " + std::to_string(pos_) + ": " + std::string(why));
  }
  bool starts_with(std::string_view s) const { return doc_.substr(pos_, s.size()) == s; }
  void skip_space() {
    while (pos_ < doc_.size() &&
           (doc_[pos_] == ' ' || doc_[pos_] == '\t' || doc_[pos_] == '\r' || doc_[pos_] == '\n')) {
      ++pos_;
    }
  }
  // Skips past `end`; false if it never comes.
  bool skip_past(std::string_view end) {
    auto at = doc_.find(end, pos_);
    if (at == std::string_view::npos) return false;
    pos_ = at + end.size();
    return true;
  }
  // Whitespace, <?...?>, <!--...-->, <!DOCTYPE ...> between elements.
  void skip_misc() {
    for (;;) {
      skip_space();
      if (starts_with("<?")) {
        if (!skip_past("?>")) pos_ = doc_.size();
      } else if (starts_with("<!--")) {
        if (!skip_past("-->")) pos_ = doc_.size();
      } else if (starts_with("<!DOCTYPE") || starts_with("<!doctype")) {
        if (!skip_past(">")) pos_ = doc_.size();
      } else {
        return;
      }
    }
  }
  static bool is_name_char(char c) {
    return c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '/' && c != '>' && c != '=' &&
           c != '<';
  }
  std::string_view name() {
    std::size_t start = pos_;
    while (pos_ < doc_.size() && is_name_char(doc_[pos_])) ++pos_;
    std::string_view n = doc_.substr(start, pos_ - start);
    auto colon = n.find(':');
    return colon == std::string_view::npos ? n : n.substr(colon + 1);
  }

  Status element(XmlNode& node, int depth) {
    if (depth > kMaxDepth) return fail("elements nested too deeply");
    ++pos_;  // '<'
    node.name = std::string(name());
    if (node.name.empty()) return fail("element without a name");
    // Attributes: skip to the end of the tag, minding quoted values that may hold '>'.
    for (;;) {
      if (pos_ >= doc_.size()) return fail("unterminated start tag <" + node.name + ">");
      char c = doc_[pos_];
      if (c == '"' || c == '\'') {
        auto close = doc_.find(c, pos_ + 1);
        if (close == std::string_view::npos) return fail("unterminated attribute value");
        pos_ = close + 1;
      } else if (c == '>') {
        ++pos_;
        break;
      } else if (c == '/' && starts_with("/>")) {
        pos_ += 2;
        return ok();
      } else {
        ++pos_;
      }
    }
    // Content up to the matching end tag.
    for (;;) {
      auto lt = doc_.find('<', pos_);
      if (lt == std::string_view::npos) return fail("missing end tag </" + node.name + ">");
      append_decoded(node.text, doc_.substr(pos_, lt - pos_));
      pos_ = lt;
      if (starts_with("</")) {
        pos_ += 2;
        std::string_view end = name();
        if (end != node.name) {
          return fail("end tag </" + std::string(end) + "> does not match <" + node.name + ">");
        }
        skip_space();
        if (!starts_with(">")) return fail("malformed end tag </" + node.name);
        ++pos_;
        return ok();
      }
      if (starts_with("<![CDATA[")) {
        pos_ += 9;
        auto end = doc_.find("]]>", pos_);
        if (end == std::string_view::npos) return fail("unterminated CDATA section");
        node.text.append(doc_.substr(pos_, end - pos_));
        pos_ = end + 3;
      } else if (starts_with("<!--")) {
        if (!skip_past("-->")) return fail("unterminated comment");
      } else if (starts_with("<?")) {
        if (!skip_past("?>")) return fail("unterminated processing instruction");
      } else {
        node.children.emplace_back();
        GC_TRY(element(node.children.back(), depth + 1));
      }
    }
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  // Decodes the five predefined entities and character references; anything else is kept as
  // written (tolerance: a stray '&' in a message must not lose the whole answer).
  static void append_decoded(std::string& out, std::string_view text) {
    while (!text.empty()) {
      auto amp = text.find('&');
      out.append(text.substr(0, amp));
      if (amp == std::string_view::npos) return;
      text.remove_prefix(amp);
      auto semi = text.find(';');
      std::string_view entity = semi == std::string_view::npos || semi > 10
                                    ? std::string_view()
                                    : text.substr(1, semi - 1);
      bool decoded = true;
      if (entity == "lt") {
        out.push_back('<');
      } else if (entity == "gt") {
        out.push_back('>');
      } else if (entity == "amp") {
        out.push_back('&');
      } else if (entity == "quot") {
        out.push_back('"');
      } else if (entity == "apos") {
        out.push_back('\'');
      } else if (entity.size() > 1 && entity[0] == '#') {
        bool hex = entity[1] == 'x' || entity[1] == 'X';
        std::string_view digits = entity.substr(hex ? 2 : 1);
        std::uint32_t cp = 0;
        auto [end, ec] =
            std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
        decoded = ec == std::errc() && end == digits.data() + digits.size() && !digits.empty() &&
                  cp > 0 && cp <= 0x10ffff;
        if (decoded) append_utf8(out, cp);
      } else {
        decoded = false;
      }
      if (decoded) {
        text.remove_prefix(semi + 1);
      } else {
        out.push_back('&');
        text.remove_prefix(1);
      }
    }
  }

  std::string_view doc_;
  std::size_t pos_ = 0;
};

Result<XmlNode> parse_root(std::string_view body, std::string_view expected_root) {
  GC_ASSIGN_OR_RETURN(XmlNode root, XmlReader(body).document());
  if (root.name != expected_root) {
    if (root.name == "Error") {
      return make_error(Errc::kIo,
                        "s3 error " + root.child_text("Code") + ": " + root.child_text("Message"));
    }
    return make_error(Errc::kInvalidArgument,
                      "expected <" + std::string(expected_root) + ">, got <" + root.name + ">");
  }
  return root;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string s3_uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
                      u == '-' || u == '_' || u == '.' || u == '~';
    if (unreserved || (keep_slash && u == '/')) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

std::string s3_canonical_query(std::vector<std::pair<std::string, std::string>> params) {
  for (auto& [name, value] : params) {
    name = s3_uri_encode(name, false);
    value = s3_uri_encode(value, false);
  }
  // SigV4 sorts by the encoded names, byte by byte.
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::optional<S3ErrorInfo> parse_s3_error(std::string_view body) {
  auto root = XmlReader(body).document();
  if (!root || root->name != "Error") return std::nullopt;
  return S3ErrorInfo{root->child_text("Code"), root->child_text("Message"),
                     root->child_text("RequestId")};
}

Result<S3ListPage> parse_list_objects_v2(std::string_view body) {
  GC_ASSIGN_OR_RETURN(XmlNode root, parse_root(body, "ListBucketResult"));
  S3ListPage page;
  page.is_truncated = root.child_text("IsTruncated") == "true";
  page.next_continuation_token = root.child_text("NextContinuationToken");
  for (const auto& c : root.children) {
    if (c.name != "Contents") continue;
    const XmlNode* key = c.child("Key");
    if (!key || key->text.empty()) {
      return make_error(Errc::kInvalidArgument, "<Contents> without a <Key>");
    }
    ObjectInfo info;
    info.key = key->text;
    std::string size = c.child_text("Size");
    auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), info.size_bytes);
    if (ec != std::errc() || end != size.data() + size.size() || size.empty()) {
      return make_error(Errc::kInvalidArgument,
                        "<Contents> of \"" + info.key + "\" has a bad <Size> \"" + size + "\"");
    }
    auto modified = parse_iso8601_utc(c.child_text("LastModified"));
    if (!modified) return modified.error().with_context("<Contents> of \"" + info.key + "\"");
    info.last_modified = *modified;
    page.objects.push_back(std::move(info));
  }
  if (page.is_truncated && page.next_continuation_token.empty()) {
    return make_error(Errc::kInvalidArgument,
                      "truncated <ListBucketResult> without a <NextContinuationToken>");
  }
  return page;
}

Result<std::string> parse_initiate_multipart(std::string_view body) {
  GC_ASSIGN_OR_RETURN(XmlNode root, parse_root(body, "InitiateMultipartUploadResult"));
  std::string id = root.child_text("UploadId");
  if (id.empty()) return make_error(Errc::kInvalidArgument, "no <UploadId> in the answer");
  return id;
}

Result<std::string> parse_complete_multipart(std::string_view body) {
  GC_ASSIGN_OR_RETURN(XmlNode root, parse_root(body, "CompleteMultipartUploadResult"));
  return root.child_text("ETag");
}

std::string complete_multipart_xml(std::span<const S3Part> parts) {
  std::string out = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const auto& p : parts) {
    out += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>" +
           xml_escape(p.etag) + "</ETag></Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

Result<SystemTime> parse_iso8601_utc(std::string_view text) {
  auto bad = [&] {
    return make_error(Errc::kInvalidArgument, "bad timestamp \"" + std::string(text) + "\"");
  };
  // YYYY-MM-DDTHH:MM:SS, then an optional fraction and an optional 'Z'.
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':') {
    return bad();
  }
  auto number = [&](std::size_t at, std::size_t len, int& out) {
    auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + len, out);
    return ec == std::errc() && end == text.data() + at + len;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!number(0, 4, y) || !number(5, 2, mo) || !number(8, 2, d) || !number(11, 2, h) ||
      !number(14, 2, mi) || !number(17, 2, s)) {
    return bad();
  }
  std::size_t pos = 19;
  std::chrono::nanoseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::int64_t scale = 100'000'000;
    std::size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      fraction += std::chrono::nanoseconds((text[pos] - '0') * scale);
      scale /= 10;
      ++pos;
      ++digits;
    }
    if (digits == 0) return bad();
  }
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) ++pos;
  if (pos != text.size()) return bad();
  std::chrono::year_month_day date{std::chrono::year(y),
                                   std::chrono::month(static_cast<unsigned>(mo)),
                                   std::chrono::day(static_cast<unsigned>(d))};
  if (!date.ok() || h > 23 || mi > 59 || s > 60) return bad();
  auto t = std::chrono::sys_days(date) + std::chrono::hours(h) + std::chrono::minutes(mi) +
           std::chrono::seconds(s) + fraction;
  return std::chrono::time_point_cast<SystemTime::duration>(t);
}

Errc errc_for_s3_answer(long status, std::string_view code) {
  // S3 recomputed the body's hash and it differs from the signed one: the bytes were damaged.
  if (code == "XAmzContentSHA256Mismatch" || code == "BadDigest") return Errc::kCorrupt;
  if (status == 404) return Errc::kNotFound;
  if (status == 401 || status == 403) return Errc::kPermission;
  if (status == 409 || status == 412) return Errc::kConflict;
  if (status == 408 || code == "RequestTimeout") return Errc::kTimeout;
  if (status == 429 || status >= 500) return Errc::kUnavailable;
  if (status >= 300 && status < 400) return Errc::kInvalidConfig;
  if (status >= 400) return Errc::kInvalidArgument;
  return Errc::kIo;
}

bool is_retryable_s3_answer(long status, std::string_view code) {
  return status >= 500 || status == 429 || status == 408 ||
         (status == 400 && code == "RequestTimeout");
}

}  // namespace gc::storage
