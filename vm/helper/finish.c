/*
 * finish ID < input: a scenario's last guest call (issue 18). The live
 * probes on the restored tree, then the clean-up, in one ssh exec instead
 * of two or three: under TCG a round trip costs about 60 ms, as much as the
 * probes themselves. Input: the propagation probes' lines (probe.c), then a
 * line "@fd-probes" and the fd probes' lines (mountlab-helper.c fd-probe);
 * either part may be empty. Answered in frames (batch.c's format): "probe"
 * and "fd-probe" when they had input, each with stdout and stderr, then
 * "cleanup" with what cleanup says ("dirty ...").
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

static long ms_now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void attach(const char *name, int fd) {
	off_t end = lseek(fd, 0, SEEK_END);
	printf("{\"attach\":\"%s\",\"bytes\":%lld}\n", name, (long long)(end > 0 ? end : 0));
	fflush(stdout);
	char buf[65536];
	for (off_t off = 0; off < end;) {
		ssize_t n = pread(fd, buf, sizeof buf, off);
		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, stdout);
		off += n;
	}
	putchar('\n');
}

/* Runs FN with INPUT on stdin and its stdout and stderr kept, as one frame NAME. */
static int framed(const char *name, int (*fn)(int, char **), int argc, char **argv, const char *input, size_t len) {
	long t0 = ms_now();
	fflush(stdout);
	fflush(stderr);
	int in = memfd_create("ml-in", MFD_CLOEXEC), out = memfd_create("ml-out", MFD_CLOEXEC),
	    err = memfd_create("ml-err", MFD_CLOEXEC);
	int saved[3] = {dup(0), dup(1), dup(2)};
	if (in < 0 || out < 0 || err < 0 || saved[0] < 0 || saved[1] < 0 || saved[2] < 0) {
		printf("{\"call\":\"%s\",\"code\":2,\"ms\":0}\n", name);
		return 2;
	}
	if (len && write(in, input, len) != (ssize_t)len) {
		printf("{\"call\":\"%s\",\"code\":2,\"ms\":0}\n", name);
		return 2;
	}
	lseek(in, 0, SEEK_SET);
	dup2(in, 0), dup2(out, 1), dup2(err, 2);
	/* stdio's buffers still hold what came before: start it afresh. */
	clearerr(stdin);
	fseek(stdin, 0, SEEK_SET);
	int rc = fn(argc, argv);
	fflush(stdout);
	fflush(stderr);
	clearerr(stdout);
	dup2(saved[0], 0), dup2(saved[1], 1), dup2(saved[2], 2);
	for (int i = 0; i < 3; i++)
		close(saved[i]);
	printf("{\"call\":\"%s\",\"code\":%d,\"ms\":%ld}\n", name, rc, ms_now() - t0);
	attach("stdout", out);
	attach("stderr", err);
	close(in), close(out), close(err);
	return rc;
}

static int fd_probe_call(int argc, char **argv) {
	(void)argc, (void)argv;
	return fd_probe();
}

int finish(int argc, char **argv) {
	if (argc != 2) {
		dprintf(2, "usage: mountlab-helper finish ID < probes\n");
		return 2;
	}
	size_t len = 0;
	char *input = read_all("-", &len);
	if (!input) {
		dprintf(2, "mountlab-helper: finish: cannot read the probes\n");
		return 2;
	}
	const char *mark = "@fd-probes\n";
	char *fds = strncmp(input, mark, strlen(mark)) ? strstr(input, "\n@fd-probes\n") : input - 1;
	size_t prop_len = fds ? (size_t)(fds + 1 - input) : len;
	const char *fd_input = fds ? fds + 1 + strlen(mark) : "";
	size_t fd_len = fds ? len - (size_t)(fd_input - input) : 0;
	puts("mountlab-frames 1");
	if (prop_len)
		framed("probe", probe, argc, argv, input, prop_len);
	if (fd_len)
		framed("fd-probe", fd_probe_call, 0, NULL, fd_input, fd_len);
	int rc = framed("cleanup", cleanup_cmd, argc, argv, "", 0);
	free(input);
	fflush(stdout);
	return rc;
}
