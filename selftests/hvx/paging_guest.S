/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Runners of paging_test: write the case's page-table entries, reload CR3,
 * optionally drop to CPL 3, perform one read, write or instruction fetch.
 * The outcome reaches the host on PORT_DONE (see paging_guest.h); a fault
 * is reported by the host-built exception stubs.
 */
#include "guest.h"
#include "paging_guest.h"

GUEST_BEGIN(paging_guest)
	.code32
GLABEL(pg_run32)
	mov $PG_DESC_GPA, %esi
	mov (%esi), %ecx
	lea PG_DESC_ENTRIES(%esi), %edx
1:	jecxz 3f
	mov (%edx), %eax
	mov 8(%edx), %ebx
	mov %ebx, (%eax)
	cmpl $8, 16(%edx)
	jne 2f
	mov 12(%edx), %ebx
	mov %ebx, 4(%eax)
2:	add $PG_ENTRY_SIZE, %edx
	dec %ecx
	jmp 1b
3:	mov %cr3, %eax
	mov %eax, %cr3
	mov 4(%esi), %edi
	mov 16(%esi), %ebx
	cmpl $0, 8(%esi)
	je pg_access32
	/* IRET to CPL 3 would leave DS and ES null (DPL 0): give them DPL 3. */
	mov $PG_SEL_UDATA, %eax
	mov %eax, %ds
	mov %eax, %es
	pushl $PG_SEL_UDATA
	pushl $0
	pushfl
	pushl $PG_SEL_UCODE32
	pushl 24(%esi)
	iretl

	.balign 16
GLABEL(pg_access32)
	cmp $PG_WRITE, %edi
	je 1f
	cmp $PG_FETCH, %edi
	je 2f
	mov PG_RW_OFF(%ebx), %ecx
	mov $PG_RES_OK, %eax
	out %eax, $PORT_DONE
	hlt
1:	movl $PG_WRITE_MARK, PG_RW_OFF(%ebx)
	mov $PG_RES_OK, %eax
	out %eax, $PORT_DONE
	hlt
2:	jmp *%ebx

	.code64
	.balign 16
GLABEL(pg_run64)
	mov $PG_DESC_GPA, %esi
	mov (%rsi), %ecx
	lea PG_DESC_ENTRIES(%rsi), %rdx
1:	jecxz 3f
	mov (%rdx), %rax
	mov 8(%rdx), %rbx
	mov %rbx, (%rax)
	add $PG_ENTRY_SIZE, %rdx
	dec %ecx
	jmp 1b
3:	mov %cr3, %rax
	mov %rax, %cr3
	mov 4(%rsi), %edi
	mov 16(%rsi), %rbx
	cmpl $0, 8(%rsi)
	je pg_access64
	pushq $PG_SEL_UDATA
	pushq $0
	pushfq
	pushq $PG_SEL_UCODE64
	pushq 24(%rsi)
	iretq

	.balign 16
GLABEL(pg_access64)
	cmp $PG_WRITE, %edi
	je 1f
	cmp $PG_FETCH, %edi
	je 2f
	mov PG_RW_OFF(%rbx), %ecx
	mov $PG_RES_OK, %eax
	out %eax, $PORT_DONE
	hlt
1:	movl $PG_WRITE_MARK, PG_RW_OFF(%rbx)
	mov $PG_RES_OK, %eax
	out %eax, $PORT_DONE
	hlt
2:	jmp *%rbx
GUEST_END(paging_guest)
