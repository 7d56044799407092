// SPDX-License-Identifier: GPL-2.0
/*
 * The i8254 PIT at 0x40..0x43 and port 0x61 (system control port B).
 * Counters run on CLOCK_MONOTONIC at 1.193182 MHz.  Channel 0 raises IRQ 0
 * (modes 0 and 4 once, 2 and 3 each period); channel 2's gate and output
 * are bits 0 and 5 of port 0x61, which Linux uses to calibrate the TSC.
 * Counter latch, read-back, and the LSB/MSB/word access modes are those
 * of the Intel 82C54 datasheet.  BCD counting is not modelled (binary).
 */
#include "../hvx-run.h"

#define PIT_HZ		1193182ULL
#define NSEC		1000000000ULL

#define RW_LATCH	0
#define RW_LSB		1
#define RW_MSB		2
#define RW_WORD		3
#define RW_WORD1	4	/* second byte of a word access */

static __u64 ticks(__u64 ns)
{
	return (__u64)(((unsigned __int128)ns * PIT_HZ) / NSEC);
}

static __u64 ticks_to_ns(__u64 t)
{
	return (__u64)(((unsigned __int128)t * NSEC + PIT_HZ - 1) / PIT_HZ);
}

/* Ticks counted since the count was loaded (or the gate rose). */
static __u64 elapsed(const struct pit_channel *c, __u64 now)
{
	return now > c->load_ns ? ticks(now - c->load_ns) : 0;
}

static __u32 current_count(const struct pit_channel *c, __u64 now)
{
	__u64 d = elapsed(c, now);

	if (!c->armed)
		return c->count & 0xffff;
	switch (c->mode) {
	case 2:
		return c->count - d % c->count;
	case 3:
		return c->count - (2 * d) % c->count;
	default:
		return (c->count - d) & 0xffff;
	}
}

static int output(const struct pit_channel *c, __u64 now)
{
	__u64 d = elapsed(c, now);

	if (!c->armed)
		return c->mode != 0;
	switch (c->mode) {
	case 0:
		return d >= c->count;
	case 1:
		return d >= c->count;
	case 2:
		return d % c->count != c->count - 1;
	case 3:
		return d % c->count < (c->count + 1) / 2;
	default:		/* 4, 5: low for one clock at terminal count */
		return d != c->count;
	}
}

static void arm_irq(struct pit_channel *c)
{
	c->next_irq_ns = c->load_ns + ticks_to_ns(c->count);
}

static void load(struct pit *pit, unsigned int n, __u32 val, __u64 now)
{
	struct pit_channel *c = &pit->ch[n];

	c->count = val ? val : 0x10000;
	c->load_ns = now;
	c->armed = 1;
	if (n == 0)
		arm_irq(c);
}

__u64 pit__update(struct hvx_runner *r, __u64 now)
{
	struct pit_channel *c = &r->pit.ch[0];
	__u64 period;

	if (!c->armed || !c->next_irq_ns)
		return 0;
	if (now < c->next_irq_ns)
		return c->next_irq_ns;
	irq__pulse(r, 0);
	if (c->mode == 2 || c->mode == 3) {
		/* Periodic; periods missed while the host was busy are coalesced. */
		period = ticks_to_ns(c->count);
		c->next_irq_ns += period;
		if (c->next_irq_ns <= now)
			c->next_irq_ns = now + period - (now - c->load_ns) % period;
		return c->next_irq_ns;
	}
	c->next_irq_ns = 0;
	return 0;
}

static void latch_count(struct pit_channel *c, __u64 now)
{
	if (c->latch_state)
		return;		/* the first latch holds until read */
	c->latched = current_count(c, now);
	c->latch_state = c->rw;
}

static void control(struct hvx_runner *r, __u8 v)
{
	struct pit *pit = &r->pit;
	unsigned int n = v >> 6, i;
	struct pit_channel *c;

	if (n == 3) {			/* read-back */
		for (i = 0; i < 3; i++) {
			if (!(v & (2 << i)))
				continue;
			c = &pit->ch[i];
			if (!(v & 0x20))
				latch_count(c, r->now_ns);
			if (!(v & 0x10) && !c->status_latched) {
				c->status = (output(c, r->now_ns) << 7) | (!c->armed << 6) |
					    (c->rw << 4) | (c->mode << 1) | c->bcd;
				c->status_latched = 1;
			}
		}
		return;
	}
	c = &pit->ch[n];
	if (((v >> 4) & 3) == RW_LATCH) {
		latch_count(c, r->now_ns);
		return;
	}
	c->rw = (v >> 4) & 3;
	c->read_state = c->write_state = c->rw;
	c->mode = (v >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4;	/* 6 and 7 are 2 and 3 */
	c->bcd = v & 1;
	c->armed = 0;		/* a new mode waits for its count */
	c->next_irq_ns = 0;
}

static void counter_write(struct hvx_runner *r, unsigned int n, __u8 v)
{
	struct pit_channel *c = &r->pit.ch[n];

	switch (c->write_state) {
	case RW_LSB:
		load(&r->pit, n, v, r->now_ns);
		break;
	case RW_MSB:
		load(&r->pit, n, (__u32)v << 8, r->now_ns);
		break;
	case RW_WORD:
		c->write_lsb = v;
		c->write_state = RW_WORD1;
		break;
	case RW_WORD1:
		load(&r->pit, n, c->write_lsb | ((__u32)v << 8), r->now_ns);
		c->write_state = RW_WORD;
		break;
	}
}

static __u8 counter_read(struct hvx_runner *r, unsigned int n)
{
	struct pit_channel *c = &r->pit.ch[n];
	__u32 count;
	__u8 v;

	if (c->status_latched) {
		c->status_latched = 0;
		return c->status;
	}
	if (c->latch_state) {
		switch (c->latch_state) {
		case RW_LSB:
			c->latch_state = 0;
			return c->latched & 0xff;
		case RW_MSB:
			c->latch_state = 0;
			return c->latched >> 8;
		case RW_WORD:
			c->latch_state = RW_WORD1;
			return c->latched & 0xff;
		default:
			c->latch_state = 0;
			return c->latched >> 8;
		}
	}
	count = current_count(c, r->now_ns);
	switch (c->read_state) {
	case RW_LSB:
		return count & 0xff;
	case RW_MSB:
		return (count >> 8) & 0xff;
	case RW_WORD:
		c->read_state = RW_WORD1;
		return count & 0xff;
	default:
		v = (count >> 8) & 0xff;
		c->read_state = RW_WORD;
		return v;
	}
}

static void pit_write(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
		      __u32 val)
{
	(void)dev;
	(void)size;
	r->now_ns = run__now_ns();
	if (off == 3)
		control(r, val);
	else
		counter_write(r, off, val);
	/* Channel 0's deadline is the main thread's to keep. */
	if (off == 0 || (off == 3 && (val >> 6) == 0))
		run__wake(r);
}

static void pit_read(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
		     __u32 *val)
{
	(void)dev;
	(void)size;
	r->now_ns = run__now_ns();
	*val = off == 3 ? 0xff : counter_read(r, off);
}

/* Port 0x61: bit 0 gate 2, bit 1 speaker data, bit 4 refresh toggle, bit 5 OUT2. */
static void port61_read(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
			__u32 *val)
{
	struct pit *pit = dev;
	__u64 now = run__now_ns();

	(void)off;
	(void)size;
	r->now_ns = now;
	*val = pit->ch[2].gate | (pit->speaker << 1) |
	       (((now / 15000) & 1) << 4) |	/* DRAM refresh: toggles every 15 us */
	       (output(&pit->ch[2], now) << 5);
}

static void port61_write(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
			 __u32 val)
{
	struct pit *pit = dev;
	struct pit_channel *c = &pit->ch[2];
	__u8 gate = val & 1;

	(void)off;
	(void)size;
	r->now_ns = run__now_ns();
	/* A rising gate restarts the count in modes 1, 2, 3 and 5. */
	if (gate && !c->gate && c->armed && c->mode != 0 && c->mode != 4)
		c->load_ns = r->now_ns;
	c->gate = gate;
	pit->speaker = (val >> 1) & 1;
}

int pit__init(struct hvx_runner *r)
{
	unsigned int i;

	for (i = 0; i < 3; i++) {
		r->pit.ch[i].count = 0x10000;
		r->pit.ch[i].rw = r->pit.ch[i].read_state = r->pit.ch[i].write_state = RW_WORD;
	}
	r->pit.ch[0].gate = r->pit.ch[1].gate = 1;
	if (io__register(r, "pit", 0x40, 4, pit_read, pit_write, &r->pit) ||
	    io__register(r, "port61", 0x61, 1, port61_read, port61_write, &r->pit))
		return -1;
	return 0;
}
