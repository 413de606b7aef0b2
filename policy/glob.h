/* Globs, as policies write them: '*' matches any run of characters except
 * '/', '**' any run including '/', '?' one character except '/', "[abc]" /
 * "[a-z]" / "[!a]" one character of a class. For comm, exe, cmdline and
 * ids, '/' is not special: '*' matches it too. Matching is anchored at both
 * ends. Pure. */
#pragma once

#include <stdbool.h>

#include "policy/policy.h"

/* Glob match; path selects the '/'-aware rules. */
bool pol_glob_match(const char *pattern, const char *s, bool path);
