// SPDX-License-Identifier: MIT
#include "provision/placeholder_cert.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/random.h>

#include <memory>
#include <mutex>
#include <optional>

#include "base/atomic_file.h"
#include "base/dynamic_library.h"
#include "base/unique_fd.h"

namespace gc::provision {
namespace {

// libcrypto is opened at run time like everywhere in groundctl (base/dynamic_library.h).
struct Api {
  decltype(&::EVP_PKEY_Q_keygen) q_keygen = nullptr;
  decltype(&::EVP_PKEY_free) pkey_free = nullptr;
  decltype(&::X509_new) x509_new = nullptr;
  decltype(&::X509_free) x509_free = nullptr;
  decltype(&::X509_set_version) set_version = nullptr;
  decltype(&::X509_get_serialNumber) serial = nullptr;
  decltype(&::ASN1_INTEGER_set) asn1_integer_set = nullptr;
  decltype(&::X509_getm_notBefore) not_before = nullptr;
  decltype(&::X509_getm_notAfter) not_after = nullptr;
  decltype(&::X509_gmtime_adj) gmtime_adj = nullptr;
  decltype(&::X509_get_subject_name) subject_name = nullptr;
  decltype(&::X509_NAME_add_entry_by_txt) name_add = nullptr;
  decltype(&::X509_set_issuer_name) set_issuer = nullptr;
  decltype(&::X509_set_pubkey) set_pubkey = nullptr;
  decltype(&::X509V3_EXT_conf_nid) ext_conf_nid = nullptr;
  decltype(&::X509_add_ext) add_ext = nullptr;
  decltype(&::X509_EXTENSION_free) ext_free = nullptr;
  decltype(&::X509_sign) sign = nullptr;
  decltype(&::EVP_sha256) sha256 = nullptr;
  decltype(&::BIO_new) bio_new = nullptr;
  decltype(&::BIO_s_mem) bio_s_mem = nullptr;
  decltype(&::BIO_ctrl) bio_ctrl = nullptr;
  decltype(&::BIO_free) bio_free = nullptr;
  decltype(&::PEM_write_bio_X509) pem_x509 = nullptr;
  decltype(&::PEM_write_bio_PrivateKey) pem_key = nullptr;
};

struct Loaded {
  DynamicLibrary lib;
  Api api;
};

Result<Loaded> load() {
  GC_ASSIGN_OR_RETURN(DynamicLibrary lib, DynamicLibrary::open("libcrypto.so.3", "libssl3"));
  Api a;
  GC_TRY(lib.bind("EVP_PKEY_Q_keygen", a.q_keygen));
  GC_TRY(lib.bind("EVP_PKEY_free", a.pkey_free));
  GC_TRY(lib.bind("X509_new", a.x509_new));
  GC_TRY(lib.bind("X509_free", a.x509_free));
  GC_TRY(lib.bind("X509_set_version", a.set_version));
  GC_TRY(lib.bind("X509_get_serialNumber", a.serial));
  GC_TRY(lib.bind("ASN1_INTEGER_set", a.asn1_integer_set));
  GC_TRY(lib.bind("X509_getm_notBefore", a.not_before));
  GC_TRY(lib.bind("X509_getm_notAfter", a.not_after));
  GC_TRY(lib.bind("X509_gmtime_adj", a.gmtime_adj));
  GC_TRY(lib.bind("X509_get_subject_name", a.subject_name));
  GC_TRY(lib.bind("X509_NAME_add_entry_by_txt", a.name_add));
  GC_TRY(lib.bind("X509_set_issuer_name", a.set_issuer));
  GC_TRY(lib.bind("X509_set_pubkey", a.set_pubkey));
  GC_TRY(lib.bind("X509V3_EXT_conf_nid", a.ext_conf_nid));
  GC_TRY(lib.bind("X509_add_ext", a.add_ext));
  GC_TRY(lib.bind("X509_EXTENSION_free", a.ext_free));
  GC_TRY(lib.bind("X509_sign", a.sign));
  GC_TRY(lib.bind("EVP_sha256", a.sha256));
  GC_TRY(lib.bind("BIO_new", a.bio_new));
  GC_TRY(lib.bind("BIO_s_mem", a.bio_s_mem));
  GC_TRY(lib.bind("BIO_ctrl", a.bio_ctrl));
  GC_TRY(lib.bind("BIO_free", a.bio_free));
  GC_TRY(lib.bind("PEM_write_bio_X509", a.pem_x509));
  GC_TRY(lib.bind("PEM_write_bio_PrivateKey", a.pem_key));
  return Loaded{std::move(lib), a};
}

Result<const Api*> api() {
  static std::mutex mu;
  static std::optional<Loaded> loaded;
  std::lock_guard lock(mu);
  if (!loaded) {
    GC_ASSIGN_OR_RETURN(Loaded l, load());
    loaded.emplace(std::move(l));
  }
  return &loaded->api;
}

Error openssl_error(const std::string& what) {
  return make_error(Errc::kInternal, "placeholder certificate: " + what + " failed");
}

// Runs `write` against a memory BIO and returns what it wrote.
template <typename Fn>
Result<std::string> to_pem(const Api& a, Fn write) {
  std::unique_ptr<BIO, decltype(a.bio_free)> bio(a.bio_new(a.bio_s_mem()), a.bio_free);
  if (!bio || write(bio.get()) != 1) return openssl_error("PEM encoding");
  char* data = nullptr;
  long n = a.bio_ctrl(bio.get(), BIO_CTRL_INFO, 0, &data);  // BIO_get_mem_data.
  if (n <= 0 || data == nullptr) return openssl_error("PEM encoding");
  return std::string(data, static_cast<std::size_t>(n));
}

Status write_with_dirs(const std::string& path, const std::string& data, int mode) {
  std::size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0)
    GC_TRY(make_directories(path.substr(0, slash), 0700));
  return write_file_atomic(path, data, mode);
}

}  // namespace

Status write_placeholder_cert(const std::string& domain, const std::string& cert_path,
                              const std::string& key_path) {
  GC_ASSIGN_OR_RETURN(const Api* ap, api());
  const Api& a = *ap;
  std::unique_ptr<EVP_PKEY, decltype(a.pkey_free)> key(a.q_keygen(nullptr, nullptr, "EC", "P-256"),
                                                       a.pkey_free);
  if (!key) return openssl_error("EC P-256 key generation");
  std::unique_ptr<X509, decltype(a.x509_free)> cert(a.x509_new(), a.x509_free);
  if (!cert) return openssl_error("X509_new");
  long serial = 0;
  if (::getrandom(&serial, sizeof serial, 0) != sizeof serial) {
    return sys_error("getrandom", "placeholder certificate serial", errno);
  }
  serial &= 0x7fffffffffffffffL;  // A positive serial number (RFC 5280 4.1.2.2).
  X509_NAME* name = a.subject_name(cert.get());
  const auto* cn = reinterpret_cast<const unsigned char*>(domain.c_str());
  bool ok = a.set_version(cert.get(), 2) == 1 &&  // X.509 v3.
            a.asn1_integer_set(a.serial(cert.get()), serial == 0 ? 1 : serial) == 1 &&
            a.gmtime_adj(a.not_before(cert.get()), 0) != nullptr &&
            a.gmtime_adj(a.not_after(cert.get()), 30L * 24 * 3600) != nullptr &&
            a.name_add(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0) == 1 &&
            a.set_issuer(cert.get(), name) == 1 && a.set_pubkey(cert.get(), key.get()) == 1;
  if (!ok) return openssl_error("building the certificate");
  std::string san = "DNS:" + domain;
  X509_EXTENSION* ext = a.ext_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str());
  if (ext == nullptr) return openssl_error("subjectAltName");
  int added = a.add_ext(cert.get(), ext, -1);
  a.ext_free(ext);
  if (added != 1) return openssl_error("subjectAltName");
  if (a.sign(cert.get(), key.get(), a.sha256()) <= 0) return openssl_error("signing");

  GC_ASSIGN_OR_RETURN(std::string key_pem, to_pem(a, [&](BIO* b) {
                        return a.pem_key(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
                      }));
  GC_ASSIGN_OR_RETURN(std::string cert_pem,
                      to_pem(a, [&](BIO* b) { return a.pem_x509(b, cert.get()); }));
  // The key first: a certificate without its key would make nginx -t fail.
  GC_TRY(write_with_dirs(key_path, key_pem, 0600));
  return write_with_dirs(cert_path, cert_pem, 0644);
}

}  // namespace gc::provision
