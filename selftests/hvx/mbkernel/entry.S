/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Multiboot v1 and PVH entries of the platform test kernel (see kernel.c):
 * the multiboot header, the PVH note, a stack, and interrupt stubs that
 * call into C.
 */
#define MB_MAGIC	0x1BADB002
#define MB_FLAGS	0x00000003	/* page-aligned modules, memory info */

	.section .note.GNU-stack, "", @progbits

	.section .multiboot, "a"
	.align 4
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)

	/* PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY): hvx-run --kernel. */
	.section .note.Xen, "a"
	.align 4
	.long	4			/* name size */
	.long	4			/* descriptor size */
	.long	18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz	"Xen"
	.long	pvh_start

	.text
	.code32
	.globl _start
_start:
	mov	$stack_top, %esp
	push	%ebx			/* multiboot info */
	push	%eax			/* boot magic */
	call	kernel_main
1:	cli
	hlt
	jmp	1b

pvh_start:
	mov	$stack_top, %esp
	push	%ebx			/* struct hvm_start_info */
	call	pvh_main
	jmp	1b

/* IRQ stubs: save the scratch registers, call irq_handler(irq), iret. */
.macro irq_stub n
	.globl irq_stub_\n
irq_stub_\n:
	pusha
	push	$\n
	call	irq_handler
	add	$4, %esp
	popa
	iret
.endm
	irq_stub 0
	irq_stub 1
	irq_stub 2
	irq_stub 3
	irq_stub 4
	irq_stub 5
	irq_stub 6
	irq_stub 7
	irq_stub 8
	irq_stub 9
	irq_stub 10
	irq_stub 11
	irq_stub 12
	irq_stub 13
	irq_stub 14
	irq_stub 15

	.globl exc_stub
exc_stub:
	push	$0xdead
	call	exception_handler
	cli
	hlt

	.bss
	.align 16
	.space 16384
stack_top:
