/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for exits_test.c: one blob per exit reason, all 64-bit. */
#include "guest.h"

#define MMIO_GPA	0xd0000000
/* exits_io_seg: offset of the data from the FS/GS base, and the gpa of the 0x67 case. */
#define IO_SEG_OFF	0x100
#define IO_A32_GPA	(GUEST_DATA_GPA + 0x200)

/* Port I/O of each size, both directions, string I/O with and without REP. */
GUEST_BEGIN(exits_io)
	.code64
	mov $0x42, %al
GLABEL(io_out8)
	out %al, $0x80
	mov $0x1234, %ax
	mov $0x81, %dx
GLABEL(io_out16)
	out %ax, %dx
	mov $0xdeadbeef, %eax
GLABEL(io_out32)
	out %eax, $0x82
	xor %eax, %eax
GLABEL(io_in8)
	in $0x83, %al
	GUEST_ASSERT_EQ(%eax, 0x5a)
	mov $-1, %eax
	mov $0x84, %dx
GLABEL(io_in16)
	in %dx, %ax
	/* A 16-bit IN leaves EAX[31:16] alone. */
	GUEST_ASSERT_EQ(%eax, 0xffffbeef)
	mov $0x85, %dx
GLABEL(io_in32)
	in %dx, %eax
	GUEST_ASSERT_EQ(%eax, 0x87654321)

	cld
	lea io_str(%rip), %rsi
	mov $4, %ecx
	mov $0x86, %dx
GLABEL(io_rep_outsb)
	rep outsb
	GUEST_ASSERT_EQ(%ecx, 0)
	lea io_str+4(%rip), %rbx
	cmp %rbx, %rsi
	je 1f
	GUEST_FAIL
1:
	lea io_buf(%rip), %rdi
	mov $3, %ecx
	mov $0x87, %dx
GLABEL(io_rep_insb)
	rep insb
	GUEST_ASSERT_EQ(%ecx, 0)
	lea io_buf+3(%rip), %rbx
	cmp %rbx, %rdi
	je 1f
	GUEST_FAIL
1:
	mov io_buf(%rip), %ebx
	GUEST_ASSERT_EQ(%ebx, 0x007a7978)	/* "xyz\0" */

	lea io_word(%rip), %rsi
	mov $0x88, %dx
	mov $0x99, %ecx
GLABEL(io_outsw)
	outsw
	/* Without REP, RCX is untouched. */
	GUEST_ASSERT_EQ(%ecx, 0x99)
	lea io_word+2(%rip), %rbx
	cmp %rbx, %rsi
	je 1f
	GUEST_FAIL
1:
	GUEST_DONE($0x600d)
io_str:
	.ascii "ABCD"
io_buf:
	.byte 0, 0, 0, 0
io_word:
	.word 0xa55a
GUEST_END(exits_io)

/* MMIO read, write completed by libhvx, write completed by hand. */
GUEST_BEGIN(exits_mmio)
	.code64
	mov $MMIO_GPA + 0x10, %ebx
	xor %eax, %eax
GLABEL(mmio_read)
	mov (%rbx), %eax
GLABEL(mmio_read_end)
	GUEST_ASSERT_EQ(%eax, 0x11223344)
GLABEL(mmio_write)
	movl $0xcafef00d, 4(%rbx)
GLABEL(mmio_write_end)
	mov $0x77, %ecx
GLABEL(mmio_write2)
	mov %ecx, 8(%rbx)
GLABEL(mmio_write2_end)
	GUEST_ASSERT_EQ(%ecx, 0x77)
	GUEST_DONE($0x600d)
GUEST_END(exits_mmio)

GUEST_BEGIN(exits_hlt)
	.code64
GLABEL(hlt_insn)
	hlt
	GUEST_DONE($0x600d)
GUEST_END(exits_hlt)

/* #UD with the empty IDT of hvx_setup_mode: #UD -> #DF -> triple fault. */
GUEST_BEGIN(exits_shutdown)
	.code64
	ud2
	GUEST_DONE($0xbad)
GUEST_END(exits_shutdown)

GUEST_BEGIN(exits_hcall)
	.code64
	mov $0x1234, %eax
	movabs $0xabcdef0123456789, %rbx
	mov $0x2222, %ecx
	mov $0x3333, %edx
	mov $0x4444, %esi
	movabs $0x5555000000000001, %rdi
GLABEL(hcall_insn)
	HYPERCALL
	GUEST_ASSERT_EQ(%rax, 0x5555aaaa)
	/* The argument registers survive. */
	GUEST_ASSERT_EQ(%ecx, 0x2222)
	GUEST_ASSERT_EQ(%esi, 0x4444)
	GUEST_DONE($0x600d)
GUEST_END(exits_hcall)

/* Unknown MSR 0x40000100: read, write, then a read the host fails (#GP). */
GUEST_BEGIN(exits_msr)
	.code64
	mov $0x40000100, %ecx
	xor %eax, %eax
	xor %edx, %edx
GLABEL(msr_rd)
	rdmsr
	cmp $0x55667788, %eax
	je 1f
	GUEST_FAIL
1:	cmp $0x11223344, %edx
	je 1f
	GUEST_FAIL
1:	mov $0x40000100, %ecx
	mov $0xaabbccdd, %eax
	mov $0x01020304, %edx
GLABEL(msr_wr)
	wrmsr
	mov $2, %r15d
	mov $0x40000100, %ecx
GLABEL(msr_gp)
	rdmsr
	/* EFER is virtualized in the kernel: no exit; long mode shows LME|LMA. */
	mov $0xc0000080, %ecx
	rdmsr
	and $0x500, %eax
	GUEST_ASSERT_EQ(%eax, 0x500)
	GUEST_DONE($0x600d)
GUEST_END(exits_msr)

/* With HVX_VM_MSR_UNHANDLED_GP: both accesses fault in the guest. */
GUEST_BEGIN(exits_msr_gp)
	.code64
	mov $2, %r15d
	mov $0x1a0, %ecx
GLABEL(msr_gp_rd)
	rdmsr
	mov $2, %r15d
	mov $0x40000100, %ecx
GLABEL(msr_gp_wr)
	wrmsr
	GUEST_DONE($0x600d)
GUEST_END(exits_msr_gp)

/* Interrupt window: IF=0 until the STI. */
GUEST_BEGIN(exits_irqwin)
	.code64
	cli
	GUEST_REPORT($1)
	nop
	GUEST_REPORT($2)
	sti
GLABEL(irqwin_sti_next)
	nop
	nop
GLABEL(irqwin_nops_end)
	GUEST_REPORT($3)
	cli
	GUEST_DONE($0x600d)
GUEST_END(exits_irqwin)

/* Two reports, then done: the host injects events in between. */
GUEST_BEGIN(exits_inject)
	.code64
	GUEST_REPORT($1)
GLABEL(inject_after_report)
	GUEST_REPORT($2)
	GUEST_DONE($0x600d)
GUEST_END(exits_inject)

/* Instruction fetch from a gpa outside every slot. */
GUEST_BEGIN(exits_fetch)
	.code64
	mov $MMIO_GPA, %eax
	jmp *%rax
GUEST_END(exits_fetch)

/* Spins until the host writes a non-zero flag, counting iterations. */
GUEST_BEGIN(exits_spin)
	.code64
1:	incq spin_count(%rip)
	cmpl $0, spin_flag(%rip)
	je 1b
	GUEST_DONE($0x600d)
	.balign 8
GLABEL(spin_count)
	.quad 0
GLABEL(spin_flag)
	.long 0
GUEST_END(exits_spin)

/*
 * OUTS with segment overrides and a 32-bit address size, prefixes spelled
 * out: f3 64 6e (REP FS: OUTSB), 65 f3 6e (GS: REP OUTSB), 67 f3 6e (REP
 * OUTSB with ESI/ECX in 64-bit mode).
 */
GUEST_BEGIN(exits_io_seg)
	.code64
	cld
	mov $IO_SEG_OFF, %esi
	mov $4, %ecx
	mov $0x89, %dx
GLABEL(io_fs_outsb)
	.byte 0xf3, 0x64, 0x6e
	GUEST_ASSERT_EQ(%rcx, 0)
	GUEST_ASSERT_EQ(%rsi, IO_SEG_OFF + 4)
	mov $IO_SEG_OFF, %esi
	mov $4, %ecx
	mov $0x8a, %dx
GLABEL(io_gs_outsb)
	.byte 0x65, 0xf3, 0x6e
	GUEST_ASSERT_EQ(%rcx, 0)
	GUEST_ASSERT_EQ(%rsi, IO_SEG_OFF + 4)
	/* Only ESI and ECX count; writing them clears bits 63:32. */
	movabs $(0xffffffff00000000 + IO_A32_GPA), %rsi
	movabs $0x1234567800000004, %rcx
	mov $0x8b, %dx
GLABEL(io_a32_outsb)
	.byte 0x67, 0xf3, 0x6e
	test %rcx, %rcx
	jz 1f
	GUEST_FAIL
1:	mov $(IO_A32_GPA + 4), %ebx
	cmp %rbx, %rsi
	je 1f
	GUEST_FAIL
1:	GUEST_DONE($0x600d)
GUEST_END(exits_io_seg)
