/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for torture_test.c (64-bit, libhvx's identity map). */
#include "guest.h"
#include "torture_guest.h"

/* WRMSR of a garbage value, read back: the guest must hold what it wrote. */
#define WRMSR_BACK(msr, hi, lo)					\
	mov $(msr), %ecx;					\
	mov $(lo), %eax;					\
	mov $(hi), %edx;					\
	wrmsr;							\
	xor %eax, %eax;						\
	xor %edx, %edx;						\
	rdmsr;							\
	GUEST_ASSERT_EQ(%eax, lo);				\
	GUEST_ASSERT_EQ(%edx, hi)

GUEST_BEGIN(tt_code)
	.code64
/* Writes the slot's first four pages for ever, with no exit of its own. */
GLABEL(tt_spin)
	xor %ecx, %ecx
	mov $TT_SLOT_GPA, %ebx
1:	mov %ecx, (%rbx)
	mov %ecx, 0x1000(%rbx)
	mov %ecx, 0x2000(%rbx)
	mov %ecx, 0x3000(%rbx)
	inc %ecx
	jmp 1b

/*
 * An OUT to TT_PORT for ever, its count in ECX and EAX; with R12 != 0 the
 * count is stored at R12 first.
 */
GLABEL(tt_pio)
	xor %ecx, %ecx
1:	test %r12, %r12
	jz 2f
	mov %ecx, (%r12)
2:	mov %ecx, %eax
	out %eax, $TT_PORT
	inc %ecx
	jmp 1b

/* Writes the first dword of R13 pages from R12 on, then is done. */
GLABEL(tt_touch)
	xor %ecx, %ecx
1:	cmp %r13, %rcx
	jae 2f
	mov %rcx, %rax
	shl $12, %rax
	mov %ecx, (%r12,%rax)
	inc %rcx
	jmp 1b
2:	GUEST_DONE($0x600d)

/*
 * In: R8 = a host address to watch, R9 = a host code address, R10 = 1 to
 * arm every debug register at them.  Fills the MSRs the CPU switches for the guest
 * with garbage, then reaches for the PMU: RDMSR and WRMSR of Intel's and
 * AMD's first counter and its event select, and RDPMC, each 2 bytes long
 * (R15 = 2: guest_idt64 skips the instruction after a fault).  Done with
 * 0x600d, the debug registers still armed if they were.
 */
GLABEL(tt_state)
	test %r10, %r10
	jz 2f
	mov %r8, %dr0
	mov %r8, %dr1
	mov %r9, %dr2
	mov %r8, %dr3
	mov $TT_DR7, %eax
	mov %rax, %dr7
	mov %dr0, %rax
	cmp %r8, %rax
	je 1f
	GUEST_FAIL
1:	mov %dr7, %rax
	GUEST_ASSERT_EQ(%eax, TT_DR7)
2:

	WRMSR_BACK(0xc0000082, TT_LSTAR_HI, TT_LSTAR_LO)
	WRMSR_BACK(0xc0000083, TT_CSTAR_HI, TT_CSTAR_LO)
	WRMSR_BACK(0xc0000081, TT_STAR_HI, TT_STAR_LO)
	WRMSR_BACK(0xc0000084, 0, TT_SFMASK_LO)
	WRMSR_BACK(0x174, 0, TT_SYSENTER_CS_LO)
	WRMSR_BACK(0x175, TT_SYSENTER_ESP_HI, TT_SYSENTER_ESP_LO)
	WRMSR_BACK(0x176, TT_SYSENTER_EIP_HI, TT_SYSENTER_EIP_LO)
	WRMSR_BACK(0xc0000100, TT_FS_BASE_HI, TT_FS_BASE_LO)
	WRMSR_BACK(0xc0000101, TT_GS_BASE_HI, TT_GS_BASE_LO)
	WRMSR_BACK(0xc0000102, TT_KGS_BASE_HI, TT_KGS_BASE_LO)
	WRMSR_BACK(0xc0000103, 0, TT_TSC_AUX_LO)
	GUEST_REPORT($0x5eed)

	mov $TT_PERFEVTSEL0, %ecx
	mov $2, %r15d
GLABEL(tt_rd_evtsel)
	rdmsr
	mov $TT_EVTSEL_VALUE, %eax
	xor %edx, %edx
	mov $2, %r15d
GLABEL(tt_wr_evtsel)
	wrmsr
	mov $TT_PMC0, %ecx
	mov $2, %r15d
GLABEL(tt_rd_pmc0)
	rdmsr
	mov $0x1234, %eax
	mov $2, %r15d
GLABEL(tt_wr_pmc0)
	wrmsr
	mov $TT_AMD_PERFEVTSEL0, %ecx
	mov $2, %r15d
GLABEL(tt_rd_amd_evtsel)
	rdmsr
	mov $TT_EVTSEL_VALUE, %eax
	xor %edx, %edx
	mov $2, %r15d
GLABEL(tt_wr_amd_evtsel)
	wrmsr
	mov $TT_AMD_PERFCTR0, %ecx
	mov $2, %r15d
GLABEL(tt_rd_amd_ctr)
	rdmsr
	mov $0x1234, %eax
	mov $2, %r15d
GLABEL(tt_wr_amd_ctr)
	wrmsr
	xor %ecx, %ecx
	mov $2, %r15d
GLABEL(tt_rdpmc)
	rdpmc
	GUEST_DONE($0x600d)
GUEST_END(tt_code)
