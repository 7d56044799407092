/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code of the statistics tests' lib/stats.c, all 64-bit. */
#include "guest.h"

/* As in stats.h. */
#define STATS_PORT_OUT	0x80
#define STATS_PORT_IN	0x81
#define STATS_MMIO_GPA	0xd0000000

/*
 * R8 OUTs, R9 INs and R10 CPUIDs, one MMIO read and one MMIO write, then
 * HLT: no other exit to userspace, so every counter is known exactly.
 */
GUEST_BEGIN(stats_counts)
	.code64
	/* Each vCPU's own stack page: every vCPU maps one page at least. */
	push %rax
	pop %rax
	test %r8, %r8
	jz 2f
1:	out %al, $STATS_PORT_OUT
	dec %r8
	jnz 1b
2:	test %r9, %r9
	jz 4f
3:	in $STATS_PORT_IN, %al
	dec %r9
	jnz 3b
4:	test %r10, %r10
	jz 6f
5:	xor %eax, %eax
	xor %ecx, %ecx
	cpuid
	dec %r10
	jnz 5b
6:	mov $STATS_MMIO_GPA, %ebx
	mov (%rbx), %eax
	mov %eax, 8(%rbx)
GLABEL(stats_counts_hlt)
	hlt
	jmp stats_counts_hlt
GUEST_END(stats_counts)
