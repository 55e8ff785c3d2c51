/*
 * cmd_env.c - "ca-tool env <group> [--shell|--json]": the trust-store kit
 * for a guest.
 *
 * Many runtimes ignore the system store even after update-ca-certificates
 * (Node), or take a setting that *replaces* it (Python requests, curl,
 * git, pip, Cargo, AWS SDKs): pointed at the group CA alone, such a
 * runtime would stop trusting every site that is spliced rather than
 * intercepted.  So the kit builds, in the guest, a merged bundle (the
 * guest's system roots plus the group CA) and points every replacing
 * setting at it, and the adding settings (Node, Deno) at the CA alone.
 *
 * The output is read in the guest, not on the host: it names the guest's
 * paths (the CA where Slicer writes it, /runner/ca.crt, unless --guest-ca)
 * and never embeds key material.  The host's current CA must be valid, so
 * that a kit is never handed out for a group with nothing to trust; its
 * fingerprint is printed so the guest side can be checked.
 * docs/guests.md says, per runtime, what was tested and what is only
 * documented.
 */
#include <stdio.h>
#include <string.h>

#include "catool.h"

int cmd_env_main(int argc, char **argv);

enum setting_kind {
	SET_BUNDLE,	/* replaces the store: the merged bundle */
	SET_CA,		/* adds to the runtime's own roots: the CA alone */
	SET_ON,		/* a switch: "1" */
};

static const struct setting {
	const char		*var;
	enum setting_kind	kind;
	const char		*runtime;
} settings[] = {
	{ "NODE_EXTRA_CA_CERTS", SET_CA, "Node.js, npm, npx (adds to Node's roots)" },
	{ "SSL_CERT_FILE", SET_BUNDLE, "OpenSSL-based tools, Python ssl, Go, Ruby, uv" },
	{ "REQUESTS_CA_BUNDLE", SET_BUNDLE, "Python requests (replaces certifi)" },
	{ "CURL_CA_BUNDLE", SET_BUNDLE, "curl" },
	{ "GIT_SSL_CAINFO", SET_BUNDLE, "git over HTTPS" },
	{ "PIP_CERT", SET_BUNDLE, "pip" },
	{ "UV_NATIVE_TLS", SET_ON, "uv: the system store (SSL_CERT_FILE), not its built-in roots" },
	{ "CARGO_HTTP_CAINFO", SET_BUNDLE, "Cargo" },
	{ "DENO_CERT", SET_CA, "Deno (adds to its roots)" },
	{ "AWS_CA_BUNDLE", SET_BUNDLE, "AWS CLI and SDKs" },
};

/* Where the guest's system roots may be, first readable one wins. */
static const char *const system_stores[] = {
	"/etc/ssl/certs/ca-certificates.crt",	/* Debian, Ubuntu, Alpine */
	"/etc/pki/tls/certs/ca-bundle.crt",	/* Fedora, RHEL */
	"/etc/ssl/cert.pem",			/* Arch, macOS-like */
};

static const char *
value_of(const struct setting *s)
{
	switch (s->kind) {
	case SET_BUNDLE:	return "$GATEWAYD_BUNDLE";
	case SET_CA:		return "$GATEWAYD_CA";
	default:		return "1";
	}
}

static void
print_shell(const struct catool_opts *o, const char *ca, const char *bundle,
    const char *desc)
{
	size_t i;

	printf("# ca-tool env %s: make a guest's runtimes trust the group CA\n"
	    "# host CA: %s\n"
	    "# Source it in the guest (. ./this-file), as the user that runs "
	    "the agent.\n", o->group, desc);
	printf("GATEWAYD_CA=\"%s\"\nGATEWAYD_BUNDLE=\"%s\"\n"
	    "mkdir -p \"${GATEWAYD_BUNDLE%%/*}\"\n", ca, bundle);
	printf("# the merged bundle: the guest's system roots plus the group "
	    "CA\nfor gw_sys in");
	for (i = 0; i < ARRAY_SIZE(system_stores); i++)
		printf(" %s", system_stores[i]);
	printf("; do\n\t[ -r \"$gw_sys\" ] && break\ndone\n"
	    "if [ -r \"$GATEWAYD_CA\" ] && [ -r \"$gw_sys\" ] &&\n"
	    "    { [ ! -s \"$GATEWAYD_BUNDLE\" ] || "
	    "[ \"$GATEWAYD_CA\" -nt \"$GATEWAYD_BUNDLE\" ]; }; then\n"
	    "\tcat \"$gw_sys\" \"$GATEWAYD_CA\" >\"$GATEWAYD_BUNDLE.$$\" &&\n"
	    "\t    mv -f \"$GATEWAYD_BUNDLE.$$\" \"$GATEWAYD_BUNDLE\"\n"
	    "fi\nunset gw_sys\n");
	for (i = 0; i < ARRAY_SIZE(settings); i++)
		printf("export %s=\"%s\"\t# %s\n", settings[i].var,
		    value_of(&settings[i]), settings[i].runtime);
	printf("# Java (once per JDK, as root):\n"
	    "#   keytool -importcert -noprompt -cacerts -storepass changeit "
	    "-alias gatewayd-%s -file \"$GATEWAYD_CA\"\n"
	    "# dockerd reads the system store: add the CA to it, restart "
	    "dockerd;\n#   images built or run in the guest need the CA "
	    "copied in.\n"
	    "# the system store itself (Debian, Ubuntu, as root):\n"
	    "#   cp \"$GATEWAYD_CA\" /usr/local/share/ca-certificates/"
	    "gatewayd-%s.crt && update-ca-certificates\n", o->group,
	    o->group);
}

static void
print_json(const struct catool_opts *o, const char *ca, const char *bundle,
    const struct ca_info *info)
{
	size_t i;

	printf("{\n  \"group\": ");
	catool_json_str(o->group);
	printf(",\n  \"ca_subject\": ");
	catool_json_str(info->subject);
	printf(",\n  \"ca_fingerprint_sha256\": \"%s\",\n  \"guest_ca\": ",
	    info->fingerprint);
	catool_json_str(ca);
	printf(",\n  \"bundle\": ");
	catool_json_str(bundle);
	printf(",\n  \"system_stores\": [");
	for (i = 0; i < ARRAY_SIZE(system_stores); i++)
		printf("%s\"%s\"", i ? ", " : "", system_stores[i]);
	printf("],\n  \"env\": {\n");
	for (i = 0; i < ARRAY_SIZE(settings); i++) {
		printf("    \"%s\": ", settings[i].var);
		catool_json_str(settings[i].kind == SET_BUNDLE ? bundle :
		    settings[i].kind == SET_CA ? ca : "1");
		printf("%s\n", i + 1 < ARRAY_SIZE(settings) ? "," : "");
	}
	printf("  }\n}\n");
}

int
cmd_env_main(int argc, char **argv)
{
	struct catool_opts o;
	struct pair cur;
	struct ca_info info;
	char bundle[256], desc[512];
	int rc;

	if ((rc = catool_parse(argc, argv, CMD_ENV, &o)) != 0)
		return rc < 0 ? CATOOL_EXIT_OK : rc;
	store_read(&o, "ca", &cur);
	if (cur.state != PAIR_OK) {
		catool_err(&o, "no valid CA in %s (%s): a guest would have "
		    "nothing to trust; run \"ca-tool generate %s\"", o.groupdir,
		    cur.state == PAIR_MISSING ? "missing" : cur.err, o.group);
		store_pair_clear(&cur);
		return CATOOL_EXIT_ERR;
	}
	if (o.bundle != NULL)
		snprintf(bundle, sizeof(bundle), "%s", o.bundle);
	else
		snprintf(bundle, sizeof(bundle), "%s/%s-bundle.pem",
		    CATOOL_GUEST_BUNDLE_DIR, o.group);
	ca_get_info(cur.ca, &info);
	catool_describe(cur.ca, desc, sizeof(desc));
	if (o.json)
		print_json(&o, o.guest_ca, bundle, &info);
	else
		print_shell(&o, o.guest_ca, bundle, desc);
	store_pair_clear(&cur);
	return CATOOL_EXIT_OK;
}
