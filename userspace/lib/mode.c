// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libhvx: guest entry-mode setup (real, 32-bit protected, 64-bit long mode).
 * The layout of the tables is described in libhvx.h.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "libhvx.h"

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define CR4_OSFXSR	(1ULL << 9)
#define CR4_OSXMMEXCPT	(1ULL << 10)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_US		(1ULL << 2)
#define PTE_PS		(1ULL << 7)

#define SEG_TYPE_DATA_RW_A	0x3
#define SEG_TYPE_CODE_RX_A	0xb
#define SEG_TYPE_TSS_BUSY	0xb

/* Raw descriptor for the GDT (SDM vol. 3 §3.4.5). */
static __u64 gdt_entry(const struct hvx_segment *s)
{
	__u32 limit = s->g ? s->limit >> 12 : s->limit;

	return (__u64)(limit & 0xffff) |
	       ((s->base & 0xffffffULL) << 16) |
	       ((__u64)(s->type & 0xf) << 40) |
	       ((__u64)(s->s & 1) << 44) |
	       ((__u64)(s->dpl & 3) << 45) |
	       ((__u64)(s->present & 1) << 47) |
	       ((__u64)((limit >> 16) & 0xf) << 48) |
	       ((__u64)(s->avl & 1) << 52) |
	       ((__u64)(s->l & 1) << 53) |
	       ((__u64)(s->db & 1) << 54) |
	       ((__u64)(s->g & 1) << 55) |
	       (((s->base >> 24) & 0xffULL) << 56);
}

static struct hvx_segment flat_segment(__u16 sel, __u8 type, int l, int db)
{
	return (struct hvx_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.s = 1,
		.l = l,
		.db = db,
		.g = 1,
	};
}

static struct hvx_segment real_segment(__u16 sel, __u8 type)
{
	return (struct hvx_segment){
		.base = (__u64)sel << 4,
		.limit = 0xffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.s = 1,
	};
}

static void write_u64(void *mem, __u64 gpa, __u64 val)
{
	memcpy((char *)mem + gpa, &val, sizeof(val));
}

static void build_gdt(void *mem, struct hvx_segment *tr)
{
	struct hvx_segment code64 = flat_segment(HVX_SEL_CODE64, SEG_TYPE_CODE_RX_A, 1, 0);
	struct hvx_segment code32 = flat_segment(HVX_SEL_CODE32, SEG_TYPE_CODE_RX_A, 0, 1);
	struct hvx_segment data = flat_segment(HVX_SEL_DATA, SEG_TYPE_DATA_RW_A, 0, 1);

	*tr = (struct hvx_segment){
		.base = HVX_LAYOUT_TSS,
		.limit = 0x67,
		.selector = HVX_SEL_TSS,
		.type = SEG_TYPE_TSS_BUSY,
		.present = 1,
	};
	memset((char *)mem + HVX_LAYOUT_GDT, 0, HVX_LAYOUT_PML4 - HVX_LAYOUT_GDT);
	write_u64(mem, HVX_LAYOUT_GDT + HVX_SEL_CODE64, gdt_entry(&code64));
	write_u64(mem, HVX_LAYOUT_GDT + HVX_SEL_CODE32, gdt_entry(&code32));
	write_u64(mem, HVX_LAYOUT_GDT + HVX_SEL_DATA, gdt_entry(&data));
	/* A 64-bit TSS descriptor takes two slots; the upper one holds base[63:32] = 0. */
	write_u64(mem, HVX_LAYOUT_GDT + HVX_SEL_TSS, gdt_entry(tr));
	write_u64(mem, HVX_LAYOUT_GDT + HVX_SEL_TSS + 8, 0);
}

static void build_page_tables(void *mem)
{
	__u64 i;

	memset((char *)mem + HVX_LAYOUT_PML4, 0, HVX_LAYOUT_END - HVX_LAYOUT_PML4);
	write_u64(mem, HVX_LAYOUT_PML4, HVX_LAYOUT_PDPT | PTE_P | PTE_RW | PTE_US);
	for (i = 0; i < 4; i++)
		write_u64(mem, HVX_LAYOUT_PDPT + i * 8,
			  (HVX_LAYOUT_PD + i * 0x1000) | PTE_P | PTE_RW | PTE_US);
	for (i = 0; i < 4 * 512; i++)
		write_u64(mem, HVX_LAYOUT_PD + i * 8,
			  (i << 21) | PTE_P | PTE_RW | PTE_US | PTE_PS);
}

static void set_data_segments(struct hvx_sregs *s, const struct hvx_segment *seg)
{
	s->ds = *seg;
	s->es = *seg;
	s->fs = *seg;
	s->gs = *seg;
	s->ss = *seg;
}

static int prepare_real(__u64 entry, __u64 stack, struct hvx_vcpu_state *st)
{
	__u16 sel = (entry >> 4) & 0xf000;
	struct hvx_segment data = real_segment(sel, SEG_TYPE_DATA_RW_A);

	if (entry >= 0x100000 || stack >= 0x100000)
		return -EINVAL;
	st->sregs.cs = real_segment(sel, SEG_TYPE_CODE_RX_A);
	set_data_segments(&st->sregs, &data);
	if (stack) {
		st->sregs.ss = real_segment((stack >> 4) & 0xf000, SEG_TYPE_DATA_RW_A);
		st->regs.rsp = stack & 0xffff;
	}
	st->sregs.idt = (struct hvx_dtable){ .base = 0, .limit = 0x3ff };
	st->regs.rip = entry & 0xffff;
	st->cregs.cr0 &= ~(CR0_PE | CR0_PG);
	st->cregs.cr4 = 0;
	st->cregs.efer = 0;
	return 0;
}

static int prepare_protected(void *mem, __u64 mem_size, enum hvx_mode mode, __u64 entry,
			     __u64 stack, struct hvx_vcpu_state *st)
{
	struct hvx_segment data = flat_segment(HVX_SEL_DATA, SEG_TYPE_DATA_RW_A, 0, 1);
	int lm = mode == HVX_MODE_LONG;

	if (mem_size < HVX_LAYOUT_END || entry >= (1ULL << 32) || (!lm && stack > (1ULL << 32)))
		return -EINVAL;

	build_gdt(mem, &st->sregs.tr);
	st->sregs.gdt = (struct hvx_dtable){
		.base = HVX_LAYOUT_GDT,
		.limit = HVX_SEL_TSS + 16 - 1,
	};
	st->sregs.idt = (struct hvx_dtable){ .base = 0, .limit = 0 };
	set_data_segments(&st->sregs, &data);
	st->cregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE;
	st->cregs.cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT;
	st->cregs.efer = 0;

	if (lm) {
		build_page_tables(mem);
		st->sregs.cs = flat_segment(HVX_SEL_CODE64, SEG_TYPE_CODE_RX_A, 1, 0);
		st->cregs.cr0 |= CR0_WP | CR0_PG;
		st->cregs.cr3 = HVX_LAYOUT_PML4;
		st->cregs.cr4 |= CR4_PAE;
		st->cregs.efer = EFER_LME | EFER_LMA;
	} else {
		st->sregs.cs = flat_segment(HVX_SEL_CODE32, SEG_TYPE_CODE_RX_A, 0, 1);
	}
	st->regs.rip = entry;
	if (stack)
		st->regs.rsp = stack;
	return 0;
}

int hvx_mode_prepare(void *mem, __u64 mem_size, enum hvx_mode mode, __u64 entry, __u64 stack,
		     struct hvx_vcpu_state *st)
{
	int ret;

	switch (mode) {
	case HVX_MODE_REAL:
		ret = prepare_real(entry, stack, st);
		break;
	case HVX_MODE_PROT32:
	case HVX_MODE_LONG:
		ret = prepare_protected(mem, mem_size, mode, entry, stack, st);
		break;
	default:
		return -EINVAL;
	}
	if (ret)
		return ret;
	/* Bit 1 is reserved and reads as 1; IF clear: nothing to deliver yet. */
	st->regs.rflags = 0x2;
	return 0;
}

int hvx_setup_mode(struct hvx_vcpu *vcpu, void *mem, __u64 mem_size, enum hvx_mode mode,
		   __u64 entry, __u64 stack)
{
	const __u64 comps = HVX_STATE_REGS | HVX_STATE_SREGS | HVX_STATE_CREGS;
	struct hvx_vcpu_state st;
	int ret;

	memset(&st, 0, sizeof(st));
	ret = hvx_vcpu_get_state(vcpu, &st, comps);
	if (ret)
		return ret;
	ret = hvx_mode_prepare(mem, mem_size, mode, entry, stack, &st);
	if (ret)
		return ret;
	return hvx_vcpu_set_state(vcpu, &st, comps);
}
