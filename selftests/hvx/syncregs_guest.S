/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for syncregs_test.c, all 64-bit. */
#include "guest.h"

#define SYNC_MMIO_GPA	0xd0000000
#define SYNC_PORT	0x70

/*
 * sync_out: exits on SYNC_PORT with distinct values in every GPR, twice;
 * the host compares the registers area with HVX_GET_STATE's view.
 */
GUEST_BEGIN(sync_out)
	.code64
	mov $0x1111, %eax
	mov $0x2222, %ebx
	mov $0x3333, %ecx
	mov $SYNC_PORT, %edx
	mov $0x5555, %esi
	mov $0x6666, %edi
	mov $0x7777, %ebp
	movabs $0x8888888888888888, %r8
	mov $0x9999, %r9d
	mov $0xaaaa, %r10d
	mov $0xbbbb, %r11d
	mov $0xcccc, %r12d
	mov $0xdddd, %r13d
	mov $0xeeee, %r14d
	mov $0xffff, %r15d
GLABEL(sync_out_1)
	out %eax, %dx
	add $1, %rax
	stc
GLABEL(sync_out_2)
	out %eax, %dx
	GUEST_DONE($0x600d)
GUEST_END(sync_out)

/*
 * sync_in: the host changes registers through the area at each exit:
 * RBX (reported), RIP (skips a GUEST_FAIL), CR0.TS (reported), FS's base
 * (the word read there is reported).
 */
GUEST_BEGIN(sync_in)
	.code64
	xor %ebx, %ebx
GLABEL(sync_in_1)
	out %eax, $SYNC_PORT
	GUEST_REPORT(%ebx)
GLABEL(sync_in_2)
	out %eax, $SYNC_PORT
	GUEST_FAIL
GLABEL(sync_in_skip)
	mov %cr0, %rax
	shr $3, %eax
	and $1, %eax
	GUEST_REPORT(%eax)
	mov %fs:0, %eax
	GUEST_REPORT(%eax)
	/* IN's data, or RAX from the area if REGS is dirty. */
	mov $0x1234, %eax
GLABEL(sync_in_in)
	in $SYNC_PORT, %eax
	GUEST_REPORT(%eax)
	GUEST_DONE($0x600d)
GUEST_END(sync_in)

/* sync_mmio: a read and a write of MMIO, completed through the area. */
GUEST_BEGIN(sync_mmio)
	.code64
	mov $SYNC_MMIO_GPA, %ebx
	xor %eax, %eax
GLABEL(sync_mmio_read)
	mov 0x10(%rbx), %eax
	GUEST_ASSERT_EQ(%eax, 0x11223344)
	mov $0xcafef00d, %ecx
GLABEL(sync_mmio_write)
	mov %ecx, 0x14(%rbx)
	/* The flags of the completed CMP: ZF from equal values. */
	mov $0x11223344, %edx
GLABEL(sync_mmio_cmp)
	cmp 0x10(%rbx), %edx
	je 1f
	GUEST_FAIL
1:	GUEST_DONE($0x600d)
GUEST_END(sync_mmio)
