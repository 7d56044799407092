// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run's vCPU loop.  One thread runs the vCPU and every device, so the
 * devices need no locks.  Time reaches it through a POSIX timer armed at
 * the next device deadline: its signal sets run->immediate_exit, so HVX_RUN
 * returns EINTR whether the signal lands inside the ioctl or just before it
 * (api.rst, HVX_RUN).  Console input is polled at each such stop and when
 * the guest reads the UART.  The PIC's interrupt goes in with
 * HVX_INJECT_EVENT when the guest can take it, otherwise an interrupt
 * window is requested (api.rst, "Interrupt windows").  A halted vCPU
 * sleeps in ppoll() until its next interrupt is due or input arrives.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hvx-run.h"
#include "decode.h"

#define RUN_SIGNAL	SIGALRM

static volatile sig_atomic_t quit_signal, report_signal;
/* The run page of the one vCPU, for the signal handlers. */
static struct hvx_run *volatile kick_run;

__u64 run__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void run__stop(struct hvx_runner *r, int status, const char *why)
{
	if (r->stop >= 0)
		return;
	r->stop = status;
	if (why && r->verbose)
		fprintf(stderr, "hvx-run: %s\n", why);
}

static void kick(int sig)
{
	(void)sig;
	if (kick_run)
		kick_run->immediate_exit = 1;
}

static void quit(int sig)
{
	quit_signal = sig;
	kick(sig);
}

static void report(int sig)
{
	report_signal = 1;
	kick(sig);
}

static int setup_signals(struct hvx_runner *r)
{
	struct sigaction sa;
	struct sigevent sev;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick;
	sigemptyset(&sa.sa_mask);
	if (sigaction(RUN_SIGNAL, &sa, NULL))
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

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = RUN_SIGNAL;
	if (timer_create(CLOCK_MONOTONIC, &sev, &r->timer))
		goto error;
	kick_run = r->vcpu.run;
	return 0;

error:
	fprintf(stderr, "hvx-run: setting up the timer signal: %s\n", strerror(errno));
	return -1;
}

static void arm_timer(struct hvx_runner *r, __u64 deadline)
{
	struct itimerspec its;

	if (deadline == r->timer_armed_ns)
		return;
	memset(&its, 0, sizeof(its));
	if (deadline) {
		its.it_value.tv_sec = deadline / 1000000000ULL;
		its.it_value.tv_nsec = deadline % 1000000000ULL;
	}
	timer_settime(r->timer, TIMER_ABSTIME, &its, NULL);
	r->timer_armed_ns = deadline;
}

/* Brings the devices up to now; returns the next deadline (0: none). */
static __u64 update_devices(struct hvx_runner *r)
{
	r->now_ns = run__now_ns();
	uart__poll(r);
	return pit__update(r, r->now_ns);
}

/*
 * Sleeps until the next device deadline, console input or a signal.  The
 * signals stay blocked from the check of quit_signal until ppoll() takes
 * the old mask, so a SIGTERM that lands in between still wakes it.
 */
static void wait_for_event(struct hvx_runner *r, __u64 deadline)
{
	struct pollfd pfd = { .fd = r->con.in_fd, .events = POLLIN };
	struct timespec ts, *tsp = NULL;
	__u64 now = run__now_ns(), d;
	sigset_t block, old;

	console__flush(r);
	if (deadline) {
		d = deadline > now ? deadline - now : 0;
		ts.tv_sec = d / 1000000000ULL;
		ts.tv_nsec = d % 1000000000ULL;
		tsp = &ts;
	}
	/* With the console's input full or gone, only the clock can wake us. */
	if (r->con.eof || r->uart.rx_count == UART_FIFO)
		pfd.fd = -1;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (!quit_signal && !report_signal)
		ppoll(&pfd, 1, tsp, &old);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void report_internal(const struct hvx_run *run)
{
	static const char *const suberrors[] = {
		[HVX_INTERNAL_UNKNOWN_EXIT] = "unknown exit (data[0]: vendor exit code)",
		[HVX_INTERNAL_FETCH] = "cannot fetch the instruction of an MMIO access (data: gva, gpa)",
		[HVX_INTERNAL_STRING_IO] = "string I/O buffer outside guest RAM (data[0]: gva)",
		[HVX_INTERNAL_MEMORY] = "cannot pin guest memory (data[0]: gpa)",
		[HVX_INTERNAL_PT_WALK] = "guest page tables outside RAM (data[0]: gpa)",
	};
	__u32 sub = run->internal.suberror, i, n = run->internal.ndata;
	const char *what = sub < sizeof(suberrors) / sizeof(suberrors[0]) && suberrors[sub] ?
			   suberrors[sub] : "unknown suberror";

	fprintf(stderr, "hvx-run: internal error at rip 0x%llx: suberror %u, %s",
		(unsigned long long)run->rip, sub, what);
	if (n > 8)
		n = 8;
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s0x%llx", i ? ", " : "; data: ",
			(unsigned long long)run->internal.data[i]);
	fputc('\n', stderr);
}

static void trace_exit(const struct hvx_run *run)
{
	__u32 v = 0;

	fprintf(stderr, "hvx-run: exit %s at rip 0x%llx", hvx_exit_name(run->exit_reason),
		(unsigned long long)run->rip);
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
static void record(struct hvx_runner *r, __u32 what, __u32 arg, __u64 rip)
{
	const struct hvx_run *run = r->vcpu.run;
	struct run_event *e = &r->hist[(r->hist_next - 1) % RUN_HISTORY];

	if (!r->hist_next || e->what != what || e->arg != arg || e->rip != rip ||
	    e->if_flag != run->if_flag || e->ready != run->ready_for_interrupt) {
		e = &r->hist[r->hist_next++ % RUN_HISTORY];
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

static void record_exit(struct hvx_runner *r)
{
	const struct hvx_run *run = r->vcpu.run;
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
	record(r, run->exit_reason, arg, run->rip);
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

static void report_pic(const char *name, const struct pic *p)
{
	fprintf(stderr, " %s irr 0x%02x isr 0x%02x imr 0x%02x base 0x%02x%s%s", name, p->irr,
		p->isr, p->imr, p->irq_base, p->auto_eoi ? " auto-eoi" : "",
		p->init_state ? " (initializing)" : "");
}

/*
 * The state report (SIGUSR1): what the guest, the kernel's event queue,
 * the PIC, the PIT and the run loop look like now, and the run loop's last
 * steps, on stderr.  For a guest that stopped making progress.
 */
static void report_state(struct hvx_runner *r)
{
	const struct pit_channel *c = &r->pit.ch[0];
	struct hvx_run *run = r->vcpu.run;
	struct hvx_vcpu_state st;
	__u64 now = run__now_ns();
	unsigned int i, n;
	int ret;

	console__flush(r);
	memset(&st, 0, sizeof(st));
	ret = hvx_vcpu_get_state(&r->vcpu, &st, HVX_STATE_REGS | HVX_STATE_CREGS |
				 HVX_STATE_EVENTS);
	if (ret) {
		fprintf(stderr, "hvx-run: state: HVX_GET_STATE: %s\n", strerror(-ret));
	} else {
		fprintf(stderr, "hvx-run: state: rip 0x%llx rflags 0x%llx rsp 0x%llx cr3 0x%llx; kernel events 0x%x (irq vector 0x%x, exception %u)\n",
			(unsigned long long)st.regs.rip, (unsigned long long)st.regs.rflags,
			(unsigned long long)st.regs.rsp, (unsigned long long)st.cregs.cr3,
			st.events.flags, st.events.irq_vector, st.events.exception_vector);
		fprintf(stderr, "hvx-run: state: code at rip:");
		report_bytes(r, &st.cregs, st.regs.rip, 16);
		fprintf(stderr, "hvx-run: state: stack at rsp:");
		report_bytes(r, &st.cregs, st.regs.rsp, 64);
	}
	fprintf(stderr, "hvx-run: state: halted %d ready %d request_interrupt_window %u; HVX_RUN %llu (EINTR %llu), injected %llu\n",
		r->halted, r->ready, run->request_interrupt_window, r->runs, r->eintr,
		r->injected);
	fprintf(stderr, "hvx-run: state: pic");
	report_pic("master", &r->pic.pic[0]);
	report_pic("slave", &r->pic.pic[1]);
	fprintf(stderr, ", pending %d\n", pic__pending(r));
	fprintf(stderr, "hvx-run: state: pit mode %u count %u armed %u, next irq %s%lld us\n",
		c->mode, c->count, c->armed, c->next_irq_ns ? "in " : "none ",
		c->next_irq_ns ? (long long)(c->next_irq_ns - now) / 1000 : 0);
	n = r->hist_next < RUN_HISTORY ? r->hist_next : RUN_HISTORY;
	fprintf(stderr, "hvx-run: state: last %u steps, oldest first (us before now):\n", n);
	for (i = r->hist_next - n; i != r->hist_next; i++) {
		const struct run_event *e = &r->hist[i % RUN_HISTORY];
		const char *what = e->what == RUN_EV_INJECT ? "inject" :
				   e->what == RUN_EV_EINTR ? "EINTR" :
				   e->what == RUN_EV_SLEEP ? "sleep" : hvx_exit_name(e->what);

		fprintf(stderr, "hvx-run:   -%llu %s 0x%x rip 0x%llx if %u ready %u, %u time%s\n",
			(unsigned long long)(now - e->ns) / 1000, what, e->arg,
			(unsigned long long)e->rip, e->if_flag, e->ready, e->count,
			e->count == 1 ? "" : "s");
	}
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
static int end_hlt_shadow(struct hvx_runner *r)
{
	struct hvx_vcpu_state st;
	int ret;

	memset(&st, 0, sizeof(st));
	ret = hvx_vcpu_get_state(&r->vcpu, &st, HVX_STATE_EVENTS);
	if (!ret && (st.events.flags & HVX_EVENTS_SHADOW)) {
		st.events.flags &= ~HVX_EVENTS_SHADOW;
		ret = hvx_vcpu_set_state(&r->vcpu, &st, HVX_STATE_EVENTS);
	}
	if (ret) {
		fprintf(stderr, "hvx-run: ending the interrupt shadow after HLT (HVX_GET_STATE/HVX_SET_STATE of EVENTS): %s\n",
			strerror(-ret));
		return -1;
	}
	return !(st.events.flags & (HVX_EVENTS_IRQ | HVX_EVENTS_NMI | HVX_EVENTS_EXCEPTION));
}

/*
 * Delivers the PIC's interrupt if the guest can take it now (ready says so
 * after a completed exit), or asks for a window.  Returns 0 or -1.
 */
static int deliver(struct hvx_runner *r, int ready)
{
	struct hvx_run *run = r->vcpu.run;
	unsigned int vector;
	int ret;

	if (!pic__pending(r)) {
		run->request_interrupt_window = 0;
		return 0;
	}
	if (!ready) {
		run->request_interrupt_window = 1;
		return 0;
	}
	vector = pic__ack(r);
	ret = hvx_vcpu_inject(&r->vcpu, HVX_EVENT_EXTINT, vector, 0, 0);
	if (ret) {
		fprintf(stderr, "hvx-run: HVX_INJECT_EVENT (vector %u): %s\n", vector,
			strerror(-ret));
		return -1;
	}
	r->injected++;
	record(r, RUN_EV_INJECT, vector, 0);
	run->request_interrupt_window = pic__pending(r);
	return 0;
}

static int run_loop(struct hvx_runner *r)
{
	struct hvx_run *run = r->vcpu.run;
	unsigned int n = sizeof(r->exits) / sizeof(r->exits[0]);
	int ret;
	__u64 deadline;
	char msg[256];

	for (;;) {
		run->immediate_exit = 0;
		deadline = update_devices(r);
		if (quit_signal) {
			console__flush(r);
			fprintf(stderr, "\r\nhvx-run: %s: stopping the guest\n",
				strsignal(quit_signal));
			r->quit_signal = quit_signal;
			return 128 + quit_signal;
		}
		if (r->stop >= 0)
			return r->stop;
		if (report_signal) {
			report_signal = 0;
			report_state(r);
		}
		if (r->halted) {
			/* HLT: nothing runs until an interrupt is due (api.rst 9.). */
			if (!pic__pending(r)) {
				record(r, RUN_EV_SLEEP, 0, 0);
				wait_for_event(r, deadline);
				continue;
			}
			r->halted = 0;
		}
		if (deliver(r, r->ready))
			return HVX_RUN_EXIT_HOST;
		arm_timer(r, deadline);

		ret = hvx_vcpu_run(&r->vcpu);
		r->runs++;
		r->ready = 0;
		if (ret == -EINTR) {
			r->eintr++;
			record(r, RUN_EV_EINTR, 0, run->rip);
			console__flush(r);
			continue;
		}
		if (ret) {
			fprintf(stderr, "hvx-run: HVX_RUN: %s\n", strerror(-ret));
			return HVX_RUN_EXIT_HOST;
		}
		r->ready = run->ready_for_interrupt;
		record_exit(r);
		r->exits[run->exit_reason < n - 1 ? run->exit_reason : n - 1]++;
		if (r->trace) {
			r->trace--;
			trace_exit(run);
		}

		switch (run->exit_reason) {
		case HVX_EXIT_IO:
			io__exit(r);
			break;
		case HVX_EXIT_MMIO:
			ret = hvx_mmio_complete_ram(&r->vcpu, io__mmio, r, r->mem, r->mem_size, msg,
						    sizeof(msg));
			if (ret == -EINVAL) {
				console__flush(r);
				fprintf(stderr, "hvx-run: %s\n", msg);
				return HVX_RUN_EXIT_VM_ERROR;
			}
			if (ret) {
				fprintf(stderr, "hvx-run: completing MMIO at gpa 0x%llx (rip 0x%llx): %s\n",
					(unsigned long long)run->mmio.gpa,
					(unsigned long long)run->rip, strerror(-ret));
				return HVX_RUN_EXIT_HOST;
			}
			break;
		case HVX_EXIT_HLT:
			/*
			 * With interrupts off nothing can wake the vCPU: no
			 * device here raises an NMI.  That is how a guest
			 * stops for good (Linux's halt and power-off without
			 * ACPI, a test's final cli; hlt).
			 */
			if (!run->if_flag) {
				console__flush(r);
				if (r->verbose)
					fprintf(stderr, "hvx-run: guest halted with interrupts off at rip 0x%llx\n",
						(unsigned long long)run->rip);
				return 0;
			}
			r->halted = 1;
			if (!r->ready) {
				r->ready = end_hlt_shadow(r);
				if (r->ready < 0)
					return HVX_RUN_EXIT_HOST;
			}
			break;
		case HVX_EXIT_SHUTDOWN:
			console__flush(r);
			fprintf(stderr, "hvx-run: guest shut down (triple fault) at rip 0x%llx\n",
				(unsigned long long)run->rip);
			return HVX_RUN_EXIT_SHUTDOWN;
		case HVX_EXIT_HYPERCALL:
			/* No hypercalls defined yet: return -1 to the guest. */
			run->hypercall.ret = ~0ULL;
			break;
		case HVX_EXIT_MSR:
			msr__exit(r);
			break;
		case HVX_EXIT_IRQ_WINDOW:
		case HVX_EXIT_INTR:
		case HVX_EXIT_NONE:
			break;
		case HVX_EXIT_FAIL_ENTRY:
			console__flush(r);
			fprintf(stderr, "hvx-run: VM entry failed at rip 0x%llx on host CPU %u: hardware reason 0x%llx\n",
				(unsigned long long)run->rip, run->fail_entry.cpu,
				(unsigned long long)run->fail_entry.hardware_reason);
			return HVX_RUN_EXIT_VM_ERROR;
		case HVX_EXIT_INTERNAL_ERROR:
			console__flush(r);
			report_internal(run);
			return HVX_RUN_EXIT_VM_ERROR;
		default:
			console__flush(r);
			fprintf(stderr, "hvx-run: unknown exit reason %u at rip 0x%llx\n",
				run->exit_reason, (unsigned long long)run->rip);
			return HVX_RUN_EXIT_VM_ERROR;
		}
	}
}

int vcpu__run(struct hvx_runner *r)
{
	int status;

	if (setup_signals(r))
		return HVX_RUN_EXIT_HOST;
	status = run_loop(r);
	/* No more kicks: the run page goes away with the vCPU. */
	timer_delete(r->timer);
	kick_run = NULL;
	return status;
}
