/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for multi_test.c (64-bit). */
#include "guest.h"

#define LCG_MUL		6364136223846793005
#define LCG_INC		1442695040888963407

/* RBX = seed; 2000 LCG steps, reporting the low half every 500. */
GUEST_BEGIN(multi_calc)
	.code64
	movabs $LCG_MUL, %r8
	movabs $LCG_INC, %r9
	mov $4, %r10d
1:	mov $500, %ecx
2:	imul %r8, %rbx
	add %r9, %rbx
	loop 2b
	GUEST_REPORT(%ebx)
	dec %r10d
	jnz 1b
	shr $32, %rbx
	GUEST_DONE(%ebx)
GUEST_END(multi_calc)

/* RBX = vCPU id: report it, add 1 to the shared counter 1000 times. */
GUEST_BEGIN(multi_vcpu)
	.code64
	GUEST_REPORT(%ebx)
	mov $GUEST_DATA_GPA, %esi
	mov $1000, %ecx
1:	mov $1, %eax
	lock xadd %eax, (%rsi)
	loop 1b
	GUEST_DONE(%ebx)
GUEST_END(multi_vcpu)

/*
 * RBX = seed; 200 rounds of 50 LCG steps, reporting the low half after
 * each round (the host moves the vCPU thread to another CPU at every
 * report), then the high half.  XMM0 counts the rounds alongside.
 */
GUEST_BEGIN(multi_migrate)
	.code64
	mov %cr4, %rax
	or $(1 << 9), %rax		/* OSFXSR */
	mov %rax, %cr4
	pxor %xmm0, %xmm0
	mov $1, %eax
	movq %rax, %xmm1
	movabs $LCG_MUL, %r8
	movabs $LCG_INC, %r9
	mov $200, %r10d
1:	mov $50, %ecx
2:	imul %r8, %rbx
	add %r9, %rbx
	loop 2b
	paddq %xmm1, %xmm0
	GUEST_REPORT(%ebx)
	dec %r10d
	jnz 1b
	movq %xmm0, %rax
	GUEST_ASSERT_EQ(%rax, 200)
	shr $32, %rbx
	GUEST_DONE(%ebx)
GUEST_END(multi_migrate)
