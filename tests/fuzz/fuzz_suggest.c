/*
 * fuzz_suggest.c - audit-log lines (guest-chosen URLs, hosts, methods)
 * through jl_parse() and `gatewayd suggest`.
 *
 * Input: lines.  Invariants: a parsed field lies inside the line; the
 * printed suggestion holds no control byte but newlines, and each group's
 * rules load, pasted into a group, as a valid configuration (no rule the
 * config would call redundant, no string that breaks out of its quotes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "jsonline.h"
#include "suggest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_fields(const char *line, size_t len, const struct jl_obj *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (o->f[i].key < line || o->f[i].key + o->f[i].klen >
		    line + len || o->f[i].val < line ||
		    o->f[i].val + o->f[i].vlen > line + len)
			abort();
}

/* Load the rules printed for one group inside a one-group config. */
static void
check_rules(const char *rules, size_t len)
{
	struct gw_config *c;
	char *text = NULL;
	size_t tlen;
	FILE *f = open_memstream(&text, &tlen);

	fprintf(f, "groups = ( { name = \"g\"; guests = [ \"10.0.0.0/24\" ];\n"
	    "capture = { http_port = 3128; https_port = 3129; };\n"
	    "policy = { default = \"deny\"; rules = (\n%.*s\n); }; } );\n",
	    (int)len, rules);
	fclose(f);
	c = config_load_string(text, "suggest.conf", stderr);
	if (c == NULL) {
		fprintf(stderr, "%s", text);
		abort();
	}
	config_unref(c);
	free(text);
}

static void
check_output(const char *out, size_t len)
{
	const char *p, *group = NULL, *end = out + len;
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)out[i] < 0x20 && out[i] != '\n')
			abort();
	for (p = out; p < end; p = strchr(p, '\n') + 1) {
		if (strncmp(p, "# group", 7) == 0) {
			if (group != NULL)
				check_rules(group, (size_t)(p - group));
			group = strchr(p, '\n') + 1;
		}
		if (strchr(p, '\n') == NULL)
			break;
	}
	if (group != NULL && group < end)
		check_rules(group, (size_t)(end - group));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct suggest *s = suggest_new();
	struct jl_obj o;
	char *buf = malloc(size + 1), *line, *nl, *copy, *out = NULL;
	size_t n, olen;
	FILE *f;

	memcpy(buf, data, size);
	buf[size] = '\0';
	for (line = buf; line < buf + size; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(buf + size - line));
		if (nl == NULL)
			nl = buf + size;
		n = (size_t)(nl - line);
		copy = malloc(n + 1);
		memcpy(copy, line, n);
		if (jl_parse(copy, n, &o) == 0)
			check_fields(copy, n, &o);
		memcpy(copy, line, n);
		suggest_line(s, copy, n);
		free(copy);
	}
	f = open_memstream(&out, &olen);
	suggest_print(s, f, "fuzz");
	fclose(f);
	check_output(out, olen);
	free(out);
	suggest_free(s);
	free(buf);
	return 0;
}
