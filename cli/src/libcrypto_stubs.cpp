// OpenSSL's libcrypto functions as `roar` calls them (the SHA-256 of
// `--hash sha256`, SigV4 for `roar status --remote`, the roar CA for TLS
// interception), forwarding to the real libcrypto loaded on first use (see
// roar/collector/lazy_library.hpp). Loading and relocating libcrypto costs
// every process about 4 ms and 150 page faults on start-up, while most roar
// commands never call it; only the `roar` executable is built with this
// file (roar-proxy, which signs every request, links libcrypto itself).
// Signatures are OpenSSL's headers' (the compiler checks them); a function
// roar starts using must be added here, or the link of `roar` fails.
#include "roar/collector/lazy_library_stubs.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdarg>
#include <cstring>

// X(return type, name, (parameters), (arguments)); the one variadic
// function (ROAR_LIBCRYPTO_VARIADIC) is defined by hand below.
#define ROAR_LIBCRYPTO_FUNCTIONS(X)                                                                                    \
    X(int, ASN1_TIME_compare, (const ASN1_TIME* a, const ASN1_TIME* b), (a, b))                                        \
    X(long, BIO_ctrl, (BIO * bio, int cmd, long larg, void* parg), (bio, cmd, larg, parg))                             \
    X(int, BIO_free, (BIO * bio), (bio))                                                                               \
    X(BIO*, BIO_new, (const BIO_METHOD* type), (type))                                                                 \
    X(BIO*, BIO_new_mem_buf, (const void* buf, int len), (buf, len))                                                   \
    X(const BIO_METHOD*, BIO_s_mem, (void), ())                                                                        \
    X(BIGNUM*, BN_bin2bn, (const unsigned char* s, int len, BIGNUM* ret), (s, len, ret))                               \
    X(void, BN_free, (BIGNUM * bn), (bn))                                                                              \
    X(ASN1_INTEGER*, BN_to_ASN1_INTEGER, (const BIGNUM* bn, ASN1_INTEGER* ai), (bn, ai))                               \
    X(void, ERR_clear_error, (void), ())                                                                               \
    X(void, ERR_error_string_n, (unsigned long e, char* buf, size_t len), (e, buf, len))                               \
    X(unsigned long, ERR_get_error, (void), ())                                                                        \
    X(int, EVP_Digest,                                                                                                 \
      (const void* data, size_t count, unsigned char* md, unsigned int* size, const EVP_MD* type, ENGINE* impl),       \
      (data, count, md, size, type, impl))                                                                             \
    X(int, EVP_DigestFinal_ex, (EVP_MD_CTX * ctx, unsigned char* md, unsigned int* s), (ctx, md, s))                   \
    X(int, EVP_DigestInit_ex, (EVP_MD_CTX * ctx, const EVP_MD* type, ENGINE* impl), (ctx, type, impl))                 \
    X(int, EVP_DigestUpdate, (EVP_MD_CTX * ctx, const void* d, size_t cnt), (ctx, d, cnt))                             \
    X(void, EVP_MAC_CTX_free, (EVP_MAC_CTX * ctx), (ctx))                                                              \
    X(EVP_MAC_CTX*, EVP_MAC_CTX_new, (EVP_MAC * mac), (mac))                                                           \
    X(int, EVP_MAC_CTX_set_params, (EVP_MAC_CTX * ctx, const OSSL_PARAM params[]), (ctx, params))                      \
    X(EVP_MAC*, EVP_MAC_fetch, (OSSL_LIB_CTX * libctx, const char* algorithm, const char* properties),                 \
      (libctx, algorithm, properties))                                                                                 \
    X(int, EVP_MAC_final, (EVP_MAC_CTX * ctx, unsigned char* out, size_t* outl, size_t outsize),                       \
      (ctx, out, outl, outsize))                                                                                       \
    X(void, EVP_MAC_free, (EVP_MAC * mac), (mac))                                                                      \
    X(int, EVP_MAC_init, (EVP_MAC_CTX * ctx, const unsigned char* key, size_t keylen, const OSSL_PARAM params[]),      \
      (ctx, key, keylen, params))                                                                                      \
    X(int, EVP_MAC_update, (EVP_MAC_CTX * ctx, const unsigned char* data, size_t datalen), (ctx, data, datalen))       \
    X(void, EVP_MD_CTX_free, (EVP_MD_CTX * ctx), (ctx))                                                                \
    X(EVP_MD_CTX*, EVP_MD_CTX_new, (void), ())                                                                         \
    X(EVP_MD*, EVP_MD_fetch, (OSSL_LIB_CTX * ctx, const char* algorithm, const char* properties),                      \
      (ctx, algorithm, properties))                                                                                    \
    X(void, EVP_MD_free, (EVP_MD * md), (md))                                                                          \
    X(void, EVP_PKEY_free, (EVP_PKEY * pkey), (pkey))                                                                  \
    X(const EVP_MD*, EVP_sha256, (void), ())                                                                           \
    X(unsigned char*, HMAC,                                                                                            \
      (const EVP_MD* evp_md, const void* key, int key_len, const unsigned char* data, size_t data_len,                 \
       unsigned char* md, unsigned int* md_len),                                                                       \
      (evp_md, key, key_len, data, data_len, md, md_len))                                                              \
    X(EVP_PKEY*, PEM_read_bio_PrivateKey, (BIO * bio, EVP_PKEY * *x, pem_password_cb * cb, void* u), (bio, x, cb, u))  \
    X(X509*, PEM_read_bio_X509, (BIO * bio, X509 * *x, pem_password_cb * cb, void* u), (bio, x, cb, u))                \
    X(int, PEM_write_bio_PrivateKey,                                                                                   \
      (BIO * bio, const EVP_PKEY* x, const EVP_CIPHER* enc, const unsigned char* kstr, int klen, pem_password_cb* cb,  \
       void* u),                                                                                                       \
      (bio, x, enc, kstr, klen, cb, u))                                                                                \
    X(int, PEM_write_bio_X509, (BIO * bio, const X509* x), (bio, x))                                                   \
    X(OSSL_PARAM, OSSL_PARAM_construct_end, (void), ())                                                                \
    X(OSSL_PARAM, OSSL_PARAM_construct_utf8_string, (const char* key, char* buf, size_t bsize), (key, buf, bsize))     \
    X(int, RAND_bytes, (unsigned char* buf, int num), (buf, num))                                                      \
    X(unsigned char*, SHA256, (const unsigned char* d, size_t n, unsigned char* md), (d, n, md))                       \
    X(X509_EXTENSION*, X509V3_EXT_conf_nid,                                                                            \
      (LHASH_OF(CONF_VALUE) * conf, X509V3_CTX * ctx, int ext_nid, const char* value), (conf, ctx, ext_nid, value))    \
    X(void, X509V3_set_ctx,                                                                                            \
      (X509V3_CTX * ctx, X509 * issuer, X509 * subject, X509_REQ * req, X509_CRL * crl, int flags),                    \
      (ctx, issuer, subject, req, crl, flags))                                                                         \
    X(void, X509_EXTENSION_free, (X509_EXTENSION * ext), (ext))                                                        \
    X(int, X509_NAME_add_entry_by_txt,                                                                                 \
      (X509_NAME * name, const char* field, int type, const unsigned char* bytes, int len, int loc, int set),          \
      (name, field, type, bytes, len, loc, set))                                                                       \
    X(int, X509_add_ext, (X509 * x, X509_EXTENSION * ex, int loc), (x, ex, loc))                                       \
    X(int, X509_check_private_key, (const X509* x509, const EVP_PKEY* pkey), (x509, pkey))                             \
    X(int, X509_cmp_time, (const ASN1_TIME* s, time_t* t), (s, t))                                                     \
    X(void, X509_free, (X509 * x), (x))                                                                                \
    X(const ASN1_TIME*, X509_get0_notAfter, (const X509* x), (x))                                                      \
    X(const char*, X509_get_default_cert_file, (void), ())                                                             \
    X(ASN1_INTEGER*, X509_get_serialNumber, (X509 * x), (x))                                                           \
    X(X509_NAME*, X509_get_subject_name, (const X509* x), (x))                                                         \
    X(ASN1_TIME*, X509_getm_notAfter, (const X509* x), (x))                                                            \
    X(ASN1_TIME*, X509_getm_notBefore, (const X509* x), (x))                                                           \
    X(ASN1_TIME*, X509_gmtime_adj, (ASN1_TIME * s, long adj), (s, adj))                                                \
    X(X509*, X509_new, (void), ())                                                                                     \
    X(int, X509_set1_notAfter, (X509 * x, const ASN1_TIME* tm), (x, tm))                                               \
    X(int, X509_set_issuer_name, (X509 * x, const X509_NAME* name), (x, name))                                         \
    X(int, X509_set_pubkey, (X509 * x, EVP_PKEY * pkey), (x, pkey))                                                    \
    X(int, X509_set_version, (X509 * x, long version), (x, version))                                                   \
    X(int, X509_sign, (X509 * x, EVP_PKEY * pkey, const EVP_MD* md), (x, pkey, md))
#define ROAR_LIBCRYPTO_VARIADIC(V) V(EVP_PKEY_Q_keygen)

ROAR_LAZY_LIBRARY(libcrypto, "libcrypto.so.3", "libssl3", ROAR_LIBCRYPTO_FUNCTIONS, ROAR_LIBCRYPTO_VARIADIC)

// The key type decides what follows it (EVP_PKEY_Q_keygen(3)): a curve name
// for "EC", a size_t of bits for "RSA", nothing for the rest.
extern "C" EVP_PKEY* EVP_PKEY_Q_keygen(OSSL_LIB_CTX* libctx, const char* propq, const char* type, ...)
{
    auto* keygen = real<decltype(::EVP_PKEY_Q_keygen)>(k_EVP_PKEY_Q_keygen);
    va_list args;
    va_start(args, type);
    EVP_PKEY* key;
    if (type != nullptr && std::strcmp(type, "EC") == 0) {
        key = keygen(libctx, propq, type, va_arg(args, char*));
    } else if (type != nullptr && std::strcmp(type, "RSA") == 0) {
        key = keygen(libctx, propq, type, va_arg(args, size_t));
    } else {
        key = keygen(libctx, propq, type);
    }
    va_end(args);
    return key;
}
