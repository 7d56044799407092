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
/* bench-mmio: where its MOVs go, above the guest's RAM */
#define BENCH_MMIO_GPA		0xd0000000

#ifdef __ASSEMBLER__
/*
 * The rounds of a benchmark guest: BENCH_ROUND_BEGIN asks for the next
 * round's iterations, into %r8d, and starts its clock (with none left it
 * ends the run); BENCH_ROUND_END stops the clock and loops.
 */
#define BENCH_ROUND_BEGIN			\
bench_next_round:				\
	in	$PORT_BENCH_COUNT, %eax;	\
	test	%eax, %eax;			\
	jz	bench_done;			\
	mov	%eax, %r8d;			\
	out	%al, $PORT_BENCH_START

#define BENCH_ROUND_END				\
	out	%al, $PORT_BENCH_STOP;		\
	jmp	bench_next_round;		\
bench_done:					\
	xor	%eax, %eax;			\
	out	%eax, $PORT_DEBUG_EXIT;		\
	hlt;					\
	jmp	bench_done
#endif

#endif /* HVX_GUEST_H */
