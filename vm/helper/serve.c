/*
 * serve: the helper as a server on one ssh channel, kept for a guest's
 * life, so that a scenario's calls cost a fork and an exec of this static
 * binary instead of an ssh session each. Under TCG a session (sshd's fork
 * and set-up, the shell, the exec) cost about 60 ms of the guest's one CPU
 * per call, three calls a scenario (issue 18).
 *
 * Requests on stdin, one at a time:
 *   call NARGS NARGBYTES NSTDIN\n ARGS STDIN
 * ARGS is NARGS NUL-terminated words, NARGBYTES bytes in all: a subcommand
 * of this helper and its arguments. It runs as `mountlab-helper ARG...`
 * (fork, exec of this binary) with STDIN (NSTDIN bytes) in a memfd as its
 * stdin and memfds as its stdout and stderr, so that nothing it starts (a
 * scenario's tree) can hold the channel open. When it exits, the answer:
 *   done CODE SIGNAL MS NSTDOUT NSTDERR\n STDOUT STDERR
 * CODE is the exit status (-1 when a signal killed it), SIGNAL that signal
 * or 0, MS the wall time in the guest. The first line the server writes is
 * "mountlab-serve 1"; EOF on stdin ends it. A request it cannot read ends
 * it with exit 2 and a line on stderr: the host then falls back to an ssh
 * exec per call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

#define MAX_ARGS 4096
#define MAX_ARG_BYTES (1 << 20)

static struct {
	char buf[1 << 16];
	size_t pos, len;
} in;

/* Reads up to N bytes of the request stream; 0 at EOF. */
static ssize_t take(char *dst, size_t n) {
	if (in.pos == in.len) {
		ssize_t r;
		do
			r = read(0, in.buf, sizeof in.buf);
		while (r < 0 && errno == EINTR);
		if (r <= 0)
			return r;
		in.pos = 0;
		in.len = (size_t)r;
	}
	size_t k = in.len - in.pos < n ? in.len - in.pos : n;
	memcpy(dst, in.buf + in.pos, k);
	in.pos += k;
	return (ssize_t)k;
}

static int take_exact(char *dst, size_t n) {
	while (n) {
		ssize_t r = take(dst, n);
		if (r <= 0)
			return -1;
		dst += r;
		n -= (size_t)r;
	}
	return 0;
}

/* The header line; 0 at a clean EOF before it, -1 on anything else. */
static int take_line(char *line, size_t cap) {
	size_t n = 0;
	for (;;) {
		char c;
		ssize_t r = take(&c, 1);
		if (r <= 0)
			return n == 0 && r == 0 ? 0 : -1;
		if (c == '\n')
			break;
		if (n + 1 >= cap)
			return -1;
		line[n++] = c;
	}
	line[n] = 0;
	return 1;
}

static int write_all(int fd, const char *p, size_t n) {
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copies a memfd's whole content to stdout. */
static int send_file(int fd, off_t size) {
	char buf[1 << 16];
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	while (size > 0) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (write_all(1, buf, (size_t)r) < 0)
			return -1;
		size -= r;
	}
	return 0;
}

static long ms_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int refuse(const char *why) {
	dprintf(2, "mountlab-helper serve: %s\n", why);
	return 2;
}

static int serve_one(long nargs, long nbytes, long nstdin) {
	char *block = malloc((size_t)nbytes + 1);
	char **argv = calloc((size_t)nargs + 2, sizeof *argv);
	if (!block || !argv || take_exact(block, (size_t)nbytes) < 0)
		return refuse("the request's words are cut short");
	block[nbytes] = 0;
	argv[0] = "mountlab-helper";
	long k = 0;
	for (char *p = block; p < block + nbytes && k < nargs; p += strlen(p) + 1)
		argv[++k] = p;
	if (k != nargs || block[nbytes - 1] != 0)
		return refuse("the request's words do not match its count");
	int fin = memfd_create("ml-in", MFD_CLOEXEC), fout = memfd_create("ml-out", MFD_CLOEXEC),
	    ferr = memfd_create("ml-err", MFD_CLOEXEC);
	if (fin < 0 || fout < 0 || ferr < 0)
		return refuse("memfd_create failed");
	char chunk[1 << 16];
	for (long left = nstdin; left > 0;) {
		size_t want = (size_t)left < sizeof chunk ? (size_t)left : sizeof chunk;
		ssize_t r = take(chunk, want);
		if (r <= 0 || write_all(fin, chunk, (size_t)r) < 0)
			return refuse("the request's input is cut short");
		left -= r;
	}
	lseek(fin, 0, SEEK_SET);
	long t0 = ms_now();
	pid_t pid = fork();
	if (pid == 0) {
		if (dup2(fin, 0) < 0 || dup2(fout, 1) < 0 || dup2(ferr, 2) < 0)
			_exit(126);
		execv("/proc/self/exe", argv);
		dprintf(2, "mountlab-helper serve: exec: %s\n", strerror(errno));
		_exit(127);
	}
	int st = 0;
	if (pid < 0) {
		dprintf(ferr, "mountlab-helper serve: fork: %s\n", strerror(errno));
		st = 127 << 8;
	} else {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	long ms = ms_now() - t0;
	off_t nout = lseek(fout, 0, SEEK_END), nerr = lseek(ferr, 0, SEEK_END);
	char head[160];
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1, sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	int n = snprintf(head, sizeof head, "done %d %d %ld %lld %lld\n", code, sig, ms, (long long)nout,
			 (long long)nerr);
	int rc = write_all(1, head, (size_t)n) < 0 || send_file(fout, nout) < 0 || send_file(ferr, nerr) < 0 ? -1 : 0;
	close(fin);
	close(fout);
	close(ferr);
	free(argv);
	free(block);
	return rc;
}

int serve(int argc, char **argv) {
	(void)argv;
	if (argc != 1)
		return refuse("usage: mountlab-helper serve (requests on stdin)");
	static const char hello[] = "mountlab-serve 1\n";
	if (write_all(1, hello, sizeof hello - 1) < 0)
		return 1;
	for (;;) {
		char line[128];
		int got = take_line(line, sizeof line);
		if (got == 0)
			return 0;
		long nargs, nbytes, nstdin;
		char extra;
		if (got < 0 || sscanf(line, "call %ld %ld %ld%c", &nargs, &nbytes, &nstdin, &extra) != 3 || nargs < 1 ||
		    nargs > MAX_ARGS || nbytes < nargs || nbytes > MAX_ARG_BYTES || nstdin < 0)
			return refuse("a request line that is not `call NARGS NARGBYTES NSTDIN`");
		if (serve_one(nargs, nbytes, nstdin) != 0)
			return 1;
	}
}
