/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the flat guests (assembly) and the clients that run them.
 * Every guest is 64-bit code linked at GUEST_LOAD_ADDR and entered there in
 * long mode with the page tables libhvx sets up (hvx_mode_prepare()).
 */
#ifndef HVX_GUEST_H
#define HVX_GUEST_H

#define GUEST_LOAD_ADDR		0x100000
#define GUEST_STACK_TOP		GUEST_LOAD_ADDR	/* grows down below the image */

#define PORT_COM1		0x3f8
#define PORT_COM1_LSR		0x3fd
#define UART_LSR_THRE		0x20
#define PORT_DEBUG_EXIT		0xf4

/*
 * Benchmark protocol, the same for every client (hvx-bench, hvx-kvm-bench):
 *   IN  eax, PORT_BENCH_COUNT   iterations of the next round; 0 ends the run
 *   OUT PORT_BENCH_START        the round starts now
 *   OUT PORT_BENCH_PIO          once per iteration (bench-pio only)
 *   OUT PORT_BENCH_STOP         the round is done
 *   OUT PORT_DEBUG_EXIT, 0      after the last round
 */
#define PORT_BENCH_COUNT	0xf0
#define PORT_BENCH_PIO		0xf1
#define PORT_BENCH_START	0xf2
#define PORT_BENCH_STOP		0xf3
/* bench-outsb: bytes of the REP OUTSB to PORT_BENCH_PIO of each iteration */
#define BENCH_OUTSB_BYTES	4096

#endif /* HVX_GUEST_H */
