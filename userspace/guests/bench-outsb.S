/* SPDX-License-Identifier: GPL-2.0 */
/*
 * String I/O benchmark: every iteration is one REP OUTSB of BENCH_OUTSB_BYTES
 * from a page-aligned buffer to a port the client ignores, however many
 * exits the hypervisor takes for it.  Protocol in guest.h.
 */
#include "guest.h"

#define BENCH_OUTSB_BUF		0x300000

	.code64
	.section .text.entry, "ax"
	.globl _start
_start:
	mov	$GUEST_STACK_TOP, %rsp
	cld
	BENCH_ROUND_BEGIN
	mov	$PORT_BENCH_PIO, %dx
1:	mov	$BENCH_OUTSB_BUF, %esi
	mov	$BENCH_OUTSB_BYTES, %ecx
	rep outsb
	dec	%r8d
	jnz	1b
	BENCH_ROUND_END
