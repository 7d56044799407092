// SPDX-License-Identifier: GPL-2.0
/*
 * The "hvx" generic-netlink family (uapi/linux/hvx_genl.h,
 * Documentation/netlink.rst): the VM dump, the events group, what an
 * unprivileged caller sees, a dump that keeps the view of whoever asked
 * for it, and malformed requests.
 *
 * The netlink client (lib/genl.c) is written against raw sockets so that
 * the malformed requests can be built byte by byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/hvx_genl.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "stats.h"

GUEST_CODE(stats_shutdown);
GUEST_CODE(stats_fetch);

/* ---- The VM dump ----------------------------------------------------------- */

static void check_listed(struct __test_metadata *_metadata, const struct vm_list *list,
			 __u32 id, unsigned int nr_vcpus, __u64 mem_bytes, __u32 vendor,
			 __u32 paging)
{
	const struct vm_info *vm = find_vm(list, id);

	ASSERT_NE(NULL, vm) TH_LOG("VM %u missing from the dump", id);
	EXPECT_EQ(nr_vcpus, vm->nr_vcpus) TH_LOG("VM %u", id);
	EXPECT_EQ(mem_bytes, vm->mem_bytes) TH_LOG("VM %u", id);
	EXPECT_EQ((__u32)getpid(), vm->pid) TH_LOG("VM %u", id);
	EXPECT_EQ(geteuid(), vm->uid) TH_LOG("VM %u", id);
	/* The mode asked for; auto resolved as the capabilities say (tvm_auto_paging). */
	EXPECT_EQ(paging, vm->paging) TH_LOG("VM %u", id);
	EXPECT_EQ(vendor, vm->vendor) TH_LOG("VM %u", id);
	EXPECT_EQ(HVX_STAT_MAX - HVX_STAT_PAD, vm->nr_stats) TH_LOG("VM %u", id);
}

TEST(dump_lists_live_vms)
{
	static struct vm_list list;
	const size_t extra = 0x10000;
	struct tvm t[4];
	struct vm_info vm;
	struct nl_err e;
	struct gnl g;
	void *slot1;
	__u32 id[4], vendor;
	unsigned int i;

	GNL_OPEN(&g);
	for (i = 0; i < 3; i++) {
		TVM_CREATE(&t[i], (i + 1) * GUEST_MIN_MEM, 0, i + 1);
		ASSERT_VM_ID(&g, id[i]);
		if (i)
			ASSERT_LT(id[i - 1], id[i]);
	}
	vendor = t[0].vendor;
	ASSERT_EQ(tvm_cap(&t[0].sys, HVX_CAP_VENDOR, 0), vendor);
	/* A second slot counts too. */
	slot1 = mmap(NULL, extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, slot1);
	ASSERT_OK(hvx_vm_set_region(&t[2].vm, 1, 0, 0x10000000, extra, slot1));

	ASSERT_NL_OK(nl_dump_vms(&g, &list, &e), &e);
	for (i = 0; i < 3; i++)
		check_listed(_metadata, &list, id[i], i + 1,
			     (i + 1) * GUEST_MIN_MEM + (i == 2 ? extra : 0), vendor, t[i].paging);

	tvm_destroy(&t[1]);
	ASSERT_NL_OK(nl_dump_vms(&g, &list, &e), &e);
	EXPECT_EQ(NULL, find_vm(&list, id[1])) TH_LOG("destroyed VM %u still listed", id[1]);
	check_listed(_metadata, &list, id[0], 1, GUEST_MIN_MEM, vendor, t[0].paging);
	check_listed(_metadata, &list, id[2], 3, 3 * GUEST_MIN_MEM + extra, vendor, t[2].paging);
	EXPECT_EQ(-ENOENT, nl_get_vm(&g, id[1], &vm, &e));
	EXPECT_NE(0, e.msg[0]) TH_LOG("no extack message for a destroyed VM");

	/* Ids are not reused. */
	TVM_CREATE(&t[3], GUEST_MIN_MEM, 0, 1);
	ASSERT_VM_ID(&g, id[3]);
	EXPECT_LT(id[2], id[3]);
	ASSERT_NL_OK(nl_dump_vms(&g, &list, &e), &e);
	EXPECT_EQ(NULL, find_vm(&list, id[1]));
	check_listed(_metadata, &list, id[3], 1, GUEST_MIN_MEM, vendor, t[3].paging);

	tvm_destroy(&t[3]);
	tvm_destroy(&t[2]);
	tvm_destroy(&t[0]);
	munmap(slot1, extra);
	ASSERT_NL_OK(nl_dump_vms(&g, &list, &e), &e);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(NULL, find_vm(&list, id[i])) TH_LOG("VM %u outlived its fds", id[i]);
	gnl_close(&g);
}

/* ---- Events --------------------------------------------------------------- */

static int ev_open(struct gnl *g)
{
	int ret = gnl_open(g);

	if (ret)
		return ret;
	if (!g->events_grp)
		return -ENOENT;
	if (setsockopt(g->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g->events_grp,
		       sizeof(g->events_grp)))
		return -errno;
	return 0;
}

/* The next event about VM vm_id (others are skipped): 0, or -errno (-EAGAIN: none in time). */
static int ev_next(struct gnl *g, __u32 vm_id, struct ev_info *ev)
{
	static char buf[NL_RECV_BUF] __attribute__((aligned(4)));
	const struct nlattr *tb[HVX_A_MAX + 1];
	const struct genlmsghdr *gh;
	const struct nlmsghdr *nlh;
	ssize_t n;

	for (;;) {
		n = recv(g->fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		for (nlh = (const struct nlmsghdr *)buf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_type != g->family)
				continue;
			gh = NLMSG_DATA(nlh);
			attr_parse((const char *)gh + GENL_HDRLEN,
				   nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, tb, HVX_A_MAX);
			if (!tb[HVX_A_VM_ID] || attr_uint(tb[HVX_A_VM_ID]) != vm_id)
				continue;
			memset(ev, 0, sizeof(*ev));
			ev->cmd = gh->cmd;
			ev->vm_id = vm_id;
			if (tb[HVX_A_EVENT_TYPE])
				ev->type = attr_uint(tb[HVX_A_EVENT_TYPE]);
			ev->has_uid = tb[HVX_A_VM_UID];
			if (ev->has_uid)
				ev->uid = attr_uint(tb[HVX_A_VM_UID]);
			ev->has_vcpu = tb[HVX_A_VCPU_ID];
			if (ev->has_vcpu)
				ev->vcpu_id = attr_uint(tb[HVX_A_VCPU_ID]);
			ev->has_data = tb[HVX_A_EVENT_DATA];
			if (ev->has_data)
				ev->data = attr_uint(tb[HVX_A_EVENT_DATA]);
			/* One event per datagram: the rest of buf is not needed. */
			return 0;
		}
	}
}

#define ASSERT_EVENT(g, vm_id, ev, want_type) do {				\
	int __r = ev_next(g, vm_id, ev);					\
	ASSERT_EQ(0, __r) TH_LOG("waiting for event %u of VM %u: %s",		\
				 want_type, vm_id, strerror(-__r));		\
	EXPECT_EQ(HVX_CMD_EVENT, (ev)->cmd);					\
	ASSERT_EQ((__u32)(want_type), (ev)->type);				\
	EXPECT_TRUE((ev)->has_uid);						\
	EXPECT_EQ(geteuid(), (ev)->uid);					\
} while (0)

TEST(events)
{
	struct hvx_vcpu_state st;
	struct hvx_run *run;
	struct ev_info ev;
	struct gnl g, req;
	struct tvm t;
	__u32 id;
	int r;

	if (geteuid())
		SKIP(return, "the events group needs CAP_SYS_ADMIN (run as root)");
	GNL_OPEN(&req);
	r = ev_open(&g);
	ASSERT_EQ(0, r) TH_LOG("joining group \"%s\": %s", HVX_GENL_MCGRP_EVENTS, strerror(-r));

	/* vCPU 0 triple faults, 1 fails entry, 2 fetches from outside RAM. */
	TVM_CREATE(&t, 2 * GUEST_MIN_MEM, 0, 3);
	ASSERT_VM_ID(&req, id);
	ASSERT_EVENT(&g, id, &ev, HVX_GENL_EVENT_VM_CREATED);
	EXPECT_FALSE(ev.has_vcpu);

	tvm_load_code(&t, "genl_guest", stats_shutdown_start, stats_shutdown_end);
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_LONG, GUEST_CODE_GPA));
	ASSERT_GUEST_EXIT(&t, 0, HVX_EXIT_SHUTDOWN);
	ASSERT_EVENT(&g, id, &ev, HVX_GENL_EVENT_SHUTDOWN);
	EXPECT_TRUE(ev.has_vcpu);
	EXPECT_EQ(0, ev.vcpu_id);

	/* Long mode without CR4.PAE: both vendors' entry checks refuse it. */
	ASSERT_OK(tvm_setup(&t, 1, HVX_MODE_LONG, GUEST_CODE_GPA));
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[1], &st, HVX_STATE_CREGS));
	st.cregs.cr4 &= ~(1ULL << 5);
	ASSERT_OK(hvx_vcpu_set_state(&t.vcpu[1], &st, HVX_STATE_CREGS));
	ASSERT_GUEST_EXIT(&t, 1, HVX_EXIT_FAIL_ENTRY);
	ASSERT_EVENT(&g, id, &ev, HVX_GENL_EVENT_FAIL_ENTRY);
	EXPECT_TRUE(ev.has_vcpu);
	EXPECT_EQ(1, ev.vcpu_id);
	EXPECT_TRUE(ev.has_data);
	if (tvm_is_amd(&t))
		EXPECT_EQ(~0ULL, ev.data) TH_LOG("VMEXIT_INVALID expected");
	EXPECT_EQ(t.vcpu[1].run->fail_entry.hardware_reason, ev.data);

	tvm_load(&t, GUEST_CODE_GPA + 0x1000, stats_fetch_start, stats_fetch_end);
	ASSERT_OK(tvm_setup(&t, 2, HVX_MODE_LONG, GUEST_CODE_GPA + 0x1000));
	run = t.vcpu[2].run;
	ASSERT_GUEST_EXIT(&t, 2, HVX_EXIT_INTERNAL_ERROR);
	ASSERT_EQ(HVX_INTERNAL_FETCH, run->internal.suberror);
	ASSERT_EVENT(&g, id, &ev, HVX_GENL_EVENT_INTERNAL_ERROR);
	EXPECT_TRUE(ev.has_vcpu);
	EXPECT_EQ(2, ev.vcpu_id);
	EXPECT_TRUE(ev.has_data);
	EXPECT_EQ(HVX_INTERNAL_FETCH, ev.data);

	tvm_destroy(&t);
	ASSERT_EVENT(&g, id, &ev, HVX_GENL_EVENT_VM_DESTROYED);
	EXPECT_FALSE(ev.has_vcpu);
	/* Nothing else about this VM. */
	EXPECT_EQ(-EAGAIN, ev_next(&g, id, &ev)) TH_LOG("unexpected event %u", ev.type);
	gnl_close(&g);
	gnl_close(&req);
}

/* ---- Unprivileged callers ---------------------------------------------------- */

#define NOBODY	65534

/* The child's checks; returns NULL or what failed. */
static const char *child_checks(struct hvx_sys *sys, __u32 vm_a, char *buf, size_t len)
{
	static struct vm_list list;
	static struct vcpu_list vcpus;
	struct hvx_vcpu vcpu;
	struct vm_info vm;
	struct hvx_vm b;
	struct nl_err e;
	struct gnl g;
	void *mem;
	int r, seen_b = 0;
	unsigned int i;

	if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
		return "dropping privileges failed";
	r = hvx_vm_create(sys, &b, HVX_PAGING_AUTO, 0);
	if (r) {
		snprintf(buf, len, "creating VM B as uid %d: %s", NOBODY, strerror(-r));
		return buf;
	}
	mem = mmap(NULL, GUEST_MIN_MEM, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED || hvx_vm_set_region(&b, 0, 0, 0, GUEST_MIN_MEM, mem) ||
	    hvx_vcpu_create(&b, 0, &vcpu))
		return "setting up VM B failed";
	r = gnl_open(&g);
	if (r) {
		snprintf(buf, len, "netlink as uid %d: %s", NOBODY, strerror(-r));
		return buf;
	}
	if (nl_dump_vms(&g, &list, &e)) {
		snprintf(buf, len, "dump as uid %d: %s (%.100s)", NOBODY, strerror(-e.err), e.msg);
		return buf;
	}
	for (i = 0; i < list.nr; i++) {
		if (list.vm[i].id == vm_a) {
			snprintf(buf, len, "uid %d sees root's VM %u", NOBODY, vm_a);
			return buf;
		}
		if (list.vm[i].uid != NOBODY) {
			snprintf(buf, len, "uid %d sees VM %u of uid %u", NOBODY, list.vm[i].id,
				 list.vm[i].uid);
			return buf;
		}
		if (list.vm[i].pid == (__u32)getpid() && list.vm[i].nr_vcpus == 1)
			seen_b++;
	}
	if (seen_b != 1)
		return "uid 65534 does not see its own VM B in the dump";
	r = nl_get_vm(&g, vm_a, &vm, &e);
	if (r != -ENOENT) {
		snprintf(buf, len, "GET_VM of root's VM %u as uid %d: %d, expected -ENOENT",
			 vm_a, NOBODY, r);
		return buf;
	}
	r = nl_dump_vcpus(&g, vm_a, &vcpus, &e);
	if (r != -ENOENT) {
		snprintf(buf, len, "GET_VCPU dump of root's VM %u as uid %d: %d, expected -ENOENT",
			 vm_a, NOBODY, r);
		return buf;
	}
	if (!g.events_grp)
		return "no events group";
	r = setsockopt(g.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g.events_grp,
		       sizeof(g.events_grp)) ? errno : 0;
	if (r != EPERM) {
		snprintf(buf, len, "joining the events group as uid %d: %s, expected EPERM",
			 NOBODY, r ? strerror(r) : "allowed");
		return buf;
	}
	gnl_close(&g);
	return NULL;
}

TEST(unprivileged_sees_own_vms)
{
	static struct vm_list list;
	int to_parent[2], to_child[2], status;
	const struct vm_info *b = NULL;
	char msg[256] = "";
	struct nl_err e;
	struct gnl g;
	struct tvm a;
	unsigned int i;
	ssize_t n;
	pid_t pid;
	__u32 id_a;

	if (geteuid())
		SKIP(return, "needs root to drop to uid %d", NOBODY);
	GNL_OPEN(&g);
	TVM_CREATE(&a, GUEST_MIN_MEM, 0, 1);
	ASSERT_VM_ID(&g, id_a);
	ASSERT_EQ(0, pipe(to_parent));
	ASSERT_EQ(0, pipe(to_child));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct hvx_sys sys;
		const char *fail;
		char c;

		close(to_parent[0]);
		close(to_child[1]);
		/* /dev/hvx is opened as root; VM creation needs nothing more. */
		if (hvx_open(&sys))
			fail = "opening /dev/hvx";
		else
			fail = child_checks(&sys, id_a, msg, sizeof(msg));
		snprintf(msg, sizeof(msg), "%s", fail ? fail : "ok");
		if (write(to_parent[1], msg, strlen(msg)) < 0)
			_exit(2);
		close(to_parent[1]);
		/* Keep VM B alive until the parent has looked. */
		while (read(to_child[0], &c, 1) > 0)
			;
		_exit(fail ? 1 : 0);
	}
	close(to_parent[1]);
	close(to_child[0]);
	n = read(to_parent[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = 0;
	close(to_parent[0]);
	EXPECT_STREQ("ok", msg);

	/* Root sees both. */
	EXPECT_EQ(0, nl_dump_vms(&g, &list, &e)) TH_LOG("%s", e.msg);
	EXPECT_NE(NULL, find_vm(&list, id_a));
	for (i = 0; i < list.nr; i++)
		if (list.vm[i].pid == (__u32)pid)
			b = &list.vm[i];
	EXPECT_NE(NULL, b) TH_LOG("root does not see the child's VM");
	if (b) {
		EXPECT_EQ(NOBODY, b->uid);
		EXPECT_LT(id_a, b->id);
	}
	close(to_child[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	tvm_destroy(&a);
	gnl_close(&g);
}

/* A dump's answers, and how many bytes of messages they took. */
struct dump_seen {
	struct vm_list list;
	size_t bytes;
};

static void dump_seen_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dump_seen *d = arg;

	d->bytes += NLMSG_ALIGN(nlh->nlmsg_len);
	nl_vm_cb(nlh, &d->list);
}

#define DUMP_CHILD_VMS	48

/*
 * A dump keeps the view of whoever asked for it.  uid 65534 asks for a
 * dump of VMs on a socket it shares with root, and root reads it: the
 * parts after the first are made as root reads, and must still list only
 * 65534's VMs, not root's VM made in between.  The socket has never read,
 * so the first part is at most a page; 48 VMs take more than that, so
 * root's reads made the rest.
 */
TEST(dump_keeps_requester_view)
{
	static struct dump_seen seen;
	int to_parent[2], to_child[2], status;
	struct gnl g, shared;
	struct nl_err e;
	unsigned int i;
	struct tvm a;
	char c = 0;
	pid_t pid;

	if (geteuid())
		SKIP(return, "needs root to drop to uid %d", NOBODY);
	GNL_OPEN(&g);
	shared = g;
	shared.fd = -1;
	ASSERT_EQ(0, gnl_reopen(&shared));
	ASSERT_EQ(0, pipe(to_parent));
	ASSERT_EQ(0, pipe(to_child));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		static struct hvx_vm vms[DUMP_CHILD_VMS];
		struct hvx_sys sys;

		close(to_parent[0]);
		close(to_child[1]);
		if (hvx_open(&sys) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			_exit(2);
		for (i = 0; i < DUMP_CHILD_VMS; i++)
			if (hvx_vm_create(&sys, &vms[i], HVX_PAGING_AUTO, 0))
				_exit(3);
		if (nl_send(&shared, shared.family, NLM_F_DUMP, HVX_CMD_GET_VM, HVX_GENL_VERSION,
			    NULL, 0, 0))
			_exit(4);
		if (write(to_parent[1], "s", 1) != 1)
			_exit(5);
		/* Keep the VMs until root has read the dump. */
		while (read(to_child[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(to_parent[1]);
	close(to_child[0]);
	ASSERT_EQ(1, read(to_parent[0], &c, 1)) TH_LOG("the child did not get to its request");
	close(to_parent[0]);
	TVM_CREATE(&a, GUEST_MIN_MEM, 0, 1);

	shared.seq++;		/* the child's request */
	memset(&seen, 0, sizeof(seen));
	EXPECT_EQ(0, nl_recv(&shared, dump_seen_cb, &seen, &e)) TH_LOG("%s", e.msg);
	EXPECT_EQ(DUMP_CHILD_VMS, seen.list.nr);
	for (i = 0; i < seen.list.nr; i++)
		EXPECT_EQ(NOBODY, seen.list.vm[i].uid)
			TH_LOG("the dump 65534 asked for lists VM %u of uid %u", seen.list.vm[i].id,
			       seen.list.vm[i].uid);
	EXPECT_LT(4096, seen.bytes) TH_LOG("the dump fit in one part: its later parts untried");

	close(to_child[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status 0x%x", status);
	tvm_destroy(&a);
	gnl_close(&shared);
	gnl_close(&g);
}

/* ---- Malformed requests --------------------------------------------------------- */

/* Sends a request of raw attributes and reads its answer into e. */
static int raw_request(struct gnl *g, __u8 cmd, __u16 flags, const void *attrs, size_t alen,
		       __u32 nlmsg_len, struct nl_err *e)
{
	static struct vcpu_list sink;
	int ret;

	ret = nl_send(g, g->family, flags, cmd, HVX_GENL_VERSION, attrs, alen, nlmsg_len);
	if (ret) {
		memset(e, 0, sizeof(*e));
		return e->err = ret;
	}
	memset(&sink, 0, sizeof(sink));
	return nl_recv(g, NULL, &sink, e);
}

/* Offset in a request of the attribute that starts at off in its payload. */
#define ATTR_OFFS(off)	((int)(NLMSG_HDRLEN + GENL_HDRLEN + (off)))

/* Asserts the error is one of two errnos, with an extack message when want_msg. */
#define EXPECT_REJECT(e, err1, err2, want_msg, what) do {			\
	EXPECT_TRUE((e)->err == -(err1) || (e)->err == -(err2))		\
		TH_LOG("%s: got %d (%s), expected -%s", what, (e)->err,	\
		       (e)->err ? strerror(-(e)->err) : "success", #err1);	\
	if (want_msg)								\
		EXPECT_NE(0, (e)->msg[0]) TH_LOG("%s: no extack message", what); \
} while (0)

TEST(malformed_requests)
{
	const struct counts want = { .outs = 3, .ins = 2, .cpuids = 1 };
	struct vcpu_info before, after;
	static struct vm_list list;
	struct vm_info vm_before, vm_after;
	struct counts seen;
	char attrs[64];
	struct nl_err e;
	struct gnl g;
	struct tvm t;
	size_t off;
	__u16 u16;
	__u32 id;

	GNL_OPEN(&g);
	counts_vm(_metadata, &t, &want, 1, &seen);
	ASSERT_VM_ID(&g, id);
	ASSERT_NL_OK(nl_get_vcpu(&g, id, 0, &before, &e), &e);
	ASSERT_NL_OK(nl_get_vm(&g, id, &vm_before, &e), &e);

	/* An attribute type the family does not know. */
	off = 0;
	attr_put_u32(attrs, &off, HVX_A_VM_ID, id);
	attr_put_u32(attrs, &off, 200, 1);
	raw_request(&g, HVX_CMD_GET_VM, 0, attrs, off, 0, &e);
	EXPECT_REJECT(&e, EINVAL, EINVAL, true, "unknown attribute 200");
	EXPECT_EQ(ATTR_OFFS(8), e.offs) TH_LOG("offset of the bad attribute");

	/* HVX_A_VM_ID as a u16. */
	off = 0;
	u16 = id;
	attr_put(attrs, &off, HVX_A_VM_ID, &u16, sizeof(u16));
	raw_request(&g, HVX_CMD_GET_VM, 0, attrs, off, 0, &e);
	EXPECT_REJECT(&e, EINVAL, ERANGE, true, "HVX_A_VM_ID of 2 bytes");
	EXPECT_EQ(ATTR_OFFS(0), e.offs) TH_LOG("offset of the bad attribute");

	/* GET_VM do without HVX_A_VM_ID: the ack names the missing attribute. */
	raw_request(&g, HVX_CMD_GET_VM, 0, NULL, 0, 0, &e);
	EXPECT_REJECT(&e, EINVAL, EINVAL, false, "GET_VM do without HVX_A_VM_ID");
	EXPECT_EQ(HVX_A_VM_ID, e.miss_type) TH_LOG("GET_VM do without HVX_A_VM_ID");

	/* A vCPU dump without HVX_A_VM_ID. */
	raw_request(&g, HVX_CMD_GET_VCPU, NLM_F_DUMP, NULL, 0, 0, &e);
	EXPECT_REJECT(&e, EINVAL, EINVAL, true, "GET_VCPU dump without HVX_A_VM_ID");

	/* HVX_A_VCPU_ID past the policy's maximum, in a do and in a dump. */
	off = 0;
	attr_put_u32(attrs, &off, HVX_A_VM_ID, id);
	attr_put_u32(attrs, &off, HVX_A_VCPU_ID, 1024);
	raw_request(&g, HVX_CMD_GET_VCPU, 0, attrs, off, 0, &e);
	EXPECT_REJECT(&e, ERANGE, EINVAL, true, "GET_VCPU do of vCPU 1024");
	EXPECT_EQ(ATTR_OFFS(8), e.offs) TH_LOG("offset of the bad attribute");
	raw_request(&g, HVX_CMD_GET_VCPU, NLM_F_DUMP, attrs, off, 0, &e);
	EXPECT_REJECT(&e, ERANGE, EINVAL, true, "GET_VCPU dump with vCPU 1024");

	/* A vCPU the VM does not have. */
	off = 0;
	attr_put_u32(attrs, &off, HVX_A_VM_ID, id);
	attr_put_u32(attrs, &off, HVX_A_VCPU_ID, 5);
	raw_request(&g, HVX_CMD_GET_VCPU, 0, attrs, off, 0, &e);
	EXPECT_REJECT(&e, ENOENT, ENOENT, true, "GET_VCPU do of vCPU 5");

	/* A VM that does not exist, in a vCPU dump. */
	off = 0;
	attr_put_u32(attrs, &off, HVX_A_VM_ID, 0xfffffff0);
	raw_request(&g, HVX_CMD_GET_VCPU, NLM_F_DUMP, attrs, off, 0, &e);
	EXPECT_REJECT(&e, ENOENT, ENOENT, true, "GET_VCPU dump of VM 0xfffffff0");

	/* An unknown command: no extack message is promised. */
	off = 0;
	attr_put_u32(attrs, &off, HVX_A_VM_ID, id);
	raw_request(&g, 42, 0, attrs, off, 0, &e);
	EXPECT_REJECT(&e, EOPNOTSUPP, EOPNOTSUPP, false, "command 42");
	raw_request(&g, HVX_CMD_EVENT, 0, attrs, off, 0, &e);
	EXPECT_REJECT(&e, EOPNOTSUPP, EOPNOTSUPP, false, "HVX_CMD_EVENT as a request");

	/* A message that ends inside the generic-netlink header. */
	raw_request(&g, HVX_CMD_GET_VM, 0, NULL, 0, NLMSG_HDRLEN + 2, &e);
	EXPECT_REJECT(&e, EINVAL, EINVAL, false, "truncated genetlink header");

	/* An attribute that claims more bytes than the message has. */
	off = 0;
	attr_put_u32(attrs, &off, HVX_A_VM_ID, id);
	((struct nlattr *)attrs)->nla_len = NLA_HDRLEN + 8;
	raw_request(&g, HVX_CMD_GET_VM, 0, attrs, off, 0, &e);
	EXPECT_REJECT(&e, EINVAL, ERANGE, false, "truncated attribute");

	/* Still answering, and nothing moved. */
	ASSERT_NL_OK(nl_dump_vms(&g, &list, &e), &e);
	ASSERT_NE(NULL, find_vm(&list, id));
	ASSERT_NL_OK(nl_get_vcpu(&g, id, 0, &after, &e), &e);
	ASSERT_NL_OK(nl_get_vm(&g, id, &vm_after, &e), &e);
	EXPECT_EQ(0, memcmp(before.stats, after.stats, sizeof(before.stats)));
	EXPECT_EQ(before.nr_raw, after.nr_raw);
	EXPECT_EQ(0, memcmp(before.raw_count, after.raw_count, sizeof(before.raw_count)));
	EXPECT_EQ(0, memcmp(vm_before.stats, vm_after.stats, sizeof(vm_before.stats)));
	EXPECT_EQ(vm_before.pinned_pages, vm_after.pinned_pages);
	check_vcpu_counts(_metadata, &after, &want, &seen, t.paging);
	tvm_destroy(&t);
	gnl_close(&g);
}

int main(int argc, char **argv)
{
	stats_require_hvx();
	return test_harness_run(argc, argv);
}
