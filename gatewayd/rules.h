/*
 * rules.h - the host groups' nftables policy: render it from a config,
 * and the `gatewayd rules apply|show|remove` command that installs it.
 *
 * One table per group and family, `inet gatewayd_<group>` (capture,
 * anti-spoofing, egress list, DNS control, NFQUEUE hand-off) and
 * `bridge gatewayd_<group>` (guest-to-guest isolation on a bridge).
 * Tables whose names do not start with "gatewayd_" are never touched.
 * The rule text is nftables/group.nft.in, embedded at build time;
 * nftables/README.md explains each chain.
 *
 * Contract with the daemon: in tproxy mode gatewayd listens with
 * IP_TRANSPARENT sockets bound to 0.0.0.0 / :: on the group's http_port
 * and https_port; in redirect mode with plain listeners on those ports.
 * DNS (dns.mode "gateway") is always a nat redirect, in both modes, to a
 * plain UDP and TCP listener on dns.listen_port.  Every connection the
 * gateway opens itself carries SO_MARK = upstream_mark.
 */
#ifndef GW_RULES_H
#define GW_RULES_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

/* Prefix of every table this project owns. */
#define RULES_TABLE_PREFIX	"gatewayd_"

struct rules_opts {
	/*
	 * The kernel has the nft "queue" expression (CONFIG_NFT_QUEUE).
	 * When false the hand-off chain holds only the fail-open/closed
	 * fallback, and `rules apply` inserts the xtables NFQUEUE target
	 * above it (rules_nfq.c).
	 */
	bool	nft_queue;
};

/*
 * Validate the nftables-relevant parts of c and write every problem as
 * "file:line: message" to errs (may be NULL).  Returns the number of
 * problems (0 = fine).  Checks: group names usable in table names,
 * interface patterns (nft supports only a trailing '*'), patterns shared
 * by two groups, marks and routing table, ports, DNS servers, egress
 * entries (ports with ICMP, reversed ranges, an entry that an earlier one
 * fully covers).  Pure; thread-safe.
 */
int rules_validate(const struct gw_config *c, FILE *errs) NONNULL(1);

/*
 * Render the whole transaction for c (every group, in file order) to out:
 * exactly what `rules apply` feeds to `nft -f`, minus the deletion of
 * stale tables.  Validates first; returns 0, or -1 with the problems on
 * errs and nothing guaranteed on out.  Thread-safe.
 */
int rules_render(const struct gw_config *c, const struct rules_opts *o,
    FILE *out, FILE *errs) WUNRES NONNULL(1, 2, 3);

/* True when some group of c captures with tproxy. */
bool rules_uses_tproxy(const struct gw_config *c) NONNULL(1);

/*
 * `gatewayd rules ACTION -c FILE`; argv[0] is the command name ("rules"),
 * argv[1] the action: apply, show or remove.  Returns the process exit
 * status: 0 done, 1 error (nothing changed unless said so on stderr),
 * 2 usage.  The nft and ip binaries are found in PATH, or named by the
 * environment variables GATEWAYD_NFT and GATEWAYD_IP.  Not thread-safe
 * (runs child processes, uses getopt).
 */
int rules_main(int argc, char **argv);

#endif
