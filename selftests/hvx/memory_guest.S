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
