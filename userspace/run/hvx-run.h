/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx-run: a minimal launcher for flat guest binaries.
 */
#ifndef HVX_RUN_H
#define HVX_RUN_H

#include <stdio.h>

#include "libhvx.h"

/* Exit statuses of hvx-run besides the guest's own debug-exit value. */
#define HVX_RUN_EXIT_HOST	1	/* hvx-run could not set up or run the VM */
#define HVX_RUN_EXIT_USAGE	2	/* bad option, unreadable file, image does not fit */
#define HVX_RUN_EXIT_SHUTDOWN	3	/* triple fault */
#define HVX_RUN_EXIT_VM_ERROR	4	/* entry failure, internal error, undecodable MMIO */

/* Ports of the devices hvx-run models. */
#define PORT_COM1		0x3f8	/* 8250 UART: THR/RBR .. SCR at 0x3f8..0x3ff */
#define PORT_COM1_LSR		(PORT_COM1 + 5)
#define PORT_DEBUG_EXIT		0xf4	/* OUT v: hvx-run exits with status v & 0xff */

#define UART_LSR_THRE		0x20	/* transmit holding register empty */
#define UART_LSR_TEMT		0x40	/* transmitter empty */

struct hvx_runner {
	struct hvx_sys sys;
	struct hvx_vm vm;
	struct hvx_vcpu vcpu;
	void *mem;
	unsigned long long mem_size;
	int verbose;
	unsigned long trace;		/* exits still to print */
	FILE *console;			/* where the guest's UART output goes */
	unsigned long long exits[HVX_EXIT_INTR + 2];	/* per exit reason; last: unknown */
};

/*
 * Handles an HVX_EXIT_IO.  Returns -1 to keep running, or the exit status
 * the guest asked for through the debug-exit port.
 */
int devices__io(struct hvx_runner *r);

/* hvx_mmio_fn: no MMIO device yet, reads return all-ones, writes are dropped. */
int devices__mmio(void *opaque, __u64 gpa, void *data, unsigned int len, int is_write);

#endif /* HVX_RUN_H */
