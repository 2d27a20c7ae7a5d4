/* C test suite for include/kauthn.h, built with -fsanitize=address,undefined against the
 * static library (see bindings/c/run.sh). Prints "N passed, M failed" and exits non-zero
 * on any failure. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kauthn.h"

static int passed, failed;

#define CHECK(cond)                                                           \
  do {                                                                        \
    if (cond) {                                                               \
      passed++;                                                               \
    } else {                                                                  \
      failed++;                                                               \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                         \
  } while (0)

#define B(s) ((const uint8_t *)(s)), strlen(s)
#define NOW 1800000000 /* 2027-01-15, inside the test certificate's validity */

static const char *CSV =
    "s3cret,alice,uid-1,\"dev,ops\"\n"
    "other,bob,uid-2\n";

static int view_eq(const uint8_t *p, size_t n, const char *want) {
  return n == strlen(want) && memcmp(p, want, n) == 0;
}

static int name_is(const kauthn_auth_result *r, const char *want) {
  const uint8_t *p = NULL;
  size_t n = 0;
  if (kauthn_auth_result_name(r, &p, &n) != KAUTHN_RESULT_OK) return 0;
  return view_eq(p, n, want);
}

static int group_is(const kauthn_auth_result *r, size_t i, const char *want) {
  const uint8_t *p = NULL;
  size_t n = 0;
  if (kauthn_auth_result_group(r, i, &p, &n) != KAUTHN_RESULT_OK) return 0;
  return view_eq(p, n, want);
}

static int message_is(const kauthn_auth_result *r, const char *want) {
  char buf[256];
  size_t n = 0;
  if (kauthn_auth_result_message(r, (uint8_t *)buf, sizeof buf, &n) != KAUTHN_RESULT_OK) return 0;
  return view_eq((const uint8_t *)buf, n, want);
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc((size_t)size);
  *len = fread(buf, 1, (size_t)size, f);
  fclose(f);
  return buf;
}

static kauthn_authenticator *build(int anonymous) {
  kauthn_config *cfg = NULL;
  kauthn_authenticator *auth = NULL;
  size_t ca_len = 0;
  uint8_t *ca = read_file("testdata/ca.pem", &ca_len);
  CHECK(ca != NULL);
  CHECK(kauthn_config_new(&cfg) == KAUTHN_RESULT_OK);
  CHECK(kauthn_config_set_token_file_csv(cfg, B(CSV)) == KAUTHN_RESULT_OK);
  CHECK(kauthn_config_set_bootstrap_tokens(cfg, true) == KAUTHN_RESULT_OK);
  CHECK(kauthn_config_set_client_ca_pem(cfg, ca, ca_len) == KAUTHN_RESULT_OK);
  CHECK(kauthn_config_set_anonymous(cfg, anonymous) == KAUTHN_RESULT_OK);
  CHECK(kauthn_authenticator_new(cfg, &auth) == KAUTHN_RESULT_OK);
  kauthn_config_free(cfg);
  free(ca);
  return auth;
}

static void test_token_file(void) {
  kauthn_authenticator *auth = build(0);
  kauthn_auth_result *r = NULL;
  CHECK(kauthn_auth_result_new(&r) == KAUTHN_RESULT_OK);
  CHECK(kauthn_auth_result_status(r) == KAUTHN_STATUS_EMPTY);

  CHECK(kauthn_authenticator_authenticate_token(auth, B("s3cret"), NOW, r) == KAUTHN_RESULT_OK);
  CHECK(kauthn_auth_result_status(r) == KAUTHN_STATUS_AUTHENTICATED);
  CHECK(name_is(r, "alice"));
  const uint8_t *p;
  size_t n;
  CHECK(kauthn_auth_result_uid(r, &p, &n) == KAUTHN_RESULT_OK && view_eq(p, n, "uid-1"));
  CHECK(kauthn_auth_result_groups_len(r) == 3);
  CHECK(group_is(r, 0, "dev"));
  CHECK(group_is(r, 1, "ops"));
  CHECK(group_is(r, 2, "system:authenticated"));
  CHECK(kauthn_auth_result_group(r, 3, &p, &n) == KAUTHN_RESULT_OUT_OF_RANGE);
  CHECK(message_is(r, ""));

  /* The handle is reused; the previous user is gone. */
  CHECK(kauthn_authenticator_authenticate_token(auth, B("nope"), NOW, r) == KAUTHN_RESULT_OK);
  CHECK(kauthn_auth_result_status(r) == KAUTHN_STATUS_UNAUTHENTICATED);
  CHECK(kauthn_auth_result_groups_len(r) == 0);
  CHECK(kauthn_auth_result_name(r, &p, &n) == KAUTHN_RESULT_OUT_OF_RANGE);

  /* Results outlive the authenticator they came from. */
  CHECK(kauthn_authenticator_authenticate_token(auth, B("other"), NOW, r) == KAUTHN_RESULT_OK);
  kauthn_authenticator_free(auth);
  CHECK(name_is(r, "bob"));
  kauthn_auth_result_free(r);
}

static void test_bearer_request_and_anonymous(void) {
  kauthn_authenticator *auth = build(1);
  kauthn_auth_result *r = NULL;
  kauthn_auth_result_new(&r);
  kauthn_header ok = {{B("Authorization")}, {B("Bearer s3cret")}};
  CHECK(kauthn_authenticator_authenticate_request(auth, &ok, 1, NULL, 0, B("/api"), NOW, r) ==
        KAUTHN_RESULT_OK);
  CHECK(kauthn_auth_result_status(r) == KAUTHN_STATUS_AUTHENTICATED);
  CHECK(name_is(r, "alice"));

  kauthn_header bad = {{B("authorization")}, {B("Bearer wrong")}};
  CHECK(kauthn_authenticator_authenticate_request(auth, &bad, 1, NULL, 0, B("/api"), NOW, r) ==
        KAUTHN_RESULT_OK);
  CHECK(kauthn_auth_result_status(r) == KAUTHN_STATUS_REJECTED);
  CHECK(message_is(r, "invalid bearer token"));

  CHECK(kauthn_authenticator_authenticate_request(auth, NULL, 0, NULL, 0, B("/api"), NOW, r) ==
        KAUTHN_RESULT_OK);
  CHECK(kauthn_auth_result_status(r) == KAUTHN_STATUS_AUTHENTICATED);
  CHECK(name_is(r, "system:anonymous"));
  CHECK(kauthn_auth_result_groups_len(r) == 1 && group_is(r, 0, "system:unauthenticated"));
  kauthn_auth_result_free(r);
  kauthn_authenticator_free(auth);
}

static void test_client_certificate(void) {
  kauthn_authenticator *auth = build(0);
  kauthn_auth_result *r = NULL;
  kauthn_auth_result_new(&r);
  size_t der_len = 0;
  uint8_t *der = read_file("testdata/client.der", &der_len);
  CHECK(der != NULL);
  kauthn_bytes chain = {der, der_len};
  CHECK(kauthn_authenticator_authenticate_chain(auth, &chain, 1, NOW, r) == KAUTHN_RESULT_OK);
  free(der); /* the handle kept its own copy */
  CHECK(kauthn_auth_result_status(r) == KAUTHN_STATUS_AUTHENTICATED);
  CHECK(name_is(r, "jane"));
  CHECK(kauthn_auth_result_groups_len(r) == 3);
  CHECK(group_is(r, 0, "system:masters") && group_is(r, 1, "dev"));
  CHECK(kauthn_auth_result_extra_len(r) == 1);
  const uint8_t *p;
  size_t n;
  CHECK(kauthn_auth_result_extra_key(r, 0, &p, &n) == KAUTHN_RESULT_OK &&
        view_eq(p, n, "authentication.kubernetes.io/credential-id"));
  CHECK(kauthn_auth_result_extra_values_len(r, 0) == 1);
  CHECK(kauthn_auth_result_extra_value(r, 0, 0, &p, &n) == KAUTHN_RESULT_OK && n == 11 + 64 &&
        memcmp(p, "X509SHA256=", 11) == 0);

  /* A malformed certificate is rejected, not ignored. */
  chain.data = (const uint8_t *)"\x30\x03\x02\x01\x01";
  chain.len = 5;
  CHECK(kauthn_authenticator_authenticate_chain(auth, &chain, 1, NOW, r) == KAUTHN_RESULT_OK);
  CHECK(kauthn_auth_result_status(r) == KAUTHN_STATUS_REJECTED);
  kauthn_auth_result_free(r);
  kauthn_authenticator_free(auth);
}

static void test_bootstrap_secrets_at_runtime(void) {
  kauthn_authenticator *auth = build(0);
  kauthn_auth_result *r = NULL;
  kauthn_auth_result_new(&r);
  kauthn_bootstrap_secret s = {
      .token_id = {B("abcdef")},
      .token_secret = {B("0123456789abcdef")},
      .expiration = {NULL, 0},
      .usage_bootstrap_authentication = {B("true")},
      .auth_extra_groups = {B("system:bootstrappers:worker")},
  };
  CHECK(kauthn_authenticator_put_bootstrap_secret(auth, &s) == KAUTHN_RESULT_OK);
  CHECK(kauthn_authenticator_authenticate_token(auth, B("abcdef.0123456789abcdef"), NOW, r) ==
        KAUTHN_RESULT_OK);
  CHECK(kauthn_auth_result_status(r) == KAUTHN_STATUS_AUTHENTICATED);
  CHECK(name_is(r, "system:bootstrap:abcdef"));
  CHECK(group_is(r, 0, "system:bootstrappers") && group_is(r, 1, "system:bootstrappers:worker"));

  CHECK(kauthn_authenticator_remove_bootstrap_secret(auth, B("abcdef")) == KAUTHN_RESULT_OK);
  /* A cached success is served for the cache TTL; a fresh token shows the removal. */
  kauthn_bootstrap_secret bad_id = s;
  bad_id.token_id.data = (const uint8_t *)"ABCDEF";
  CHECK(kauthn_authenticator_put_bootstrap_secret(auth, &bad_id) == KAUTHN_RESULT_INVALID_TOKEN_ID);
  kauthn_auth_result_free(r);
  kauthn_authenticator_free(auth);
}

static void test_errors_and_null_arguments(void) {
  kauthn_config *cfg = NULL;
  kauthn_authenticator *auth = NULL;
  CHECK(kauthn_config_new(NULL) == KAUTHN_RESULT_NULL_ARGUMENT);
  CHECK(kauthn_config_new(&cfg) == KAUTHN_RESULT_OK);
  CHECK(kauthn_config_set_token_file_csv(cfg, B("token4\n")) == KAUTHN_RESULT_OK);
  CHECK(kauthn_authenticator_new(cfg, &auth) == KAUTHN_RESULT_INVALID_CONFIG);
  CHECK(auth == NULL); /* outputs are written only on success */
  char buf[256];
  size_t n = 0;
  CHECK(kauthn_config_error_message(cfg, (uint8_t *)buf, sizeof buf, &n) == KAUTHN_RESULT_OK);
  CHECK(n > 0 && strstr(buf, "must have at least 3 columns") != NULL);
  CHECK(kauthn_config_error_message(cfg, (uint8_t *)buf, 4, &n) == KAUTHN_RESULT_BUFFER_TOO_SMALL);
  CHECK(kauthn_config_set_token_file_csv(NULL, B("x")) == KAUTHN_RESULT_NULL_ARGUMENT);
  CHECK(kauthn_config_set_token_file_csv(cfg, NULL, 3) == KAUTHN_RESULT_NULL_ARGUMENT);
  CHECK(kauthn_config_add_api_audience(cfg, (const uint8_t *)"\xff", 1) == KAUTHN_RESULT_INVALID_UTF8);
  kauthn_config_free(cfg);
  kauthn_config_free(NULL);
  kauthn_authenticator_free(NULL);
  kauthn_auth_result_free(NULL);
  CHECK(kauthn_auth_result_status(NULL) == KAUTHN_STATUS_EMPTY);
  CHECK(kauthn_authenticator_authenticate_token(NULL, B("x"), NOW, NULL) == KAUTHN_RESULT_NULL_ARGUMENT);
  CHECK(kauthn_result_message(KAUTHN_RESULT_NULL_ARGUMENT, (uint8_t *)buf, sizeof buf, &n) ==
        KAUTHN_RESULT_OK);
  CHECK(strncmp(buf, "a required pointer argument was NULL", n) == 0);
  CHECK(strcmp(kauthn_version(), KAUTHN_VERSION) == 0);
}

static kauthn_authenticator *shared;

static void *worker(void *arg) {
  (void)arg;
  kauthn_auth_result *r = NULL;
  kauthn_auth_result_new(&r);
  int ok = 1;
  for (int i = 0; i < 2000; i++) {
    const char *tok = (i % 2) ? "s3cret" : "other";
    kauthn_authenticator_authenticate_token(shared, B(tok), NOW, r);
    ok &= name_is(r, (i % 2) ? "alice" : "bob");
  }
  kauthn_auth_result_free(r);
  return (void *)(intptr_t)ok;
}

static void test_concurrent_calls(void) {
  shared = build(0);
  pthread_t t[8];
  for (int i = 0; i < 8; i++) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < 8; i++) {
    void *ok;
    pthread_join(t[i], &ok);
    CHECK(ok == (void *)1);
  }
  kauthn_authenticator_free(shared);
}

int main(void) {
  test_token_file();
  test_bearer_request_and_anonymous();
  test_client_certificate();
  test_bootstrap_secrets_at_runtime();
  test_errors_and_null_arguments();
  test_concurrent_calls();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
