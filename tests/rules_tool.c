/*
 * rules_tool.c - a stand-in for `gatewayd rules ...` until main.c wires
 * rules_main() in: `gatewayd-rules apply|show|remove -c FILE`.  Used by
 * tests/integration/t-nft-rules.sh when build/gatewayd/gatewayd is absent.
 */
#include "rules.h"

int
main(int argc, char **argv)
{
	return rules_main(argc, argv);
}
