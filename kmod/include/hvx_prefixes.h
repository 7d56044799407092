/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx: the prefixes of an x86 instruction (SDM vol. 2 §2.1, §2.2.1; APM
 * vol. 3 §1.2), decoded by one source built into both the kernel
 * (core/decode.c) and libhvx's MMIO decoder (userspace/lib/decode.c), as
 * bhyve builds its instruction emulation into both.  It only reads the
 * bytes it is given.  The includer defines HVX_SEG_ES..HVX_SEG_GS (0..5,
 * in the order of the segment registers).
 */
#ifndef HVX_PREFIXES_H
#define HVX_PREFIXES_H

#include <linux/types.h>
#ifndef __KERNEL__
#include <stdbool.h>
typedef __u8 u8;
#endif

struct hvx_prefixes {
	int seg;		/* segment override, HVX_SEG_*, or -1 */
	u8 asize;		/* address size in bytes: 2, 4 or 8 */
	u8 osize;		/* operand size in bytes but for REX.W: 2 or 4 */
	u8 rex;		/* REX if it is the last prefix, else 0 */
	u8 rep;		/* the last of 0xf2/0xf3, or 0 */
	bool lock;
	bool long64;		/* decoded as 64-bit code */
	unsigned int len;	/* bytes of prefixes: the opcode's index */
};

/* The segment a prefix byte overrides to, or -1. */
static inline int hvx_prefix_seg(u8 b)
{
	switch (b) {
	case 0x26:
		return HVX_SEG_ES;
	case 0x2e:
		return HVX_SEG_CS;
	case 0x36:
		return HVX_SEG_SS;
	case 0x3e:
		return HVX_SEG_DS;
	case 0x64:
		return HVX_SEG_FS;
	case 0x65:
		return HVX_SEG_GS;
	default:
		return -1;
	}
}

/*
 * The prefixes at the start of @b (@len bytes), for code of the given
 * mode: 64-bit (@long64), else 32-bit (@cs_db) or 16-bit.  REX counts
 * only in 64-bit code and only as the last prefix before the opcode;
 * repeated prefixes count once.  p->len == @len: no opcode among the
 * bytes.
 */
static inline void hvx_decode_prefixes(const u8 *b, unsigned int len, bool long64,
				       bool cs_db, struct hvx_prefixes *p)
{
	bool a67 = false, o66 = false;
	unsigned int i;
	int s;

	p->seg = -1;
	p->rex = 0;
	p->rep = 0;
	p->lock = false;
	p->long64 = long64;
	for (i = 0; i < len; i++) {
		if (long64 && (b[i] & 0xf0) == 0x40) {
			p->rex = b[i];
			continue;
		}
		s = hvx_prefix_seg(b[i]);
		if (s >= 0)
			p->seg = s;
		else if (b[i] == 0x67)
			a67 = true;
		else if (b[i] == 0x66)
			o66 = true;
		else if (b[i] == 0xf0)
			p->lock = true;
		else if (b[i] == 0xf2 || b[i] == 0xf3)
			p->rep = b[i];
		else
			break;
		/* A REX not right before the opcode is ignored. */
		p->rex = 0;
	}
	p->len = i;
	if (long64) {
		p->asize = a67 ? 4 : 8;
		p->osize = o66 ? 2 : 4;
	} else {
		p->asize = cs_db != a67 ? 4 : 2;
		p->osize = cs_db != o66 ? 4 : 2;
	}
}

#endif
