/*
 * main.c - ca-tool: the lifecycle of the CA that Slicer injects into every
 * VM of a host group and that gatewayd signs leaves with.
 *
 * Dispatch only, through a subcommands[] table (wireguard-tools wg.c
 * style); each subcommand lives in cmd_<name>.c.  docs/ca-tool.md is the
 * manual.
 */
#include <stdio.h>
#include <string.h>

#include "catool.h"

int cmd_generate_main(int argc, char **argv);
int cmd_rotate_main(int argc, char **argv);
int cmd_status_main(int argc, char **argv);
int cmd_import_main(int argc, char **argv);
int cmd_env_main(int argc, char **argv);

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*description;
} subcommands[] = {
	{ "generate",	cmd_generate_main,
	  "make a new CA pair (refuses to replace a valid one without --force)" },
	{ "rotate",	cmd_rotate_main,
	  "replace the CA if missing, invalid or expiring; safe from cron" },
	{ "status",	cmd_status_main,
	  "show the CA; exit 3 when it needs rotation" },
	{ "import",	cmd_import_main,
	  "install your own CA from --cert and --key" },
	{ "env",	cmd_env_main,
	  "print what makes a guest's runtimes trust the CA (sh or --json)" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: ca-tool <command> <group> [options]\n\n"
	    "commands:\n");
	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name,
		    subcommands[i].description);
	fprintf(f, "\noptions:\n");
	catool_print_options(f, CMD_ALL);
	fprintf(f, "\nExit status: 0 done, 1 error, 2 usage, 3 (status) "
	    "rotation needed.\nSee ca-tool(8).\n");
}

/* A mistake gets two lines on stderr, not the whole manual. */
static int
short_usage(void)
{
	fprintf(stderr, "usage: ca-tool <command> <group> [options]\n"
	    "'ca-tool --help' lists the commands and options.\n");
	return CATOOL_EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return short_usage();
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return CATOOL_EXIT_OK;
	}
	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "ca-tool: unknown command \"%s\"\n", argv[1]);
	return short_usage();
}
