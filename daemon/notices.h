/* What the daemon says of the typed outcomes its rooms return: the lower
 * rooms (watch, act) do not log; the daemon turns their outcomes into log
 * lines here, with every outside value a field that gd_log quotes. */
#pragma once

#include "act/enforce.h"
#include "watch/watch.h"

/* Log one write of an enforcement pass (a gd_enforce_report_fn; ctx
 * unused). */
void gd_notice_enforce(void *ctx, const gd_enforce_write *write);

/* Log every notice the watch kept since the last call. */
void gd_notice_watch(gd_watch *watch);
