// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the libhvx instruction decoder: a table of encodings with
 * the length, access size, register and direction each must decode to.
 * Runs on any x86-64 host (no /dev/hvx needed); TAP output.
 */
#include <stdio.h>
#include <string.h>

#include "decode.h"

#define R HVX_INSN_READ
#define W HVX_INSN_WRITE
#define NX HVX_INSN_EXT_NONE
#define ZX HVX_INSN_EXT_ZERO
#define SX HVX_INSN_EXT_SIGN
#define IMM (-1)
#define FAIL 0, 0, 0, 0, R, NX, 0, 0	/* the decoder must refuse */

struct decode_case {
	const char *name;
	unsigned int bits;
	unsigned int n;
	__u8 bytes[16];
	unsigned int len;	/* 0: must fail */
	unsigned int size;
	unsigned int dst_size;
	int reg;
	enum hvx_insn_dir dir;
	enum hvx_insn_ext ext;
	int high8;
	__u64 imm;
};

#define B(...) sizeof((__u8[]){ __VA_ARGS__ }), { __VA_ARGS__ }

static const struct decode_case cases[] = {
	/* 64-bit mode */
	{ "mov eax,[disp32] (SIB, no base)", 64, B(0x8b, 0x04, 0x25, 0x00, 0x00, 0x0b, 0xfe), 7, 4, 4, 0, R, NX, 0, 0 },
	{ "mov [rax],ecx", 64, B(0x89, 0x08), 2, 4, 4, 1, W, NX, 0, 0 },
	{ "mov [rax],rcx", 64, B(0x48, 0x89, 0x08), 3, 8, 8, 1, W, NX, 0, 0 },
	{ "mov [rax+0x10],r9", 64, B(0x4c, 0x89, 0x48, 0x10), 4, 8, 8, 9, W, NX, 0, 0 },
	{ "mov r9d,[rsp+0x100]", 64, B(0x44, 0x8b, 0x8c, 0x24, 0x00, 0x01, 0x00, 0x00), 8, 4, 4, 9, R, NX, 0, 0 },
	{ "mov eax,[rip+disp32]", 64, B(0x8b, 0x05, 0x78, 0x56, 0x34, 0x12), 6, 4, 4, 0, R, NX, 0, 0 },
	{ "mov [rax],dx", 64, B(0x66, 0x89, 0x10), 3, 2, 2, 2, W, NX, 0, 0 },
	{ "mov [rax],ah", 64, B(0x88, 0x20), 2, 1, 1, 4, W, NX, 1, 0 },
	{ "mov [rax],spl (REX)", 64, B(0x40, 0x88, 0x20), 3, 1, 1, 4, W, NX, 0, 0 },
	{ "mov bl,[rsp+8]", 64, B(0x8a, 0x5c, 0x24, 0x08), 4, 1, 1, 3, R, NX, 0, 0 },
	{ "mov r10b,[rax]", 64, B(0x44, 0x8a, 0x10), 3, 1, 1, 10, R, NX, 0, 0 },
	{ "mov byte [rax],0xff", 64, B(0xc6, 0x00, 0xff), 3, 1, 1, IMM, W, NX, 0, ~0ULL },
	{ "mov qword [rax],-1", 64, B(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff), 7, 8, 8, IMM, W, NX, 0, ~0ULL },
	{ "mov dword [rax+0x1000],imm32", 64, B(0xc7, 0x80, 0x00, 0x10, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12), 10, 4, 4, IMM, W, NX, 0, 0x12345678 },
	{ "mov word [rax],imm16", 64, B(0x66, 0xc7, 0x00, 0x34, 0x12), 5, 2, 2, IMM, W, NX, 0, 0x1234 },
	{ "mov dword [r8+r9*8+0x7f],imm32", 64, B(0x43, 0xc7, 0x44, 0xc8, 0x7f, 0x01, 0x00, 0x00, 0x00), 9, 4, 4, IMM, W, NX, 0, 1 },
	{ "movzx eax,byte [rax]", 64, B(0x0f, 0xb6, 0x00), 3, 1, 4, 0, R, ZX, 0, 0 },
	{ "movzx rcx,word [rax+2]", 64, B(0x48, 0x0f, 0xb7, 0x48, 0x02), 5, 2, 8, 1, R, ZX, 0, 0 },
	{ "movzx r11d,word [rdi]", 64, B(0x44, 0x0f, 0xb7, 0x1f), 4, 2, 4, 11, R, ZX, 0, 0 },
	{ "movzx ax,byte [rsi]", 64, B(0x66, 0x0f, 0xb6, 0x06), 4, 1, 2, 0, R, ZX, 0, 0 },
	{ "movzx esp,byte [rax] (not AH)", 64, B(0x0f, 0xb6, 0x20), 3, 1, 4, 4, R, ZX, 0, 0 },
	{ "movsx ecx,byte [rax+rcx*4]", 64, B(0x0f, 0xbe, 0x0c, 0x88), 4, 1, 4, 1, R, SX, 0, 0 },
	{ "movsx rdx,word [rbx]", 64, B(0x48, 0x0f, 0xbf, 0x13), 4, 2, 8, 2, R, SX, 0, 0 },
	{ "mov eax,[rcx*4+disp32]", 64, B(0x8b, 0x04, 0x8d, 0x00, 0x00, 0x00, 0x00), 7, 4, 4, 0, R, NX, 0, 0 },
	{ "mov eax,[rbp+rcx*4+0x10]", 64, B(0x8b, 0x44, 0x8d, 0x10), 4, 4, 4, 0, R, NX, 0, 0 },
	{ "mov eax,[rbp+rcx*4+disp32]", 64, B(0x8b, 0x84, 0x8d, 0x00, 0x01, 0x00, 0x00), 7, 4, 4, 0, R, NX, 0, 0 },
	{ "mov eax,[eax] (67)", 64, B(0x67, 0x8b, 0x00), 3, 4, 4, 0, R, NX, 0, 0 },
	{ "mov rax,moffs64", 64, B(0x48, 0xa1, 0, 0, 0x0b, 0xfe, 0, 0, 0, 0), 10, 8, 8, 0, R, NX, 0, 0 },
	{ "mov moffs64,al", 64, B(0xa2, 0, 0, 0x0b, 0xfe, 0, 0, 0, 0), 9, 1, 1, 0, W, NX, 0, 0 },
	{ "mov eax,moffs32 (67)", 64, B(0x67, 0xa1, 0, 0, 0x0b, 0xfe), 6, 4, 4, 0, R, NX, 0, 0 },
	{ "mov eax,fs:[0]", 64, B(0x64, 0x8b, 0x04, 0x25, 0, 0, 0, 0), 8, 4, 4, 0, R, NX, 0, 0 },
	{ "mov [r12],r15d", 64, B(0x45, 0x89, 0x3c, 0x24), 4, 4, 4, 15, W, NX, 0, 0 },
	{ "mov eax,[r13+0]", 64, B(0x41, 0x8b, 0x45, 0x00), 4, 4, 4, 0, R, NX, 0, 0 },
	{ "mov eax,[r13+r12*1] (SIB base 13 mod 0 -> disp32)", 64, B(0x43, 0x8b, 0x04, 0x25, 0, 0, 0, 0), 8, 4, 4, 0, R, NX, 0, 0 },
	{ "66 REX.W: REX.W wins", 64, B(0x66, 0x48, 0x89, 0x08), 4, 8, 8, 1, W, NX, 0, 0 },
	{ "REX before 66 is ignored", 64, B(0x48, 0x66, 0x89, 0x08), 4, 2, 2, 1, W, NX, 0, 0 },
	{ "lock-free cs: mov [rax],ecx", 64, B(0x2e, 0x89, 0x08), 3, 4, 4, 1, W, NX, 0, 0 },
	/* 32-bit mode */
	{ "mov eax,[eax]", 32, B(0x8b, 0x00), 2, 4, 4, 0, R, NX, 0, 0 },
	{ "mov ax,[eax]", 32, B(0x66, 0x8b, 0x00), 3, 2, 2, 0, R, NX, 0, 0 },
	{ "mov eax,[disp32]", 32, B(0x8b, 0x05, 0x00, 0x00, 0x0b, 0xfe), 6, 4, 4, 0, R, NX, 0, 0 },
	{ "mov eax,moffs32", 32, B(0xa1, 0x00, 0x00, 0x0b, 0xfe), 5, 4, 4, 0, R, NX, 0, 0 },
	{ "mov dword [disp32],1", 32, B(0xc7, 0x05, 0x00, 0x00, 0x0b, 0xfe, 0x01, 0, 0, 0), 10, 4, 4, IMM, W, NX, 0, 1 },
	{ "mov eax,[bx] (67: 16-bit addressing)", 32, B(0x67, 0x8b, 0x07), 3, 4, 4, 0, R, NX, 0, 0 },
	{ "mov [disp32],ah", 32, B(0x88, 0x25, 0x00, 0x10, 0x00, 0x00), 6, 1, 1, 4, W, NX, 1, 0 },
	{ "mov edi,[esp+ebx*2+0x7f]", 32, B(0x8b, 0x7c, 0x5c, 0x7f), 4, 4, 4, 7, R, NX, 0, 0 },
	{ "movzx edx,word [esi]", 32, B(0x0f, 0xb7, 0x16), 3, 2, 4, 2, R, ZX, 0, 0 },
	/* 16-bit mode */
	{ "mov ax,[bx]", 16, B(0x8b, 0x07), 2, 2, 2, 0, R, NX, 0, 0 },
	{ "mov ax,[disp16]", 16, B(0x8b, 0x06, 0x34, 0x12), 4, 2, 2, 0, R, NX, 0, 0 },
	{ "mov ax,[bx+disp8]", 16, B(0x8b, 0x47, 0x10), 3, 2, 2, 0, R, NX, 0, 0 },
	{ "mov ax,[bx+disp16]", 16, B(0x8b, 0x87, 0x00, 0x10), 4, 2, 2, 0, R, NX, 0, 0 },
	{ "mov [bp+0],cx", 16, B(0x89, 0x4e, 0x00), 3, 2, 2, 1, W, NX, 0, 0 },
	{ "mov eax,[bx] (66)", 16, B(0x66, 0x8b, 0x07), 3, 4, 4, 0, R, NX, 0, 0 },
	{ "mov ax,[disp32] (67 SIB)", 16, B(0x67, 0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00), 8, 2, 2, 0, R, NX, 0, 0 },
	{ "mov byte [disp16],0x55", 16, B(0xc6, 0x06, 0x34, 0x12, 0x55), 5, 1, 1, IMM, W, NX, 0, 0x55 },
	{ "mov word [disp16],imm16", 16, B(0xc7, 0x06, 0x34, 0x12, 0x78, 0x56), 6, 2, 2, IMM, W, NX, 0, 0x5678 },
	{ "mov dword [disp16],imm32 (66)", 16, B(0x66, 0xc7, 0x06, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12), 9, 4, 4, IMM, W, NX, 0, 0x12345678 },
	{ "mov ax,moffs16", 16, B(0xa1, 0x34, 0x12), 3, 2, 2, 0, R, NX, 0, 0 },
	{ "movzx ax,byte [bx]", 16, B(0x0f, 0xb6, 0x07), 3, 1, 2, 0, R, ZX, 0, 0 },
	{ "es: mov [bx],ah", 16, B(0x26, 0x88, 0x27), 3, 1, 1, 4, W, NX, 1, 0 },
	{ "mov bh,[si]", 16, B(0x8a, 0x3c), 2, 1, 1, 7, R, NX, 1, 0 },
	/* Refusals */
	{ "register operand (mod 3)", 64, B(0x89, 0xc8), FAIL },
	{ "C7 /1 is not MOV", 64, B(0xc7, 0x08, 0, 0, 0, 0), FAIL },
	{ "truncated SIB", 64, B(0x8b, 0x04), FAIL },
	{ "truncated disp32", 64, B(0x8b, 0x05, 0x00, 0x00), FAIL },
	{ "truncated imm32", 32, B(0xc7, 0x00, 0x01, 0x00), FAIL },
	{ "truncated moffs64", 64, B(0xa1, 0, 0, 0, 0), FAIL },
	{ "MOVUPS unsupported", 64, B(0x0f, 0x10, 0x00), FAIL },
	{ "MOVS unsupported", 64, B(0xa5), FAIL },
	{ "no bytes", 64, 0, { 0 }, FAIL },
	{ "0x40 is INC in 32-bit mode", 32, B(0x40, 0x8b, 0x00), FAIL },
	{ "over 15 bytes", 64, B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x8b, 0x00), FAIL },
	{ "bad mode", 8, B(0x8b, 0x00), FAIL },
};

static int check(const struct decode_case *tc, char *err, size_t errlen)
{
	struct hvx_insn insn;
	const char *why;
	int ret;

	ret = hvx_insn_decode(tc->bytes, tc->n, tc->bits, &insn, &why);
	if (tc->len == 0) {
		if (!ret) {
			snprintf(err, errlen, "decoded (len %u), expected a refusal", insn.len);
			return -1;
		}
		if (!why || !*why) {
			snprintf(err, errlen, "refused without a reason");
			return -1;
		}
		return 0;
	}
	if (ret) {
		snprintf(err, errlen, "refused: %s", why ? why : "(no reason)");
		return -1;
	}
	if (insn.len != tc->len || insn.size != tc->size || insn.dst_size != tc->dst_size ||
	    insn.reg != tc->reg || insn.dir != tc->dir || insn.ext != tc->ext ||
	    insn.high8 != tc->high8 || (tc->reg == IMM && insn.imm != tc->imm)) {
		snprintf(err, errlen,
			 "got len %u size %u dst %u reg %d dir %d ext %d high8 %d imm 0x%llx; "
			 "expected len %u size %u dst %u reg %d dir %d ext %d high8 %d imm 0x%llx",
			 insn.len, insn.size, insn.dst_size, insn.reg, insn.dir, insn.ext,
			 insn.high8, (unsigned long long)insn.imm, tc->len, tc->size,
			 tc->dst_size, tc->reg, tc->dir, tc->ext, tc->high8,
			 (unsigned long long)tc->imm);
		return -1;
	}
	return 0;
}

int main(void)
{
	unsigned int i, n = sizeof(cases) / sizeof(cases[0]), failed = 0;
	char err[256];

	printf("TAP version 13\n1..%u\n", n);
	for (i = 0; i < n; i++) {
		err[0] = '\0';
		if (check(&cases[i], err, sizeof(err))) {
			failed++;
			printf("not ok %u - %u-bit %s\n# %s\n", i + 1, cases[i].bits,
			       cases[i].name, err);
		} else {
			printf("ok %u - %u-bit %s\n", i + 1, cases[i].bits, cases[i].name);
		}
	}
	printf("# %u passed, %u failed\n", n - failed, failed);
	return failed ? 1 : 0;
}
