// SPDX-License-Identifier: MIT
// tls/ssl_api.h: the OpenSSL 3 functions groundctl uses for TLS and X.509 (the certificate
// collector, the ACME client, TLS grading), from libssl.so.3 and libcrypto.so.3 opened at run
// time (base/dynamic_library.h says why), plus unique_ptr owners for the objects they return.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>

#include "base/result.h"

namespace gc::tls {

// Function pointers named after the OpenSSL functions without their prefix. Where OpenSSL 3's
// headers offer only a macro (sk_X509_num, SSL_set_tlsext_host_name), the function under it is
// bound (OPENSSL_sk_num, SSL_ctrl).
struct SslApi {
  // libcrypto: reading certificates.
  decltype(&::BIO_new_mem_buf) bio_new_mem_buf = nullptr;
  decltype(&::BIO_free) bio_free = nullptr;
  decltype(&::PEM_read_bio_X509) pem_read_bio_x509 = nullptr;
  decltype(&::X509_free) x509_free = nullptr;
  decltype(&::X509_up_ref) x509_up_ref = nullptr;
  decltype(&::X509_get0_notBefore) x509_get0_not_before = nullptr;
  decltype(&::X509_get0_notAfter) x509_get0_not_after = nullptr;
  decltype(&::ASN1_TIME_to_tm) asn1_time_to_tm = nullptr;
  decltype(&::X509_get_subject_name) x509_get_subject_name = nullptr;
  decltype(&::X509_get_issuer_name) x509_get_issuer_name = nullptr;
  decltype(&::X509_NAME_get_text_by_NID) x509_name_get_text_by_nid = nullptr;
  decltype(&::X509_get_ext_d2i) x509_get_ext_d2i = nullptr;
  decltype(&::GENERAL_NAMES_free) general_names_free = nullptr;
  decltype(&::ASN1_STRING_get0_data) asn1_string_get0_data = nullptr;
  decltype(&::ASN1_STRING_length) asn1_string_length = nullptr;
  decltype(&::X509_check_host) x509_check_host = nullptr;
  decltype(&::X509_check_ip_asc) x509_check_ip_asc = nullptr;
  // libcrypto: stacks (the typed sk_X509_* are macros over these).
  decltype(&::OPENSSL_sk_num) sk_num = nullptr;
  decltype(&::OPENSSL_sk_value) sk_value = nullptr;
  decltype(&::OPENSSL_sk_new_null) sk_new_null = nullptr;
  decltype(&::OPENSSL_sk_push) sk_push = nullptr;
  decltype(&::OPENSSL_sk_free) sk_free = nullptr;
  // libcrypto: chain verification.
  decltype(&::X509_STORE_new) store_new = nullptr;
  decltype(&::X509_STORE_free) store_free = nullptr;
  decltype(&::X509_STORE_set_default_paths) store_set_default_paths = nullptr;
  decltype(&::X509_STORE_load_file) store_load_file = nullptr;
  decltype(&::X509_STORE_CTX_new) store_ctx_new = nullptr;
  decltype(&::X509_STORE_CTX_free) store_ctx_free = nullptr;
  decltype(&::X509_STORE_CTX_init) store_ctx_init = nullptr;
  decltype(&::X509_STORE_CTX_set_purpose) store_ctx_set_purpose = nullptr;
  decltype(&::X509_STORE_CTX_get_error) store_ctx_get_error = nullptr;
  decltype(&::X509_verify_cert) verify_cert = nullptr;
  decltype(&::X509_verify_cert_error_string) verify_cert_error_string = nullptr;
  // libcrypto: the thread's error queue.
  decltype(&::ERR_get_error) err_get_error = nullptr;
  decltype(&::ERR_error_string_n) err_error_string_n = nullptr;
  decltype(&::ERR_reason_error_string) err_reason_error_string = nullptr;
  decltype(&::ERR_clear_error) err_clear_error = nullptr;
  // Grading: public keys, signature algorithms and names of the certificate a server presents.
  decltype(&::EVP_PKEY_free) grade_pkey_free = nullptr;
  decltype(&::EVP_PKEY_get_base_id) grade_pkey_get_base_id = nullptr;
  decltype(&::EVP_PKEY_get_bits) grade_pkey_get_bits = nullptr;
  decltype(&::EVP_PKEY_get_group_name) grade_pkey_get_group_name = nullptr;
  decltype(&::X509_get0_pubkey) grade_x509_get0_pubkey = nullptr;
  decltype(&::X509_get_signature_nid) grade_x509_get_signature_nid = nullptr;
  decltype(&::X509_NAME_cmp) grade_x509_name_cmp = nullptr;
  decltype(&::OBJ_nid2sn) grade_obj_nid2sn = nullptr;
  // ACME: keys, ES256 signatures, CSRs and certificate identifiers for the ACME client.
  decltype(&::EVP_PKEY_Q_keygen) acme_pkey_q_keygen = nullptr;
  decltype(&::EVP_PKEY_free) acme_pkey_free = nullptr;
  decltype(&::EVP_PKEY_get_bn_param) acme_pkey_get_bn_param = nullptr;
  decltype(&::EVP_PKEY_get_base_id) acme_pkey_get_base_id = nullptr;
  decltype(&::EVP_PKEY_get_bits) acme_pkey_get_bits = nullptr;
  decltype(&::BN_bn2binpad) acme_bn_bn2binpad = nullptr;
  decltype(&::BN_num_bits) acme_bn_num_bits = nullptr;
  decltype(&::BN_free) acme_bn_free = nullptr;
  decltype(&::BIO_new) acme_bio_new = nullptr;
  decltype(&::BIO_s_mem) acme_bio_s_mem = nullptr;
  decltype(&::BIO_ctrl) acme_bio_ctrl = nullptr;
  decltype(&::PEM_write_bio_PrivateKey) acme_pem_write_bio_private_key = nullptr;
  decltype(&::PEM_read_bio_PrivateKey) acme_pem_read_bio_private_key = nullptr;
  decltype(&::EVP_MD_CTX_new) acme_md_ctx_new = nullptr;
  decltype(&::EVP_MD_CTX_free) acme_md_ctx_free = nullptr;
  decltype(&::EVP_DigestSignInit) acme_digest_sign_init = nullptr;
  decltype(&::EVP_DigestSign) acme_digest_sign = nullptr;
  decltype(&::EVP_sha256) acme_sha256 = nullptr;
  decltype(&::d2i_ECDSA_SIG) acme_d2i_ecdsa_sig = nullptr;
  decltype(&::ECDSA_SIG_get0) acme_ecdsa_sig_get0 = nullptr;
  decltype(&::ECDSA_SIG_free) acme_ecdsa_sig_free = nullptr;
  decltype(&::X509_REQ_new) acme_req_new = nullptr;
  decltype(&::X509_REQ_free) acme_req_free = nullptr;
  decltype(&::X509_REQ_set_version) acme_req_set_version = nullptr;
  decltype(&::X509_REQ_get_subject_name) acme_req_get_subject_name = nullptr;
  decltype(&::X509_NAME_add_entry_by_txt) acme_name_add_entry_by_txt = nullptr;
  decltype(&::X509_REQ_set_pubkey) acme_req_set_pubkey = nullptr;
  decltype(&::X509V3_EXT_conf_nid) acme_ext_conf_nid = nullptr;
  decltype(&::X509_REQ_add_extensions) acme_req_add_extensions = nullptr;
  decltype(&::X509_EXTENSION_free) acme_extension_free = nullptr;
  decltype(&::X509_REQ_sign) acme_req_sign = nullptr;
  decltype(&::i2d_X509_REQ) acme_i2d_x509_req = nullptr;
  decltype(&::X509_get_serialNumber) acme_x509_get_serial_number = nullptr;
  decltype(&::X509_get0_authority_key_id) acme_x509_get0_authority_key_id = nullptr;
  decltype(&::X509_check_private_key) acme_x509_check_private_key = nullptr;
  // libssl: the client handshake.
  decltype(&::TLS_client_method) tls_client_method = nullptr;
  decltype(&::SSL_CTX_new) ssl_ctx_new = nullptr;
  decltype(&::SSL_CTX_free) ssl_ctx_free = nullptr;
  decltype(&::SSL_new) ssl_new = nullptr;
  decltype(&::SSL_free) ssl_free = nullptr;
  decltype(&::SSL_set_fd) ssl_set_fd = nullptr;
  decltype(&::SSL_ctrl) ssl_ctrl = nullptr;
  decltype(&::SSL_connect) ssl_connect = nullptr;
  decltype(&::SSL_get_error) ssl_get_error = nullptr;
  decltype(&::SSL_get_peer_cert_chain) ssl_get_peer_cert_chain = nullptr;
  decltype(&::SSL_shutdown) ssl_shutdown = nullptr;
  // Grading: one handshake per protocol version and cipher suite, then an HTTP request.
  decltype(&::SSL_CTX_ctrl) grade_ssl_ctx_ctrl = nullptr;
  decltype(&::SSL_CTX_set_options) grade_ssl_ctx_set_options = nullptr;
  decltype(&::SSL_CTX_set_security_level) grade_ssl_ctx_set_security_level = nullptr;
  decltype(&::SSL_CTX_set_cipher_list) grade_ssl_ctx_set_cipher_list = nullptr;
  decltype(&::SSL_CTX_set_ciphersuites) grade_ssl_ctx_set_ciphersuites = nullptr;
  decltype(&::SSL_set_cipher_list) grade_ssl_set_cipher_list = nullptr;
  decltype(&::SSL_get_ciphers) grade_ssl_get_ciphers = nullptr;
  decltype(&::SSL_get_current_cipher) grade_ssl_get_current_cipher = nullptr;
  decltype(&::SSL_version) grade_ssl_version = nullptr;
  decltype(&::SSL_write) grade_ssl_write = nullptr;
  decltype(&::SSL_read) grade_ssl_read = nullptr;
  decltype(&::SSL_CIPHER_get_name) grade_cipher_get_name = nullptr;
  decltype(&::SSL_CIPHER_standard_name) grade_cipher_standard_name = nullptr;
  decltype(&::SSL_CIPHER_get_bits) grade_cipher_get_bits = nullptr;
  decltype(&::SSL_CIPHER_get_kx_nid) grade_cipher_get_kx_nid = nullptr;
  decltype(&::SSL_CIPHER_get_auth_nid) grade_cipher_get_auth_nid = nullptr;
  decltype(&::SSL_CIPHER_is_aead) grade_cipher_is_aead = nullptr;
  decltype(&::SSL_CIPHER_get_protocol_id) grade_cipher_get_protocol_id = nullptr;
  // PostgreSQL sessions (backup/pg_client.cc): the minimum version, then the session's data.
  decltype(&::SSL_CTX_ctrl) pg_ssl_ctx_ctrl = nullptr;
  decltype(&::SSL_read) pg_ssl_read = nullptr;
  decltype(&::SSL_write) pg_ssl_write = nullptr;
};

// Loads both libraries on first use (thread-safe) and keeps them for the life of the process.
// Unlike crypto's openssl(), a missing or too old library is an Error, kNotFound ("libssl.so.3
// cannot be loaded ...; install it: apt-get install libssl3"), returned on every call: a
// monitor check that cannot run must not stop the daemon.
Result<const SslApi*> ssl_api();

// The oldest error on this thread's OpenSSL queue, as its reason text ("unknown error" when
// empty), then empties the queue so that the next call on this thread sees no stale entries.
std::string take_ssl_error(const SslApi& a);

// Owners whose deleter is the bound free function: `X509Ptr p(raw, api.x509_free)`.
using X509Ptr = std::unique_ptr<X509, decltype(SslApi::x509_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(SslApi::bio_free)>;
using StorePtr = std::unique_ptr<X509_STORE, decltype(SslApi::store_free)>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, decltype(SslApi::store_ctx_free)>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, decltype(SslApi::ssl_ctx_free)>;
using SslPtr = std::unique_ptr<SSL, decltype(SslApi::ssl_free)>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, decltype(SslApi::general_names_free)>;
using StackPtr = std::unique_ptr<OPENSSL_STACK, decltype(SslApi::sk_free)>;

}  // namespace gc::tls
