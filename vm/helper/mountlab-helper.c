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
 *   pivot-root NEW PUT_OLD     pivot_root(2): util-linux's pivot_root(8)
 *                              left the util-linux package in Debian sid
 *   capture PID                the lab's capture format for PID's tree:
 *                              @task headers, mountinfo, @fd lines, then
 *                              the @outside section (below)
 *   fd-probe                   writes a marker through open fds of live
 *                              tasks and says which paths received it
 *                              (lines on stdin, see below)
 *   leaks PID [EXCLUDE...]     tasks outside PID's tree that share one of
 *                              its namespaces (other than the guest's own)
 *   run-tree ROOT [PLAN|-] [--status-fd N]
 *   run-outside ROOT [PLAN|-] [--status-fd N]
 *                              execute a scenario's program (src/plan/
 *                              program.ts, wire.ts): see plan-run.c
 *   plan-echo [PLAN|-]         read a program and write it back (tests)
 *   classify-options OPTION... how the remount's tables see each option
 *                              (tests; see mount-options.c)
 *
 * Errors go to stderr as "mountlab-helper: <what>: <strerror>", exit 1.
 *
 * An @fd line (capture) is
 *   @fd N flags=OCTAL pos=N mnt=ID [ino=N dev=MAJ:MIN nlink=N type=T size=N]
 *       [sha256=HEX [hashed=N] | sha256-error=ERRNO]
 *       [names=P,P,... [names-truncated=N] | names-error=WHY] path=P
 * on one line; every P is escaped as mountinfo escapes paths (space \040,
 * tab \011, newline \012, backslash \134) and, inside names=, a comma as
 * \054.
 *   sha256   regular files only: SHA-256 of the contents, read through a
 *            fresh O_RDONLY open of /proc/PID/fd/N (the task's own file
 *            description and its offset are not touched); at most
 *            HASH_CAP bytes (64 MiB): when the file had more, hashed=N
 *            gives the number of leading bytes the hash covers.
 *   names    regular files with nlink > 0 that are deleted or have
 *            nlink > 1: every path (relative to the task's root) that
 *            names the same inode (st_dev and st_ino) through the mount
 *            the fd was opened through (fdinfo's mnt_id), found by walking
 *            that mount from its mountpoint as the task sees it, without
 *            entering other mounts (a directory is entered when it has
 *            the st_dev of the walk's root and its own mnt_id is the
 *            fd's). Empty (names=) when no name is left on that mount.
 *            The walk stops after NAMES_WALK_LIMIT (20000) directory
 *            entries or at a path deeper than 256 directories or PATH_MAX
 *            (names-truncated=N, N the entries seen: the list may be
 *            short), and as soon as nlink names are found. names-error:
 *            the mount is not in the task's mountinfo (not-in-mountinfo),
 *            its root is covered by another mount (covered), or an errno
 *            name. On overlayfs without xino=on, a file copied up from a
 *            lower layer of another filesystem may show another
 *            st_ino/st_dev through an open fd than through its other
 *            names, which then go unfound.
 *   Other fds get neither field: a plain file with nlink 1 that is not
 *   deleted has its path as its only name.
 *
 * Also on the @fd line: rdev=MAJ:MIN for a device node, and for a socket
 * (read through the task's own socket with pidfd_getfd, Linux 5.6+)
 * sock=FAMILY/TYPE (unix/stream, unix/dgram, ...), listening=1 when it
 * listens, sock-name=P its bound address and sock-peer=P its peer's
 * (abstract names as @NAME; sock-peer=- for a connected peer with no
 * name), or sock-error=ERRNO.
 *
 * After a task's @fd lines, one line per file mapping that is data, not
 * code (a file the task also maps executable, its program or a library,
 * is left out, as are anonymous mappings):
 *   @map START-END perms=rwxp offset=N mnt=ID [ino=N dev=MAJ:MIN nlink=N]
 *       [open-error=ERRNO] path=P
 * START-END in hex as /proc/PID/maps has them, perms with s (shared) or p
 * (private) last, mnt the mount the file is mapped through (fdinfo's
 * mnt_id of an O_PATH open of /proc/PID/map_files/START-END), path its
 * readlink (with " (deleted)" for an unlinked file).
 *
 * The @outside section ends a capture:
 *   @outside pid=SELF mntns=INODE
 * followed by the lines of the helper's own /proc/self/mountinfo (the
 * guest's namespace, outside the tree) whose shared:N is a peer group that
 * a mount of the tree names as master:N or propagate_from:N and that no
 * mount of the tree carries as shared:N: a master outside the tree, named
 * then by the outside mounts that carry it. The header is always printed,
 * so an empty section says that no outside mount carries such a group.
 *
 * fd-probe reads lines "TASKPID FD MARKER CANDIDATE..." on stdin (tokens
 * separated by spaces; MARKER and each CANDIDATE escaped as above;
 * candidates are paths relative to TASKPID's root). For each, it takes the
 * task's own open file description with pidfd_open + pidfd_getfd (Linux
 * 5.6+), appends MARKER to the file with pwrite() at its current size (the
 * task's offset is untouched; an O_APPEND file appends anyway), then opens
 * each candidate under /proc/TASKPID/root (openat2 RESOLVE_IN_ROOT where
 * the kernel has it) and checks whether the file there ends with MARKER.
 * One line out per non-blank line in, in order:
 *   probe TASKPID FD ok VERDICT:CANDIDATE...
 *       VERDICT is yes (the file ends with MARKER), no (it does not, or is
 *       not a regular file), missing (ENOENT or ENOTDIR) or an errno name
 *       (the candidate could not be opened or read); CANDIDATE escaped.
 *   probe TASKPID FD error STEP ERRNO
 *       nothing was checked; STEP is input, pidfd_open, pidfd_getfd,
 *       fstat or pwrite (ENOSYS from pidfd_*: the kernel is older than 5.6).
 * Exit 0 once every line is answered, even when some answers are errors.
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
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

struct ml_open_how {
	uint64_t flags, mode, resolve;
};

static int die(const char *what, const char *arg) {
	fprintf(stderr, "mountlab-helper: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
	return 1;
}

static int usage(void) {
	fprintf(stderr, "usage: mountlab-helper set-group FROM TO | open-tree SRC DST [-r] |"
			" open FD FLAGS MODE OFFSET PATH -- CMD... | unshare NSLIST -- CMD... | capture PID |"
			" leaks PID [EXCLUDE...] | fd-probe (lines on stdin) | pivot-root NEW PUT_OLD |"
			" run-tree ROOT [PLAN|-] [--status-fd N] | run-outside ROOT [PLAN|-] [--status-fd N] |"
			" plan-echo [PLAN|-] | classify-options OPTION... |"
			" engine ID PID DUMP_LIMIT RESTORE_LIMIT NDUMP ARGS... | probe ID (lines on stdin) |"
			" setup ID LIMIT (plan on stdin) | build ID LIMIT LEAK (plan on stdin) | cleanup ID |"
			" finish ID (probes on stdin) | serve (calls on stdin)\n");
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

const struct name_value open_flags[] = {
	{"rdonly", O_RDONLY}, {"wronly", O_WRONLY}, {"rdwr", O_RDWR}, {"creat", O_CREAT},
	{"trunc", O_TRUNC}, {"append", O_APPEND}, {"excl", O_EXCL}, {"directory", O_DIRECTORY},
	{"path", O_PATH}, {"nofollow", O_NOFOLLOW}, {"cloexec", O_CLOEXEC}, {"noatime", O_NOATIME},
	{"tmpfile", O_TMPFILE}, {"sync", O_SYNC}, {"nonblock", O_NONBLOCK},
};

const struct name_value namespaces[] = {
	{"mnt", CLONE_NEWNS}, {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC}, {"net", CLONE_NEWNET},
	{"user", CLONE_NEWUSER}, {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP},
};

const size_t open_flags_count = COUNT(open_flags);
const size_t namespaces_count = COUNT(namespaces);

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

static int needs_escape(unsigned char c, int comma) {
	return c == ' ' || c == '\t' || c == '\n' || c == '\\' || (comma && c == ',');
}

static void put_escaped(const char *s) {
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (needs_escape(c, 0))
			printf("\\%03o", c);
		else
			putchar(c);
	}
}

/* Decodes \ooo escapes in place (mountinfo's, and the lab's input). */
static void unescape(char *s) {
	char *o = s;
	for (char *p = s; *p;) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 4;
		} else {
			*o++ = *p++;
		}
	}
	*o = 0;
}

const char *errno_name(int e) {
	static char buf[32];
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case EBADF: return "EBADF";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case EMFILE: return "EMFILE";
	case ENFILE: return "ENFILE";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case EROFS: return "EROFS";
	case ELOOP: return "ELOOP";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENOSYS: return "ENOSYS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ESTALE: return "ESTALE";
	case EXDEV: return "EXDEV";
	case EAGAIN: return "EAGAIN";
	case EDQUOT: return "EDQUOT";
	}
	snprintf(buf, sizeof buf, "errno%d", e);
	return buf;
}

/* --- SHA-256 (FIPS 180-4) ------------------------------------------------ */

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t n;
};

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(struct sha256 *c, const unsigned char *p) {
	uint32_t w[64], a, b, cc, d, e, f, g, h;
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR32(w[i - 15], 7) ^ ROR32(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR32(w[i - 2], 17) ^ ROR32(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3], e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ROR32(e, 6) ^ ROR32(e, 11) ^ ROR32(e, 25)) + ((e & f) ^ (~e & g)) + sha256_k[i] + w[i];
		uint32_t t2 = (ROR32(a, 2) ^ ROR32(a, 13) ^ ROR32(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
		h = g, g = f, f = e, e = d + t1, d = cc, cc = b, b = a, a = t1 + t2;
	}
	c->h[0] += a, c->h[1] += b, c->h[2] += cc, c->h[3] += d, c->h[4] += e, c->h[5] += f, c->h[6] += g, c->h[7] += h;
}

static void sha256_init(struct sha256 *c) {
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(c->h, iv, sizeof iv);
	c->len = 0;
	c->n = 0;
}

static void sha256_update(struct sha256 *c, const unsigned char *p, size_t len) {
	c->len += len;
	if (c->n) {
		size_t take = 64 - c->n < len ? 64 - c->n : len;
		memcpy(c->buf + c->n, p, take);
		c->n += take, p += take, len -= take;
		if (c->n < 64)
			return;
		sha256_block(c, c->buf);
		c->n = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		sha256_block(c, p);
	memcpy(c->buf, p, len);
	c->n = len;
}

static void sha256_final(struct sha256 *c, char hex[65]) {
	uint64_t bits = c->len * 8;
	unsigned char pad[72] = {0x80};
	size_t padlen = (c->n < 56 ? 56 : 120) - c->n;
	for (int i = 0; i < 8; i++)
		pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(c, pad, padlen + 8);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", (c->h[i / 4] >> (24 - 8 * (i % 4))) & 0xff);
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

/* --- capture: contents and names of open files -------------------------- */

#define HASH_CAP (64LL << 20)
#define NAMES_WALK_LIMIT 20000

/* Prints " sha256=HEX [hashed=N]" for the file open as PID's fd FD, read
 * through a fresh open of the magic link, or " sha256-error=ERRNO". */
static void put_hash(int pid, int fd) {
	char path[64];
	static unsigned char buf[1 << 16];
	snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
	int f = open(path, O_RDONLY | O_NOATIME | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (f < 0 && errno == EPERM)
		f = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (f < 0) {
		printf(" sha256-error=%s", errno_name(errno));
		return;
	}
	struct sha256 c;
	sha256_init(&c);
	long long total = 0;
	int more = 0;
	for (;;) {
		size_t want = sizeof buf;
		if (total + (long long)want > HASH_CAP)
			want = (size_t)(HASH_CAP - total);
		if (want == 0) {
			/* At the cap: is there anything after it? */
			unsigned char one;
			ssize_t r = read(f, &one, 1);
			more = r > 0;
			break;
		}
		ssize_t r = read(f, buf, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			printf(" sha256-error=%s", errno_name(errno));
			close(f);
			return;
		}
		if (r == 0)
			break;
		sha256_update(&c, buf, (size_t)r);
		total += r;
	}
	close(f);
	char hex[65];
	sha256_final(&c, hex);
	printf(" sha256=%s", hex);
	if (more)
		printf(" hashed=%lld", total);
}

/* fdinfo's mnt_id of our own fd F; -1 if unreadable. */
static int mnt_id_of(int f) {
	char path[64], info[4096], *p;
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", f);
	if (read_file(path, info, sizeof info) <= 0 || !(p = strstr(info, "mnt_id:")))
		return -1;
	return atoi(p + 7);
}

/* The mountpoint (unescaped) of mount MNT in PID's mountinfo; 0 if absent. */
static int mountpoint_of(int pid, int mnt, char *out, size_t size) {
	char path[64];
	static char mi[1 << 20];
	snprintf(path, sizeof path, "/proc/%d/mountinfo", pid);
	if (read_file(path, mi, sizeof mi) <= 0)
		return 0;
	for (char *save = NULL, *line = strtok_r(mi, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int id;
		char mp[PATH_MAX];
		/* id parent maj:min root mountpoint ... */
		if (sscanf(line, "%d %*d %*s %*s %4095s", &id, mp) == 2 && id == mnt) {
			unescape(mp);
			snprintf(out, size, "%s", mp);
			return 1;
		}
	}
	return 0;
}

struct names {
	char *text; /* escaped, comma-separated */
	size_t len, cap;
	unsigned long found, want;
	long entries;
	int truncated;
	dev_t dev, dirdev;
	ino_t ino;
	int mnt;
};

static void names_add(struct names *n, const char *name) {
	size_t need = n->len + 4 * strlen(name) + 2;
	if (need > n->cap) {
		n->cap = need * 2;
		n->text = realloc(n->text, n->cap);
		if (!n->text) {
			fprintf(stderr, "mountlab-helper: out of memory\n");
			exit(1);
		}
	}
	if (n->found)
		n->text[n->len++] = ',';
	for (const char *s = name; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (needs_escape(c, 1))
			n->len += (size_t)sprintf(n->text + n->len, "\\%03o", c);
		else
			n->text[n->len++] = (char)c;
	}
	n->text[n->len] = 0;
	n->found++;
}

/* Walks directory DFD (whose path, relative to the task's root, is in
 * rel[0..len)), which is on mount n->mnt. Closes DFD. */
static void names_walk(struct names *n, int dfd, char *rel, size_t len, int depth) {
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	struct dirent *e;
	while (!n->truncated && n->found < n->want && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (++n->entries > NAMES_WALK_LIMIT) {
			n->truncated = 1;
			break;
		}
		size_t nl = strlen(e->d_name);
		if (len + 1 + nl >= PATH_MAX) {
			n->truncated = 1;
			break;
		}
		struct stat st;
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		/* Directories are compared with the walk's root directory, files
		 * with the fd's file: overlayfs gives them different st_dev. A
		 * directory of another st_dev is another mount, left unopened
		 * (opening an autofs mountpoint would trigger it). */
		if (st.st_dev != (S_ISDIR(st.st_mode) ? n->dirdev : n->dev))
			continue;
		size_t sub = len;
		if (!(len == 1 && rel[0] == '/'))
			rel[sub++] = '/';
		memcpy(rel + sub, e->d_name, nl + 1);
		if (S_ISDIR(st.st_mode)) {
			if (depth >= 256) {
				n->truncated = 1;
			} else {
				int c = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				/* Another mount over it (also one of our superblock, a bind): not ours. */
				if (c >= 0 && mnt_id_of(c) != n->mnt)
					close(c), c = -1;
				if (c >= 0)
					names_walk(n, c, rel, sub + nl, depth + 1);
			}
		} else if (st.st_ino == n->ino && S_ISREG(st.st_mode)) {
			/* The inode bind-mounted over a name is not a link. */
			int c = openat(dfd, e->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			if (c >= 0) {
				if (mnt_id_of(c) == n->mnt)
					names_add(n, rel);
				close(c);
			}
		}
		rel[len] = 0;
	}
	closedir(d);
}

/* Prints " names=..." (and names-truncated=N) or " names-error=WHY" for the
 * file ST, open as PID's fd through mount MNT. */
static void put_names(int pid, int mnt, const struct stat *st) {
	char mp[PATH_MAX], path[PATH_MAX + 64];
	static char rel[PATH_MAX + 1];
	if (mnt < 0 || !mountpoint_of(pid, mnt, mp, sizeof mp)) {
		printf(" names-error=not-in-mountinfo");
		return;
	}
	snprintf(path, sizeof path, "/proc/%d/root%s", pid, mp);
	int dfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (dfd < 0) {
		printf(" names-error=%s", errno_name(errno));
		return;
	}
	if (mnt_id_of(dfd) != mnt) {
		close(dfd);
		printf(" names-error=covered");
		return;
	}
	struct names n = {.want = (unsigned long)st->st_nlink, .dev = st->st_dev, .ino = st->st_ino, .mnt = mnt};
	struct stat top;
	snprintf(rel, sizeof rel, "%s", mp);
	if (fstat(dfd, &top) == 0 && S_ISDIR(top.st_mode)) {
		n.dirdev = top.st_dev;
		names_walk(&n, dfd, rel, strlen(rel), 0);
	} else {
		/* A file mount: its mountpoint is its only name on it. */
		if (fstat(dfd, &top) == 0 && top.st_dev == n.dev && top.st_ino == n.ino)
			names_add(&n, rel);
		close(dfd);
	}
	printf(" names=%s", n.text ? n.text : "");
	if (n.truncated)
		printf(" names-truncated=%ld", n.entries > NAMES_WALK_LIMIT ? (long)NAMES_WALK_LIMIT : n.entries);
	free(n.text);
}

/* " rdev=MAJ:MIN" for a device node. */
static void put_rdev(const struct stat *st) {
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		printf(" rdev=%u:%u", major(st->st_rdev), minor(st->st_rdev));
}

/* A unix socket address as " KEY=PATH" (abstract: "@" then the name); nothing when unnamed. */
static void put_sockaddr(const char *key, const struct sockaddr_un *sa, socklen_t len) {
	size_t off = offsetof(struct sockaddr_un, sun_path);
	if (len <= off || sa->sun_family != AF_UNIX)
		return;
	char name[sizeof sa->sun_path + 2];
	size_t n = len - off;
	if (sa->sun_path[0] == 0) {
		name[0] = '@';
		memcpy(name + 1, sa->sun_path + 1, n - 1);
		name[n] = 0;
		for (size_t i = 1; i < n; i++)
			if (!name[i])
				name[i] = '@';
	} else {
		memcpy(name, sa->sun_path, n);
		name[n] = 0;
	}
	printf(" %s=", key);
	put_escaped(name);
}

/*
 * For a socket fd: " sock=FAMILY/TYPE [listening=1] [sock-name=P] [sock-peer=P]",
 * through the task's own socket (pidfd_getfd), or " sock-error=ERRNO".
 */
static void put_socket(int *pidfd, int pid, int fd) {
	if (*pidfd == -1)
		*pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	int s = *pidfd >= 0 ? (int)syscall(SYS_pidfd_getfd, *pidfd, fd, 0) : -1;
	if (s < 0) {
		printf(" sock-error=%s", errno_name(errno));
		return;
	}
	int type = 0, domain = 0, acc = 0;
	socklen_t l = sizeof type;
	getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &l);
	l = sizeof domain;
	getsockopt(s, SOL_SOCKET, SO_DOMAIN, &domain, &l);
	const char *ty = type == SOCK_STREAM ? "stream" : type == SOCK_DGRAM ? "dgram" : type == SOCK_SEQPACKET ? "seqpacket"
		       : type == SOCK_RAW ? "raw" : "other";
	const char *fam = domain == AF_UNIX ? "unix" : domain == AF_INET ? "inet" : domain == AF_INET6 ? "inet6"
		       : domain == AF_NETLINK ? "netlink" : "other";
	printf(" sock=%s/%s", fam, ty);
	l = sizeof acc;
	if (getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l) == 0 && acc)
		printf(" listening=1");
	if (domain == AF_UNIX) {
		struct sockaddr_un sa;
		socklen_t sl = sizeof sa;
		if (getsockname(s, (struct sockaddr *)&sa, &sl) == 0)
			put_sockaddr("sock-name", &sa, sl);
		sl = sizeof sa;
		if (getpeername(s, (struct sockaddr *)&sa, &sl) == 0) {
			if (sl <= offsetof(struct sockaddr_un, sun_path))
				printf(" sock-peer=-");
			else
				put_sockaddr("sock-peer", &sa, sl);
		}
	}
	close(s);
}

static void capture_fds(int pid) {
	int pidfd = -1;
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
		/* The @fd line: see the top of this file. */
		printf("@fd %d flags=%o pos=%lld mnt=%d", fd, flags, pos, mnt);
		if (have)
			printf(" ino=%llu dev=%u:%u nlink=%lu type=%s size=%lld", (unsigned long long)st.st_ino,
			       major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_nlink,
			       S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : S_ISFIFO(st.st_mode) ? "fifo"
			       : S_ISSOCK(st.st_mode) ? "socket" : S_ISCHR(st.st_mode) ? "chr" : S_ISBLK(st.st_mode) ? "blk" : "other",
			       (long long)st.st_size);
		if (have)
			put_rdev(&st);
		if (have && S_ISSOCK(st.st_mode))
			put_socket(&pidfd, pid, fd);
		if (have && S_ISREG(st.st_mode)) {
			put_hash(pid, fd);
			int deleted = strlen(target) > 10 && !strcmp(target + strlen(target) - 10, " (deleted)");
			if (st.st_nlink > 0 && (deleted || st.st_nlink > 1))
				put_names(pid, mnt, &st);
		}
		printf(" path=");
		put_escaped(target);
		putchar('\n');
	}
	closedir(d);
	if (pidfd >= 0)
		close(pidfd);
}

/*
 * "@map" lines: the task's file mappings that are data, not code. Every
 * mapping of a file that the task also maps executable (its program, its
 * libraries) is left out, and so are anonymous ones.
 */
static void capture_maps(int pid) {
	char path[64];
	static char maps[1 << 20];
	snprintf(path, sizeof path, "/proc/%d/maps", pid);
	if (read_file(path, maps, sizeof maps) <= 0)
		return;
	struct code {
		unsigned long dev;
		unsigned long long ino;
	} code[256];
	int ncode = 0;
	/* start-end perms offset dev inode [path] */
	for (char *p = maps; *p;) {
		char *nl = strchr(p, '\n');
		char perms[8];
		unsigned maj, min;
		unsigned long long ino;
		if (sscanf(p, "%*x-%*x %7s %*x %x:%x %llu", perms, &maj, &min, &ino) == 4 && ino && perms[2] == 'x' &&
		    ncode < (int)COUNT(code))
			code[ncode++] = (struct code){makedev(maj, min), ino};
		if (!nl)
			break;
		p = nl + 1;
	}
	for (char *p = maps; *p;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		unsigned long long start, end, off, ino;
		char perms[8];
		unsigned maj, min;
		if (sscanf(p, "%llx-%llx %7s %llx %x:%x %llu", &start, &end, perms, &off, &maj, &min, &ino) == 7 && ino) {
			int is_code = 0;
			for (int i = 0; i < ncode; i++)
				if (code[i].dev == makedev(maj, min) && code[i].ino == ino)
					is_code = 1;
			if (!is_code) {
				char link[PATH_MAX + 64], target[PATH_MAX];
				snprintf(link, sizeof link, "/proc/%d/map_files/%llx-%llx", pid, start, end);
				link_of(link, target, sizeof target);
				printf("@map %llx-%llx perms=%s offset=%llu", start, end, perms, off);
				struct stat st;
				int f = open(link, O_PATH | O_CLOEXEC);
				if (f >= 0) {
					printf(" mnt=%d", mnt_id_of(f));
					if (fstat(f, &st) == 0)
						printf(" ino=%llu dev=%u:%u nlink=%lu", (unsigned long long)st.st_ino,
						       major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_nlink);
					close(f);
				} else {
					printf(" mnt=-1 open-error=%s", errno_name(errno));
				}
				printf(" path=");
				put_escaped(target);
				putchar('\n');
			}
		}
		if (!nl)
			break;
		p = nl + 1;
	}
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

/* --- capture: masters outside the tree ----------------------------------- */

struct ids {
	int *v;
	size_t n, cap;
};
/* Groups the tree's mounts carry (shared:N), and those they receive from (master:N, propagate_from:N). */
static struct ids tree_shared, tree_refs;

static void ids_add(struct ids *s, int id) {
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		int *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return;
		s->v = v, s->cap = cap;
	}
	s->v[s->n++] = id;
}

static int ids_has(const struct ids *s, int id) {
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return 1;
	return 0;
}

/* The optional fields of one mountinfo line (between the 6th field and " - "): calls fn for each tag:N. */
static void line_groups(const char *line, size_t len, void (*fn)(const char *tag, int id, void *arg), void *arg) {
	int field = 0;
	for (size_t i = 0; i < len;) {
		size_t j = i;
		while (j < len && line[j] != ' ')
			j++;
		if (field >= 6) {
			if (j - i == 1 && line[i] == '-')
				return;
			const char *colon = memchr(line + i, ':', j - i);
			if (colon)
				fn(line + i, atoi(colon + 1), arg);
		}
		field++;
		i = j + 1;
	}
}

static void note_group(const char *tag, int id, void *arg) {
	(void)arg;
	if (!strncmp(tag, "shared:", 7))
		ids_add(&tree_shared, id);
	else if (!strncmp(tag, "master:", 7) || !strncmp(tag, "propagate_from:", 15))
		ids_add(&tree_refs, id);
}

static void note_groups(const char *mi) {
	for (const char *p = mi; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		line_groups(p, len, note_group, NULL);
		p += len + (nl ? 1 : 0);
	}
}

static void is_outside_master(const char *tag, int id, void *arg) {
	if (!strncmp(tag, "shared:", 7) && ids_has(&tree_refs, id) && !ids_has(&tree_shared, id))
		*(int *)arg = 1;
}

static void capture_outside(void) {
	static char mi[1 << 20];
	char ns[128];
	link_of("/proc/self/ns/mnt", ns, sizeof ns);
	char *num = ns;
	while (*num && (*num < '0' || *num > '9'))
		num++;
	num[strcspn(num, "]")] = 0;
	printf("@outside pid=%d mntns=%s\n", (int)getpid(), num);
	if (read_file("/proc/self/mountinfo", mi, sizeof mi) <= 0)
		return;
	for (const char *p = mi; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		int wanted = 0;
		line_groups(p, len, is_outside_master, &wanted);
		if (wanted)
			printf("%.*s\n", (int)len, p);
		p += len + (nl ? 1 : 0);
	}
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
	snprintf(path, sizeof path, "/proc/%d/mountinfo", pid);
	int have = read_file(path, mi, sizeof mi) > 0;
	static char locks[1 << 16];
	locks[0] = 0;
	if (have)
		probe_locks(pid, mi, locks, sizeof locks);
	printf("@task %s pid=%d mntns=%s cwd=", key, pid, num);
	put_escaped(cwd);
	printf(" root=");
	put_escaped(root);
	fputs(locks, stdout);
	putchar('\n');
	if (have) {
		fputs(mi, stdout);
		note_groups(mi);
	}
	capture_fds(pid);
	capture_maps(pid);
	fflush(stdout);

	char kids[8192];
	children_of(pid, kids, sizeof kids);
	int n = 0;
	for (char *save = NULL, *tok = strtok_r(kids, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		capture_task(atoi(tok), key, ++n);
}

/* --- fd-probe ------------------------------------------------------------ */

/* Opens PATH (relative to the task's root ROOTFD) as the task would resolve
 * it: RESOLVE_IN_ROOT keeps absolute symlinks and ".." inside that root. */
static int open_in_root(int rootfd, const char *path) {
	struct ml_open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, .resolve = ML_RESOLVE_IN_ROOT};
	int f = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
	if (f >= 0 || errno != ENOSYS)
		return f;
	while (*path == '/')
		path++;
	return openat(rootfd, *path ? path : ".", (int)how.flags);
}

/* "yes", "no", "missing" or an errno name: does the file at PATH end with MARKER? */
static const char *verdict(int rootfd, const char *path, const char *marker, size_t mlen) {
	static char got[4096];
	int f = open_in_root(rootfd, path);
	if (f < 0)
		return errno == ENOENT || errno == ENOTDIR ? "missing" : errno_name(errno);
	struct stat st;
	const char *v = "no";
	if (fstat(f, &st) < 0)
		v = errno_name(errno);
	else if (S_ISREG(st.st_mode) && st.st_size >= (off_t)mlen) {
		ssize_t r = pread(f, got, mlen, st.st_size - (off_t)mlen);
		if (r < 0)
			v = errno_name(errno);
		else if ((size_t)r == mlen && !memcmp(got, marker, mlen))
			v = "yes";
	}
	close(f);
	return v;
}

static void probe_error(const char *pid, const char *fd, const char *step, int e) {
	printf("probe %s %s error %s %s\n", pid, fd, step, errno_name(e));
	if (e == ENOSYS && !strncmp(step, "pidfd", 5))
		fprintf(stderr, "mountlab-helper: fd-probe: %s needs Linux 5.6+\n", step);
}

/* One input line "TASKPID FD MARKER CANDIDATE..." -> one output line. */
static void probe_line(char *line) {
	char *tok[4096];
	int n = 0;
	for (char *save = NULL, *t = strtok_r(line, " \t\r\n", &save); t && n < 4096; t = strtok_r(NULL, " \t\r\n", &save))
		tok[n++] = t;
	if (n == 0)
		return; /* a blank line asks nothing */
	char *end1 = NULL, *end2 = NULL;
	long pid = n >= 3 ? strtol(tok[0], &end1, 10) : 0;
	long fd = n >= 3 ? strtol(tok[1], &end2, 10) : 0;
	if (n < 3 || *end1 || *end2 || pid <= 0 || fd < 0 || fd > INT_MAX) {
		probe_error(n > 0 ? tok[0] : "-", n > 1 ? tok[1] : "-", "input", EINVAL);
		return;
	}
	char *marker = tok[2];
	unescape(marker);
	size_t mlen = strlen(marker);
	if (mlen == 0 || mlen > 4096) {
		probe_error(tok[0], tok[1], "input", EINVAL);
		return;
	}
	int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pidfd < 0) {
		probe_error(tok[0], tok[1], "pidfd_open", errno);
		return;
	}
	int f = (int)syscall(SYS_pidfd_getfd, pidfd, (int)fd, 0);
	close(pidfd);
	if (f < 0) {
		probe_error(tok[0], tok[1], "pidfd_getfd", errno);
		return;
	}
	struct stat st;
	if (fstat(f, &st) < 0) {
		probe_error(tok[0], tok[1], "fstat", errno);
		close(f);
		return;
	}
	ssize_t w = pwrite(f, marker, mlen, st.st_size);
	if (w < 0 || (size_t)w != mlen) {
		probe_error(tok[0], tok[1], "pwrite", w < 0 ? errno : EIO);
		close(f);
		return;
	}
	close(f);
	char root[64];
	snprintf(root, sizeof root, "/proc/%ld/root", pid);
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC), rooterr = errno;
	printf("probe %s %s ok", tok[0], tok[1]);
	for (int i = 3; i < n; i++) {
		char *esc = strdup(tok[i]);
		unescape(tok[i]);
		printf(" %s:%s", rootfd < 0 ? errno_name(rooterr) : verdict(rootfd, tok[i], marker, mlen), esc ? esc : "?");
		free(esc);
	}
	putchar('\n');
	if (rootfd >= 0)
		close(rootfd);
}

int fd_probe(void) {
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, stdin) >= 0) {
		probe_line(line);
		fflush(stdout);
	}
	free(line);
	return ferror(stdout) ? 1 : 0;
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
int scan_leaks(int pid, int nexcl, char **excl) {
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

static int pivot_root(const char *new_root, const char *put_old) {
	if (syscall(SYS_pivot_root, new_root, put_old) < 0)
		return die("pivot-root", new_root);
	return 0;
}

int capture_tree(int pid) {
	capture_task(pid, "init", 0);
	capture_outside();
	return ferror(stdout) ? 1 : 0;
}

int main(int argc, char **argv) {
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];
	if (!strcmp(cmd, "set-group") && argc == 4)
		return set_group(argv[2], argv[3]);
	if (!strcmp(cmd, "pivot-root") && argc == 4)
		return pivot_root(argv[2], argv[3]);
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
		return scan_leaks(pid, argc - 3, argv + 3);
	}
	if (!strcmp(cmd, "fd-probe") && argc == 2)
		return fd_probe();
	if (!strcmp(cmd, "run-tree"))
		return run_tree(argc - 1, argv + 1);
	if (!strcmp(cmd, "run-outside"))
		return run_outside(argc - 1, argv + 1);
	if (!strcmp(cmd, "run-init"))
		return run_init_cmd(argc - 1, argv + 1);
	if (!strcmp(cmd, "plan-echo"))
		return plan_echo(argc - 1, argv + 1);
	if (!strcmp(cmd, "classify-options"))
		return classify_options(argc - 2, argv + 2);
	if (!strcmp(cmd, "capture") && argc == 3) {
		int pid = atoi(argv[2]);
		if (pid <= 0)
			return usage();
		return capture_tree(pid);
	}
	if (!strcmp(cmd, "engine"))
		return engine(argc - 1, argv + 1);
	if (!strcmp(cmd, "finish"))
		return finish(argc - 1, argv + 1);
	if (!strcmp(cmd, "probe"))
		return probe(argc - 1, argv + 1);
	if (!strcmp(cmd, "setup"))
		return setup_cmd(argc - 1, argv + 1);
	if (!strcmp(cmd, "build"))
		return build_cmd(argc - 1, argv + 1);
	if (!strcmp(cmd, "cleanup"))
		return cleanup_cmd(argc - 1, argv + 1);
	if (!strcmp(cmd, "serve"))
		return serve(argc - 1, argv + 1);
	return usage();
}
