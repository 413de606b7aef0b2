/* Kills in flight (act/kill.c, closed out by daemon/killer.c): a pidfd wake-up finds its kill only
 * with the tag's generation, so a stale one never finishes a newer kill in
 * the same slot; and at shutdown every kill in flight is closed out
 * truthfully (real child processes, a real audit file). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/state.h"
#include "tests/lib/fixture.h"

/* ---- the tag check, a pure function ---- */

static gd_kills kills;
static gd_inflight *pending = kills.slot;

static void tags_setup(void) {
        memset(&kills, 0, sizeof(kills));
}

TestSuite(pending_tag, .init = tags_setup);

Test(pending_tag, a_wake_up_finds_its_own_kill_only) {
        pending[3].used = true;
        pending[3].tag_generation = 7;
        cr_assert_eq(gd_kills_for_tag(&kills, gd_tag(GD_TAG_PIDFD, 3, 7)),
                     &pending[3]);
        /* An earlier kill in the same slot. */
        cr_assert_null(gd_kills_for_tag(&kills, gd_tag(GD_TAG_PIDFD, 3, 6)));
        /* Another slot, free. */
        cr_assert_null(gd_kills_for_tag(&kills, gd_tag(GD_TAG_PIDFD, 2, 7)));
        /* Another kind of tag with the same numbers. */
        cr_assert_null(gd_kills_for_tag(&kills, gd_tag(GD_TAG_EVENTS, 3, 7)));
        /* Out of range: not folded back onto slot 3 (3 + 16). */
        cr_assert_null(gd_kills_for_tag(&kills, gd_tag(GD_TAG_PIDFD, 3 + GD_MAX_PENDING, 7)));
}

Test(pending_tag, a_stale_wake_up_after_reuse_in_the_same_batch_is_ignored) {
        /* The batch holds the first victim's exit (generation 1); before it
         * is handled, a tick closed that kill and a new one took slot 0. */
        uint64_t stale = gd_tag(GD_TAG_PIDFD, 0, 1);
        pending[0].used = true;
        pending[0].tag_generation = 1;
        cr_assert_eq(gd_kills_for_tag(&kills, stale), &pending[0]);
        pending[0].used = false; /* finished */
        cr_assert_null(gd_kills_for_tag(&kills, stale));
        pending[0].used = true; /* reused: a victim in its SIGTERM grace */
        pending[0].term_only = true;
        pending[0].tag_generation = 2;
        cr_assert_null(gd_kills_for_tag(&kills, stale));
        cr_assert_eq(gd_kills_for_tag(&kills, gd_tag(GD_TAG_PIDFD, 0, 2)),
                     &pending[0]);
}

/* ---- shutdown ---- */

enum { CHILD_MAX = 4 };
static pid_t children[CHILD_MAX];
static size_t n_children;
static gd_daemon *d;
static char *dir;

static void shutdown_setup(void) {
        n_children = 0;
        dir = fx_tmpdir();
        d = calloc(1, sizeof(*d));
        cr_assert_not_null(d);
        d->epfd = d->sigfd = d->timerfd = d->host_psi_fd = -1;
        d->host.page_size = 4096;
        char *path = fx_path(dir, "audit.jsonl");
        cr_assert_eq(gd_audit_open(path, &d->audit), 0);
        free(path);
}

/* Children left behind would hold the runner's output pipe open. */
static void shutdown_teardown(void) {
        for (size_t i = 0; i < n_children; i++) {
                kill(children[i], SIGKILL);
                waitpid(children[i], NULL, 0);
        }
        for (size_t i = 0; d && i < GD_MAX_PENDING; i++)
                if (d->kills.slot[i].pidfd > 0)
                        close(d->kills.slot[i].pidfd);
        if (d)
                gd_audit_close(d->audit);
        free(d);
        fx_rmtree(dir);
        free(dir);
}

/* A SIGKILL never sent would leave died_of() waiting. */
TestSuite(pending_shutdown, .init = shutdown_setup, .fini = shutdown_teardown, .timeout = 30);

typedef enum { CHILD_EXITS, CHILD_IGNORES_SIGTERM, CHILD_WAITS } child_kind;

/* A child of the given kind, in flight in pending slot i as a kill whose
 * SIGTERM went out (term_only) or whose SIGKILL did (term_only false). */
static gd_inflight *in_flight(size_t i, child_kind kind, bool term_only) {
        int ready[2];
        char c;

        cr_assert_eq(pipe(ready), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                if (kind == CHILD_IGNORES_SIGTERM)
                        signal(SIGTERM, SIG_IGN);
                if (kind != CHILD_EXITS && write(ready[1], "r", 1) != 1)
                        _exit(1);
                if (kind == CHILD_EXITS)
                        _exit(0);
                for (;;)
                        pause();
        }
        children[n_children++] = pid;
        close(ready[1]);
        if (kind != CHILD_EXITS)
                cr_assert_eq(read(ready[0], &c, 1), 1); /* SIGTERM is ignored by now */
        close(ready[0]);

        gd_inflight *p = &d->kills.slot[i];
        memset(p, 0, sizeof(*p));
        p->used = true;
        p->term_only = term_only;
        p->owner = GD_KILL_OWNER_HOST;
        p->pidfd = pidfd_open(pid, 0);
        cr_assert_geq(p->pidfd, 0);
        p->cand.pid = pid;
        p->trigger_ms = p->kill_ms = gd_now_ms();
        p->sigkill_at_ms = p->kill_ms + 3600 * 1000; /* never, within the test */
        p->deadline_ms = p->kill_ms + GD_KILL_DEADLINE_MS;
        snprintf(p->comm, sizeof(p->comm), "child%zu", i);
        snprintf(p->cgroup, sizeof(p->cgroup), "batch");
        if (kind == CHILD_EXITS) {
                struct pollfd pfd = {.fd = p->pidfd, .events = POLLIN};
                cr_assert_eq(poll(&pfd, 1, 5000), 1); /* exited, not reaped */
        }
        return p;
}

/* The audit line of pid, malloc'd, or NULL. */
static char *record_of(pid_t pid) {
        char *all = fx_read(dir, "audit.jsonl", NULL), *line = strtok(all, "\n"), *found = NULL;
        char key[32];

        snprintf(key, sizeof(key), "\"pid\":%d,", (int)pid);
        for (; line && !found; line = strtok(NULL, "\n"))
                if (strstr(line, key))
                        found = strdup(line);
        free(all);
        return found;
}

static void assert_record(pid_t pid, const char *result, bool death_known) {
        char *rec = record_of(pid), want[48];

        cr_assert_not_null(rec, "an audit record for pid %d", (int)pid);
        cr_assert_not_null(strstr(rec, "\"event\":\"kill\""), "%s", rec);
        snprintf(want, sizeof(want), "\"result\":\"%s\"", result);
        cr_assert_not_null(strstr(rec, want), "%s in %s", want, rec);
        cr_assert_eq(strstr(rec, "\"trigger_to_death_ms\":null,") == NULL, death_known, "%s", rec);
        free(rec);
}

static int died_of(pid_t pid) {
        int status;

        cr_assert_eq(waitpid(pid, &status, 0), pid);
        return WIFSIGNALED(status) ? WTERMSIG(status) : -WEXITSTATUS(status);
}

Test(pending_shutdown, a_victim_in_its_grace_gets_sigkill_and_is_recorded_killed) {
        gd_inflight *p = in_flight(0, CHILD_IGNORES_SIGTERM, true);
        pid_t pid = p->cand.pid;
        gd_inflight *gone = in_flight(1, CHILD_EXITS, false);
        pid_t gone_pid = gone->cand.pid;

        uint64_t t0 = gd_now_ms();
        gd_pending_shutdown(d, 5000);
        /* Both exits were seen: no waiting out the deadline. */
        cr_assert_lt(gd_now_ms() - t0, 4000);
        cr_assert_not(d->kills.slot[0].used || d->kills.slot[1].used);
        cr_assert_eq(died_of(pid), SIGKILL, "the grace was cut short with SIGKILL");
        cr_assert_eq(died_of(gone_pid), 0);
        n_children = 0;
        assert_record(pid, "killed", true);
        assert_record(gone_pid, "killed", true);
}

Test(pending_shutdown, a_victim_still_alive_is_recorded_unfinished) {
        /* Its SIGKILL went out before (as far as guardian knows): nothing is
         * sent again, and its exit is not claimed. */
        gd_inflight *p = in_flight(2, CHILD_WAITS, false);
        pid_t pid = p->cand.pid;

        uint64_t t0 = gd_now_ms();
        gd_pending_shutdown(d, 300);
        cr_assert_geq(gd_now_ms() - t0, 300, "it was waited for");
        cr_assert_not(d->kills.slot[2].used);
        cr_assert_eq(d->kills.slot[2].pidfd, -1);
        assert_record(pid, "unfinished", false);
        int status;
        cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "still alive: not signalled again");
}

Test(pending_shutdown, nothing_in_flight_returns_at_once) {
        uint64_t t0 = gd_now_ms();
        gd_pending_shutdown(d, 5000);
        cr_assert_lt(gd_now_ms() - t0, 1000);
        char *all = fx_read(dir, "audit.jsonl", NULL);
        cr_assert_str_eq(all, "");
        free(all);
}
