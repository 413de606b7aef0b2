#include "tests/lib/fixture.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *fx_tmpdir(void) {
        const char *base = getenv("TMPDIR");
        char *path;

        if (!base || !*base)
                base = "/tmp";
        cr_assert(asprintf(&path, "%s/guardian-fx.XXXXXX", base) >= 0);
        cr_assert(mkdtemp(path), "mkdtemp(%s): %s", path, strerror(errno));
        return path;
}

char *fx_path(const char *dir, const char *relpath) {
        char *path;

        cr_assert(asprintf(&path, "%s/%s", dir, relpath) >= 0);
        return path;
}

/* mkdir -p of path's first len bytes. */
static void mkdir_p(const char *path, size_t len) {
        char *p = strndup(path, len);

        cr_assert(p);
        for (char *s = p + 1;; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char c = *s;
                *s = '\0';
                cr_assert(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir(%s): %s", p, strerror(errno));
                *s = c;
                if (c == '\0')
                        break;
        }
        free(p);
}

void fx_mkdir(const char *dir, const char *relpath) {
        char *path = fx_path(dir, relpath);

        mkdir_p(path, strlen(path));
        free(path);
}

void fx_write_bytes(const char *dir, const char *relpath, const void *buf, size_t len) {
        char *path = fx_path(dir, relpath);
        const char *slash = strrchr(path, '/');

        mkdir_p(path, (size_t)(slash - path));
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        cr_assert(fd >= 0, "open(%s): %s", path, strerror(errno));
        for (size_t off = 0; off < len;) {
                ssize_t w = write(fd, (const char *)buf + off, len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                cr_assert(w > 0, "write(%s): %s", path, strerror(errno));
                off += (size_t)w;
        }
        cr_assert(close(fd) == 0);
        free(path);
}

void fx_write(const char *dir, const char *relpath, const char *content) {
        fx_write_bytes(dir, relpath, content, strlen(content));
}

static char *read_path(const char *path, size_t *len) {
        FILE *f = fopen(path, "re");
        size_t cap = 4096, n = 0;

        cr_assert(f, "fopen(%s): %s", path, strerror(errno));
        char *buf = malloc(cap);
        cr_assert(buf);
        for (;;) {
                n += fread(buf + n, 1, cap - n, f);
                if (n < cap)
                        break;
                cap *= 2;
                buf = realloc(buf, cap);
                cr_assert(buf);
        }
        cr_assert(!ferror(f), "read(%s) failed", path);
        fclose(f);
        buf = realloc(buf, n + 1);
        cr_assert(buf);
        buf[n] = '\0';
        if (len)
                *len = n;
        return buf;
}

char *fx_read(const char *dir, const char *relpath, size_t *len) {
        char *path = fx_path(dir, relpath);
        char *buf = read_path(path, len);

        free(path);
        return buf;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void)st;
        (void)ftw;
        if ((type == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
                cr_log_warn("fx_rmtree: cannot remove %s: %s", path, strerror(errno));
        return 0;
}

void fx_rmtree(const char *dir) {
        cr_assert(dir && *dir && strcmp(dir, "/") != 0, "fx_rmtree: refusing \"%s\"", dir ? dir : "(null)");
        if (access(dir, F_OK) < 0 && errno == ENOENT)
                return;
        cr_assert(nftw(dir, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == 0, "nftw(%s) failed", dir);
}

const char *fx_fixture_dir(void) {
        static char dir[4096];
        const char *env = getenv("GUARDIAN_FIXTURES");

        if (env && *env)
                return env;
        /* __FILE__ is this file's path as the compiler saw it: relative to
         * the repository root for `make unit` (which runs from there too),
         * absolute for out-of-tree builds. */
        const char *self = __FILE__;
        const char *cut = strstr(self, "tests/lib/fixture.c");
        cr_assert(cut, "cannot locate fixtures from %s: set GUARDIAN_FIXTURES", self);
        snprintf(dir, sizeof dir, "%.*stests/unit/fixtures", (int)(cut - self), self);
        return dir;
}

char *fx_read_fixture(const char *relpath, size_t *len) {
        char *path = fx_path(fx_fixture_dir(), relpath);
        char *buf = read_path(path, len);

        free(path);
        return buf;
}
