/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for edge_test.c (64-bit). */
#include "guest.h"
#include "edge_guest.h"

#define MSR_TSC_AUX	0xc0000103

/*
 * TSC_AUX: the guest's WRMSR, then RDTSCP and RDPID (each reported, or
 * EDGE_NONE if CPUID does not offer it); a HLT for the host to set a new
 * value; RDTSCP again; a WRMSR with bits 63:32 set, which must #GP and
 * change nothing (R15 is its length for the IDT handler); RDTSCP again.
 */
GUEST_BEGIN(edge_tsc_aux)
	.code64
	mov $0x80000001, %eax
	xor %ecx, %ecx
	cpuid
	bt $27, %edx
	jc 1f
	GUEST_DONE($EDGE_NONE)
1:	mov $MSR_TSC_AUX, %ecx
	mov $EDGE_AUX_GUEST, %eax
	xor %edx, %edx
	wrmsr
	rdtscp
	GUEST_REPORT(%ecx)
	mov $7, %eax
	xor %ecx, %ecx
	cpuid
	bt $22, %ecx
	jnc 2f
	rdpid %rax
	mov %eax, %ebx
	GUEST_REPORT(%ebx)
	jmp 3f
2:	GUEST_REPORT($EDGE_NONE)
3:	hlt
	rdtscp
	GUEST_REPORT(%ecx)
	mov $MSR_TSC_AUX, %ecx
	mov $1, %edx
	mov $0x9999, %eax
	mov $2, %r15d
GLABEL(edge_tsc_aux_gp)
	wrmsr
	rdtscp
	GUEST_REPORT(%ecx)
	GUEST_DONE($0x600d)
GUEST_END(edge_tsc_aux)

/*
 * An exception whose delivery exits: the stack is outside guest RAM, so
 * pushing the #UD frame is an MMIO access.  The host then moves RIP to
 * edge_stale_resume with a good stack.
 */
GUEST_BEGIN(edge_stale)
	.code64
	mov $EDGE_MMIO_GPA, %rsp
GLABEL(edge_stale_ud)
	ud2
GLABEL(edge_stale_resume)
	GUEST_DONE($0x600d)
GUEST_END(edge_stale)

/* A load through a page table the host placed outside guest RAM. */
GUEST_BEGIN(edge_pt_walk)
	.code64
	mov $EDGE_WINDOW_VA, %rbx
GLABEL(edge_pt_walk_load)
	mov (%rbx), %eax
	GUEST_DONE($0x600d)
GUEST_END(edge_pt_walk)

/* An exit at another RIP first, then a load from a slot with no memory behind it. */
GUEST_BEGIN(edge_pin)
	.code64
	GUEST_REPORT($1)
	mov $EDGE_PIN_GPA, %rbx
GLABEL(edge_pin_load)
	mov (%rbx), %eax
	GUEST_DONE($0x600d)
GUEST_END(edge_pin)

/* Says it runs, then spins without exits of its own until the host says stop. */
GUEST_BEGIN(edge_spin)
	.code64
	movl $1, EDGE_SPIN_RUNNING
1:	pause
	cmpl $0, EDGE_SPIN_STOP
	je 1b
	GUEST_DONE($0x600d)
GUEST_END(edge_spin)

/*
 * SMSW (%rax,%rbx) (0f 01 24 18) across the window's two pages: the host
 * put 0f 01 24 at the end of page 0 and 18, then RET, at the start of
 * page 1.  The guest runs the RET (the CPU caches page 1's translation),
 * unmaps page 1 without a flush (a stale translation is architectural)
 * and jumps to the SMSW.
 */
GUEST_BEGIN(edge_trunc)
	.code64
	mov $(EDGE_WINDOW_VA + 0x1001), %rcx
	call *%rcx
	mov $(GUEST_PT_GPA + 8), %rsi
	movq $0, (%rsi)
	mov $GUEST_DATA_GPA, %rax
	xor %ebx, %ebx
	mov $(EDGE_WINDOW_VA + 0xffd), %rcx
	jmp *%rcx
GUEST_END(edge_trunc)

/*
 * A #PF (a load from a page that is not present) whose delivery faults
 * again (the stack is not present either) is a #DF.  #DF runs on IST1,
 * which the host points at a good stack; R15 makes the handler return
 * past the load, and the guest puts its stack back.
 */
GUEST_BEGIN(edge_double)
	.code64
	mov $(EDGE_WINDOW_VA + 0x800), %rsp
	mov $(EDGE_WINDOW_VA + 0x1000), %rcx
	mov $2, %r15d
GLABEL(edge_double_load)
	mov (%rcx), %eax
	mov $GUEST_STACK_TOP, %rsp
	GUEST_DONE($0x600d)
GUEST_END(edge_double)

/*
 * Long mode off and on again: to compatibility mode, paging off (long
 * mode off, EFER.LME still set), a HLT; PAE off, a HLT (LME set with PG
 * and PAE clear: the state in which an emulator's #VMEXIT once lost the
 * host's CR0); PAE and paging on again (long mode on), a HLT; back to
 * 64-bit mode, where MOV to CR0 clearing PG must #GP (R15 is its length
 * for the IDT handler).
 */
GUEST_BEGIN(edge_long_off)
	.code64
	pushq $0x10
	lea 1f(%rip), %rax
	pushq %rax
	lretq
	.code32
1:	mov %cr0, %eax
	btr $31, %eax
	mov %eax, %cr0
GLABEL(edge_long_off_hlt1)
	hlt
	mov %cr4, %eax
	btr $5, %eax
	mov %eax, %cr4
GLABEL(edge_long_off_hlt2)
	hlt
	bts $5, %eax
	mov %eax, %cr4
	mov %cr0, %eax
	bts $31, %eax
	mov %eax, %cr0
GLABEL(edge_long_off_hlt3)
	hlt
	call 3f			/* the code runs where it was not linked: RET's address */
3:	pop %eax
	add $(2f - 3b), %eax
	push $0x08
	push %eax
	lret
	.code64
2:	mov %cr0, %rax
	btr $31, %rax
	mov $3, %r15d
GLABEL(edge_long_off_gp)
	mov %rax, %cr0
	GUEST_DONE($0x600d)
GUEST_END(edge_long_off)
