/*
 * config.h - the gateway's configuration: one libconfig file, parsed and
 * validated in full into an immutable struct gw_config.
 *
 * Life cycle: config_load() builds a fresh config (all errors reported with
 * file:line, not just the first); the daemon swaps it in under a reference
 * count (config_ref/config_unref) so that connections keep the config they
 * started with, and a bad file on SIGHUP leaves the old one running.
 * After config_load() returns, nothing in the struct is modified; any
 * thread may read it while it holds a reference.
 *
 * docs/configuration.md documents every key; docs/examples/gatewayd.conf
 * is a complete example and is checked by the test suite.
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "policy.h"

enum capture_mode {
	CAPTURE_TPROXY = 0,	/* IP_TRANSPARENT listener; dst = getsockname */
	CAPTURE_REDIRECT,	/* nat redirect; dst = SO_ORIGINAL_DST */
};

enum log_format {
	LOGFMT_SQUID = 0,	/* Squid native access.log */
	LOGFMT_JSON,		/* one JSON object per line */
};

/* IP-level egress list entry, rendered into nftables (issue: nftables). */
enum egress_action {
	EGRESS_ALLOW = 0,
	EGRESS_DROP,
};

enum l4_proto {
	L4_ANY = 0,
	L4_TCP,
	L4_UDP,
	L4_ICMP,
};

struct egress_rule {
	enum egress_action	action;
	struct cidr		cidr;
	enum l4_proto		proto;		/* L4_ANY when not given */
	uint16_t		port_lo, port_hi; /* 0,0 = any */
	int			line;
};

/* Non-HTTP flow rule, judged from NFQUEUE (issue: non-HTTP egress). */
struct l4_rule {
	enum egress_action	action;		/* ALLOW (accept) or DROP */
	enum l4_proto		proto;		/* L4_ANY, L4_TCP, L4_UDP */
	struct cidr		*cidrs;		/* NULL = any (unless host) */
	size_t			ncidrs;
	char			*host;		/* name learnt from DNS, or NULL */
	bool			host_suffix;
	uint16_t		port_lo, port_hi;
	bool			reset;		/* refused TCP gets a RST */
	int			line;
	char			*label;
};

enum dns_mode {
	DNS_GATEWAY = 0,	/* guests' DNS is answered by gatewayd */
	DNS_SERVER,		/* only to the named servers, unfiltered */
	DNS_DROP,		/* no DNS at all */
};

struct dns_config {
	enum dns_mode	mode;
	struct addr	*servers;	/* DNS_SERVER: allowed resolvers */
	size_t		nservers;
	struct addr	upstream;	/* DNS_GATEWAY: resolver to forward to */
	uint16_t	listen_port;	/* DNS_GATEWAY: gatewayd's DNS port */
	bool		names_default_allow;
	char		**allow_names;	/* ".example.com" or "example.com" */
	size_t		nallow_names;
	char		**deny_names;
	size_t		ndeny_names;
	unsigned	max_name_len;	/* exfiltration guard: whole name */
	unsigned	max_label_len;	/* exfiltration guard: one label */
	unsigned	max_unique_subdomains;	/* per zone, guest, window */
	uint64_t	unique_window_ms;
	bool		refuse_nxdomain; /* NXDOMAIN instead of REFUSED */
};

enum secret_source {
	SECRET_FILE = 0,
	SECRET_ENV,
};

/* Credential injection (issue: secrets).  Values are loaded by secrets.c. */
struct secret_config {
	char		*name;
	char		*host;		/* exact, or suffix if written ".x" */
	bool		host_suffix;
	uint16_t	port;		/* 0 = 443 */
	char		*path_prefix;	/* NULL = any */
	unsigned	methods;	/* 0 = any */
	char		**tags;		/* Slicer VM tags, all required;
					 * NULL = any guest */
	size_t		ntags;
	char		*header;	/* default "Authorization" */
	char		*format;	/* contains one %s; default "Bearer %s" */
	enum secret_source source;
	char		*source_ref;	/* file path or environment variable */
	char		*placeholder;	/* optional constant the VM sends */
	bool		require_sentinel;
	int		line;
};

struct group_config {
	char			*name;
	struct cidr		*guests;	/* source CIDRs */
	size_t			nguests;
	char			**interfaces;	/* "ve-*", "br-agents" */
	size_t			ninterfaces;
	char			*ca_dir;	/* ca-tool's <dir>/<group> */
	enum capture_mode	mode;
	uint16_t		http_port;
	uint16_t		https_port;
	struct policy		policy;		/* HTTP/TLS rules */
	struct egress_rule	*egress;	/* IP-level list (nft) */
	size_t			negress;
	struct l4_rule		*l4;		/* NFQUEUE flow rules */
	size_t			nl4;
	bool			l4_default_allow;
	struct dns_config	dns;
	struct secret_config	*secrets;
	size_t			nsecrets;
	int			line;
};

struct limits_config {
	unsigned	max_conns;		/* whole gateway */
	unsigned	max_conns_per_guest;
	unsigned	max_header_bytes;	/* request head */
	uint64_t	header_timeout_ms;	/* slowloris guard */
	uint64_t	idle_timeout_ms;	/* nothing to do: between
						 * requests, tunnels, uploads */
	uint64_t	response_timeout_ms;	/* the response head, and
						 * between its bytes */
	uint64_t	response_head_timeout_ms; /* first byte to end of a
						 * response head */
	uint64_t	upstream_idle_timeout_ms; /* kept-alive upstream */
	uint64_t	connect_timeout_ms;	/* upstream TCP + TLS */
	uint64_t	drain_timeout_ms;	/* SIGTERM */
	unsigned	leaf_cache_size;
	/* One guest cannot starve the others (docs/configuration.md). */
	unsigned	lookups_per_guest;	/* queued name lookups */
	unsigned	leaf_mints_per_guest;	/* new leaves per second */
	unsigned	dns_tcp_per_guest;	/* DNS-over-TCP connections */
	unsigned	dns_pending_per_guest;	/* DNS queries upstream */
};

/* VM names from Slicer's REST API (slicer.h). */
enum slicer_unknown {
	SLICER_UNKNOWN_ALLOW = 0,	/* a guest not on the map: as before */
	SLICER_UNKNOWN_REFUSE,		/* 403, rule "unknown-vm" */
};

struct slicer_config {
	char		*url;		/* NULL: no lookup */
	char		*token_file;	/* NULL: no Authorization header */
	uint64_t	refresh_ms;
	unsigned	unknown;	/* enum slicer_unknown */
};

struct gw_config {
	char			*path;
	unsigned		workers;	/* 0 = one per core */
	char			*user;		/* drop to this user, or NULL */
	char			*control_socket;
	char			*state_file;	/* sentinels, or NULL */
	uint32_t		upstream_mark;	/* SO_MARK on own connections */
	uint32_t		tproxy_mark;	/* fwmark for tproxy routing */
	uint32_t		tproxy_table;	/* policy routing table */
	char			*trust_file;	/* upstream CA bundle, or NULL */
	char			*trust_dir;	/* upstream CA dir, or NULL */
	uint16_t		nfqueue_num;
	bool			nfqueue_fail_open;
	struct limits_config	limits;
	char			*audit_path;	/* "-" = stdout */
	enum log_format		audit_format;
	bool			audit_redact_query; /* drop ?query from URLs */
	char			*log_level;	/* "info", "debug"... */
	char			*metrics_listen; /* metrics.listen, or NULL */
	struct addr		metrics_addr;	/* ...parsed; port != 0 */
	char			hash[65];	/* SHA-256 of the file, hex */
	struct slicer_config	slicer;
	struct group_config	*groups;
	size_t			ngroups;
	int			refs;		/* owned by config_ref/unref */
};

/*
 * Parse and validate path into a new config.  On error returns NULL and
 * writes every problem, one per line as "file:line: message", to errs
 * (which may be NULL).  Caller owns the result (config_unref()).
 */
struct gw_config *config_load(const char *path, FILE *errs) WUNRES;

/*
 * The same from a string (the embedded default, unit tests, fuzzing);
 * name is used in messages.
 */
struct gw_config *config_load_string(const char *text, const char *name,
    FILE *errs) WUNRES;

/* Reference counting; atomic, thread-safe.  The last unref frees. */
struct gw_config *config_ref(struct gw_config *c);
void config_unref(struct gw_config *c);

/*
 * Reload helper: compare the keys that only take effect at start-up
 * (listeners, marks, threads, queue, guests, interfaces, DNS mode...;
 * "restart" in docs/configuration.md) between the running config and a
 * freshly loaded one.  Writes one line per difference ("path: changed;
 * takes effect after a restart") to errs (may be NULL) and returns their
 * number; 0 means the whole new config can be applied by a swap.
 * Pure; thread-safe while the caller holds references to both.
 */
unsigned config_restart_needed(const struct gw_config *old,
    const struct gw_config *new, FILE *errs);

/* Find a group by name; NULL if none. */
const struct group_config *config_group(const struct gw_config *c,
    const char *name);

/*
 * Find the group a guest belongs to, by source address and ingress
 * interface name (either may be NULL/empty when unknown).  A group
 * matches when the address is in one of its CIDRs (or it has none) and
 * the interface matches one of its patterns (or it has none, or ifname is
 * unknown and the group also has CIDRs: an interface-only group needs a
 * known ifname, so that it never catches every source by default).
 * IPv4-mapped src is folded to IPv4.  First group in file order wins.
 * NULL if none.
 */
const struct group_config *config_match_group(const struct gw_config *c,
    const struct addr *src, const char *ifname);

/*
 * Interface pattern match with nft iifname semantics: a trailing '*'
 * matches any suffix (prefix match), otherwise the name must be equal.
 * config_load() refuses '?' and inner '*', which nft does not have.
 */
bool config_ifname_match(const char *pattern, const char *ifname);

#endif
