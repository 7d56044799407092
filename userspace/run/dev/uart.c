// SPDX-License-Identifier: GPL-2.0
/*
 * COM1: a 16550A UART at 0x3f8..0x3ff on IRQ 4, wired to the console.
 * Transmit is instant (THR is always empty again after a write); received
 * bytes wait in a 16-byte FIFO.  Interrupts: received data (IER bit 0) and
 * transmitter empty (IER bit 1), reported through IIR with the 16550A
 * priorities; modem loopback (MCR bit 4) for the drivers that test it.
 * Register semantics: National Semiconductor PC16550D datasheet.
 */
#include "../hvx-run.h"

#define RBR	0	/* THR on write, DLL with DLAB */
#define IER	1	/* DLM with DLAB */
#define IIR	2	/* FCR on write */
#define LCR	3
#define MCR	4
#define LSR	5
#define MSR	6
#define SCR	7

#define IER_RDI		0x01
#define IER_THRI	0x02
#define IIR_NONE	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO	0xc0
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define LCR_DLAB	0x80
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

static __u8 iir(const struct uart *u)
{
	__u8 fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((u->ier & IER_RDI) && u->rx_count)
		return fifo | IIR_RDI;
	if ((u->ier & IER_THRI) && u->thr_ipending)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

static void update_irq(struct hvx_runner *r)
{
	irq__set(r, 4, !(iir(&r->uart) & IIR_NONE));
}

static void rx_push(struct uart *u, __u8 c)
{
	if (u->rx_count == UART_FIFO)
		return;		/* overrun: dropped */
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO] = c;
	u->rx_count++;
}

void uart__poll(struct hvx_runner *r)
{
	struct uart *u = &r->uart;
	__u8 buf[UART_FIFO];
	int n, i;

	if (u->mcr & MCR_LOOP || u->rx_count == UART_FIFO || r->con.eof)
		return;
	n = console__read(r, buf, UART_FIFO - u->rx_count);
	for (i = 0; i < n; i++)
		rx_push(u, buf[i]);
	if (n > 0)
		update_irq(r);
}

static void uart_write(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
		       __u32 val)
{
	struct uart *u = dev;
	__u8 v = val;

	(void)size;
	switch (off) {
	case RBR:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			break;
		}
		if (u->mcr & MCR_LOOP)
			rx_push(u, v);
		else
			console__putc(r, v);
		/* Sent at once: THR is empty again, which is an interrupt of its own. */
		u->thr_ipending = 1;
		break;
	case IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		/* Enabling THRI with THR empty raises it (PC16550D, IIR). */
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thr_ipending = 1;
		u->ier = v & 0x0f;
		break;
	case IIR:
		u->fcr = v & 0xc9;
		if (v & FCR_CLEAR_RX)
			u->rx_count = 0;
		break;
	case LCR:
		u->lcr = v;
		break;
	case MCR:
		u->mcr = v & 0x1f;
		break;
	case SCR:
		u->scr = v;
		break;
	}
	update_irq(r);
}

static void uart_read(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
		      __u32 *val)
{
	struct uart *u = dev;
	__u8 v = 0;

	(void)size;
	switch (off) {
	case RBR:
		if (u->lcr & LCR_DLAB) {
			v = u->dll;
			break;
		}
		if (u->rx_count) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_FIFO;
			u->rx_count--;
		}
		uart__poll(r);
		/* A full FIFO took the console out of the main thread's poll. */
		if (u->rx_count == UART_FIFO - 1)
			run__wake(r);
		break;
	case IER:
		v = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
		break;
	case IIR:
		v = iir(u);
		/* Reading IIR with THRI as its reason clears it. */
		if ((v & 0x0f) == IIR_THRI)
			u->thr_ipending = 0;
		break;
	case LCR:
		v = u->lcr;
		break;
	case MCR:
		v = u->mcr;
		break;
	case LSR:
		uart__poll(r);
		v = LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
		break;
	case MSR:
		if (u->mcr & MCR_LOOP) {
			/* DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
			v = ((u->mcr & 0x01) << 5) | ((u->mcr & 0x02) << 3) |
			    ((u->mcr & 0x04) << 4) | ((u->mcr & 0x08) << 4);
		} else {
			v = 0xb0;	/* DCD, DSR, CTS: a line is attached */
		}
		break;
	case SCR:
		v = u->scr;
		break;
	}
	*val = v;
	update_irq(r);
}

int uart__init(struct hvx_runner *r)
{
	return io__register(r, "com1", 0x3f8, 8, uart_read, uart_write, &r->uart);
}
