// SPDX-License-Identifier: GPL-2.0
/*
 * The i8259A pair: master at 0x20/0x21 with the slave cascaded on its IRQ 2,
 * slave at 0xa0/0xa1, and the edge/level control registers (ELCR) at
 * 0x4d0/0x4d1.  Initialization (ICW1-4), masking, specific and non-specific
 * EOI, priority rotation, auto-EOI, special mask, IRR/ISR reads and poll
 * mode (Intel 8259A datasheet; ELCR: Intel PIIX datasheet).
 */
#include "../hvx-run.h"

/* Lowest priority level with a bit set in mask, 8 if none. */
static unsigned int priority(const struct pic *p, __u8 mask)
{
	unsigned int n = 0;

	if (!mask)
		return 8;
	while (!(mask & (1 << ((n + p->priority_add) & 7))))
		n++;
	return n;
}

/* The IRQ this PIC asks the CPU (or the master) for, -1 if none. */
static int pic_irq(const struct pic *p, int is_master)
{
	unsigned int req, cur;
	__u8 in_service = p->isr;

	req = priority(p, p->irr & ~p->imr);
	if (req == 8)
		return -1;
	if (p->special_mask)
		in_service &= ~p->imr;
	/* Special fully nested: the slave may interrupt its own service. */
	if (is_master && p->sfnm)
		in_service &= ~(1 << 2);
	cur = priority(p, in_service);
	if (req < cur)
		return (req + p->priority_add) & 7;
	return -1;
}

static void set_line(struct pic *p, unsigned int irq, int level)
{
	__u8 mask = 1 << irq;

	if (p->elcr & mask) {
		if (level) {
			p->irr |= mask;
			p->last_irr |= mask;
		} else {
			p->irr &= ~mask;
			p->last_irr &= ~mask;
		}
		return;
	}
	if (level) {
		if (!(p->last_irr & mask))
			p->irr |= mask;
		p->last_irr |= mask;
	} else {
		p->last_irr &= ~mask;
	}
}

/* The slave's INT output is the master's IRQ 2 line. */
static void cascade(struct pic_pair *pp)
{
	set_line(&pp->pic[0], 2, pic_irq(&pp->pic[1], 0) >= 0);
}

void pic__set_irq(struct hvx_runner *r, unsigned int irq, int level)
{
	struct pic_pair *pp = &r->pic;

	set_line(&pp->pic[irq >> 3], irq & 7, level);
	cascade(pp);
}

int pic__pending(struct hvx_runner *r)
{
	return pic_irq(&r->pic.pic[0], 1) >= 0;
}

static void ack(struct pic *p, unsigned int irq)
{
	__u8 mask = 1 << irq;

	if (p->auto_eoi) {
		if (p->rotate_aeoi)
			p->priority_add = (irq + 1) & 7;
	} else {
		p->isr |= mask;
	}
	if (!(p->elcr & mask))
		p->irr &= ~mask;
}

unsigned int pic__ack(struct hvx_runner *r)
{
	struct pic *m = &r->pic.pic[0], *s = &r->pic.pic[1];
	int irq = pic_irq(m, 1), irq2;
	unsigned int vector;

	if (irq < 0)
		return m->irq_base + 7;		/* spurious */
	if (irq == 2) {
		irq2 = pic_irq(s, 0);
		if (irq2 >= 0)
			ack(s, irq2);
		else
			irq2 = 7;		/* spurious on the slave */
		vector = s->irq_base + irq2;
	} else {
		vector = m->irq_base + irq;
	}
	ack(m, irq);
	cascade(&r->pic);
	return vector;
}

/* Poll command (OCW3 P): acknowledges and returns the highest request. */
static __u8 poll_read(struct hvx_runner *r, struct pic *p)
{
	int is_master = p == &r->pic.pic[0];
	int irq = pic_irq(p, is_master);

	if (irq < 0)
		return 0;
	ack(p, irq);
	cascade(&r->pic);
	return 0x80 | irq;
}

static void init_reset(struct pic *p)
{
	p->last_irr = 0;
	p->irr &= p->elcr;
	p->imr = p->isr = 0;
	p->priority_add = p->irq_base = 0;
	p->read_isr = p->poll = p->special_mask = 0;
	p->init_state = p->init4 = p->single = 0;
	p->auto_eoi = p->rotate_aeoi = p->sfnm = 0;
}

static void pic_write(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
		      __u32 val)
{
	struct pic *p = dev;
	unsigned int cmd, irq;
	__u8 v = val;

	(void)size;
	if (off == 0) {
		if (v & 0x10) {				/* ICW1 */
			init_reset(p);
			p->init_state = 1;
			p->init4 = v & 1;
			p->single = !!(v & 2);
		} else if (v & 0x08) {			/* OCW3 */
			if (v & 0x04)
				p->poll = 1;
			if (v & 0x02)
				p->read_isr = v & 1;
			if (v & 0x40)
				p->special_mask = (v >> 5) & 1;
		} else {				/* OCW2 */
			cmd = v >> 5;
			switch (cmd) {
			case 0:
			case 4:
				p->rotate_aeoi = cmd >> 2;
				break;
			case 1:			/* non-specific EOI */
			case 5:			/* rotate on non-specific EOI */
				irq = priority(p, p->isr);
				if (irq != 8) {
					irq = (irq + p->priority_add) & 7;
					p->isr &= ~(1 << irq);
					if (cmd == 5)
						p->priority_add = (irq + 1) & 7;
				}
				break;
			case 3:			/* specific EOI */
				p->isr &= ~(1 << (v & 7));
				break;
			case 6:			/* set priority */
				p->priority_add = (v + 1) & 7;
				break;
			case 7:			/* rotate on specific EOI */
				p->isr &= ~(1 << (v & 7));
				p->priority_add = ((v & 7) + 1) & 7;
				break;
			}
		}
	} else {
		switch (p->init_state) {
		case 0:				/* OCW1 */
			p->imr = v;
			break;
		case 1:				/* ICW2 */
			p->irq_base = v & 0xf8;
			p->init_state = p->single ? (p->init4 ? 3 : 0) : 2;
			break;
		case 2:				/* ICW3 */
			p->init_state = p->init4 ? 3 : 0;
			break;
		case 3:				/* ICW4 */
			p->sfnm = (v >> 4) & 1;
			p->auto_eoi = (v >> 1) & 1;
			p->init_state = 0;
			break;
		}
	}
	cascade(&r->pic);
}

static void pic_read(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
		     __u32 *val)
{
	struct pic *p = dev;

	(void)size;
	if (p->poll) {
		p->poll = 0;
		*val = poll_read(r, p);
	} else if (off == 0) {
		*val = p->read_isr ? p->isr : p->irr;
	} else {
		*val = p->imr;
	}
}

static void elcr_write(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
		       __u32 val)
{
	struct pic_pair *pp = dev;
	unsigned int i;

	for (i = 0; i < size && off + i < 2; i++) {
		struct pic *p = &pp->pic[off + i];

		p->elcr = (val >> (8 * i)) & p->elcr_mask;
	}
	cascade(&r->pic);
}

static void elcr_read(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
		      __u32 *val)
{
	struct pic_pair *pp = dev;
	unsigned int i;

	(void)r;
	*val = 0xffffffff;
	for (i = 0; i < size && off + i < 2; i++) {
		*val &= ~(0xffU << (8 * i));
		*val |= (__u32)pp->pic[off + i].elcr << (8 * i);
	}
}

int pic__init(struct hvx_runner *r)
{
	struct pic_pair *pp = &r->pic;

	/* IRQ 0, 1, 2 (master) and 8, 13 (slave) are always edge-triggered. */
	pp->pic[0].elcr_mask = 0xf8;
	pp->pic[1].elcr_mask = 0xde;
	if (io__register(r, "pic-master", 0x20, 2, pic_read, pic_write, &pp->pic[0]) ||
	    io__register(r, "pic-slave", 0xa0, 2, pic_read, pic_write, &pp->pic[1]) ||
	    io__register(r, "elcr", 0x4d0, 2, elcr_read, elcr_write, pp))
		return -1;
	return 0;
}
