/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code for stringio_test.c: REP INS/OUTS of each size, both
 * directions of rSI/rDI, across pages, with 32-bit addressing, and into a
 * page the guest has not mapped.  Every step checks rCX and rSI/rDI.
 */
#include "guest.h"
#include "stringio_guest.h"

/* Fails unless register equals the 64-bit value. */
#define CHECK_REG(reg, val)	movabs $(val), %rbx; cmp %rbx, reg; je 8f; GUEST_FAIL; 8:

GUEST_BEGIN(stringio)
	.code64
	cld
	mov $SIO_SRC, %esi
	mov $SIO_N_OUTSB, %ecx
	mov $SIO_PORT_OUTSB, %dx
	rep outsb
	CHECK_REG(%rcx, 0)
	CHECK_REG(%rsi, SIO_SRC + SIO_N_OUTSB)

	/* Odd start, across two page boundaries. */
	mov $SIO_SRC + 0xfff, %esi
	mov $SIO_N_OUTSW, %ecx
	mov $SIO_PORT_OUTSW, %dx
	rep outsw
	CHECK_REG(%rcx, 0)
	CHECK_REG(%rsi, SIO_SRC + 0xfff + 2 * SIO_N_OUTSW)

	/* Backwards: the first item is the highest. */
	std
	mov $SIO_SRC + 0x3000, %esi
	mov $SIO_N_OUTSL, %ecx
	mov $SIO_PORT_OUTSL, %dx
	rep outsl
	cld
	CHECK_REG(%rcx, 0)
	CHECK_REG(%rsi, SIO_SRC + 0x3000 - 4 * SIO_N_OUTSL)

	mov $SIO_DST + 1, %edi
	mov $SIO_N_INSB, %ecx
	mov $SIO_PORT_INSB, %dx
	rep insb
	CHECK_REG(%rcx, 0)
	CHECK_REG(%rdi, SIO_DST + 1 + SIO_N_INSB)

	std
	mov $SIO_DST + 0x3ffe, %edi
	mov $SIO_N_INSW, %ecx
	mov $SIO_PORT_INSW, %dx
	rep insw
	cld
	CHECK_REG(%rcx, 0)
	CHECK_REG(%rdi, SIO_DST + 0x3ffe - 2 * SIO_N_INSW)

	/* ESI and ECX only; writing them clears bits 63:32. */
	movabs $(0xabcdef0000000000 + SIO_SRC + 5), %rsi
	movabs $(0x1234567800000000 + SIO_N_A32), %rcx
	mov $SIO_PORT_A32, %dx
	.byte 0x67, 0xf3, 0x6e		/* addr32 rep outsb */
	CHECK_REG(%rcx, 0)
	CHECK_REG(%rsi, SIO_SRC + 5 + SIO_N_A32)

	/*
	 * SIO_HOLE is not mapped: the items before it move, then #PF with
	 * rCX and rSI/rDI at the faulting item.  The handler skips the
	 * 2-byte instruction (R15).
	 */
	mov $SIO_HOLE - SIO_BEFORE_HOLE, %esi
	mov $SIO_N_HOLE, %ecx
	mov $SIO_PORT_OUT_HOLE, %dx
	mov $2, %r15d
	rep outsb
	CHECK_REG(%rcx, SIO_N_HOLE - SIO_BEFORE_HOLE)
	CHECK_REG(%rsi, SIO_HOLE)

	mov $SIO_HOLE - SIO_BEFORE_HOLE, %edi
	mov $SIO_N_HOLE, %ecx
	mov $SIO_PORT_IN_HOLE, %dx
	mov $2, %r15d
	rep insb
	CHECK_REG(%rcx, SIO_N_HOLE - SIO_BEFORE_HOLE)
	CHECK_REG(%rdi, SIO_HOLE)

	/* REP with rCX = 0 moves nothing and does not exit. */
	xor %ecx, %ecx
	mov $SIO_PORT_OUTSB, %dx
	rep outsb

	GUEST_DONE($0x600d)
GUEST_END(stringio)
