// SPDX-License-Identifier: GPL-2.0
/*
 * mbkernel: a multiboot test kernel for hvx-run's platform, which also
 * boots through its PVH entry (hvx-run --kernel).  The command line (after
 * the kernel's path with multiboot) names the checks to run, in order; each
 * prints "mbkernel: ok NAME ..." or "mbkernel: FAIL NAME ..." on COM1.
 * Then the kernel ends as the last word says: exit=N (debug-exit port),
 * halt (cli; hlt), reset-kbd, reset-cf9, reset-92, or triple (a triple
 * fault).  Checks:
 *   boot     multiboot magic, info flags, command line, mem_upper, memory map
 *   modules  every module's string and its first line of data
 *   cmos     memory-size bytes against mem_upper; RTC status and date
 *   fwcfg    signature, NB_CPUS, RAM_SIZE, key 0x11 (max RAM) = 0
 *   mptable  the MP table in the BIOS area: checksums, the CPUs (APIC IDs
 *            0..n-1, the BSP first), the I/O APIC at 0xfec00000, ISA IRQ 0
 *            on its pin 2 and IRQ 4 on pin 4, ExtINT on LINT0, NMI on LINT1
 *   pci      0xcf8 reads back, config data reads all-ones
 *   ports    an unclaimed port reads all-ones
 *   pit2     PIT channel 2 in mode 0 through port 0x61: OUT2 rises
 *   timer    PIT channel 0 at 100 Hz through the PIC: 50 IRQ 0 while halted
 *   spin     the same 20 IRQ 0 while the CPU spins without exits: the
 *            launcher must kick the vCPU out to deliver them
 *   pic      IMR read-back, ELCR masks, IRR set by a masked IRQ 0 that is
 *            not delivered, then delivered once unmasked; CMOS scratch RAM
 *   thre     UART THR-empty interrupt (IRQ 4) when enabled and after a write
 *   echo     UART receive interrupts: echoes one input line back
 *   mmio     unclaimed MMIO through each instruction form hvx-run's decoder
 *            emulates: reads all-ones, writes dropped, flags and string
 *            registers as the CPU would leave them
 */
#include <stdint.h>

#define COM1		0x3f8
#define MB_BOOT_MAGIC	0x2BADB002

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
};

struct mb_module {
	uint32_t start, end, string, reserved;
};

struct mb_mmap {
	uint32_t size;
	uint64_t base, len;
	uint32_t type;
} __attribute__((packed));

static int failures;
static volatile unsigned int irq_count[16];

/* ---- output ---- */

static void putc_raw(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, c);
}

static void puts(const char *s)
{
	while (*s)
		putc_raw(*s++);
}

static void putu(uint64_t v)
{
	char buf[24];
	int i = 0;

	do {
		buf[i++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (i)
		putc_raw(buf[--i]);
}

static void putx(uint32_t v)
{
	int i;

	puts("0x");
	for (i = 28; i >= 0; i -= 4)
		putc_raw("0123456789abcdef"[(v >> i) & 15]);
}

static void result(int ok, const char *name)
{
	puts(ok ? "mbkernel: ok " : "mbkernel: FAIL ");
	puts(name);
	if (!ok)
		failures++;
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static int startswith(const char *s, const char *p)
{
	while (*p && *s == *p)
		s++, p++;
	return !*p;
}

/* ---- interrupts ---- */

struct idt_entry {
	uint16_t off_lo, sel;
	uint8_t zero, type;
	uint16_t off_hi;
} __attribute__((packed));

static struct idt_entry idt[256];

extern char irq_stub_0[], irq_stub_1[], irq_stub_2[], irq_stub_3[], irq_stub_4[];
extern char irq_stub_5[], irq_stub_6[], irq_stub_7[], irq_stub_8[], irq_stub_9[];
extern char irq_stub_10[], irq_stub_11[], irq_stub_12[], irq_stub_13[], irq_stub_14[];
extern char irq_stub_15[], exc_stub[];

static void set_gate(int v, void *fn)
{
	uint32_t a = (uint32_t)fn;
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	idt[v] = (struct idt_entry){ a & 0xffff, cs, 0, 0x8e, a >> 16 };
}

void uart_irq(void);
void irq_handler(uint32_t irq);
void irq_handler(uint32_t irq)
{
	irq_count[irq]++;
	if (irq == 4)
		uart_irq();
	if (irq >= 8)
		outb(0xa0, 0x20);
	outb(0x20, 0x20);
}

void exception_handler(uint32_t code);
void exception_handler(uint32_t code)
{
	(void)code;
	puts("mbkernel: FAIL unexpected exception\n");
	outl(0xf4, 0x7f);
}

static void setup_interrupts(void)
{
	static void *const stubs[16] = {
		irq_stub_0, irq_stub_1, irq_stub_2, irq_stub_3, irq_stub_4, irq_stub_5,
		irq_stub_6, irq_stub_7, irq_stub_8, irq_stub_9, irq_stub_10, irq_stub_11,
		irq_stub_12, irq_stub_13, irq_stub_14, irq_stub_15,
	};
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint32_t)idt };
	int i;

	for (i = 0; i < 32; i++)
		set_gate(i, exc_stub);
	for (i = 0; i < 16; i++)
		set_gate(0x20 + i, stubs[i]);
	__asm__ volatile("lidt %0" :: "m"(idtr));

	/* ICW1-4: master at vector 0x20, slave at 0x28, cascade on IRQ 2. */
	outb(0x20, 0x11);
	outb(0x21, 0x20);
	outb(0x21, 0x04);
	outb(0x21, 0x01);
	outb(0xa0, 0x11);
	outb(0xa1, 0x28);
	outb(0xa1, 0x02);
	outb(0xa1, 0x01);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

/*
 * Sleeps until an interrupt has been handled, interrupts off before and
 * after.  STI's one-instruction shadow covers the HLT, so an interrupt
 * pending since before the caller's check wakes it rather than being
 * taken between the check and the HLT (which would then sleep forever).
 */
static void wait_for_interrupt(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

static void unmask(int irq)
{
	outb(0x21, inb(0x21) & ~(1 << irq));
}

static void mask(int irq)
{
	outb(0x21, inb(0x21) | (1 << irq));
}

/* ---- checks ---- */

static struct mb_info *mbi;
static uint32_t magic;

static void check_boot(void)
{
	const char *cmd = (const char *)mbi->cmdline;
	struct mb_mmap *m;
	int ok, ram_ok = 0;
	uint32_t p;

	ok = magic == MB_BOOT_MAGIC && (mbi->flags & 0x45) == 0x45;
	for (p = mbi->mmap_addr; ok && p < mbi->mmap_addr + mbi->mmap_length; p += m->size + 4) {
		m = (struct mb_mmap *)p;
		if (m->type == 1 && m->base == 0x100000 &&
		    m->len == (uint64_t)mbi->mem_upper * 1024)
			ram_ok = 1;
	}
	ok = ok && ram_ok && mbi->mem_lower == 639;
	result(ok, "boot");
	puts(" mem_upper=");
	putu(mbi->mem_upper);
	puts("K cmdline=");
	puts(cmd);
	puts("\n");
}

static void check_modules(void)
{
	struct mb_module *mod = (struct mb_module *)mbi->mods_addr;
	uint32_t i;

	result((mbi->flags & 8) && mbi->mods_count > 0, "modules");
	puts(" count=");
	putu(mbi->flags & 8 ? mbi->mods_count : 0);
	puts("\n");
	for (i = 0; (mbi->flags & 8) && i < mbi->mods_count; i++) {
		const char *d = (const char *)mod[i].start;

		puts("mbkernel: module ");
		putu(i);
		puts(" string='");
		puts((const char *)mod[i].string);
		puts("' size=");
		putu(mod[i].end - mod[i].start);
		puts(" aligned=");
		putu(!(mod[i].start & 0xfff));
		puts(" data='");
		while (d < (const char *)mod[i].end && *d != '\n')
			putc_raw(*d++);
		puts("'\n");
	}
}

static uint8_t cmos(uint8_t idx)
{
	outb(0x70, idx);
	return inb(0x71);
}

static void check_cmos(void)
{
	uint32_t ext = cmos(0x17) | (cmos(0x18) << 8);
	uint32_t ext2 = cmos(0x30) | (cmos(0x31) << 8);
	uint32_t above16 = cmos(0x34) | (cmos(0x35) << 8);
	uint32_t mem_kb = 16384 + above16 * 64;
	uint8_t century = cmos(0x32), year = cmos(0x09), month = cmos(0x08);
	int ok;

	if (mbi->mem_upper < 15360)
		mem_kb = 1024 + ext;
	ok = ext == ext2 && mem_kb == 1024 + mbi->mem_upper && !(cmos(0x0a) & 0x80) &&
	     (cmos(0x0d) & 0x80) && century == 0x20 && month >= 1 && month <= 0x12;
	result(ok, "cmos");
	puts(" mem=");
	putu(mem_kb);
	puts("K year=");
	putx(century << 8 | year);
	puts("\n");
}

static uint64_t fwcfg(uint16_t key, int bytes)
{
	uint64_t v = 0;
	int i;

	outw(0x510, key);
	for (i = 0; i < bytes; i++)
		v |= (uint64_t)inb(0x511) << (8 * i);
	return v;
}

static void check_fwcfg(void)
{
	uint64_t sig = fwcfg(0, 4), cpus = fwcfg(5, 2), ram = fwcfg(3, 8), max = fwcfg(0x11, 8);
	int ok = sig == 0x554d4551 && cpus >= 1 && ram == 1048576 + mbi->mem_upper * 1024ULL &&
		 max == 0;

	result(ok, "fwcfg");
	puts(" sig=");
	putc_raw(sig), putc_raw(sig >> 8), putc_raw(sig >> 16), putc_raw(sig >> 24);
	puts(" cpus=");
	putu(cpus);
	puts(" ram=");
	putu(ram >> 20);
	puts("M max_ram=");
	putu(max);
	puts("\n");
}

static void check_pci(void)
{
	uint32_t addr, data;

	outl(0xcf8, 0x80000000);
	addr = inl(0xcf8);
	data = inl(0xcfc);
	outl(0xcf8, 0x80000800);	/* bus 0, device 1 */
	data &= inl(0xcfc);
	result(addr == 0x80000000 && data == 0xffffffff, "pci");
	puts(" addr=");
	putx(addr);
	puts(" data=");
	putx(data);
	puts("\n");
}

static void check_ports(void)
{
	uint8_t b = inb(0x2f8);		/* COM2: not there */
	uint32_t l = inl(0x300);

	result(b == 0xff && l == 0xffffffff, "ports");
	puts(" 0x2f8=");
	putx(b);
	puts(" 0x300=");
	putx(l);
	puts("\n");
}

static void check_pit2(void)
{
	uint8_t before, after = 0;
	unsigned long spins = 0;

	outb(0x61, (inb(0x61) & ~0x02) | 0x01);	/* gate 2 on, speaker off */
	outb(0x43, 0xb0);			/* channel 2, LSB/MSB, mode 0 */
	outb(0x42, 11932 & 0xff);		/* 10 ms */
	outb(0x42, 11932 >> 8);
	before = inb(0x61) & 0x20;
	while (!after && spins < 100000000) {
		after = inb(0x61) & 0x20;
		spins++;
	}
	result(!before && after, "pit2");
	puts(" polls=");
	putu(spins);
	puts("\n");
}

static void check_timer(void)
{
	unsigned int start;

	irq_count[0] = 0;
	outb(0x43, 0x34);			/* channel 0, LSB/MSB, mode 2 */
	outb(0x40, 11932 & 0xff);		/* 100 Hz */
	outb(0x40, 11932 >> 8);
	unmask(0);
	start = irq_count[0];
	while (irq_count[0] - start < 50)
		wait_for_interrupt();
	mask(0);
	result(1, "timer");
	puts(" irq0=");
	putu(irq_count[0] - start);
	puts("\n");
}

static void check_spin(void)
{
	unsigned int start;
	unsigned long spins = 0;

	outb(0x43, 0x34);			/* channel 0, LSB/MSB, mode 2 */
	outb(0x40, 11932 & 0xff);		/* 100 Hz */
	outb(0x40, 11932 >> 8);
	unmask(0);
	start = irq_count[0];
	__asm__ volatile("sti");
	while (irq_count[0] - start < 20)
		spins++;
	__asm__ volatile("cli");
	mask(0);
	result(1, "spin");
	puts(" irq0=");
	putu(irq_count[0] - start);
	puts("\n");
	(void)spins;
}

static uint8_t ocw3_read(uint8_t cmd)
{
	outb(0x20, cmd);
	return inb(0x20);
}

static void check_pic(void)
{
	uint8_t imr, elcr0, elcr1, irr = 0, scratch;
	unsigned int n, before;
	int ok;

	outb(0x21, 0xa5);
	imr = inb(0x21);
	outb(0x21, 0xff);
	outb(0x4d0, 0xff);
	outb(0x4d1, 0xff);
	elcr0 = inb(0x4d0);
	elcr1 = inb(0x4d1);
	outb(0x4d0, 0);
	outb(0x4d1, 0);
	outb(0x70, 0x40);
	outb(0x71, 0x5a);
	outb(0x70, 0x41);
	outb(0x71, 0x00);
	outb(0x70, 0x40);
	scratch = inb(0x71);

	/* IRQ 0 masked: one PIT shot (mode 0, 2 ms) shows in IRR only. */
	before = irq_count[0];
	__asm__ volatile("sti");
	outb(0x43, 0x30);
	outb(0x40, 2386 & 0xff);
	outb(0x40, 2386 >> 8);
	for (n = 0; n < 10000000 && !(irr & 1); n++)
		irr = ocw3_read(0x0a);
	for (n = 0; n < 1000; n++)
		inb(0x80);			/* exits: time to deliver if it would */
	ok = imr == 0xa5 && elcr0 == 0xf8 && elcr1 == 0xde && scratch == 0x5a && (irr & 1) &&
	     irq_count[0] == before;
	/* Unmasked, it is delivered, and IRR is clear again. */
	unmask(0);
	for (n = 0; n < 1000000 && irq_count[0] == before; n++)
		__asm__ volatile("pause");
	__asm__ volatile("cli");
	mask(0);
	ok = ok && irq_count[0] == before + 1 && !(ocw3_read(0x0a) & 1);
	result(ok, "pic");
	puts(" imr=");
	putx(imr);
	puts(" elcr=");
	putx(elcr1 << 8 | elcr0);
	puts(" irr=");
	putx(irr);
	puts(" scratch=");
	putx(scratch);
	puts("\n");
}

static volatile uint8_t last_iir;
static char rx_line[128];
static volatile unsigned int rx_len;
static volatile int rx_done;

/* Reads IIR (which clears THRI) and drains received bytes into rx_line. */
void uart_irq(void)
{
	uint8_t iir = inb(COM1 + 2);

	last_iir = iir;
	while (inb(COM1 + 5) & 1) {
		char c = inb(COM1);

		if (c == '\n' || c == '\r')
			rx_done = 1;
		else if (rx_len < sizeof(rx_line) - 1)
			rx_line[rx_len++] = c;
	}
}

static void check_thre(void)
{
	unsigned int n;
	int ok;

	unmask(4);
	irq_count[4] = 0;
	__asm__ volatile("sti");
	outb(COM1 + 1, 0x02);			/* IER: THRI */
	for (n = 0; n < 1000000 && !irq_count[4]; n++)
		__asm__ volatile("pause");
	ok = irq_count[4] == 1 && (last_iir & 0x0f) == 0x02;
	/* A write empties THR at once: one more interrupt. */
	outb(COM1, '.');
	for (n = 0; n < 1000000 && irq_count[4] < 2; n++)
		__asm__ volatile("pause");
	ok = ok && irq_count[4] == 2 && (inb(COM1 + 2) & 0x01);
	outb(COM1 + 1, 0x00);
	__asm__ volatile("cli");
	mask(4);
	result(ok, "thre");
	puts(" irq4=");
	putu(irq_count[4]);
	puts(" iir=");
	putx(last_iir);
	puts("\n");
}

static void check_echo(void)
{
	rx_len = 0;
	rx_done = 0;
	unmask(4);
	outb(COM1 + 2, 0x01);			/* FIFO on (not cleared: input may be waiting) */
	outb(COM1 + 1, 0x01);			/* IER: received data */
	while (!rx_done)
		wait_for_interrupt();
	outb(COM1 + 1, 0x00);
	mask(4);
	rx_line[rx_len] = 0;
	result(rx_len > 0, "echo");
	puts(" line='");
	puts(rx_line);
	puts("'\n");
}

#define MMIO_ADDR	0xfeb00000u	/* far above RAM: no device */

static void check_mmio(void)
{
	volatile uint32_t *p = (volatile uint32_t *)MMIO_ADDR;
	uint32_t buf[4] = { 1, 2, 3, 4 }, a, b, c, d, s, i;
	uint8_t zf, cf;
	int ok = 1, n = 0;

	/* MOV, MOVZX, MOVSX */
	a = *p;
	ok &= a == 0xffffffff, n++;
	__asm__ volatile("movzbl (%1), %0" : "=r"(a) : "r"(p));
	ok &= a == 0xff, n++;
	__asm__ volatile("movswl (%1), %0" : "=r"(a) : "r"(p));
	ok &= a == 0xffffffff, n++;
	*p = 0x12345678;			/* dropped */
	ok &= *p == 0xffffffff, n++;
	/* ALU with memory as source and as destination, TEST, CMP */
	a = 0x12345678;
	__asm__ volatile("andl (%1), %0" : "+r"(a) : "r"(p));
	ok &= a == 0x12345678, n++;
	__asm__ volatile("addl $1, (%0)" :: "r"(p) : "memory", "cc");
	__asm__ volatile("orl %1, (%2); xorl %1, (%2); subl $3, (%2)" : "+r"(a) : "r"(a), "r"(p) : "memory", "cc");
	__asm__ volatile("cmpl $-1, (%1); sete %0" : "=q"(zf) : "r"(p) : "cc");
	ok &= zf == 1, n++;
	__asm__ volatile("testb $0x80, (%1); sete %0" : "=q"(zf) : "r"(p) : "cc");
	ok &= zf == 0, n++;
	/* XCHG, BT */
	a = 5;
	__asm__ volatile("xchgl %0, (%1)" : "+r"(a) : "r"(p) : "memory");
	ok &= a == 0xffffffff, n++;
	__asm__ volatile("btl $5, (%1); setc %0" : "=q"(cf) : "r"(p) : "cc");
	ok &= cf == 1, n++;
	__asm__ volatile("btsl $6, (%1); setc %0" : "=q"(cf) : "r"(p) : "cc", "memory");
	ok &= cf == 1, n++;
	/* REP STOS, LODS, REP MOVS in both directions */
	c = 4;
	d = MMIO_ADDR;
	__asm__ volatile("cld; rep stosl" : "+c"(c), "+D"(d) : "a"(0x11111111) : "memory");
	ok &= c == 0 && d == MMIO_ADDR + 16, n++;
	s = MMIO_ADDR;
	__asm__ volatile("lodsl" : "=a"(a), "+S"(s) :: "memory");
	ok &= a == 0xffffffff && s == MMIO_ADDR + 4, n++;
	c = 4;
	s = MMIO_ADDR;
	d = (uint32_t)buf;
	__asm__ volatile("rep movsl" : "+c"(c), "+S"(s), "+D"(d) :: "memory");
	for (i = 0; i < 4; i++)
		ok &= buf[i] == 0xffffffff;
	ok &= c == 0 && d == (uint32_t)buf + 16, n++;
	buf[0] = 0x01020304;
	c = 3;
	s = (uint32_t)buf;
	d = MMIO_ADDR;
	__asm__ volatile("rep movsb" : "+c"(c), "+S"(s), "+D"(d) :: "memory");
	ok &= c == 0 && s == (uint32_t)buf + 3 && d == MMIO_ADDR + 3, n++;
	b = *p;
	ok &= b == 0xffffffff, n++;
	result(ok, "mmio");
	puts(" checks=");
	putu(n);
	puts("\n");
}

static void triple_fault(void)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) idtr = { 0, 0 };

	__asm__ volatile("lidt %0; int $3" :: "m"(idtr));
}

static uint32_t parse_u(const char *s)
{
	uint32_t v = 0;

	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return v;
}

static uint8_t sum8(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return sum;
}

/* The MP table, as Linux and FreeBSD find it: the floating pointer on a 16-byte boundary. */
static void check_mptable(void)
{
	const uint8_t *mpf = 0, *mpc, *e;
	uint32_t a, cpus = 0, ids_ok = 1, bsp = 0, ioapic = 0, pin0 = 99, pin4 = 99, lint = 0;
	uint16_t i, n;

	for (a = 0xf0000; a < 0x100000 && !mpf; a += 16) {
		const uint8_t *p = (const uint8_t *)a;

		if (p[0] == '_' && p[1] == 'M' && p[2] == 'P' && p[3] == '_' && !sum8(p, 16))
			mpf = p;
	}
	if (!mpf) {
		result(0, "mptable");
		puts(" no floating pointer\n");
		return;
	}
	mpc = (const uint8_t *)*(const uint32_t *)(mpf + 4);
	if (mpc[0] != 'P' || mpc[1] != 'C' || mpc[2] != 'M' || mpc[3] != 'P' ||
	    sum8(mpc, *(const uint16_t *)(mpc + 4))) {
		result(0, "mptable");
		puts(" bad configuration table\n");
		return;
	}
	n = *(const uint16_t *)(mpc + 34);
	e = mpc + 44;
	for (i = 0; i < n; i++) {
		switch (e[0]) {
		case 0:		/* processor: APIC ID, version, flags */
			if (e[1] != cpus || !(e[3] & 1))
				ids_ok = 0;
			if (e[3] & 2)
				bsp |= 1U << (e[1] & 31);
			cpus++;
			e += 20;
			break;
		case 2:		/* I/O APIC */
			ioapic = *(const uint32_t *)(e + 4);
			e += 8;
			break;
		case 3:		/* I/O interrupt: type, flags, bus, bus IRQ, I/O APIC, pin */
			if (e[1] == 0 && e[5] == 0)
				pin0 = e[7];
			if (e[1] == 0 && e[5] == 4)
				pin4 = e[7];
			e += 8;
			break;
		case 4:		/* local interrupt: ExtINT on LINT0, NMI on LINT1 */
			if (e[1] == 3 && e[7] == 0)
				lint |= 1;
			if (e[1] == 1 && e[7] == 1)
				lint |= 2;
			e += 8;
			break;
		default:	/* bus */
			e += 8;
			break;
		}
	}
	result(cpus >= 1 && ids_ok && bsp == 1 && ioapic == 0xfec00000 && pin0 == 2 &&
	       pin4 == 4 && lint == 3, "mptable");
	puts(" cpus=");
	putu(cpus);
	puts(" ioapic=");
	putx(ioapic);
	puts(" irq0=pin");
	putu(pin0);
	puts(" irq4=pin");
	putu(pin4);
	puts("\n");
}

/* Runs one word of the command line. */
static void run_word(const char *w)
{
	if (streq(w, "boot"))
		check_boot();
	else if (streq(w, "modules"))
		check_modules();
	else if (streq(w, "cmos"))
		check_cmos();
	else if (streq(w, "fwcfg"))
		check_fwcfg();
	else if (streq(w, "mptable"))
		check_mptable();
	else if (streq(w, "pci"))
		check_pci();
	else if (streq(w, "ports"))
		check_ports();
	else if (streq(w, "pit2"))
		check_pit2();
	else if (streq(w, "timer"))
		check_timer();
	else if (streq(w, "thre"))
		check_thre();
	else if (streq(w, "echo"))
		check_echo();
	else if (streq(w, "mmio"))
		check_mmio();
	else if (streq(w, "spin"))
		check_spin();
	else if (streq(w, "pic"))
		check_pic();
	else if (startswith(w, "exit=")) {
		puts("mbkernel: done, failures=");
		putu(failures);
		puts("\n");
		outl(0xf4, failures ? 0x7e : parse_u(w + 5));
	} else if (streq(w, "halt")) {
		puts("mbkernel: halting\n");
		__asm__ volatile("cli; hlt");
	} else if (streq(w, "reset-kbd")) {
		outb(0x64, 0xfe);
	} else if (streq(w, "reset-cf9")) {
		outb(0xcf9, 0x06);
	} else if (streq(w, "reset-92")) {
		outb(0x92, inb(0x92) | 1);
	} else if (streq(w, "triple")) {
		triple_fault();
	} else {
		puts("mbkernel: FAIL unknown word ");
		puts(w);
		puts("\n");
		failures++;
	}
}

static void run_words(const char *p)
{
	char word[64];
	unsigned int n;

	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		for (n = 0; *p && *p != ' ' && n < sizeof(word) - 1; n++)
			word[n] = *p++;
		word[n] = 0;
		run_word(word);
	}
	puts("mbkernel: end of command line\n");
}

void kernel_main(uint32_t boot_magic, struct mb_info *info);
void kernel_main(uint32_t boot_magic, struct mb_info *info)
{
	const char *p;

	magic = boot_magic;
	mbi = info;
	puts("mbkernel: start\n");
	setup_interrupts();
	if (magic != MB_BOOT_MAGIC || !(mbi->flags & 4)) {
		puts("mbkernel: FAIL no multiboot command line\n");
		outl(0xf4, 0x7d);
	}
	/* Skip the program name, then run each word. */
	p = (const char *)mbi->cmdline;
	while (*p && *p != ' ')
		p++;
	run_words(p);
}

/* PVH boot (hvx-run --kernel): struct hvm_start_info, version 1. */
struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

/*
 * Checks the start info, then describes it as a multiboot info so that
 * the same checks run: mem_upper from the RAM entry at 1M, the modules.
 */
void pvh_main(struct hvm_start_info *si);
void pvh_main(struct hvm_start_info *si)
{
	static struct mb_info info;
	static struct mb_module mods[4];
	struct hvm_memmap_entry *mm = (struct hvm_memmap_entry *)(uint32_t)si->memmap_paddr;
	struct hvm_modlist_entry *ml = (struct hvm_modlist_entry *)(uint32_t)si->modlist_paddr;
	uint32_t i;
	int ok;

	puts("mbkernel: start\n");
	setup_interrupts();
	ok = si->magic == 0x336ec578 && si->version >= 1 && si->cmdline_paddr &&
	     si->memmap_entries > 0 && si->nr_modules <= 4;
	for (i = 0; ok && i < si->memmap_entries; i++) {
		if (mm[i].type == 1 && mm[i].addr == 0x100000)
			info.mem_upper = mm[i].size / 1024;
	}
	info.flags = 0x05;
	info.mem_lower = 639;
	info.cmdline = (uint32_t)si->cmdline_paddr;
	for (i = 0; ok && i < si->nr_modules; i++) {
		mods[i].start = ml[i].paddr;
		mods[i].end = ml[i].paddr + ml[i].size;
		mods[i].string = ml[i].cmdline_paddr ? (uint32_t)ml[i].cmdline_paddr :
						       (uint32_t)"";
	}
	if (si->nr_modules) {
		info.flags |= 8;
		info.mods_count = si->nr_modules;
		info.mods_addr = (uint32_t)mods;
	}
	mbi = &info;
	ok = ok && info.mem_upper;
	result(ok, "pvh");
	puts(" version=");
	putu(si->version);
	puts(" memmap=");
	putu(si->memmap_entries);
	puts(" mem_upper=");
	putu(info.mem_upper);
	puts("K modules=");
	putu(si->nr_modules);
	puts(" cmdline=");
	puts((const char *)info.cmdline);
	puts("\n");
	if (!ok)
		outl(0xf4, 0x7c);
	run_words((const char *)info.cmdline);
}
