// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run: boot a guest under hvx.  Parses the command line, loads the
 * image into guest RAM (Linux bzImage, multiboot kernel or flat binary),
 * creates the VM, sets up the platform devices and runs the vCPU.  See
 * hvx-run.1 and --help.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/mman.h>

#include "hvx-run.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hvx-run [OPTIONS] --kernel BZIMAGE [--initrd FILE] [--append CMDLINE]\n"
		"       hvx-run [OPTIONS] --multiboot ELF [--module 'FILE [ARGS]']... [--append ARGS]\n"
		"       hvx-run [OPTIONS] --flat FILE --entry MODE:ADDR\n"
		"\n"
		"Boots a guest in a new hvx VM with a serial console on stdin/stdout.\n"
		"\n"
		"Guest images (exactly one):\n"
		"  -k, --kernel FILE   Linux bzImage (boot protocol 2.06+), entered at its 64-bit entry,\n"
		"                      or an ELF kernel (vmlinux) with a PVH entry point note\n"
		"  -i, --initrd FILE   initramfs for --kernel, placed as high as the kernel allows\n"
		"                      (module 0 of the PVH start info for an ELF kernel)\n"
		"  -p, --append STRING kernel command line (--kernel) or arguments after the kernel's\n"
		"                      path in the multiboot command line (--multiboot)\n"
		"  --multiboot FILE    multiboot v1 kernel (ELF32, or a.out kludge), entered in 32-bit\n"
		"                      protected mode with EAX=0x2BADB002, EBX=multiboot info\n"
		"  --module 'FILE [ARGS]'  a multiboot module (repeatable, at most %d); the module's\n"
		"                      string is the whole argument\n"
		"  --flat FILE         raw binary, loaded at ADDR (needs --entry)\n"
		"  --entry MODE:ADDR   load address and entry point of --flat; MODE is one of\n"
		"                        real    real mode, ADDR < 1M: CS = ADDR >> 4 & 0xf000, IP = ADDR & 0xffff\n"
		"                        prot32  32-bit protected mode, flat segments, paging off\n"
		"                        long    64-bit mode, first 4G identity-mapped with 2M pages\n"
		"                      prot32 and long keep their GDT and page tables at 0x1000..0x7fff,\n"
		"                      so ADDR must be >= 0x8000 there.  The stack pointer starts at ADDR.\n"
		"\n"
		"Machine:\n"
		"  -m, --mem SIZE      guest RAM (default 256M; 2M..3G): a decimal number of MiB,\n"
		"                      or with suffix K, M or G (512 and 512M are the same)\n"
		"  -c, --cpus N        vCPUs, 1 to %d (default 1), each a thread; the firmware's MP\n"
		"                      table describes them, the local APICs and the I/O APIC\n"
		"  --paging MODE       auto (default), nested (NPT/EPT) or shadow\n"
		"  --no-apic           a PC without local APIC and I/O APIC (one vCPU, the PIC only);\n"
		"                      the default when the hvx module has no in-kernel APIC\n"
		"  --hugetlb           guest RAM on 2M huge pages reserved in /proc/sys/vm/nr_hugepages\n"
		"                      (SIZE a multiple of 2M); else transparent huge pages if any\n"
		"\n"
		"Diagnostics:\n"
		"  -v, --verbose       report unhandled ports, MMIO, MSRs and an exit count summary\n"
		"  --trace N           print the first N exits to userspace on stderr\n"
		"  -V, --version       print hvx-run's version and exit\n"
		"  -h, --help          this text\n"
		"\n"
		"Devices: 16550A UART on COM1 (0x3f8, IRQ 4), i8254 PIT (0x40-0x43, IRQ 0; port 0x61),\n"
		"i8259 PIC pair with ELCR (0x20, 0xa0, 0x4d0), local APICs (0xfee00000) and a 24-pin\n"
		"I/O APIC (0xfec00000) in the kernel, CMOS/RTC (0x70), fw_cfg (0x510), PCI\n"
		"configuration mechanism #1 with no devices (0xcf8), resets through 0x64, 0xcf9 and\n"
		"0x92, isa-debug-exit (0xf4).  Other ports and all MMIO read all-ones.\n"
		"For Linux: --append 'console=ttyS0 earlyprintk=serial,ttyS0,115200 ...'.\n"
		"\n"
		"Console: when stdin is a terminal it is put in raw mode and restored at exit;\n"
		"Ctrl-A x ends hvx-run, Ctrl-A Ctrl-A sends a Ctrl-A.\n"
		"\n"
		"Exit status: odd is the guest's, even is hvx-run's own.\n"
		"  (V << 1) | 1  the guest wrote V to port 0xf4 (isa-debug-exit, as in QEMU)\n"
		"  0             the guest reset or halted with interrupts off (Linux's poweroff\n"
		"                and reboot), or Ctrl-A x\n"
		"  %d             usage error or bad image\n"
		"  %d             the VM cannot go on: VM entry failure, internal error, or an MMIO\n"
		"                instruction that cannot be decoded\n"
		"  %d             hvx-run could not set up or run the VM (/dev/hvx, an ioctl)\n"
		"  %d             the guest shut down (triple fault)\n"
		"SIGINT, SIGTERM and SIGHUP stop the guest; hvx-run then ends by the same signal\n"
		"(a shell shows 128+N).\n",
		RUN_MAX_MODULES, RUN_MAX_CPUS, HVX_RUN_EXIT_USAGE, HVX_RUN_EXIT_VM_ERROR, HVX_RUN_EXIT_HOST,
		HVX_RUN_EXIT_SHUTDOWN);
}

/*
 * "512" (MiB without a unit, as in QEMU and kvmtool), "64M", "1G",
 * "65536K": bytes, or 0 when malformed.  Decimal only, so that "0100" is
 * not 64 MiB.
 */
static unsigned long long parse_size(const char *s)
{
	unsigned long long v, mult = 1ULL << 20;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return 0;
	switch (*end) {
	case 'k': case 'K':
		mult = 1ULL << 10;
		end++;
		break;
	case 'm': case 'M':
		end++;
		break;
	case 'g': case 'G':
		mult = 1ULL << 30;
		end++;
		break;
	}
	if (*end || v > ~0ULL / mult)
		return 0;
	return v * mult;
}

static int parse_entry(const char *arg, struct run_options *o)
{
	static const struct {
		const char *name;
		enum hvx_mode mode;
	} modes[] = {
		{ "real", HVX_MODE_REAL },
		{ "prot32", HVX_MODE_PROT32 },
		{ "long", HVX_MODE_LONG },
	};
	const char *colon = strchr(arg, ':');
	char *end;
	size_t i;

	if (!colon) {
		fprintf(stderr, "hvx-run: --entry '%s': expected MODE:ADDR, e.g. long:0x100000\n", arg);
		return -1;
	}
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strlen(modes[i].name) == (size_t)(colon - arg) &&
		    !strncmp(arg, modes[i].name, colon - arg))
			break;
	}
	if (i == sizeof(modes) / sizeof(modes[0])) {
		fprintf(stderr, "hvx-run: --entry '%s': unknown mode '%.*s' (real, prot32 or long)\n",
			arg, (int)(colon - arg), arg);
		return -1;
	}
	errno = 0;
	o->entry = strtoull(colon + 1, &end, 0);
	if (errno || end == colon + 1 || *end || colon[1] == '-') {
		fprintf(stderr, "hvx-run: --entry '%s': '%s' is not an address\n", arg, colon + 1);
		return -1;
	}
	o->mode = modes[i].mode;
	o->have_entry = 1;
	return 0;
}

static int set_image(struct run_options *o, enum run_kind kind, const char *opt,
		     const char *path)
{
	if (o->kind != RUN_KIND_NONE) {
		fprintf(stderr, "hvx-run: %s: only one of --kernel, --multiboot and --flat may be given\n",
			opt);
		return -1;
	}
	o->kind = kind;
	o->image = path;
	return 0;
}

static int parse_number(const char *opt, const char *arg, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(arg, &end, 0);
	if (errno || end == arg || *end || *arg == '-') {
		fprintf(stderr, "hvx-run: %s '%s': expected a number\n", opt, arg);
		return -1;
	}
	return 0;
}

static int check_options(struct run_options *o)
{
	if (o->kind == RUN_KIND_NONE) {
		fprintf(stderr, "hvx-run: no guest image: give --kernel, --multiboot or --flat (see --help)\n");
		return -1;
	}
	if (o->initrd && o->kind != RUN_KIND_LINUX) {
		fprintf(stderr, "hvx-run: --initrd goes with --kernel\n");
		return -1;
	}
	if (o->nr_modules && o->kind != RUN_KIND_MULTIBOOT) {
		fprintf(stderr, "hvx-run: --module goes with --multiboot\n");
		return -1;
	}
	if (o->append && o->kind == RUN_KIND_FLAT) {
		fprintf(stderr, "hvx-run: --append goes with --kernel or --multiboot\n");
		return -1;
	}
	if (o->have_entry && o->kind != RUN_KIND_FLAT) {
		fprintf(stderr, "hvx-run: --entry goes with --flat\n");
		return -1;
	}
	if (o->hugetlb && o->mem_size % (2ULL << 20)) {
		fprintf(stderr, "hvx-run: --hugetlb: --mem must be a multiple of 2M (huge pages are 2M)\n");
		return -1;
	}
	if (o->no_apic && o->cpus > 1) {
		fprintf(stderr, "hvx-run: --no-apic: more than one vCPU needs the APIC\n");
		return -1;
	}
	if (o->kind != RUN_KIND_FLAT)
		return 0;
	if (!o->have_entry) {
		fprintf(stderr, "hvx-run: no entry point: give --entry real|prot32|long:ADDR\n");
		return -1;
	}
	if (o->mode == HVX_MODE_REAL && o->entry >= 0x100000) {
		fprintf(stderr, "hvx-run: --entry real:0x%llx: real mode reaches only the first 1M\n",
			o->entry);
		return -1;
	}
	if (o->mode != HVX_MODE_REAL && o->entry < HVX_GUEST_LOAD_MIN) {
		fprintf(stderr, "hvx-run: --entry 0x%llx: below 0x%llx, where the GDT and page tables live\n",
			o->entry, HVX_GUEST_LOAD_MIN);
		return -1;
	}
	if (o->entry >= (1ULL << 32)) {
		fprintf(stderr, "hvx-run: --entry 0x%llx: the entry point must be below 4G\n", o->entry);
		return -1;
	}
	return 0;
}

/* Options without a short form: values past any character. */
enum {
	OPT_MULTIBOOT = 256,
	OPT_MODULE,
	OPT_FLAT,
	OPT_ENTRY,
	OPT_PAGING,
	OPT_NO_APIC,
	OPT_HUGETLB,
	OPT_TRACE,
};

/*
 * The short options are those of kvmtool's "lkvm run" (-k, -i, -p, -m in
 * MiB, -c), so that a command line moves between the two.
 */
static int parse_options(int argc, char **argv, struct run_options *o)
{
	static const struct option longopts[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'p' },
		{ "multiboot", required_argument, NULL, OPT_MULTIBOOT },
		{ "module", required_argument, NULL, OPT_MODULE },
		{ "flat", required_argument, NULL, OPT_FLAT },
		{ "entry", required_argument, NULL, OPT_ENTRY },
		{ "paging", required_argument, NULL, OPT_PAGING },
		{ "no-apic", no_argument, NULL, OPT_NO_APIC },
		{ "hugetlb", no_argument, NULL, OPT_HUGETLB },
		{ "verbose", no_argument, NULL, 'v' },
		{ "trace", required_argument, NULL, OPT_TRACE },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long n;
	int c;

	memset(o, 0, sizeof(*o));
	o->mem_size = RUN_MEM_DEFAULT;
	o->cpus = 1;
	o->paging = HVX_PAGING_AUTO;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:i:p:m:c:vVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->mem_size = parse_size(optarg);
			if (!o->mem_size || o->mem_size % 4096) {
				fprintf(stderr, "hvx-run: --mem '%s': expected a size in whole 4K pages, e.g. 512 (MiB), 256M or 1G\n",
					optarg);
				return -1;
			}
			if (o->mem_size < RUN_MEM_MIN || o->mem_size > RUN_MEM_MAX) {
				fprintf(stderr, "hvx-run: --mem '%s': guest RAM must be between 2M and 3G\n",
					optarg);
				return -1;
			}
			break;
		case 'c':
			if (parse_number("--cpus", optarg, &n))
				return -1;
			if (n < 1 || n > RUN_MAX_CPUS) {
				fprintf(stderr, "hvx-run: --cpus %s: expected 1 to %d vCPUs\n",
					optarg, RUN_MAX_CPUS);
				return -1;
			}
			o->cpus = n;
			break;
		case 'k':
			if (set_image(o, RUN_KIND_LINUX, "--kernel", optarg))
				return -1;
			break;
		case OPT_MULTIBOOT:
			if (set_image(o, RUN_KIND_MULTIBOOT, "--multiboot", optarg))
				return -1;
			break;
		case OPT_FLAT:
			if (set_image(o, RUN_KIND_FLAT, "--flat", optarg))
				return -1;
			break;
		case 'i':
			o->initrd = optarg;
			break;
		case 'p':
			o->append = optarg;
			break;
		case OPT_MODULE:
			if (o->nr_modules == RUN_MAX_MODULES) {
				fprintf(stderr, "hvx-run: --module: at most %d modules\n",
					RUN_MAX_MODULES);
				return -1;
			}
			if (!*optarg || *optarg == ' ') {
				fprintf(stderr, "hvx-run: --module '%s': expected 'FILE [ARGS]'\n",
					optarg);
				return -1;
			}
			o->modules[o->nr_modules++] = optarg;
			break;
		case OPT_ENTRY:
			if (parse_entry(optarg, o))
				return -1;
			break;
		case OPT_PAGING:
			if (!strcmp(optarg, "auto")) {
				o->paging = HVX_PAGING_AUTO;
			} else if (!strcmp(optarg, "nested")) {
				o->paging = HVX_PAGING_NESTED;
			} else if (!strcmp(optarg, "shadow")) {
				o->paging = HVX_PAGING_SHADOW;
			} else {
				fprintf(stderr, "hvx-run: --paging '%s': expected auto, nested or shadow\n",
					optarg);
				return -1;
			}
			break;
		case OPT_NO_APIC:
			o->no_apic = 1;
			break;
		case OPT_HUGETLB:
			o->hugetlb = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case OPT_TRACE:
			if (parse_number("--trace", optarg, &o->trace))
				return -1;
			break;
		case 'V':
			printf("hvx-run %s\n", HVX_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, "hvx-run: option '%s' needs an argument (see --help)\n",
				argv[optind - 1]);
			return -1;
		default:
			/* optopt names an unknown short option, even inside "-vx". */
			if (optopt)
				fprintf(stderr, "hvx-run: unknown option '-%c' (see --help)\n",
					optopt);
			else
				fprintf(stderr, "hvx-run: unknown option '%s' (see --help)\n",
					argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hvx-run: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	return check_options(o);
}

static int load_image(struct hvx_runner *r, const struct run_options *o)
{
	switch (o->kind) {
	case RUN_KIND_LINUX:
		return load__linux(r, o);
	case RUN_KIND_MULTIBOOT:
		return load__multiboot(r, o);
	default:
		return load__flat(r, o);
	}
}

/* What to do about a failed open of /dev/hvx (udev/60-hvx.rules, README.md). */
static const char *open_hint(int ret)
{
	switch (ret) {
	case -EACCES:
	case -EPERM:
		return " (it is for root and, with the udev rule 60-hvx.rules that makes it 0660 root:hvx, the members of group hvx: join group hvx or run as root)";
	case -ENOENT:
	case -ENODEV:
	case -ENXIO:
		return " (the hvx module is not loaded: modprobe hvx)";
	case -EPROTO:
		return " (API version mismatch between hvx-run and hvx.ko)";
	}
	return "";
}

static void destroy_vcpus(struct hvx_runner *r)
{
	unsigned int i;

	for (i = 0; i < r->cpus; i++)
		if (r->vcpus[i].vcpu.fd >= 0)
			hvx_vcpu_destroy(&r->vcpus[i].vcpu);
}

/*
 * The APIC goes in the kernel when the module has it (and the I/O APIC
 * with it); more than one vCPU needs it.
 */
static int want_apic(struct hvx_runner *r, const struct run_options *o)
{
	__u64 lapic = 0, pins = 0;

	if (o->no_apic)
		return 0;
	if (hvx_check_cap(&r->sys, HVX_CAP_LAPIC, &lapic) ||
	    hvx_check_cap(&r->sys, HVX_CAP_IOAPIC_PINS, &pins))
		lapic = pins = 0;
	if (lapic && pins >= 24)
		return 1;
	if (o->cpus > 1) {
		fprintf(stderr, "hvx-run: --cpus %u: this hvx module has no in-kernel APIC (HVX_CAP_LAPIC), which more than one vCPU needs\n",
			o->cpus);
		return -1;
	}
	return 0;
}

/*
 * Guest RAM, @size bytes, 2 MiB aligned and advised for transparent huge
 * pages: where the host backs it with 2 MiB pages the module maps guest
 * memory 2 MiB at a time (one nested page fault where 512 would be).
 */
static void *guest_ram(unsigned long long size, int hugetlb)
{
	const unsigned long long huge = 2ULL << 20;
	unsigned long long head;
	char *p;

	/* Reserved at mmap(), so a shortage fails here rather than in the guest. */
	if (hugetlb)
		return mmap(NULL, size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);

	p = mmap(NULL, size + huge, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return p;
	head = (huge - ((unsigned long)p & (huge - 1))) & (huge - 1);
	if (head)
		munmap(p, head);
	munmap(p + head + size, huge - head);
	/* Advice only: a kernel without THP maps 4 KiB pages. */
	madvise(p + head, size, MADV_HUGEPAGE);
	return p + head;
}

/*
 * An AP starts in real mode at its SIPI's vector: refuses more than one
 * vCPU where this CPU cannot run real mode in the VM's paging mode.
 */
static int check_real_mode(struct hvx_runner *r, const struct run_options *o)
{
	__u64 nested = 0, ug = 0, shadow_rm = 0;

	if (o->cpus == 1)
		return 0;
	hvx_check_cap(&r->sys, HVX_CAP_PAGING_NESTED, &nested);
	hvx_check_cap(&r->sys, HVX_CAP_UNRESTRICTED_GUEST, &ug);
	hvx_check_cap(&r->sys, HVX_CAP_SHADOW_REAL_MODE, &shadow_rm);
	if (o->paging == HVX_PAGING_SHADOW)
		nested = 0;
	if (nested ? ug : shadow_rm)
		return 0;
	fprintf(stderr, "hvx-run: --cpus %u: the APs start in real mode, which this CPU cannot run under %s paging%s\n",
		o->cpus, nested ? "nested" : "shadow",
		nested ? "" : ug ? " (use --paging nested)" : "");
	return -1;
}

/* The registers area's components hvx_mmio_complete() reads. */
#define HVX_SYNC_MMIO	(HVX_STATE_REGS | HVX_STATE_SREGS | HVX_STATE_CREGS)

static int create_vm(struct hvx_runner *r, const struct run_options *o)
{
	__u64 batch = 0, sync;
	unsigned int i;
	__u32 flags;
	int ret;

	ret = hvx_open(&r->sys);
	if (ret) {
		fprintf(stderr, "hvx-run: cannot use %s: %s%s\n", HVX_DEVICE_PATH, strerror(-ret),
			open_hint(ret));
		return -1;
	}
	r->apic = want_apic(r, o);
	if (r->apic < 0 || check_real_mode(r, o))
		goto error_close_sys;
	flags = r->apic ? HVX_VM_LAPIC | HVX_VM_IOAPIC : 0;
	/* A REP INS/OUTS in one exit per io_data, where the kernel can. */
	if (!hvx_check_cap(&r->sys, HVX_CAP_STRING_IO_BATCH, &batch) && batch)
		flags |= HVX_VM_STRING_IO_BATCH;
	ret = hvx_vm_create(&r->sys, &r->vm, o->paging, flags);
	if (ret) {
		/* The errnos of a paging mode the CPU lacks (Documentation/api.rst). */
		fprintf(stderr, "hvx-run: HVX_CREATE_VM (paging %s): %s%s\n",
			o->paging == HVX_PAGING_AUTO ? "auto" :
			o->paging == HVX_PAGING_NESTED ? "nested" : "shadow", strerror(-ret),
			o->paging == HVX_PAGING_NESTED && ret == -ENODEV ?
			" (this CPU has no nested paging: use --paging auto or shadow)" :
			o->paging == HVX_PAGING_SHADOW && ret == -EOPNOTSUPP ?
			" (this CPU cannot do shadow paging: use --paging auto or nested)" : "");
		goto error_close_sys;
	}
	ret = hvx_vm_set_region(&r->vm, 0, 0, 0, r->mem_size, r->mem);
	if (ret) {
		fprintf(stderr, "hvx-run: HVX_SET_MEMORY_REGION (slot 0, gpa 0, %lluK): %s\n",
			r->mem_size >> 10, strerror(-ret));
		goto error_destroy_vm;
	}
	if (hvx_check_cap(&r->sys, HVX_CAP_SYNC_REGS, &sync))
		sync = 0;
	for (i = 0; i < r->cpus; i++) {
		struct run_vcpu *v = &r->vcpus[i];

		v->r = r;
		v->id = i;
		ret = hvx_vcpu_create(&r->vm, i, &v->vcpu);
		if (ret) {
			fprintf(stderr, "hvx-run: HVX_CREATE_VCPU %u or mmap of its run page: %s\n",
				i, strerror(-ret));
			goto error_destroy_vcpus;
		}
		if (cpuid__setup(r, &v->vcpu))
			goto error_destroy_vcpus;
		/* MMIO exits complete through the run page, without state ioctls. */
		if ((sync & HVX_SYNC_MMIO) == HVX_SYNC_MMIO)
			v->vcpu.run->sync_valid = HVX_SYNC_MMIO;
	}
	/* A flat image may sit where the table would go; it has no BIOS area. */
	if (r->apic && o->kind != RUN_KIND_FLAT && mptable__write(r))
		goto error_destroy_vcpus;
	return 0;

error_destroy_vcpus:
	destroy_vcpus(r);
error_destroy_vm:
	hvx_vm_destroy(&r->vm);
error_close_sys:
	hvx_close(&r->sys);
	return -1;
}

/* The loader's entry state on top of the vCPU's reset state. */
static int set_entry(struct hvx_runner *r)
{
	const __u64 comps = HVX_STATE_REGS | HVX_STATE_SREGS | HVX_STATE_CREGS;
	const struct run_entry *e = &r->entry;
	struct hvx_vcpu_state st;
	__u64 code64 = 0x00af9b000000ffffULL;	/* flat 64-bit code, as the GDT holds it */
	int ret;

	memset(&st, 0, sizeof(st));
	ret = hvx_vcpu_get_state(&r->vcpus[0].vcpu, &st, comps);
	if (!ret)
		ret = hvx_mode_prepare(r->mem, r->mem_size, e->mode, e->rip, e->rsp, &st);
	if (ret) {
		fprintf(stderr, "hvx-run: setting up the entry at 0x%llx: %s\n",
			(unsigned long long)e->rip, strerror(-ret));
		return -1;
	}
	if (e->linux_cs) {
		/* Linux wants __BOOT_CS = 0x10 (64-bit code) and __BOOT_DS = 0x18. */
		memcpy((char *)r->mem + HVX_LAYOUT_GDT + 0x10, &code64, sizeof(code64));
		st.sregs.cs.selector = 0x10;
	}
	if (e->rax)
		st.regs.rax = e->rax;
	if (e->rbx)
		st.regs.rbx = e->rbx;
	if (e->rsi)
		st.regs.rsi = e->rsi;
	ret = hvx_vcpu_set_state(&r->vcpus[0].vcpu, &st, comps);
	if (ret) {
		fprintf(stderr, "hvx-run: HVX_SET_STATE of the entry state (rip 0x%llx): %s\n",
			(unsigned long long)e->rip, strerror(-ret));
		return -1;
	}
	return 0;
}

static void report_exits(const struct hvx_runner *r)
{
	unsigned int i, n = sizeof(r->exits) / sizeof(r->exits[0]);

	fprintf(stderr, "hvx-run: exits to userspace:");
	for (i = 0; i < n; i++) {
		if (r->exits[i])
			fprintf(stderr, " %s %llu", i == n - 1 ? "UNKNOWN" : hvx_exit_name(i),
				r->exits[i]);
	}
	fputc('\n', stderr);
	fprintf(stderr, "hvx-run: port exits by device:");
	for (i = 0; i < r->nr_io; i++)
		if (r->io[i].exits)
			fprintf(stderr, " %s %llu", r->io[i].name, r->io[i].exits);
	fprintf(stderr, " unclaimed %llu\n", r->io_unclaimed);
}

/*
 * Ends hvx-run by the signal that stopped it, once the terminal is
 * restored and the VM is gone, as a program that cleans up on SIGINT
 * should: its parent sees it killed by sig (a shell stops a script, and
 * shows 128 + sig), which no exit status of a guest can be taken for.
 */
static void end_by_signal(int sig)
{
	sigset_t set;

	fflush(NULL);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

int main(int argc, char **argv)
{
	static struct hvx_runner r;
	struct run_options o;
	unsigned int i;
	int status;

	if (parse_options(argc, argv, &o))
		return HVX_RUN_EXIT_USAGE;

	r.mem_size = o.mem_size;
	r.cpus = o.cpus;
	r.verbose = o.verbose;
	r.trace = o.trace;
	r.stop = -1;
	r.sys.fd = r.vm.fd = -1;
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.wake_bsp, NULL);
	r.vcpus = calloc(r.cpus, sizeof(*r.vcpus));
	if (!r.vcpus) {
		fprintf(stderr, "hvx-run: out of memory for %u vCPUs\n", r.cpus);
		return HVX_RUN_EXIT_HOST;
	}
	for (i = 0; i < r.cpus; i++)
		r.vcpus[i].vcpu.fd = -1;
	if (o.kind == RUN_KIND_FLAT && o.mode != HVX_MODE_REAL && r.mem_size < HVX_LAYOUT_END) {
		fprintf(stderr, "hvx-run: --mem %lluK: too small for the GDT and page tables at 0x1000..0x%llx\n",
			r.mem_size >> 10, HVX_LAYOUT_END - 1);
		return HVX_RUN_EXIT_USAGE;
	}

	/* Guest RAM first: every image error comes before /dev/hvx is touched. */
	r.mem = guest_ram(r.mem_size, o.hugetlb);
	if (r.mem == MAP_FAILED) {
		fprintf(stderr, "hvx-run: cannot allocate %lluK of guest RAM%s: %s%s\n",
			r.mem_size >> 10, o.hugetlb ? " on 2M huge pages" : "", strerror(errno),
			o.hugetlb ? " (--hugetlb needs that many 2M pages free in /proc/sys/vm/nr_hugepages)" : "");
		return HVX_RUN_EXIT_HOST;
	}
	if (load_image(&r, &o)) {
		munmap(r.mem, r.mem_size);
		return HVX_RUN_EXIT_USAGE;
	}

	if (create_vm(&r, &o)) {
		munmap(r.mem, r.mem_size);
		return HVX_RUN_EXIT_HOST;
	}
	linux__cmdline(&r);
	status = HVX_RUN_EXIT_HOST;
	if (set_entry(&r) || pic__init(&r) || pit__init(&r) || uart__init(&r) ||
	    rtc__init(&r) || fw_cfg__init(&r) || sysdev__init(&r) || console__init(&r))
		goto out;

	status = vcpu__run(&r);
	console__flush(&r);
	console__restore();
	if (r.verbose)
		report_exits(&r);
out:
	destroy_vcpus(&r);
	hvx_vm_destroy(&r.vm);
	hvx_close(&r.sys);
	munmap(r.mem, r.mem_size);
	free(r.vcpus);
	if (r.quit_signal)
		end_by_signal(r.quit_signal);
	return status;
}
