// SPDX-License-Identifier: GPL-2.0
/*
 * Multiboot (version 1) loader for ELF32 kernels, the way hypervisor test
 * suites boot under QEMU: PT_LOAD segments at their physical addresses,
 * the rest of each segment (bss) zeroed; entry in 32-bit protected mode,
 * paging off, with EAX = 0x2BADB002 and EBX = the multiboot_info, which
 * gives mem_lower/mem_upper, a memory map, the command line (the kernel's
 * path, then --append) and the --module files, page-aligned after the
 * kernel.  The a.out kludge (header flag 16) is supported for non-ELF
 * kernels.  Multiboot Specification 0.6.96, sections 3.1-3.3.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "hvx-run.h"

#define MB_MAGIC		0x1BADB002U
#define MB_BOOT_MAGIC		0x2BADB002U
#define MB_SEARCH		8192
#define MB_FLAG_PAGE_ALIGN	(1U << 0)
#define MB_FLAG_MEMINFO		(1U << 1)
#define MB_FLAG_VIDEO		(1U << 2)
#define MB_FLAG_AOUT		(1U << 16)

#define MBI_MEM			(1U << 0)
#define MBI_CMDLINE		(1U << 2)
#define MBI_MODS		(1U << 3)
#define MBI_MMAP		(1U << 6)
#define MBI_LOADER		(1U << 9)

/*
 * Where hvx-run puts the boot information: low memory, clear of its
 * tables, unless the kernel or a module is there; then above them.
 */
#define MBI_ADDR		0x9000ULL
#define MBI_END			RUN_EBDA_START

struct mb_header {
	__u32 magic, flags, checksum;
	__u32 header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

struct mb_info {
	__u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	__u32 syms[4];
	__u32 mmap_length, mmap_addr;
	__u32 drives_length, drives_addr, config_table, boot_loader_name;
	__u32 apm_table;
	__u32 vbe[6];
};

struct mb_module {
	__u32 mod_start, mod_end, string, reserved;
};

struct mb_mmap {
	__u32 size;
	__u64 base, len;
	__u32 type;
} __attribute__((packed));

static const struct mb_header *find_header(const __u8 *img, size_t size, size_t *off)
{
	size_t i;

	for (i = 0; i + 12 <= size && i < MB_SEARCH; i += 4) {
		const struct mb_header *h = (const void *)(img + i);

		if (h->magic == MB_MAGIC && h->magic + h->flags + h->checksum == 0) {
			*off = i;
			return h;
		}
	}
	return NULL;
}

/*
 * Checks that [addr, addr+len) is guest RAM a kernel may have: above
 * hvx-run's tables (HVX_GUEST_LOAD_MIN) and outside the EBDA and ROM area
 * below 1M.
 */
static int fits(const struct hvx_runner *r, const char *path, const char *what, __u64 addr,
		__u64 len)
{
	if (addr < HVX_GUEST_LOAD_MIN) {
		fprintf(stderr, "hvx-run: %s: %s at 0x%llx..0x%llx overlaps hvx-run's tables below 0x%llx\n",
			path, what, (unsigned long long)addr, (unsigned long long)(addr + len),
			HVX_GUEST_LOAD_MIN);
		return 0;
	}
	if (addr < RUN_HIGH_START && addr + len > RUN_EBDA_START) {
		fprintf(stderr, "hvx-run: %s: %s at 0x%llx..0x%llx overlaps the EBDA and ROM area 0x%llx..0x%llx\n",
			path, what, (unsigned long long)addr, (unsigned long long)(addr + len),
			RUN_EBDA_START, RUN_HIGH_START);
		return 0;
	}
	if (addr >= r->mem_size || len > r->mem_size - addr) {
		fprintf(stderr, "hvx-run: %s: %s at 0x%llx..0x%llx does not fit in %lluK of guest RAM\n",
			path, what, (unsigned long long)addr, (unsigned long long)(addr + len),
			r->mem_size >> 10);
		return 0;
	}
	return 1;
}

static int load_elf(struct hvx_runner *r, const char *path, const __u8 *img, size_t size,
		    __u64 *start, __u64 *end, __u32 *entry)
{
	const Elf32_Ehdr *eh = (const void *)img;
	unsigned int i;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG)) {
		fprintf(stderr, "hvx-run: %s: not an ELF file and no a.out kludge in its multiboot header\n",
			path);
		return -1;
	}
	if (eh->e_ident[EI_CLASS] != ELFCLASS32 || eh->e_machine != EM_386) {
		fprintf(stderr, "hvx-run: %s: not a 32-bit x86 ELF (multiboot kernels are ELF32, EM_386)\n",
			path);
		return -1;
	}
	if (eh->e_phentsize != sizeof(Elf32_Phdr) || eh->e_phnum == 0 ||
	    eh->e_phoff > size || (size_t)eh->e_phnum * sizeof(Elf32_Phdr) > size - eh->e_phoff) {
		fprintf(stderr, "hvx-run: %s: malformed ELF program headers\n", path);
		return -1;
	}
	*start = ~0ULL;
	*end = 0;
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf32_Phdr *ph = (const void *)(img + eh->e_phoff + i * sizeof(*ph));

		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		if (ph->p_filesz > ph->p_memsz || ph->p_offset > size ||
		    ph->p_filesz > size - ph->p_offset) {
			fprintf(stderr, "hvx-run: %s: segment %u lies outside the file\n", path, i);
			return -1;
		}
		if (!fits(r, path, "a segment", ph->p_paddr, ph->p_memsz))
			return -1;
		memcpy((char *)r->mem + ph->p_paddr, img + ph->p_offset, ph->p_filesz);
		memset((char *)r->mem + ph->p_paddr + ph->p_filesz, 0,
		       ph->p_memsz - ph->p_filesz);
		if (ph->p_paddr < *start)
			*start = ph->p_paddr;
		if ((__u64)ph->p_paddr + ph->p_memsz > *end)
			*end = (__u64)ph->p_paddr + ph->p_memsz;
	}
	if (!*end) {
		fprintf(stderr, "hvx-run: %s: no loadable segment\n", path);
		return -1;
	}
	*entry = eh->e_entry;
	return 0;
}

static int load_aout(struct hvx_runner *r, const char *path, const __u8 *img, size_t size,
		     const struct mb_header *h, size_t hoff, __u64 *start, __u64 *end,
		     __u32 *entry)
{
	__u64 file_off, load_end, bss_end;

	if (hoff + sizeof(*h) > size || h->header_addr < h->load_addr ||
	    h->header_addr - h->load_addr > hoff) {
		fprintf(stderr, "hvx-run: %s: malformed multiboot address fields\n", path);
		return -1;
	}
	file_off = hoff - (h->header_addr - h->load_addr);
	load_end = h->load_end_addr ? h->load_end_addr : h->load_addr + (size - file_off);
	bss_end = h->bss_end_addr > load_end ? h->bss_end_addr : load_end;
	if (load_end < h->load_addr || load_end - h->load_addr > size - file_off) {
		fprintf(stderr, "hvx-run: %s: multiboot load_end_addr lies beyond the file\n", path);
		return -1;
	}
	if (!fits(r, path, "the kernel", h->load_addr, bss_end - h->load_addr))
		return -1;
	memcpy((char *)r->mem + h->load_addr, img + file_off, load_end - h->load_addr);
	memset((char *)r->mem + load_end, 0, bss_end - load_end);
	*start = h->load_addr;
	*end = bss_end;
	*entry = h->entry_addr;
	return 0;
}

/* Copies a string into the info area at *at, below @limit; returns its address or 0. */
static __u32 put_string(struct hvx_runner *r, __u64 *at, __u64 limit, const char *s)
{
	size_t len = strlen(s) + 1;
	__u64 addr = *at;

	if (addr + len > limit)
		return 0;
	memcpy((char *)r->mem + addr, s, len);
	*at += (len + 3) & ~3ULL;
	return addr;
}

/* Whether [a, a_end) and [b, b_end) share a byte. */
static int overlap(__u64 a, __u64 a_end, __u64 b, __u64 b_end)
{
	return a < b_end && b < a_end;
}

/*
 * Loads the modules page-aligned after the kernel (from 1M on if one
 * would reach the EBDA) into @mods; *@top: the end of the last one.
 */
static int load_modules(struct hvx_runner *r, const struct run_options *o,
			struct mb_module *mods, __u64 *top)
{
	__u64 mod_at = (*top + 0xfff) & ~0xfffULL;
	unsigned int i;

	for (i = 0; i < o->nr_modules; i++) {
		char *path = strdup(o->modules[i]), *sp;
		size_t msize;
		void *mimg;

		if (!path) {
			fprintf(stderr, "hvx-run: out of memory\n");
			return -1;
		}
		/* "FILE ARGS": the file is the first word, the string all of it. */
		sp = strchr(path, ' ');
		if (sp)
			*sp = '\0';
		if (load__file("module", path, &mimg, &msize)) {
			free(path);
			return -1;
		}
		if (mod_at < RUN_HIGH_START && mod_at + msize > RUN_EBDA_START)
			mod_at = RUN_HIGH_START;
		if (!fits(r, path, "the module", mod_at, msize)) {
			free(mimg);
			free(path);
			return -1;
		}
		memcpy((char *)r->mem + mod_at, mimg, msize);
		free(mimg);
		free(path);
		mods[i] = (struct mb_module){ .mod_start = mod_at, .mod_end = mod_at + msize };
		*top = mod_at + msize;
		mod_at = (*top + 0xfff) & ~0xfffULL;
	}
	return 0;
}

int load__multiboot(struct hvx_runner *r, const struct run_options *o)
{
	struct mb_module mods[RUN_MAX_MODULES];
	struct mem_range map[8];
	const struct mb_header *h;
	__u64 start, end, top, info, info_end, at;
	struct mb_info *mbi;
	struct mb_mmap *mm;
	unsigned int i, nmap;
	size_t size, hoff;
	__u32 entry;
	char *cmdline;
	void *img;

	if (load__file("multiboot kernel", o->image, &img, &size))
		return -1;
	h = find_header(img, size, &hoff);
	if (!h) {
		fprintf(stderr, "hvx-run: %s: no multiboot header in its first 8K\n", o->image);
		goto error;
	}
	if (h->flags & MB_FLAG_VIDEO)
		fprintf(stderr, "hvx-run: %s: warning: no video mode to give (multiboot flag 2)\n",
			o->image);
	if (h->flags & MB_FLAG_AOUT) {
		if (load_aout(r, o->image, img, size, h, hoff, &start, &end, &entry))
			goto error;
	} else if (load_elf(r, o->image, img, size, &start, &end, &entry)) {
		goto error;
	}
	free(img);
	img = NULL;

	top = end;
	if (o->nr_modules > RUN_MAX_MODULES || load_modules(r, o, mods, &top))
		return -1;

	/*
	 * The boot information: mbi, memory map, strings, module list, in low
	 * memory unless the kernel or its modules are there (a kernel may
	 * load from 0x8000 on); then page-aligned above all of them.
	 */
	info = MBI_ADDR;
	info_end = MBI_END;
	if (overlap(start, top, MBI_ADDR, MBI_END)) {
		info = top > RUN_HIGH_START ? (top + 0xfff) & ~0xfffULL : RUN_HIGH_START;
		info_end = r->mem_size;
		if (info + sizeof(*mbi) > info_end) {
			fprintf(stderr, "hvx-run: %s: no room for the boot information after the kernel and modules\n",
				o->image);
			return -1;
		}
	}
	mbi = (void *)((char *)r->mem + info);
	memset(mbi, 0, sizeof(*mbi));
	at = info + sizeof(*mbi);
	mbi->flags = MBI_MEM | MBI_MMAP | MBI_CMDLINE | MBI_LOADER;
	mbi->mem_lower = RUN_EBDA_START >> 10;
	mbi->mem_upper = (r->mem_size - RUN_HIGH_START) >> 10;

	nmap = load__memmap(r, map);
	if (at + nmap * sizeof(*mm) > info_end)
		goto full;
	mm = (void *)((char *)r->mem + at);
	mbi->mmap_addr = at;
	for (i = 0; i < nmap; i++) {
		mm[i] = (struct mb_mmap){ .size = 20, .base = map[i].base, .len = map[i].len,
					  .type = map[i].type };
	}
	mbi->mmap_length = nmap * sizeof(*mm);
	at += mbi->mmap_length;

	cmdline = malloc(strlen(o->image) + 2 + (o->append ? strlen(o->append) : 0));
	if (!cmdline) {
		fprintf(stderr, "hvx-run: out of memory\n");
		return -1;
	}
	strcpy(cmdline, o->image);
	if (o->append && *o->append) {
		strcat(cmdline, " ");
		strcat(cmdline, o->append);
	}
	mbi->cmdline = put_string(r, &at, info_end, cmdline);
	free(cmdline);
	mbi->boot_loader_name = put_string(r, &at, info_end, "hvx-run");
	if (!mbi->cmdline || !mbi->boot_loader_name) {
		fprintf(stderr, "hvx-run: %s: command line too long for the boot information\n",
			o->image);
		return -1;
	}

	if (o->nr_modules) {
		struct mb_module *list;

		at = (at + 15) & ~15ULL;
		if (at + o->nr_modules * sizeof(*list) > info_end)
			goto full;
		list = (void *)((char *)r->mem + at);
		mbi->mods_addr = at;
		mbi->mods_count = o->nr_modules;
		mbi->flags |= MBI_MODS;
		at += o->nr_modules * sizeof(*list);
		for (i = 0; i < o->nr_modules; i++) {
			list[i] = mods[i];
			list[i].string = put_string(r, &at, info_end, o->modules[i]);
			if (!list[i].string) {
				fprintf(stderr, "hvx-run: module strings too long for the boot information\n");
				return -1;
			}
		}
	}

	r->entry = (struct run_entry){
		.mode = HVX_MODE_PROT32, .rip = entry, .rax = MB_BOOT_MAGIC, .rbx = info,
	};
	return 0;

full:
	fprintf(stderr, "hvx-run: %s: boot information does not fit below 0x%llx\n",
		o->image, (unsigned long long)info_end);
	return -1;
error:
	free(img);
	return -1;
}
