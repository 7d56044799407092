// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: two-dimensional paging (AMD NPT, Intel EPT).  One table per VM (4
 * levels, or 5 where the host's own paging has 5, as AMD NPT requires)
 * maps guest-physical to host-physical addresses.  It starts empty and is
 * filled on the first guest access to each page: the page behind the
 * slot's user address is pinned and mapped, with a 2 MiB leaf when the
 * host backs the whole aligned 2 MiB with one huge page (THP or hugetlbfs)
 * inside one slot, else with a 4 KiB one.  Removing a slot or destroying
 * the VM unmaps, flushes every vCPU, then unpins.
 *
 * The entry format is the vendor's (struct hvx_tdp_format); the table
 * geometry (9 bits a level) is the same on both.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/io.h>

#include "hvx_core.h"
#include "hvx_trace.h"

#define TDP_ENTRIES	512
#define TDP_PA_MASK	GENMASK_ULL(51, 12)
#define TDP_HUGE	(2ULL << 20)
#define TDP_HUGE_PAGES	(TDP_HUGE >> PAGE_SHIFT)

/* Map 2 MiB at once where the host's memory allows (the default). */
static bool huge_pages = true;
module_param(huge_pages, bool, 0444);
MODULE_PARM_DESC(huge_pages, "map guest memory backed by 2 MiB host pages with 2 MiB NPT/EPT leaves");

static inline unsigned int tdp_index(u64 gpa, int level)
{
	return (gpa >> (12 + 9 * (level - 1))) & (TDP_ENTRIES - 1);
}

static inline u64 *tdp_table(u64 entry)
{
	return __va(entry & TDP_PA_MASK);
}

int hvx_tdp_init(struct hvx_tdp *tdp, const struct hvx_tdp_format *fmt, int levels)
{
	tdp->fmt = fmt;
	tdp->levels = levels;
	tdp->huge = huge_pages && fmt->large;
	tdp->root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!tdp->root)
		return -ENOMEM;
	tdp->table_pages = 1;
	return 0;
}

phys_addr_t hvx_tdp_root_pa(struct hvx_tdp *tdp)
{
	return __pa(tdp->root);
}

static bool tdp_present(const struct hvx_tdp *tdp, u64 e)
{
	return e & tdp->fmt->present_mask;
}

/* A 2 MiB leaf: level 2, the format's large bit. */
static bool tdp_large(const struct hvx_tdp *tdp, u64 e, int level)
{
	return level == 2 && tdp->fmt->large && (e & tdp->fmt->large);
}

/* The pages of the leaf @e at @level into @pages from @n; the new count. */
static unsigned long tdp_leaf_pages(const struct hvx_tdp *tdp, u64 e, int level,
				    struct page **pages, unsigned long n)
{
	struct page *head = pfn_to_page((e & TDP_PA_MASK) >> PAGE_SHIFT);
	unsigned long i, nr = level == 1 ? 1 : TDP_HUGE_PAGES;

	for (i = 0; i < nr; i++)
		pages[n++] = nth_page(head, i);
	return n;
}

/* Unpins every leaf and frees every table below @table (at @level). */
static void tdp_free_table(struct hvx_tdp *tdp, u64 *table, int level)
{
	int i;

	for (i = 0; i < TDP_ENTRIES; i++) {
		u64 e = table[i];

		if (!tdp_present(tdp, e))
			continue;
		if (level == 1) {
			unpin_user_page(pfn_to_page((e & TDP_PA_MASK) >> PAGE_SHIFT));
			tdp->pinned_pages--;
		} else if (tdp_large(tdp, e, level)) {
			struct page *head = pfn_to_page((e & TDP_PA_MASK) >> PAGE_SHIFT);
			unsigned long k;

			for (k = 0; k < TDP_HUGE_PAGES; k++)
				unpin_user_page(nth_page(head, k));
			tdp->pinned_pages -= TDP_HUGE_PAGES;
		} else {
			tdp_free_table(tdp, tdp_table(e), level - 1);
		}
	}
	free_page((unsigned long)table);
	tdp->table_pages--;
}

void hvx_tdp_destroy(struct hvx_tdp *tdp)
{
	if (!tdp->root)
		return;
	tdp_free_table(tdp, tdp->root, tdp->levels);
	tdp->root = NULL;
	WARN_ON_ONCE(tdp->pinned_pages || tdp->table_pages);
}

/*
 * The entry at @level for @gpa, allocating the tables above it; NULL
 * without memory.  vm->lock held.
 */
static u64 *tdp_entry(struct hvx_tdp *tdp, u64 gpa, int want)
{
	u64 *table = tdp->root;
	int level;

	for (level = tdp->levels; level > want; level--) {
		u64 *e = &table[tdp_index(gpa, level)];

		if (!tdp_present(tdp, *e)) {
			u64 *new = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

			if (!new)
				return NULL;
			tdp->table_pages++;
			*e = __pa(new) | tdp->fmt->table_flags;
		}
		table = tdp_table(*e);
	}
	return &table[tdp_index(gpa, want)];
}

/*
 * Maps the 2 MiB around @gpa with one leaf if the host backs it with one
 * huge page: the aligned 2 MiB lies in @slot, its user address is 2 MiB
 * aligned, @page (pinned, at @uaddr) belongs to a folio of 2 MiB or more,
 * nothing in the range is mapped yet, and all 512 pages pin as one
 * naturally aligned run.  On success the 512 pins replace @page's and
 * *@hpa is @gpa's page; false leaves @page pinned for a 4 KiB leaf.
 */
static bool tdp_map_huge(struct hvx_vcpu *vcpu, struct hvx_slot *slot, u64 gpa, u64 uaddr,
			 unsigned int gup, struct page *page, bool writable, u64 *hpa)
{
	struct hvx_tdp *tdp = &vcpu->vm->tdp;
	u64 base = gpa & ~(TDP_HUGE - 1), ubase = uaddr - (gpa & (TDP_HUGE - 1) & PAGE_MASK);
	struct page **pages;
	unsigned long pfn, i;
	u64 *pde;
	int n;

	if (base < slot->gpa || base + TDP_HUGE > slot->gpa + (slot->npages << PAGE_SHIFT) ||
	    (ubase & (TDP_HUGE - 1)) || folio_nr_pages(page_folio(page)) < TDP_HUGE_PAGES)
		return false;
	pde = tdp_entry(tdp, base, 2);
	if (!pde || tdp_present(tdp, *pde))
		return false;
	pages = kmalloc_array(TDP_HUGE_PAGES, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return false;
	n = pin_user_pages_fast(ubase, TDP_HUGE_PAGES, gup, pages);
	pfn = n > 0 ? page_to_pfn(pages[0]) : 0;
	for (i = 0; i < TDP_HUGE_PAGES && n == TDP_HUGE_PAGES; i++)
		if (page_to_pfn(pages[i]) != pfn + i)
			break;
	if (n != TDP_HUGE_PAGES || i != TDP_HUGE_PAGES || (pfn & (TDP_HUGE_PAGES - 1))) {
		if (n > 0)
			unpin_user_pages(pages, n);
		kfree(pages);
		return false;
	}
	kfree(pages);
	unpin_user_page(page);
	tdp->pinned_pages += TDP_HUGE_PAGES;
	WRITE_ONCE(*pde, tdp->fmt->leaf(PFN_PHYS(pfn), writable) | tdp->fmt->large);
	hvx_stat_inc(vcpu, HVX_STAT_PAGES_MAPPED_2M);
	*hpa = PFN_PHYS(pfn) + (gpa & (TDP_HUGE - 1) & PAGE_MASK);
	return true;
}

/*
 * Maps the page of @gpa in the VM's table, pinning it, and gives its
 * host-physical address and whether the guest may write it.  The table is
 * also the record of pinned pages for shadow paging, which never hands it
 * to the hardware.  0: mapped; -ENOENT: no slot, or a write to a read-only
 * one (MMIO); -EFAULT: the user page cannot be pinned (its user address in
 * *hpa); -ENOMEM: no memory for a table page, or for the page itself
 * (the memory cgroup's limit).
 */
int hvx_tdp_map(struct hvx_vcpu *vcpu, u64 gpa, bool write, u64 *hpa, bool *writable)
{
	struct hvx_vm *vm = vcpu->vm;
	struct hvx_tdp *tdp = &vm->tdp;
	struct hvx_slot *slot;
	struct page *page = NULL;
	unsigned int gup;
	u64 *table, uaddr, *leaf = NULL;
	int level, ret = 0;

	mutex_lock(&vm->lock);
	slot = hvx_slot_find(vm, gpa);
	if (!slot || (write && (slot->flags & HVX_MEM_READONLY))) {
		ret = -ENOENT;
		goto out;
	}
	*writable = !(slot->flags & HVX_MEM_READONLY);
	uaddr = slot->uaddr + ((gpa & PAGE_MASK) - slot->gpa);

	/* Present already: another vCPU mapped it, or a stale TLB entry. */
	table = tdp->root;
	for (level = tdp->levels; level > 1 && table; level--) {
		u64 e = table[tdp_index(gpa, level)];

		if (tdp_present(tdp, e) && tdp_large(tdp, e, level)) {
			*hpa = (e & TDP_PA_MASK) + (gpa & (TDP_HUGE - 1) & PAGE_MASK);
			goto out;
		}
		table = tdp_present(tdp, e) ? tdp_table(e) : NULL;
	}
	if (table)
		leaf = &table[tdp_index(gpa, 1)];
	if (leaf && tdp_present(tdp, *leaf))
		goto done;

	/*
	 * Pin first: a slot whose memory cannot be pinned (unmapped,
	 * PROT_NONE, a stalled file) must not make the VM allocate tables.
	 */
	gup = FOLL_LONGTERM | (*writable ? FOLL_WRITE : 0);
	ret = pin_user_pages_fast(uaddr, 1, gup, &page);
	if (ret != 1) {
		*hpa = uaddr;
		/*
		 * Out of memory (the memory cgroup's limit, or no page to
		 * migrate a long-term pin to) is the caller's to hear, as
		 * from any allocation: the vCPU stays on the instruction and
		 * runs on once memory is back.  Anything else is the slot's
		 * mapping, which only userspace can repair.
		 */
		ret = ret == -ENOMEM ? -ENOMEM : -EFAULT;
		goto out;
	}
	ret = 0;
	if (tdp->huge && tdp_map_huge(vcpu, slot, gpa, uaddr, gup, page, *writable, hpa))
		goto out;
	leaf = tdp_entry(tdp, gpa, 1);
	if (!leaf) {
		unpin_user_page(page);
		ret = -ENOMEM;
		goto out;
	}
	tdp->pinned_pages++;
	WRITE_ONCE(*leaf, tdp->fmt->leaf(page_to_phys(page), *writable));
	hvx_stat_inc(vcpu, HVX_STAT_PAGES_MAPPED);
done:
	*hpa = *leaf & TDP_PA_MASK;
out:
	mutex_unlock(&vm->lock);
	return ret;
}

/*
 * A nested page fault: @walk says the CPU was reading or updating the
 * guest's own page tables, which userspace cannot emulate as MMIO.
 */
int hvx_tdp_fault(struct hvx_vcpu *vcpu, u64 gpa, bool write, bool walk)
{
	struct hvx_vm *vm = vcpu->vm;
	bool writable;
	u64 hpa;
	int ret;

	ret = hvx_tdp_map(vcpu, gpa, write, &hpa, &writable);
	trace_hvx_page_fault(vm->id, vcpu->id, gpa, write, ret == -ENOENT ? 0 : ret ?: 1);
	if (ret == -ENOENT && walk)
		return hvx_exit_internal(vcpu, HVX_INTERNAL_PT_WALK, gpa, write);
	if (ret == -ENOENT)
		return hvx_exit_mmio(vcpu, gpa, write);
	if (ret == -EFAULT)
		return hvx_exit_internal(vcpu, HVX_INTERNAL_MEMORY, gpa, hpa);
	return ret ?: 1;
}

static void hvx_noop(void *unused)
{
}

/*
 * Clears the leaves for [gpa, gpa + npages pages) and returns their pages
 * in @pages (a list through page->lru is not ours to use: keep an array).
 * Tables left empty are unhooked and put on @tables (their page->lru is
 * ours), to be freed once no CPU can walk them any more.
 */
static unsigned long tdp_zap(struct hvx_tdp *tdp, u64 *table, int level, u64 base,
			     u64 start, u64 end, struct page **pages, unsigned long n,
			     struct list_head *tables)
{
	u64 span = 1ULL << (12 + 9 * (level - 1));
	int i;

	for (i = 0; i < TDP_ENTRIES; i++) {
		u64 lo = base + i * span, hi = lo + span;
		u64 e = table[i];
		u64 *sub;

		if (hi <= start || lo >= end || !tdp_present(tdp, e))
			continue;
		/* A 2 MiB leaf goes whole; the rest of it faults back in. */
		if (level == 1 || tdp_large(tdp, e, level)) {
			n = tdp_leaf_pages(tdp, e, level, pages, n);
			WRITE_ONCE(table[i], 0);
			continue;
		}
		sub = tdp_table(e);
		n = tdp_zap(tdp, sub, level - 1, lo, start, end, pages, n, tables);
		if (!memchr_inv(sub, 0, PAGE_SIZE)) {
			WRITE_ONCE(table[i], 0);
			list_add(&virt_to_page(sub)->lru, tables);
		}
	}
	return n;
}

int hvx_tdp_zap_range(struct hvx_vm *vm, u64 gpa, u64 npages)
{
	struct hvx_tdp *tdp = &vm->tdp;
	struct page **pages = NULL, *p, *tmp;
	LIST_HEAD(tables);
	unsigned long n;

	lockdep_assert_held(&vm->lock);
	if (!tdp->pinned_pages && tdp->table_pages <= 1)
		return 0;
	if (tdp->pinned_pages) {
		pages = kvmalloc_array(tdp->pinned_pages, sizeof(*pages), GFP_KERNEL_ACCOUNT);
		if (!pages)
			return -ENOMEM;
	}
	n = tdp_zap(tdp, tdp->root, tdp->levels, 0, gpa, gpa + (npages << PAGE_SHIFT),
		    pages, 0, &tables);
	/*
	 * Every vCPU flushes before it next enters the guest; one in the
	 * guest now is made to exit by the IPI, which on_each_cpu() waits
	 * for.  Only then may the pages and the emptied tables go.
	 */
	atomic_inc(&vm->tlb_gen);
	on_each_cpu(hvx_noop, NULL, 1);
	unpin_user_pages(pages, n);
	tdp->pinned_pages -= n;
	kvfree(pages);
	list_for_each_entry_safe(p, tmp, &tables, lru) {
		list_del(&p->lru);
		__free_page(p);
		tdp->table_pages--;
	}
	return 0;
}
