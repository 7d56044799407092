// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel local APIC (HVX_VM_LAPIC): the timer in its three modes,
 * xAPIC and x2APIC, priorities and EOI, the APIC's errors, IPIs between
 * vCPUs, INIT/SIPI, MSIs from another thread, HLT in the kernel, the
 * APIC's state through GET/SET_STATE, and a VM of 1,024 vCPUs.  The guest
 * code is in apic_cguest.c.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "genl.h"
#include "apic_cguest.h"

GUEST_CODE(apic_cguest);

/* Free in these tests: the IDT and stubs of tvm_setup_idt64() are not used. */
#define AP_CODE_GPA	0x9000	/* SIPI vector 0x09 */
#define AP_FLAG_GPA	0x9100

/* The TSC's rate in kHz, measured against CLOCK_MONOTONIC (the APIC timer's clock). */
static __u64 measure_tsc_khz(void)
{
	struct timespec a, b;
	__u64 t0, t1, ns;

	clock_gettime(CLOCK_MONOTONIC, &a);
	t0 = __rdtsc();
	usleep(200000);
	t1 = __rdtsc();
	clock_gettime(CLOCK_MONOTONIC, &b);
	ns = (b.tv_sec - a.tv_sec) * 1000000000ULL + b.tv_nsec - a.tv_nsec;
	return (t1 - t0) * 1000000ULL / ns;
}

static int set_arg(struct tvm *t, unsigned int idx, __u64 arg)
{
	struct hvx_regs regs;
	int r = tvm_get_regs(t, idx, &regs);

	if (r)
		return r;
	regs.rbx = arg;
	return tvm_set_regs(t, idx, &regs);
}

static int get_lapic(struct tvm *t, unsigned int idx, struct hvx_lapic_state *ls)
{
	struct hvx_vcpu_state st = { .lapic = (__u64)(unsigned long)ls };

	return hvx_vcpu_get_state(&t->vcpu[idx], &st, HVX_STATE_LAPIC);
}

static int set_lapic(struct tvm *t, unsigned int idx, struct hvx_lapic_state *ls)
{
	struct hvx_vcpu_state st = { .lapic = (__u64)(unsigned long)ls };

	return hvx_vcpu_set_state(&t->vcpu[idx], &st, HVX_STATE_LAPIC);
}

/* An AP runs without waiting for INIT and SIPI. */
static int make_runnable(struct tvm *t, unsigned int idx)
{
	struct hvx_lapic_state ls;
	int r = get_lapic(t, idx, &ls);

	if (r)
		return r;
	ls.mp_state = HVX_MP_RUNNABLE;
	return set_lapic(t, idx, &ls);
}

/* A VM with the APIC, vCPU @idx at guest function @entry with @arg. */
#define APIC_GUEST(t, nr, idx, entry, arg) do {					\
	TVM_CREATE(t, 2 * GUEST_MIN_MEM, HVX_VM_LAPIC, nr);			\
	tvm_load_code(t, "apic_cguest.c", apic_cguest_start, apic_cguest_end);	\
	ASSERT_OK(tvm_setup(t, idx, HVX_MODE_LONG, entry));			\
	ASSERT_OK(set_arg(t, idx, arg));					\
} while (0)

/* Runs vCPU @idx until it reports (the report recorded), or fails the test. */
#define RUN_TO_REPORT(t, idx) do {						\
	struct hvx_run *__run = (t)->vcpu[idx].run;				\
	unsigned int __n = (t)->io[idx].nr_reports;				\
	char __b[512];								\
	int __r;								\
	do {									\
		__r = tvm_run_once(t, idx);					\
		ASSERT_EQ(HVX_EXIT_IO, __r)					\
			TH_LOG("%s", tvm_describe(t, idx, __r, __b, sizeof(__b)));	\
		__r = tvm_run_protocol_exit(t, idx);				\
		ASSERT_EQ(0, __r)						\
			TH_LOG("%s", tvm_describe(t, idx, __r, __b, sizeof(__b)));	\
	} while ((t)->io[idx].nr_reports == __n || __run->io.port != PORT_REPORT); \
} while (0)

TEST(capability_and_refusals)
{
	struct hvx_lapic_state ls;
	__u64 v = 0;
	struct tvm t;

	TVM_CREATE(&t, 2 * GUEST_MIN_MEM, 0, 1);
	ASSERT_OK(hvx_check_cap(&t.sys, HVX_CAP_LAPIC, &v));
	EXPECT_EQ(1, v);
	ASSERT_OK(hvx_check_cap(&t.sys, HVX_CAP_MAX_VCPUS, &v));
	EXPECT_GE(v, 1024);
	/* No APIC: no APIC state, no MSIs. */
	EXPECT_EQ(-EINVAL, get_lapic(&t, 0, &ls));
	EXPECT_EQ(-EINVAL, set_lapic(&t, 0, &ls));
	EXPECT_EQ(-ENXIO, hvx_vm_signal_msi(&t.vm, 0xfee00000, 0x41));
	tvm_destroy(&t);
}

TEST(timer_oneshot)
{
	__u64 khz = measure_tsc_khz();
	struct tvm t;

	APIC_GUEST(&t, 1, 0, APIC_ONESHOT_ENTRY, khz);
	ASSERT_GUEST_DONE(&t, 0, 1);
	ASSERT_EQ(1, t.io[0].nr_reports);
	TH_LOG("one-shot 1 ms: fired after %u us", t.io[0].reports[0]);
	tvm_destroy(&t);
}

TEST(timer_periodic)
{
	__u64 khz = measure_tsc_khz();
	struct tvm t;

	APIC_GUEST(&t, 1, 0, APIC_PERIODIC_ENTRY, khz);
	ASSERT_GUEST_DONE(&t, 0, 1);
	ASSERT_EQ(1, t.io[0].nr_reports);
	TH_LOG("periodic 1 ms: five periods in %u us", t.io[0].reports[0]);
	tvm_destroy(&t);
}

/*
 * The guest's leaf 0x40000010 (and leaf 0x15) give the TSC's frequency:
 * HVX_CAP_TSC_KHZ's, within 10 % of the TSC measured here.
 */
TEST(timer_tsc_deadline)
{
	__u64 khz = measure_tsc_khz(), cap = 0;
	struct tvm t;

	APIC_GUEST(&t, 1, 0, APIC_DEADLINE_ENTRY, 0);
	ASSERT_OK(hvx_check_cap(&t.sys, HVX_CAP_TSC_KHZ, &cap));
	EXPECT_GT(cap, khz * 9 / 10) TH_LOG("HVX_CAP_TSC_KHZ %llu, measured %llu kHz",
					     (unsigned long long)cap, (unsigned long long)khz);
	EXPECT_LT(cap, khz * 11 / 10);
	ASSERT_OK(set_arg(&t, 0, cap));
	ASSERT_GUEST_DONE(&t, 0, 1);
	ASSERT_EQ(1, t.io[0].nr_reports);
	TH_LOG("TSC deadline: interrupt %u us after it", t.io[0].reports[0]);
	tvm_destroy(&t);
}

TEST(xapic_and_x2apic)
{
	struct tvm t;

	APIC_GUEST(&t, 1, 0, APIC_X2APIC_ENTRY, 0);
	ASSERT_GUEST_DONE(&t, 0, 1);
	tvm_destroy(&t);
}

TEST(priority_and_eoi)
{
	struct tvm t;

	APIC_GUEST(&t, 1, 0, APIC_PRIORITY_ENTRY, 0);
	ASSERT_GUEST_DONE(&t, 0, 1);
	tvm_destroy(&t);
}

TEST(errors_are_architectural)
{
	struct tvm t;

	APIC_GUEST(&t, 1, 0, APIC_ERRORS_ENTRY, measure_tsc_khz());
	ASSERT_GUEST_DONE(&t, 0, 1);
	tvm_destroy(&t);
}

/* HLT with interrupts on never reaches userspace with the APIC in the kernel; nor does the xAPIC page. */
TEST(hlt_and_apic_stay_in_kernel)
{
	struct hvx_run *run;
	struct tvm t;
	int r;

	APIC_GUEST(&t, 1, 0, APIC_PRIORITY_ENTRY, 0);
	run = t.vcpu[0].run;
	for (;;) {
		r = tvm_run_once(&t, 0);
		ASSERT_EQ(HVX_EXIT_IO, r) TH_LOG("exit %s", tvm_exit_str(r));
		r = tvm_run_protocol_exit(&t, 0);
		if (r)
			break;
	}
	ASSERT_EQ(GUEST_EXIT_DONE, r);
	EXPECT_EQ(PORT_DONE, run->io.port);
	tvm_destroy(&t);
}

static void no_op(int sig)
{
	(void)sig;
}

/*
 * A HLT with interrupts off exits once, so that a launcher can tell that
 * the guest stopped (Linux's power-off without ACPI); the vCPU stays
 * halted: the next RUN waits in the kernel until a signal, and RIP stays
 * past the HLT.  Made runnable through SET_STATE, it goes on.
 */
TEST(hlt_with_interrupts_off_exits_and_stays_halted)
{
	struct itimerval it = { .it_value = { .tv_usec = 300000 } };
	struct sigaction sa = { .sa_handler = no_op }, old;
	struct hvx_lapic_state ls;
	struct hvx_regs regs;
	struct timespec a, b;
	struct hvx_run *run;
	struct tvm t;
	__u64 rip;
	long ms;

	APIC_GUEST(&t, 1, 0, APIC_HLT_IF0_ENTRY, 0);
	run = t.vcpu[0].run;
	ASSERT_EQ(HVX_EXIT_HLT, tvm_run_once(&t, 0));
	EXPECT_EQ(0, run->if_flag);
	ASSERT_OK(get_lapic(&t, 0, &ls));
	EXPECT_EQ(HVX_MP_HALTED, ls.mp_state);
	ASSERT_OK(tvm_get_regs(&t, 0, &regs));
	rip = regs.rip;

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, &old));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	clock_gettime(CLOCK_MONOTONIC, &a);
	EXPECT_EQ(-EINTR, hvx_vcpu_run(&t.vcpu[0]));
	clock_gettime(CLOCK_MONOTONIC, &b);
	sigaction(SIGALRM, &old, NULL);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	EXPECT_GE(ms, 250) TH_LOG("RUN returned after %ld ms, not waiting", ms);
	EXPECT_EQ(HVX_EXIT_INTR, run->exit_reason);
	ASSERT_OK(tvm_get_regs(&t, 0, &regs));
	EXPECT_EQ(rip, regs.rip);
	ASSERT_OK(get_lapic(&t, 0, &ls));
	EXPECT_EQ(HVX_MP_HALTED, ls.mp_state);

	ASSERT_OK(make_runnable(&t, 0));
	ASSERT_GUEST_DONE(&t, 0, 5);
	tvm_destroy(&t);
}

/*
 * A launcher's PIC next to the in-kernel APIC: a vCPU halted in the kernel
 * with interrupts on is in an interrupt window, so a requested window
 * ends its RUN at once (it would otherwise wait for an interrupt only
 * userspace has); it stays halted until the injected ExtINT wakes it.
 */
TEST(halted_vcpu_opens_requested_window)
{
	struct itimerval it = { .it_value = { .tv_usec = 200000 } };
	struct sigaction sa = { .sa_handler = no_op }, old;
	struct hvx_lapic_state ls;
	struct hvx_run *run;
	struct tvm t;

	APIC_GUEST(&t, 1, 0, APIC_MSI_WAIT_ENTRY, 0);
	run = t.vcpu[0].run;
	RUN_TO_REPORT(&t, 0);
	/* Into HLT: only a signal ends this RUN. */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, &old));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-EINTR, hvx_vcpu_run(&t.vcpu[0]));
	sigaction(SIGALRM, &old, NULL);
	ASSERT_OK(get_lapic(&t, 0, &ls));
	ASSERT_EQ(HVX_MP_HALTED, ls.mp_state);

	run->request_interrupt_window = 1;
	ASSERT_EQ(HVX_EXIT_IRQ_WINDOW, tvm_run_once(&t, 0));
	EXPECT_EQ(1, run->ready_for_interrupt);
	EXPECT_EQ(1, run->if_flag);
	ASSERT_OK(get_lapic(&t, 0, &ls));
	EXPECT_EQ(HVX_MP_HALTED, ls.mp_state);
	ASSERT_OK(hvx_vcpu_inject(&t.vcpu[0], HVX_EVENT_EXTINT, 0x61, 0, 0));
	run->request_interrupt_window = 0;
	ASSERT_GUEST_DONE(&t, 0, 1);
	tvm_destroy(&t);
}

/*
 * MOV CR8 runs without exits on both vendors (SVM's V_TPR, VMX's TPR
 * shadow) and stays the APIC's TPR: a thousand writes and reads cost
 * fewer than 100 exits (2,000 if each exited); a write that frees a
 * held-back interrupt delivers it before the next instruction; a TPR
 * written so shows in GET_STATE, and one SET_STATE puts shows in CR8.
 */
TEST(cr8_without_exits)
{
	struct hvx_vcpu_state st = { 0 };
	struct hvx_lapic_state ls;
	struct vcpu_info a, b;
	char why[256];
	__u64 exits;
	struct tvm t;

	APIC_GUEST(&t, 1, 0, APIC_CR8_ENTRY, 0);
	RUN_TO_REPORT(&t, 0);
	ASSERT_EQ(0, self_vcpu_counters(0, &a, why, sizeof(why))) TH_LOG("%s", why);
	RUN_TO_REPORT(&t, 0);
	ASSERT_EQ(0, self_vcpu_counters(0, &b, why, sizeof(why))) TH_LOG("%s", why);
	exits = b.stats[HVX_STAT_EXITS] - a.stats[HVX_STAT_EXITS];
	EXPECT_LT(exits, 100) TH_LOG("%llu exits for 1,000 CR8 writes and reads",
				     (unsigned long long)exits);
	RUN_TO_REPORT(&t, 0);
	ASSERT_OK(get_lapic(&t, 0, &ls));
	EXPECT_EQ(0x70, ls.regs[0x80 / 4]);
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_CREGS));
	EXPECT_EQ(7, st.cregs.cr8);
	ls.regs[0x80 / 4] = 0x20;
	ASSERT_OK(set_lapic(&t, 0, &ls));
	ASSERT_GUEST_DONE(&t, 0, 1);
	tvm_destroy(&t);
}

/*
 * The PIC's interrupts (ExtINT through HVX_INJECT_EVENT) pass LINT0 only
 * while it is unmasked in ExtINT mode, as the BSP's is at reset (an AP's
 * is masked), or while the APIC is hardware-disabled.  Else no window
 * opens for them, ready_for_interrupt stays 0 and HVX_INJECT_EVENT
 * refuses them with EAGAIN; the guest unmasking LINT0 opens the window.
 */
TEST(pic_interrupts_need_lint0)
{
	struct hvx_lapic_state ls, off;
	struct hvx_run *run;
	struct tvm t;

	APIC_GUEST(&t, 2, 0, APIC_LINT0_ENTRY, 0);
	run = t.vcpu[0].run;
	ASSERT_OK(get_lapic(&t, 1, &ls));
	EXPECT_EQ(0x10000, ls.regs[0x350 / 4]);
	ASSERT_OK(get_lapic(&t, 0, &ls));
	EXPECT_EQ(0x700, ls.regs[0x350 / 4]);

	RUN_TO_REPORT(&t, 0);
	EXPECT_EQ(1, run->ready_for_interrupt);
	ASSERT_OK(hvx_vcpu_inject(&t.vcpu[0], HVX_EVENT_EXTINT, 0x60, 0, 0));
	/* LINT0 masked: no window while the guest spins with IF set. */
	RUN_TO_REPORT(&t, 0);
	EXPECT_EQ(1, run->if_flag);
	EXPECT_EQ(0, run->ready_for_interrupt);
	EXPECT_EQ(-EAGAIN, hvx_vcpu_inject(&t.vcpu[0], HVX_EVENT_EXTINT, 0x61, 0, 0));
	run->request_interrupt_window = 1;
	RUN_TO_REPORT(&t, 0);
	EXPECT_EQ(0, run->ready_for_interrupt);

	/* Hardware-disabled, the APIC lets the PIC through. */
	ASSERT_OK(get_lapic(&t, 0, &ls));
	off = ls;
	off.apic_base &= ~(1ULL << 11);
	ASSERT_OK(set_lapic(&t, 0, &off));
	ASSERT_EQ(HVX_EXIT_IRQ_WINDOW, tvm_run_once(&t, 0));
	EXPECT_EQ(1, run->ready_for_interrupt);
	ASSERT_OK(set_lapic(&t, 0, &ls));

	/* The guest unmasks LINT0: the window opens. */
	ASSERT_EQ(HVX_EXIT_IRQ_WINDOW, tvm_run_once(&t, 0));
	EXPECT_EQ(1, run->ready_for_interrupt);
	ASSERT_OK(hvx_vcpu_inject(&t.vcpu[0], HVX_EVENT_EXTINT, 0x61, 0, 0));
	run->request_interrupt_window = 0;
	ASSERT_GUEST_DONE(&t, 0, 1);
	tvm_destroy(&t);
}

/*
 * GET_STATE mid-run shows what the guest programmed; SET_STATE changes
 * it; bad states are refused and change nothing.
 */
TEST(state_round_trip)
{
	struct hvx_lapic_state ls, bad, again;
	struct tvm t;

	APIC_GUEST(&t, 1, 0, APIC_STATE_ENTRY, 0);
	RUN_TO_REPORT(&t, 0);
	ASSERT_OK(get_lapic(&t, 0, &ls));
	EXPECT_EQ(0xfee00000 | (1 << 11) | (1 << 8), ls.apic_base);
	EXPECT_EQ(HVX_MP_RUNNABLE, ls.mp_state);
	EXPECT_EQ(0x30, ls.regs[0x80 / 4]);
	EXPECT_EQ(0x30, ls.regs[0xa0 / 4]);		/* PPR */
	EXPECT_EQ(0x1ff, ls.regs[0xf0 / 4]);
	EXPECT_EQ(0x10040, ls.regs[0x320 / 4]);
	EXPECT_EQ(2000000000, ls.regs[0x380 / 4]);
	EXPECT_GT(ls.regs[0x390 / 4], 0);
	EXPECT_LE(ls.regs[0x390 / 4], 2000000000);
	EXPECT_EQ(0x50014, ls.regs[0x30 / 4]);

	/* Refused: each leaves the state as it was. */
	bad = ls;
	bad.flags = 1;
	EXPECT_EQ(-EINVAL, set_lapic(&t, 0, &bad));
	bad = ls;
	bad.reserved[4] = 1;
	EXPECT_EQ(-EINVAL, set_lapic(&t, 0, &bad));
	bad = ls;
	bad.mp_state = 3;
	EXPECT_EQ(-EINVAL, set_lapic(&t, 0, &bad));
	bad = ls;
	bad.apic_base = 0xfee00000 | (1 << 10);		/* x2APIC without enable */
	EXPECT_EQ(-EINVAL, set_lapic(&t, 0, &bad));
	bad = ls;
	bad.apic_base |= 1ULL << 63;
	EXPECT_EQ(-EINVAL, set_lapic(&t, 0, &bad));
	bad = ls;
	bad.apic_base |= 1 << 10;
	bad.regs[0x20 / 4] = 7;				/* x2APIC ID not the vCPU's */
	bad.regs[0x80 / 4] = 0x70;
	EXPECT_EQ(-EINVAL, set_lapic(&t, 0, &bad));
	ASSERT_OK(get_lapic(&t, 0, &again));
	EXPECT_EQ(0x30, again.regs[0x80 / 4]);
	EXPECT_EQ(ls.apic_base, again.apic_base);

	ls.regs[0x80 / 4] = 0x20;
	ASSERT_OK(set_lapic(&t, 0, &ls));
	ASSERT_GUEST_DONE(&t, 0, 1);
	tvm_destroy(&t);
}

struct msi_job {
	struct tvm *t;
	int ret;
};

static void *msi_thread(void *arg)
{
	struct msi_job *j = arg;

	usleep(100000);
	j->ret = hvx_vm_signal_msi(&j->t->vm, 0xfee00000, 0x61);
	return NULL;
}

/* A vCPU halted in the kernel wakes for an MSI another thread sends. */
TEST(msi_wakes_halted_vcpu)
{
	struct msi_job j;
	pthread_t th;
	struct tvm t;

	APIC_GUEST(&t, 1, 0, APIC_MSI_WAIT_ENTRY, 0);
	RUN_TO_REPORT(&t, 0);
	j.t = &t;
	ASSERT_EQ(0, pthread_create(&th, NULL, msi_thread, &j));
	ASSERT_GUEST_DONE(&t, 0, 1);
	pthread_join(th, NULL);
	EXPECT_EQ(1, j.ret);
	tvm_destroy(&t);
}

TEST(msi_bad_input)
{
	struct hvx_msi m = { .address = 0xfee00000, .data = 0x41 };
	struct tvm t;

	APIC_GUEST(&t, 1, 0, APIC_MSI_WAIT_ENTRY, 0);
	EXPECT_EQ(-EINVAL, hvx_vm_signal_msi(&t.vm, 0xfec00000, 0x41));
	EXPECT_EQ(-EINVAL, hvx_vm_signal_msi(&t.vm, 0xfee00000, 0x05));	/* vector < 16 */
	EXPECT_EQ(-EINVAL, hvx_vm_signal_msi(&t.vm, 0xfee00000, 0x741));	/* ExtINT */
	EXPECT_EQ(-EINVAL, hvx_vm_signal_msi(&t.vm, 0xfee00000, 0x10041));	/* reserved */
	m.flags = 1;
	EXPECT_EQ(-1, ioctl(t.vm.fd, HVX_SIGNAL_MSI, &m));
	EXPECT_EQ(EINVAL, errno);
	m.flags = 0;
	m.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(t.vm.fd, HVX_SIGNAL_MSI, &m));
	EXPECT_EQ(EINVAL, errno);
	/* To an APIC ID nobody has: taken by none. */
	EXPECT_EQ(0, hvx_vm_signal_msi(&t.vm, 0xfee00000 | (9 << 12), 0x41));
	tvm_destroy(&t);
}

static int irq_line(struct tvm *t, __u32 pin, __u32 level)
{
	struct hvx_irq_line l = { .pin = pin, .level = level };

	return ioctl(t->vm.fd, HVX_IRQ_LINE, &l) ? -errno : 0;
}

/* Edge and level pins, remote IRR and EOI, a masked pin, one unmasked while high. */
TEST(ioapic_edge_and_level)
{
	struct hvx_ioapic_state io;
	struct hvx_run *run;
	char buf[512];
	struct tvm t;
	int r;

	TVM_CREATE(&t, 2 * GUEST_MIN_MEM, HVX_VM_LAPIC | HVX_VM_IOAPIC, 1);
	tvm_load_code(&t, "apic_cguest.c", apic_cguest_start, apic_cguest_end);
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_LONG, APIC_IOAPIC_ENTRY));
	run = t.vcpu[0].run;
	for (;;) {
		r = tvm_run_once(&t, 0);
		ASSERT_EQ(HVX_EXIT_IO, r) TH_LOG("%s", tvm_describe(&t, 0, r, buf, sizeof(buf)));
		r = tvm_run_protocol_exit(&t, 0);
		if (r)
			break;
		if (run->io.port != PORT_REPORT)
			continue;
		switch (t.io[0].reports[t.io[0].nr_reports - 1]) {
		case 0x100:
			/* The table as the guest programmed it; written back, it stays. */
			ASSERT_EQ(0, ioctl(t.vm.fd, HVX_GET_IOAPIC, &io));
			EXPECT_EQ(0x65, io.rte[3]);
			EXPECT_EQ(0x8061, io.rte[5]);
			EXPECT_EQ(0x10070, io.rte[6]);
			EXPECT_EQ(0x10000, io.rte[7]);
			EXPECT_EQ(0, io.lines);
			ASSERT_EQ(0, ioctl(t.vm.fd, HVX_SET_IOAPIC, &io));
			ASSERT_OK(irq_line(&t, 3, 1));
			ASSERT_OK(irq_line(&t, 3, 0));
			ASSERT_OK(irq_line(&t, 6, 1));
			ASSERT_OK(irq_line(&t, 6, 0));
			ASSERT_OK(irq_line(&t, 5, 1));
			break;
		case 3:
			/* In service: remote IRR, pin held high. */
			ASSERT_EQ(0, ioctl(t.vm.fd, HVX_GET_IOAPIC, &io));
			EXPECT_EQ(0x8061 | (1 << 14), io.rte[5]);
			EXPECT_EQ(1 << 5, io.lines);
			ASSERT_OK(irq_line(&t, 5, 0));
			break;
		case 0x101:
			break;
		}
		if (t.io[0].nr_reports == 5)	/* 0x100, 1, 2, 3: hold pin 6 high */
			ASSERT_OK(irq_line(&t, 6, 1));
	}
	ASSERT_EQ(GUEST_EXIT_DONE, r) TH_LOG("%s", tvm_describe(&t, 0, r, buf, sizeof(buf)));
	ASSERT_EQ(1, t.io[0].done);
	tvm_destroy(&t);
}

TEST(ioapic_bad_input)
{
	struct hvx_irq_line l = { .pin = 0, .level = 1 };
	struct hvx_ioapic_state io, bad;
	struct hvx_vm vm;
	int i;
	struct tvm t;
	__u64 pins = 0;

	TVM_CREATE(&t, 2 * GUEST_MIN_MEM, HVX_VM_LAPIC, 1);
	ASSERT_OK(hvx_check_cap(&t.sys, HVX_CAP_IOAPIC_PINS, &pins));
	EXPECT_EQ(24, pins);
	/* An I/O APIC needs local APICs. */
	EXPECT_EQ(-EINVAL, hvx_vm_create(&t.sys, &vm, HVX_PAGING_AUTO, HVX_VM_IOAPIC));
	/* No I/O APIC in this VM. */
	EXPECT_EQ(-ENXIO, irq_line(&t, 0, 1));
	EXPECT_EQ(-1, ioctl(t.vm.fd, HVX_GET_IOAPIC, &io));
	EXPECT_EQ(ENXIO, errno);
	tvm_destroy(&t);

	TVM_CREATE(&t, 2 * GUEST_MIN_MEM, HVX_VM_LAPIC | HVX_VM_IOAPIC, 1);
	EXPECT_EQ(0, irq_line(&t, 23, 1));
	EXPECT_EQ(-EINVAL, irq_line(&t, 24, 1));
	EXPECT_EQ(-EINVAL, irq_line(&t, 0, 2));
	l.flags = 1;
	EXPECT_EQ(-1, ioctl(t.vm.fd, HVX_IRQ_LINE, &l));
	EXPECT_EQ(EINVAL, errno);
	l.flags = 0;
	l.pad = 1;
	EXPECT_EQ(-1, ioctl(t.vm.fd, HVX_IRQ_LINE, &l));
	EXPECT_EQ(EINVAL, errno);
	l.pad = 0;
	l.reserved[0] = 1;
	EXPECT_EQ(-1, ioctl(t.vm.fd, HVX_IRQ_LINE, &l));
	EXPECT_EQ(EINVAL, errno);

	/* A state with anything reserved set is refused and changes nothing. */
	ASSERT_EQ(0, ioctl(t.vm.fd, HVX_GET_IOAPIC, &io));
	EXPECT_EQ(1U << 23, io.lines);
	for (i = 0; i < 6; i++) {
		bad = io;
		bad.rte[2] = 0x33;
		switch (i) {
		case 0: bad.flags = 1; break;
		case 1: bad.reserved[3] = 1; break;
		case 2: bad.id = 16; break;
		case 3: bad.lines = 1U << 24; break;
		case 4: bad.rte[9] = 1 << 12; break;	/* delivery status */
		case 5: bad.regsel = 0x100; break;
		}
		EXPECT_EQ(-1, ioctl(t.vm.fd, HVX_SET_IOAPIC, &bad)) TH_LOG("case %d", i);
		EXPECT_EQ(EINVAL, errno);
	}
	ASSERT_EQ(0, ioctl(t.vm.fd, HVX_GET_IOAPIC, &bad));
	EXPECT_EQ(0, memcmp(&io, &bad, sizeof(io)));
	tvm_destroy(&t);
}

struct vcpu_job {
	pthread_t thread;
	struct tvm *t;
	unsigned int idx;
	int ret;
	char err[512];
};

static void *run_thread(void *arg)
{
	struct vcpu_job *j = arg;

	j->ret = tvm_run_guest(j->t, j->idx);
	tvm_describe(j->t, j->idx, j->ret, j->err, sizeof(j->err));
	return NULL;
}

/* Fixed (physical, logical flat and cluster), lowest priority, NMI, shorthands. */
TEST(ipis_between_vcpus)
{
	__u64 khz = measure_tsc_khz();
	struct vcpu_job j = { 0 };
	struct tvm t;
	char buf[512];
	int r;

	APIC_GUEST(&t, 2, 0, APIC_IPI_SENDER_ENTRY, khz);
	ASSERT_OK(tvm_setup(&t, 1, HVX_MODE_LONG, APIC_IPI_RECEIVER_ENTRY));
	ASSERT_OK(make_runnable(&t, 1));
	j.t = &t;
	j.idx = 1;
	ASSERT_EQ(0, pthread_create(&j.thread, NULL, run_thread, &j));
	r = tvm_run_guest(&t, 0);
	pthread_join(j.thread, NULL);
	EXPECT_EQ(GUEST_EXIT_DONE, r) TH_LOG("vCPU 0: %s", tvm_describe(&t, 0, r, buf, sizeof(buf)));
	EXPECT_EQ(1, t.io[0].done);
	EXPECT_EQ(GUEST_EXIT_DONE, j.ret) TH_LOG("vCPU 1: %s", j.err);
	EXPECT_EQ(1, t.io[1].done);
	tvm_destroy(&t);
}

/*
 * Real-mode code at 0x9000 for an AP: flag word 0x1234 and CS at
 * 0x9100, then PORT_DONE with 7.
 */
static const unsigned char ap_code[] = {
	0xb8, 0x34, 0x12,			/* mov $0x1234, %ax */
	0xa3, 0x00, 0x91,			/* mov %ax, 0x9100 */
	0x8c, 0xc8,				/* mov %cs, %ax */
	0xa3, 0x02, 0x91,			/* mov %ax, 0x9102 */
	0x66, 0xb8, 0x07, 0x00, 0x00, 0x00,	/* mov $7, %eax */
	0xba, PORT_DONE, 0x00,			/* mov $PORT_DONE, %dx */
	0x66, 0xef,				/* out %eax, %dx */
	0xf4, 0xeb, 0xfd,			/* 1: hlt; jmp 1b */
};

/* Skips where an AP cannot run real mode: VMX without unrestricted guest, shadow. */
static bool real_mode_ok(struct tvm *t)
{
	__u64 ug = 0, shadow_rm = 0;

	hvx_check_cap(&t->sys, HVX_CAP_UNRESTRICTED_GUEST, &ug);
	hvx_check_cap(&t->sys, HVX_CAP_SHADOW_REAL_MODE, &shadow_rm);
	return t->paging == HVX_PAGING_SHADOW ? shadow_rm : ug;
}

/* An AP waits in the kernel until INIT and SIPI start it in real mode at the vector. */
TEST(init_sipi_starts_ap_in_real_mode)
{
	__u64 khz = measure_tsc_khz();
	struct hvx_lapic_state ls;
	struct hvx_vcpu_state st;
	struct vcpu_job j = { 0 };
	struct tvm t;

	APIC_GUEST(&t, 2, 0, APIC_INIT_SIPI_ENTRY, khz);
	if (!real_mode_ok(&t)) {
		tvm_destroy(&t);
		SKIP(return, "real mode does not run in this paging mode here");
	}
	ASSERT_OK(get_lapic(&t, 1, &ls));
	EXPECT_EQ(HVX_MP_WAIT_SIPI, ls.mp_state);
	EXPECT_EQ(0xfee00000 | (1 << 11), ls.apic_base);	/* not the BSP */
	memcpy(t.mem + AP_CODE_GPA, ap_code, sizeof(ap_code));
	j.t = &t;
	j.idx = 1;
	ASSERT_EQ(0, pthread_create(&j.thread, NULL, run_thread, &j));
	ASSERT_GUEST_DONE(&t, 0, 1);
	pthread_join(j.thread, NULL);
	ASSERT_EQ(GUEST_EXIT_DONE, j.ret) TH_LOG("AP: %s", j.err);
	EXPECT_EQ(7, t.io[1].done);
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[1], &st, HVX_STATE_SREGS | HVX_STATE_CREGS));
	EXPECT_EQ(0x0900, st.sregs.cs.selector);
	EXPECT_EQ(0x9000, st.sregs.cs.base);
	EXPECT_EQ(0, st.cregs.cr0 & 1);
	ASSERT_OK(get_lapic(&t, 1, &ls));
	EXPECT_EQ(HVX_MP_RUNNABLE, ls.mp_state);
	tvm_destroy(&t);
}

TEST(init_sipi_with_nobody_else)
{
	struct tvm t;

	APIC_GUEST(&t, 1, 0, APIC_INIT_ALONE_ENTRY, measure_tsc_khz());
	ASSERT_GUEST_DONE(&t, 0, 1);
	tvm_destroy(&t);
}

/* Real-mode code for the many APs: add one to the flag, PORT_DONE. */
static const unsigned char ap_count_code[] = {
	0xf0, 0xff, 0x06, 0x00, 0x91,		/* lock incw 0x9100 */
	0x66, 0xb8, 0x01, 0x00, 0x00, 0x00,	/* mov $1, %eax */
	0xba, PORT_DONE, 0x00,			/* mov $PORT_DONE, %dx */
	0x66, 0xef,				/* out %eax, %dx */
	0xf4, 0xeb, 0xfd,			/* 1: hlt; jmp 1b */
};

#define MANY	1024

struct many_job {
	struct hvx_vcpu vcpu;
	pthread_t thread;
	int ret;		/* 0: done with 1; -errno, or 1000 + the exit */
};

/* An AP's thread: RUN until its PORT_DONE. */
static void *many_thread(void *arg)
{
	struct many_job *j = arg;
	struct hvx_run *run = j->vcpu.run;
	int r = hvx_vcpu_run(&j->vcpu);

	if (r)
		j->ret = r;
	else if (run->exit_reason != HVX_EXIT_IO || run->io.port != PORT_DONE)
		j->ret = 1000 + run->exit_reason;
	else
		j->ret = *(__u32 *)run->io_data == 1 ? 0 : 2000;
	return NULL;
}

static long mem_available_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* A fixture only for its timeout: a debug kernel takes over 30 s for 1,024 vCPUs. */
FIXTURE(many) {};
FIXTURE_SETUP(many) {}
FIXTURE_TEARDOWN(many) {}

/*
 * 1,024 vCPUs, more than the host has CPUs, each a thread: vCPU 0 sends
 * INIT and SIPI to all the others, which each count themselves in.
 */
TEST_F_TIMEOUT(many, smp_1024_vcpus, 300)
{
	__u64 khz = measure_tsc_khz();
	unsigned long long t0, t_created, t_done;
	static struct many_job m[MANY];
	pthread_attr_t attr;
	struct rlimit rl;
	long kb0, kb1;
	struct tvm t;
	unsigned int i, failed = 0;
	int first = 0;

	APIC_GUEST(&t, 1, 0, APIC_SMP_MANY_ENTRY, khz << 16 | MANY);
	if (!real_mode_ok(&t)) {
		tvm_destroy(&t);
		SKIP(return, "real mode does not run in this paging mode here");
	}
	/* A vCPU is an fd. */
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < MANY + 64) {
		rl.rlim_cur = MANY + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl)) {
			tvm_destroy(&t);
			SKIP(return, "cannot raise RLIMIT_NOFILE to %d fds", MANY + 64);
		}
	}
	memcpy(t.mem + AP_CODE_GPA, ap_count_code, sizeof(ap_count_code));
	kb0 = mem_available_kb();
	t0 = tvm_now_ms();
	for (i = 1; i < MANY; i++)
		ASSERT_OK(hvx_vcpu_create(&t.vm, i, &m[i].vcpu));
	t_created = tvm_now_ms();
	kb1 = mem_available_kb();
	ASSERT_EQ(0, pthread_attr_init(&attr));
	ASSERT_EQ(0, pthread_attr_setstacksize(&attr, 64 * 1024));
	for (i = 1; i < MANY; i++)
		ASSERT_EQ(0, pthread_create(&m[i].thread, &attr, many_thread, &m[i]));
	ASSERT_GUEST_DONE(&t, 0, MANY - 1);
	for (i = 1; i < MANY; i++) {
		pthread_join(m[i].thread, NULL);
		if (m[i].ret && !failed++)
			first = m[i].ret;
	}
	t_done = tvm_now_ms();
	EXPECT_EQ(0, failed) TH_LOG("%u APs failed, the first with %d", failed, first);
	EXPECT_EQ(MANY - 1, *(__u16 *)(t.mem + AP_FLAG_GPA));
	TH_LOG("%d vCPUs: created in %llu ms, %ld KiB of host memory each; all started and done in %llu ms",
	       MANY, t_created - t0, (kb0 - kb1) / (MANY - 1), t_done - t_created);
	for (i = 1; i < MANY; i++)
		hvx_vcpu_destroy(&m[i].vcpu);
	pthread_attr_destroy(&attr);
	tvm_destroy(&t);
}

TEST_HARNESS_MAIN
