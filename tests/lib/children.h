/* Real child processes for the kill path's tests: each touches its
 * memory, says it is ready, and waits to be killed. The test reaps them. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* A child that touches mib MiB (0: none), ignores SIGTERM when
 * ignore_term, and is ready (its memory touched) when this returns. Fails
 * the running test when it cannot be made. */
pid_t fx_child(int mib, bool ignore_term);
