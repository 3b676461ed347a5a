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

/* ---- the program (plan-wire.c) ---------------------------------------- */

enum op_kind {
	OP_MKDIR, OP_WRITE, OP_SYMLINK, OP_LINK, OP_RENAME, OP_MKFIFO, OP_UNLINK, OP_RMDIR, OP_CHDIR,
	OP_MOUNT, OP_BIND, OP_MOVE, OP_PROPAGATION, OP_REMOUNT, OP_UMOUNT, OP_SET_GROUP, OP_OPEN_TREE,
	OP_CREATE_IMAGE, OP_LOOP_MOUNT, OP_EXEC, OP_SPAWN, OP_SIGNAL, OP_WAIT, OP_UNSHARE, OP_OPEN,
	OP_CLOSE, OP_CHROOT, OP_PIVOT_ROOT,
	OP__COUNT
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

struct plan {
	struct arg scenario, sync_dir;
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
