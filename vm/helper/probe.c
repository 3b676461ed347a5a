/*
 * The live propagation probes on a restored tree (src/compare/
 * propagation-probe.ts plans and judges them), in one process instead of
 * two nsenter + mount(8) execs per probe:
 *
 *   probe ID < "@reps PID..." then "K PID PATH" lines, PATH as \ooo escapes
 *
 * For each probe: a marker tmpfs mlprobe-ID-K mounted on PATH in PID's
 * mount namespace and root; "@probe K mounted", then "@in REP LINE" for
 * every copy of it in each REP's mountinfo; then it is unmounted again
 * ("@probe K umount-failed" when it cannot be), or "@probe K mount-failed
 * MESSAGE".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

#define MAX_REPS 64

/* \ooo escapes (what octalPath writes) back to bytes, in place; -1 on anything else. */
static int unoctal(char *s) {
	char *o = s;
	if (!*s)
		return -1;
	while (*s) {
		if (s[0] != '\\' || s[1] < '0' || s[1] > '3' || s[2] < '0' || s[2] > '7' || s[3] < '0' || s[3] > '7')
			return -1;
		*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
		s += 4;
	}
	*o = 0;
	return 0;
}

static int positive(const char *s) {
	char *end;
	long v = strtol(s, &end, 10);
	return *s && !*end && v > 0 && v < 1L << 30 ? (int)v : 0;
}

/* Every line of REP's mountinfo that shows the marker MK, read through PROC (the guest's /proc). */
static void copies(int proc, int rep, const char *mk) {
	char path[32], needle[160];
	snprintf(path, sizeof path, "%d/mountinfo", rep);
	snprintf(needle, sizeof needle, " - tmpfs %s ", mk);
	int fd = openat(proc, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	FILE *f = fdopen(fd, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while (f && (n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = 0;
		if (strstr(line, needle))
			printf("@in %d %s\n", rep, line);
	}
	free(line);
	if (f)
		fclose(f);
}

/* One probe, in a child: it enters PID's mount namespace and root, so the helper's own stay as they are. */
static void probe_one(int proc, const char *id, int k, int pid, const char *path, const int *reps, int nreps) {
	char mk[128];
	snprintf(mk, sizeof mk, "mlprobe-%s-%d", id, k);
	fflush(stdout);
	pid_t child = fork();
	if (child < 0) {
		printf("@probe %d mount-failed fork: %s\n", k, strerror(errno));
		return;
	}
	if (child > 0) {
		int st;
		while (waitpid(child, &st, 0) < 0 && errno == EINTR)
			;
		return;
	}
	char p[32];
	snprintf(p, sizeof p, "%d/root", pid);
	int root = openat(proc, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(p, sizeof p, "%d/ns/mnt", pid);
	int ns = openat(proc, p, O_RDONLY | O_CLOEXEC);
	if (root < 0 || ns < 0 || setns(ns, CLONE_NEWNS) < 0 || fchdir(root) < 0 || chroot(".") < 0) {
		printf("@probe %d mount-failed nsenter: cannot enter pid %d: %s\n", k, pid, strerror(errno));
		fflush(stdout);
		_exit(0);
	}
	if (mount(mk, path, "tmpfs", 0, "size=4k,mode=0555") < 0) {
		char shown[4096];
		printf("@probe %d mount-failed mount: %s: %s\n", k, printable(path, shown, sizeof shown), strerror(errno));
		fflush(stdout);
		_exit(0);
	}
	printf("@probe %d mounted\n", k);
	for (int i = 0; i < nreps; i++)
		copies(proc, reps[i], mk);
	int gone;
	if (!strcmp(path, "/")) {
		/* "/" always names the task's root, never what is stacked on it:
		 * entered again, without the root, the namespace's root is the
		 * topmost mount there, the marker, which only a detach takes off. */
		gone = setns(ns, CLONE_NEWNS) == 0 && umount2("/", MNT_DETACH) == 0;
	} else {
		gone = umount2(path, 0) == 0;
	}
	if (!gone)
		printf("@probe %d umount-failed\n", k);
	fflush(stdout);
	_exit(0);
}

int probe(int argc, char **argv) {
	if (argc != 2) {
		dprintf(2, "usage: mountlab-helper probe ID < probes\n");
		return 2;
	}
	const char *id = argv[1];
	if (!*id || strlen(id) > 64 || strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(id)) {
		dprintf(2, "labctl: bad id '%s'\n", id);
		return 2;
	}
	int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc < 0) {
		dprintf(2, "labctl: cannot open /proc: %s\n", strerror(errno));
		return 2;
	}
	int reps[MAX_REPS], nreps = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = 0;
		char *save = NULL, *first = strtok_r(line, " ", &save);
		if (!first)
			continue;
		if (!strcmp(first, "@reps")) {
			for (char *r = strtok_r(NULL, " ", &save); r; r = strtok_r(NULL, " ", &save)) {
				int rep = positive(r);
				if (!rep || nreps == MAX_REPS) {
					dprintf(2, "labctl: not a number: '%s'\n", r);
					return 2;
				}
				reps[nreps++] = rep;
			}
			continue;
		}
		char *pid = strtok_r(NULL, " ", &save), *path = strtok_r(NULL, " ", &save);
		int k = positive(first), p = pid ? positive(pid) : 0;
		if (!k || !p || !path || unoctal(path) < 0) {
			dprintf(2, "labctl: bad probe line\n");
			return 2;
		}
		probe_one(proc, id, k, p, path, reps, nreps);
	}
	free(line);
	return fflush(stdout) == 0 ? 0 : 1;
}
