/*
 * cmd_import.c - "ca-tool import <group> --cert F --key F": bring your own
 * CA (Vault, Smallstep, an offline root's intermediate...).
 *
 * Everything is validated before the disk is touched: a CA certificate
 * (basicConstraints CA:TRUE, keyUsage keyCertSign), a matching and
 * unencrypted key of a supported type, inside its validity period.  The
 * key is re-encoded as PKCS#8 PEM.
 */
#include <stdio.h>

#include "catool.h"

int cmd_import_main(int argc, char **argv);

int
cmd_import_main(int argc, char **argv)
{
	struct catool_opts o;
	struct ca *ca;
	char err[512];
	long left;
	int rc;

	if ((rc = catool_parse(argc, argv, CMD_IMPORT, &o)) != 0)
		return rc < 0 ? CATOOL_EXIT_OK : rc;
	ca = ca_load_files(o.cert, o.key, o.now, 0, err, sizeof(err));
	if (ca == NULL) {
		catool_err(&o, "%s", err);
		return CATOOL_EXIT_ERR;
	}
	left = ca_days_left(ca, o.now);
	if (left <= CATOOL_DEFAULT_WINDOW)
		fprintf(stderr, "ca-tool import %s: warning: this CA expires in "
		    "%ld days; \"rotate\" will replace it with a generated "
		    "one\n", o.group, left);
	rc = store_replace(&o, ca, "imported", false);
	ca_unref(ca);
	return rc;
}
