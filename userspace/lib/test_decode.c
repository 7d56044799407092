// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the libhvx instruction decoder: a table of encodings with
 * the length, access size, register and direction each must decode to, and
 * a table of accesses with the register values and RIP they must leave.
 * Runs on any x86-64 host (no /dev/hvx needed); TAP output.
 */
#include <errno.h>
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
	{ "CMPS unsupported", 64, B(0xa7), FAIL },
	{ "ADC [rax],ecx unsupported", 64, B(0x11, 0x08), FAIL },
	{ "80 /2 (ADC) unsupported", 64, B(0x80, 0x10, 0x01), FAIL },
	{ "F7 /3 (NEG) unsupported", 64, B(0xf7, 0x18), FAIL },
	{ "0F BA /3 undefined", 64, B(0x0f, 0xba, 0x18, 0x01), FAIL },
	{ "XCHG with a register operand", 64, B(0x87, 0xc8), FAIL },
	{ "truncated 81 imm32", 64, B(0x81, 0x00, 0x01, 0x02), FAIL },
	{ "no bytes", 64, 0, { 0 }, FAIL },
	{ "0x40 is INC in 32-bit mode", 32, B(0x40, 0x8b, 0x00), FAIL },
	{ "over 15 bytes", 64, B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x8b, 0x00), FAIL },
	{ "bad mode", 8, B(0x8b, 0x00), FAIL },
};

/* Emulation of decoded accesses: register write-back and RIP. */
struct emulate_case {
	const char *name;
	unsigned int bits;
	unsigned int n;
	__u8 bytes[16];
	__u64 rip;		/* before */
	int reg;		/* register expected to change (x86 number), -1: none */
	__u64 reg_value;	/* its value after */
	__u64 written;		/* for writes: the bytes stored, little-endian */
	__u64 rip_after;
};

static const struct emulate_case emulate_cases[] = {
	{ "mov ah,[rax] merges bits 15:8", 64, B(0x8a, 0x20), 0x1000, 0, 0x1122334455668088, 0, 0x1002 },
	{ "mov ecx,[rax] zero-extends", 64, B(0x8b, 0x08), 0x1000, 1, 0x83828180, 0, 0x1002 },
	{ "mov cx,[rax] merges bits 15:0", 64, B(0x66, 0x8b, 0x08), 0x1000, 1, 0x0202020202028180, 0, 0x1003 },
	{ "mov rcx,[rax]", 64, B(0x48, 0x8b, 0x08), 0x1000, 1, 0x8786858483828180, 0, 0x1003 },
	{ "mov cl,[rax]", 64, B(0x8a, 0x08), 0x1000, 1, 0x0202020202020280, 0, 0x1002 },
	{ "mov r8b,[rax]", 64, B(0x44, 0x8a, 0x00), 0x1000, 8, 0x0909090909090980, 0, 0x1003 },
	{ "mov spl,[rax] (REX: not AH)", 64, B(0x40, 0x8a, 0x20), 0x1000, 4, 0x0505050505050580, 0, 0x1003 },
	{ "movsx ecx,byte", 64, B(0x0f, 0xbe, 0x08), 0x1000, 1, 0xffffff80, 0, 0x1003 },
	{ "movsx rcx,word", 64, B(0x48, 0x0f, 0xbf, 0x08), 0x1000, 1, 0xffffffffffff8180, 0, 0x1004 },
	{ "movzx ecx,word", 64, B(0x0f, 0xb7, 0x08), 0x1000, 1, 0x8180, 0, 0x1003 },
	{ "movzx cx,byte merges", 64, B(0x66, 0x0f, 0xb6, 0x08), 0x1000, 1, 0x0202020202020080, 0, 0x1004 },
	{ "mov [disp32],ah stores AH", 64, B(0x88, 0x24, 0x25, 0, 0, 0, 0), 0x1000, -1, 0, 0x77, 0x1007 },
	{ "mov [rax],ecx stores 4 bytes", 64, B(0x89, 0x08), 0x1000, -1, 0, 0x02020202, 0x1002 },
	{ "mov [rax],r9 stores 8 bytes", 64, B(0x4c, 0x89, 0x08), 0x1000, -1, 0, 0x0a0a0a0a0a0a0a0a, 0x1003 },
	{ "mov qword [rax],-1", 64, B(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff), 0x1000, -1, 0, ~0ULL, 0x1007 },
	{ "mov word [rax],imm16", 64, B(0x66, 0xc7, 0x00, 0x34, 0x12), 0x1000, -1, 0, 0x1234, 0x1005 },
	{ "mov al,moffs64", 64, B(0xa0, 0, 0, 0, 0, 0, 0, 0, 0), 0x1000, 0, 0x1122334455667780, 0, 0x1009 },
	{ "mov bh,[esp] (32-bit)", 32, B(0x8a, 0x3c, 0x24), 0x1000, 3, 0x0404040404048004, 0, 0x1003 },
	{ "mov eax,[ebx]: EIP wraps at 4G", 32, B(0x8b, 0x03), 0xffffffff, 0, 0x83828180, 0, 0x1 },
	{ "mov ax,[bx]: IP wraps at 64K", 16, B(0x8b, 0x07), 0xfffe, 0, 0x1122334455668180, 0, 0x0 },
	{ "mov [bx],dh (16-bit)", 16, B(0x88, 0x37), 0x100, -1, 0, 0x03, 0x102 },
};

/*
 * ALU, XCHG, BT-family and string instructions: the registers they change,
 * the arithmetic flags they leave, what they store and where RIP goes.
 * Registers start as in initial_regs() (RCX, RFLAGS as given); memory at
 * the exit's gpa reads 80 81 .. 87, guest RAM (the other MOVS operand)
 * reads 40 41 .. 47.
 */
#define F_CF	0x001
#define F_PF	0x004
#define F_AF	0x010
#define F_ZF	0x040
#define F_SF	0x080
#define F_DF	0x400
#define F_OF	0x800
#define F_ARITH	(F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)
#define NOREG	{ -1, 0 }
#define RCX_DEFAULT 0x0202020202020202ULL

struct op_case {
	const char *name;
	unsigned int bits;
	unsigned int n;
	__u8 bytes[16];
	__u64 rflags;		/* before (bit 1 is added) */
	__u64 rcx;		/* before */
	int exit_is_write;	/* MOVS: the exit's operand is the destination */
	struct {
		int reg;
		__u64 value;
	} regs[3];		/* registers that change, with their values after */
	__u64 flags_mask, flags;	/* arithmetic flags after */
	int mmio_written;	/* bytes stored at gpa, 0: none */
	__u64 mmio_value;
	int ram_written;	/* bytes stored in RAM (MOVS), 0: none */
	__u64 ram_value, ram_la;
	__u64 rip_after;	/* from 0x1000 */
};

static const struct op_case op_cases[] = {
	{ "add [rax],ecx", 64, B(0x01, 0x08), 0, RCX_DEFAULT, 0, { NOREG },
	  F_ARITH, F_SF | F_PF, 4, 0x85848382, 0, 0, 0, 0x1002 },
	{ "add byte [rax],0x80: CF OF ZF", 64, B(0x80, 0x00, 0x80), 0, RCX_DEFAULT, 0, { NOREG },
	  F_ARITH, F_CF | F_OF | F_ZF | F_PF, 1, 0x00, 0, 0, 0, 0x1003 },
	{ "add dword [rax],-1 (83, imm8 sign-extended)", 64, B(0x83, 0x00, 0xff), 0, RCX_DEFAULT, 0,
	  { NOREG }, F_ARITH, F_CF | F_SF, 4, 0x8382817f, 0, 0, 0, 0x1003 },
	{ "add [rax],dx (16-bit)", 64, B(0x66, 0x01, 0x10), 0, RCX_DEFAULT, 0, { NOREG },
	  F_ARITH, F_SF, 2, 0x8483, 0, 0, 0, 0x1003 },
	{ "sub ecx,[rax]: zero-extends, CF", 64, B(0x2b, 0x08), F_ZF | F_SF, RCX_DEFAULT, 0,
	  { { 1, 0x7e7f8082 }, NOREG }, F_ARITH, F_CF | F_PF, 0, 0, 0, 0, 0, 0x1002 },
	{ "sub word [rax],0x8180 (81, imm16)", 64, B(0x66, 0x81, 0x28, 0x80, 0x81), 0, RCX_DEFAULT, 0,
	  { NOREG }, F_ARITH, F_ZF | F_PF, 2, 0, 0, 0, 0, 0x1005 },
	{ "cmp byte [rax],0x80 stores nothing", 64, B(0x80, 0x38, 0x80), F_CF, RCX_DEFAULT, 0,
	  { NOREG }, F_ARITH, F_ZF | F_PF, 0, 0, 0, 0, 0, 0x1003 },
	{ "cmp [rax],ecx", 64, B(0x39, 0x08), 0, RCX_DEFAULT, 0, { NOREG },
	  F_ARITH, F_SF | F_AF | F_PF, 0, 0, 0, 0, 0, 0x1002 },
	{ "cmp ecx,[rax] leaves ECX", 64, B(0x3b, 0x08), 0, RCX_DEFAULT, 0, { NOREG },
	  F_ARITH, F_CF | F_PF, 0, 0, 0, 0, 0, 0x1002 },
	{ "or [rax],ecx", 64, B(0x09, 0x08), F_CF | F_OF, RCX_DEFAULT, 0, { NOREG },
	  F_ARITH, F_SF | F_PF, 4, 0x83828382, 0, 0, 0, 0x1002 },
	{ "and rcx,[rax]", 64, B(0x48, 0x23, 0x08), 0, RCX_DEFAULT, 0,
	  { { 1, 0x0202000002020000 }, NOREG }, F_ARITH, F_PF, 0, 0, 0, 0, 0, 0x1003 },
	{ "xor byte [rax],0xff", 64, B(0x80, 0x30, 0xff), 0, RCX_DEFAULT, 0, { NOREG },
	  F_ARITH, 0, 1, 0x7f, 0, 0, 0, 0x1003 },
	{ "test [rax],ecx", 64, B(0x85, 0x08), 0, RCX_DEFAULT, 0, { NOREG },
	  F_ARITH, F_PF, 0, 0, 0, 0, 0, 0x1002 },
	{ "test byte [rax],0x80 (F6 /0)", 64, B(0xf6, 0x00, 0x80), 0, RCX_DEFAULT, 0, { NOREG },
	  F_ARITH, F_SF, 0, 0, 0, 0, 0, 0x1003 },
	{ "test dword [rax],imm32 (F7 /0)", 64, B(0xf7, 0x00, 0x00, 0x00, 0x00, 0x80), 0,
	  RCX_DEFAULT, 0, { NOREG }, F_ARITH, F_SF | F_PF, 0, 0, 0, 0, 0, 0x1006 },
	{ "xchg [rax],ecx", 64, B(0x87, 0x08), 0, RCX_DEFAULT, 0, { { 1, 0x83828180 }, NOREG },
	  F_ARITH, 0, 4, 0x02020202, 0, 0, 0, 0x1002 },
	{ "xchg [rax],ah", 64, B(0x86, 0x20), 0, RCX_DEFAULT, 0,
	  { { 0, 0x1122334455668088 }, NOREG }, 0, 0, 1, 0x77, 0, 0, 0, 0x1002 },
	{ "bt dword [rax],7", 64, B(0x0f, 0xba, 0x20, 0x07), 0, RCX_DEFAULT, 0, { NOREG },
	  F_CF, F_CF, 0, 0, 0, 0, 0, 0x1004 },
	{ "bts dword [rax],1", 64, B(0x0f, 0xba, 0x28, 0x01), F_CF, RCX_DEFAULT, 0, { NOREG },
	  F_CF, 0, 4, 0x83828182, 0, 0, 0, 0x1004 },
	{ "btr dword [rax],39: bit 7", 64, B(0x0f, 0xba, 0x30, 39), 0, RCX_DEFAULT, 0, { NOREG },
	  F_CF, F_CF, 4, 0x83828100, 0, 0, 0, 0x1004 },
	{ "btc [rax],ecx: bit ECX mod 32", 64, B(0x0f, 0xbb, 0x08), 0, RCX_DEFAULT, 0, { NOREG },
	  F_CF, 0, 4, 0x83828184, 0, 0, 0, 0x1003 },
	{ "bt [rax],rcx (64-bit)", 64, B(0x48, 0x0f, 0xa3, 0x08), 0, 63, 0, { NOREG },
	  F_CF, F_CF, 0, 0, 0, 0, 0, 0x1004 },
	{ "stosd", 64, B(0xab), 0, RCX_DEFAULT, 0, { { 7, 0x080808080808080c }, NOREG },
	  0, 0, 4, 0x55667788, 0, 0, 0, 0x1001 },
	{ "rep stosb: count left, RIP stays", 64, B(0xf3, 0xaa), 0, 3, 0,
	  { { 7, 0x0808080808080809 }, { 1, 2 }, NOREG }, 0, 0, 1, 0x88, 0, 0, 0, 0x1000 },
	{ "rep stosb: last item", 64, B(0xf3, 0xaa), 0, 1, 0,
	  { { 7, 0x0808080808080809 }, { 1, 0 }, NOREG }, 0, 0, 1, 0x88, 0, 0, 0, 0x1002 },
	{ "rep stosw with DF: backwards", 64, B(0x66, 0xf3, 0xab), F_DF, 5, 0,
	  { { 7, 0x0808080808080806 }, { 1, 4 }, NOREG }, 0, 0, 2, 0x7788, 0, 0, 0, 0x1000 },
	{ "rep stosd, 32-bit addresses: zero-extend", 64, B(0x67, 0xf3, 0xab), 0,
	  0xffffffff00000002ULL, 0, { { 7, 0x0808080c }, { 1, 1 }, NOREG }, 0, 0, 4, 0x55667788,
	  0, 0, 0, 0x1000 },
	{ "rep stosb, 16-bit: SI/DI/CX merge", 16, B(0xf3, 0xaa), 0, 0x10001, 0,
	  { { 7, 0x0808080808080809 }, { 1, 0x10000 }, NOREG }, 0, 0, 1, 0x88, 0, 0, 0, 0x1002 },
	{ "lodsw with DF", 64, B(0x66, 0xad), F_DF, RCX_DEFAULT, 0,
	  { { 0, 0x1122334455668180 }, { 6, 0x0707070707070705 }, NOREG }, 0, 0, 0, 0,
	  0, 0, 0, 0x1002 },
	{ "lodsd zero-extends", 64, B(0xad), 0, RCX_DEFAULT, 0,
	  { { 0, 0x83828180 }, { 6, 0x070707070707070b }, NOREG }, 0, 0, 0, 0, 0, 0, 0, 0x1001 },
	{ "movsd RAM -> device", 64, B(0xa5), 0, RCX_DEFAULT, 1,
	  { { 6, 0x070707070707070b }, { 7, 0x080808080808080c }, NOREG }, 0, 0, 4, 0x43424140,
	  0, 0, 0, 0x1001 },
	{ "rep movsb device -> RAM", 64, B(0xf3, 0xa4), 0, 2, 0,
	  { { 6, 0x0707070707070708 }, { 7, 0x0808080808080809 }, { 1, 1 } }, 0, 0, 0, 0,
	  1, 0x80, 0x0808080808080808, 0x1000 },
	{ "fs: movsq RAM -> device, FS base", 64, B(0x64, 0x48, 0xa5), 0, RCX_DEFAULT, 1,
	  { { 6, 0x070707070707070f }, { 7, 0x0808080808080810 }, NOREG }, 0, 0, 8,
	  0x4746454443424140, 0, 0, 0, 0x1003 },
};

struct fake_ram {
	__u64 la;
	__u8 written[8];
	unsigned int written_len;
};

static int fake_ram_access(void *opaque, __u64 la, void *data, unsigned int len, int is_write)
{
	struct fake_ram *m = opaque;
	unsigned int i;

	if (!data)
		return 0;	/* the check before a store: allowed */
	m->la = la;
	if (is_write) {
		memcpy(m->written, data, len);
		m->written_len = len;
	} else {
		for (i = 0; i < len; i++)
			((__u8 *)data)[i] = 0x40 + i;
	}
	return 0;
}

/* The memory seen by the emulation: reads give 80 81 .. 87; writes are kept. */
struct fake_mmio {
	__u64 gpa;
	__u8 written[8];
	unsigned int written_len;
};

static int fake_access(void *opaque, __u64 gpa, void *data, unsigned int len, int is_write)
{
	struct fake_mmio *m = opaque;
	unsigned int i;

	m->gpa = gpa;
	if (is_write) {
		memcpy(m->written, data, len);
		m->written_len = len;
	} else {
		for (i = 0; i < len; i++)
			((__u8 *)data)[i] = 0x80 + i;
	}
	return 0;
}

static void initial_regs(struct hvx_regs *r, __u64 rip)
{
	__u64 *const gprs[16] = {
		&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
		&r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15,
	};
	unsigned int i;

	/* Register i holds the byte i + 1 everywhere; RAX a distinct pattern. */
	for (i = 0; i < 16; i++)
		*gprs[i] = 0x0101010101010101ULL * (i + 1);
	r->rax = 0x1122334455667788ULL;
	r->rip = rip;
	r->rflags = 0x2;
}

static __u64 gpr_value(const struct hvx_regs *r, int n)
{
	const __u64 vals[16] = {
		r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi, r->rdi,
		r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15,
	};

	return vals[n];
}

static int check_emulate(const struct emulate_case *tc, char *err, size_t errlen)
{
	struct fake_mmio m = { 0 };
	struct hvx_regs before, after;
	struct hvx_insn insn;
	struct hvx_emu emu;
	const char *why;
	__u64 written = 0;
	int i;

	if (hvx_insn_decode(tc->bytes, tc->n, tc->bits, &insn, &why)) {
		snprintf(err, errlen, "refused: %s", why);
		return -1;
	}
	initial_regs(&before, tc->rip);
	after = before;
	emu = (struct hvx_emu){ .mmio = fake_access, .opaque = &m };
	if (hvx_insn_emulate(&insn, tc->bits, &after, 0xfeb00000, &emu)) {
		snprintf(err, errlen, "emulation failed");
		return -1;
	}
	if (m.gpa != 0xfeb00000) {
		snprintf(err, errlen, "access at 0x%llx, not at the exit's gpa",
			 (unsigned long long)m.gpa);
		return -1;
	}
	for (i = 0; i < 16; i++) {
		__u64 want = i == tc->reg ? tc->reg_value : gpr_value(&before, i);

		if (gpr_value(&after, i) != want) {
			snprintf(err, errlen, "register %d is 0x%llx, expected 0x%llx", i,
				 (unsigned long long)gpr_value(&after, i),
				 (unsigned long long)want);
			return -1;
		}
	}
	if (tc->reg < 0) {
		memcpy(&written, m.written, m.written_len);
		if (m.written_len != insn.size || written != tc->written) {
			snprintf(err, errlen, "stored %u bytes 0x%llx, expected %u bytes 0x%llx",
				 m.written_len, (unsigned long long)written, insn.size,
				 (unsigned long long)tc->written);
			return -1;
		}
	}
	if (after.rip != tc->rip_after) {
		snprintf(err, errlen, "rip 0x%llx, expected 0x%llx",
			 (unsigned long long)after.rip, (unsigned long long)tc->rip_after);
		return -1;
	}
	return 0;
}

static int check_op(const struct op_case *tc, char *err, size_t errlen)
{
	struct fake_mmio m = { 0 };
	struct fake_ram ram = { 0 };
	struct hvx_regs before, after;
	struct hvx_insn insn;
	struct hvx_emu emu;
	const char *why;
	__u64 v = 0, want;
	int i, j;

	if (hvx_insn_decode(tc->bytes, tc->n, tc->bits, &insn, &why)) {
		snprintf(err, errlen, "refused: %s", why);
		return -1;
	}
	initial_regs(&before, 0x1000);
	before.rcx = tc->rcx;
	before.rflags = 0x2 | tc->rflags;
	after = before;
	emu = (struct hvx_emu){
		.mmio = fake_access, .opaque = &m, .ram = fake_ram_access, .ram_opaque = &ram,
		.is_write = tc->exit_is_write, .seg_base = { [HVX_SEG_FS] = 0x10000 },
	};
	if (hvx_insn_emulate(&insn, tc->bits, &after, 0xfeb00000, &emu)) {
		snprintf(err, errlen, "emulation failed");
		return -1;
	}
	for (i = 0; i < 16; i++) {
		want = gpr_value(&before, i);
		for (j = 0; j < 3; j++) {
			if (tc->regs[j].reg == i && (tc->regs[j].reg || tc->regs[j].value))
				want = tc->regs[j].value;
		}
		if (gpr_value(&after, i) != want) {
			snprintf(err, errlen, "register %d is 0x%llx, expected 0x%llx", i,
				 (unsigned long long)gpr_value(&after, i), (unsigned long long)want);
			return -1;
		}
	}
	if ((after.rflags & tc->flags_mask) != tc->flags ||
	    (after.rflags & ~tc->flags_mask) != (before.rflags & ~tc->flags_mask)) {
		snprintf(err, errlen, "rflags 0x%llx, expected 0x%llx under mask 0x%llx, rest 0x%llx",
			 (unsigned long long)after.rflags, (unsigned long long)tc->flags,
			 (unsigned long long)tc->flags_mask, (unsigned long long)before.rflags);
		return -1;
	}
	memcpy(&v, m.written, m.written_len);
	if ((int)m.written_len != tc->mmio_written || (tc->mmio_written && v != tc->mmio_value)) {
		snprintf(err, errlen, "stored %u bytes 0x%llx at gpa, expected %d bytes 0x%llx",
			 m.written_len, (unsigned long long)v, tc->mmio_written,
			 (unsigned long long)tc->mmio_value);
		return -1;
	}
	v = 0;
	memcpy(&v, ram.written, ram.written_len);
	if ((int)ram.written_len != tc->ram_written ||
	    (tc->ram_written && (v != tc->ram_value || ram.la != tc->ram_la))) {
		snprintf(err, errlen, "stored %u bytes 0x%llx in RAM at 0x%llx, expected %d bytes 0x%llx at 0x%llx",
			 ram.written_len, (unsigned long long)v, (unsigned long long)ram.la,
			 tc->ram_written, (unsigned long long)tc->ram_value,
			 (unsigned long long)tc->ram_la);
		return -1;
	}
	if (insn.op == HVX_OP_MOVS && tc->exit_is_write &&
	    ram.la != emu.seg_base[insn.seg] + before.rsi) {
		snprintf(err, errlen, "read RAM at 0x%llx, not at seg base + rsi",
			 (unsigned long long)ram.la);
		return -1;
	}
	if (after.rip != tc->rip_after) {
		snprintf(err, errlen, "rip 0x%llx, expected 0x%llx",
			 (unsigned long long)after.rip, (unsigned long long)tc->rip_after);
		return -1;
	}
	return 0;
}

/* ---- the page walk behind MOVS's RAM operand ---- */

#define WALK_MEM	0x10000
#define P		1ULL
#define PS		0x80ULL

static __u8 walk_mem[WALK_MEM];

static void pte(__u64 gpa, __u64 v, unsigned int size)
{
	memcpy(walk_mem + gpa, &v, size);
}

struct walk_case {
	const char *name;
	int mode;		/* 0 off, 1 32-bit, 2 PAE, 3 4-level, 4 5-level */
	__u64 la;
	int ret;
	__u64 gpa;
};

static const struct walk_case walk_cases[] = {
	{ "paging off", 0, 0x12345, 0, 0x12345 },
	{ "32-bit: 4K page", 1, 0x3010, 0, 0x7010 },
	{ "32-bit: 4M page (PSE)", 1, 0x400100, 0, 0x800100 },
	{ "32-bit: not present", 1, 0x4000, -EFAULT, 0 },
	{ "PAE: 4K page", 2, 0x1004, 0, 0x5004 },
	{ "PAE: 2M page", 2, 0x200010, 0, 0x600010 },
	{ "PAE: PDPTE 1 not present", 2, 0x40000000, -EFAULT, 0 },
	{ "4-level: 4K page", 3, 0x5123, 0, 0x9123 },
	{ "4-level: 2M page", 3, 0x200abc, 0, 0x800abc },
	{ "4-level: 1G page", 3, 0x40001234, 0, 0xc0001234 },
	{ "4-level: PTE not present", 3, 0x6000, -EFAULT, 0 },
	{ "4-level: upper half not mapped", 3, 0xffff800000000000ULL, -EFAULT, 0 },
	{ "5-level refused", 4, 0x1000, -EOPNOTSUPP, 0 },
};

static void walk_tables(int mode, struct hvx_cregs *c)
{
	memset(walk_mem, 0, sizeof(walk_mem));
	memset(c, 0, sizeof(*c));
	switch (mode) {
	case 1:
		c->cr0 = 0x80000011;
		c->cr4 = 0x10;				/* PSE */
		c->cr3 = 0x1000;
		pte(0x1000, 0x2000 | P, 4);		/* PDE 0 -> PT */
		pte(0x1004, 0x800000 | P | PS, 4);	/* PDE 1: 4M page */
		pte(0x2000 + 3 * 4, 0x7000 | P, 4);
		break;
	case 2:
		c->cr0 = 0x80000011;
		c->cr4 = 0x20;				/* PAE */
		c->cr3 = 0x1000;
		pte(0x1000, 0x2000 | P, 8);		/* PDPTE 0 -> PD */
		pte(0x2000, 0x3000 | P, 8);		/* PDE 0 -> PT */
		pte(0x2008, 0x600000 | P | PS, 8);	/* PDE 1: 2M page */
		pte(0x3008, 0x5000 | P, 8);
		break;
	case 3:
	case 4:
		c->cr0 = 0x80000011;
		c->cr4 = 0x20 | (mode == 4 ? 0x1000 : 0);
		c->efer = 0x500;			/* LME, LMA */
		c->cr3 = 0x1000;
		pte(0x1000, 0x2000 | P, 8);		/* PML4E 0 -> PDPT */
		pte(0x2000, 0x3000 | P, 8);		/* PDPTE 0 -> PD */
		pte(0x2008, 0xc0000000 | P | PS, 8);	/* PDPTE 1: 1G page */
		pte(0x3000, 0x4000 | P, 8);		/* PDE 0 -> PT */
		pte(0x3008, 0x800000 | P | PS, 8);	/* PDE 1: 2M page */
		pte(0x4000 + 5 * 8, 0x9000 | P, 8);
		break;
	}
}

static int check_walk(const struct walk_case *tc, char *err, size_t errlen)
{
	struct hvx_cregs c;
	__u64 gpa = 0;
	int ret;

	walk_tables(tc->mode, &c);
	ret = hvx_guest_translate(walk_mem, sizeof(walk_mem), &c, tc->la, &gpa);
	if (ret != tc->ret || (!ret && gpa != tc->gpa)) {
		snprintf(err, errlen, "returned %d gpa 0x%llx, expected %d gpa 0x%llx", ret,
			 (unsigned long long)gpa, tc->ret, (unsigned long long)tc->gpa);
		return -1;
	}
	return 0;
}

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

/*
 * The rights of the RAM operand of MOVS: a 4-level walk to the page at
 * 0x5000, @upper on the three upper entries and @leaf on the PTE.
 */
struct rights_case {
	const char *name;
	__u64 upper, leaf;
	unsigned int access;	/* HVX_ACCESS_* */
	int wp, smap;
	int ret;
	__u32 ec;		/* with -EACCES */
};

#define RW	2ULL
#define US	4ULL
#define WR	HVX_ACCESS_WRITE
#define USR	HVX_ACCESS_USER

static const struct rights_case rights_cases[] = {
	{ "user read of a user page", RW | US, US, USR, 1, 0, 0, 0 },
	{ "user write of a user page", RW | US, RW | US, USR | WR, 1, 0, 0, 0 },
	{ "user read of a supervisor page", RW | US, RW, USR, 1, 0, -EACCES, 5 },
	{ "user write of a supervisor page", RW | US, RW, USR | WR, 1, 0, -EACCES, 7 },
	{ "user read under a supervisor PDE", RW, RW | US, USR, 1, 0, -EACCES, 5 },
	{ "user write of a read-only page", RW | US, US, USR | WR, 0, 0, -EACCES, 7 },
	{ "user write under a read-only PDE", US, RW | US, USR | WR, 0, 0, -EACCES, 7 },
	{ "supervisor write of a read-only page, WP", RW | US, 0, WR, 1, 0, -EACCES, 3 },
	{ "supervisor write of a read-only page, no WP", RW | US, 0, WR, 0, 0, 0, 0 },
	{ "supervisor read of a user page, SMAP", RW | US, RW | US, 0, 1, 1, -EACCES, 1 },
	{ "supervisor read of a user page, SMAP, AC", RW | US, RW | US, HVX_ACCESS_AC, 1, 1,
	  0, 0 },
	{ "supervisor write of a supervisor page, SMAP", RW | US, RW, WR, 1, 1, 0, 0 },
	{ "user write of a missing page", RW | US, ~0ULL, USR | WR, 1, 0, -EACCES, 6 },
};

static int check_rights(const struct rights_case *tc, char *err, size_t errlen)
{
	struct hvx_cregs c = {
		.cr0 = 0x80000011 | (tc->wp ? 1ULL << 16 : 0),
		.cr3 = 0x1000,
		.cr4 = 0x20 | (tc->smap ? 1ULL << 21 : 0),
		.efer = 0x500,
	};
	__u64 gpa = 0;
	__u32 ec = 0;
	int ret;

	memset(walk_mem, 0, sizeof(walk_mem));
	pte(0x1000, 0x2000 | P | tc->upper, 8);
	pte(0x2000, 0x3000 | P | tc->upper, 8);
	pte(0x3000, 0x4000 | P | tc->upper, 8);
	pte(0x4000 + 5 * 8, tc->leaf == ~0ULL ? 0 : 0x9000 | P | tc->leaf, 8);
	ret = hvx_guest_translate_access(walk_mem, sizeof(walk_mem), &c, 0x5123, tc->access,
					 &gpa, &ec);
	if (ret != tc->ret || (!ret && gpa != 0x9123) || (ret == -EACCES && ec != tc->ec)) {
		snprintf(err, errlen, "returned %d gpa 0x%llx #PF 0x%x, expected %d #PF 0x%x",
			 ret, (unsigned long long)gpa, ec, tc->ret, tc->ec);
		return -1;
	}
	return 0;
}

int main(void)
{
	unsigned int i, nd = sizeof(cases) / sizeof(cases[0]), failed = 0;
	unsigned int ne = sizeof(emulate_cases) / sizeof(emulate_cases[0]);
	unsigned int no = sizeof(op_cases) / sizeof(op_cases[0]);
	unsigned int nw = sizeof(walk_cases) / sizeof(walk_cases[0]);
	unsigned int nr = sizeof(rights_cases) / sizeof(rights_cases[0]);
	unsigned int n = nd + ne + no + nw + nr;
	char err[256];

	printf("TAP version 13\n1..%u\n", n);
	for (i = 0; i < nd; i++) {
		err[0] = '\0';
		if (check(&cases[i], err, sizeof(err))) {
			failed++;
			printf("not ok %u - %u-bit %s\n# %s\n", i + 1, cases[i].bits,
			       cases[i].name, err);
		} else {
			printf("ok %u - %u-bit %s\n", i + 1, cases[i].bits, cases[i].name);
		}
	}
	for (i = 0; i < ne; i++) {
		err[0] = '\0';
		if (check_emulate(&emulate_cases[i], err, sizeof(err))) {
			failed++;
			printf("not ok %u - emulate %u-bit %s\n# %s\n", nd + i + 1,
			       emulate_cases[i].bits, emulate_cases[i].name, err);
		} else {
			printf("ok %u - emulate %u-bit %s\n", nd + i + 1, emulate_cases[i].bits,
			       emulate_cases[i].name);
		}
	}
	for (i = 0; i < no; i++) {
		err[0] = '\0';
		if (check_op(&op_cases[i], err, sizeof(err))) {
			failed++;
			printf("not ok %u - emulate %u-bit %s\n# %s\n", nd + ne + i + 1,
			       op_cases[i].bits, op_cases[i].name, err);
		} else {
			printf("ok %u - emulate %u-bit %s\n", nd + ne + i + 1, op_cases[i].bits,
			       op_cases[i].name);
		}
	}
	for (i = 0; i < nw; i++) {
		err[0] = '\0';
		if (check_walk(&walk_cases[i], err, sizeof(err))) {
			failed++;
			printf("not ok %u - walk %s\n# %s\n", nd + ne + no + i + 1,
			       walk_cases[i].name, err);
		} else {
			printf("ok %u - walk %s\n", nd + ne + no + i + 1, walk_cases[i].name);
		}
	}
	for (i = 0; i < nr; i++) {
		err[0] = '\0';
		if (check_rights(&rights_cases[i], err, sizeof(err))) {
			failed++;
			printf("not ok %u - rights %s\n# %s\n", nd + ne + no + nw + i + 1,
			       rights_cases[i].name, err);
		} else {
			printf("ok %u - rights %s\n", nd + ne + no + nw + i + 1,
			       rights_cases[i].name);
		}
	}
	printf("# %u passed, %u failed\n", n - failed, failed);
	return failed ? 1 : 0;
}
