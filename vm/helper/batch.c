/*
 * The guest's batched calls (issue 18): several things done in one ssh
 * exec, answered in frames (src/target/frames.ts reads them):
 *
 *   mountlab-frames 1
 *   {"call":NAME,"code":N,"ms":N}      a thing done, timed here
 *   {"attach":NAME,"bytes":N}          then N bytes and a newline
 *
 * Only numbers and fixed words go into the JSON; text (logs, captures,
 * stderr) always travels as an attachment. Under TCG every fork and exec
 * costs tens of milliseconds and every ssh round trip more: this runs
 * criu and nothing else as a child, and captures in this process.
 *
 *   build_rest (from `build`, setup.c), after the setup (its exit status
 *                              RC, started at T0 in /proc/uptime
 *                              centiseconds): the setup's frame, then the leaking task
 *                              (LEAK a namespace list, or -), the leak scan
 *                              and the capture of the ready tree
 *   engine ID PID DUMP_LIMIT RESTORE_LIMIT NDUMP ARGS...
 *                              criu dump (the first NDUMP ARGS), criu
 *                              restore (the rest) and the capture of the
 *                              restored tree
 *
 * Each stops after the first part that fails; the host says which parts
 * it expected and did not get.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

#define WORK_BASE "/run/mountlab"

static long now_ms(void) {
	struct timespec t;
	clock_gettime(CLOCK_BOOTTIME, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* /proc/uptime as labctl reads it with a builtin: centiseconds of CLOCK_BOOTTIME. */
static long uptime_ms(void) {
	char buf[64] = "";
	int fd = open("/proc/uptime", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return now_ms();
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return now_ms();
	buf[n] = 0;
	char *dot = strchr(buf, '.');
	long s = atol(buf), cs = dot ? atol(dot + 1) : 0;
	return s * 1000 + cs * 10;
}

static void frame_call(const char *name, int code, long ms) {
	printf("{\"call\":\"%s\",\"code\":%d,\"ms\":%ld}\n", name, code, ms < 0 ? 0 : ms);
}

static void frame_attach(const char *name, const char *buf, size_t len) {
	printf("{\"attach\":\"%s\",\"bytes\":%zu}\n", name, len);
	fwrite(buf, 1, len, stdout);
	putchar('\n');
}

static void attach_file(const char *name, const char *path) {
	size_t len = 0;
	char *text = read_all(path, &len);
	frame_attach(name, text ? text : "", text ? len : 0);
	free(text);
}

/* All of FD from its start; a memfd's contents. */
static char *slurp(int fd, size_t *len) {
	off_t end = lseek(fd, 0, SEEK_END);
	char *buf = malloc(end > 0 ? (size_t)end + 1 : 1);
	size_t got = 0;
	while (buf && end > 0 && got < (size_t)end) {
		ssize_t n = pread(fd, buf + got, (size_t)end - got, (off_t)got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (buf)
		buf[got] = 0;
	*len = got;
	return buf;
}

struct output {
	char *out, *err;
	size_t out_len, err_len;
};

/* Runs FN(PID) with stdout and stderr each into memory, for attachments. */
static int collect(int (*fn)(int, int, char **), int pid, int nexcl, char **excl, struct output *o) {
	fflush(stdout);
	fflush(stderr);
	int out = memfd_create("ml-out", MFD_CLOEXEC), err = memfd_create("ml-err", MFD_CLOEXEC);
	int saved_out = dup(1), saved_err = dup(2);
	if (out < 0 || err < 0 || saved_out < 0 || saved_err < 0)
		return -1;
	dup2(out, 1);
	dup2(err, 2);
	int rc = fn(pid, nexcl, excl);
	fflush(stdout);
	fflush(stderr);
	clearerr(stdout);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	o->out = slurp(out, &o->out_len);
	o->err = slurp(err, &o->err_len);
	close(out);
	close(err);
	return rc;
}

static void attach_output(struct output *o) {
	frame_attach("stdout", o->out ? o->out : "", o->out ? o->out_len : 0);
	frame_attach("stderr", o->err ? o->err : "", o->err ? o->err_len : 0);
	free(o->out);
	free(o->err);
}

static int capture_call(int pid, int nexcl, char **excl) {
	(void)nexcl, (void)excl;
	return capture_tree(pid);
}

/* A capture of the tree whose init is PID, as one frame. */
static int frame_capture(int pid) {
	long t0 = now_ms();
	struct output o = {0};
	char path[64];
	snprintf(path, sizeof path, "/proc/%d", pid);
	int rc;
	if (access(path, F_OK) < 0) {
		rc = 2;
		o.err = strdup("labctl: no task\n");
		o.err_len = strlen(o.err);
	} else {
		rc = collect(capture_call, pid, 0, NULL, &o) == 0 ? 0 : 1;
	}
	frame_call("capture", rc, now_ms() - t0);
	attach_output(&o);
	return rc;
}

static int valid_id(const char *id) {
	if (!*id || strlen(id) > 64)
		return 0;
	for (const char *c = id; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
			return 0;
	return 1;
}

static int number(const char *s, long *out) {
	char *end;
	if (!*s || *s == '-')
		return 0;
	errno = 0;
	*out = strtol(s, &end, 10);
	return !*end && !errno;
}

static int read_pid(const char *path) {
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	return n > 0 ? atoi(buf) : 0;
}

static void write_pid(const char *path, int pid) {
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dprintf(fd, "%d\n", pid);
		close(fd);
	}
}

/* ---- the leaking task (seed 003) ------------------------------------------ */

/* nsenter's order of entering, and the names labctl took. */
static const char *const leak_kinds[] = {"cgroup", "ipc", "uts", "net", "pid", "mnt"};

/*
 * What `setsid nsenter --target PID --NS... -- sleep 1000000` did: a task
 * outside the tree, in the tree's namespaces of LIST; through a pid
 * namespace only a child enters, so it forks as nsenter does. Its pid goes
 * to W/leak.pid for the clean-up. 0, or 2 with the reason in ERR.
 */
static int start_leak(const char *w, int pid, const char *list, char *err, size_t errsz) {
	int want[COUNT(leak_kinds)] = {0};
	char copy[256];
	snprintf(copy, sizeof copy, "%s", list);
	char *save = NULL;
	for (char *ns = strtok_r(copy, ",", &save); ns; ns = strtok_r(NULL, ",", &save)) {
		size_t k = 0;
		while (k < COUNT(leak_kinds) && strcmp(ns, leak_kinds[k]))
			k++;
		if (k == COUNT(leak_kinds)) {
			snprintf(err, errsz, "labctl: bad namespace '%s'\n", ns);
			return 2;
		}
		want[k] = 1;
	}
	int fds[COUNT(leak_kinds)];
	for (size_t k = 0; k < COUNT(leak_kinds); k++) {
		fds[k] = -1;
		if (!want[k])
			continue;
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, leak_kinds[k]);
		if ((fds[k] = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			snprintf(err, errsz, "nsenter: cannot open %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	/* The child says why it failed on this pipe; end of file means it runs. */
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(err, errsz, "pipe: %s\n", strerror(errno));
		return 1;
	}
	pid_t leaker = fork();
	if (leaker < 0) {
		snprintf(err, errsz, "fork: %s\n", strerror(errno));
		return 1;
	}
	if (leaker == 0) {
		close(pipefd[0]);
		setsid();
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0), dup2(null, 1), dup2(null, 2);
		for (size_t k = 0; k < COUNT(leak_kinds); k++)
			if (fds[k] >= 0 && setns(fds[k], 0) < 0) {
				dprintf(pipefd[1], "nsenter: reassociate to namespace 'ns/%s' failed: %s\n", leak_kinds[k],
					strerror(errno));
				_exit(1);
			}
		char *argv[] = {"sleep", "1000000", NULL};
		if (want[4]) {
			pid_t kid = fork();
			if (kid == 0) {
				execvp(argv[0], argv);
				dprintf(pipefd[1], "nsenter: failed to execute sleep: %s\n", strerror(errno));
				_exit(127);
			}
			close(pipefd[1]);
			int st;
			while (waitpid(kid, &st, 0) < 0 && errno == EINTR)
				;
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		}
		execvp(argv[0], argv);
		dprintf(pipefd[1], "nsenter: failed to execute sleep: %s\n", strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	for (size_t k = 0; k < COUNT(leak_kinds); k++)
		if (fds[k] >= 0)
			close(fds[k]);
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s/leak.pid", w) < (int)sizeof path)
		write_pid(path, leaker);
	ssize_t n = read(pipefd[0], err, errsz - 1);
	close(pipefd[0]);
	if (n > 0) {
		err[n] = 0;
		return 1;
	}
	err[0] = 0;
	return 0;
}

static int leaks_call(int pid, int nexcl, char **excl) {
	return scan_leaks(pid, nexcl, excl);
}

int build_rest(int argc, char **argv) {
	long rc, t0;
	if (argc != 5 || !valid_id(argv[1]) || !number(argv[2], &rc) || !number(argv[3], &t0)) {
		dprintf(2, "usage: mountlab-helper build-rest ID RC T0 LEAK\n");
		return 2;
	}
	/* The id is at most 64 characters, so these fit. */
	char w[128], path[256];
	snprintf(w, sizeof w, "%s/%s", WORK_BASE, argv[1]);
	const char *leak = argv[4];
	puts("mountlab-frames 1");
	frame_call("setup", (int)rc, uptime_ms() - t0 * 10);
	snprintf(path, sizeof path, "%s/setup.out", w);
	attach_file("stdout", path);
	if (rc != 0) {
		/* What the outside steps and the tree printed, as `labctl err` says it. */
		size_t a = 0, b = 0;
		snprintf(path, sizeof path, "%s/outside.err", w);
		char *outside = read_all(path, &a);
		snprintf(path, sizeof path, "%s/tree.err", w);
		char *tree = read_all(path, &b);
		char *both = malloc(a + b + 1);
		if (both) {
			memcpy(both, outside ? outside : "", outside ? a : 0);
			memcpy(both + (outside ? a : 0), tree ? tree : "", tree ? b : 0);
		}
		frame_attach("err", both ? both : "", both ? (outside ? a : 0) + (tree ? b : 0) : 0);
		free(outside), free(tree), free(both);
		return 0;
	}
	snprintf(path, sizeof path, "%s/tree.pid", w);
	int pid = read_pid(path);
	snprintf(path, sizeof path, "%s/unshare.pid", w);
	int upid = read_pid(path);
	if (strcmp(leak, "-")) {
		long l0 = now_ms();
		char err[1024];
		int lrc = start_leak(w, pid, leak, err, sizeof err);
		frame_call("leak", lrc, now_ms() - l0);
		frame_attach("stderr", err, strlen(err));
		if (lrc)
			return 0;
	}
	long s0 = now_ms();
	struct output o = {0};
	char up[32];
	snprintf(up, sizeof up, "%d", upid);
	char *excl[] = {up};
	int src = collect(leaks_call, pid, upid > 0 ? 1 : 0, excl, &o);
	frame_call("leaks", src, now_ms() - s0);
	attach_output(&o);
	if (src)
		return 0;
	frame_capture(pid);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- criu, under a limit ------------------------------------------------- */

/*
 * Runs ARGV with stdout and stderr into ERRFD, stdin /dev/null, as
 * `timeout --kill-after=5 LIMIT` did: TERM at the limit, KILL 5 s later;
 * 124 when the limit was reached, 137 when KILL was needed, else the exit
 * status (128+N for a signal).
 */
static int run_limited(char **argv, long limit_s, int errfd) {
	pid_t pid = fork();
	if (pid < 0)
		return 125;
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(errfd, 1);
		dup2(errfd, 2);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int timed_out = 0, killed = 0;
	long deadline = now_ms() + limit_s * 1000;
	for (;;) {
		long left = deadline - now_ms();
		if (left <= 0) {
			if (!timed_out) {
				kill(pid, SIGTERM);
				timed_out = 1;
				deadline = now_ms() + 5000;
			} else if (!killed) {
				kill(pid, SIGKILL);
				killed = 1;
				deadline = now_ms() + 60000;
			}
			continue;
		}
		if (pidfd >= 0) {
			struct pollfd p = {.fd = pidfd, .events = POLLIN};
			if (poll(&p, 1, (int)(left > 1000 ? 1000 : left)) <= 0)
				continue;
		} else {
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		int st;
		pid_t r = waitpid(pid, &st, pidfd >= 0 ? 0 : WNOHANG);
		if (r == pid) {
			if (pidfd >= 0)
				close(pidfd);
			if (killed)
				return 137;
			if (timed_out)
				return 124;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		if (r < 0 && errno != EINTR)
			return 125;
	}
}

/* ARGS with every @ROOT@ replaced by ROOT, newly allocated. */
static char *with_root(const char *arg, const char *root) {
	size_t n = 0;
	for (const char *p = arg; (p = strstr(p, "@ROOT@")); p += 6)
		n++;
	char *out = malloc(strlen(arg) + n * strlen(root) + 1), *o = out;
	for (const char *p = arg; *p;) {
		if (!strncmp(p, "@ROOT@", 6)) {
			o = stpcpy(o, root);
			p += 6;
		} else {
			*o++ = *p++;
		}
	}
	*o = 0;
	return out;
}

int engine(int argc, char **argv) {
	long pid, dump_limit, restore_limit, ndump;
	if (argc < 6 || !valid_id(argv[1]) || !number(argv[2], &pid) || !number(argv[3], &dump_limit) ||
	    !number(argv[4], &restore_limit) || !number(argv[5], &ndump) || ndump > argc - 6) {
		dprintf(2, "usage: mountlab-helper engine ID PID DUMP_LIMIT RESTORE_LIMIT NDUMP ARGS...\n");
		return 2;
	}
	/* The id is at most 64 characters, so these fit. */
	char w[128], img[192], path[256], pidtext[32];
	snprintf(w, sizeof w, "%s/%s", WORK_BASE, argv[1]);
	snprintf(img, sizeof img, "%s/img", w);
	snprintf(pidtext, sizeof pidtext, "%ld", pid);
	char **args = argv + 6;
	int nargs = argc - 6;
	puts("mountlab-frames 1");

	/* criu dump -t PID -D IMG -o dump.log -v4 ARGS */
	char **dump = calloc((size_t)ndump + 10, sizeof *dump);
	int d = 0;
	const char *dump_head[] = {"criu", "dump", "-t", pidtext, "-D", img, "-o", "dump.log", "-v4"};
	for (size_t i = 0; i < COUNT(dump_head); i++)
		dump[d++] = (char *)dump_head[i];
	for (long i = 0; i < ndump; i++)
		dump[d++] = args[i];
	int err = memfd_create("ml-criu", MFD_CLOEXEC);
	long t0 = now_ms();
	int rc = run_limited(dump, dump_limit, err);
	free(dump);
	frame_call("dump", rc, now_ms() - t0);
	snprintf(path, sizeof path, "%s/dump.log", img);
	attach_file("log", path);
	size_t len;
	char *text = slurp(err, &len);
	frame_attach("stderr", text ? text : "", text ? len : 0);
	free(text);
	close(err);
	if (rc)
		return 0;

	/* criu restore -D IMG -o restore.log -v4 -d --root W/root --pidfile W/restored.pid ARGS,
	 * @ROOT@ in ARGS being where the outside steps' mounts are (--external sources). */
	char root[192], xroot[192], pidfile[192];
	snprintf(root, sizeof root, "%s/root", w);
	snprintf(xroot, sizeof xroot, "%s/host", w);
	struct stat st;
	if (stat(xroot, &st) < 0 || !S_ISDIR(st.st_mode))
		snprintf(xroot, sizeof xroot, "%s", root);
	snprintf(pidfile, sizeof pidfile, "%s/restored.pid", w);
	unlink(pidfile);
	char **restore = calloc((size_t)(nargs - ndump) + 14, sizeof *restore);
	int r = 0;
	const char *restore_head[] = {"criu", "restore", "-D", img, "-o", "restore.log", "-v4", "-d",
				      "--root", root, "--pidfile", pidfile};
	for (size_t i = 0; i < COUNT(restore_head); i++)
		restore[r++] = (char *)restore_head[i];
	for (int i = (int)ndump; i < nargs; i++)
		restore[r++] = with_root(args[i], xroot);
	err = memfd_create("ml-criu", MFD_CLOEXEC);
	t0 = now_ms();
	rc = run_limited(restore, restore_limit, err);
	long ms = now_ms() - t0;
	for (int i = (int)COUNT(restore_head); i < r; i++)
		free(restore[i]);
	free(restore);
	int restored = rc == 0 ? read_pid(pidfile) : 0;
	/* What `labctl restore` printed: "pid=N" on success, "@@log", the log. */
	snprintf(path, sizeof path, "%s/restore.log", img);
	size_t log_len = 0;
	char *log = read_all(path, &log_len);
	char head[48] = "";
	if (restored > 0)
		snprintf(head, sizeof head, "pid=%d\n", restored);
	strcat(head, "@@log\n");
	size_t head_len = strlen(head);
	char *out = malloc(head_len + log_len + 1);
	memcpy(out, head, head_len);
	if (log)
		memcpy(out + head_len, log, log_len);
	frame_call("restore", rc, ms);
	frame_attach("stdout", out, head_len + (log ? log_len : 0));
	free(out), free(log);
	text = slurp(err, &len);
	frame_attach("stderr", text ? text : "", text ? len : 0);
	free(text);
	close(err);
	if (rc || restored <= 0)
		return 0;
	frame_capture(restored);
	return fflush(stdout) == 0 ? 0 : 1;
}
