/*
 * mountlab-helper: the few syscalls util-linux has no command for, run
 * inside the guest. Built static on the host when the image is built, so it
 * runs on every guest kernel of the matrix (the syscalls it needs are
 * checked at run time and reported by name when the kernel lacks them).
 *
 *   set-group FROM TO          move_mount(MOVE_MOUNT_SET_GROUP): TO joins
 *                              FROM's peer group (and gets its master)
 *   open-tree SRC DST [-r]     open_tree(OPEN_TREE_CLONE) + move_mount: a
 *                              bind made from a detached copy
 *   open FD FLAGS MODE OFFSET PATH -- CMD...
 *                              open PATH as fd FD, seek, then exec CMD
 *   unshare NSLIST -- CMD...   unshare(2) the listed namespaces, exec CMD
 *   capture PID                the lab's capture format for PID's tree:
 *                              @task headers, mountinfo, @fd lines
 *   leaks PID [EXCLUDE...]     tasks outside PID's tree that share one of
 *                              its namespaces (other than the guest's own)
 *
 * Errors go to stderr as "mountlab-helper: <what>: <strerror>", exit 1.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#define ML_MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define ML_MOVE_MOUNT_SET_GROUP 0x00000100
#define ML_OPEN_TREE_CLONE 1
#define ML_AT_RECURSIVE 0x8000

static int die(const char *what, const char *arg) {
	fprintf(stderr, "mountlab-helper: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
	return 1;
}

static int usage(void) {
	fprintf(stderr, "usage: mountlab-helper set-group FROM TO | open-tree SRC DST [-r] |"
			" open FD FLAGS MODE OFFSET PATH -- CMD... | unshare NSLIST -- CMD... | capture PID |"
			" leaks PID [EXCLUDE...]\n");
	return 2;
}

static int set_group(const char *from, const char *to) {
	if (syscall(SYS_move_mount, AT_FDCWD, from, AT_FDCWD, to, ML_MOVE_MOUNT_SET_GROUP) < 0) {
		if (errno == ENOSYS || errno == EINVAL)
			fprintf(stderr, "mountlab-helper: set-group needs MOVE_MOUNT_SET_GROUP (Linux 5.15+)\n");
		return die("set-group", to);
	}
	return 0;
}

static int open_tree_bind(const char *src, const char *dst, int recursive) {
	int fd = syscall(SYS_open_tree, AT_FDCWD, src, ML_OPEN_TREE_CLONE | O_CLOEXEC | (recursive ? ML_AT_RECURSIVE : 0));
	if (fd < 0)
		return die("open_tree", src);
	if (syscall(SYS_move_mount, fd, "", AT_FDCWD, dst, ML_MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return die("move_mount", dst);
	close(fd);
	return 0;
}

struct name_value {
	const char *n;
	int v;
};

/* ORs together the values of a comma list of names (open flags,
 * namespaces); -1 with a message naming `what` on an unknown name. */
static int parse_names(const char *list, const struct name_value *table, size_t count, const char *what, int *out) {
	char buf[256];
	if (strlen(list) >= sizeof buf) {
		fprintf(stderr, "mountlab-helper: %s list too long\n", what);
		return -1;
	}
	strcpy(buf, list);
	*out = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < count && strcmp(tok, table[i].n); i++)
			;
		if (i == count) {
			fprintf(stderr, "mountlab-helper: unknown %s '%s'\n", what, tok);
			return -1;
		}
		*out |= table[i].v;
	}
	return 0;
}

static const struct name_value open_flags[] = {
	{"rdonly", O_RDONLY}, {"wronly", O_WRONLY}, {"rdwr", O_RDWR}, {"creat", O_CREAT},
	{"trunc", O_TRUNC}, {"append", O_APPEND}, {"excl", O_EXCL}, {"directory", O_DIRECTORY},
	{"path", O_PATH}, {"nofollow", O_NOFOLLOW}, {"cloexec", O_CLOEXEC}, {"noatime", O_NOATIME},
	{"tmpfile", O_TMPFILE}, {"sync", O_SYNC}, {"nonblock", O_NONBLOCK},
};

static const struct name_value namespaces[] = {
	{"mnt", CLONE_NEWNS}, {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC}, {"net", CLONE_NEWNET},
	{"user", CLONE_NEWUSER}, {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int do_open(int argc, char **argv) {
	/* open FD FLAGS MODE OFFSET PATH -- CMD... */
	if (argc < 8 || strcmp(argv[6], "--"))
		return usage();
	int want = atoi(argv[1]), flags;
	mode_t mode = (mode_t)strtol(argv[3], NULL, 8);
	off_t off = strtoll(argv[4], NULL, 10);
	if (parse_names(argv[2], open_flags, COUNT(open_flags), "open flag", &flags) < 0)
		return 2;
	int fd = open(argv[5], flags, mode);
	if (fd < 0)
		return die("open", argv[5]);
	if (off && lseek(fd, off, SEEK_SET) < 0)
		return die("lseek", argv[5]);
	if (fd != want) {
		if (dup3(fd, want, flags & O_CLOEXEC) < 0)
			return die("dup3", argv[1]);
		close(fd);
	}
	execvp(argv[7], argv + 7);
	return die("exec", argv[7]);
}

static int do_unshare(int argc, char **argv) {
	/* unshare NSLIST -- CMD... */
	if (argc < 4 || strcmp(argv[2], "--"))
		return usage();
	int flags;
	if (parse_names(argv[1], namespaces, COUNT(namespaces), "namespace", &flags) < 0)
		return 2;
	/* Unlike unshare(1), propagation is left as it is: the scenario says
	 * what it wants with make-* steps. */
	if (unshare(flags) < 0)
		return die("unshare", argv[1]);
	execvp(argv[3], argv + 3);
	return die("exec", argv[3]);
}

/* --- capture ------------------------------------------------------------ */

static void put_escaped(const char *s) {
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\\')
			printf("\\%03o", c);
		else
			putchar(c);
	}
}

static int read_file(const char *path, char *buf, size_t size) {
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = 0;
	ssize_t r;
	while (n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = 0;
	return (int)n;
}

static void link_of(const char *path, char *out, size_t size) {
	ssize_t n = readlink(path, out, size - 1);
	if (n < 0)
		n = 0, out[0] = '?', out[1] = 0, n = 1;
	out[n] = 0;
}

static void task_key(int pid, const char *parent, int idx, char *key, size_t size) {
	char path[64], env[65536];
	snprintf(path, sizeof path, "/proc/%d/environ", pid);
	int n = read_file(path, env, sizeof env);
	for (int i = 0; n > 0 && i < n; i += (int)strlen(env + i) + 1) {
		if (!strncmp(env + i, "MOUNTLAB_TASK=", 14) && env[i + 14]) {
			snprintf(key, size, "%s", env + i + 14);
			return;
		}
	}
	snprintf(key, size, "%s.%d", parent, idx);
}

static void capture_fds(int pid) {
	char dir[64], path[PATH_MAX + 64], target[PATH_MAX], info[4096];
	snprintf(dir, sizeof dir, "/proc/%d/fd", pid);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
		link_of(path, target, sizeof target);
		struct stat st;
		int have = stat(path, &st) == 0;
		snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", pid, fd);
		long long pos = 0;
		unsigned flags = 0;
		int mnt = -1;
		if (read_file(path, info, sizeof info) > 0) {
			char *p;
			if ((p = strstr(info, "pos:")))
				pos = strtoll(p + 4, NULL, 10);
			if ((p = strstr(info, "flags:")))
				flags = (unsigned)strtoul(p + 6, NULL, 8);
			if ((p = strstr(info, "mnt_id:")))
				mnt = atoi(p + 7);
		}
		/* @fd N flags=OCTAL pos=N mnt=ID ino=N dev=MAJ:MIN nlink=N type=T path=ESCAPED */
		printf("@fd %d flags=%o pos=%lld mnt=%d", fd, flags, pos, mnt);
		if (have)
			printf(" ino=%llu dev=%u:%u nlink=%lu type=%s size=%lld", (unsigned long long)st.st_ino,
			       major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_nlink,
			       S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : S_ISFIFO(st.st_mode) ? "fifo"
			       : S_ISSOCK(st.st_mode) ? "socket" : S_ISCHR(st.st_mode) ? "chr" : S_ISBLK(st.st_mode) ? "blk" : "other",
			       (long long)st.st_size);
		printf(" path=");
		put_escaped(target);
		putchar('\n');
	}
	closedir(d);
}

/* The children of every thread of PID, space-separated, in the order the
 * kernel lists them (the tree is walked the same way by capture and leaks). */
static void children_of(int pid, char *kids, size_t size) {
	char path[320], buf[4096];
	kids[0] = 0;
	snprintf(path, sizeof path, "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%s/children", pid, e->d_name);
		if (read_file(path, buf, sizeof buf) > 0 && strlen(kids) + strlen(buf) + 2 < size) {
			strcat(kids, buf);
			strcat(kids, " ");
		}
	}
	closedir(d);
}

static void capture_task(int pid, const char *parent, int idx) {
	char key[256], path[320], ns[128], cwd[PATH_MAX], root[PATH_MAX];
	static char mi[1 << 20];
	task_key(pid, parent, idx, key, sizeof key);
	snprintf(path, sizeof path, "/proc/%d/ns/mnt", pid);
	link_of(path, ns, sizeof ns);
	char *num = ns;
	while (*num && (*num < '0' || *num > '9'))
		num++;
	num[strcspn(num, "]")] = 0;
	snprintf(path, sizeof path, "/proc/%d/cwd", pid);
	link_of(path, cwd, sizeof cwd);
	snprintf(path, sizeof path, "/proc/%d/root", pid);
	link_of(path, root, sizeof root);
	printf("@task %s pid=%d mntns=%s cwd=", key, pid, num);
	put_escaped(cwd);
	printf(" root=");
	put_escaped(root);
	putchar('\n');
	snprintf(path, sizeof path, "/proc/%d/mountinfo", pid);
	if (read_file(path, mi, sizeof mi) > 0)
		fputs(mi, stdout);
	capture_fds(pid);
	fflush(stdout);

	char kids[8192];
	children_of(pid, kids, sizeof kids);
	int n = 0;
	for (char *save = NULL, *tok = strtok_r(kids, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		capture_task(atoi(tok), key, ++n);
}

/* --- leaks --------------------------------------------------------------- */

static int in_list(const int *list, int n, int pid) {
	for (int i = 0; i < n; i++)
		if (list[i] == pid)
			return 1;
	return 0;
}

/* Appends PID and its descendants to tree[]. */
static void collect_tree(int pid, int *tree, int *n, int max) {
	char kids[8192];
	if (*n >= max || in_list(tree, *n, pid))
		return;
	tree[(*n)++] = pid;
	children_of(pid, kids, sizeof kids);
	for (char *save = NULL, *tok = strtok_r(kids, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		collect_tree(atoi(tok), tree, n, max);
}

/* Prints "@leak NS pid=N comm=C" for every task outside the tree that
 * shares one of the tree's own namespaces: seed 003's "leaks". Namespaces
 * the tree shares with the guest's PID 1 are the host's, not the tree's. */
static int leaks(int pid, int nexcl, char **excl) {
	static const char *kinds[] = {"mnt", "uts", "ipc", "net", "pid", "cgroup", "user", "time"};
	static int tree[4096];
	int n = 0;
	collect_tree(pid, tree, &n, 4096);
	for (int i = 0; i < nexcl; i++)
		if (n < 4096)
			tree[n++] = atoi(excl[i]);
	DIR *d = opendir("/proc");
	if (!d)
		return die("opendir", "/proc");
	struct dirent *e;
	while ((e = readdir(d))) {
		int other = atoi(e->d_name);
		if (other <= 0 || in_list(tree, n, other))
			continue;
		for (size_t k = 0; k < COUNT(kinds); k++) {
			char path[320], mine[128], host[128], theirs[128];
			snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, kinds[k]);
			link_of(path, mine, sizeof mine);
			snprintf(path, sizeof path, "/proc/1/ns/%s", kinds[k]);
			link_of(path, host, sizeof host);
			if (!strcmp(mine, host) || mine[0] == '?' || host[0] == '?')
				continue;
			snprintf(path, sizeof path, "/proc/%d/ns/%s", other, kinds[k]);
			link_of(path, theirs, sizeof theirs);
			if (strcmp(mine, theirs))
				continue;
			char comm[64] = "?";
			snprintf(path, sizeof path, "/proc/%d/comm", other);
			if (read_file(path, comm, sizeof comm) > 0)
				comm[strcspn(comm, "\n")] = 0;
			printf("@leak %s pid=%d comm=", kinds[k], other);
			put_escaped(comm);
			putchar('\n');
		}
	}
	closedir(d);
	return ferror(stdout) ? 1 : 0;
}

int main(int argc, char **argv) {
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];
	if (!strcmp(cmd, "set-group") && argc == 4)
		return set_group(argv[2], argv[3]);
	if (!strcmp(cmd, "open-tree") && (argc == 4 || (argc == 5 && !strcmp(argv[4], "-r"))))
		return open_tree_bind(argv[2], argv[3], argc == 5);
	if (!strcmp(cmd, "open"))
		return do_open(argc - 1, argv + 1);
	if (!strcmp(cmd, "unshare"))
		return do_unshare(argc - 1, argv + 1);
	if (!strcmp(cmd, "leaks") && argc >= 3) {
		int pid = atoi(argv[2]);
		if (pid <= 0)
			return usage();
		return leaks(pid, argc - 3, argv + 3);
	}
	if (!strcmp(cmd, "capture") && argc == 3) {
		int pid = atoi(argv[2]);
		if (pid <= 0)
			return usage();
		capture_task(pid, "init", 0);
		return ferror(stdout) ? 1 : 0;
	}
	return usage();
}
