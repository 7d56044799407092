// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: the guest page-table walker.  Translates a guest linear address to
 * a guest-physical one the way the guest's own paging mode would: none,
 * 32-bit (with 4 MiB PSE pages), PAE, or 4-level long mode (SDM vol. 3
 * ch. 4, APM vol. 2 ch. 5).  Used to fetch the instruction bytes of an
 * MMIO exit and for string I/O; it checks presence only, not permissions:
 * the hardware already allowed the access that exited.
 */
#include <linux/kernel.h>
#include <asm/processor-flags.h>
#include <asm/msr-index.h>

#include "hvx_core.h"

#define PTE_P		BIT_ULL(0)
#define PTE_PS		BIT_ULL(7)
#define PAE_ADDR	GENMASK_ULL(51, 12)

static int walk_read(struct hvx_vcpu *vcpu, u64 gpa, u64 *e, unsigned int size)
{
	*e = 0;
	return hvx_read_gpa(vcpu->vm, gpa, e, size) ? -EFAULT : 0;
}

int hvx_gva_to_gpa(struct hvx_vcpu *vcpu, u64 gva, u64 *gpa)
{
	struct hvx_paging pg;
	int level, levels;
	u64 e, table;

	hvx_ops->get_paging(vcpu, &pg);
	if (!(pg.cr0 & X86_CR0_PG)) {
		*gpa = (pg.efer & EFER_LMA) ? gva : (u32)gva;
		return 0;
	}

	if (!(pg.cr4 & X86_CR4_PAE)) {
		/* 32-bit paging: two levels of 4-byte entries. */
		gva = (u32)gva;
		if (walk_read(vcpu, (pg.cr3 & 0xfffff000) + (gva >> 22) * 4, &e, 4))
			return -EFAULT;
		if (!(e & PTE_P))
			return -ENOENT;
		if ((e & PTE_PS) && (pg.cr4 & X86_CR4_PSE)) {
			/* 4 MiB page; bits 20:13 of the PDE give PA bits 39:32. */
			*gpa = (e & 0xffc00000) | ((e & 0x1fe000) << 19) | (gva & 0x3fffff);
			return 0;
		}
		if (walk_read(vcpu, (e & 0xfffff000) + ((gva >> 12) & 0x3ff) * 4, &e, 4))
			return -EFAULT;
		if (!(e & PTE_P))
			return -ENOENT;
		*gpa = (e & 0xfffff000) | (gva & 0xfff);
		return 0;
	}

	if (pg.efer & EFER_LMA) {
		levels = (pg.cr4 & X86_CR4_LA57) ? 5 : 4;
		table = pg.cr3 & PAE_ADDR;
	} else {
		/* PAE: the four PDPTEs sit at CR3 bits 31:5. */
		gva = (u32)gva;
		if (walk_read(vcpu, (pg.cr3 & 0xffffffe0) + (gva >> 30) * 8, &e, 8))
			return -EFAULT;
		if (!(e & PTE_P))
			return -ENOENT;
		levels = 2;
		table = e & PAE_ADDR;
	}
	for (level = levels; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);

		if (walk_read(vcpu, table + ((gva >> shift) & 511) * 8, &e, 8))
			return -EFAULT;
		if (!(e & PTE_P))
			return -ENOENT;
		if (level == 1 || ((e & PTE_PS) && level <= 3)) {
			u64 off = gva & ((1ULL << shift) - 1);

			/* Large pages: bit 12 is PAT, not address. */
			*gpa = ((e & PAE_ADDR) & ~((1ULL << shift) - 1)) | off;
			return 0;
		}
		table = e & PAE_ADDR;
	}
	return -ENOENT;
}

/* Copies guest-linear memory, page by page, through the guest's paging. */
static int hvx_access_gva(struct hvx_vcpu *vcpu, u64 gva, void *buf,
			  unsigned int len, bool write)
{
	while (len) {
		unsigned int chunk = min_t(u64, len, PAGE_SIZE - (gva & ~PAGE_MASK));
		u64 gpa;
		int ret;

		ret = hvx_gva_to_gpa(vcpu, gva, &gpa);
		if (ret)
			return ret;
		ret = write ? hvx_write_gpa(vcpu->vm, gpa, buf, chunk) :
			      hvx_read_gpa(vcpu->vm, gpa, buf, chunk);
		if (ret)
			return ret;
		gva += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

int hvx_read_gva(struct hvx_vcpu *vcpu, u64 gva, void *buf, unsigned int len)
{
	return hvx_access_gva(vcpu, gva, buf, len, false);
}

int hvx_write_gva(struct hvx_vcpu *vcpu, u64 gva, const void *buf, unsigned int len)
{
	return hvx_access_gva(vcpu, gva, (void *)buf, len, true);
}

/*
 * Fetches up to *len instruction bytes at @gva.  Stops early at a page the
 * guest cannot read from RAM (the instruction may end before it); fails
 * if not even the first byte is readable, with that byte's gpa (or ~0 if
 * unmapped) in *bad_gpa.
 */
int hvx_fetch_insn(struct hvx_vcpu *vcpu, u64 gva, u8 *buf, unsigned int *len,
		   u64 *bad_gpa)
{
	unsigned int done = 0, want = *len;

	while (done < want) {
		unsigned int chunk = min_t(u64, want - done,
					   PAGE_SIZE - ((gva + done) & ~PAGE_MASK));
		u64 gpa;

		if (hvx_gva_to_gpa(vcpu, gva + done, &gpa)) {
			*bad_gpa = ~0ULL;
			break;
		}
		if (hvx_read_gpa(vcpu->vm, gpa, buf + done, chunk)) {
			*bad_gpa = gpa;
			break;
		}
		done += chunk;
	}
	*len = done;
	return done ? 0 : -EFAULT;
}
