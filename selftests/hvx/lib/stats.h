/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the statistics tests (stats_test, genl_test,
 * trace_test, hvxstat_test): each vendor's raw exit codes, harness glue
 * for the netlink client of genl.h, and VMs whose vCPUs run the
 * stats_counts guest of lib/stats_guest.S, which makes a known number of
 * exits of each kind, with the checks of a vCPU's counters against them.
 *
 * Most of them use kselftest_harness.h, which a test includes before this
 * header (as for test_util.h's macros).  All are static inline here, not
 * in a library file: kselftest_harness.h defines globals, so only one
 * file of a program can include it.
 */
#ifndef HVX_SELFTEST_STATS_H
#define HVX_SELFTEST_STATS_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>

#include "genl.h"
#include "test_util.h"

/* As in lib/stats_guest.S. */
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

/* The raw exit codes of this host's vendor. */
static inline const struct raw_codes *raw_codes(void)
{
	static const struct raw_codes svm = {
		.io = 0x7b, .cpuid = 0x72, .hlt = 0x78, .io_name = "ioio",
	};
	static const struct raw_codes vmx = {
		.io = 30, .cpuid = 10, .hlt = 12, .io_name = "io",
	};

	return tvm_host_is_intel() ? &vmx : &svm;
}

struct counts {
	unsigned int outs, ins, cpuids, mmio_reads, mmio_writes, hlts;
	unsigned int runs;	/* HVX_RUN calls that returned 0 */
};

/* The stats_counts guest: OUTs, INs, CPUIDs, an MMIO read and write, HLT. */
GUEST_CODE(stats_counts);
extern const unsigned char stats_counts_hlt[];

/* Sets R8/R9/R10: OUTs, INs and CPUIDs the stats_counts guest does. */
static inline int stats_set_counts(struct tvm *t, unsigned int idx, const struct counts *c)
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

/* hvx_mmio_complete()'s callback for stats_counts: reads get 0x5a bytes. */
static inline int stats_mmio_fill(void *opaque, __u64 gpa, void *data, unsigned int len,
				  int is_write)
{
	(void)opaque;
	(void)gpa;
	if (!is_write)
		memset(data, 0x5a, len);
	return 0;
}

/*
 * Reads fd to its end into a malloc'd, NUL-terminated string (what was
 * read before memory ran out), or NULL if none could be allocated.
 */
static inline char *stats_read_all(int fd)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	if (!buf)
		return NULL;
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb)
				break;
			buf = nb;
		}
	}
	buf[len] = 0;
	return buf;
}

/*
 * Called first in main(): without /dev/hvx (a machine without the module,
 * or without VMX/SVM) the whole test skips, with the reason, rather than
 * passing test by test.
 */
static inline void stats_require_hvx(void)
{
	if (access("/dev/hvx", F_OK) && errno == ENOENT) {
		ksft_print_header();
		ksft_exit_skip("/dev/hvx not present (hvx.ko not loaded)\n");
	}
}

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

/* The id of this process's newest VM; asserts that the VM was found. */
#define ASSERT_VM_ID(g, id) do {						\
	id = newest_vm_of(g, getpid());						\
	ASSERT_NE(0, id) TH_LOG("no VM of pid %d in the dump", getpid());	\
} while (0)

#define EXPECT_STAT(v, s, want)							\
	EXPECT_EQ((__u64)(want), (v)->stats[s])					\
		TH_LOG("vCPU %u: counter %s = %llu, expected %llu", (v)->id, #s,	\
		       (unsigned long long)(v)->stats[s], (unsigned long long)(want))

/* ---- Counters ------------------------------------------------------------ */

/* Runs stats_counts on vCPU idx to its HLT, counting what userspace saw. */
static inline void run_counts(struct __test_metadata *_metadata, struct tvm *t,
			      unsigned int idx, struct counts *seen)
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
			ASSERT_EQ(0, hvx_mmio_complete(&t->vcpu[idx], stats_mmio_fill, NULL,
						       msg, sizeof(msg))) TH_LOG("%s", msg);
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

/* A VM of nr vCPUs, each loaded with stats_counts and its counts, not run yet. */
static inline void counts_vm_ready(struct __test_metadata *_metadata, struct tvm *t,
				   unsigned int nr, const struct counts *want)
{
	unsigned int i;

	TVM_CREATE(t, 2 * GUEST_MIN_MEM, 0, nr);
	tvm_load_code(t, "lib/stats_guest", stats_counts_start, stats_counts_end);
	for (i = 0; i < nr; i++) {
		ASSERT_OK(tvm_setup(t, i, HVX_MODE_LONG, GUEST_CODE_GPA));
		ASSERT_OK(stats_set_counts(t, i, &want[i]));
	}
}

/* A VM running stats_counts on each vCPU with the given counts, all run to HLT. */
static inline void counts_vm(struct __test_metadata *_metadata, struct tvm *t,
			     const struct counts *want, unsigned int nr, struct counts *seen)
{
	unsigned int i;

	counts_vm_ready(_metadata, t, nr, want);
	for (i = 0; i < nr; i++) {
		run_counts(_metadata, t, i, &seen[i]);
		/* The harness saw what the guest did, or the test itself is wrong. */
		ASSERT_EQ(want[i].outs, seen[i].outs);
		ASSERT_EQ(want[i].ins, seen[i].ins);
		ASSERT_EQ(1, seen[i].mmio_reads);
		ASSERT_EQ(1, seen[i].mmio_writes);
	}
}

/*
 * Every counter of vCPU v (from the family) against what its stats_counts
 * guest was told to do (want) and what userspace saw (seen).
 */
static inline void check_vcpu_counts(struct __test_metadata *_metadata,
				     const struct vcpu_info *v, const struct counts *want,
				     const struct counts *seen, __u32 paging)
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
	 * The first vCPU maps guest memory; the next may find all of its
	 * pages mapped already: by a 2 MiB leaf where the host backs guest
	 * memory with a huge page, or under shadow paging by the fills of
	 * whole 64 KiB blocks of a large guest page (shadow_prefill() in
	 * kmod/mmu/shadow.c).
	 */
	(void)paging;
	if (v->id == 0)
		EXPECT_LT(0, v->stats[HVX_STAT_PAGES_MAPPED] + v->stats[HVX_STAT_PAGES_MAPPED_2M])
			TH_LOG("vCPU %u", v->id);
	EXPECT_LE(2, v->stats[HVX_STAT_EXIT_NPF]) TH_LOG("the two MMIO accesses are NPFs");
	EXPECT_EQ(want->outs + want->ins, raw_count(v, raw_codes()->io))
		TH_LOG("vCPU %u: raw IOIO", v->id);
	EXPECT_EQ(want->cpuids, raw_count(v, raw_codes()->cpuid)) TH_LOG("vCPU %u: raw CPUID", v->id);
	EXPECT_EQ(1, raw_count(v, raw_codes()->hlt)) TH_LOG("vCPU %u: raw HLT", v->id);
}

#endif /* HVX_SELFTEST_STATS_H */
