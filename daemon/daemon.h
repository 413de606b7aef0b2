/* `guardian run`: the daemon. One epoll loop (signalfd, timerfd, inotify,
 * memory.events and PSI fds, victims' pidfds); decisions by the pure
 * functions of decide.h and badness.h; kills through act.h; records
 * through the log and the audit trail. */
#pragma once

/* The command: parses its own options. Returns the process exit status. */
int gd_cmd_run(int argc, char **argv);
