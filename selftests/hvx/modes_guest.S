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

/*
 * Real mode's events and privileged instructions, which virtual-8086 mode
 * (VMX under shadow paging) has the kernel deliver and emulate: INT n,
 * INT3, a #DE and an injected interrupt through the vector table at IDTR,
 * a vector past the IDT limit (#GP), LIDT, MOV CR, LMSW, CLTS, RDMSR,
 * WRMSR, WBINVD, INVLPG, HLT.  CS = DS = 0x1000; the tables at 0 and 0x2000.
 */
#define RE(label)	((label) - modes_rm_events_start)
#define RE_VEC(v, label)	movw $RE(label), %es:(4 * (v)); movw %cs, %es:(4 * (v) + 2)
GUEST_BEGIN(modes_rm_events)
	.code16
	cli
	xor %ax, %ax
	mov %ax, %es
	RE_VEC(0x00, re_de)
	RE_VEC(0x03, re_bp)
	RE_VEC(0x0d, re_gp)
	RE_VEC(0x40, re_int40)
	RE_VEC(0x42, re_irq)

	/* INT n: IF clear in the handler, back after IRET, the return address past INT. */
	sti
	int $0x40
re_after40:
	pushf
	pop %bx
	and $0x200, %bx
	movzwl %bx, %ebx
	GUEST_REPORT(%ebx)			/* 0x200 */
	movzwl RE(re_if40), %ebx
	GUEST_REPORT(%ebx)			/* 0: IF in the handler */
	cmpw $RE(re_after40), RE(re_ret40)
	je 1f
	GUEST_FAIL
1:	cli

	/* #DE: the handler steps over the 2-byte DIV. */
	xor %bl, %bl
	mov $1, %ax
	div %bl
	/* INT3: a trap, back past it. */
	int3
	movzwl RE(re_nde), %ebx
	GUEST_REPORT(%ebx)			/* 1 */
	movzwl RE(re_nbp), %ebx
	GUEST_REPORT(%ebx)			/* 1 */

	/* LIDT moves the table: vector 0x41 through the one at 0x2000. */
	mov $0x200, %ax
	mov %ax, %es
	movw $RE(re_int41), %es:(4 * 0x41)
	movw %cs, %es:(4 * 0x41 + 2)
	lidt RE(re_idt2000)
	int $0x41
	/* A limit that ends below vector 0x41: #GP (vector 13, back at 0). */
	lidt RE(re_idt_short)
	int $0x41
	lidt RE(re_idt0)
	movzwl RE(re_n41), %ebx
	GUEST_REPORT(%ebx)			/* 1 */
	movzwl RE(re_ngp), %ebx
	GUEST_REPORT(%ebx)			/* 1 */

	/* MOV CR, LMSW, CLTS. */
	mov %cr0, %eax
	mov %eax, %ebx
	and $1, %ebx
	GUEST_ASSERT_EQ(%ebx, 0)		/* PE clear */
	smsw %ax
	or $8, %ax
	lmsw %ax				/* TS */
	mov %cr0, %ebx
	and $8, %ebx
	GUEST_REPORT(%ebx)			/* 8 */
	clts
	mov %cr0, %ebx
	and $8, %ebx
	GUEST_REPORT(%ebx)			/* 0 */
	mov %cr4, %eax
	or $0x200, %eax				/* OSFXSR */
	mov %eax, %cr4
	mov %cr4, %ebx
	and $0x200, %ebx
	GUEST_REPORT(%ebx)			/* 0x200 */
	mov $0x5000, %eax
	mov %eax, %cr3
	mov %cr3, %ebx
	GUEST_REPORT(%ebx)			/* 0x5000 */

	/* WRMSR, RDMSR (IA32_SYSENTER_CS), WBINVD, INVLPG. */
	mov $0x174, %ecx
	mov $0x1234, %eax
	xor %edx, %edx
	wrmsr
	xor %eax, %eax
	rdmsr
	mov %eax, %ebx
	GUEST_REPORT(%ebx)			/* 0x1234 */
	wbinvd
	invlpg (%bx)

	/* HLT with IF set: the host injects vector 0x42, which ends it. */
	sti
	hlt
	cli
	movzwl RE(re_n42), %ebx
	GUEST_REPORT(%ebx)			/* 1 */

	/* A segment register loaded in real mode, for the host to read. */
	mov $0x2345, %ax
	mov %ax, %fs
	GUEST_DONE($0x600d)

re_int40:
	pushf
	pop %ax
	and $0x200, %ax
	mov %ax, RE(re_if40)
	mov %sp, %bp
	mov (%bp), %ax
	mov %ax, RE(re_ret40)
	iret
re_de:
	incw RE(re_nde)
	mov %sp, %bp
	addw $2, (%bp)
	iret
re_bp:
	incw RE(re_nbp)
	iret
re_int41:
	incw RE(re_n41)
	iret
re_gp:
	incw RE(re_ngp)
	mov %sp, %bp
	addw $2, (%bp)
	iret
re_irq:
	incw RE(re_n42)
	iret

re_if40:	.word 0xffff
re_ret40:	.word 0
re_nde:		.word 0
re_nbp:		.word 0
re_n41:		.word 0
re_ngp:		.word 0
re_n42:		.word 0
re_idt0:	.word 0x3ff
		.long 0
re_idt2000:	.word 0x3ff
		.long 0x2000
re_idt_short:	.word 4 * 0x41 - 1
		.long 0
GUEST_END(modes_rm_events)

/*
 * Back to real mode from protected mode: PE cleared with CS and DS still
 * holding protected-mode segments (bases 0x10000 and 0x20000), which stay
 * in force until the far jump and the load of DS.  CS = DS = 0x1000 at
 * the start.
 */
#define RP(label)	((label) - modes_pm_to_rm_start)
GUEST_BEGIN(modes_pm_to_rm)
	.code16
	cli
	lgdtl RP(rp_gdtr)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmp $0x08, $RP(rp_pm16)
rp_pm16:
	mov $0x10, %ax
	mov %ax, %ds
	mov %cr0, %eax
	and $~1, %eax
	mov %eax, %cr0
	/* Real mode, DS still based at 0x20000: the host put a word there. */
	mov 0, %bx
	ljmp $0x1000, $RP(rp_rm)
rp_rm:
	movzwl %bx, %ebx
	GUEST_REPORT(%ebx)			/* 0xbeef */
	mov %ds, %bx
	movzwl %bx, %ebx
	GUEST_REPORT(%ebx)			/* 0x10; 0x2000 in virtual-8086 mode */
	mov $0x1000, %ax
	mov %ax, %ds
	movl RP(rp_magic), %ebx
	GUEST_REPORT(%ebx)			/* 0x5eed5eed, through DS = 0x1000 */
	mov %cr0, %ebx
	and $1, %ebx
	GUEST_ASSERT_EQ(%ebx, 0)
	GUEST_DONE($0x600d)

	.balign 8
rp_gdt:
	.quad 0
	.quad 0x00009a010000ffff		/* 0x08: 16-bit code, base 0x10000 */
	.quad 0x000092020000ffff		/* 0x10: 16-bit data, base 0x20000 */
rp_gdtr:
	.word 0x17
	.long GPA(modes_pm_to_rm_start, rp_gdt)
rp_magic:
	.long 0x5eed5eed
GUEST_END(modes_pm_to_rm)

/* "Unreal" mode: DS = 0x1000 with a 4 GiB limit (set by the host) reads above 1 MiB. */
GUEST_BEGIN(modes_unreal)
	.code16
	mov $0xf0000, %esi
	addr32 mov (%esi), %ebx			/* 0x100000 */
	GUEST_REPORT(%ebx)			/* 0xca11ab1e */
	GUEST_DONE($0x600d)
GUEST_END(modes_unreal)
