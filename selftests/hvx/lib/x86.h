/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86 architectural constants the tests share (Intel SDM vol. 3A, AMD APM
 * vol. 2): control-register, EFER and RFLAGS bits, debug-register values,
 * MSR numbers, page-table entry bits.  Only what is architectural: each
 * test's own layout (addresses, guest ports) stays with it.
 */
#ifndef HVX_SELFTEST_X86_H
#define HVX_SELFTEST_X86_H

#define CR0_PE			(1ULL << 0)
#define CR0_MP			(1ULL << 1)
#define CR0_ET			(1ULL << 4)
#define CR0_NE			(1ULL << 5)
#define CR0_WP			(1ULL << 16)
#define CR0_PG			(1ULL << 31)

#define CR4_PSE			(1ULL << 4)
#define CR4_PAE			(1ULL << 5)
#define CR4_OSXMMEXCPT		(1ULL << 10)
#define CR4_OSXSAVE		(1ULL << 18)
#define CR4_SMEP		(1ULL << 20)
#define CR4_SMAP		(1ULL << 21)

#define EFER_LME		(1ULL << 8)
#define EFER_LMA		(1ULL << 10)
#define EFER_NXE		(1ULL << 11)

#define RFLAGS_TF		(1ULL << 8)
#define RFLAGS_IOPL3		(3ULL << 12)
#define RFLAGS_RF		(1ULL << 16)
#define RFLAGS_AC		(1ULL << 18)

#define DR6_INIT		0xffff0ff0u	/* DR6 with no condition reported */
#define DR6_BS			0x4000u		/* single step */

#define MSR_TSC			0x10
#define MSR_SYSENTER_CS		0x174
#define MSR_SYSENTER_ESP	0x175
#define MSR_SYSENTER_EIP	0x176
#define MSR_PAT			0x277
#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SFMASK		0xc0000084
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_TSC_AUX		0xc0000103

#define PTE_P			(1ULL << 0)
#define PTE_RW			(1ULL << 1)
#define PTE_US			(1ULL << 2)
#define PTE_A			(1ULL << 5)
#define PTE_D			(1ULL << 6)
#define PTE_PS			(1ULL << 7)
#define PTE_NX			(1ULL << 63)

#endif
