// SPDX-License-Identifier: GPL-2.0
/* A raw generic-netlink client for the "hvx" family: see genl.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "genl.h"

static const void *attr_data(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static size_t attr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

__u64 attr_uint(const struct nlattr *a)
{
	__u64 v = 0;
	__u32 w = 0;
	__u16 h = 0;

	if (attr_len(a) >= 8) {
		memcpy(&v, attr_data(a), 8);
	} else if (attr_len(a) >= 4) {
		memcpy(&w, attr_data(a), 4);
		v = w;
	} else if (attr_len(a) >= 2) {
		memcpy(&h, attr_data(a), 2);
		v = h;
	}
	return v;
}

void attr_parse(const void *data, size_t len, const struct nlattr **tb, int max)
{
	const struct nlattr *a;

	memset(tb, 0, (max + 1) * sizeof(*tb));
	for_each_attr(a, data, len)
		if ((a->nla_type & NLA_TYPE_MASK) <= max)
			tb[a->nla_type & NLA_TYPE_MASK] = a;
}

/* Appends an attribute to buf at *off (room is the caller's business). */
void attr_put(char *buf, size_t *off, __u16 type, const void *data, size_t len)
{
	struct nlattr a = { .nla_len = NLA_HDRLEN + len, .nla_type = type };

	memcpy(buf + *off, &a, sizeof(a));
	memcpy(buf + *off + NLA_HDRLEN, data, len);
	memset(buf + *off + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	*off += NLA_HDRLEN + NLA_ALIGN(len);
}

void attr_put_u32(char *buf, size_t *off, __u16 type, __u32 v)
{
	attr_put(buf, off, type, &v, sizeof(v));
}

static int nl_socket(void)
{
	struct timeval tv = { .tv_sec = NL_TIMEOUT_S };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1, fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Sends nlmsghdr + genlmsghdr + attrs; nlmsg_len as given, or the true length if 0. */
int nl_send(struct gnl *g, __u16 type, __u16 flags, __u8 cmd, __u8 version,
		   const void *attrs, size_t alen, __u32 nlmsg_len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[4096] __attribute__((aligned(4)));
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct genlmsghdr *gh = (struct genlmsghdr *)(buf + NLMSG_HDRLEN);
	size_t len = NLMSG_HDRLEN + GENL_HDRLEN + alen;

	if (len > sizeof(buf))
		return -EMSGSIZE;
	memset(buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nlh->nlmsg_len = nlmsg_len ? nlmsg_len : len;
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++g->seq;
	gh->cmd = cmd;
	gh->version = version;
	memcpy(buf + NLMSG_HDRLEN + GENL_HDRLEN, attrs, alen);
	if (sendto(g->fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)) != (ssize_t)len)
		return -errno;
	return 0;
}

static void nl_ext_msg(const struct nlmsghdr *nlh, const void *tlv, ssize_t len,
		       struct nl_err *e)
{
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || len <= 0)
		return;
	attr_parse(tlv, len, tb, NLMSGERR_ATTR_MAX);
	if (tb[NLMSGERR_ATTR_MISS_TYPE])
		e->miss_type = attr_uint(tb[NLMSGERR_ATTR_MISS_TYPE]);
	if (tb[NLMSGERR_ATTR_OFFS])
		e->offs = attr_uint(tb[NLMSGERR_ATTR_OFFS]);
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(e->msg, sizeof(e->msg), "%.*s", (int)attr_len(tb[NLMSGERR_ATTR_MSG]),
			 (const char *)attr_data(tb[NLMSGERR_ATTR_MSG]));
}


/*
 * Reads the answer to the last request: each data message goes to fn;
 * ends at the reply of a do, NLMSG_DONE of a dump, or an error.  Returns
 * e->err.
 */
int nl_recv(struct gnl *g, nl_msg_fn fn, void *arg, struct nl_err *e)
{
	static char buf[NL_RECV_BUF] __attribute__((aligned(4)));
	const struct nlmsghdr *nlh;
	ssize_t n;

	memset(e, 0, sizeof(*e));
	e->miss_type = e->offs = -1;
	for (;;) {
		n = recv(g->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			e->err = -errno;
			snprintf(e->msg, sizeof(e->msg), "(no answer: %s)", strerror(errno));
			return e->err;
		}
		for (nlh = (const struct nlmsghdr *)buf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_seq != g->seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = NLMSG_DATA(nlh);
				size_t off = sizeof(*err);

				if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
					off += err->msg.nlmsg_len - sizeof(err->msg);
				off = NLMSG_ALIGN(off);
				e->err = err->error;
				nl_ext_msg(nlh, (const char *)err + off,
					   (ssize_t)nlh->nlmsg_len - NLMSG_HDRLEN - (ssize_t)off, e);
				return e->err;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				const int *err = NLMSG_DATA(nlh);

				if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
					e->err = *err;
					nl_ext_msg(nlh, (const char *)err + NLMSG_ALIGN(sizeof(int)),
						   (ssize_t)nlh->nlmsg_len - NLMSG_HDRLEN -
						   NLMSG_ALIGN(sizeof(int)), e);
				}
				return e->err;
			}
			if (fn)
				fn(nlh, arg);
			if (!(nlh->nlmsg_flags & NLM_F_MULTI))
				return 0;
		}
	}
}

static int gnl_request(struct gnl *g, __u8 cmd, __u16 flags, const void *attrs, size_t alen,
		       nl_msg_fn fn, void *arg, struct nl_err *e)
{
	int ret = nl_send(g, g->family, flags, cmd, HVX_GENL_VERSION, attrs, alen, 0);

	if (ret) {
		memset(e, 0, sizeof(*e));
		e->err = ret;
		return ret;
	}
	return nl_recv(g, fn, arg, e);
}

static void family_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1], *grp, *gtb[CTRL_ATTR_MCAST_GRP_MAX + 1];
	const struct genlmsghdr *gh = NLMSG_DATA(nlh);
	struct gnl *g = arg;

	attr_parse((const char *)gh + GENL_HDRLEN, nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN,
		   tb, CTRL_ATTR_MAX);
	if (tb[CTRL_ATTR_FAMILY_ID])
		g->family = attr_uint(tb[CTRL_ATTR_FAMILY_ID]);
	if (!tb[CTRL_ATTR_MCAST_GROUPS])
		return;
	for_each_attr(grp, attr_data(tb[CTRL_ATTR_MCAST_GROUPS]),
		      attr_len(tb[CTRL_ATTR_MCAST_GROUPS])) {
		attr_parse(attr_data(grp), attr_len(grp), gtb, CTRL_ATTR_MCAST_GRP_MAX);
		if (gtb[CTRL_ATTR_MCAST_GRP_NAME] && gtb[CTRL_ATTR_MCAST_GRP_ID] &&
		    !strcmp(attr_data(gtb[CTRL_ATTR_MCAST_GRP_NAME]), HVX_GENL_MCGRP_EVENTS))
			g->events_grp = attr_uint(gtb[CTRL_ATTR_MCAST_GRP_ID]);
	}
}

/* Opens a socket and resolves the "hvx" family: 0 or -errno (-ENOENT: no family). */
int gnl_open(struct gnl *g)
{
	char attrs[64];
	size_t off = 0;
	struct nl_err e;
	int ret;

	memset(g, 0, sizeof(*g));
	g->fd = nl_socket();
	if (g->fd < 0)
		return g->fd;
	attr_put(attrs, &off, CTRL_ATTR_FAMILY_NAME, HVX_GENL_NAME, sizeof(HVX_GENL_NAME));
	ret = nl_send(g, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, 1, attrs, off, 0);
	if (!ret)
		ret = nl_recv(g, family_cb, g, &e);
	if (!ret && !g->family)
		ret = -ENOENT;
	if (ret) {
		close(g->fd);
		g->fd = -1;
	}
	return ret;
}

int gnl_reopen(struct gnl *g)
{
	int fd = nl_socket();

	if (fd < 0)
		return fd;
	close(g->fd);
	g->fd = fd;
	return 0;
}

void gnl_close(struct gnl *g)
{
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
}

static void parse_stats(const struct nlattr *nest, __u64 *stats, unsigned int *nr)
{
	const struct nlattr *a;

	*nr = 0;
	if (!nest)
		return;
	for_each_attr(a, attr_data(nest), attr_len(nest)) {
		__u16 type = a->nla_type & NLA_TYPE_MASK;

		if (type > HVX_STAT_PAD && type <= HVX_STAT_MAX) {
			stats[type] = attr_uint(a);
			(*nr)++;
		}
	}
}

static void vm_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct genlmsghdr *gh = NLMSG_DATA(nlh);
	const struct nlattr *tb[HVX_A_MAX + 1];
	struct vm_list *list = arg;
	struct vm_info *vm;

	if (gh->cmd != HVX_CMD_GET_VM || list->nr >= MAX_VMS)
		return;
	vm = &list->vm[list->nr++];
	memset(vm, 0, sizeof(*vm));
	attr_parse((const char *)gh + GENL_HDRLEN, nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN,
		   tb, HVX_A_MAX);
#define GET(field, attr) do { if (tb[attr]) vm->field = attr_uint(tb[attr]); } while (0)
	GET(id, HVX_A_VM_ID);
	GET(pid, HVX_A_VM_PID);
	GET(uid, HVX_A_VM_UID);
	GET(nr_vcpus, HVX_A_VM_NR_VCPUS);
	GET(paging, HVX_A_VM_PAGING);
	GET(vendor, HVX_A_VM_VENDOR);
	GET(mem_bytes, HVX_A_VM_MEM_BYTES);
	GET(pinned_pages, HVX_A_VM_PINNED_PAGES);
	GET(table_pages, HVX_A_VM_TABLE_PAGES);
#undef GET
	parse_stats(tb[HVX_A_VM_STATS], vm->stats, &vm->nr_stats);
}

static void vcpu_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[HVX_A_MAX + 1], *rtb[HVX_A_MAX + 1], *raw;
	const struct genlmsghdr *gh = NLMSG_DATA(nlh);
	struct vcpu_list *list = arg;
	struct vcpu_info *v;

	if (gh->cmd != HVX_CMD_GET_VCPU || list->nr >= MAX_VCPUS)
		return;
	v = &list->vcpu[list->nr++];
	memset(v, 0, sizeof(*v));
	attr_parse((const char *)gh + GENL_HDRLEN, nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN,
		   tb, HVX_A_MAX);
	if (tb[HVX_A_VM_ID])
		v->vm_id = attr_uint(tb[HVX_A_VM_ID]);
	if (tb[HVX_A_VCPU_ID])
		v->id = attr_uint(tb[HVX_A_VCPU_ID]);
	parse_stats(tb[HVX_A_VCPU_STATS], v->stats, &v->nr_stats);
	if (!tb[HVX_A_VCPU_RAW_EXITS])
		return;
	for_each_attr(raw, attr_data(tb[HVX_A_VCPU_RAW_EXITS]),
		      attr_len(tb[HVX_A_VCPU_RAW_EXITS])) {
		if ((raw->nla_type & NLA_TYPE_MASK) != HVX_A_RAW_EXIT || v->nr_raw >= MAX_RAW)
			continue;
		attr_parse(attr_data(raw), attr_len(raw), rtb, HVX_A_MAX);
		if (!rtb[HVX_A_RAW_CODE] || !rtb[HVX_A_RAW_COUNT])
			continue;
		v->raw_code[v->nr_raw] = attr_uint(rtb[HVX_A_RAW_CODE]);
		v->raw_count[v->nr_raw++] = attr_uint(rtb[HVX_A_RAW_COUNT]);
	}
}

void nl_vm_cb(const struct nlmsghdr *nlh, void *list)
{
	vm_cb(nlh, list);
}

int nl_dump_vms(struct gnl *g, struct vm_list *list, struct nl_err *e)
{
	memset(list, 0, sizeof(*list));
	return gnl_request(g, HVX_CMD_GET_VM, NLM_F_DUMP, NULL, 0, vm_cb, list, e);
}

int nl_get_vm(struct gnl *g, __u32 id, struct vm_info *vm, struct nl_err *e)
{
	static struct vm_list list;
	char attrs[16];
	size_t off = 0;
	int ret;

	memset(&list, 0, sizeof(list));
	attr_put_u32(attrs, &off, HVX_A_VM_ID, id);
	ret = gnl_request(g, HVX_CMD_GET_VM, 0, attrs, off, vm_cb, &list, e);
	if (!ret && list.nr != 1)
		ret = e->err = -EPROTO;
	if (!ret)
		*vm = list.vm[0];
	return ret;
}

int nl_dump_vcpus(struct gnl *g, __u32 vm_id, struct vcpu_list *list, struct nl_err *e)
{
	char attrs[16];
	size_t off = 0;

	memset(list, 0, sizeof(*list));
	attr_put_u32(attrs, &off, HVX_A_VM_ID, vm_id);
	return gnl_request(g, HVX_CMD_GET_VCPU, NLM_F_DUMP, attrs, off, vcpu_cb, list, e);
}

int nl_get_vcpu(struct gnl *g, __u32 vm_id, __u32 id, struct vcpu_info *v,
		       struct nl_err *e)
{
	static struct vcpu_list list;
	char attrs[32];
	size_t off = 0;
	int ret;

	memset(&list, 0, sizeof(list));
	attr_put_u32(attrs, &off, HVX_A_VM_ID, vm_id);
	attr_put_u32(attrs, &off, HVX_A_VCPU_ID, id);
	ret = gnl_request(g, HVX_CMD_GET_VCPU, 0, attrs, off, vcpu_cb, &list, e);
	if (!ret && list.nr != 1)
		ret = e->err = -EPROTO;
	if (!ret)
		*v = list.vcpu[0];
	return ret;
}

const struct vm_info *find_vm(const struct vm_list *list, __u32 id)
{
	unsigned int i;

	for (i = 0; i < list->nr; i++)
		if (list->vm[i].id == id)
			return &list->vm[i];
	return NULL;
}

__u64 raw_count(const struct vcpu_info *v, __u32 code)
{
	unsigned int i;

	for (i = 0; i < v->nr_raw; i++)
		if (v->raw_code[i] == code)
			return v->raw_count[i];
	return 0;
}

/* The newest VM created by process pid (ids only grow), 0 if none. */
__u32 newest_vm_of(struct gnl *g, pid_t pid)
{
	static struct vm_list list;
	struct nl_err e;
	unsigned int i;
	__u32 id = 0;

	if (nl_dump_vms(g, &list, &e))
		return 0;
	for (i = 0; i < list.nr; i++)
		if (list.vm[i].pid == (__u32)pid && list.vm[i].id > id)
			id = list.vm[i].id;
	return id;
}

/*
 * The counters of vCPU @vcpu_id of this process's newest VM, over a
 * connection of their own; on failure, why in @why.
 */
int self_vcpu_counters(__u32 vcpu_id, struct vcpu_info *v, char *why, size_t len)
{
	struct nl_err e = { 0 };
	struct gnl g;
	__u32 id;
	int ret;

	ret = gnl_open(&g);
	if (ret) {
		snprintf(why, len, "generic-netlink family \"%s\": %s", HVX_GENL_NAME,
			 strerror(-ret));
		return ret;
	}
	id = newest_vm_of(&g, getpid());
	ret = id ? nl_get_vcpu(&g, id, vcpu_id, v, &e) : -ENOENT;
	if (ret)
		snprintf(why, len, "vCPU %u of VM %u: %s (%.128s)", vcpu_id, id, strerror(-ret),
			 e.msg);
	gnl_close(&g);
	return ret;
}
