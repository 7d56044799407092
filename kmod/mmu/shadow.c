// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: shadow paging, as a virtual TLB (Documentation/mmu.rst).
 *
 * Without EPT/NPT the CPU walks page tables that hvx builds for each vCPU,
 * the shadow tables, mapping guest-linear addresses straight to host pages.
 * They start empty and are filled one 4 KiB page at a time on the guest's
 * page faults, which the backend intercepts: hvx walks the guest's own
 * tables as the CPU would (rights, reserved bits, accessed and dirty bits)
 * and either fills the shadow entry or hands the guest its #PF.  Like a
 * TLB they cache only present translations and are dropped when the guest
 * does what tells a real TLB to drop them: MOV to CR3 (everything but
 * global pages), INVLPG (the page), a change of paging mode or of CR0/CR4/
 * EFER bits (everything).  The guest's tables are never write-protected: a guest
 * that changes a present entry invalidates it, as the architecture
 * requires, and a not-present entry is never cached.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <asm/processor-flags.h>
#include <asm/msr-index.h>
#include <asm/cpufeature.h>

#include "hvx_core.h"

#define PTE_P		BIT_ULL(0)
#define PTE_RW		BIT_ULL(1)
#define PTE_US		BIT_ULL(2)
#define PTE_A		BIT_ULL(5)
#define PTE_D		BIT_ULL(6)
#define PTE_PS		BIT_ULL(7)
#define PTE_G		BIT_ULL(8)
/* In a shadow leaf, ignored by the CPU: filled from a global guest translation. */
#define PTE_SW_GLOBAL	BIT_ULL(9)
#define PTE_PKEY	GENMASK_ULL(62, 59)
#define PTE_NX		BIT_ULL(63)
#define PAE_ADDR	GENMASK_ULL(51, 12)

/* #PF error code bits (SDM vol. 3A §4.7). */
#define PF_P		BIT(0)
#define PF_W		BIT(1)
#define PF_U		BIT(2)
#define PF_RSVD		BIT(3)
#define PF_I		BIT(4)

/* Why a guest walk failed. */
enum { WALK_NOT_PRESENT = 1, WALK_RSVD };

/*
 * A shadow table's page->private: the largest guest page size its leaves
 * were filled from (SHADOW_4K..SHADOW_1G); whether the leaves below it
 * may include global ones, and other ones (set on the whole path of each
 * fill, so that a MOV to CR3 visits only tables that hold both); and
 * whether it is unlinked and only waits to be freed.
 */
enum { SHADOW_4K, SHADOW_2M, SHADOW_4M, SHADOW_1G };
#define SHADOW_SIZE		GENMASK(1, 0)
#define SHADOW_GLOBAL		BIT(2)
#define SHADOW_LOCAL		BIT(3)
#define SHADOW_DEAD		BIT(4)

static unsigned long shadow_flags(const u64 *table)
{
	return page_private(virt_to_page(table));
}

static void shadow_set_flags(u64 *table, unsigned long flags)
{
	set_page_private(virt_to_page(table), flags);
}

/* A guest translation: what the walk found and the entries it used. */
struct shadow_walk {
	u64 gpa;
	bool rw, us, nx;
	u64 pkey;
	int size;			/* SHADOW_* */
	unsigned int esize;		/* bytes an entry: 4 (32-bit paging) or 8 */
	int n;				/* entries used, top first */
	u64 pte_gpa[5];
	u64 pte[5];
};

static unsigned int shadow_phys_bits(void)
{
	return boot_cpu_data.x86_phys_bits;
}

static int walk_read(struct hvx_vcpu *vcpu, u64 gpa, u64 *e, unsigned int size)
{
	*e = 0;
	return hvx_read_gpa(vcpu->vm, gpa, e, size) ? -EFAULT : 0;
}

static void walk_use(struct shadow_walk *w, u64 gpa, u64 e)
{
	w->pte_gpa[w->n] = gpa;
	w->pte[w->n] = e;
	w->n++;
}

/*
 * The reserved bits of an 8-byte entry at @level (SDM vol. 3A §4.4.2,
 * §4.5.4): address bits beyond MAXPHYADDR, NX without EFER.NXE, PS where
 * no large page exists, the low address bits of a large page.
 */
static u64 walk_rsvd(const struct hvx_paging *pg, int level, bool four_level, u64 e)
{
	u64 rsvd = GENMASK_ULL(51, shadow_phys_bits());

	if (!(pg->efer & EFER_NX))
		rsvd |= PTE_NX;
	if (level == 4 || (level == 3 && !four_level))
		rsvd |= PTE_PS;
	if (level == 3 && four_level && (e & PTE_PS)) {
		if (!boot_cpu_has(X86_FEATURE_GBPAGES))
			rsvd |= PTE_PS;
		else
			rsvd |= GENMASK_ULL(29, 13);
	}
	if (level == 2 && (e & PTE_PS))
		rsvd |= GENMASK_ULL(20, 13);
	return rsvd;
}

/*
 * Walks the guest's tables for @gva; 0 and @w filled, or a #PF error code
 * (> 0) for the guest, or -EFAULT if a table is not guest RAM.
 */
static int shadow_walk(struct hvx_vcpu *vcpu, const struct hvx_paging *pg, u64 gva,
		       struct shadow_walk *w)
{
	bool four_level = pg->efer & EFER_LMA;
	int level, top;
	u64 e, table, gpa;

	memset(w, 0, sizeof(*w));
	w->rw = true;
	w->us = true;
	w->esize = pg->cr4 & X86_CR4_PAE ? 8 : 4;
	if (!(pg->cr0 & X86_CR0_PG)) {
		w->gpa = four_level ? gva : (u32)gva;
		return 0;
	}

	if (!(pg->cr4 & X86_CR4_PAE)) {
		/* 32-bit paging: two levels of 4-byte entries, no NX. */
		gva = (u32)gva;
		gpa = (pg->cr3 & 0xfffff000) + (gva >> 22) * 4;
		if (walk_read(vcpu, gpa, &e, 4))
			return -EFAULT;
		if (!(e & PTE_P))
			return WALK_NOT_PRESENT;
		walk_use(w, gpa, e);
		w->rw &= !!(e & PTE_RW);
		w->us &= !!(e & PTE_US);
		if ((e & PTE_PS) && (pg->cr4 & X86_CR4_PSE)) {
			/* 4 MiB page: PDE bits 20:13 are PA bits 39:32, bit 21 is reserved. */
			u64 rsvd = BIT_ULL(21);
			int b;

			for (b = 13; b <= 20; b++)
				if (b + 19 >= shadow_phys_bits())
					rsvd |= BIT_ULL(b);
			if (e & rsvd)
				return WALK_RSVD;
			w->gpa = (e & 0xffc00000) | ((e & 0x1fe000) << 19) | (gva & 0x3fffff);
			w->size = SHADOW_4M;
			return 0;
		}
		gpa = (e & 0xfffff000) + ((gva >> 12) & 0x3ff) * 4;
		if (walk_read(vcpu, gpa, &e, 4))
			return -EFAULT;
		if (!(e & PTE_P))
			return WALK_NOT_PRESENT;
		walk_use(w, gpa, e);
		w->rw &= !!(e & PTE_RW);
		w->us &= !!(e & PTE_US);
		w->gpa = (e & 0xfffff000) | (gva & 0xfff);
		return 0;
	}

	if (four_level) {
		top = 4;
		table = pg->cr3 & PAE_ADDR;
	} else {
		/* PAE: the four PDPTEs at CR3 bits 31:5 hold no rights. */
		gva = (u32)gva;
		gpa = (pg->cr3 & 0xffffffe0) + (gva >> 30) * 8;
		if (walk_read(vcpu, gpa, &e, 8))
			return -EFAULT;
		if (!(e & PTE_P))
			return WALK_NOT_PRESENT;
		if (e & (GENMASK_ULL(51, shadow_phys_bits()) | GENMASK_ULL(8, 5) |
			 GENMASK_ULL(2, 1) | PTE_NX))
			return WALK_RSVD;
		top = 2;
		table = e & PAE_ADDR;
	}
	for (level = top; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);

		gpa = table + ((gva >> shift) & 511) * 8;
		if (walk_read(vcpu, gpa, &e, 8))
			return -EFAULT;
		if (!(e & PTE_P))
			return WALK_NOT_PRESENT;
		if (e & walk_rsvd(pg, level, four_level, e))
			return WALK_RSVD;
		walk_use(w, gpa, e);
		w->rw &= !!(e & PTE_RW);
		w->us &= !!(e & PTE_US);
		if (pg->efer & EFER_NX)
			w->nx |= !!(e & PTE_NX);
		if (level == 1 || (e & PTE_PS)) {
			u64 mask = (1ULL << shift) - 1;

			/* Large pages: bit 12 is PAT, not address. */
			w->gpa = ((e & PAE_ADDR) & ~mask) | (gva & mask);
			w->size = level == 3 ? SHADOW_1G : level == 2 ? SHADOW_2M : SHADOW_4K;
			if (four_level && (pg->cr4 & X86_CR4_PKE))
				w->pkey = e & PTE_PKEY;
			return 0;
		}
		table = e & PAE_ADDR;
	}
	return WALK_NOT_PRESENT;
}

/*
 * The rights check of a translation (SDM vol. 3A §4.6): 0 if @access
 * (PFERR_WRITE, PFERR_USER, PFERR_FETCH bits) is allowed.
 */
static bool walk_allowed(struct hvx_vcpu *vcpu, const struct hvx_paging *pg,
			 const struct shadow_walk *w, u32 access)
{
	bool user = access & PF_U;
	bool write = access & PF_W;
	bool fetch = access & PF_I;

	if (fetch && w->nx)
		return false;
	if (user)
		return w->us && (!write || w->rw);
	if (write && !w->rw && (pg->cr0 & X86_CR0_WP))
		return false;
	if (fetch && w->us && (pg->cr4 & X86_CR4_SMEP))
		return false;
	if (!fetch && w->us && (pg->cr4 & X86_CR4_SMAP) &&
	    !(vcpu->rflags & X86_EFLAGS_AC))
		return false;
	return true;
}

/* The error code of a fault on @access (SDM vol. 3A §4.7). */
static u32 walk_error(const struct hvx_paging *pg, u32 access, u32 kind)
{
	u32 ec = kind | (access & (PF_W | PF_U));

	if ((access & PF_I) && (pg->cr4 & X86_CR4_PAE) &&
	    ((pg->efer & EFER_NX) || (pg->cr4 & X86_CR4_SMEP)))
		ec |= PF_I;
	else if ((access & PF_I) && (pg->cr4 & X86_CR4_SMEP))
		ec |= PF_I;
	return ec;
}

/* Sets the accessed bits of the entries used, and dirty on the leaf for a write. */
/*
 * Sets A (and D on the leaf of a write) as the CPU does, with a locked
 * compare-and-exchange of each entry against the value the walk used:
 * another vCPU may change the entry meanwhile (unmap it, say), and a
 * plain write-back would undo that.  -EAGAIN: an entry changed; walk
 * again (the guest faults again).
 */
static int walk_set_ad(struct hvx_vcpu *vcpu, struct shadow_walk *w, bool write)
{
	int i, ret;

	for (i = 0; i < w->n; i++) {
		u64 old = w->pte[i], new = old | PTE_A;

		if (i == w->n - 1 && write)
			new |= PTE_D;
		if (new == old)
			continue;
		ret = hvx_cmpxchg_gpa(vcpu->vm, w->pte_gpa[i], old, new, w->esize);
		if (ret)
			return ret < 0 ? ret : -EAGAIN;
		w->pte[i] = new;
	}
	return 0;
}

int hvx_shadow_init(struct hvx_shadow *s)
{
	s->max = HVX_SHADOW_MAX_TABLES;
	s->tables = kcalloc(s->max, sizeof(*s->tables), GFP_KERNEL_ACCOUNT);
	s->pml4 = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	/* In PAE mode CR3 holds 32 bits: the PDPT must sit below 4 GiB. */
	s->pdpt = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT | GFP_DMA32);
	if (!s->tables || !s->pml4 || !s->pdpt) {
		hvx_shadow_destroy(s);
		return -ENOMEM;
	}
	return 0;
}

static struct hvx_vcpu *shadow_vcpu(struct hvx_shadow *s)
{
	return container_of(s, struct hvx_vcpu, shadow);
}

void hvx_shadow_flush(struct hvx_shadow *s)
{
	unsigned int i;

	if (s->nr)
		hvx_stat_inc(shadow_vcpu(s), HVX_STAT_SHADOW_FLUSHES);
	for (i = 0; i < s->nr; i++) {
		shadow_set_flags(s->tables[i], 0);
		free_page((unsigned long)s->tables[i]);
	}
	s->nr = 0;
	if (s->pml4)
		clear_page(s->pml4);
	if (s->pdpt)
		clear_page(s->pdpt);
	s->tlb_dirty = true;
}

static u64 *shadow_child(u64 e)
{
	return __va(e & PAE_ADDR);
}

/* Marks @table at @level and every table below it to be freed. */
static void shadow_mark_dead(u64 *table, int level)
{
	unsigned int i;

	shadow_set_flags(table, shadow_flags(table) | SHADOW_DEAD);
	if (level > 1)
		for (i = 0; i < 512; i++)
			if (table[i] & PTE_P)
				shadow_mark_dead(shadow_child(table[i]), level - 1);
}

/*
 * Clears what a MOV to CR3 drops below the entries of @table at @level
 * (@n of them): every leaf but the global ones, and every table left
 * empty, which is marked dead.  True if anything stays.
 */
static bool shadow_sweep_entries(u64 *table, int level, unsigned int n)
{
	bool kept = false;
	unsigned int i;

	for (i = 0; i < n; i++) {
		u64 *child;
		unsigned long f;

		if (!(table[i] & PTE_P))
			continue;
		if (level == 1) {
			if (table[i] & PTE_SW_GLOBAL)
				kept = true;
			else
				table[i] = 0;
			continue;
		}
		child = shadow_child(table[i]);
		f = shadow_flags(child);
		/* Only global leaves below: nothing to visit. */
		if ((f & SHADOW_GLOBAL) && !(f & SHADOW_LOCAL)) {
			kept = true;
			continue;
		}
		if ((f & SHADOW_GLOBAL) && shadow_sweep_entries(child, level - 1, 512)) {
			shadow_set_flags(child, f & ~SHADOW_LOCAL);
			kept = true;
			continue;
		}
		shadow_mark_dead(child, level - 1);
		table[i] = 0;
	}
	return kept;
}

/*
 * The guest loaded CR3: drop every translation but the global ones
 * (CR4.PGE and G in the guest's leaf entry), as a TLB does (SDM vol. 3A
 * §4.10.4.1).  The tables that hold them stay; the rest are freed.  Global
 * translations go with INVLPG of their page and with every change of CR4,
 * which takes hvx_shadow_flush().  The flags of each table keep the walk
 * to the tables that mix both kinds: a kernel whose own mappings are all
 * global costs a visit of a few upper tables.
 */
void hvx_shadow_new_cr3(struct hvx_shadow *s, bool long_mode)
{
	unsigned int i, nr = 0;

	if (!s->nr)
		return;
	hvx_stat_inc(shadow_vcpu(s), HVX_STAT_SHADOW_FLUSHES);
	if (long_mode)
		shadow_sweep_entries(s->pml4, 4, 512);
	else
		shadow_sweep_entries(s->pdpt, 3, 4);
	/* Dead tables: emptied here, or unlinked by INVLPG of a large page. */
	for (i = 0; i < s->nr; i++) {
		if (shadow_flags(s->tables[i]) & SHADOW_DEAD) {
			shadow_set_flags(s->tables[i], 0);
			free_page((unsigned long)s->tables[i]);
		} else {
			s->tables[nr++] = s->tables[i];
		}
	}
	s->nr = nr;
	s->tlb_dirty = true;
}

void hvx_shadow_destroy(struct hvx_shadow *s)
{
	hvx_shadow_flush(s);
	kfree(s->tables);
	free_page((unsigned long)s->pml4);
	free_page((unsigned long)s->pdpt);
	s->tables = NULL;
	s->pml4 = NULL;
	s->pdpt = NULL;
}

u64 hvx_shadow_root(struct hvx_shadow *s, bool long_mode)
{
	return long_mode ? __pa(s->pml4) : __pa(s->pdpt);
}

/* The entry of @table for @gva at @level, the root's in PAE having 4. */
static u64 *shadow_entry(u64 *table, u64 gva, int level, bool pae_root)
{
	unsigned int shift = 12 + 9 * (level - 1);

	return &table[(gva >> shift) & (pae_root ? 3 : 511)];
}

/*
 * Walks the shadow tables down to the leaf table of @gva, allocating
 * what is missing if @alloc and adding @mark (SHADOW_GLOBAL or
 * SHADOW_LOCAL, for the leaf about to be filled) to each table on the
 * way; NULL if absent (or the table budget is spent: then everything was
 * flushed and the caller starts over).
 */
static u64 *shadow_leaf_table(struct hvx_shadow *s, u64 gva, bool long_mode, bool alloc,
			      unsigned long mark, u64 **pde)
{
	int level = long_mode ? 4 : 3;
	u64 *table = long_mode ? s->pml4 : s->pdpt;

	for (; level > 1; level--) {
		bool pae_root = !long_mode && level == 3;
		u64 *e = shadow_entry(table, gva, level, pae_root);

		if (level == 2 && pde)
			*pde = e;
		if (!(*e & PTE_P)) {
			u64 *new;

			if (!alloc)
				return NULL;
			if (s->nr == s->max) {
				hvx_shadow_flush(s);
				return NULL;
			}
			new = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
			if (!new)
				return NULL;
			shadow_set_flags(new, SHADOW_4K);
			s->tables[s->nr++] = new;
			if (static_branch_likely(&hvx_stats_on) &&
			    s->nr > shadow_vcpu(s)->stat[HVX_STAT_SHADOW_TABLES])
				shadow_vcpu(s)->stat[HVX_STAT_SHADOW_TABLES] = s->nr;
			/* PAE PDPTEs have no rights bits (SDM vol. 3A §4.4.1). */
			*e = __pa(new) | PTE_P | (pae_root ? 0 : PTE_RW | PTE_US | PTE_A);
		}
		table = shadow_child(*e);
		if (mark)
			shadow_set_flags(table, shadow_flags(table) | mark);
	}
	return table;
}

/* Unlinks the leaf table @pde points at; the next sweep or flush frees it. */
static void shadow_drop_table(u64 *pde)
{
	if (*pde & PTE_P)
		shadow_mark_dead(shadow_child(*pde), 1);
	*pde = 0;
}

void hvx_shadow_invlpg(struct hvx_shadow *s, u64 gva, bool long_mode)
{
	u64 *pde = NULL, *pt;

	if (!long_mode)
		gva = (u32)gva;
	pt = shadow_leaf_table(s, gva, long_mode, false, 0, &pde);
	if (!pt)
		return;
	s->tlb_dirty = true;
	/* Leaves filled from a large guest page: drop the whole guest page. */
	switch (shadow_flags(pt) & SHADOW_SIZE) {
	case SHADOW_4K:
		pt[(gva >> 12) & 511] = 0;
		break;
	case SHADOW_2M:
		shadow_drop_table(pde);
		break;
	case SHADOW_4M:
		/* Two PAE PDEs, side by side in one table. */
		shadow_drop_table(pde);
		shadow_drop_table(&pde[(gva >> 21) & 1 ? -1 : 1]);
		break;
	default:
		hvx_shadow_flush(s);
		break;
	}
}

/*
 * Maps host page @hpa at @gva of the 32-bit address space for the CPU's
 * own accesses: supervisor, writable, outside what the guest can address
 * (the TSS of virtual-8086 mode, vmx_rmode.c).  Gone with the next flush.
 * Out of tables, everything was flushed instead: the access faults again.
 */
void hvx_shadow_map_host(struct hvx_shadow *s, u64 gva, u64 hpa)
{
	u64 *pt = shadow_leaf_table(s, (u32)gva, false, true, SHADOW_LOCAL, NULL);

	if (pt)
		WRITE_ONCE(pt[(gva >> 12) & 511], hpa | PTE_P | PTE_RW | PTE_A | PTE_D);
}

/*
 * A large guest page was just used for @gva: the other 4 KiB pages of its
 * aligned 64 KiB block go through the very same guest entries, which the
 * walk has marked accessed (and dirty, if @flags is writable), so they can
 * be filled now with the same rights, saving a fault each.  Pages outside
 * RAM (MMIO) and ones already filled are left alone.
 */
#define SHADOW_PREFILL	16

static void shadow_prefill(struct hvx_vcpu *vcpu, struct hvx_shadow *s, u64 *pt, u64 gva,
			   u64 gpa, u64 flags)
{
	u64 base = gva & ~(SHADOW_PREFILL * PAGE_SIZE - 1);
	unsigned int i;

	for (i = 0; i < SHADOW_PREFILL; i++) {
		u64 va = base + i * PAGE_SIZE, pa = (gpa & PAGE_MASK) + va - (gva & PAGE_MASK);
		u64 *e = &pt[(va >> 12) & 511];
		bool slot_rw;
		u64 hpa;

		if (*e & PTE_P)
			continue;
		if (hvx_tdp_map(vcpu, pa, false, &hpa, &slot_rw))
			continue;
		WRITE_ONCE(*e, hpa | (slot_rw ? flags : flags & ~PTE_RW));
		hvx_stat_inc(vcpu, HVX_STAT_SHADOW_FILLS);
	}
}

/*
 * A page fault the hardware raised on the shadow tables at @gva with
 * error code @hw_ec.  Returns 1 when the shadow now maps what the guest's
 * tables allow (resume), 2 with *guest_ec when the guest's own tables
 * fault (the caller injects #PF with CR2 = @gva), 0 for an MMIO exit, or
 * a negative errno.
 */
int hvx_shadow_fault(struct hvx_vcpu *vcpu, struct hvx_shadow *s, u64 gva, u32 hw_ec,
		     u32 *guest_ec)
{
	u32 access = hw_ec & (PF_W | PF_U | PF_I);
	bool write = access & PF_W;
	struct shadow_walk w;
	struct hvx_paging pg;
	bool long_mode, slot_rw, rw, us, nx;
	u64 hpa, leaf, *pt, *e;
	int ret;

	hvx_ops->get_paging(vcpu, &pg);
	long_mode = pg.efer & EFER_LMA;
	ret = shadow_walk(vcpu, &pg, gva, &w);
	if (ret < 0)
		return hvx_exit_internal(vcpu, HVX_INTERNAL_FETCH, gva, ~0ULL);
	if (ret > 0) {
		*guest_ec = walk_error(&pg, access, ret == WALK_RSVD ? PF_P | PF_RSVD : 0);
		return 2;
	}
	if (!walk_allowed(vcpu, &pg, &w, access)) {
		*guest_ec = walk_error(&pg, access, PF_P);
		return 2;
	}

	ret = hvx_tdp_map(vcpu, w.gpa, write, &hpa, &slot_rw);
	if (ret == -ENOENT)
		return hvx_exit_mmio(vcpu, w.gpa, write);
	if (ret == -EFAULT)
		return hvx_exit_internal(vcpu, HVX_INTERNAL_MEMORY, w.gpa, hpa);
	if (ret)
		return ret;
	ret = walk_set_ad(vcpu, &w, write);
	if (ret == -EAGAIN)
		return 1;
	if (ret)
		return hvx_exit_internal(vcpu, HVX_INTERNAL_FETCH, gva, ~0ULL);

	/*
	 * The shadow entry's rights: the guest's, writable only once the
	 * guest's entry is dirty (so the first write sets D), never beyond
	 * the slot.  CR0.WP clear lets the supervisor write read-only pages:
	 * such a page is made supervisor-only and writable for that write,
	 * and goes back to the guest's rights at the next user access (with
	 * NX under SMEP, so the supervisor cannot run code from a user page).
	 */
	rw = w.rw && (!w.n || (w.pte[w.n - 1] & PTE_D));
	us = w.us;
	nx = w.nx;
	if (write && !(access & PF_U) && !w.rw) {
		rw = true;
		us = false;
		nx |= w.us && (pg.cr4 & X86_CR4_SMEP);
	}
	rw &= slot_rw;

	leaf = hpa | PTE_P | PTE_A | PTE_D | (rw ? PTE_RW : 0) | (us ? PTE_US : 0) |
	       (nx ? PTE_NX : 0) | w.pkey;
	if (w.n && (pg.cr4 & X86_CR4_PGE) && (w.pte[w.n - 1] & PTE_G))
		leaf |= PTE_SW_GLOBAL;
	if (!long_mode)
		gva = (u32)gva;
	pt = shadow_leaf_table(s, gva, long_mode, true,
			       leaf & PTE_SW_GLOBAL ? SHADOW_GLOBAL : SHADOW_LOCAL, NULL);
	if (!pt)
		return 1;	/* budget spent and all flushed, or no memory: fault again */
	e = &pt[(gva >> 12) & 511];
	if (*e == leaf) {
		/*
		 * The hardware refused what the guest's tables allow: a check
		 * hvx does not model (protection keys).  The guest gets the
		 * hardware's fault.
		 */
		*guest_ec = hw_ec;
		return 2;
	}
	if (w.size > (shadow_flags(pt) & SHADOW_SIZE))
		shadow_set_flags(pt, (shadow_flags(pt) & ~SHADOW_SIZE) | w.size);
	if (*e & PTE_P)
		s->tlb_dirty = true;
	WRITE_ONCE(*e, leaf);
	hvx_stat_inc(vcpu, HVX_STAT_SHADOW_FILLS);
	if (w.size != SHADOW_4K)
		shadow_prefill(vcpu, s, pt, gva, w.gpa, leaf & ~PAE_ADDR);
	return 1;
}
