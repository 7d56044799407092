// SPDX-License-Identifier: GPL-2.0
/*
 * Counters that match what a guest provably did, read over the "hvx"
 * generic-netlink family (uapi/linux/hvx_genl.h): each vCPU's exits by
 * kind and by raw exit code and the VM's totals, the shadow-paging
 * counters (the table budget, fills and flushes at MOV to CR3), and the
 * injection counters.
 *
 * The family itself (dump, events, permissions, malformed requests) is
 * genl_test's, the tracepoints trace_test's, hvxstat hvxstat_test's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "stats.h"

GUEST_CODE(stats_inject);
GUEST_CODE(stats_inject_loop);
GUEST_CODE(stats_sweep);
GUEST_CODE(stats_cr3);

/* ---- Counters ------------------------------------------------------------ */

/*
 * Two vCPUs with different counts of OUT, IN and CPUID, one MMIO read and
 * write each, then HLT: each vCPU's counters, its raw exit codes, and the
 * VM's totals are exactly what the guests did.
 */
/* The pages a set of counters says were mapped: 4 KiB leaves, and 512 for each 2 MiB one. */
static __u64 pages_mapped(const __u64 *stats)
{
	return stats[HVX_STAT_PAGES_MAPPED] + 512 * stats[HVX_STAT_PAGES_MAPPED_2M];
}

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
	/* Every page pinned was mapped by one of the vCPUs, 4 KiB or 2 MiB at a time. */
	EXPECT_EQ(vm.pinned_pages, pages_mapped(vcpus.vcpu[0].stats) +
		  pages_mapped(vcpus.vcpu[1].stats));
	EXPECT_EQ(vm.pinned_pages, pages_mapped(vm.stats));
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
	EXPECT_EQ(vm.pinned_pages, pages_mapped(v.stats));
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

int main(int argc, char **argv)
{
	stats_require_hvx();
	return test_harness_run(argc, argv);
}
