/*
 * tpl.h - a tiny line-based text template engine, used to render the
 * nftables rules from nftables/group.nft.in.
 *
 * Template syntax (kept small on purpose, so that the template still reads
 * as the nftables file it produces):
 *   @NAME@          replaced by the value of variable NAME (upper case,
 *                   digits and '_' only; '@' followed by anything else,
 *                   such as nft's "@guest4" set reference, is literal)
 *   #@if NAME       a line of its own: keep the lines up to the matching
 *   #@if !NAME      #@else / #@end when flag NAME is set (or not set)
 *   #@else
 *   #@end
 *   #@for LIST      repeat the lines up to the matching #@end once per
 *                   item of LIST; an item's variables and flags hide the
 *                   outer ones of the same name
 *   ##@ text        a template comment, dropped from the output
 * Lines starting with "#@" or "##@" never reach the output.
 *
 * Values are inserted verbatim: the caller validates and quotes them.
 * Not thread-safe per tpl_vars object; distinct objects are independent.
 */
#ifndef GW_TPL_H
#define GW_TPL_H

#include <stdbool.h>
#include <stdio.h>

#include "util.h"

struct tpl_vars;

/* A new, empty variable scope.  Caller frees with tpl_vars_free(). */
struct tpl_vars *tpl_vars_new(void);

/* Free a scope and every list item created under it.  NULL is fine. */
void tpl_vars_free(struct tpl_vars *v);

/* Set variable name (copied) to a printf-formatted value (copied). */
void tpl_set(struct tpl_vars *v, const char *name, const char *fmt, ...)
    PRINTF(3, 4) NONNULL(1, 2, 3);

/* Set or clear flag name. */
void tpl_flag(struct tpl_vars *v, const char *name, bool on) NONNULL(1, 2);

/*
 * Append an item to list name (the list is created empty on first use)
 * and return the item's scope, owned by v; its lookups fall back to v.
 */
struct tpl_vars *tpl_item(struct tpl_vars *v, const char *name)
    NONNULL(1, 2);

/* Declare list name with no items (so "#@for name" renders nothing). */
void tpl_list(struct tpl_vars *v, const char *name) NONNULL(1, 2);

/*
 * Render template text tpl (named tplname in messages) with v to out.
 * Returns 0, or -1 after writing "tplname:line: message" to errs (which
 * may be NULL) for an unknown variable, flag or list, or an unbalanced
 * directive; on error out may hold partial output.
 */
int tpl_render(const char *tpl, const char *tplname,
    const struct tpl_vars *v, FILE *out, FILE *errs) WUNRES NONNULL(1, 2, 3, 4);

#endif
