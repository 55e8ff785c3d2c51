/*
 * hostname_stub.c - TEMPORARY stand-in for gatewayd/hostname.c (branch
 * config) so the nfq branch's tests link before it lands.  Implements
 * only what the nfq modules use, to the hostname.h contract.  Delete
 * when hostname.c is in libgw.
 */
#include "hostname.h"

int
host_normalize(const char *in, size_t len, char *out)
{
	size_t i, lab = 0;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > HOST_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		char c = in[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (c == '.') {
			if (lab == 0 || out[i - 1] == '-')
				return -1;
			lab = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-') {
			if (c == '-' && lab == 0)
				return -1;
			if (++lab > 63)
				return -1;
		} else {
			return -1;
		}
		out[i] = c;
	}
	if (lab == 0 || out[len - 1] == '-')
		return -1;
	out[len] = '\0';
	return 0;
}

bool
host_match(const char *pattern, bool suffix, const char *name)
{
	size_t pl, nl;

	if (*pattern == '.') {
		pattern++;
		suffix = true;
	}
	if (strcmp(pattern, name) == 0)
		return true;
	if (!suffix)
		return false;
	pl = strlen(pattern);
	nl = strlen(name);
	return nl > pl && name[nl - pl - 1] == '.' &&
	    strcmp(name + nl - pl, pattern) == 0;
}
