// SPDX-License-Identifier: GPL-2.0
/*
 * hvxstat: the views, as text tables or as JSON.
 *
 * With a previous sample, each counter also gets a per-second rate and the
 * text tables are sorted by it, highest first; JSON keeps id order.
 *
 * -f keeps the counters and raw exits whose name matches; -z drops those
 * that are zero (without a previous sample) or did not move (with one).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hvxstat.h"

#define MIB		(1024.0 * 1024.0)
#define NAME_W		"-24"	/* counter and raw exit name column */
#define NUM_W		"14"	/* number columns of the per-VM view */

/* One table row and the rate it is sorted by. */
struct row {
	size_t index;
	double rate;
};

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->rate != y->rate)
		return x->rate < y->rate ? 1 : -1;
	return (x->index > y->index) - (x->index < y->index);
}

static double rate(uint64_t cur, uint64_t prev, double interval)
{
	return cur > prev ? (double)(cur - prev) / interval : 0.0;
}

static const struct vm_sample *find_vm(const struct vm_list *list, const struct vm_sample *vm)
{
	size_t i;

	/* The pid too: a VM id may be reused once its VM is gone. */
	for (i = 0; list && i < list->nr; i++)
		if (list->vms[i].id == vm->id && list->vms[i].pid == vm->pid)
			return &list->vms[i];
	return NULL;
}

static const struct vcpu_sample *find_vcpu(const struct vcpu_list *list, uint32_t id)
{
	size_t i;

	for (i = 0; list && i < list->nr; i++)
		if (list->vcpus[i].id == id)
			return &list->vcpus[i];
	return NULL;
}

static uint64_t raw_count(const struct vcpu_sample *vcpu, uint32_t code)
{
	size_t i;

	for (i = 0; vcpu && i < vcpu->nr_raw; i++)
		if (vcpu->raw[i].code == code)
			return vcpu->raw[i].count;
	return 0;
}

static uint64_t page_size(void)
{
	long sz = sysconf(_SC_PAGESIZE);

	return sz > 0 ? (uint64_t)sz : 4096;
}

bool show__name_shown(const struct view *v, const char *name)
{
	return !v->fields || (name && !regexec(v->fields, name, 0, NULL, 0));
}

/* Is a counter or raw exit of this value (or rate) shown under -z? */
static bool value_shown(const struct view *v, uint64_t value, double rate, bool rates)
{
	return !v->skip_zero || (rates ? rate > 0 : value > 0);
}

static bool stat_shown(const struct view *v, unsigned int stat, uint64_t value,
		       double rate, bool rates)
{
	return show__name_shown(v, names__stat(stat)) && value_shown(v, value, rate, rates);
}

/* ---- JSON -------------------------------------------------------------- */

/* "stats" and, with @rates, "rates": the counters the view shows. */
static void json_counters(const struct view *v, const uint64_t *cur, const uint64_t *prev,
			  double interval, bool rates)
{
	static const uint64_t zero[HVX_STAT_MAX + 1];
	bool shown[HVX_STAT_MAX + 1];
	const char *sep = "";
	unsigned int i;

	if (!prev)
		prev = zero;
	for (i = HVX_STAT_EXITS; i <= HVX_STAT_MAX; i++)
		shown[i] = stat_shown(v, i, cur[i], rate(cur[i], prev[i], interval), rates);
	fputs("\"stats\":{", v->out);
	for (i = HVX_STAT_EXITS; i <= HVX_STAT_MAX; i++) {
		if (!shown[i])
			continue;
		fprintf(v->out, "%s\"%s\":%llu", sep, names__stat(i), (unsigned long long)cur[i]);
		sep = ",";
	}
	fputc('}', v->out);
	if (!rates)
		return;
	sep = "";
	fputs(",\"rates\":{", v->out);
	for (i = HVX_STAT_EXITS; i <= HVX_STAT_MAX; i++) {
		if (!shown[i])
			continue;
		fprintf(v->out, "%s\"%s\":%.3f", sep, names__stat(i),
			rate(cur[i], prev[i], interval));
		sep = ",";
	}
	fputc('}', v->out);
}

static void json_vm(const struct view *v, const struct vm_sample *vm,
		    const struct vm_sample *prev, double interval, bool rates)
{
	FILE *f = v->out;

	fprintf(f, "{\"id\":%u,\"pid\":%u,\"uid\":%u,\"nr_vcpus\":%u,"
		"\"mem_bytes\":%llu,\"pinned_pages\":%llu,\"table_pages\":%llu,"
		"\"paging\":\"%s\",\"vendor\":\"%s\",",
		vm->id, vm->pid, vm->uid, vm->nr_vcpus,
		(unsigned long long)vm->mem_bytes, (unsigned long long)vm->pinned_pages,
		(unsigned long long)vm->table_pages,
		names__paging(vm->paging), names__vendor(vm->vendor));
	json_counters(v, vm->stats, prev ? prev->stats : NULL, interval, rates);
	fputc('}', f);
}

static void json_vcpu(const struct view *v, uint32_t vendor, const struct vcpu_sample *vcpu,
		      const struct vcpu_sample *prev, double interval, bool rates)
{
	FILE *f = v->out;
	const char *sep = "";
	char buf[32];
	const char *name;
	double r;
	size_t i;

	fprintf(f, "{\"id\":%u,", vcpu->id);
	json_counters(v, vcpu->stats, prev ? prev->stats : NULL, interval, rates);
	fputs(",\"raw_exits\":[", f);
	for (i = 0; i < vcpu->nr_raw; i++) {
		const struct raw_exit *raw = &vcpu->raw[i];

		name = names__exit(vendor, raw->code, buf, sizeof(buf));
		r = rate(raw->count, raw_count(prev, raw->code), interval);
		if (!show__name_shown(v, name) || !value_shown(v, raw->count, r, rates))
			continue;
		fprintf(f, "%s{\"code\":%u,\"name\":", sep, raw->code);
		if (name)
			fprintf(f, "\"%s\"", name);
		else
			fputs("null", f);
		fprintf(f, ",\"count\":%llu", (unsigned long long)raw->count);
		if (rates)
			fprintf(f, ",\"rate\":%.3f", r);
		fputc('}', f);
		sep = ",";
	}
	fputs("]}", f);
}

/* ---- The VM list ------------------------------------------------------- */

/*
 * The counters of the list: every one in JSON, exits alone in the table;
 * with -f, those that match.  Returns how many.
 */
static unsigned int list_counters(const struct view *v, unsigned int *stats)
{
	unsigned int n = 0, i;

	if (!v->fields && !v->json) {
		stats[n++] = HVX_STAT_EXITS;
		return n;
	}
	for (i = HVX_STAT_EXITS; i <= HVX_STAT_MAX; i++)
		if (show__name_shown(v, names__stat(i)))
			stats[n++] = i;
	return n;
}

/* Under -z, a VM is listed only if one of its counters shown is not zero. */
static bool vm_shown(const struct view *v, const struct vm_sample *vm,
		     const struct vm_sample *old, double interval, bool rates,
		     const unsigned int *stats, unsigned int nr)
{
	unsigned int i, s;

	if (!v->skip_zero)
		return true;
	for (i = 0; i < nr; i++) {
		s = stats[i];
		if (value_shown(v, vm->stats[s],
				rate(vm->stats[s], old ? old->stats[s] : 0, interval), rates))
			return true;
	}
	return false;
}

/* A counter's column heading, upper case, with "/S" for its rate. */
static int list_heading(char *buf, size_t len, unsigned int stat, bool per_second)
{
	size_t i;
	int n;

	n = snprintf(buf, len, "%s%s", names__stat(stat), per_second ? "/S" : "");
	for (i = 0; buf[i]; i++)
		buf[i] = toupper((unsigned char)buf[i]);
	return n;
}

/* Column widths: 14 for counts and 12 for rates, or the heading's. */
static int list_width(unsigned int stat, bool per_second)
{
	char buf[48];
	int n = list_heading(buf, sizeof(buf), stat, per_second);
	int min = per_second ? 12 : 14;

	return n > min ? n : min;
}

void show__vm_list(const struct view *v, const struct vm_list *cur,
		   const struct vm_list *prev, double interval)
{
	const uint64_t pg = page_size();
	unsigned int stats[HVX_STAT_MAX + 1], nr_stats, s, k;
	const struct vm_sample *vm, *old;
	const char *sep = "";
	struct row *rows;
	char buf[48];
	size_t i;

	nr_stats = list_counters(v, stats);
	if (v->json) {
		fputs("{\"vms\":[", v->out);
		for (i = 0; i < cur->nr; i++) {
			vm = &cur->vms[i];
			old = find_vm(prev, vm);
			if (!vm_shown(v, vm, old, interval, prev, stats, nr_stats))
				continue;
			fputs(sep, v->out);
			json_vm(v, vm, old, interval, prev);
			sep = ",";
		}
		fputc(']', v->out);
		if (prev)
			fprintf(v->out, ",\"interval\":%.3f", interval);
		fputs("}\n", v->out);
		return;
	}

	fprintf(v->out, "%6s %8s %6s %5s %9s %11s %-6s %-6s", "ID", "PID", "UID",
		"VCPUS", "MEM(MiB)", "PINNED(MiB)", "PAGING", "VENDOR");
	for (k = 0; k < nr_stats; k++) {
		list_heading(buf, sizeof(buf), stats[k], false);
		fprintf(v->out, " %*s", list_width(stats[k], false), buf);
		if (prev) {
			list_heading(buf, sizeof(buf), stats[k], true);
			fprintf(v->out, " %*s", list_width(stats[k], true), buf);
		}
	}
	fputc('\n', v->out);

	rows = calloc(cur->nr ? cur->nr : 1, sizeof(*rows));
	if (!rows)
		return;
	/* Busiest first: by the rate of the first counter shown. */
	for (i = 0; i < cur->nr; i++) {
		vm = &cur->vms[i];
		old = find_vm(prev, vm);
		rows[i].index = i;
		rows[i].rate = nr_stats ? rate(vm->stats[stats[0]],
					       old ? old->stats[stats[0]] : 0, interval) : 0;
	}
	if (prev && cur->nr)
		qsort(rows, cur->nr, sizeof(*rows), row_cmp);
	for (i = 0; i < cur->nr; i++) {
		vm = &cur->vms[rows[i].index];
		old = find_vm(prev, vm);
		if (!vm_shown(v, vm, old, interval, prev, stats, nr_stats))
			continue;
		fprintf(v->out, "%6u %8u %6u %5u %9.1f %11.1f %-6s %-6s", vm->id,
			vm->pid, vm->uid, vm->nr_vcpus, vm->mem_bytes / MIB,
			vm->pinned_pages * pg / MIB, names__paging(vm->paging),
			names__vendor(vm->vendor));
		for (k = 0; k < nr_stats; k++) {
			s = stats[k];
			fprintf(v->out, " %*llu", list_width(s, false),
				(unsigned long long)vm->stats[s]);
			if (prev)
				fprintf(v->out, " %*.1f", list_width(s, true),
					rate(vm->stats[s], old ? old->stats[s] : 0, interval));
		}
		fputc('\n', v->out);
	}
	free(rows);
}

/* ---- One VM ------------------------------------------------------------ */

static void show__vm_header(const struct view *v, const struct vm_sample *vm)
{
	fprintf(v->out,
		"vm %u  pid %u  uid %u  vcpus %u  mem %.1f MiB  pinned %.1f MiB  tables %llu pages  %s  %s\n\n",
		vm->id, vm->pid, vm->uid, vm->nr_vcpus, vm->mem_bytes / MIB,
		vm->pinned_pages * page_size() / MIB, (unsigned long long)vm->table_pages,
		names__paging(vm->paging), names__vendor(vm->vendor));
}

/* Column headings: per vCPU counts, or with rates total, total/s, per vCPU/s. */
static void show__columns(const struct view *v, const char *first,
			  const struct vcpu_list *cur, bool rates)
{
	char buf[32];
	size_t i;

	fprintf(v->out, "%" NAME_W "s", first);
	if (rates)
		fprintf(v->out, " %" NUM_W "s %" NUM_W "s", "TOTAL", "TOTAL/S");
	for (i = 0; i < cur->nr; i++) {
		snprintf(buf, sizeof(buf), rates ? "VCPU%u/S" : "VCPU%u", cur->vcpus[i].id);
		fprintf(v->out, " %" NUM_W "s", buf);
	}
	fputc('\n', v->out);
}

static void show__counters(const struct view *v, const struct vcpu_list *cur,
			   const struct vcpu_list *prev, double interval)
{
	struct row rows[HVX_STAT_MAX + 1];
	const struct vcpu_sample *vcpu, *old;
	size_t nr = 0, i, j;
	unsigned int stat;
	uint64_t total;

	for (stat = HVX_STAT_EXITS; stat <= HVX_STAT_MAX; stat++) {
		rows[nr].index = stat;
		rows[nr].rate = 0;
		for (j = 0; j < cur->nr; j++) {
			vcpu = &cur->vcpus[j];
			old = find_vcpu(prev, vcpu->id);
			rows[nr].rate += rate(vcpu->stats[stat], old ? old->stats[stat] : 0,
					      interval);
		}
		nr++;
	}
	if (prev)
		qsort(rows, nr, sizeof(*rows), row_cmp);

	show__columns(v, "COUNTER", cur, prev);
	for (i = 0; i < nr; i++) {
		stat = rows[i].index;
		for (total = 0, j = 0; j < cur->nr; j++)
			total += cur->vcpus[j].stats[stat];
		if (!stat_shown(v, stat, total, rows[i].rate, prev))
			continue;
		fprintf(v->out, "%" NAME_W "s", names__stat(stat));
		if (prev)
			fprintf(v->out, " %" NUM_W "llu %" NUM_W ".1f",
				(unsigned long long)total, rows[i].rate);
		for (j = 0; j < cur->nr; j++) {
			vcpu = &cur->vcpus[j];
			old = find_vcpu(prev, vcpu->id);
			if (prev)
				fprintf(v->out, " %" NUM_W ".1f",
					rate(vcpu->stats[stat], old ? old->stats[stat] : 0,
					     interval));
			else
				fprintf(v->out, " %" NUM_W "llu",
					(unsigned long long)vcpu->stats[stat]);
		}
		fputc('\n', v->out);
	}
}

static int code_cmp(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;

	return (*x > *y) - (*x < *y);
}

/* Every exit code seen on any vCPU, sorted, without duplicates. */
static size_t raw_codes(const struct vcpu_list *cur, uint32_t **codes)
{
	size_t nr = 0, total = 0, i, j;
	uint32_t *c;

	for (i = 0; i < cur->nr; i++)
		total += cur->vcpus[i].nr_raw;
	c = calloc(total ? total : 1, sizeof(*c));
	if (!c) {
		*codes = NULL;
		return 0;
	}
	for (i = 0; i < cur->nr; i++)
		for (j = 0; j < cur->vcpus[i].nr_raw; j++)
			c[nr++] = cur->vcpus[i].raw[j].code;
	if (nr)
		qsort(c, nr, sizeof(*c), code_cmp);
	for (i = 0, j = 0; i < nr; i++)
		if (!j || c[j - 1] != c[i])
			c[j++] = c[i];
	*codes = c;
	return j;
}

static void show__raw_exits(const struct view *v, uint32_t vendor, const struct vcpu_list *cur,
			    const struct vcpu_list *prev, double interval)
{
	const struct vcpu_sample *vcpu, *old;
	char label[48], buf[32];
	struct row *rows;
	const char *name;
	uint32_t *codes;
	size_t nr, i, j;
	uint64_t total, count;

	nr = raw_codes(cur, &codes);
	if (!codes)
		return;
	rows = calloc(nr ? nr : 1, sizeof(*rows));
	if (!rows) {
		free(codes);
		return;
	}
	for (i = 0; i < nr; i++) {
		rows[i].index = i;
		for (j = 0; j < cur->nr; j++) {
			vcpu = &cur->vcpus[j];
			old = find_vcpu(prev, vcpu->id);
			rows[i].rate += rate(raw_count(vcpu, codes[i]),
					     raw_count(old, codes[i]), interval);
		}
	}
	if (prev && nr)
		qsort(rows, nr, sizeof(*rows), row_cmp);

	show__columns(v, "RAW EXIT", cur, prev);
	for (i = 0; i < nr; i++) {
		uint32_t code = codes[rows[i].index];

		name = names__exit(vendor, code, buf, sizeof(buf));
		for (total = 0, j = 0; j < cur->nr; j++)
			total += raw_count(&cur->vcpus[j], code);
		if (!show__name_shown(v, name) || !value_shown(v, total, rows[i].rate, prev))
			continue;
		snprintf(label, sizeof(label), "0x%x %s", code, name ? name : "?");
		fprintf(v->out, "%" NAME_W "s", label);
		if (prev)
			fprintf(v->out, " %" NUM_W "llu %" NUM_W ".1f",
				(unsigned long long)total, rows[i].rate);
		for (j = 0; j < cur->nr; j++) {
			vcpu = &cur->vcpus[j];
			count = raw_count(vcpu, code);
			if (prev)
				fprintf(v->out, " %" NUM_W ".1f",
					rate(count, raw_count(find_vcpu(prev, vcpu->id), code),
					     interval));
			else
				fprintf(v->out, " %" NUM_W "llu", (unsigned long long)count);
		}
		fputc('\n', v->out);
	}
	free(rows);
	free(codes);
}

void show__vm(const struct view *v, const struct vm_sample *vm,
	      const struct vcpu_list *cur, const struct vcpu_list *prev,
	      double interval)
{
	size_t i;

	if (v->json) {
		fputs("{\"vm\":", v->out);
		json_vm(v, vm, NULL, interval, false);
		fputs(",\"vcpus\":[", v->out);
		for (i = 0; i < cur->nr; i++) {
			if (i)
				fputc(',', v->out);
			json_vcpu(v, vm->vendor, &cur->vcpus[i],
				  find_vcpu(prev, cur->vcpus[i].id), interval, prev);
		}
		fputc(']', v->out);
		if (prev)
			fprintf(v->out, ",\"interval\":%.3f", interval);
		fputs("}\n", v->out);
		return;
	}
	show__vm_header(v, vm);
	show__counters(v, cur, prev, interval);
	fputc('\n', v->out);
	show__raw_exits(v, vm->vendor, cur, prev, interval);
}

/* ---- Events ------------------------------------------------------------ */

void show__event(const struct view *v, const struct event *ev)
{
	const char *name = names__event(ev->type);

	if (v->json) {
		fputs("{\"event\":", v->out);
		if (name)
			fprintf(v->out, "\"%s\"", name);
		else
			fputs("null", v->out);
		fprintf(v->out, ",\"type\":%u,\"vm_id\":%u,\"uid\":%u", ev->type, ev->vm_id,
			ev->uid);
		if (ev->has_vcpu)
			fprintf(v->out, ",\"vcpu_id\":%u", ev->vcpu_id);
		if (ev->has_data)
			fprintf(v->out, ",\"data\":%llu", (unsigned long long)ev->data);
		fputs("}\n", v->out);
		fflush(v->out);
		return;
	}

	fprintf(v->out, "vm %u", ev->vm_id);
	if (ev->has_vcpu)
		fprintf(v->out, " vcpu %u", ev->vcpu_id);
	if (name)
		fprintf(v->out, " %s", name);
	else
		fprintf(v->out, " event %u", ev->type);
	switch (ev->type) {
	case HVX_GENL_EVENT_VM_CREATED:
		fprintf(v->out, " uid %u", ev->uid);
		break;
	case HVX_GENL_EVENT_FAIL_ENTRY:
		fprintf(v->out, " reason 0x%llx", (unsigned long long)ev->data);
		break;
	case HVX_GENL_EVENT_INTERNAL_ERROR:
		fprintf(v->out, " suberror %llu", (unsigned long long)ev->data);
		break;
	default:
		if (!name && ev->has_data)
			fprintf(v->out, " data 0x%llx", (unsigned long long)ev->data);
	}
	fputc('\n', v->out);
	fflush(v->out);
}

/* ---- The log ------------------------------------------------------------ */

/* The log's columns: every counter, or those -f matches. */
static bool log_column(const struct view *v, unsigned int stat)
{
	return show__name_shown(v, names__stat(stat));
}

void show__log_header(const struct view *v)
{
	unsigned int i;

	fputs("timestamp", v->out);
	for (i = HVX_STAT_EXITS; i <= HVX_STAT_MAX; i++)
		if (log_column(v, i))
			fprintf(v->out, ",%s", names__stat(i));
	fputc('\n', v->out);
}

bool show__log_line(const struct view *v, const struct vm_list *cur,
		    const struct vm_list *prev, const struct timespec *when)
{
	uint64_t delta[HVX_STAT_MAX + 1] = { 0 };
	const struct vm_sample *vm, *old;
	bool moved = false;
	char stamp[32];
	unsigned int s;
	struct tm tm;
	size_t i;

	/*
	 * A VM new since @prev counts in full: all it did, it did in this
	 * interval.  What a VM gone since @prev did in its last moments is
	 * lost with it.
	 */
	for (i = 0; i < cur->nr; i++) {
		vm = &cur->vms[i];
		old = find_vm(prev, vm);
		for (s = HVX_STAT_EXITS; s <= HVX_STAT_MAX; s++) {
			uint64_t before = old ? old->stats[s] : 0;

			if (vm->stats[s] > before)
				delta[s] += vm->stats[s] - before;
		}
	}
	for (s = HVX_STAT_EXITS; s <= HVX_STAT_MAX; s++)
		if (log_column(v, s) && delta[s])
			moved = true;
	if (v->skip_zero && !moved)
		return false;

	localtime_r(&when->tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(v->out, "%s.%03ld", stamp, when->tv_nsec / 1000000);
	for (s = HVX_STAT_EXITS; s <= HVX_STAT_MAX; s++)
		if (log_column(v, s))
			fprintf(v->out, ",%llu", (unsigned long long)delta[s]);
	fputc('\n', v->out);
	return true;
}
