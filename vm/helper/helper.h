/*
 * What the helper's files share. mountlab-helper.c holds main and the
 * small subcommands; plan-wire.c reads a program (src/plan/wire.ts);
 * plan-run.c executes one; mount-options.c is libmount's option logic.
 */
#ifndef MOUNTLAB_HELPER_H
#define MOUNTLAB_HELPER_H

#include <stddef.h>
#include <stdint.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct name_value {
	const char *n;
	int v;
};

extern const struct name_value open_flags[];
extern const size_t open_flags_count;
extern const struct name_value namespaces[];
extern const size_t namespaces_count;

/* "EINVAL", ... or "errnoN". */
const char *errno_name(int e);

/* ---- the new mount API, for headers that lack it (linux/mount.h) ------- */

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_fspick
#define SYS_fspick 433
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#define ML_MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define ML_MOVE_MOUNT_SET_GROUP 0x00000100
#define ML_OPEN_TREE_CLONE 1
#define ML_OPEN_TREE_CLOEXEC O_CLOEXEC /* expanded where fcntl.h is included */
#define ML_AT_EMPTY_PATH 0x1000
#define ML_AT_RECURSIVE 0x8000
#define ML_UMOUNT_NOFOLLOW 0x8
#define ML_RESOLVE_IN_ROOT 0x10
#define ML_FSOPEN_CLOEXEC 0x1
#define ML_FSMOUNT_CLOEXEC 0x1
#define ML_FSPICK_CLOEXEC 0x1
#define ML_FSPICK_NO_AUTOMOUNT 0x4
#define ML_FSPICK_EMPTY_PATH 0x8
#define ML_FSCONFIG_SET_FLAG 0
#define ML_FSCONFIG_SET_STRING 1
#define ML_FSCONFIG_CMD_CREATE 6
#define ML_FSCONFIG_CMD_RECONFIGURE 7

#define ATTR_RDONLY 0x1
#define ATTR_NOSUID 0x2
#define ATTR_NODEV 0x4
#define ATTR_NOEXEC 0x8
#define ATTR_ATIME 0x70
#define ATTR_RELATIME 0x0
#define ATTR_NOATIME 0x10
#define ATTR_STRICTATIME 0x20
#define ATTR_NODIRATIME 0x80
#define ATTR_NOSYMFOLLOW 0x200000

struct ml_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

/* ---- the program (plan-wire.c) ---------------------------------------- */

enum op_kind {
	OP_MKDIR, OP_WRITE, OP_SYMLINK, OP_LINK, OP_RENAME, OP_MKFIFO, OP_UNLINK, OP_RMDIR, OP_CHDIR,
	OP_MOUNT, OP_BIND, OP_MOVE, OP_PROPAGATION, OP_REMOUNT, OP_UMOUNT, OP_SET_GROUP, OP_OPEN_TREE,
	OP_CREATE_IMAGE, OP_LOOP_MOUNT, OP_EXEC, OP_SPAWN, OP_SIGNAL, OP_WAIT, OP_UNSHARE, OP_OPEN,
	OP_CLOSE, OP_CHROOT, OP_PIVOT_ROOT, OP_SOCKET, OP_MKNOD, OP_MMAP, OP_TRUNCATE, OP_PWRITE, OP_ACCESS,
	OP_UNSHARE_USER, OP__COUNT
};

/* One decoded argument: NUL-terminated, but `len` counts embedded NULs
 * (write's content may hold some). Numeric arguments also have `num`. */
struct arg {
	char *s;
	size_t len;
	unsigned long long num;
};

struct op {
	enum op_kind kind;
	int argc;
	struct arg *argv;
};

struct step {
	long n;
	struct arg label;
	int nops;
	struct op *ops;
};

struct task {
	struct arg name;
	int nsteps;
	struct step *steps;
};

/* A user namespace's setgroups ("allow"/"deny") and map texts, as written to /proc/PID. */
struct userns_maps {
	struct arg setgroups, uid_map, gid_map;
};

struct plan {
	struct arg scenario, sync_dir;
	/* The uns flavour (record init-user): init cloned into a new user namespace. */
	int init_user;
	struct userns_maps init_maps;
	int ntasks;
	struct task *tasks;
	int noutside;
	struct step *outside;
};

/* Reads a program from TEXT (modified in place, kept referenced). 0, or
 * -1 with a message in ERR. */
int plan_parse(char *text, size_t len, struct plan *p, char *err, size_t errsz);
/* Writes P back in the wire format (what src/plan/wire.ts writes). */
void plan_write(int fd, const struct plan *p);
/* The op's name as the wire spells it. */
const char *op_name(enum op_kind k);
/* Reads all of PATH ("-": stdin); NULL with errno on failure. */
char *read_all(const char *path, size_t *len);

/* ---- executing it (plan-run.c) ---------------------------------------- */

int run_tree(int argc, char **argv);
int run_outside(int argc, char **argv);
int plan_echo(int argc, char **argv);
int run_init_cmd(int argc, char **argv);

/* ---- captures and batched calls (mountlab-helper.c, batch.c) ---------- */

/* The capture format (src/capture/capture-file.ts) of the tree whose init is PID, on stdout. */
int capture_tree(int pid);
/* "@leak NS pid=N comm=C" lines on stdout: tasks outside the tree (and EXCL) in its namespaces. */
int scan_leaks(int pid, int nexcl, char **excl);
int build_rest(int argc, char **argv);
int engine(int argc, char **argv);
/* A scenario's setup, build and clean-up without a shell (setup.c). */
int setup_cmd(int argc, char **argv);
int build_cmd(int argc, char **argv);
int cleanup_cmd(int argc, char **argv);
/* " locked=ID,... unlocked=ID,..." for PID's mounts when a user namespace other
 * than the helper's owns its mount namespace; "" otherwise (locks.c). */
void probe_locks(int pid, const char *mountinfo, char *out, size_t outsz);
/* The live propagation probes (probe.c). */
int probe(int argc, char **argv);
int fd_probe(void);
int finish(int argc, char **argv);
/* serve.c: calls on one channel, each a fork and exec of this binary (no ssh session each). */
int serve(int argc, char **argv);

/* ---- mount options (mount-options.c) ---------------------------------- */

/* Why an operation failed, for the status line and stderr. */
struct failure {
	int rc;		 /* 1 for a failed syscall, the exit status of a tool */
	char why[32];	 /* errno name, or exit/signal */
	char msg[1024];	 /* for people */
};

/* mount -o remount[,bind],OPTS PATH as libmount 2.41 does it. */
int remount(const char *path, int super, char **opts, int nopts, struct failure *f);
int classify_options(int argc, char **argv);
/* realpath(3) as libmount's canonicalize_path: PATH itself when it fails. */
const char *canonical(const char *path, char *buf);
int fail_errno(struct failure *f, const char *what, const char *path);
/* PATH with control bytes, backslash and non-ASCII as \ooo: one line of text. */
const char *printable(const char *path, char *buf, size_t size);

#endif
