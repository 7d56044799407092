/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for stats_test.c, all 64-bit. */
#include "guest.h"

/* As in stats_test.c. */
#define STATS_PORT_OUT	0x80
#define STATS_PORT_IN	0x81
#define STATS_MMIO_GPA	0xd0000000
#define TRACE_PORT	0x99

/*
 * R8 OUTs, R9 INs and R10 CPUIDs, one MMIO read and one MMIO write, then
 * HLT: no other exit to userspace, so every counter is known exactly.
 */
GUEST_BEGIN(stats_counts)
	.code64
	/* Each vCPU's own stack page: every vCPU maps one page at least. */
	push %rax
	pop %rax
	test %r8, %r8
	jz 2f
1:	out %al, $STATS_PORT_OUT
	dec %r8
	jnz 1b
2:	test %r9, %r9
	jz 4f
3:	in $STATS_PORT_IN, %al
	dec %r9
	jnz 3b
4:	test %r10, %r10
	jz 6f
5:	xor %eax, %eax
	xor %ecx, %ecx
	cpuid
	dec %r10
	jnz 5b
6:	mov $STATS_MMIO_GPA, %ebx
	mov (%rbx), %eax
	mov %eax, 8(%rbx)
GLABEL(stats_counts_hlt)
	hlt
	jmp stats_counts_hlt
GUEST_END(stats_counts)

/* Reports 1, 2 and 3 with IF set, for events injected between them. */
GUEST_BEGIN(stats_inject)
	.code64
	sti
	nop
	GUEST_REPORT($1)
	GUEST_REPORT($2)
	GUEST_REPORT($3)
	GUEST_DONE($0x600d)
GUEST_END(stats_inject)

/* Interrupts on; reports 1 again and again (the host injects in between). */
GUEST_BEGIN(stats_inject_loop)
	.code64
	sti
1:	GUEST_REPORT($1)
	jmp 1b
GUEST_END(stats_inject_loop)

/* No IDT: #UD shuts the vCPU down (triple fault). */
GUEST_BEGIN(stats_shutdown)
	.code64
	ud2
	GUEST_DONE($0xbad)
GUEST_END(stats_shutdown)

/* Instruction fetch from a gpa outside every slot. */
GUEST_BEGIN(stats_fetch)
	.code64
	mov $STATS_MMIO_GPA, %eax
	jmp *%rax
GUEST_END(stats_fetch)

/* One OUT for the tracepoints, then HLT. */
GUEST_BEGIN(stats_trace)
	.code64
	mov $0x5a, %al
GLABEL(stats_trace_out)
	out %al, $TRACE_PORT
	hlt
	jmp stats_trace_out
GUEST_END(stats_trace)

/*
 * Reads one byte from each 2 MiB of [16 MiB, 16 MiB + SWEEP_REGIONS * 2 MiB):
 * under shadow paging each region needs a shadow page table of its own.
 */
#define SWEEP_REGIONS	1400
GUEST_BEGIN(stats_sweep)
	.code64
	mov $8, %rcx
1:	mov %rcx, %rax
	shl $21, %rax
	movb (%rax), %dl
	inc %rcx
	cmp $(8 + SWEEP_REGIONS), %rcx
	jb 1b
	GUEST_DONE($0x600d)
GUEST_END(stats_sweep)

/*
 * With CR4.PGE on: CR3_ROUNDS times, read each of CR3_PAGES 4 KiB pages
 * at 1 GiB (the host maps them, global or not) and reload CR3.
 */
#define CR3_PAGES	64
#define CR3_ROUNDS	100
GUEST_BEGIN(stats_cr3)
	.code64
	mov %cr4, %rax
	or $0x80, %rax
	mov %rax, %cr4
	mov $CR3_ROUNDS, %r8d
1:	mov $0x40000000, %rax
	mov $CR3_PAGES, %ecx
2:	movb (%rax), %dl
	add $0x1000, %rax
	loop 2b
	mov %cr3, %rax
	mov %rax, %cr3
	dec %r8d
	jnz 1b
	GUEST_DONE($0x600d)
GUEST_END(stats_cr3)
