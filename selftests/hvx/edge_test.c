// SPDX-License-Identifier: GPL-2.0
/*
 * Exits and events at their edges, in both paging modes where they apply:
 * the guest's own TSC_AUX for RDTSCP/RDPID; no stale event after a failed
 * entry; a guest page-table walk that leaves guest RAM is not MMIO; the
 * RIP of a failed pin; kernel work pending for the vCPU thread (rseq) is
 * done while the guest runs without exits to userspace; an SVM
 * instruction decode whose bytes end early fails cleanly.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "edge_guest.h"

GUEST_CODE(edge_tsc_aux);
GUEST_CODE(edge_stale);
GUEST_CODE(edge_long_off);
GUEST_CODE(edge_pt_walk);
GUEST_CODE(edge_pin);
GUEST_CODE(edge_spin);
GUEST_CODE(edge_trunc);
GUEST_CODE(edge_double);
extern const unsigned char edge_tsc_aux_gp[], edge_stale_ud[], edge_stale_resume[];
extern const unsigned char edge_pt_walk_load[], edge_pin_load[];
extern const unsigned char edge_long_off_gp[], edge_long_off_hlt1[], edge_long_off_hlt2[],
	edge_long_off_hlt3[];

#define MiB			(1024ULL * 1024)
/* The libhvx PDE of the 2 MiB page at EDGE_WINDOW_VA. */
#define WINDOW_PDE		(HVX_LAYOUT_PD + (EDGE_WINDOW_VA >> 21) * 8)

FIXTURE(edge) {
	struct tvm t;
	bool have_vm;
};

FIXTURE_VARIANT(edge) {
	__u32 paging;
};

FIXTURE_VARIANT_ADD(edge, nested) {
	.paging = HVX_PAGING_NESTED,
};

FIXTURE_VARIANT_ADD(edge, shadow) {
	.paging = HVX_PAGING_SHADOW,
};

FIXTURE_SETUP(edge)
{
	self->have_vm = false;
}

FIXTURE_TEARDOWN(edge)
{
	if (self->have_vm)
		tvm_destroy(&self->t);
}

/*
 * A VM in the variant's paging mode (skipped where the CPU or the module
 * lacks it: ENODEV, EOPNOTSUPP), one vCPU in long mode at blob.
 */
#define EDGE_GUEST(blob) do {							\
	int __e = tvm_create_paging(&self->t, 2 * GUEST_MIN_MEM, variant->paging, 0, 1); \
	if (__e)								\
		TVM_REQUIRE_HVX();						\
	if (__e == -ENODEV || __e == -EOPNOTSUPP)				\
		SKIP(return, "paging mode %u not available: %s", variant->paging,	\
		     strerror(-__e));						\
	ASSERT_EQ(0, __e) TH_LOG("creating a VM: %s", strerror(-__e));	\
	self->have_vm = true;							\
	tvm_load_code(&self->t, #blob, blob##_start, blob##_end);		\
	ASSERT_OK(tvm_setup(&self->t, 0, HVX_MODE_LONG, GUEST_CODE_GPA));	\
	ASSERT_OK(tvm_setup_idt64(&self->t, 0));				\
} while (0)

static int set_msr(struct tvm *t, __u32 index, __u64 data)
{
	struct hvx_msr_entry e = { .index = index, .data = data };
	struct hvx_vcpu_state st;

	memset(&st, 0, sizeof(st));
	st.nmsrs = 1;
	st.msrs = (__u64)(uintptr_t)&e;
	return hvx_vcpu_set_state(&t->vcpu[0], &st, HVX_STATE_MSRS);
}

static int get_msr(struct tvm *t, __u32 index, __u64 *data)
{
	struct hvx_msr_entry e = { .index = index };
	struct hvx_vcpu_state st;
	int r;

	memset(&st, 0, sizeof(st));
	st.nmsrs = 1;
	st.msrs = (__u64)(uintptr_t)&e;
	r = hvx_vcpu_get_state(&t->vcpu[0], &st, HVX_STATE_MSRS);
	*data = e.data;
	return r;
}

/* The host's own TSC_AUX as RDTSCP reads it. */
static __u32 host_tsc_aux(void)
{
	__u32 lo, hi, aux;

	asm volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	return aux;
}

/*
 * RDTSCP and RDPID read TSC_AUX, which neither VMRUN nor VM entry
 * switches: the guest must see its own value (written by WRMSR or through
 * SET_STATE), bits 63:32 are reserved (#GP, EINVAL), and the host's value
 * (the CPU number for getcpu()) is back after the exit.
 */
TEST_F(edge, tsc_aux)
{
	struct tvm *t = &self->t;
	cpu_set_t one, saved;
	__u64 aux;
	int cpu, r;

	EDGE_GUEST(edge_tsc_aux);
	/* One CPU for the whole run, so that the host's TSC_AUX is known. */
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(saved), &saved));
	cpu = sched_getcpu();
	ASSERT_LE(0, cpu);
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));

	r = tvm_run_guest(t, 0);
	if (r == GUEST_EXIT_DONE && t->io[0].done == EDGE_NONE) {
		sched_setaffinity(0, sizeof(saved), &saved);
		SKIP(return, "the guest's CPUID offers no RDTSCP");
	}
	ASSERT_EQ(HVX_EXIT_HLT, r) TH_LOG("%s", tvm_describe(t, 0, r, (char[512]){ 0 }, 512));
	EXPECT_EQ(cpu, (int)(host_tsc_aux() & 0xfff))
		TH_LOG("host TSC_AUX 0x%x on CPU %d after HVX_RUN", host_tsc_aux(), cpu);
	ASSERT_EQ(2, t->io[0].nr_reports);
	EXPECT_EQ(EDGE_AUX_GUEST, t->io[0].reports[0]) TH_LOG("guest RDTSCP");
	if (t->io[0].reports[1] == EDGE_NONE)
		TH_LOG("the guest's CPUID offers no RDPID: not tried");
	else
		EXPECT_EQ(EDGE_AUX_GUEST, t->io[0].reports[1]) TH_LOG("guest RDPID");
	ASSERT_OK(get_msr(t, MSR_TSC_AUX, &aux));
	EXPECT_EQ(EDGE_AUX_GUEST, aux);

	EXPECT_EQ(-EINVAL, set_msr(t, MSR_TSC_AUX, 1ULL << 32));
	ASSERT_OK(set_msr(t, MSR_TSC_AUX, EDGE_AUX_HOST));
	ASSERT_GUEST_DONE(t, 0, 0x600d);
	EXPECT_EQ(cpu, (int)(host_tsc_aux() & 0xfff));
	ASSERT_EQ(4, t->io[0].nr_reports);
	EXPECT_EQ(EDGE_AUX_HOST, t->io[0].reports[2]) TH_LOG("guest RDTSCP after SET_STATE");
	EXPECT_EQ(EDGE_AUX_HOST, t->io[0].reports[3]) TH_LOG("guest RDTSCP after a refused WRMSR");
	ASSERT_EQ(1, t->io[0].nr_excs);
	EXPECT_EQ(13, t->io[0].excs[0].vector);
	EXPECT_EQ(GUEST_ADDR(edge_tsc_aux, edge_tsc_aux_gp), t->io[0].excs[0].rip);
	sched_setaffinity(0, sizeof(saved), &saved);
}

/*
 * An exit in the middle of delivering #UD leaves it pending; userspace
 * drops it (SET_STATE EVENTS) and makes the next entry fail (IA-32e mode
 * without CR4.PAE, which both VMRUN and VM entry refuse).  Nothing may
 * bring the dropped #UD back: VMX reports a failed entry with the
 * IDT-vectoring field of the earlier exit still in the VMCS.
 */
TEST_F(edge, no_stale_event_after_failed_entry)
{
	struct tvm *t = &self->t;
	struct hvx_vcpu_state st, bad, got;
	int r;

	EDGE_GUEST(edge_stale);
	r = tvm_run_once(t, 0);
	ASSERT_EQ(HVX_EXIT_MMIO, r) TH_LOG("%s", tvm_describe(t, 0, r, (char[512]){ 0 }, 512));
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t->vcpu[0], &st, HVX_STATE_REGS | HVX_STATE_CREGS |
				     HVX_STATE_EVENTS));
	EXPECT_EQ(HVX_EVENTS_EXCEPTION, st.events.flags & HVX_EVENTS_EXCEPTION)
		TH_LOG("the #UD whose delivery exited is not pending (flags 0x%x)",
		       st.events.flags);
	EXPECT_EQ(6, st.events.exception_vector);

	bad = st;
	memset(&bad.events, 0, sizeof(bad.events));
	bad.cregs.cr4 &= ~(1ULL << 5);		/* PAE */
	ASSERT_OK(hvx_vcpu_set_state(&t->vcpu[0], &bad, HVX_STATE_CREGS | HVX_STATE_EVENTS));
	r = tvm_run_once(t, 0);
	ASSERT_EQ(HVX_EXIT_FAIL_ENTRY, r) TH_LOG("%s", tvm_describe(t, 0, r, (char[512]){ 0 }, 512));
	memset(&got, 0, sizeof(got));
	ASSERT_OK(hvx_vcpu_get_state(&t->vcpu[0], &got, HVX_STATE_EVENTS));
	EXPECT_EQ(0, got.events.flags & (HVX_EVENTS_EXCEPTION | HVX_EVENTS_NMI | HVX_EVENTS_IRQ))
		TH_LOG("events after the failed entry: flags 0x%x vector %u", got.events.flags,
		       got.events.exception_vector);

	st.regs.rsp = GUEST_STACK_TOP;
	st.regs.rip = GUEST_ADDR(edge_stale, edge_stale_resume);
	ASSERT_OK(hvx_vcpu_set_state(&t->vcpu[0], &st, HVX_STATE_REGS | HVX_STATE_CREGS));
	ASSERT_GUEST_DONE(t, 0, 0x600d);
	EXPECT_EQ(0, t->io[0].nr_excs)
		TH_LOG("the guest got vector %u at rip 0x%x", t->io[0].excs[0].vector,
		       t->io[0].excs[0].rip);
}

/*
 * The very first entry fails (the same IA-32e state without CR4.PAE): a
 * VMLAUNCH that fails leaves the VMCS not launched (SDM vol. 3C §27.8),
 * so once the state is good the next entry must launch it again, not
 * resume it (which would fail, VM-instruction error 5).
 */
TEST_F(edge, first_entry_fails)
{
	struct tvm *t = &self->t;
	struct hvx_vcpu_state st, bad;
	int r;

	EDGE_GUEST(edge_stale);
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t->vcpu[0], &st, HVX_STATE_REGS | HVX_STATE_CREGS));
	bad = st;
	bad.cregs.cr4 &= ~(1ULL << 5);		/* PAE */
	ASSERT_OK(hvx_vcpu_set_state(&t->vcpu[0], &bad, HVX_STATE_CREGS));
	r = tvm_run_once(t, 0);
	ASSERT_EQ(HVX_EXIT_FAIL_ENTRY, r) TH_LOG("%s", tvm_describe(t, 0, r, (char[512]){ 0 }, 512));
	st.regs.rip = GUEST_ADDR(edge_stale, edge_stale_resume);
	ASSERT_OK(hvx_vcpu_set_state(&t->vcpu[0], &st, HVX_STATE_REGS | HVX_STATE_CREGS));
	ASSERT_GUEST_DONE(t, 0, 0x600d);
}

/*
 * A failed entry changes none of the guest's state: what GET_STATE reads
 * afterwards is what SET_STATE wrote.  Each state below passes SET_STATE
 * and is refused by both VMRUN's and VM entry's checks.  (QEMU's emulated
 * VMRUN writes the host's registers into the VMCB when it refuses one;
 * hvx makes VMRUN's checks itself first, so the guest never sees them.)
 */
TEST_F(edge, failed_entry_keeps_state)
{
	static const char *const what[] = {
		"IA-32e paging without CR4.PAE", "64-bit code segment with D set",
	};
	const __u64 parts = HVX_STATE_REGS | HVX_STATE_SREGS | HVX_STATE_CREGS;
	struct tvm *t = &self->t;
	struct hvx_vcpu_state st, bad, got;
	unsigned int i;
	int r;

	EDGE_GUEST(edge_stale);
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t->vcpu[0], &st, parts));
	st.regs.rip = GUEST_ADDR(edge_stale, edge_stale_resume);
	for (i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		bad = st;
		if (i == 0)
			bad.cregs.cr4 &= ~(1ULL << 5);
		else
			bad.sregs.cs.db = 1;
		ASSERT_OK(hvx_vcpu_set_state(&t->vcpu[0], &bad, parts));
		r = tvm_run_once(t, 0);
		ASSERT_EQ(HVX_EXIT_FAIL_ENTRY, r)
			TH_LOG("%s: %s", what[i], tvm_describe(t, 0, r, (char[512]){ 0 }, 512));
		memset(&got, 0, sizeof(got));
		ASSERT_OK(hvx_vcpu_get_state(&t->vcpu[0], &got, parts));
		EXPECT_EQ(bad.regs.rip, got.regs.rip) TH_LOG("%s: RIP", what[i]);
		EXPECT_EQ(bad.regs.rsp, got.regs.rsp) TH_LOG("%s: RSP", what[i]);
		EXPECT_EQ(bad.regs.rax, got.regs.rax) TH_LOG("%s: RAX", what[i]);
		EXPECT_EQ(bad.regs.rflags, got.regs.rflags) TH_LOG("%s: RFLAGS", what[i]);
		EXPECT_EQ(bad.cregs.cr0, got.cregs.cr0) TH_LOG("%s: CR0", what[i]);
		EXPECT_EQ(bad.cregs.cr3, got.cregs.cr3) TH_LOG("%s: CR3", what[i]);
		EXPECT_EQ(bad.cregs.cr4, got.cregs.cr4) TH_LOG("%s: CR4", what[i]);
		EXPECT_EQ(bad.cregs.efer, got.cregs.efer) TH_LOG("%s: EFER", what[i]);
		EXPECT_EQ(0, memcmp(&bad.sregs, &got.sregs, sizeof(got.sregs)))
			TH_LOG("%s: segments or descriptor tables changed (CS %#x base %#llx, "
			       "IDT base %#llx)", what[i], got.sregs.cs.selector,
			       (unsigned long long)got.sregs.cs.base,
			       (unsigned long long)got.sregs.idt.base);
	}
	/* A CR4 bit the CPU does not have (31 is reserved): refused at once. */
	bad = st;
	bad.cregs.cr4 |= 1ULL << 31;
	EXPECT_EQ(-EINVAL, hvx_vcpu_set_state(&t->vcpu[0], &bad, HVX_STATE_CREGS));
	ASSERT_OK(hvx_vcpu_set_state(&t->vcpu[0], &st, parts));
	ASSERT_GUEST_DONE(t, 0, 0x600d);
}

/*
 * EFER.LMA is what the CPU makes of EFER.LME and CR0.PG.  SET_STATE
 * refuses CREGS where they disagree (as KVM_SET_SREGS does); EFER
 * written alone as an MSR is taken as given, and on AMD the entry then
 * fails: VMRUN does not check LMA, and QEMU ran such a guest for minutes
 * without an exit while the host's other CPU waited on it.
 */
TEST_F(edge, lma_without_paging)
{
	struct tvm *t = &self->t;
	struct hvx_vcpu_state st, bad, got;
	__u64 efer = 0;
	int r;

	EDGE_GUEST(edge_stale);
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t->vcpu[0], &st, HVX_STATE_REGS | HVX_STATE_CREGS));
	ASSERT_EQ(0x500, st.cregs.efer & 0x500);
	bad = st;
	bad.cregs.cr0 &= ~(1ULL << 31);
	ASSERT_EQ(-EINVAL, hvx_vcpu_set_state(&t->vcpu[0], &bad, HVX_STATE_CREGS));
	bad.cregs.efer &= ~0x400ULL;		/* LME alone without PG: fine */
	ASSERT_OK(hvx_vcpu_set_state(&t->vcpu[0], &bad, HVX_STATE_CREGS));
	if (tvm_is_amd(t)) {
		ASSERT_OK(set_msr(t, 0xc0000080, bad.cregs.efer | 0x400));
		r = tvm_run_once(t, 0);
		ASSERT_EQ(HVX_EXIT_FAIL_ENTRY, r)
			TH_LOG("%s", tvm_describe(t, 0, r, (char[512]){ 0 }, 512));
		ASSERT_OK(get_msr(t, 0xc0000080, &efer));
		EXPECT_EQ(bad.cregs.efer | 0x400, efer);
		memset(&got, 0, sizeof(got));
		ASSERT_OK(hvx_vcpu_get_state(&t->vcpu[0], &got, HVX_STATE_REGS));
		EXPECT_EQ(st.regs.rip, got.regs.rip);
	}
	st.regs.rip = GUEST_ADDR(edge_stale, edge_stale_resume);
	ASSERT_OK(hvx_vcpu_set_state(&t->vcpu[0], &st, HVX_STATE_REGS | HVX_STATE_CREGS));
	ASSERT_GUEST_DONE(t, 0, 0x600d);
}

/* The guest's CR0, CR4 and EFER at a HLT at label (RIP just past it). */
#define EXPECT_CREGS_AT(t, label, cr0_pg, cr4_pae, efer_bits) do {		\
	struct hvx_vcpu_state __s;						\
	int __r = tvm_run_guest(t, 0);						\
	ASSERT_EQ(HVX_EXIT_HLT, __r)						\
		TH_LOG("%s", tvm_describe(t, 0, __r, (char[512]){ 0 }, 512));	\
	memset(&__s, 0, sizeof(__s));						\
	ASSERT_OK(hvx_vcpu_get_state(&(t)->vcpu[0], &__s,			\
				     HVX_STATE_REGS | HVX_STATE_CREGS));	\
	EXPECT_EQ(GUEST_ADDR(edge_long_off, label) + 1, __s.regs.rip);		\
	EXPECT_EQ((cr0_pg), __s.cregs.cr0 & (1ULL << 31)) TH_LOG(#label " CR0.PG"); \
	EXPECT_EQ((cr4_pae), __s.cregs.cr4 & (1ULL << 5)) TH_LOG(#label " CR4.PAE"); \
	EXPECT_EQ((efer_bits), __s.cregs.efer & 0x500) TH_LOG(#label " EFER LME|LMA"); \
} while (0)

/*
 * A guest leaves long mode and enters it again as the architecture lets
 * it (SDM vol. 3A §10.8.5; APM vol. 2 §14.7), with each step's CR0, CR4
 * and EFER read back at a HLT; in between, EFER.LME set with PG and PAE
 * clear, a state in which QEMU's emulated #VMEXIT left the host CPU with
 * the guest's CR0, a hung host (hvx keeps LME out of the VMCB while the
 * guest does not page, and turns long mode on itself).  Last, paging
 * cannot be turned off in 64-bit mode: #GP.
 */
TEST_F(edge, long_mode_off_and_on)
{
	struct tvm *t = &self->t;

	EDGE_GUEST(edge_long_off);
	EXPECT_CREGS_AT(t, edge_long_off_hlt1, 0, 1ULL << 5, 0x100);
	EXPECT_CREGS_AT(t, edge_long_off_hlt2, 0, 0, 0x100);
	EXPECT_CREGS_AT(t, edge_long_off_hlt3, 1ULL << 31, 1ULL << 5, 0x500);
	ASSERT_GUEST_DONE(t, 0, 0x600d);
	ASSERT_EQ(1, t->io[0].nr_excs);
	EXPECT_EQ(13, t->io[0].excs[0].vector);
	EXPECT_EQ(GUEST_ADDR(edge_long_off, edge_long_off_gp), t->io[0].excs[0].rip);
}

/*
 * The CPU's walk of the guest's page tables reaches a gpa with no memory:
 * not an MMIO access userspace could emulate, but an internal error naming
 * that gpa, with RIP on the instruction.  Under shadow paging hvx walks
 * the guest's tables itself and this exit does not arise.
 */
TEST_F(edge, pt_walk_outside_ram)
{
	struct tvm *t = &self->t;
	__u64 pde = EDGE_PT_MMIO_GPA | 3;
	struct hvx_run *run;
	int r;

	if (variant->paging == HVX_PAGING_SHADOW)
		SKIP(return, "shadow paging walks the guest's tables in software");
	EDGE_GUEST(edge_pt_walk);
	run = t->vcpu[0].run;
	memcpy(t->mem + WINDOW_PDE, &pde, 8);
	r = tvm_run_guest(t, 0);
	ASSERT_EQ(HVX_EXIT_INTERNAL_ERROR, r)
		TH_LOG("%s", tvm_describe(t, 0, r, (char[512]){ 0 }, 512));
	EXPECT_EQ(HVX_INTERNAL_PT_WALK, run->internal.suberror);
	EXPECT_EQ(EDGE_PT_MMIO_GPA, run->internal.data[0]);
	EXPECT_EQ(GUEST_ADDR(edge_pt_walk, edge_pt_walk_load), run->rip);
}

/*
 * A slot whose user memory is gone: the guest's first touch cannot pin
 * it.  run->rip is the loading instruction, not that of the last exit.
 */
TEST_F(edge, pin_failure_rip)
{
	struct tvm *t = &self->t;
	struct hvx_run *run;
	void *mem;
	int r;

	EDGE_GUEST(edge_pin);
	run = t->vcpu[0].run;
	mem = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_OK(hvx_vm_set_region(&t->vm, 1, 0, EDGE_PIN_GPA, 2 * MiB, mem));
	ASSERT_EQ(0, munmap(mem, 2 * MiB));
	r = tvm_run_guest(t, 0);
	ASSERT_EQ(HVX_EXIT_INTERNAL_ERROR, r)
		TH_LOG("%s", tvm_describe(t, 0, r, (char[512]){ 0 }, 512));
	ASSERT_EQ(1, t->io[0].nr_reports);
	EXPECT_EQ(HVX_INTERNAL_MEMORY, run->internal.suberror);
	EXPECT_EQ(EDGE_PIN_GPA, run->internal.data[0]);
	EXPECT_EQ(GUEST_ADDR(edge_pin, edge_pin_load), run->rip)
		TH_LOG("run->rip 0x%llx", (unsigned long long)run->rip);
}

static void on_alarm(int sig)
{
	(void)sig;	/* only makes HVX_RUN return -EINTR */
}

/*
 * A #PF raised while delivering a #PF is a #DF (SDM vol. 3A table 6-5):
 * under shadow paging hvx raises the second #PF itself, while the first
 * waits to be delivered again.  Nested paging is the reference: the CPU
 * combines them on its own.  A vCPU that delivers the #PF again and again
 * never leaves HVX_RUN: an alarm ends it.
 */
TEST_F(edge, pf_during_pf_is_double_fault)
{
	__u64 pde = GUEST_PT_GPA | 3, ist1 = GUEST_DATA_GPA + 0x4000;
	struct sigaction sa = { .sa_handler = on_alarm };
	struct tvm *t = &self->t;
	int r;

	EDGE_GUEST(edge_double);
	memset(t->mem + GUEST_PT_GPA, 0, 0x1000);
	memcpy(t->mem + WINDOW_PDE, &pde, 8);
	/* #DF runs on IST1 of the 64-bit TSS (SDM vol. 3A §8.7), #PF on the bad stack. */
	memcpy(t->mem + HVX_LAYOUT_TSS + 0x24, &ist1, 8);
	t->mem[GUEST_IDT_GPA + 8 * 16 + 4] = 1;
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	alarm(30);
	r = tvm_run_guest(t, 0);
	alarm(0);
	ASSERT_EQ(GUEST_EXIT_DONE, r) TH_LOG("%s", tvm_describe(t, 0, r, (char[512]){ 0 }, 512));
	ASSERT_EQ(0x600d, t->io[0].done);
	ASSERT_EQ(1, t->io[0].nr_excs);
	EXPECT_EQ(8, t->io[0].excs[0].vector)
		TH_LOG("vector %u error 0x%x: a #PF delivering a #PF must be a #DF",
		       t->io[0].excs[0].vector, t->io[0].excs[0].error_code);
	EXPECT_EQ(0, t->io[0].excs[0].error_code);
}

/* ---- work pending for the vCPU thread ---------------------------------- */

struct spin_ctx {
	struct tvm *t;
	int cpu;			/* where the vCPU thread starts */
	pid_t tid;
	struct rseq *rseq;		/* the vCPU thread's, registered by libc */
	int result;
	volatile int ready;
};

static void *spin_thread(void *arg)
{
	struct spin_ctx *c = arg;
	unsigned long tp;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(c->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	asm volatile("mov %%fs:0, %0" : "=r"(tp));
	c->rseq = (struct rseq *)(tp + __rseq_offset);
	c->tid = syscall(SYS_gettid);
	__atomic_store_n(&c->ready, 1, __ATOMIC_RELEASE);
	c->result = tvm_run_guest(c->t, 0);
	return NULL;
}

/*
 * The kernel marks work for a thread's return to user space with
 * TIF_NOTIFY_RESUME (task_work, memory.high throttling, rseq).  A vCPU
 * thread whose guest never exits to userspace must still do it: here the
 * thread is moved to another CPU while its guest spins, and the cpu_id
 * of its rseq area (updated by that work) must follow within seconds,
 * without HVX_RUN ever returning to the test.
 */
TEST_F(edge, notify_resume_work)
{
	struct tvm *t = &self->t;
	struct spin_ctx c = { .t = t };
	volatile __u32 *running, *stop;
	unsigned long long t0;
	int cpu_from, cpu_to, i;
	cpu_set_t avail, set;
	pthread_t th;
	__u32 seen = ~0U;

	if (!__rseq_size)
		SKIP(return, "the C library registered no rseq area");
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(avail), &avail));
	if (CPU_COUNT(&avail) < 2)
		SKIP(return, "one CPU: the vCPU thread cannot move");
	for (cpu_from = -1, cpu_to = -1, i = 0; i < CPU_SETSIZE && cpu_to < 0; i++) {
		if (!CPU_ISSET(i, &avail))
			continue;
		if (cpu_from < 0)
			cpu_from = i;
		else
			cpu_to = i;
	}
	EDGE_GUEST(edge_spin);
	running = (volatile __u32 *)(t->mem + EDGE_SPIN_RUNNING);
	stop = (volatile __u32 *)(t->mem + EDGE_SPIN_STOP);
	c.cpu = cpu_from;
	ASSERT_EQ(0, pthread_create(&th, NULL, spin_thread, &c));
	t0 = tvm_now_ms();
	while ((!__atomic_load_n(&c.ready, __ATOMIC_ACQUIRE) || !*running) &&
	       tvm_now_ms() - t0 < 20000)
		usleep(1000);
	if (!*running) {
		*stop = 1;
		pthread_join(th, NULL);
		ASSERT_EQ(1, *running) TH_LOG("the guest did not start in 20 s");
	}

	CPU_ZERO(&set);
	CPU_SET(cpu_to, &set);
	ASSERT_EQ(0, sched_setaffinity(c.tid, sizeof(set), &set));
	t0 = tvm_now_ms();
	while (tvm_now_ms() - t0 < 10000) {
		seen = __atomic_load_n(&c.rseq->cpu_id, __ATOMIC_RELAXED);
		if (seen == (__u32)cpu_to)
			break;
		usleep(1000);
	}
	*stop = 1;
	pthread_join(th, NULL);
	EXPECT_EQ((__u32)cpu_to, seen)
		TH_LOG("rseq cpu_id %u 10 s after the vCPU thread moved from CPU %d to %d",
		       seen, cpu_from, cpu_to);
	EXPECT_EQ(GUEST_EXIT_DONE, c.result)
		TH_LOG("%s", tvm_describe(t, 0, c.result, (char[512]){ 0 }, 512));
}

/*
 * SVM without decode assists decodes CR-access instructions from guest
 * memory (shadow paging only).  Here the bytes it can read end after
 * ModRM, though the CPU ran the instruction on a stale translation: the
 * decode must never read or use bytes it did not fetch.  hvx drops the
 * stale translation and lets the CPU run the instruction again, which
 * now takes the #PF the guest's page tables call for, and the SMSW
 * happens nowhere.  Only the outcome shows here: a read past the fetched
 * bytes (which the decoder once made before checking the length) needs
 * KASAN to be seen.
 */
TEST_F(edge, decode_truncated)
{
	static const unsigned char tail[] = { 0x0f, 0x01, 0x24 }, head[] = { 0x18, 0xc3 };
	__u64 frame_a = GUEST_DATA_GPA + 0x1000, frame_b = GUEST_DATA_GPA + 0x2000;
	__u64 pde = GUEST_PT_GPA | 3, pte0 = frame_a | 3, pte1 = frame_b | 3;
	struct tvm *t = &self->t;
	struct hvx_run *run;
	int r;

	if (variant->paging != HVX_PAGING_SHADOW)
		SKIP(return, "nested paging does not intercept CR0 reads");
	EDGE_GUEST(edge_trunc);
	if (!tvm_is_amd(t))
		SKIP(return, "VMX reports CR accesses decoded: hvx decodes only on SVM");
	run = t->vcpu[0].run;
	memset(t->mem + GUEST_PT_GPA, 0, 0x1000);
	memcpy(t->mem + GUEST_PT_GPA, &pte0, 8);
	memcpy(t->mem + GUEST_PT_GPA + 8, &pte1, 8);
	memcpy(t->mem + WINDOW_PDE, &pde, 8);
	memcpy(t->mem + frame_a + 0x1000 - sizeof(tail), tail, sizeof(tail));
	memcpy(t->mem + frame_b, head, sizeof(head));
	memset(t->mem + GUEST_DATA_GPA, 0x5a, 16);
	r = tvm_run_guest(t, 0);
	(void)run;
	ASSERT_EQ(GUEST_EXIT_EXC_LOOP, r)
		TH_LOG("%s", tvm_describe(t, 0, r, (char[512]){ 0 }, 512));
	ASSERT_LT(0, t->io[0].nr_excs);
	EXPECT_EQ(14, t->io[0].excs[0].vector);
	EXPECT_EQ(0, t->io[0].excs[0].error_code & 1) TH_LOG("a not-present #PF");
	EXPECT_EQ((__u32)(EDGE_WINDOW_VA + 0x1000 - sizeof(tail)), t->io[0].excs[0].rip);
	/* The SMSW did not happen anywhere. */
	EXPECT_EQ(0x5a5a, *(__u16 *)(t->mem + GUEST_DATA_GPA));
}

TEST_HARNESS_MAIN
