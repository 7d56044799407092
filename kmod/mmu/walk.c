// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: the guest page-table walker and the accesses hvx makes on the
 * guest's behalf.  An emulated instruction (string I/O, SMSW and LMSW
 * with a memory operand, the fetch of an instruction to decode) accesses
 * memory as the instruction would have: through the segment (limit,
 * type; SDM vol. 3A §5.3), then the guest's paging mode (none, 32-bit
 * with 4 MiB pages, PAE, 4- or 5-level; SDM vol. 3A ch. 4, APM vol. 2
 * ch. 5) with the rights of the instruction's CPL (U/S, R/W with CR0.WP,
 * NX, SMEP, SMAP with EFLAGS.AC, protection keys, reserved bits).  The
 * hardware did not check them: an intercept comes before the memory
 * access's exceptions (APM vol. 2 §15.7.1; SDM vol. 3C §26.1.1 for
 * INS/OUTS), and the guest's tables may have changed since the CPU
 * fetched the instruction.  A refused access is not made: the caller
 * gets the exception the CPU would have raised.
 */
#include <linux/kernel.h>
#include <asm/processor-flags.h>
#include <asm/msr-index.h>
#include <asm/cpufeature.h>
#include <asm/trapnr.h>

#include "hvx_core.h"

#define PTE_P		BIT_ULL(0)
#define PTE_RW		BIT_ULL(1)
#define PTE_US		BIT_ULL(2)
#define PTE_PS		BIT_ULL(7)
#define PTE_PKEY_SHIFT	59
#define PTE_NX		BIT_ULL(63)
#define PAE_ADDR	GENMASK_ULL(51, 12)

/* Segment types (SDM vol. 3A §3.4.5.1): the bits an access checks. */
#define SEG_TYPE_CODE	BIT(3)
#define SEG_TYPE_DOWN	BIT(2)		/* data: expand-down */
#define SEG_TYPE_RW	BIT(1)		/* data: writable; code: readable */

/* What the walk found for one linear address. */
struct walk_result {
	u64 gpa;
	bool rw, us, nx;
	u32 pkey;
};

static int walk_read(struct hvx_vcpu *vcpu, u64 gpa, u64 *e, unsigned int size)
{
	*e = 0;
	return hvx_read_gpa(vcpu->vm, gpa, e, size) ? -EFAULT : 0;
}

/*
 * The reserved bits of an 8-byte entry at @level (SDM vol. 3A §4.4.2,
 * §4.5.4): address bits beyond MAXPHYADDR, NX without EFER.NXE, PS where
 * no large page exists, the low address bits of a large page.
 */
static u64 walk_rsvd(const struct hvx_paging *pg, int level, bool four_level, u64 e)
{
	u64 rsvd = GENMASK_ULL(51, boot_cpu_data.x86_phys_bits);

	if (!(pg->efer & EFER_NX))
		rsvd |= PTE_NX;
	if (level >= 4 || (level == 3 && !four_level))
		rsvd |= PTE_PS;
	if (level == 3 && four_level && (e & PTE_PS))
		rsvd |= boot_cpu_has(X86_FEATURE_GBPAGES) ? GENMASK_ULL(29, 13) : PTE_PS;
	if (level == 2 && (e & PTE_PS))
		rsvd |= GENMASK_ULL(20, 13);
	return rsvd;
}

static void walk_use(struct walk_result *w, const struct hvx_paging *pg, u64 e)
{
	w->rw &= !!(e & PTE_RW);
	w->us &= !!(e & PTE_US);
	if (pg->efer & EFER_NX)
		w->nx |= !!(e & PTE_NX);
}

/*
 * Walks the guest's tables for @gva: 0 with @w filled; one plus the #PF
 * error bits of the failed walk (0 not present, P and RSVD for a reserved
 * bit); -EFAULT if a table is not guest RAM.
 */
static int walk(struct hvx_vcpu *vcpu, const struct hvx_paging *pg, u64 gva,
		struct walk_result *w)
{
	bool four_level = pg->efer & EFER_LMA;
	int level, levels;
	u64 e, table;

	memset(w, 0, sizeof(*w));
	w->rw = true;
	w->us = true;
	if (!(pg->cr0 & X86_CR0_PG)) {
		w->gpa = four_level ? gva : (u32)gva;
		return 0;
	}

	if (!(pg->cr4 & X86_CR4_PAE)) {
		/* 32-bit paging: two levels of 4-byte entries, no NX. */
		gva = (u32)gva;
		if (walk_read(vcpu, (pg->cr3 & 0xfffff000) + (gva >> 22) * 4, &e, 4))
			return -EFAULT;
		if (!(e & PTE_P))
			return 1;
		walk_use(w, pg, e);
		if ((e & PTE_PS) && (pg->cr4 & X86_CR4_PSE)) {
			/* 4 MiB page; bits 20:13 of the PDE give PA bits 39:32. */
			w->gpa = (e & 0xffc00000) | ((e & 0x1fe000) << 19) | (gva & 0x3fffff);
			return 0;
		}
		if (walk_read(vcpu, (e & 0xfffff000) + ((gva >> 12) & 0x3ff) * 4, &e, 4))
			return -EFAULT;
		if (!(e & PTE_P))
			return 1;
		walk_use(w, pg, e);
		w->gpa = (e & 0xfffff000) | (gva & 0xfff);
		return 0;
	}

	if (four_level) {
		levels = (pg->cr4 & X86_CR4_LA57) ? 5 : 4;
		table = pg->cr3 & PAE_ADDR;
	} else {
		/* PAE: the four PDPTEs sit at CR3 bits 31:5 and hold no rights. */
		gva = (u32)gva;
		if (walk_read(vcpu, (pg->cr3 & 0xffffffe0) + (gva >> 30) * 8, &e, 8))
			return -EFAULT;
		if (!(e & PTE_P))
			return 1;
		if (e & (GENMASK_ULL(51, boot_cpu_data.x86_phys_bits) | GENMASK_ULL(8, 5) |
			 GENMASK_ULL(2, 1) | PTE_NX))
			return 1 + (HVX_PF_P | HVX_PF_RSVD);
		levels = 2;
		table = e & PAE_ADDR;
	}
	for (level = levels; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);

		if (walk_read(vcpu, table + ((gva >> shift) & 511) * 8, &e, 8))
			return -EFAULT;
		if (!(e & PTE_P))
			return 1;
		if (e & walk_rsvd(pg, level, four_level, e))
			return 1 + (HVX_PF_P | HVX_PF_RSVD);
		walk_use(w, pg, e);
		if (level == 1 || ((e & PTE_PS) && level <= 3)) {
			u64 off = gva & ((1ULL << shift) - 1);

			/* Large pages: bit 12 is PAT, not address. */
			w->gpa = ((e & PAE_ADDR) & ~((1ULL << shift) - 1)) | off;
			if (four_level && (pg->cr4 & X86_CR4_PKE))
				w->pkey = (e >> PTE_PKEY_SHIFT) & 15;
			return 0;
		}
		table = e & PAE_ADDR;
	}
	return 1;
}

/*
 * The rights check of a translation (SDM vol. 3A §4.6): 0 if @access
 * (HVX_PF_W, HVX_PF_U, HVX_PF_I) is allowed, else the error code bits of
 * the refusal (P, and PK for a protection key).
 */
static u32 walk_check(struct hvx_vcpu *vcpu, const struct hvx_paging *pg,
		      const struct walk_result *w, u32 access)
{
	bool user = access & HVX_PF_U, write = access & HVX_PF_W;
	bool fetch = access & HVX_PF_I;
	u32 pkru;

	if (fetch && w->nx)
		return HVX_PF_P;
	if (user) {
		if (!w->us || (write && !w->rw))
			return HVX_PF_P;
	} else {
		if (write && !w->rw && (pg->cr0 & X86_CR0_WP))
			return HVX_PF_P;
		if (fetch && w->us && (pg->cr4 & X86_CR4_SMEP))
			return HVX_PF_P;
		if (!fetch && w->us && (pg->cr4 & X86_CR4_SMAP) &&
		    !(vcpu->rflags & X86_EFLAGS_AC))
			return HVX_PF_P;
	}
	/* Protection keys bind data accesses to user pages (SDM vol. 3A §4.6.2). */
	if (!fetch && w->us && (pg->cr4 & X86_CR4_PKE) && (pg->efer & EFER_LMA)) {
		pkru = vcpu->pkru >> (2 * w->pkey);
		if ((pkru & 1) || (write && (pkru & 2) && (user || (pg->cr0 & X86_CR0_WP))))
			return HVX_PF_P | HVX_PF_PK;
	}
	return 0;
}

/* A #PF at @gva for @access, of kind @kind (0 or HVX_PF_P, HVX_PF_RSVD, ...). */
static int walk_fault(const struct hvx_paging *pg, u64 gva, u32 access, u32 kind,
		      struct hvx_fault *f)
{
	u32 ec = kind | (access & (HVX_PF_W | HVX_PF_U));
	/* I is reported only where NX or SMEP can refuse a fetch (SDM vol. 3A §4.7). */
	bool nx = (pg->cr4 & X86_CR4_PAE) && (pg->efer & EFER_NX);

	if ((access & HVX_PF_I) && (nx || (pg->cr4 & X86_CR4_SMEP)))
		ec |= HVX_PF_I;
	f->vector = X86_TRAP_PF;
	f->error_code = ec;
	f->cr2 = (pg->efer & EFER_LMA) ? gva : (u32)gva;
	return 1;
}

/* The CPL of the instruction that exited (SDM vol. 3A §5.5). */
u8 hvx_guest_cpl(struct hvx_vcpu *vcpu)
{
	struct hvx_segment ss;
	struct hvx_paging pg;

	hvx_ops->get_paging(vcpu, &pg);
	if (!(pg.cr0 & X86_CR0_PE))
		return 0;
	if (vcpu->rflags & X86_EFLAGS_VM)
		return 3;
	hvx_ops->get_segment(vcpu, HVX_SEG_SS, &ss);
	return ss.dpl;
}

/*
 * Translates @gva for @access (HVX_PF_W, HVX_PF_I; HVX_PF_U is added at
 * CPL 3): 0 with *gpa, 1 with the guest's #PF in *f, -EFAULT if a
 * page-table page is not guest RAM.
 */
int hvx_gva_to_gpa(struct hvx_vcpu *vcpu, u64 gva, u32 access, u64 *gpa,
		   struct hvx_fault *f)
{
	struct walk_result w;
	struct hvx_paging pg;
	u32 refused;
	int ret;

	hvx_ops->get_paging(vcpu, &pg);
	access &= HVX_PF_W | HVX_PF_I;
	if (hvx_guest_cpl(vcpu) == 3)
		access |= HVX_PF_U;
	ret = walk(vcpu, &pg, gva, &w);
	if (ret < 0)
		return ret;
	if (ret)
		return walk_fault(&pg, gva, access, ret - 1, f);
	refused = walk_check(vcpu, &pg, &w, access);
	if (refused)
		return walk_fault(&pg, gva, access, refused, f);
	*gpa = w.gpa;
	return 0;
}

/*
 * Copies guest-linear memory through the guest's paging with the rights
 * of the current CPL.  Every page is checked before any byte moves: a
 * faulting access changes nothing.  0, 1 with the guest's fault in *f,
 * or -EFAULT if the memory is not guest RAM.
 */
static int hvx_access_gva(struct hvx_vcpu *vcpu, u64 gva, void *buf, unsigned int len,
			  u32 access, struct hvx_fault *f)
{
	unsigned int first = min_t(u64, len, PAGE_SIZE - (gva & ~PAGE_MASK));
	bool write = access & HVX_PF_W;
	u64 gpa[2];
	int ret;

	if (WARN_ON_ONCE(len > PAGE_SIZE))
		return -EINVAL;
	ret = hvx_gva_to_gpa(vcpu, gva, access, &gpa[0], f);
	if (!ret && first < len)
		ret = hvx_gva_to_gpa(vcpu, gva + first, access, &gpa[1], f);
	if (ret)
		return ret;
	ret = write ? hvx_write_gpa(vcpu->vm, gpa[0], buf, first) :
		      hvx_read_gpa(vcpu->vm, gpa[0], buf, first);
	if (!ret && first < len)
		ret = write ? hvx_write_gpa(vcpu->vm, gpa[1], buf + first, len - first) :
			      hvx_read_gpa(vcpu->vm, gpa[1], buf + first, len - first);
	return ret ? -EFAULT : 0;
}

int hvx_read_gva(struct hvx_vcpu *vcpu, u64 gva, void *buf, unsigned int len,
		 struct hvx_fault *f)
{
	return hvx_access_gva(vcpu, gva, buf, len, 0, f);
}

int hvx_write_gva(struct hvx_vcpu *vcpu, u64 gva, const void *buf, unsigned int len,
		  struct hvx_fault *f)
{
	return hvx_access_gva(vcpu, gva, (void *)buf, len, HVX_PF_W, f);
}

static int seg_fault(int seg, struct hvx_fault *f)
{
	f->vector = seg == HVX_SEG_SS ? X86_TRAP_SS : X86_TRAP_GP;
	f->error_code = 0;
	f->cr2 = 0;
	return 1;
}

/*
 * The linear address of @len bytes at @seg:@off for @access (HVX_PF_W or
 * 0), checked as the CPU checks a data access (SDM vol. 3A §3.4.5.1,
 * §5.3; APM vol. 2 §4.8): in 64-bit mode canonical, elsewhere within
 * the limit (expand-down too) and, in protected mode, a usable segment
 * of a type that allows the access.  0 with *gva, or 1 with the #GP(0)
 * or #SS(0) in *f.
 */
int hvx_linearize(struct hvx_vcpu *vcpu, int seg, u64 off, unsigned int len, u32 access,
		  u64 *gva, struct hvx_fault *f)
{
	struct hvx_segment cs, segment, *sg = &segment;
	struct hvx_paging pg;
	u64 last, max;
	int va_bits;

	hvx_ops->get_paging(vcpu, &pg);
	hvx_ops->get_segment(vcpu, HVX_SEG_CS, &cs);
	if (seg == HVX_SEG_CS)
		segment = cs;
	else
		hvx_ops->get_segment(vcpu, seg, &segment);
	if ((pg.efer & EFER_LMA) && cs.l) {
		/* Only FS and GS have a base in 64-bit mode. */
		*gva = (seg == HVX_SEG_FS || seg == HVX_SEG_GS ? sg->base : 0) + off;
		va_bits = (pg.cr4 & X86_CR4_LA57) ? 57 : 48;
		last = *gva + len - 1;
		if (!hvx_canonical(*gva, va_bits) || !hvx_canonical(last, va_bits))
			return seg_fault(seg, f);
		return 0;
	}
	/* Real and virtual-8086 mode check the limit only. */
	if ((pg.cr0 & X86_CR0_PE) && !(vcpu->rflags & X86_EFLAGS_VM)) {
		if (sg->unusable || !sg->present)
			return seg_fault(seg, f);
		if ((access & HVX_PF_W) && ((sg->type & SEG_TYPE_CODE) ||
					    !(sg->type & SEG_TYPE_RW)))
			return seg_fault(seg, f);
		if ((sg->type & SEG_TYPE_CODE) && !(sg->type & SEG_TYPE_RW))
			return seg_fault(seg, f);
	}
	last = off + len - 1;
	if (!(sg->type & SEG_TYPE_CODE) && (sg->type & SEG_TYPE_DOWN)) {
		/* Expand-down: valid offsets lie above the limit. */
		max = sg->db ? 0xffffffffULL : 0xffff;
		if (off <= sg->limit || last > max)
			return seg_fault(seg, f);
	} else if (last > sg->limit) {
		return seg_fault(seg, f);
	}
	*gva = (u32)(sg->base + off);
	return 0;
}

/*
 * An access of the emulated instruction to @seg:@off: segment, then
 * paging, both checked.  With @buf NULL, only checks that it would
 * succeed.  0, 1 with the guest's fault in *f, or -EFAULT (not RAM).
 */
static int hvx_emul_access(struct hvx_vcpu *vcpu, int seg, u64 off, void *buf,
			   unsigned int len, u32 access, struct hvx_fault *f)
{
	u64 gva, gpa;
	int ret;

	ret = hvx_linearize(vcpu, seg, off, len, access, &gva, f);
	if (ret)
		return ret;
	if (buf)
		return hvx_access_gva(vcpu, gva, buf, len, access, f);
	ret = hvx_gva_to_gpa(vcpu, gva, access, &gpa, f);
	if (!ret && ((gva + len - 1) & PAGE_MASK) != (gva & PAGE_MASK))
		ret = hvx_gva_to_gpa(vcpu, gva + len - 1, access, &gpa, f);
	return ret;
}

int hvx_emul_read(struct hvx_vcpu *vcpu, int seg, u64 off, void *buf, unsigned int len,
		  struct hvx_fault *f)
{
	return hvx_emul_access(vcpu, seg, off, buf, len, 0, f);
}

int hvx_emul_write(struct hvx_vcpu *vcpu, int seg, u64 off, const void *buf,
		   unsigned int len, struct hvx_fault *f)
{
	return hvx_emul_access(vcpu, seg, off, (void *)buf, len, HVX_PF_W, f);
}

int hvx_emul_check_write(struct hvx_vcpu *vcpu, int seg, u64 off, unsigned int len,
			 struct hvx_fault *f)
{
	return hvx_emul_access(vcpu, seg, off, NULL, len, HVX_PF_W, f);
}

/*
 * Fetches up to *len instruction bytes at @gva with the rights of an
 * instruction fetch at the current CPL (NX, U/S, SMEP).  Stops early at
 * a page the guest cannot fetch from RAM (the instruction may end before
 * it).  0; 1 with the guest's #PF in *f if not even the first byte can be
 * fetched by the guest's rules; -EFAULT if it is not RAM, with that
 * byte's gpa (or ~0 if a page-table page is not RAM) in *bad_gpa.
 */
int hvx_fetch_insn(struct hvx_vcpu *vcpu, u64 gva, u8 *buf, unsigned int *len,
		   u64 *bad_gpa, struct hvx_fault *f)
{
	unsigned int done = 0, want = *len;
	int ret = 0;

	while (done < want) {
		unsigned int chunk = min_t(u64, want - done,
					   PAGE_SIZE - ((gva + done) & ~PAGE_MASK));
		u64 gpa;

		ret = hvx_gva_to_gpa(vcpu, gva + done, HVX_PF_I, &gpa, f);
		if (ret) {
			*bad_gpa = ~0ULL;
			break;
		}
		if (hvx_read_gpa(vcpu->vm, gpa, buf + done, chunk)) {
			*bad_gpa = gpa;
			ret = -EFAULT;
			break;
		}
		done += chunk;
	}
	*len = done;
	if (done)
		return 0;
	return ret > 0 ? 1 : -EFAULT;
}
