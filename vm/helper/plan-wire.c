/*
 * The program's wire format (written by src/plan/wire.ts, whose comment is
 * the reference): line records of space-separated arguments, every byte
 * outside 0x21-0x7e, backslash and double quote escaped as \ooo, the empty
 * string written "". Parsing is strict: an unknown record or op, a wrong
 * number of arguments, a malformed number or escape, or a missing `end`
 * refuses the whole plan before anything runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"

#define WIRE_MAGIC "mountlab-plan"
#define WIRE_VERSION 1

/* The arguments of each op: s string, d decimal, x hex, o octal, b bool,
 * r the remaining ones (strings). Must match OP_FIELDS in wire.ts. */
static const struct {
	const char *name;
	const char *spec;
} ops[OP__COUNT] = {
	[OP_MKDIR] = {"mkdir", "s"},
	[OP_WRITE] = {"write", "ss"},
	[OP_SYMLINK] = {"symlink", "ss"},
	[OP_LINK] = {"link", "ss"},
	[OP_RENAME] = {"rename", "ss"},
	[OP_MKFIFO] = {"mkfifo", "s"},
	[OP_UNLINK] = {"unlink", "s"},
	[OP_RMDIR] = {"rmdir", "s"},
	[OP_CHDIR] = {"chdir", "s"},
	[OP_MOUNT] = {"mount", "sssxs"},
	[OP_BIND] = {"bind", "ssbxx"},
	[OP_MOVE] = {"move", "ss"},
	[OP_PROPAGATION] = {"propagation", "ssb"},
	[OP_REMOUNT] = {"remount", "sbr"},
	[OP_UMOUNT] = {"umount", "sb"},
	[OP_SET_GROUP] = {"set-group", "ss"},
	[OP_OPEN_TREE] = {"open-tree", "ssb"},
	[OP_CREATE_IMAGE] = {"create-image", "sd"},
	[OP_LOOP_MOUNT] = {"loop-mount", "sssxs"},
	[OP_EXEC] = {"exec", "sr"},
	[OP_SPAWN] = {"spawn", "ds"},
	[OP_SIGNAL] = {"signal", "s"},
	[OP_WAIT] = {"wait", "s"},
	[OP_UNSHARE] = {"unshare", "r"},
	[OP_OPEN] = {"open", "sdodr"},
	[OP_CLOSE] = {"close", "d"},
	[OP_CHROOT] = {"chroot", "s"},
	[OP_PIVOT_ROOT] = {"pivot-root", "ss"},
	[OP_SOCKET] = {"socket", "dssbs"},
	[OP_MKNOD] = {"mknod", "ssodd"},
	[OP_MMAP] = {"mmap", "sdddbb"},
	[OP_TRUNCATE] = {"truncate", "sdd"},
	[OP_PWRITE] = {"pwrite", "sdds"},
	[OP_ACCESS] = {"access", "sb"},
	[OP_UNSHARE_USER] = {"unshare-user", "sssr"},
};

const char *op_name(enum op_kind k) {
	return k < OP__COUNT ? ops[k].name : "?";
}

char *read_all(const char *path, size_t *len) {
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	if (fd < 0)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (!buf)
			return NULL;
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
	}
	if (fd != 0)
		close(fd);
	buf[n] = 0;
	*len = n;
	return buf;
}

static int bad(char *err, size_t errsz, int line, const char *fmt, ...) {
	va_list ap;
	int n = snprintf(err, errsz, "line %d: ", line);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errsz)
		vsnprintf(err + n, errsz - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Decodes TOKEN in place. 0, or -1 when it is not a valid escaped argument. */
static int decode(char *token, struct arg *a) {
	a->s = token;
	a->num = 0;
	if (!strcmp(token, "\"\"")) {
		token[0] = 0;
		a->len = 0;
		return 0;
	}
	char *o = token;
	for (char *p = token; *p;) {
		unsigned char c = (unsigned char)*p;
		if (c == '\\') {
			if (p[1] < '0' || p[1] > '3' || p[2] < '0' || p[2] > '7' || p[3] < '0' || p[3] > '7')
				return -1;
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 4;
		} else {
			if (c < 0x21 || c > 0x7e || c == '"')
				return -1;
			*o++ = *p++;
		}
	}
	a->len = (size_t)(o - token);
	*o = 0;
	return 0;
}

/* Strict numbers, as wire.ts writes them. */
static int number(const char *t, char type, unsigned long long *out) {
	const char *digits = t;
	int base = 10;
	if (type == 'x') {
		if (strncmp(t, "0x", 2) || !t[2])
			return -1;
		digits = t + 2, base = 16;
		for (const char *p = digits; *p; p++)
			if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
				return -1;
	} else if (type == 'o') {
		if (t[0] != '0')
			return -1;
		base = 8;
		for (const char *p = t; *p; p++)
			if (*p < '0' || *p > '7')
				return -1;
	} else if (type == 'b') {
		if (strcmp(t, "0") && strcmp(t, "1"))
			return -1;
	} else {
		if (!*t || (t[0] == '0' && t[1]))
			return -1;
		for (const char *p = t; *p; p++)
			if (*p < '0' || *p > '9')
				return -1;
	}
	errno = 0;
	*out = strtoull(digits, NULL, base);
	return errno ? -1 : 0;
}

/* Splits LINE at single spaces into decoded arguments. */
static int split(char *line, struct arg **out, int *count) {
	int cap = 8, n = 0;
	struct arg *v = malloc(sizeof *v * (size_t)cap);
	for (char *p = line;;) {
		char *sp = strchr(p, ' ');
		if (sp)
			*sp = 0;
		if (!*p || !v)
			return free(v), -1;
		if (n == cap)
			v = realloc(v, sizeof *v * (size_t)(cap *= 2));
		if (!v || decode(p, &v[n++]) < 0)
			return free(v), -1;
		if (!sp)
			break;
		p = sp + 1;
	}
	*out = v;
	*count = n;
	return 0;
}

static int parse_op(struct arg *a, int n, struct op *op, char *err, size_t errsz, int line) {
	int k;
	for (k = 0; k < OP__COUNT && strcmp(a[0].s, ops[k].name); k++)
		;
	if (k == OP__COUNT)
		return bad(err, errsz, line, "unknown op '%s'", a[0].s);
	const char *spec = ops[k].spec;
	size_t fixed = strcspn(spec, "r");
	int rest = spec[fixed] == 'r';
	if ((size_t)(n - 1) < fixed || (!rest && (size_t)(n - 1) != fixed))
		return bad(err, errsz, line, "op %s takes %s%zu argument(s), not %d", ops[k].name,
			   rest ? "at least " : "", fixed, n - 1);
	for (size_t i = 0; i < fixed; i++)
		if (spec[i] != 's' && number(a[i + 1].s, spec[i], &a[i + 1].num) < 0)
			return bad(err, errsz, line, "op %s: argument %zu is not a number of its kind", ops[k].name,
				   i + 1);
	op->kind = (enum op_kind)k;
	op->argc = n - 1;
	op->argv = a + 1;
	return 0;
}

#define GROW(arr, count) ((arr) = realloc((arr), sizeof *(arr) * (size_t)((count) + 1)))

int plan_parse(char *text, size_t len, struct plan *p, char *err, size_t errsz) {
	memset(p, 0, sizeof *p);
	if (len == 0 || text[len - 1] != '\n')
		return bad(err, errsz, 1, "the plan does not end with a newline");
	if (memchr(text, 0, len))
		return bad(err, errsz, 1, "a NUL byte in the plan");
	struct step *step = NULL;
	int line = 0, ended = 0;
	for (char *l = text, *nl; (nl = memchr(l, '\n', (size_t)(text + len - l))); l = nl + 1) {
		*nl = 0;
		line++;
		if (ended)
			return bad(err, errsz, line, "a record after end");
		struct arg *a;
		int n;
		if (split(l, &a, &n) < 0)
			return bad(err, errsz, line, "not a record of escaped arguments");
		const char *kind = a[0].s;
		if (line == 1) {
			unsigned long long v;
			if (strcmp(kind, WIRE_MAGIC) || n != 2 || number(a[1].s, 'd', &v) < 0)
				return bad(err, errsz, line, "not a mountlab plan");
			if (v != WIRE_VERSION)
				return bad(err, errsz, line, "plan version %llu; this helper reads version %d", v,
					   WIRE_VERSION);
		} else if (!strcmp(kind, "scenario") && n == 2) {
			p->scenario = a[1];
		} else if (!strcmp(kind, "sync-dir") && n == 2) {
			p->sync_dir = a[1];
		} else if (!strcmp(kind, "init-user") && n == 4) {
			if (p->ntasks)
				return bad(err, errsz, line, "init-user after a task");
			p->init_user = 1;
			p->init_maps = (struct userns_maps){.setgroups = a[1], .uid_map = a[2], .gid_map = a[3]};
		} else if (!strcmp(kind, "task") && n == 2) {
			if (!GROW(p->tasks, p->ntasks))
				return bad(err, errsz, line, "out of memory");
			p->tasks[p->ntasks++] = (struct task){.name = a[1]};
			step = NULL;
		} else if ((!strcmp(kind, "step") || !strcmp(kind, "outside")) && n == 3) {
			unsigned long long num;
			if (number(a[1].s, 'd', &num) < 0 || num == 0)
				return bad(err, errsz, line, "bad step number '%s'", a[1].s);
			int outside = kind[0] == 'o';
			if (!outside && !p->ntasks)
				return bad(err, errsz, line, "a step before any task");
			struct task *t = &p->tasks[p->ntasks - 1];
			struct step **arr = outside ? &p->outside : &t->steps;
			int *count = outside ? &p->noutside : &t->nsteps;
			if (!GROW(*arr, *count))
				return bad(err, errsz, line, "out of memory");
			step = &(*arr)[(*count)++];
			*step = (struct step){.n = (long)num, .label = a[2]};
		} else if (!strcmp(kind, "op") && n >= 2) {
			if (!step)
				return bad(err, errsz, line, "an op outside a step");
			if (!GROW(step->ops, step->nops))
				return bad(err, errsz, line, "out of memory");
			if (parse_op(a + 1, n - 1, &step->ops[step->nops], err, errsz, line) < 0)
				return -1;
			step->nops++;
		} else if (!strcmp(kind, "end") && n == 1) {
			ended = 1;
		} else {
			return bad(err, errsz, line, "unknown record '%s' with %d argument(s)", kind, n - 1);
		}
	}
	if (!ended)
		return bad(err, errsz, line, "no end record: the plan is cut short");
	if (!p->sync_dir.s || !p->scenario.s || !p->ntasks || strcmp(p->tasks[0].name.s, "init"))
		return bad(err, errsz, line, "the plan lacks its scenario, sync-dir or init task");
	for (int t = 0; t < p->ntasks; t++)
		for (int s = 0; s < p->tasks[t].nsteps; s++)
			for (int o = 0; o < p->tasks[t].steps[s].nops; o++) {
				struct op *op = &p->tasks[t].steps[s].ops[o];
				if (op->kind != OP_SPAWN)
					continue;
				unsigned long long task = op->argv[0].num;
				if (task == 0 || task >= (unsigned long long)p->ntasks)
					return bad(err, errsz, line, "spawn of task %llu, which the plan lacks", task);
			}
	return 0;
}

/* ---- writing it back (plan-echo) ---------------------------------------- */

struct out {
	int fd;
	char buf[1 << 16];
	size_t n;
};

static void flush(struct out *o) {
	for (size_t off = 0; off < o->n;) {
		ssize_t w = write(o->fd, o->buf + off, o->n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	o->n = 0;
}

static void put(struct out *o, const char *s, size_t len) {
	while (len) {
		if (o->n == sizeof o->buf)
			flush(o);
		size_t take = sizeof o->buf - o->n < len ? sizeof o->buf - o->n : len;
		memcpy(o->buf + o->n, s, take);
		o->n += take, s += take, len -= take;
	}
}

static void puts_(struct out *o, const char *s) {
	put(o, s, strlen(s));
}

static void put_arg(struct out *o, const struct arg *a) {
	if (a->len == 0) {
		puts_(o, "\"\"");
		return;
	}
	for (size_t i = 0; i < a->len; i++) {
		unsigned char c = (unsigned char)a->s[i];
		char esc[5];
		if (c >= 0x21 && c <= 0x7e && c != '\\' && c != '"')
			put(o, (const char *)&c, 1);
		else
			snprintf(esc, sizeof esc, "\\%03o", c), put(o, esc, 4);
	}
}

static void put_step(struct out *o, const char *kind, const struct step *s) {
	char num[32];
	snprintf(num, sizeof num, "%s %ld ", kind, s->n);
	puts_(o, num);
	put_arg(o, &s->label);
	puts_(o, "\n");
	for (int i = 0; i < s->nops; i++) {
		const struct op *op = &s->ops[i];
		const char *spec = ops[op->kind].spec;
		puts_(o, "op ");
		puts_(o, ops[op->kind].name);
		for (int a = 0; a < op->argc; a++) {
			char type = spec[strcspn(spec, "r")] == 'r' && (size_t)a >= strcspn(spec, "r") ? 's' : spec[a];
			puts_(o, " ");
			if (type == 's')
				put_arg(o, &op->argv[a]);
			else {
				const char *fmt = type == 'x' ? "0x%llx" : type == 'o' ? "0%llo" : "%llu";
				snprintf(num, sizeof num, fmt, op->argv[a].num);
				puts_(o, num);
			}
		}
		puts_(o, "\n");
	}
}

void plan_write(int fd, const struct plan *p) {
	static struct out o;
	o.fd = fd, o.n = 0;
	puts_(&o, WIRE_MAGIC " 1\nscenario ");
	put_arg(&o, &p->scenario);
	puts_(&o, "\nsync-dir ");
	put_arg(&o, &p->sync_dir);
	puts_(&o, "\n");
	if (p->init_user) {
		puts_(&o, "init-user ");
		put_arg(&o, &p->init_maps.setgroups);
		puts_(&o, " ");
		put_arg(&o, &p->init_maps.uid_map);
		puts_(&o, " ");
		put_arg(&o, &p->init_maps.gid_map);
		puts_(&o, "\n");
	}
	for (int t = 0; t < p->ntasks; t++) {
		puts_(&o, "task ");
		put_arg(&o, &p->tasks[t].name);
		puts_(&o, "\n");
		for (int s = 0; s < p->tasks[t].nsteps; s++)
			put_step(&o, "step", &p->tasks[t].steps[s]);
	}
	for (int s = 0; s < p->noutside; s++)
		put_step(&o, "outside", &p->outside[s]);
	puts_(&o, "end\n");
	flush(&o);
}
