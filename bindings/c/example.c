/* A minimal C program using kauthn: authenticate the bearer token given on the command
 * line against a static token file, and print who it is.
 *
 *   ./example s3cret        ->  alice (uid uid-1) groups: dev ops system:authenticated
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kauthn.h"

int main(int argc, char **argv) {
  const char *token = argc > 1 ? argv[1] : "s3cret";
  const char *csv = "s3cret,alice,uid-1,\"dev,ops\"\n";
  kauthn_config *cfg = NULL;
  kauthn_authenticator *auth = NULL;
  kauthn_auth_result *result = NULL;
  int rc = 1;

  if (kauthn_config_new(&cfg) != KAUTHN_RESULT_OK) return 1;
  kauthn_config_set_token_file_csv(cfg, (const uint8_t *)csv, strlen(csv));
  if (kauthn_authenticator_new(cfg, &auth) != KAUTHN_RESULT_OK) {
    char msg[256];
    size_t n = 0;
    kauthn_config_error_message(cfg, (uint8_t *)msg, sizeof msg, &n);
    fprintf(stderr, "config: %.*s\n", (int)n, msg);
    goto out;
  }
  kauthn_auth_result_new(&result);
  kauthn_authenticator_authenticate_token(auth, (const uint8_t *)token, strlen(token),
                                          (int64_t)time(NULL), result);
  if (kauthn_auth_result_status(result) != KAUTHN_STATUS_AUTHENTICATED) {
    char msg[256];
    size_t n = 0;
    kauthn_auth_result_message(result, (uint8_t *)msg, sizeof msg, &n);
    printf("Unauthorized%s%.*s\n", n ? ": " : "", (int)n, msg);
    goto out;
  }
  const uint8_t *p;
  size_t n;
  kauthn_auth_result_name(result, &p, &n);
  printf("%.*s", (int)n, (const char *)p);
  kauthn_auth_result_uid(result, &p, &n);
  printf(" (uid %.*s) groups:", (int)n, (const char *)p);
  for (size_t i = 0; i < kauthn_auth_result_groups_len(result); i++) {
    kauthn_auth_result_group(result, i, &p, &n);
    printf(" %.*s", (int)n, (const char *)p);
  }
  printf("\n");
  rc = 0;
out:
  kauthn_auth_result_free(result);
  kauthn_authenticator_free(auth);
  kauthn_config_free(cfg);
  return rc;
}
