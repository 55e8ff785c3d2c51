/*
 * cmd_generate.c - "ca-tool generate <group>": a new CA pair.
 *
 * Refuses to replace a valid CA unless --force (an expired, invalid or
 * missing one is replaced).  The old pair is kept as ca.prev.*.
 */
#include "catool.h"

int cmd_generate_main(int argc, char **argv);

int
cmd_generate_main(int argc, char **argv)
{
	struct catool_opts o;
	struct pair cur;
	struct ca *ca;
	int rc;

	if ((rc = catool_parse(argc, argv, CMD_GENERATE, &o)) != 0)
		return rc < 0 ? CATOOL_EXIT_OK : rc;
	/* Refuse before touching the disk; store_replace re-checks. */
	store_read(&o, "ca", &cur);
	if (!o.force && store_refuse_valid(&o, &cur)) {
		store_pair_clear(&cur);
		return CATOOL_EXIT_ERR;
	}
	store_pair_clear(&cur);
	if ((ca = catool_generate(&o)) == NULL)
		return CATOOL_EXIT_ERR;
	rc = store_replace(&o, ca, "generated", !o.force);
	ca_unref(ca);
	return rc;
}
