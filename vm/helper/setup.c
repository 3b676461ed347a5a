/*
 * A scenario's guest side from start to end without a shell (issue 18):
 * under TCG every fork and exec of labctl's sh setup (mkdir, cat, mount(8),
 * mkfifo, setsid, the watchdog and its sleep, the polling sleeps) cost tens
 * of milliseconds, so the helper does them with syscalls.
 *
 *   setup ID LIMIT < plan    the scenario root, the outside steps, the tree;
 *                            says what labctl's setup said: "pid=N" when
 *                            every task holds, or "outside-failed N" (exit
 *                            3), "setup-failed LINE" + "last step N" (exit
 *                            3), "setup-timeout" + "last ..." (exit 124)
 *   build ID LIMIT LEAK < plan   setup, then build-rest (batch.c): frames
 *   cleanup ID               what labctl cleanup did: ends what is left,
 *                            unmounts, removes the work dir, "dirty ..."
 *                            when the guest is not as clean as before
 *
 * The work dir's files are labctl's, so `labctl err`, `kill`, `leaks` and
 * the host's reading of them do not change.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

#define WORK_BASE "/run/mountlab"

static long ms_now(void) {
	struct timespec t;
	clock_gettime(CLOCK_BOOTTIME, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static void pause_ms(long ms) {
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

static int work_dir(const char *id, char *w, size_t size) {
	if (!*id || strlen(id) > 64 || strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(id)) {
		dprintf(2, "labctl: bad id '%s'\n", id);
		return -1;
	}
	snprintf(w, size, "%s/%s", WORK_BASE, id);
	return 0;
}

static int read_int(const char *path) {
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	return n > 0 ? atoi(buf) : 0;
}

static void write_text(const char *path, const char *text, size_t len) {
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	while (len) {
		ssize_t n = write(fd, text, len);
		if (n <= 0)
			break;
		text += n, len -= (size_t)n;
	}
	close(fd);
}

/* The pids /proc/PID/task/PID/children lists, space-separated, into KIDS (at most MAX). */
static int children(int pid, int *kids, int max) {
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC), n = 0;
	if (fd < 0)
		return 0;
	ssize_t len = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = 0;
	for (char *p = buf; *p && n < max;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		kids[n++] = (int)v;
		p = end;
	}
	return n;
}

/* True when PID or one of its descendants has exited (a zombie): a task
 * that failed after "ready" (its hold) can no longer say so on the status
 * pipe, and would otherwise be waited for until the set-up limit. */
static int tree_has_exited(int pid) {
	char path[64], st[512];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	ssize_t n = read(fd, st, sizeof st - 1);
	close(fd);
	st[n > 0 ? n : 0] = 0;
	char *p = strrchr(st, ')');
	if (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
		return 1;
	int kids[256];
	int k = children(pid, kids, 256);
	for (int i = 0; i < k; i++)
		if (tree_has_exited(kids[i]))
			return 1;
	return 0;
}

/* True when PID and all its descendants run `sleep` (labctl's all_sleeping),
 * or hold as the helper with the lab's fds closed (a task keeping mappings). */
static int all_sleeping(int pid) {
	char path[64], comm[32] = "";
	snprintf(path, sizeof path, "/proc/%d/comm", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, comm, sizeof comm - 1);
	close(fd);
	if (n <= 0)
		return 0;
	if (strncmp(comm, "sleep\n", 6)) {
		/* A task that keeps file mappings holds as the helper itself
		 * (plan-run.c's hold), in nanosleep too, once it has closed the
		 * lab's fds: the sync directory (fd 8) is gone only then. */
		if (strncmp(comm, "mountlab-helper\n", 16))
			return 0;
		snprintf(path, sizeof path, "/proc/%d/fd/8", pid);
		if (access(path, F_OK) == 0 || errno != ENOENT)
			return 0;
	}
	/* The comm is "sleep" from the exec on, while ld.so still opens libc on
	 * the lowest free fd (0: the lab's fds are close-on-exec): a capture
	 * then would see it. Ready is blocked in sleep's nanosleep. */
	char sc[64] = "";
	snprintf(path, sizeof path, "/proc/%d/syscall", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, sc, sizeof sc - 1);
		close(fd);
		long nr = n > 0 && sc[0] >= '0' && sc[0] <= '9' ? atol(sc) : -1;
#ifdef SYS_nanosleep
		if (nr == SYS_nanosleep)
			nr = SYS_clock_nanosleep;
#endif
		if (nr != SYS_clock_nanosleep)
			return 0;
	}
	snprintf(path, sizeof path, "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	struct dirent *e;
	int ok = 1;
	while (ok && (e = readdir(d))) {
		int tid = atoi(e->d_name);
		if (tid <= 0)
			continue;
		char kids_path[96], buf[4096];
		snprintf(kids_path, sizeof kids_path, "/proc/%d/task/%d/children", pid, tid);
		int kfd = open(kids_path, O_RDONLY | O_CLOEXEC);
		if (kfd < 0)
			continue;
		ssize_t len = read(kfd, buf, sizeof buf - 1);
		close(kfd);
		buf[len > 0 ? len : 0] = 0;
		for (char *p = buf; ok && *p;) {
			char *end;
			long k = strtol(p, &end, 10);
			if (end == p)
				break;
			ok = all_sleeping((int)k);
			p = end;
		}
	}
	closedir(d);
	return ok;
}

static void kill_tree_of(int upid) {
	int kids[256];
	int n = children(upid, kids, 256);
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	kill(upid, SIGKILL);
}

/* Runs FN (run_tree or run_outside) as a child with the lab's stdio and status fd. */
static pid_t start(int (*fn)(int, char **), char **argv, const char *out, const char *err, int status_fd,
		   int new_session) {
	fflush(stdout);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	if (new_session)
		setsid();
	int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || dup2(status_fd, 9) < 0)
		_exit(2);
	close(o), close(e);
	/* Nothing else of the caller's: an fd kept open here (the ssh channel's
	 * stdout saved by build, any pipe) would hold the ssh exec open for as
	 * long as the tree lives. CLOEXEC does not help, as nothing is exec'd. */
	int in = open("/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, 0) < 0)
		_exit(2);
	for (int fd = 3; fd < 1024; fd++)
		if (fd != 9)
			close(fd);
	int argc = 0;
	while (argv[argc])
		argc++;
	_exit(fn(argc, argv));
}

/* The number of the last "step N" (or bare "N") line of PATH: 0 before the first. */
static long last_step(const char *path) {
	size_t len;
	char *text = read_all(path, &len);
	long n = 0;
	for (char *line = text; line && *line;) {
		char *eol = strchr(line, '\n');
		if (!strncmp(line, "step ", 5))
			n = atol(line + 5);
		else if (*line >= '0' && *line <= '9')
			n = atol(line);
		if (!eol)
			break;
		line = eol + 1;
	}
	free(text);
	return n;
}

/* labctl setup with the helper executor: see the top of this file. Prints as labctl did; returns its exit status. */
static int setup_tree(const char *w, long limit) {
	char root[160], host[160], plan[160], path[192], opts[512];
	long deadline = ms_now() + limit * 1000;
	snprintf(root, sizeof root, "%s/root", w);
	snprintf(host, sizeof host, "%s/host", w);
	snprintf(plan, sizeof plan, "%s/plan", w);
	mkdir(WORK_BASE, 0755);
	mkdir(w, 0755);
	const char *subdirs[] = {"root", "img", "upper", "work"};
	for (size_t i = 0; i < COUNT(subdirs); i++) {
		snprintf(path, sizeof path, "%s/%s", w, subdirs[i]);
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			dprintf(2, "labctl: mkdir %s: %s\n", path, strerror(errno));
			return 2;
		}
	}
	size_t len;
	char *text = read_all("-", &len);
	if (!text) {
		dprintf(2, "labctl: read the plan: %s\n", strerror(errno));
		return 2;
	}
	write_text(plan, text, len);
	int outside = strstr(text, "\noutside ") != NULL;
	free(text);
	/* The scenario root: an overlay of the guest's rootfs with a throw-away
	 * upper layer in /run (a tmpfs), so files a scenario makes are gone with
	 * it (xino=on: a file keeps one inode number whether reached through an
	 * fd or a name, even after copy-up, which the capture's inode checks rely
	 * on); private, so nothing built in the scenario propagates back. */
	snprintf(opts, sizeof opts, "lowerdir=/,upperdir=%s/upper,workdir=%s/work,xino=on", w, w);
	if (mount("mountlab-root", root, "overlay", 0, opts) < 0 || mount(NULL, root, NULL, MS_PRIVATE, NULL) < 0) {
		dprintf(2, "labctl: mount the scenario root %s: %s\n", root, strerror(errno));
		return 2;
	}
	const char *treeroot = root;
	if (outside) {
		/* The outside steps run in a second bind of the root's filesystem,
		 * never under the root itself (criu restore's --root), with what a
		 * host shell has (/proc, /sys, /dev) for the steps only. */
		mkdir(host, 0755);
		char proc[192], sys[192], dev[192];
		snprintf(proc, sizeof proc, "%s/proc", host);
		snprintf(sys, sizeof sys, "%s/sys", host);
		snprintf(dev, sizeof dev, "%s/dev", host);
		if (mount(root, host, NULL, MS_BIND, NULL) < 0 || mount("proc", proc, "proc", 0, NULL) < 0 ||
		    mount("/sys", sys, NULL, MS_BIND | MS_REC, NULL) < 0 || mount("/dev", dev, NULL, MS_BIND | MS_REC, NULL) < 0) {
			dprintf(2, "labctl: prepare the outside steps' view %s: %s\n", host, strerror(errno));
			return 2;
		}
		treeroot = host;
		char out[192], err[192], step[192];
		snprintf(out, sizeof out, "%s/outside.out", w);
		snprintf(err, sizeof err, "%s/outside.err", w);
		snprintf(step, sizeof step, "%s/outside.step", w);
		int sfd = open(step, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		char *argv[] = {"run-outside", host, plan, NULL};
		pid_t pid = start(run_outside, argv, out, err, sfd, 0);
		close(sfd);
		int st = 0;
		while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		umount2(proc, MNT_DETACH), umount2(sys, MNT_DETACH), umount2(dev, MNT_DETACH);
		if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			printf("outside-failed %ld\n", last_step(step));
			return 3;
		}
	}
	/* The tree: the helper's run-tree holds the new mount and pid
	 * namespaces (and is excluded from leaks), its child is the tree's init;
	 * status lines come back on a pipe. */
	int status[2];
	if (pipe2(status, O_CLOEXEC) < 0) {
		dprintf(2, "labctl: pipe: %s\n", strerror(errno));
		return 2;
	}
	char out[192], err[192];
	snprintf(out, sizeof out, "%s/tree.out", w);
	snprintf(err, sizeof err, "%s/tree.err", w);
	char *argv[] = {"run-tree", (char *)treeroot, plan, NULL};
	pid_t upid = start(run_tree, argv, out, err, status[1], 1);
	close(status[1]);
	if (upid < 0) {
		dprintf(2, "labctl: fork: %s\n", strerror(errno));
		return 2;
	}
	char pidtext[32];
	snprintf(path, sizeof path, "%s/unshare.pid", w);
	int n = snprintf(pidtext, sizeof pidtext, "%d\n", (int)upid);
	write_text(path, pidtext, (size_t)n);
	snprintf(path, sizeof path, "%s/status.log", w);
	int log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	char buf[4096], line[512] = "", last[512] = "", result[512] = "";
	size_t used = 0;
	int timed_out = 0, ended = 0;
	while (!ended && !*result) {
		long left = deadline - ms_now();
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		struct pollfd p = {.fd = status[0], .events = POLLIN};
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		ssize_t got = read(status[0], buf, sizeof buf);
		if (got <= 0) {
			ended = 1;
			break;
		}
		if (log >= 0 && write(log, buf, (size_t)got) < 0) {
			close(log);
			log = -1;
		}
		for (ssize_t i = 0; i < got && !*result; i++) {
			if (buf[i] != '\n') {
				if (used < sizeof line - 1)
					line[used++] = buf[i];
				continue;
			}
			line[used] = 0;
			used = 0;
			if (!strcmp(line, "ready"))
				snprintf(result, sizeof result, "ready");
			else if (!strncmp(line, "failed", 6))
				snprintf(result, sizeof result, "%s", line);
			else if (!strncmp(line, "step", 4))
				snprintf(last, sizeof last, "%s", line);
		}
	}
	if (log >= 0)
		close(log);
	close(status[0]);
	if (timed_out) {
		kill_tree_of(upid);
		printf("setup-timeout\nlast %s\n", last);
		return 124;
	}
	if (strcmp(result, "ready")) {
		/* One task failed: the others may wait for it forever, so end the tree. */
		if (*result) {
			int kids[256];
			int k = children(upid, kids, 256);
			for (int i = 0; i < k; i++)
				kill(kids[i], SIGKILL);
		}
		printf("setup-failed %s\nlast %s\n", result, last);
		return 3;
	}
	int kids[4];
	int pid = children(upid, kids, 4) ? kids[0] : 0;
	if (pid <= 0) {
		dprintf(2, "labctl: not a number: ''\n");
		return 2;
	}
	/* "ready" comes just before the final execs: wait until every task really
	 * is the sleeper, with the lab's fds closed, before anyone captures or dumps. */
	while (!all_sleeping(pid)) {
		if (tree_has_exited(pid)) {
			kill_tree_of(upid);
			/* The last step said was the one before the hold: the hold failed. */
			printf("setup-failed failed %s 127\nlast %s\n", last[0] ? last + 5 : "0", last);
			return 3;
		}
		if (ms_now() >= deadline) {
			kill_tree_of(upid);
			printf("setup-timeout\nlast exec\n");
			return 124;
		}
		pause_ms(5);
	}
	snprintf(path, sizeof path, "%s/tree.pid", w);
	n = snprintf(pidtext, sizeof pidtext, "%d\n", pid);
	write_text(path, pidtext, (size_t)n);
	printf("pid=%d\n", pid);
	return 0;
}

static int positive_arg(const char *s, long *v) {
	char *end;
	*v = strtol(s, &end, 10);
	if (!*s || *end || *v < 0) {
		dprintf(2, "labctl: not a number: '%s'\n", s);
		return 0;
	}
	return 1;
}

int setup_cmd(int argc, char **argv) {
	char w[128];
	long limit;
	if (argc != 3) {
		dprintf(2, "usage: mountlab-helper setup ID LIMIT < plan\n");
		return 2;
	}
	if (work_dir(argv[1], w, sizeof w) < 0 || !positive_arg(argv[2], &limit))
		return 2;
	int rc = setup_tree(w, limit);
	fflush(stdout);
	return rc;
}

int build_cmd(int argc, char **argv) {
	char w[128], path[192], rc_text[16], t0_text[32];
	long limit;
	if (argc != 4) {
		dprintf(2, "usage: mountlab-helper build ID LIMIT LEAK < plan\n");
		return 2;
	}
	if (work_dir(argv[1], w, sizeof w) < 0 || !positive_arg(argv[2], &limit))
		return 2;
	struct timespec t;
	clock_gettime(CLOCK_BOOTTIME, &t);
	long t0_cs = t.tv_sec * 100L + t.tv_nsec / 10000000L;
	/* What setup prints goes to W/setup.out, which build-rest attaches. */
	mkdir(WORK_BASE, 0755);
	mkdir(w, 0755);
	snprintf(path, sizeof path, "%s/setup.out", w);
	fflush(stdout);
	/* Close-on-exec: the tree's tasks are forks of this process, and the ssh
	 * channel must not outlive the call in their final `sleep`. */
	int saved = fcntl(1, F_DUPFD_CLOEXEC, 3), out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (saved < 0 || out < 0 || dup2(out, 1) < 0) {
		dprintf(2, "labctl: %s: %s\n", path, strerror(errno));
		return 2;
	}
	close(out);
	int rc = setup_tree(w, limit);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	snprintf(rc_text, sizeof rc_text, "%d", rc);
	snprintf(t0_text, sizeof t0_text, "%ld", t0_cs);
	char *rest[] = {"build-rest", argv[1], rc_text, t0_text, argv[3], NULL};
	return build_rest(5, rest);
}

/* ---- clean-up -------------------------------------------------------------- */

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
	(void)st, (void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* What is left behind, appended to DIRTY: a task of PIDS alive, a mount under W, a loop device. */
static void look(const char *w, const int *pids, const char **names, int n, char *dirty, size_t size) {
	dirty[0] = 0;
	for (int i = 0; i < n; i++) {
		char path[64], stat[512];
		snprintf(path, sizeof path, "/proc/%d/stat", pids[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, stat, sizeof stat - 1);
		close(fd);
		if (len <= 0)
			continue;
		stat[len] = 0;
		char *paren = strrchr(stat, ')');
		if (paren && paren[1] == ' ' && paren[2] == 'Z')
			continue;
		snprintf(dirty + strlen(dirty), size - strlen(dirty), " task-%s-alive", names[i]);
	}
	FILE *m = fopen("/proc/self/mounts", "re");
	char line[4096];
	size_t wl = strlen(w);
	while (m && fgets(line, sizeof line, m)) {
		char *mp = strchr(line, ' ');
		if (!mp)
			continue;
		mp++;
		char *end = strchr(mp, ' ');
		if (end)
			*end = 0;
		if (!strncmp(mp, w, wl) && (mp[wl] == 0 || mp[wl] == '/')) {
			snprintf(dirty + strlen(dirty), size - strlen(dirty), " mount:%s", mp);
			break;
		}
	}
	if (m)
		fclose(m);
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "loop", 4))
			continue;
		char path[320];
		snprintf(path, sizeof path, "/sys/block/%s/loop/backing_file", e->d_name);
		if (access(path, F_OK) == 0) {
			snprintf(dirty + strlen(dirty), size - strlen(dirty), " loop-device");
			break;
		}
	}
	if (d)
		closedir(d);
}

int cleanup_cmd(int argc, char **argv) {
	char w[128], path[192];
	if (argc != 2) {
		dprintf(2, "usage: mountlab-helper cleanup ID\n");
		return 2;
	}
	if (work_dir(argv[1], w, sizeof w) < 0)
		return 2;
	static const char *files[] = {"tree", "unshare", "restored", "leak"};
	int pids[4];
	const char *names[4];
	int n = 0;
	for (size_t i = 0; i < COUNT(files); i++) {
		snprintf(path, sizeof path, "%s/%s.pid", w, files[i]);
		int p = read_int(path);
		if (p <= 0)
			continue;
		pids[n] = p, names[n++] = files[i];
		/* The tree and the restored tree are pid namespace inits: killing
		 * one kills its namespace. The leak has one child, its sleep. */
		int kids[256];
		int k = children(p, kids, 256);
		kill(p, SIGKILL);
		for (int j = 0; j < k; j++)
			kill(kids[j], SIGKILL);
	}
	/* A lazy unmount detaches the root with everything under it, and one
	 * more the outside steps' view with theirs. */
	snprintf(path, sizeof path, "%s/host", w);
	umount2(path, MNT_DETACH);
	snprintf(path, sizeof path, "%s/root", w);
	umount2(path, MNT_DETACH);
	nftw(w, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	/* Killed tasks take a moment to die and loop devices detach when their
	 * last user goes: look a few times before calling the guest dirty. */
	char dirty[2048];
	for (int tries = 0;; tries++) {
		look(w, pids, names, n, dirty, sizeof dirty);
		if (!*dirty || tries >= 40)
			break;
		pause_ms(50);
	}
	if (*dirty)
		printf("dirty%s\n", dirty);
	return fflush(stdout) == 0 ? 0 : 1;
}
