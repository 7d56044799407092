// SPDX-License-Identifier: GPL-2.0
/*
 * Guest code for apic_test.c, in C (lib/guest_c.h): the in-kernel local
 * APIC seen from the guest.  Each vCPU counts the interrupts it takes by
 * vector (ticks[apic id][vector]) and when it took the last one; the
 * handlers send EOI.  The host passes the TSC frequency in kHz where time
 * matters.
 */
#include "guest_c.h"

#define APIC_BASE	0xfee00000UL
#define APIC_ID		0x20
#define APIC_LVR	0x30
#define APIC_TPR	0x80
#define APIC_PPR	0xa0
#define APIC_EOI	0xb0
#define APIC_LDR	0xd0
#define APIC_DFR	0xe0
#define APIC_SVR	0xf0
#define APIC_ISR	0x100
#define APIC_IRR	0x200
#define APIC_ESR	0x280
#define APIC_ICR	0x300
#define APIC_ICR2	0x310
#define APIC_LVTT	0x320
#define APIC_LVT0	0x350
#define APIC_LVTERR	0x370
#define APIC_TMICT	0x380
#define APIC_TMCCT	0x390
#define APIC_TDCR	0x3e0

#define MSR_APIC_BASE	0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define MSR_X2APIC(off)	(0x800 + ((off) >> 4))

#define NCPU		8
#define SECOND(khz)	((khz) * 1000)	/* TSC cycles in a second */
#define AP_FLAG_GPA	0x9100	/* the real-mode code's flag (apic_test.c) */

volatile uint32_t ticks[NCPU][256];
volatile uint64_t tick_tsc[NCPU][256];
volatile uint32_t gp_count;
volatile uint32_t ready[NCPU];
volatile uint32_t stop;
static volatile int x2mode;
/* A vector whose handler runs hook() before its EOI. */
static volatile uint32_t hook_vector;
static void (*volatile hook)(void);

static struct { uint64_t lo, hi; } idt[256] __attribute__((aligned(16)));

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* RDMSR and WRMSR: a #GP is counted in gp_count and skipped. */
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo = 0, hi = 0;

	asm volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* The accesses hvx decodes: MOV from and to a register, MOV of an immediate. */
static inline uint32_t mmio_rd(uint64_t addr)
{
	uint32_t v;

	asm volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void mmio_wr(uint64_t addr, uint32_t v)
{
	asm volatile("movl %1, (%0)" : : "r"(addr), "r"(v) : "memory");
}

static inline uint32_t apic_rd(uint32_t off)
{
	return mmio_rd(APIC_BASE + off);
}

static inline void apic_wr(uint32_t off, uint32_t v)
{
	mmio_wr(APIC_BASE + off, v);
}

static uint32_t apic_id(void)
{
	return x2mode ? (uint32_t)rdmsr(MSR_X2APIC(APIC_ID)) : apic_rd(APIC_ID) >> 24;
}

static void eoi(void)
{
	if (x2mode)
		wrmsr(MSR_X2APIC(APIC_EOI), 0);
	else
		apic_wr(APIC_EOI, 0);
}

static void cpuid(uint32_t fn, uint32_t idx, uint32_t *r)
{
	asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
		     : "a"(fn), "c"(idx));
}

void guest_irq(uint64_t vec) __attribute__((used));
void guest_irq(uint64_t vec)
{
	uint32_t cpu = apic_id() % NCPU;

	tick_tsc[cpu][vec] = rdtsc();
	ticks[cpu][vec]++;
	if (vec == hook_vector && hook)
		hook();
	if (vec != 2)
		eoi();
}

/* Interrupt stubs: save the caller-saved registers, guest_irq(vector), IRET. */
#define IRQ_STUB(v)							\
	asm(".pushsection .text\n"					\
	    "irq_stub_" #v ":\n"					\
	    "	push %rax; push %rcx; push %rdx; push %rsi; push %rdi\n"	\
	    "	push %r8; push %r9; push %r10; push %r11\n"		\
	    "	mov $" #v ", %edi\n"					\
	    "	call guest_irq\n"					\
	    "	pop %r11; pop %r10; pop %r9; pop %r8\n"			\
	    "	pop %rdi; pop %rsi; pop %rdx; pop %rcx; pop %rax\n"	\
	    "	iretq\n"						\
	    ".popsection\n");						\
	extern char irq_stub_##v[]

IRQ_STUB(2);
IRQ_STUB(64);	/* 0x40: the timer */
IRQ_STUB(69);	/* 0x45 */
IRQ_STUB(80);	/* 0x50 */
IRQ_STUB(81);
IRQ_STUB(82);
IRQ_STUB(83);
IRQ_STUB(84);
IRQ_STUB(85);
IRQ_STUB(96);	/* 0x60: APIC errors */
IRQ_STUB(97);	/* 0x61: MSIs */
IRQ_STUB(101);	/* 0x65 */
IRQ_STUB(112);	/* 0x70 */
IRQ_STUB(128);	/* 0x80 */
IRQ_STUB(144);	/* 0x90 */

/* #GP from RDMSR or WRMSR (two bytes): counted, and the instruction skipped. */
asm(".pushsection .text\n"
    "gp_stub:\n"
    "	add $8, %rsp\n"
    "	addq $2, (%rsp)\n"
    "	lock incl gp_count(%rip)\n"
    "	iretq\n"
    ".popsection\n");
extern char gp_stub[];

static void set_gate(int v, void *fn)
{
	uint64_t h = (uint64_t)fn;
	uint16_t cs;

	asm volatile("mov %%cs, %0" : "=r"(cs));
	idt[v].lo = (h & 0xffff) | ((uint64_t)cs << 16) | (0x8eULL << 40) |
		    ((h >> 16) & 0xffff) << 48;
	idt[v].hi = h >> 32;
}

/* The IDT (once: all vCPUs share it) and this vCPU's APIC software-enabled. */
static void apic_setup(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) d = {
		sizeof(idt) - 1, (uint64_t)idt,
	};

	if (!idt[13].lo) {
		set_gate(2, irq_stub_2);
		set_gate(13, gp_stub);
		set_gate(0x40, irq_stub_64);
		set_gate(0x45, irq_stub_69);
		set_gate(0x50, irq_stub_80);
		set_gate(0x51, irq_stub_81);
		set_gate(0x52, irq_stub_82);
		set_gate(0x53, irq_stub_83);
		set_gate(0x54, irq_stub_84);
		set_gate(0x55, irq_stub_85);
		set_gate(0x60, irq_stub_96);
		set_gate(0x61, irq_stub_97);
		set_gate(0x65, irq_stub_101);
		set_gate(0x70, irq_stub_112);
		set_gate(0x80, irq_stub_128);
		set_gate(0x90, irq_stub_144);
	}
	asm volatile("lidt %0" : : "m"(d));
	apic_wr(APIC_SVR, 0x1ff);
}

/* Sleeps in HLT until *@c reaches @n; interrupts stay on. */
static void wait_for(volatile uint32_t *c, uint32_t n)
{
	for (;;) {
		asm volatile("cli" ::: "memory");
		if (*c >= n)
			break;
		asm volatile("sti; hlt" ::: "memory");
	}
	asm volatile("sti" ::: "memory");
}

/* Spins with interrupts on for @cycles of the TSC. */
static void spin(uint64_t cycles)
{
	uint64_t t0 = rdtsc();

	asm volatile("sti" ::: "memory");
	while (rdtsc() - t0 < cycles)
		asm volatile("pause" ::: "memory");
}

/* Polls *@c (another vCPU writes it) until it reaches @n, for at most @cycles. */
static int poll_for(volatile uint32_t *c, uint32_t n, uint64_t cycles)
{
	uint64_t t0 = rdtsc();

	while (*c < n)
		if (rdtsc() - t0 > cycles)
			return 0;
	return 1;
}

/*
 * One-shot: a 1 ms count fires once, never early, reads back while it
 * runs and 0 after; a count of 0 stops it.  Reports the microseconds the
 * interrupt took.
 */
GUEST_ENTRY(apic_oneshot);
uint32_t apic_oneshot(uint64_t khz)
{
	uint32_t cur;
	uint64_t t0;

	apic_setup();
	apic_wr(APIC_TDCR, 0xb);	/* divide by 1 */
	apic_wr(APIC_LVTT, 0x40);
	t0 = rdtsc();
	apic_wr(APIC_TMICT, 1000000);
	wait_for(&ticks[0][0x40], 1);
	GUEST_ASSERT_EQ(tick_tsc[0][0x40] - t0 >= khz * 95 / 100, 1);
	GUEST_ASSERT_EQ(tick_tsc[0][0x40] - t0 < khz * 5000, 1);
	GUEST_REPORT((tick_tsc[0][0x40] - t0) * 1000 / khz);
	spin(khz * 3);
	GUEST_ASSERT_EQ(ticks[0][0x40], 1);
	GUEST_ASSERT_EQ(apic_rd(APIC_TMCCT), 0);

	/* A one-second count reads back below its start; 0 stops it. */
	apic_wr(APIC_TMICT, 1000000000);
	cur = apic_rd(APIC_TMCCT);
	GUEST_ASSERT_EQ(cur > 0 && cur <= 1000000000, 1);
	apic_wr(APIC_TMICT, 0);
	GUEST_ASSERT_EQ(apic_rd(APIC_TMCCT), 0);
	/* Divide by 2 (TDCR 0): 500000 ticks are 1 ms too. */
	apic_wr(APIC_TDCR, 0);
	t0 = rdtsc();
	apic_wr(APIC_TMICT, 500000);
	wait_for(&ticks[0][0x40], 2);
	GUEST_ASSERT_EQ(tick_tsc[0][0x40] - t0 >= khz * 95 / 100, 1);
	/* Masked: counts down, no interrupt. */
	apic_wr(APIC_LVTT, 0x10040);
	apic_wr(APIC_TMICT, 1000);
	spin(khz * 2);
	GUEST_ASSERT_EQ(ticks[0][0x40], 2);
	return 1;
}

/* Periodic: five 1 ms periods take at least 5 ms; a count of 0 stops it. */
GUEST_ENTRY(apic_periodic);
uint32_t apic_periodic(uint64_t khz)
{
	uint32_t n;
	uint64_t t0;

	apic_setup();
	apic_wr(APIC_TDCR, 0xb);
	apic_wr(APIC_LVTT, 0x40 | (1 << 17));
	t0 = rdtsc();
	apic_wr(APIC_TMICT, 1000000);
	wait_for(&ticks[0][0x40], 5);
	GUEST_ASSERT_EQ(tick_tsc[0][0x40] - t0 >= khz * 5 * 95 / 100, 1);
	GUEST_REPORT((tick_tsc[0][0x40] - t0) * 1000 / khz);
	apic_wr(APIC_TMICT, 0);
	n = ticks[0][0x40];
	spin(khz * 5);
	/* One may have been on its way when the count stopped. */
	GUEST_ASSERT_EQ(ticks[0][0x40] <= n + 1, 1);
	return 1;
}

/*
 * TSC-deadline: fires once the guest's TSC reaches the deadline, never
 * before; the MSR reads back until then and 0 after; a past deadline
 * fires at once; 0 disarms; a mode change disarms.
 */
GUEST_ENTRY(apic_deadline);
uint32_t apic_deadline(uint64_t khz)
{
	uint32_t r[4];
	uint64_t d;

	cpuid(1, 0, r);
	GUEST_ASSERT_EQ((r[2] >> 24) & 1, 1);
	/* The frequencies: leaf 0x40000010 as HVX_CAP_TSC_KHZ (@khz), and 0x15. */
	cpuid(0x40000010, 0, r);
	GUEST_ASSERT_EQ(r[1], 1000000);
	GUEST_ASSERT_EQ(r[0], khz);
	/*
	 * Leaf 0x15 as Linux reads it: crystal kHz * EBX / EAX in 32 bits,
	 * so EBX stays at most 4294; within 0.1% of leaf 0x40000010's kHz.
	 */
	cpuid(0x15, 0, r);
	GUEST_ASSERT_EQ(r[2], 1000000000);
	GUEST_ASSERT_EQ(r[0] != 0 && r[1] != 0 && r[1] <= 4294, 1);
	d = (uint64_t)(uint32_t)(1000000U * r[1]) / r[0];
	GUEST_ASSERT_EQ(1000000ULL * r[1] / r[0], d);
	cpuid(0x40000010, 0, r + 0);
	GUEST_ASSERT_EQ(d > r[0] - r[0] / 1000 && d < r[0] + r[0] / 1000, 1);
	apic_setup();
	apic_wr(APIC_LVTT, 0x40 | (2 << 17));
	apic_wr(APIC_TMICT, 1000);	/* ignored in this mode */
	GUEST_ASSERT_EQ(apic_rd(APIC_TMCCT), 0);
	/* A second ahead: it reads back however slow the exit is. */
	d = rdtsc() + SECOND(khz);
	wrmsr(MSR_TSC_DEADLINE, d);
	GUEST_ASSERT_EQ(rdmsr(MSR_TSC_DEADLINE), d);
	d = rdtsc() + khz;
	wrmsr(MSR_TSC_DEADLINE, d);
	wait_for(&ticks[0][0x40], 1);
	GUEST_ASSERT_EQ(tick_tsc[0][0x40] >= d, 1);
	GUEST_REPORT((tick_tsc[0][0x40] - d) * 1000 / khz);
	GUEST_ASSERT_EQ(rdmsr(MSR_TSC_DEADLINE), 0);

	wrmsr(MSR_TSC_DEADLINE, rdtsc() - 1000);
	wait_for(&ticks[0][0x40], 2);

	wrmsr(MSR_TSC_DEADLINE, rdtsc() + SECOND(khz));
	wrmsr(MSR_TSC_DEADLINE, 0);
	spin(khz * 3);
	GUEST_ASSERT_EQ(ticks[0][0x40], 2);

	wrmsr(MSR_TSC_DEADLINE, rdtsc() + SECOND(khz));
	apic_wr(APIC_LVTT, 0x40);
	GUEST_ASSERT_EQ(rdmsr(MSR_TSC_DEADLINE), 0);
	spin(khz * 3);
	GUEST_ASSERT_EQ(ticks[0][0x40], 2);
	GUEST_ASSERT_EQ(gp_count, 0);
	return 1;
}

/* IA32_APIC_BASE, CPUID, and x2APIC mode with its #GP rules (SDM §11.12). */
GUEST_ENTRY(apic_x2apic);
uint32_t apic_x2apic(uint64_t arg)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	uint32_t r[4];

	(void)arg;
	apic_setup();
	GUEST_ASSERT_EQ(base, 0xfee00000 | (1 << 11) | (1 << 8));
	cpuid(1, 0, r);
	GUEST_ASSERT_EQ(r[1] >> 24, 0);
	GUEST_ASSERT_EQ((r[2] >> 21) & 1, 1);
	GUEST_ASSERT_EQ((r[3] >> 9) & 1, 1);
	GUEST_ASSERT_EQ(apic_rd(APIC_LVR), 0x50014);

	/* xAPIC mode: no x2APIC MSRs. */
	rdmsr(MSR_X2APIC(APIC_ID));
	GUEST_ASSERT_EQ(gp_count, 1);

	wrmsr(MSR_APIC_BASE, base | (1 << 10));
	x2mode = 1;
	GUEST_ASSERT_EQ(rdmsr(MSR_APIC_BASE), base | (1 << 10));
	GUEST_ASSERT_EQ(rdmsr(MSR_X2APIC(APIC_ID)), 0);
	GUEST_ASSERT_EQ(rdmsr(MSR_X2APIC(APIC_LDR)), 1);
	GUEST_ASSERT_EQ(rdmsr(MSR_X2APIC(APIC_LVR)), 0x50014);
	GUEST_ASSERT_EQ(rdmsr(MSR_X2APIC(APIC_SVR)), 0x1ff);

	/* Self IPI, ICR with the self shorthand, ICR to its own ID. */
	asm volatile("sti");
	wrmsr(0x83f, 0x50);
	wait_for(&ticks[0][0x50], 1);
	wrmsr(MSR_X2APIC(APIC_ICR), 0x40051);
	wait_for(&ticks[0][0x51], 1);
	wrmsr(MSR_X2APIC(APIC_ICR), 0x52);
	wait_for(&ticks[0][0x52], 1);
	GUEST_ASSERT_EQ(gp_count, 1);

	/* #GP: reserved bits, registers x2APIC lacks, read-only and write-only ones. */
	wrmsr(MSR_X2APIC(APIC_TPR), 0x100);
	GUEST_ASSERT_EQ(gp_count, 2);
	rdmsr(MSR_X2APIC(APIC_DFR));
	GUEST_ASSERT_EQ(gp_count, 3);
	wrmsr(MSR_X2APIC(APIC_EOI), 1);
	GUEST_ASSERT_EQ(gp_count, 4);
	rdmsr(MSR_X2APIC(APIC_EOI));
	GUEST_ASSERT_EQ(gp_count, 5);
	wrmsr(MSR_X2APIC(APIC_ID), 5);
	GUEST_ASSERT_EQ(gp_count, 6);
	wrmsr(MSR_X2APIC(APIC_ICR), 1 << 13);
	GUEST_ASSERT_EQ(gp_count, 7);
	rdmsr(MSR_X2APIC(APIC_ICR2));
	GUEST_ASSERT_EQ(gp_count, 8);
	/* x2APIC to xAPIC directly is not allowed ... */
	wrmsr(MSR_APIC_BASE, base);
	GUEST_ASSERT_EQ(gp_count, 9);
	GUEST_ASSERT_EQ(rdmsr(MSR_APIC_BASE), base | (1 << 10));
	/* ... through disabled it is; disabled to x2APIC is not. */
	wrmsr(MSR_APIC_BASE, base & ~(3ULL << 10));
	x2mode = 0;
	cpuid(1, 0, r);
	GUEST_ASSERT_EQ((r[3] >> 9) & 1, 0);
	wrmsr(MSR_APIC_BASE, base | (1 << 10));
	GUEST_ASSERT_EQ(gp_count, 10);
	wrmsr(MSR_APIC_BASE, (base & ~(1ULL << 11)) | (1 << 10));
	GUEST_ASSERT_EQ(gp_count, 11);
	wrmsr(MSR_APIC_BASE, base);
	GUEST_ASSERT_EQ(rdmsr(MSR_APIC_BASE), base);
	GUEST_ASSERT_EQ(apic_rd(APIC_ID), 0);
	/* BSP is not the guest's to change. */
	wrmsr(MSR_APIC_BASE, base & ~(1ULL << 8));
	GUEST_ASSERT_EQ(rdmsr(MSR_APIC_BASE), base);
	GUEST_ASSERT_EQ(gp_count, 11);
	return 1;
}

static volatile uint32_t seen_in_handler[3];

/* In the 0x80 handler: a lower vector waits for the EOI, a higher one nests. */
static void nest_hook(void)
{
	asm volatile("sti");
	apic_wr(APIC_ICR, 0x40070);
	apic_wr(APIC_ICR, 0x40090);
	spin(100000);
	seen_in_handler[0] = ticks[0][0x70];
	seen_in_handler[1] = ticks[0][0x90];
	seen_in_handler[2] = apic_rd(APIC_ISR + 0x40) & 1;	/* vector 0x80 */
	asm volatile("cli");
}

/* TPR, PPR, CR8, IRR and ISR: what masks an interrupt, and what EOI frees. */
GUEST_ENTRY(apic_priority);
uint32_t apic_priority(uint64_t arg)
{
	uint64_t cr8;

	(void)arg;
	apic_setup();
	apic_wr(APIC_TPR, 0x50);
	apic_wr(APIC_ICR, 0x40045);
	spin(100000);
	GUEST_ASSERT_EQ(ticks[0][0x45], 0);
	GUEST_ASSERT_EQ(apic_rd(APIC_PPR), 0x50);
	GUEST_ASSERT_EQ((apic_rd(APIC_IRR + 0x20) >> 5) & 1, 1);
	apic_wr(APIC_TPR, 0);
	spin(1000);
	GUEST_ASSERT_EQ(ticks[0][0x45], 1);
	GUEST_ASSERT_EQ((apic_rd(APIC_IRR + 0x20) >> 5) & 1, 0);

	/* CR8 is TPR[7:4]. */
	asm volatile("mov %0, %%cr8" : : "r"(6ULL));
	GUEST_ASSERT_EQ(apic_rd(APIC_TPR), 0x60);
	apic_wr(APIC_ICR, 0x40065);
	spin(100000);
	GUEST_ASSERT_EQ(ticks[0][0x65], 0);
	asm volatile("mov %%cr8, %0" : "=r"(cr8));
	GUEST_ASSERT_EQ(cr8, 6);
	asm volatile("mov %0, %%cr8" : : "r"(0ULL));
	spin(1000);
	GUEST_ASSERT_EQ(ticks[0][0x65], 1);
	apic_wr(APIC_TPR, 0x5f);
	asm volatile("mov %%cr8, %0" : "=r"(cr8));
	GUEST_ASSERT_EQ(cr8, 5);
	apic_wr(APIC_TPR, 0);

	/* ISR: what is in service holds back its class and below. */
	hook_vector = 0x80;
	hook = nest_hook;
	apic_wr(APIC_ICR, 0x40080);
	wait_for(&ticks[0][0x70], 1);
	GUEST_ASSERT_EQ(ticks[0][0x80], 1);
	GUEST_ASSERT_EQ(seen_in_handler[0], 0);
	GUEST_ASSERT_EQ(seen_in_handler[1], 1);
	GUEST_ASSERT_EQ(seen_in_handler[2], 1);
	GUEST_ASSERT_EQ(apic_rd(APIC_ISR + 0x40), 0);
	GUEST_ASSERT_EQ(apic_rd(APIC_PPR), 0);
	hook = 0;

	/* A software-disabled APIC drops fixed interrupts. */
	apic_wr(APIC_SVR, 0xff);
	apic_wr(APIC_ICR, 0x40045);
	apic_wr(APIC_SVR, 0x1ff);
	spin(10000);
	GUEST_ASSERT_EQ(ticks[0][0x45], 1);
	/* An immediate store (c7) and a 16-bit read decode too. */
	asm volatile("movl $0x30, (%0)" : : "r"(APIC_BASE + APIC_TPR) : "memory");
	GUEST_ASSERT_EQ(apic_rd(APIC_TPR), 0x30);
	{
		uint16_t v;

		asm volatile("movw (%1), %0" : "=r"(v) : "r"(APIC_BASE + APIC_SVR));
		GUEST_ASSERT_EQ(v, 0x1ff);
	}
	return 1;
}

/* Nonsense gets the architectural error (ESR, LVT error) and nothing else. */
GUEST_ENTRY(apic_errors);
uint32_t apic_errors(uint64_t khz)
{
	(void)khz;
	apic_setup();
	apic_wr(APIC_LVTERR, 0x60);
	asm volatile("sti");
	/* Fixed IPI with vector 3: send illegal vector. */
	apic_wr(APIC_ICR, 0x40003);
	wait_for(&ticks[0][0x60], 1);
	GUEST_ASSERT_EQ(apic_rd(APIC_ESR), 0);	/* not latched yet */
	apic_wr(APIC_ESR, 0);
	GUEST_ASSERT_EQ(apic_rd(APIC_ESR), 0x20);
	apic_wr(APIC_ESR, 0);
	GUEST_ASSERT_EQ(apic_rd(APIC_ESR), 0);
	/* An unimplemented register (CMCI): illegal register address. */
	GUEST_ASSERT_EQ(apic_rd(0x2f0), 0);
	wait_for(&ticks[0][0x60], 2);
	apic_wr(0x3f0, 0x45);		/* SELF IPI is x2APIC's only */
	wait_for(&ticks[0][0x60], 3);
	apic_wr(APIC_ESR, 0);
	GUEST_ASSERT_EQ(apic_rd(APIC_ESR), 0x80);
	GUEST_ASSERT_EQ(ticks[0][0x45], 0);
	/* The timer with vector 5: receive illegal vector. */
	apic_wr(APIC_TDCR, 0xb);
	apic_wr(APIC_LVTT, 5);
	apic_wr(APIC_TMICT, 1000);
	wait_for(&ticks[0][0x60], 4);
	apic_wr(APIC_ESR, 0);
	GUEST_ASSERT_EQ(apic_rd(APIC_ESR), 0x40);
	/* Reserved LVT bits are dropped; the APIC still works. */
	apic_wr(APIC_LVTT, 0xffffff40);
	GUEST_ASSERT_EQ(apic_rd(APIC_LVTT), 0x70040);
	apic_wr(APIC_LVTT, 0x40);
	apic_wr(APIC_ICR, 0x40045);
	wait_for(&ticks[0][0x45], 1);
	return 1;
}

/*
 * State round trip: TPR 0x30 and a long one-shot count, reported to the
 * host, which reads the state and sets TPR to 0x20; the guest sees it.
 */
GUEST_ENTRY(apic_state);
uint32_t apic_state(uint64_t arg)
{
	(void)arg;
	apic_setup();
	apic_wr(APIC_TPR, 0x30);
	apic_wr(APIC_TDCR, 0xb);
	apic_wr(APIC_LVTT, 0x10040);
	apic_wr(APIC_TMICT, 2000000000);
	GUEST_REPORT(1);
	GUEST_ASSERT_EQ(apic_rd(APIC_TPR), 0x20);
	GUEST_ASSERT_EQ(apic_rd(APIC_TMCCT) > 0, 1);
	return apic_rd(APIC_TMCCT) < 2000000000;
}

/*
 * MOV CR8 without exits (apic_test's cr8_without_exits): a thousand writes
 * and reads between reports 1 and 2, where the host counts the exits; an
 * interrupt the TPR holds back is taken right after the CR8 write that
 * frees it; CR8 7 at report 3, where the host sets TPR 0x20 instead.
 */
GUEST_ENTRY(apic_cr8);
uint32_t apic_cr8(uint64_t arg)
{
	uint64_t cr8, i;
	uint32_t seen;

	(void)arg;
	apic_setup();
	GUEST_REPORT(1);
	for (i = 0; i < 1000; i++) {
		asm volatile("mov %0, %%cr8" : : "r"(i & 15));
		asm volatile("mov %%cr8, %0" : "=r"(cr8));
		GUEST_ASSERT_EQ(cr8, i & 15);
	}
	asm volatile("mov %0, %%cr8" : : "r"(0ULL));
	GUEST_REPORT(2);

	asm volatile("mov %0, %%cr8" : : "r"(5ULL));
	apic_wr(APIC_ICR, 0x40055);
	spin(100000);
	GUEST_ASSERT_EQ(ticks[0][0x55], 0);
	GUEST_ASSERT_EQ(apic_rd(APIC_PPR), 0x50);
	asm volatile("mov %1, %%cr8\n\tmovl %2, %0"
		     : "=r"(seen) : "r"(4ULL), "m"(ticks[0][0x55]) : "memory");
	GUEST_ASSERT_EQ(seen, 1);
	GUEST_ASSERT_EQ(apic_rd(APIC_TPR), 0x40);

	asm volatile("mov %0, %%cr8" : : "r"(7ULL));
	GUEST_REPORT(3);
	asm volatile("mov %%cr8, %0" : "=r"(cr8));
	GUEST_ASSERT_EQ(cr8, 2);
	GUEST_ASSERT_EQ(apic_rd(APIC_TPR), 0x20);
	asm volatile("mov %0, %%cr8" : : "r"(0ULL));
	return 1;
}

/*
 * The PIC's interrupts and LINT0 (apic_test's pic_interrupts_need_lint0):
 * the host injects vector 0x60 at report 1, while LINT0 is as the BSP's
 * reset left it (ExtINT); LINT0 is masked from report 2 to past report 3;
 * unmasked, the host's window opens and it injects 0x61.
 */
GUEST_ENTRY(apic_lint0);
uint32_t apic_lint0(uint64_t arg)
{
	(void)arg;
	apic_setup();
	GUEST_ASSERT_EQ(apic_rd(APIC_LVT0), 0x700);
	asm volatile("sti" ::: "memory");
	GUEST_REPORT(1);
	wait_for(&ticks[0][0x60], 1);
	apic_wr(APIC_LVT0, 0x10700);
	GUEST_REPORT(2);
	spin(100000);
	GUEST_REPORT(3);
	apic_wr(APIC_LVT0, 0x700);
	wait_for(&ticks[0][0x61], 1);
	return 1;
}

/* Halts until an MSI (vector 0x61) from a host thread arrives. */
GUEST_ENTRY(apic_msi_wait);
uint32_t apic_msi_wait(uint64_t arg)
{
	(void)arg;
	apic_setup();
	GUEST_REPORT(1);
	wait_for(&ticks[0][0x61], 1);
	return ticks[0][0x61];
}

/* ---- the I/O APIC ---------------------------------------------------------- */

#define IOAPIC_BASE	0xfec00000UL
#define IOAPIC_RTE(pin)	(0x10 + 2 * (pin))

static uint32_t ioapic_rd(uint32_t reg)
{
	mmio_wr(IOAPIC_BASE, reg);
	return mmio_rd(IOAPIC_BASE + 0x10);
}

static void ioapic_wr(uint32_t reg, uint32_t v)
{
	mmio_wr(IOAPIC_BASE, reg);
	mmio_wr(IOAPIC_BASE + 0x10, v);
}

static volatile uint32_t remote_irr_seen;

/* The level pin's handler, before its EOI: tell the host how many so far. */
static void level_hook(void)
{
	remote_irr_seen += (ioapic_rd(IOAPIC_RTE(5)) >> 14) & 1;
	GUEST_REPORT(ticks[0][0x61]);
}

static void mask_pin6(void)
{
	ioapic_wr(IOAPIC_RTE(6), 0x70 | (1 << 15) | (1 << 16));
}

/*
 * Pin 3 edge (vector 0x65), pin 5 level (0x61), pin 6 masked (0x70).  The
 * host pulses 3 and 6 and raises 5 at the first report, and lowers 5 when
 * the third interrupt of pin 5 reports: each EOI before that sends it
 * again.
 */
GUEST_ENTRY(apic_ioapic);
uint32_t apic_ioapic(uint64_t arg)
{
	(void)arg;
	apic_setup();
	GUEST_ASSERT_EQ(ioapic_rd(1), 0x170011);
	GUEST_ASSERT_EQ(ioapic_rd(IOAPIC_RTE(3)), 0x10000);	/* masked at reset */
	ioapic_wr(IOAPIC_RTE(3) + 1, 0);
	ioapic_wr(IOAPIC_RTE(3), 0x65);
	ioapic_wr(IOAPIC_RTE(5) + 1, 0);
	ioapic_wr(IOAPIC_RTE(5), 0x61 | (1 << 15));
	ioapic_wr(IOAPIC_RTE(6), 0x70 | (1 << 16));
	GUEST_ASSERT_EQ(ioapic_rd(IOAPIC_RTE(5)), 0x8061);
	hook_vector = 0x61;
	hook = level_hook;
	asm volatile("sti");
	GUEST_REPORT(0x100);
	wait_for(&ticks[0][0x65], 1);
	wait_for(&ticks[0][0x61], 3);
	spin(100000);
	GUEST_ASSERT_EQ(ticks[0][0x61], 3);
	GUEST_ASSERT_EQ(remote_irr_seen, 3);
	GUEST_ASSERT_EQ(ticks[0][0x65], 1);
	GUEST_ASSERT_EQ(ticks[0][0x70], 0);
	GUEST_ASSERT_EQ((ioapic_rd(IOAPIC_RTE(5)) >> 14) & 1, 0);
	/*
	 * Pin 6 level, unmasked: the host holds it high from the next report
	 * on, and the handler masks it before its EOI, as a driver that
	 * cannot quiet its device would.
	 */
	hook_vector = 0x70;
	hook = mask_pin6;
	ioapic_wr(IOAPIC_RTE(6), 0x70 | (1 << 15));
	GUEST_REPORT(0x101);
	wait_for(&ticks[0][0x70], 1);
	spin(100000);
	GUEST_ASSERT_EQ(ticks[0][0x70], 1);
	return 1;
}

/* ---- two vCPUs ------------------------------------------------------------ */

static volatile uint32_t phase;

/*
 * vCPU 1: counts what it gets until told to stop; in phase 1 it moves to
 * the cluster model, logical ID cluster 1 member bit 0.
 */
GUEST_ENTRY(apic_ipi_receiver);
uint32_t apic_ipi_receiver(uint64_t arg)
{
	(void)arg;
	apic_setup();
	GUEST_ASSERT_EQ(apic_id(), 1);
	apic_wr(APIC_LDR, 0x02000000);
	ready[1] = 1;
	for (;;) {
		asm volatile("cli" ::: "memory");
		if (stop)
			break;
		if (phase == 1 && ready[1] == 1) {
			apic_wr(APIC_DFR, 0x0fffffff);
			apic_wr(APIC_LDR, 0x11000000);
			ready[1] = 2;
		}
		asm volatile("sti; hlt" ::: "memory");
	}
	return 1;
}

static void ipi(uint32_t dest, uint32_t icr)
{
	apic_wr(APIC_ICR2, dest << 24);
	apic_wr(APIC_ICR, icr);
}

/* vCPU 0: an IPI of every delivery mode and shorthand arrives once. */
GUEST_ENTRY(apic_ipi_sender);
uint32_t apic_ipi_sender(uint64_t khz)
{
	int i;

	apic_setup();
	apic_wr(APIC_LDR, 0x01000000);
	GUEST_ASSERT_EQ(poll_for(&ready[1], 1, SECOND(khz) * 30), 1);
	asm volatile("sti");
	/* Fixed, physical: ten, one at a time. */
	for (i = 1; i <= 10; i++) {
		ipi(1, 0x50);
		GUEST_ASSERT_EQ(poll_for(&ticks[1][0x50], i, SECOND(khz) * 10), 1);
	}
	/* Logical, flat model: vCPU 1's LDR bit. */
	ipi(0x02, 0x800 | 0x51);
	GUEST_ASSERT_EQ(poll_for(&ticks[1][0x51], 1, SECOND(khz) * 10), 1);
	/* Lowest priority to both: one of them, the one with the lower TPR. */
	apic_wr(APIC_TPR, 0x20);
	ipi(0x03, 0x800 | 0x100 | 0x52);
	GUEST_ASSERT_EQ(poll_for(&ticks[1][0x52], 1, SECOND(khz) * 10), 1);
	apic_wr(APIC_TPR, 0);
	/* NMI. */
	ipi(1, 0x400);
	GUEST_ASSERT_EQ(poll_for(&ticks[1][2], 1, SECOND(khz) * 10), 1);
	/* All but self, all including self. */
	apic_wr(APIC_ICR, 0xc0000 | 0x53);
	GUEST_ASSERT_EQ(poll_for(&ticks[1][0x53], 1, SECOND(khz) * 10), 1);
	apic_wr(APIC_ICR, 0x80000 | 0x54);
	GUEST_ASSERT_EQ(poll_for(&ticks[1][0x54], 1, SECOND(khz) * 10), 1);
	GUEST_ASSERT_EQ(poll_for(&ticks[0][0x54], 1, SECOND(khz) * 10), 1);
	/* Cluster model: vCPU 1 is cluster 1 bit 0, vCPU 0 cluster 1 bit 1. */
	phase = 1;
	ipi(1, 0x55);
	GUEST_ASSERT_EQ(poll_for(&ready[1], 2, SECOND(khz) * 10), 1);
	apic_wr(APIC_DFR, 0x0fffffff);
	apic_wr(APIC_LDR, 0x12000000);
	ipi(0x11, 0x800 | 0x51);
	GUEST_ASSERT_EQ(poll_for(&ticks[1][0x51], 2, SECOND(khz) * 10), 1);
	ipi(0x12, 0x800 | 0x51);
	GUEST_ASSERT_EQ(poll_for(&ticks[0][0x51], 1, SECOND(khz) * 10), 1);
	ipi(0x21, 0x800 | 0x51);	/* cluster 2: nobody */

	/* Everything arrived once, and only where it was sent. */
	spin(SECOND(khz) / 20);
	GUEST_ASSERT_EQ(ticks[1][0x50], 10);
	GUEST_ASSERT_EQ(ticks[0][0x50], 0);
	GUEST_ASSERT_EQ(ticks[1][0x51], 2);
	GUEST_ASSERT_EQ(ticks[0][0x51], 1);
	GUEST_ASSERT_EQ(ticks[1][0x52] + ticks[0][0x52], 1);
	GUEST_ASSERT_EQ(ticks[1][2], 1);
	GUEST_ASSERT_EQ(ticks[0][2], 0);
	GUEST_ASSERT_EQ(ticks[1][0x53], 1);
	GUEST_ASSERT_EQ(ticks[0][0x53], 0);
	GUEST_ASSERT_EQ(ticks[1][0x54], 1);
	GUEST_ASSERT_EQ(ticks[0][0x54], 1);
	GUEST_ASSERT_EQ(ticks[1][0x55], 1);
	stop = 1;
	ipi(1, 0x50);
	return 1;
}

/* vCPU 0 starts vCPU 1 with INIT and SIPI at 0x9000 and waits for its flag. */
GUEST_ENTRY(apic_init_sipi);
uint32_t apic_init_sipi(uint64_t khz)
{
	volatile uint16_t *flag = (volatile uint16_t *)AP_FLAG_GPA;

	apic_setup();
	ipi(1, 0x4500);			/* INIT, level assert */
	ipi(1, 0x8500);			/* INIT de-assert: ignored */
	ipi(1, 0x4600 | 0x09);		/* SIPI: CS 0x0900, IP 0 */
	ipi(1, 0x4600 | 0x0a);		/* a second SIPI: lost */
	{
		uint64_t t0 = rdtsc();

		while (flag[0] != 0x1234)
			if (rdtsc() - t0 > SECOND(khz) * 30)
				return 0;
	}
	GUEST_ASSERT_EQ(flag[1], 0x0900);
	return 1;
}

/* HLT with interrupts off: stopped for good, until userspace makes it runnable. */
GUEST_ENTRY(apic_hlt_if0);
uint32_t apic_hlt_if0(uint64_t arg)
{
	(void)arg;
	asm volatile("cli; hlt" ::: "memory");
	return 5;
}

/* INIT and SIPI to all but self when there is nobody else: nothing happens. */
GUEST_ENTRY(apic_init_alone);
uint32_t apic_init_alone(uint64_t khz)
{
	apic_setup();
	apic_wr(APIC_ICR, 0xc4500);
	apic_wr(APIC_ICR, 0xc4600 | 0x09);
	apic_wr(APIC_ICR, 0x44500);	/* INIT to self: ignored */
	spin(SECOND(khz) / 100);
	GUEST_ASSERT_EQ(apic_rd(APIC_ESR), 0);
	return 1;
}

/*
 * vCPU 0 of many (@arg: the TSC kHz << 16 | the number of vCPUs): INIT and
 * SIPI to all others; each AP adds one to the flag.  Returns the count.
 */
GUEST_ENTRY(apic_smp_many);
uint32_t apic_smp_many(uint64_t arg)
{
	volatile uint16_t *flag = (volatile uint16_t *)AP_FLAG_GPA;
	uint64_t khz = arg >> 16, t0;
	uint32_t n = arg & 0xffff;

	apic_setup();
	apic_wr(APIC_ICR, 0xc4500);
	apic_wr(APIC_ICR, 0xc4600 | 0x09);
	t0 = rdtsc();
	while (flag[0] < n - 1 && rdtsc() - t0 < SECOND(khz) * 600)
		asm volatile("pause");
	return flag[0];
}
