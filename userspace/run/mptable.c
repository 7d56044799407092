// SPDX-License-Identifier: GPL-2.0
/*
 * The MP table (Intel MultiProcessor Specification 1.4): how a guest finds
 * its CPUs, the I/O APIC and the ISA interrupt routing when the APIC is in
 * the kernel.  An MP table rather than ACPI because every guest hvx-run
 * boots reads it: Linux, FreeBSD and the multiboot kernels of hobby and
 * test suites scan the BIOS area for it, it needs no AML, and it is a
 * page of static data.  What it cannot say (more than 254 CPUs, a PM
 * timer, soft power-off) would need ACPI's MADT and FADT.
 *
 * The floating pointer and the configuration table sit at the start of
 * the BIOS area (0xf0000), which the memory map reports as reserved.  The
 * routing is the PC's: ISA IRQ n to I/O APIC pin n but IRQ 0 to pin 2,
 * edge-triggered, active high; the PIC is ExtINT on every local APIC's
 * LINT0 and NMI on LINT1 (virtual wire mode).
 */
#include <cpuid.h>
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hvx-run.h"

#define MP_ADDR		RUN_BIOS_START
#define MP_APIC_BASE	0xfee00000U
#define MP_IOAPIC_BASE	0xfec00000U
#define MP_APIC_VERSION	0x14
#define MP_IOAPIC_VER	0x11

struct mp_floating {
	char signature[4];		/* "_MP_" */
	__u32 physptr;			/* the configuration table */
	__u8 length;			/* in 16 bytes: 1 */
	__u8 spec_rev;			/* 4: version 1.4 */
	__u8 checksum;
	__u8 feature[5];		/* 0: a table, not a default configuration */
} __attribute__((packed));

struct mp_config {
	char signature[4];		/* "PCMP" */
	__u16 length;
	__u8 spec_rev;
	__u8 checksum;
	char oem[8];
	char product[12];
	__u32 oem_table;		/* none */
	__u16 oem_size;
	__u16 count;			/* entries */
	__u32 lapic;
	__u16 ext_length;
	__u8 ext_checksum, reserved;
} __attribute__((packed));

struct mp_cpu {
	__u8 type;			/* 0 */
	__u8 apic_id, apic_version, flags;	/* flags: 1 enabled, 2 the BSP */
	__u32 signature, features;	/* CPUID leaf 1 EAX and EDX */
	__u32 reserved[2];
} __attribute__((packed));

struct mp_bus {
	__u8 type;			/* 1 */
	__u8 id;
	char name[6];
} __attribute__((packed));

struct mp_ioapic {
	__u8 type;			/* 2 */
	__u8 id, version, flags;	/* flags: 1 usable */
	__u32 address;
} __attribute__((packed));

struct mp_irq {
	__u8 type;			/* 3: I/O interrupt, 4: local interrupt */
	__u8 irq_type;			/* 0 INT, 1 NMI, 2 SMI, 3 ExtINT */
	__u16 flags;			/* polarity and trigger: 0 conforms to the bus */
	__u8 bus, bus_irq;
	__u8 dest;			/* I/O APIC ID, or local APIC ID (0xff: all) */
	__u8 pin;			/* I/O APIC pin, or LINT0/LINT1 */
} __attribute__((packed));

_Static_assert(sizeof(struct mp_floating) == 16, "MP floating pointer");
_Static_assert(sizeof(struct mp_config) == 44, "MP configuration table header");
_Static_assert(sizeof(struct mp_cpu) == 20, "MP processor entry");
_Static_assert(sizeof(struct mp_irq) == 8, "MP interrupt entry");

static __u8 checksum(const void *p, size_t len)
{
	const __u8 *b = p;
	__u8 sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

/*
 * The I/O APIC gets the ID after the CPUs' where its 4-bit ID register
 * can hold it (the specification wants them apart), else 0.
 */
static int ioapic_id(struct hvx_runner *r)
{
	struct hvx_ioapic_state s;

	memset(&s, 0, sizeof(s));
	if (ioctl(r->vm.fd, HVX_GET_IOAPIC, &s))
		goto error;
	s.id = r->cpus < 16 ? r->cpus : 0;
	if (ioctl(r->vm.fd, HVX_SET_IOAPIC, &s))
		goto error;
	return s.id;

error:
	fprintf(stderr, "hvx-run: setting the I/O APIC's ID (HVX_GET/SET_IOAPIC): %s\n",
		strerror(errno));
	return -1;
}

int mptable__write(struct hvx_runner *r)
{
	size_t size = sizeof(struct mp_floating) + sizeof(struct mp_config) +
		      r->cpus * sizeof(struct mp_cpu) + sizeof(struct mp_bus) +
		      sizeof(struct mp_ioapic) + 17 * sizeof(struct mp_irq);
	__u8 *base = (__u8 *)r->mem + MP_ADDR, *p;
	unsigned int eax, ebx, ecx, edx, i;
	struct mp_floating *mpf;
	struct mp_config *mpc;
	int io_id;

	if (MP_ADDR + size > RUN_HIGH_START || MP_ADDR + size > r->mem_size)
		return 0;	/* no room: a guest this small gets no table */
	io_id = ioapic_id(r);
	if (io_id < 0)
		return -1;
	__cpuid(1, eax, ebx, ecx, edx);
	(void)ebx;
	(void)ecx;
	memset(base, 0, size);
	mpf = (struct mp_floating *)base;
	mpc = (struct mp_config *)(mpf + 1);
	p = (__u8 *)(mpc + 1);

	for (i = 0; i < r->cpus; i++) {
		struct mp_cpu *c = (struct mp_cpu *)p;

		c->type = 0;
		c->apic_id = i;
		c->apic_version = MP_APIC_VERSION;
		c->flags = 1 | (i == 0 ? 2 : 0);
		c->signature = eax;
		c->features = edx;
		p += sizeof(*c);
	}
	*(struct mp_bus *)p = (struct mp_bus){ .type = 1, .id = 0 };
	memcpy(((struct mp_bus *)p)->name, "ISA   ", 6);
	p += sizeof(struct mp_bus);
	*(struct mp_ioapic *)p = (struct mp_ioapic){
		.type = 2, .id = io_id, .version = MP_IOAPIC_VER, .flags = 1,
		.address = MP_IOAPIC_BASE,
	};
	p += sizeof(struct mp_ioapic);
	for (i = 0; i < 16; i++) {
		if (i == 2)
			continue;	/* the PICs' cascade */
		*(struct mp_irq *)p = (struct mp_irq){
			.type = 3, .irq_type = 0, .bus = 0, .bus_irq = i, .dest = io_id,
			.pin = irq__gsi(i),
		};
		p += sizeof(struct mp_irq);
	}
	*(struct mp_irq *)p = (struct mp_irq){ .type = 4, .irq_type = 3, .dest = 0xff, .pin = 0 };
	p += sizeof(struct mp_irq);
	*(struct mp_irq *)p = (struct mp_irq){ .type = 4, .irq_type = 1, .dest = 0xff, .pin = 1 };
	p += sizeof(struct mp_irq);

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = p - (__u8 *)mpc;
	mpc->spec_rev = 4;
	memcpy(mpc->oem, "HVX     ", 8);
	memcpy(mpc->product, "HVX-RUN     ", 12);
	mpc->count = r->cpus + 1 + 1 + 15 + 2;
	mpc->lapic = MP_APIC_BASE;
	mpc->checksum = checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = MP_ADDR + sizeof(*mpf);
	mpf->length = 1;
	mpf->spec_rev = 4;
	mpf->checksum = checksum(mpf, sizeof(*mpf));
	return 0;
}
