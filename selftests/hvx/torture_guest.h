/* SPDX-License-Identifier: GPL-2.0 */
/* What torture_guest.S and torture_test.c agree on. */
#ifndef HVX_SELFTEST_TORTURE_GUEST_H
#define HVX_SELFTEST_TORTURE_GUEST_H

/* The slot the tests add, remove and unmap: right above slot 0's 2 MiB. */
#define TT_SLOT_GPA		0x200000
/* The port of the guests' loops: every OUT is an exit to userspace. */
#define TT_PORT			0x80

/*
 * Garbage the state guest writes into the MSRs the CPU switches for it.
 * Canonical, so that WRMSR takes them on every CPU and emulator: a host
 * that kept any of them would crash at its next SYSCALL, interrupt or
 * TLS access rather than notice.  High and low halves apart for WRMSR.
 */
#define TT_LSTAR_HI		0xffff8000
#define TT_LSTAR_LO		0x0badc0de
#define TT_CSTAR_HI		0xffff8000
#define TT_CSTAR_LO		0x0badc5a0
#define TT_STAR_HI		0xbad1bad2
#define TT_STAR_LO		0xdeadbeef
#define TT_SFMASK_LO		0x00000000	/* masks nothing: IF, DF, TF, AC stay */
#define TT_SYSENTER_CS_LO	0x0000bad0
#define TT_SYSENTER_ESP_HI	0xffff8000
#define TT_SYSENTER_ESP_LO	0x0badd000
#define TT_SYSENTER_EIP_HI	0xffff8000
#define TT_SYSENTER_EIP_LO	0x0bade000
#define TT_FS_BASE_HI		0x00007fff
#define TT_FS_BASE_LO		0xdead0000
#define TT_GS_BASE_HI		0x00007fff
#define TT_GS_BASE_LO		0xdead1000
#define TT_KGS_BASE_HI		0x00007fff
#define TT_KGS_BASE_LO		0xdead2000
#define TT_TSC_AUX_LO		0x00000bad

/* The performance-monitoring MSRs the guest reaches for. */
#define TT_PERFEVTSEL0		0x186
#define TT_PMC0			0xc1
#define TT_AMD_PERFEVTSEL0	0xc0010000
#define TT_AMD_PERFCTR0		0xc0010004
/* Count retired instructions in every ring, enabled: what a PMU would run. */
#define TT_EVTSEL_VALUE		0x004300c0

/*
 * DR7 of the state guest: L0-L3 and G0-G3; DR0 a 4-byte write watch,
 * DR1 a 4-byte read/write watch, DR2 an execute breakpoint, DR3 a 4-byte
 * write watch (SDM vol. 3 §18.2.4), plus the fixed bit 10.
 */
#define TT_DR7			0xd0fd04ff

#endif /* HVX_SELFTEST_TORTURE_GUEST_H */
