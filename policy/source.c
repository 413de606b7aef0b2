#include "policy/source.h"

#include <stdio.h>
#include <sys/stat.h>

void pol_source_default(pol_source *src) {
        struct stat st;

        if (!src->file && !src->dir && stat(POL_DEFAULT_DIR, &st) == 0 && S_ISDIR(st.st_mode))
                src->dir = POL_DEFAULT_DIR;
}

const char *pol_source_name(const pol_source *src) {
        return src->file ? src->file : src->dir ? src->dir : "embedded default";
}

int pol_source_load(const pol_source *src, pol_policy **ret_policy, pol_errors *errs) {
        if (src->file)
                return pol_load_file(src->file, ret_policy, errs);
        if (src->dir)
                return pol_load_dir(src->dir, ret_policy, errs);
        return pol_default(ret_policy);
}

void pol_errors_each(const pol_errors *errs, void (*emit)(void *ctx, const char *line), void *ctx) {
        char line[sizeof(((pol_error *)0)->file) + sizeof(((pol_error *)0)->message) + 32];

        for (size_t i = 0; i < errs->n; i++) {
                const pol_error *e = &errs->items[i];
                if (e->line > 0)
                        snprintf(line, sizeof(line), "%s:%u:%u: %s", e->file, e->line, e->column,
                                 e->message);
                else
                        snprintf(line, sizeof(line), "%s: %s", e->file, e->message);
                emit(ctx, line);
        }
        if (errs->dropped > 0) {
                snprintf(line, sizeof(line), "... and %zu more problem%s", errs->dropped,
                         errs->dropped == 1 ? "" : "s");
                emit(ctx, line);
        }
}
