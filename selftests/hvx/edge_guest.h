/* SPDX-License-Identifier: GPL-2.0 */
/* Addresses and values shared by edge_guest.S and edge_test.c. */
#ifndef HVX_SELFTEST_EDGE_GUEST_H
#define HVX_SELFTEST_EDGE_GUEST_H

#define EDGE_NONE		0xffffffff	/* the CPUID bit is clear */
#define EDGE_AUX_GUEST		0x1234		/* TSC_AUX written by the guest */
#define EDGE_AUX_HOST		0x5678		/* TSC_AUX set through SET_STATE */

/* Guest-physical: no slot there, inside the 4 GiB the libhvx tables map. */
#define EDGE_MMIO_GPA		0x10000000
#define EDGE_PT_MMIO_GPA	0x20000000
/* A slot whose user memory is unmapped before the guest touches it. */
#define EDGE_PIN_GPA		0x200000

/* A 1 GiB-aligned linear window the tests map with their own page table. */
#define EDGE_WINDOW_VA		0x40000000

#define EDGE_SPIN_RUNNING	GUEST_DATA_GPA
#define EDGE_SPIN_STOP		(GUEST_DATA_GPA + 4)

#endif
