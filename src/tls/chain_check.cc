// SPDX-License-Identifier: MIT
#include "tls/chain_check.h"

#include <arpa/inet.h>

#include "tls/connection.h"

namespace gc::tls {

bool ChainVerdict::expired() const {
  return code == X509_V_ERR_CERT_HAS_EXPIRED || code == X509_V_ERR_CERT_NOT_YET_VALID;
}

ChainVerdict verify_server_chain(const SslApi& a, const std::vector<X509Ptr>& certs,
                                 const std::string& ca_file) {
  ChainVerdict v;
  StorePtr store(a.store_new(), a.store_free);
  StackPtr untrusted(a.sk_new_null(), a.sk_free);
  StoreCtxPtr ctx(a.store_ctx_new(), a.store_ctx_free);
  if (!store || !untrusted || !ctx) {
    v.error = "out of memory";
    a.err_clear_error();
    return v;
  }
  int loaded = ca_file.empty() ? a.store_set_default_paths(store.get())
                               : a.store_load_file(store.get(), ca_file.c_str());
  if (loaded != 1) {
    v.error = "cannot load " +
              (ca_file.empty() ? std::string("the system trust store") : "ca file " + ca_file) +
              ": " + take_ssl_error(a);
    return v;
  }
  // The stack borrows the certificates; `certs` keeps owning them.
  for (size_t i = 1; i < certs.size(); ++i) a.sk_push(untrusted.get(), certs[i].get());
  auto* chain = reinterpret_cast<STACK_OF(X509)*>(untrusted.get());
  if (a.store_ctx_init(ctx.get(), store.get(), certs[0].get(), chain) != 1) {
    v.error = "cannot start verification: " + take_ssl_error(a);
    return v;
  }
  a.store_ctx_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  v.trusted = a.verify_cert(ctx.get()) == 1;
  if (!v.trusted) {
    v.code = a.store_ctx_get_error(ctx.get());
    v.error = a.verify_cert_error_string(v.code);
  }
  a.err_clear_error();
  return v;
}

bool name_matches(const SslApi& a, X509* leaf, const std::string& name) {
  bool match;
  if (is_ip_literal(name)) {
    match = a.x509_check_ip_asc(leaf, name.c_str(), 0) == 1;
  } else {
    unsigned flags = X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
    match = a.x509_check_host(leaf, name.data(), name.size(), flags, nullptr) == 1;
  }
  a.err_clear_error();
  return match;
}

bool is_ip_literal(const std::string& name) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, name.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

}  // namespace gc::tls
