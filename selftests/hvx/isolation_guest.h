/* SPDX-License-Identifier: GPL-2.0 */
/* What isolation_guest.S and isolation_test.c agree on. */
#ifndef HVX_SELFTEST_ISOLATION_GUEST_H
#define HVX_SELFTEST_ISOLATION_GUEST_H

/* The pattern area starts at 1 MiB, above the code, tables and stack. */
#define ISO_DATA_START		0x100000
/* One 64-bit pattern word every ISO_STRIDE bytes. */
#define ISO_STRIDE		256
#define ISO_PASSES		3
#define ISO_REPORT_PAGES	16
#define ISO_MUL			0x9e3779b97f4a7c15

/* Pass p's word at guest-physical address a of the VM with this seed. */
#define ISO_PATTERN(seed, a, p)	((((a) * ISO_MUL) ^ (seed)) + (p))

/* A progress report: the pass and the page number the guest reached. */
#define ISO_PROGRESS_PASS_SHIFT	24
#define ISO_PROGRESS(p, page)	(((p) << ISO_PROGRESS_PASS_SHIFT) | (page))

#endif /* HVX_SELFTEST_ISOLATION_GUEST_H */
