/*
 * suggest.h - "gatewayd suggest -c FILE AUDIT.json": from a JSON audit
 * log, the policy rules (config syntax, grouped per host group) that would
 * allow what the log shows was denied, or would have been denied in
 * report mode.  The usual loop: run a group with policy.mode = "report",
 * let the agents work, paste the suggestion, switch to "enforce".
 *
 * What it never suggests: fixed refusals (internal destinations,
 * ambiguous paths), credential refusals, anything that is not an HTTP
 * request or a TLS tunnel.  Lines are hostile (guest-chosen URLs): a host
 * that does not normalise, a path prefix with bytes a rule cannot hold, a
 * group name that is not one, are skipped or shortened, never printed as
 * they came.
 */
#ifndef GW_SUGGEST_H
#define GW_SUGGEST_H

#include <stdio.h>

struct suggest;

/* Empty state; exits on allocation failure (xmalloc). */
struct suggest *suggest_new(void);
void suggest_free(struct suggest *s);

/* Feed one audit line (no newline needed; modified in place). */
void suggest_line(struct suggest *s, char *line, size_t len);

/* Print the rules, sorted by group, host and path, with counts. */
void suggest_print(struct suggest *s, FILE *out, const char *source);

/* The subcommand: argv[0] is "suggest".  Returns the exit status. */
int suggest_main(int argc, char **argv);

#endif
