/*
 * Which mounts of a task's mount namespace are locked (MNT_LOCKED), for the
 * capture's @task header: locked=ID,... unlocked=ID,...
 *
 * mountinfo does not say it, and 6.12's statmount(2) does not either. A
 * mount is locked when its namespace was copied into a less privileged user
 * namespace (or it was propagated into one): it cannot be unmounted or
 * moved apart from its parent. The probe asks the kernel without touching
 * the task's mounts: a child enters the user namespace that owns the mount
 * namespace, then the mount namespace and the task's root; for each mount
 * that its mountpoint reaches (statx's mount id is the line's), a
 * grandchild unshares a scratch copy of the namespace (copy_tree() keeps
 * each mount's MNT_LOCKED; in the same user namespace nothing more is
 * locked), makes it private so that nothing propagates out of it, and
 * unmounts the copy of the mount with MNT_DETACH: EINVAL from can_umount()
 * means locked, success means not. The copy dies with the grandchild.
 * (umount2 with MNT_FORCE alone is no probe: since can_umount() checks
 * MNT_FORCE against the namespace's own user namespace, it unmounts.)
 *
 * Only namespaces owned by a user namespace other than the helper's are
 * probed. Left out of both lists: a mount its mountpoint does not reach
 * (covered, or under another mount stacked on the same point), and one whose
 * parent is not in the table (a chroot's root), whose copy's parent the
 * scratch namespace could not make private, unless it is the namespace's
 * root, whose copy has no parent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

#define ML_NS_GET_USERNS 0xb701 /* _IO(0xb7, 0x1), linux/nsfs.h */
#define ML_STATX_MNT_ID 0x1000U

/* mountinfo's escapes (\040 space, \011 tab, \012 newline, \134 backslash) undone in place. */
static void unescape(char *s) {
	char *o = s;
	for (char *p = s; *p;) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
		    p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 4;
		} else {
			*o++ = *p++;
		}
	}
	*o = 0;
}

/* A scratch copy of the namespace: unmount MP there. 10 locked, 11 not, 12 unknown. */
static int probe_one(const char *mp) {
	pid_t g = fork();
	if (g == 0) {
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(12);
		if (umount2(mp, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
			_exit(11);
		_exit(errno == EINVAL ? 10 : 12);
	}
	int st;
	if (g < 0)
		return 12;
	while (waitpid(g, &st, 0) < 0)
		if (errno != EINTR)
			return 12;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 12;
}

/* Whether ID is a mount id of the table (a line starts with "ID "). */
static int in_table(const char *mountinfo, unsigned long long id) {
	char want[32];
	int n = snprintf(want, sizeof want, "%llu ", id);
	for (const char *l = mountinfo; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l))
		if (!strncmp(l, want, (size_t)n))
			return 1;
	return 0;
}

/* The child's half: in the task's namespaces and root, one "L ID" or "U ID" line per answer on OUT. */
static void probe_child(int userns, int mntns, int rootfd, const char *mountinfo, int out) __attribute__((noreturn));
static void probe_child(int userns, int mntns, int rootfd, const char *mountinfo, int out) {
	if (setns(userns, CLONE_NEWUSER) < 0 || setns(mntns, CLONE_NEWNS) < 0)
		_exit(1);
	/* setns put this process at the namespace's root. When the task's root
	 * is that mount too, its scratch copy has no parent, so nothing can
	 * propagate from unmounting it: it is probed like the rest. */
	struct statx nsroot, taskroot;
	if (statx(AT_FDCWD, "/", 0, ML_STATX_MNT_ID, &nsroot) < 0 || statx(rootfd, "", AT_EMPTY_PATH, ML_STATX_MNT_ID,
									   &taskroot) < 0)
		_exit(1);
	unsigned long long root_id = nsroot.stx_mnt_id == taskroot.stx_mnt_id && nsroot.stx_ino == taskroot.stx_ino
					     ? nsroot.stx_mnt_id
					     : 0;
	if (fchdir(rootfd) < 0 || chroot(".") < 0)
		_exit(1);
	char *copy = strdup(mountinfo);
	if (!copy)
		_exit(1);
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long id, parent;
		char mp[4096];
		if (sscanf(line, "%llu %llu %*s %*s %4095s", &id, &parent, mp) != 3 ||
		    (!in_table(mountinfo, parent) && id != root_id))
			continue;
		unescape(mp);
		struct statx sx;
		if (statx(AT_FDCWD, mp, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, ML_STATX_MNT_ID, &sx) < 0 ||
		    !(sx.stx_mask & ML_STATX_MNT_ID) || sx.stx_mnt_id != id)
			continue;
		int r = probe_one(mp);
		if (r == 10 || r == 11)
			dprintf(out, "%c %llu\n", r == 10 ? 'L' : 'U', id);
	}
	_exit(0);
}

/* Appends ", ID" lists: "locked=..." and "unlocked=..." to OUT (with a leading space each), or nothing. */
void probe_locks(int pid, const char *mountinfo, char *out, size_t outsz) {
	out[0] = 0;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ns/mnt", pid);
	int mntns = open(path, O_RDONLY | O_CLOEXEC);
	if (mntns < 0)
		return;
	int userns = ioctl(mntns, ML_NS_GET_USERNS);
	struct stat owner, mine;
	if (userns < 0 || fstat(userns, &owner) < 0 || stat("/proc/self/ns/user", &mine) < 0 ||
	    (owner.st_dev == mine.st_dev && owner.st_ino == mine.st_ino)) {
		if (userns >= 0)
			close(userns);
		close(mntns);
		return;
	}
	snprintf(path, sizeof path, "/proc/%d/root", pid);
	int rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int p[2] = {-1, -1};
	pid_t child = -1;
	if (rootfd >= 0 && pipe2(p, O_CLOEXEC) == 0 && (child = fork()) == 0) {
		close(p[0]);
		probe_child(userns, mntns, rootfd, mountinfo, p[1]);
	}
	if (p[1] >= 0)
		close(p[1]);
	static char answers[1 << 16];
	size_t n = 0;
	ssize_t r;
	while (p[0] >= 0 && n < sizeof answers - 1 && ((r = read(p[0], answers + n, sizeof answers - 1 - n)) > 0 ||
							(r < 0 && errno == EINTR)))
		if (r > 0)
			n += (size_t)r;
	answers[n] = 0;
	int st = 0;
	if (child > 0)
		while (waitpid(child, &st, 0) < 0 && errno == EINTR)
			;
	if (p[0] >= 0)
		close(p[0]);
	if (rootfd >= 0)
		close(rootfd);
	close(userns);
	close(mntns);
	if (child <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return;
	size_t len = 0;
	for (int pass = 0; pass < 2; pass++) {
		char want = pass ? 'U' : 'L';
		int first = 1;
		for (char *l = answers; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
			if (l[0] != want)
				continue;
			unsigned long long id = strtoull(l + 2, NULL, 10);
			int w = snprintf(out + len, outsz - len, "%s%llu", first ? (pass ? " unlocked=" : " locked=") : ",", id);
			if (w < 0 || (size_t)w >= outsz - len) {
				out[0] = 0; /* a cut list would say a mount is neither: say nothing */
				return;
			}
			len += (size_t)w;
			first = 0;
		}
	}
}
