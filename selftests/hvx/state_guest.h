/* SPDX-License-Identifier: GPL-2.0 */
/* Register values shared by state_guest.S and state_test.c. */
#ifndef HVX_SELFTEST_STATE_GUEST_H
#define HVX_SELFTEST_STATE_GUEST_H

#ifdef __ASSEMBLER__
#define U64(x)	x
#else
#define U64(x)	x##ULL
/* PKRU values of state_pkru: key 0 stays accessible, the guest's pages use it. */
#define PKRU_GUEST1	0xaaaaaaa8
#define PKRU_GUEST2	0x0ffffff0

#endif

/* GPR k (1 = rbx, 2 = rcx, 3 = rdx, 4 = rsi, 5 = rdi, 6 = rbp, 7.. = r8..) */
#define REG_IN(k)	(U64(0x0123456789abcdef) ^ ((k) * U64(0x1111111111111111)))
#define REG_OUT(k)	(U64(0xfedcba9876543210) ^ ((k) * U64(0x0101010101010101)))

/* Byte j of vector register i: low 128 bits and high 128 bits (YMM). */
#define VEC_LO(i, j)	(((i) * 16 + (j)) & 0xff)
#define VEC_HI(i, j)	((~((i) * 16 + (j))) & 0xff)

/*
 * PKRU values of state_pkru.  Key 0, which every guest page carries, stays
 * accessible: PKRU also governs supervisor data accesses to user pages.
 */
#define PKRU_GUEST1	0xaaaaaaa8
#define PKRU_GUEST2	0x0ffffff0

#endif
