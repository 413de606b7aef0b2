/* What the daemon says of the typed outcomes its rooms return: the lower
 * rooms (watch, act) do not log; the daemon turns their outcomes into log
 * lines here, with every outside value a field that gd_log quotes. */
#pragma once

#include "act/enforce.h"
#include "watch/ident.h"
#include "watch/watch.h"

/* Log one write of an enforcement pass (a gd_enforce_report_fn; ctx
 * unused). */
void gd_notice_enforce(void *ctx, const gd_enforce_write *write);

/* Log every notice the watch kept since the last call. */
void gd_notice_watch(gd_watch *watch);

/* Log each container whose identity was decided since the last call: at
 * debug when read (its names), a warning when it has none (its policy's
 * identity keys then do not match it). k names a read one. */
void gd_notice_idents(gd_idcache *ids, gd_ident_cursor *k);
