/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by stringio_guest.S and stringio_test.c. */
#ifndef HVX_STRINGIO_GUEST_H
#define HVX_STRINGIO_GUEST_H

#define SIO_SRC			0x100000	/* 16 KiB the host fills */
#define SIO_DST			0x108000	/* 16 KiB the guest's INS fill */
#define SIO_HOLE		0x400000	/* its 2 MiB page is unmapped */
#define SIO_MEM_SIZE		0x800000

#define SIO_N_OUTSB		3000
#define SIO_N_OUTSW		700
#define SIO_N_OUTSL		300
#define SIO_N_INSB		2500
#define SIO_N_INSW		600
#define SIO_N_A32		1500
#define SIO_N_HOLE		300
#define SIO_BEFORE_HOLE		100

#define SIO_PORT_OUTSB		0x90
#define SIO_PORT_OUTSW		0x91
#define SIO_PORT_OUTSL		0x92
#define SIO_PORT_INSB		0x93
#define SIO_PORT_INSW		0x94
#define SIO_PORT_A32		0x95
#define SIO_PORT_OUT_HOLE	0x96
#define SIO_PORT_IN_HOLE	0x97
#define SIO_NR_PORTS		8

#endif
