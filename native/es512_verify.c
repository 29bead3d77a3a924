/*
 * Optional ES512 (ECDSA P-521 + SHA-512) verifier linked against the system's libcrypto (issue 14 target 6). Node's
 * bundled OpenSSL verifies P-521 several times slower than a distribution's build on this machine class; this module
 * lets the verifier use the system library instead. It answers exactly what node:crypto answers: the caller keeps
 * node:crypto as the fallback (module missing, EMBLEM_NATIVE_ES512=0) and a differential test compares both.
 *
 * JavaScript API:
 *   importKey(x: Buffer(66), y: Buffer(66)) -> key handle (throws on a point not on the curve)
 *   verify(key, data: Buffer, signature: Buffer(132, r||s as in JWS)) -> boolean
 */
#include <node_api.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <string.h>
#include <dlfcn.h>

/*
 * Why dlopen and not -lcrypto: node exports its own bundled OpenSSL's symbols to addons, and the dynamic linker binds
 * an addon's (and even a normally loaded libcrypto.so.3's) OpenSSL calls to the first definition in the global scope,
 * which is node's. Linked the usual way, this module would silently run node's OpenSSL (measured: LD_DEBUG=bindings
 * shows EVP_* bound to "node"). RTLD_DEEPBIND makes the system library resolve its own internal calls to itself, and
 * RTLD_LOCAL keeps its symbols out of node's scope; every function this module needs is fetched with dlsym.
 */
#define CRYPTO_SYMBOLS(X) \
  X(EVP_PKEY_CTX_new_from_name) X(EVP_PKEY_CTX_new_from_pkey) X(EVP_PKEY_CTX_free) X(EVP_PKEY_fromdata_init) \
  X(EVP_PKEY_fromdata) X(EVP_PKEY_public_check_quick) X(EVP_PKEY_free) X(OSSL_PARAM_construct_utf8_string) \
  X(OSSL_PARAM_construct_octet_string) X(OSSL_PARAM_construct_end) X(ECDSA_SIG_new) X(ECDSA_SIG_set0) \
  X(ECDSA_SIG_free) X(i2d_ECDSA_SIG) X(BN_bin2bn) X(BN_free) X(EVP_MD_CTX_new) X(EVP_MD_CTX_free) \
  X(EVP_DigestVerifyInit) X(EVP_DigestVerify) X(EVP_sha512) X(CRYPTO_free) X(OpenSSL_version)
#define DECLARE_SYMBOL(name) static __typeof__(name) *p_##name;
CRYPTO_SYMBOLS(DECLARE_SYMBOL)

/* NULL when the system library is there and complete; else why not (the module then refuses to load). */
static const char *load_system_libcrypto(void) {
  void *lib = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (!lib) return "libcrypto.so.3 not found";
#define LOAD_SYMBOL(name) \
  if (!(p_##name = (__typeof__(name) *)dlsym(lib, #name))) return "libcrypto.so.3 lacks " #name;
  CRYPTO_SYMBOLS(LOAD_SYMBOL)
  return NULL;
}

#define COORD 66

static void free_key(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  p_EVP_PKEY_free((EVP_PKEY *)data);
}

static napi_value import_key(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *x, *y;
  size_t xl = 0, yl = 0;
  if (argc < 2 || napi_get_buffer_info(env, argv[0], &x, &xl) != napi_ok || napi_get_buffer_info(env, argv[1], &y, &yl) != napi_ok ||
      xl != COORD || yl != COORD) {
    napi_throw_type_error(env, NULL, "importKey(x: 66-byte Buffer, y: 66-byte Buffer)");
    return NULL;
  }
  unsigned char point[1 + 2 * COORD];
  point[0] = 0x04;
  memcpy(point + 1, x, COORD);
  memcpy(point + 1 + COORD, y, COORD);
  EVP_PKEY *pkey = NULL;
  EVP_PKEY_CTX *ctx = p_EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  OSSL_PARAM params[3];
  params[0] = p_OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "P-521", 0);
  params[1] = p_OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point);
  params[2] = p_OSSL_PARAM_construct_end();
  int ok = ctx && p_EVP_PKEY_fromdata_init(ctx) == 1 && p_EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  p_EVP_PKEY_CTX_free(ctx);
  if (ok) {
    /*
     * fromdata does not check that the point is on the curve: do it, as node:crypto's DER import does. The quick
     * check (not at infinity, coordinates below p, on the curve) is the whole check for P-521: its cofactor is 1, so
     * every point on the curve has the group's order. EVP_PKEY_public_check adds the multiplication n * Q = O, which
     * cannot fail after the quick check and cost ~0.65 of a verify per imported key (a first contact's key import).
     */
    EVP_PKEY_CTX *check = p_EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    ok = check && p_EVP_PKEY_public_check_quick(check) == 1;
    p_EVP_PKEY_CTX_free(check);
  }
  if (!ok) {
    p_EVP_PKEY_free(pkey);
    napi_throw_error(env, "KEY_INVALID", "not a P-521 public key");
    return NULL;
  }
  napi_value handle;
  napi_create_external(env, pkey, free_key, NULL, &handle);
  return handle;
}

static napi_value verify(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *key = NULL, *data, *sig;
  size_t dl = 0, sl = 0;
  napi_valuetype t;
  if (argc < 3 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_external || napi_get_value_external(env, argv[0], &key) != napi_ok ||
      napi_get_buffer_info(env, argv[1], &data, &dl) != napi_ok || napi_get_buffer_info(env, argv[2], &sig, &sl) != napi_ok) {
    napi_throw_type_error(env, NULL, "verify(key, data: Buffer, signature: Buffer)");
    return NULL;
  }
  int ok = 0;
  if (sl == 2 * COORD) {
    ECDSA_SIG *s = p_ECDSA_SIG_new();
    BIGNUM *r = p_BN_bin2bn(sig, COORD, NULL);
    BIGNUM *ss = p_BN_bin2bn((unsigned char *)sig + COORD, COORD, NULL);
    if (s && r && ss && p_ECDSA_SIG_set0(s, r, ss) == 1) {
      r = ss = NULL; /* owned by s now */
      unsigned char *der = NULL;
      int der_len = p_i2d_ECDSA_SIG(s, &der);
      EVP_MD_CTX *md = p_EVP_MD_CTX_new();
      if (der_len > 0 && md && p_EVP_DigestVerifyInit(md, NULL, p_EVP_sha512(), NULL, (EVP_PKEY *)key) == 1) {
        ok = p_EVP_DigestVerify(md, der, (size_t)der_len, data, dl) == 1;
      }
      p_EVP_MD_CTX_free(md);
      p_CRYPTO_free(der, __FILE__, __LINE__);
    }
    p_BN_free(r);
    p_BN_free(ss);
    p_ECDSA_SIG_free(s);
  }
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

NAPI_MODULE_INIT() {
  const char *why = load_system_libcrypto();
  if (why) {
    napi_throw_error(env, "NATIVE_UNAVAILABLE", why);
    return NULL;
  }
  napi_value fn;
  napi_create_function(env, "importKey", NAPI_AUTO_LENGTH, import_key, NULL, &fn);
  napi_set_named_property(env, exports, "importKey", fn);
  napi_create_function(env, "verify", NAPI_AUTO_LENGTH, verify, NULL, &fn);
  napi_set_named_property(env, exports, "verify", fn);
  napi_value version;
  napi_create_string_utf8(env, p_OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH, &version);
  napi_set_named_property(env, exports, "libraryVersion", version);
  return exports;
}
