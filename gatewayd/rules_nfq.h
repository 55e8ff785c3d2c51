/*
 * rules_nfq.h - insert the xtables NFQUEUE target into a group's hand-off
 * chain, for kernels without the nft "queue" expression (rules_nfq.c).
 */
#ifndef GW_RULES_NFQ_H
#define GW_RULES_NFQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/*
 * Insert "NFQUEUE --queue-num queue [--queue-bypass]" at the head of chain
 * in table "inet <table>", in one nf_tables transaction.  Needs
 * CAP_NET_ADMIN.  Returns 0, or -1 with a message in err.  Thread-safe
 * (own socket per call).
 */
int rules_nfq_insert(const char *table, const char *chain, uint16_t queue,
    bool bypass, char *err, size_t errlen) WUNRES NONNULL(1, 2, 5);

#endif
