// SPDX-License-Identifier: GPL-2.0
/*
 * Address-space stress: a guest on several vCPUs switches among many
 * address spaces and remaps pages continuously (pagestress_guest.S), each
 * vCPU checking its own reads, for a bounded time, under nested paging and
 * under shadow paging.  Any stale or wrong translation fails the guest; the
 * rig fails the run on a host warning.
 */
#include <pthread.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "pagestress_guest.h"

GUEST_CODE(pagestress_guest);
extern const unsigned char pagestress_pf[];

#define NR_VCPUS	4	/* <= PS_MAX_VCPUS */
#define MEM_SIZE	(8ULL << 20)
/*
 * The guest runs RUN_MS, longer if a vCPU has not done MIN_ITERS
 * iterations by then (each operation some 256 times), at most MAX_MS.
 */
#define RUN_MS		2000
#define MAX_MS		30000
#define MIN_ITERS	4096

struct job {
	pthread_t thread;
	struct tvm *t;
	unsigned int idx;
	int ret;
	int finished;
	char err[512];
};

static void *vcpu_thread(void *arg)
{
	struct job *j = arg;

	j->ret = tvm_run_guest(j->t, j->idx);
	tvm_describe(j->t, j->idx, j->ret, j->err, sizeof(j->err));
	__atomic_store_n(&j->finished, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void put64(struct tvm *t, __u64 gpa, __u64 v)
{
	memcpy(t->mem + gpa, &v, 8);
}

/* The tables and frames of vCPU v's region (see pagestress_guest.h). */
static void build_region(struct tvm *t, unsigned int v)
{
	__u64 r = PS_REGION(v), k, f;
	__u32 tag, idx = v;

	memset(t->mem + r, 0, 0x100000);
	memcpy(t->mem + r + 32, &idx, 4);
	for (k = 0; k < PS_NR_AS; k++) {
		__u64 as = r + PS_AS + k * 0x4000;

		put64(t, as, HVX_LAYOUT_PDPT | 7);		/* the identity map */
		put64(t, as + 8, (as + 0x1000) | 3);		/* PML4E 1: the window */
		put64(t, as + 16, PS_SH_PDPT | 3);		/* PML4E 2: shared window */
		put64(t, as + 0x1000, (as + 0x2000) | 3);
		put64(t, as + 0x2000, (as + 0x3000) | 3);	/* PT A */
	}
	for (f = 0; f < PS_NR_FRAMES; f++) {
		tag = PS_TAG(v, (__u32)f);
		memcpy(t->mem + r + PS_FRAMES + f * 0x1000, &tag, 4);
	}
}

/* The shared window's tables and frames. */
static void build_shared(struct tvm *t, unsigned int n)
{
	__u32 f, tag;

	memset(t->mem + PS_SHARED, 0, PS_SH_FRAMES - PS_SHARED);
	put64(t, PS_SH_PDPT, PS_SH_PD | 3);
	put64(t, PS_SH_PD, PS_SH_PT | 3);
	memcpy(t->mem + PS_NR_VCPUS, &n, 4);
	for (f = 0; f < PS_SH_OWN; f++) {
		tag = PS_SH_TAG(f);
		memcpy(t->mem + PS_SH_FRAMES + f * 0x1000, &tag, 4);
	}
}

static int setup_vcpu(struct tvm *t, unsigned int v)
{
	__u64 h = GUEST_ADDR(pagestress_guest, pagestress_pf);
	struct hvx_vcpu_state st;
	struct hvx_regs regs;
	int ret;

	ret = tvm_setup(t, v, HVX_MODE_LONG, GUEST_CODE_GPA);
	if (ret)
		return ret;
	memset(&st, 0, sizeof(st));
	ret = hvx_vcpu_get_state(&t->vcpu[v], &st, HVX_STATE_SREGS);
	if (ret)
		return ret;
	st.sregs.idt.base = GUEST_IDT_GPA;
	st.sregs.idt.limit = 256 * 16 - 1;
	ret = hvx_vcpu_set_state(&t->vcpu[v], &st, HVX_STATE_SREGS);
	if (ret)
		return ret;
	/* #PF: 64-bit interrupt gate to pagestress_pf; no other vector is present. */
	put64(t, GUEST_IDT_GPA + 14 * 16, (h & 0xffff) | ((__u64)HVX_SEL_CODE64 << 16) |
	      (0x8eULL << 40) | ((h >> 16) & 0xffff) << 48);
	put64(t, GUEST_IDT_GPA + 14 * 16 + 8, h >> 32);
	ret = tvm_get_regs(t, v, &regs);
	if (ret)
		return ret;
	regs.r12 = PS_REGION(v);
	regs.r13 = 0x9e3779b97f4a7c15ULL * (v + 1);
	return tvm_set_regs(t, v, &regs);
}

/* Whether every vCPU did MIN_ITERS iterations (or stopped). */
static bool all_done(struct tvm *t, struct job *jobs, unsigned int n)
{
	unsigned int v;
	__u64 it;

	for (v = 0; v < n; v++) {
		__atomic_load((__u64 *)(t->mem + PS_REGION(v) + 24), &it, __ATOMIC_SEQ_CST);
		if (it < MIN_ITERS && !__atomic_load_n(&jobs[v].finished, __ATOMIC_SEQ_CST))
			return false;
	}
	return true;
}

static void stress(struct __test_metadata *_metadata, __u32 paging, const char *name)
{
	struct job jobs[NR_VCPUS];
	unsigned long long t0, total = 0, faults = 0, shared = 0;
	unsigned int v, n;
	__u32 one = 1;
	struct tvm t;
	int ret;

	TVM_REQUIRE_HVX();
	ret = tvm_sys_open(&t.sys);
	ASSERT_EQ(0, ret);
	n = tvm_cap(&t.sys, HVX_CAP_MAX_VCPUS, 1);
	if (tvm_cap(&t.sys, paging == HVX_PAGING_SHADOW ? HVX_CAP_PAGING_SHADOW :
		    HVX_CAP_PAGING_NESTED, 0) != 1) {
		hvx_close(&t.sys);
		SKIP(return, "%s paging not available (capability 0)", name);
	}
	hvx_close(&t.sys);
	if (n > NR_VCPUS)
		n = NR_VCPUS;

	ret = tvm_create_paging(&t, MEM_SIZE, paging, 0, n);
	ASSERT_EQ(0, ret) TH_LOG("creating a VM with %s paging: %s", name, strerror(-ret));
	tvm_load_code(&t, "pagestress_guest", pagestress_guest_start, pagestress_guest_end);
	memset(t.mem + GUEST_IDT_GPA, 0, 256 * 16);
	build_shared(&t, n);
	for (v = 0; v < n; v++) {
		build_region(&t, v);
		ASSERT_OK(setup_vcpu(&t, v));
	}

	t0 = tvm_now_ms();
	for (v = 0; v < n; v++) {
		jobs[v] = (struct job){ .t = &t, .idx = v };
		ASSERT_EQ(0, pthread_create(&jobs[v].thread, NULL, vcpu_thread, &jobs[v]));
	}
	usleep(RUN_MS * 1000);
	while (tvm_now_ms() - t0 < MAX_MS && !all_done(&t, jobs, n))
		usleep(50 * 1000);
	__atomic_store((__u32 *)(t.mem + PS_STOP_GPA), &one, __ATOMIC_SEQ_CST);
	for (v = 0; v < n; v++)
		ASSERT_EQ(0, pthread_join(jobs[v].thread, NULL));

	for (v = 0; v < n; v++) {
		struct tvm_io *io = &t.io[v];
		__u64 pf, sh;

		memcpy(&pf, t.mem + PS_REGION(v), 8);
		memcpy(&sh, t.mem + PS_REGION(v) + 16, 8);
		EXPECT_EQ(GUEST_EXIT_DONE, jobs[v].ret)
			TH_LOG("vCPU %u: %s; reports (expected, got, iteration): 0x%x 0x%x %u",
			       v, jobs[v].err, io->reports[0], io->reports[1], io->reports[2]);
		if (jobs[v].ret != GUEST_EXIT_DONE)
			continue;
		/* Enough work to mean something: every operation many times. */
		EXPECT_LE(MIN_ITERS, io->done) TH_LOG("vCPU %u ran only %u iterations in %u ms",
						       v, io->done, MAX_MS);
		EXPECT_LT(50, pf) TH_LOG("vCPU %u checked only %llu unmapped pages", v,
					 (unsigned long long)pf);
		EXPECT_LT(20, sh) TH_LOG("vCPU %u read only %llu shared pages", v,
					  (unsigned long long)sh);
		total += io->done;
		faults += pf;
		shared += sh;
	}
	TH_LOG("pagestress: %s paging, %u vCPUs, %llu iterations, %llu #PF checked, "
	       "%llu shared-window reads checked, %llu ms", name, n, total, faults, shared,
	       tvm_now_ms() - t0);
	tvm_destroy(&t);
}

TEST(nested)
{
	stress(_metadata, HVX_PAGING_NESTED, "nested");
}

TEST(shadow)
{
	stress(_metadata, HVX_PAGING_SHADOW, "shadow");
}

TEST_HARNESS_MAIN
