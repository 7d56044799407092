/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layout shared by pagestress_guest.S and pagestress_test.c.  Each vCPU
 * owns a region at PS_REGION(v) (R12 in the guest) holding:
 *
 *   +0x0     u64 #PF count, u64 last CR2, u64 shared reads checked,
 *            u64 iterations so far, u32 vCPU index (at +32)
 *   +0x40    u32 sel[PS_NR_AS]: the window's PDE: 0 PT A, 1 PT B, 2 not present
 *   +0x1000  u32 mirror[PS_NR_AS][2][PS_NR_SLOTS]: frame + 1 mapped, 0: none
 *   +0x10000 address space k at + k * 0x4000: PML4, PDPT, PD, PT A
 *   +0x50000 PT B of address space k at + k * 0x1000
 *   +0x80000 data frame f at + f * 0x1000, first word PS_TAG(v, f)
 *
 * Every address space maps guest-physical 0..4 GiB at linear 0 (the shared
 * identity map of libhvx) and PS_NR_SLOTS window pages at PS_WINDOW.
 */
#ifndef HVX_SELFTEST_PAGESTRESS_GUEST_H
#define HVX_SELFTEST_PAGESTRESS_GUEST_H

#define PS_REGION(v)	(0x100000 + (v) * 0x100000)
#define PS_NR_AS	16
#define PS_NR_SLOTS	32
#define PS_NR_FRAMES	64
#define PS_WINDOW	0x8000000000
#define PS_STOP_GPA	0x30000		/* the host writes 1 here to stop */

#define PS_SEL		0x40
#define PS_MIRROR	0x1000
#define PS_AS		0x10000
#define PS_PTB		0x50000
#define PS_FRAMES	0x80000

#define PS_TAG(v, f)	(0x7a000000 | ((v) << 16) | (f))

/*
 * Per vCPU, for the shared window: the state of its PS_SH_OWN slots (u32:
 * 0 free, 1 published, 2 retired) at +PS_STATE and, per retired slot, the
 * other vCPUs' CR3-load counts at its retirement (u64[PS_MAX_VCPUS]) at
 * +PS_SNAP.
 */
#define PS_STATE	0x2000
#define PS_SNAP		0x3000
#define PS_MAX_VCPUS	8

/*
 * Shared by all vCPUs: one PT mapped at PS_WINDOW2 in every address
 * space, whose slots v * PS_SH_OWN .. + PS_SH_OWN - 1 vCPU v alone changes
 * (publishing a frame in pub[], retiring it, reusing the slot once every
 * other vCPU has loaded CR3 since: a lazy TLB shootdown); all vCPUs read
 * through every slot.
 */
#define PS_SHARED	0x600000
#define PS_SH_PDPT	PS_SHARED
#define PS_SH_PD	(PS_SHARED + 0x1000)
#define PS_SH_PT	(PS_SHARED + 0x2000)
#define PS_PUB		(PS_SHARED + 0x3000)	/* u32[512]: frame + 1, 0: none */
#define PS_FLUSHES	(PS_SHARED + 0x3800)	/* u64[PS_MAX_VCPUS]: CR3 loads */
#define PS_NR_VCPUS	(PS_SHARED + 0x3900)	/* u32, written by the host */
#define PS_SH_FRAMES	(PS_SHARED + 0x10000)
#define PS_SH_OWN	64
#define PS_WINDOW2	0x10000000000
#define PS_SH_TAG(f)	(0x5b000000 | (f))

#endif /* HVX_SELFTEST_PAGESTRESS_GUEST_H */
