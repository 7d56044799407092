// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run: load a flat binary into a fresh hvx VM, enter it in real,
 * 32-bit protected or 64-bit long mode, and run it with a serial console
 * on stdout and a debug-exit port for its exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "hvx-run.h"

#define DEFAULT_MEM_SIZE	(64ULL << 20)
#define PAGE_SIZE		4096ULL

struct run_options {
	unsigned long long mem_size;
	const char *flat;
	enum hvx_mode mode;
	unsigned long long entry;
	int have_entry;
	__u32 paging;
	int verbose;
	unsigned long trace;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hvx-run [--mem SIZE] --flat FILE --entry MODE:ADDR [--paging MODE] [--verbose]\n"
		"\n"
		"Loads the flat binary FILE at guest-physical ADDR in a new hvx VM and runs it.\n"
		"\n"
		"  --mem SIZE          guest RAM at guest-physical 0 (default 64M; suffix K, M or G)\n"
		"  --flat FILE         raw binary image to load\n"
		"  --entry MODE:ADDR   load address and entry point; MODE is one of\n"
		"                        real    real mode, ADDR < 1M: CS = ADDR >> 4 & 0xf000, IP = ADDR & 0xffff\n"
		"                        prot32  32-bit protected mode, flat segments, paging off\n"
		"                        long    64-bit mode, first 4G identity-mapped with 2M pages\n"
		"                      prot32 and long keep their GDT and page tables at 0x1000..0x7fff,\n"
		"                      so ADDR must be >= 0x8000 there.  The stack pointer starts at ADDR.\n"
		"  --paging MODE       auto (default), nested (NPT/EPT) or shadow\n"
		"  --verbose, -v       report unhandled ports, MMIO and an exit count summary on stderr\n"
		"  --trace N           print the first N exits to userspace on stderr\n"
		"  --help, -h          this text\n"
		"\n"
		"Devices: COM1 UART transmit at 0x3f8 (to stdout; LSR at 0x3fd reads 0x60), debug-exit at\n"
		"port 0xf4; other ports read all-ones and ignore writes; MMIO reads all-ones.\n"
		"\n"
		"Exit status: the value the guest writes to port 0xf4, & 0xff; 0 when the guest halts;\n"
		"1 hvx-run failed to set up or run the VM; 2 usage error; 3 guest shutdown (triple\n"
		"fault); 4 VM entry failure, internal error or MMIO instruction that cannot be decoded.\n");
}

/* "64M", "1G", "65536": bytes, or 0 when malformed. */
static unsigned long long parse_size(const char *s)
{
	unsigned long long v, mult = 1;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return 0;
	switch (*end) {
	case 'k': case 'K':
		mult = 1ULL << 10;
		end++;
		break;
	case 'm': case 'M':
		mult = 1ULL << 20;
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

static int parse_options(int argc, char **argv, struct run_options *o)
{
	static const struct option longopts[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "flat", required_argument, NULL, 'f' },
		{ "entry", required_argument, NULL, 'e' },
		{ "paging", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "trace", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->mem_size = DEFAULT_MEM_SIZE;
	o->paging = HVX_PAGING_AUTO;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:f:e:p:t:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->mem_size = parse_size(optarg);
			if (!o->mem_size || o->mem_size % PAGE_SIZE) {
				fprintf(stderr, "hvx-run: --mem '%s': expected a non-zero multiple of 4K, e.g. 64M or 1G\n",
					optarg);
				return -1;
			}
			break;
		case 'f':
			o->flat = optarg;
			break;
		case 'e':
			if (parse_entry(optarg, o))
				return -1;
			break;
		case 'p':
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
		case 'v':
			o->verbose = 1;
			break;
		case 't': {
			char *end;

			errno = 0;
			o->trace = strtoul(optarg, &end, 0);
			if (errno || end == optarg || *end || *optarg == '-') {
				fprintf(stderr, "hvx-run: --trace '%s': expected a number of exits\n",
					optarg);
				return -1;
			}
			break;
		}
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, "hvx-run: option '%s' needs an argument (see --help)\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "hvx-run: unknown option '%s' (see --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hvx-run: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	if (!o->flat) {
		fprintf(stderr, "hvx-run: no guest image: give --flat FILE (see --help)\n");
		return -1;
	}
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

/* The image must be a readable, non-empty regular file that fits in RAM at gpa. */
static int check_image(const char *path, unsigned long long gpa, unsigned long long mem_size)
{
	struct stat stbuf;

	if (access(path, R_OK) || stat(path, &stbuf)) {
		fprintf(stderr, "hvx-run: cannot read guest image %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(stbuf.st_mode)) {
		fprintf(stderr, "hvx-run: guest image %s is not a regular file\n", path);
		return -1;
	}
	if (stbuf.st_size == 0) {
		fprintf(stderr, "hvx-run: guest image %s is empty\n", path);
		return -1;
	}
	if (gpa >= mem_size || (unsigned long long)stbuf.st_size > mem_size - gpa) {
		fprintf(stderr, "hvx-run: guest image %s (%lld bytes) at 0x%llx does not fit in %lluK of guest RAM\n",
			path, (long long)stbuf.st_size, gpa, mem_size >> 10);
		return -1;
	}
	return 0;
}

/* Reads the whole of path into guest RAM at gpa. */
static int load_flat(struct hvx_runner *r, const char *path, unsigned long long gpa)
{
	unsigned long long off = 0;
	struct stat stbuf;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "hvx-run: cannot open guest image %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &stbuf) || !S_ISREG(stbuf.st_mode)) {
		fprintf(stderr, "hvx-run: guest image %s is not a regular file\n", path);
		goto error_close;
	}
	if (stbuf.st_size == 0) {
		fprintf(stderr, "hvx-run: guest image %s is empty\n", path);
		goto error_close;
	}
	if (gpa >= r->mem_size || (unsigned long long)stbuf.st_size > r->mem_size - gpa) {
		fprintf(stderr, "hvx-run: guest image %s (%lld bytes) at 0x%llx does not fit in %lluK of guest RAM\n",
			path, (long long)stbuf.st_size, gpa, r->mem_size >> 10);
		goto error_close;
	}
	while (off < (unsigned long long)stbuf.st_size) {
		n = read(fd, (char *)r->mem + gpa + off, stbuf.st_size - off);
		if (n <= 0) {
			fprintf(stderr, "hvx-run: cannot read guest image %s: %s\n", path,
				n < 0 ? strerror(errno) : "file shrank while reading");
			goto error_close;
		}
		off += n;
	}
	close(fd);
	return 0;

error_close:
	close(fd);
	return -1;
}

static int create_vm(struct hvx_runner *r, const struct run_options *o)
{
	struct hvx_cpuid_entry *cpuid;
	__u32 nent;
	int ret;

	ret = hvx_open(&r->sys);
	if (ret) {
		fprintf(stderr, "hvx-run: cannot use %s: %s%s\n", HVX_DEVICE_PATH, strerror(-ret),
			ret == -ENOENT ? " (is hvx.ko loaded?)" :
			ret == -EPROTO ? " (API version mismatch)" : "");
		return -1;
	}
	ret = hvx_vm_create(&r->sys, &r->vm, o->paging, 0);
	if (ret) {
		fprintf(stderr, "hvx-run: HVX_CREATE_VM (paging %u): %s\n", o->paging, strerror(-ret));
		goto error_close_sys;
	}
	r->mem = mmap(NULL, r->mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->mem == MAP_FAILED) {
		fprintf(stderr, "hvx-run: cannot allocate %lluK of guest RAM: %s\n",
			r->mem_size >> 10, strerror(errno));
		r->mem = NULL;
		goto error_destroy_vm;
	}
	ret = hvx_vm_set_region(&r->vm, 0, 0, 0, r->mem_size, r->mem);
	if (ret) {
		fprintf(stderr, "hvx-run: HVX_SET_MEMORY_REGION (slot 0, gpa 0, %lluK): %s\n",
			r->mem_size >> 10, strerror(-ret));
		goto error_unmap;
	}
	ret = hvx_vcpu_create(&r->vm, 0, &r->vcpu);
	if (ret) {
		fprintf(stderr, "hvx-run: HVX_CREATE_VCPU 0 or mmap of its run page: %s\n",
			strerror(-ret));
		goto error_unmap;
	}

	/* The host's CPUID, masked by the kernel; a guest still runs without it. */
	cpuid = calloc(HVX_MAX_CPUID, sizeof(*cpuid));
	if (cpuid && !hvx_cpuid_from_host(cpuid, HVX_MAX_CPUID, &nent)) {
		ret = hvx_vcpu_set_cpuid(&r->vcpu, cpuid, nent);
		if (ret)
			fprintf(stderr, "hvx-run: warning: HVX_SET_CPUID (%u entries): %s\n", nent,
				strerror(-ret));
	}
	free(cpuid);
	return 0;

error_unmap:
	munmap(r->mem, r->mem_size);
	r->mem = NULL;
error_destroy_vm:
	hvx_vm_destroy(&r->vm);
error_close_sys:
	hvx_close(&r->sys);
	return -1;
}

static void destroy_vm(struct hvx_runner *r)
{
	hvx_vcpu_destroy(&r->vcpu);
	hvx_vm_destroy(&r->vm);
	if (r->mem)
		munmap(r->mem, r->mem_size);
	hvx_close(&r->sys);
}

static void report_internal(const struct hvx_run *run)
{
	static const char *const suberrors[] = {
		[HVX_INTERNAL_UNKNOWN_EXIT] = "unknown exit (data[0]: vendor exit code)",
		[HVX_INTERNAL_FETCH] = "cannot fetch the instruction of an MMIO access (data: gva, gpa)",
		[HVX_INTERNAL_STRING_IO] = "string I/O buffer outside guest RAM (data[0]: gva)",
		[HVX_INTERNAL_MEMORY] = "cannot pin guest memory (data[0]: gpa)",
	};
	__u32 sub = run->internal.suberror, i, n = run->internal.ndata;
	const char *what = sub < sizeof(suberrors) / sizeof(suberrors[0]) && suberrors[sub] ?
			   suberrors[sub] : "unknown suberror";

	fprintf(stderr, "hvx-run: internal error at rip 0x%llx: suberror %u, %s",
		(unsigned long long)run->rip, sub, what);
	if (n > 8)
		n = 8;
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s0x%llx", i ? ", " : "; data: ",
			(unsigned long long)run->internal.data[i]);
	fputc('\n', stderr);
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
}

static void trace_exit(const struct hvx_run *run)
{
	__u32 v = 0;

	fprintf(stderr, "hvx-run: exit %s at rip 0x%llx", hvx_exit_name(run->exit_reason),
		(unsigned long long)run->rip);
	switch (run->exit_reason) {
	case HVX_EXIT_IO:
		if (run->io.size <= sizeof(v))
			memcpy(&v, run->io_data, run->io.size);
		fprintf(stderr, ": %s port 0x%x size %u count %u%s", run->io.direction == HVX_IO_OUT ?
			"OUT" : "IN", run->io.port, run->io.size, run->io.count,
			run->io.string ? " string" : "");
		if (run->io.direction == HVX_IO_OUT)
			fprintf(stderr, " data 0x%x", v);
		break;
	case HVX_EXIT_MMIO:
		fprintf(stderr, ": %s gpa 0x%llx, %u instruction bytes",
			run->mmio.is_write ? "write" : "read", (unsigned long long)run->mmio.gpa,
			run->mmio.insn_len);
		break;
	case HVX_EXIT_MSR:
		fprintf(stderr, ": %s 0x%x", run->msr.is_write ? "wrmsr" : "rdmsr", run->msr.index);
		break;
	}
	fputc('\n', stderr);
}

/* Runs the vCPU until the guest ends; returns hvx-run's exit status. */
static int run_guest(struct hvx_runner *r)
{
	struct hvx_run *run = r->vcpu.run;
	unsigned int n = sizeof(r->exits) / sizeof(r->exits[0]);
	char msg[256];
	int ret, status;

	for (;;) {
		ret = hvx_vcpu_run(&r->vcpu);
		if (ret == -EINTR)
			continue;
		if (ret) {
			fprintf(stderr, "hvx-run: HVX_RUN: %s\n", strerror(-ret));
			return HVX_RUN_EXIT_HOST;
		}
		r->exits[run->exit_reason < n - 1 ? run->exit_reason : n - 1]++;
		if (r->trace) {
			r->trace--;
			trace_exit(run);
		}

		switch (run->exit_reason) {
		case HVX_EXIT_IO:
			status = devices__io(r);
			if (status >= 0)
				return status;
			break;
		case HVX_EXIT_MMIO:
			ret = hvx_mmio_complete(&r->vcpu, devices__mmio, r, msg, sizeof(msg));
			if (ret == -EINVAL) {
				fprintf(stderr, "hvx-run: %s\n", msg);
				return HVX_RUN_EXIT_VM_ERROR;
			}
			if (ret) {
				fprintf(stderr, "hvx-run: completing MMIO at gpa 0x%llx (rip 0x%llx): %s\n",
					(unsigned long long)run->mmio.gpa,
					(unsigned long long)run->rip, strerror(-ret));
				return HVX_RUN_EXIT_HOST;
			}
			break;
		case HVX_EXIT_HLT:
			fflush(r->console);
			fprintf(stderr, "hvx-run: guest halted at rip 0x%llx\n",
				(unsigned long long)run->rip);
			return 0;
		case HVX_EXIT_SHUTDOWN:
			fflush(r->console);
			fprintf(stderr, "hvx-run: guest shut down (triple fault) at rip 0x%llx\n",
				(unsigned long long)run->rip);
			return HVX_RUN_EXIT_SHUTDOWN;
		case HVX_EXIT_HYPERCALL:
			/* No hypercalls defined yet: return -1 to the guest. */
			run->hypercall.ret = ~0ULL;
			break;
		case HVX_EXIT_MSR:
			if (r->verbose)
				fprintf(stderr, "hvx-run: %s of unhandled MSR 0x%x: #GP\n",
					run->msr.is_write ? "wrmsr" : "rdmsr", run->msr.index);
			run->msr.error = 1;
			break;
		case HVX_EXIT_IRQ_WINDOW:
		case HVX_EXIT_INTR:
		case HVX_EXIT_NONE:
			run->request_interrupt_window = 0;
			break;
		case HVX_EXIT_FAIL_ENTRY:
			fprintf(stderr, "hvx-run: VM entry failed at rip 0x%llx on host CPU %u: hardware reason 0x%llx\n",
				(unsigned long long)run->rip, run->fail_entry.cpu,
				(unsigned long long)run->fail_entry.hardware_reason);
			return HVX_RUN_EXIT_VM_ERROR;
		case HVX_EXIT_INTERNAL_ERROR:
			report_internal(run);
			return HVX_RUN_EXIT_VM_ERROR;
		default:
			fprintf(stderr, "hvx-run: unknown exit reason %u at rip 0x%llx\n",
				run->exit_reason, (unsigned long long)run->rip);
			return HVX_RUN_EXIT_VM_ERROR;
		}
	}
}

int main(int argc, char **argv)
{
	struct run_options o;
	struct hvx_runner r;
	int ret, status;

	if (parse_options(argc, argv, &o))
		return HVX_RUN_EXIT_USAGE;

	memset(&r, 0, sizeof(r));
	r.mem_size = o.mem_size;
	r.verbose = o.verbose;
	r.trace = o.trace;
	r.console = stdout;
	r.sys.fd = r.vm.fd = r.vcpu.fd = -1;
	if (o.mode != HVX_MODE_REAL && r.mem_size < HVX_LAYOUT_END) {
		fprintf(stderr, "hvx-run: --mem %lluK: too small for the GDT and page tables at 0x1000..0x%llx\n",
			r.mem_size >> 10, HVX_LAYOUT_END - 1);
		return HVX_RUN_EXIT_USAGE;
	}
	/* Check the image before touching /dev/hvx, so usage errors come first. */
	if (check_image(o.flat, o.entry, r.mem_size))
		return HVX_RUN_EXIT_USAGE;

	if (create_vm(&r, &o))
		return HVX_RUN_EXIT_HOST;
	if (load_flat(&r, o.flat, o.entry)) {
		status = HVX_RUN_EXIT_USAGE;
		goto out;
	}
	ret = hvx_setup_mode(&r.vcpu, r.mem, r.mem_size, o.mode, o.entry, o.entry);
	if (ret) {
		fprintf(stderr, "hvx-run: setting up %s mode entry at 0x%llx (HVX_GET_STATE/HVX_SET_STATE): %s\n",
			o.mode == HVX_MODE_REAL ? "real" : o.mode == HVX_MODE_PROT32 ? "prot32" : "long",
			o.entry, strerror(-ret));
		status = HVX_RUN_EXIT_HOST;
		goto out;
	}

	status = run_guest(&r);
	fflush(r.console);
	if (r.verbose)
		report_exits(&r);
out:
	destroy_vm(&r);
	return status;
}
