// SPDX-License-Identifier: MIT
#include "tls/x509_fields.h"

#include <chrono>
#include <ctime>

namespace gc::tls {

int64_t x509_unix_seconds(const SslApi& a, const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || a.asn1_time_to_tm(t, &tm) != 1) return 0;
  // Civil date to days without timegm's dependence on the process time zone state.
  using namespace std::chrono;
  sys_days date = year{tm.tm_year + 1900} / month{static_cast<unsigned>(tm.tm_mon + 1)} /
                  day{static_cast<unsigned>(tm.tm_mday)};
  return date.time_since_epoch() / seconds(1) + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

std::string x509_name_entry(const SslApi& a, X509_NAME* name, int nid) {
  // RFC 5280's upper bound for a CN is 64 characters; the rest of the buffer is slack.
  char buf[256];
  int n = name ? a.x509_name_get_text_by_nid(name, nid, buf, sizeof buf) : -1;
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::vector<std::string> x509_dns_names(const SslApi& a, X509* cert) {
  std::vector<std::string> out;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(a.x509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)),
      a.general_names_free);
  if (!names) return out;
  // GENERAL_NAMES is a STACK_OF(GENERAL_NAME), whose typed accessors are header-only macros.
  const auto* stack = reinterpret_cast<const OPENSSL_STACK*>(names.get());
  for (int i = 0; i < a.sk_num(stack); ++i) {
    const auto* gn = static_cast<const GENERAL_NAME*>(a.sk_value(stack, i));
    if (gn == nullptr || gn->type != GEN_DNS) continue;
    const ASN1_STRING* s = gn->d.dNSName;
    out.emplace_back(reinterpret_cast<const char*>(a.asn1_string_get0_data(s)),
                     static_cast<size_t>(a.asn1_string_length(s)));
  }
  return out;
}

}  // namespace gc::tls
