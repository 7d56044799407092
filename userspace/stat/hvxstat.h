/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvxstat: VM and vCPU statistics and events of the hvx module, read over
 * its generic-netlink family (uapi/linux/hvx_genl.h).
 */
#ifndef HVXSTAT_H
#define HVXSTAT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <linux/hvx_genl.h>

#define HVXSTAT_EXIT_ERROR	1	/* no module, VM gone, netlink failure */
#define HVXSTAT_EXIT_USAGE	2	/* bad option */

/* A connection to the "hvx" family. */
struct query {
	struct nl_sock *sk;
	int family;		/* generic-netlink family id */
	unsigned int version;	/* family version the kernel reports */
	int events_group;	/* multicast group id, or a negative libnl error */
	int err;		/* negative errno of the last request, 0 if none */
	char msg[256];		/* the kernel's extack message with err, if any */
};

struct raw_exit {
	uint32_t code;		/* SVM EXITCODE */
	uint64_t count;
};

struct vcpu_sample {
	uint32_t id;
	uint64_t stats[HVX_STAT_MAX + 1];
	struct raw_exit *raw;
	size_t nr_raw;
};

struct vm_sample {
	uint32_t id;
	uint32_t pid;
	uint32_t uid;
	uint32_t nr_vcpus;
	uint32_t paging;	/* HVX_PAGING_* */
	uint32_t vendor;	/* HVX_VENDOR_* */
	uint64_t mem_bytes;
	uint64_t pinned_pages;
	uint64_t table_pages;
	uint64_t stats[HVX_STAT_MAX + 1];	/* totals over the vCPUs */
};

struct vm_list {
	struct vm_sample *vms;
	size_t nr;
};

struct vcpu_list {
	struct vcpu_sample *vcpus;
	size_t nr;
};

struct event {
	uint32_t type;		/* HVX_GENL_EVENT_* */
	uint32_t vm_id;
	uint32_t uid;
	uint32_t vcpu_id;
	uint64_t data;
	bool has_vcpu;
	bool has_data;
};

/* Called for each event; returns false to stop listening. */
typedef bool (*event_fn)(const struct event *ev, void *arg);

/* query.c: requests to the kernel; errors set q->err and q->extack. */
int query__open(struct query *q);
void query__close(struct query *q);
int query__vms(struct query *q, struct vm_list *list);
int query__vm(struct query *q, uint32_t vm_id, struct vm_sample *vm);
int query__vcpus(struct query *q, uint32_t vm_id, struct vcpu_list *list);
int query__listen(struct query *q, event_fn fn, void *arg);
void vm_list__free(struct vm_list *list);
void vcpu_list__free(struct vcpu_list *list);

/* names.c */
const char *names__stat(unsigned int stat);
const char *names__svm_exit(uint32_t code, char *buf, size_t len);
/* The name of @vendor's (HVX_VENDOR_*) raw exit @code; NULL if unknown. */
const char *names__exit(uint32_t vendor, uint32_t code, char *buf, size_t len);
const char *names__paging(uint32_t paging);
const char *names__vendor(uint32_t vendor);
const char *names__event(uint32_t type);

/*
 * show.c: one view of a sample.  @prev, when not NULL, is the sample taken
 * @interval seconds earlier: rates are shown and rows sorted by them.
 */
struct view {
	FILE *out;
	bool json;
	/* Counters and raw exits whose name matches (-f); NULL: the default set. */
	const regex_t *fields;
	/* Omit counters that are zero, or whose rate is zero with @prev (-z). */
	bool skip_zero;
};

bool show__name_shown(const struct view *v, const char *name);
void show__vm_list(const struct view *v, const struct vm_list *cur,
		   const struct vm_list *prev, double interval);
void show__vm(const struct view *v, const struct vm_sample *vm,
	      const struct vcpu_list *cur, const struct vcpu_list *prev,
	      double interval);
void show__event(const struct view *v, const struct event *ev);

/*
 * The log (--log): a CSV header naming the columns, then one line per
 * interval with the counters' increase over it, summed over the VMs of
 * @cur; returns false when -z left the line out.
 */
void show__log_header(const struct view *v);
bool show__log_line(const struct view *v, const struct vm_list *cur,
		    const struct vm_list *prev, const struct timespec *when);

#endif /* HVXSTAT_H */
