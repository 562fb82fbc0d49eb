#include "tests/support/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace mozaiek::test {
namespace {

struct Deleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  void operator()(X509* c) const { X509_free(c); }
  void operator()(BIO* b) const { BIO_free(b); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter>;
using Cert = std::unique_ptr<X509, Deleter>;
using Bio = std::unique_ptr<BIO, Deleter>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what);
}

Key new_key() {
  Key k(EVP_EC_gen("P-256"));
  check(k != nullptr, "EC key generation failed");
  return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  check(ext != nullptr, "bad extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

Cert new_cert(long serial, EVP_PKEY* key, const std::string& organisation,
              const std::string& common_name) {
  Cert c(X509_new());
  X509_set_version(c.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c.get()), 24 * 3600);
  X509_set_pubkey(c.get(), key);
  X509_NAME* name = X509_get_subject_name(c.get());
  auto add = [name](const char* field, const std::string& v) {
    X509_NAME_add_entry_by_txt(name, field, MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(v.c_str()), -1, -1, 0);
  };
  if (!organisation.empty()) add("O", organisation);
  add("CN", common_name);
  return c;
}

void write(const std::string& path, X509* cert, EVP_PKEY* key) {
  Bio out(BIO_new_file(path.c_str(), "w"));
  check(out != nullptr, "cannot write a PEM file");
  if (cert != nullptr)
    check(PEM_write_bio_X509(out.get(), cert) == 1, "cannot write a certificate");
  if (key != nullptr) {
    check(PEM_write_bio_PrivateKey(out.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "cannot write a key");
  }
}

Key read_key(const std::string& path) {
  Bio in(BIO_new_file(path.c_str(), "r"));
  check(in != nullptr, "cannot read a key");
  return Key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
}

Cert read_cert(const std::string& path) {
  Bio in(BIO_new_file(path.c_str(), "r"));
  check(in != nullptr, "cannot read a certificate");
  return Cert(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr));
}

}  // namespace

PemFiles TestPki::make_ca(const std::string& name, const std::string& common_name) {
  Key key = new_key();
  Cert cert = new_cert(serial_++, key.get(), "", common_name);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  add_ext(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_ext(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "cannot sign the CA");
  PemFiles files{dir() + "/" + name + ".crt", dir() + "/" + name + ".key"};
  write(files.certificate, cert.get(), nullptr);
  write(files.key, nullptr, key.get());
  return files;
}

PemFiles TestPki::make_leaf(const std::string& name, const PemFiles& ca,
                            const std::string& organisation, const std::string& common_name,
                            const std::vector<std::string>& alt_names) {
  Key ca_key = read_key(ca.key);
  Cert ca_cert = read_cert(ca.certificate);
  check(ca_key && ca_cert, "cannot read the CA");
  Key key = new_key();
  Cert cert = new_cert(serial_++, key.get(), organisation, common_name);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  add_ext(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), ca_cert.get(), NID_key_usage, "critical,digitalSignature");
  add_ext(cert.get(), ca_cert.get(), NID_ext_key_usage, "serverAuth,clientAuth");
  if (!alt_names.empty()) {
    std::string sans;
    for (const auto& n : alt_names) sans += (sans.empty() ? "" : ",") + n;
    add_ext(cert.get(), ca_cert.get(), NID_subject_alt_name, sans);
  }
  check(X509_sign(cert.get(), ca_key.get(), EVP_sha256()) > 0, "cannot sign a certificate");
  PemFiles files{dir() + "/" + name + ".crt", dir() + "/" + name + ".key"};
  write(files.certificate, cert.get(), nullptr);
  write(files.key, nullptr, key.get());
  return files;
}

}  // namespace mozaiek::test
