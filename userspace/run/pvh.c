// SPDX-License-Identifier: GPL-2.0
/*
 * PVH entry of an ELF kernel (an uncompressed vmlinux, or any ELF with the
 * note): the kernel names a 32-bit entry point in an ELF note "Xen" of
 * type 18 (XEN_ELFNOTE_PHYS32_ENTRY).  Its PT_LOAD segments go to their
 * physical addresses; the vCPU starts there in 32-bit protected mode,
 * paging off, flat segments, interrupts off, EBX pointing at a struct
 * hvm_start_info (version 1: command line, memory map, the initrd as
 * module 0).  Xen's public include/public/arch-x86/hvm/start_info.h
 * describes the layout; Linux boots this way without a decompressor.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "hvx-run.h"

#define XEN_ELFNOTE_PHYS32_ENTRY	18
#define HVM_START_MAGIC			0x336ec578U

/* Low memory hvx-run fills for the kernel, clear of the GDT at 0x1000. */
#define START_INFO_ADDR		0x9000ULL
#define MEMMAP_ADDR		0x9100ULL
#define MODLIST_ADDR		0x9400ULL
#define CMDLINE_ADDR		0x9800ULL
#define CMDLINE_END		RUN_EBDA_START

struct hvm_start_info {
	__u32 magic, version, flags, nr_modules;
	__u64 modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	__u32 memmap_entries, reserved;
};

struct hvm_modlist_entry {
	__u64 paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_entry {
	__u64 addr, size;
	__u32 type, reserved;
};

int load__is_elf(const void *img, size_t size)
{
	return size >= SELFMAG && !memcmp(img, ELFMAG, SELFMAG);
}

/* Program headers as 64-bit ones, whatever the class; -1 if malformed. */
static int phdr(const __u8 *img, size_t size, unsigned int i, Elf64_Phdr *ph)
{
	const Elf32_Ehdr *e32 = (const void *)img;
	const Elf64_Ehdr *e64 = (const void *)img;
	size_t off, esz;

	if (img[EI_CLASS] == ELFCLASS64) {
		off = e64->e_phoff + (size_t)i * sizeof(Elf64_Phdr);
		esz = e64->e_phentsize;
		if (esz != sizeof(Elf64_Phdr) || e64->e_phoff > size || off + esz > size)
			return -1;
		memcpy(ph, img + off, sizeof(*ph));
		return 0;
	}
	off = e32->e_phoff + (size_t)i * sizeof(Elf32_Phdr);
	esz = e32->e_phentsize;
	if (esz != sizeof(Elf32_Phdr) || e32->e_phoff > size || off + esz > size)
		return -1;
	{
		Elf32_Phdr p;

		memcpy(&p, img + off, sizeof(p));
		*ph = (Elf64_Phdr){
			.p_type = p.p_type, .p_offset = p.p_offset, .p_paddr = p.p_paddr,
			.p_filesz = p.p_filesz, .p_memsz = p.p_memsz,
		};
	}
	return 0;
}

/* The PHYS32_ENTRY note in a PT_NOTE segment; 0 if none. */
static __u64 find_entry(const __u8 *img, size_t size, unsigned int phnum)
{
	Elf64_Phdr ph;
	unsigned int i;

	for (i = 0; i < phnum; i++) {
		size_t off, end;

		if (phdr(img, size, i, &ph) || ph.p_type != PT_NOTE)
			continue;
		if (ph.p_offset > size || ph.p_filesz > size - ph.p_offset)
			continue;
		off = ph.p_offset;
		end = off + ph.p_filesz;
		while (off + 12 <= end) {
			__u32 namesz, descsz, type;
			size_t name, desc;

			memcpy(&namesz, img + off, 4);
			memcpy(&descsz, img + off + 4, 4);
			memcpy(&type, img + off + 8, 4);
			name = off + 12;
			desc = name + ((namesz + 3) & ~3U);
			if (namesz > end || descsz > end || desc + descsz > end)
				break;
			if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
			    !memcmp(img + name, "Xen", 4) && (descsz == 4 || descsz == 8)) {
				__u64 v = 0;

				memcpy(&v, img + desc, descsz);
				return v;
			}
			off = desc + ((descsz + 3) & ~3U);
		}
	}
	return 0;
}

int load__pvh(struct hvx_runner *r, const struct run_options *o, const void *image, size_t size)
{
	const __u8 *img = image;
	const Elf64_Ehdr *e64 = image;
	const Elf32_Ehdr *e32 = image;
	struct hvm_start_info *si;
	struct hvm_memmap_entry *mm;
	struct hvm_modlist_entry *mod;
	struct mem_range map[8];
	unsigned int phnum, i, nmap;
	__u64 entry, end = 0, initrd_addr;
	size_t cmdline_len = o->append ? strlen(o->append) : 0, isize;
	Elf64_Phdr ph;
	void *initrd;

	if (size < sizeof(Elf32_Ehdr) ||
	    (img[EI_CLASS] != ELFCLASS32 && img[EI_CLASS] != ELFCLASS64) ||
	    (img[EI_CLASS] == ELFCLASS64 && size < sizeof(Elf64_Ehdr))) {
		fprintf(stderr, "hvx-run: %s: truncated ELF header\n", o->image);
		return -1;
	}
	phnum = img[EI_CLASS] == ELFCLASS64 ? e64->e_phnum : e32->e_phnum;
	entry = find_entry(img, size, phnum);
	if (!entry) {
		fprintf(stderr, "hvx-run: %s: an ELF kernel without a PVH entry point (Xen note %u)\n",
			o->image, XEN_ELFNOTE_PHYS32_ENTRY);
		return -1;
	}
	if (entry >= (1ULL << 32)) {
		fprintf(stderr, "hvx-run: %s: PVH entry point 0x%llx is above 4G\n", o->image,
			(unsigned long long)entry);
		return -1;
	}
	for (i = 0; i < phnum; i++) {
		if (phdr(img, size, i, &ph)) {
			fprintf(stderr, "hvx-run: %s: malformed ELF program headers\n", o->image);
			return -1;
		}
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_offset > size ||
		    ph.p_filesz > size - ph.p_offset) {
			fprintf(stderr, "hvx-run: %s: segment %u lies outside the file\n", o->image, i);
			return -1;
		}
		if (ph.p_paddr < RUN_HIGH_START || ph.p_paddr >= r->mem_size ||
		    ph.p_memsz > r->mem_size - ph.p_paddr) {
			fprintf(stderr, "hvx-run: %s: segment %u at 0x%llx..0x%llx is not in guest RAM above 1M (--mem %lluM)\n",
				o->image, i, (unsigned long long)ph.p_paddr,
				(unsigned long long)(ph.p_paddr + ph.p_memsz), r->mem_size >> 20);
			return -1;
		}
		memcpy((char *)r->mem + ph.p_paddr, img + ph.p_offset, ph.p_filesz);
		memset((char *)r->mem + ph.p_paddr + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		if (ph.p_paddr + ph.p_memsz > end)
			end = ph.p_paddr + ph.p_memsz;
	}
	if (!end) {
		fprintf(stderr, "hvx-run: %s: no loadable segment\n", o->image);
		return -1;
	}
	if (cmdline_len >= CMDLINE_END - CMDLINE_ADDR) {
		fprintf(stderr, "hvx-run: --append: %zu bytes, at most %llu for a PVH kernel\n",
			cmdline_len, CMDLINE_END - CMDLINE_ADDR - 1);
		return -1;
	}

	memset((char *)r->mem + START_INFO_ADDR, 0, CMDLINE_END - START_INFO_ADDR);
	si = (void *)((char *)r->mem + START_INFO_ADDR);
	si->magic = HVM_START_MAGIC;
	si->version = 1;
	si->cmdline_paddr = CMDLINE_ADDR;
	if (cmdline_len)
		memcpy((char *)r->mem + CMDLINE_ADDR, o->append, cmdline_len);
	nmap = load__memmap(r, map);
	mm = (void *)((char *)r->mem + MEMMAP_ADDR);
	for (i = 0; i < nmap; i++)
		mm[i] = (struct hvm_memmap_entry){ map[i].base, map[i].len, map[i].type, 0 };
	si->memmap_paddr = MEMMAP_ADDR;
	si->memmap_entries = nmap;

	if (o->initrd) {
		if (load__file("initrd", o->initrd, &initrd, &isize))
			return -1;
		initrd_addr = isize < r->mem_size ? (r->mem_size - isize) & ~0xfffULL : 0;
		if (!initrd_addr || initrd_addr < ((end + 0xfff) & ~0xfffULL)) {
			fprintf(stderr, "hvx-run: initrd %s (%zu bytes) does not fit in guest RAM above the kernel (up to 0x%llx); give more --mem\n",
				o->initrd, isize, (unsigned long long)end);
			free(initrd);
			return -1;
		}
		memcpy((char *)r->mem + initrd_addr, initrd, isize);
		free(initrd);
		mod = (void *)((char *)r->mem + MODLIST_ADDR);
		mod->paddr = initrd_addr;
		mod->size = isize;
		si->modlist_paddr = MODLIST_ADDR;
		si->nr_modules = 1;
	}
	r->entry = (struct run_entry){
		.mode = HVX_MODE_PROT32, .rip = entry, .rbx = START_INFO_ADDR,
	};
	return 0;
}
