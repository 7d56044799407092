// SPDX-License-Identifier: GPL-2.0
/*
 * hvxstat: requests to the "hvx" generic-netlink family and the events
 * multicast group.
 *
 * One request is in flight at a time and auto-ACK is off, so a "do" is
 * answered by exactly one reply or one NLMSG_ERROR, and a dump ends with
 * NLMSG_DONE, which carries the dump's errno and extack message if it
 * failed part-way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/family.h>
#include <netlink/genl/genl.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

#include "hvxstat.h"

static const struct nla_policy attr_policy[HVX_A_MAX + 1] = {
	[HVX_A_VM_ID]		= { .type = NLA_U32 },
	[HVX_A_VM_PID]		= { .type = NLA_U32 },
	[HVX_A_VM_UID]		= { .type = NLA_U32 },
	[HVX_A_VM_NR_VCPUS]	= { .type = NLA_U32 },
	[HVX_A_VM_MEM_BYTES]	= { .type = NLA_U64 },
	[HVX_A_VM_PINNED_PAGES]	= { .type = NLA_U64 },
	[HVX_A_VM_TABLE_PAGES]	= { .type = NLA_U64 },
	[HVX_A_VM_PAGING]	= { .type = NLA_U32 },
	[HVX_A_VM_VENDOR]	= { .type = NLA_U32 },
	[HVX_A_VM_STATS]	= { .type = NLA_NESTED },
	[HVX_A_VCPU_ID]		= { .type = NLA_U32 },
	[HVX_A_VCPU_STATS]	= { .type = NLA_NESTED },
	[HVX_A_VCPU_RAW_EXITS]	= { .type = NLA_NESTED },
	[HVX_A_RAW_EXIT]	= { .type = NLA_NESTED },
	[HVX_A_RAW_CODE]	= { .type = NLA_U32 },
	[HVX_A_RAW_COUNT]	= { .type = NLA_U64 },
	[HVX_A_EVENT_TYPE]	= { .type = NLA_U32 },
	[HVX_A_EVENT_DATA]	= { .type = NLA_U64 },
};

static const struct nla_policy stat_policy[HVX_STAT_MAX + 1] = {
	[HVX_STAT_EXITS ... HVX_STAT_MAX] = { .type = NLA_U64 },
};

/* Where a callback puts what it parsed, and the first parse error. */
struct reply {
	struct query *q;
	void *list;
};

static void query__set_error(struct query *q, int err, const char *msg)
{
	if (q->err)
		return;
	q->err = err;
	snprintf(q->msg, sizeof(q->msg), "%s", msg ? msg : "");
}

/* The NLMSGERR_ATTR_MSG of an error or NLMSG_DONE, @off bytes of payload in. */
static void query__extack(struct query *q, struct nlmsghdr *nlh, size_t off)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t hdr = NLMSG_HDRLEN + NLMSG_ALIGN(off);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || nlh->nlmsg_len <= hdr)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)nlh + hdr),
		      nlh->nlmsg_len - hdr, NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		nla_strlcpy(q->msg, tb[NLMSGERR_ATTR_MSG], sizeof(q->msg));
}

static int query__error_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct query *q = arg;
	size_t off = sizeof(*e);

	(void)nla;
	if (q->err)
		return NL_STOP;
	q->err = e->error < 0 ? e->error : -EPROTO;
	q->msg[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	query__extack(q, nlh, off);
	return NL_STOP;
}

static int query__finish_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct query *q = arg;
	int err;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(err))
		return NL_STOP;
	memcpy(&err, nlmsg_data(nlh), sizeof(err));
	if (err < 0 && !q->err) {
		q->err = err;
		q->msg[0] = '\0';
		query__extack(q, nlh, sizeof(err));
	}
	return NL_STOP;
}

int query__open(struct query *q)
{
	struct nl_cache *cache;
	struct genl_family *fam;
	int one = 1;
	int err;

	memset(q, 0, sizeof(*q));
	q->sk = nl_socket_alloc();
	if (!q->sk) {
		fprintf(stderr, "hvxstat: cannot allocate a netlink socket\n");
		return -ENOMEM;
	}
	err = genl_connect(q->sk);
	if (err < 0) {
		fprintf(stderr, "hvxstat: cannot open a generic netlink socket: %s\n",
			nl_geterror(err));
		goto error_free_sock;
	}
	err = genl_ctrl_alloc_cache(q->sk, &cache);
	if (err < 0) {
		fprintf(stderr, "hvxstat: cannot list the generic netlink families: %s\n",
			nl_geterror(err));
		goto error_free_sock;
	}
	fam = genl_ctrl_search_by_name(cache, HVX_GENL_NAME);
	nl_cache_free(cache);
	if (!fam) {
		fprintf(stderr,
			"hvxstat: the hvx module is not loaded (no generic netlink family \"%s\")\n",
			HVX_GENL_NAME);
		err = -ENOENT;
		goto error_free_sock;
	}
	q->family = genl_family_get_id(fam);
	q->version = genl_family_get_version(fam);
	genl_family_put(fam);
	if (q->version > HVX_GENL_VERSION) {
		fprintf(stderr,
			"hvxstat: the hvx module speaks version %u of the \"%s\" netlink family; this hvxstat knows version %d: use the hvxstat built with the module\n",
			q->version, HVX_GENL_NAME, HVX_GENL_VERSION);
		err = -EPROTONOSUPPORT;
		goto error_free_sock;
	}

	/* Resolved now: genl_ctrl_resolve_grp() expects auto-ACK and seq checks. */
	q->events_group = genl_ctrl_resolve_grp(q->sk, HVX_GENL_NAME,
						HVX_GENL_MCGRP_EVENTS);

	/* Without these the kernel's error message is not sent, or is cut. */
	setsockopt(nl_socket_get_fd(q->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(q->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl_socket_disable_auto_ack(q->sk);
	nl_socket_disable_seq_check(q->sk);
	nl_socket_modify_cb(q->sk, NL_CB_FINISH, NL_CB_CUSTOM, query__finish_cb, q);
	nl_socket_modify_err_cb(q->sk, NL_CB_CUSTOM, query__error_cb, q);
	return 0;

error_free_sock:
	nl_socket_free(q->sk);
	q->sk = NULL;
	return err;
}

void query__close(struct query *q)
{
	nl_socket_free(q->sk);
	q->sk = NULL;
}

static int query__parse_stats(struct nlattr *nest, uint64_t *stats)
{
	struct nlattr *tb[HVX_STAT_MAX + 1];
	int i;

	if (nla_parse_nested(tb, HVX_STAT_MAX, nest, stat_policy) < 0)
		return -EPROTO;
	for (i = HVX_STAT_EXITS; i <= HVX_STAT_MAX; i++)
		if (tb[i])
			stats[i] = nla_get_u64(tb[i]);
	return 0;
}

static void *query__grow(void *array, size_t nr, size_t size)
{
	/* Doubling at powers of two: nr is the count before adding one. */
	if (nr & (nr - 1))
		return array;
	return realloc(array, (nr ? 2 * nr : 1) * size);
}

static int query__vm_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[HVX_A_MAX + 1];
	struct reply *r = arg;
	struct vm_list *list = r->list;
	struct vm_sample *vm, *vms;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, HVX_A_MAX, attr_policy) < 0 ||
	    !tb[HVX_A_VM_ID]) {
		query__set_error(r->q, -EPROTO, "malformed HVX_CMD_GET_VM reply");
		return NL_SKIP;
	}
	vms = query__grow(list->vms, list->nr, sizeof(*vms));
	if (!vms) {
		query__set_error(r->q, -ENOMEM, NULL);
		return NL_SKIP;
	}
	list->vms = vms;
	vm = &vms[list->nr];
	memset(vm, 0, sizeof(*vm));
	vm->id = nla_get_u32(tb[HVX_A_VM_ID]);
	if (tb[HVX_A_VM_PID])
		vm->pid = nla_get_u32(tb[HVX_A_VM_PID]);
	if (tb[HVX_A_VM_UID])
		vm->uid = nla_get_u32(tb[HVX_A_VM_UID]);
	if (tb[HVX_A_VM_NR_VCPUS])
		vm->nr_vcpus = nla_get_u32(tb[HVX_A_VM_NR_VCPUS]);
	if (tb[HVX_A_VM_PAGING])
		vm->paging = nla_get_u32(tb[HVX_A_VM_PAGING]);
	if (tb[HVX_A_VM_VENDOR])
		vm->vendor = nla_get_u32(tb[HVX_A_VM_VENDOR]);
	if (tb[HVX_A_VM_MEM_BYTES])
		vm->mem_bytes = nla_get_u64(tb[HVX_A_VM_MEM_BYTES]);
	if (tb[HVX_A_VM_PINNED_PAGES])
		vm->pinned_pages = nla_get_u64(tb[HVX_A_VM_PINNED_PAGES]);
	if (tb[HVX_A_VM_TABLE_PAGES])
		vm->table_pages = nla_get_u64(tb[HVX_A_VM_TABLE_PAGES]);
	if (tb[HVX_A_VM_STATS] && query__parse_stats(tb[HVX_A_VM_STATS], vm->stats) < 0)
		query__set_error(r->q, -EPROTO, "malformed HVX_A_VM_STATS");
	list->nr++;
	return NL_OK;
}

static int query__raw_exits(struct nlattr *nest, struct vcpu_sample *vcpu)
{
	struct nlattr *tb[HVX_A_MAX + 1];
	struct raw_exit *raw;
	struct nlattr *pos;
	int rem;

	nla_for_each_nested(pos, nest, rem) {
		if (nla_type(pos) != HVX_A_RAW_EXIT)
			continue;
		if (nla_parse_nested(tb, HVX_A_MAX, pos, attr_policy) < 0 ||
		    !tb[HVX_A_RAW_CODE] || !tb[HVX_A_RAW_COUNT])
			return -EPROTO;
		raw = query__grow(vcpu->raw, vcpu->nr_raw, sizeof(*raw));
		if (!raw)
			return -ENOMEM;
		vcpu->raw = raw;
		raw[vcpu->nr_raw].code = nla_get_u32(tb[HVX_A_RAW_CODE]);
		raw[vcpu->nr_raw].count = nla_get_u64(tb[HVX_A_RAW_COUNT]);
		vcpu->nr_raw++;
	}
	return 0;
}

static int query__vcpu_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[HVX_A_MAX + 1];
	struct reply *r = arg;
	struct vcpu_list *list = r->list;
	struct vcpu_sample *vcpu, *vcpus;
	int err;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, HVX_A_MAX, attr_policy) < 0 ||
	    !tb[HVX_A_VCPU_ID]) {
		query__set_error(r->q, -EPROTO, "malformed HVX_CMD_GET_VCPU reply");
		return NL_SKIP;
	}
	vcpus = query__grow(list->vcpus, list->nr, sizeof(*vcpus));
	if (!vcpus) {
		query__set_error(r->q, -ENOMEM, NULL);
		return NL_SKIP;
	}
	list->vcpus = vcpus;
	vcpu = &vcpus[list->nr++];
	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->id = nla_get_u32(tb[HVX_A_VCPU_ID]);
	if (tb[HVX_A_VCPU_STATS] && query__parse_stats(tb[HVX_A_VCPU_STATS], vcpu->stats) < 0)
		query__set_error(r->q, -EPROTO, "malformed HVX_A_VCPU_STATS");
	if (tb[HVX_A_VCPU_RAW_EXITS]) {
		err = query__raw_exits(tb[HVX_A_VCPU_RAW_EXITS], vcpu);
		if (err)
			query__set_error(r->q, err, "malformed HVX_A_VCPU_RAW_EXITS");
	}
	return NL_OK;
}

/* Sends @cmd (a dump if @dump) with the VM id, if any, and reads the answer. */
static int query__request(struct query *q, uint8_t cmd, bool dump,
			  const uint32_t *vm_id, nl_recvmsg_msg_cb_t fn, void *list)
{
	struct reply r = { .q = q, .list = list };
	struct nl_msg *msg;
	int err;

	q->err = 0;
	q->msg[0] = '\0';
	msg = nlmsg_alloc();
	if (!msg) {
		query__set_error(q, -ENOMEM, NULL);
		return q->err;
	}
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, q->family, 0,
			 dump ? NLM_F_DUMP : 0, cmd, HVX_GENL_VERSION) ||
	    (vm_id && nla_put_u32(msg, HVX_A_VM_ID, *vm_id) < 0)) {
		nlmsg_free(msg);
		query__set_error(q, -ENOMEM, NULL);
		return q->err;
	}
	err = nl_send_auto(q->sk, msg);
	nlmsg_free(msg);
	if (err < 0) {
		query__set_error(q, -EIO, nl_geterror(err));
		return q->err;
	}
	nl_socket_modify_cb(q->sk, NL_CB_VALID, NL_CB_CUSTOM, fn, &r);
	err = nl_recvmsgs_default(q->sk);
	if (err < 0)
		query__set_error(q, -EIO, nl_geterror(err));
	return q->err;
}

static int vm_cmp(const void *a, const void *b)
{
	const struct vm_sample *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

int query__vms(struct query *q, struct vm_list *list)
{
	int err;

	memset(list, 0, sizeof(*list));
	err = query__request(q, HVX_CMD_GET_VM, true, NULL, query__vm_cb, list);
	if (err) {
		vm_list__free(list);
		return err;
	}
	if (list->nr)
		qsort(list->vms, list->nr, sizeof(*list->vms), vm_cmp);
	return 0;
}

int query__vm(struct query *q, uint32_t vm_id, struct vm_sample *vm)
{
	struct vm_list list = { 0 };
	int err;

	err = query__request(q, HVX_CMD_GET_VM, false, &vm_id, query__vm_cb, &list);
	if (!err && list.nr != 1)
		query__set_error(q, list.nr ? -EPROTO : -ENOENT,
				 list.nr ? "several replies to one HVX_CMD_GET_VM" : NULL);
	if (!q->err)
		*vm = list.vms[0];
	vm_list__free(&list);
	return q->err;
}

static int vcpu_cmp(const void *a, const void *b)
{
	const struct vcpu_sample *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int raw_cmp(const void *a, const void *b)
{
	const struct raw_exit *x = a, *y = b;

	return (x->code > y->code) - (x->code < y->code);
}

int query__vcpus(struct query *q, uint32_t vm_id, struct vcpu_list *list)
{
	size_t i;
	int err;

	memset(list, 0, sizeof(*list));
	err = query__request(q, HVX_CMD_GET_VCPU, true, &vm_id, query__vcpu_cb, list);
	if (err) {
		vcpu_list__free(list);
		return err;
	}
	if (list->nr)
		qsort(list->vcpus, list->nr, sizeof(*list->vcpus), vcpu_cmp);
	for (i = 0; i < list->nr; i++)
		if (list->vcpus[i].nr_raw)
			qsort(list->vcpus[i].raw, list->vcpus[i].nr_raw,
			      sizeof(*list->vcpus[i].raw), raw_cmp);
	return 0;
}

struct listener {
	struct query *q;
	event_fn fn;
	void *arg;
	bool stop;
};

static int query__event_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[HVX_A_MAX + 1];
	struct listener *l = arg;
	struct event ev = { 0 };

	if (genlmsg_hdr(nlh)->cmd != HVX_CMD_EVENT)
		return NL_SKIP;
	if (genlmsg_parse(nlh, 0, tb, HVX_A_MAX, attr_policy) < 0 ||
	    !tb[HVX_A_EVENT_TYPE] || !tb[HVX_A_VM_ID]) {
		fprintf(stderr, "hvxstat: malformed HVX_CMD_EVENT message skipped\n");
		return NL_SKIP;
	}
	ev.type = nla_get_u32(tb[HVX_A_EVENT_TYPE]);
	ev.vm_id = nla_get_u32(tb[HVX_A_VM_ID]);
	if (tb[HVX_A_VM_UID])
		ev.uid = nla_get_u32(tb[HVX_A_VM_UID]);
	if (tb[HVX_A_VCPU_ID]) {
		ev.vcpu_id = nla_get_u32(tb[HVX_A_VCPU_ID]);
		ev.has_vcpu = true;
	}
	if (tb[HVX_A_EVENT_DATA]) {
		ev.data = nla_get_u64(tb[HVX_A_EVENT_DATA]);
		ev.has_data = true;
	}
	if (!l->fn(&ev, l->arg)) {
		l->stop = true;
		return NL_STOP;
	}
	return NL_OK;
}

int query__listen(struct query *q, event_fn fn, void *arg)
{
	struct listener l = { .q = q, .fn = fn, .arg = arg };
	int err;

	q->err = 0;
	q->msg[0] = '\0';
	if (q->events_group < 0) {
		query__set_error(q, -ENOENT, "no multicast group \"" HVX_GENL_MCGRP_EVENTS "\"");
		return q->err;
	}
	/* Events come in bursts (a VM and its vCPUs); keep room for them. */
	nl_socket_set_buffer_size(q->sk, 1 << 20, 0);
	err = nl_socket_add_membership(q->sk, q->events_group);
	if (err == -NLE_PERM) {
		query__set_error(q, -EPERM, "listening to events needs CAP_SYS_ADMIN");
		return q->err;
	}
	if (err < 0) {
		query__set_error(q, -EIO, nl_geterror(err));
		return q->err;
	}
	nl_socket_modify_cb(q->sk, NL_CB_VALID, NL_CB_CUSTOM, query__event_cb, &l);
	while (!l.stop) {
		err = nl_recvmsgs_default(q->sk);
		if (err == -NLE_NOMEM) {
			/* ENOBUFS: the socket overflowed, some events were dropped. */
			fprintf(stderr, "hvxstat: events lost (receive buffer overrun)\n");
			continue;
		}
		if (err < 0) {
			query__set_error(q, -EIO, nl_geterror(err));
			break;
		}
		if (q->err)
			break;
	}
	return q->err;
}

void vm_list__free(struct vm_list *list)
{
	free(list->vms);
	list->vms = NULL;
	list->nr = 0;
}

void vcpu_list__free(struct vcpu_list *list)
{
	size_t i;

	for (i = 0; i < list->nr; i++)
		free(list->vcpus[i].raw);
	free(list->vcpus);
	list->vcpus = NULL;
	list->nr = 0;
}
