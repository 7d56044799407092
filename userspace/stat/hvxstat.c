// SPDX-License-Identifier: GPL-2.0
/*
 * hvxstat: show the hvx module's VMs, their vCPUs' counters and its events.
 *
 *   hvxstat [--watch [SECONDS]] [--count N] [--json] [-f REGEX] [-z] [-p PID] [VMID]
 *   hvxstat --log [SECONDS] [--count N] [-f REGEX] [-z] [-p PID] [VMID]
 *   hvxstat --events [--count N] [--json]
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "hvxstat.h"

struct options {
	bool watch;
	bool log;
	bool events;
	bool json;
	bool has_vm;
	bool skip_zero;
	bool has_fields;
	bool has_pid;
	double interval;	/* seconds between refreshes or log lines */
	unsigned long count;	/* refreshes, log lines or events; 0: no limit */
	uint32_t vm_id;
	uint32_t pid;		/* only this process's VMs, with has_pid */
	regex_t fields;		/* with has_fields */
};

static const char usage_line[] =
	"usage: hvxstat [--watch [SECONDS]] [--count N] [--json] [-f REGEX] [-z] [-p PID] [VMID]\n"
	"       hvxstat --log [SECONDS] [--count N] [-f REGEX] [-z] [-p PID] [VMID]\n"
	"       hvxstat --events [--count N] [--json]\n";

static void help(void)
{
	fputs(usage_line, stdout);
	fputs("\n"
	      "Statistics and events of the hvx module's VMs, over its generic netlink\n"
	      "family \"hvx\".  Without CAP_SYS_ADMIN only the VMs of your own uid are shown.\n"
	      "\n"
	      "  (no VMID)            one line per VM: id, creator's pid and uid, vCPUs,\n"
	      "                       memory, pinned memory, paging, vendor, exits\n"
	      "  VMID                 that VM's counters, one column per vCPU, and its\n"
	      "                       vendor exit codes\n"
	      "  -w, --watch [SECS]   refresh every SECS seconds (default 1) with\n"
	      "                       per-second rates, busiest rows first; to watch a\n"
	      "                       VM, give its id after SECS or before --watch\n"
	      "  -l, --log [SECS]     every SECS seconds (default 1), one CSV line: the\n"
	      "                       time and each counter's increase over the interval,\n"
	      "                       summed over the VMs (or VMID's); a header first\n"
	      "  -c, --count N        stop after N refreshes, N log intervals or N events\n"
	      "  -f, --fields REGEX   only the counters (and a VM's exit codes) whose name\n"
	      "                       matches the POSIX extended REGEX, e.g. '^exit_io'\n"
	      "  -z, --skip-zero      omit counters that are zero, or with --watch that\n"
	      "                       did not move; the list omits VMs whose counters\n"
	      "                       shown are all zero, --log the lines all zero\n"
	      "  -p, --pid PID        only the VMs created by process PID\n"
	      "  -e, --events         print the module's events as they happen\n"
	      "  -j, --json           JSON: one object per view, refresh or event\n"
	      "  -V, --version        print hvxstat's version\n"
	      "  -h, --help           this text\n"
	      "\n"
	      "Exit status: 0 done, 1 no hvx module, no such VM or netlink error,\n"
	      "2 bad usage.  See hvxstat(1) and Documentation/netlink.rst.\n", stdout);
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("hvxstat: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	fputs(usage_line, stderr);
	return -1;
}

static bool parse_seconds(const char *s, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(d) || d < 0.01 || d > 86400)
		return false;
	*out = d;
	return true;
}

static bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

/* "--opt=value" or "--opt value": the value, or NULL with *i unchanged. */
static const char *option_value(int argc, char **argv, int *i, const char *eq, bool optional)
{
	if (eq)
		return eq + 1;
	if (*i + 1 >= argc)
		return NULL;
	/* An optional value is taken only if it looks like a number. */
	if (optional && !strchr("0123456789.", argv[*i + 1][0]))
		return NULL;
	return argv[++*i];
}

static bool is_opt(const char *arg, const char *s, const char *l, const char **eq)
{
	size_t n = strlen(l);

	*eq = NULL;
	if (!strcmp(arg, s) || !strcmp(arg, l))
		return true;
	if (!strncmp(arg, l, n) && arg[n] == '=') {
		*eq = arg + n;
		return true;
	}
	return false;
}

static int parse_fields(struct options *o, const char *re)
{
	char msg[256];
	unsigned int i, matched = 0;
	int err;

	err = regcomp(&o->fields, re, REG_EXTENDED | REG_NOSUB);
	if (err) {
		regerror(err, &o->fields, msg, sizeof(msg));
		fprintf(stderr, "hvxstat: --fields: '%s' is not a POSIX extended regex: %s\n",
			re, msg);
		return -1;
	}
	o->has_fields = true;
	for (i = HVX_STAT_EXITS; i <= HVX_STAT_MAX; i++)
		if (!regexec(&o->fields, names__stat(i), 0, NULL, 0))
			matched++;
	/* One VM's view also has its exit codes, which the regex may be for. */
	if (!matched && !o->has_vm) {
		fprintf(stderr, "hvxstat: --fields: '%s' matches no counter; the counters are:",
			re);
		for (i = HVX_STAT_EXITS; i <= HVX_STAT_MAX; i++)
			fprintf(stderr, " %s", names__stat(i));
		fputc('\n', stderr);
		return -1;
	}
	return 0;
}

static int parse_pid(struct options *o, const char *arg)
{
	unsigned long pid;

	if (!parse_ulong(arg, INT_MAX, &pid) || !pid)
		return usage_error("--pid: '%s' is not a process id", arg);
	/* EPERM: it exists, only not ours to signal. */
	if (kill((pid_t)pid, 0) && errno == ESRCH) {
		fprintf(stderr, "hvxstat: --pid: no process %lu\n", pid);
		return -1;
	}
	o->pid = pid;
	o->has_pid = true;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	bool has_count = false, no_more_options = false;
	const char *eq, *val, *fields = NULL, *pid = NULL;
	unsigned long id;
	int i;

	memset(o, 0, sizeof(*o));
	o->interval = 1.0;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (no_more_options || arg[0] != '-' || !arg[1]) {
			if (o->has_vm)
				return usage_error("one VMID only, not also '%s'", arg);
			if (!parse_ulong(arg, UINT32_MAX, &id))
				return usage_error("'%s' is not a VM id", arg);
			o->vm_id = id;
			o->has_vm = true;
		} else if (!strcmp(arg, "--")) {
			no_more_options = true;
		} else if (is_opt(arg, "-h", "--help", &eq) && !eq) {
			help();
			exit(0);
		} else if (is_opt(arg, "-V", "--version", &eq) && !eq) {
			printf("hvxstat %s\n", HVX_VERSION);
			exit(0);
		} else if (is_opt(arg, "-w", "--watch", &eq)) {
			o->watch = true;
			val = option_value(argc, argv, &i, eq, true);
			if (val && !parse_seconds(val, &o->interval))
				return usage_error("--watch: '%s' is not a number of seconds", val);
		} else if (is_opt(arg, "-l", "--log", &eq)) {
			o->log = true;
			val = option_value(argc, argv, &i, eq, true);
			if (val && !parse_seconds(val, &o->interval))
				return usage_error("--log: '%s' is not a number of seconds", val);
		} else if (is_opt(arg, "-c", "--count", &eq)) {
			val = option_value(argc, argv, &i, eq, false);
			if (!val)
				return usage_error("%s needs a number", arg);
			if (!parse_ulong(val, ULONG_MAX, &o->count) || !o->count)
				return usage_error("--count: '%s' is not a positive number", val);
			has_count = true;
		} else if (is_opt(arg, "-f", "--fields", &eq)) {
			fields = option_value(argc, argv, &i, eq, false);
			if (!fields)
				return usage_error("%s needs a regular expression", arg);
		} else if (is_opt(arg, "-z", "--skip-zero", &eq) && !eq) {
			o->skip_zero = true;
		} else if (is_opt(arg, "-p", "--pid", &eq)) {
			pid = option_value(argc, argv, &i, eq, false);
			if (!pid)
				return usage_error("%s needs a process id", arg);
		} else if (is_opt(arg, "-e", "--events", &eq) && !eq) {
			o->events = true;
		} else if (is_opt(arg, "-j", "--json", &eq) && !eq) {
			o->json = true;
		} else {
			return usage_error("unknown option '%s'", arg);
		}
	}
	if (o->events && (o->watch || o->log || o->has_vm))
		return usage_error("%s", "--events takes neither --watch, --log nor a VMID");
	if (o->events && (fields || o->skip_zero || pid))
		return usage_error("%s",
				   "--fields, --skip-zero and --pid do not apply to --events");
	if (o->log && o->watch)
		return usage_error("%s", "--log and --watch exclude each other "
				   "(--log takes the interval itself)");
	if (o->log && o->json)
		return usage_error("%s", "--log prints CSV: it does not take --json");
	if (pid && o->has_vm)
		return usage_error("%s", "--pid selects VMs: give it or a VMID, not both");
	if (has_count && !o->watch && !o->log && !o->events)
		return usage_error("%s", "--count needs --watch, --log or --events");
	if (pid && parse_pid(o, pid))
		return -1;
	if (fields && parse_fields(o, fields))
		return -1;
	return 0;
}

static int report(const struct query *q, const struct options *o, const char *what)
{
	if (q->err == -ENOENT && o->has_vm)
		fprintf(stderr, "hvxstat: no VM %u (gone, or not yours)\n", o->vm_id);
	else if (q->err == -EIO && q->msg[0])	/* libnl's own error: msg says it all */
		fprintf(stderr, "hvxstat: %s: %s\n", what, q->msg);
	else
		fprintf(stderr, "hvxstat: %s: %s%s%s\n", what, strerror(-q->err),
			q->msg[0] ? ": " : "", q->msg);
	return HVXSTAT_EXIT_ERROR;
}

/* Refreshes on a fixed cadence, whatever the time spent printing. */
struct ticker {
	struct timespec next;
	struct timespec last;
	double step;
	bool tty;
	unsigned long n;	/* refreshes shown */
};

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) + (a->tv_nsec - b->tv_nsec) / 1e9;
}

static void ticker__start(struct ticker *t, const struct options *o)
{
	memset(t, 0, sizeof(*t));
	t->step = o->interval;
	t->tty = isatty(STDOUT_FILENO) && !o->json;
	clock_gettime(CLOCK_MONOTONIC, &t->last);
	t->next = t->last;
}

/* Sleeps until the next refresh; returns the seconds since the previous one. */
static double ticker__wait(struct ticker *t)
{
	struct timespec now;
	long long ns = t->next.tv_nsec + (long long)(t->step * 1e9);
	double elapsed;

	t->next.tv_sec += ns / 1000000000;
	t->next.tv_nsec = ns % 1000000000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t->next, NULL) == EINTR)
		;
	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed = ts_diff(&now, &t->last);
	t->last = now;
	return elapsed > 0 ? elapsed : t->step;
}

/* Clears a terminal, or separates refreshes in a pipe by a blank line. */
static void ticker__begin(struct ticker *t, const struct view *v)
{
	if (t->tty)
		fputs("\033[H\033[2J", v->out);
	else if (t->n && !v->json)
		fputc('\n', v->out);
	t->n++;
}

static bool ticker__done(const struct ticker *t, const struct options *o)
{
	return o->count && t->n >= o->count;
}

/* The VMs, or with --pid those of that process. */
static int sample_vms(struct query *q, const struct options *o, struct vm_list *list)
{
	size_t i, n = 0;

	if (query__vms(q, list))
		return report(q, o, "HVX_CMD_GET_VM");
	if (!o->has_pid)
		return 0;
	for (i = 0; i < list->nr; i++)
		if (list->vms[i].pid == o->pid)
			list->vms[n++] = list->vms[i];
	list->nr = n;
	return 0;
}

static int run_list(struct query *q, const struct options *o, const struct view *v)
{
	struct vm_list prev, cur;
	struct ticker t;
	double dt;

	ticker__start(&t, o);
	if (sample_vms(q, o, &prev))
		return HVXSTAT_EXIT_ERROR;
	if (!o->watch) {
		show__vm_list(v, &prev, NULL, 0);
		vm_list__free(&prev);
		return 0;
	}
	while (!ticker__done(&t, o)) {
		dt = ticker__wait(&t);
		if (sample_vms(q, o, &cur)) {
			vm_list__free(&prev);
			return HVXSTAT_EXIT_ERROR;
		}
		ticker__begin(&t, v);
		show__vm_list(v, &cur, &prev, dt);
		fflush(v->out);
		vm_list__free(&prev);
		prev = cur;
	}
	vm_list__free(&prev);
	return 0;
}

static int sample_vm(struct query *q, const struct options *o, struct vm_sample *vm,
		     struct vcpu_list *vcpus)
{
	if (query__vm(q, o->vm_id, vm))
		return report(q, o, "HVX_CMD_GET_VM");
	if (query__vcpus(q, o->vm_id, vcpus))
		return report(q, o, "HVX_CMD_GET_VCPU");
	return 0;
}

static int run_vm(struct query *q, const struct options *o, const struct view *v)
{
	struct vcpu_list prev, cur;
	struct vm_sample vm;
	struct ticker t;
	double dt;

	ticker__start(&t, o);
	if (sample_vm(q, o, &vm, &prev))
		return HVXSTAT_EXIT_ERROR;
	if (!o->watch) {
		show__vm(v, &vm, &prev, NULL, 0);
		vcpu_list__free(&prev);
		return 0;
	}
	while (!ticker__done(&t, o)) {
		dt = ticker__wait(&t);
		if (sample_vm(q, o, &vm, &cur)) {
			vcpu_list__free(&prev);
			return HVXSTAT_EXIT_ERROR;
		}
		ticker__begin(&t, v);
		show__vm(v, &vm, &cur, &prev, dt);
		fflush(v->out);
		vcpu_list__free(&prev);
		prev = cur;
	}
	vcpu_list__free(&prev);
	return 0;
}

/* The log's sample: VMID alone, or the VMs (of --pid). */
static int sample_log(struct query *q, const struct options *o, struct vm_list *list)
{
	if (!o->has_vm)
		return sample_vms(q, o, list);
	memset(list, 0, sizeof(*list));
	list->vms = malloc(sizeof(*list->vms));
	if (!list->vms) {
		fprintf(stderr, "hvxstat: out of memory\n");
		return HVXSTAT_EXIT_ERROR;
	}
	if (query__vm(q, o->vm_id, list->vms)) {
		vm_list__free(list);
		return report(q, o, "HVX_CMD_GET_VM");
	}
	list->nr = 1;
	return 0;
}

static int run_log(struct query *q, const struct options *o, const struct view *v)
{
	struct vm_list prev, cur;
	struct timespec now;
	struct ticker t;

	ticker__start(&t, o);
	if (sample_log(q, o, &prev))
		return HVXSTAT_EXIT_ERROR;
	/* Flushed line by line: a reader at the other end of a pipe sees each at once. */
	show__log_header(v);
	fflush(v->out);
	while (!ticker__done(&t, o)) {
		ticker__wait(&t);
		if (sample_log(q, o, &cur)) {
			vm_list__free(&prev);
			return HVXSTAT_EXIT_ERROR;
		}
		clock_gettime(CLOCK_REALTIME, &now);
		show__log_line(v, &cur, &prev, &now);
		fflush(v->out);
		t.n++;
		vm_list__free(&prev);
		prev = cur;
	}
	vm_list__free(&prev);
	return 0;
}

struct event_printer {
	const struct view *v;
	unsigned long left;	/* events still to print; 0: no limit */
};

static bool print_event(const struct event *ev, void *arg)
{
	struct event_printer *p = arg;

	show__event(p->v, ev);
	return !p->left || --p->left;
}

static int run_events(struct query *q, const struct options *o, const struct view *v)
{
	struct event_printer p = { .v = v, .left = o->count };

	if (query__listen(q, print_event, &p))
		return report(q, o, "joining the \"" HVX_GENL_MCGRP_EVENTS "\" group");
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct query q;
	struct view v;
	int ret;

	if (parse_options(argc, argv, &o))
		return HVXSTAT_EXIT_USAGE;
	if (query__open(&q))
		return HVXSTAT_EXIT_ERROR;
	v.out = stdout;
	v.json = o.json;
	v.fields = o.has_fields ? &o.fields : NULL;
	v.skip_zero = o.skip_zero;
	if (o.events)
		ret = run_events(&q, &o, &v);
	else if (o.log)
		ret = run_log(&q, &o, &v);
	else if (o.has_vm)
		ret = run_vm(&q, &o, &v);
	else
		ret = run_list(&q, &o, &v);
	query__close(&q);
	if (o.has_fields)
		regfree(&o.fields);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "hvxstat: writing to stdout: %s\n", strerror(errno));
		ret = HVXSTAT_EXIT_ERROR;
	}
	return ret;
}
