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

int hvx_insn_decode(const __u8 *bytes, unsigned int n, unsigned int bits,
		    struct hvx_insn *insn, const char **why)
{
	struct insn_cursor c = { .b = bytes, .n = n };
	unsigned int op_size, addr_size, imm_size = 0;
	int opsize_prefix = 0, addrsize_prefix = 0, modrm_reg = 0;
	__u8 rex = 0, op;

	*why = "unsupported instruction";
	memset(insn, 0, sizeof(*insn));
	if (bits != 16 && bits != 32 && bits != 64) {
		*why = "unknown CPU mode";
		return -EINVAL;
	}

	/* Legacy prefixes, then REX (64-bit mode only) right before the opcode. */
	for (;;) {
		if (next_byte(&c, &op))
			goto truncated;
		switch (op) {
		case 0x66:
			opsize_prefix = 1;
			rex = 0;	/* a REX not followed by the opcode is ignored */
			continue;
		case 0x67:
			addrsize_prefix = 1;
			rex = 0;
			continue;
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
		case 0xf0: case 0xf2: case 0xf3:
			rex = 0;
			continue;
		}
		if (bits == 64 && (op & 0xf0) == 0x40) {
			rex = op;
			continue;
		}
		break;
	}

	if (bits == 64)
		op_size = (rex & 0x08) ? 8 : opsize_prefix ? 2 : 4;
	else
		op_size = (bits == 16) ^ opsize_prefix ? 2 : 4;
	if (bits == 64)
		addr_size = addrsize_prefix ? 4 : 8;
	else
		addr_size = (bits == 16) ^ addrsize_prefix ? 2 : 4;

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
	case 0x0f:
		if (next_byte(&c, &op))
			goto truncated;
		if (op != 0xb6 && op != 0xb7 && op != 0xbe && op != 0xbf)
			return -EINVAL;
		/* MOVZX / MOVSX r, r/m8 or r/m16 */
		insn->size = (op & 1) ? 2 : 1;
		insn->dst_size = op_size;
		insn->dir = HVX_INSN_READ;
		insn->ext = (op & 8) ? HVX_INSN_EXT_SIGN : HVX_INSN_EXT_ZERO;
		if (decode_modrm(&c, addr_size, &modrm_reg, why))
			return -EINVAL;
		insn->reg = modrm_reg | ((rex & 0x04) << 1);
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

int hvx_insn_emulate(const struct hvx_insn *insn, unsigned int bits, struct hvx_regs *regs,
		     __u64 gpa, hvx_mmio_fn fn, void *opaque)
{
	__u8 data[8];
	unsigned int i;
	__u64 val;
	int ret;

	memset(data, 0, sizeof(data));
	if (insn->dir == HVX_INSN_WRITE) {
		val = read_source(regs, insn);
		for (i = 0; i < insn->size; i++)
			data[i] = val >> (8 * i);
		ret = fn(opaque, gpa, data, insn->size, 1);
		if (ret)
			return ret;
	} else {
		ret = fn(opaque, gpa, data, insn->size, 0);
		if (ret)
			return ret;
		val = 0;
		for (i = 0; i < insn->size; i++)
			val |= (__u64)data[i] << (8 * i);
		if (insn->ext == HVX_INSN_EXT_SIGN && (val >> (8 * insn->size - 1)) & 1)
			val |= ~0ULL << (8 * insn->size);
		write_gpr(regs, insn, val);
	}

	regs->rip += insn->len;
	if (bits == 16)
		regs->rip &= 0xffff;
	else if (bits == 32)
		regs->rip &= 0xffffffffULL;
	return 0;
}

int hvx_mmio_complete(struct hvx_vcpu *vcpu, hvx_mmio_fn fn, void *opaque, char *msg,
		      size_t msglen)
{
	const __u64 comps = HVX_STATE_REGS | HVX_STATE_SREGS | HVX_STATE_CREGS;
	struct hvx_run *run = vcpu->run;
	struct hvx_vcpu_state st;
	struct hvx_insn insn;
	unsigned int bits, n;
	const char *why;
	int ret;

	if (msg && msglen)
		msg[0] = '\0';
	memset(&st, 0, sizeof(st));
	ret = hvx_vcpu_get_state(vcpu, &st, comps);
	if (ret)
		return ret;
	bits = cpu_mode_bits(&st);

	n = run->mmio.insn_len;
	if (n > sizeof(run->mmio.insn))
		n = sizeof(run->mmio.insn);
	if (hvx_insn_decode(run->mmio.insn, n, bits, &insn, &why)) {
		format_failure(msg, msglen, run, bits, why);
		return -EINVAL;
	}
	ret = hvx_insn_emulate(&insn, bits, &st.regs, run->mmio.gpa, fn, opaque);
	if (ret)
		return ret;
	return hvx_vcpu_set_state(vcpu, &st, HVX_STATE_REGS);
}
