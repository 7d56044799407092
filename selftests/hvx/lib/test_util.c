// SPDX-License-Identifier: GPL-2.0
/*
 * hvx selftest helpers: VM setup, guest code loading, the port protocol.
 */
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "test_util.h"

GUEST_CODE(guest_idt64);

/* Start and end of the VMMCALL site list (see HYPERCALL in guest.h). */
extern const __u64 __start_hvx_hcall_sites[] __attribute__((weak));
extern const __u64 __stop_hvx_hcall_sites[] __attribute__((weak));

int tvm_sys_open(struct hvx_sys *sys)
{
	return hvx_open(sys);
}

int tvm_hvx_absent(char *why, size_t len)
{
	struct hvx_sys sys;
	int ret = tvm_sys_open(&sys);

	switch (ret) {
	case 0:
		hvx_close(&sys);
		return 0;
	case -ENOENT:
	case -ENODEV:
	case -ENXIO:
		snprintf(why, len, "no %s: %s (hvx.ko not loaded)", HVX_DEVICE_PATH,
			 strerror(-ret));
		return ret;
	case -EACCES:
	case -EPERM:
		snprintf(why, len, "%s: %s (run the tests as root or in group hvx)",
			 HVX_DEVICE_PATH, strerror(-ret));
		return ret;
	}
	return 0;
}

#ifndef HVX_GUEST_DIR_DEFAULT
#error "HVX_GUEST_DIR_DEFAULT: the Makefile passes where make install puts the guests"
#endif

const char *tvm_guest_dir(void)
{
	const char *d = getenv("HVX_GUEST_DIR");

	return d && *d ? d : HVX_GUEST_DIR_DEFAULT;
}

int tvm_guest_file(const char *name, char *path, size_t len)
{
	int n = snprintf(path, len, "%s/%s", tvm_guest_dir(), name);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return access(path, R_OK) ? -errno : 0;
}

__u64 tvm_cap(struct hvx_sys *sys, __u32 cap, __u64 def)
{
	__u64 v;

	return hvx_check_cap(sys, cap, &v) ? def : v;
}

/*
 * The paging mode tests ask for: HVX_PAGING=nested or shadow in the
 * environment (the rig runs the suite in each), else auto.
 */
__u32 tvm_env_paging(void)
{
	const char *p = getenv("HVX_PAGING");

	if (p && !strcmp(p, "shadow"))
		return HVX_PAGING_SHADOW;
	if (p && !strcmp(p, "nested"))
		return HVX_PAGING_NESTED;
	return HVX_PAGING_AUTO;
}

bool tvm_host_is_intel(void)
{
	struct hvx_capability cap = { .cap = HVX_CAP_VENDOR };
	int fd = open("/dev/hvx", O_RDWR | O_CLOEXEC);
	bool intel = fd >= 0 && !ioctl(fd, HVX_CHECK_CAP, &cap) &&
		     cap.value == HVX_VENDOR_INTEL;

	if (fd >= 0)
		close(fd);
	return intel;
}

__u32 tvm_auto_paging(struct hvx_sys *sys)
{
	char c = 'N';
	int fd;

	if (!tvm_cap(sys, HVX_CAP_PAGING_NESTED, 0))
		return HVX_PAGING_SHADOW;
	fd = open("/sys/module/hvx/parameters/force_shadow", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = 'N';
		close(fd);
	}
	return c == 'Y' && tvm_cap(sys, HVX_CAP_PAGING_SHADOW, 0) ? HVX_PAGING_SHADOW :
								      HVX_PAGING_NESTED;
}

bool tvm_real_mode_ok(struct tvm *t)
{
	if (t->paging == HVX_PAGING_SHADOW)
		return tvm_cap(&t->sys, HVX_CAP_SHADOW_REAL_MODE, 0);
	return tvm_cap(&t->sys, HVX_CAP_UNRESTRICTED_GUEST, 0);
}

int tvm_create(struct tvm *t, size_t mem_size, __u32 vm_flags, unsigned int nr_vcpus)
{
	return tvm_create_paging(t, mem_size, tvm_env_paging(), vm_flags, nr_vcpus);
}

int tvm_create_paging(struct tvm *t, size_t mem_size, __u32 paging, __u32 vm_flags,
		      unsigned int nr_vcpus)
{
	unsigned int i;
	int ret;

	memset(t, 0, sizeof(*t));
	t->sys.fd = -1;
	t->vm.fd = -1;
	for (i = 0; i < TVM_MAX_VCPUS; i++)
		t->vcpu[i].fd = -1;
	if (nr_vcpus > TVM_MAX_VCPUS)
		return -EINVAL;

	ret = tvm_sys_open(&t->sys);
	if (ret)
		return ret;
	t->vendor = (__u32)tvm_cap(&t->sys, HVX_CAP_VENDOR, 0);

	ret = hvx_vm_create(&t->sys, &t->vm, paging, vm_flags);
	if (ret)
		goto error_close_sys;
	t->paging = paging == HVX_PAGING_AUTO ? tvm_auto_paging(&t->sys) : paging;

	t->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t->mem == MAP_FAILED) {
		ret = -errno;
		t->mem = NULL;
		goto error_destroy_vm;
	}
	t->mem_size = mem_size;
	ret = hvx_vm_set_region(&t->vm, 0, 0, 0, mem_size, t->mem);
	if (ret)
		goto error_destroy_vm;

	for (i = 0; i < nr_vcpus; i++) {
		ret = hvx_vcpu_create(&t->vm, i, &t->vcpu[i]);
		if (ret)
			goto error_destroy_vm;
		t->nr_vcpus++;
	}
	return 0;

error_destroy_vm:
	tvm_destroy(t);
	return ret;
error_close_sys:
	hvx_close(&t->sys);
	return ret;
}

void tvm_destroy(struct tvm *t)
{
	unsigned int i;

	for (i = 0; i < t->nr_vcpus; i++)
		hvx_vcpu_destroy(&t->vcpu[i]);
	t->nr_vcpus = 0;
	if (t->vm.fd >= 0)
		hvx_vm_destroy(&t->vm);
	t->vm.fd = -1;
	if (t->mem)
		munmap(t->mem, t->mem_size);
	t->mem = NULL;
	hvx_close(&t->sys);
}

void tvm_load(struct tvm *t, __u64 gpa, const void *start, const void *end)
{
	const unsigned char *s = start, *e = end;
	const __u64 *site;

	memcpy(t->mem + gpa, s, e - s);
	if (t->vendor != HVX_VENDOR_INTEL)
		return;
	for (site = __start_hvx_hcall_sites; site < __stop_hvx_hcall_sites; site++) {
		const unsigned char *p = (const unsigned char *)(uintptr_t)*site;

		if (p >= s && p + 3 <= e)
			t->mem[gpa + (p - s) + 2] = 0xc1;	/* VMCALL: 0f 01 c1 */
	}
}

void tvm_load_code(struct tvm *t, const char *src, const void *start, const void *end)
{
	t->src = src;
	tvm_load(t, GUEST_CODE_GPA, start, end);
}

int tvm_setup(struct tvm *t, unsigned int idx, enum hvx_mode mode, __u64 entry)
{
	return hvx_setup_mode(&t->vcpu[idx], t->mem, t->mem_size, mode, entry,
			      GUEST_STACK_TOP - idx * 0x4000ULL);
}

int tvm_setup_idt64(struct tvm *t, unsigned int idx)
{
	struct hvx_vcpu_state st;
	unsigned int v;
	int ret;

	tvm_load(t, GUEST_STUBS_GPA, guest_idt64_start, guest_idt64_end);
	for (v = 0; v < 256; v++) {
		__u64 h = GUEST_STUBS_GPA + v * GUEST_STUB_SIZE;
		unsigned char *g = t->mem + GUEST_IDT_GPA + v * 16;
		__u64 lo, hi;

		/* 64-bit interrupt gate, DPL 0, IST 0 (SDM vol. 3 §6.14.1). */
		lo = (h & 0xffff) | ((__u64)HVX_SEL_CODE64 << 16) | (0x8eULL << 40) |
		     ((h >> 16) & 0xffff) << 48;
		hi = h >> 32;
		memcpy(g, &lo, 8);
		memcpy(g + 8, &hi, 8);
	}
	memset(&st, 0, sizeof(st));
	ret = hvx_vcpu_get_state(&t->vcpu[idx], &st, HVX_STATE_SREGS);
	if (ret)
		return ret;
	st.sregs.idt.base = GUEST_IDT_GPA;
	st.sregs.idt.limit = 256 * 16 - 1;
	return hvx_vcpu_set_state(&t->vcpu[idx], &st, HVX_STATE_SREGS);
}

int tvm_get_regs(struct tvm *t, unsigned int idx, struct hvx_regs *regs)
{
	struct hvx_vcpu_state st;
	int ret;

	memset(&st, 0, sizeof(st));
	ret = hvx_vcpu_get_state(&t->vcpu[idx], &st, HVX_STATE_REGS);
	if (!ret)
		*regs = st.regs;
	return ret;
}

int tvm_set_regs(struct tvm *t, unsigned int idx, const struct hvx_regs *regs)
{
	struct hvx_vcpu_state st;

	memset(&st, 0, sizeof(st));
	st.regs = *regs;
	return hvx_vcpu_set_state(&t->vcpu[idx], &st, HVX_STATE_REGS);
}

int tvm_run_once(struct tvm *t, unsigned int idx)
{
	int ret = hvx_vcpu_run(&t->vcpu[idx]);

	return ret ? ret : (int)t->vcpu[idx].run->exit_reason;
}

/* The NUL-terminated string at guest address @gpa, or "?" if it is not all in RAM. */
static const char *guest_str(struct tvm *t, __u64 gpa)
{
	if (gpa >= t->mem_size || !memchr(t->mem + gpa, 0, t->mem_size - gpa))
		return "?";
	return (const char *)t->mem + gpa;
}

/* A C guest's failed assertion (guest_c.h): its struct guest_assert at @gpa. */
static void guest_assert_msg(struct tvm *t, struct tvm_io *io, __u32 gpa)
{
	struct guest_assert ga;

	if (gpa > t->mem_size || t->mem_size - gpa < sizeof(ga)) {
		snprintf(io->assert_msg, sizeof(io->assert_msg),
			 "assertion record at 0x%x outside RAM", gpa);
		io->fail_line = 0;
		return;
	}
	memcpy(&ga, t->mem + gpa, sizeof(ga));
	io->fail_line = ga.line;
	snprintf(io->assert_msg, sizeof(io->assert_msg), "%s:%u: %s: 0x%llx vs 0x%llx",
		 guest_str(t, ga.file), ga.line, guest_str(t, ga.expr), ga.a, ga.b);
}

/* Handles one protocol OUT; returns 0 to resume, or a GUEST_EXIT_* code. */
static int handle_protocol(struct tvm *t, unsigned int idx)
{
	struct hvx_run *run = t->vcpu[idx].run;
	struct tvm_io *io = &t->io[idx];
	__u32 val = 0;

	memcpy(&val, run->io_data, run->io.size);
	switch (run->io.port) {
	case PORT_PUTC:
		if (io->console_len < sizeof(io->console) - 1)
			io->console[io->console_len++] = (char)val;
		io->console[io->console_len] = 0;
		return 0;
	case PORT_REPORT:
		if (io->nr_reports < TVM_MAX_REPORTS)
			io->reports[io->nr_reports++] = val;
		return 0;
	case PORT_EXC:
		if (io->nr_excs >= TVM_MAX_EXCS)
			return GUEST_EXIT_EXC_LOOP;
		if (io->exc_words == 0)
			io->excs[io->nr_excs].vector = val;
		else if (io->exc_words == 1)
			io->excs[io->nr_excs].error_code = val;
		else
			io->excs[io->nr_excs].rip = val;
		if (++io->exc_words == 3) {
			io->exc_words = 0;
			io->nr_excs++;
		}
		return 0;
	case PORT_DONE:
		io->done = val;
		return GUEST_EXIT_DONE;
	case PORT_FAIL:
		io->fail_line = val;
		return GUEST_EXIT_FAIL;
	case PORT_ASSERT:
		guest_assert_msg(t, io, val);
		return GUEST_EXIT_FAIL;
	}
	return -1;
}

int tvm_run_protocol_exit(struct tvm *t, unsigned int idx)
{
	return handle_protocol(t, idx);
}

int tvm_run_guest(struct tvm *t, unsigned int idx)
{
	struct hvx_run *run = t->vcpu[idx].run;
	int ret;

	for (;;) {
		ret = tvm_run_once(t, idx);
		if (ret != HVX_EXIT_IO || run->io.direction != HVX_IO_OUT ||
		    run->io.string || run->io.count != 1)
			return ret;
		ret = handle_protocol(t, idx);
		if (ret < 0)
			return HVX_EXIT_IO;
		if (ret)
			return ret;
	}
}

const char *tvm_exit_str(int reason)
{
	switch (reason) {
	case GUEST_EXIT_DONE:
		return "guest DONE";
	case GUEST_EXIT_FAIL:
		return "guest FAIL";
	case GUEST_EXIT_EXC_LOOP:
		return "guest exception loop";
	}
	if (reason < 0)
		return "error";
	return hvx_exit_name(reason);
}

const char *tvm_describe(struct tvm *t, unsigned int idx, int ret, char *buf, size_t len)
{
	struct hvx_run *run = t->vcpu[idx].run;
	struct tvm_io *io = &t->io[idx];
	int n;

	if (ret < 0) {
		n = snprintf(buf, len, "HVX_RUN failed: %s (exit_reason %s)", strerror(-ret),
			     hvx_exit_name(run->exit_reason));
	} else if (ret == GUEST_EXIT_DONE) {
		n = snprintf(buf, len, "guest done, value 0x%x", io->done);
	} else if (ret == GUEST_EXIT_FAIL && io->assert_msg[0]) {
		n = snprintf(buf, len, "guest assertion failed at %s (rip 0x%llx)",
			     io->assert_msg, (unsigned long long)run->rip);
	} else if (ret == GUEST_EXIT_FAIL) {
		n = snprintf(buf, len, "guest assertion failed at %s:%u (rip 0x%llx)",
			     t->src ? t->src : "guest", io->fail_line,
			     (unsigned long long)run->rip);
	} else if (ret == GUEST_EXIT_EXC_LOOP) {
		n = snprintf(buf, len, "guest exception loop: vector %u error 0x%x at rip 0x%x",
			     io->excs[TVM_MAX_EXCS - 1].vector,
			     io->excs[TVM_MAX_EXCS - 1].error_code,
			     io->excs[TVM_MAX_EXCS - 1].rip);
	} else {
		n = snprintf(buf, len, "exit %s (%u) at rip 0x%llx", hvx_exit_name(ret), ret,
			     (unsigned long long)run->rip);
		if (n > 0 && (size_t)n < len) {
			if (ret == HVX_EXIT_IO)
				snprintf(buf + n, len - n, ": %s port 0x%x size %u count %u",
					 run->io.direction == HVX_IO_OUT ? "out" : "in",
					 run->io.port, run->io.size, run->io.count);
			else if (ret == HVX_EXIT_MMIO)
				snprintf(buf + n, len - n, ": gpa 0x%llx %s",
					 (unsigned long long)run->mmio.gpa,
					 run->mmio.is_write ? "write" : "read");
			else if (ret == HVX_EXIT_INTERNAL_ERROR)
				snprintf(buf + n, len - n, ": suberror %u data 0x%llx 0x%llx",
					 run->internal.suberror,
					 (unsigned long long)run->internal.data[0],
					 (unsigned long long)run->internal.data[1]);
			else if (ret == HVX_EXIT_FAIL_ENTRY)
				snprintf(buf + n, len - n, ": hardware reason 0x%llx",
					 (unsigned long long)run->fail_entry.hardware_reason);
			else if (ret == HVX_EXIT_MSR)
				snprintf(buf + n, len - n, ": msr 0x%x %s", run->msr.index,
					 run->msr.is_write ? "write" : "read");
		}
	}
	if (io->console_len && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - n, "; console: \"%s\"", io->console);
	return buf;
}

#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"

static int read_ulong(const char *path, unsigned long *v)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%lu", v) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static int write_ulong(const char *path, unsigned long v)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -errno;
	ret = fprintf(f, "%lu\n", v) < 0 ? -EIO : 0;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

/* HugePages_Free of /proc/meminfo (2 MiB pages), or -1. */
long tvm_hugetlb_free(void)
{
	char line[128];
	long n = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

int tvm_hugetlb_reserve(unsigned long pages, unsigned long *old)
{
	unsigned long now;
	int ret;

	ret = read_ulong(NR_HUGEPAGES, old);
	if (ret)
		return ret;
	ret = write_ulong(NR_HUGEPAGES, *old + pages);
	if (!ret)
		ret = read_ulong(NR_HUGEPAGES, &now);
	if (!ret && now < *old + pages)
		ret = -ENOMEM;
	if (ret)
		write_ulong(NR_HUGEPAGES, *old);
	return ret;
}

void tvm_hugetlb_restore(unsigned long old)
{
	write_ulong(NR_HUGEPAGES, old);
}

unsigned long long tvm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

int tvm_smoke(char *msg, size_t len)
{
	const size_t size = 0x10000;
	unsigned char *rom;
	struct tvm t;
	int r;

	r = tvm_create(&t, GUEST_MIN_MEM, 0, 1);
	if (r) {
		snprintf(msg, len, "creating a VM: %s", strerror(-r));
		return r;
	}
	rom = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rom == MAP_FAILED) {
		r = -errno;
		goto out_destroy;
	}
	memset(rom, 0xf4, size);	/* HLT at the reset vector, 0xfffffff0 */
	r = hvx_vm_set_region(&t.vm, 1, HVX_MEM_READONLY, 0xffff0000ULL, size, rom);
	if (r) {
		snprintf(msg, len, "HVX_SET_MEMORY_REGION: %s", strerror(-r));
		goto out_unmap;
	}
	r = tvm_run_once(&t, 0);
	if (r == HVX_EXIT_HLT && t.vcpu[0].run->rip == 0xfff0) {
		r = 0;
	} else {
		tvm_describe(&t, 0, r, msg, len);
		if (!r)
			r = -EIO;
	}
out_unmap:
	munmap(rom, size);
out_destroy:
	tvm_destroy(&t);
	return r;
}
