/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Address-space stress: each vCPU switches among its PS_NR_AS address
 * spaces and remaps its window pages at random, flushing as the
 * architecture requires (INVLPG after changing or removing a present PTE
 * of the current address space, a CR3 reload after changing a present PDE,
 * none after a not-present -> present change of a PTE or PDE, or for
 * another address space),
 * and checks every read through the window against its own record of the
 * mappings: the frame's tag, a write seen through the identity map, or a
 * #PF with the right CR2 for an unmapped page.
 *
 * In: R12 = the vCPU's region, R13 = random seed (not 0).  Out: PORT_DONE
 * with the number of iterations when the host sets the stop word; on a
 * mismatch REPORT expected, got, then FAIL.
 */
#include "guest.h"
#include "pagestress_guest.h"

/* xorshift64 on R13. */
#define RNG				\
	mov %r13, %rax;			\
	shl $13, %rax;			\
	xor %rax, %r13;			\
	mov %r13, %rax;			\
	shr $7, %rax;			\
	xor %rax, %r13;			\
	mov %r13, %rax;			\
	shl $17, %rax;			\
	xor %rax, %r13

GUEST_BEGIN(pagestress_guest)
	.code64
	xor %ebx, %ebx
	xor %r15d, %r15d
	xor %r14d, %r14d
	call switch_as

loop:
	inc %rbx
	test $255, %ebx
	jnz 1f
	mov %rbx, 24(%r12)		/* progress, for the host */
	cmpl $0, PS_STOP_GPA
	jne done
1:	RNG
	mov %r13, %r8
	and $15, %r8			/* operation */
	mov %r13, %r9
	shr $4, %r9
	and $(PS_NR_AS - 1), %r9	/* address space */
	mov %r13, %r10
	shr $8, %r10
	and $(PS_NR_SLOTS - 1), %r10	/* window slot */
	mov %r13, %r11
	shr $13, %r11
	and $(PS_NR_FRAMES - 1), %r11	/* frame */
	cmp $1, %r8
	jbe op_map
	cmp $2, %r8
	je op_unmap
	cmp $3, %r8
	je op_fill
	cmp $4, %r8
	je op_switch
	cmp $5, %r8
	je op_pde
	cmp $8, %r8
	je op_publish
	cmp $9, %r8
	je op_retire
	cmp $10, %r8
	je op_reclaim
	cmp $13, %r8
	ja op_check
	cmp $11, %r8
	jae op_consume
	jmp op_check

/* Map frame r11 at slot r10 of address space r9. */
op_map:
	call frame_pa
	or $3, %rcx
	lea 1(%r11), %rdx
	jmp set_pte
op_unmap:
	xor %ecx, %ecx
	xor %edx, %edx
set_pte:
	mov %r9, %rdi
	mov PS_SEL(%r12,%r9,4), %esi
	cmp $2, %esi			/* no PT in use */
	je loop
	call pt_addr
	mov %rcx, (%rax,%r10,8)
	call mirror_addr
	mov %edx, (%rax)
	cmp %r9, %r14
	jne loop
	call slot_la
	invlpg (%rax)
	jmp loop

/* Not present -> present in the current address space, used at once. */
op_fill:
	mov %r14, %r9
	mov %r14, %rdi
	mov PS_SEL(%r12,%r14,4), %esi
	cmp $2, %esi
	je loop
	call mirror_addr
	cmpl $0, (%rax)
	jne loop
	lea 1(%r11), %edx
	mov %edx, (%rax)
	call pt_addr
	call frame_pa
	or $3, %rcx
	mov %rcx, (%rax,%r10,8)
	call slot_la
	mov (%rax), %ecx
	call tag
	cmp %eax, %ecx
	jne mismatch
	jmp loop

op_switch:
	mov %r9, %r14
	call switch_as
	jmp loop

/*
 * The window's PDE of address space r9 goes PT A -> PT B -> not present ->
 * PT A: a CR3 reload after the first two changes (if current), none after
 * not present -> present, where the window is used at once.
 */
op_pde:
	mov PS_SEL(%r12,%r9,4), %esi
	inc %esi
	cmp $3, %esi
	jb 1f
	xor %esi, %esi
1:	mov %esi, PS_SEL(%r12,%r9,4)
	mov %r9, %rcx
	shl $14, %rcx
	xor %eax, %eax
	cmp $2, %esi
	je 2f
	mov %r9, %rdi
	call pt_addr
	or $3, %rax
2:	mov %rax, PS_AS + 0x2000(%r12,%rcx)
	cmp %r9, %r14
	jne loop
	test %esi, %esi
	jz op_check
	mov %cr3, %rax
	mov %rax, %cr3
	call count_flush
	jmp loop

/* Check slot r10 of the current address space against the record. */
op_check:
	mov %r14, %rdi
	mov PS_SEL(%r12,%r14,4), %esi
	cmp $2, %esi
	je check_absent
	call mirror_addr
	mov (%rax), %r11d
	test %r11d, %r11d
	jz check_absent
	dec %r11
	call slot_la
	mov %rax, %rdi
	mov (%rdi), %ecx
	call tag
	cmp %eax, %ecx
	jne mismatch
	/* A write through the window lands in the frame. */
	mov %ebx, 4(%rdi)
	call frame_pa
	mov 4(%rcx), %ecx
	mov %ebx, %eax
	cmp %eax, %ecx
	jne mismatch
	jmp loop
check_absent:
	call slot_la
	mov %rax, %rdi
	mov (%r12), %rsi
	mov $2, %r15d			/* length of the faulting mov */
	.byte 0x8b, 0x08		/* mov (%rax), %ecx */
	inc %rsi
	mov %rsi, %rax
	mov (%r12), %rcx
	cmp %rax, %rcx
	jne mismatch
	mov %rdi, %rax
	mov 8(%r12), %rcx
	cmp %rax, %rcx
	jne mismatch
	jmp loop

/* Shared window: map frame r11 in a free own slot (not present -> present). */
op_publish:
	call own_slot
	cmpl $0, PS_STATE(%r12,%rsi,4)
	jne loop
	mov %r11, %rcx
	shl $12, %rcx
	add $(PS_SH_FRAMES + 3), %rcx
	mov %rcx, PS_SH_PT(,%rdi,8)
	lea 1(%r11), %ecx
	mov %ecx, PS_PUB(,%rdi,4)
	movl $1, PS_STATE(%r12,%rsi,4)
	jmp loop

/* Unpublish and unmap an own slot; note the others' CR3-load counts. */
op_retire:
	call own_slot
	cmpl $1, PS_STATE(%r12,%rsi,4)
	jne loop
	movl $0, PS_PUB(,%rdi,4)
	movq $0, PS_SH_PT(,%rdi,8)
	call shared_la
	invlpg (%rax)
	mfence
	mov %rsi, %rdx
	shl $6, %rdx			/* PS_MAX_VCPUS * 8 bytes per slot */
	lea PS_SNAP(%r12,%rdx), %rdx
	xor %ecx, %ecx
1:	mov PS_FLUSHES(,%rcx,8), %rax
	mov %rax, (%rdx,%rcx,8)
	inc %ecx
	cmp $PS_MAX_VCPUS, %ecx
	jb 1b
	movl $2, PS_STATE(%r12,%rsi,4)
	jmp loop

/* A retired slot is free again once every other vCPU loaded CR3 since. */
op_reclaim:
	call own_slot
	cmpl $2, PS_STATE(%r12,%rsi,4)
	jne loop
	mov %rsi, %rdx
	shl $6, %rdx
	lea PS_SNAP(%r12,%rdx), %rdx
	xor %ecx, %ecx
1:	cmp 32(%r12), %ecx
	je 2f
	mov PS_FLUSHES(,%rcx,8), %rax
	cmp (%rdx,%rcx,8), %rax
	jbe loop
2:	inc %ecx
	cmp PS_NR_VCPUS, %ecx
	jb 1b
	movl $0, PS_STATE(%r12,%rsi,4)
	jmp loop

/*
 * Read any vCPU's published slot: the frame's tag, or a #PF only if the
 * slot was retired meanwhile (it cannot be reused before this vCPU's next
 * CR3 load).
 */
op_consume:
	mov %r13, %rdi
	shr $25, %rdi
	and $255, %rdi
	mov PS_PUB(,%rdi,4), %r11d
	test %r11d, %r11d
	jz loop
	dec %r11
	call shared_la
	mov (%r12), %rsi
	mov $2, %r15d			/* length of the mov below */
	.byte 0x8b, 0x08		/* mov (%rax), %ecx */
	xor %r15d, %r15d
	cmp (%r12), %rsi
	jne 1f
	mov %r11d, %eax
	or $0x5b000000, %eax
	cmp %eax, %ecx
	jne mismatch
	incq 16(%r12)
	jmp loop
1:	mov PS_PUB(,%rdi,4), %ecx
	xor %eax, %eax
	cmp %eax, %ecx
	jne mismatch
	jmp loop

mismatch:
	mov %eax, %esi
	GUEST_REPORT(%esi)
	GUEST_REPORT(%ecx)
	GUEST_REPORT(%ebx)
	GUEST_FAIL

done:
	GUEST_DONE(%ebx)

/* CR3 = address space r14. */
switch_as:
	mov %r14, %rax
	shl $14, %rax
	lea PS_AS(%r12,%rax), %rax
	mov %rax, %cr3
	/* fall through */

/* Counts a CR3 load of this vCPU, after it (the TLB is flushed). */
count_flush:
	mov 32(%r12), %eax
	lock incq PS_FLUSHES(,%rax,8)
	ret

/* rsi = own shared slot (r13 bits 19-24), rdi = its global index. */
own_slot:
	mov %r13, %rsi
	shr $19, %rsi
	and $(PS_SH_OWN - 1), %rsi
	mov 32(%r12), %edi
	shl $6, %rdi
	add %rsi, %rdi
	ret

/* rax = linear address of shared slot rdi. */
shared_la:
	mov %rdi, %rax
	shl $12, %rax
	push %rdx
	mov $PS_WINDOW2, %rdx
	add %rdx, %rax
	pop %rdx
	ret

/* rax = PT (rsi: 0 A, 1 B) of address space rdi. */
pt_addr:
	mov %rdi, %rax
	test %esi, %esi
	jnz 1f
	shl $14, %rax
	lea PS_AS + 0x3000(%r12,%rax), %rax
	ret
1:	shl $12, %rax
	lea PS_PTB(%r12,%rax), %rax
	ret

/* rax = &mirror[rdi][rsi][r10]; keeps rsi, rdi. */
mirror_addr:
	mov %rdi, %rax
	add %rax, %rax
	add %rsi, %rax
	shl $5, %rax
	add %r10, %rax
	lea PS_MIRROR(%r12,%rax,4), %rax
	ret

/* rcx = guest-physical address of frame r11. */
frame_pa:
	mov %r11, %rcx
	shl $12, %rcx
	lea PS_FRAMES(%r12,%rcx), %rcx
	ret

/* rax = linear address of window slot r10. */
slot_la:
	mov %r10, %rax
	shl $12, %rax
	push %rdx
	mov $PS_WINDOW, %rdx
	add %rdx, %rax
	pop %rdx
	ret

/* eax = tag of frame r11. */
tag:
	mov 32(%r12), %eax
	shl $16, %eax
	or $0x7a000000, %eax
	or %r11d, %eax
	ret

/* #PF: record CR2, count, skip the faulting instruction (R15 bytes). */
GLABEL(pagestress_pf)
	push %rax
	test %r15, %r15
	jnz 1f
	mov %cr2, %rax
	GUEST_REPORT(%eax)
	GUEST_FAIL
1:	mov %cr2, %rax
	mov %rax, 8(%r12)
	incq (%r12)
	add %r15, 16(%rsp)
	xor %r15d, %r15d
	pop %rax
	add $8, %rsp
	iretq
GUEST_END(pagestress_guest)
