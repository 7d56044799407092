/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A raw generic-netlink client for the "hvx" family, written against
 * plain sockets so that tests can also build malformed requests byte by
 * byte.
 */
#ifndef HVX_SELFTEST_GENL_H
#define HVX_SELFTEST_GENL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>
#include <linux/netlink.h>
#include <linux/genetlink.h>
#include <linux/hvx_genl.h>

#define NL_RECV_BUF	65536
#define NL_TIMEOUT_S	5
#define MAX_RAW		64
#define MAX_VMS		64
#define MAX_VCPUS	8

/* ---- A raw generic-netlink client -------------------------------------- */

struct gnl {
	int fd;
	__u16 family;
	__u32 events_grp;	/* 0: the family has no "events" group */
	__u32 seq;
};

/* The outcome of a request: 0 or -errno, and the kernel's extack message. */
struct nl_err {
	int err;
	char msg[256];
	int miss_type;		/* NLMSGERR_ATTR_MISS_TYPE, or -1 */
	int offs;		/* NLMSGERR_ATTR_OFFS, or -1 */
};
struct vm_info {
	__u32 id, pid, uid, nr_vcpus, paging, vendor;
	__u64 mem_bytes, pinned_pages, table_pages;
	__u64 stats[HVX_STAT_MAX + 1];
	unsigned int nr_stats;
};
struct vcpu_info {
	__u32 vm_id, id;
	__u64 stats[HVX_STAT_MAX + 1];
	unsigned int nr_stats;
	__u32 raw_code[MAX_RAW];
	__u64 raw_count[MAX_RAW];
	unsigned int nr_raw;
};
struct vm_list {
	struct vm_info vm[MAX_VMS];
	unsigned int nr;
};
struct vcpu_list {
	struct vcpu_info vcpu[MAX_VCPUS];
	unsigned int nr;
};
struct ev_info {
	__u8 cmd;
	__u32 type, vm_id, uid, vcpu_id;
	__u64 data;
	bool has_vcpu, has_data, has_uid;
};

#define for_each_attr(a, data, len)						\
	for (a = (const struct nlattr *)(data);					\
	     (const char *)a + NLA_HDRLEN <= (const char *)(data) + (len) &&	\
	     a->nla_len >= NLA_HDRLEN &&					\
	     (const char *)a + a->nla_len <= (const char *)(data) + (len);	\
	     a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len)))

typedef void (*nl_msg_fn)(const struct nlmsghdr *nlh, void *arg);

__u64 attr_uint(const struct nlattr *a);
void attr_parse(const void *data, size_t len, const struct nlattr **tb, int max);
void attr_put(char *buf, size_t *off, __u16 type, const void *data, size_t len);
void attr_put_u32(char *buf, size_t *off, __u16 type, __u32 v);

int nl_send(struct gnl *g, __u16 type, __u16 flags, __u8 cmd, __u8 version,
	    const void *attrs, size_t alen, __u32 nlmsg_len);

int nl_recv(struct gnl *g, nl_msg_fn fn, void *arg, struct nl_err *e);

int gnl_open(struct gnl *g);
/*
 * A new socket for g, its family kept: one that has never read, so that
 * the first part of a dump asked for on it is at most a page.
 */
int gnl_reopen(struct gnl *g);
void gnl_close(struct gnl *g);
/* An nl_msg_fn adding a GET_VM answer to the struct vm_list at list. */
void nl_vm_cb(const struct nlmsghdr *nlh, void *list);

int nl_dump_vms(struct gnl *g, struct vm_list *list, struct nl_err *e);
int nl_get_vm(struct gnl *g, __u32 id, struct vm_info *vm, struct nl_err *e);
int nl_dump_vcpus(struct gnl *g, __u32 vm_id, struct vcpu_list *list, struct nl_err *e);
int nl_get_vcpu(struct gnl *g, __u32 vm_id, __u32 id, struct vcpu_info *v,
		struct nl_err *e);
__u64 raw_count(const struct vcpu_info *v, __u32 code);
__u32 newest_vm_of(struct gnl *g, pid_t pid);
int self_vcpu_counters(__u32 vcpu_id, struct vcpu_info *v, char *why, size_t len);
const struct vm_info *find_vm(const struct vm_list *list, __u32 id);

#endif /* HVX_SELFTEST_GENL_H */
