/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libhvx internal: x86 instruction decoder for the MMIO decode assist.
 * Not part of the public API; exposed for the unit tests.
 */
#ifndef LIBHVX_DECODE_H
#define LIBHVX_DECODE_H

#include <linux/types.h>

#include "libhvx.h"

#define HVX_INSN_MAX_LEN	15

enum hvx_insn_dir {
	HVX_INSN_READ,		/* memory -> register (the register is the destination) */
	HVX_INSN_WRITE,		/* register or immediate -> memory (memory is the destination) */
};

enum hvx_insn_ext {
	HVX_INSN_EXT_NONE,
	HVX_INSN_EXT_ZERO,	/* MOVZX */
	HVX_INSN_EXT_SIGN,	/* MOVSX */
};

enum hvx_insn_op {
	HVX_OP_MOV,		/* MOV, MOVZX, MOVSX */
	HVX_OP_ADD,
	HVX_OP_OR,
	HVX_OP_AND,
	HVX_OP_SUB,
	HVX_OP_XOR,
	HVX_OP_CMP,		/* SUB without the write-back */
	HVX_OP_TEST,		/* AND without the write-back */
	HVX_OP_XCHG,
	HVX_OP_BT,
	HVX_OP_BTS,
	HVX_OP_BTR,
	HVX_OP_BTC,
	HVX_OP_STOS,		/* string operations: one item per call */
	HVX_OP_LODS,
	HVX_OP_MOVS,
};

/* Segment register numbers, in x86 encoding order. */
enum hvx_seg { HVX_SEG_ES, HVX_SEG_CS, HVX_SEG_SS, HVX_SEG_DS, HVX_SEG_FS, HVX_SEG_GS };

struct hvx_insn {
	unsigned int len;	/* bytes, prefixes included */
	unsigned int size;	/* bytes of the memory access */
	unsigned int dst_size;	/* bytes of the register written (reads) */
	enum hvx_insn_dir dir;
	enum hvx_insn_ext ext;
	int reg;		/* register number 0..15 (x86 encoding order), -1: immediate */
	int high8;		/* reg 4..7 means AH, CH, DH, BH */
	__u64 imm;		/* source of an immediate write, already sign-extended */
	enum hvx_insn_op op;
	unsigned int addr_size;	/* bytes of an address: rSI/rDI/rCX width of string ops */
	int rep;		/* string op with an F3 or F2 prefix */
	enum hvx_seg seg;	/* segment of rSI for MOVS/LODS (DS unless overridden) */
};

/*
 * Decodes one instruction of at most n bytes for a CPU in `bits`-bit mode
 * (16, 32 or 64).  Returns 0, or -EINVAL with *why set to a short reason.
 */
int hvx_insn_decode(const __u8 *bytes, unsigned int n, unsigned int bits,
		    struct hvx_insn *insn, const char **why);

/* What an emulated access can reach. */
struct hvx_emu {
	hvx_mmio_fn mmio;	/* the device at the exit's gpa */
	void *opaque;
	/*
	 * MOVS only: the operand that is not at the exit's gpa, in guest RAM,
	 * by linear address.  NULL: MOVS is refused (-EOPNOTSUPP).  With
	 * data NULL it only checks that the access would succeed.
	 */
	int (*ram)(void *opaque, __u64 linear, void *data, unsigned int len, int is_write);
	void *ram_opaque;
	int is_write;		/* the exit's direction: which MOVS operand is at gpa */
	__u64 seg_base[6];	/* by enum hvx_seg, for the linear addresses of MOVS */
};

/*
 * Performs a decoded access at gpa and applies it to regs: the register
 * written (8/16-bit writes merge, 32-bit writes zero-extend, MOVZX/MOVSX
 * extend), the arithmetic flags of ALU, TEST and BT-family instructions
 * (SDM vol. 1 §3.4.3.1), rSI/rDI/rCX of string instructions (one item; a
 * REP with a count left keeps RIP on the instruction, which runs again),
 * and RIP += len wrapped to the mode's width.  Returns 0, or the error of
 * an access (regs are then unchanged).
 */
int hvx_insn_emulate(const struct hvx_insn *insn, unsigned int bits, struct hvx_regs *regs,
		     __u64 gpa, const struct hvx_emu *emu);

/*
 * Linear address la to guest-physical *gpa through the guest page tables
 * in mem (mem_size bytes of guest RAM at 0) that cregs select: none
 * (paging off), 32-bit, PAE or 4-level, with large pages.  Checks presence
 * only.  -EFAULT for a missing mapping or a table outside mem, -EOPNOTSUPP
 * for 5-level paging.
 */
#define HVX_ACCESS_WRITE	1U	/* a store */
#define HVX_ACCESS_USER		2U	/* at CPL 3 */
#define HVX_ACCESS_AC		4U	/* EFLAGS.AC set (SMAP lets CPL < 3 at user pages) */

/*
 * hvx_guest_translate() for an access (HVX_ACCESS_*), with its rights
 * checked: U/S, R/W with CR0.WP, SMAP.  -EACCES with the #PF error code
 * in *pf_ec (may be NULL) when the guest would take a page fault,
 * missing mappings included.
 */
int hvx_guest_translate_access(void *mem, __u64 mem_size, const struct hvx_cregs *cregs,
			       __u64 la, unsigned int access, __u64 *gpa, __u32 *pf_ec);

int hvx_guest_translate(void *mem, __u64 mem_size, const struct hvx_cregs *cregs, __u64 la,
			__u64 *gpa);

#endif /* LIBHVX_DECODE_H */
