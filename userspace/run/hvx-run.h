/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx-run: the launcher.  Loaders (flat, multiboot, Linux bzImage), the PC
 * platform devices it models in userspace, and the vCPU loop that ties
 * them to the hvx vCPUs.
 */
#ifndef HVX_RUN_H
#define HVX_RUN_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "libhvx.h"

/*
 * Exit statuses of hvx-run besides 0 (the guest ended) and the guest's
 * own debug-exit value, (V << 1) | 1: even, so that no guest can make
 * them.  A stop signal ends hvx-run by that signal instead.
 */
#define HVX_RUN_EXIT_USAGE	2	/* bad option, unreadable file, image does not fit */
#define HVX_RUN_EXIT_VM_ERROR	4	/* entry failure, internal error, undecodable MMIO */
#define HVX_RUN_EXIT_HOST	6	/* hvx-run could not set up or run the VM */
#define HVX_RUN_EXIT_SHUTDOWN	8	/* triple fault */

/* Guest RAM is one slot at guest-physical 0, below the PCI hole. */
#define RUN_MEM_MIN		(2ULL << 20)
#define RUN_MEM_MAX		(3ULL << 30)
#define RUN_MEM_DEFAULT		(256ULL << 20)

/* Legacy low-memory layout every loader keeps to (an e820/multiboot map says so). */
#define RUN_EBDA_START		0x9fc00ULL	/* reserved up to 1M from here ... */
#define RUN_BIOS_START		0xf0000ULL	/* ... except the VGA/option ROM hole */
#define RUN_HIGH_START		0x100000ULL

enum run_kind {
	RUN_KIND_NONE,
	RUN_KIND_FLAT,
	RUN_KIND_MULTIBOOT,
	RUN_KIND_LINUX,
};

#define RUN_MAX_MODULES		16

struct run_options {
	unsigned long long mem_size;
	unsigned int cpus;
	enum run_kind kind;
	const char *image;		/* --flat, --multiboot or --kernel */
	const char *initrd;
	const char *append;
	const char *modules[RUN_MAX_MODULES];
	unsigned int nr_modules;
	enum hvx_mode mode;		/* --entry MODE (flat) */
	unsigned long long entry;
	int have_entry;
	__u32 paging;
	int no_apic;
	int hugetlb;			/* guest RAM on hugetlbfs 2 MiB pages */
	int verbose;
	unsigned long trace;
};

/* ---- Port and MMIO dispatch ------------------------------------------------ */

struct hvx_runner;

/*
 * A device's handler for one access of size 1, 2 or 4 bytes at offset off
 * of its range.  Reads fill *val (the caller truncates to size).
 */
typedef void (*io_read_fn)(struct hvx_runner *r, void *dev, unsigned int off,
			   unsigned int size, __u32 *val);
typedef void (*io_write_fn)(struct hvx_runner *r, void *dev, unsigned int off,
			    unsigned int size, __u32 val);

struct io_range {
	const char *name;
	unsigned int base, len;
	io_read_fn read;	/* NULL: reads all-ones */
	io_write_fn write;	/* NULL: writes ignored */
	void *dev;
	unsigned long long exits;	/* port exits it took (every vCPU thread) */
};

#define RUN_MAX_IO_RANGES	24

/* ---- Devices ------------------------------------------------------------------ */

struct pic {
	__u8 irr, imr, isr, last_irr, elcr, elcr_mask;
	__u8 irq_base, priority_add, read_isr, poll, special_mask;
	__u8 init_state, init4, single, auto_eoi, rotate_aeoi, sfnm;
};

struct pic_pair {
	struct pic pic[2];	/* master at 0x20, slave at 0xa0 on IRQ 2 */
};

struct pit_channel {
	__u32 count;		/* reload value, 1..0x10000 */
	__u64 load_ns;		/* when counting started */
	__u64 next_irq_ns;	/* channel 0: next IRQ 0, 0 if none */
	__u16 latched;
	__u8 latch_state;	/* 0, or the rw mode of the latched count */
	__u8 status, status_latched;
	__u8 rw, read_state, write_state, write_lsb;
	__u8 mode, bcd, gate, armed;
};

struct pit {
	struct pit_channel ch[3];
	__u8 speaker;		/* port 0x61 bit 1 */
};

#define UART_FIFO		16

struct uart {
	__u8 ier, lcr, mcr, scr, dll, dlm, fcr;
	__u8 thr_ipending;
	__u8 rx[UART_FIFO];
	unsigned int rx_head, rx_count;
};

struct rtc {
	__u8 index;
	__u8 ram[128];
};

struct fw_cfg {
	__u16 key;
	__u32 offset;
};

struct pci_conf1 {
	__u32 address;
};

struct sysctl {
	__u8 port92, cf9;
};

struct console {
	int in_fd, out_fd;
	int raw;		/* the terminal was put in raw mode */
	int eof;		/* no more input */
	int escape;		/* last input byte was the Ctrl-A escape */
	char out[4096];
	size_t out_len;
};

/* Where and how the vCPU starts, as a loader leaves it. */
struct run_entry {
	enum hvx_mode mode;
	__u64 rip, rsp;
	__u64 rax, rbx, rsi;
	int linux_cs;		/* 64-bit code at selector 0x10 (Linux boot protocol) */
};

/* ---- The runner ----------------------------------------------------------------- */

/* One step of a vCPU's run loop, kept for the state report. */
struct run_event {
	__u32 what;		/* an HVX_EXIT_*, or RUN_EV_* */
	__u32 arg;		/* port, MSR, gpa low bits or vector */
	__u64 rip;
	__u64 ns;		/* CLOCK_MONOTONIC, of the last one */
	__u32 count;		/* the same step this many times in a row */
	__u8 if_flag, ready;	/* RFLAGS.IF and ready_for_interrupt after it */
};

#define RUN_EV_INJECT	0x1000	/* HVX_INJECT_EVENT of vector arg */
#define RUN_EV_EINTR	0x1001	/* HVX_RUN returned EINTR */
#define RUN_EV_SLEEP	0x1002	/* halted: waited in userspace */
#define RUN_HISTORY	64

/*
 * With the APIC in the kernel, hvx-run describes at most this many CPUs in
 * its MP table, whose APIC IDs are 8 bits wide (255 is the broadcast).
 */
#define RUN_MAX_CPUS		254

/* One vCPU and the thread that runs it (vcpu.c). */
struct run_vcpu {
	struct hvx_runner *r;
	unsigned int id;
	struct hvx_vcpu vcpu;
	pthread_t thread;
	int started;			/* the thread exists */
	int halted;			/* without an in-kernel APIC: in HLT, waiting here */
	int stopped;			/* in HLT with interrupts off, or an AP never started */
	int ready;			/* ready_for_interrupt after the last HVX_RUN */
	int report;			/* SIGUSR1: print this vCPU's state at its next stop */
	int probe;			/* another vCPU stopped: is this one stopped too? */
	unsigned long long runs, eintr, injected;
	struct run_event hist[RUN_HISTORY];
	unsigned int hist_next;
};

struct hvx_runner {
	struct hvx_sys sys;
	struct hvx_vm vm;
	struct run_vcpu *vcpus;		/* cpus of them; vCPU 0 is the BSP */
	void *mem;
	unsigned long long mem_size;
	unsigned int cpus;
	int apic;			/* local APICs and I/O APIC in the kernel */
	int verbose;
	unsigned long trace;		/* exits still to print */
	unsigned long long exits[HVX_EXIT_INTR + 2];	/* per exit reason; last: unknown */

	struct run_entry entry;
	size_t cmdline_max;		/* a bzImage's: its command line's room, else 0 */
	struct io_range io[RUN_MAX_IO_RANGES];
	unsigned int nr_io;
	unsigned long long io_unclaimed;	/* port exits no range took */

	/*
	 * The devices, the counters above and everything below are shared
	 * by the vCPU threads and the main thread, under lock.
	 */
	pthread_mutex_t lock;
	pthread_cond_t wake_bsp;	/* a halted BSP without an APIC waits on it */
	int wake_fd;			/* eventfd: the main thread's deadlines changed */

	struct console con;
	struct pic_pair pic;
	struct pit pit;
	struct uart uart;
	struct rtc rtc;
	struct fw_cfg fw_cfg;
	struct pci_conf1 pci;
	struct sysctl sysctl;
	__u32 isa_lines;		/* ISA IRQ lines high, a bit each */

	__u64 now_ns;			/* CLOCK_MONOTONIC at the last device update */
	int bsp_kicked;			/* the BSP was told the PIC has an interrupt */
	int stop;			/* >= 0: end the run with this status */
	const char *stop_why;
	int quit_signal;		/* the signal that stopped the run, 0: none */
};

/* bus.c */
int io__register(struct hvx_runner *r, const char *name, unsigned int base, unsigned int len,
		 io_read_fn read, io_write_fn write, void *dev);
/* Handles an HVX_EXIT_IO of run; sets r->stop to end the run. */
void io__exit(struct hvx_runner *r, struct hvx_run *run);
/* hvx_mmio_fn: no MMIO device: reads return all-ones, writes are dropped. */
int io__mmio(void *opaque, __u64 gpa, void *data, unsigned int len, int is_write);

/* Device set-up: each registers its ports.  0 or -1 with a message. */
int pic__init(struct hvx_runner *r);
int pit__init(struct hvx_runner *r);
int uart__init(struct hvx_runner *r);
int rtc__init(struct hvx_runner *r);
int fw_cfg__init(struct hvx_runner *r);
int sysdev__init(struct hvx_runner *r);	/* PCI conf #1, resets, debug-exit, port 0x80 */

/* The PIC: raise or lower an ISA IRQ line. */
void pic__set_irq(struct hvx_runner *r, unsigned int irq, int level);
/*
 * An ISA IRQ line, as the devices drive it: to the PIC and, with the APIC
 * in the kernel, to the I/O APIC pin it is wired to (IRQ 0 to pin 2);
 * an edge (pulse) for timers (vcpu.c).
 */
void irq__set(struct hvx_runner *r, unsigned int irq, int level);
void irq__pulse(struct hvx_runner *r, unsigned int irq);
unsigned int irq__gsi(unsigned int irq);
/* 1 if an interrupt is waiting for the CPU. */
int pic__pending(struct hvx_runner *r);
/* The interrupt acknowledge cycle: the vector to deliver. */
unsigned int pic__ack(struct hvx_runner *r);

/* PIT: raise IRQ 0 for expired periods; return the next deadline or 0. */
__u64 pit__update(struct hvx_runner *r, __u64 now);
/* UART: pull console input into the receive FIFO if there is room. */
void uart__poll(struct hvx_runner *r);

/* console.c */
int console__init(struct hvx_runner *r);
void console__restore(void);
void console__putc(struct hvx_runner *r, __u8 c);
void console__flush(struct hvx_runner *r);
/* Reads up to n bytes of input without blocking: count, 0 if none. */
int console__read(struct hvx_runner *r, __u8 *buf, int n);

/* clock */
__u64 run__now_ns(void);
/*
 * Ends the run with status (e.g. the guest reset itself): every vCPU stops
 * at its next exit.  Called with r->lock held.
 */
void run__stop(struct hvx_runner *r, int status, const char *why);
/* Wakes the main thread to look at the device deadlines again. */
void run__wake(struct hvx_runner *r);

/*
 * vcpu.c: runs every vCPU in a thread of its own and the devices' clock in
 * the calling thread until the guest ends; returns hvx-run's exit status.
 */
int vcpu__run(struct hvx_runner *r);

/* cpuid.c: the CPUID table hvx-run gives the guest, and the MSR policy. */
int cpuid__setup(struct hvx_runner *r, struct hvx_vcpu *vcpu);
void msr__exit(struct hvx_runner *r, struct hvx_run *run);

/* mptable.c: the MP table that describes the CPUs and the I/O APIC. */
int mptable__write(struct hvx_runner *r);

/*
 * Loaders (load.c, multiboot.c, linux.c): place the image in r->mem (guest
 * RAM, allocated before /dev/hvx is opened, so that every image error
 * comes first) and fill r->entry.  0, or -1 after one error line.
 */
int load__file(const char *what, const char *path, void **buf, size_t *size);
int load__flat(struct hvx_runner *r, const struct run_options *o);
int load__multiboot(struct hvx_runner *r, const struct run_options *o);
int load__linux(struct hvx_runner *r, const struct run_options *o);
/* After create_vm(): tsc_early_khz= where CPUID does not tell, pci=off (linux.c). */
void linux__cmdline(struct hvx_runner *r);
/* pvh.c: --kernel given an ELF file; load__linux() hands it over. */
int load__is_elf(const void *img, size_t size);
int load__pvh(struct hvx_runner *r, const struct run_options *o, const void *img, size_t size);
/* The e820-style map of guest RAM every loader reports: count, entries. */
struct mem_range {
	__u64 base, len;
	__u32 type;		/* 1 RAM, 2 reserved */
};
unsigned int load__memmap(const struct hvx_runner *r, struct mem_range *m);

#endif /* HVX_RUN_H */
