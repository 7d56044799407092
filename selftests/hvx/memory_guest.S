/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for memory_test.c (64-bit). */
#include "guest.h"

#define SLOT1_GPA	0x200000

/* Read-only slot: reads work, a write exits as MMIO and changes nothing. */
GUEST_BEGIN(mem_ro)
	.code64
	mov $SLOT1_GPA, %ebx
	mov (%rbx), %ecx
	GUEST_REPORT(%ecx)
	mov 0x1000(%rbx), %ecx
	GUEST_REPORT(%ecx)
GLABEL(ro_write)
	movl $0x99999999, (%rbx)
GLABEL(ro_write_end)
	mov (%rbx), %ecx
	GUEST_REPORT(%ecx)
	GUEST_DONE($0x600d)
GUEST_END(mem_ro)

/* Uses slot 1, reports; the host removes the slot; the next read exits. */
GUEST_BEGIN(mem_remove)
	.code64
	mov $SLOT1_GPA, %ebx
	movl $0x1234, (%rbx)
	mov (%rbx), %ecx
	GUEST_REPORT(%ecx)
GLABEL(rm_read)
	mov (%rbx), %ecx
	GUEST_REPORT(%ecx)
	GUEST_DONE($0x600d)
GUEST_END(mem_remove)

/*
 * Sparse layout: RDI, RBX, RCX hold linear addresses of three 2 MiB slots.
 * Each: report the first dword, write it + 1, write 0x77 + i at the end.
 */
.macro SPARSE_TOUCH reg, i
	mov (\reg), %eax
	mov %eax, %r8d
	GUEST_REPORT(%r8d)
	incl (\reg)
	movl $(0x77 + \i), 0x1ffffc(\reg)
.endm

GUEST_BEGIN(mem_sparse)
	.code64
	mov %rcx, %r9
	SPARSE_TOUCH %rdi, 0
	SPARSE_TOUCH %rbx, 1
	SPARSE_TOUCH %r9, 2
	GUEST_DONE($0x600d)
GUEST_END(mem_sparse)

/*
 * What flushes a cached translation: TLB_VA is one 4 KiB page whose PTE
 * (at TLB_PTE, identity-mapped) the guest points at frame A (0xaaaa) or
 * B (0xbbbb) and reads back after each architectural flush.
 */
#define TLB_VA		0x40000000
#define TLB_PTE		GUEST_PT_GPA
#define FRAME_A		(GUEST_DATA_GPA + 0x1000)
#define FRAME_B		(GUEST_DATA_GPA + 0x2000)
#define PTE_PRW		3
#define PTE_G		0x100
#define CR4_PGE		0x80

.macro TLB_READ
	mov (%rbx), %ecx
	GUEST_REPORT(%ecx)
.endm

.macro TLB_PGE_OFF
	mov %cr4, %rax
	and $~CR4_PGE, %rax
	mov %rax, %cr4
.endm

.macro TLB_PGE_ON
	mov %cr4, %rax
	or $CR4_PGE, %rax
	mov %rax, %cr4
.endm

GUEST_BEGIN(mem_tlb)
	.code64
	mov $TLB_VA, %rbx
	mov $TLB_PTE, %rsi
	/* 1. A MOV to CR3 drops a non-global translation. */
	TLB_READ
	movq $(FRAME_B | PTE_PRW), (%rsi)
	mov %cr3, %rax
	mov %rax, %cr3
	TLB_READ
	/* 2. With CR4.PGE, INVLPG drops a global one... */
	TLB_PGE_ON
	movq $(FRAME_A | PTE_PRW | PTE_G), (%rsi)
	invlpg (%rbx)
	TLB_READ
	movq $(FRAME_B | PTE_PRW | PTE_G), (%rsi)
	invlpg (%rbx)
	TLB_READ
	/* 3. ...and so does clearing CR4.PGE. */
	movq $(FRAME_A | PTE_PRW | PTE_G), (%rsi)
	TLB_PGE_OFF
	TLB_PGE_ON
	TLB_READ
	/* 4. A not-present entry made present needs no flush. */
	movq $0, (%rsi)
	invlpg (%rbx)
	movq $(FRAME_B | PTE_PRW | PTE_G), (%rsi)
	TLB_READ
	/* 5. Without CR4.PGE, G means nothing: MOV to CR3 drops the entry. */
	TLB_PGE_OFF
	TLB_READ
	movq $(FRAME_A | PTE_PRW | PTE_G), (%rsi)
	mov %cr3, %rax
	mov %rax, %cr3
	TLB_READ
	GUEST_DONE($0x600d)
GUEST_END(mem_tlb)

/*
 * Huge mappings: RDI is the first gpa of a slot, ECX its pages, R12 the
 * page-directory entry that maps it, read first so that the page holding
 * it is mapped before the count starts.  Reports 1 (the host reads the
 * counters), writes i to page i, reports 2, then the sum of the pages'
 * first dwords.
 */
GUEST_BEGIN(mem_huge)
	.code64
	mov (%r12), %rax
	GUEST_REPORT($1)
	mov %rdi, %rbx
	xor %r8d, %r8d
1:	mov %r8d, (%rbx)
	add $4096, %rbx
	inc %r8d
	cmp %ecx, %r8d
	jne 1b
	GUEST_REPORT($2)
	mov %rdi, %rbx
	xor %r9d, %r9d
	mov %ecx, %r10d
2:	add (%rbx), %r9d
	add $4096, %rbx
	dec %r10d
	jnz 2b
	GUEST_REPORT(%r9d)
	GUEST_DONE($0x600d)
GUEST_END(mem_huge)

/* The same reads of a read-only slot (RDI, ECX pages), then a write at RSI. */
GUEST_BEGIN(mem_huge_ro)
	.code64
	mov %rdi, %rbx
	xor %r9d, %r9d
	mov %ecx, %r10d
1:	add (%rbx), %r9d
	add $4096, %rbx
	dec %r10d
	jnz 1b
	GUEST_REPORT(%r9d)
GLABEL(huge_ro_write)
	movl $1, (%rsi)
	GUEST_DONE($0xbad)
GUEST_END(mem_huge_ro)
