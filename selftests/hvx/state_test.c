// SPDX-License-Identifier: GPL-2.0
/*
 * HVX_GET_STATE / HVX_SET_STATE: the reset state, a round trip for every
 * component, the guest seeing what the host set and the host seeing what
 * the guest set; FPU/SSE/AVX state in both directions with the host's own
 * vector registers preserved across HVX_RUN.
 */
#include <cpuid.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "state_guest.h"

GUEST_CODE(state_regs);
GUEST_CODE(state_seg);
GUEST_CODE(state_cr);
GUEST_CODE(state_dr);
GUEST_CODE(state_msr);
GUEST_CODE(state_fpu);
GUEST_CODE(state_events);
GUEST_CODE(state_xcr0);
GUEST_CODE(state_xsetbv);
GUEST_CODE(state_pkru);
GUEST_CODE(state_dr_loop);
GUEST_CODE(state_xsetbv_list);
extern const unsigned char state_regs_hlt[], state_events_after[];
extern const unsigned char xsetbv_ud[], xsetbv_gp_ecx[], xsetbv_gp_val[], xsetbv_list_insn[];

/* XSAVE standard format (SDM vol. 1 §13.4). */
#define XSAVE_XMM_OFF		160
#define XSAVE_HDR_OFF		512
#define XSAVE_YMM_HI_OFF	576

#define XFEATURE_PKRU		9

TEST(reset_state)
{
	struct hvx_vcpu_state st;
	struct tvm t;

	TVM_CREATE(&t, GUEST_MIN_MEM, 0, 1);
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_REGS | HVX_STATE_SREGS |
				     HVX_STATE_CREGS | HVX_STATE_DREGS | HVX_STATE_EVENTS));
	EXPECT_EQ(0xfff0, st.regs.rip);
	EXPECT_EQ(0x2, st.regs.rflags);
	EXPECT_EQ(0xf000, st.sregs.cs.selector);
	EXPECT_EQ(0xffff0000ULL, st.sregs.cs.base);
	EXPECT_EQ(0xffff, st.sregs.cs.limit);
	EXPECT_EQ(0, st.sregs.ds.selector);
	EXPECT_EQ(0, st.sregs.ds.base);
	EXPECT_EQ(0xffff, st.sregs.idt.limit);
	/* CR0 = CD | NW | ET at reset (SDM vol. 3 §10.1.1, APM vol. 2 §14.1.3). */
	EXPECT_EQ(0x60000010ULL, st.cregs.cr0);
	EXPECT_EQ(0, st.cregs.cr3);
	EXPECT_EQ(0, st.cregs.cr4);
	EXPECT_EQ(0, st.cregs.efer);
	EXPECT_EQ(0xffff0ff0ULL, st.dregs.dr6);
	EXPECT_EQ(0x400, st.dregs.dr7);
	EXPECT_EQ(0, st.events.flags);
	tvm_destroy(&t);
}

/*
 * libhvx owns the request header: a struct fresh off the stack, garbage in
 * every must-be-zero field (pad included), works for GET and SET alike.
 */
TEST(libhvx_state_from_garbage)
{
	struct hvx_vcpu_state st, st2;
	const __u64 c = HVX_STATE_REGS | HVX_STATE_SREGS | HVX_STATE_CREGS;
	struct tvm t;

	TVM_CREATE(&t, GUEST_MIN_MEM, 0, 1);
	memset(&st, 0xa5, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, c));
	EXPECT_EQ(0xfff0, st.regs.rip);
	st.regs.rax = 0x1234;
	st.pad = 0xffffffff;
	st.flags = 1;
	memset(st.reserved, 0xff, sizeof(st.reserved));
	ASSERT_OK(hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_REGS));
	memset(&st2, 0x5a, sizeof(st2));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st2, HVX_STATE_REGS));
	EXPECT_EQ(0x1234, st2.regs.rax);
	tvm_destroy(&t);
}

TEST(regs)
{
	struct hvx_regs r, got;
	__u64 *gpr;
	int k;

	struct tvm t;

	TVM_LONG_GUEST(&t, state_regs, 0);
	ASSERT_OK(tvm_get_regs(&t, 0, &r));
	/* k: rax, rbx, rcx, rdx, rsi, rdi = 0..5, rbp = 6, r8..r15 = 7..14; not rsp. */
	gpr = &r.rax;
	for (k = 0; k <= 14; k++)
		gpr[k < 6 ? k : k + 1] = REG_IN(k);
	r.rflags = 0x2 | 0x1;		/* CF */
	ASSERT_OK(tvm_set_regs(&t, 0, &r));
	ASSERT_OK(tvm_get_regs(&t, 0, &got));
	EXPECT_EQ(0, memcmp(&r, &got, sizeof(r))) TH_LOG("REGS round trip differs");

	ASSERT_GUEST_EXIT(&t, 0, HVX_EXIT_HLT);
	ASSERT_OK(tvm_get_regs(&t, 0, &got));
	EXPECT_EQ(REG_OUT(0), got.rax);
	EXPECT_EQ(REG_OUT(1), got.rbx);
	EXPECT_EQ(REG_OUT(2), got.rcx);
	EXPECT_EQ(REG_OUT(3), got.rdx);
	EXPECT_EQ(REG_OUT(4), got.rsi);
	EXPECT_EQ(REG_OUT(5), got.rdi);
	EXPECT_EQ(REG_OUT(6), got.rbp);
	EXPECT_EQ(REG_OUT(7), got.r8);
	EXPECT_EQ(REG_OUT(8), got.r9);
	EXPECT_EQ(REG_OUT(9), got.r10);
	EXPECT_EQ(REG_OUT(10), got.r11);
	EXPECT_EQ(REG_OUT(11), got.r12);
	EXPECT_EQ(REG_OUT(12), got.r13);
	EXPECT_EQ(REG_OUT(13), got.r14);
	EXPECT_EQ(REG_OUT(14), got.r15);
	EXPECT_EQ(GUEST_STACK_TOP, got.rsp);
	EXPECT_EQ(GUEST_ADDR(state_regs, state_regs_hlt) + 1, got.rip);
	EXPECT_EQ(1, got.rflags & 1) TH_LOG("guest's CF lost");
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	tvm_destroy(&t);
}

static int seg_eq(const struct hvx_segment *a, const struct hvx_segment *b)
{
	return a->base == b->base && a->limit == b->limit && a->selector == b->selector &&
	       a->type == b->type && a->present == b->present && a->dpl == b->dpl &&
	       a->db == b->db && a->s == b->s && a->l == b->l && a->g == b->g;
}

TEST(sregs)
{
	struct hvx_vcpu_state st, got;
	struct tvm t;

	TVM_LONG_GUEST(&t, state_seg, 0);
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_SREGS));
	st.sregs.fs.base = GUEST_DATA_GPA;
	st.sregs.gs.base = GUEST_DATA_GPA + 0x100;
	ASSERT_OK(hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_SREGS));
	memset(&got, 0, sizeof(got));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &got, HVX_STATE_SREGS));
	EXPECT_TRUE(seg_eq(&st.sregs.cs, &got.sregs.cs));
	EXPECT_TRUE(seg_eq(&st.sregs.ds, &got.sregs.ds));
	EXPECT_TRUE(seg_eq(&st.sregs.ss, &got.sregs.ss));
	EXPECT_TRUE(seg_eq(&st.sregs.fs, &got.sregs.fs));
	EXPECT_TRUE(seg_eq(&st.sregs.gs, &got.sregs.gs));
	EXPECT_TRUE(seg_eq(&st.sregs.tr, &got.sregs.tr));
	EXPECT_EQ(st.sregs.gdt.base, got.sregs.gdt.base);
	EXPECT_EQ(st.sregs.gdt.limit, got.sregs.gdt.limit);
	EXPECT_EQ(st.sregs.idt.base, got.sregs.idt.base);
	EXPECT_EQ(st.sregs.idt.limit, got.sregs.idt.limit);

	memcpy(t.mem + GUEST_DATA_GPA, &(__u32){ 0x11110000 }, 4);
	memcpy(t.mem + GUEST_DATA_GPA + 0x108, &(__u32){ 0x22220000 }, 4);
	memcpy(t.mem + GUEST_DATA_GPA + 0x200, &(__u32){ 0x33330000 }, 4);
	ASSERT_GUEST_EXIT(&t, 0, HVX_EXIT_HLT);
	ASSERT_REPORTS(&t, 0x11110000, 0x22220000, 0x33330000);
	/* The guest's WRMSR to FS_BASE shows in SREGS. */
	memset(&got, 0, sizeof(got));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &got, HVX_STATE_SREGS));
	EXPECT_EQ(GUEST_DATA_GPA + 0x200, got.sregs.fs.base);
	EXPECT_EQ(GUEST_DATA_GPA + 0x100, got.sregs.gs.base);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	tvm_destroy(&t);
}

TEST(cregs)
{
	struct hvx_vcpu_state st, got;
	struct tvm t;

	TVM_LONG_GUEST(&t, state_cr, 0);
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_CREGS));
	EXPECT_EQ(HVX_LAYOUT_PML4, st.cregs.cr3);
	EXPECT_EQ(0x500, st.cregs.efer & 0x500);
	EXPECT_EQ(1, st.cregs.xcr0 & 1) TH_LOG("XCR0.X87 must be set");
	st.cregs.cr2 = 0x12345678abULL;
	st.cregs.cr8 = 5;
	ASSERT_OK(hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_CREGS));
	memset(&got, 0, sizeof(got));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &got, HVX_STATE_CREGS));
	EXPECT_EQ(st.cregs.cr0, got.cregs.cr0);
	EXPECT_EQ(st.cregs.cr2, got.cregs.cr2);
	EXPECT_EQ(st.cregs.cr3, got.cregs.cr3);
	EXPECT_EQ(st.cregs.cr4, got.cregs.cr4);
	EXPECT_EQ(st.cregs.cr8, got.cregs.cr8);
	EXPECT_EQ(st.cregs.efer, got.cregs.efer);
	EXPECT_EQ(st.cregs.xcr0, got.cregs.xcr0);

	ASSERT_GUEST_EXIT(&t, 0, HVX_EXIT_HLT);
	ASSERT_REPORTS(&t, 0x345678ab, 0x12, 5);
	memset(&got, 0, sizeof(got));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &got, HVX_STATE_CREGS));
	EXPECT_EQ(0x5555000066ULL, got.cregs.cr2);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	tvm_destroy(&t);
}

/* The host's XCR0, or 0 if the kernel has not enabled XSAVE. */
static __u64 host_xcr0(void)
{
	unsigned int a, b, c, d;
	__u32 lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)))	/* OSXSAVE */
		return 0;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (__u64)hi << 32 | lo;
}

/* SET_STATE CREGS with xcr0 (and a new CR2) must fail and change nothing. */
static void expect_xcr0_refused(struct __test_metadata *_metadata, struct tvm *t,
				const struct hvx_cregs *orig, __u64 xcr0)
{
	struct hvx_vcpu_state st;
	int r;

	memset(&st, 0, sizeof(st));
	st.cregs = *orig;
	st.cregs.cr2 = 0xdead000;
	st.cregs.xcr0 = xcr0;
	r = hvx_vcpu_set_state(&t->vcpu[0], &st, HVX_STATE_CREGS);
	EXPECT_EQ(-EINVAL, r) TH_LOG("XCR0 0x%llx accepted (%d)", (unsigned long long)xcr0, r);
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t->vcpu[0], &st, HVX_STATE_CREGS));
	EXPECT_EQ(0, memcmp(orig, &st.cregs, sizeof(*orig)))
		TH_LOG("refused XCR0 0x%llx changed CREGS: cr2 0x%llx xcr0 0x%llx",
		       (unsigned long long)xcr0, (unsigned long long)st.cregs.cr2,
		       (unsigned long long)st.cregs.xcr0);
}

/* A valid XCR0 is taken, read back, and is what the guest's XGETBV sees. */
static void expect_xcr0_loaded(struct __test_metadata *_metadata, struct tvm *t,
			       const struct hvx_cregs *orig, __u64 xcr0)
{
	struct hvx_vcpu_state st;
	unsigned int n;

	memset(&st, 0, sizeof(st));
	st.cregs = *orig;
	st.cregs.cr4 |= CR4_OSXSAVE;
	st.cregs.xcr0 = xcr0;
	ASSERT_OK(hvx_vcpu_set_state(&t->vcpu[0], &st, HVX_STATE_CREGS));
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t->vcpu[0], &st, HVX_STATE_CREGS));
	EXPECT_EQ(xcr0, st.cregs.xcr0);
	n = t->io[0].nr_reports;
	ASSERT_GUEST_EXIT(t, 0, HVX_EXIT_HLT);
	ASSERT_EQ(n + 2, t->io[0].nr_reports);
	EXPECT_EQ((__u32)xcr0, t->io[0].reports[n]) TH_LOG("guest XGETBV");
	EXPECT_EQ((__u32)(xcr0 >> 32), t->io[0].reports[n + 1]);
}

/*
 * SDM vol. 1 §13.3: XCR0 always has x87, AVX needs SSE, the MPX pair, the
 * AMX pair and the AVX-512 triple are all or none, AVX-512 needs AVX, and
 * no bit the CPU lacks.  hvx loads the value with XSETBV on the host, so
 * SET_STATE refuses what would fault.
 */
TEST(cregs_xcr0)
{
	static const __u64 bad[] = {
		0x0,			/* no x87 */
		0x2,			/* SSE without x87 */
		0x5,			/* AVX without SSE */
		0x27,			/* AVX-512 opmask without ZMM_Hi256/Hi16_ZMM */
		0x9,			/* MPX BNDREGS without BNDCSR */
		0x11,			/* MPX BNDCSR without BNDREGS */
		0xc7,			/* AVX-512 ZMM_Hi256/Hi16_ZMM without opmask */
		0xe3,			/* the AVX-512 triple without AVX */
		0x3 | 1ULL << 17,	/* AMX XTILECFG without XTILEDATA */
		0x3 | 1ULL << 18,	/* AMX XTILEDATA without XTILECFG */
		0x3 | 1ULL << 62,	/* reserved */
	};
	struct hvx_vcpu_state st;
	struct hvx_cregs orig;
	__u64 host = host_xcr0();
	unsigned int i;
	struct tvm t;

	TVM_LONG_GUEST(&t, state_xcr0, 0);
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_CREGS));
	orig = st.cregs;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_xcr0_refused(_metadata, &t, &orig, bad[i]);
	/* A feature the host has not enabled cannot be the guest's. */
	for (i = 2; i < 19; i++) {
		if (!(host & (1ULL << i))) {
			expect_xcr0_refused(_metadata, &t, &orig, 0x3 | 1ULL << i);
			break;
		}
	}

	expect_xcr0_loaded(_metadata, &t, &orig, 0x3);
	if ((host & 0x7) == 0x7)
		expect_xcr0_loaded(_metadata, &t, &orig, 0x7);
	else
		TH_LOG("host XCR0 0x%llx has no AVX: 0x7 not tried", (unsigned long long)host);
	if ((host & 0xe7) == 0xe7)
		expect_xcr0_loaded(_metadata, &t, &orig, 0xe7);
	tvm_destroy(&t);
}

/* The host's CPUID with leaf 0xD sub-leaf 0 offering only xcr0_mask (or no leaf 0xD). */
static void set_guest_xcr0_cpuid(struct __test_metadata *_metadata, struct tvm *t,
				 __u64 xcr0_mask, bool drop_leaf)
{
	static struct hvx_cpuid_entry cpuid[HVX_MAX_CPUID];
	__u32 nent, i, n = 0, found = 0;

	ASSERT_OK(hvx_cpuid_from_host(cpuid, HVX_MAX_CPUID, &nent));
	for (i = 0; i < nent; i++) {
		if (cpuid[i].function == 0xd && cpuid[i].index == 0) {
			found++;
			cpuid[i].eax = (__u32)xcr0_mask;
			cpuid[i].edx = (__u32)(xcr0_mask >> 32);
		}
		if (!drop_leaf || cpuid[i].function != 0xd)
			cpuid[n++] = cpuid[i];
	}
	ASSERT_EQ(1, found) TH_LOG("the host's CPUID has no leaf 0xD sub-leaf 0");
	ASSERT_OK(hvx_vcpu_set_cpuid(&t->vcpu[0], cpuid, n));
}

/*
 * XCR0 may hold only what the guest's CPUID leaf 0xD offers (KVM's
 * guest_supported_xcr0), not everything the host has enabled: through
 * SET_STATE (EINVAL, nothing changed) and the guest's XSETBV (#GP(0), XCR0
 * unchanged).  Without a leaf 0xD only x87 is offered.
 */
TEST(xcr0_guest_cpuid)
{
	__u64 host = host_xcr0(), allowed, beyond, list[8];
	struct hvx_vcpu_state st;
	struct hvx_cregs orig;
	unsigned int n = 0, i;
	struct tvm t;

	if (!(host & 2))
		SKIP(return, "the host kernel has not enabled XSAVE with SSE");
	/* One feature less than the host has: AVX if it has it, else SSE. */
	if (host & 4) {
		allowed = 0x3;
		beyond = 0x7;
	} else {
		allowed = 0x1;
		beyond = 0x3;
	}
	TVM_LONG_GUEST(&t, state_xsetbv_list, 0);
	ASSERT_OK(tvm_setup_idt64(&t, 0));
	set_guest_xcr0_cpuid(_metadata, &t, allowed, false);
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_CREGS));
	orig = st.cregs;
	expect_xcr0_refused(_metadata, &t, &orig, beyond);
	st.cregs.xcr0 = allowed;
	ASSERT_OK(hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_CREGS));

	/*
	 * QEMU's emulated SVM does not take the XSETBV intercept (see
	 * xsetbv_faults): there the CPU checks the guest's XSETBV against
	 * its own CPUID, so the value only the guest's CPUID forbids is
	 * tried on VMX alone.  The rest fault on any CPU.
	 */
	if (!tvm_is_amd(&t))
		list[n++] = beyond;
	else
		TH_LOG("AMD: XSETBV of 0x%llx (beyond the guest's CPUID) not tried from the guest",
		       (unsigned long long)beyond);
	list[n++] = 0x2;			/* no x87 */
	list[n++] = 0x3 | 1ULL << 17;		/* half the AMX pair */
	list[n++] = 0x27;			/* a third of the AVX-512 triple */
	list[n++] = 0x3 | 1ULL << 62;		/* reserved */
	memcpy(t.mem + GUEST_DATA_GPA, &n, 4);
	memcpy(t.mem + GUEST_DATA_GPA + 8, list, n * 8);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_EQ(n, t.io[0].nr_excs);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(13, t.io[0].excs[i].vector) TH_LOG("XSETBV 0x%llx", (unsigned long long)list[i]);
		EXPECT_EQ(0, t.io[0].excs[i].error_code);
		EXPECT_EQ(GUEST_ADDR(state_xsetbv_list, xsetbv_list_insn), t.io[0].excs[i].rip);
	}
	ASSERT_EQ(2, t.io[0].nr_reports);
	EXPECT_EQ(allowed, t.io[0].reports[0] | (__u64)t.io[0].reports[1] << 32)
		TH_LOG("guest XCR0 after refused XSETBVs");
	tvm_destroy(&t);

	/* No leaf 0xD in the table: x87 only. */
	TVM_LONG_GUEST(&t, state_xsetbv_list, 0);
	set_guest_xcr0_cpuid(_metadata, &t, 0, true);
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_CREGS));
	orig = st.cregs;
	expect_xcr0_refused(_metadata, &t, &orig, 0x3);
	st.cregs.xcr0 = 0x1;
	EXPECT_EQ(0, hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_CREGS));
	tvm_destroy(&t);
}

/*
 * Guest XSETBV: #UD without CR4.OSXSAVE, #GP(0) for ECX != 0 or an invalid
 * value, at the XSETBV.  hvx intercepts XSETBV and raises these itself; an
 * emulated SVM that does not take the intercept (QEMU TCG) raises them on
 * its own.  The guest must see the same either way, and a valid XSETBV
 * must end up as the vCPU's XCR0 in both cases.
 */
TEST(xsetbv_faults)
{
	struct hvx_vcpu_state st;
	struct tvm t;

	TVM_LONG_GUEST(&t, state_xsetbv, 0);
	ASSERT_OK(tvm_setup_idt64(&t, 0));
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_EQ(3, t.io[0].nr_excs);
	EXPECT_EQ(6, t.io[0].excs[0].vector);
	EXPECT_EQ(GUEST_ADDR(state_xsetbv, xsetbv_ud), t.io[0].excs[0].rip);
	EXPECT_EQ(13, t.io[0].excs[1].vector);
	EXPECT_EQ(0, t.io[0].excs[1].error_code);
	EXPECT_EQ(GUEST_ADDR(state_xsetbv, xsetbv_gp_ecx), t.io[0].excs[1].rip);
	EXPECT_EQ(13, t.io[0].excs[2].vector);
	EXPECT_EQ(0, t.io[0].excs[2].error_code);
	EXPECT_EQ(GUEST_ADDR(state_xsetbv, xsetbv_gp_val), t.io[0].excs[2].rip);
	ASSERT_EQ(1, t.io[0].nr_reports);
	EXPECT_EQ(3, t.io[0].reports[0]) TH_LOG("guest XCR0 after XSETBV of 3");
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_CREGS));
	EXPECT_EQ(3, st.cregs.xcr0);
	tvm_destroy(&t);
}

TEST(dregs)
{
	struct hvx_vcpu_state st, got;
	struct tvm t;

	TVM_LONG_GUEST(&t, state_dr, 0);
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_DREGS));
	st.dregs.dr0 = 0x1000;
	st.dregs.dr1 = 0x2000;
	st.dregs.dr2 = 0x3000;
	st.dregs.dr3 = 0x4000;
	st.dregs.dr6 = 0xffff0ff0;
	st.dregs.dr7 = 0x400;		/* no breakpoint enabled */
	ASSERT_OK(hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_DREGS));
	memset(&got, 0, sizeof(got));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &got, HVX_STATE_DREGS));
	EXPECT_EQ(0x1000, got.dregs.dr0);
	EXPECT_EQ(0x2000, got.dregs.dr1);
	EXPECT_EQ(0x3000, got.dregs.dr2);
	EXPECT_EQ(0x4000, got.dregs.dr3);
	EXPECT_EQ(0xffff0ff0ULL, got.dregs.dr6);
	EXPECT_EQ(0x400, got.dregs.dr7);

	ASSERT_GUEST_EXIT(&t, 0, HVX_EXIT_HLT);
	ASSERT_REPORTS(&t, 0x1000, 0x2000, 0x3000, 0x4000);
	memset(&got, 0, sizeof(got));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &got, HVX_STATE_DREGS));
	EXPECT_EQ(0x7000, got.dregs.dr3);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	tvm_destroy(&t);
}

/*
 * DR0-3 are not switched by VMRUN: hvx loads the guest's before each entry
 * and the host's after.  New values set between two runs reach the guest,
 * in full 64 bits, and survive an exit in which the guest does not touch
 * them.  The host's own values are not observable from here.
 */
static void expect_guest_dr(struct __test_metadata *_metadata, struct tvm *t,
			    const __u64 *dr)
{
	struct hvx_vcpu_state st;
	unsigned int n = t->io[0].nr_reports, i;

	ASSERT_GUEST_EXIT(t, 0, HVX_EXIT_HLT);
	ASSERT_EQ(n + 8, t->io[0].nr_reports);
	for (i = 0; i < 4; i++) {
		__u64 got = t->io[0].reports[n + 2 * i] |
			    (__u64)t->io[0].reports[n + 2 * i + 1] << 32;

		EXPECT_EQ(dr[i], got) TH_LOG("guest DR%u 0x%llx, expected 0x%llx", i,
					     (unsigned long long)got, (unsigned long long)dr[i]);
	}
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t->vcpu[0], &st, HVX_STATE_DREGS));
	EXPECT_EQ(dr[0], st.dregs.dr0);
	EXPECT_EQ(dr[1], st.dregs.dr1);
	EXPECT_EQ(dr[2], st.dregs.dr2);
	EXPECT_EQ(dr[3], st.dregs.dr3);
}

static void set_dr(struct __test_metadata *_metadata, struct tvm *t, const __u64 *dr,
		   __u64 dr7)
{
	struct hvx_vcpu_state st;

	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t->vcpu[0], &st, HVX_STATE_DREGS));
	st.dregs.dr0 = dr[0];
	st.dregs.dr1 = dr[1];
	st.dregs.dr2 = dr[2];
	st.dregs.dr3 = dr[3];
	st.dregs.dr7 = dr7;
	ASSERT_OK(hvx_vcpu_set_state(&t->vcpu[0], &st, HVX_STATE_DREGS));
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t->vcpu[0], &st, HVX_STATE_DREGS));
	EXPECT_EQ(dr[0], st.dregs.dr0);
	EXPECT_EQ(dr[1], st.dregs.dr1);
	EXPECT_EQ(dr[2], st.dregs.dr2);
	EXPECT_EQ(dr[3], st.dregs.dr3);
	EXPECT_EQ(dr7, st.dregs.dr7);
}

TEST(dregs_across_runs)
{
	static const __u64 a[4] = {
		0x00007f0000001000ULL, 0xffff800000002000ULL,
		0x0000000012345678ULL, 0xffffffff81000000ULL,
	};
	static const __u64 b[4] = {
		0xffffc90000004000ULL, 0x0000000000000008ULL,
		0x00007ffffffff000ULL, 0x0000000000000000ULL,
	};
	struct tvm t;

	TVM_LONG_GUEST(&t, state_dr_loop, 0);
	set_dr(_metadata, &t, a, 0x400);
	expect_guest_dr(_metadata, &t, a);
	/* Unchanged by the host: the guest reads the same again. */
	expect_guest_dr(_metadata, &t, a);
	/* Breakpoints armed in the guest's DR7 on addresses it never touches. */
	set_dr(_metadata, &t, b, 0x400 | 0x55);
	expect_guest_dr(_metadata, &t, b);
	tvm_destroy(&t);
}

static const struct hvx_msr_entry msr_values[] = {
	{ .index = MSR_STAR, .data = 0x0023001000000000ULL },
	{ .index = MSR_LSTAR, .data = 0xffffffff81000000ULL },
	{ .index = MSR_CSTAR, .data = 0xffffffff81000040ULL },
	{ .index = MSR_SFMASK, .data = 0x47700 },
	{ .index = MSR_KERNEL_GS_BASE, .data = 0x7f0000001000ULL },
	{ .index = MSR_FS_BASE, .data = 0x7f0000002000ULL },
	{ .index = MSR_GS_BASE, .data = 0x7f0000003000ULL },
	{ .index = MSR_SYSENTER_CS, .data = 0x10 },
	{ .index = MSR_SYSENTER_ESP, .data = 0xffffffff82000000ULL },
	{ .index = MSR_SYSENTER_EIP, .data = 0xffffffff81000080ULL },
	{ .index = MSR_PAT, .data = 0x0007010600070106ULL },
};
#define NR_MSR_VALUES (sizeof(msr_values) / sizeof(msr_values[0]))

static int get_msrs(struct tvm *t, struct hvx_msr_entry *e, __u32 n)
{
	struct hvx_vcpu_state st;

	memset(&st, 0, sizeof(st));
	st.nmsrs = n;
	st.msrs = (__u64)(uintptr_t)e;
	return hvx_vcpu_get_state(&t->vcpu[0], &st, HVX_STATE_MSRS);
}

TEST(msrs)
{
	struct hvx_msr_entry e[NR_MSR_VALUES + 2];
	struct hvx_vcpu_state st;
	unsigned int i;
	struct tvm t;

	TVM_LONG_GUEST(&t, state_msr, 0);
	memcpy(e, msr_values, sizeof(msr_values));
	memset(&st, 0, sizeof(st));
	st.nmsrs = NR_MSR_VALUES;
	st.msrs = (__u64)(uintptr_t)e;
	ASSERT_OK(hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_MSRS));

	memset(e, 0, sizeof(e));
	for (i = 0; i < NR_MSR_VALUES; i++)
		e[i].index = msr_values[i].index;
	e[NR_MSR_VALUES].index = MSR_EFER;
	e[NR_MSR_VALUES + 1].index = MSR_TSC;
	ASSERT_OK(get_msrs(&t, e, NR_MSR_VALUES + 2));
	for (i = 0; i < NR_MSR_VALUES; i++) {
		__u64 want = msr_values[i].data, got = e[i].data;

		EXPECT_EQ(want, got) TH_LOG("MSR 0x%x: 0x%llx, expected 0x%llx", e[i].index,
					    (unsigned long long)got, (unsigned long long)want);
	}
	EXPECT_EQ(0x500, e[NR_MSR_VALUES].data & 0x500) TH_LOG("EFER 0x%llx",
		(unsigned long long)e[NR_MSR_VALUES].data);
	EXPECT_NE(0, e[NR_MSR_VALUES + 1].data) TH_LOG("TSC reads 0");

	/* FS_BASE through MSRS and through SREGS agree. */
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_SREGS));
	EXPECT_EQ(0x7f0000002000ULL, st.sregs.fs.base);
	EXPECT_EQ(0x7f0000003000ULL, st.sregs.gs.base);

	ASSERT_GUEST_EXIT(&t, 0, HVX_EXIT_HLT);
	ASSERT_REPORTS(&t, 0x81000000, 0xffffffff);
	memset(e, 0, sizeof(e));
	e[0].index = MSR_SFMASK;
	ASSERT_OK(get_msrs(&t, e, 1));
	EXPECT_EQ(0x300, e[0].data);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	tvm_destroy(&t);
}

/*
 * What WRMSR refuses, SET_STATE refuses too (EINVAL), and the MSR keeps
 * its value: a non-canonical address in the SYSCALL and segment-base MSRs,
 * a reserved memory type in PAT.  All of them, on both vendors.  The
 * SYSENTER stack and entry point are the vendors' own: Intel's WRMSR and
 * VM entry take only a canonical address (SDM vol. 3C §26.3.1.1), AMD's
 * take any value.  Either way the guest runs on afterwards.
 */
TEST(msrs_refuse_bad_values)
{
	static const struct hvx_msr_entry bad[] = {
		/* Not canonical at 48 bits, nor at 57 (LA57 CPUs). */
		{ .index = MSR_FS_BASE, .data = 0x0100000000000000ULL },
		{ .index = MSR_GS_BASE, .data = 0x8000000000000000ULL },
		{ .index = MSR_KERNEL_GS_BASE, .data = 0x4000000000001000ULL },
		{ .index = MSR_LSTAR, .data = 0x7fffffffffff0000ULL },
		{ .index = MSR_CSTAR, .data = 0xfe00000000000000ULL },
		{ .index = MSR_PAT, .data = 0x0007010600070102ULL },	/* type 2 */
	};
	struct hvx_msr_entry e;
	struct hvx_vcpu_state st;
	unsigned int i, j;
	struct tvm t;
	__u64 before;

	TVM_LONG_GUEST(&t, state_msr, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		e.index = bad[i].index;
		ASSERT_OK(get_msrs(&t, &e, 1));
		before = e.data;
		e = bad[i];
		memset(&st, 0, sizeof(st));
		st.nmsrs = 1;
		st.msrs = (__u64)(uintptr_t)&e;
		EXPECT_EQ(-EINVAL, hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_MSRS))
			TH_LOG("MSR 0x%x <- 0x%llx accepted", bad[i].index,
			       (unsigned long long)bad[i].data);
		memset(&e, 0, sizeof(e));
		e.index = bad[i].index;
		ASSERT_OK(get_msrs(&t, &e, 1));
		EXPECT_EQ(before, e.data) TH_LOG("MSR 0x%x changed", bad[i].index);
	}
	/* The canonical neighbours of those addresses are taken. */
	for (j = 0; j < 2; j++) {
		e.index = j ? MSR_LSTAR : MSR_FS_BASE;
		e.reserved = 0;
		e.data = j ? 0xffff800000000000ULL : 0x00007ffffffff000ULL;
		memset(&st, 0, sizeof(st));
		st.nmsrs = 1;
		st.msrs = (__u64)(uintptr_t)&e;
		EXPECT_EQ(0, hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_MSRS));
	}
	for (j = 0; j < 2; j++) {
		e.index = j ? MSR_SYSENTER_EIP : MSR_SYSENTER_ESP;
		e.reserved = 0;
		e.data = 0x8000000000001000ULL;
		memset(&st, 0, sizeof(st));
		st.nmsrs = 1;
		st.msrs = (__u64)(uintptr_t)&e;
		EXPECT_EQ(tvm_host_is_intel() ? -EINVAL : 0,
			  hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_MSRS))
			TH_LOG("SYSENTER MSR 0x%x <- 0x8000000000001000", e.index);
	}
	ASSERT_GUEST_EXIT(&t, 0, HVX_EXIT_HLT);
	tvm_destroy(&t);
}

TEST(events)
{
	struct hvx_vcpu_state st, got;
	struct tvm t;

	TVM_LONG_GUEST(&t, state_events, 0);
	ASSERT_OK(tvm_setup_idt64(&t, 0));
	memset(&got, 0, sizeof(got));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &got, HVX_STATE_EVENTS));
	EXPECT_EQ(0, got.events.flags);

	/* A pending #GP(0x28) set through EVENTS is delivered at the next entry. */
	memset(&st, 0, sizeof(st));
	st.events.flags = HVX_EVENTS_EXCEPTION | HVX_EVENTS_EXC_ERRCODE;
	st.events.exception_vector = 13;
	st.events.exception_error_code = 0x28;
	ASSERT_OK(hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_EVENTS));
	memset(&got, 0, sizeof(got));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &got, HVX_STATE_EVENTS));
	EXPECT_EQ(st.events.flags, got.events.flags);
	EXPECT_EQ(13, got.events.exception_vector);
	EXPECT_EQ(0x28, got.events.exception_error_code);

	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	/* Delivered: no longer pending. */
	memset(&got, 0, sizeof(got));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &got, HVX_STATE_EVENTS));
	EXPECT_EQ(0, got.events.flags & (HVX_EVENTS_EXCEPTION | HVX_EVENTS_NMI));
	ASSERT_EQ(1, t.io[0].nr_excs);
	EXPECT_EQ(13, t.io[0].excs[0].vector);
	EXPECT_EQ(0x28, t.io[0].excs[0].error_code);
	EXPECT_EQ(GUEST_CODE_GPA, t.io[0].excs[0].rip);
	tvm_destroy(&t);
}

TEST(events_nmi)
{
	struct hvx_vcpu_state st, got;
	struct tvm t;

	TVM_LONG_GUEST(&t, state_events, 0);
	ASSERT_OK(tvm_setup_idt64(&t, 0));
	memset(&st, 0, sizeof(st));
	st.events.flags = HVX_EVENTS_NMI;
	ASSERT_OK(hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_EVENTS));
	memset(&got, 0, sizeof(got));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &got, HVX_STATE_EVENTS));
	EXPECT_EQ(HVX_EVENTS_NMI, got.events.flags & HVX_EVENTS_NMI);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_EQ(1, t.io[0].nr_excs);
	EXPECT_EQ(2, t.io[0].excs[0].vector);
	EXPECT_EQ(GUEST_CODE_GPA, t.io[0].excs[0].rip);
	tvm_destroy(&t);
}

/*
 * SET_STATE EVENTS is checked before anything changes: a refused event
 * leaves the pending events and the other components of the same call
 * (REGS, CREGS here) as they were.
 */
TEST(events_invalid)
{
	static const struct {
		const char *what;
		__u32 flags;
		__u8 exc_vector, irq_vector;
		__u32 error_code;
	} bad[] = {
		{ "#UD with an error code", HVX_EVENTS_EXCEPTION | HVX_EVENTS_EXC_ERRCODE, 6, 0, 0 },
		{ "#GP without an error code", HVX_EVENTS_EXCEPTION, 13, 0, 0 },
		{ "#PF without an error code", HVX_EVENTS_EXCEPTION, 14, 0, 0 },
		{ "exception vector 2 (NMI)", HVX_EVENTS_EXCEPTION, 2, 0, 0 },
		{ "exception vector 31 (reserved)", HVX_EVENTS_EXCEPTION, 31, 0, 0 },
		{ "exception vector 32", HVX_EVENTS_EXCEPTION, 32, 0, 0 },
		{ "exception vector 255", HVX_EVENTS_EXCEPTION, 255, 0, 0 },
		{ "IRQ vector 31", HVX_EVENTS_IRQ, 0, 31, 0 },
		{ "IRQ vector 0", HVX_EVENTS_IRQ, 0, 0, 0 },
		{ "irq_vector without HVX_EVENTS_IRQ", 0, 0, 0x40, 0 },
		{ "error code without an exception", 0, 0, 0, 0x10 },
		{ "vector without an exception", 0, 6, 0, 0 },
		{ "EXC_ERRCODE without an exception", HVX_EVENTS_EXC_ERRCODE, 0, 0, 0 },
	};
	struct hvx_vcpu_state st, orig, got;
	unsigned int i;
	int r;
	struct tvm t;

	TVM_LONG_GUEST(&t, state_events, 0);
	ASSERT_OK(tvm_setup_idt64(&t, 0));
	memset(&orig, 0, sizeof(orig));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &orig,
				     HVX_STATE_REGS | HVX_STATE_CREGS | HVX_STATE_EVENTS));
	EXPECT_EQ(0, orig.events.flags);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st = orig;
		st.regs.rbx = 0xbadbadULL;
		st.cregs.cr2 = 0xdead000ULL;
		st.events.flags = bad[i].flags;
		st.events.exception_vector = bad[i].exc_vector;
		st.events.irq_vector = bad[i].irq_vector;
		st.events.exception_error_code = bad[i].error_code;
		r = hvx_vcpu_set_state(&t.vcpu[0], &st,
				       HVX_STATE_REGS | HVX_STATE_CREGS | HVX_STATE_EVENTS);
		EXPECT_EQ(-EINVAL, r) TH_LOG("%s: accepted (%d)", bad[i].what, r);
		memset(&got, 0, sizeof(got));
		ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &got,
					     HVX_STATE_REGS | HVX_STATE_CREGS | HVX_STATE_EVENTS));
		EXPECT_EQ(0, memcmp(&orig.events, &got.events, sizeof(got.events)))
			TH_LOG("%s: events changed, flags 0x%x", bad[i].what, got.events.flags);
		EXPECT_EQ(orig.regs.rbx, got.regs.rbx) TH_LOG("%s: REGS changed", bad[i].what);
		EXPECT_EQ(orig.cregs.cr2, got.cregs.cr2) TH_LOG("%s: CREGS changed", bad[i].what);
	}

	/* The same call with a valid event: all of it applies, #SS(0x3c) arrives. */
	st = orig;
	st.regs.rbx = 0x600dULL;
	st.cregs.cr2 = 0xc0de000ULL;
	st.events.flags = HVX_EVENTS_EXCEPTION | HVX_EVENTS_EXC_ERRCODE;
	st.events.exception_vector = 12;
	st.events.exception_error_code = 0x3c;
	ASSERT_OK(hvx_vcpu_set_state(&t.vcpu[0], &st,
				     HVX_STATE_REGS | HVX_STATE_CREGS | HVX_STATE_EVENTS));
	memset(&got, 0, sizeof(got));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &got,
				     HVX_STATE_REGS | HVX_STATE_CREGS | HVX_STATE_EVENTS));
	EXPECT_EQ(0x600dULL, got.regs.rbx);
	EXPECT_EQ(0xc0de000ULL, got.cregs.cr2);
	EXPECT_EQ(st.events.flags, got.events.flags);
	EXPECT_EQ(12, got.events.exception_vector);
	EXPECT_EQ(0x3c, got.events.exception_error_code);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_EQ(1, t.io[0].nr_excs);
	EXPECT_EQ(12, t.io[0].excs[0].vector);
	EXPECT_EQ(0x3c, t.io[0].excs[0].error_code);
	EXPECT_EQ(GUEST_CODE_GPA, t.io[0].excs[0].rip);
	tvm_destroy(&t);
}

/* ---- FPU ---------------------------------------------------------------- */

static int host_has_avx(void)
{
	unsigned int a, b, c, d;
	__u32 xcr0_lo, xcr0_hi;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	/* XSAVE, OSXSAVE, AVX */
	if ((c & ((1u << 26) | (1u << 27) | (1u << 28))) != ((1u << 26) | (1u << 27) | (1u << 28)))
		return 0;
	asm volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
	return (xcr0_lo & 6) == 6;
}

static void fill_host_pattern(unsigned char *buf)
{
	int i;

	for (i = 0; i < 512; i++)
		buf[i] = (unsigned char)(0x5a ^ (i * 7));
}

/*
 * HVX_RUN with the host's own vector registers loaded from `in` and saved to
 * `out` right after, in one asm block so that nothing else touches them.
 * Vector register n is at n * 32 (YMM) in both buffers.
 */
static long run_keeping_vectors(int fd, const unsigned char *in, unsigned char *out, int avx)
{
	long ret;

#define VEC_REGS(op, fmt) \
	op(0) op(1) op(2) op(3) op(4) op(5) op(6) op(7) \
	op(8) op(9) op(10) op(11) op(12) op(13) op(14) op(15)
#define YLOAD(n)  "vmovdqu " #n "*32(%[in]), %%ymm" #n "\n\t"
#define YSTORE(n) "vmovdqu %%ymm" #n ", " #n "*32(%[out])\n\t"
#define XLOAD(n)  "movdqu " #n "*32(%[in]), %%xmm" #n "\n\t"
#define XSTORE(n) "movdqu %%xmm" #n ", " #n "*32(%[out])\n\t"
#define CLOBBER_VEC "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", \
	"xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"

	if (avx)
		asm volatile(VEC_REGS(YLOAD, 0) "syscall\n\t" VEC_REGS(YSTORE, 0)
			     : "=a"(ret)
			     : "a"((long)SYS_ioctl), "D"((long)fd), "S"((long)HVX_RUN), "d"(0L),
			       [in] "r"(in), [out] "r"(out)
			     : "rcx", "r11", "memory", CLOBBER_VEC);
	else
		asm volatile(VEC_REGS(XLOAD, 0) "syscall\n\t" VEC_REGS(XSTORE, 0)
			     : "=a"(ret)
			     : "a"((long)SYS_ioctl), "D"((long)fd), "S"((long)HVX_RUN), "d"(0L),
			       [in] "r"(in), [out] "r"(out)
			     : "rcx", "r11", "memory", CLOBBER_VEC);
	return ret;
}

TEST(fpu)
{
	static struct hvx_cpuid_entry cpuid[HVX_MAX_CPUID];
	unsigned char host_in[512] __attribute__((aligned(32)));
	unsigned char host_out[512] __attribute__((aligned(32)));
	__u64 cr4, xcr0;
	struct hvx_vcpu_state st;
	unsigned char *xs, *g;
	__u32 nent, val;
	int avx, i, j;
	__u64 xstate_bv;
	struct hvx_run *run;
	struct hvx_regs regs;
	long r;
	struct tvm t;

	TVM_LONG_GUEST(&t, state_fpu, 0);
	/* A fault reports its vector and RIP instead of a triple fault. */
	ASSERT_OK(tvm_setup_idt64(&t, 0));
	run = t.vcpu[0].run;
	avx = host_has_avx();
	ASSERT_OK(hvx_cpuid_from_host(cpuid, HVX_MAX_CPUID, &nent));
	ASSERT_OK(hvx_vcpu_set_cpuid(&t.vcpu[0], cpuid, nent));
	ASSERT_OK(tvm_get_regs(&t, 0, &regs));
	regs.rbx = avx;
	ASSERT_OK(tvm_set_regs(&t, 0, &regs));

	/* Report 1: whether the guest uses AVX. */
	ASSERT_EQ(HVX_EXIT_IO, tvm_run_once(&t, 0));
	ASSERT_EQ(PORT_REPORT, run->io.port);
	memcpy(&val, run->io_data, 4);
	if (avx && !val)
		TH_LOG("guest CPUID lacks XSAVE/AVX: checking SSE only");
	if (!avx)
		TH_LOG("host has no AVX: checking SSE only");
	avx = avx && val;

	/* Report 2 comes with the guest's vectors loaded; our own must survive. */
	fill_host_pattern(host_in);
	memset(host_out, 0, sizeof(host_out));
	r = run_keeping_vectors(t.vcpu[0].fd, host_in, host_out, avx);
	ASSERT_EQ(0, r) TH_LOG("HVX_RUN: %s", strerror((int)-r));
	ASSERT_EQ(HVX_EXIT_IO, run->exit_reason);
	ASSERT_EQ(PORT_REPORT, run->io.port);
	for (i = 0; i < 16; i++) {
		EXPECT_EQ(0, memcmp(host_in + i * 32, host_out + i * 32, 16))
			TH_LOG("host xmm%d changed by HVX_RUN", i);
		if (avx)
			EXPECT_EQ(0, memcmp(host_in + i * 32 + 16, host_out + i * 32 + 16, 16))
				TH_LOG("host ymm%d[255:128] changed by HVX_RUN", i);
	}

	xs = aligned_alloc(64, HVX_XSAVE_SIZE);
	ASSERT_NE(NULL, xs);
	memset(xs, 0, HVX_XSAVE_SIZE);
	memset(&st, 0, sizeof(st));
	st.xsave = (__u64)(uintptr_t)xs;
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_FPU));
	memcpy(&xstate_bv, xs + XSAVE_HDR_OFF, 8);
	EXPECT_EQ(2, xstate_bv & 2) TH_LOG("XSTATE_BV 0x%llx lacks SSE",
					   (unsigned long long)xstate_bv);
	for (i = 0; i < 16; i++) {
		for (j = 0; j < 16; j++) {
			int lo = xs[XSAVE_XMM_OFF + i * 16 + j];
			int hi = xs[XSAVE_YMM_HI_OFF + i * 16 + j];

			EXPECT_EQ(VEC_LO(i, j), lo) TH_LOG("guest xmm%d byte %d", i, j);
			if (avx)
				EXPECT_EQ(VEC_HI(i, j), hi) TH_LOG("guest ymm%d byte %d", i, 16 + j);
		}
	}
	if (avx)
		EXPECT_EQ(4, xstate_bv & 4) TH_LOG("XSTATE_BV 0x%llx lacks AVX",
						   (unsigned long long)xstate_bv);

	/* Host -> guest: new values, stored by the guest at GUEST_DATA_GPA. */
	for (i = 0; i < 16; i++) {
		for (j = 0; j < 16; j++) {
			xs[XSAVE_XMM_OFF + i * 16 + j] = (unsigned char)(0xa0 + i + j * 3);
			if (avx)
				xs[XSAVE_YMM_HI_OFF + i * 16 + j] = (unsigned char)(0x30 + i * 5 + j);
		}
	}
	xstate_bv |= 2 | (avx ? 4 : 0);
	memcpy(xs + XSAVE_HDR_OFF, &xstate_bv, 8);
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_CREGS));
	cr4 = st.cregs.cr4;
	xcr0 = st.cregs.xcr0;
	ASSERT_OK(hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_FPU));
	/* Setting the FPU image leaves CR4 and XCR0 alone. */
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_CREGS));
	EXPECT_EQ(cr4, st.cregs.cr4);
	EXPECT_EQ(xcr0, st.cregs.xcr0);
	if (avx)
		EXPECT_EQ(7, st.cregs.xcr0 & 7);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	g = t.mem + GUEST_DATA_GPA;
	for (i = 0; i < 16; i++) {
		for (j = 0; j < 16; j++) {
			EXPECT_EQ((unsigned char)(0xa0 + i + j * 3), g[i * 32 + j])
				TH_LOG("xmm%d byte %d as the guest sees it", i, j);
			if (avx)
				EXPECT_EQ((unsigned char)(0x30 + i * 5 + j), g[i * 32 + 16 + j])
					TH_LOG("ymm%d byte %d as the guest sees it", i, 16 + j);
		}
	}
	free(xs);
	tvm_destroy(&t);
}

TEST(fpu_round_trip)
{
	unsigned char *a, *b;
	struct hvx_vcpu_state st;
	struct tvm t;

	TVM_LONG_GUEST(&t, state_events, 0);
	a = aligned_alloc(64, HVX_XSAVE_SIZE);
	b = aligned_alloc(64, HVX_XSAVE_SIZE);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	memset(a, 0, HVX_XSAVE_SIZE);
	memset(b, 0, HVX_XSAVE_SIZE);
	memset(&st, 0, sizeof(st));
	st.xsave = (__u64)(uintptr_t)a;
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_FPU));
	/* FCW 0x37f and MXCSR 0x1f80 after reset (SDM vol. 3 table 10-1). */
	EXPECT_EQ(0x37f, a[0] | a[1] << 8);
	EXPECT_EQ(0x1f80, a[24] | a[25] << 8);
	memset(a + XSAVE_XMM_OFF + 16 * 3, 0x3c, 16);
	a[XSAVE_HDR_OFF] |= 2;
	ASSERT_OK(hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_FPU));
	st.xsave = (__u64)(uintptr_t)b;
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_FPU));
	EXPECT_EQ(0, memcmp(a, b, 32)) TH_LOG("x87 control/status differ");
	EXPECT_EQ(0, memcmp(a + XSAVE_XMM_OFF, b + XSAVE_XMM_OFF, 256)) TH_LOG("xmm differ");
	free(a);
	free(b);
	tvm_destroy(&t);
}

/* ---- PKRU --------------------------------------------------------------- */

static __u32 rdpkru(void)
{
	__u32 eax, edx;

	asm volatile("rdpkru" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

/*
 * PKRU is user state that VMRUN does not switch: the guest's WRPKRU must
 * not leak into the host thread, and the guest's value is carried in the
 * XSAVE image of HVX_STATE_FPU (component 9) in both directions.
 */
TEST(pkru)
{
	unsigned int a, b, c, d, off;
	struct hvx_vcpu_state st;
	__u32 host, val, pkru;
	struct hvx_run *run;
	unsigned char *xs;
	__u64 xstate_bv;
	struct tvm t;

	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(c & (1u << 3)))
		SKIP(return, "host CPU has no protection keys (CPUID.7.0:ECX.PKU)");
	if (!(c & (1u << 4)))
		SKIP(return, "host kernel has not enabled protection keys (OSPKE)");
	__cpuid_count(0xd, XFEATURE_PKRU, a, b, c, d);
	off = b;
	ASSERT_LE(off + 4, HVX_XSAVE_SIZE) TH_LOG("PKRU at XSAVE offset %u", off);

	host = rdpkru();
	ASSERT_NE(PKRU_GUEST1, host);

	/* A guest that never touches PKRU: the host's is still there after the exit. */
	TVM_LONG_GUEST(&t, state_events, 0);
	ASSERT_EQ(HVX_EXIT_IO, tvm_run_once(&t, 0));
	pkru = rdpkru();
	EXPECT_EQ(host, pkru) TH_LOG("host PKRU 0x%x after HVX_RUN, was 0x%x", pkru, host);
	tvm_destroy(&t);

	TVM_LONG_GUEST(&t, state_pkru, 0);
	ASSERT_OK(tvm_setup_idt64(&t, 0));
	run = t.vcpu[0].run;

	/* Report 1 comes after the guest's WRPKRU. */
	ASSERT_EQ(HVX_EXIT_IO, tvm_run_once(&t, 0));
	pkru = rdpkru();
	EXPECT_EQ(host, pkru) TH_LOG("host PKRU 0x%x after HVX_RUN, was 0x%x", pkru, host);
	ASSERT_EQ(PORT_REPORT, run->io.port) TH_LOG("exit at rip 0x%llx, port 0x%x",
						    (unsigned long long)run->rip, run->io.port);
	memcpy(&val, run->io_data, 4);
	ASSERT_EQ(1, val);

	xs = aligned_alloc(64, HVX_XSAVE_SIZE);
	ASSERT_NE(NULL, xs);
	memset(xs, 0, HVX_XSAVE_SIZE);
	memset(&st, 0, sizeof(st));
	st.xsave = (__u64)(uintptr_t)xs;
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_FPU));
	memcpy(&xstate_bv, xs + XSAVE_HDR_OFF, 8);
	memcpy(&pkru, xs + off, 4);
	EXPECT_TRUE(xstate_bv & (1ULL << XFEATURE_PKRU))
		TH_LOG("XSTATE_BV 0x%llx lacks PKRU", (unsigned long long)xstate_bv);
	EXPECT_EQ(PKRU_GUEST1, pkru) TH_LOG("guest PKRU in the XSAVE image");

	/* Host -> guest: RDPKRU in the guest reads the new value. */
	xstate_bv |= 1ULL << XFEATURE_PKRU;
	memcpy(xs + XSAVE_HDR_OFF, &xstate_bv, 8);
	memcpy(xs + off, &(__u32){ PKRU_GUEST2 }, 4);
	ASSERT_OK(hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_FPU));
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	pkru = rdpkru();
	EXPECT_EQ(host, pkru) TH_LOG("host PKRU 0x%x after HVX_RUN, was 0x%x", pkru, host);
	ASSERT_EQ(3, t.io[0].nr_reports);
	EXPECT_EQ(PKRU_GUEST2, t.io[0].reports[0]) TH_LOG("guest RDPKRU");
	/* CR4.PKE does not reset PKRU (SDM vol. 3 §4.6.2), with or without an exit. */
	EXPECT_EQ(PKRU_GUEST2, t.io[0].reports[2])
		TH_LOG("guest RDPKRU 0x%x after CR4.PKE was off across an exit",
		       t.io[0].reports[2]);
	EXPECT_EQ(0, t.io[0].nr_excs);
	free(xs);
	tvm_destroy(&t);
}

TEST_HARNESS_MAIN
