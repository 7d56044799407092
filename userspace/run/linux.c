// SPDX-License-Identifier: GPL-2.0
/*
 * Linux bzImage loader, x86 boot protocol 2.06 and later, 64-bit entry
 * (Documentation/arch/x86/boot.rst, "64-bit Boot Protocol"): the
 * protected-mode kernel at 1M, a zero page (struct boot_params) with the
 * setup header copied from the image, an e820 map, the command line and
 * the initrd, then entry at the kernel's startup_64 (load address + 0x200)
 * in long mode with an identity map of the first 4G, a GDT whose 0x10 is
 * flat 64-bit code and 0x18 flat data, interrupts off and RSI pointing at
 * the zero page.  No BIOS runs: of the tables a BIOS would leave the
 * kernel finds only the MP table (mptable.c), no ACPI or SMBIOS.  An ELF
 * kernel (vmlinux) goes to its PVH entry instead (pvh.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvx-run.h"

/* boot_params offsets (arch/x86/include/uapi/asm/bootparam.h) */
#define BP_SIZE			4096
#define BP_E820_ENTRIES		0x1e8
#define BP_HDR			0x1f1
#define BP_E820_TABLE		0x2d0
#define BP_E820_MAX		128

/* setup header fields, as offsets in the image and in boot_params */
#define HDR_SETUP_SECTS		0x1f1
#define HDR_BOOT_FLAG		0x1fe
#define HDR_JUMP		0x200
#define HDR_MAGIC		0x202
#define HDR_VERSION		0x206
#define HDR_TYPE_OF_LOADER	0x210
#define HDR_LOADFLAGS		0x211
#define HDR_CODE32_START	0x214
#define HDR_RAMDISK_IMAGE	0x218
#define HDR_RAMDISK_SIZE	0x21c
#define HDR_HEAP_END_PTR	0x224
#define HDR_CMD_LINE_PTR	0x228
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_KERNEL_ALIGNMENT	0x230
#define HDR_RELOCATABLE		0x234
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_PREF_ADDRESS	0x258
#define HDR_INIT_SIZE		0x260

#define LOADED_HIGH		0x01
#define XLF_KERNEL_64		0x01

#define KERNEL_ADDR		0x100000ULL	/* where the protected-mode kernel goes */
#define ZERO_PAGE_ADDR		0x10000ULL
#define CMDLINE_ADDR		0x20000ULL
#define CMDLINE_MAX		(RUN_EBDA_START - CMDLINE_ADDR)
#define STACK_TOP		0x9f000ULL

static __u32 get(const __u8 *p, unsigned int off, unsigned int size)
{
	__u32 v = 0;

	memcpy(&v, p + off, size);
	return v;
}

static void put(__u8 *p, unsigned int off, unsigned int size, __u64 v)
{
	memcpy(p + off, &v, size);
}

int load__linux(struct hvx_runner *r, const struct run_options *o)
{
	__u64 kernel_end, init_end, pref, initrd_max, initrd_addr = 0;
	size_t size, setup_size, pm_size, initrd_size = 0, cmdline_len;
	unsigned int version, setup_sects, hdr_end, nmap, i;
	struct mem_range map[8];
	__u8 *img, *bp, *initrd = NULL;
	__u32 cmdline_max;

	if (load__file("kernel", o->image, (void **)&img, &size))
		return -1;
	if (load__is_elf(img, size)) {
		int ret = load__pvh(r, o, img, size);

		free(img);
		return ret;
	}
	if (size < 0x1000 || get(img, HDR_MAGIC, 4) != 0x53726448 /* "HdrS" */ ||
	    get(img, HDR_BOOT_FLAG, 2) != 0xaa55) {
		fprintf(stderr, "hvx-run: %s: neither a Linux bzImage (no \"HdrS\" setup header) nor an ELF kernel\n",
			o->image);
		goto error;
	}
	version = get(img, HDR_VERSION, 2);
	if (version < 0x206) {
		fprintf(stderr, "hvx-run: %s: boot protocol %u.%02u, hvx-run needs 2.06 or later\n",
			o->image, version >> 8, version & 0xff);
		goto error;
	}
	if (!(get(img, HDR_LOADFLAGS, 1) & LOADED_HIGH) ||
	    !(get(img, HDR_XLOADFLAGS, 2) & XLF_KERNEL_64)) {
		fprintf(stderr, "hvx-run: %s: not a 64-bit bzImage with a 64-bit entry point (xloadflags)\n",
			o->image);
		goto error;
	}
	setup_sects = get(img, HDR_SETUP_SECTS, 1);
	if (!setup_sects)
		setup_sects = 4;
	setup_size = (setup_sects + 1) * 512ULL;
	if (setup_size >= size) {
		fprintf(stderr, "hvx-run: %s: truncated (setup of %zu bytes, file of %zu)\n",
			o->image, setup_size, size);
		goto error;
	}
	pm_size = size - setup_size;

	/*
	 * The kernel decompresses itself to pref_address (or its own load
	 * address when relocatable and higher) and needs init_size bytes there.
	 */
	pref = ((__u64)get(img, HDR_PREF_ADDRESS + 4, 4) << 32) | get(img, HDR_PREF_ADDRESS, 4);
	kernel_end = KERNEL_ADDR + pm_size;
	init_end = (pref > KERNEL_ADDR ? pref : KERNEL_ADDR) + get(img, HDR_INIT_SIZE, 4);
	if (init_end < kernel_end)
		init_end = kernel_end;
	if (init_end > r->mem_size) {
		fprintf(stderr, "hvx-run: %s: the kernel needs RAM up to 0x%llx to boot; --mem %lluM is too small\n",
			o->image, (unsigned long long)init_end, r->mem_size >> 20);
		goto error;
	}

	cmdline_len = o->append ? strlen(o->append) : 0;
	cmdline_max = get(img, HDR_CMDLINE_SIZE, 4);
	if (cmdline_len > cmdline_max || cmdline_len >= CMDLINE_MAX) {
		fprintf(stderr, "hvx-run: --append: %zu bytes, the kernel takes at most %u\n",
			cmdline_len, cmdline_max);
		goto error;
	}

	if (o->initrd) {
		if (load__file("initrd", o->initrd, (void **)&initrd, &initrd_size))
			goto error;
		initrd_max = get(img, HDR_INITRD_ADDR_MAX, 4);
		if (initrd_max >= r->mem_size)
			initrd_max = r->mem_size - 1;
		/* As high as it goes, page aligned, above the kernel's decompression area. */
		if (initrd_size <= initrd_max + 1) {
			initrd_addr = (initrd_max + 1 - initrd_size) & ~0xfffULL;
		}
		if (initrd_size > initrd_max + 1 || initrd_addr < init_end) {
			fprintf(stderr, "hvx-run: initrd %s (%zu bytes) does not fit in guest RAM between the kernel (up to 0x%llx) and 0x%llx; give more --mem\n",
				o->initrd, initrd_size, (unsigned long long)init_end,
				(unsigned long long)initrd_max + 1);
			goto error;
		}
		memcpy((char *)r->mem + initrd_addr, initrd, initrd_size);
		free(initrd);
		initrd = NULL;
	}

	memcpy((char *)r->mem + KERNEL_ADDR, img + setup_size, pm_size);

	/* The zero page: the setup header as the image has it, then ours. */
	bp = (__u8 *)r->mem + ZERO_PAGE_ADDR;
	memset(bp, 0, BP_SIZE);
	hdr_end = HDR_JUMP + 2 + get(img, HDR_JUMP + 1, 1);	/* jump's target ends the header */
	if (hdr_end > BP_SIZE)
		hdr_end = BP_SIZE;
	memcpy(bp + BP_HDR, img + BP_HDR, hdr_end - BP_HDR);
	put(bp, HDR_TYPE_OF_LOADER, 1, 0xff);		/* undefined boot loader */
	put(bp, HDR_CODE32_START, 4, KERNEL_ADDR);
	put(bp, HDR_CMD_LINE_PTR, 4, CMDLINE_ADDR);
	put(bp, HDR_RAMDISK_IMAGE, 4, initrd_addr);
	put(bp, HDR_RAMDISK_SIZE, 4, initrd_size);
	put(bp, HDR_HEAP_END_PTR, 2, 0);
	memset((char *)r->mem + CMDLINE_ADDR, 0, cmdline_len + 1);
	if (cmdline_len)
		memcpy((char *)r->mem + CMDLINE_ADDR, o->append, cmdline_len);
	r->cmdline_max = cmdline_max < CMDLINE_MAX - 1 ? cmdline_max : CMDLINE_MAX - 1;

	nmap = load__memmap(r, map);
	for (i = 0; i < nmap && i < BP_E820_MAX; i++) {
		__u8 *e = bp + BP_E820_TABLE + i * 20;

		put(e, 0, 8, map[i].base);
		put(e, 8, 8, map[i].len);
		put(e, 16, 4, map[i].type);
	}
	put(bp, BP_E820_ENTRIES, 1, i);

	free(img);
	r->entry = (struct run_entry){
		.mode = HVX_MODE_LONG, .rip = KERNEL_ADDR + 0x200, .rsp = STACK_TOP,
		.rsi = ZERO_PAGE_ADDR, .linux_cs = 1,
	};
	return 0;

error:
	free(initrd);
	free(img);
	return -1;
}

/* Whether the command line @line has a word that starts with @key. */
static int cmdline_has(const char *line, const char *key)
{
	const char *p;

	for (p = strstr(line, key); p; p = strstr(p + 1, key))
		if (p == line || p[-1] == ' ')
			return 1;
	return 0;
}

/* Appends @word to the bzImage's command line, unless it would not fit. */
static void cmdline_add(struct hvx_runner *r, const char *word)
{
	char *line = (char *)r->mem + CMDLINE_ADDR;
	size_t len = strlen(line), n = strlen(word);

	if (len + !!len + n > r->cmdline_max)
		return;
	if (len)
		line[len++] = ' ';
	memcpy(line + len, word, n + 1);
}

/*
 * Once the VM exists (images load before /dev/hvx is opened), words for
 * a bzImage's command line that the user's --append does not set:
 *
 * "tsc_early_khz=" with the TSC's frequency (HVX_CAP_TSC_KHZ) where the
 * guest cannot read it from CPUID.  Linux reads it from leaf 0x15 only
 * on Intel, and the kernel fills that leaf only with the APIC in the
 * kernel; otherwise Linux calibrates the TSC against the PIT, which fails
 * or errs on a busy or emulated host, and runs without the TSC clock
 * source and the TSC-deadline timer.
 *
 * "pci=off": the PC has no PCI device.  Configuration mechanism #1
 * answers, for none, and Linux would scan for devices through it: on
 * AMD its early scan reads all 256 buses, about 17,000 probes of two
 * exits each, half the exits of a boot.
 */
void linux__cmdline(struct hvx_runner *r)
{
	char *line = (char *)r->mem + CMDLINE_ADDR, add[40];
	__u64 vendor = 0, khz = 0;

	if (!r->cmdline_max)
		return;
	if (!hvx_check_cap(&r->sys, HVX_CAP_VENDOR, &vendor) &&
	    !(vendor == HVX_VENDOR_INTEL && r->apic) &&
	    !hvx_check_cap(&r->sys, HVX_CAP_TSC_KHZ, &khz) && khz &&
	    !cmdline_has(line, "tsc_early_khz=")) {
		snprintf(add, sizeof(add), "tsc_early_khz=%llu", (unsigned long long)khz);
		cmdline_add(r, add);
	}
	if (!cmdline_has(line, "pci="))
		cmdline_add(r, "pci=off");
}
