// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libhvx: MMIO decode assist.  The kernel hands over the faulting
 * instruction's bytes undecoded (no decode assists on many AMD CPUs, and
 * none wanted in the kernel); this decodes the moves a driver uses for
 * MMIO, performs the access and retires the instruction.
 *
 * Encodings: SDM vol. 2 ch. 2 (prefixes, ModRM, SIB) and the MOV, MOVZX
 * and MOVSX pages.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "libhvx.h"
#include "decode.h"
#include "hvx_prefixes.h"

#define EFER_LMA	(1ULL << 10)
#define CR0_PE		(1ULL << 0)
#define RFLAGS_VM	(1ULL << 17)

struct insn_cursor {
	const __u8 *b;
	unsigned int n;
	unsigned int pos;
};

static int next_byte(struct insn_cursor *c, __u8 *out)
{
	if (c->pos >= c->n || c->pos >= HVX_INSN_MAX_LEN)
		return -EINVAL;
	*out = c->b[c->pos++];
	return 0;
}

/* Little-endian immediate of size bytes, sign-extended to 64 bits. */
static int next_imm(struct insn_cursor *c, unsigned int size, __u64 *out)
{
	__u64 v = 0;
	unsigned int i;
	__u8 b;

	for (i = 0; i < size; i++) {
		if (next_byte(c, &b))
			return -EINVAL;
		v |= (__u64)b << (8 * i);
	}
	if (size < 8 && (v >> (8 * size - 1)) & 1)
		v |= ~0ULL << (8 * size);
	*out = v;
	return 0;
}

static int skip(struct insn_cursor *c, unsigned int nbytes)
{
	__u64 dummy;

	return next_imm(c, nbytes, &dummy);
}

/* Consumes ModRM and what follows it up to the immediate; returns the reg field. */
static int decode_modrm(struct insn_cursor *c, unsigned int addr_size, int *reg,
			const char **why)
{
	__u8 modrm, sib, mod, rm;
	unsigned int disp = 0;

	if (next_byte(c, &modrm))
		goto truncated;
	mod = modrm >> 6;
	rm = modrm & 7;
	*reg = (modrm >> 3) & 7;
	if (mod == 3) {
		*why = "register operand (ModRM.mod = 3), not a memory access";
		return -EINVAL;
	}
	if (addr_size == 2) {
		if (mod == 1)
			disp = 1;
		else if (mod == 2 || rm == 6)
			disp = 2;
	} else {
		if (rm == 4) {
			if (next_byte(c, &sib))
				goto truncated;
			if (mod == 0 && (sib & 7) == 5)
				disp = 4;
		}
		if (mod == 0 && rm == 5)
			disp = 4;	/* disp32, RIP-relative in 64-bit mode */
		else if (mod == 1)
			disp = 1;
		else if (mod == 2)
			disp = 4;
	}
	if (skip(c, disp))
		goto truncated;
	return 0;

truncated:
	*why = "instruction bytes end inside the ModRM/SIB/displacement";
	return -EINVAL;
}

/* Group-1 (80/81/83 /n) and the ALU opcodes 00..3F by their reg/opcode field. */
static const int alu_ops[8] = {
	HVX_OP_ADD, HVX_OP_OR, -1, -1, HVX_OP_AND, HVX_OP_SUB, HVX_OP_XOR, HVX_OP_CMP,
};

int hvx_insn_decode(const __u8 *bytes, unsigned int n, unsigned int bits,
		    struct hvx_insn *insn, const char **why)
{
	struct insn_cursor c = { .b = bytes, .n = n };
	unsigned int op_size, addr_size, imm_size = 0;
	int modrm_reg = 0, rep = 0;
	struct hvx_prefixes p;
	enum hvx_seg seg = HVX_SEG_DS;
	__u8 rex = 0, op;

	*why = "unsupported instruction";
	memset(insn, 0, sizeof(*insn));
	if (bits != 16 && bits != 32 && bits != 64) {
		*why = "unknown CPU mode";
		return -EINVAL;
	}

	/* Legacy prefixes, then REX (64-bit mode only) right before the opcode. */
	hvx_decode_prefixes(bytes, n, bits == 64, bits == 32, &p);
	c.pos = p.len;
	if (next_byte(&c, &op))
		goto truncated;
	rex = p.rex;
	rep = p.rep != 0;
	if (p.seg >= 0)
		seg = p.seg;
	op_size = (rex & 0x08) ? 8 : p.osize;
	addr_size = p.asize;
	insn->addr_size = addr_size;
	insn->seg = seg;
	insn->op = HVX_OP_MOV;

	insn->reg = 0;
	switch (op) {
	case 0x88:	/* MOV r/m8, r8 */
	case 0x89:	/* MOV r/m, r */
	case 0x8a:	/* MOV r8, r/m8 */
	case 0x8b:	/* MOV r, r/m */
		insn->size = (op & 1) ? op_size : 1;
		insn->dir = (op & 2) ? HVX_INSN_READ : HVX_INSN_WRITE;
		if (decode_modrm(&c, addr_size, &modrm_reg, why))
			return -EINVAL;
		insn->reg = modrm_reg | ((rex & 0x04) << 1);
		break;
	case 0x00: case 0x01: case 0x02: case 0x03:	/* ADD */
	case 0x08: case 0x09: case 0x0a: case 0x0b:	/* OR */
	case 0x20: case 0x21: case 0x22: case 0x23:	/* AND */
	case 0x28: case 0x29: case 0x2a: case 0x2b:	/* SUB */
	case 0x30: case 0x31: case 0x32: case 0x33:	/* XOR */
	case 0x38: case 0x39: case 0x3a: case 0x3b:	/* CMP */
		insn->op = alu_ops[op >> 3];
		insn->size = (op & 1) ? op_size : 1;
		insn->dir = (op & 2) ? HVX_INSN_READ : HVX_INSN_WRITE;
		if (decode_modrm(&c, addr_size, &modrm_reg, why))
			return -EINVAL;
		insn->reg = modrm_reg | ((rex & 0x04) << 1);
		break;
	case 0x84:	/* TEST r/m8, r8 */
	case 0x85:	/* TEST r/m, r */
	case 0x86:	/* XCHG r/m8, r8 */
	case 0x87:	/* XCHG r/m, r */
		insn->op = op < 0x86 ? HVX_OP_TEST : HVX_OP_XCHG;
		insn->size = (op & 1) ? op_size : 1;
		insn->dir = HVX_INSN_WRITE;
		if (decode_modrm(&c, addr_size, &modrm_reg, why))
			return -EINVAL;
		insn->reg = modrm_reg | ((rex & 0x04) << 1);
		break;
	case 0x80:	/* group 1: r/m8, imm8 */
	case 0x81:	/* r/m, imm16/32 */
	case 0x83:	/* r/m, imm8 sign-extended */
		insn->size = op == 0x80 ? 1 : op_size;
		insn->dir = HVX_INSN_WRITE;
		if (decode_modrm(&c, addr_size, &modrm_reg, why))
			return -EINVAL;
		if (alu_ops[modrm_reg] < 0) {
			*why = "ADC and SBB are not emulated";
			return -EINVAL;
		}
		insn->op = alu_ops[modrm_reg];
		insn->reg = -1;
		imm_size = op == 0x81 ? (insn->size > 4 ? 4 : insn->size) : 1;
		break;
	case 0xf6:	/* group 3: TEST r/m8, imm8 */
	case 0xf7:	/* TEST r/m, imm16/32 */
		insn->size = (op & 1) ? op_size : 1;
		insn->dir = HVX_INSN_WRITE;
		if (decode_modrm(&c, addr_size, &modrm_reg, why))
			return -EINVAL;
		if (modrm_reg > 1) {
			*why = "F6/F7 other than TEST (NOT, NEG, MUL, DIV) are not emulated";
			return -EINVAL;
		}
		insn->op = HVX_OP_TEST;
		insn->reg = -1;
		imm_size = insn->size > 4 ? 4 : insn->size;
		break;
	case 0xc6:	/* MOV r/m8, imm8 */
	case 0xc7:	/* MOV r/m, imm16/32 */
		insn->size = (op & 1) ? op_size : 1;
		insn->dir = HVX_INSN_WRITE;
		if (decode_modrm(&c, addr_size, &modrm_reg, why))
			return -EINVAL;
		if (modrm_reg != 0) {
			*why = "C6/C7 with ModRM.reg != 0 is not MOV";
			return -EINVAL;
		}
		insn->reg = -1;
		imm_size = insn->size > 4 ? 4 : insn->size;
		break;
	case 0xa0:	/* MOV AL, moffs8 */
	case 0xa1:	/* MOV eAX, moffs */
	case 0xa2:	/* MOV moffs8, AL */
	case 0xa3:	/* MOV moffs, eAX */
		insn->size = (op & 1) ? op_size : 1;
		insn->dir = (op & 2) ? HVX_INSN_WRITE : HVX_INSN_READ;
		if (skip(&c, addr_size))
			goto truncated;
		break;
	case 0xa4:	/* MOVS m8, m8 */
	case 0xa5:	/* MOVS m, m */
	case 0xaa:	/* STOS m8, AL */
	case 0xab:	/* STOS m, eAX */
	case 0xac:	/* LODS AL, m8 */
	case 0xad:	/* LODS eAX, m */
		insn->op = op < 0xa6 ? HVX_OP_MOVS : op < 0xac ? HVX_OP_STOS : HVX_OP_LODS;
		insn->size = (op & 1) ? op_size : 1;
		insn->dir = insn->op == HVX_OP_LODS ? HVX_INSN_READ : HVX_INSN_WRITE;
		insn->rep = rep;
		break;
	case 0x0f:
		if (next_byte(&c, &op))
			goto truncated;
		switch (op) {
		case 0xb6: case 0xb7: case 0xbe: case 0xbf:
			/* MOVZX / MOVSX r, r/m8 or r/m16 */
			insn->size = (op & 1) ? 2 : 1;
			insn->dst_size = op_size;
			insn->dir = HVX_INSN_READ;
			insn->ext = (op & 8) ? HVX_INSN_EXT_SIGN : HVX_INSN_EXT_ZERO;
			break;
		case 0xa3: case 0xab: case 0xb3: case 0xbb:
			/* BT, BTS, BTR, BTC r/m, r */
			insn->op = HVX_OP_BT + ((op >> 3) & 3);
			insn->size = op_size;
			insn->dir = HVX_INSN_WRITE;
			break;
		case 0xba:
			/* BT, BTS, BTR, BTC r/m, imm8 (group 8, /4../7) */
			insn->size = op_size;
			insn->dir = HVX_INSN_WRITE;
			break;
		default:
			return -EINVAL;
		}
		if (decode_modrm(&c, addr_size, &modrm_reg, why))
			return -EINVAL;
		insn->reg = modrm_reg | ((rex & 0x04) << 1);
		if (op == 0xba) {
			if (modrm_reg < 4) {
				*why = "0F BA with ModRM.reg < 4 is undefined";
				return -EINVAL;
			}
			insn->op = HVX_OP_BT + (modrm_reg - 4);
			insn->reg = -1;
			imm_size = 1;
		}
		break;
	default:
		return -EINVAL;
	}

	if (imm_size && next_imm(&c, imm_size, &insn->imm))
		goto truncated;
	if (!insn->dst_size)
		insn->dst_size = insn->size;
	/* Without REX, byte registers 4..7 are AH, CH, DH, BH. */
	insn->high8 = insn->reg >= 4 && insn->reg <= 7 && insn->dst_size == 1 &&
		      insn->size == 1 && !rex && insn->ext == HVX_INSN_EXT_NONE;
	insn->len = c.pos;
	*why = NULL;
	return 0;

truncated:
	*why = c.pos >= HVX_INSN_MAX_LEN ? "longer than 15 bytes" :
					   "instruction bytes end before the instruction does";
	return -EINVAL;
}

/* General-purpose register by x86 encoding number. */
static __u64 *gpr(struct hvx_regs *r, int n)
{
	__u64 *const map[16] = {
		&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
		&r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15,
	};

	return map[n & 15];
}

static unsigned int cpu_mode_bits(const struct hvx_vcpu_state *st)
{
	if ((st->cregs.efer & EFER_LMA) && st->sregs.cs.l)
		return 64;
	if ((st->cregs.cr0 & CR0_PE) && !(st->regs.rflags & RFLAGS_VM) && st->sregs.cs.db)
		return 32;
	return 16;
}

static void write_gpr(struct hvx_regs *r, const struct hvx_insn *insn, __u64 val)
{
	__u64 *dst = gpr(r, insn->reg);

	switch (insn->dst_size) {
	case 1:
		if (insn->high8) {
			dst = gpr(r, insn->reg - 4);
			*dst = (*dst & ~0xff00ULL) | ((val & 0xff) << 8);
		} else {
			*dst = (*dst & ~0xffULL) | (val & 0xff);
		}
		break;
	case 2:
		*dst = (*dst & ~0xffffULL) | (val & 0xffff);
		break;
	case 4:
		*dst = val & 0xffffffffULL;	/* 32-bit writes zero-extend */
		break;
	default:
		*dst = val;
		break;
	}
}

static __u64 read_source(struct hvx_regs *r, const struct hvx_insn *insn)
{
	if (insn->reg < 0)
		return insn->imm;
	if (insn->high8)
		return *gpr(r, insn->reg - 4) >> 8;
	return *gpr(r, insn->reg);
}

static void format_failure(char *msg, size_t msglen, const struct hvx_run *run,
			   unsigned int bits, const char *why)
{
	unsigned int i, n = run->mmio.insn_len;
	size_t off;
	int ret;

	if (!msg || !msglen)
		return;
	ret = snprintf(msg, msglen,
		       "cannot decode MMIO %s at gpa 0x%llx (instruction at gva 0x%llx, %u-bit mode): %s; bytes:",
		       run->mmio.is_write ? "write" : "read",
		       (unsigned long long)run->mmio.gpa, (unsigned long long)run->mmio.gva,
		       bits, why);
	off = ret < 0 ? 0 : (size_t)ret;
	if (n > sizeof(run->mmio.insn))
		n = sizeof(run->mmio.insn);
	if (!n && off < msglen)
		snprintf(msg + off, msglen - off, " (none)");
	for (i = 0; i < n && off < msglen; i++) {
		ret = snprintf(msg + off, msglen - off, " %02x", run->mmio.insn[i]);
		if (ret < 0)
			break;
		off += ret;
	}
}

#define RFLAGS_CF	(1ULL << 0)
#define RFLAGS_PF	(1ULL << 2)
#define RFLAGS_AF	(1ULL << 4)
#define RFLAGS_ZF	(1ULL << 6)
#define RFLAGS_SF	(1ULL << 7)
#define RFLAGS_DF	(1ULL << 10)
#define RFLAGS_OF	(1ULL << 11)
#define RFLAGS_ARITH	(RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

static __u64 size_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/* Result of an ALU operation and the six arithmetic flags it sets. */
static __u64 alu(enum hvx_insn_op op, unsigned int size, __u64 a, __u64 b, __u64 *flags)
{
	__u64 m = size_mask(size), top = 1ULL << (8 * size - 1), res, f = 0;

	a &= m;
	b &= m;
	switch (op) {
	case HVX_OP_ADD:
		res = (a + b) & m;
		if (res < a)
			f |= RFLAGS_CF;
		if ((a ^ res) & (b ^ res) & top)
			f |= RFLAGS_OF;
		f |= (a ^ b ^ res) & RFLAGS_AF;
		break;
	case HVX_OP_SUB:
	case HVX_OP_CMP:
		res = (a - b) & m;
		if (a < b)
			f |= RFLAGS_CF;
		if ((a ^ b) & (a ^ res) & top)
			f |= RFLAGS_OF;
		f |= (a ^ b ^ res) & RFLAGS_AF;
		break;
	case HVX_OP_OR:
		res = a | b;
		break;
	case HVX_OP_XOR:
		res = a ^ b;
		break;
	default:		/* AND, TEST: CF, OF clear; AF undefined, left clear */
		res = a & b;
		break;
	}
	if (!res)
		f |= RFLAGS_ZF;
	if (res & top)
		f |= RFLAGS_SF;
	if (!__builtin_parity(res & 0xff))
		f |= RFLAGS_PF;
	*flags = f;
	return res;
}

static __u64 load_le(const __u8 *data, unsigned int size)
{
	__u64 v = 0;
	unsigned int i;

	for (i = 0; i < size; i++)
		v |= (__u64)data[i] << (8 * i);
	return v;
}

static void store_le(__u8 *data, unsigned int size, __u64 v)
{
	unsigned int i;

	for (i = 0; i < size; i++)
		data[i] = v >> (8 * i);
}

static int mem_read(const struct hvx_emu *emu, __u64 gpa, unsigned int size, __u64 *v)
{
	__u8 data[8] = { 0 };
	int ret = emu->mmio(emu->opaque, gpa, data, size, 0);

	if (!ret)
		*v = load_le(data, size);
	return ret;
}

static int mem_write(const struct hvx_emu *emu, __u64 gpa, unsigned int size, __u64 v)
{
	__u8 data[8];

	store_le(data, size, v);
	return emu->mmio(emu->opaque, gpa, data, size, 1);
}

/* Writes a value of size bytes to a register with the usual merge/zero-extend rules. */
static void write_reg_sized(struct hvx_regs *r, int n, int high8, unsigned int size, __u64 val)
{
	struct hvx_insn tmp = { .reg = n, .high8 = high8, .dst_size = size };

	write_gpr(r, &tmp, val);
}

/*
 * rSI, rDI and rCX of a string instruction as its address size has them:
 * 16-bit updates merge, 32-bit ones zero-extend (also in 64-bit mode).
 */
static void assign_addr(__u64 *reg, __u64 val, unsigned int addr_size)
{
	if (addr_size == 2)
		*reg = (*reg & ~0xffffULL) | (val & 0xffff);
	else if (addr_size == 4)
		*reg = val & 0xffffffffULL;
	else
		*reg = val;
}

/* One item of STOS, LODS or MOVS; *done says whether RIP moves on. */
static int emulate_string(const struct hvx_insn *insn, struct hvx_regs *regs, __u64 gpa,
			  const struct hvx_emu *emu, int *done)
{
	__u64 am = size_mask(insn->addr_size), count = regs->rcx & am, v = 0;
	__s64 step = (regs->rflags & RFLAGS_DF) ? -(__s64)insn->size : (__s64)insn->size;
	__u8 data[8] = { 0 };
	__u64 la;
	int ret;

	*done = 1;
	if (insn->rep && !count)
		return 0;	/* nothing to do: the CPU would not have accessed memory */

	switch (insn->op) {
	case HVX_OP_STOS:
		ret = mem_write(emu, gpa, insn->size, regs->rax);
		if (ret)
			return ret;
		break;
	case HVX_OP_LODS:
		ret = mem_read(emu, gpa, insn->size, &v);
		if (ret)
			return ret;
		write_reg_sized(regs, 0, 0, insn->size, v);
		break;
	default:		/* MOVS: one operand at gpa, the other in RAM */
		if (!emu->ram)
			return -EOPNOTSUPP;
		if (emu->is_write) {
			la = emu->seg_base[insn->seg] + (regs->rsi & am);
			ret = emu->ram(emu->ram_opaque, la, data, insn->size, 0);
			if (!ret)
				ret = emu->mmio(emu->opaque, gpa, data, insn->size, 1);
		} else {
			la = emu->seg_base[HVX_SEG_ES] + (regs->rdi & am);
			/* A store the guest may not make faults before the device is read. */
			ret = emu->ram(emu->ram_opaque, la, NULL, insn->size, 1);
			if (!ret)
				ret = emu->mmio(emu->opaque, gpa, data, insn->size, 0);
			if (!ret)
				ret = emu->ram(emu->ram_opaque, la, data, insn->size, 1);
		}
		if (ret)
			return ret;
		break;
	}

	if (insn->op != HVX_OP_STOS)
		assign_addr(&regs->rsi, regs->rsi + step, insn->addr_size);
	if (insn->op != HVX_OP_LODS)
		assign_addr(&regs->rdi, regs->rdi + step, insn->addr_size);
	if (insn->rep) {
		assign_addr(&regs->rcx, count - 1, insn->addr_size);
		*done = !((count - 1) & am);
	}
	return 0;
}

int hvx_insn_emulate(const struct hvx_insn *insn, unsigned int bits, struct hvx_regs *regs,
		     __u64 gpa, const struct hvx_emu *emu)
{
	struct hvx_regs r = *regs;
	__u64 val, mem, res, flags, bit;
	unsigned int nbits;
	int ret, done = 1;

	switch (insn->op) {
	case HVX_OP_MOV:
		if (insn->dir == HVX_INSN_WRITE) {
			ret = mem_write(emu, gpa, insn->size, read_source(&r, insn));
			if (ret)
				return ret;
			break;
		}
		ret = mem_read(emu, gpa, insn->size, &val);
		if (ret)
			return ret;
		if (insn->ext == HVX_INSN_EXT_SIGN && (val >> (8 * insn->size - 1)) & 1)
			val |= ~0ULL << (8 * insn->size);
		write_gpr(&r, insn, val);
		break;
	case HVX_OP_ADD: case HVX_OP_OR: case HVX_OP_AND: case HVX_OP_SUB:
	case HVX_OP_XOR: case HVX_OP_CMP: case HVX_OP_TEST:
		ret = mem_read(emu, gpa, insn->size, &mem);
		if (ret)
			return ret;
		val = read_source(&r, insn);
		if (insn->dir == HVX_INSN_READ)
			res = alu(insn->op, insn->size, val, mem, &flags);	/* reg op= mem */
		else
			res = alu(insn->op, insn->size, mem, val, &flags);	/* mem op= src */
		r.rflags = (r.rflags & ~RFLAGS_ARITH) | flags;
		if (insn->op == HVX_OP_CMP || insn->op == HVX_OP_TEST)
			break;
		if (insn->dir == HVX_INSN_READ) {
			write_gpr(&r, insn, res);
		} else {
			ret = mem_write(emu, gpa, insn->size, res);
			if (ret)
				return ret;
		}
		break;
	case HVX_OP_XCHG:
		ret = mem_read(emu, gpa, insn->size, &mem);
		if (!ret)
			ret = mem_write(emu, gpa, insn->size, read_source(&r, insn));
		if (ret)
			return ret;
		write_gpr(&r, insn, mem);
		break;
	case HVX_OP_BT: case HVX_OP_BTS: case HVX_OP_BTR: case HVX_OP_BTC:
		/*
		 * With a register offset the CPU has already moved the access
		 * to the operand-sized unit holding the bit (SDM vol. 2, BT):
		 * gpa is that unit, the bit is the offset modulo its width.
		 */
		nbits = 8 * insn->size;
		bit = (insn->reg < 0 ? insn->imm : *gpr(&r, insn->reg)) & (nbits - 1);
		ret = mem_read(emu, gpa, insn->size, &mem);
		if (ret)
			return ret;
		r.rflags = (r.rflags & ~RFLAGS_CF) | ((mem >> bit) & 1);
		if (insn->op == HVX_OP_BT)
			break;
		if (insn->op == HVX_OP_BTS)
			mem |= 1ULL << bit;
		else if (insn->op == HVX_OP_BTR)
			mem &= ~(1ULL << bit);
		else
			mem ^= 1ULL << bit;
		ret = mem_write(emu, gpa, insn->size, mem);
		if (ret)
			return ret;
		break;
	default:
		ret = emulate_string(insn, &r, gpa, emu, &done);
		if (ret)
			return ret;
		break;
	}

	if (done)
		r.rip += insn->len;
	if (bits == 16)
		r.rip &= 0xffff;
	else if (bits == 32)
		r.rip &= 0xffffffffULL;
	*regs = r;
	return 0;
}

/* ---- Guest page walk for the RAM side of MOVS ---- */

#define CR0_PG		(1ULL << 31)
#define CR0_WP		(1ULL << 16)
#define CR4_PSE		(1ULL << 4)
#define CR4_PAE		(1ULL << 5)
#define CR4_LA57	(1ULL << 12)
#define CR4_SMAP	(1ULL << 21)
#define RFLAGS_AC	(1ULL << 18)
#define PTE_P		1ULL
#define PTE_RW		(1ULL << 1)
#define PTE_US		(1ULL << 2)
#define PTE_PS		(1ULL << 7)
#define PTE_ADDR	0x000ffffffffff000ULL

/*
 * The guest's RAM and paging, and who accesses it: the RAM operand of
 * MOVS is checked with the rights of the instruction (SDM vol. 3A §4.6),
 * not only for presence, or a CPL 3 guest could copy from or into its
 * kernel's pages through a device.
 */
struct ram_ctx {
	void *mem;
	__u64 mem_size;
	const struct hvx_cregs *cregs;
	int user;		/* CPL 3 */
	int ac;			/* EFLAGS.AC: SMAP lets the supervisor at user pages */
	__u64 fault_la;		/* the #PF of a refused access (-EACCES) */
	__u32 fault_ec;
};

static int read_pte(const struct ram_ctx *rc, __u64 gpa, unsigned int size, __u64 *pte)
{
	if (gpa >= rc->mem_size || size > rc->mem_size - gpa)
		return -EFAULT;
	*pte = 0;
	memcpy(pte, (char *)rc->mem + gpa, size);
	return 0;
}

/*
 * The rights of a translation whose entries allow writes (@rw) and user
 * accesses (@us): 0, or -EACCES with the #PF (SDM vol. 3A §4.6, §4.7).
 */
static int check_rights(struct ram_ctx *rc, __u64 la, int write, int present, int rw,
			int us)
{
	const struct hvx_cregs *c = rc->cregs;
	int ok;

	if (!present)
		ok = 0;
	else if (rc->user)
		ok = us && (!write || rw);
	else
		ok = !(write && !rw && (c->cr0 & CR0_WP)) &&
		     !(us && (c->cr4 & CR4_SMAP) && !rc->ac);
	if (ok)
		return 0;
	rc->fault_la = la;
	rc->fault_ec = (present ? 1 : 0) | (write ? 2 : 0) | (rc->user ? 4 : 0);
	return -EACCES;
}

/*
 * Linear to guest-physical through the guest's own page tables (SDM vol.
 * 3 §4) for a read or @write: 0; -EACCES with the guest's #PF in rc;
 * -EFAULT for a table outside RAM; -EOPNOTSUPP for 5-level paging.
 */
static int translate(struct ram_ctx *rc, __u64 la, int write, __u64 *gpa)
{
	const struct hvx_cregs *c = rc->cregs;
	int level, shift, rw = 1, us = 1;
	__u64 e, base;

	if (!(c->cr0 & CR0_PG)) {
		*gpa = la & 0xffffffffULL;
		return 0;
	}
	if (!(c->cr4 & CR4_PAE)) {		/* 32-bit paging */
		la &= 0xffffffffULL;
		if (read_pte(rc, (c->cr3 & 0xfffff000ULL) + ((la >> 22) & 0x3ff) * 4, 4, &e))
			return -EFAULT;
		if (!(e & PTE_P))
			return check_rights(rc, la, write, 0, 0, 0);
		rw &= !!(e & PTE_RW);
		us &= !!(e & PTE_US);
		if ((e & PTE_PS) && (c->cr4 & CR4_PSE)) {
			*gpa = ((e & 0xffc00000ULL) | ((e & 0x1fe000ULL) << 19)) + (la & 0x3fffff);
			return check_rights(rc, la, write, 1, rw, us);
		}
		if (read_pte(rc, (e & 0xfffff000ULL) + ((la >> 12) & 0x3ff) * 4, 4, &e))
			return -EFAULT;
		if (!(e & PTE_P))
			return check_rights(rc, la, write, 0, 0, 0);
		rw &= !!(e & PTE_RW);
		us &= !!(e & PTE_US);
		*gpa = (e & 0xfffff000ULL) + (la & 0xfff);
		return check_rights(rc, la, write, 1, rw, us);
	}
	if (c->cr4 & CR4_LA57)
		return -EOPNOTSUPP;
	if (c->efer & EFER_LMA) {
		level = 4;
		base = c->cr3 & PTE_ADDR;
	} else {				/* PAE: four PDPTEs at CR3[31:5], no rights */
		la &= 0xffffffffULL;
		if (read_pte(rc, (c->cr3 & 0xffffffe0ULL) + ((la >> 30) & 3) * 8, 8, &e))
			return -EFAULT;
		if (!(e & PTE_P))
			return check_rights(rc, la, write, 0, 0, 0);
		level = 2;
		base = e & PTE_ADDR;
	}
	for (; level >= 1; level--) {
		shift = 12 + 9 * (level - 1);
		if (read_pte(rc, base + ((la >> shift) & 0x1ff) * 8, 8, &e))
			return -EFAULT;
		if (!(e & PTE_P))
			return check_rights(rc, la, write, 0, 0, 0);
		rw &= !!(e & PTE_RW);
		us &= !!(e & PTE_US);
		if (level > 1 && level < 4 && (e & PTE_PS)) {
			*gpa = (e & PTE_ADDR & ~((1ULL << shift) - 1)) + (la & ((1ULL << shift) - 1));
			return check_rights(rc, la, write, 1, rw, us);
		}
		base = e & PTE_ADDR;
	}
	*gpa = base + (la & 0xfff);
	return check_rights(rc, la, write, 1, rw, us);
}

int hvx_guest_translate_access(void *mem, __u64 mem_size, const struct hvx_cregs *cregs,
			       __u64 la, unsigned int access, __u64 *gpa, __u32 *pf_ec)
{
	struct ram_ctx rc = {
		.mem = mem, .mem_size = mem_size, .cregs = cregs,
		.user = !!(access & HVX_ACCESS_USER), .ac = !!(access & HVX_ACCESS_AC),
	};
	int ret = translate(&rc, la, !!(access & HVX_ACCESS_WRITE), gpa);

	if (ret == -EACCES && pf_ec)
		*pf_ec = rc.fault_ec;
	return ret;
}

int hvx_guest_translate(void *mem, __u64 mem_size, const struct hvx_cregs *cregs, __u64 la,
			__u64 *gpa)
{
	struct hvx_cregs c = *cregs;
	int ret;

	/* Presence only: a supervisor read, which nothing but SMAP refuses. */
	c.cr4 &= ~CR4_SMAP;
	ret = hvx_guest_translate_access(mem, mem_size, &c, la, 0, gpa, NULL);
	return ret == -EACCES ? -EFAULT : ret;
}

/*
 * hvx_emu.ram: every byte checked first (a refused access changes
 * nothing), then copied, each through the walk (items are at most 8
 * bytes).  @data NULL: check only.
 */
static int ram_access(void *opaque, __u64 la, void *data, unsigned int len, int is_write)
{
	struct ram_ctx *rc = opaque;
	__u64 gpa[8];
	unsigned int i;
	int ret;

	if (len > 8)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		ret = translate(rc, la + i, is_write, &gpa[i]);
		if (ret)
			return ret;
		if (gpa[i] >= rc->mem_size)
			return -EFAULT;		/* MMIO on both sides: not emulated */
	}
	for (i = 0; data && i < len; i++) {
		if (is_write)
			((__u8 *)rc->mem)[gpa[i]] = ((__u8 *)data)[i];
		else
			((__u8 *)data)[i] = ((__u8 *)rc->mem)[gpa[i]];
	}
	return 0;
}

static int mmio_complete(struct hvx_vcpu *vcpu, hvx_mmio_fn fn, void *opaque, void *mem,
			 __u64 mem_size, char *msg, size_t msglen)
{
	const __u64 comps = HVX_STATE_REGS | HVX_STATE_SREGS | HVX_STATE_CREGS |
			    HVX_STATE_EVENTS;
	const __u64 sync = HVX_STATE_REGS | HVX_STATE_SREGS | HVX_STATE_CREGS;
	struct hvx_run *run = vcpu->run;
	int use_sync = (run->sync_valid & sync) == sync;
	struct hvx_vcpu_state st;
	struct ram_ctx rc;
	struct hvx_emu emu;
	struct hvx_insn insn;
	unsigned int bits, n;
	const char *why;
	int ret;

	if (msg && msglen)
		msg[0] = '\0';
	memset(&st, 0, sizeof(st));
	if (use_sync) {
		/* The registers area holds them (and any change not yet loaded). */
		st.regs = run->sync_regs;
		st.sregs = run->sync_sregs;
		st.cregs = run->sync_cregs;
	} else {
		ret = hvx_vcpu_get_state(vcpu, &st, comps);
		if (ret)
			return ret;
	}
	bits = cpu_mode_bits(&st);

	n = run->mmio.insn_len;
	if (n > sizeof(run->mmio.insn))
		n = sizeof(run->mmio.insn);
	if (hvx_insn_decode(run->mmio.insn, n, bits, &insn, &why)) {
		format_failure(msg, msglen, run, bits, why);
		return -EINVAL;
	}
	rc = (struct ram_ctx){
		.mem = mem, .mem_size = mem_size, .cregs = &st.cregs,
		/* CPL is SS.DPL in protected mode, 3 in virtual-8086 mode (SDM vol. 3A §5.5). */
		.user = (st.cregs.cr0 & CR0_PE) &&
			((st.regs.rflags & RFLAGS_VM) || st.sregs.ss.dpl == 3),
		.ac = !!(st.regs.rflags & RFLAGS_AC),
	};
	emu = (struct hvx_emu){
		.mmio = fn, .opaque = opaque, .ram = mem ? ram_access : NULL, .ram_opaque = &rc,
		.is_write = run->mmio.is_write,
		.seg_base = { st.sregs.es.base, st.sregs.cs.base, st.sregs.ss.base,
			      st.sregs.ds.base, st.sregs.fs.base, st.sregs.gs.base },
	};
	/* In 64-bit mode only FS and GS have a base (SDM vol. 1 §3.4.2.1). */
	if (bits == 64)
		emu.seg_base[HVX_SEG_ES] = emu.seg_base[HVX_SEG_CS] =
			emu.seg_base[HVX_SEG_SS] = emu.seg_base[HVX_SEG_DS] = 0;
	ret = hvx_insn_emulate(&insn, bits, &st.regs, run->mmio.gpa, &emu);
	if (ret == -EACCES) {
		/* The guest takes the #PF; the instruction did nothing. */
		if (use_sync) {
			ret = hvx_vcpu_get_state(vcpu, &st, HVX_STATE_EVENTS);
			if (ret)
				return ret;
		}
		st.events.flags |= HVX_EVENTS_EXCEPTION | HVX_EVENTS_EXC_ERRCODE;
		st.events.exception_vector = 14;
		st.events.exception_error_code = rc.fault_ec;
		st.cregs.cr2 = rc.fault_la;
		if (!use_sync)
			return hvx_vcpu_set_state(vcpu, &st, HVX_STATE_CREGS | HVX_STATE_EVENTS);
		run->sync_cregs = st.cregs;
		run->sync_dirty |= HVX_STATE_CREGS;
		return hvx_vcpu_set_state(vcpu, &st, HVX_STATE_EVENTS);
	}
	if (ret == -EOPNOTSUPP || (ret == -EFAULT && insn.op == HVX_OP_MOVS)) {
		format_failure(msg, msglen, run, bits, ret == -EFAULT ?
			       "MOVS whose other operand is not in guest RAM" :
			       "MOVS needs guest RAM (hvx_mmio_complete_ram())");
		return -EINVAL;
	}
	if (ret)
		return ret;
	if (!use_sync)
		return hvx_vcpu_set_state(vcpu, &st, HVX_STATE_REGS);
	/* The next HVX_RUN loads them: no ioctl here. */
	run->sync_regs = st.regs;
	run->sync_dirty |= HVX_STATE_REGS;
	return 0;
}

int hvx_mmio_complete(struct hvx_vcpu *vcpu, hvx_mmio_fn fn, void *opaque, char *msg,
		      size_t msglen)
{
	return mmio_complete(vcpu, fn, opaque, NULL, 0, msg, msglen);
}

int hvx_mmio_complete_ram(struct hvx_vcpu *vcpu, hvx_mmio_fn fn, void *opaque, void *mem,
			  __u64 mem_size, char *msg, size_t msglen)
{
	return mmio_complete(vcpu, fn, opaque, mem, mem_size, msg, msglen);
}
