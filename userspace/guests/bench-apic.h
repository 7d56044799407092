/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The local APIC benchmarks, in x2APIC mode on both hypervisors: one
 * source, three guests (bench-timer.S, bench-ipi.S, bench-ipihlt.S define
 * which).  vCPU 0 follows the protocol of guest.h; each iteration waits
 * for one interrupt:
 *   timer   a TSC-deadline timer interrupt, the deadline due when armed
 *   ipi     vCPU 0 sends an IPI to vCPU 1, whose handler sends one back;
 *           vCPU 1 spins between them
 *   ipihlt  the same, with vCPU 1 halted between them: the round trip
 *           includes waking it from HLT
 */
#include "guest.h"

#define IDT_ADDR	0x200000
#define FLAG_ADDR	0x201000
#define READY_ADDR	0x201040	/* vCPU 1 takes interrupts from now */
#define VEC_DONE	0x40	/* vCPU 0: the timer, or vCPU 1's answer */
#define VEC_PING	0x41	/* vCPU 1: vCPU 0's IPI */

#define MSR_APIC_BASE	0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define MSR_X2_ID	0x802
#define MSR_X2_EOI	0x80b
#define MSR_X2_SVR	0x80f
#define MSR_X2_ICR	0x830
#define MSR_X2_LVTT	0x832

	.code64
	.section .text.entry, "ax"
	.globl _start
_start:
	/* x2APIC mode, then the APIC ID says which vCPU this is. */
	mov	$MSR_APIC_BASE, %ecx
	rdmsr
	or	$0xc00, %eax
	wrmsr
	mov	$MSR_X2_ID, %ecx
	rdmsr
	mov	%eax, %r15d
	mov	%r15, %rax
	shl	$16, %rax
	mov	$GUEST_STACK_TOP, %rsp
	sub	%rax, %rsp
	mov	$VEC_DONE, %edi
	lea	on_done(%rip), %rsi
	call	set_gate
	mov	$VEC_PING, %edi
	lea	on_ping(%rip), %rsi
	call	set_gate
	lidt	idtr(%rip)
	mov	$MSR_X2_SVR, %ecx
	mov	$0x1ff, %eax
	xor	%edx, %edx
	wrmsr
	test	%r15d, %r15d
	jnz	ap
#ifndef BENCH_TIMER
	/* An IPI to a software-disabled APIC is dropped: wait for vCPU 1. */
0:	pause
	cmpl	$0, READY_ADDR
	je	0b
#endif
#ifdef BENCH_TIMER
	mov	$MSR_X2_LVTT, %ecx
	mov	$(VEC_DONE | (2 << 17)), %eax
	xor	%edx, %edx
	wrmsr
#endif
	sti
	BENCH_ROUND_BEGIN
1:	movl	$0, FLAG_ADDR
#ifdef BENCH_TIMER
	rdtsc
	mov	$MSR_TSC_DEADLINE, %ecx
	wrmsr
#else
	mov	$MSR_X2_ICR, %ecx
	mov	$VEC_PING, %eax
	mov	$1, %edx
	wrmsr
#endif
2:	pause
	cmpl	$0, FLAG_ADDR
	je	2b
	dec	%r8d
	jnz	1b
	BENCH_ROUND_END

/* vCPU 1: answers each IPI; the client stops it once vCPU 0 is done. */
ap:
	movl	$1, READY_ADDR
	sti
3:
#ifdef BENCH_HLT
	hlt
#else
	pause
#endif
	jmp	3b

on_done:
	push	%rax
	push	%rcx
	push	%rdx
	movl	$1, FLAG_ADDR
	mov	$MSR_X2_EOI, %ecx
	xor	%eax, %eax
	xor	%edx, %edx
	wrmsr
	pop	%rdx
	pop	%rcx
	pop	%rax
	iretq

on_ping:
	push	%rax
	push	%rcx
	push	%rdx
	mov	$MSR_X2_EOI, %ecx
	xor	%eax, %eax
	xor	%edx, %edx
	wrmsr
	mov	$MSR_X2_ICR, %ecx
	mov	$VEC_DONE, %eax
	xor	%edx, %edx
	wrmsr
	pop	%rdx
	pop	%rcx
	pop	%rax
	iretq

/* A 64-bit interrupt gate for vector %rdi to %rsi. */
set_gate:
	mov	%rsi, %rax
	and	$0xffff, %eax
	xor	%ecx, %ecx
	mov	%cs, %cx
	shl	$16, %rcx
	or	%rcx, %rax
	mov	$0x8e, %ecx
	shl	$40, %rcx
	or	%rcx, %rax
	mov	%rsi, %rcx
	shr	$16, %rcx
	and	$0xffff, %ecx
	shl	$48, %rcx
	or	%rcx, %rax
	shl	$4, %rdi
	add	$IDT_ADDR, %rdi
	mov	%rax, (%rdi)
	movq	$0, 8(%rdi)
	ret

	.section .rodata
idtr:
	.word	0xfff
	.quad	IDT_ADDR
