// SPDX-License-Identifier: GPL-2.0
/*
 * hvxstat: show the hvx module's VMs, their vCPUs' counters and its events.
 *
 *   hvxstat [--watch [SECONDS]] [--count N] [--json] [VMID]
 *   hvxstat --events [--count N] [--json]
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hvxstat.h"

struct options {
	bool watch;
	bool events;
	bool json;
	bool has_vm;
	double interval;	/* seconds between refreshes */
	unsigned long count;	/* refreshes or events before exiting; 0: no limit */
	uint32_t vm_id;
};

static const char usage_line[] =
	"usage: hvxstat [--watch [SECONDS]] [--count N] [--json] [VMID]\n"
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
	      "  -c, --count N        stop after N refreshes, or after N events\n"
	      "  -e, --events         print the module's events as they happen\n"
	      "  -j, --json           JSON: one object per view, refresh or event\n"
	      "  -h, --help           this text\n"
	      "\n"
	      "Exit status: 0 done, 1 no hvx module, no such VM or netlink error,\n"
	      "2 bad usage.  See Documentation/netlink.rst.\n", stdout);
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

static int parse_options(int argc, char **argv, struct options *o)
{
	bool has_count = false, no_more_options = false;
	unsigned long id;
	const char *eq, *val;
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
		} else if (is_opt(arg, "-w", "--watch", &eq)) {
			o->watch = true;
			val = option_value(argc, argv, &i, eq, true);
			if (val && !parse_seconds(val, &o->interval))
				return usage_error("--watch: '%s' is not a number of seconds", val);
		} else if (is_opt(arg, "-c", "--count", &eq)) {
			val = option_value(argc, argv, &i, eq, false);
			if (!val)
				return usage_error("%s needs a number", arg);
			if (!parse_ulong(val, ULONG_MAX, &o->count) || !o->count)
				return usage_error("--count: '%s' is not a positive number", val);
			has_count = true;
		} else if (is_opt(arg, "-e", "--events", &eq) && !eq) {
			o->events = true;
		} else if (is_opt(arg, "-j", "--json", &eq) && !eq) {
			o->json = true;
		} else {
			return usage_error("unknown option '%s'", arg);
		}
	}
	if (o->events && (o->watch || o->has_vm))
		return usage_error("%s", "--events takes neither --watch nor a VMID");
	if (has_count && !o->watch && !o->events)
		return usage_error("%s", "--count needs --watch or --events");
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

static int run_list(struct query *q, const struct options *o, const struct view *v)
{
	struct vm_list prev, cur;
	struct ticker t;
	double dt;

	ticker__start(&t, o);
	if (query__vms(q, &prev))
		return report(q, o, "HVX_CMD_GET_VM");
	if (!o->watch) {
		show__vm_list(v, &prev, NULL, 0);
		vm_list__free(&prev);
		return 0;
	}
	while (!ticker__done(&t, o)) {
		dt = ticker__wait(&t);
		if (query__vms(q, &cur)) {
			vm_list__free(&prev);
			return report(q, o, "HVX_CMD_GET_VM");
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
	if (o.events)
		ret = run_events(&q, &o, &v);
	else if (o.has_vm)
		ret = run_vm(&q, &o, &v);
	else
		ret = run_list(&q, &o, &v);
	query__close(&q);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "hvxstat: writing to stdout: %s\n", strerror(errno));
		ret = HVXSTAT_EXIT_ERROR;
	}
	return ret;
}
