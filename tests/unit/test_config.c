/*
 * test_config.c - the example file loads with the documented values,
 * defaults, every bad-config message with its line, all errors reported,
 * group matching, reference counting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "hostname.h"
#include "tap.h"

#ifndef GW_SOURCE_ROOT
#define GW_SOURCE_ROOT "."
#endif

/* Load text as "t.conf"; *msgs gets the messages (caller frees). */
static struct gw_config *
load(const char *text, char **msgs)
{
	struct gw_config *c;
	size_t len;
	FILE *f = open_memstream(msgs, &len);

	c = config_load_string(text, "t.conf", f);
	fclose(f);
	return c;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* Is there a message "t.conf:LINE: ...want..."? */
static int
has_msg(const char *msgs, int line, const char *want)
{
	char prefix[32];
	const char *p = msgs;

	if (line > 0)
		snprintf(prefix, sizeof(prefix), "t.conf:%d: ", line);
	else
		snprintf(prefix, sizeof(prefix), "t.conf: ");
	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char buf[1024];

		snprintf(buf, sizeof(buf), "%.*s", (int)n, p);
		if (strncmp(buf, prefix, strlen(prefix)) == 0 &&
		    strstr(buf, want) != NULL)
			return 1;
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

#define G1 "groups = ( { name = \"a\"; guests = [\"10.0.0.0/24\"]; " \
	"capture = { http_port = 3128; https_port = 3129; };\n"
#define GEND "\n} );\n"

static const struct {
	const char	*snippet;	/* line 2 of a one-group file */
	const char	*want;
} group_cases[] = {
	{ "policy = { mode = \"audit\"; };",
	  "unknown value \"audit\" (expected one of: enforce, report)" },
	{ "policy = { rules = ( { action = \"allow\"; cidr = \"10.0.0.1/24\"; } ); };",
	  "\"10.0.0.1/24\" has host bits set (did you mean 10.0.0.0/24?)" },
	{ "policy = { rules = ( { action = \"allow\"; cidr = \"10.0.0.0/33\"; } ); };",
	  "is not an address or CIDR prefix" },
	{ "policy = { rules = ( { action = \"allow\"; cidr = [\"1.2.3.0/24\", \"x\"]; } ); };",
	  "rules[0].cidr[1]: \"x\" is not an address" },
	{ "policy = { rules = ( { action = \"allow\"; host = \"a.test\"; port = 0; } ); };",
	  "port 0 is out of range 1..65535" },
	{ "policy = { rules = ( { action = \"allow\"; host = \"a.test\"; port = 70000; } ); };",
	  "port 70000 is out of range" },
	{ "policy = { rules = ( { action = \"allow\"; host = \"a.test\"; port = \"10-5\"; } ); };",
	  "port range \"10-5\" is backwards" },
	{ "policy = { rules = ( { action = \"allow\"; host = \"a.test\"; port = \"http\"; } ); };",
	  "\"http\" is not a port" },
	{ "policy = { rules = ( { action = \"permit\"; host = \"a.test\"; } ); };",
	  "action: unknown value \"permit\" (expected one of: allow, deny, splice)" },
	{ "policy = { rules = ( { host = \"a.test\"; } ); };",
	  "rules[0].action: required key is missing" },
	{ "policy = { rules = ( { action = \"allow\"; } ); };",
	  "a rule needs a condition" },
	{ "policy = { rules = ( { action = \"allow\"; host = \"a.test\"; path = \"repos\"; } ); };",
	  "\"repos\" must start with '/'" },
	{ "policy = { rules = ( { action = \"allow\"; host = \"a.test\"; path = \"/a%2fb\"; } ); };",
	  "'%' is not allowed in a path rule" },
	{ "policy = { rules = ( { action = \"deny\"; host = \"a.test\"; path = \"/a;x/b\"; } ); };",
	  "\"/a;x/b\" can never match: it holds ';'" },
	{ "policy = { rules = ( { action = \"deny\"; host = \"a.test\"; path = \"/a//b\"; } ); };",
	  "can never match: it holds an empty segment" },
	{ "policy = { rules = ( { action = \"deny\"; host = \"a.test\"; path = \"/a/../b\"; } ); };",
	  "can never match: it holds a \".\" or \"..\" segment" },
	{ "policy = { rules = ( { action = \"deny\"; host = \"a.test\"; path = \"/a/.?x\"; } ); };",
	  "can never match: it holds a \".\" or \"..\" segment" },
	{ "policy = { rules = ( { action = \"allow\"; host = \"a.test\"; methods = [\"FETCH\"]; } ); };",
	  "unknown method \"FETCH\"" },
	{ "policy = { rules = ( { action = \"allow\"; host = \"a.test\"; methods = [\"get\"]; } ); };",
	  "unknown method \"get\"" },
	{ "policy = { rules = ( { action = \"allow\"; host = \"a.test\"; methods = []; } ); };",
	  "methods: empty list" },
	{ "policy = { rules = ( { action = \"allow\"; host = \"*.example.com\"; } ); };",
	  "wildcards are not supported; write \".example.com\"" },
	{ "policy = { rules = ( { action = \"allow\"; host = \"bad host\"; } ); };",
	  "is not a valid host name" },
	{ "policy = { rules = ( { action = \"allow\"; host = \"b\xc3\xbc" "cher.de\"; } ); };",
	  "xn-- A-labels" },
	{ "policy = { rules = ( { action = \"allow\"; host = \"1.2.3.4\"; } ); };",
	  "is an address; match addresses with cidr" },
	{ "policy = { rules = ( { action = \"splice\"; host = \"a.test\"; path = \"/\"; } ); };",
	  "a splice rule cannot have path or methods" },
	{ "policy = { rules = ( { action = \"deny\"; host = \".example.com\"; }, { action = \"allow\"; host = \"api.example.com\"; } ); };",
	  "rules[1]: never matches: the entry at line 2 (deny .example.com)" },
	{ "policy = { rules = ( { action = \"deny\"; host = \"a.test\"; }, { action = \"deny\"; host = \"a.test\"; path = \"/x\"; } ); };",
	  "rules[1]: redundant" },
	{ "policy = { rules = ( { action = \"allow\"; host = \"a.test\"; colour = \"red\"; } ); };",
	  "rules[0].colour: unknown key" },
	{ "policy = { default = \"maybe\"; };",
	  "policy.default: unknown value \"maybe\"" },
	{ "policy = { rules = { action = \"allow\"; }; };",
	  "policy.rules: must be a list" },
	{ "polcy = { default = \"allow\"; };",
	  "groups[0].polcy: unknown key" },
	{ "ca_dir = 5;", "ca_dir: must be a string, not an integer" },
	{ "interfaces = [\"ve-?\"];", "only a trailing '*' is supported" },
	{ "interfaces = [\"ve-*-x\"];", "only a trailing '*' is supported" },
	{ "interfaces = [\"eth 0\"];", "' ' is not allowed in an interface name" },
	{ "interfaces = [\"averyveryverylongname\"];", "an interface name is 1-15" },
	{ "interfaces = [];", "interfaces: empty list" },
	{ "egress = ( { action = \"allow\"; cidr = \"1.2.3.0/24\"; proto = \"tcp\"; ports = \"443\"; }, { action = \"drop\"; cidr = \"1.2.3.0/24\"; proto = \"tcp\"; ports = 443; } );",
	  "egress[1]: contradicts the entry at line 2 (allow 1.2.3.0/24)" },
	{ "egress = ( { action = \"drop\"; cidr = \"0.0.0.0/0\"; }, { action = \"allow\"; cidr = \"192.168.137.1/32\"; } );",
	  "egress[1]: never matches" },
	{ "egress = ( { action = \"allow\"; cidr = \"1.2.3.0/24\"; ports = \"443\"; } );",
	  "ports need proto \"tcp\" or \"udp\"" },
	{ "egress = ( { action = \"allow\"; proto = \"tcp\"; } );",
	  "egress[0].cidr: required key is missing" },
	{ "egress = ( { action = \"accept\"; cidr = \"1.2.3.0/24\"; } );",
	  "unknown value \"accept\"" },
	{ "egress = ( { action = \"allow\"; cidr = \"1.2.3.0/24\"; proto = \"sctp\"; } );",
	  "proto: unknown value \"sctp\"" },
	{ "l4 = { rules = ( { action = \"allow\"; proto = \"tcp\"; reset = true; } ); };",
	  "reset = true needs action \"deny\"" },
	{ "l4 = { rules = ( { action = \"deny\"; } ); };",
	  "l4.rules[0]: a rule needs a condition" },
	{ "l4 = { rules = ( { action = \"deny\"; proto = \"udp\"; ports = \"1000-2000\"; }, { action = \"allow\"; proto = \"udp\"; ports = \"1500\"; } ); };",
	  "l4.rules[1]: never matches" },
	{ "l4 = { default = \"accept\"; };", "l4.default: unknown value" },
	{ "dns = { upstream = \"dns.example\"; };", "is not an IP address" },
	{ "dns = { upstream = \"198.18.0.53:0\"; };", "is not an IP address" },
	{ "dns = { window = \"10 s\"; };", "\"10 s\" is not a duration" },
	{ "dns = { window = \"0s\"; };", "window: must be between" },
	{ "dns = { mode = \"server\"; };", "mode \"server\" needs servers" },
	{ "dns = { mode = \"drop\"; deny = [\".x.test\"]; };",
	  "dns.deny: only used with mode \"gateway\"" },
	{ "dns = { max_name = 300; };", "max_name: 300 is out of range 1..253" },
	{ "dns = { max_name = 20; max_label = 40; };", "max_label (40) is larger" },
	{ "dns = { deny = [\"*.evil\"]; };", "wildcards are not supported" },
	{ "secrets = ( { name = \"g\"; host = \"a.test\"; format = \"Bearer\"; file = \"/s\"; } );",
	  "must contain exactly one %s" },
	{ "secrets = ( { name = \"g\"; host = \"a.test\"; format = \"%s:%s\"; file = \"/s\"; } );",
	  "must contain exactly one %s" },
	{ "secrets = ( { name = \"g\"; host = \"a.test\"; format = \"%d %s\"; file = \"/s\"; } );",
	  "must contain exactly one %s" },
	{ "secrets = ( { name = \"g\"; host = \"a.test\"; header = \"Authorization:\"; file = \"/s\"; } );",
	  "is not a header field name" },
	{ "secrets = ( { name = \"g\"; host = \"a.test\"; header = \"transfer-encoding\"; file = \"/s\"; } );",
	  "hop-by-hop or framing header" },
	{ "secrets = ( { name = \"g\"; host = \"a.test\"; header = \"Host\"; file = \"/s\"; } );",
	  "hop-by-hop or framing header" },
	{ "secrets = ( { name = \"g\"; host = \"a.test\"; file = \"/s\"; env = \"TOKEN\"; } );",
	  "give either file or env, not both" },
	{ "secrets = ( { name = \"g\"; host = \"a.test\"; } );",
	  "say where the value comes from" },
	{ "secrets = ( { name = \"g\"; host = \"a.test\"; env = \"1TOKEN\"; } );",
	  "is not an environment variable name" },
	{ "secrets = ( { name = \"g\"; host = \"a.test\"; env = \"T\"; placeholder = \"x\"; } );",
	  "placeholder: must be at least 8 characters" },
	{ "secrets = ( { name = \"g\"; host = \"a.test\"; env = \"T\"; }, { name = \"g\"; host = \"b.test\"; env = \"U\"; } );",
	  "duplicate secret name \"g\"" },
	{ "secrets = ( { name = \"g\"; env = \"T\"; } );",
	  "secrets[0].host: required key is missing" },
	{ "policy = { rules = ( { action = \"allow\"; tags = []; } ); };",
	  "tags: empty list (leave tags out to match every guest)" },
	{ "policy = { rules = ( { action = \"allow\"; tags = [\"a\", \"a\"]; } ); };",
	  "tag \"a\" given twice" },
	{ "policy = { rules = ( { action = \"deny\"; tags = [\"ci\"]; }, { action = \"deny\"; host = \"x.test\"; tags = [\"ci\", \"b\"]; } ); };",
	  "redundant: the entry at line 2" },
	{ "secrets = ( { name = \"g\"; host = \"a.test\"; env = \"T\"; tags = [\"\"]; } );",
	  "\"\" is not a Slicer tag" },
};

static const struct {
	const char	*text;
	int		line;
	const char	*want;
} file_cases[] = {
	{ "workers = 1;\nwokers = 2;\n" G1 GEND, 2, "wokers: unknown key" },
	{ "workers = -1;\n" G1 GEND, 1, "workers: -1 is out of range" },
	{ "log_level = \"verbose\";\n" G1 GEND, 1, "log_level: expected one" },
	{ "upstream_mark = 5;\ntproxy_mark = 5;\n" G1 GEND, 2,
	  "upstream_mark and tproxy_mark must differ" },
	{ "tproxy_table = 254;\n" G1 GEND, 1, "reserved table" },
	{ "metrics = {\n listen = \"localhost:9477\";\n};\n" G1 GEND, 2,
	  "metrics.listen: \"localhost:9477\" is not an IP address" },
	{ "metrics = {\n listen = \"127.0.0.1\";\n};\n" G1 GEND, 2,
	  "metrics.listen: \"127.0.0.1\" needs a port" },
	{ "metrics = {\n listen = \"127.0.0.1:99999\";\n};\n" G1 GEND, 2,
	  "metrics.listen: \"127.0.0.1:99999\" is not an IP address" },
	{ "metrics = {\n port = 9477;\n};\n" G1 GEND, 2,
	  "metrics.port: unknown key" },
	{ "metrics = {\n listen = 9477;\n};\n" G1 GEND, 2,
	  "metrics.listen" },
	{ "control_socket = \"run/x.sock\";\n" G1 GEND, 1,
	  "must be an absolute path" },
	{ "limits = {\n max_header_bytes = 10;\n};\n" G1 GEND, 2,
	  "limits.max_header_bytes: 10 is out of range" },
	{ "limits = {\n idle_timeout = \"soon\";\n};\n" G1 GEND, 2,
	  "\"soon\" is not a duration" },
	{ "limits = {\n bogus = 1;\n};\n" G1 GEND, 2, "limits.bogus: unknown key" },
	{ "limits = 5;\n" G1 GEND, 1, "limits: must be a group" },
	{ "audit = { format = \"xml\"; };\n" G1 GEND, 1,
	  "audit.format: unknown value \"xml\" (expected one of: squid, json)" },
	{ "nfqueue = { num = 70000; };\n" G1 GEND, 1, "nfqueue.num: 70000" },
	{ "slicer = { token_file = \"/t\"; };\n" G1 GEND, 1,
	  "slicer.url: missing" },
	{ "slicer = {\n url = \"https://127.0.0.1:8080\";\n};\n" G1 GEND, 2,
	  "slicer.url: https is not supported" },
	{ "slicer = {\n url = \"http://127.0.0.1:8080\";\n unknown = \"deny\";\n};\n"
	  G1 GEND, 3, "slicer.unknown: unknown value \"deny\" (expected one of: "
	  "allow, refuse)" },
	{ "slicer = {\n url = \"http://127.0.0.1:8080\";\n refresh = \"100ms\";\n};\n"
	  G1 GEND, 3, "slicer.refresh: must be between 1000ms and 3600000ms" },
	{ "slicer = {\n url = \"http://h\";\n token_file = \"rel\";\n};\n" G1
	  GEND, 3, "slicer.token_file: must be an absolute path" },
	{ G1 "policy = { rules = ( { action = \"allow\"; tags = [\"ci\"]; } ); };"
	  GEND, 1, "the rule at line 2 has tags, which need a slicer section" },
	{ G1 "secrets = ( { name = \"g\"; host = \"a.test\"; env = \"T\"; tags = [\"ci\"]; } );"
	  GEND, 1, "the secret at line 2 has tags, which need a slicer section" },
	{ "workers = 1;\n", 0, "groups: required key is missing" },
	{ "groups = ();\n", 1, "at least one group" },
	{ "groups = { a = 1; };\n", 1, "groups: must be a list" },
	{ "groups = ( 5 );\n", 1, "groups[0]: must be a group" },
	{ "workers = 1;\nuser = = 2;\n", 2, "syntax error" },
	{ "workers = 1;\nworkers = 2;\n", 2, "duplicate setting name" },
	{ "workers = 1;\n\"x\" = 2;\n", 2,
	  "syntax error (a string where a setting name should be)" },
	{ "a = ( \"x\", \"y\" );\nb = { c = 1, \"z\" };\n", 2,
	  "syntax error (a string where" },
	{ "a = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]];\n",
	  1, "nested deeper than 64 levels" },
	{ "workers = 1;\n  @include \"/dev/zero\"\n", 2,
	  "@include is not supported" },
	{ "groups = ( { name = \"a\"; guests = [\"10.0.0.0/24\"];\n"
	  "  capture = { mode = \"nat\"; http_port = 1; https_port = 2; }; } );\n",
	  2, "capture.mode: unknown value \"nat\"" },
	{ "groups = (\n { name = \"a\"; guests = [\"10.0.0.0/24\"]; capture = { http_port = 1; https_port = 1; }; }\n);\n",
	  2, "http_port and https_port are both 1" },
	{ "groups = (\n { name = \"a\"; capture = { http_port = 1; https_port = 2; }; }\n);\n",
	  2, "give guests (source CIDRs), interfaces, or both" },
	{ "groups = (\n { guests = [\"10.0.0.0/24\"]; capture = { http_port = 1; https_port = 2; }; }\n);\n",
	  2, "groups[0].name: required key is missing" },
	{ "groups = (\n { name = \"a\"; guests = [\"10.0.0.0/24\"]; }\n);\n",
	  2, "groups[0].capture: required key is missing" },
	{ "groups = (\n { name = \"a/b\"; guests = [\"10.0.0.0/24\"]; capture = { http_port = 1; https_port = 2; }; }\n);\n",
	  2, "a group name is 1-32 letters" },
	{ "groups = (\n { name = \"a\"; guests = [\"10.0.0.0/24\"]; capture = { http_port = 1; https_port = 2; }; },\n"
	  " { name = \"a\"; guests = [\"10.1.0.0/24\"]; capture = { http_port = 3; https_port = 4; }; }\n);\n",
	  3, "group \"a\": name already used at line 2" },
	{ "groups = (\n { name = \"a\"; guests = [\"10.0.0.0/24\"]; capture = { http_port = 1; https_port = 2; }; },\n"
	  " { name = \"b\"; guests = [\"10.1.0.0/24\"]; capture = { http_port = 2; https_port = 4; }; }\n);\n",
	  3, "http_port 2 is already used by the group at line 2" },
	{ "groups = (\n { name = \"a\"; guests = [\"10.0.0.0/16\"]; capture = { http_port = 1; https_port = 2; }; },\n"
	  " { name = \"b\"; guests = [\"10.0.5.0/24\"]; capture = { http_port = 3; https_port = 4; }; }\n);\n",
	  3, "guests 10.0.5.0/24 overlaps 10.0.0.0/16 of the group at line 2" },
	{ "groups = (\n { name = \"a\"; guests = [\"10.0.0.0/16\"]; capture = { http_port = 1; https_port = 2; }; dns = { listen_port = 2; }; }\n);\n",
	  2, "dns.listen_port 2 is a capture port" },
};

/* Slicer's isolated mode: "<group>-<N>" in 15 characters; warned, loaded. */
static void
test_slicer_name_warning(void)
{
	static const struct {
		const char	*name, *ifname;
		int		warn;
	} cases[] = {
		{ "agents", "ve-*", 0 },
		{ "agents-sandb", "ve-*", 0 },		/* 12: -1..-99 fit */
		{ "agents-sandbx", "ve-*", 1 },		/* 13: -1..-9 only */
		{ "isolated-agents", "ve-*", 1 },	/* Slicer's own example */
		{ "isolated-agents", "bragents0", 0 },	/* bridge: no limit */
	};
	struct gw_config *c;
	char text[512], *msgs;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(text, sizeof(text), "groups = ( { name = \"%s\";\n"
		    "interfaces = [ \"%s\" ]; guests = [ \"10.0.0.0/24\" ];\n"
		    "capture = { http_port = 3128; https_port = 3129; }; } );\n",
		    cases[i].name, cases[i].ifname);
		c = load(text, &msgs);
		ok(c != NULL, "slicer name case %zu (%s on %s) loads", i,
		    cases[i].name, cases[i].ifname);
		if (!ok((strstr(msgs, "t.conf:1: warning: ") != NULL &&
		    strstr(msgs, "Slicer's isolated mode") != NULL) ==
		    cases[i].warn, "  %s", cases[i].warn ? "warned" :
		    "no warning"))
			diag("  got: %s", msgs);
		config_unref(c);
		free(msgs);
	}
}

/* metrics.listen: parsed, off by default; the file's hash is kept. */
static void
test_metrics_key(void)
{
	struct gw_config *c;
	char *msgs, abuf[ADDR_STRLEN];

	c = load(G1 GEND, &msgs);
	ok(c != NULL && c->metrics_listen == NULL, "metrics off by default");
	ok(c != NULL && strlen(c->hash) == 64, "the file's SHA-256 is kept");
	config_unref(c);
	free(msgs);
	c = load("metrics = { listen = \"[::1]:9477\"; };\n" G1 GEND, &msgs);
	ok(c != NULL, "metrics.listen loads: %s", msgs);
	if (c != NULL)
		is_str(addr_ntop_port(&c->metrics_addr, abuf, sizeof(abuf)),
		    "[::1]:9477", "address and port parsed");
	config_unref(c);
	free(msgs);
	/* The hash of "" is the well-known SHA-256 of the empty string;
	 * "" is no valid config, so hash a valid one twice instead. */
	{
		struct gw_config *a = load(G1 GEND, &msgs), *b;
		char *m2;

		free(msgs);
		b = load(G1 GEND "\n", &m2);
		free(m2);
		ok(a && b && strcmp(a->hash, b->hash) != 0,
		    "one more byte: another hash");
		config_unref(a);
		config_unref(b);
	}
}

static void
test_slicer_config(void)
{
	struct gw_config *c;
	char *msgs;

	c = load("slicer = { url = \"http://127.0.0.1:8080\"; "
	    "token_file = \"/var/lib/slicer/auth/token\"; refresh = \"30s\"; "
	    "unknown = \"refuse\"; };\n" G1
	    "policy = { rules = ( { action = \"allow\"; host = \"pypi.org\"; "
	    "tags = [\"ci\", \"user=alice\"]; } ); };\n"
	    "secrets = ( { name = \"g\"; host = \"a.test\"; env = \"T\"; "
	    "tags = \"ci\"; } );" GEND, &msgs);
	ok(c != NULL, "slicer section and tags load (%s)", msgs);
	if (c != NULL) {
		ok(strcmp(c->slicer.url, "http://127.0.0.1:8080") == 0 &&
		    c->slicer.refresh_ms == 30000 &&
		    c->slicer.unknown == SLICER_UNKNOWN_REFUSE,
		    "slicer values");
		ok(c->groups[0].policy.rules[0].ntags == 2 &&
		    strcmp(c->groups[0].policy.rules[0].tags[1],
		    "user=alice") == 0, "rule tags");
		ok(c->groups[0].secrets[0].ntags == 1 &&
		    strcmp(c->groups[0].secrets[0].tags[0], "ci") == 0,
		    "secret tags (one string)");
	}
	config_unref(c);
	free(msgs);
	c = load(G1 GEND, &msgs);
	ok(c != NULL && c->slicer.url == NULL && c->slicer.refresh_ms == 10000
	    && c->slicer.unknown == SLICER_UNKNOWN_ALLOW,
	    "no slicer section: no lookup, defaults");
	config_unref(c);
	free(msgs);
}

static void
test_bad_configs(void)
{
	struct gw_config *c;
	char text[4096], *msgs;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(group_cases); i++) {
		snprintf(text, sizeof(text), G1 "%s" GEND,
		    group_cases[i].snippet);
		c = load(text, &msgs);
		ok(c == NULL, "group case %zu refused", i);
		if (!ok(has_msg(msgs, 2, group_cases[i].want),
		    "group case %zu: line 2: %s", i, group_cases[i].want))
			diag("  got: %s", msgs);
		config_unref(c);
		free(msgs);
	}
	for (i = 0; i < ARRAY_SIZE(file_cases); i++) {
		c = load(file_cases[i].text, &msgs);
		ok(c == NULL, "file case %zu refused", i);
		if (!ok(has_msg(msgs, file_cases[i].line, file_cases[i].want),
		    "file case %zu: line %d: %s", i, file_cases[i].line,
		    file_cases[i].want))
			diag("  got: %s", msgs);
		config_unref(c);
		free(msgs);
	}
}

/* Prefixes that a canonical path can start with are accepted. */
static void
test_path_prefixes(void)
{
	static const char *ok_paths[] = {
		"/a/.", "/a/..", "/a/", "/", "/s?q=a;b//../x", "/a/?q",
		"/.well-known/",
	};
	struct gw_config *c;
	char text[1024], *msgs;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok_paths); i++) {
		snprintf(text, sizeof(text), G1 "policy = { rules = ( { action "
		    "= \"deny\"; host = \"a.test\"; path = \"%s\"; } ); };"
		    GEND, ok_paths[i]);
		c = load(text, &msgs);
		if (!ok(c != NULL, "path prefix %s accepted", ok_paths[i]))
			diag("  got: %s", msgs);
		config_unref(c);
		free(msgs);
	}
}

static void
test_all_errors(void)
{
	static const char text[] =
	    "workers = 1;\n"
	    "wokers = 2;\n"
	    "limits = { max_conns = 0; };\n"
	    "groups = ( { name = \"a\"; guests = [\"10.0.0.1/24\"];\n"
	    "  capture = { http_port = 3128; https_port = 3129; };\n"
	    "  policy = { rules = ( { action = \"allow\"; path = \"x\"; } ); };\n"
	    "  dns = { upstream = \"nope\"; };\n"
	    "} );\n";
	struct gw_config *c;
	char *msgs;

	c = load(text, &msgs);
	ok(c == NULL, "several errors: refused");
	is(count_lines(msgs), 5, "several errors: five messages");
	ok(has_msg(msgs, 2, "wokers"), "error on line 2");
	ok(has_msg(msgs, 3, "max_conns"), "error on line 3");
	ok(has_msg(msgs, 4, "host bits"), "error on line 4");
	ok(has_msg(msgs, 6, "must start with '/'"), "error on line 6");
	ok(has_msg(msgs, 7, "not an IP address"), "error on line 7");
	free(msgs);
	config_unref(c);
}

static void
test_example(void)
{
	const char *path = GW_SOURCE_ROOT "/docs/examples/gatewayd.conf";
	const struct group_config *g;
	const struct policy_rule *r;
	struct policy_verdict v;
	struct policy_query q = { 0 };
	struct gw_config *c;
	char buf[64];

	c = config_load(path, stdout);
	if (!ok(c != NULL, "example %s loads", path))
		return;
	is(c->ngroups, 2, "example: two groups");
	g = config_group(c, "agents");
	ok(g != NULL && g == &c->groups[0], "config_group agents");
	ok(config_group(c, "nope") == NULL, "config_group unknown");
	if (g == NULL)
		goto out;
	is(g->nguests, 1, "agents guests");
	is_str(cidr_ntop(&g->guests[0], buf, sizeof(buf)), "169.254.60.0/22",
	    "agents guest cidr");
	is(g->ninterfaces, 1, "agents interfaces");
	is_str(g->interfaces[0], "ve-*", "agents interface");
	is_str(g->ca_dir, ".slicer/ca/agents", "agents ca_dir");
	is(g->mode, CAPTURE_TPROXY, "agents tproxy");
	is(g->http_port, 3128, "http_port");
	is(g->https_port, 3129, "https_port");
	is(g->policy.dflt, POLICY_ALLOW, "policy default allow");
	is(g->policy.ninternal_allow, 1, "internal_allow");
	is(g->policy.nrules, 4, "four rules");
	r = &g->policy.rules[0];
	is(r->action, POLICY_DENY, "rule 0 deny");
	is_str(r->host, "wikipedia.org", "rule 0 host stored without dot");
	ok(r->host_suffix, "rule 0 suffix");
	ok(r->line > 1 && r->label != NULL &&
	    strncmp(r->label, "rule 1 (line ", 13) == 0, "rule 0 label %s",
	    r->label ? r->label : "(null)");
	is(g->policy.rules[1].action, POLICY_SPLICE, "rule 1 splice");
	r = &g->policy.rules[2];
	is(r->methods, METHOD_GET | METHOD_HEAD, "rule 2 methods");
	is(r->port_lo, 443, "rule 2 port");
	is(r->port_hi, 443, "rule 2 port hi");
	is_str(r->path_prefix, "/repos/", "rule 2 path");
	is_str(r->label, "github-read", "rule 2 name");
	is(g->negress, 2, "egress entries");
	is(g->egress[0].action, EGRESS_ALLOW, "egress 0 allow");
	is(g->egress[0].proto, L4_TCP, "egress 0 tcp");
	is(g->egress[0].port_lo, 5432, "egress 0 port");
	is(g->egress[1].action, EGRESS_DROP, "egress 1 drop");
	is(g->nl4, 3, "l4 rules");
	ok(!g->l4_default_allow, "l4 default deny");
	is_str(g->l4[0].host, "db.internal.example.com", "l4 host");
	is(g->l4[1].proto, L4_UDP, "l4 udp");
	is(g->l4[1].port_lo, 1000, "l4 range lo");
	is(g->l4[1].port_hi, 2000, "l4 range hi");
	ok(g->l4[2].reset, "l4 reset");
	is(g->dns.mode, DNS_GATEWAY, "dns gateway");
	is_str(addr_ntop(&g->dns.upstream, buf, sizeof(buf)), "198.18.0.53",
	    "dns upstream");
	is(g->dns.upstream.port, 53, "dns upstream port");
	is(g->dns.ndeny_names, 1, "dns deny list");
	is_str(g->dns.deny_names[0], ".evil.example", "dns deny name");
	is(g->dns.unique_window_ms, 10000, "dns window");
	is(g->nsecrets, 1, "secrets");
	is_str(g->secrets[0].header, "Authorization", "secret header");
	is_str(g->secrets[0].format, "Bearer %s", "secret format");
	is(g->secrets[0].source, SECRET_FILE, "secret from file");
	is_str(g->secrets[0].source_ref, "/etc/gatewayd/secrets/github",
	    "secret file");
	is_str(g->secrets[0].placeholder, "GITHUB_TOKEN_PLACEHOLDER",
	    "placeholder");

	g = &c->groups[1];
	is_str(g->name, "ci", "second group");
	is(g->mode, CAPTURE_REDIRECT, "ci redirect");
	is_str(g->ca_dir, ".slicer/ca/ci", "ca_dir default from name");
	is(g->dns.mode, DNS_SERVER, "ci dns server");
	is(g->dns.nservers, 1, "ci dns servers");
	is(g->policy.dflt, POLICY_DENY, "ci default deny");

	/* the loaded tables drive policy_decide() */
	g = &c->groups[0];
	q.host = "en.wikipedia.org";
	q.port = 443;
	policy_decide(&g->policy, &q, &v);
	is(v.action, POLICY_DENY, "example: wikipedia denied");
	q.host = "api.github.com";
	policy_decide(&g->policy, &q, &v);
	is(v.action, POLICY_INSPECT, "example: github inspected");
	q.request = true;
	q.method = METHOD_GET;
	q.path = "/repos/x/y";
	policy_decide(&g->policy, &q, &v);
	is(v.action, POLICY_ALLOW, "example: github GET /repos/ allowed");
	is_str(policy_verdict_label(&v), "github-read", "example: label");
	q.method = METHOD_DELETE;
	policy_decide(&g->policy, &q, &v);
	is(v.action, POLICY_DENY, "example: github DELETE denied");
out:
	config_unref(c);
}

static void
test_defaults(void)
{
	struct gw_config *c;
	const struct group_config *g;
	char *msgs;

	c = load(G1 GEND, &msgs);
	if (!ok(c != NULL, "minimal config loads"))
		diag("  got: %s", msgs);
	free(msgs);
	if (c == NULL)
		return;
	is(c->workers, 0, "workers default");
	is(c->upstream_mark, 0x4757, "upstream_mark default");
	is(c->tproxy_mark, 0x4758, "tproxy_mark default");
	is(c->tproxy_table, 4758, "tproxy_table default");
	is_str(c->control_socket, "/run/gatewayd/control.sock",
	    "control_socket default");
	ok(c->user == NULL && c->state_file == NULL && c->trust_file == NULL,
	    "optional strings unset");
	is(c->nfqueue_num, 4758, "nfqueue default");
	ok(!c->nfqueue_fail_open, "fail closed by default");
	is(c->limits.max_conns, 16384, "max_conns default");
	is(c->limits.max_conns_per_guest, 512, "per guest default");
	is(c->limits.max_header_bytes, 32768, "header bytes default");
	is(c->limits.header_timeout_ms, 10000, "header timeout default");
	is(c->limits.idle_timeout_ms, 120000, "idle default");
	is(c->limits.response_timeout_ms, 900000, "response timeout default");
	is(c->limits.connect_timeout_ms, 10000, "connect default");
	is(c->limits.drain_timeout_ms, 10000, "drain default");
	is(c->limits.leaf_cache_size, 1024, "leaf cache default");
	is_str(c->audit_path, "-", "audit path default");
	is(c->audit_format, LOGFMT_SQUID, "audit format default");
	is_str(c->log_level, "info", "log level default");
	g = &c->groups[0];
	is(g->mode, CAPTURE_TPROXY, "capture mode default");
	is(g->policy.dflt, POLICY_DENY, "policy default deny");
	is(g->policy.nrules, 0, "no rules");
	ok(!g->l4_default_allow, "l4 default deny");
	is(g->dns.mode, DNS_GATEWAY, "dns mode default");
	is(g->dns.upstream.family, 0, "dns upstream unset");
	is(g->dns.listen_port, 5300, "dns listen port default");
	ok(g->dns.names_default_allow, "dns names default allow");
	is(g->dns.max_name_len, 200, "max_name default");
	is(g->dns.max_label_len, 63, "max_label default");

	/* hex above 0x7fffffff (libconfig 1.5 reads it as negative) */
	config_unref(c);
	c = load("upstream_mark = 0xffffffff;\n# \"comment\" = 1;\n"
	    "/* \"x\" */ tproxy_mark = 0x80000000;\n" G1 GEND, &msgs);
	if (!ok(c != NULL, "hex marks load"))
		diag("  got: %s", msgs);
	free(msgs);
	if (c == NULL)
		return;
	is(c->upstream_mark, 0xffffffffu, "upstream_mark 0xffffffff");
	is(c->tproxy_mark, 0x80000000u, "tproxy_mark 0x80000000");

	/* reference counting */
	is(config_ref(c), c, "ref returns the config");
	is(c->refs, 2, "two refs");
	config_unref(c);
	is(c->refs, 1, "one ref left");
	config_unref(c);
	config_unref(NULL);
}

static void
test_match_group(void)
{
	static const char text[] =
	    "groups = (\n"
	    " { name = \"a\"; guests = [\"169.254.60.0/22\"]; interfaces = [\"ve-*\"];\n"
	    "   capture = { http_port = 1; https_port = 2; }; },\n"
	    " { name = \"b\"; interfaces = [\"br-ci\"];\n"
	    "   capture = { http_port = 3; https_port = 4; }; },\n"
	    " { name = \"c\"; guests = [\"10.0.0.0/24\", \"2001:db8::/64\"];\n"
	    "   capture = { http_port = 5; https_port = 6; }; }\n"
	    ");\n";
	static const struct {
		const char *src, *ifname, *group;
	} cases[] = {
		{ "169.254.60.2", "ve-abc", "a" },
		{ "169.254.63.255", "ve-", "a" },
		{ "169.254.60.2", NULL, "a" },
		{ "169.254.60.2", "", "a" },
		{ "169.254.60.2", "eth0", NULL },
		{ "169.254.64.1", "ve-abc", NULL },
		{ "10.9.9.9", "br-ci", "b" },
		{ "10.9.9.9", "br-ci2", NULL },
		{ NULL, "br-ci", "b" },
		/* an interface-only group needs the interface name */
		{ "10.9.9.9", NULL, NULL },
		{ "::ffff:10.0.0.5", "x", "c" },
		{ "2001:db8::5", NULL, "c" },
		{ "2001:db8:1::5", NULL, NULL },
	};
	const struct group_config *g;
	struct gw_config *c;
	struct addr a;
	char *msgs;
	size_t i;

	c = load(text, &msgs);
	if (!ok(c != NULL, "match config loads"))
		diag("  got: %s", msgs);
	free(msgs);
	if (c == NULL)
		return;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (cases[i].src != NULL && addr_parse(cases[i].src, &a) != 0)
			continue;
		g = config_match_group(c, cases[i].src ? &a : NULL,
		    cases[i].ifname);
		is_str(g ? g->name : NULL, cases[i].group, "match %s on %s",
		    cases[i].src ? cases[i].src : "(none)",
		    cases[i].ifname ? cases[i].ifname : "(none)");
	}
	config_unref(c);

	ok(config_ifname_match("ve-*", "ve-1"), "ve-* ve-1");
	ok(config_ifname_match("ve-*", "ve-"), "ve-* ve-");
	ok(!config_ifname_match("ve-*", "v"), "ve-* v");
	ok(!config_ifname_match("ve-*", "vex1"), "ve-* vex1");
	ok(config_ifname_match("br0", "br0"), "br0 br0");
	ok(!config_ifname_match("br0", "br01"), "br0 br01");
	ok(config_ifname_match("*", "anything"), "* anything");
}

static void
test_restart_needed(void)
{
	static const char a[] =
	    "workers = 1;\nlimits = { max_conns = 10; };\n"
	    "groups = ( { name = \"a\"; guests = [\"10.0.0.0/24\"];\n"
	    " capture = { http_port = 1; https_port = 2; };\n"
	    " policy = { default = \"allow\"; }; dns = { mode = \"gateway\"; }; },\n"
	    " { name = \"b\"; guests = [\"10.1.0.0/24\"];\n"
	    " capture = { http_port = 3; https_port = 4; }; } );\n";
	static const char b[] =
	    "workers = 2;\nlimits = { max_conns = 20; };\n"
	    "groups = ( { name = \"a\"; guests = [\"10.0.0.0/23\"];\n"
	    " capture = { http_port = 5; https_port = 2; };\n"
	    " policy = { default = \"deny\"; }; dns = { mode = \"drop\"; }; },\n"
	    " { name = \"c\"; guests = [\"10.1.0.0/24\"];\n"
	    " capture = { http_port = 3; https_port = 4; }; } );\n";
	struct gw_config *ca, *cb;
	char *msgs, *diff;
	size_t len;
	FILE *f;

	ca = load(a, &msgs);
	free(msgs);
	cb = load(b, &msgs);
	free(msgs);
	if (!ok(ca != NULL && cb != NULL, "restart configs load"))
		goto out;
	is(config_restart_needed(ca, ca, NULL), 0, "same config: no restart");
	f = open_memstream(&diff, &len);
	is(config_restart_needed(ca, cb, f), 5, "five restart-only changes");
	fclose(f);
	ok(strstr(diff, "workers: changed") != NULL, "workers reported");
	ok(strstr(diff, "group \"a\".capture.http_port: changed") != NULL,
	    "capture port reported");
	ok(strstr(diff, "group \"a\".dns.mode: changed") != NULL,
	    "dns mode reported");
	ok(strstr(diff, "guests") == NULL, "guests apply on reload");
	ok(strstr(diff, "group \"c\": added") != NULL, "added group");
	ok(strstr(diff, "group \"b\": removed") != NULL, "removed group");
	ok(strstr(diff, "max_conns") == NULL && strstr(diff, "policy") == NULL,
	    "reloadable keys not reported");
	free(diff);
out:
	config_unref(ca);
	config_unref(cb);
}

static void
test_files(void)
{
	char path[] = "/tmp/test_config.XXXXXX";
	struct gw_config *c;
	char *msgs;
	size_t len;
	FILE *f;
	int fd;

	f = open_memstream(&msgs, &len);
	c = config_load("/nonexistent/gatewayd.conf", f);
	fclose(f);
	ok(c == NULL && strstr(msgs, "/nonexistent/gatewayd.conf: No such "
	    "file") != NULL, "missing file reported");
	free(msgs);

	f = open_memstream(&msgs, &len);
	c = config_load("/tmp", f);
	fclose(f);
	ok(c == NULL && strstr(msgs, "not a regular file") != NULL,
	    "directory refused");
	free(msgs);

	fd = mkstemp(path);
	if (!ok(fd != -1, "temp file"))
		return;
	if (write(fd, "workers = 1;\0\n", 14) != 14)
		ok(0, "write temp file");
	close(fd);
	f = open_memstream(&msgs, &len);
	c = config_load(path, f);
	fclose(f);
	ok(c == NULL && strstr(msgs, "NUL byte") != NULL, "NUL refused");
	free(msgs);
	unlink(path);
}

int
main(void)
{
	test_example();
	test_defaults();
	test_bad_configs();
	test_metrics_key();
	test_slicer_config();
	test_slicer_name_warning();
	test_path_prefixes();
	test_all_errors();
	test_match_group();
	test_restart_needed();
	test_files();
	return tap_done();
}
