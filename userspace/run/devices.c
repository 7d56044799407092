// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run devices: the transmit side of a COM1 8250 UART and the debug-exit
 * port.  Everything else reads as all-ones (an empty ISA bus) and ignores
 * writes.
 */
#include <stdio.h>
#include <string.h>

#include "hvx-run.h"

static __u32 io_item(const struct hvx_run *run, unsigned int i)
{
	__u32 v = 0;

	memcpy(&v, run->io_data + (size_t)i * run->io.size, run->io.size);
	return v;
}

static __u32 uart_read(unsigned int port)
{
	/* Always ready to transmit; no receive data, no interrupts pending. */
	if (port == PORT_COM1_LSR)
		return UART_LSR_THRE | UART_LSR_TEMT;
	return 0;
}

static void uart_write(struct hvx_runner *r, unsigned int port, __u8 byte)
{
	if (port != PORT_COM1)
		return;		/* divisor, IER, FCR, LCR, MCR: nothing to model */
	fputc(byte, r->console);
	if (byte == '\n')
		fflush(r->console);
}

int devices__io(struct hvx_runner *r)
{
	struct hvx_run *run = r->vcpu.run;
	unsigned int port = run->io.port, size = run->io.size, count = run->io.count, i;
	__u32 v;

	if (size != 1 && size != 2 && size != 4)
		size = 1;
	if ((size_t)count * size > sizeof(run->io_data))
		count = sizeof(run->io_data) / size;

	if (run->io.direction == HVX_IO_OUT) {
		for (i = 0; i < count; i++) {
			v = io_item(run, i);
			if (port >= PORT_COM1 && port <= PORT_COM1 + 7)
				uart_write(r, port, v & 0xff);
			else if (port == PORT_DEBUG_EXIT)
				return v & 0xff;
			else if (r->verbose)
				fprintf(stderr, "hvx-run: ignored OUT%c 0x%x to port 0x%x at rip 0x%llx\n",
					"?bw?d"[size], v, port, (unsigned long long)run->rip);
		}
		return -1;
	}

	for (i = 0; i < count; i++) {
		if (port >= PORT_COM1 && port <= PORT_COM1 + 7) {
			v = uart_read(port);
		} else {
			v = 0xffffffff;
			if (r->verbose)
				fprintf(stderr, "hvx-run: IN%c from unhandled port 0x%x at rip 0x%llx reads all-ones\n",
					"?bw?d"[size], port, (unsigned long long)run->rip);
		}
		memcpy(run->io_data + (size_t)i * size, &v, size);
	}
	return -1;
}

int devices__mmio(void *opaque, __u64 gpa, void *data, unsigned int len, int is_write)
{
	struct hvx_runner *r = opaque;

	if (r->verbose)
		fprintf(stderr, "hvx-run: MMIO %s of %u bytes at gpa 0x%llx: no device (%s)\n",
			is_write ? "write" : "read", len, (unsigned long long)gpa,
			is_write ? "dropped" : "reads all-ones");
	if (!is_write)
		memset(data, 0xff, len);
	return 0;
}
