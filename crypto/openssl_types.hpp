#pragma once
// Owning handles for the OpenSSL objects we use, so no path leaks one.

#include <memory>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

namespace cbcs::crypto {

template <class T, void (*Free)(T*)>
struct openssl_deleter {
  void operator()(T* p) const noexcept { Free(p); }
};

using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO, BIO_free_all>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509, X509_free>>;
using x509_req_ptr = std::unique_ptr<X509_REQ, openssl_deleter<X509_REQ, X509_REQ_free>>;
using cipher_ctx_ptr =
    std::unique_ptr<EVP_CIPHER_CTX, openssl_deleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, openssl_deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using ext_ptr =
    std::unique_ptr<X509_EXTENSION, openssl_deleter<X509_EXTENSION, X509_EXTENSION_free>>;

// Bytes OpenSSL allocated for us (i2d_*, PEM_bytes_read_bio).
inline void free_openssl_bytes(unsigned char* p) { OPENSSL_free(p); }
using openssl_bytes_ptr =
    std::unique_ptr<unsigned char, openssl_deleter<unsigned char, free_openssl_bytes>>;

// A stack of certificates with the certificates in it.
inline void free_x509_stack(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }
using x509_stack_ptr =
    std::unique_ptr<STACK_OF(X509), openssl_deleter<STACK_OF(X509), free_x509_stack>>;

// A stack of extensions with the extensions in it.
inline void free_extension_stack(STACK_OF(X509_EXTENSION) * s) {
  sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
}
using extension_stack_ptr =
    std::unique_ptr<STACK_OF(X509_EXTENSION),
                    openssl_deleter<STACK_OF(X509_EXTENSION), free_extension_stack>>;

}  // namespace cbcs::crypto
