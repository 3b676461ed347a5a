/*
 * The executor of a program (src/plan/program.ts): what labctl's setup and
 * the bash tree script did, in one process per task, with direct syscalls.
 *
 *   run-tree ROOT [PLAN|-] [--status-fd N]
 *       unshare(CLONE_NEWNS|CLONE_NEWPID) and fork, as `unshare -m -p
 *       --fork --propagation unchanged` did: the parent holds the mount
 *       namespace (leaks excludes it, as it excluded unshare), waits for
 *       the tree and exits as it exits. The child is the pid namespace's
 *       init: it pivots into ROOT (a mount point), mounts proc, detaches
 *       the old root, holds the sync directory open as fd 8, becomes a
 *       session leader (CRIU wants each session leader inside the tree),
 *       runs init's steps, forks a child per `spawn`, waits until every
 *       other task signalled done-NAME, reports ready and holds.
 *   run-outside ROOT [PLAN|-] [--status-fd N]
 *       the outside steps, in the caller's namespaces, chrooted into ROOT.
 *       The caller mounts what they need there first, as labctl did (/proc
 *       for mountinfo, /dev for loop devices).
 *   plan-echo [PLAN|-]
 *       parses the plan and writes it back: a test of the reader.
 *
 * Status lines, one write(2) each (atomic on a pipe), on the status fd
 * (default 9; the lab's own, as fd 8 is the sync directory):
 *   init PID           run-tree's parent: the tree's init, as the caller's pid namespace numbers
 *                      it; always the first line (init waits for it)
 *   step N             step N starts (N as compile.ts numbers it)
 *   failed N RC WHY    step N failed (0: entering the root, or a task's hold);
 *                      RC 1 for a failed syscall, else the exit status of the
 *                      tool that ran; WHY an errno name, or exit / signal
 *   ready              every task finished its steps (run-outside: all steps ran)
 * A failure also goes to stderr as "mountlab-helper: step N (LABEL): WHAT: ERROR".
 * A failed task exits; the caller ends the tree, as labctl does on `failed`.
 *
 * The hold: every lab fd (0, 1, 2, 8, the status fd) is close-on-exec and
 * the task execs `sleep 1000000` (PATH lookup, as bash's `exec sleep` did),
 * so that criu and the capture see tasks as the bash tree left them. A task
 * that made a mapping (op mmap) cannot exec (the exec would unmap it): it
 * closes what the exec would have closed and sleeps in nanosleep as itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

/* linux/loop.h, for kernels headers that lack LOOP_CONFIGURE. */
#define ML_LOOP_SET_FD 0x4C00
#define ML_LOOP_CLR_FD 0x4C01
#define ML_LOOP_SET_STATUS64 0x4C04
#define ML_LOOP_CONFIGURE 0x4C0A
#define ML_LOOP_CTL_GET_FREE 0x4C82
#define ML_LO_FLAGS_READ_ONLY 1
#define ML_LO_FLAGS_AUTOCLEAR 4

struct ml_loop_info64 {
	uint64_t lo_device, lo_inode, lo_rdevice, lo_offset, lo_sizelimit;
	uint32_t lo_number, lo_encrypt_type, lo_encrypt_key_size, lo_flags;
	uint8_t lo_file_name[64], lo_crypt_name[64], lo_encrypt_key[32];
	uint64_t lo_init[2];
};

struct ml_loop_config {
	uint32_t fd, block_size;
	struct ml_loop_info64 info;
	uint64_t reserved[8];
};

#define SYNC_FD 8
#define STATUS_FD 9

static const struct plan *plan;
static struct failure fail;
/* This task made a mapping (op mmap): exec'ing sleep at the hold would unmap it. */
static int keeps_mappings;


static void status(const char *fmt, ...) {
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	while (write(STATUS_FD, buf, (size_t)n) < 0 && errno == EINTR)
		;
}

static void report(long n, const char *label) {
	char l[512];
	const char *what = label ? printable(label, l, sizeof l) : "entering the scenario root";
	/* stderr first: the reader of the status line reads the stderr file as
	 * soon as it sees `failed`, and found it empty in a few runs. */
	dprintf(2, "mountlab-helper: step %ld (%s): %s\n", n, what, fail.msg);
	status("failed %ld %d %s", n, fail.rc, fail.why);
}

static int fail_msg(int rc, const char *why, const char *fmt, ...) {
	va_list ap;
	fail.rc = rc;
	snprintf(fail.why, sizeof fail.why, "%s", why);
	va_start(ap, fmt);
	vsnprintf(fail.msg, sizeof fail.msg, fmt, ap);
	va_end(ap);
	return -1;
}

#define FAIL(what, path) fail_errno(&fail, what, path)

/*
 * The capture names a task by MOUNTLAB_TASK in /proc/PID/environ, which
 * shows the environment as the last exec left it in memory, not setenv's.
 * A task that holds without exec'ing (keeps_mappings) writes its name into
 * that memory itself: run-tree re-executes itself once with
 * MOUNTLAB_TASK=init followed by MOUNTLAB_TASK_SLOT=<padding>, contiguous
 * on the stack, and the slot is both strings.
 */
#define TASK_VAR "MOUNTLAB_TASK="
#define SLOT_VAR "MOUNTLAB_TASK_SLOT="
#define SLOT_PAD 64
extern char **environ;
static char *task_slot;
static size_t task_slot_len;

/* Finds the slot in the environment this process was exec'd with (see reexec_in_root). */
static void find_task_slot(void) {
	for (char **e = environ; *e; e++) {
		if (strncmp(*e, TASK_VAR, strlen(TASK_VAR)))
			continue;
		char *next = *e + strlen(*e) + 1;
		if (!strncmp(next, SLOT_VAR, strlen(SLOT_VAR))) {
			task_slot = *e;
			task_slot_len = (size_t)(next + strlen(next) - *e);
			return;
		}
	}
}

/*
 * Whether a task may hold as the helper: one that maps files, one that
 * pivot_roots and may find no sleep in its new root, or one that may find
 * its root noexec after a remount (hold).
 */
static int plan_may_hold_as_helper(void) {
	for (int i = 0; i < plan->ntasks; i++)
		for (int s = 0; s < plan->tasks[i].nsteps; s++)
			for (int o = 0; o < plan->tasks[i].steps[s].nops; o++) {
				int k = plan->tasks[i].steps[s].ops[o].kind;
				if (k == OP_MMAP || k == OP_PIVOT_ROOT || k == OP_REMOUNT)
					return 1;
			}
	return 0;
}

/*
 * For a plan that maps files or pivots, init execs the helper again once it
 * is in the scenario root (run-init), before any step: the tasks that keep
 * mappings, or find no sleep in their new root, hold as the helper, and
 * CRIU dumps their executable's mapping too, which must lie on a mount of
 * the tree (the helper run-tree started from is on
 * the guest's old root, detached by now). The same exec reserves the
 * environment slot that names a holding task. The plan travels in a memfd;
 * fds 8 and the status fd stay open across it.
 */
static int reexec_in_root(void) {
	const char *self = getenv("MOUNTLAB_HELPER_IN_ROOT");
	if (!self || !*self)
		self = "/usr/local/bin/mountlab-helper";
	int mfd = (int)syscall(SYS_memfd_create, "mountlab-plan", 0);
	if (mfd < 0)
		return FAIL("memfd_create", NULL);
	plan_write(mfd, plan);
	if (lseek(mfd, 0, SEEK_SET) < 0)
		return FAIL("lseek", "the plan's memfd");
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 3, sizeof *env);
	static char slot[sizeof SLOT_VAR + SLOT_PAD];
	if (!env)
		return FAIL("calloc", NULL);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], TASK_VAR, strlen(TASK_VAR)) && strncmp(environ[i], SLOT_VAR, strlen(SLOT_VAR)))
			env[k++] = environ[i];
	memset(slot, 'x', sizeof slot - 1);
	memcpy(slot, SLOT_VAR, strlen(SLOT_VAR));
	env[k++] = TASK_VAR "init";
	env[k++] = slot;
	char fdtext[16];
	snprintf(fdtext, sizeof fdtext, "%d", mfd);
	char *av[] = {"mountlab-helper", "run-init", fdtext, NULL};
	fcntl(SYNC_FD, F_SETFD, 0);
	fcntl(STATUS_FD, F_SETFD, 0);
	execve(self, av, env);
	FAIL("exec the helper inside the scenario root:", self);
	fcntl(SYNC_FD, F_SETFD, FD_CLOEXEC);
	fcntl(STATUS_FD, F_SETFD, FD_CLOEXEC);
	close(mfd);
	free(env);
	return -1;
}

static void name_task_in_environ(const char *name) {
	if (!task_slot || !name || strlen(TASK_VAR) + strlen(name) > task_slot_len)
		return;
	memset(task_slot, 0, task_slot_len);
	memcpy(task_slot, TASK_VAR, strlen(TASK_VAR));
	memcpy(task_slot + strlen(TASK_VAR), name, strlen(name));
}

/* ---- tools ---------------------------------------------------------------- */

/* Runs ARGV (PATH lookup), waits; 0 when it exits 0. */
static int run_tool(char **argv) {
	pid_t pid = fork();
	if (pid < 0)
		return FAIL("fork for", argv[0]);
	if (pid == 0) {
		execvp(argv[0], argv);
		dprintf(2, "mountlab-helper: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return FAIL("waitpid for", argv[0]);
	char a[256];
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		return fail_msg(WEXITSTATUS(st), "exit", "%s exited with %d", printable(argv[0], a, sizeof a),
				WEXITSTATUS(st));
	printable(argv[0], a, sizeof a);
	return fail_msg(128 + WTERMSIG(st), "signal", "%s was killed by signal %d", a, WTERMSIG(st));
}

/* The strings of N arguments as a NULL-terminated vector. */
static char **argv_of(const struct arg *a, int n) {
	char **v = calloc((size_t)n + 1, sizeof *v);
	for (int i = 0; v && i < n; i++)
		v[i] = a[i].s;
	return v;
}

/* ---- files ---------------------------------------------------------------- */

static int is_dir(const char *path) {
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir -p: parents with u+wx whatever the umask, as coreutils makes them. */
static int mkdir_p(const char *path, int parent) {
	if (mkdir(path, 0777) == 0) {
		mode_t mask = umask(0);
		umask(mask);
		if (parent && (mask & 0300))
			chmod(path, (0777 & ~mask) | 0300);
		return 0;
	}
	if (errno == EEXIST) {
		if (is_dir(path))
			return 0;
		errno = EEXIST;
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	char *up = strdup(path);
	size_t len = strlen(up);
	while (len > 1 && up[len - 1] == '/')
		up[--len] = 0;
	char *slash = strrchr(up, '/');
	int rc = -1;
	if (slash && slash != up) {
		*slash = 0;
		if (mkdir_p(up, 1) == 0)
			rc = mkdir(path, 0777) == 0 || (errno == EEXIST && is_dir(path)) ? 0 : -1;
	} else {
		errno = ENOENT;
	}
	free(up);
	return rc;
}

static int write_file(const char *path, const struct arg *content) {
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		return FAIL("open", path);
	for (size_t off = 0; off < content->len;) {
		ssize_t w = write(fd, content->s + off, content->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			FAIL("write", path);
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0)
		return FAIL("close", path);
	return 0;
}

/* gnulib last_component: "a/b/" -> "b/". */
static const char *last_component(const char *name) {
	const char *base = name + strspn(name, "/");
	int saw_slash = 0;
	for (const char *p = base; *p; p++) {
		if (*p == '/')
			saw_slash = 1;
		else if (saw_slash)
			base = p, saw_slash = 0;
	}
	return base;
}

/* ln's destination: inside DEST when it is an existing directory. */
static const char *ln_dest(const char *source, const char *dest, char *buf, size_t size) {
	if (!is_dir(dest))
		return dest;
	size_t len = strlen(dest);
	snprintf(buf, size, "%s%s%s", dest, len && dest[len - 1] == '/' ? "" : "/", last_component(source));
	return buf;
}

static int rename_mv(const char *from, const char *to) {
	struct stat a, b;
	/* Two names of one file: rename(2) would do nothing; mv decides. */
	int same = lstat(from, &a) == 0 && lstat(to, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	if (!same && rename(from, to) == 0)
		return 0;
	if (!same && errno != EXDEV)
		return FAIL("rename", from);
	char *argv[] = {"mv", "-T", "--", (char *)from, (char *)to, NULL};
	return run_tool(argv);
}

/* ---- mounts --------------------------------------------------------------- */

static const char *propagation_names[] = {"shared", "slave", "private", "unbindable"};
static const unsigned long propagation_flags[] = {MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE};

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MS_LAZYTIME
#define MS_LAZYTIME (1 << 25)
#endif

/* MS_* flags that fsmount(2) takes as MOUNT_ATTR_* (per mount) ... */
static const struct {
	unsigned long ms;
	uint64_t attr;
} mount_attrs[] = {
	{MS_RDONLY, ATTR_RDONLY},	  {MS_NOSUID, ATTR_NOSUID},		{MS_NODEV, ATTR_NODEV},
	{MS_NOEXEC, ATTR_NOEXEC},	  {MS_NOATIME, ATTR_NOATIME},		{MS_STRICTATIME, ATTR_STRICTATIME},
	{MS_NODIRATIME, ATTR_NODIRATIME}, {MS_NOSYMFOLLOW, ATTR_NOSYMFOLLOW},
};
/* ... and those fsconfig(2) takes as flags of the superblock. */
static const struct {
	unsigned long ms;
	const char *name;
} superblock_flags[] = {
	{MS_RDONLY, "ro"}, {MS_SYNCHRONOUS, "sync"}, {MS_DIRSYNC, "dirsync"},
	{MS_MANDLOCK, "mand"}, {MS_LAZYTIME, "lazytime"},
};

/*
 * A new filesystem the way libmount 2.41 makes one (hook_mount.c
 * hook_create_mount): fsopen, one fsconfig per option, create, fsmount,
 * move_mount. Not mount(2): it refuses a superblock stacked on the root of
 * a mount of the same superblock (sysfs on /sys: EBUSY, do_add_mount's
 * "same filesystem on the same mount point"), which move_mount allows, so
 * scenarios built by mount(8) would not build here. Returns -2 with errno
 * ENOSYS when the kernel lacks the API, for the caller to use mount(2).
 */
static int new_mount(const char *source, const char *tgt, const char *fstype, unsigned long flags,
		     const char *data) {
	int fs = (int)syscall(SYS_fsopen, fstype, ML_FSOPEN_CLOEXEC);
	if (fs < 0)
		return errno == ENOSYS ? -2 : FAIL("mount", tgt);
	int rc = 0, mnt = -1;
	uint64_t attrs = 0;
	if (*source && syscall(SYS_fsconfig, fs, ML_FSCONFIG_SET_STRING, "source", source, 0) < 0)
		goto failed;
	for (size_t i = 0; i < COUNT(superblock_flags); i++)
		if ((flags & superblock_flags[i].ms) &&
		    syscall(SYS_fsconfig, fs, ML_FSCONFIG_SET_FLAG, superblock_flags[i].name, NULL, 0) < 0)
			goto failed;
	/* The data string split at commas, as the kernel splits mount(2)'s
	 * (generic_parse_monolithic); the program only sends strings without
	 * quotes or escapes here (src/plan/mount-options.ts nativeReason). */
	char *opts = strdup(data), *save = NULL;
	for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');
		if (eq)
			*eq = 0;
		if (syscall(SYS_fsconfig, fs, eq ? ML_FSCONFIG_SET_STRING : ML_FSCONFIG_SET_FLAG, o, eq ? eq + 1 : NULL,
			    0) < 0) {
			free(opts);
			goto failed;
		}
	}
	free(opts);
	if (syscall(SYS_fsconfig, fs, ML_FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		goto failed;
	for (size_t i = 0; i < COUNT(mount_attrs); i++)
		if (flags & mount_attrs[i].ms)
			attrs |= mount_attrs[i].attr;
	mnt = (int)syscall(SYS_fsmount, fs, ML_FSMOUNT_CLOEXEC, attrs);
	if (mnt < 0 || syscall(SYS_move_mount, mnt, "", AT_FDCWD, tgt, ML_MOVE_MOUNT_F_EMPTY_PATH) < 0)
		goto failed;
	goto done;
failed:
	rc = FAIL("mount", tgt);
done:
	if (mnt >= 0)
		close(mnt);
	close(fs);
	return rc;
}

static int do_mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data) {
	char t[PATH_MAX];
	const char *tgt = canonical(target, t);
	int rc = new_mount(source, tgt, fstype, flags, data);
	if (rc != -2)
		return rc;
	if (mount(source, tgt, fstype, flags, *data ? data : NULL) < 0)
		return FAIL("mount", tgt);
	return 0;
}

static int clone_tree(const char *path, int recursive) {
	unsigned flags = ML_OPEN_TREE_CLONE | O_CLOEXEC | (recursive ? ML_AT_RECURSIVE : 0);
	return (int)syscall(SYS_open_tree, AT_FDCWD, path, flags);
}

static int do_bind(const char *source, const char *target, int recursive, uint64_t set, uint64_t clr) {
	char s[PATH_MAX], t[PATH_MAX];
	const char *src = canonical(source, s), *tgt = canonical(target, t);
	char what[PATH_MAX + 16], p[PATH_MAX];
	snprintf(what, sizeof what, "%s %s on", recursive ? "rbind" : "bind", printable(src, p, sizeof p));
	if (!set && !clr)
		return mount(src, tgt, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0 ? FAIL(what, tgt) : 0;
	/* libmount's `-o bind,FLAGS`: the flags go on the clone before it is attached. */
	int fd = clone_tree(src, recursive);
	if (fd < 0)
		return FAIL("open_tree", src);
	struct ml_mount_attr a = {.attr_set = set, .attr_clr = clr};
	int rc = 0;
	if (syscall(SYS_mount_setattr, fd, "", ML_AT_EMPTY_PATH, &a, sizeof a) < 0)
		rc = FAIL("mount_setattr on the clone of", src);
	else if (syscall(SYS_move_mount, fd, "", AT_FDCWD, tgt, ML_MOVE_MOUNT_F_EMPTY_PATH) < 0)
		rc = FAIL(what, tgt);
	close(fd);
	return rc;
}

static int do_propagation(const char *path, const char *type, int recursive) {
	size_t i;
	for (i = 0; i < COUNT(propagation_names) && strcmp(type, propagation_names[i]); i++)
		;
	if (i == COUNT(propagation_names))
		return fail_msg(1, "EINVAL", "unknown propagation '%s'", type);
	char t[PATH_MAX];
	const char *tgt = canonical(path, t);
	if (mount(NULL, tgt, NULL, propagation_flags[i] | (recursive ? MS_REC : 0), NULL) < 0)
		return FAIL("make-" , tgt);
	return 0;
}

/* umount(8) as root: a directory it can statfs is unmounted by the name
 * given; otherwise (lazy, a file) by the path its mountinfo line shows. */
static int do_umount(const char *path, int lazy) {
	char t[PATH_MAX];
	const char *tgt = !lazy && is_dir(path) ? path : canonical(path, t);
	int flags = lazy ? MNT_DETACH : 0;
	int rc = flags ? umount2(tgt, flags) : umount(tgt);
	struct stat st;
	if (rc < 0 && errno == EINVAL && lstat(tgt, &st) == 0 && S_ISLNK(st.st_mode))
		rc = umount2(tgt, flags | ML_UMOUNT_NOFOLLOW);
	return rc < 0 ? FAIL("umount", tgt) : 0;
}

static int create_image(const char *path, unsigned long long bytes) {
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EEXIST) {
		char p[512];
		return fail_msg(1, "EEXIST", "image %s exists already", printable(path, p, sizeof p));
	}
	if (fd < 0)
		return FAIL("create", path);
	int rc = ftruncate(fd, (off_t)bytes) < 0 ? FAIL("truncate", path) : 0;
	close(fd);
	return rc;
}

/* hook_loopdev.c: a free device, the image bound with AUTOCLEAR (and
 * READ_ONLY for ro, or when the image only opens read-only), held open
 * read-only until the mount is made. */
static int loop_mount(const char *image, const char *target, const char *fstype, unsigned long flags,
		      const char *data) {
	char img[PATH_MAX], dev[64];
	const char *file = canonical(image, img);
	int ro = (flags & MS_RDONLY) != 0;
	int ffd = open(file, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (ffd < 0 && !ro && (errno == EROFS || errno == EACCES))
		ro = 1, flags |= MS_RDONLY, ffd = open(file, O_RDONLY | O_CLOEXEC);
	if (ffd < 0)
		return FAIL("open", file);
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		close(ffd);
		return FAIL("open", "/dev/loop-control");
	}
	int dfd = -1, rc = -1;
	for (int tries = 0; tries < 16 && rc < 0; tries++) {
		int n = ioctl(ctl, ML_LOOP_CTL_GET_FREE);
		if (n < 0) {
			FAIL("LOOP_CTL_GET_FREE on", "/dev/loop-control");
			break;
		}
		snprintf(dev, sizeof dev, "/dev/loop%d", n);
		dfd = open(dev, O_RDWR | O_CLOEXEC);
		if (dfd < 0) {
			FAIL("open", dev);
			break;
		}
		struct ml_loop_config c = {.fd = (uint32_t)ffd};
		c.info.lo_flags = ML_LO_FLAGS_AUTOCLEAR | (ro ? ML_LO_FLAGS_READ_ONLY : 0);
		snprintf((char *)c.info.lo_file_name, sizeof c.info.lo_file_name, "%s", file);
		rc = ioctl(dfd, ML_LOOP_CONFIGURE, &c);
		if (rc < 0 && (errno == EINVAL || errno == ENOTTY)) {
			/* Before Linux 5.8. */
			rc = ioctl(dfd, ML_LOOP_SET_FD, ffd);
			if (rc == 0 && (rc = ioctl(dfd, ML_LOOP_SET_STATUS64, &c.info)) < 0)
				ioctl(dfd, ML_LOOP_CLR_FD, 0);
		}
		if (rc < 0) {
			int busy = errno == EBUSY;
			FAIL("set up", dev);
			close(dfd), dfd = -1;
			if (!busy)
				break;
		}
	}
	close(ctl);
	close(ffd);
	if (rc < 0)
		return -1;
	int hold = open(dev, O_RDONLY | O_CLOEXEC);
	close(dfd);
	rc = do_mount(dev, target, fstype, flags, data);
	if (rc < 0 && hold >= 0)
		ioctl(hold, ML_LOOP_CLR_FD, 0);
	if (hold >= 0)
		close(hold);
	return rc;
}

/* ---- tasks ---------------------------------------------------------------- */

static int sync_signal(const char *name) {
	int fd = openat(SYNC_FD, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		return FAIL("signal", name);
	close(fd);
	return 0;
}

static void sync_wait(const char *name) {
	struct timespec ts = {0, 5 * 1000 * 1000};
	while (faccessat(SYNC_FD, name, F_OK, 0) < 0)
		nanosleep(&ts, NULL);
}

static int lookup_name(const char *name, const struct name_value *t, size_t n, int *out) {
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, t[i].n)) {
			*out |= t[i].v;
			return 0;
		}
	return -1;
}

static int do_unshare(const struct arg *a, int n) {
	int flags = 0;
	for (int i = 0; i < n; i++)
		if (lookup_name(a[i].s, namespaces, namespaces_count, &flags) < 0)
			return fail_msg(1, "EINVAL", "unknown namespace '%s'", a[i].s);
	if (unshare(flags) < 0)
		return FAIL("unshare", NULL);
	if (flags & CLONE_NEWUSER) {
		/* The old tree re-executed itself behind unshare, and an exec by a
		 * uid that the new user namespace does not map drops every
		 * capability. Do the same, so later steps fare as they did. */
		struct {
			uint32_t version;
			int pid;
		} h = {0x20080522, 0};
		struct {
			uint32_t effective, permitted, inheritable;
		} d[2] = {{0, 0, 0}, {0, 0, 0}};
		if (syscall(SYS_capset, &h, d) < 0)
			return FAIL("capset", NULL);
	}
	return 0;
}

/* ---- user namespaces with maps -------------------------------------------- */

/* Writes setgroups, uid_map and gid_map of the task whose /proc directory is
 * PROCDIR, each in one write(2), as the kernel takes a map only whole. The
 * writer must be in the new namespace's parent with CAP_SETUID/CAP_SETGID
 * there: a task cannot write arbitrary maps of its own new namespace. */
static int write_id_maps(int procdir, const struct userns_maps *m) {
	const struct {
		const char *file;
		const struct arg *text;
	} w[] = {{"setgroups", &m->setgroups}, {"uid_map", &m->uid_map}, {"gid_map", &m->gid_map}};
	for (size_t i = 0; i < COUNT(w); i++) {
		int fd = openat(procdir, w[i].file, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return FAIL("open /proc/PID/", w[i].file);
		ssize_t n = write(fd, w[i].text->s, w[i].text->len);
		int e = errno;
		close(fd);
		if (n != (ssize_t)w[i].text->len) {
			errno = n < 0 ? e : EIO;
			return FAIL("write /proc/PID/", w[i].file);
		}
	}
	return 0;
}

/* The new namespace's root, as unshare --map-root-user leaves a task: gid
 * first (after setresuid the task could no longer choose). EINVAL: 0 is not
 * mapped, the task stays the overflow id with its capabilities; EPERM from
 * setgroups: setgroups is denied, the task keeps its supplementary groups. */
static int become_ns_root(void) {
	if (setresgid(0, 0, 0) < 0 && errno != EINVAL)
		return FAIL("setresgid", "0");
	if (setgroups(0, NULL) < 0 && errno != EPERM && errno != EINVAL)
		return FAIL("setgroups", NULL);
	if (setresuid(0, 0, 0) < 0 && errno != EINVAL)
		return FAIL("setresuid", "0");
	/* The id change made the task undumpable, and /proc/PID of an
	 * undumpable task belongs to the root of the user namespace its memory
	 * was made in (the guest's): a nested unshare-user's map writer, root
	 * only of this namespace, could not open this task's maps. A runtime
	 * execs the container's init, which makes it dumpable again. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return FAIL("prctl", "PR_SET_DUMPABLE");
	return 0;
}

/* The writer's half: wait until the task has unshared (one byte; EOF means
 * it failed), write its maps, send back the failure (rc 0: none). */
static void map_writer(int procdir, const struct userns_maps *m, int go, int done) __attribute__((noreturn));
static void map_writer(int procdir, const struct userns_maps *m, int go, int done) {
	char c;
	ssize_t r;
	while ((r = read(go, &c, 1)) < 0 && errno == EINTR)
		;
	memset(&fail, 0, sizeof fail);
	int rc = r == 1 ? write_id_maps(procdir, m) : 0;
	if (r == 1 && write(done, &fail, sizeof fail) != (ssize_t)sizeof fail)
		rc = -1;
	_exit(rc < 0);
}

/* Reads the writer's answer and reaps it. 0, or -1 with its failure in `fail`. */
static int map_writer_result(pid_t w, int done) {
	struct failure wf;
	ssize_t n;
	while ((n = read(done, &wf, sizeof wf)) < 0 && errno == EINTR)
		;
	close(done);
	int st;
	while (waitpid(w, &st, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof wf)
		return fail_msg(1, "EIO", "the map writer died without an answer");
	if (wf.rc) {
		fail = wf;
		return -1;
	}
	return 0;
}

static int do_unshare_user(const struct op *op) {
	int flags = CLONE_NEWUSER;
	for (int i = 3; i < op->argc; i++)
		if (lookup_name(op->argv[i].s, namespaces, namespaces_count, &flags) < 0)
			return fail_msg(1, "EINVAL", "unknown namespace '%s'", op->argv[i].s);
	const struct userns_maps m = {op->argv[0], op->argv[1], op->argv[2]};
	/* /proc/self as this task's pid namespace's proc names it, before the
	 * unshare: the writer reaches this task through it whatever pid
	 * namespace either is in. */
	int procdir = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procdir < 0)
		return FAIL("open", "/proc/self");
	int go[2] = {-1, -1}, done[2] = {-1, -1};
	pid_t w = -1;
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0 || (w = fork()) < 0) {
		FAIL(w < 0 && done[0] >= 0 ? "fork" : "pipe", NULL);
		int fds[] = {go[0], go[1], done[0], done[1], procdir};
		for (size_t i = 0; i < COUNT(fds); i++)
			if (fds[i] >= 0)
				close(fds[i]);
		return -1;
	}
	if (w == 0) {
		close(go[1]);
		close(done[0]);
		map_writer(procdir, &m, go[0], done[1]);
	}
	close(go[0]);
	close(done[1]);
	close(procdir);
	if (unshare(flags) < 0) {
		FAIL("unshare", NULL);
		struct failure keep = fail;
		close(go[1]);
		map_writer_result(w, done[0]);
		fail = keep;
		return -1;
	}
	if (write(go[1], "1", 1) != 1) {
		FAIL("write", "to the map writer");
		close(go[1]);
		map_writer_result(w, done[0]);
		return -1;
	}
	close(go[1]);
	if (map_writer_result(w, done[0]) < 0)
		return -1;
	return become_ns_root();
}

static int do_open(const struct op *op) {
	int flags = 0;
	for (int i = 4; i < op->argc; i++)
		if (lookup_name(op->argv[i].s, open_flags, open_flags_count, &flags) < 0)
			return fail_msg(1, "EINVAL", "unknown open flag '%s'", op->argv[i].s);
	const char *path = op->argv[0].s;
	int want = (int)op->argv[1].num;
	int fd = open(path, flags, (mode_t)op->argv[2].num);
	if (fd < 0)
		return FAIL("open", path);
	if (op->argv[3].num && lseek(fd, (off_t)op->argv[3].num, SEEK_SET) < 0) {
		FAIL("lseek", path);
		close(fd);
		return -1;
	}
	if (fd != want) {
		if (dup3(fd, want, flags & O_CLOEXEC) < 0) {
			FAIL("dup3", path);
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

/* Moves FD to WANT (not close-on-exec, as an `open` leaves it). */
static int place_fd(int fd, int want, const char *what) {
	if (fd == want)
		return fcntl(fd, F_SETFD, 0) < 0 ? FAIL("fcntl", what) : 0;
	if (dup3(fd, want, 0) < 0) {
		FAIL("dup3", what);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int unix_addr(const char *path, struct sockaddr_un *sa) {
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa->sun_path)
		return fail_msg(1, "ENAMETOOLONG", "%s: longer than a unix socket path", path);
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

static int do_socket(const struct arg *a) {
	const char *type = a[1].s, *bind_to = a[2].s, *connect_to = a[4].s;
	int t = !strcmp(type, "stream") ? SOCK_STREAM : !strcmp(type, "dgram") ? SOCK_DGRAM
		: !strcmp(type, "seqpacket") ? SOCK_SEQPACKET : -1;
	if (t < 0)
		return fail_msg(1, "EINVAL", "unknown socket type '%s'", type);
	int s = socket(AF_UNIX, t | SOCK_CLOEXEC, 0);
	if (s < 0)
		return FAIL("socket", NULL);
	struct sockaddr_un sa;
	if (*bind_to && (unix_addr(bind_to, &sa) < 0 || (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 &&
							  FAIL("bind", bind_to) < 0)))
		goto failed;
	if (a[3].num && listen(s, 16) < 0 && FAIL("listen", bind_to) < 0)
		goto failed;
	if (*connect_to && (unix_addr(connect_to, &sa) < 0 || (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0 &&
								FAIL("connect to", connect_to) < 0)))
		goto failed;
	return place_fd(s, (int)a[0].num, "socket");
failed:
	close(s);
	return -1;
}

static int do_mknod(const struct arg *a) {
	const char *path = a[0].s, *type = a[1].s;
	mode_t kind = !strcmp(type, "char") ? S_IFCHR : !strcmp(type, "block") ? S_IFBLK : !strcmp(type, "fifo") ? S_IFIFO : 0;
	if (!kind)
		return fail_msg(1, "EINVAL", "unknown node type '%s'", type);
	dev_t dev = kind == S_IFIFO ? 0 : makedev((unsigned)a[3].num, (unsigned)a[4].num);
	return mknod(path, kind | ((mode_t)a[2].num & 07777), dev) < 0 ? FAIL("mknod", path) : 0;
}

/* The fd an op works on: the task's own (FD, not closed after) or PATH opened with FLAGS. */
static int op_fd(const char *path, unsigned long long fd, int flags, int *owned) {
	*owned = fd == 0;
	if (fd)
		return (int)fd;
	int f = open(path, flags | O_CLOEXEC, 0666);
	return f < 0 ? FAIL("open", path) : f;
}

static int do_mmap(const struct arg *a) {
	int write_ = (int)a[5].num, shared = (int)a[4].num, owned;
	const char *what = a[1].num ? "fd" : a[0].s;
	int f = op_fd(a[0].s, a[1].num, write_ ? O_RDWR : O_RDONLY, &owned);
	if (f < 0)
		return -1;
	void *m = mmap(NULL, (size_t)a[3].num, PROT_READ | (write_ ? PROT_WRITE : 0), shared ? MAP_SHARED : MAP_PRIVATE,
		       f, (off_t)a[2].num);
	int rc = m == MAP_FAILED ? FAIL("mmap", what) : 0;
	if (owned)
		close(f);
	if (rc == 0)
		keeps_mappings = 1;
	return rc;
}

static int do_truncate(const struct arg *a) {
	int owned;
	int f = op_fd(a[0].s, a[1].num, O_WRONLY | O_CREAT, &owned);
	if (f < 0)
		return -1;
	int rc = ftruncate(f, (off_t)a[2].num) < 0 ? FAIL("ftruncate", a[1].num ? "fd" : a[0].s) : 0;
	if (owned)
		close(f);
	return rc;
}

static int do_pwrite(const struct arg *a) {
	int owned;
	const char *what = a[1].num ? "fd" : a[0].s;
	int f = op_fd(a[0].s, a[1].num, O_WRONLY, &owned);
	if (f < 0)
		return -1;
	int rc = 0;
	for (size_t off = 0; off < a[3].len && rc == 0;) {
		ssize_t w = pwrite(f, a[3].s + off, a[3].len - off, (off_t)(a[2].num + off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			rc = FAIL("pwrite", what);
		else
			off += (size_t)w;
	}
	if (owned)
		close(f);
	return rc;
}

static int do_access(const struct arg *a) {
	struct stat st;
	if (stat(a[0].s, &st) == 0)
		return 0;
	if (a[1].num && (errno == ENOENT || errno == ENOTDIR))
		return 0;
	return FAIL("stat", a[0].s);
}

static void run_task(int index) __attribute__((noreturn));

static int do_op(const struct op *op, int in_tree) {
	const struct arg *a = op->argv;
	char buf[PATH_MAX * 2 + 2];
	switch (op->kind) {
	case OP_MKDIR:
		return mkdir_p(a[0].s, 0) < 0 ? FAIL("mkdir", a[0].s) : 0;
	case OP_WRITE:
		return write_file(a[0].s, &a[1]);
	case OP_SYMLINK: {
		const char *dest = ln_dest(a[0].s, a[1].s, buf, sizeof buf);
		return symlink(a[0].s, dest) < 0 ? FAIL("symlink", dest) : 0;
	}
	case OP_LINK: {
		const char *dest = ln_dest(a[0].s, a[1].s, buf, sizeof buf);
		return linkat(AT_FDCWD, a[0].s, AT_FDCWD, dest, 0) < 0 ? FAIL("link", dest) : 0;
	}
	case OP_RENAME:
		return rename_mv(a[0].s, a[1].s);
	case OP_MKFIFO:
		return mkfifo(a[0].s, 0666) < 0 ? FAIL("mkfifo", a[0].s) : 0;
	case OP_UNLINK:
		return unlink(a[0].s) < 0 && errno != ENOENT ? FAIL("unlink", a[0].s) : 0;
	case OP_RMDIR:
		return rmdir(a[0].s) < 0 ? FAIL("rmdir", a[0].s) : 0;
	case OP_CHDIR:
		return chdir(a[0].s) < 0 ? FAIL("chdir", a[0].s) : 0;
	case OP_MOUNT:
		return do_mount(a[0].s, a[1].s, a[2].s, (unsigned long)a[3].num, a[4].s);
	case OP_BIND:
		return do_bind(a[0].s, a[1].s, (int)a[2].num, a[3].num, a[4].num);
	case OP_MOVE: {
		char f[PATH_MAX], t[PATH_MAX];
		const char *from = canonical(a[0].s, f), *to = canonical(a[1].s, t);
		return mount(from, to, NULL, MS_MOVE, NULL) < 0 ? FAIL("move mount to", to) : 0;
	}
	case OP_PROPAGATION:
		return do_propagation(a[0].s, a[1].s, (int)a[2].num);
	case OP_REMOUNT: {
		char **opts = argv_of(a + 2, op->argc - 2);
		int rc = remount(a[0].s, (int)a[1].num, opts, op->argc - 2, &fail);
		free(opts);
		return rc;
	}
	case OP_UMOUNT:
		return do_umount(a[0].s, (int)a[1].num);
	case OP_SET_GROUP:
		if (syscall(SYS_move_mount, AT_FDCWD, a[0].s, AT_FDCWD, a[1].s, ML_MOVE_MOUNT_SET_GROUP) < 0)
			return FAIL("move_mount(MOVE_MOUNT_SET_GROUP) to", a[1].s);
		return 0;
	case OP_OPEN_TREE: {
		int fd = clone_tree(a[0].s, (int)a[2].num);
		if (fd < 0)
			return FAIL("open_tree", a[0].s);
		int rc = 0;
		if (syscall(SYS_move_mount, fd, "", AT_FDCWD, a[1].s, ML_MOVE_MOUNT_F_EMPTY_PATH) < 0)
			rc = FAIL("move_mount to", a[1].s);
		close(fd);
		return rc;
	}
	case OP_CREATE_IMAGE:
		return create_image(a[0].s, a[1].num);
	case OP_LOOP_MOUNT:
		return loop_mount(a[0].s, a[1].s, a[2].s, (unsigned long)a[3].num, a[4].s);
	case OP_EXEC: {
		if (op->argc < 2)
			return fail_msg(1, "EINVAL", "exec of nothing");
		char **argv = argv_of(a + 1, op->argc - 1);
		int rc = argv ? run_tool(argv) : FAIL("exec", NULL);
		free(argv);
		return rc;
	}
	case OP_SPAWN: {
		if (!in_tree)
			return fail_msg(1, "EINVAL", "spawn outside the tree");
		pid_t pid = fork();
		if (pid < 0)
			return FAIL("fork for task", a[1].s);
		if (pid == 0)
			run_task((int)a[0].num);
		return 0;
	}
	case OP_SIGNAL:
		return sync_signal(a[0].s);
	case OP_WAIT:
		sync_wait(a[0].s);
		return 0;
	case OP_UNSHARE:
		return do_unshare(a, op->argc);
	case OP_UNSHARE_USER:
		return do_unshare_user(op);
	case OP_OPEN:
		return do_open(op);
	case OP_CLOSE:
		return close((int)a[0].num) < 0 && errno != EBADF ? FAIL("close", NULL) : 0;
	case OP_SOCKET:
		return do_socket(a);
	case OP_MKNOD:
		return do_mknod(a);
	case OP_MMAP:
		return do_mmap(a);
	case OP_TRUNCATE:
		return do_truncate(a);
	case OP_PWRITE:
		return do_pwrite(a);
	case OP_ACCESS:
		return do_access(a);
	case OP_CHROOT:
		if (chroot(a[0].s) < 0)
			return FAIL("chroot", a[0].s);
		return chdir("/") < 0 ? FAIL("chdir", "/") : 0;
	case OP_PIVOT_ROOT:
		if (syscall(SYS_pivot_root, a[0].s, a[1].s) < 0)
			return FAIL("pivot_root", a[0].s);
		return chdir("/") < 0 ? FAIL("chdir", "/") : 0;
	case OP__COUNT:
		break;
	}
	return fail_msg(1, "EINVAL", "unknown op");
}

/* Runs STEPS; on a failure reports it and returns -1. */
static int run_steps(const struct step *steps, int n, int in_tree, long *last) {
	for (int s = 0; s < n; s++) {
		*last = steps[s].n;
		status("step %ld", steps[s].n);
		for (int o = 0; o < steps[s].nops; o++)
			if (do_op(&steps[s].ops[o], in_tree) < 0) {
				report(steps[s].n, steps[s].label.s);
				return -1;
			}
	}
	return 0;
}

/* The end of every task: nothing of the lab open, a sleep where it was. */
static void hold_as_helper(void) __attribute__((noreturn));
static void hold_as_helper(void) {
	name_task_in_environ(getenv("MOUNTLAB_TASK"));
	/* What the exec would close, closed by hand; then wait for the end. */
	for (int fd = 0; fd < 1024; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && ((fl & FD_CLOEXEC) || fd < 3))
			close(fd);
	}
	/* Blocked in nanosleep, as sleep(1) is: setup.c's all_sleeping looks for that. */
	for (;;) {
		struct timespec ts = {1000000, 0};
		nanosleep(&ts, NULL);
	}
}

static void hold(long last) __attribute__((noreturn));
static void hold(long last) {
	if (keeps_mappings)
		hold_as_helper();
	for (int fd = 0; fd < 3; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	char *argv[] = {"sleep", "1000000", NULL};
	execvp(argv[0], argv);
	/* A root with no sleep in it (a pivot_root into a bare tmpfs, as a
	 * container's may be), or none it may run (a noexec root): the task
	 * holds as the helper instead, which a bash tree could not. */
	if (errno == ENOENT || errno == ENOTDIR || errno == EACCES)
		hold_as_helper();
	FAIL("exec", "sleep");
	fail.rc = 127;
	for (int fd = 0; fd < 3; fd++)
		fcntl(fd, F_SETFD, 0);
	report(last, "hold");
	_exit(127);
}

static void run_task(int index) {
	const struct task *t = &plan->tasks[index];
	long last = 0;
	/* Forked from a task that maps files: those copies go at this task's exec. */
	keeps_mappings = 0;
	setenv("MOUNTLAB_TASK", t->name.s, 1);
	if (run_steps(t->steps, t->nsteps, 1, &last) < 0)
		_exit(1);
	char done[512];
	snprintf(done, sizeof done, "done-%s", t->name.s);
	if (sync_signal(done) < 0) {
		report(last, t->nsteps ? t->steps[t->nsteps - 1].label.s : NULL);
		_exit(1);
	}
	hold(last);
}

/* ---- entering the scenario root --------------------------------------------- */

/*
 * The sync points live on a tmpfs of their own that is mounted nowhere
 * (fsmount's detached mount, reached only through fd 8): a scenario that
 * makes its root read-only (remount,bind,ro /, a container's ro rootfs)
 * would otherwise stop every signal after it, and nothing of it shows in
 * the tree CRIU dumps. -1 where the kernel has no fsopen (before 5.2).
 */
static int sync_tmpfs(void) {
	int fs = (int)syscall(SYS_fsopen, "tmpfs", ML_FSOPEN_CLOEXEC);
	if (fs < 0)
		return -1;
	int m = -1;
	/* 1777: tasks that unshare-user into other ids signal here too. */
	if (syscall(SYS_fsconfig, fs, ML_FSCONFIG_SET_STRING, "mode", "1777", 0) == 0 &&
	    syscall(SYS_fsconfig, fs, ML_FSCONFIG_SET_STRING, "size", "1m", 0) == 0 &&
	    syscall(SYS_fsconfig, fs, ML_FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		m = (int)syscall(SYS_fsmount, fs, ML_FSMOUNT_CLOEXEC, ATTR_NOSUID | ATTR_NODEV | ATTR_NOEXEC);
	close(fs);
	return m;
}

static int enter_root(const char *root) {
	const char *sync = plan->sync_dir.s;
	char old[PATH_MAX], here[PATH_MAX], abs_old[PATH_MAX];
	snprintf(old, sizeof old, ".%s-old", sync);
	snprintf(here, sizeof here, ".%s", sync);
	snprintf(abs_old, sizeof abs_old, "%s-old", sync);
	/* In a user namespace every inherited mount is locked, and pivot_root
	 * refuses a locked new root (it would reveal what is under it): like
	 * zdtm's ns.c and LXC, root becomes a new bind of itself, which is not
	 * locked; its submounts come along, still locked. */
	if (plan->init_user) {
		/* The path may pass directories the namespace's root cannot search:
		 * run-tree's parent changed into the root before the clone, and the
		 * clone carried that working directory into the copy. The clone's
		 * fd is then the way onto the new mount. */
		int fd = (int)syscall(SYS_open_tree, AT_FDCWD, ".", ML_OPEN_TREE_CLONE | ML_AT_RECURSIVE | O_CLOEXEC);
		if (fd < 0)
			return FAIL("open_tree (recursive clone of the root)", root);
		if (syscall(SYS_move_mount, fd, "", AT_FDCWD, ".", ML_MOVE_MOUNT_F_EMPTY_PATH) < 0 || fchdir(fd) < 0) {
			close(fd);
			return FAIL("attach the clone of the root on itself", root);
		}
		close(fd);
	} else if (chdir(root) < 0) {
		return FAIL("chdir", root);
	}
	if (mkdir_p(old, 0) < 0)
		return FAIL("mkdir", old);
	if (mkdir_p(here, 0) < 0)
		return FAIL("mkdir", here);
	/* Tasks that unshare-user into other ids signal here too. */
	if (chmod(here, 01777) < 0)
		return FAIL("chmod", here);
	if (syscall(SYS_pivot_root, ".", old) < 0)
		return FAIL("pivot_root", root);
	if (chdir("/") < 0)
		return FAIL("chdir", "/");
	if (mount("proc", "/proc", "proc", 0, NULL) < 0)
		return FAIL("mount proc on", "/proc");
	if (umount2(abs_old, MNT_DETACH) < 0)
		return FAIL("detach", abs_old);
	if (rmdir(abs_old) < 0)
		return FAIL("rmdir", abs_old);
	int fd = sync_tmpfs();
	if (fd < 0)
		fd = open(sync, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return FAIL("open", sync);
	if (fd != SYNC_FD) {
		if (dup3(fd, SYNC_FD, O_CLOEXEC) < 0)
			return FAIL("dup3", sync);
		close(fd);
	}
	if (setsid() < 0)
		return FAIL("setsid", NULL);
	return 0;
}

static void init_steps(void) __attribute__((noreturn));

static void run_init(const char *root) __attribute__((noreturn));
static void run_init(const char *root) {
	setenv("MOUNTLAB_TASK", "init", 1);
	if (enter_root(root) < 0 || (plan_may_hold_as_helper() && reexec_in_root() < 0)) {
		report(0, NULL);
		_exit(1);
	}
	init_steps();
}

static void init_steps(void) {
	long last = 0;
	const struct task *t = &plan->tasks[0];
	if (run_steps(t->steps, t->nsteps, 1, &last) < 0)
		_exit(1);
	for (int i = 1; i < plan->ntasks; i++) {
		char done[512];
		snprintf(done, sizeof done, "done-%s", plan->tasks[i].name.s);
		sync_wait(done);
	}
	status("ready");
	hold(last);
}

/* ---- the subcommands -------------------------------------------------------- */

struct args {
	const char *root, *plan;
	int status_fd;
};

static int parse_args(int argc, char **argv, int need_root, struct args *a) {
	a->root = NULL, a->plan = "-", a->status_fd = STATUS_FD;
	int pos = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--status-fd") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 0 || v > 1023)
				return -1;
			a->status_fd = (int)v;
		} else if (pos == 0 && need_root) {
			a->root = argv[i], pos++;
		} else if (pos <= 1) {
			a->plan = argv[i], pos = 2;
		} else {
			return -1;
		}
	}
	return need_root && !a->root ? -1 : 0;
}

static struct plan parsed;

static int load(const char *path) {
	size_t len;
	char err[512];
	char *text = read_all(path, &len);
	if (!text) {
		dprintf(2, "mountlab-helper: read plan %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (plan_parse(text, len, &parsed, err, sizeof err) < 0) {
		dprintf(2, "mountlab-helper: bad plan: %s\n", err);
		return -1;
	}
	plan = &parsed;
	return 0;
}

/* The status fd becomes fd 9, stdin /dev/null; both close at the final exec. */
static int lab_fds(int status_fd) {
	if (status_fd != STATUS_FD) {
		if (dup3(status_fd, STATUS_FD, O_CLOEXEC) < 0) {
			dprintf(2, "mountlab-helper: status fd %d: %s\n", status_fd, strerror(errno));
			return -1;
		}
		close(status_fd);
	} else if (fcntl(STATUS_FD, F_SETFD, FD_CLOEXEC) < 0) {
		dprintf(2, "mountlab-helper: status fd %d: %s\n", status_fd, strerror(errno));
		return -1;
	}
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0) {
		dprintf(2, "mountlab-helper: /dev/null: %s\n", strerror(errno));
		return -1;
	}
	if (null != 0)
		close(null);
	return 0;
}

/* The outside id that inside id 0 maps to in a map's text; -1 when 0 is unmapped. */
static long long map_of_zero(const struct arg *map) {
	const char *p = map->s;
	unsigned long long in, out, count;
	int used;
	while (sscanf(p, "%llu %llu %llu%n", &in, &out, &count, &used) == 3) {
		if (in == 0 && count > 0)
			return (long long)out;
		p += used;
	}
	return -1;
}

/* init's side of the go pipe: it waits until its parent has said its pid (and done what it must first). */
static void await_go(int go[2]) {
	close(go[1]);
	char c;
	ssize_t r;
	while ((r = read(go[0], &c, 1)) < 0 && errno == EINTR)
		;
	close(go[0]);
	if (r != 1)
		_exit(1); /* the parent failed and said so */
}

/*
 * The parent's side: says init's pid, so that it is the status stream's
 * first line, then lets init go; when rc < 0 (or the write fails) init is
 * killed instead.
 */
static pid_t release_init(pid_t pid, int go_write, int rc) {
	if (rc == 0)
		status("init %d", (int)pid);
	if (rc == 0 && write(go_write, "1", 1) != 1)
		rc = FAIL("write", "to init");
	close(go_write);
	if (rc < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

/* The uns flavour: init is cloned into new user, mount and pid namespaces at
 * once (the mount and pid namespaces owned by the user namespace, as zdtm's
 * ns.c makes them), and this process, still root of the guest's user
 * namespace, writes its maps. The root directory is given to the new
 * namespace's root first: the tree makes its sync directory and every
 * top-level path there, and a mapped root has no power over files of an
 * unmapped owner. */
static pid_t clone_userns_init(const char *root) {
	long long uid = map_of_zero(&plan->init_maps.uid_map), gid = map_of_zero(&plan->init_maps.gid_map);
	if (uid >= 0 && gid >= 0 && chown(root, (uid_t)uid, (gid_t)gid) < 0) {
		FAIL("chown", root);
		return -1;
	}
	int go[2];
	if (chdir(root) < 0) {
		FAIL("chdir", root);
		return -1;
	}
	if (pipe2(go, O_CLOEXEC) < 0) {
		FAIL("pipe", NULL);
		return -1;
	}
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL,
				   NULL);
	if (pid < 0) {
		FAIL("clone", "user,mnt,pid");
		close(go[0]);
		close(go[1]);
		return -1;
	}
	if (pid == 0) {
		await_go(go);
		if (become_ns_root() < 0) {
			report(0, NULL);
			_exit(1);
		}
		run_init(root);
	}
	close(go[0]);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	int procdir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = procdir < 0 ? FAIL("open", path) : write_id_maps(procdir, &plan->init_maps);
	if (procdir >= 0)
		close(procdir);
	return release_init(pid, go[1], rc);
}

/* fork for the plain tree: init waits until its pid is said, the status stream's first line. */
static pid_t fork_init(const char *root) {
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		return FAIL("pipe", NULL);
	pid_t pid = fork();
	if (pid < 0) {
		FAIL("fork", NULL);
		close(go[0]);
		close(go[1]);
		return -1;
	}
	if (pid == 0) {
		await_go(go);
		run_init(root);
	}
	close(go[0]);
	return release_init(pid, go[1], 0);
}

int run_tree(int argc, char **argv) {
	struct args a;
	if (parse_args(argc, argv, 1, &a) < 0) {
		dprintf(2, "usage: mountlab-helper run-tree ROOT [PLAN|-] [--status-fd N]\n");
		return 2;
	}
	if (load(a.plan) < 0 || lab_fds(a.status_fd) < 0)
		return 2;
	/* unshare(1) --propagation unchanged: the steps say what they want.
	 * uns: the pid namespace is made with the user namespace, by the clone. */
	int ns = plan->init_user ? CLONE_NEWNS : CLONE_NEWNS | CLONE_NEWPID;
	if (unshare(ns) < 0) {
		FAIL("unshare", plan->init_user ? "mnt" : "mnt,pid");
		report(0, NULL);
		return 1;
	}
	pid_t pid = plan->init_user ? clone_userns_init(a.root) : fork_init(a.root);
	if (pid < 0) {
		report(0, NULL);
		return 1;
	}
	/* The tree holds the status fd; when it is gone the reader sees EOF. */
	close(STATUS_FD);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int run_outside(int argc, char **argv) {
	struct args a;
	if (parse_args(argc, argv, 1, &a) < 0) {
		dprintf(2, "usage: mountlab-helper run-outside ROOT [PLAN|-] [--status-fd N]\n");
		return 2;
	}
	if (load(a.plan) < 0 || lab_fds(a.status_fd) < 0)
		return 2;
	if (chroot(a.root) < 0 || chdir("/") < 0) {
		FAIL("chroot", a.root);
		report(0, NULL);
		return 1;
	}
	long last = 0;
	if (run_steps(plan->outside, plan->noutside, 0, &last) < 0)
		return 1;
	status("ready");
	return 0;
}

/* run-init FD: init again, inside the scenario root (reexec_in_root); the plan in memfd FD. */
int run_init_cmd(int argc, char **argv) {
	char *end = NULL;
	long fd = argc == 2 ? strtol(argv[1], &end, 10) : -1;
	if (fd < 0 || fd > 1023 || !end || *end) {
		dprintf(2, "usage: mountlab-helper run-init FD (run-tree's own, inside the tree)\n");
		return 2;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%ld", fd);
	int bad = load(path);
	close((int)fd);
	fcntl(SYNC_FD, F_SETFD, FD_CLOEXEC);
	fcntl(STATUS_FD, F_SETFD, FD_CLOEXEC);
	if (bad < 0) {
		fail_msg(2, "EINVAL", "the plan did not survive the exec into the scenario root");
		report(0, NULL);
		return 2;
	}
	/* Before setenv, which moves MOUNTLAB_TASK off the exec'd environment the slot is in. */
	find_task_slot();
	setenv("MOUNTLAB_TASK", "init", 1);
	init_steps();
}

int plan_echo(int argc, char **argv) {
	if (argc > 2) {
		dprintf(2, "usage: mountlab-helper plan-echo [PLAN|-]\n");
		return 2;
	}
	if (load(argc == 2 ? argv[1] : "-") < 0)
		return 1;
	plan_write(1, plan);
	return 0;
}
