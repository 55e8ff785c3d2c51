/*
 * privdrop.c - drop to an unprivileged user with a few capabilities kept.
 * See privdrop.h.  Uses the capset(2) system call directly: the three
 * capabilities are all that is needed, and libcap is not a dependency.
 */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const int kept_caps[] = {
	CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE,
};

static int
set_caps(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[2];
	size_t i;

	memset(data, 0, sizeof(data));
	for (i = 0; i < ARRAY_SIZE(kept_caps); i++) {
		int c = kept_caps[i];

		data[c / 32].permitted |= 1u << (c % 32);
		data[c / 32].effective |= 1u << (c % 32);
	}
	return (int)syscall(SYS_capset, &hdr, data);
}

int
privdrop(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;
	char *end;
	unsigned long id;

	errno = 0;
	id = strtoul(user, &end, 10);
	pw = *user != '\0' && *end == '\0' ? getpwuid((uid_t)id) :
	    getpwnam(user);
	if (pw == NULL) {
		snprintf(err, errlen, "user \"%s\": no such user", user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "user \"%s\" is root: nothing to drop",
		    user);
		return -1;
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 ||
	    setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0 ||
	    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0 || set_caps() != 0) {
		snprintf(err, errlen, "dropping to user \"%s\": %s", user,
		    strerror(errno));
		return -1;
	}
	/* Cores of a process holding keys stay off unless asked for. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (setuid(0) == 0) {
		snprintf(err, errlen, "dropping to user \"%s\": root could be "
		    "regained", user);
		return -1;
	}
	return 0;
}
