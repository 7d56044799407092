// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run's threads.  Each vCPU runs in a thread of its own; the main
 * thread keeps the devices' clock (the PIT's deadlines) and the console's
 * input, and takes the stop and report signals.  Every device, and the
 * run's shared state, is under one lock, which a vCPU thread holds while
 * it handles an exit, never while it is in HVX_RUN.
 *
 * Interrupts.  With the APIC in the kernel (the default when the module
 * has it), a device's ISA IRQ line also drives its I/O APIC pin through
 * HVX_IRQ_LINE from whichever thread raises it, and the kernel delivers it
 * without the vCPU exiting first.  The 8259 PIC is modelled here and its
 * interrupt goes to the BSP with HVX_INJECT_EVENT when the guest can take
 * it, otherwise an interrupt window is requested (api.rst, "Interrupt
 * windows"); another thread that gives the PIC an interrupt kicks the BSP
 * with a signal, which sets its run->immediate_exit, so HVX_RUN returns
 * EINTR whether the signal lands inside the ioctl or just before it
 * (api.rst, HVX_RUN).  A halted vCPU waits in the kernel with the APIC
 * there; without it, the BSP waits here for the PIC.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "hvx-run.h"
#include "decode.h"

#define KICK_SIGNAL	SIGUSR2

static volatile sig_atomic_t quit_signal, report_signal;
/* The run page of the vCPU this thread runs, for the kick's handler. */
static __thread struct hvx_run *volatile thread_run;

__u64 run__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void run__wake(struct hvx_runner *r)
{
	__u64 one = 1;

	if (write(r->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		perror("hvx-run: waking the main thread");
}

static void kick_vcpu(struct run_vcpu *v)
{
	if (v->started && !pthread_equal(v->thread, pthread_self()))
		pthread_kill(v->thread, KICK_SIGNAL);
}

void run__stop(struct hvx_runner *r, int status, const char *why)
{
	unsigned int i;

	if (r->stop >= 0)
		return;
	r->stop = status;
	r->stop_why = why;
	pthread_cond_broadcast(&r->wake_bsp);
	for (i = 0; i < r->cpus; i++)
		kick_vcpu(&r->vcpus[i]);
	run__wake(r);
}

/* The PIC has an interrupt: the BSP must look, if it is not this thread. */
static void kick_bsp(struct hvx_runner *r)
{
	if (r->bsp_kicked || !pic__pending(r))
		return;
	r->bsp_kicked = 1;
	pthread_cond_broadcast(&r->wake_bsp);
	kick_vcpu(&r->vcpus[0]);
}

/* ISA IRQ 0 is wired to I/O APIC pin 2, as on every PC since the APIC (and in the MP table). */
unsigned int irq__gsi(unsigned int irq)
{
	return irq ? irq : 2;
}

void irq__set(struct hvx_runner *r, unsigned int irq, int level)
{
	__u32 bit = 1U << irq;
	int ret;

	pic__set_irq(r, irq, level);
	if (r->apic && !!(r->isa_lines & bit) != !!level) {
		ret = hvx_vm_irq_line(&r->vm, irq__gsi(irq), !!level);
		if (ret)
			fprintf(stderr, "hvx-run: HVX_IRQ_LINE (pin %u, level %d): %s\n",
				irq__gsi(irq), !!level, strerror(-ret));
	}
	r->isa_lines = level ? r->isa_lines | bit : r->isa_lines & ~bit;
	kick_bsp(r);
}

void irq__pulse(struct hvx_runner *r, unsigned int irq)
{
	irq__set(r, irq, 1);
	irq__set(r, irq, 0);
}

static void kicked(int sig)
{
	(void)sig;
	if (thread_run)
		thread_run->immediate_exit = 1;
}

static void quit(int sig)
{
	quit_signal = sig;
}

static void report(int sig)
{
	(void)sig;
	report_signal = 1;
}

/* The stop and report signals go to the main thread, which unblocks them in ppoll() only. */
static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
}

static int setup_signals(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kicked;
	sigemptyset(&sa.sa_mask);
	if (sigaction(KICK_SIGNAL, &sa, NULL))
		goto error;
	sa.sa_handler = quit;
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    sigaction(SIGHUP, &sa, NULL))
		goto error;
	sa.sa_handler = report;
	if (sigaction(SIGUSR1, &sa, NULL))
		goto error;
	/* A closed console must not kill hvx-run before it restores the terminal. */
	signal(SIGPIPE, SIG_IGN);
	stop_signals(&set);
	sigaddset(&set, KICK_SIGNAL);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		goto error;
	return 0;

error:
	fprintf(stderr, "hvx-run: setting up signals: %s\n", strerror(errno));
	return -1;
}

static void report_internal(const struct hvx_run *run, unsigned int id)
{
	static const char *const suberrors[] = {
		[HVX_INTERNAL_UNKNOWN_EXIT] = "unknown exit (data[0]: vendor exit code)",
		[HVX_INTERNAL_FETCH] = "cannot fetch the instruction of an MMIO access (data: gva, gpa)",
		[HVX_INTERNAL_STRING_IO] = "string I/O buffer outside guest RAM (data[0]: gva)",
		[HVX_INTERNAL_MEMORY] = "cannot pin guest memory (data[0]: gpa)",
		[HVX_INTERNAL_PT_WALK] = "guest page tables outside RAM (data[0]: gpa)",
		[HVX_INTERNAL_APIC_ACCESS] = "APIC page access the kernel cannot emulate (data: gva, gpa)",
	};
	__u32 sub = run->internal.suberror, i, n = run->internal.ndata;
	const char *what = sub < sizeof(suberrors) / sizeof(suberrors[0]) && suberrors[sub] ?
			   suberrors[sub] : "unknown suberror";

	fprintf(stderr, "hvx-run: vCPU %u: internal error at rip 0x%llx: suberror %u, %s", id,
		(unsigned long long)run->rip, sub, what);
	if (n > 8)
		n = 8;
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s0x%llx", i ? ", " : "; data: ",
			(unsigned long long)run->internal.data[i]);
	fputc('\n', stderr);
}

static void trace_exit(const struct hvx_run *run, unsigned int id)
{
	__u32 v = 0;

	fprintf(stderr, "hvx-run: vCPU %u: exit %s at rip 0x%llx", id,
		hvx_exit_name(run->exit_reason), (unsigned long long)run->rip);
	switch (run->exit_reason) {
	case HVX_EXIT_IO:
		if (run->io.size <= sizeof(v))
			memcpy(&v, run->io_data, run->io.size);
		fprintf(stderr, ": %s port 0x%x size %u count %u%s",
			run->io.direction == HVX_IO_OUT ? "OUT" : "IN", run->io.port,
			run->io.size, run->io.count, run->io.string ? " string" : "");
		if (run->io.direction == HVX_IO_OUT)
			fprintf(stderr, " data 0x%x", v);
		break;
	case HVX_EXIT_MMIO:
		fprintf(stderr, ": %s gpa 0x%llx, %u instruction bytes",
			run->mmio.is_write ? "write" : "read", (unsigned long long)run->mmio.gpa,
			run->mmio.insn_len);
		break;
	case HVX_EXIT_MSR:
		fprintf(stderr, ": %s 0x%x", run->msr.is_write ? "wrmsr" : "rdmsr", run->msr.index);
		break;
	}
	fputc('\n', stderr);
}

/* Keeps a step of the run loop; a repeat of the last one only counts. */
static void record(struct run_vcpu *v, __u32 what, __u32 arg, __u64 rip)
{
	const struct hvx_run *run = v->vcpu.run;
	struct run_event *e = &v->hist[(v->hist_next - 1) % RUN_HISTORY];

	if (!v->hist_next || e->what != what || e->arg != arg || e->rip != rip ||
	    e->if_flag != run->if_flag || e->ready != run->ready_for_interrupt) {
		e = &v->hist[v->hist_next++ % RUN_HISTORY];
		e->what = what;
		e->arg = arg;
		e->rip = rip;
		e->count = 0;
		e->if_flag = run->if_flag;
		e->ready = run->ready_for_interrupt;
	}
	e->count++;
	e->ns = run__now_ns();
}

static void record_exit(struct run_vcpu *v)
{
	const struct hvx_run *run = v->vcpu.run;
	__u32 arg = 0;

	switch (run->exit_reason) {
	case HVX_EXIT_IO:
		arg = run->io.port | (run->io.direction == HVX_IO_OUT ? 0x10000 : 0);
		break;
	case HVX_EXIT_MMIO:
		arg = (__u32)run->mmio.gpa;
		break;
	case HVX_EXIT_MSR:
		arg = run->msr.index;
		break;
	}
	record(v, run->exit_reason, arg, run->rip);
}

/*
 * The guest-physical address of a linear address as the guest's paging
 * mode maps it (libhvx's walker); -1 if not mapped or the tables are
 * outside guest RAM.  For the state report only.
 */
static __u64 report_gpa(const struct hvx_runner *r, const struct hvx_cregs *c, __u64 va)
{
	__u64 gpa;

	return hvx_guest_translate(r->mem, r->mem_size, c, va, &gpa) ? ~0ULL : gpa;
}

/* len bytes of guest memory at linear address va, in hex; "?" where unmapped. */
static void report_bytes(const struct hvx_runner *r, const struct hvx_cregs *c, __u64 va,
			 unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++) {
		__u64 gpa = report_gpa(r, c, va + i);

		if (gpa < r->mem_size)
			fprintf(stderr, " %02x", ((__u8 *)r->mem)[gpa]);
		else
			fprintf(stderr, " ?");
	}
	fputc('\n', stderr);
}

static const char *const mp_states[] = { "runnable", "halted", "wait-for-sipi" };

/* The local APIC's state, one line: what a stuck guest's interrupts look like. */
static void report_apic(struct run_vcpu *v)
{
	struct hvx_lapic_state ls;
	struct hvx_vcpu_state st;
	const __u32 *reg = ls.regs;
	unsigned int i;
	int ret;

	memset(&st, 0, sizeof(st));
	st.lapic = (__u64)(unsigned long)&ls;
	ret = hvx_vcpu_get_state(&v->vcpu, &st, HVX_STATE_LAPIC);
	if (ret) {
		fprintf(stderr, "hvx-run: vCPU %u: apic: HVX_GET_STATE: %s\n", v->id,
			strerror(-ret));
		return;
	}
	fprintf(stderr, "hvx-run: vCPU %u: apic %s base 0x%llx %s id 0x%x tpr 0x%x ppr 0x%x svr 0x%x esr 0x%x lvt-timer 0x%x lint0 0x%x lint1 0x%x",
		v->id, ls.mp_state < 3 ? mp_states[ls.mp_state] : "?",
		(unsigned long long)(ls.apic_base & ~0xfffULL),
		!(ls.apic_base & (1 << 11)) ? "disabled" : ls.apic_base & (1 << 10) ? "x2apic" :
		"xapic", reg[0x20 >> 2], reg[0x80 >> 2], reg[0xa0 >> 2], reg[0xf0 >> 2],
		reg[0x280 >> 2], reg[0x320 >> 2], reg[0x350 >> 2], reg[0x360 >> 2]);
	fprintf(stderr, " count %u/%u", reg[0x390 >> 2], reg[0x380 >> 2]);
	if (ls.tsc_deadline)
		fprintf(stderr, " deadline 0x%llx", (unsigned long long)ls.tsc_deadline);
	/* ISR and IRR, highest word first, where not zero. */
	for (i = 8; i-- > 0;)
		if (reg[(0x100 + 0x10 * i) >> 2] || reg[(0x200 + 0x10 * i) >> 2])
			fprintf(stderr, " isr[%u] 0x%08x irr[%u] 0x%08x", i,
				reg[(0x100 + 0x10 * i) >> 2], i, reg[(0x200 + 0x10 * i) >> 2]);
	fputc('\n', stderr);
}

/*
 * One vCPU's part of the state report (SIGUSR1): its registers, code and
 * stack, the kernel's event queue, its APIC, and its last steps; printed
 * by its own thread at its next stop, under the lock.
 */
static void report_vcpu(struct run_vcpu *v)
{
	struct hvx_runner *r = v->r;
	struct hvx_run *run = v->vcpu.run;
	struct hvx_vcpu_state st;
	__u64 now = run__now_ns();
	unsigned int i, n;
	int ret;

	console__flush(r);
	memset(&st, 0, sizeof(st));
	ret = hvx_vcpu_get_state(&v->vcpu, &st, HVX_STATE_REGS | HVX_STATE_CREGS |
				 HVX_STATE_EVENTS);
	if (ret) {
		fprintf(stderr, "hvx-run: vCPU %u: state: HVX_GET_STATE: %s\n", v->id,
			strerror(-ret));
	} else {
		fprintf(stderr, "hvx-run: vCPU %u: rip 0x%llx rflags 0x%llx rsp 0x%llx cr3 0x%llx; kernel events 0x%x (irq vector 0x%x, exception %u)\n",
			v->id, (unsigned long long)st.regs.rip, (unsigned long long)st.regs.rflags,
			(unsigned long long)st.regs.rsp, (unsigned long long)st.cregs.cr3,
			st.events.flags, st.events.irq_vector, st.events.exception_vector);
		fprintf(stderr, "hvx-run: vCPU %u: code at rip:", v->id);
		report_bytes(r, &st.cregs, st.regs.rip, 16);
		fprintf(stderr, "hvx-run: vCPU %u: stack at rsp:", v->id);
		report_bytes(r, &st.cregs, st.regs.rsp, 64);
	}
	if (r->apic)
		report_apic(v);
	fprintf(stderr, "hvx-run: vCPU %u: halted %d stopped %d ready %d request_interrupt_window %u; HVX_RUN %llu (EINTR %llu), injected %llu\n",
		v->id, v->halted, v->stopped, v->ready, run->request_interrupt_window, v->runs,
		v->eintr, v->injected);
	n = v->hist_next < RUN_HISTORY ? v->hist_next : RUN_HISTORY;
	fprintf(stderr, "hvx-run: vCPU %u: last %u steps, oldest first (us before now):\n",
		v->id, n);
	for (i = v->hist_next - n; i != v->hist_next; i++) {
		const struct run_event *e = &v->hist[i % RUN_HISTORY];
		const char *what = e->what == RUN_EV_INJECT ? "inject" :
				   e->what == RUN_EV_EINTR ? "EINTR" :
				   e->what == RUN_EV_SLEEP ? "sleep" : hvx_exit_name(e->what);

		fprintf(stderr, "hvx-run:   -%llu %s 0x%x rip 0x%llx if %u ready %u, %u time%s\n",
			(unsigned long long)(now - e->ns) / 1000, what, e->arg,
			(unsigned long long)e->rip, e->if_flag, e->ready, e->count,
			e->count == 1 ? "" : "s");
	}
}

static void report_pic(const char *name, const struct pic *p)
{
	fprintf(stderr, " %s irr 0x%02x isr 0x%02x imr 0x%02x base 0x%02x%s%s", name, p->irr,
		p->isr, p->imr, p->irq_base, p->auto_eoi ? " auto-eoi" : "",
		p->init_state ? " (initializing)" : "");
}

/* The devices' part of the state report, by the main thread. */
static void report_devices(struct hvx_runner *r)
{
	const struct pit_channel *c = &r->pit.ch[0];
	struct hvx_ioapic_state io;
	__u64 now = run__now_ns();
	unsigned int i;

	console__flush(r);
	fprintf(stderr, "hvx-run: state: %u vCPU%s, APIC %s\n", r->cpus, r->cpus == 1 ? "" : "s",
		r->apic ? "in the kernel" : "none");
	fprintf(stderr, "hvx-run: state: pic");
	report_pic("master", &r->pic.pic[0]);
	report_pic("slave", &r->pic.pic[1]);
	fprintf(stderr, ", pending %d\n", pic__pending(r));
	fprintf(stderr, "hvx-run: state: pit mode %u count %u armed %u, next irq %s%lld us\n",
		c->mode, c->count, c->armed, c->next_irq_ns ? "in " : "none ",
		c->next_irq_ns ? (long long)(c->next_irq_ns - now) / 1000 : 0);
	if (!r->apic)
		return;
	memset(&io, 0, sizeof(io));
	if (ioctl(r->vm.fd, HVX_GET_IOAPIC, &io)) {
		fprintf(stderr, "hvx-run: state: HVX_GET_IOAPIC: %s\n", strerror(errno));
		return;
	}
	fprintf(stderr, "hvx-run: state: ioapic id %u lines 0x%06x; unmasked pins:", io.id,
		io.lines);
	for (i = 0; i < 24; i++)
		if (!(io.rte[i] & (1 << 16)))
			fprintf(stderr, " %u=0x%llx", i, (unsigned long long)io.rte[i]);
	fputc('\n', stderr);
}

/*
 * A HLT in the shadow of an STI (the "sti; hlt" idiom) exits with the
 * shadow still recorded, though the HLT it covered is complete: the kernel
 * moved RIP past it.  Left in place, the shadow would cover the next
 * instruction too, and a guest that disables interrupts right after its
 * HLT ("sti; hlt; cli") would never take one.  Ends the shadow through
 * HVX_STATE_EVENTS; returns 1 if an interrupt can be injected now (nothing
 * else queued in the kernel), 0 if not, -1 on error.
 */
static int end_hlt_shadow(struct run_vcpu *v)
{
	struct hvx_vcpu_state st;
	int ret;

	memset(&st, 0, sizeof(st));
	ret = hvx_vcpu_get_state(&v->vcpu, &st, HVX_STATE_EVENTS);
	if (!ret && (st.events.flags & HVX_EVENTS_SHADOW)) {
		st.events.flags &= ~HVX_EVENTS_SHADOW;
		ret = hvx_vcpu_set_state(&v->vcpu, &st, HVX_STATE_EVENTS);
	}
	if (ret) {
		fprintf(stderr, "hvx-run: ending the interrupt shadow after HLT (HVX_GET_STATE/HVX_SET_STATE of EVENTS): %s\n",
			strerror(-ret));
		return -1;
	}
	return !(st.events.flags & (HVX_EVENTS_IRQ | HVX_EVENTS_NMI | HVX_EVENTS_EXCEPTION));
}

/*
 * The BSP delivers the PIC's interrupt if the guest can take it now (ready
 * says so), or asks for a window.  Returns 0 or -1.
 */
static int deliver(struct run_vcpu *v)
{
	struct hvx_runner *r = v->r;
	struct hvx_run *run = v->vcpu.run;
	unsigned int vector;
	int ret;

	r->bsp_kicked = 0;
	if (!pic__pending(r)) {
		run->request_interrupt_window = 0;
		return 0;
	}
	if (!v->ready) {
		run->request_interrupt_window = 1;
		return 0;
	}
	vector = pic__ack(r);
	ret = hvx_vcpu_inject(&v->vcpu, HVX_EVENT_EXTINT, vector, 0, 0);
	if (ret) {
		fprintf(stderr, "hvx-run: HVX_INJECT_EVENT (vector %u): %s\n", vector,
			strerror(-ret));
		return -1;
	}
	v->injected++;
	v->ready = 0;
	record(v, RUN_EV_INJECT, vector, 0);
	run->request_interrupt_window = pic__pending(r);
	return 0;
}

/*
 * Every vCPU halted with interrupts off, or an AP still waiting for its
 * SIPI: the guest stopped for good.  Asks the vCPUs not known to be
 * stopped to look at their APIC's state (probe_stopped()).
 */
static int all_stopped(struct hvx_runner *r)
{
	unsigned int i;
	int all = 1;

	for (i = 0; i < r->cpus; i++) {
		struct run_vcpu *v = &r->vcpus[i];

		if (v->stopped)
			continue;
		all = 0;
		if (r->apic && !v->probe) {
			v->probe = 1;
			kick_vcpu(v);
		}
	}
	return all;
}

static int guest_stopped(struct run_vcpu *v)
{
	struct hvx_runner *r = v->r;

	console__flush(r);
	if (r->verbose)
		fprintf(stderr, "hvx-run: guest halted with interrupts off at rip 0x%llx%s\n",
			(unsigned long long)v->vcpu.run->rip,
			r->cpus > 1 ? " (every vCPU halted or never started)" : "");
	return 0;
}

/*
 * Another vCPU stopped: is this one an AP that never got its SIPI?  Then
 * only a vCPU that is running could start it.
 * Returns 0 if the guest stopped, else -1.
 */
static int probe_stopped(struct run_vcpu *v)
{
	struct hvx_lapic_state ls;
	struct hvx_vcpu_state st;

	v->probe = 0;
	memset(&st, 0, sizeof(st));
	st.lapic = (__u64)(unsigned long)&ls;
	if (hvx_vcpu_get_state(&v->vcpu, &st, HVX_STATE_LAPIC))
		return -1;
	if (ls.mp_state != HVX_MP_WAIT_SIPI)
		return -1;
	v->stopped = 1;
	return all_stopped(v->r) ? guest_stopped(v) : -1;
}

/*
 * Handles one exit of vCPU v, under the lock.  Returns -1 to go on, or
 * hvx-run's exit status.
 */
static int handle_exit(struct run_vcpu *v)
{
	struct hvx_runner *r = v->r;
	struct hvx_run *run = v->vcpu.run;
	unsigned int n = sizeof(r->exits) / sizeof(r->exits[0]);
	char msg[256];
	int ret;

	record_exit(v);
	r->exits[run->exit_reason < n - 1 ? run->exit_reason : n - 1]++;
	if (r->trace) {
		r->trace--;
		trace_exit(run, v->id);
	}
	if (run->exit_reason != HVX_EXIT_HLT)
		v->stopped = 0;

	switch (run->exit_reason) {
	case HVX_EXIT_IO:
		io__exit(r, run);
		break;
	case HVX_EXIT_MMIO:
		ret = hvx_mmio_complete_ram(&v->vcpu, io__mmio, r, r->mem, r->mem_size, msg,
					    sizeof(msg));
		if (ret == -EINVAL) {
			console__flush(r);
			fprintf(stderr, "hvx-run: %s", msg);
			if (r->cpus > 1)
				fprintf(stderr, " (vCPU %u)", v->id);
			fputc('\n', stderr);
			return HVX_RUN_EXIT_VM_ERROR;
		}
		if (ret) {
			fprintf(stderr, "hvx-run: completing MMIO at gpa 0x%llx (rip 0x%llx): %s\n",
				(unsigned long long)run->mmio.gpa, (unsigned long long)run->rip,
				strerror(-ret));
			return HVX_RUN_EXIT_HOST;
		}
		break;
	case HVX_EXIT_HLT:
		/*
		 * With interrupts off nothing here can wake the vCPU: no device
		 * raises an NMI.  That is how a guest stops for good (Linux's
		 * halt and power-off without ACPI, a test's final cli; hlt),
		 * once every vCPU has.  With the APIC in the kernel only such a
		 * HLT exits, and the next HVX_RUN waits there for an NMI or
		 * INIT from another vCPU.
		 */
		if (!run->if_flag) {
			v->stopped = 1;
			if (!all_stopped(r))
				break;
			return guest_stopped(v);
		}
		v->halted = 1;
		if (!v->ready) {
			v->ready = end_hlt_shadow(v);
			if (v->ready < 0)
				return HVX_RUN_EXIT_HOST;
		}
		break;
	case HVX_EXIT_SHUTDOWN:
		console__flush(r);
		fprintf(stderr, "hvx-run: guest shut down (triple fault) at rip 0x%llx%s\n",
			(unsigned long long)run->rip, r->cpus > 1 ? " on a vCPU" : "");
		return HVX_RUN_EXIT_SHUTDOWN;
	case HVX_EXIT_HYPERCALL:
		/* No hypercalls defined yet: return -1 to the guest. */
		run->hypercall.ret = ~0ULL;
		break;
	case HVX_EXIT_MSR:
		msr__exit(r, run);
		break;
	case HVX_EXIT_IRQ_WINDOW:
	case HVX_EXIT_INTR:
	case HVX_EXIT_NONE:
		break;
	case HVX_EXIT_FAIL_ENTRY:
		console__flush(r);
		fprintf(stderr, "hvx-run: vCPU %u: VM entry failed at rip 0x%llx on host CPU %u: hardware reason 0x%llx\n",
			v->id, (unsigned long long)run->rip, run->fail_entry.cpu,
			(unsigned long long)run->fail_entry.hardware_reason);
		return HVX_RUN_EXIT_VM_ERROR;
	case HVX_EXIT_INTERNAL_ERROR:
		console__flush(r);
		report_internal(run, v->id);
		return HVX_RUN_EXIT_VM_ERROR;
	default:
		console__flush(r);
		fprintf(stderr, "hvx-run: vCPU %u: unknown exit reason %u at rip 0x%llx\n", v->id,
			run->exit_reason, (unsigned long long)run->rip);
		return HVX_RUN_EXIT_VM_ERROR;
	}
	return -1;
}

/* One vCPU's loop, with the lock held but for HVX_RUN.  Returns an exit status, or -1. */
static int vcpu_loop(struct run_vcpu *v)
{
	struct hvx_runner *r = v->r;
	struct hvx_run *run = v->vcpu.run;
	int ret, status;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		/* Before the checks below: a kick from now on ends the next HVX_RUN. */
		run->immediate_exit = 0;
		if (r->stop >= 0)
			break;
		if (v->report) {
			v->report = 0;
			report_vcpu(v);
		}
		if (v->probe && !v->stopped) {
			status = probe_stopped(v);
			if (status >= 0) {
				run__stop(r, status, NULL);
				break;
			}
		}
		if (v->halted) {
			/* HLT without an APIC here: nothing runs until the PIC has an interrupt. */
			if (!pic__pending(r) && !v->report) {
				record(v, RUN_EV_SLEEP, 0, 0);
				pthread_cond_wait(&r->wake_bsp, &r->lock);
				continue;
			}
			if (pic__pending(r))
				v->halted = 0;
		}
		if (v->id == 0 && deliver(v)) {
			run__stop(r, HVX_RUN_EXIT_HOST, NULL);
			break;
		}
		pthread_mutex_unlock(&r->lock);

		/* An HVX_RUN that a kick ends before entry leaves it as it is. */
		run->ready_for_interrupt = 0;
		ret = hvx_vcpu_run(&v->vcpu);

		pthread_mutex_lock(&r->lock);
		v->runs++;
		v->ready = run->ready_for_interrupt;
		if (ret == -EINTR) {
			v->eintr++;
			record(v, RUN_EV_EINTR, 0, run->rip);
			continue;
		}
		if (ret) {
			fprintf(stderr, "hvx-run: vCPU %u: HVX_RUN: %s\n", v->id, strerror(-ret));
			run__stop(r, HVX_RUN_EXIT_HOST, NULL);
			break;
		}
		status = handle_exit(v);
		if (status >= 0) {
			run__stop(r, status, NULL);
			break;
		}
		/* An AP's exit may have given the PIC an interrupt for the BSP. */
		if (v->id)
			kick_bsp(r);
	}
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static void *vcpu_thread(void *arg)
{
	struct run_vcpu *v = arg;
	sigset_t set;

	thread_run = v->vcpu.run;
	sigemptyset(&set);
	sigaddset(&set, KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	vcpu_loop(v);
	thread_run = NULL;
	return NULL;
}

/* Brings the devices up to now; returns the next deadline (0: none). */
static __u64 update_devices(struct hvx_runner *r)
{
	r->now_ns = run__now_ns();
	uart__poll(r);
	return pit__update(r, r->now_ns);
}

/*
 * The main thread: the devices' clock and the console's input, and the
 * stop and report signals, until the run stops.  It sleeps in ppoll()
 * until the next device deadline, console input, a wake from a vCPU thread
 * or a signal; the signals stay blocked but there, so one that lands
 * between the checks and ppoll() still wakes it.
 */
static void main_loop(struct hvx_runner *r)
{
	struct pollfd pfd[2] = {
		{ .fd = r->con.in_fd, .events = POLLIN },
		{ .fd = r->wake_fd, .events = POLLIN },
	};
	struct timespec ts, *tsp;
	sigset_t unblocked;
	__u64 deadline, now, d;
	unsigned int i;

	pthread_sigmask(SIG_SETMASK, NULL, &unblocked);
	sigdelset(&unblocked, SIGINT);
	sigdelset(&unblocked, SIGTERM);
	sigdelset(&unblocked, SIGHUP);
	sigdelset(&unblocked, SIGUSR1);
	pthread_mutex_lock(&r->lock);
	for (;;) {
		if (quit_signal && r->stop < 0) {
			console__flush(r);
			fprintf(stderr, "\r\nhvx-run: %s: stopping the guest\n",
				strsignal(quit_signal));
			r->quit_signal = quit_signal;
			run__stop(r, 128 + quit_signal, NULL);
		}
		if (r->stop >= 0)
			break;
		if (report_signal) {
			report_signal = 0;
			report_devices(r);
			for (i = 0; i < r->cpus; i++) {
				r->vcpus[i].report = 1;
				kick_vcpu(&r->vcpus[i]);
			}
			pthread_cond_broadcast(&r->wake_bsp);
		}
		deadline = update_devices(r);
		console__flush(r);
		/* With the console's input full or gone, it cannot wake us. */
		pfd[0].fd = r->con.eof || r->uart.rx_count == UART_FIFO ? -1 : r->con.in_fd;
		pthread_mutex_unlock(&r->lock);

		tsp = NULL;
		if (deadline) {
			now = run__now_ns();
			d = deadline > now ? deadline - now : 0;
			ts.tv_sec = d / 1000000000ULL;
			ts.tv_nsec = d % 1000000000ULL;
			tsp = &ts;
		}
		if (!quit_signal && !report_signal)
			ppoll(pfd, 2, tsp, &unblocked);
		if (pfd[1].revents & POLLIN) {
			__u64 n;

			if (read(r->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
				perror("hvx-run: reading the wake eventfd");
		}
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
}

int vcpu__run(struct hvx_runner *r)
{
	unsigned int i;
	int ret;

	if (setup_signals())
		return HVX_RUN_EXIT_HOST;
	r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->wake_fd < 0) {
		fprintf(stderr, "hvx-run: eventfd: %s\n", strerror(errno));
		return HVX_RUN_EXIT_HOST;
	}
	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->cpus; i++) {
		struct run_vcpu *v = &r->vcpus[i];

		ret = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (ret) {
			fprintf(stderr, "hvx-run: creating the thread of vCPU %u: %s\n", i,
				strerror(ret));
			run__stop(r, HVX_RUN_EXIT_HOST, NULL);
			break;
		}
		v->started = 1;
	}
	pthread_mutex_unlock(&r->lock);
	main_loop(r);
	for (i = 0; i < r->cpus; i++) {
		if (r->vcpus[i].started)
			pthread_join(r->vcpus[i].thread, NULL);
		r->vcpus[i].started = 0;
	}
	close(r->wake_fd);
	if (r->stop_why && r->verbose)
		fprintf(stderr, "hvx-run: %s\n", r->stop_why);
	return r->stop;
}
