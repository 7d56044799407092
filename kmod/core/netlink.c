// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: the "hvx" generic-netlink family: VM and vCPU statistics, and the
 * "events" multicast group (Documentation/netlink.rst).
 *
 * Lock order: hvx_vms_lock, then vm->vcpus_lock (a spinlock, which keeps
 * vCPUs alive).  Never vm->lock: it is held across accesses to user
 * memory, which its owner can stall for ever (userfaultfd, FUSE), and a
 * global lock must not wait on that.
 */
#include <linux/module.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <net/genetlink.h>
#include <linux/math64.h>
#include <asm/tsc.h>

#include "hvx_core.h"

static const struct nla_policy hvx_genl_policy[HVX_A_MAX + 1] = {
	[HVX_A_VM_ID]	= { .type = NLA_U32 },
	[HVX_A_VCPU_ID]	= NLA_POLICY_MAX(NLA_U32, HVX_MAX_VCPUS - 1),
};

static struct genl_family hvx_genl_family;

enum { HVX_MCGRP_EVENTS };

static const struct genl_multicast_group hvx_genl_mcgrps[] = {
	[HVX_MCGRP_EVENTS] = {
		.name = HVX_GENL_MCGRP_EVENTS,
		/* Events name other users' VMs: privileged listeners only. */
		.flags = GENL_MCAST_CAP_SYS_ADMIN,
	},
};

/*
 * Who asks: a caller sees the VMs of its own effective uid, or all with
 * CAP_SYS_ADMIN (netlink_capable(): in the socket opener's credentials
 * and the caller's).  A request is judged when it is made: the later
 * parts of a dump, produced when someone reads the socket, keep the view
 * of the process that asked for the dump, whoever holds the socket by then.
 */
struct hvx_viewer {
	kuid_t uid;
	bool admin;
};

static struct hvx_viewer hvx_viewer_now(const struct sk_buff *skb)
{
	return (struct hvx_viewer){
		.uid = current_euid(),
		.admin = netlink_capable(skb, CAP_SYS_ADMIN),
	};
}

static bool hvx_vm_visible(const struct hvx_vm *vm, const struct hvx_viewer *who)
{
	return who->admin || uid_eq(vm->uid, who->uid);
}

/* Dumps: cb->args[1] and [2] hold the requester's view, taken at the start. */
static int hvx_genl_dump_start(struct netlink_callback *cb)
{
	struct hvx_viewer who = hvx_viewer_now(cb->skb);

	cb->args[1] = __kuid_val(who.uid);
	cb->args[2] = who.admin;
	return 0;
}

static struct hvx_viewer hvx_viewer_of_dump(const struct netlink_callback *cb)
{
	return (struct hvx_viewer){
		.uid = KUIDT_INIT((uid_t)cb->args[1]),
		.admin = cb->args[2],
	};
}

/* A counter as reported: run time is kept in TSC cycles, cheaper than a clock. */
static u64 hvx_stat_value(const u64 *stat, int i)
{
	u64 v = READ_ONCE(stat[i]);

	if (i == HVX_STAT_RUN_NS)
		v = tsc_khz ? mul_u64_u32_div(v, 1000000, tsc_khz) : 0;
	return v;
}

/* @stat holds reported values (hvx_stat_value()). */
static int hvx_put_stats(struct sk_buff *skb, int type, const u64 *stat)
{
	struct nlattr *nest = nla_nest_start(skb, type);
	int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = HVX_STAT_EXITS; i <= HVX_STAT_MAX; i++)
		if (nla_put_u64_64bit(skb, i, stat[i], HVX_STAT_PAD))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int hvx_fill_vm(struct sk_buff *skb, struct hvx_vm *vm, u32 portid, u32 seq, int flags)
{
	u64 total[__HVX_STAT_MAX] = { 0 };
	u64 mem = 0, pinned, tables;
	unsigned int nr_vcpus;
	void *hdr;
	int i, s;

	spin_lock(&vm->vcpus_lock);
	for (i = 0; i < HVX_MAX_VCPUS; i++) {
		struct hvx_vcpu *vcpu = vm->vcpus[i];

		if (!vcpu)
			continue;
		/* Each vCPU's value as reported, so the totals are their sums. */
		for (s = HVX_STAT_EXITS; s <= HVX_STAT_MAX; s++)
			total[s] += hvx_stat_value(vcpu->stat, s);
	}
	nr_vcpus = vm->nr_vcpus;
	spin_unlock(&vm->vcpus_lock);
	/* Statistics only: racy reads of words that vm->lock's holder updates. */
	for (i = 0; i < HVX_NR_SLOTS; i++)
		mem += READ_ONCE(vm->slots[i].npages) << PAGE_SHIFT;
	pinned = READ_ONCE(vm->tdp.pinned_pages);
	tables = READ_ONCE(vm->tdp.table_pages);

	hdr = genlmsg_put(skb, portid, seq, &hvx_genl_family, flags, HVX_CMD_GET_VM);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, HVX_A_VM_ID, vm->id) ||
	    nla_put_u32(skb, HVX_A_VM_PID, vm->pid) ||
	    nla_put_u32(skb, HVX_A_VM_UID, from_kuid_munged(current_user_ns(), vm->uid)) ||
	    nla_put_u32(skb, HVX_A_VM_NR_VCPUS, nr_vcpus) ||
	    nla_put_u64_64bit(skb, HVX_A_VM_MEM_BYTES, mem, HVX_A_PAD) ||
	    nla_put_u64_64bit(skb, HVX_A_VM_PINNED_PAGES, pinned, HVX_A_PAD) ||
	    nla_put_u64_64bit(skb, HVX_A_VM_TABLE_PAGES, tables, HVX_A_PAD) ||
	    nla_put_u32(skb, HVX_A_VM_PAGING, vm->paging) ||
	    nla_put_u32(skb, HVX_A_VM_VENDOR, hvx_ops->vendor) ||
	    hvx_put_stats(skb, HVX_A_VM_STATS, total)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* With vm->vcpus_lock held, so that the vCPU stays; must not sleep. */
static int hvx_fill_vcpu(struct sk_buff *skb, struct hvx_vcpu *vcpu, u32 portid, u32 seq,
			 int flags)
{
	u64 stat[__HVX_STAT_MAX] = { 0 };
	struct nlattr *raw;
	void *hdr;
	unsigned int i;

	lockdep_assert_held(&vcpu->vm->vcpus_lock);
	for (i = HVX_STAT_EXITS; i <= HVX_STAT_MAX; i++)
		stat[i] = hvx_stat_value(vcpu->stat, i);
	hdr = genlmsg_put(skb, portid, seq, &hvx_genl_family, flags, HVX_CMD_GET_VCPU);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, HVX_A_VM_ID, vcpu->vm->id) ||
	    nla_put_u32(skb, HVX_A_VCPU_ID, vcpu->id) ||
	    hvx_put_stats(skb, HVX_A_VCPU_STATS, stat))
		goto err_cancel;
	raw = nla_nest_start(skb, HVX_A_VCPU_RAW_EXITS);
	if (!raw)
		goto err_cancel;
	for (i = 0; i < hvx_ops->nr_raw_exits; i++) {
		u64 n = READ_ONCE(vcpu->raw_exits[i]);
		struct nlattr *e;

		if (!n)
			continue;
		e = nla_nest_start(skb, HVX_A_RAW_EXIT);
		if (!e || nla_put_u32(skb, HVX_A_RAW_CODE, hvx_ops->raw_exit_code(i)) ||
		    nla_put_u64_64bit(skb, HVX_A_RAW_COUNT, n, HVX_A_PAD))
			goto err_cancel;
		nla_nest_end(skb, e);
	}
	nla_nest_end(skb, raw);
	genlmsg_end(skb, hdr);
	return 0;

err_cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/* Finds a VM visible to who by id, with hvx_vms_lock held. */
static struct hvx_vm *hvx_find_vm(u32 id, const struct hvx_viewer *who)
{
	struct hvx_vm *vm;

	lockdep_assert_held(&hvx_vms_lock);
	list_for_each_entry(vm, &hvx_vms, node)
		if (vm->id == id && hvx_vm_visible(vm, who))
			return vm;
	return NULL;
}

static int hvx_genl_get_vm_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_viewer who = hvx_viewer_now(skb);
	struct sk_buff *msg;
	struct hvx_vm *vm;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, HVX_A_VM_ID))
		return -EINVAL;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&hvx_vms_lock);
	vm = hvx_find_vm(nla_get_u32(info->attrs[HVX_A_VM_ID]), &who);
	if (!vm) {
		mutex_unlock(&hvx_vms_lock);
		nlmsg_free(msg);
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[HVX_A_VM_ID], "no such VM");
		return -ENOENT;
	}
	ret = hvx_fill_vm(msg, vm, info->snd_portid, info->snd_seq, 0);
	mutex_unlock(&hvx_vms_lock);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

/* cb->args[0]: id of the last VM or vCPU sent, +1 (0: none yet). */
static int hvx_genl_get_vm_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct hvx_viewer who = hvx_viewer_of_dump(cb);
	struct hvx_vm *vm;
	int ret = 0;

	mutex_lock(&hvx_vms_lock);
	list_for_each_entry(vm, &hvx_vms, node) {
		if (vm->id < cb->args[0] || !hvx_vm_visible(vm, &who))
			continue;
		ret = hvx_fill_vm(skb, vm, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  NLM_F_MULTI);
		if (ret)
			break;
		cb->args[0] = vm->id + 1;
	}
	mutex_unlock(&hvx_vms_lock);
	/* A full skb ends this part of the dump; the next one goes on. */
	return ret == -EMSGSIZE && skb->len ? skb->len : ret ? ret : skb->len;
}

static int hvx_genl_get_vcpu_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_viewer who = hvx_viewer_now(skb);
	struct hvx_vcpu *vcpu;
	struct sk_buff *msg;
	struct hvx_vm *vm;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, HVX_A_VM_ID) || GENL_REQ_ATTR_CHECK(info, HVX_A_VCPU_ID))
		return -EINVAL;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&hvx_vms_lock);
	vm = hvx_find_vm(nla_get_u32(info->attrs[HVX_A_VM_ID]), &who);
	if (!vm) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[HVX_A_VM_ID], "no such VM");
		ret = -ENOENT;
		goto out;
	}
	spin_lock(&vm->vcpus_lock);
	vcpu = vm->vcpus[nla_get_u32(info->attrs[HVX_A_VCPU_ID])];
	if (vcpu) {
		ret = hvx_fill_vcpu(msg, vcpu, info->snd_portid, info->snd_seq, 0);
	} else {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[HVX_A_VCPU_ID], "no such vCPU");
		ret = -ENOENT;
	}
	spin_unlock(&vm->vcpus_lock);
out:
	mutex_unlock(&hvx_vms_lock);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

/*
 * The request is parsed here rather than taken from the genetlink core,
 * whose dump-info layout differs between kernel versions; the core has
 * validated it against the policy already.
 */
static int hvx_genl_get_vcpu_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct hvx_viewer who = hvx_viewer_of_dump(cb);
	struct nlattr *attrs[HVX_A_MAX + 1];
	struct hvx_vm *vm;
	int i, ret;

	ret = nlmsg_parse(cb->nlh, GENL_HDRLEN, attrs, HVX_A_MAX, hvx_genl_policy, cb->extack);
	if (ret)
		return ret;
	if (!attrs[HVX_A_VM_ID]) {
		NL_SET_ERR_MSG(cb->extack, "a vCPU dump needs HVX_A_VM_ID");
		return -EINVAL;
	}
	mutex_lock(&hvx_vms_lock);
	vm = hvx_find_vm(nla_get_u32(attrs[HVX_A_VM_ID]), &who);
	if (!vm) {
		mutex_unlock(&hvx_vms_lock);
		NL_SET_ERR_MSG_ATTR(cb->extack, attrs[HVX_A_VM_ID], "no such VM");
		return -ENOENT;
	}
	spin_lock(&vm->vcpus_lock);
	for (i = cb->args[0]; i < HVX_MAX_VCPUS; i++) {
		if (!vm->vcpus[i])
			continue;
		ret = hvx_fill_vcpu(skb, vm->vcpus[i], NETLINK_CB(cb->skb).portid,
				    cb->nlh->nlmsg_seq, NLM_F_MULTI);
		if (ret)
			break;
		cb->args[0] = i + 1;
	}
	spin_unlock(&vm->vcpus_lock);
	mutex_unlock(&hvx_vms_lock);
	return ret == -EMSGSIZE && skb->len ? skb->len : ret ? ret : skb->len;
}

static const struct genl_ops hvx_genl_ops[] = {
	{
		.cmd	= HVX_CMD_GET_VM,
		.doit	= hvx_genl_get_vm_doit,
		.start	= hvx_genl_dump_start,
		.dumpit	= hvx_genl_get_vm_dumpit,
	},
	{
		.cmd	= HVX_CMD_GET_VCPU,
		.doit	= hvx_genl_get_vcpu_doit,
		.start	= hvx_genl_dump_start,
		.dumpit	= hvx_genl_get_vcpu_dumpit,
	},
};

static struct genl_family hvx_genl_family __ro_after_init = {
	.name		= HVX_GENL_NAME,
	.version	= HVX_GENL_VERSION,
	.maxattr	= HVX_A_MAX,
	.policy		= hvx_genl_policy,
	.module		= THIS_MODULE,
	.ops		= hvx_genl_ops,
	.n_ops		= ARRAY_SIZE(hvx_genl_ops),
	/* Strict validation for every command: no reserved-field leniency. */
	.resv_start_op	= HVX_CMD_UNSPEC,
	.mcgrps		= hvx_genl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(hvx_genl_mcgrps),
};

/* Tells the "events" group; vcpu_id < 0: a VM event. */
void hvx_event(struct hvx_vm *vm, u32 type, int vcpu_id, u64 data)
{
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(&hvx_genl_family, &init_net, HVX_MCGRP_EVENTS))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &hvx_genl_family, 0, HVX_CMD_EVENT);
	if (!hdr)
		goto err_free;
	if (nla_put_u32(msg, HVX_A_EVENT_TYPE, type) ||
	    nla_put_u32(msg, HVX_A_VM_ID, vm->id) ||
	    nla_put_u32(msg, HVX_A_VM_UID, from_kuid_munged(&init_user_ns, vm->uid)) ||
	    (vcpu_id >= 0 && nla_put_u32(msg, HVX_A_VCPU_ID, vcpu_id)) ||
	    nla_put_u64_64bit(msg, HVX_A_EVENT_DATA, data, HVX_A_PAD))
		goto err_free;
	genlmsg_end(msg, hdr);
	genlmsg_multicast(&hvx_genl_family, msg, 0, HVX_MCGRP_EVENTS, GFP_KERNEL);
	return;

err_free:
	nlmsg_free(msg);
}

int hvx_netlink_init(void)
{
	return genl_register_family(&hvx_genl_family);
}

void hvx_netlink_exit(void)
{
	genl_unregister_family(&hvx_genl_family);
}
