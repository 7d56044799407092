/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code of emul_test.c: one instruction per case, run at CPL 3 (or
 * CPL 0) as the host's state says, that hvx may have to emulate (SMSW to
 * memory, INS, OUTS, MOV to CR).  R15 holds the length of the instruction
 * that may fault, for the exception stubs to step over it; RBX keeps RAX
 * after the instruction.
 */
#include "guest.h"

#define PORT_EMUL_IO	0x80	/* the INS/OUTS port */
#define PORT_EMUL_SWAP	0x81	/* the host rewrites the guest's page table */

GUEST_BEGIN(emul_guest)
	.code64
/* SMSW (%rdi): 0f 01 27. */
GLABEL(emul_smsw_mem)
	mov $3, %r15d
	smsw (%rdi)
	GUEST_DONE($0x600d)

/* INSB to ES:RDI from port PORT_EMUL_IO. */
GLABEL(emul_insb)
	mov $1, %r15d
	mov $PORT_EMUL_IO, %dx
	insb
	GUEST_DONE($0x600d)

/* OUTSB from DS:RSI to port PORT_EMUL_IO. */
GLABEL(emul_outsb)
	mov $1, %r15d
	mov $PORT_EMUL_IO, %dx
	outsb
	GUEST_DONE($0x600d)

/* MOVSB from DS:RSI (a device) to ES:RDI. */
GLABEL(emul_movsb)
	mov $1, %r15d
	movsb
	GUEST_DONE($0x600d)

/* MOV RAX to CR0, CR3, CR4 (3 bytes each). */
GLABEL(emul_mov_cr0)
	mov $3, %r15d
	mov %rax, %cr0
	mov %rax, %rbx
	GUEST_DONE($0x600d)
GLABEL(emul_mov_cr3)
	mov $3, %r15d
	mov %rax, %cr3
	mov %rax, %rbx
	GUEST_DONE($0x600d)
GLABEL(emul_mov_cr4)
	mov $3, %r15d
	mov %rax, %cr4
	mov %rax, %rbx
	GUEST_DONE($0x600d)

/*
 * Copied by the host to two pages, the second with its first four bytes
 * replaced by another instruction.  The first pass runs SMSW %AX from the
 * first page; the host then points the page-table entry at the second
 * page without the guest invalidating anything (as a device or another
 * vCPU could), and the second pass jumps back: the CPU may run either
 * page's bytes, never a mix of the exit of one and the emulation of the
 * other.  R13 is the value RAX holds for the second pass.
 */
GLABEL(emul_swap)
	.byte 0x66, 0x0f, 0x01, 0xe0	/* smsw %ax */
	test %r12, %r12
	jnz 1f
	inc %r12
	mov $PORT_EMUL_SWAP, %dx
	out %al, %dx
	mov %r13, %rax
	mov $4, %r15d
	jmp emul_swap
1:	mov %rax, %rbx
	GUEST_DONE($0x600d)
GLABEL(emul_swap_end)
GUEST_END(emul_guest)
