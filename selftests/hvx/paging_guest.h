/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layout and result codes shared by paging_guest.S and paging_test.c.
 *
 * The host writes a case descriptor at PG_DESC_GPA; the runner (paging
 * mode's CPL 0 code) writes the listed page-table entries, reloads CR3,
 * drops to CPL 3 if asked and performs one access at the target address:
 *
 *   +0   u32 number of entries to write
 *   +4   u32 access: PG_READ, PG_WRITE or PG_FETCH
 *   +8   u32 1: access from CPL 3
 *   +16  u64 target linear address (fetch there; read/write at +PG_RW_OFF)
 *   +24  u64 CPL 3 entry (the user alias of pg_access32/64)
 *   +32  entries: u64 entry address, u64 value, u32 size (4 or 8), u32 pad
 */
#ifndef HVX_SELFTEST_PAGING_GUEST_H
#define HVX_SELFTEST_PAGING_GUEST_H

#define PG_DESC_GPA	0x5000
#define PG_DESC_ENTRIES	32
#define PG_ENTRY_SIZE	24
#define PG_STACK_TOP	0x8000

#define PG_READ		0
#define PG_WRITE	1
#define PG_FETCH	2

#define PG_RW_OFF	0x800
#define PG_WRITE_MARK	0x5a5aa5a5

/* Guest results (the value written to PORT_DONE). */
#define PG_RES_OK	0x600d		/* read or write done */
#define PG_RES_FETCHED	0xfe7c		/* the code on the target page ran */
#define PG_RES_PF	0xe14		/* #PF: RBX = CR2, RCX = error code */
#define PG_RES_EXC	0xe00		/* + vector: another exception */

/* Selectors of the test's GDT (at 0x1000). */
#define PG_SEL_CODE32	0x08
#define PG_SEL_DATA	0x10
#define PG_SEL_UCODE32	0x1b
#define PG_SEL_UDATA	0x23
#define PG_SEL_TSS32	0x28
#define PG_SEL_CODE64	0x30
#define PG_SEL_UCODE64	0x3b
#define PG_SEL_TSS64	0x40

#endif /* HVX_SELFTEST_PAGING_GUEST_H */
