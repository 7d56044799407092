/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hello: the first guest.  Prints a greeting, the CPUID vendor string, its
 * control registers and a 64-bit sum on COM1, checks 1 MiB of RAM across a
 * 2 MiB page boundary, and exits through the debug-exit port with 0 (or 1
 * if the memory check fails).
 */
#include "guest.h"

#define MEMTEST_BASE	0x200000
#define MEMTEST_SIZE	0x100000
#define MEMTEST_MUL	0x9e3779b97f4a7c15

	.code64
	.section .text.entry, "ax"
	.globl _start
_start:
	mov	$GUEST_STACK_TOP, %rsp
	lea	msg_hello(%rip), %rsi
	call	puts

	/* CPUID leaf 0: vendor in EBX, EDX, ECX. */
	lea	msg_vendor(%rip), %rsi
	call	puts
	xor	%eax, %eax
	xor	%ecx, %ecx
	cpuid
	sub	$16, %rsp
	mov	%ebx, 0(%rsp)
	mov	%edx, 4(%rsp)
	mov	%ecx, 8(%rsp)
	mov	%rsp, %rsi
	mov	$12, %ecx
1:	lodsb
	cmp	$0x20, %al		/* an empty CPUID table gives NULs */
	jb	2f
	cmp	$0x7e, %al
	jbe	3f
2:	mov	$'?', %al
3:	call	putc
	dec	%ecx
	jnz	1b
	add	$16, %rsp
	mov	$'\n', %al
	call	putc

	lea	msg_cr0(%rip), %rsi
	call	puts
	mov	%cr0, %rax
	call	put_hex
	lea	msg_cr4(%rip), %rsi
	call	puts
	mov	%cr4, %rax
	call	put_hex
	mov	$'\n', %al
	call	putc

	/* 64-bit arithmetic: 1 + 2 + ... + 100000 = 5000050000 (> 2^32). */
	lea	msg_sum(%rip), %rsi
	call	puts
	xor	%eax, %eax
	mov	$100000, %ecx
1:	add	%rcx, %rax
	dec	%ecx
	jnz	1b
	call	put_dec
	mov	$'\n', %al
	call	putc

	/* Write then verify a pattern over 1 MiB, crossing a 2 MiB page. */
	lea	msg_mem(%rip), %rsi
	call	puts
	mov	$MEMTEST_MUL, %rdx
	mov	$MEMTEST_BASE, %rdi
	mov	%rdi, %rax
1:	mov	%rdi, %rax
	imul	%rdx, %rax
	mov	%rax, (%rdi)
	add	$8, %rdi
	cmp	$(MEMTEST_BASE + MEMTEST_SIZE), %rdi
	jb	1b
	mov	$MEMTEST_BASE, %rdi
1:	mov	%rdi, %rax
	imul	%rdx, %rax
	cmp	%rax, (%rdi)
	jne	mem_bad
	add	$8, %rdi
	cmp	$(MEMTEST_BASE + MEMTEST_SIZE), %rdi
	jb	1b
	lea	msg_ok(%rip), %rsi
	call	puts
	xor	%eax, %eax
	jmp	exit

mem_bad:
	lea	msg_bad(%rip), %rsi
	call	puts
	mov	%rdi, %rax
	call	put_hex
	mov	$'\n', %al
	call	putc
	mov	$1, %eax

exit:
	out	%eax, $PORT_DEBUG_EXIT
	hlt
	jmp	exit

/* putc: AL to COM1 once the transmitter is ready.  Preserves all but flags. */
putc:
	push	%rax
	push	%rdx
	mov	%al, %ah
	mov	$PORT_COM1_LSR, %dx
1:	in	%dx, %al
	test	$UART_LSR_THRE, %al
	jz	1b
	mov	$PORT_COM1, %dx
	mov	%ah, %al
	out	%al, %dx
	pop	%rdx
	pop	%rax
	ret

/* puts: the NUL-terminated string at RSI.  Clobbers RSI, RAX. */
puts:
1:	lodsb
	test	%al, %al
	jz	2f
	call	putc
	jmp	1b
2:	ret

/* put_hex: RAX as 0x followed by 16 hex digits.  Clobbers RAX, RCX, RBX. */
put_hex:
	mov	%rax, %rbx
	mov	$'0', %al
	call	putc
	mov	$'x', %al
	call	putc
	mov	$16, %ecx
1:	rol	$4, %rbx
	mov	%bl, %al
	and	$0xf, %al
	add	$'0', %al
	cmp	$'9', %al
	jbe	2f
	add	$('a' - '9' - 1), %al
2:	call	putc
	dec	%ecx
	jnz	1b
	ret

/* put_dec: RAX in decimal.  Clobbers RAX, RCX, RDX, RBX. */
put_dec:
	mov	$10, %rbx
	xor	%ecx, %ecx
1:	xor	%edx, %edx
	div	%rbx
	push	%rdx
	inc	%ecx
	test	%rax, %rax
	jnz	1b
2:	pop	%rax
	add	$'0', %al
	call	putc
	dec	%ecx
	jnz	2b
	ret

	.section .rodata
msg_hello:	.asciz "Hello from an hvx guest\n"
msg_vendor:	.asciz "CPUID vendor: "
msg_cr0:	.asciz "long mode: CR0 "
msg_cr4:	.asciz " CR4 "
msg_sum:	.asciz "sum 1..100000 = "
msg_mem:	.asciz "memory 0x200000-0x2fffff: "
msg_ok:		.asciz "ok\n"
msg_bad:	.asciz "FAILED at "
