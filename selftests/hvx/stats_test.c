// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics over the "hvx" generic-netlink family (uapi/linux/hvx_genl.h):
 * counters that match what a guest provably did, injection counters, the
 * VM dump, events, what an unprivileged caller sees, malformed requests,
 * the tracepoints, and hvxstat's views of live VMs: its field filter,
 * --skip-zero, --pid and the CSV log.
 *
 * The netlink client is written against raw sockets so that the malformed
 * requests can be built byte by byte.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/hvx_genl.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "json.h"

GUEST_CODE(stats_counts);
GUEST_CODE(stats_inject);
GUEST_CODE(stats_inject_loop);
GUEST_CODE(stats_shutdown);
GUEST_CODE(stats_fetch);
GUEST_CODE(stats_trace);
GUEST_CODE(stats_sweep);
GUEST_CODE(stats_cr3);

extern const unsigned char stats_counts_hlt[], stats_trace_out[];

/* As in stats_guest.S. */
#define STATS_PORT_OUT	0x80
#define STATS_PORT_IN	0x81
#define STATS_MMIO_GPA	0xd0000000ULL

/*
 * The raw exit codes of port I/O, CPUID and HLT: SVM EXITCODEs (APM vol. 2
 * appendix C) or VMX basic exit reasons (SDM vol. 3D appendix C).
 */
struct raw_codes {
	__u32 io, cpuid, hlt;
	const char *io_name;	/* in hvxstat's output */
};

static const struct raw_codes *raw_codes(void)
{
	static const struct raw_codes svm = {
		.io = 0x7b, .cpuid = 0x72, .hlt = 0x78, .io_name = "ioio",
	};
	static const struct raw_codes vmx = {
		.io = 30, .cpuid = 10, .hlt = 12, .io_name = "io",
	};

	return tvm_host_is_intel() ? &vmx : &svm;
}

#include "genl.h"

/* ---- Harness glue -------------------------------------------------------- */

/* Opens the family or skips when the module is not loaded. */
#define GNL_OPEN(g) do {							\
	struct hvx_sys __s;							\
	int __r = tvm_sys_open(&__s);						\
	if (__r == -ENOENT)							\
		SKIP(return, "/dev/hvx not present (hvx.ko not loaded)");	\
	if (!__r)								\
		hvx_close(&__s);						\
	__r = gnl_open(g);							\
	ASSERT_EQ(0, __r) TH_LOG("generic-netlink family \"%s\": %s",		\
				 HVX_GENL_NAME, strerror(-__r));		\
} while (0)

#define ASSERT_NL_OK(expr, e) do {						\
	int __r = (expr);							\
	ASSERT_EQ(0, __r) TH_LOG("%s: %s (extack \"%s\")", #expr,		\
				 strerror(-__r), (e)->msg);			\
} while (0)

/* The vCPU's id; asserts that the VM was found. */
#define ASSERT_VM_ID(g, id) do {						\
	id = newest_vm_of(g, getpid());						\
	ASSERT_NE(0, id) TH_LOG("no VM of pid %d in the dump", getpid());	\
} while (0)

/* ---- Counters ------------------------------------------------------------ */

struct counts {
	unsigned int outs, ins, cpuids, mmio_reads, mmio_writes, hlts;
	unsigned int runs;	/* HVX_RUN calls that returned 0 */
};

static int mmio_cb(void *opaque, __u64 gpa, void *data, unsigned int len, int is_write)
{
	(void)opaque;
	(void)gpa;
	if (!is_write)
		memset(data, 0x5a, len);
	return 0;
}

/* Sets R8/R9/R10: OUTs, INs and CPUIDs the stats_counts guest does. */
static int set_counts(struct tvm *t, unsigned int idx, const struct counts *c)
{
	struct hvx_regs regs;
	int ret = tvm_get_regs(t, idx, &regs);

	if (ret)
		return ret;
	regs.r8 = c->outs;
	regs.r9 = c->ins;
	regs.r10 = c->cpuids;
	return tvm_set_regs(t, idx, &regs);
}

/* Runs stats_counts on vCPU idx to its HLT, counting what userspace saw. */
static void run_counts(struct __test_metadata *_metadata, struct tvm *t, unsigned int idx,
		       struct counts *seen)
{
	struct hvx_run *run = t->vcpu[idx].run;
	char msg[512];
	int r;

	memset(seen, 0, sizeof(*seen));
	for (;;) {
		r = tvm_run_once(t, idx);
		ASSERT_GE(r, 0) TH_LOG("vCPU %u: %s", idx, tvm_describe(t, idx, r, msg, sizeof(msg)));
		seen->runs++;
		if (r == HVX_EXIT_IO && !run->io.string && run->io.count == 1 &&
		    run->io.direction == HVX_IO_OUT && run->io.port == STATS_PORT_OUT) {
			seen->outs++;
		} else if (r == HVX_EXIT_IO && !run->io.string && run->io.count == 1 &&
			   run->io.direction == HVX_IO_IN && run->io.port == STATS_PORT_IN) {
			memset(run->io_data, 0xa5, run->io.size);
			seen->ins++;
		} else if (r == HVX_EXIT_MMIO && run->mmio.gpa >= STATS_MMIO_GPA &&
			   run->mmio.gpa < STATS_MMIO_GPA + 16) {
			if (run->mmio.is_write)
				seen->mmio_writes++;
			else
				seen->mmio_reads++;
			ASSERT_EQ(0, hvx_mmio_complete(&t->vcpu[idx], mmio_cb, NULL, msg,
						       sizeof(msg))) TH_LOG("%s", msg);
		} else if (r == HVX_EXIT_HLT) {
			seen->hlts++;
			ASSERT_EQ(GUEST_ADDR(stats_counts, stats_counts_hlt), run->rip);
			return;
		} else {
			ASSERT_TRUE(0) TH_LOG("vCPU %u: unexpected %s", idx,
					      tvm_describe(t, idx, r, msg, sizeof(msg)));
		}
	}
}

/* A VM running stats_counts on each vCPU with the given counts, all run to HLT. */
static void counts_vm(struct __test_metadata *_metadata, struct tvm *t,
		      const struct counts *want, unsigned int nr, struct counts *seen)
{
	unsigned int i;

	TVM_CREATE(t, 2 * GUEST_MIN_MEM, 0, nr);
	tvm_load_code(t, "stats_guest", stats_counts_start, stats_counts_end);
	for (i = 0; i < nr; i++) {
		ASSERT_OK(tvm_setup(t, i, HVX_MODE_LONG, GUEST_CODE_GPA));
		ASSERT_OK(set_counts(t, i, &want[i]));
	}
	for (i = 0; i < nr; i++) {
		run_counts(_metadata, t, i, &seen[i]);
		/* The harness saw what the guest did, or the test itself is wrong. */
		ASSERT_EQ(want[i].outs, seen[i].outs);
		ASSERT_EQ(want[i].ins, seen[i].ins);
		ASSERT_EQ(1, seen[i].mmio_reads);
		ASSERT_EQ(1, seen[i].mmio_writes);
	}
}

#define EXPECT_STAT(v, s, want)							\
	EXPECT_EQ((__u64)(want), (v)->stats[s])					\
		TH_LOG("vCPU %u: counter %s = %llu, expected %llu", (v)->id, #s,	\
		       (unsigned long long)(v)->stats[s], (unsigned long long)(want))

static void check_vcpu_counts(struct __test_metadata *_metadata, const struct vcpu_info *v,
			      const struct counts *want, const struct counts *seen, __u32 paging)
{
	ASSERT_EQ(HVX_STAT_MAX - HVX_STAT_PAD, v->nr_stats) TH_LOG("counters in the reply");
	EXPECT_STAT(v, HVX_STAT_EXIT_IO_OUT, want->outs);
	EXPECT_STAT(v, HVX_STAT_EXIT_IO_IN, want->ins);
	EXPECT_STAT(v, HVX_STAT_EXIT_CPUID, want->cpuids);
	EXPECT_STAT(v, HVX_STAT_EXIT_MMIO_READ, 1);
	EXPECT_STAT(v, HVX_STAT_EXIT_MMIO_WRITE, 1);
	EXPECT_STAT(v, HVX_STAT_EXIT_HLT, 1);
	EXPECT_STAT(v, HVX_STAT_EXITS_USER, seen->runs);
	EXPECT_STAT(v, HVX_STAT_EXITS, v->stats[HVX_STAT_EXITS_KERNEL] +
		    v->stats[HVX_STAT_EXITS_USER]);
	EXPECT_GE(v->stats[HVX_STAT_EXITS], v->stats[HVX_STAT_EXITS_USER] + want->cpuids);
	EXPECT_STAT(v, HVX_STAT_EXIT_SHUTDOWN, 0);
	EXPECT_STAT(v, HVX_STAT_EXIT_FAIL_ENTRY, 0);
	EXPECT_STAT(v, HVX_STAT_EXIT_INTERNAL_ERROR, 0);
	EXPECT_STAT(v, HVX_STAT_EXIT_SIGNAL, 0);
	EXPECT_STAT(v, HVX_STAT_INJ_IRQ, 0);
	EXPECT_STAT(v, HVX_STAT_INJ_NMI, 0);
	EXPECT_STAT(v, HVX_STAT_INJ_EXCEPTION, 0);
	EXPECT_LT(0, v->stats[HVX_STAT_RUN_NS]);
	/*
	 * Each vCPU maps a page of its own, except under shadow paging, where
	 * the first vCPU's fills of whole 64 KiB blocks of a large guest page
	 * (shadow_prefill() in kmod/mmu/shadow.c) may map the pages of the
	 * next before it runs.
	 */
	if (v->id == 0 || paging == HVX_PAGING_NESTED)
		EXPECT_LT(0, v->stats[HVX_STAT_PAGES_MAPPED]) TH_LOG("vCPU %u", v->id);
	EXPECT_LE(2, v->stats[HVX_STAT_EXIT_NPF]) TH_LOG("the two MMIO accesses are NPFs");
	EXPECT_EQ(want->outs + want->ins, raw_count(v, raw_codes()->io))
		TH_LOG("vCPU %u: raw IOIO", v->id);
	EXPECT_EQ(want->cpuids, raw_count(v, raw_codes()->cpuid)) TH_LOG("vCPU %u: raw CPUID", v->id);
	EXPECT_EQ(1, raw_count(v, raw_codes()->hlt)) TH_LOG("vCPU %u: raw HLT", v->id);
}

/*
 * Two vCPUs with different counts of OUT, IN and CPUID, one MMIO read and
 * write each, then HLT: each vCPU's counters, its raw exit codes, and the
 * VM's totals are exactly what the guests did.
 */
TEST(counters_match_guest)
{
	const struct counts want[2] = {
		{ .outs = 100, .ins = 37, .cpuids = 25 },
		{ .outs = 7, .ins = 3, .cpuids = 5 },
	};
	struct counts seen[2];
	struct vcpu_list vcpus;
	struct vcpu_info one;
	struct vm_info vm;
	struct nl_err e;
	struct gnl g;
	struct tvm t;
	__u64 sum;
	unsigned int i, s;
	__u32 id;

	GNL_OPEN(&g);
	counts_vm(_metadata, &t, want, 2, seen);
	ASSERT_VM_ID(&g, id);

	ASSERT_NL_OK(nl_dump_vcpus(&g, id, &vcpus, &e), &e);
	ASSERT_EQ(2, vcpus.nr);
	ASSERT_NL_OK(nl_get_vm(&g, id, &vm, &e), &e);
	ASSERT_EQ(HVX_STAT_MAX - HVX_STAT_PAD, vm.nr_stats);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(id, vcpus.vcpu[i].vm_id);
		ASSERT_EQ(i, vcpus.vcpu[i].id);
		check_vcpu_counts(_metadata, &vcpus.vcpu[i], &want[i], &seen[i], t.paging);
		/* A do of one vCPU says the same as the dump. */
		ASSERT_NL_OK(nl_get_vcpu(&g, id, i, &one, &e), &e);
		EXPECT_EQ(0, memcmp(one.stats, vcpus.vcpu[i].stats, sizeof(one.stats)));
	}
	/* Every page pinned was mapped by one of the vCPUs. */
	EXPECT_EQ(vm.pinned_pages, vcpus.vcpu[0].stats[HVX_STAT_PAGES_MAPPED] +
		  vcpus.vcpu[1].stats[HVX_STAT_PAGES_MAPPED]);
	EXPECT_EQ(vm.pinned_pages, vm.stats[HVX_STAT_PAGES_MAPPED]);
	for (s = HVX_STAT_EXITS; s <= HVX_STAT_MAX; s++) {
		sum = vcpus.vcpu[0].stats[s] + vcpus.vcpu[1].stats[s];
		EXPECT_EQ(sum, vm.stats[s])
			TH_LOG("VM total of counter %u: vCPUs %llu + %llu", s,
			       (unsigned long long)vcpus.vcpu[0].stats[s],
			       (unsigned long long)vcpus.vcpu[1].stats[s]);
	}
	EXPECT_EQ(want[0].outs + want[1].outs, vm.stats[HVX_STAT_EXIT_IO_OUT]);
	tvm_destroy(&t);
	gnl_close(&g);
}

/* A single vCPU: pages_mapped equals the VM's pinned pages. */
TEST(counters_one_vcpu)
{
	const struct counts want = { .outs = 100, .ins = 37, .cpuids = 25 };
	struct counts seen;
	struct vcpu_info v;
	struct vm_info vm;
	struct nl_err e;
	struct gnl g;
	struct tvm t;
	__u32 id;

	GNL_OPEN(&g);
	counts_vm(_metadata, &t, &want, 1, &seen);
	ASSERT_VM_ID(&g, id);
	ASSERT_NL_OK(nl_get_vcpu(&g, id, 0, &v, &e), &e);
	ASSERT_NL_OK(nl_get_vm(&g, id, &vm, &e), &e);
	check_vcpu_counts(_metadata, &v, &want, &seen, t.paging);
	EXPECT_EQ(vm.pinned_pages, v.stats[HVX_STAT_PAGES_MAPPED]);
	EXPECT_EQ(0, memcmp(v.stats, vm.stats, sizeof(v.stats)));
	tvm_destroy(&t);
	gnl_close(&g);
}

/*
 * Shadow paging keeps at most 1024 table pages a vCPU (Documentation/
 * mmu.rst): a guest that touches 1400 separate 2 MiB regions (all aliased
 * to its first 2 MiB of RAM) makes the budget run out; the shadow tables
 * are dropped and refilled, the guest runs on correctly, and the high-water
 * mark the kernel reports never passes the budget.
 */
#define SHADOW_BUDGET	1024

TEST(shadow_tables_bounded)
{
	struct vcpu_info v;
	struct nl_err e;
	struct gnl g;
	struct tvm t;
	__u64 i, pde;
	__u32 id;

	GNL_OPEN(&g);
	TVM_CREATE_PAGING(&t, 2 * GUEST_MIN_MEM, HVX_PAGING_SHADOW, 0, 1);
	tvm_load_code(&t, "stats_sweep", stats_sweep_start, stats_sweep_end);
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_LONG, GUEST_CODE_GPA));
	/* PD entries 8 .. 1407: 2 MiB pages, all at gpa 0. */
	for (i = 8; i < 8 + 1400; i++) {
		pde = 0x83 | 0x4;	/* P, RW, US, PS */
		memcpy(t.mem + HVX_LAYOUT_PD + i * 8, &pde, 8);
	}
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_VM_ID(&g, id);
	ASSERT_NL_OK(nl_get_vcpu(&g, id, 0, &v, &e), &e);
	EXPECT_LE(v.stats[HVX_STAT_SHADOW_TABLES], SHADOW_BUDGET);
	EXPECT_EQ(SHADOW_BUDGET, v.stats[HVX_STAT_SHADOW_TABLES])
		TH_LOG("the sweep should have used the whole budget");
	EXPECT_LE(1, v.stats[HVX_STAT_SHADOW_FLUSHES]);
	EXPECT_LE(1400, v.stats[HVX_STAT_SHADOW_FILLS]);
	ksft_print_msg("shadow: %llu fills, %llu flushes, at most %llu tables\n",
		       (unsigned long long)v.stats[HVX_STAT_SHADOW_FILLS],
		       (unsigned long long)v.stats[HVX_STAT_SHADOW_FLUSHES],
		       (unsigned long long)v.stats[HVX_STAT_SHADOW_TABLES]);
	tvm_destroy(&t);
	gnl_close(&g);
}

/*
 * Shadow paging keeps global translations across MOV to CR3, as a TLB
 * does, and drops the rest: a guest reading 64 pages and reloading CR3,
 * 100 times, refills the pages each time only when they are not global.
 * The identity map of the code and stack is global or not with them.
 */
#define CR3_PAGES	64
#define CR3_ROUNDS	100

static void cr3_reloads(struct __test_metadata *_metadata, bool global)
{
	__u64 g = global ? 0x100 : 0, i, e;
	struct vcpu_info v;
	struct nl_err err;
	struct gnl gn;
	struct tvm t;
	__u32 id;

	GNL_OPEN(&gn);
	TVM_CREATE_PAGING(&t, 2 * GUEST_MIN_MEM, HVX_PAGING_SHADOW, 0, 1);
	tvm_load_code(&t, "stats_cr3", stats_cr3_start, stats_cr3_end);
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_LONG, GUEST_CODE_GPA));
	for (i = 0; i < 4 * 512; i++) {
		memcpy(&e, t.mem + HVX_LAYOUT_PD + i * 8, 8);
		e |= g;
		memcpy(t.mem + HVX_LAYOUT_PD + i * 8, &e, 8);
	}
	/* 1 GiB: a page table at GUEST_PT_GPA mapping pages of [1 MiB, 1.25 MiB). */
	e = GUEST_PT_GPA | 3;
	memcpy(t.mem + HVX_LAYOUT_PD + 512 * 8, &e, 8);
	memset(t.mem + GUEST_PT_GPA, 0, 0x1000);
	for (i = 0; i < CR3_PAGES; i++) {
		e = (GUEST_MIN_MEM + i * 0x1000) | 3 | g;
		memcpy(t.mem + GUEST_PT_GPA + i * 8, &e, 8);
	}
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_VM_ID(&gn, id);
	ASSERT_NL_OK(nl_get_vcpu(&gn, id, 0, &v, &err), &err);
	ksft_print_msg("%s pages: %u CR3 reloads, %llu shadow fills, %llu flushes\n",
		       global ? "global" : "non-global", CR3_ROUNDS,
		       (unsigned long long)v.stats[HVX_STAT_SHADOW_FILLS],
		       (unsigned long long)v.stats[HVX_STAT_SHADOW_FLUSHES]);
	EXPECT_LE(CR3_ROUNDS, v.stats[HVX_STAT_SHADOW_FLUSHES]);
	if (global) {
		EXPECT_GT(CR3_PAGES * 4, v.stats[HVX_STAT_SHADOW_FILLS]);
	} else {
		EXPECT_LE(CR3_PAGES * CR3_ROUNDS, v.stats[HVX_STAT_SHADOW_FILLS]);
	}
	tvm_destroy(&t);
	gnl_close(&gn);
}

TEST(shadow_keeps_global_pages_across_cr3)
{
	cr3_reloads(_metadata, true);
}

TEST(shadow_drops_other_pages_at_cr3)
{
	cr3_reloads(_metadata, false);
}

/* ---- Injection ------------------------------------------------------------ */

/* Runs vCPU 0, handling protocol OUTs, to the next PORT_REPORT. */
static int run_to_report(struct tvm *t, __u32 *val)
{
	struct hvx_run *run = t->vcpu[0].run;
	int r;

	for (;;) {
		r = tvm_run_once(t, 0);
		if (r != HVX_EXIT_IO || run->io.direction != HVX_IO_OUT || run->io.string)
			return r;
		if (run->io.port == PORT_REPORT) {
			*val = 0;
			memcpy(val, run->io_data, run->io.size);
			return r;
		}
		r = tvm_run_protocol_exit(t, 0);
		if (r)
			return r < 0 ? HVX_EXIT_IO : r;
	}
}

TEST(injection_counters)
{
	struct vcpu_info v;
	struct nl_err e;
	struct gnl g;
	struct tvm t;
	__u32 val = 0, id;

	GNL_OPEN(&g);
	TVM_LONG_GUEST(&t, stats_inject, 0);
	ASSERT_OK(tvm_setup_idt64(&t, 0));
	ASSERT_VM_ID(&g, id);

	ASSERT_EQ(HVX_EXIT_IO, run_to_report(&t, &val));
	ASSERT_EQ(1, val);
	ASSERT_OK(hvx_vcpu_inject(&t.vcpu[0], HVX_EVENT_EXCEPTION, 6, 0, 0));
	ASSERT_EQ(HVX_EXIT_IO, run_to_report(&t, &val));
	ASSERT_EQ(2, val);
	ASSERT_OK(hvx_vcpu_inject(&t.vcpu[0], HVX_EVENT_NMI, 2, 0, 0));
	ASSERT_EQ(HVX_EXIT_IO, run_to_report(&t, &val));
	ASSERT_EQ(3, val);
	ASSERT_OK(hvx_vcpu_inject(&t.vcpu[0], HVX_EVENT_EXTINT, 0x40, 0, 0));
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	/* The guest took each one. */
	ASSERT_EQ(3, t.io[0].nr_excs);
	EXPECT_EQ(6, t.io[0].excs[0].vector);
	EXPECT_EQ(2, t.io[0].excs[1].vector);
	EXPECT_EQ(0x40, t.io[0].excs[2].vector);

	ASSERT_NL_OK(nl_get_vcpu(&g, id, 0, &v, &e), &e);
	EXPECT_STAT(&v, HVX_STAT_INJ_EXCEPTION, 1);
	EXPECT_STAT(&v, HVX_STAT_INJ_NMI, 1);
	EXPECT_STAT(&v, HVX_STAT_INJ_IRQ, 1);
	tvm_destroy(&t);
	gnl_close(&g);
}

/*
 * With kick_after_inject (SVM; on by default under a hypervisor Linux does
 * not identify, as QEMU's TCG), every
 * VMRUN that injects an external interrupt has a host interrupt pending,
 * so the guest exits (INTR) right after the injection: at least one host
 * interrupt exit per injected interrupt (Documentation/design.rst,
 * "An injected interrupt delivered twice").  Each of the 100 interrupts
 * reaches the guest once.
 */
TEST(kick_after_injected_interrupt)
{
	const char *param = "/sys/module/hvx/parameters/kick_after_inject";
	unsigned int i, n = 100;
	struct vcpu_info v;
	struct nl_err e;
	struct gnl g;
	struct tvm t;
	__u32 val = 0, id;
	int kick = -1;
	FILE *f;

	f = fopen(param, "r");
	if (!f)
		SKIP(return, "no %s (VMX has no such workaround)", param);
	ASSERT_EQ(1, fscanf(f, "%d", &kick));
	fclose(f);

	GNL_OPEN(&g);
	TVM_LONG_GUEST(&t, stats_inject_loop, 0);
	ASSERT_OK(tvm_setup_idt64(&t, 0));
	ASSERT_VM_ID(&g, id);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(HVX_EXIT_IO, run_to_report(&t, &val));
		ASSERT_EQ(1, val);
		/* The interrupt injected last time was taken exactly once. */
		ASSERT_EQ(i ? 1 : 0, t.io[0].nr_excs) TH_LOG("after interrupt %u", i);
		if (i)
			ASSERT_EQ(0x40, t.io[0].excs[0].vector);
		t.io[0].nr_excs = 0;
		ASSERT_OK(hvx_vcpu_inject(&t.vcpu[0], HVX_EVENT_EXTINT, 0x40, 0, 0));
	}
	ASSERT_EQ(HVX_EXIT_IO, run_to_report(&t, &val));
	ASSERT_EQ(1, t.io[0].nr_excs);

	ASSERT_NL_OK(nl_get_vcpu(&g, id, 0, &v, &e), &e);
	EXPECT_STAT(&v, HVX_STAT_INJ_IRQ, n);
	TH_LOG("kick_after_inject %d: %llu host interrupt exits for %u injected interrupts",
	       kick, (unsigned long long)v.stats[HVX_STAT_EXIT_HOST_INTR], n);
	if (kick == 1)
		EXPECT_GE(v.stats[HVX_STAT_EXIT_HOST_INTR], n);
	tvm_destroy(&t);
	gnl_close(&g);
}

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

	tvm_load_code(&t, "stats_guest", stats_shutdown_start, stats_shutdown_end);
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
	attr_put_u32(attrs, &off, HVX_A_VCPU_ID, 64);
	raw_request(&g, HVX_CMD_GET_VCPU, 0, attrs, off, 0, &e);
	EXPECT_REJECT(&e, ERANGE, EINVAL, true, "GET_VCPU do of vCPU 64");
	EXPECT_EQ(ATTR_OFFS(8), e.offs) TH_LOG("offset of the bad attribute");
	raw_request(&g, HVX_CMD_GET_VCPU, NLM_F_DUMP, attrs, off, 0, &e);
	EXPECT_REJECT(&e, ERANGE, EINVAL, true, "GET_VCPU dump with vCPU 64");

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

/* ---- Tracepoints ------------------------------------------------------------------- */

#define TRACEFS	"/sys/kernel/tracing"

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

static int trace_enable(const char *event, bool on)
{
	char path[256];

	snprintf(path, sizeof(path), TRACEFS "/events/hvx/%s/enable", event);
	return write_file(path, on ? "1" : "0");
}

/* Reads the whole trace into a malloc'd string. */
static char *read_trace(void)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	int fd = open(TRACEFS "/trace", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb)
				break;
			buf = nb;
		}
	}
	close(fd);
	buf[len] = 0;
	return buf;
}

/* Is there a line with every one of the given substrings? */
static bool trace_has(const char *trace, const char *a, const char *b)
{
	const char *line = trace, *end;
	char tmp[1024];
	size_t n;

	while (*line) {
		end = strchr(line, '\n');
		n = end ? (size_t)(end - line) : strlen(line);
		if (n < sizeof(tmp)) {
			memcpy(tmp, line, n);
			tmp[n] = 0;
			if (tmp[0] != '#' && strstr(tmp, a) && strstr(tmp, b))
				return true;
		}
		line += n + (end ? 1 : 0);
	}
	return false;
}

TEST(tracepoints)
{
	char want_exit[128], want_user[128];
	struct gnl g;
	struct tvm t;
	char *trace;
	__u32 id;
	int r;

	if (geteuid())
		SKIP(return, "tracefs needs root");
	if (access(TRACEFS "/trace", F_OK) &&
	    mount("nodev", TRACEFS, "tracefs", 0, NULL))
		SKIP(return, "tracefs not available at " TRACEFS ": %s", strerror(errno));
	GNL_OPEN(&g);
	if (access(TRACEFS "/events/hvx/hvx_exit/enable", F_OK))
		SKIP(return, "no hvx trace events in " TRACEFS "/events (kernel without tracing?)");

	TVM_LONG_GUEST(&t, stats_trace, 0);
	ASSERT_VM_ID(&g, id);
	ASSERT_OK(write_file(TRACEFS "/trace", ""));
	ASSERT_OK(trace_enable("hvx_exit", true));
	ASSERT_OK(trace_enable("hvx_userspace_exit", true));
	ASSERT_RUN_EXIT(&t, 0, HVX_EXIT_IO);
	ASSERT_EQ(0x99, t.vcpu[0].run->io.port);
	r = tvm_run_once(&t, 0);
	trace_enable("hvx_exit", false);
	trace_enable("hvx_userspace_exit", false);
	ASSERT_EQ(HVX_EXIT_HLT, r);

	trace = read_trace();
	ASSERT_NE(NULL, trace);
	snprintf(want_exit, sizeof(want_exit), "vm %u vcpu 0 reason %#x rip 0x%llx ", id,
		 raw_codes()->io, (unsigned long long)GUEST_ADDR(stats_trace, stats_trace_out));
	snprintf(want_user, sizeof(want_user), "vm %u vcpu 0 exit_reason %u ret 0", id,
		 HVX_EXIT_IO);
	EXPECT_TRUE(trace_has(trace, "hvx_exit:", want_exit))
		TH_LOG("no \"hvx_exit: %s\" in the trace:\n%.2000s", want_exit, trace);
	EXPECT_TRUE(trace_has(trace, "hvx_userspace_exit:", want_user))
		TH_LOG("no \"hvx_userspace_exit: %s\" in the trace:\n%.2000s", want_user, trace);
	free(trace);
	tvm_destroy(&t);
	gnl_close(&g);
}

/* ---- hvxstat --------------------------------------------------------------------- */

/* Runs a command and returns its output (malloc'd), or NULL; *status gets the exit status. */
static char *run_cmd(const char *cmd, int *status)
{
	size_t cap = 1 << 16, len = 0, n;
	char *buf = malloc(cap);
	FILE *f = popen(cmd, "r");

	if (!buf || !f) {
		free(buf);
		if (f)
			pclose(f);
		return NULL;
	}
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb)
				break;
			buf = nb;
		}
	}
	buf[len] = 0;
	*status = pclose(f);
	return buf;
}

static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char dir[512], file[600];
	const char *p, *colon;
	size_t n;

	for (p = path ? path : "/usr/bin:/bin"; *p; p = colon ? colon + 1 : p + n) {
		colon = strchr(p, ':');
		n = colon ? (size_t)(colon - p) : strlen(p);
		if (n && n < sizeof(dir)) {
			memcpy(dir, p, n);
			dir[n] = 0;
			snprintf(file, sizeof(file), "%s/%s", dir, prog);
			if (!access(file, X_OK))
				return true;
		}
		if (!colon)
			break;
	}
	return false;
}

/* The plain VM list has a row "ID PID UID VCPUS ..." for the VM. */
static bool list_has_row(const char *out, __u32 id, pid_t pid, uid_t uid, unsigned int vcpus)
{
	const char *line = out;
	unsigned int a, b, c, d;

	while (line && *line) {
		if (sscanf(line, "%u %u %u %u", &a, &b, &c, &d) == 4 && a == id &&
		    b == (unsigned int)pid && c == uid && d == vcpus)
			return true;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

#define EXPECT_JSTAT(j, stats, name, want)					\
	EXPECT_EQ((unsigned long long)(want), j_uint(j, j_get(j, stats, name)))	\
		TH_LOG("hvxstat --json: \"%s\"", name)

TEST(hvxstat_output)
{
	const struct counts want = { .outs = 100, .ins = 37, .cpuids = 25 };
	static struct json j;
	int root, vms, vm, vcpus, vcpu, stats, raw, c;
	struct counts seen;
	struct vm_info info;
	struct nl_err e;
	char cmd[128];
	struct gnl g;
	struct tvm t;
	char *out;
	int status;
	__u32 id;
	bool raw_ioio = false;

	if (!on_path("hvxstat"))
		SKIP(return, "hvxstat is not on PATH");
	GNL_OPEN(&g);
	counts_vm(_metadata, &t, &want, 1, &seen);
	ASSERT_VM_ID(&g, id);
	ASSERT_NL_OK(nl_get_vm(&g, id, &info, &e), &e);

	/* The plain list: a row with the VM's id, pid, uid and vCPUs. */
	out = run_cmd("hvxstat", &status);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, status) TH_LOG("hvxstat: exit status 0x%x:\n%s", status, out);
	EXPECT_TRUE(list_has_row(out, id, getpid(), geteuid(), 1))
		TH_LOG("no row for VM %u (pid %d) in:\n%s", id, getpid(), out);
	free(out);

	/* The JSON list. */
	out = run_cmd("hvxstat --json", &status);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, status);
	root = json_parse(&j, out);
	ASSERT_LE(0, root) TH_LOG("hvxstat --json is not JSON:\n%s", out);
	vms = j_get(&j, root, "vms");
	ASSERT_LE(0, vms) TH_LOG("no \"vms\" in:\n%s", out);
	vm = j_find_id(&j, vms, id);
	ASSERT_LE(0, vm) TH_LOG("no VM %u in:\n%s", id, out);
	EXPECT_EQ((unsigned long long)getpid(), j_uint(&j, j_get(&j, vm, "pid")));
	EXPECT_EQ(geteuid(), j_uint(&j, j_get(&j, vm, "uid")));
	EXPECT_EQ(1, j_uint(&j, j_get(&j, vm, "nr_vcpus")));
	EXPECT_EQ(info.mem_bytes, j_uint(&j, j_get(&j, vm, "mem_bytes")));
	EXPECT_EQ(info.pinned_pages, j_uint(&j, j_get(&j, vm, "pinned_pages")));
	/* The mode the VM got: shadow where the CPU has no nested paging. */
	EXPECT_TRUE(j_streq(&j, j_get(&j, vm, "paging"),
			    t.paging == HVX_PAGING_SHADOW ? "shadow" : "nested"))
		TH_LOG("VM %u: \"paging\" is not %s", id,
		       t.paging == HVX_PAGING_SHADOW ? "shadow" : "nested");
	stats = j_get(&j, vm, "stats");
	EXPECT_JSTAT(&j, stats, "exit_io_out", want.outs);
	EXPECT_JSTAT(&j, stats, "exit_io_in", want.ins);
	EXPECT_JSTAT(&j, stats, "exit_cpuid", want.cpuids);
	EXPECT_JSTAT(&j, stats, "exit_mmio_read", 1);
	EXPECT_JSTAT(&j, stats, "exit_mmio_write", 1);
	EXPECT_JSTAT(&j, stats, "exit_hlt", 1);
	EXPECT_JSTAT(&j, stats, "exits_user", seen.runs);
	EXPECT_JSTAT(&j, stats, "exits", info.stats[HVX_STAT_EXITS]);
	free(out);

	/* One VM as JSON: the VM and its vCPU with raw exit codes. */
	snprintf(cmd, sizeof(cmd), "hvxstat %u --json", id);
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, status);
	root = json_parse(&j, out);
	ASSERT_LE(0, root) TH_LOG("%s is not JSON:\n%s", cmd, out);
	vm = j_get(&j, root, "vm");
	EXPECT_EQ(id, j_uint(&j, j_get(&j, vm, "id"))) TH_LOG("%s:\n%s", cmd, out);
	EXPECT_EQ((unsigned long long)getpid(), j_uint(&j, j_get(&j, vm, "pid")));
	vcpus = j_get(&j, root, "vcpus");
	vcpu = j_at(&j, vcpus, 0);
	ASSERT_LE(0, vcpu) TH_LOG("no vCPU in:\n%s", out);
	EXPECT_GT(0, j_at(&j, vcpus, 1)) TH_LOG("more than one vCPU in:\n%s", out);
	EXPECT_EQ(0, j_uint(&j, j_get(&j, vcpu, "id")));
	stats = j_get(&j, vcpu, "stats");
	EXPECT_JSTAT(&j, stats, "exit_io_out", want.outs);
	EXPECT_JSTAT(&j, stats, "exit_io_in", want.ins);
	EXPECT_JSTAT(&j, stats, "exit_cpuid", want.cpuids);
	EXPECT_JSTAT(&j, stats, "exit_mmio_read", 1);
	EXPECT_JSTAT(&j, stats, "exit_mmio_write", 1);
	EXPECT_JSTAT(&j, stats, "exit_hlt", 1);
	EXPECT_JSTAT(&j, stats, "exits_user", seen.runs);
	raw = j_get(&j, vcpu, "raw_exits");
	ASSERT_LE(0, raw) TH_LOG("no \"raw_exits\" in:\n%s", out);
	for (c = 0; j_at(&j, raw, c) >= 0; c++) {
		int r = j_at(&j, raw, c);

		if (j_uint(&j, j_get(&j, r, "code")) == raw_codes()->io) {
			raw_ioio = true;
			EXPECT_EQ(want.outs + want.ins, j_uint(&j, j_get(&j, r, "count")));
			EXPECT_TRUE(j_streq(&j, j_get(&j, r, "name"), raw_codes()->io_name))
				TH_LOG("raw exit %#x is not named \"%s\" in:\n%s",
				       raw_codes()->io, raw_codes()->io_name, out);
		}
	}
	EXPECT_TRUE(raw_ioio) TH_LOG("no raw exit %#x in:\n%s", raw_codes()->io, out);
	free(out);

	/* A VM that is gone: exit status 1. */
	tvm_destroy(&t);
	snprintf(cmd, sizeof(cmd), "hvxstat %u --json 2>/dev/null", id);
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1)
		TH_LOG("%s for a destroyed VM: status 0x%x", cmd, status);
	free(out);
	gnl_close(&g);
}

/* ---- hvxstat's options: -f, -z, -p, --log, --version -------------------------------- */

/* hvxstat's names of the counters (Documentation/netlink.rst, section 4). */
static const char *const stat_name[HVX_STAT_MAX + 1] = {
	[HVX_STAT_EXITS]		= "exits",
	[HVX_STAT_EXITS_KERNEL]		= "exits_kernel",
	[HVX_STAT_EXITS_USER]		= "exits_user",
	[HVX_STAT_EXIT_IO_IN]		= "exit_io_in",
	[HVX_STAT_EXIT_IO_OUT]		= "exit_io_out",
	[HVX_STAT_EXIT_MMIO_READ]	= "exit_mmio_read",
	[HVX_STAT_EXIT_MMIO_WRITE]	= "exit_mmio_write",
	[HVX_STAT_EXIT_HLT]		= "exit_hlt",
	[HVX_STAT_EXIT_SHUTDOWN]	= "exit_shutdown",
	[HVX_STAT_EXIT_HYPERCALL]	= "exit_hypercall",
	[HVX_STAT_EXIT_MSR_USER]	= "exit_msr_user",
	[HVX_STAT_EXIT_MSR_KERNEL]	= "exit_msr_kernel",
	[HVX_STAT_EXIT_IRQ_WINDOW]	= "exit_irq_window",
	[HVX_STAT_EXIT_FAIL_ENTRY]	= "exit_fail_entry",
	[HVX_STAT_EXIT_INTERNAL_ERROR]	= "exit_internal_error",
	[HVX_STAT_EXIT_SIGNAL]		= "exit_signal",
	[HVX_STAT_EXIT_CPUID]		= "exit_cpuid",
	[HVX_STAT_EXIT_HOST_INTR]	= "exit_host_intr",
	[HVX_STAT_EXIT_NPF]		= "exit_npf",
	[HVX_STAT_EXIT_OTHER]		= "exit_other",
	[HVX_STAT_INJ_IRQ]		= "inj_irq",
	[HVX_STAT_INJ_NMI]		= "inj_nmi",
	[HVX_STAT_INJ_EXCEPTION]	= "inj_exception",
	[HVX_STAT_RUN_NS]		= "run_ns",
	[HVX_STAT_TLB_FLUSHES]		= "tlb_flushes",
	[HVX_STAT_PAGES_MAPPED]		= "pages_mapped",
	[HVX_STAT_SHADOW_FILLS]		= "shadow_fills",
	[HVX_STAT_SHADOW_FLUSHES]	= "shadow_flushes",
	[HVX_STAT_SHADOW_TABLES]	= "shadow_tables",
};

/* run_cmd() with stderr in the output too, for the messages of usage errors. */
static char *run_cmd_err(const char *cmd, int *status)
{
	char full[512];

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	return run_cmd(full, status);
}

#define EXPECT_EXIT(status, code, cmd, out)					\
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == (code))	\
		TH_LOG("%s: status 0x%x, expected exit %d:\n%s", cmd, status, code, out)

/*
 * The rows of a table of hvxstat's view of one VM in [text, end): the lines
 * after the one that starts with heading, up to a blank line.  Returns the
 * row names joined by commas (raw exits by their name, without the code)
 * in names, and the number in column col (1: first after the name) of row
 * want in *value, if given.
 */
static void table_rows(const char *text, const char *end, const char *heading,
		       char *names, size_t len, const char *want, unsigned int col,
		       double *value)
{
	const char *line = text, *nl, *p;
	char row[512], name[64], code[32];
	bool in = false;
	size_t n, used = 0;
	unsigned int c;
	int skip;

	names[0] = 0;
	for (; line < end && *line; line = nl ? nl + 1 : end) {
		nl = memchr(line, '\n', end - line);
		n = nl ? (size_t)(nl - line) : (size_t)(end - line);
		if (n >= sizeof(row))
			continue;
		memcpy(row, line, n);
		row[n] = 0;
		if (!in) {
			in = !strncmp(row, heading, strlen(heading));
			continue;
		}
		if (!n)
			break;
		skip = 0;
		if (!strncmp(row, "0x", 2)) {
			if (sscanf(row, "%31s %63s%n", code, name, &skip) != 2)
				continue;
		} else if (sscanf(row, "%63s%n", name, &skip) != 1) {
			continue;
		}
		used += snprintf(names + used, used < len ? len - used : 0, "%s%s",
				 used ? "," : "", name);
		if (value && want && !strcmp(name, want)) {
			p = row + skip;
			for (c = 1; c <= col; c++) {
				char *e;
				double d = strtod(p, &e);

				if (e == p)
					break;
				if (c == col)
					*value = d;
				p = e;
			}
		}
	}
}

/* The names of the members of JSON object obj, joined by commas. */
static void j_keys(const struct json *j, int obj, char *buf, size_t len)
{
	size_t used = 0;
	int n;

	buf[0] = 0;
	if (obj < 0)
		return;
	for (n = j->node[obj].child; n >= 0; n = j->node[n].next)
		used += snprintf(buf + used, used < len ? len - used : 0, "%s%.*s",
				 used ? "," : "", (int)j->node[n].key_len, j->node[n].key);
}

/* Joins the names of the counters for which keep(stats[s]) holds. */
static void stat_names_where(const __u64 *stats, bool nonzero, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int s;

	buf[0] = 0;
	for (s = HVX_STAT_EXITS; s <= HVX_STAT_MAX; s++)
		if (!nonzero || stats[s])
			used += snprintf(buf + used, used < len ? len - used : 0, "%s%s",
					 used ? "," : "", stat_name[s]);
}

/* A command whose stdout the test reads as it comes. */
struct reader {
	pid_t pid;
	int fd;
	char buf[1 << 16];
	size_t len, pos;	/* bytes read; bytes handed out as lines */
	bool eof;
};

static int reader_start(struct reader *r, const char *cmd)
{
	int p[2];

	memset(r, 0, sizeof(*r));
	if (pipe(p))
		return -errno;
	r->pid = fork();
	if (r->pid < 0)
		return -errno;
	if (!r->pid) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	r->fd = p[0];
	return 0;
}

/* Reads what is there, waiting up to timeout_ms for something: -EAGAIN if nothing. */
static int reader_fill(struct reader *r, int timeout_ms)
{
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	ssize_t n;

	if (r->eof)
		return 0;
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return -EAGAIN;
	n = read(r->fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
	if (n <= 0) {
		r->eof = true;
		return 0;
	}
	r->len += n;
	r->buf[r->len] = 0;
	return n;
}

/* The next whole line (without its newline), waiting up to timeout_ms: NULL if none. */
static const char *reader_line(struct reader *r, int timeout_ms)
{
	struct timespec t0, now;
	char *nl;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
		if (nl) {
			const char *line = r->buf + r->pos;

			*nl = 0;
			r->pos = nl + 1 - r->buf;
			return line;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (r->eof || (now.tv_sec - t0.tv_sec) * 1000 +
			      (now.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
			return NULL;
		reader_fill(r, 100);
	}
}

/* Waits for the command to end; its wait status. */
static int reader_wait(struct reader *r)
{
	int status = -1;

	while (reader_fill(r, 30000) > 0)
		;
	close(r->fd);
	if (waitpid(r->pid, &status, 0) != r->pid)
		return -1;
	return status;
}

/* Splits a CSV line into at most max fields (in place); the number of fields. */
static unsigned int csv_split(char *line, char **f, unsigned int max)
{
	unsigned int n = 0;
	char *p = line;

	for (;;) {
		if (n < max)
			f[n] = p;
		n++;
		p = strchr(p, ',');
		if (!p)
			return n;
		*p++ = 0;
	}
}

/* A VM of one vCPU loaded with stats_counts and its counts, not run yet. */
static void counts_vm_ready(struct __test_metadata *_metadata, struct tvm *t, unsigned int nr,
			    const struct counts *want)
{
	unsigned int i;

	TVM_CREATE(t, 2 * GUEST_MIN_MEM, 0, nr);
	tvm_load_code(t, "stats_guest", stats_counts_start, stats_counts_end);
	for (i = 0; i < nr; i++) {
		ASSERT_OK(tvm_setup(t, i, HVX_MODE_LONG, GUEST_CODE_GPA));
		ASSERT_OK(set_counts(t, i, &want[i]));
	}
}

/*
 * -f: the per-VM table, its JSON and the VM list keep exactly the counters
 * (and, for one VM, the raw exits) whose names match.
 */
TEST(hvxstat_fields)
{
	const struct counts want = { .outs = 100, .ins = 37, .cpuids = 25 };
	static struct json j;
	char cmd[256], names[1024], expect[256];
	int root, vcpu, raw, vms, vm, status;
	struct counts seen;
	struct gnl g;
	struct tvm t;
	double val = -1;
	char *out;
	__u32 id;

	if (!on_path("hvxstat"))
		SKIP(return, "hvxstat is not on PATH");
	GNL_OPEN(&g);
	counts_vm(_metadata, &t, &want, 1, &seen);
	ASSERT_VM_ID(&g, id);

	/* One VM: the two port I/O counters, and no raw exit (none is named exit_io_*). */
	snprintf(cmd, sizeof(cmd), "hvxstat %u -f '^exit_io_'", id);
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, cmd, out);
	table_rows(out, out + strlen(out), "COUNTER", names, sizeof(names), "exit_io_out", 1,
		   &val);
	EXPECT_STREQ("exit_io_in,exit_io_out", names) TH_LOG("%s:\n%s", cmd, out);
	EXPECT_EQ(want.outs, val) TH_LOG("%s: exit_io_out:\n%s", cmd, out);
	table_rows(out, out + strlen(out), "COUNTER", names, sizeof(names), "exit_io_in", 1,
		   &val);
	EXPECT_EQ(want.ins, val) TH_LOG("%s: exit_io_in:\n%s", cmd, out);
	table_rows(out, out + strlen(out), "RAW EXIT", names, sizeof(names), NULL, 0, NULL);
	EXPECT_STREQ("", names) TH_LOG("%s: raw exits:\n%s", cmd, out);
	free(out);

	/* The same in JSON, with the raw exit of port I/O by its name. */
	snprintf(cmd, sizeof(cmd), "hvxstat %u --json -f '^(exit_io_in|exit_cpuid|%s)$'", id,
		 raw_codes()->io_name);
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, cmd, out);
	root = json_parse(&j, out);
	ASSERT_LE(0, root) TH_LOG("%s is not JSON:\n%s", cmd, out);
	vcpu = j_at(&j, j_get(&j, root, "vcpus"), 0);
	ASSERT_LE(0, vcpu) TH_LOG("%s: no vCPU:\n%s", cmd, out);
	j_keys(&j, j_get(&j, vcpu, "stats"), names, sizeof(names));
	EXPECT_STREQ("exit_io_in,exit_cpuid", names) TH_LOG("%s:\n%s", cmd, out);
	EXPECT_JSTAT(&j, j_get(&j, vcpu, "stats"), "exit_io_in", want.ins);
	EXPECT_JSTAT(&j, j_get(&j, vcpu, "stats"), "exit_cpuid", want.cpuids);
	j_keys(&j, j_get(&j, j_get(&j, root, "vm"), "stats"), names, sizeof(names));
	EXPECT_STREQ("exit_io_in,exit_cpuid", names) TH_LOG("%s: the VM's stats:\n%s", cmd, out);
	raw = j_get(&j, vcpu, "raw_exits");
	EXPECT_EQ(raw_codes()->io, j_uint(&j, j_get(&j, j_at(&j, raw, 0), "code")))
		TH_LOG("%s: raw exits:\n%s", cmd, out);
	EXPECT_EQ(want.outs + want.ins, j_uint(&j, j_get(&j, j_at(&j, raw, 0), "count")));
	EXPECT_GT(0, j_at(&j, raw, 1)) TH_LOG("%s: more than one raw exit:\n%s", cmd, out);
	free(out);

	/* The VM list: a column for each counter that matches, instead of EXITS. */
	snprintf(cmd, sizeof(cmd), "hvxstat -p %d -f 'hlt|cpuid'", getpid());
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, cmd, out);
	snprintf(expect, sizeof(expect), "%6u %8d %6u %5u", id, getpid(), geteuid(), 1);
	EXPECT_TRUE(strstr(out, "EXIT_HLT") && strstr(out, "EXIT_CPUID") &&
		    !strstr(out, " EXITS")) TH_LOG("%s: columns:\n%s", cmd, out);
	{
		const char *row = strstr(out, expect);
		unsigned long long hlt = 0, cpuid = 0;

		ASSERT_NE(NULL, row) TH_LOG("%s: no row \"%s\":\n%s", cmd, expect, out);
		EXPECT_EQ(2, sscanf(row, "%*u %*u %*u %*u %*f %*f %*s %*s %llu %llu", &hlt,
				    &cpuid)) TH_LOG("%s", row);
		EXPECT_EQ(1, hlt);
		EXPECT_EQ(want.cpuids, cpuid);
	}
	free(out);

	/* And in JSON: each VM's "stats" has those two only. */
	snprintf(cmd, sizeof(cmd), "hvxstat -p %d --json -f 'hlt|cpuid'", getpid());
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, cmd, out);
	root = json_parse(&j, out);
	ASSERT_LE(0, root) TH_LOG("%s is not JSON:\n%s", cmd, out);
	vms = j_get(&j, root, "vms");
	vm = j_find_id(&j, vms, id);
	ASSERT_LE(0, vm) TH_LOG("%s: no VM %u:\n%s", cmd, id, out);
	j_keys(&j, j_get(&j, vm, "stats"), names, sizeof(names));
	EXPECT_STREQ("exit_hlt,exit_cpuid", names) TH_LOG("%s:\n%s", cmd, out);
	free(out);
	tvm_destroy(&t);
	gnl_close(&g);
}

/*
 * -z: one VM's table keeps exactly the counters that are not zero; the list
 * leaves out a VM that never ran; with --watch, a counter that is not zero
 * but did not move is left out and one that moved is kept.
 */
TEST(hvxstat_skip_zero)
{
	const struct counts want[2] = {
		{ .outs = 1000000000, .ins = 0, .cpuids = 0 },	/* OUTs while watched */
		{ .outs = 10, .ins = 37, .cpuids = 25 },	/* done before */
	};
	struct counts seen;
	struct vcpu_info v;
	struct nl_err e;
	static struct reader r;
	struct tvm t, idle;
	struct gnl g;
	char cmd[256], names[1024], expect[1024];
	struct timespec t0, now;
	unsigned int refreshes = 0, with_out = 0, rows_moving = 0, rows = 0;
	const char *p, *next;
	char *out;
	int status;
	__u32 id, idle_id;

	if (!on_path("hvxstat"))
		SKIP(return, "hvxstat is not on PATH");
	GNL_OPEN(&g);
	counts_vm(_metadata, &t, &want[1], 1, &seen);
	ASSERT_VM_ID(&g, id);
	TVM_CREATE(&idle, GUEST_MIN_MEM, 0, 1);
	ASSERT_VM_ID(&g, idle_id);
	ASSERT_NE(id, idle_id);

	/* One VM: the rows are the counters that are not zero, all of them. */
	ASSERT_NL_OK(nl_get_vcpu(&g, id, 0, &v, &e), &e);
	stat_names_where(v.stats, true, expect, sizeof(expect));
	snprintf(cmd, sizeof(cmd), "hvxstat %u -z", id);
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, cmd, out);
	table_rows(out, out + strlen(out), "COUNTER", names, sizeof(names), NULL, 0, NULL);
	EXPECT_STREQ(expect, names) TH_LOG("%s:\n%s", cmd, out);
	EXPECT_TRUE(strstr(names, "exit_io_out") && strstr(names, "exit_cpuid") &&
		    !strstr(names, "exit_shutdown") && !strstr(names, "inj_irq"))
		TH_LOG("%s: %s", cmd, names);
	free(out);
	/* Without -z, every counter. */
	stat_names_where(v.stats, false, expect, sizeof(expect));
	snprintf(cmd, sizeof(cmd), "hvxstat %u", id);
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	table_rows(out, out + strlen(out), "COUNTER", names, sizeof(names), NULL, 0, NULL);
	EXPECT_STREQ(expect, names) TH_LOG("%s:\n%s", cmd, out);
	free(out);

	/* The list: the VM that ran, not the one that never did. */
	snprintf(cmd, sizeof(cmd), "hvxstat -p %d -z", getpid());
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, cmd, out);
	EXPECT_TRUE(list_has_row(out, id, getpid(), geteuid(), 1)) TH_LOG("%s:\n%s", cmd, out);
	EXPECT_FALSE(list_has_row(out, idle_id, getpid(), geteuid(), 1))
		TH_LOG("%s: idle VM %u listed:\n%s", cmd, idle_id, out);
	free(out);
	snprintf(cmd, sizeof(cmd), "hvxstat -p %d", getpid());
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_TRUE(list_has_row(out, idle_id, getpid(), geteuid(), 1))
		TH_LOG("%s: idle VM %u not listed:\n%s", cmd, idle_id, out);
	free(out);
	tvm_destroy(&idle);
	tvm_destroy(&t);

	/*
	 * --watch: vCPU 1 has done its INs, CPUIDs and HLT before; vCPU 0 does
	 * OUTs all the while hvxstat watches.
	 */
	counts_vm_ready(_metadata, &t, 2, want);
	ASSERT_VM_ID(&g, id);
	run_counts(_metadata, &t, 1, &seen);
	snprintf(cmd, sizeof(cmd), "hvxstat %u --watch 0.3 --count 4 -z", id);
	ASSERT_EQ(0, reader_start(&r, cmd));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		int ret = tvm_run_once(&t, 0);
		struct hvx_run *run = t.vcpu[0].run;

		ASSERT_EQ(HVX_EXIT_IO, ret);
		ASSERT_EQ(STATS_PORT_OUT, run->io.port);
		reader_fill(&r, 0);
		clock_gettime(CLOCK_MONOTONIC, &now);
		ASSERT_GT(60, now.tv_sec - t0.tv_sec) TH_LOG("%s did not end", cmd);
	} while (!r.eof);
	status = reader_wait(&r);
	EXPECT_EXIT(status, 0, cmd, r.buf);

	/* Each refresh starts with the VM's summary line. */
	for (p = strstr(r.buf, "vm "); p; p = next) {
		double rate = -1;
		char *rest;

		next = strstr(p + 1, "\nvm ");
		if (next)
			next++;
		refreshes++;
		table_rows(p, next ? next : p + strlen(p), "COUNTER", names, sizeof(names),
			   "exit_io_out", 2, &rate);
		if (strstr(names, "exit_io_out") && rate > 0)
			with_out++;
		EXPECT_FALSE(strstr(names, "exit_io_in") || strstr(names, "exit_cpuid") ||
			     strstr(names, "exit_hlt") || strstr(names, "exit_mmio"))
			TH_LOG("a counter that did not move is shown: %s", names);
		/* Every row shown moved: its TOTAL/S is not zero. */
		for (rest = strtok(names, ","); rest; rest = strtok(NULL, ",")) {
			char row[64];
			double r2 = -1;

			snprintf(row, sizeof(row), "%s", rest);
			table_rows(p, next ? next : p + strlen(p), "COUNTER", expect,
				   sizeof(expect), row, 2, &r2);
			rows++;
			if (r2 > 0)
				rows_moving++;
		}
		table_rows(p, next ? next : p + strlen(p), "RAW EXIT", names, sizeof(names),
			   NULL, 0, NULL);
		EXPECT_STREQ(raw_codes()->io_name, strtok(names, ","))
			TH_LOG("raw exits of a refresh: the port I/O one alone expected");
	}
	EXPECT_EQ(4, refreshes) TH_LOG("%s:\n%s", cmd, r.buf);
	EXPECT_EQ(4, with_out) TH_LOG("refreshes without a moving exit_io_out:\n%s", r.buf);
	EXPECT_EQ(rows, rows_moving) TH_LOG("rows with a zero rate:\n%s", r.buf);
	tvm_destroy(&t);
	gnl_close(&g);
}

/* The VM of a child process, which the child keeps until fd closes. */
static pid_t child_with_vm(int *keep, unsigned int nr_vcpus)
{
	int ready[2], hold[2];
	pid_t pid;
	char c = 0;

	if (pipe(ready) || pipe(hold))
		return -1;
	pid = fork();
	if (!pid) {
		struct hvx_vcpu vcpu;
		struct hvx_sys sys;
		struct hvx_vm vm;
		unsigned int i;
		void *mem;

		close(ready[0]);
		close(hold[1]);
		mem = mmap(NULL, GUEST_MIN_MEM, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		c = 1;
		if (mem == MAP_FAILED || hvx_open(&sys) ||
		    hvx_vm_create(&sys, &vm, HVX_PAGING_AUTO, 0) ||
		    hvx_vm_set_region(&vm, 0, 0, 0, GUEST_MIN_MEM, mem))
			c = 0;
		for (i = 0; c && i < nr_vcpus; i++)
			if (hvx_vcpu_create(&vm, i, &vcpu))
				c = 0;
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		while (read(hold[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	if (pid < 0 || read(ready[0], &c, 1) != 1 || !c) {
		close(ready[0]);
		close(hold[1]);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return -1;
	}
	close(ready[0]);
	*keep = hold[1];
	return pid;
}

/* -p: exactly the VMs of that process, in the list and in JSON. */
TEST(hvxstat_pid)
{
	static struct vm_list list;
	static struct json j;
	char cmd[128], *out, *line;
	unsigned int rows = 0, i, n_child = 0;
	int keep, status, root, vms, k;
	struct nl_err e;
	struct gnl g;
	struct tvm t;
	pid_t child;
	__u32 id, child_id = 0;

	if (!on_path("hvxstat"))
		SKIP(return, "hvxstat is not on PATH");
	GNL_OPEN(&g);
	TVM_CREATE(&t, GUEST_MIN_MEM, 0, 1);
	ASSERT_VM_ID(&g, id);
	child = child_with_vm(&keep, 2);
	ASSERT_LT(0, child) TH_LOG("the child could not create its VM");
	ASSERT_NL_OK(nl_dump_vms(&g, &list, &e), &e);
	for (i = 0; i < list.nr; i++)
		if (list.vm[i].pid == (__u32)child) {
			child_id = list.vm[i].id;
			n_child++;
		}
	ASSERT_EQ(1, n_child);

	snprintf(cmd, sizeof(cmd), "hvxstat -p %d", child);
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, cmd, out);
	EXPECT_TRUE(list_has_row(out, child_id, child, geteuid(), 2)) TH_LOG("%s:\n%s", cmd, out);
	/* The header and the child's VM, nothing else. */
	for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		rows++;
	EXPECT_EQ(2, rows) TH_LOG("%s: %u lines", cmd, rows);
	free(out);

	snprintf(cmd, sizeof(cmd), "hvxstat --pid=%d --json", getpid());
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, cmd, out);
	root = json_parse(&j, out);
	ASSERT_LE(0, root) TH_LOG("%s is not JSON:\n%s", cmd, out);
	vms = j_get(&j, root, "vms");
	ASSERT_LE(0, j_find_id(&j, vms, id)) TH_LOG("%s: no VM %u:\n%s", cmd, id, out);
	for (k = 0; j_at(&j, vms, k) >= 0; k++)
		EXPECT_EQ((unsigned long long)getpid(),
			  j_uint(&j, j_get(&j, j_at(&j, vms, k), "pid")))
			TH_LOG("%s: another process's VM:\n%s", cmd, out);
	EXPECT_EQ(1, k) TH_LOG("%s:\n%s", cmd, out);
	free(out);

	close(keep);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	/* Its process gone, the pid is not one of a process. */
	snprintf(cmd, sizeof(cmd), "hvxstat -p %d", child);
	out = run_cmd_err(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 2, cmd, out);
	EXPECT_NE(NULL, strstr(out, "no process")) TH_LOG("%s:\n%s", cmd, out);
	free(out);
	tvm_destroy(&t);
	gnl_close(&g);
}

/* Bad values and combinations: exit 2 and a message that names the problem. */
TEST(hvxstat_bad_usage)
{
	static const struct {
		const char *args, *msg;
	} bad[] = {
		{ "-f '('", "--fields" },
		{ "-f '[[:nope:]]'", "not a POSIX extended regex" },
		{ "-f nomatch_xyz", "matches no counter" },
		{ "-p abc", "--pid: 'abc' is not a process id" },
		{ "-p 0", "is not a process id" },
		{ "-p -5", "--pid" },
		{ "-p", "needs a process id" },
		{ "-p 1 3", "--pid" },
		{ "--log --json", "--log" },
		{ "--log --watch", "--log" },
		{ "--events -z", "--events" },
		{ "--events -p 1", "--events" },
		{ "--events --log", "--events" },
		{ "-c 2", "--count" },
		{ "--log 0", "--log" },
	};
	char cmd[128], *out;
	unsigned int i;
	int status;

	if (!on_path("hvxstat"))
		SKIP(return, "hvxstat is not on PATH");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cmd, sizeof(cmd), "hvxstat %s", bad[i].args);
		out = run_cmd_err(cmd, &status);
		ASSERT_NE(NULL, out);
		EXPECT_EXIT(status, 2, cmd, out);
		EXPECT_NE(NULL, strstr(out, bad[i].msg))
			TH_LOG("%s: no \"%s\" in:\n%s", cmd, bad[i].msg, out);
		free(out);
	}

	/* --version: "hvxstat X.Y.Z". */
	out = run_cmd_err("hvxstat --version", &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, "hvxstat --version", out);
	{
		unsigned int a, b, c;
		char nl = 0;

		EXPECT_EQ(4, sscanf(out, "hvxstat %u.%u.%u%c", &a, &b, &c, &nl))
			TH_LOG("hvxstat --version: \"%s\"", out);
		EXPECT_EQ('\n', nl);
	}
	free(out);
}

#define LOG_INTERVALS	12

/*
 * --log: a header, then one line per interval, each flushed as written (the
 * first is read while hvxstat still runs), LOG_INTERVALS lines in all, the
 * same number of columns in each; the increases over the intervals add up
 * to what the guest did: none before it ran, none once it is done.
 */
static void check_log(struct __test_metadata *_metadata, bool one_vm)
{
	const struct counts want = { .outs = 100, .ins = 37, .cpuids = 25 };
	static const unsigned int checked[] = {
		HVX_STAT_EXIT_IO_IN, HVX_STAT_EXIT_IO_OUT, HVX_STAT_EXIT_MMIO_READ,
		HVX_STAT_EXIT_MMIO_WRITE, HVX_STAT_EXIT_HLT, HVX_STAT_EXIT_CPUID,
	};
	static struct reader r;
	char cmd[256], header[1024], expect[1024], copy[1024], prev_stamp[32] = "";
	unsigned long long sum[HVX_STAT_MAX + 1] = { 0 };
	unsigned int col[HVX_STAT_MAX + 1] = { 0 };
	unsigned int ncols, nlines = 0, after = 0, c, k, s;
	const char *line;
	struct counts seen;
	char *f[64];
	struct gnl g;
	struct tvm t;
	size_t used = 0;
	int status;
	__u32 id;

	if (!on_path("hvxstat"))
		SKIP(return, "hvxstat is not on PATH");
	GNL_OPEN(&g);
	counts_vm_ready(_metadata, &t, 1, &want);
	ASSERT_VM_ID(&g, id);

	/* All counters for one VM; those of port I/O, MMIO, HLT, CPUID for the pid. */
	if (one_vm)
		snprintf(cmd, sizeof(cmd), "hvxstat --log 0.25 --count %d %u", LOG_INTERVALS,
			 id);
	else
		snprintf(cmd, sizeof(cmd),
			 "hvxstat -l 0.25 -c %d -p %d -f '^exit_(io|mmio|hlt|cpuid)'",
			 LOG_INTERVALS, getpid());
	used = snprintf(expect, sizeof(expect), "timestamp");
	for (s = HVX_STAT_EXITS; s <= HVX_STAT_MAX; s++)
		if (one_vm || !strncmp(stat_name[s], "exit_io", 7) ||
		    !strncmp(stat_name[s], "exit_mmio", 9) || !strcmp(stat_name[s], "exit_hlt") ||
		    !strcmp(stat_name[s], "exit_cpuid"))
			used += snprintf(expect + used, sizeof(expect) - used, ",%s",
					 stat_name[s]);

	ASSERT_EQ(0, reader_start(&r, cmd));
	line = reader_line(&r, 30000);
	ASSERT_NE(NULL, line) TH_LOG("%s: no header within 30 s", cmd);
	snprintf(header, sizeof(header), "%s", line);
	EXPECT_STREQ(expect, header) TH_LOG("%s: header", cmd);
	snprintf(copy, sizeof(copy), "%s", header);
	ncols = csv_split(copy, f, 64);
	ASSERT_GE(64, ncols);
	for (c = 1; c < ncols; c++)
		for (s = HVX_STAT_EXITS; s <= HVX_STAT_MAX; s++)
			if (!strcmp(f[c], stat_name[s]))
				col[s] = c;
	for (k = 0; k < sizeof(checked) / sizeof(checked[0]); k++)
		ASSERT_NE(0, col[checked[k]]) TH_LOG("no column %s", stat_name[checked[k]]);

	/* The first interval, read while hvxstat runs on: nothing happened in it. */
	for (;;) {
		line = reader_line(&r, 30000);
		ASSERT_NE(NULL, line) TH_LOG("%s: no line within 30 s of the header (not flushed?)",
					     cmd);
		nlines++;
		snprintf(copy, sizeof(copy), "%s", line);
		ASSERT_EQ(ncols, csv_split(copy, f, 64)) TH_LOG("line %u: %s", nlines, line);
		for (c = 1; c < ncols; c++)
			EXPECT_STREQ("0", f[c]) TH_LOG("before the guest ran: %s", line);
		snprintf(prev_stamp, sizeof(prev_stamp), "%s", f[0]);
		break;
	}

	run_counts(_metadata, &t, 0, &seen);
	/* Lines already written may hold some of the guest's work ... */
	while (reader_fill(&r, 0) > 0)
		;
	/* ... as may the first one written from now on; none after that. */
	for (;;) {
		bool fresh = r.pos >= r.len || !memchr(r.buf + r.pos, '\n', r.len - r.pos);

		line = reader_line(&r, 30000);
		if (!line)
			break;
		nlines++;
		if (fresh)
			after++;
		snprintf(copy, sizeof(copy), "%s", line);
		ASSERT_EQ(ncols, csv_split(copy, f, 64)) TH_LOG("line %u: %s", nlines, line);
		EXPECT_EQ(23, strlen(f[0])) TH_LOG("timestamp \"%s\" (YYYY-MM-DD HH:MM:SS.mmm)",
						   f[0]);
		EXPECT_LE(0, strcmp(f[0], prev_stamp)) TH_LOG("time went back: %s", line);
		snprintf(prev_stamp, sizeof(prev_stamp), "%s", f[0]);
		for (c = 1; c < ncols; c++) {
			EXPECT_NE(0, f[c][0]);
			if (after >= 2)
				EXPECT_STREQ("0", f[c])
					TH_LOG("an interval after the guest was done: %s", line);
		}
		for (s = HVX_STAT_EXITS; s <= HVX_STAT_MAX; s++)
			if (col[s])
				sum[s] += strtoull(f[col[s]], NULL, 10);
	}
	status = reader_wait(&r);
	EXPECT_EXIT(status, 0, cmd, "");
	EXPECT_EQ(LOG_INTERVALS, nlines) TH_LOG("%s: lines after the header", cmd);
	EXPECT_LE(2, after) TH_LOG("the guest ran longer than %d intervals: no line to check",
				   LOG_INTERVALS);
	EXPECT_EQ(want.ins, sum[HVX_STAT_EXIT_IO_IN]);
	EXPECT_EQ(want.outs, sum[HVX_STAT_EXIT_IO_OUT]);
	EXPECT_EQ(want.cpuids, sum[HVX_STAT_EXIT_CPUID]);
	EXPECT_EQ(1, sum[HVX_STAT_EXIT_MMIO_READ]);
	EXPECT_EQ(1, sum[HVX_STAT_EXIT_MMIO_WRITE]);
	EXPECT_EQ(1, sum[HVX_STAT_EXIT_HLT]);
	if (one_vm)
		EXPECT_EQ(seen.runs, sum[HVX_STAT_EXITS_USER]);

	/* -z: an idle VM's intervals are all zero, so the header alone. */
	if (one_vm)
		snprintf(cmd, sizeof(cmd), "hvxstat --log 0.1 --count 3 -z %u", id);
	else
		snprintf(cmd, sizeof(cmd),
			 "hvxstat --log 0.1 --count 3 -z -p %d -f '^exit_(io|mmio|hlt|cpuid)'",
			 getpid());
	{
		char *out = run_cmd(cmd, &status);

		ASSERT_NE(NULL, out);
		EXPECT_EXIT(status, 0, cmd, out);
		EXPECT_TRUE(!strncmp(out, header, strlen(header)) &&
			    !strcmp(out + strlen(header), "\n"))
			TH_LOG("%s: the header alone expected:\n%s", cmd, out);
		free(out);
	}
	tvm_destroy(&t);
	gnl_close(&g);
}

TEST(hvxstat_log_one_vm)
{
	check_log(_metadata, true);
}

TEST(hvxstat_log_pid_fields)
{
	check_log(_metadata, false);
}

/*
 * Without /dev/hvx (a machine without the module, or without VMX/SVM) the
 * whole test skips, with the reason, rather than passing test by test.
 */
int main(int argc, char **argv)
{
	if (access("/dev/hvx", F_OK) && errno == ENOENT) {
		ksft_print_header();
		ksft_exit_skip("/dev/hvx not present (hvx.ko not loaded)\n");
	}
	return test_harness_run(argc, argv);
}
