/*
 * l4_alog.h - the audit sink of the non-HTTP side: NFQUEUE flow verdicts
 * and DNS queries go to the same audit log as HTTP requests.
 */
#ifndef GW_L4_ALOG_H
#define GW_L4_ALOG_H

#include "l4policy.h"

/*
 * l4_audit_sink callback; arg is the struct alog *.  Thread-safe (alog
 * is); the record is copied into the log's queue before returning.
 */
void l4_alog_sink(void *arg, const struct l4_audit *a);

#endif
