/* Temporary fixture trees for unit tests.
 *
 * Every helper fails the running Criterion test (cr_assert) instead of
 * returning an error, so test bodies stay short. Returned strings are
 * malloc'd: free() them. Trees live under $TMPDIR (default /tmp), never in
 * the working directory. */
#pragma once

#include <stddef.h>

/* Create a fresh, empty directory "guardian-fx.XXXXXX" under $TMPDIR and
 * return its path. */
char *fx_tmpdir(void);

/* "dir/relpath", malloc'd. */
char *fx_path(const char *dir, const char *relpath);

/* mkdir -p dir/relpath. */
void fx_mkdir(const char *dir, const char *relpath);

/* Create or truncate dir/relpath (parent directories created) holding
 * content (a C string) or the len bytes of buf (may contain NULs). */
void fx_write(const char *dir, const char *relpath, const char *content);
void fx_write_bytes(const char *dir, const char *relpath, const void *buf, size_t len);

/* Read dir/relpath whole; NUL-terminated, *len (if not NULL) excludes it. */
char *fx_read(const char *dir, const char *relpath, size_t *len);

/* rm -rf dir: does not follow symlinks or cross mount points; refuses
 * "/" and "". Safe to call on a path that no longer exists. */
void fx_rmtree(const char *dir);

/* The directory holding the checked-in fixtures: $GUARDIAN_FIXTURES if set,
 * else tests/unit/fixtures of the source tree this file was built from. */
const char *fx_fixture_dir(void);

/* Read fixture relpath (e.g. "cgroup/memory.stat") from fx_fixture_dir(). */
char *fx_read_fixture(const char *relpath, size_t *len);
