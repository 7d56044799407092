/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code for modes_test.c: the same kind of work in real, 32-bit
 * protected and 64-bit long mode, and a guest that goes from real mode to
 * long mode on its own.  All loaded at GUEST_CODE_GPA.
 */
#include "guest.h"

/*
 * Real mode, CS = DS = 0x1000 (base GUEST_CODE_GPA): data offsets are
 * relative to the blob start.
 */
#define RM(label)	((label) - modes_real_start)

GUEST_BEGIN(modes_real)
	.code16
	xor %ax, %ax
	mov $100, %cx
1:	add %cx, %ax
	loop 1b
	movzwl %ax, %ebx
	GUEST_REPORT(%ebx)			/* 5050 */

	movw $12, RM(rm_var)
	mov RM(rm_var), %ax
	call rm_square
	movzwl %ax, %ebx
	GUEST_REPORT(%ebx)			/* 144, through DS and the stack */

	mov $0x12345678, %ebx
	rol $8, %ebx
	GUEST_REPORT(%ebx)			/* 0x34567812: 32-bit operands */

	mov %cs, %bx
	movzwl %bx, %ebx
	GUEST_REPORT(%ebx)			/* 0x1000 */

	mov %cr0, %ebx
	and $1, %ebx
	GUEST_ASSERT_EQ(%ebx, 0)		/* PE clear */
	GUEST_DONE($0x600d)

rm_square:
	mul %ax
	ret
rm_var:
	.word 0
GUEST_END(modes_real)

/* The x86 reset vector: linked at 0xf000 in the F000 segment (0xffff0000). */
GUEST_BEGIN(modes_reset)
	.code16
	mov %cs, %bx
	movzwl %bx, %ebx
	GUEST_REPORT(%ebx)			/* 0xf000 */
	GUEST_DONE($0x600d)
GUEST_END(modes_reset)

GUEST_BEGIN(modes_prot32)
	.code32
	mov $GPA(modes_prot32_start, pm_array), %esi
	mov $5, %ecx
	xor %eax, %eax
1:	add (%esi), %eax
	add $4, %esi
	loop 1b
	mov %eax, %ebx
	GUEST_REPORT(%ebx)			/* 54321 */

	mov $0x10001, %eax
	mov %eax, %ecx
	mul %ecx
	mov %eax, %ebx
	mov %edx, %ecx
	GUEST_REPORT(%ebx)			/* 0x00020001 */
	GUEST_REPORT(%ecx)			/* 0x1 */

	push $0x5a5a1234
	call pm_pop_arg
	add $4, %esp
	GUEST_REPORT(%ebx)			/* 0x5a5a1234 */

	mov %cr0, %ebx
	and $0x80000001, %ebx
	GUEST_ASSERT_EQ(%ebx, 1)		/* PE set, PG clear */
	GUEST_DONE($0x600d)

pm_pop_arg:
	mov 4(%esp), %ebx
	ret
	.balign 4
pm_array:
	.long 1, 20, 300, 4000, 50000
GUEST_END(modes_prot32)

GUEST_BEGIN(modes_long)
	.code64
	movabs $0x123456789, %rax
	mov $0x1000, %ecx
	imul %rcx, %rax
	mov %rax, %rbx
	GUEST_REPORT(%ebx)			/* 0x56789000 */
	shr $32, %rbx
	GUEST_REPORT(%ebx)			/* 0x1234 */

	mov lm_data(%rip), %rbx
	ror $16, %rbx
	mov %rbx, %rcx
	GUEST_REPORT(%ebx)			/* 0xba987654 */
	shr $32, %rcx
	GUEST_REPORT(%ecx)			/* 0x3210fedc */
	/* r8-r15 exist. */
	mov $7, %r8d
	mov $6, %r15d
	imul %r8, %r15
	GUEST_REPORT(%r15d)			/* 42 */

	mov $0xc0000080, %ecx
	rdmsr
	and $0x500, %eax
	GUEST_ASSERT_EQ(%eax, 0x500)		/* EFER.LME|LMA */
	GUEST_DONE($0x600d)
	.balign 8
lm_data:
	.quad 0xfedcba9876543210
GUEST_END(modes_long)

/*
 * Real mode to long mode: GDT at 0x60000, PML4 0x61000, PDPT 0x62000,
 * PD 0x63000 (4 MiB identity map with 2 MiB pages), built with ES = 0x6000.
 */
#define SW_BASE		0x60000
GUEST_BEGIN(modes_switch)
	.code16
	cli
	mov $(SW_BASE >> 4), %ax
	mov %ax, %es
	xor %di, %di
	xor %eax, %eax
	mov $0x1000, %cx
	cld
	rep stosl
	movl $0x0000ffff, %es:0x08		/* 0x08: 64-bit code, P, DPL 0 */
	movl $0x00af9a00, %es:0x0c
	movl $0x0000ffff, %es:0x10		/* 0x10: flat data */
	movl $0x00cf9200, %es:0x14
	movw $0x17, %es:0x100			/* GDTR image */
	movl $SW_BASE, %es:0x102
	movl $(SW_BASE + 0x2003), %es:0x1000	/* PML4[0] -> PDPT */
	movl $(SW_BASE + 0x3003), %es:0x2000	/* PDPT[0] -> PD */
	movl $0x00000083, %es:0x3000		/* 2 MiB pages: P|RW|PS */
	movl $0x00200083, %es:0x3008
	lgdtl %es:0x100

	mov %cr4, %eax
	or $0x20, %eax				/* PAE */
	mov %eax, %cr4
	mov $(SW_BASE + 0x1000), %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx
	rdmsr
	or $0x100, %eax				/* EFER.LME */
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax			/* PG|PE */
	and $0x9fffffff, %eax			/* caches on: CD|NW clear */
	mov %eax, %cr0
	ljmpl $0x08, $GPA(modes_switch_start, sw_long)

	.code64
sw_long:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $GUEST_STACK_TOP, %esp
	movabs $0x0123456789abcdef, %rbx
	bswap %rbx
	mov %rbx, %rcx
	GUEST_REPORT(%ebx)			/* 0x67452301 */
	shr $32, %rcx
	GUEST_REPORT(%ecx)			/* 0xefcdab89 */
	mov $0xc0000080, %ecx
	rdmsr
	and $0x500, %eax
	mov %eax, %ebx
	GUEST_REPORT(%ebx)			/* 0x500: LME|LMA */
	/* A call through the new stack, RIP-relative data. */
	call sw_get
	GUEST_REPORT(%ebx)			/* 0xc0ffee */
	GUEST_DONE($0x600d)
sw_get:
	mov sw_data(%rip), %ebx
	ret
	.balign 4
sw_data:
	.long 0xc0ffee
GUEST_END(modes_switch)

/*
 * SMSW to memory with the address-size prefix twice, in 32-bit code: two
 * 0x67 prefixes mean 16-bit addressing, as one does, so the store goes to
 * DS:0x5000 (mod 00, rm 110: disp16), not to [ESI] as 32-bit addressing
 * would read the same ModRM byte, and the instruction is 7 bytes long.
 * Under shadow paging on SVM without decode assists hvx emulates it.
 */
GUEST_BEGIN(modes_smsw_a16)
	.code32
	movl $0, 0x5000
	movl $0, 0x6000
	mov $0x6000, %esi
	.byte 0x67, 0x67, 0x0f, 0x01, 0x26, 0x00, 0x50	/* smsw (0x5000), a16 */
	movzwl 0x5000, %ebx
	GUEST_REPORT(%ebx)			/* CR0[15:0] */
	mov 0x6000, %ebx
	GUEST_REPORT(%ebx)			/* 0: nothing stored at [ESI] */
	GUEST_DONE($0x600d)
GUEST_END(modes_smsw_a16)
