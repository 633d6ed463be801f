// SPDX-License-Identifier: MIT
#include "tls/ssl_api.h"

#include <mutex>
#include <optional>

#include "base/dynamic_library.h"

namespace gc::tls {
namespace {

struct Loaded {
  DynamicLibrary crypto;
  DynamicLibrary ssl;
  SslApi api;
};

Status bind_crypto(const DynamicLibrary& lib, SslApi& a) {
  GC_TRY(lib.bind("BIO_new_mem_buf", a.bio_new_mem_buf));
  GC_TRY(lib.bind("BIO_free", a.bio_free));
  GC_TRY(lib.bind("PEM_read_bio_X509", a.pem_read_bio_x509));
  GC_TRY(lib.bind("X509_free", a.x509_free));
  GC_TRY(lib.bind("X509_up_ref", a.x509_up_ref));
  GC_TRY(lib.bind("X509_get0_notBefore", a.x509_get0_not_before));
  GC_TRY(lib.bind("X509_get0_notAfter", a.x509_get0_not_after));
  GC_TRY(lib.bind("ASN1_TIME_to_tm", a.asn1_time_to_tm));
  GC_TRY(lib.bind("X509_get_subject_name", a.x509_get_subject_name));
  GC_TRY(lib.bind("X509_get_issuer_name", a.x509_get_issuer_name));
  GC_TRY(lib.bind("X509_NAME_get_text_by_NID", a.x509_name_get_text_by_nid));
  GC_TRY(lib.bind("X509_get_ext_d2i", a.x509_get_ext_d2i));
  GC_TRY(lib.bind("GENERAL_NAMES_free", a.general_names_free));
  GC_TRY(lib.bind("ASN1_STRING_get0_data", a.asn1_string_get0_data));
  GC_TRY(lib.bind("ASN1_STRING_length", a.asn1_string_length));
  GC_TRY(lib.bind("X509_check_host", a.x509_check_host));
  GC_TRY(lib.bind("X509_check_ip_asc", a.x509_check_ip_asc));
  GC_TRY(lib.bind("OPENSSL_sk_num", a.sk_num));
  GC_TRY(lib.bind("OPENSSL_sk_value", a.sk_value));
  GC_TRY(lib.bind("OPENSSL_sk_new_null", a.sk_new_null));
  GC_TRY(lib.bind("OPENSSL_sk_push", a.sk_push));
  GC_TRY(lib.bind("OPENSSL_sk_free", a.sk_free));
  GC_TRY(lib.bind("X509_STORE_new", a.store_new));
  GC_TRY(lib.bind("X509_STORE_free", a.store_free));
  GC_TRY(lib.bind("X509_STORE_set_default_paths", a.store_set_default_paths));
  GC_TRY(lib.bind("X509_STORE_load_file", a.store_load_file));
  GC_TRY(lib.bind("X509_STORE_CTX_new", a.store_ctx_new));
  GC_TRY(lib.bind("X509_STORE_CTX_free", a.store_ctx_free));
  GC_TRY(lib.bind("X509_STORE_CTX_init", a.store_ctx_init));
  GC_TRY(lib.bind("X509_STORE_CTX_set_purpose", a.store_ctx_set_purpose));
  GC_TRY(lib.bind("X509_STORE_CTX_get_error", a.store_ctx_get_error));
  GC_TRY(lib.bind("X509_verify_cert", a.verify_cert));
  GC_TRY(lib.bind("X509_verify_cert_error_string", a.verify_cert_error_string));
  GC_TRY(lib.bind("ERR_get_error", a.err_get_error));
  GC_TRY(lib.bind("ERR_error_string_n", a.err_error_string_n));
  GC_TRY(lib.bind("ERR_reason_error_string", a.err_reason_error_string));
  GC_TRY(lib.bind("ERR_clear_error", a.err_clear_error));
  // Grading: the certificate a server presents.
  GC_TRY(lib.bind("EVP_PKEY_free", a.grade_pkey_free));
  GC_TRY(lib.bind("EVP_PKEY_get_base_id", a.grade_pkey_get_base_id));
  GC_TRY(lib.bind("EVP_PKEY_get_bits", a.grade_pkey_get_bits));
  GC_TRY(lib.bind("EVP_PKEY_get_group_name", a.grade_pkey_get_group_name));
  GC_TRY(lib.bind("X509_get0_pubkey", a.grade_x509_get0_pubkey));
  GC_TRY(lib.bind("X509_get_signature_nid", a.grade_x509_get_signature_nid));
  GC_TRY(lib.bind("X509_NAME_cmp", a.grade_x509_name_cmp));
  GC_TRY(lib.bind("OBJ_nid2sn", a.grade_obj_nid2sn));
  // ACME: the ACME client's keys, signatures and CSRs.
  GC_TRY(lib.bind("EVP_PKEY_Q_keygen", a.acme_pkey_q_keygen));
  GC_TRY(lib.bind("EVP_PKEY_free", a.acme_pkey_free));
  GC_TRY(lib.bind("EVP_PKEY_get_bn_param", a.acme_pkey_get_bn_param));
  GC_TRY(lib.bind("EVP_PKEY_get_base_id", a.acme_pkey_get_base_id));
  GC_TRY(lib.bind("EVP_PKEY_get_bits", a.acme_pkey_get_bits));
  GC_TRY(lib.bind("BN_bn2binpad", a.acme_bn_bn2binpad));
  GC_TRY(lib.bind("BN_num_bits", a.acme_bn_num_bits));
  GC_TRY(lib.bind("BN_free", a.acme_bn_free));
  GC_TRY(lib.bind("BIO_new", a.acme_bio_new));
  GC_TRY(lib.bind("BIO_s_mem", a.acme_bio_s_mem));
  GC_TRY(lib.bind("BIO_ctrl", a.acme_bio_ctrl));
  GC_TRY(lib.bind("PEM_write_bio_PrivateKey", a.acme_pem_write_bio_private_key));
  GC_TRY(lib.bind("PEM_read_bio_PrivateKey", a.acme_pem_read_bio_private_key));
  GC_TRY(lib.bind("EVP_MD_CTX_new", a.acme_md_ctx_new));
  GC_TRY(lib.bind("EVP_MD_CTX_free", a.acme_md_ctx_free));
  GC_TRY(lib.bind("EVP_DigestSignInit", a.acme_digest_sign_init));
  GC_TRY(lib.bind("EVP_DigestSign", a.acme_digest_sign));
  GC_TRY(lib.bind("EVP_sha256", a.acme_sha256));
  GC_TRY(lib.bind("d2i_ECDSA_SIG", a.acme_d2i_ecdsa_sig));
  GC_TRY(lib.bind("ECDSA_SIG_get0", a.acme_ecdsa_sig_get0));
  GC_TRY(lib.bind("ECDSA_SIG_free", a.acme_ecdsa_sig_free));
  GC_TRY(lib.bind("X509_REQ_new", a.acme_req_new));
  GC_TRY(lib.bind("X509_REQ_free", a.acme_req_free));
  GC_TRY(lib.bind("X509_REQ_set_version", a.acme_req_set_version));
  GC_TRY(lib.bind("X509_REQ_get_subject_name", a.acme_req_get_subject_name));
  GC_TRY(lib.bind("X509_NAME_add_entry_by_txt", a.acme_name_add_entry_by_txt));
  GC_TRY(lib.bind("X509_REQ_set_pubkey", a.acme_req_set_pubkey));
  GC_TRY(lib.bind("X509V3_EXT_conf_nid", a.acme_ext_conf_nid));
  GC_TRY(lib.bind("X509_REQ_add_extensions", a.acme_req_add_extensions));
  GC_TRY(lib.bind("X509_EXTENSION_free", a.acme_extension_free));
  GC_TRY(lib.bind("X509_REQ_sign", a.acme_req_sign));
  GC_TRY(lib.bind("i2d_X509_REQ", a.acme_i2d_x509_req));
  GC_TRY(lib.bind("X509_get_serialNumber", a.acme_x509_get_serial_number));
  GC_TRY(lib.bind("X509_get0_authority_key_id", a.acme_x509_get0_authority_key_id));
  GC_TRY(lib.bind("X509_check_private_key", a.acme_x509_check_private_key));
  return ok();
}

Status bind_ssl(const DynamicLibrary& lib, SslApi& a) {
  GC_TRY(lib.bind("TLS_client_method", a.tls_client_method));
  GC_TRY(lib.bind("SSL_CTX_new", a.ssl_ctx_new));
  GC_TRY(lib.bind("SSL_CTX_free", a.ssl_ctx_free));
  GC_TRY(lib.bind("SSL_new", a.ssl_new));
  GC_TRY(lib.bind("SSL_free", a.ssl_free));
  GC_TRY(lib.bind("SSL_set_fd", a.ssl_set_fd));
  GC_TRY(lib.bind("SSL_ctrl", a.ssl_ctrl));
  GC_TRY(lib.bind("SSL_connect", a.ssl_connect));
  GC_TRY(lib.bind("SSL_get_error", a.ssl_get_error));
  GC_TRY(lib.bind("SSL_get_peer_cert_chain", a.ssl_get_peer_cert_chain));
  GC_TRY(lib.bind("SSL_shutdown", a.ssl_shutdown));
  // Grading: protocol and cipher suite probes, the HSTS request.
  GC_TRY(lib.bind("SSL_CTX_ctrl", a.grade_ssl_ctx_ctrl));
  GC_TRY(lib.bind("SSL_CTX_set_options", a.grade_ssl_ctx_set_options));
  GC_TRY(lib.bind("SSL_CTX_set_security_level", a.grade_ssl_ctx_set_security_level));
  GC_TRY(lib.bind("SSL_CTX_set_cipher_list", a.grade_ssl_ctx_set_cipher_list));
  GC_TRY(lib.bind("SSL_CTX_set_ciphersuites", a.grade_ssl_ctx_set_ciphersuites));
  GC_TRY(lib.bind("SSL_set_cipher_list", a.grade_ssl_set_cipher_list));
  GC_TRY(lib.bind("SSL_get_ciphers", a.grade_ssl_get_ciphers));
  GC_TRY(lib.bind("SSL_get_current_cipher", a.grade_ssl_get_current_cipher));
  GC_TRY(lib.bind("SSL_version", a.grade_ssl_version));
  GC_TRY(lib.bind("SSL_write", a.grade_ssl_write));
  GC_TRY(lib.bind("SSL_read", a.grade_ssl_read));
  GC_TRY(lib.bind("SSL_CIPHER_get_name", a.grade_cipher_get_name));
  GC_TRY(lib.bind("SSL_CIPHER_standard_name", a.grade_cipher_standard_name));
  GC_TRY(lib.bind("SSL_CIPHER_get_bits", a.grade_cipher_get_bits));
  GC_TRY(lib.bind("SSL_CIPHER_get_kx_nid", a.grade_cipher_get_kx_nid));
  GC_TRY(lib.bind("SSL_CIPHER_get_auth_nid", a.grade_cipher_get_auth_nid));
  GC_TRY(lib.bind("SSL_CIPHER_is_aead", a.grade_cipher_is_aead));
  GC_TRY(lib.bind("SSL_CIPHER_get_protocol_id", a.grade_cipher_get_protocol_id));
  // PostgreSQL sessions.
  GC_TRY(lib.bind("SSL_CTX_ctrl", a.pg_ssl_ctx_ctrl));
  GC_TRY(lib.bind("SSL_read", a.pg_ssl_read));
  GC_TRY(lib.bind("SSL_write", a.pg_ssl_write));
  return ok();
}

Result<Loaded> load() {
  // Both come from Debian's libssl3 package. libcrypto is opened by its own name so that each
  // symbol is looked up in the library that defines it.
  GC_ASSIGN_OR_RETURN(DynamicLibrary crypto, DynamicLibrary::open("libcrypto.so.3", "libssl3"));
  GC_ASSIGN_OR_RETURN(DynamicLibrary ssl, DynamicLibrary::open("libssl.so.3", "libssl3"));
  SslApi a;
  GC_TRY(bind_crypto(crypto, a));
  GC_TRY(bind_ssl(ssl, a));
  return Loaded{std::move(crypto), std::move(ssl), a};
}

}  // namespace

Result<const SslApi*> ssl_api() {
  static std::once_flag once;
  // The outcome is kept either way: a missing library stays missing, and retrying dlopen on
  // every scrape would only repeat the same search of the library path.
  static std::optional<Result<Loaded>> loaded;
  std::call_once(once, [] { loaded.emplace(load()); });
  const Result<Loaded>& l = *loaded;
  if (!l) return l.error();
  return &l->api;
}

std::string take_ssl_error(const SslApi& a) {
  unsigned long e = a.err_get_error();
  a.err_clear_error();
  if (e == 0) return "unknown error";
  if (const char* reason = a.err_reason_error_string(e)) return reason;
  char buf[256];
  a.err_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace gc::tls
