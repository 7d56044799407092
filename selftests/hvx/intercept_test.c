// SPDX-License-Identifier: GPL-2.0
/*
 * What hvx intercepts for the host's sake, and what the guest sees of it:
 * #DB (single-step, execute and write breakpoints) and #AC reach the
 * guest's own IDT as on hardware; INVD, WBINVD and WBNOINVD are done;
 * RDPMC raises #GP(0) (no virtual PMU); INVPCID raises #UD under shadow
 * paging, where CPUID hides it.  The vCPU's raw exit counters prove that
 * each of them exited.  An #AC raised while delivering itself (CVE-2015-5307)
 * becomes a stream of exits that a signal ends, not a CPU that never
 * leaves the guest; so does a #DB raised while delivering itself
 * (CVE-2015-8104).
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "genl.h"

GUEST_CODE(icpt_main);
GUEST_CODE(icpt_align);
GUEST_CODE(icpt_acloop);
GUEST_CODE(icpt_dbloop);
GUEST_CODE(icpt_icebp);

extern const unsigned char ss_after[], bp_target[], wp_after[], rdpmc_insn[];
extern const unsigned char invpcid_insn[], ac_insn[], icpt_db[], icpt_ac[], acloop_handler[];
extern const unsigned char dbloop_handler[], icebp_after[];

/* As in intercept_guest.S. */
#define USER_CS		0x33
#define USER_SS		0x3b
#define USER_STACK	0x60000
#define DBLOOP_IST	0x70000

/* User code and data descriptors, DPL 3, at selectors 0x30 and 0x38. */
#define GDT_USER_CODE64	0x00affb000000ffffULL
#define GDT_USER_CODE32	0x00cffb000000ffffULL
#define GDT_USER_DATA	0x00cff3000000ffffULL

/*
 * Raw exit codes: SVM EXITCODEs (APM vol. 2 appendix C) or VMX basic exit
 * reasons (SDM vol. 3D appendix C).  VMX reports every exception as exit
 * reason 0, SVM each vector apart.
 */
#define SVM_EXCP(v)	(0x40 + (v))
#define SVM_RDPMC	0x6f
#define SVM_INVD	0x76
#define SVM_WBINVD	0x89
#define SVM_INVPCID	0xa2
#define VMX_EXCP_NMI	0
#define VMX_INVD	13
#define VMX_RDPMC	15
#define VMX_WBINVD	54

static void host_cpuid(unsigned int leaf, unsigned int sub, unsigned int r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

/* QEMU's TCG, by its hypervisor signature. */
static bool host_is_tcg(void)
{
	unsigned int r[4];

	host_cpuid(0x40000000, 0, r);
	return r[1] == 0x54474354 && r[2] == 0x43544743 && r[3] == 0x47435447;
}

/* Whether the host CPU has INVPCID (CPUID.(7,0):EBX[10]); without it #UD comes first. */
static bool host_has_invpcid(void)
{
	unsigned int r[4];

	host_cpuid(0, 0, r);
	if (r[0] < 7)
		return false;
	host_cpuid(7, 0, r);
	return r[1] & (1u << 10);
}

/* Adds the DPL 3 segments to the GDT libhvx built, and points TSS.RSP0 at the stack. */
static int add_user_segments(struct tvm *t, __u64 code)
{
	struct hvx_vcpu_state st;
	__u64 data = GDT_USER_DATA, rsp0 = GUEST_STACK_TOP;
	int ret;

	memcpy(t->mem + HVX_LAYOUT_GDT + 0x30, &code, 8);
	memcpy(t->mem + HVX_LAYOUT_GDT + 0x38, &data, 8);
	memcpy(t->mem + HVX_LAYOUT_TSS + 4, &rsp0, 8);
	memset(&st, 0, sizeof(st));
	ret = hvx_vcpu_get_state(&t->vcpu[0], &st, HVX_STATE_SREGS);
	if (ret)
		return ret;
	st.sregs.gdt.limit = 0x3f;
	return hvx_vcpu_set_state(&t->vcpu[0], &st, HVX_STATE_SREGS);
}

/* Points the 64-bit IDT gate of vector at handler (DPL 0, stack table entry ist). */
static void idt64_gate(struct tvm *t, unsigned int vector, __u64 handler, unsigned int ist)
{
	__u64 lo = (handler & 0xffff) | ((__u64)HVX_SEL_CODE64 << 16) | ((__u64)ist << 32) |
		   (0x8eULL << 40) | ((handler >> 16) & 0xffff) << 48;
	__u64 hi = handler >> 32;

	memcpy(t->mem + GUEST_IDT_GPA + vector * 16, &lo, 8);
	memcpy(t->mem + GUEST_IDT_GPA + vector * 16 + 8, &hi, 8);
}

/*
 * Exits for exceptions: SVM counts the vector's own code; VMX counts all
 * exceptions and NMIs under reason 0, where shadow paging adds its #PFs
 * (counted as exit_npf).
 */
static __u64 exception_exits(const struct vcpu_info *v, bool intel, __u32 paging,
			     unsigned int vector)
{
	__u64 n;

	if (!intel)
		return raw_count(v, SVM_EXCP(vector));
	n = raw_count(v, VMX_EXCP_NMI);
	if (paging == HVX_PAGING_SHADOW)
		n -= v->stats[HVX_STAT_EXIT_NPF] < n ? v->stats[HVX_STAT_EXIT_NPF] : n;
	return n;
}

#define EXPECT_REPORT(t, i, want) do {						\
	EXPECT_EQ((__u32)(want), (t)->io[0].reports[i])				\
		TH_LOG("report %u: 0x%x, expected 0x%x", i, (t)->io[0].reports[i],	\
		       (__u32)(want));						\
} while (0)

TEST(debug_and_instructions)
{
	bool intel = tvm_host_is_intel();
	struct hvx_regs regs;
	struct vcpu_info v;
	unsigned int nexc;
	char why[512];
	struct tvm t;

	TVM_LONG_GUEST(&t, icpt_main, 0);
	ASSERT_OK(tvm_setup_idt64(&t, 0));
	idt64_gate(&t, 1, GUEST_ADDR(icpt_main, icpt_db), 0);
	ASSERT_OK(tvm_get_regs(&t, 0, &regs));
	regs.r14 = t.paging == HVX_PAGING_SHADOW;
	ASSERT_OK(tvm_set_regs(&t, 0, &regs));

	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_EQ(10, t.io[0].nr_reports) TH_LOG("reports from the #DB handler");
	/* Single-step: a trap after the NOP, DR6.BS; TF in the frame, RF not. */
	EXPECT_REPORT(&t, 0, DR6_INIT | DR6_BS);
	EXPECT_REPORT(&t, 1, GUEST_ADDR(icpt_main, ss_after));
	EXPECT_EQ(RFLAGS_TF, t.io[0].reports[2] & (RFLAGS_TF | RFLAGS_RF));
	/* DR0 execute breakpoint: a fault at the instruction, B0, no RF. */
	EXPECT_REPORT(&t, 3, DR6_INIT | 0x1);
	EXPECT_REPORT(&t, 4, GUEST_ADDR(icpt_main, bp_target));
	EXPECT_EQ(0, t.io[0].reports[5] & (RFLAGS_TF | RFLAGS_RF));
	/* DR1 write breakpoint: a trap after the write, B1. */
	EXPECT_REPORT(&t, 6, DR6_INIT | 0x2);
	EXPECT_REPORT(&t, 7, GUEST_ADDR(icpt_main, wp_after));
	EXPECT_EQ(0, t.io[0].reports[8] & (RFLAGS_TF | RFLAGS_RF));
	/* INVD, WBINVD, WBNOINVD done, memory intact. */
	EXPECT_REPORT(&t, 9, 0x1d);

	/* RDPMC: #GP(0) at the instruction; INVPCID under shadow paging: #UD. */
	nexc = t.paging == HVX_PAGING_SHADOW ? 2 : 1;
	ASSERT_EQ(nexc, t.io[0].nr_excs);
	EXPECT_EQ(13, t.io[0].excs[0].vector);
	EXPECT_EQ(0, t.io[0].excs[0].error_code);
	EXPECT_EQ(GUEST_ADDR(icpt_main, rdpmc_insn), t.io[0].excs[0].rip);
	if (nexc == 2) {
		EXPECT_EQ(6, t.io[0].excs[1].vector);
		EXPECT_EQ(GUEST_ADDR(icpt_main, invpcid_insn), t.io[0].excs[1].rip);
	}

	/* Each of them exited. */
	ASSERT_EQ(0, self_vcpu_counters(0, &v, why, sizeof(why))) TH_LOG("%s", why);
	if (intel) {
		EXPECT_LE(3, exception_exits(&v, intel, t.paging, 1))
			TH_LOG("three #DB exits expected");
		EXPECT_EQ(1, raw_count(&v, VMX_INVD));
		EXPECT_EQ(2, raw_count(&v, VMX_WBINVD)) TH_LOG("WBINVD and WBNOINVD");
		EXPECT_EQ(1, raw_count(&v, VMX_RDPMC));
	} else {
		EXPECT_EQ(3, exception_exits(&v, intel, t.paging, 1)) TH_LOG("#DB exits");
		/*
		 * Known deviation of QEMU's TCG: INVD exits with the WBINVD
		 * exit code (APM vol. 2 appendix C gives it its own, 0x76).
		 */
		if (host_is_tcg()) {
			EXPECT_EQ(3, raw_count(&v, SVM_INVD) + raw_count(&v, SVM_WBINVD))
				TH_LOG("INVD, WBINVD and WBNOINVD");
		} else {
			EXPECT_EQ(1, raw_count(&v, SVM_INVD));
			EXPECT_EQ(2, raw_count(&v, SVM_WBINVD)) TH_LOG("WBINVD and WBNOINVD");
		}
		EXPECT_EQ(1, raw_count(&v, SVM_RDPMC));
		/* A CPU without INVPCID (QEMU's TCG) raises #UD before the intercept. */
		EXPECT_EQ(host_has_invpcid() ? nexc - 1 : 0, raw_count(&v, SVM_INVPCID));
	}
	tvm_destroy(&t);
}

/*
 * ICEBP's #DB is a trap: hvx intercepts #DB and delivers it after the
 * instruction, once (VMX reports it on the instruction and steps over it).
 */
TEST(icebp_is_a_trap)
{
	struct tvm t;

	/* QEMU's TCG stops for an external debugger at ICEBP (translate.c, gen_debug()). */
	if (!tvm_host_is_intel() && host_is_tcg())
		SKIP(return, "QEMU's TCG raises no #DB for ICEBP");
	TVM_LONG_GUEST(&t, icpt_icebp, 0);
	ASSERT_OK(tvm_setup_idt64(&t, 0));
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_EQ(1, t.io[0].nr_excs);
	EXPECT_EQ(1, t.io[0].excs[0].vector);
	EXPECT_EQ(GUEST_ADDR(icpt_icebp, icebp_after), t.io[0].excs[0].rip);
	tvm_destroy(&t);
}

/* The reason an alignment-check test skips: QEMU's TCG raises no #AC at all. */
#define NO_AC_SKIP "the CPU raised no #AC for a misaligned load at CPL 3 with " \
	"CR0.AM and RFLAGS.AC (QEMU's TCG does not check alignment)"

/* #AC at CPL 3: error code 0, at the load, RF set in the frame (a fault). */
TEST(alignment_check)
{
	bool intel = tvm_host_is_intel();
	struct vcpu_info v;
	char why[512];
	struct tvm t;
	int r;

	TVM_LONG_GUEST(&t, icpt_align, 0);
	ASSERT_OK(tvm_setup_idt64(&t, 0));
	idt64_gate(&t, 17, GUEST_ADDR(icpt_align, icpt_ac), 0);
	ASSERT_OK(add_user_segments(&t, GDT_USER_CODE64));
	r = tvm_run_guest(&t, 0);
	ASSERT_EQ(GUEST_EXIT_DONE, r) TH_LOG("%s", tvm_describe(&t, 0, r, why, sizeof(why)));
	if (t.io[0].done == 0xa11)
		SKIP(goto out, NO_AC_SKIP);
	ASSERT_EQ(0x600d, t.io[0].done);
	ASSERT_EQ(4, t.io[0].nr_reports) TH_LOG("reports from the #AC handler");
	EXPECT_REPORT(&t, 0, 0);
	EXPECT_REPORT(&t, 1, GUEST_ADDR(icpt_align, ac_insn));
	EXPECT_REPORT(&t, 2, USER_CS);
	EXPECT_EQ(RFLAGS_RF, t.io[0].reports[3] & RFLAGS_RF);
	ASSERT_EQ(0, self_vcpu_counters(0, &v, why, sizeof(why))) TH_LOG("%s", why);
	if (intel) {
		EXPECT_LE(1, exception_exits(&v, intel, t.paging, 17));
	} else {
		EXPECT_EQ(1, exception_exits(&v, intel, t.paging, 17));
	}
out:
	tvm_destroy(&t);
}

static void noop_handler(int sig)
{
	(void)sig;
}

/*
 * CVE-2015-5307: a 32-bit guest whose #AC gate leads to CPL 3 and whose
 * CPL 3 stack is misaligned.  On hardware that does not intercept #AC the
 * CPU loops in the delivery for ever, with no instruction boundary at
 * which a host interrupt could end the guest.  Here each #AC exits: the
 * guest makes no progress (as on hardware), and a signal ends HVX_RUN.
 */
TEST(ac_during_ac_delivery)
{
	struct itimerval it = { .it_value = { .tv_usec = 300 * 1000 } };
	struct sigaction sa = { .sa_handler = noop_handler };	/* no SA_RESTART */
	bool intel = tvm_host_is_intel();
	struct hvx_vcpu_state st;
	struct hvx_run *run;
	struct vcpu_info v;
	char why[512];
	struct tvm t;
	__u64 gate, handler, n;
	__u32 done;
	int r;

	TVM_CREATE(&t, 2 * GUEST_MIN_MEM, 0, 1);
	tvm_load_code(&t, "icpt_acloop", icpt_acloop_start, icpt_acloop_end);
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_PROT32, GUEST_CODE_GPA));
	ASSERT_OK(add_user_segments(&t, GDT_USER_CODE32));
	/* 32-bit interrupt gate, DPL 3, to the CPL 3 code segment (SDM vol. 3A §6.11). */
	handler = GUEST_ADDR(icpt_acloop, acloop_handler);
	gate = (handler & 0xffff) | ((__u64)USER_CS << 16) | (0xeeULL << 40) |
	       ((handler >> 16) & 0xffff) << 48;
	memset(t.mem + GUEST_IDT_GPA, 0, 256 * 8);
	memcpy(t.mem + GUEST_IDT_GPA + 17 * 8, &gate, 8);
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_SREGS));
	st.sregs.idt.base = GUEST_IDT_GPA;
	st.sregs.idt.limit = 256 * 8 - 1;
	ASSERT_OK(hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_SREGS));
	run = t.vcpu[0].run;

	/* The guest reaches CPL 3... */
	r = tvm_run_once(&t, 0);
	ASSERT_EQ(HVX_EXIT_IO, r) TH_LOG("%s", tvm_describe(&t, 0, r, why, sizeof(why)));
	ASSERT_EQ(PORT_REPORT, run->io.port);
	/* ...then loops delivering #AC until the signal. */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	r = tvm_run_once(&t, 0);
	memcpy(&done, run->io_data, sizeof(done));
	if (r == HVX_EXIT_IO && run->io.port == PORT_DONE && done == 0xa11) {
		it.it_value.tv_usec = 0;
		setitimer(ITIMER_REAL, &it, NULL);
		SKIP(goto out, NO_AC_SKIP);
	}
	ASSERT_EQ(-EINTR, r) TH_LOG("RUN returned %s", tvm_describe(&t, 0, r, why, sizeof(why)));
	EXPECT_EQ(HVX_EXIT_INTR, run->exit_reason);

	ASSERT_EQ(0, self_vcpu_counters(0, &v, why, sizeof(why))) TH_LOG("%s", why);
	n = exception_exits(&v, intel, t.paging, 17);
	EXPECT_LE(10, n) TH_LOG("only %llu #AC exits in 300 ms", (unsigned long long)n);
out:
	tvm_destroy(&t);
}

/*
 * CVE-2015-8104: a #DB gate on an IST stack and a write breakpoint on the
 * first slot its frame takes there.  Each delivery of #DB writes that
 * slot and raises the next #DB before the handler's first instruction.
 * Here each #DB exits, and a signal ends HVX_RUN.
 */
TEST(db_during_db_delivery)
{
	struct itimerval it = { .it_value = { .tv_usec = 300 * 1000 } };
	struct sigaction sa = { .sa_handler = noop_handler };	/* no SA_RESTART */
	bool intel = tvm_host_is_intel();
	__u64 ist = DBLOOP_IST, n;
	struct hvx_run *run;
	struct vcpu_info v;
	char why[512];
	struct tvm t;
	int r;

	/*
	 * QEMU's TCG (7.2) keeps a nested guest's data breakpoint on its own
	 * stack armed after the #VMEXIT; a later hit in the host aborts the
	 * emulator (its I/O lock taken twice).  It raises no such #DB anyway.
	 */
	if (host_is_tcg())
		SKIP(return, "QEMU's TCG raises no #DB for the frame #DB delivery writes, "
		     "and its leftover breakpoint aborts it later");
	TVM_LONG_GUEST(&t, icpt_dbloop, 0);
	ASSERT_OK(tvm_setup_idt64(&t, 0));
	idt64_gate(&t, 1, GUEST_ADDR(icpt_dbloop, dbloop_handler), 1);
	/* IST1 of the 64-bit TSS (SDM vol. 3A §8.7). */
	memcpy(t.mem + HVX_LAYOUT_TSS + 0x24, &ist, 8);
	run = t.vcpu[0].run;

	r = tvm_run_once(&t, 0);
	ASSERT_EQ(HVX_EXIT_IO, r) TH_LOG("%s", tvm_describe(&t, 0, r, why, sizeof(why)));
	ASSERT_EQ(PORT_REPORT, run->io.port);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	r = tvm_run_once(&t, 0);
	if (r == HVX_EXIT_IO && run->io.port == PORT_DONE) {
		it.it_value.tv_usec = 0;
		setitimer(ITIMER_REAL, &it, NULL);
		SKIP(goto out, "the CPU raised no #DB for the frame that #DB delivery wrote "
		     "(an emulator's; hardware does, SDM vol. 3B §18.2.4)");
	}
	ASSERT_EQ(-EINTR, r) TH_LOG("RUN returned %s", tvm_describe(&t, 0, r, why, sizeof(why)));
	EXPECT_EQ(HVX_EXIT_INTR, run->exit_reason);
	ASSERT_EQ(0, self_vcpu_counters(0, &v, why, sizeof(why))) TH_LOG("%s", why);
	n = exception_exits(&v, intel, t.paging, 1);
	EXPECT_LE(10, n) TH_LOG("only %llu #DB exits in 300 ms", (unsigned long long)n);
out:
	tvm_destroy(&t);
}

TEST_HARNESS_MAIN
