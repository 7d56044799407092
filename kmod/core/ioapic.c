// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: the in-kernel I/O APIC of a VM created with HVX_VM_IOAPIC (Intel
 * 82093AA datasheet; the chipset's I/O APIC): 24 pins at 0xfec00000,
 * IOREGSEL and IOWIN, the redirection table, edge and level triggers with
 * remote IRR.  Userspace drives the pins (HVX_IRQ_LINE) from any thread;
 * a pin sends its message to the local APICs like an MSI, and a level
 * pin's remote IRR clears when a local APIC takes the EOI of its vector.
 * The 8259 PIC stays in userspace, injected as ExtINT (HVX_INJECT_EVENT).
 *
 * ioapic->lock (a spinlock: pins change from any thread) is taken before
 * vm->vcpus_lock, which delivery takes.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <asm/apicdef.h>

#include "hvx_core.h"

#define IOAPIC_PINS		24
#define IOAPIC_VERSION		(0x11 | ((IOAPIC_PINS - 1) << 16))
#define IOAPIC_REGSEL		0x00
#define IOAPIC_WINDOW		0x10

#define RTE_VECTOR		0xffULL
#define RTE_DM			(7ULL << 8)
#define RTE_LOGICAL		BIT_ULL(11)
#define RTE_POLARITY_LOW	BIT_ULL(13)
#define RTE_REMOTE_IRR		BIT_ULL(14)
#define RTE_LEVEL		BIT_ULL(15)
#define RTE_MASKED		BIT_ULL(16)
#define RTE_DEST		(0xffULL << 56)
/* What the guest may write: all but delivery status and remote IRR. */
#define RTE_WRITABLE		(RTE_VECTOR | RTE_DM | RTE_LOGICAL | RTE_POLARITY_LOW | \
				 RTE_LEVEL | RTE_MASKED | RTE_DEST)

struct hvx_ioapic {
	spinlock_t lock;		/* everything below */
	u32 regsel;
	u32 id;
	u32 lines;			/* pins userspace holds high */
	u64 rte[IOAPIC_PINS];
};

static bool ioapic_asserted(const struct hvx_ioapic *io, int pin)
{
	return !!(io->lines & BIT(pin)) != !!(io->rte[pin] & RTE_POLARITY_LOW);
}

/* Sends pin @pin's message if it is unmasked (and, level, not already in service). */
static void ioapic_fire(struct hvx_vm *vm, struct hvx_ioapic *io, int pin)
{
	u64 rte = io->rte[pin];
	u32 dm = rte & RTE_DM;

	if (rte & RTE_MASKED)
		return;
	if (rte & RTE_LEVEL) {
		if (rte & RTE_REMOTE_IRR)
			return;
		io->rte[pin] |= RTE_REMOTE_IRR;
	}
	/* Reserved delivery modes and vectors below 16 go nowhere. */
	if (dm == APIC_DM_SMI || dm == 0x300 || dm == APIC_DM_EXTINT ||
	    ((dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST) && (rte & RTE_VECTOR) < 16)) {
		io->rte[pin] &= ~RTE_REMOTE_IRR;
		return;
	}
	if (!hvx_lapic_send(vm, rte >> 56, rte & RTE_LOGICAL, dm, rte & RTE_VECTOR,
			    rte & RTE_LEVEL))
		io->rte[pin] &= ~RTE_REMOTE_IRR;
}

/* HVX_IRQ_LINE: pin @pin goes to @level, from any thread. */
int hvx_ioapic_line(struct hvx_vm *vm, const struct hvx_irq_line *l)
{
	struct hvx_ioapic *io = vm->ioapic;
	bool was;

	if (l->flags || l->level > 1 || memchr_inv(l->reserved, 0, sizeof(l->reserved)))
		return -EINVAL;
	if (!io)
		return -ENXIO;
	if (l->pin >= IOAPIC_PINS)
		return -EINVAL;
	spin_lock(&io->lock);
	was = ioapic_asserted(io, l->pin);
	if (l->level)
		io->lines |= BIT(l->pin);
	else
		io->lines &= ~BIT(l->pin);
	/* Edge: on the rising edge; level: while asserted (remote IRR holds the rest). */
	if (ioapic_asserted(io, l->pin) &&
	    (!was || (io->rte[l->pin] & RTE_LEVEL)))
		ioapic_fire(vm, io, l->pin);
	spin_unlock(&io->lock);
	return 0;
}

/*
 * A local APIC took the EOI of level-triggered @vec: the pins with that
 * vector leave service, and one still asserted fires again.
 */
void hvx_ioapic_eoi(struct hvx_vm *vm, u8 vec)
{
	struct hvx_ioapic *io = vm->ioapic;
	int pin;

	if (!io)
		return;
	spin_lock(&io->lock);
	for (pin = 0; pin < IOAPIC_PINS; pin++) {
		if ((io->rte[pin] & RTE_VECTOR) != vec || !(io->rte[pin] & RTE_REMOTE_IRR))
			continue;
		io->rte[pin] &= ~RTE_REMOTE_IRR;
		if ((io->rte[pin] & RTE_LEVEL) && ioapic_asserted(io, pin))
			ioapic_fire(vm, io, pin);
	}
	spin_unlock(&io->lock);
}

bool hvx_ioapic_hit(struct hvx_vm *vm, u64 gpa)
{
	return vm->ioapic && (gpa & PAGE_MASK) == IO_APIC_DEFAULT_PHYS_BASE;
}

/* A 32-bit read at @off of the I/O APIC's page. */
u32 hvx_ioapic_read(struct hvx_vm *vm, u32 off)
{
	struct hvx_ioapic *io = vm->ioapic;
	u32 val = 0, reg;

	spin_lock(&io->lock);
	reg = io->regsel;
	if (off == IOAPIC_REGSEL) {
		val = reg;
	} else if (off == IOAPIC_WINDOW) {
		if (reg == 0)
			val = io->id << 24;
		else if (reg == 1)
			val = IOAPIC_VERSION;
		else if (reg == 2)
			val = io->id << 24;	/* arbitration ID */
		else if (reg >= 0x10 && reg < 0x10 + 2 * IOAPIC_PINS)
			val = io->rte[(reg - 0x10) / 2] >> (reg & 1 ? 32 : 0);
	}
	spin_unlock(&io->lock);
	return val;
}

/* A 32-bit write at @off; a newly unmasked level pin still asserted fires. */
void hvx_ioapic_write(struct hvx_vm *vm, u32 off, u32 val)
{
	struct hvx_ioapic *io = vm->ioapic;
	int pin;
	u64 rte;

	spin_lock(&io->lock);
	if (off == IOAPIC_REGSEL) {
		io->regsel = val & 0xff;
	} else if (off == IOAPIC_WINDOW) {
		if (io->regsel == 0) {
			io->id = (val >> 24) & 0xf;
		} else if (io->regsel >= 0x10 && io->regsel < 0x10 + 2 * IOAPIC_PINS) {
			pin = (io->regsel - 0x10) / 2;
			rte = io->rte[pin];
			if (io->regsel & 1)
				rte = (rte & 0xffffffffULL) | (u64)val << 32;
			else
				rte = (rte & ~0xffffffffULL) | val;
			io->rte[pin] = (rte & RTE_WRITABLE) | (io->rte[pin] & RTE_REMOTE_IRR);
			if ((io->rte[pin] & RTE_LEVEL) && ioapic_asserted(io, pin))
				ioapic_fire(vm, io, pin);
		}
	}
	spin_unlock(&io->lock);
}

int hvx_ioapic_get_state(struct hvx_vm *vm, struct hvx_ioapic_state *s)
{
	struct hvx_ioapic *io = vm->ioapic;

	if (!io)
		return -ENXIO;
	memset(s, 0, sizeof(*s));
	spin_lock(&io->lock);
	s->id = io->id;
	s->regsel = io->regsel;
	s->lines = io->lines;
	memcpy(s->rte, io->rte, sizeof(s->rte));
	spin_unlock(&io->lock);
	return 0;
}

/*
 * Takes a whole state: refused (-EINVAL, nothing changed) with flags or
 * reserved set, an ID over 15, a register selector over 0xff, lines
 * beyond the 24 pins, or reserved bits in an entry.  A level pin then
 * asserted, unmasked and not in service sends its interrupt.
 */
int hvx_ioapic_set_state(struct hvx_vm *vm, const struct hvx_ioapic_state *s)
{
	struct hvx_ioapic *io = vm->ioapic;
	int pin;

	if (!io)
		return -ENXIO;
	if (s->flags || memchr_inv(s->reserved, 0, sizeof(s->reserved)) || s->id > 15 ||
	    s->regsel > 0xff || s->lines >> IOAPIC_PINS)
		return -EINVAL;
	for (pin = 0; pin < IOAPIC_PINS; pin++)
		if (s->rte[pin] & ~(RTE_WRITABLE | RTE_REMOTE_IRR))
			return -EINVAL;
	spin_lock(&io->lock);
	io->id = s->id;
	io->regsel = s->regsel;
	io->lines = s->lines;
	memcpy(io->rte, s->rte, sizeof(io->rte));
	for (pin = 0; pin < IOAPIC_PINS; pin++)
		if ((io->rte[pin] & RTE_LEVEL) && ioapic_asserted(io, pin))
			ioapic_fire(vm, io, pin);
	spin_unlock(&io->lock);
	return 0;
}

/* Every pin masked, edge, active high, as after reset. */
int hvx_ioapic_create(struct hvx_vm *vm)
{
	struct hvx_ioapic *io;
	int pin;

	if (!(vm->flags & HVX_VM_IOAPIC))
		return 0;
	io = kzalloc(sizeof(*io), GFP_KERNEL_ACCOUNT);
	if (!io)
		return -ENOMEM;
	spin_lock_init(&io->lock);
	for (pin = 0; pin < IOAPIC_PINS; pin++)
		io->rte[pin] = RTE_MASKED;
	vm->ioapic = io;
	return 0;
}

void hvx_ioapic_free(struct hvx_vm *vm)
{
	kfree(vm->ioapic);
	vm->ioapic = NULL;
}
