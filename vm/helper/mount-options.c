/*
 * libmount's option logic (util-linux 2.41, Debian trixie's mount(8)),
 * for what only the guest knows at run time: a remount. src/plan/
 * mount-options.ts has the same tables and the reasoning; the two must
 * classify every name alike (classify-options prints this side's view,
 * src/plan/executor.test.ts compares).
 *
 * `mount -o remount[,bind],OPTS PATH` in libmount 2.41:
 * - context.c mnt_context_apply_fstab: with only a target, the options of
 *   its /etc/fstab entry, else of its mountinfo line (the last one for that
 *   mountpoint; VFS and superblock options merged as fs.c merge_optstr
 *   does: "ro" when either says ro), are put before OPTS. A "bind" from
 *   fstab is dropped when OPTS have none.
 * - optlist.c mnt_optlist_merge_opts: the last instance wins; earlier equal
 *   options and earlier inverses (ro vs rw, sync vs async) go.
 * - hook_mount.c: open_tree(PATH) (no clone). Without bind, fspick +
 *   fsconfig of ro/rw (rw when neither is given), the superblock flags and
 *   every filesystem option, then FSCONFIG_CMD_RECONFIGURE. Then
 *   mount_setattr with the masks of optlist.c mnt_optlist_get_attrs: the
 *   named flags set or cleared, and without bind, ro/nosuid/nodev/noexec/
 *   nosymfollow cleared unless named (the classic remount's reset). Then
 *   propagation options, one mount_setattr each.
 * Because the prepended mountinfo options restate the mount's own flags,
 * a remount in effect changes only what OPTS name, except that a mount of
 * a read-only superblock reads "ro" there and so becomes read-only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

enum kind { K_VFS, K_SUPERBLOCK, K_PROPAGATION, K_OPERATION, K_IGNORED, K_USERSPACE_ACTION, K_FILESYSTEM };
static const char *const kind_names[] = {
	"vfs", "superblock", "propagation", "operation", "ignored", "userspace-action", "filesystem",
};

struct entry {
	const char *pattern;
	enum kind kind;
	int linux_map;
	unsigned long id;
	int invert, prefix;
	unsigned long attr;
};

#define LX(p, k, id, inv, attr) {p, k, 1, id, inv, 0, attr}
#define US(p, k, id, inv, pre) {p, k, 0, id, inv, pre, 0}

/* optmap.c linux_flags_map (without sub/nosub: MS_NOSUB is in no libc). */
static const struct entry linux_map[] = {
	LX("ro", K_VFS, MS_RDONLY, 0, ATTR_RDONLY),
	LX("rw", K_VFS, MS_RDONLY, 1, ATTR_RDONLY),
	LX("exec", K_VFS, MS_NOEXEC, 1, ATTR_NOEXEC),
	LX("noexec", K_VFS, MS_NOEXEC, 0, ATTR_NOEXEC),
	LX("suid", K_VFS, MS_NOSUID, 1, ATTR_NOSUID),
	LX("nosuid", K_VFS, MS_NOSUID, 0, ATTR_NOSUID),
	LX("dev", K_VFS, MS_NODEV, 1, ATTR_NODEV),
	LX("nodev", K_VFS, MS_NODEV, 0, ATTR_NODEV),
	LX("sync", K_SUPERBLOCK, MS_SYNCHRONOUS, 0, 0),
	LX("async", K_SUPERBLOCK, MS_SYNCHRONOUS, 1, 0),
	LX("dirsync", K_SUPERBLOCK, MS_DIRSYNC, 0, 0),
	LX("remount", K_OPERATION, MS_REMOUNT, 0, 0),
	LX("bind", K_OPERATION, MS_BIND, 0, 0),
	LX("rbind", K_OPERATION, MS_BIND | MS_REC, 0, 0),
	LX("silent", K_IGNORED, MS_SILENT, 0, 0),
	LX("loud", K_IGNORED, MS_SILENT, 1, 0),
	LX("mand", K_SUPERBLOCK, MS_MANDLOCK, 0, 0),
	LX("nomand", K_SUPERBLOCK, MS_MANDLOCK, 1, 0),
	LX("atime", K_VFS, MS_NOATIME, 1, ATTR_NOATIME),
	LX("noatime", K_VFS, MS_NOATIME, 0, ATTR_NOATIME),
	LX("iversion", K_IGNORED, MS_I_VERSION, 0, 0),
	LX("noiversion", K_IGNORED, MS_I_VERSION, 1, 0),
	LX("diratime", K_VFS, MS_NODIRATIME, 1, ATTR_NODIRATIME),
	LX("nodiratime", K_VFS, MS_NODIRATIME, 0, ATTR_NODIRATIME),
	LX("relatime", K_VFS, MS_RELATIME, 0, ATTR_RELATIME),
	LX("norelatime", K_VFS, MS_RELATIME, 1, ATTR_RELATIME),
	LX("strictatime", K_VFS, MS_STRICTATIME, 0, ATTR_STRICTATIME),
	LX("nostrictatime", K_VFS, MS_STRICTATIME, 1, ATTR_STRICTATIME),
	LX("lazytime", K_SUPERBLOCK, MS_LAZYTIME, 0, 0),
	LX("nolazytime", K_SUPERBLOCK, MS_LAZYTIME, 1, 0),
	LX("unbindable", K_PROPAGATION, MS_UNBINDABLE, 0, 0),
	LX("runbindable", K_PROPAGATION, MS_UNBINDABLE | MS_REC, 0, 0),
	LX("private", K_PROPAGATION, MS_PRIVATE, 0, 0),
	LX("rprivate", K_PROPAGATION, MS_PRIVATE | MS_REC, 0, 0),
	LX("slave", K_PROPAGATION, MS_SLAVE, 0, 0),
	LX("rslave", K_PROPAGATION, MS_SLAVE | MS_REC, 0, 0),
	LX("shared", K_PROPAGATION, MS_SHARED, 0, 0),
	LX("rshared", K_PROPAGATION, MS_SHARED | MS_REC, 0, 0),
	LX("symfollow", K_VFS, MS_NOSYMFOLLOW, 1, ATTR_NOSYMFOLLOW),
	LX("nosymfollow", K_VFS, MS_NOSYMFOLLOW, 0, ATTR_NOSYMFOLLOW),
	LX("move", K_OPERATION, MS_MOVE, 0, 0),
};

/* optmap.c userspace_opts_map; ids only pair an option with its inverse. */
static const struct entry userspace_map[] = {
	US("defaults", K_IGNORED, 0, 0, 0),
	US("auto", K_IGNORED, 1, 1, 0),
	US("noauto", K_IGNORED, 1, 0, 0),
	US("user[=]", K_USERSPACE_ACTION, 2, 0, 0),
	US("nouser", K_IGNORED, 2, 1, 0),
	US("users", K_USERSPACE_ACTION, 3, 0, 0),
	US("nousers", K_IGNORED, 3, 1, 0),
	US("owner", K_USERSPACE_ACTION, 4, 0, 0),
	US("noowner", K_IGNORED, 4, 1, 0),
	US("group", K_USERSPACE_ACTION, 5, 0, 0),
	US("nogroup", K_IGNORED, 5, 1, 0),
	US("_netdev", K_IGNORED, 6, 0, 0),
	US("comment=", K_IGNORED, 7, 0, 0),
	US("x-", K_IGNORED, 8, 0, 1),
	US("X-", K_IGNORED, 9, 0, 1),
	US("loop[=]", K_USERSPACE_ACTION, 10, 0, 0),
	US("offset=", K_USERSPACE_ACTION, 11, 0, 0),
	US("sizelimit=", K_USERSPACE_ACTION, 12, 0, 0),
	US("encryption=", K_USERSPACE_ACTION, 13, 0, 0),
	US("nofail", K_IGNORED, 14, 0, 0),
	US("uhelper=", K_IGNORED, 15, 0, 0),
	US("helper=", K_USERSPACE_ACTION, 16, 0, 0),
	US("verity.hashdevice=", K_USERSPACE_ACTION, 17, 0, 0),
	US("verity.roothash=", K_USERSPACE_ACTION, 18, 0, 0),
	US("verity.hashoffset=", K_USERSPACE_ACTION, 19, 0, 0),
	US("verity.roothashfile=", K_USERSPACE_ACTION, 20, 0, 0),
	US("verity.fecdevice=", K_USERSPACE_ACTION, 21, 0, 0),
	US("verity.fecoffset=", K_USERSPACE_ACTION, 22, 0, 0),
	US("verity.fecroots=", K_USERSPACE_ACTION, 23, 0, 0),
	US("verity.roothashsig=", K_USERSPACE_ACTION, 24, 0, 0),
	US("verity.oncorruption=", K_USERSPACE_ACTION, 25, 0, 0),
};

/* mnt_optmap_get_entry: the Linux map first, then the userspace map. */
static const struct entry *lookup(const char *name) {
	const struct entry *maps[] = {linux_map, userspace_map};
	const size_t sizes[] = {COUNT(linux_map), COUNT(userspace_map)};
	size_t len = strlen(name);
	for (int m = 0; m < 2; m++)
		for (size_t i = 0; i < sizes[m]; i++) {
			const struct entry *e = &maps[m][i];
			if (e->prefix) {
				if (!strncmp(name, e->pattern, strlen(e->pattern)))
					return e;
				continue;
			}
			if (len && !strncmp(e->pattern, name, len)) {
				char next = e->pattern[len];
				if (!next || next == '=' || next == '[')
					return e;
			}
		}
	return NULL;
}

static enum kind kind_of(const char *name, const struct entry *e) {
	if (!e)
		return K_FILESYSTEM;
	if (e->prefix && (!strncmp(name, "x-mount.", 8) || !strncmp(name, "X-mount.", 8)))
		return K_USERSPACE_ACTION;
	return e->kind;
}

int classify_options(int argc, char **argv) {
	for (int i = 0; i < argc; i++) {
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)strcspn(argv[i], "="), argv[i]);
		printf("%s %s\n", argv[i], kind_names[kind_of(name, lookup(name))]);
	}
	return 0;
}

/* ---- an option list ----------------------------------------------------- */

struct opt {
	char *name, *value; /* value NULL: no '='; "" for `name=` */
	const struct entry *e;
	int removed;
};

struct opts {
	struct opt *v;
	int n, cap;
};

static void opts_push(struct opts *l, const char *name, const char *value) {
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->v = realloc(l->v, sizeof *l->v * (size_t)l->cap);
		if (!l->v) {
			fprintf(stderr, "mountlab-helper: out of memory\n");
			_exit(1);
		}
	}
	struct opt *o = &l->v[l->n++];
	*o = (struct opt){.name = strdup(name), .value = value ? strdup(value) : NULL};
	o->e = lookup(o->name);
}

/* One item, NAME or NAME=VALUE. */
static void opts_add(struct opts *l, const char *item, size_t len) {
	if (!len)
		return;
	char *s = strndup(item, len), *eq = strchr(s, '=');
	if (eq)
		*eq = 0;
	opts_push(l, s, eq ? eq + 1 : NULL);
	free(s);
}

/* Appends the items of a comma list (empty items skipped, as ul_optstr_next does). */
static void opts_add_list(struct opts *l, const char *list) {
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		opts_add(l, p, n);
		p += n + (p[n] == ',');
	}
}

static int same_value(const char *a, const char *b) {
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* optlist.c mnt_optlist_merge_opts. */
static void opts_merge(struct opts *l) {
	for (int i = l->n - 1; i >= 0; i--) {
		struct opt *a = &l->v[i];
		if (a->removed)
			continue;
		for (int j = 0; j < i; j++) {
			struct opt *b = &l->v[j];
			if (b->removed)
				continue;
			int amap = a->e ? a->e->linux_map : -1, bmap = b->e ? b->e->linux_map : -1;
			if (amap != bmap)
				continue;
			if (a->e && b->e && a->e != b->e)
				b->removed = a->e->id == b->e->id && (a->e->invert || b->e->invert);
			else
				b->removed = !strcmp(a->name, b->name) && same_value(a->value, b->value);
		}
	}
}

static int is_linux(const struct opt *o, enum kind k) {
	return !o->removed && o->e && o->e->linux_map && o->e->kind == k;
}

/* ---- where mount(8) finds the options it prepends ----------------------- */

/* Decodes mountinfo's and fstab's \ooo escapes in place. */
static void unmangle(char *s) {
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

/* libmount's streq_paths: equal, ignoring trailing slashes. */
static int same_path(const char *a, const char *b) {
	size_t la = strlen(a), lb = strlen(b);
	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	return la == lb && !strncmp(a, b, la);
}

/* The options of the first /etc/fstab entry for PATH (tab.c
 * mnt_table_find_target: the path as given, then canonicalized); NULL
 * when none. */
static char *fstab_options(const char *path) {
	size_t len;
	char *text = read_all("/etc/fstab", &len);
	if (!text)
		return NULL;
	char cpath[PATH_MAX], ctarget[PATH_MAX], *found = NULL;
	const char *cn = canonical(path, cpath);
	for (int pass = 0; pass < 3 && !found; pass++) {
		char *copy = strdup(text);
		char *save = NULL;
		for (char *line = strtok_r(copy, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
			char *f[4] = {0}, *s2 = NULL;
			int n = 0;
			line += strspn(line, " \t");
			if (*line == '#' || !*line)
				continue;
			for (char *t = strtok_r(line, " \t", &s2); t && n < 4; t = strtok_r(NULL, " \t", &s2))
				f[n++] = t;
			if (n < 2)
				continue;
			unmangle(f[1]);
			int match = pass == 0 ? same_path(f[1], path)
				  : pass == 1 ? !strcmp(f[1], cn)
				  : (f[1][0] == '/' && f[1][1] && !strcmp(canonical(f[1], ctarget), cn));
			if (match)
				found = strdup(n >= 4 ? (unmangle(f[3]), f[3]) : "");
		}
		free(copy);
	}
	free(text);
	return found;
}

/* fs.c merge_optstr: "ro" first when either list says ro, else "rw". */
static void merge_vfs_fs(struct opts *l, const char *vfs, const char *fs) {
	struct opts tmp = {0};
	opts_add_list(&tmp, vfs);
	opts_add_list(&tmp, fs);
	int rw = 0, ro = 0;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < tmp.n; i++)
			if (!tmp.v[i].removed && !strcmp(tmp.v[i].name, "rw") && !tmp.v[i].value) {
				tmp.v[i].removed = 1, rw++;
				break;
			}
	if (rw != 2)
		for (int pass = 0; pass < 2 && ro + rw < 2; pass++)
			for (int i = 0; i < tmp.n; i++)
				if (!tmp.v[i].removed && !strcmp(tmp.v[i].name, "ro") && !tmp.v[i].value) {
					tmp.v[i].removed = 1, ro++;
					break;
				}
	opts_push(l, ro ? "ro" : "rw", NULL);
	for (int i = 0; i < tmp.n; i++)
		if (!tmp.v[i].removed)
			opts_push(l, tmp.v[i].name, tmp.v[i].value);
}

/* The options of the last mountinfo line for PATH, merged; 0 when none. */
static int mountinfo_options(const char *path, struct opts *l) {
	size_t len;
	char *mi = read_all("/proc/self/mountinfo", &len), cpath[PATH_MAX];
	if (!mi)
		return 0;
	const char *cn = canonical(path, cpath);
	char *vfs = NULL, *fs = NULL;
	for (int pass = 0; pass < 2 && !vfs; pass++) {
		for (char *line = mi; *line;) {
			char *nl = strchr(line, '\n');
			size_t ll = nl ? (size_t)(nl - line) : strlen(line);
			char *copy = strndup(line, ll), *f[6], *save = NULL;
			int n = 0;
			/* The first six fields, leaving `save` at the optional ones. */
			for (char *t = strtok_r(copy, " ", &save); t; t = n < 6 ? strtok_r(NULL, " ", &save) : NULL)
				f[n++] = t;
			char *sep = save ? strstr(save, "- ") : NULL;
			if (n == 6 && sep) {
				char *s3 = NULL, *fstype = strtok_r(sep + 2, " ", &s3), *src = strtok_r(NULL, " ", &s3);
				char *sup = strtok_r(NULL, " ", &s3);
				unmangle(f[4]);
				if (fstype && src && (pass == 0 ? same_path(f[4], path) : !strcmp(f[4], cn))) {
					free(vfs), free(fs);
					vfs = strdup(f[5]);
					fs = strdup(sup ? sup : "");
				}
			}
			free(copy);
			line += ll + (nl ? 1 : 0);
		}
	}
	free(mi);
	if (!vfs)
		return 0;
	merge_vfs_fs(l, vfs, fs);
	return 1;
}

/* ---- the remount -------------------------------------------------------- */

const char *canonical(const char *path, char *buf) {
	char *r = realpath(path, buf);
	return r ? r : path;
}

const char *printable(const char *s, char *buf, size_t size) {
	size_t o = 0;
	for (; *s && o + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\%03o", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = 0;
	return buf;
}

int fail_errno(struct failure *f, const char *what, const char *path) {
	int e = errno;
	char p[512];
	f->rc = 1;
	snprintf(f->why, sizeof f->why, "%s", errno_name(e));
	snprintf(f->msg, sizeof f->msg, "%s %s: %s", what, path ? printable(path, p, sizeof p) : "", strerror(e));
	errno = e;
	return -1;
}

/* What the kernel said about a failed fsconfig (the fs_context log), appended to F's message. */
static void fs_log(int fd, struct failure *f) {
	char buf[512];
	ssize_t r;
	while ((r = read(fd, buf, sizeof buf - 1)) > 0) {
		buf[r] = 0;
		buf[strcspn(buf, "\n")] = 0;
		size_t n = strlen(f->msg);
		snprintf(f->msg + n, sizeof f->msg - n, " (%s)", buf);
	}
}

static int fsconfig_(int fd, unsigned cmd, const char *key, const char *value) {
	return (int)syscall(SYS_fsconfig, fd, cmd, key, value, 0);
}

/* hook_mount.c configure_superblock(force_rwro = 1) + FSCONFIG_CMD_RECONFIGURE. */
static int reconfigure(int tree, const char *path, struct opts *l, struct failure *f) {
	int fs = (int)syscall(SYS_fspick, tree, "", ML_FSPICK_EMPTY_PATH | ML_FSPICK_NO_AUTOMOUNT | ML_FSPICK_CLOEXEC);
	if (fs < 0)
		return fail_errno(f, "fspick", path);
	int has_rwro = 0, rc = 0;
	for (int i = 0; i < l->n && !rc; i++) {
		struct opt *o = &l->v[i];
		if (o->removed)
			continue;
		if (o->e && o->e->linux_map && o->e->id == MS_RDONLY) {
			has_rwro = 1;
			rc = fsconfig_(fs, ML_FSCONFIG_SET_FLAG, o->name, NULL);
		} else if (!o->e || (o->e->linux_map && o->e->kind == K_SUPERBLOCK)) {
			/* `name=` is an empty string, a bare name a flag. */
			rc = o->value ? fsconfig_(fs, ML_FSCONFIG_SET_STRING, o->name, o->value)
				      : fsconfig_(fs, ML_FSCONFIG_SET_FLAG, o->name, NULL);
		}
		if (rc) {
			char what[300];
			snprintf(what, sizeof what, "fsconfig %s on", o->name);
			fail_errno(f, what, path);
		}
	}
	if (!rc && !has_rwro && (rc = fsconfig_(fs, ML_FSCONFIG_SET_FLAG, "rw", NULL)))
		fail_errno(f, "fsconfig rw on", path);
	if (!rc && (rc = fsconfig_(fs, ML_FSCONFIG_CMD_RECONFIGURE, NULL, NULL)))
		fail_errno(f, "reconfigure", path);
	if (rc)
		fs_log(fs, f);
	close(fs);
	return rc ? -1 : 0;
}

/* optlist.c mnt_optlist_get_attrs(MNT_OL_NOREC). */
static void attrs(struct opts *l, int reset, uint64_t *set, uint64_t *clr) {
	uint64_t remount_reset = reset ? ATTR_RDONLY | ATTR_NOSUID | ATTR_NODEV | ATTR_NOEXEC | ATTR_NOSYMFOLLOW : 0;
	uint64_t atime = 0;
	*set = *clr = 0;
	for (int i = 0; i < l->n; i++) {
		struct opt *o = &l->v[i];
		if (!is_linux(o, K_VFS))
			continue;
		uint64_t x = o->e->attr;
		int is_atime = o->e->id == MS_RELATIME || o->e->id == MS_NOATIME || o->e->id == MS_STRICTATIME;
		if (x)
			remount_reset &= ~x;
		if (is_atime) {
			*clr |= ATTR_ATIME;
			if (!o->e->invert)
				atime = x;
		} else if (o->e->invert) {
			*clr |= x;
		} else {
			*set |= x;
		}
	}
	*set |= atime;
	*clr |= remount_reset;
}

int remount(const char *path, int super, char **user, int nuser, struct failure *f) {
	struct opts cmd = {0}, l = {0};
	opts_add_list(&cmd, super ? "remount" : "remount,bind");
	for (int i = 0; i < nuser; i++)
		opts_add(&cmd, user[i], strlen(user[i]));
	int cmdbind = 0;
	for (int i = 0; i < cmd.n; i++)
		cmdbind |= cmd.v[i].e && cmd.v[i].e->linux_map && (cmd.v[i].e->id & MS_BIND);
	char *fstab = fstab_options(path);
	if (fstab) {
		opts_add_list(&l, fstab);
		free(fstab);
		if (!cmdbind)
			for (int i = 0; i < l.n; i++)
				if (!strcmp(l.v[i].name, "bind")) {
					l.v[i].removed = 1;
					break;
				}
	} else {
		mountinfo_options(path, &l);
	}
	for (int i = 0; i < cmd.n; i++)
		opts_push(&l, cmd.v[i].name, cmd.v[i].value);
	opts_merge(&l);
	int bind = 0;
	for (int i = 0; i < l.n; i++)
		bind |= is_linux(&l.v[i], K_OPERATION) && (l.v[i].e->id & MS_BIND);

	char cbuf[PATH_MAX];
	const char *target = canonical(path, cbuf);
	int tree = (int)syscall(SYS_open_tree, AT_FDCWD, target, ML_OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return fail_errno(f, "open_tree", target);
	int rc = 0;
	if (!bind)
		rc = reconfigure(tree, target, &l, f);
	uint64_t set, clr;
	attrs(&l, !bind, &set, &clr);
	if (!rc && (set || clr)) {
		struct ml_mount_attr a = {.attr_set = set, .attr_clr = clr};
		if ((rc = (int)syscall(SYS_mount_setattr, tree, "", ML_AT_EMPTY_PATH, &a, sizeof a)))
			fail_errno(f, "mount_setattr", target);
	}
	for (int i = 0; i < l.n && !rc; i++) {
		if (!is_linux(&l.v[i], K_PROPAGATION))
			continue;
		unsigned long id = l.v[i].e->id;
		struct ml_mount_attr a = {.propagation = id & (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)};
		unsigned flags = ML_AT_EMPTY_PATH | ((id & MS_REC) ? ML_AT_RECURSIVE : 0);
		if ((rc = (int)syscall(SYS_mount_setattr, tree, "", flags, &a, sizeof a)))
			fail_errno(f, "mount_setattr propagation", target);
	}
	close(tree);
	return rc ? -1 : 0;
}
