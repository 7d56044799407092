// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: the kernel's one instruction decoder, for the few instructions an
 * exit does not describe: the prefixes of any instruction (segment
 * override, address size, LOCK, REX), which string I/O needs on both
 * vendors, and the 0f-opcode instructions with a ModRM operand that SVM
 * intercepts without decode assists (0f 20/22 MOV from/to CR, 0f 06
 * CLTS, 0f 01 /4 SMSW, /6 LMSW, /7 INVLPG; 0f 08/09 INVD, WBINVD for
 * their length), and the MOVs a guest reaches its xAPIC page with.
 * Everything else is decoded in userspace (libhvx, for MMIO).  What is
 * read may not be what the CPU ran (another vCPU or a device rewrote it,
 * or the guest's page tables changed since the CPU fetched it): callers
 * check that the decoded instruction is one that makes the exit that
 * happened.
 */
#include <linux/kernel.h>
#include <asm/processor-flags.h>
#include <asm/msr-index.h>

#include "hvx_core.h"

/* The mode of the guest's code: 64-bit, and CS.D. */
static void hvx_code_mode(struct hvx_vcpu *vcpu, bool *long64, bool *cs_db)
{
	struct hvx_segment cs;
	struct hvx_paging pg;

	hvx_ops->get_segment(vcpu, HVX_SEG_CS, &cs);
	hvx_ops->get_paging(vcpu, &pg);
	*long64 = (pg.efer & EFER_LMA) && cs.l;
	*cs_db = cs.db;
}

/*
 * Fetches the instruction at CS:@rip and decodes its prefixes: 0 with
 * the bytes in @b (*@len of them, at most 15), 1 with *@f if the guest may
 * not fetch it now, -EFAULT if it is not in RAM.
 */
int hvx_fetch_prefixes(struct hvx_vcpu *vcpu, u64 rip, u8 *b, unsigned int *len,
		       struct hvx_prefixes *p, struct hvx_fault *f)
{
	bool long64, cs_db;
	u64 bad;
	int ret;

	*len = 15;
	ret = hvx_fetch_insn(vcpu, hvx_seg_linear(vcpu, HVX_SEG_CS, rip), b, len, &bad, f);
	if (ret)
		return ret;
	hvx_code_mode(vcpu, &long64, &cs_db);
	hvx_decode_prefixes(b, *len, long64, cs_db, p);
	return 0;
}

/*
 * Takes the next @n bytes of the fetched instruction as a little-endian
 * signed value, or fails if fewer than @n of them were fetched: a
 * truncated fetch (the next page unmapped) or a run of prefixes must not
 * make the decoder read past what it has.
 */
static bool hvx_take(const u8 *b, unsigned int len, unsigned int *i, unsigned int n,
		     s64 *val)
{
	u64 v = 0;
	unsigned int k;

	if (n > len || *i > len - n)
		return false;
	for (k = 0; k < n; k++)
		v |= (u64)b[*i + k] << (8 * k);
	*i += n;
	*val = n == 1 ? (s8)v : n == 2 ? (s16)v : (s32)v;
	return true;
}

/* A 16-bit ModRM memory operand (SDM vol. 2 table 2-1). */
static bool hvx_modrm16(struct hvx_vcpu *vcpu, const u8 *b, unsigned int len,
			unsigned int *i, u8 modrm, int *seg, u64 *ea)
{
	static const u8 base16[8][2] = {
		{ HVX_RBX, HVX_RSI }, { HVX_RBX, HVX_RDI }, { HVX_RBP, HVX_RSI },
		{ HVX_RBP, HVX_RDI }, { HVX_RSI, 16 }, { HVX_RDI, 16 }, { HVX_RBP, 16 },
		{ HVX_RBX, 16 },
	};
	const u8 *r = base16[modrm & 7];
	u8 mod = modrm >> 6;
	s64 disp = 0;

	*ea = 0;
	if (mod == 0 && (modrm & 7) == 6) {
		if (!hvx_take(b, len, i, 2, &disp))
			return false;
	} else {
		*ea = vcpu->regs[r[0]] + (r[1] < 16 ? vcpu->regs[r[1]] : 0);
		if (r[0] == HVX_RBP && *seg < 0)
			*seg = HVX_SEG_SS;
	}
	if ((mod == 1 || mod == 2) && !hvx_take(b, len, i, mod == 1 ? 1 : 2, &disp))
		return false;
	*ea = (*ea + disp) & 0xffff;
	return true;
}

/* A 32- or 64-bit ModRM memory operand, with SIB and RIP-relative forms. */
static bool hvx_modrm32(struct hvx_vcpu *vcpu, const u8 *b, unsigned int len,
			unsigned int *i, u8 modrm, u8 rex, bool long64, int *seg, u64 *ea)
{
	u8 mod = modrm >> 6, base = modrm & 7;
	bool rip_rel = false;
	s64 disp = 0, v;

	*ea = 0;
	if (base == 4) {
		u8 sib, index;

		if (!hvx_take(b, len, i, 1, &v))
			return false;
		sib = v;
		index = ((sib >> 3) & 7) | (rex & 2 ? 8 : 0);
		base = (sib & 7) | (rex & 1 ? 8 : 0);
		if (index != 4)
			*ea = vcpu->regs[index] << (sib >> 6);
		if ((base & 7) == 5 && mod == 0) {
			if (!hvx_take(b, len, i, 4, &disp))
				return false;
		} else {
			*ea += vcpu->regs[base];
		}
	} else if (base == 5 && mod == 0) {
		if (!hvx_take(b, len, i, 4, &disp))
			return false;
		rip_rel = long64;
	} else {
		base |= rex & 1 ? 8 : 0;
		*ea = vcpu->regs[base];
	}
	if (((base & 7) == 4 || ((base & 7) == 5 && mod != 0)) && *seg < 0)
		*seg = HVX_SEG_SS;
	if ((mod == 1 || mod == 2) && !hvx_take(b, len, i, mod == 1 ? 1 : 4, &disp))
		return false;
	*ea += disp;
	if (rip_rel)
		*ea += vcpu->rip + *i;
	return true;
}

/* The memory operand of ModRM @modrm, whose bytes follow at @i. */
static bool hvx_decode_ea(struct hvx_vcpu *vcpu, const u8 *b, unsigned int len,
			  unsigned int *i, u8 modrm, const struct hvx_prefixes *p,
			  struct hvx_insn *in)
{
	u64 ea = 0;

	in->seg = p->seg;
	if (p->asize == 2) {
		if (!hvx_modrm16(vcpu, b, len, i, modrm, &in->seg, &ea))
			return false;
	} else {
		if (!hvx_modrm32(vcpu, b, len, i, modrm, p->rex, p->long64, &in->seg, &ea))
			return false;
		if (p->asize == 4)
			ea = (u32)ea;
	}
	if (in->seg < 0)
		in->seg = HVX_SEG_DS;
	in->ea = ea;
	return true;
}

/*
 * Decodes the 0f-opcode instruction at RIP and its ModRM operand: 0,
 * -EINVAL if it is not one (or was not fetched whole), 1 with *@f if the
 * guest may not fetch it now, -EFAULT if not RAM.
 */
int hvx_decode_0f(struct hvx_vcpu *vcpu, struct hvx_insn *in, struct hvx_fault *f)
{
	struct hvx_prefixes p;
	unsigned int len, i;
	u8 b[15], modrm;
	int ret;
	s64 v;

	ret = hvx_fetch_prefixes(vcpu, vcpu->rip, b, &len, &p, f);
	if (ret)
		return ret;
	i = p.len;
	/* 0f, the opcode and (but for CLTS) ModRM: each must have been fetched. */
	if (!hvx_take(b, len, &i, 1, &v) || (u8)v != 0x0f || !hvx_take(b, len, &i, 1, &v))
		return -EINVAL;
	in->op = v;
	if (in->op == 0x06) {
		in->len = i;
		return 0;
	}
	if (!hvx_take(b, len, &i, 1, &v))
		return -EINVAL;
	modrm = v;
	in->reg = ((modrm >> 3) & 7) | (p.rex & 4 ? 8 : 0);
	in->rm = (modrm & 7) | (p.rex & 1 ? 8 : 0);
	in->mem = (modrm >> 6) != 3;
	if (in->op == 0x20 || in->op == 0x22) {
		/*
		 * MOV CR ignores mod: the operand is always a register (SDM
		 * vol. 2 MOV--Move to/from Control Registers); LOCK selects
		 * CR8 on AMD (APM vol. 3 MOV CRn).
		 */
		in->mem = false;
		if (p.lock)
			in->reg |= 8;
	}
	if (in->mem && !hvx_decode_ea(vcpu, b, len, &i, modrm, &p, in))
		return -EINVAL;
	in->len = i;
	return 0;
}

/*
 * Decodes the MOV at RIP that accessed the xAPIC page: 89 (store of a
 * register), 8b (load into one) or c7 /0 (store of an immediate), with a
 * memory operand.  @in->op is the opcode, @in->reg the register, @in->size
 * the operand size (2, 4 or 8).  Returns as hvx_decode_0f() does; -EINVAL
 * for any other instruction.
 */
int hvx_decode_mov(struct hvx_vcpu *vcpu, struct hvx_insn *in, struct hvx_fault *f)
{
	struct hvx_prefixes p;
	unsigned int len, i;
	u8 b[15], modrm;
	int ret;
	s64 v;

	ret = hvx_fetch_prefixes(vcpu, vcpu->rip, b, &len, &p, f);
	if (ret)
		return ret;
	i = p.len;
	if (!hvx_take(b, len, &i, 1, &v))
		return -EINVAL;
	in->op = v;
	if ((in->op != 0x89 && in->op != 0x8b && in->op != 0xc7) ||
	    !hvx_take(b, len, &i, 1, &v))
		return -EINVAL;
	modrm = v;
	in->reg = ((modrm >> 3) & 7) | (p.rex & 4 ? 8 : 0);
	in->mem = (modrm >> 6) != 3;
	in->size = p.rex & 8 ? 8 : p.osize;
	if (!in->mem || (in->op == 0xc7 && (modrm & 0x38)) ||
	    !hvx_decode_ea(vcpu, b, len, &i, modrm, &p, in))
		return -EINVAL;
	if (in->op == 0xc7) {
		if (!hvx_take(b, len, &i, in->size == 2 ? 2 : 4, &v))
			return -EINVAL;
		in->imm = v;
	}
	in->len = i;
	return 0;
}
