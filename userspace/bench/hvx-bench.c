// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-bench: round-trip cost of guest exits on hvx, measured with the same
 * guests and the same protocol as hvx-kvm-bench (see guests/guest.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "libhvx.h"
#include "bench.h"
#include "../guests/guest.h"

struct hvx_bench_vm {
	struct hvx_vm vm;
	struct hvx_vcpu vcpu;
	void *mem;
	unsigned long long mem_size;
};

static int vm_create(struct hvx_sys *sys, struct hvx_bench_vm *b, const char *prog)
{
	struct hvx_cpuid_entry *cpuid;
	__u32 nent;
	int ret;

	memset(b, 0, sizeof(*b));
	b->mem_size = BENCH_MEM_SIZE;
	ret = hvx_vm_create(sys, &b->vm, HVX_PAGING_AUTO, 0);
	if (ret) {
		fprintf(stderr, "%s: HVX_CREATE_VM: %s\n", prog, strerror(-ret));
		return -1;
	}
	b->mem = mmap(NULL, b->mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (b->mem == MAP_FAILED) {
		fprintf(stderr, "%s: cannot allocate guest RAM: %s\n", prog, strerror(errno));
		goto error_destroy_vm;
	}
	ret = hvx_vm_set_region(&b->vm, 0, 0, 0, b->mem_size, b->mem);
	if (ret) {
		fprintf(stderr, "%s: HVX_SET_MEMORY_REGION: %s\n", prog, strerror(-ret));
		goto error_unmap;
	}
	ret = hvx_vcpu_create(&b->vm, 0, &b->vcpu);
	if (ret) {
		fprintf(stderr, "%s: HVX_CREATE_VCPU: %s\n", prog, strerror(-ret));
		goto error_unmap;
	}
	cpuid = calloc(HVX_MAX_CPUID, sizeof(*cpuid));
	if (cpuid && !hvx_cpuid_from_host(cpuid, HVX_MAX_CPUID, &nent))
		hvx_vcpu_set_cpuid(&b->vcpu, cpuid, nent);	/* optional for these guests */
	free(cpuid);
	return 0;

error_unmap:
	munmap(b->mem, b->mem_size);
error_destroy_vm:
	hvx_vm_destroy(&b->vm);
	return -1;
}

static void vm_destroy(struct hvx_bench_vm *b)
{
	hvx_vcpu_destroy(&b->vcpu);
	munmap(b->mem, b->mem_size);
	hvx_vm_destroy(&b->vm);
}

/* Runs the guest at path to its debug-exit write; 0, or -1 with a message. */
static int run_guest(struct hvx_sys *sys, const char *path, struct bench_session *s)
{
	const char *prog = s->opt->prog;
	struct hvx_bench_vm b;
	struct hvx_run *run;
	int ret, status = -1;

	if (vm_create(sys, &b, prog))
		return -1;
	run = b.vcpu.run;
	if (bench__load_guest(s->opt, path, b.mem, b.mem_size))
		goto out;
	ret = hvx_setup_mode(&b.vcpu, b.mem, b.mem_size, HVX_MODE_LONG, GUEST_LOAD_ADDR,
			     GUEST_STACK_TOP);
	if (ret) {
		fprintf(stderr, "%s: long-mode setup (HVX_GET_STATE/HVX_SET_STATE): %s\n", prog,
			strerror(-ret));
		goto out;
	}

	while (!s->finished) {
		ret = hvx_vcpu_run(&b.vcpu);
		if (ret == -EINTR)
			continue;
		if (ret) {
			fprintf(stderr, "%s: HVX_RUN: %s\n", prog, strerror(-ret));
			goto out;
		}
		if (run->exit_reason != HVX_EXIT_IO) {
			fprintf(stderr, "%s: guest %s: unexpected %s exit at rip 0x%llx\n", prog, path,
				hvx_exit_name(run->exit_reason), (unsigned long long)run->rip);
			goto out;
		}
		if ((size_t)run->io.count * run->io.size > sizeof(run->io_data)) {
			fprintf(stderr, "%s: guest %s: I/O exit with %u items of %u bytes\n", prog,
				path, run->io.count, run->io.size);
			goto out;
		}
		bench__port(s, run->io.direction == HVX_IO_OUT, run->io.port, run->io.size,
			    run->io.count, run->io_data);
	}
	status = 0;
out:
	vm_destroy(&b);
	return status;
}

int main(int argc, char **argv)
{
	struct bench_options opt;
	struct bench_session s;
	struct hvx_sys sys;
	char path[4096];
	unsigned int i;
	int ret, status = 0;

	bench__parse_options(argc, argv, &opt, "hvx");
	ret = hvx_open(&sys);
	if (ret) {
		fprintf(stderr, "%s: cannot use %s: %s\n", opt.prog, HVX_DEVICE_PATH, strerror(-ret));
		return 1;
	}

	if (opt.run_file) {
		bench__session_init(&s, &opt);
		status = run_guest(&sys, opt.run_file, &s) ? 1 : (int)s.exit_value;
		goto out;
	}
	for (i = 0; i < opt.ntests; i++) {
		bench__session_init(&s, &opt);
		bench__guest_path(&opt, opt.tests[i], path, sizeof(path));
		if (run_guest(&sys, path, &s) || bench__report(&s, opt.tests[i]))
			status = 1;
	}
out:
	hvx_close(&sys);
	return status;
}
