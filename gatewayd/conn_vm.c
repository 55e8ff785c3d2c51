/*
 * conn_vm.c - what a connection's VM (slicer.h) adds to its policy
 * queries and audit records.  The VM was looked up once, when the
 * connection was accepted (conn_new), and is held until it is freed: a
 * connection is judged and logged as the VM Slicer named at its start.
 */
#include "conn.h"

#include "alog.h"
#include "runtime.h"
#include "slicer.h"

void
conn_vm_query(const struct conn *c, struct policy_query *q)
{
	if (c->vm != NULL) {
		q->tags = c->vm->tags;
		q->ntags = c->vm->ntags;
		return;
	}
	q->unknown_vm = c->rt != NULL &&
	    c->rt->cfg->slicer.unknown == SLICER_UNKNOWN_REFUSE;
}

void
conn_vm_audit(const struct conn *c, struct alog_record *r)
{
	r->vm = c->vm;
}
