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
	HVX_INSN_READ,		/* memory -> register */
	HVX_INSN_WRITE,		/* register or immediate -> memory */
};

enum hvx_insn_ext {
	HVX_INSN_EXT_NONE,
	HVX_INSN_EXT_ZERO,	/* MOVZX */
	HVX_INSN_EXT_SIGN,	/* MOVSX */
};

struct hvx_insn {
	unsigned int len;	/* bytes, prefixes included */
	unsigned int size;	/* bytes of the memory access */
	unsigned int dst_size;	/* bytes of the register written (reads) */
	enum hvx_insn_dir dir;
	enum hvx_insn_ext ext;
	int reg;		/* register number 0..15 (x86 encoding order), -1: immediate */
	int high8;		/* reg 4..7 means AH, CH, DH, BH */
	__u64 imm;		/* source of an immediate write, already sign-extended */
};

/*
 * Decodes one instruction of at most n bytes for a CPU in `bits`-bit mode
 * (16, 32 or 64).  Returns 0, or -EINVAL with *why set to a short reason.
 */
int hvx_insn_decode(const __u8 *bytes, unsigned int n, unsigned int bits,
		    struct hvx_insn *insn, const char **why);

/*
 * Performs a decoded access at gpa through fn and applies it to regs: the
 * destination register of a read (8/16-bit writes merge, 32-bit writes
 * zero-extend, MOVZX/MOVSX extend) and RIP += len, wrapped to the mode's
 * width.  Returns 0, or fn's error with regs unchanged.
 */
int hvx_insn_emulate(const struct hvx_insn *insn, unsigned int bits, struct hvx_regs *regs,
		     __u64 gpa, hvx_mmio_fn fn, void *opaque);

#endif /* LIBHVX_DECODE_H */
