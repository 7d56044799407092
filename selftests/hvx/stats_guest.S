/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for stats_test.c, all 64-bit. */
#include "guest.h"

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
