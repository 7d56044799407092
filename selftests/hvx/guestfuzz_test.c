// SPDX-License-Identifier: GPL-2.0
/*
 * The guest fuzzer: guests that run random instruction bytes from random
 * architectural states, in real, protected and long mode, under both
 * paging modes.  A state comes from one of the modes libhvx sets up, with
 * random general registers, RFLAGS, segment attributes, control-register
 * bits, debug registers and a pending exception laid over it through
 * SET_STATE, with now and then random MSR values and a random XSAVE
 * image; the code page, and now and then a page-table or stack page, is
 * random bytes.  SET_STATE either takes the state or refuses it with
 * EINVAL; every HVX_RUN must end in a defined exit or, when the timer
 * fires, EINTR; the rig fails the run on any kernel report.  Afterwards a
 * guest must still run.
 *
 * The timer is periodic and its handler sets the run page's
 * immediate_exit, so a tick that comes before HVX_RUN enters the kernel
 * still ends that run: a guest in a tight loop cannot stall the test.
 *
 * HVX_GUESTFUZZ_SEED (default a fixed one, so that make check repeats
 * itself) and HVX_GUESTFUZZ_ITERS (guests per paging mode, default 150;
 * make fuzz: 10,000) set the run; the seed is printed.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "kselftest_harness.h"
#include "rng.h"
#include "test_util.h"
#include "guest.h"

#define RUNS_PER_GUEST	16

static uint64_t rng;
static unsigned long verbose;	/* HVX_GUESTFUZZ_VERBOSE: each guest's state */

static struct hvx_run *volatile running;

static void on_alarm(int sig)
{
	struct hvx_run *run = running;

	(void)sig;
	if (run)
		run->immediate_exit = 1;
}

/* Flips of bits a guest may have: each is refused or taken, never a crash. */
static const __u64 cr0_bits[] = { 1ULL << 0, 1ULL << 1, 1ULL << 2, 1ULL << 3, 1ULL << 5,
				  1ULL << 16, 1ULL << 18, 1ULL << 29, 1ULL << 30, 1ULL << 31 };
static const __u64 cr4_bits[] = { 1ULL << 0, 1ULL << 1, 1ULL << 2, 1ULL << 3, 1ULL << 4,
				  1ULL << 5, 1ULL << 7, 1ULL << 8, 1ULL << 9, 1ULL << 10,
				  1ULL << 11, 1ULL << 16, 1ULL << 18, 1ULL << 20, 1ULL << 21,
				  1ULL << 22 };

static const __u32 msr_list[] = {
	0xc0000080,	/* EFER */
	0x277,		/* PAT */
	0x10,		/* TSC */
	0xc0000100, 0xc0000101, 0xc0000102,	/* FS, GS, KERNEL_GS base */
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,	/* STAR, LSTAR, CSTAR, SFMASK */
	0x174, 0x175, 0x176,	/* SYSENTER CS, ESP, EIP */
	0xc0000103,	/* TSC_AUX */
};

static __u64 rnd_value(void)
{
	switch (rng_below(&rng, 4)) {
	case 0: return rng_next(&rng);
	case 1: return rng_below(&rng, 0x100000);
	case 2: return 1ULL << rng_below(&rng, 64);
	default: return (rng_next(&rng) | 0xffff800000000000ULL) ^ (1ULL << rng_below(&rng, 64));
	}
}

static void mutate_segment(struct hvx_segment *s)
{
	switch (rng_below(&rng, 7)) {
	case 0: s->type = rng_below(&rng, 16); break;
	case 1: s->dpl = rng_below(&rng, 4); break;
	case 2: s->db ^= 1; break;
	case 3: s->l ^= 1; break;
	case 4: s->present ^= 1; break;
	case 5: s->selector = rng_next(&rng); break;
	default: s->base = rnd_value(); break;
	}
}

static void mutate_events(struct hvx_events *ev)
{
	switch (rng_below(&rng, 4)) {
	case 0:
		ev->flags = HVX_EVENTS_EXCEPTION;
		ev->exception_vector = rng_below(&rng, 31);
		if (ev->exception_vector == 2)
			ev->exception_vector = 6;
		switch (ev->exception_vector) {
		case 8: case 10: case 11: case 12: case 13: case 14:
		case 17: case 21: case 29: case 30:
			ev->flags |= HVX_EVENTS_EXC_ERRCODE;
			ev->exception_error_code = rng_next(&rng) & 0xffff;
			break;
		}
		break;
	case 1:
		ev->flags |= HVX_EVENTS_NMI;
		break;
	case 2:
		ev->flags |= HVX_EVENTS_IRQ;
		ev->irq_vector = 32 + rng_below(&rng, 224);
		break;
	default:
		ev->flags ^= rng_below(&rng, 2) ? HVX_EVENTS_SHADOW : HVX_EVENTS_NMI_MASKED;
		break;
	}
}

static void mutate_state(struct hvx_vcpu_state *st)
{
	__u64 *gpr = (__u64 *)&st->regs;
	struct hvx_segment *segs = &st->sregs.cs;
	unsigned int i, n = rng_below(&rng, 6);

	for (i = 0; i < n; i++) {
		switch (rng_below(&rng, 11)) {
		case 0:
			gpr[rng_below(&rng, 16)] = rnd_value();
			break;
		case 1:
			st->regs.rflags = (rng_next(&rng) & 0x3f7fd7) | 2;
			break;
		case 2:
			mutate_segment(&segs[rng_below(&rng, 8)]);
			break;
		case 3:
			st->cregs.cr0 ^= cr0_bits[rng_below(&rng, sizeof(cr0_bits) / 8)];
			break;
		case 4:
			st->cregs.cr4 ^= cr4_bits[rng_below(&rng, sizeof(cr4_bits) / 8)];
			break;
		case 5:
			st->cregs.efer ^= rng_below(&rng, 2) ? 1ULL << 11 : 1ULL << 0;
			break;
		case 6:
			(&st->dregs.dr0)[rng_below(&rng, 4)] = rnd_value();
			st->dregs.dr7 = (__u32)rng_next(&rng) | 0x400;
			break;
		case 7:
			if (rng_below(&rng, 2))
				st->sregs.idt.limit = rng_below(&rng, 0x1000);
			else
				st->sregs.gdt.base = rnd_value();
			break;
		case 8:
			st->regs.rip += rng_below(&rng, 16);
			break;
		case 9:
			st->cregs.cr3 = rng_below(&rng, 2) ? rnd_value() : rng_below(&rng, GUEST_MIN_MEM) & ~0xfffULL;
			break;
		default:
			mutate_events(&st->events);
			break;
		}
	}
}

struct tally {
	unsigned long guests, refused, unsupported, msrs_refused, fpu_refused;
	unsigned long runs, intr, exits[HVX_EXIT_INTR + 1];
};

/* Random values in a few MSRs, one SET_STATE each: taken or EINVAL. */
static int fuzz_msrs(struct hvx_vcpu *vcpu, struct tally *tl, char *why, size_t len)
{
	unsigned int i, n = 1 + rng_below(&rng, 3);
	struct hvx_msr_entry e;
	struct hvx_vcpu_state st;
	int r;

	for (i = 0; i < n; i++) {
		memset(&st, 0, sizeof(st));
		memset(&e, 0, sizeof(e));
		e.index = msr_list[rng_below(&rng, sizeof(msr_list) / sizeof(msr_list[0]))];
		e.data = rnd_value();
		st.nmsrs = 1;
		st.msrs = (__u64)(unsigned long)&e;
		r = hvx_vcpu_set_state(vcpu, &st, HVX_STATE_MSRS);
		if (r == -EINVAL) {
			tl->msrs_refused++;
			continue;
		}
		if (r) {
			snprintf(why, len, "SET_STATE MSR %#x = %#llx: %s", e.index,
				 (unsigned long long)e.data, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* The guest's XSAVE image with random bytes here and there. */
static int fuzz_fpu(struct hvx_vcpu *vcpu, struct tally *tl, char *why, size_t len)
{
	static unsigned char img[HVX_XSAVE_SIZE] __attribute__((aligned(64)));
	struct hvx_vcpu_state st;
	unsigned int i, n = 1 + rng_below(&rng, 8);
	int r;

	memset(&st, 0, sizeof(st));
	st.xsave = (__u64)(unsigned long)img;
	r = hvx_vcpu_get_state(vcpu, &st, HVX_STATE_FPU);
	if (r) {
		snprintf(why, len, "GET_STATE FPU: %s", strerror(-r));
		return r;
	}
	for (i = 0; i < n; i++) {
		/* The legacy area, the XSAVE header or past it. */
		static const unsigned int spans[][2] = { { 0, 512 }, { 512, 64 }, { 576, 1024 } };
		unsigned int k = rng_below(&rng, 3);

		img[spans[k][0] + rng_below(&rng, spans[k][1])] = rng_next(&rng);
	}
	r = hvx_vcpu_set_state(vcpu, &st, HVX_STATE_FPU);
	if (r == -EINVAL) {
		tl->fpu_refused++;
		return 0;
	}
	if (r)
		snprintf(why, len, "SET_STATE FPU: %s", strerror(-r));
	return r;
}

/* One guest: 0, or a message in why for an outcome outside the API. */
static int one_guest(__u32 paging, struct tally *tl, char *why, size_t len)
{
	static const enum hvx_mode modes[] = { HVX_MODE_REAL, HVX_MODE_PROT32, HVX_MODE_LONG };
	const __u64 parts = HVX_STATE_REGS | HVX_STATE_SREGS | HVX_STATE_CREGS |
			    HVX_STATE_DREGS | HVX_STATE_EVENTS;
	struct itimerval tick = { .it_value.tv_usec = 2000, .it_interval.tv_usec = 2000 };
	struct itimerval off = { 0 };
	struct hvx_vcpu_state st;
	struct hvx_run *run;
	struct tvm t;
	unsigned int i;
	int r, ret = 0;

	r = tvm_create_paging(&t, GUEST_MIN_MEM, paging, 0, 1);
	if (r) {
		snprintf(why, len, "creating a VM: %s", strerror(-r));
		return r;
	}
	run = t.vcpu[0].run;
	r = tvm_setup(&t, 0, modes[rng_below(&rng, 3)], GUEST_CODE_GPA);
	if (r == -EOPNOTSUPP) {
		tl->unsupported++;
		goto out;
	}
	if (r) {
		snprintf(why, len, "tvm_setup: %s", strerror(-r));
		ret = r;
		goto out;
	}
	rng_fill(&rng, t.mem + GUEST_CODE_GPA, 4096);
	if (!rng_below(&rng, 4))	/* a table or stack page, or the real-mode IVT */
		rng_fill(&rng, t.mem + (rng_below(&rng, GUEST_MIN_MEM / 4096) << 12), 4096);
	memset(&st, 0, sizeof(st));
	r = hvx_vcpu_get_state(&t.vcpu[0], &st, parts);
	if (r) {
		snprintf(why, len, "GET_STATE: %s", strerror(-r));
		ret = r;
		goto out;
	}
	mutate_state(&st);
	r = hvx_vcpu_set_state(&t.vcpu[0], &st, parts);
	if (r == -EINVAL) {
		tl->refused++;
		goto out;
	}
	/* Real mode under VMX shadow paging (Documentation/api.rst). */
	if (r == -EOPNOTSUPP) {
		tl->unsupported++;
		goto out;
	}
	if (r) {
		snprintf(why, len, "SET_STATE: %s", strerror(-r));
		ret = r;
		goto out;
	}
	if (!rng_below(&rng, 4)) {
		ret = fuzz_msrs(&t.vcpu[0], tl, why, len);
		if (ret)
			goto out;
	}
	if (!rng_below(&rng, 8)) {
		ret = fuzz_fpu(&t.vcpu[0], tl, why, len);
		if (ret)
			goto out;
	}
	tl->guests++;
	if (verbose)
		ksft_print_msg("  cr0 %llx cr3 %llx cr4 %llx efer %llx rip %llx rflags %llx "
			       "cs %x/%x/%u/%u%u%u ss %x/%x/%u ev %x/%u dr7 %llx\n",
			       st.cregs.cr0, st.cregs.cr3, st.cregs.cr4, st.cregs.efer,
			       st.regs.rip, st.regs.rflags, st.sregs.cs.selector,
			       st.sregs.cs.type, st.sregs.cs.dpl, st.sregs.cs.present,
			       st.sregs.cs.l, st.sregs.cs.db, st.sregs.ss.selector,
			       st.sregs.ss.type, st.sregs.ss.dpl, st.events.flags,
			       st.events.exception_vector, st.dregs.dr7);
	for (i = 0; i < RUNS_PER_GUEST; i++) {
		run->immediate_exit = 0;
		running = run;
		setitimer(ITIMER_REAL, &tick, NULL);
		r = hvx_vcpu_run(&t.vcpu[0]);
		setitimer(ITIMER_REAL, &off, NULL);
		running = NULL;
		tl->runs++;
		if (r == -EINTR) {
			tl->intr++;
			continue;
		}
		if (r < 0) {
			snprintf(why, len, "HVX_RUN: %s", strerror(-r));
			ret = r;
			break;
		}
		r = run->exit_reason;
		if (r <= HVX_EXIT_NONE || r > HVX_EXIT_INTR) {
			snprintf(why, len, "exit reason %d", r);
			ret = -EPROTO;
			break;
		}
		tl->exits[r]++;
		/* These end the guest: it can make no further progress. */
		if (r == HVX_EXIT_SHUTDOWN || r == HVX_EXIT_FAIL_ENTRY ||
		    r == HVX_EXIT_INTERNAL_ERROR || r == HVX_EXIT_HLT)
			break;
	}
out:
	tvm_destroy(&t);
	return ret;
}

FIXTURE(gf) {
};

FIXTURE_VARIANT(gf) {
	__u32 paging;
};

FIXTURE_VARIANT_ADD(gf, nested) {
	.paging = HVX_PAGING_NESTED,
};

FIXTURE_VARIANT_ADD(gf, shadow) {
	.paging = HVX_PAGING_SHADOW,
};

FIXTURE_SETUP(gf)
{
}

FIXTURE_TEARDOWN(gf)
{
}

TEST_F_TIMEOUT(gf, random_guests, 3600)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	unsigned long iters, seed, first, i;
	struct tally tl = { 0 };
	char why[256] = "";
	struct tvm t;
	int r;

	TVM_REQUIRE_HVX();
	r = tvm_create_paging(&t, GUEST_MIN_MEM, variant->paging, 0, 1);
	if (r == -ENODEV || r == -EOPNOTSUPP)
		SKIP(return, "paging mode %u not available", variant->paging);
	ASSERT_EQ(0, r);
	tvm_destroy(&t);

	seed = env_ul("HVX_GUESTFUZZ_SEED", 0x6775657374ULL);
	iters = env_ul("HVX_GUESTFUZZ_ITERS", 150);
	first = env_ul("HVX_GUESTFUZZ_FIRST", 0);
	verbose = env_ul("HVX_GUESTFUZZ_VERBOSE", 0);
	ksft_print_msg("guestfuzz: seed %lu, guests %lu to %lu\n", seed, first, first + iters - 1);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));

	for (i = first; i < first + iters; i++) {
		/* Each guest from its own seed: HVX_GUESTFUZZ_FIRST=i repeats guest i. */
		rng = rng_seed((seed ^ (i << 20)) * 0x9e3779b97f4a7c15ULL + variant->paging + 1);
		rng_next(&rng);
		if (verbose || !(i % 100))
			ksft_print_msg("guestfuzz: guest %lu\n", i);
		r = one_guest(variant->paging, &tl, why, sizeof(why));
		ASSERT_EQ(0, r) TH_LOG("guest %lu of seed %lu: %s", i, seed, why);
	}
	ksft_print_msg("guestfuzz: %lu guests ran (%lu states, %lu MSR values, %lu XSAVE images "
		       "refused; %lu modes unsupported), %lu runs: %lu timer, IO %lu, MMIO %lu, HLT %lu, shutdown %lu, MSR %lu, "
		       "failed entry %lu, internal %lu, other %lu\n",
		       tl.guests, tl.refused, tl.msrs_refused, tl.fpu_refused, tl.unsupported,
		       tl.runs, tl.intr,
		       tl.exits[HVX_EXIT_IO], tl.exits[HVX_EXIT_MMIO], tl.exits[HVX_EXIT_HLT],
		       tl.exits[HVX_EXIT_SHUTDOWN], tl.exits[HVX_EXIT_MSR],
		       tl.exits[HVX_EXIT_FAIL_ENTRY], tl.exits[HVX_EXIT_INTERNAL_ERROR],
		       tl.exits[HVX_EXIT_HYPERCALL] + tl.exits[HVX_EXIT_IRQ_WINDOW] +
		       tl.exits[HVX_EXIT_INTR]);
	ASSERT_LT(0, tl.guests) TH_LOG("no state was taken: the fuzzer fuzzed nothing");

	/* And the module still runs a guest. */
	TVM_CREATE_PAGING(&t, GUEST_MIN_MEM, variant->paging, 0, 1);
	memcpy(t.mem + GUEST_CODE_GPA, (const unsigned char[]){ 0xb8, 0x0d, 0x60, 0x00, 0x00,
								0xe7, PORT_DONE, 0xf4 }, 8);
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_PROT32, GUEST_CODE_GPA));
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	tvm_destroy(&t);
}

TEST_HARNESS_MAIN
