// SPDX-License-Identifier: GPL-2.0
/*
 * Lifecycle and isolation torture, each case with nested and with shadow
 * paging:
 *
 *  - sigkill_while_running: a process whose two vCPUs run (one spinning,
 *    one exiting to userspace all the time) while a third thread adds,
 *    removes and replaces a slot and unmaps its memory, SIGKILLed after a
 *    random delay (seeded; HVX_TORTURE_SEED replays the delays), round after
 *    round: the module's reference count returns to where it was after
 *    every round, no VM is left and a guest still runs;
 *  - fds_released_in_every_order: the VM fd, both vCPU fds, the run pages
 *    and the slot memory of a VM released in each of the 120 orders, with
 *    the ioctls that remain possible tried after each step (a vCPU outlives
 *    its VM fd and still runs: Documentation/api.rst, 1.1): the module's
 *    reference count returns to where it was every time;
 *  - memcg_limit: a process in a memory cgroup with a small memory.max
 *    creates VMs, vCPUs and slots and runs guests that touch memory until
 *    something fails: an hvx call with ENOMEM (HVX_RUN too, for a guest
 *    page the memcg refuses), or the memcg's OOM killer, nothing else; a
 *    guest whose HVX_RUN failed runs on to its end once memory is freed;
 *    once the process is gone the cgroup's charges are gone too and it can
 *    be removed;
 *  - guest_msrs_stay_in_guest: a guest fills SYSCALL, SYSENTER,
 *    FS/GS/KERNEL_GS_BASE and TSC_AUX with garbage and reaches for the
 *    PMU's MSRs and RDPMC; it gets #GP or an MSR exit for the PMU
 *    (Documentation/api.rst, 8.5), and after every exit the thread that ran
 *    it makes syscalls (one with RFLAGS.DF set), uses its TLS, its GS base
 *    and RDTSCP, and a hardware breakpoint of its own still counts;
 *  - guest_breakpoints_stay_in_guest: the same with the guest's DR0-DR3
 *    armed at a variable and a function of this thread, which must then
 *    write and call them freely (not on QEMU, whose #VMEXIT keeps them).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <asm/prctl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "genl.h"
#include "test_util.h"
#include "torture_guest.h"

GUEST_CODE(tt_code);
extern const unsigned char tt_spin[], tt_pio[], tt_touch[], tt_state[];
extern const unsigned char tt_rd_evtsel[], tt_wr_evtsel[], tt_rd_pmc0[], tt_wr_pmc0[];
extern const unsigned char tt_rd_amd_evtsel[], tt_wr_amd_evtsel[], tt_rd_amd_ctr[];
extern const unsigned char tt_wr_amd_ctr[], tt_rdpmc[];

#define TT_MEM		(2 * GUEST_MIN_MEM)
#define REFCNT_PATH	"/sys/module/hvx/refcnt"

/* The module's reference count, or -1. */
static long hvx_refcnt(void)
{
	char buf[32] = "";
	long n = -1;
	int fd;

	fd = open(REFCNT_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		n = strtol(buf, NULL, 10);
	close(fd);
	return n;
}

/*
 * Waits up to ms for the reference count to come back to want (a dying
 * process's files are released before its parent can reap it, but allow
 * for deferred work); returns the last value read.
 */
static long refcnt_settle(long want, int ms)
{
	long n = hvx_refcnt();

	for (; n != want && ms > 0; ms -= 10) {
		usleep(10000);
		n = hvx_refcnt();
	}
	return n;
}

/* The number of VMs netlink shows, or -errno. */
static int vm_count(void)
{
	static struct vm_list list;
	struct nl_err e;
	struct gnl g;
	int ret;

	ret = gnl_open(&g);
	if (ret)
		return ret;
	ret = nl_dump_vms(&g, &list, &e);
	gnl_close(&g);
	return ret ? ret : (int)list.nr;
}

static int vm_count_settle(int want, int ms)
{
	int n = vm_count();

	for (; n != want && n >= 0 && ms > 0; ms -= 10) {
		usleep(10000);
		n = vm_count();
	}
	return n;
}

/* Puts vCPU idx at label of tt_code with R12 = r12 and R13 = r13. */
static int tt_setup(struct tvm *t, unsigned int idx, const unsigned char *label, __u64 r12,
		    __u64 r13)
{
	struct hvx_regs regs;
	int ret;

	ret = tvm_setup(t, idx, HVX_MODE_LONG, GUEST_ADDR(tt_code, label));
	if (ret)
		return ret;
	ret = tvm_get_regs(t, idx, &regs);
	if (ret)
		return ret;
	regs.r12 = r12;
	regs.r13 = r13;
	return tvm_set_regs(t, idx, &regs);
}

FIXTURE(torture) {
	long refcnt;
	int vms;
};

FIXTURE_VARIANT(torture) {
	__u32 paging;
	const char *name;
};

FIXTURE_VARIANT_ADD(torture, nested) {
	.paging = HVX_PAGING_NESTED,
	.name = "nested",
};

FIXTURE_VARIANT_ADD(torture, shadow) {
	.paging = HVX_PAGING_SHADOW,
	.name = "shadow",
};

FIXTURE_SETUP(torture)
{
	struct hvx_sys sys;
	__u32 cap = variant->paging == HVX_PAGING_NESTED ? HVX_CAP_PAGING_NESTED :
							   HVX_CAP_PAGING_SHADOW;
	__u64 has;

	TVM_REQUIRE_HVX();
	ASSERT_EQ(0, tvm_sys_open(&sys));
	has = tvm_cap(&sys, cap, 0);
	hvx_close(&sys);
	if (!has)
		SKIP(return, "no %s paging on this CPU", variant->name);
	/* What the module holds with none of this test's fds open. */
	self->refcnt = hvx_refcnt();
	ASSERT_LE(0, self->refcnt) TH_LOG("%s: %s", REFCNT_PATH, strerror(errno));
	self->vms = vm_count();
	ASSERT_LE(0, self->vms) TH_LOG("netlink VM dump: %s", strerror(-self->vms));
}

FIXTURE_TEARDOWN(torture)
{
}

/* ---- SIGKILL while vCPUs run and slots change ----------------------------- */

#define KILL_ROUNDS	20
#define KILL_MAX_US	30000
#define CHURN_SIZE	(4 * 4096)

/* What a child tells its parent, in a shared page. */
struct kill_share {
	volatile int ready;
	volatile int failed;
	volatile unsigned long pio_exits, spin_exits, slot_changes;
	char msg[200];
};

struct kill_child {
	struct tvm t;
	struct kill_share *sh;
	unsigned int seed;
};

static void kill_child_fail(struct kill_share *sh, const char *what, int err)
{
	snprintf(sh->msg, sizeof(sh->msg), "%s: %s", what, strerror(err));
	sh->failed = 1;
	_exit(10);
}

/* vCPU 0 spins over the slot; whatever it exits for, it runs again. */
static void *kill_spin(void *arg)
{
	struct kill_child *c = arg;

	for (;;) {
		int r = tvm_run_once(&c->t, 0);

		if (r < 0 && r != -EINTR)
			kill_child_fail(c->sh, "HVX_RUN of the spinning vCPU", -r);
		c->sh->spin_exits++;
	}
	return NULL;
}

/* vCPU 1 exits to userspace on every loop. */
static void *kill_pio(void *arg)
{
	struct kill_child *c = arg;

	for (;;) {
		int r = tvm_run_once(&c->t, 1);

		if (r < 0 && r != -EINTR)
			kill_child_fail(c->sh, "HVX_RUN of the port I/O vCPU", -r);
		if (r == HVX_EXIT_IO)
			c->sh->pio_exits++;
	}
	return NULL;
}

/*
 * Slot 1 comes and goes: added, then removed and unmapped in either
 * order, or replaced by new memory.
 */
static void *kill_churn(void *arg)
{
	struct kill_child *c = arg;
	unsigned int seed = c->seed;
	void *buf = NULL;
	int r;

	for (;;) {
		if (!buf) {
			buf = mmap(NULL, CHURN_SIZE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (buf == MAP_FAILED)
				kill_child_fail(c->sh, "mmap", errno);
			r = hvx_vm_set_region(&c->t.vm, 1, 0, TT_SLOT_GPA, CHURN_SIZE, buf);
			if (r)
				kill_child_fail(c->sh, "adding the slot", -r);
		}
		for (volatile int i = rand_r(&seed) % 20000; i > 0; i--)
			;
		switch (rand_r(&seed) % 3) {
		case 0:	/* remove, then unmap */
			r = hvx_vm_set_region(&c->t.vm, 1, 0, 0, 0, NULL);
			munmap(buf, CHURN_SIZE);
			buf = NULL;
			break;
		case 1:	/* unmap under the live slot, then remove */
			munmap(buf, CHURN_SIZE);
			r = hvx_vm_set_region(&c->t.vm, 1, 0, 0, 0, NULL);
			buf = NULL;
			break;
		default: /* replace: the old memory stays mapped, unused */
			r = hvx_vm_set_region(&c->t.vm, 1, 0, 0, 0, NULL);
			if (!r)
				r = hvx_vm_set_region(&c->t.vm, 1, 0, TT_SLOT_GPA, CHURN_SIZE,
						      buf);
			break;
		}
		if (r)
			kill_child_fail(c->sh, "removing or replacing the slot", -r);
		c->sh->slot_changes++;
	}
	return NULL;
}

static void kill_child_main(struct kill_share *sh, __u32 paging, unsigned int seed)
{
	static struct kill_child c;
	pthread_t th;
	int r;

	c.sh = sh;
	c.seed = seed;
	r = tvm_create_paging(&c.t, TT_MEM, paging, 0, 2);
	if (r)
		kill_child_fail(sh, "creating the VM", -r);
	tvm_load_code(&c.t, "tt_code", tt_code_start, tt_code_end);
	r = tt_setup(&c.t, 0, tt_spin, 0, 0);
	if (!r)
		r = tt_setup(&c.t, 1, tt_pio, 0, 0);
	if (r)
		kill_child_fail(sh, "setting the vCPUs up", -r);
	if (pthread_create(&th, NULL, kill_churn, &c) ||
	    pthread_create(&th, NULL, kill_spin, &c) ||
	    pthread_create(&th, NULL, kill_pio, &c))
		kill_child_fail(sh, "pthread_create", EAGAIN);
	/* Ready once all three are under way. */
	while (sh->pio_exits < 10 || sh->slot_changes < 2)
		usleep(1000);
	sh->ready = 1;
	for (;;)
		pause();
}

/* A seed from HVX_TORTURE_SEED, else from the clock. */
static unsigned int torture_seed(void)
{
	const char *s = getenv("HVX_TORTURE_SEED");
	struct timespec ts;

	if (s && *s)
		return strtoul(s, NULL, 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_nsec ^ ts.tv_sec ^ getpid();
}

TEST_F_TIMEOUT(torture, sigkill_while_running, 300)
{
	unsigned long pio = 0, spins = 0, changes = 0;
	unsigned int seed = torture_seed(), rseed = seed;
	struct kill_share *sh;
	char msg[512];
	int round;

	TH_LOG("seed %u (HVX_TORTURE_SEED=%u replays the delays)", seed, seed);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	for (round = 0; round < KILL_ROUNDS; round++) {
		unsigned int child_seed = rand_r(&rseed);
		int us = rand_r(&rseed) % KILL_MAX_US, st, i;
		long n;
		pid_t pid;

		memset(sh, 0, sizeof(*sh));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			kill_child_main(sh, variant->paging, child_seed);
		for (i = 0; i < 2000 && !sh->ready && !sh->failed; i++)
			usleep(10000);
		if (!sh->ready) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			ASSERT_TRUE(sh->ready) TH_LOG("round %d: the child never got going: %s",
						      round, sh->failed ? sh->msg : "timed out");
		}
		usleep(us);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
		snprintf(msg, sizeof(msg), "round %d (after %d us): %s", round, us,
			 sh->failed ? sh->msg : "the child exited by itself");
		ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) TH_LOG("%s", msg);
		pio += sh->pio_exits;
		spins += sh->spin_exits;
		changes += sh->slot_changes;
		n = refcnt_settle(self->refcnt, 2000);
		ASSERT_EQ(self->refcnt, n)
			TH_LOG("round %d (killed after %d us): module refcnt %ld, %ld before",
			       round, us, n, self->refcnt);
	}
	munmap(sh, sizeof(*sh));
	TH_LOG("%d rounds: %lu port I/O exits, %lu exits of the spinning vCPU, %lu slot changes",
	       KILL_ROUNDS, pio, spins, changes);
	EXPECT_EQ(self->vms, vm_count_settle(self->vms, 2000)) TH_LOG("VMs left behind");
	ASSERT_EQ(0, tvm_smoke(msg, sizeof(msg))) TH_LOG("a guest after the rounds: %s", msg);
	EXPECT_EQ(self->refcnt, refcnt_settle(self->refcnt, 2000));
}

/* ---- fds released in every order ------------------------------------------- */

enum { REL_VM, REL_VCPU0, REL_VCPU1, REL_RUN_PAGES, REL_SLOT_MEM, REL_NR };

static const char *const rel_names[REL_NR] = {
	"close VM fd", "close vCPU 0 fd", "close vCPU 1 fd", "unmap run pages",
	"unmap slot memory",
};

#define ORDER_SLOT_SIZE	(2 * 4096)

/* The order's names, for messages. */
static const char *order_str(const int *order, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < REL_NR && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i ? ", " : "", rel_names[order[i]]);
	return buf;
}

/*
 * One HVX_RUN of a vCPU whose VM fd, run page or slot memory may be gone:
 * the guest's next OUT.  Reads the exit from a fresh mapping of the run
 * page when the old one is unmapped.  The exit reason, or -errno.
 */
static int order_run(struct hvx_vcpu *v, bool mapped, __u32 *port)
{
	struct hvx_run *run = v->run;
	int r;

	if (ioctl(v->fd, HVX_RUN, 0))
		return -errno;
	if (!mapped) {
		run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
		if (run == MAP_FAILED)
			return -errno;
	}
	r = run->exit_reason;
	*port = run->io.port;
	if (!mapped)
		munmap(run, v->run_size);
	return r;
}

/* Sets *ok once everything held; an assertion that fails returns before. */
static void order_one(struct __test_metadata *_metadata, __u32 paging, const int *order,
		      long refcnt, bool *ok)
{
	bool gone[REL_NR] = { false };
	__u32 last[2] = { 0, 0 };
	char names[160];
	void *slot;
	struct tvm t;
	int step, i;
	long n;

	TVM_CREATE_PAGING(&t, TT_MEM, paging, 0, 2);
	/* The VM outlives the system fd: none of this needs it. */
	hvx_close(&t.sys);
	slot = mmap(NULL, ORDER_SLOT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	ASSERT_NE(MAP_FAILED, slot);
	ASSERT_OK(hvx_vm_set_region(&t.vm, 1, 0, TT_SLOT_GPA, ORDER_SLOT_SIZE, slot));
	tvm_load_code(&t, "tt_code", tt_code_start, tt_code_end);
	for (i = 0; i < 2; i++) {
		ASSERT_OK(tt_setup(&t, i, tt_pio, TT_SLOT_GPA + i * 4096, 0));
		/* Pins the slot page the vCPU writes. */
		ASSERT_RUN_EXIT(&t, i, HVX_EXIT_IO);
	}
	order_str(order, names, sizeof(names));

	for (step = 0; step < REL_NR; step++) {
		switch (order[step]) {
		case REL_VM:
			ASSERT_EQ(0, close(t.vm.fd));
			t.vm.fd = -1;
			break;
		case REL_VCPU0:
		case REL_VCPU1:
			i = order[step] - REL_VCPU0;
			ASSERT_EQ(0, close(t.vcpu[i].fd));
			t.vcpu[i].fd = -1;
			break;
		case REL_RUN_PAGES:
			for (i = 0; i < 2; i++)
				ASSERT_EQ(0, munmap(t.vcpu[i].run, t.vcpu[i].run_size));
			break;
		case REL_SLOT_MEM:
			ASSERT_EQ(0, munmap(slot, ORDER_SLOT_SIZE));
			break;
		}
		gone[order[step]] = true;

		/*
		 * Every vCPU fd still open runs on: a VM lives while any of
		 * its fds does, the run page is the kernel's, and the pinned
		 * slot page stays the guest's after the unmap (api.rst 8.6).
		 */
		for (i = 0; i < 2; i++) {
			struct hvx_regs regs;
			__u32 port = 0;
			int r;

			if (gone[REL_VCPU0 + i])
				continue;
			r = order_run(&t.vcpu[i], !gone[REL_RUN_PAGES], &port);
			ASSERT_EQ(HVX_EXIT_IO, r)
				TH_LOG("%s: vCPU %d after \"%s\": exit %s (%d)", names, i,
				       rel_names[order[step]], tvm_exit_str(r), r);
			EXPECT_EQ(TT_PORT, port);
			ASSERT_OK(tvm_get_regs(&t, i, &regs));
			EXPECT_LT(last[i], regs.rcx) TH_LOG("%s: vCPU %d made no progress", names, i);
			last[i] = regs.rcx;
		}
		/* The VM fd, while open, still takes slots and vCPUs. */
		if (!gone[REL_VM]) {
			struct hvx_vcpu_create vc = { .id = 2 };
			int fd;

			ASSERT_OK(hvx_vm_set_region(&t.vm, 2, 0, 0x400000, 4096, t.mem));
			ASSERT_OK(hvx_vm_set_region(&t.vm, 2, 0, 0, 0, NULL));
			fd = ioctl(t.vm.fd, HVX_CREATE_VCPU, &vc);
			ASSERT_LE(0, fd) TH_LOG("%s: HVX_CREATE_VCPU: %s", names, strerror(errno));
			close(fd);
		}
	}
	munmap(t.mem, t.mem_size);
	n = refcnt_settle(refcnt, 1000);
	ASSERT_EQ(refcnt, n) TH_LOG("%s: module refcnt %ld, %ld before", names, n, refcnt);
	*ok = true;
}

/* The next permutation in lexicographic order; false after the last. */
static bool next_order(int *a, int n)
{
	int i = n - 2, j = n - 1, k;

	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return false;
	while (a[j] <= a[i])
		j--;
	k = a[i], a[i] = a[j], a[j] = k;
	for (i++, j = n - 1; i < j; i++, j--)
		k = a[i], a[i] = a[j], a[j] = k;
	return true;
}

TEST_F_TIMEOUT(torture, fds_released_in_every_order, 300)
{
	int order[REL_NR] = { 0, 1, 2, 3, 4 }, orders = 0;

	do {
		bool ok = false;

		order_one(_metadata, variant->paging, order, self->refcnt, &ok);
		if (!ok)
			return;
		orders++;
	} while (next_order(order, REL_NR));
	EXPECT_EQ(120, orders);
	EXPECT_EQ(self->vms, vm_count_settle(self->vms, 2000)) TH_LOG("VMs left behind");
}

/* ---- A VM in a small memory cgroup ------------------------------------------ */

#define CG_MAX		(4 << 20)	/* memory.max */
#define CG_SLACK	(256 << 10)	/* memory.current allowed once empty */
#define CG_MAX_VMS	128
#define CG_SLOT_SIZE	(256 << 10)
#define CG_TOUCH_PAGES	64
#define CG_SLOT0_SIZE	GUEST_MIN_MEM

enum cg_step {
	CG_NONE, CG_CREATE_VM, CG_SLOT0, CG_MMAP, CG_SLOT1, CG_CREATE_VCPU, CG_MMAP_RUN,
	CG_SETUP, CG_RUN, CG_NR_STEPS
};

static const char *const cg_step_names[CG_NR_STEPS] = {
	"nothing", "HVX_CREATE_VM", "HVX_SET_MEMORY_REGION (slot 0)", "mmap of slot memory",
	"HVX_SET_MEMORY_REGION (slot 1)", "HVX_CREATE_VCPU", "mmap of the run page",
	"HVX_SET_STATE (setup)", "HVX_RUN",
};

/* What the child did, in a shared page. */
struct cg_report {
	volatile int joined, done;
	int step, err, vms;
	__u32 exit_reason, suberror;
	__u64 data[2];
	/* After HVX_RUN failed with ENOMEM and memory was freed: */
	__u64 enomem_rip, resume_rcx;
	int resume_err;
	__u32 resume_exit, resume_done;
};

struct cg {
	char root[128];		/* the cgroup2 mount */
	char dir[192];		/* the test's cgroup */
	bool mounted, enabled;
};

static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[256];
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int cg_read(const char *dir, const char *file, char *buf, size_t len)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

/* A "key value" line of a flat-keyed cgroup file, or -1. */
static long long cg_key(const char *dir, const char *file, const char *key)
{
	char buf[4096], *p;
	size_t klen = strlen(key);

	if (cg_read(dir, file, buf, sizeof(buf)))
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == ' ')
			return strtoll(p + klen + 1, NULL, 10);
	return -1;
}

static long long cg_current(const char *dir)
{
	char buf[32];

	return cg_read(dir, "memory.current", buf, sizeof(buf)) ? -1 : strtoll(buf, NULL, 10);
}

/*
 * A cgroup2 hierarchy with the memory controller for the children of its
 * root: the mounted one, or one mounted here.  0, or why not in why.
 */
static int cg_init(struct cg *cg, char *why, size_t len)
{
	char line[512], buf[256];
	FILE *f;
	int r;

	memset(cg, 0, sizeof(*cg));
	f = fopen("/proc/mounts", "re");
	while (f && fgets(line, sizeof(line), f)) {
		char dev[128], dir[128], type[32];

		if (sscanf(line, "%127s %127s %31s", dev, dir, type) == 3 &&
		    !strcmp(type, "cgroup2")) {
			snprintf(cg->root, sizeof(cg->root), "%s", dir);
			break;
		}
	}
	if (f)
		fclose(f);
	if (!cg->root[0]) {
		snprintf(cg->root, sizeof(cg->root), "/tmp/hvx-cgroup.XXXXXX");
		if (!mkdtemp(cg->root)) {
			snprintf(why, len, "mkdtemp: %s", strerror(errno));
			return -errno;
		}
		if (mount("cgroup2", cg->root, "cgroup2", 0, NULL)) {
			r = -errno;
			rmdir(cg->root);
			snprintf(why, len, "mounting cgroup2: %s (a kernel without cgroup v2?)",
				 strerror(-r));
			return r;
		}
		cg->mounted = true;
	}
	if (cg_read(cg->root, "cgroup.controllers", buf, sizeof(buf)) || !strstr(buf, "memory")) {
		snprintf(why, len, "no memory controller in %s/cgroup.controllers (a kernel "
			 "without memcg, or memory bound to a cgroup v1 hierarchy)", cg->root);
		return -EOPNOTSUPP;
	}
	if (cg_read(cg->root, "cgroup.subtree_control", buf, sizeof(buf)) == 0 &&
	    !strstr(buf, "memory")) {
		r = cg_write(cg->root, "cgroup.subtree_control", "+memory");
		if (r) {
			snprintf(why, len, "enabling memory in %s/cgroup.subtree_control: %s",
				 cg->root, strerror(-r));
			return r;
		}
		cg->enabled = true;
	}
	return 0;
}

static void cg_fini(struct cg *cg)
{
	if (cg->enabled)
		cg_write(cg->root, "cgroup.subtree_control", "-memory");
	if (cg->mounted) {
		umount2(cg->root, MNT_DETACH);
		rmdir(cg->root);
	}
}

/* OOM victim or not: -1000 makes the memcg fail the charge instead. */
static void cg_oom_protect(int fd, bool on)
{
	const char *v = on ? "-1000" : "0";

	if (fd >= 0 && pwrite(fd, v, strlen(v), 0) < 0)
		return;
}

/* expr (an hvx call or an mmap) with the child's OOM protection, if any. */
#define CG_CALL(c, expr) ({						\
	__typeof__(expr) __v;						\
	cg_oom_protect((c)->oom, (c)->protect);				\
	__v = (expr);							\
	cg_oom_protect((c)->oom, false);				\
	__v;								\
})

struct cg_child {
	struct cg_report *rep;
	int oom;
	bool protect;
};

/*
 * HVX_RUN of VM @i failed with ENOMEM: nothing of the guest may be lost.
 * Frees VMs 0..i-1 and their memory, then runs VM @i on from where it
 * stopped; its guest must finish touching every page.
 */
static struct hvx_vcpu_state cg_state;

static void cg_resume(struct cg_child *c, struct hvx_vm *vms, struct hvx_vcpu *vcpus,
		      void **slots, int i)
{
	struct cg_report *rep = c->rep;
	struct hvx_run *run = vcpus[i].run;
	long psize = sysconf(_SC_PAGESIZE);
	int j, r;

	rep->enomem_rip = run->rip;
	for (j = 0; j < i; j++) {
		munmap(vcpus[j].run, psize);
		vcpus[j].run = NULL;
		close(vcpus[j].fd);
		vcpus[j].fd = -1;
		hvx_vm_destroy(&vms[j]);
		munmap(slots[j], CG_SLOT_SIZE);
		slots[j] = NULL;
	}
	do {
		r = CG_CALL(c, hvx_vcpu_run(&vcpus[i]));
	} while (!r && run->exit_reason == HVX_EXIT_IO && run->io.port != PORT_DONE);
	rep->resume_err = r ? -r : 0;
	rep->resume_exit = run->exit_reason;
	if (!r && run->exit_reason == HVX_EXIT_IO) {
		memcpy(&rep->resume_done, run->io_data, sizeof(rep->resume_done));
		rep->resume_rcx = -1;
		if (!hvx_vcpu_get_state(&vcpus[i], &cg_state, HVX_STATE_REGS))
			rep->resume_rcx = cg_state.regs.rcx;
	}
}

/* Faults in the stack below the caller's frame, for the calls to come. */
static __attribute__((noinline)) void cg_prefault_stack(void)
{
	volatile char stack[128 << 10];

	memset((void *)stack, 0, sizeof(stack));
}

static void cg_fail(struct cg_report *rep, int step, int err)
{
	rep->step = step;
	rep->err = err;
}

/*
 * The child: joins the cgroup, then builds VMs whose guests touch memory
 * until something fails, keeping them all; reports what failed, releases
 * everything and exits 0.  With protect, each hvx call (and mmap) runs
 * with OOM score adjustment -1000, so that the memcg fails the charge (the
 * call's ENOMEM, an unpinnable page) instead of killing the child; without
 * it, the memcg's OOM killer is expected to end the child.  The child's
 * own user memory is faulted in before it joins, so that the charges in
 * the cgroup are hvx's and the guests' pages; a user page fault with OOM
 * protection on could wait for ever on the memcg.
 */
static void cg_child(struct cg_report *rep, const char *dir, __u32 paging, bool protect)
{
	static struct hvx_vm vms[CG_MAX_VMS];
	static struct hvx_vcpu vcpus[CG_MAX_VMS];
	static void *slots[CG_MAX_VMS];
	static struct hvx_vcpu_state st;
	static unsigned char *mem;
	struct cg_child c = { .rep = rep, .protect = protect };
	long psize = sysconf(_SC_PAGESIZE);
	int procs, i, r = 0, nr = 0;
	struct hvx_sys sys;
	char path[256];

	cg_prefault_stack();
	memset(vms, 0, sizeof(vms));
	memset(vcpus, 0, sizeof(vcpus));
	memset(slots, 0, sizeof(slots));
	memset(&st, 0, sizeof(st));
	rep->step = CG_NONE;
	errno = 0;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	procs = open(path, O_WRONLY | O_CLOEXEC);
	c.oom = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (procs < 0 || hvx_open(&sys) || (protect && c.oom < 0))
		_exit(20);
	/* Slot 0 of every VM: the same code, tables and stack, faulted in here. */
	mem = mmap(NULL, CG_SLOT0_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (mem == MAP_FAILED)
		_exit(21);
	memset(mem, 0, CG_SLOT0_SIZE);
	memcpy(mem + GUEST_CODE_GPA, tt_code_start, tt_code_end - tt_code_start);
	cg_oom_protect(c.oom, false);
	if (write(procs, "0", 1) != 1)
		_exit(22);
	close(procs);
	rep->joined = 1;

	for (i = 0; i < CG_MAX_VMS; i++) {
		struct hvx_vcpu_create vc = { .id = 0 };
		struct hvx_run *run;

		vcpus[i].fd = -1;
		r = CG_CALL(&c, hvx_vm_create(&sys, &vms[i], paging, 0));
		if (r) {
			cg_fail(rep, CG_CREATE_VM, -r);
			break;
		}
		nr++;
		r = CG_CALL(&c, hvx_vm_set_region(&vms[i], 0, 0, 0, CG_SLOT0_SIZE, mem));
		if (r) {
			cg_fail(rep, CG_SLOT0, -r);
			break;
		}
		slots[i] = CG_CALL(&c, mmap(NULL, CG_SLOT_SIZE, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
		if (slots[i] == MAP_FAILED) {
			slots[i] = NULL;
			cg_fail(rep, CG_MMAP, errno);
			break;
		}
		r = CG_CALL(&c, hvx_vm_set_region(&vms[i], 1, 0, TT_SLOT_GPA, CG_SLOT_SIZE,
						  slots[i]));
		if (r) {
			cg_fail(rep, CG_SLOT1, -r);
			break;
		}
		r = CG_CALL(&c, ioctl(vms[i].fd, HVX_CREATE_VCPU, &vc));
		if (r < 0) {
			cg_fail(rep, CG_CREATE_VCPU, errno);
			break;
		}
		vcpus[i].fd = r;
		vcpus[i].run_size = psize;
		run = CG_CALL(&c, mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_SHARED,
				       vcpus[i].fd, 0));
		if (run == MAP_FAILED) {
			cg_fail(rep, CG_MMAP_RUN, errno);
			break;
		}
		vcpus[i].run = run;
		r = CG_CALL(&c, hvx_setup_mode(&vcpus[i], mem, CG_SLOT0_SIZE, HVX_MODE_LONG,
					       GUEST_ADDR(tt_code, tt_touch), GUEST_STACK_TOP));
		if (!r)
			r = CG_CALL(&c, hvx_vcpu_get_state(&vcpus[i], &st, HVX_STATE_REGS));
		if (!r) {
			st.regs.r12 = TT_SLOT_GPA;
			st.regs.r13 = CG_TOUCH_PAGES;
			r = CG_CALL(&c, hvx_vcpu_set_state(&vcpus[i], &st, HVX_STATE_REGS));
		}
		if (r) {
			cg_fail(rep, CG_SETUP, -r);
			break;
		}
		/* Until the guest is done or fails (the run page is read unprotected). */
		do {
			r = CG_CALL(&c, hvx_vcpu_run(&vcpus[i]));
		} while (!r && run->exit_reason == HVX_EXIT_IO && run->io.port != PORT_DONE);
		if (r) {
			cg_fail(rep, CG_RUN, -r);
			if (r == -ENOMEM)
				cg_resume(&c, vms, vcpus, slots, i);
			break;
		}
		if (run->exit_reason != HVX_EXIT_IO) {
			cg_fail(rep, CG_RUN, 0);
			rep->exit_reason = run->exit_reason;
			rep->suberror = run->internal.suberror;
			rep->data[0] = run->internal.data[0];
			rep->data[1] = run->internal.data[1];
			break;
		}
	}
	rep->vms = nr;
	for (i = 0; i < nr; i++) {
		if (vcpus[i].run)
			munmap(vcpus[i].run, psize);
		if (vcpus[i].fd >= 0)
			close(vcpus[i].fd);
		hvx_vm_destroy(&vms[i]);
		if (slots[i])
			munmap(slots[i], CG_SLOT_SIZE);
	}
	hvx_close(&sys);
	rep->done = 1;
	_exit(0);
}

/* One child in a new cgroup under cg; asserts the outcome and the cleanup. */
static void cg_round(struct __test_metadata *_metadata, struct cg *cg, __u32 paging,
		     bool protect, bool *ok)
{
	struct cg_report *rep;
	long long cur = -1, kills;
	char val[32], stat[4096];
	int st = 0, ms;
	pid_t pid;

	snprintf(cg->dir, sizeof(cg->dir), "%s/hvx-torture-%d-%d", cg->root, getpid(), protect);
	ASSERT_EQ(0, mkdir(cg->dir, 0755)) TH_LOG("mkdir %s: %s", cg->dir, strerror(errno));
	snprintf(val, sizeof(val), "%d", CG_MAX);
	ASSERT_OK(cg_write(cg->dir, "memory.max", val));
	/* No swap in the rig's machines; elsewhere, keep the limit a limit. */
	cg_write(cg->dir, "memory.swap.max", "0");
	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, rep);
	memset(rep, 0, sizeof(*rep));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		cg_child(rep, cg->dir, paging, protect);
	for (ms = 60000; ms > 0 && waitpid(pid, &st, WNOHANG) != pid; ms -= 10)
		usleep(10000);
	if (ms <= 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	kills = cg_key(cg->dir, "memory.events", "oom_kill");
	ASSERT_LT(0, ms) TH_LOG("the child (%s) did not finish in 60 s, %d VMs",
				protect ? "protected" : "killable", rep->vms);
	ASSERT_TRUE(rep->joined) TH_LOG("the child did not join %s (status 0x%x)", cg->dir, st);

	if (WIFSIGNALED(st)) {
		ASSERT_EQ(SIGKILL, WTERMSIG(st)) TH_LOG("the child died of signal %d",
							  WTERMSIG(st));
		ASSERT_LT(0, kills) TH_LOG("SIGKILL without an oom_kill in memory.events");
		TH_LOG("%s: OOM-killed by the memcg (%lld kill(s))",
		       protect ? "protected" : "killable", kills);
	} else {
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0 && rep->done)
			TH_LOG("the child failed: status 0x%x", st);
		ASSERT_NE(CG_NONE, rep->step) TH_LOG("%d VMs of %d KiB each and no failure "
						     "under memory.max %d KiB", rep->vms,
						     CG_SLOT_SIZE >> 10, CG_MAX >> 10);
		/* A guest page the memcg would not give fails HVX_RUN, as an allocation. */
		ASSERT_FALSE(rep->step == CG_RUN && !rep->err)
			TH_LOG("HVX_RUN ended with exit %s (suberror %u), not ENOMEM",
			       tvm_exit_str(rep->exit_reason), rep->suberror);
		ASSERT_EQ(ENOMEM, rep->err) TH_LOG("%s failed with %s, not ENOMEM",
						   cg_step_names[rep->step], strerror(rep->err));
		TH_LOG("%s: VM %d: %s failed with ENOMEM", protect ? "protected" : "killable",
		       rep->vms, cg_step_names[rep->step]);
		if (rep->step == CG_RUN) {
			/* Once memory was freed, the guest ran on and lost nothing. */
			EXPECT_LE(GUEST_ADDR(tt_code, tt_touch), rep->enomem_rip);
			EXPECT_GT(GUEST_ADDR(tt_code, tt_touch) + 64, rep->enomem_rip);
			ASSERT_EQ(0, rep->resume_err) TH_LOG("HVX_RUN after freeing memory: %s",
							     strerror(rep->resume_err));
			ASSERT_EQ(HVX_EXIT_IO, rep->resume_exit)
				TH_LOG("the resumed guest ended with exit %s",
				       tvm_exit_str(rep->resume_exit));
			EXPECT_EQ(0x600d, rep->resume_done);
			EXPECT_EQ(CG_TOUCH_PAGES, rep->resume_rcx);
			TH_LOG("%s: VM %d ran on after the ENOMEM at rip 0x%llx",
			       protect ? "protected" : "killable", rep->vms,
			       (unsigned long long)rep->enomem_rip);
		}
	}
	munmap(rep, sizeof(*rep));

	/*
	 * Empty now.  memory.high = 0 drains the per-CPU charge caches
	 * (drain_all_stock(), asynchronously on the other CPUs) and reclaims
	 * any page cache, without the OOM killer memory.max would call: what
	 * remains is memory still charged.  Files and task structs go after an
	 * RCU grace period: wait a little.  The slack covers per-object kmem
	 * charges held in a remote CPU's cache until its drain runs.
	 */
	for (ms = 5000; ms > 0; ms -= 50) {
		cg_write(cg->dir, "memory.high", "0");
		cur = cg_current(cg->dir);
		if (cur >= 0 && cur < CG_SLACK)
			break;
		usleep(50000);
	}
	if (cg_read(cg->dir, "memory.stat", stat, sizeof(stat)))
		stat[0] = 0;
	EXPECT_LE(0, cur);
	EXPECT_GT(CG_SLACK, cur) TH_LOG("memory.current %lld bytes after the child is gone; "
					"memory.stat:\n%.1200s", cur, stat);
	ASSERT_EQ(0, rmdir(cg->dir)) TH_LOG("rmdir %s: %s", cg->dir, strerror(errno));
	*ok = true;
}

TEST_F_TIMEOUT(torture, memcg_limit, 300)
{
	bool ok = false;
	char why[256];
	struct cg cg;
	long n;

	if (getuid())
		SKIP(return, "needs root for cgroups and mounts");
	if (cg_init(&cg, why, sizeof(why))) {
		cg_fini(&cg);
		SKIP(return, "%s", why);
	}
	cg_round(_metadata, &cg, variant->paging, true, &ok);
	if (ok) {
		ok = false;
		cg_round(_metadata, &cg, variant->paging, false, &ok);
	}
	cg_fini(&cg);
	n = refcnt_settle(self->refcnt, 2000);
	EXPECT_EQ(self->refcnt, n);
	EXPECT_EQ(self->vms, vm_count_settle(self->vms, 2000)) TH_LOG("VMs left behind");
}

/* ---- Guest state never reaches the host thread ---------------------------- */

static volatile int watched;		/* DR0, DR1 and DR3 of the guest */
static volatile int perf_watched;	/* this thread's own breakpoint */
static volatile sig_atomic_t traps;
static void *volatile trap_addr;	/* the first SIGTRAP's si_addr and RIP */
static volatile unsigned long trap_rip;
static __thread volatile long tls_word = 0x7157;
static unsigned long gs_area[4] = { 0x65e5e7, 1, 2, 3 };

/*
 * Counts a SIGTRAP and returns with RFLAGS.RF set, so that an execute
 * breakpoint does not fault again at once.  Linux 6.x sends no SIGTRAP
 * for a breakpoint that no perf event owns: a guest's data watch left
 * armed then traps silently, and its execute breakpoint on bp_func stops
 * this thread there for good (the harness's timeout ends the case, as it
 * does on QEMU, whose #VMEXIT leaves them armed).
 */
static void on_sigtrap(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	(void)sig;
	if (!traps++) {
		trap_addr = si->si_addr;
		trap_rip = uc->uc_mcontext.gregs[REG_RIP];
	}
	uc->uc_mcontext.gregs[REG_EFL] |= 0x10000;
}

/* DR2's target: a host function the guest's execute breakpoint names. */
static __attribute__((noinline)) int bp_func(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

static bool host_has_rdtscp(void)
{
	unsigned int a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000), "c"(0));
	if (a < 0x80000001)
		return false;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001), "c"(0));
	return d & (1u << 27);
}

static unsigned int rdtscp_aux(void)
{
	unsigned int lo, hi, aux;

	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	return aux;
}

static unsigned long gs_read0(void)
{
	unsigned long v;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(v));
	return v;
}

/* read(2) with RFLAGS.DF set: the kernel must enter with DF clear (SFMASK). */
static long read_with_df(int fd, void *buf, size_t n)
{
	long ret;

	__asm__ volatile("std\n\tsyscall\n\tcld"
			 : "=a"(ret)
			 : "0"((long)SYS_read), "D"((long)fd), "S"(buf), "d"(n)
			 : "rcx", "r11", "memory");
	return ret;
}

struct host_ctx {
	pid_t pid;
	int pipe[2];
	bool rdtscp;
	unsigned int aux;	/* TSC_AUX of this CPU, with RDTSCP */
	int perf_fd;		/* a write breakpoint on perf_watched, or -1 */
	__u64 perf_count;
	unsigned int checks;
};

/*
 * What the thread that ran the guest must still find after an exit; the
 * first problem, or NULL.
 */
static const char *host_checks(struct host_ctx *h, char *buf, size_t len)
{
	static const char msg[] = "0123456789abcdef";
	char got[sizeof(msg)] = "";
	int i;

	h->checks++;
	for (i = 0; i < 4; i++) {
		watched = watched + i;	/* DR0/DR3: write, DR1: read/write */
		if (bp_func(i) != i + 1)	/* DR2: execute */
			return "bp_func";
	}
	if (traps) {
		snprintf(buf, len, "%d SIGTRAP(s), the first at rip 0x%lx for %p (watched %p, "
			 "bp_func %p): the guest's breakpoints armed in the host", (int)traps,
			 trap_rip, trap_addr, (void *)&watched, (void *)bp_func);
		return buf;
	}
	if (syscall(SYS_getpid) != h->pid)
		return "getpid() after the guest wrote LSTAR/STAR";
	if (write(h->pipe[1], msg, sizeof(msg)) != sizeof(msg))
		return "write() to a pipe";
	if (read_with_df(h->pipe[0], got, sizeof(got)) != sizeof(got) || memcmp(got, msg, sizeof(msg))) {
		snprintf(buf, len, "read() with DF set returned \"%.16s\": DF reached the kernel "
			 "(the guest's SFMASK?)", got);
		return buf;
	}
	if (tls_word != 0x7157)
		return "the __thread variable (FS base: the guest's FS_BASE?)";
	tls_word = 0x7158;
	tls_word = 0x7157;
	errno = 0;
	if (close(-1) != -1 || errno != EBADF)
		return "errno after close(-1)";
	if (gs_read0() != gs_area[0])
		return "%gs:0 (the GS base of this thread: the guest's KERNEL_GS_BASE?)";
	if (h->rdtscp && rdtscp_aux() != h->aux) {
		snprintf(buf, len, "RDTSCP's TSC_AUX 0x%x, 0x%x before (the guest's TSC_AUX?)",
			 rdtscp_aux(), h->aux);
		return buf;
	}
	if (h->perf_fd >= 0) {
		__u64 c = 0;

		perf_watched = perf_watched + 1;
		if (read(h->perf_fd, &c, sizeof(c)) != sizeof(c) || c != h->perf_count + 1) {
			snprintf(buf, len, "this thread's breakpoint counted %llu writes, "
				 "expected %llu", (unsigned long long)c,
				 (unsigned long long)h->perf_count + 1);
			return buf;
		}
		h->perf_count = c;
	}
	return NULL;
}

/* A write breakpoint of this thread's own on perf_watched, or -1. */
static int perf_breakpoint(void)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = HW_BREAKPOINT_W;
	a.bp_addr = (unsigned long)&perf_watched;
	a.bp_len = HW_BREAKPOINT_LEN_4;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

struct pmu_access {
	const unsigned char *insn;
	__u32 msr;	/* 0: RDPMC, which never exits */
	bool write;
	__u64 data;
};

static const struct pmu_access pmu_accesses[] = {
	{ tt_rd_evtsel, TT_PERFEVTSEL0, false, 0 },
	{ tt_wr_evtsel, TT_PERFEVTSEL0, true, TT_EVTSEL_VALUE },
	{ tt_rd_pmc0, TT_PMC0, false, 0 },
	{ tt_wr_pmc0, TT_PMC0, true, 0x1234 },
	{ tt_rd_amd_evtsel, TT_AMD_PERFEVTSEL0, false, 0 },
	{ tt_wr_amd_evtsel, TT_AMD_PERFEVTSEL0, true, TT_EVTSEL_VALUE },
	{ tt_rd_amd_ctr, TT_AMD_PERFCTR0, false, 0 },
	{ tt_wr_amd_ctr, TT_AMD_PERFCTR0, true, 0x1234 },
	{ tt_rdpmc, 0, false, 0 },
};

#define NR_PMU	ARRAY_SIZE(pmu_accesses)

/*
 * One guest run of tt_state: vm_flags 0 (the PMU's MSRs exit to userspace,
 * which refuses them) or HVX_VM_MSR_UNHANDLED_GP (#GP at once).
 */
static void state_run(struct __test_metadata *_metadata, __u32 paging, __u32 vm_flags,
		      bool arm_dr, struct host_ctx *h, bool *ok)
{
	struct hvx_vcpu_state st;
	unsigned int msr_exits = 0, i;
	struct hvx_run *run;
	const char *bad;
	char buf[512];
	struct tvm t;
	int r;

	TVM_CREATE_PAGING(&t, TT_MEM, paging, vm_flags, 1);
	tvm_load_code(&t, "tt_code", tt_code_start, tt_code_end);
	ASSERT_OK(tt_setup(&t, 0, tt_state, 0, 0));
	ASSERT_OK(tvm_setup_idt64(&t, 0));
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_REGS));
	st.regs.r8 = (unsigned long)&watched;
	st.regs.r9 = (unsigned long)bp_func;
	st.regs.r10 = arm_dr;
	/* Armed from userspace too, before the guest's own MOV DR. */
	st.dregs.dr0 = st.regs.r8;
	st.dregs.dr1 = st.regs.r8;
	st.dregs.dr2 = st.regs.r9;
	st.dregs.dr3 = st.regs.r8;
	st.dregs.dr6 = 0xffff0ff0;
	st.dregs.dr7 = TT_DR7;
	ASSERT_OK(hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_REGS |
				     (arm_dr ? HVX_STATE_DREGS : 0)));
	run = t.vcpu[0].run;

	bad = host_checks(h, buf, sizeof(buf));
	ASSERT_EQ(NULL, bad) TH_LOG("before the guest ran: %s", bad);
	/* The host's checks after every exit to userspace, protocol OUTs included. */
	for (;;) {
		r = tvm_run_once(&t, 0);
		bad = host_checks(h, buf, sizeof(buf));
		ASSERT_EQ(NULL, bad) TH_LOG("after exit %s: %s", tvm_exit_str(r), bad);
		if (r == HVX_EXIT_IO && run->io.direction == HVX_IO_OUT && !run->io.string) {
			r = tvm_run_protocol_exit(&t, 0);
			if (!r)
				continue;
			if (r < 0)
				r = HVX_EXIT_IO;
			break;
		}
		if (r != HVX_EXIT_MSR)
			break;
		ASSERT_EQ(0, vm_flags) TH_LOG("an MSR exit with HVX_VM_MSR_UNHANDLED_GP");
		ASSERT_GT(NR_PMU - 1, msr_exits) TH_LOG("more MSR exits than PMU accesses");
		EXPECT_EQ(pmu_accesses[msr_exits].msr, run->msr.index);
		EXPECT_EQ(pmu_accesses[msr_exits].write, run->msr.is_write);
		EXPECT_EQ(GUEST_ADDR(tt_code, pmu_accesses[msr_exits].insn), run->rip);
		if (pmu_accesses[msr_exits].write)
			EXPECT_EQ(pmu_accesses[msr_exits].data, run->msr.data);
		/* No PMU here either: refuse, the guest takes #GP. */
		run->msr.error = 1;
		msr_exits++;
	}
	ASSERT_EQ(GUEST_EXIT_DONE, r) TH_LOG("%s", tvm_describe(&t, 0, r, buf, sizeof(buf)));
	ASSERT_EQ(0x600d, t.io[0].done);
	ASSERT_REPORTS(&t, 0x5eed);
	EXPECT_EQ(vm_flags ? 0 : NR_PMU - 1, msr_exits);
	/* Every PMU access, RDPMC included, is #GP(0) at the instruction. */
	ASSERT_EQ(NR_PMU, t.io[0].nr_excs);
	for (i = 0; i < NR_PMU; i++) {
		EXPECT_EQ(13, t.io[0].excs[i].vector) TH_LOG("PMU access %u", i);
		EXPECT_EQ(0, t.io[0].excs[i].error_code);
		EXPECT_EQ(GUEST_ADDR(tt_code, pmu_accesses[i].insn), t.io[0].excs[i].rip)
			TH_LOG("PMU access %u", i);
	}
	/* The guest's debug registers are still its own, armed. */
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_DREGS));
	if (arm_dr) {
		EXPECT_EQ((unsigned long)&watched, st.dregs.dr0);
		EXPECT_EQ((unsigned long)bp_func, st.dregs.dr2);
		EXPECT_EQ(TT_DR7, st.dregs.dr7);
	}
	tvm_destroy(&t);
	bad = host_checks(h, buf, sizeof(buf));
	ASSERT_EQ(NULL, bad) TH_LOG("after the VM is gone: %s", bad);
	*ok = true;
}

/* QEMU's TCG, by its hypervisor signature. */
static bool host_is_tcg(void)
{
	unsigned int a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x40000000), "c"(0));
	return b == 0x54474354 && c == 0x43544743 && d == 0x47435447;
}

static void state_test(struct __test_metadata *_metadata, __u32 paging, bool arm_dr)
{
	struct sigaction sa = { .sa_sigaction = on_sigtrap, .sa_flags = SA_SIGINFO };
	struct host_ctx h = { .perf_fd = -1 };
	bool ok = false;
	cpu_set_t cpus;
	int cpu;

	ASSERT_EQ(0, sigaction(SIGTRAP, &sa, NULL));
	ASSERT_EQ(0, pipe(h.pipe));
	h.pid = getpid();
	/* One CPU, so that RDTSCP reads the same TSC_AUX before and after. */
	cpu = sched_getcpu();
	ASSERT_LE(0, cpu);
	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpus), &cpus));
	h.rdtscp = host_has_rdtscp();
	if (h.rdtscp)
		h.aux = rdtscp_aux();
	ASSERT_NE(TT_TSC_AUX_LO, h.aux);
	ASSERT_EQ(0, syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)gs_area));
	ASSERT_EQ(gs_area[0], gs_read0());

	/* Without a breakpoint of the host's, then with one. */
	state_run(_metadata, paging, 0, arm_dr, &h, &ok);
	if (!ok)
		return;
	h.perf_fd = perf_breakpoint();
	if (h.perf_fd < 0)
		TH_LOG("no hardware breakpoint for this thread (perf_event_open: %s): the "
		       "second run checks the rest", strerror(errno));
	state_run(_metadata, paging, HVX_VM_MSR_UNHANDLED_GP, arm_dr, &h, &ok);
	TH_LOG("%u rounds of host checks; RDTSCP %s; own breakpoint %s (%llu writes counted)",
	       h.checks, h.rdtscp ? "checked" : "absent", h.perf_fd >= 0 ? "checked" : "absent",
	       (unsigned long long)h.perf_count);
	EXPECT_EQ(0, traps);
	if (h.perf_fd >= 0)
		close(h.perf_fd);
	syscall(SYS_arch_prctl, ARCH_SET_GS, 0UL);
	close(h.pipe[0]);
	close(h.pipe[1]);
}

/* The MSRs the CPU switches for the guest, and the PMU. */
TEST_F(torture, guest_msrs_stay_in_guest)
{
	state_test(_metadata, variant->paging, false);
}

/* The same with the guest's DR0-DR3 at this thread's addresses, armed. */
TEST_F(torture, guest_breakpoints_stay_in_guest)
{
	/*
	 * QEMU 7.2 keeps a nested guest's breakpoints in its own bookkeeping
	 * after #VMEXIT, whatever the host writes into DR7 (design.rst,
	 * "Emulator notes"): this thread then stops at the guest's execute
	 * breakpoint for good.  Hardware disables them at #VMEXIT (APM vol. 2
	 * §15.6; VM exit loads DR7 with 0x400, SDM vol. 3 §28.5.1).
	 */
	if (host_is_tcg())
		SKIP(return, "QEMU's TCG keeps a guest's breakpoints armed after #VMEXIT "
		     "(design.rst, Emulator notes): runs on Bochs");
	state_test(_metadata, variant->paging, true);
}

TEST_HARNESS_MAIN
