// tests/tls_test_pki.hpp — a throwaway PKI for TLS tests, generated at test time.
//
//   auto pki = corio_test::test_pki::create();   // CA + server certificate for localhost
//   tls_context::client({.ca_file = pki.ca_file});
//   tls_context::server({.certificate_chain_file = pki.cert_file, .private_key_file = pki.key_file});
//
// Everything (EC P-256 keys, X509 v3 certificates) is made with OpenSSL's C API and written as
// PEM into a fresh mkdtemp directory that the object removes when destroyed: no key is ever
// committed. The server certificate's SubjectAltName covers DNS:localhost, IP:127.0.0.1 and
// IP:::1; issue() makes more leaf certificates from the same CA (wrong names, expired...).
// Failures throw std::runtime_error. Move-only.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace corio_test {

class test_pki {
public:
    /// A leaf certificate and its key, as PEM files.
    struct leaf_files {
        std::string cert_file;
        std::string key_file;
    };
    struct leaf_options {
        std::string common_name = "localhost";
        std::string subject_alt_names = "DNS:localhost,IP:127.0.0.1,IP:::1";  // OpenSSL config syntax
        long valid_from_seconds = -3600;             // relative to now
        long valid_until_seconds = 30L * 24 * 3600;  // relative to now
        std::string extended_key_usage = "serverAuth";  // "clientAuth" for a client certificate (mTLS)
    };

    /// A CA (CN "corio test CA", basicConstraints CA:TRUE) and a server certificate signed by it.
    static test_pki create() {
        test_pki pki;
        char pattern[] = "/tmp/corio-tls-XXXXXX";
        if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("test_pki: mkdtemp failed");
        pki.dir = pattern;
        pki.ca_key_ = new_key();
        pki.ca_cert_ = pki.make_certificate(*pki.ca_key_, "corio test CA", -3600, 30L * 24 * 3600,
                                            {{NID_basic_constraints, "critical,CA:TRUE"},
                                             {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                             {NID_subject_key_identifier, "hash"}});
        pki.ca_file = pki.dir + "/ca.pem";
        write_pem(pki.ca_file, [&](BIO* bio) { return PEM_write_bio_X509(bio, pki.ca_cert_.get()); });
        leaf_files server = pki.issue("server", {});
        pki.cert_file = server.cert_file;
        pki.key_file = server.key_file;
        return pki;
    }

    /// A new leaf certificate (serverAuth) signed by the CA, written as `<name>.crt`/`<name>.key`.
    leaf_files issue(const std::string& name, const leaf_options& options) const {
        const key_ptr key = new_key();
        const std::string san = options.subject_alt_names;
        const cert_ptr cert = make_certificate(*key, options.common_name, options.valid_from_seconds,
                                               options.valid_until_seconds,
                                               {{NID_basic_constraints, "critical,CA:FALSE"},
                                                {NID_key_usage, "critical,digitalSignature"},
                                                {NID_ext_key_usage, options.extended_key_usage.c_str()},
                                                {NID_subject_key_identifier, "hash"},
                                                {NID_authority_key_identifier, "keyid:always"},
                                                {NID_subject_alt_name, san.c_str()}});
        leaf_files files{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
        write_pem(files.cert_file, [&](BIO* bio) { return PEM_write_bio_X509(bio, cert.get()); });
        write_pem(files.key_file, [&](BIO* bio) {
            return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
        });
        return files;
    }

    test_pki(test_pki&& other) noexcept
        : dir(std::exchange(other.dir, {})), ca_file(std::move(other.ca_file)), cert_file(std::move(other.cert_file)),
          key_file(std::move(other.key_file)), ca_key_(std::move(other.ca_key_)), ca_cert_(std::move(other.ca_cert_)) {}
    test_pki& operator=(test_pki&&) = delete;
    ~test_pki() {
        std::error_code ignored;
        if (!dir.empty()) std::filesystem::remove_all(dir, ignored);
    }

    std::string dir;        // the temporary directory holding every file below; "" when moved-from
    std::string ca_file;    // the CA certificate (PEM): a client's ca_file
    std::string cert_file;  // the server certificate (PEM, leaf only)
    std::string key_file;   // the server's private key (PEM)

private:
    struct key_free {
        void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
    };
    struct cert_free {
        void operator()(X509* c) const noexcept { X509_free(c); }
    };
    using key_ptr = std::unique_ptr<EVP_PKEY, key_free>;
    using cert_ptr = std::unique_ptr<X509, cert_free>;
    struct extension {
        int nid;
        const char* value;
    };

    test_pki() = default;

    static void check(bool ok, const char* what) {
        if (!ok) throw std::runtime_error(std::string("test_pki: ") + what + " failed");
    }

    static key_ptr new_key() {
        key_ptr key(EVP_EC_gen("P-256"));
        check(key != nullptr, "EVP_EC_gen");
        return key;
    }

    template <class Write>
    static void write_pem(const std::string& path, Write write) {
        BIO* bio = BIO_new_file(path.c_str(), "w");
        check(bio != nullptr, "BIO_new_file");
        const int ok = write(bio);
        BIO_free(bio);
        check(ok == 1, "PEM write");
    }

    /// A certificate for `key`, signed by the CA (self-signed while the CA is being made).
    cert_ptr make_certificate(EVP_PKEY& key, const std::string& common_name, long valid_from, long valid_until,
                              std::initializer_list<extension> extensions) const {
        cert_ptr cert(X509_new());
        check(cert != nullptr, "X509_new");
        X509* x = cert.get();
        static long serial = 1;
        check(X509_set_version(x, 2) == 1, "X509_set_version");  // v3
        check(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) == 1, "serial");
        check(X509_gmtime_adj(X509_getm_notBefore(x), valid_from) != nullptr, "notBefore");
        check(X509_gmtime_adj(X509_getm_notAfter(x), valid_until) != nullptr, "notAfter");
        check(X509_set_pubkey(x, &key) == 1, "X509_set_pubkey");
        X509_NAME* name = X509_get_subject_name(x);
        check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                         -1, -1, 0) == 1,
              "subject name");
        X509* issuer = ca_cert_ ? ca_cert_.get() : x;
        EVP_PKEY* issuer_key = ca_cert_ ? ca_key_.get() : &key;
        check(X509_set_issuer_name(x, X509_get_subject_name(issuer)) == 1, "issuer name");
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
        for (const extension& e : extensions) {
            X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, e.nid, e.value);
            check(ext != nullptr, "X509V3_EXT_conf_nid");
            const int added = X509_add_ext(x, ext, -1);
            X509_EXTENSION_free(ext);
            check(added == 1, "X509_add_ext");
        }
        check(X509_sign(x, issuer_key, EVP_sha256()) > 0, "X509_sign");
        return cert;
    }

    key_ptr ca_key_;    // signs every leaf; only in memory
    cert_ptr ca_cert_;  // null while the CA itself is being made
};

}  // namespace corio_test
