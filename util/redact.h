/* Secrets out of command lines: guardian logs and audits its victims'
 * command lines (to say who died), and those often carry credentials
 * (`mysql -pS3cret`, `--password=x`, `PGPASSWORD=x psql`, URLs with a
 * password). What is masked becomes "***"; the rest is kept so that the
 * process can still be recognised. Pure. */
#pragma once

#include <stddef.h>

/* The mask that stands for a secret value. */
#define GD_REDACTED "***"

/* Copy cmdline (arguments separated by spaces, as proc_format_cmdline
 * makes it) into buf with secret values masked:
 *   --NAME=value, -NAME=value, NAME=value (env-style)  -> NAME=***
 *   --NAME value, -NAME value                           -> --NAME ***
 *   inner ...&NAME=value&... (query strings, DSNs)      -> NAME=*** up to & ; ,
 *   scheme://user:password@host                         -> scheme://user:***@host
 *   NAME: value (a header, as in curl -H)               -> NAME: ***
 *   -pVALUE after mysql/mariadb, -p/-a of sshpass and redis-cli, and the
 *   password in -u/--user user:password.
 * NAME is secret when one of its words (split at - _ . and lowercased,
 * a plural s dropped) is pass, pwd, auth or key, or ends with password,
 * passwd, passphrase, secret, token, credential, key, pwd, auth or
 * authorization: so
 * --api-key, AWS_SECRET_ACCESS_KEY, PGPASSWORD and --access_token are,
 * --keyboard, --author and --tokenizer are not. It errs on the side of
 * masking (a --password-file path is masked too).
 * Returns the length written (NUL not counted); -ENOBUFS when the result
 * does not fit: buf then holds its first size - 1 bytes, NUL-terminated
 * (a cut never shows a secret: only kept text and masks are copied). */
int gd_redact_cmdline(const char *cmdline, char *buf, size_t size);
