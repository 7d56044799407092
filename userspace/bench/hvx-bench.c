// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-bench: round-trip cost of guest exits on hvx, measured with the same
 * guests and the same protocol as hvx-kvm-bench (see guests/guest.h).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "libhvx.h"
#include "bench.h"
#include "../guests/guest.h"

struct hvx_bench_vm {
	struct hvx_vm vm;
	struct hvx_vcpu vcpu;
	struct hvx_vcpu ap;		/* vCPU 1 of a two-vCPU test */
	int has_ap;
	void *mem;
	unsigned long long mem_size;
};

/* vCPU 1's thread: runs until stopped; any exit of its own is an error. */
struct ap_job {
	struct hvx_vcpu *vcpu;
	volatile int stop;
	int err;			/* -errno, or the unexpected exit reason */
};

static void *ap_thread(void *arg)
{
	struct ap_job *j = arg;
	int ret;

	for (;;) {
		ret = hvx_vcpu_run(j->vcpu);
		if (ret == -EINTR && j->stop)
			return NULL;
		if (ret == -EINTR)
			continue;
		j->err = ret ? ret : (int)j->vcpu->run->exit_reason;
		return NULL;
	}
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

/* Stops vCPU 1's thread: immediate_exit for its next RUN, a signal for this one. */
static void ap_stop(struct ap_job *j, pthread_t th)
{
	j->stop = 1;
	j->vcpu->run->immediate_exit = 1;
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
}

static int vm_create(struct hvx_sys *sys, struct hvx_bench_vm *b, const char *prog,
		     const struct bench_test *t)
{
	struct hvx_cpuid_entry *cpuid;
	__u64 batch = 0;
	__u32 nent, flags;
	int ret;

	memset(b, 0, sizeof(*b));
	b->mem_size = BENCH_MEM_SIZE;
	flags = t->apic ? HVX_VM_LAPIC : 0;
	/* Batched string I/O where the kernel has it, as hvx-run uses it. */
	if (!t->plain && !hvx_check_cap(sys, HVX_CAP_STRING_IO_BATCH, &batch) && batch)
		flags |= HVX_VM_STRING_IO_BATCH;
	ret = hvx_vm_create(sys, &b->vm, HVX_PAGING_AUTO, flags);
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
	if (t->vcpus > 1) {
		ret = hvx_vcpu_create(&b->vm, 1, &b->ap);
		if (ret) {
			fprintf(stderr, "%s: HVX_CREATE_VCPU 1: %s\n", prog, strerror(-ret));
			hvx_vcpu_destroy(&b->vcpu);
			goto error_unmap;
		}
		b->has_ap = 1;
	}
	cpuid = calloc(HVX_MAX_CPUID, sizeof(*cpuid));
	if (cpuid && !hvx_cpuid_from_host(cpuid, HVX_MAX_CPUID, &nent)) {
		/* optional for these guests */
		hvx_vcpu_set_cpuid(&b->vcpu, cpuid, nent);
		if (b->has_ap)
			hvx_vcpu_set_cpuid(&b->ap, cpuid, nent);
	}
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
	if (b->has_ap)
		hvx_vcpu_destroy(&b->ap);
	hvx_vcpu_destroy(&b->vcpu);
	munmap(b->mem, b->mem_size);
	hvx_vm_destroy(&b->vm);
}

/* vCPU 1 in long mode at the guest's entry, running without INIT and SIPI. */
static int ap_setup(struct hvx_bench_vm *b, const char *prog)
{
	struct hvx_lapic_state ls;
	struct hvx_vcpu_state st = { .lapic = (__u64)(unsigned long)&ls };
	int ret;

	ret = hvx_setup_mode(&b->ap, b->mem, b->mem_size, HVX_MODE_LONG, GUEST_LOAD_ADDR,
			     GUEST_STACK_TOP);
	if (!ret)
		ret = hvx_vcpu_get_state(&b->ap, &st, HVX_STATE_LAPIC);
	if (!ret) {
		ls.mp_state = HVX_MP_RUNNABLE;
		ret = hvx_vcpu_set_state(&b->ap, &st, HVX_STATE_LAPIC);
	}
	if (ret)
		fprintf(stderr, "%s: vCPU 1 setup: %s\n", prog, strerror(-ret));
	return ret;
}

#define BENCH_SYNC	(HVX_STATE_REGS | HVX_STATE_SREGS | HVX_STATE_CREGS)

static int mmio_ignore(void *opaque, __u64 gpa, void *data, unsigned int len, int is_write)
{
	(void)opaque;
	(void)gpa;
	if (!is_write)
		memset(data, 0xff, len);
	return 0;
}

/* Runs the guest at path to its debug-exit write; 0, or -1 with a message. */
static int run_guest(struct hvx_sys *sys, const char *path, const struct bench_test *t,
		     struct bench_session *s)
{
	const char *prog = s->opt->prog;
	struct ap_job job = { 0 };
	__u64 sync = 0;
	char msg[256];
	struct hvx_bench_vm b;
	struct hvx_run *run;
	int ret, status = -1;
	pthread_t th;
	int ap_running = 0;

	if (vm_create(sys, &b, prog, t))
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
	/* MMIO completes through the registers area unless the test says not. */
	if (!t->plain && !hvx_check_cap(sys, HVX_CAP_SYNC_REGS, &sync) &&
	    (sync & BENCH_SYNC) == BENCH_SYNC)
		run->sync_valid = BENCH_SYNC;
	if (b.has_ap) {
		if (ap_setup(&b, prog))
			goto out;
		job.vcpu = &b.ap;
		if (pthread_create(&th, NULL, ap_thread, &job)) {
			fprintf(stderr, "%s: cannot start vCPU 1's thread\n", prog);
			goto out;
		}
		ap_running = 1;
	}

	while (!s->finished) {
		ret = hvx_vcpu_run(&b.vcpu);
		if (ret == -EINTR)
			continue;
		if (ret) {
			fprintf(stderr, "%s: HVX_RUN: %s\n", prog, strerror(-ret));
			goto out;
		}
		if (run->exit_reason == HVX_EXIT_MMIO) {
			/* bench-mmio's MOV to nothing: a write to drop. */
			ret = hvx_mmio_complete(&b.vcpu, mmio_ignore, NULL, msg, sizeof(msg));
			if (ret) {
				fprintf(stderr, "%s: guest %s: MMIO at rip 0x%llx: %s\n", prog,
					path, (unsigned long long)run->rip,
					*msg ? msg : strerror(-ret));
				goto out;
			}
			continue;
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
	if (ap_running) {
		ap_stop(&job, th);
		if (job.err) {
			fprintf(stderr, "%s: guest %s: vCPU 1 stopped: %s\n", prog, path,
				job.err < 0 ? strerror(-job.err) : hvx_exit_name(job.err));
			status = -1;
		}
	}
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
	bench__no_restart(SIGUSR1, on_sigusr1);
	ret = hvx_open(&sys);
	if (ret) {
		fprintf(stderr, "%s: cannot use %s: %s\n", opt.prog, HVX_DEVICE_PATH, strerror(-ret));
		return 1;
	}

	if (opt.run_file) {
		bench__session_init(&s, &opt, NULL);
		status = run_guest(&sys, opt.run_file, bench__test("pio"), &s) ? 1 :
			 (int)s.exit_value;
		goto out;
	}
	for (i = 0; i < opt.ntests; i++) {
		bench__session_init(&s, &opt, bench__test(opt.tests[i]));
		bench__guest_path(&opt, bench__test(opt.tests[i]), path, sizeof(path));
		if (run_guest(&sys, path, bench__test(opt.tests[i]), &s) ||
		    bench__report(&s, opt.tests[i]))
			status = 1;
	}
out:
	hvx_close(&sys);
	return status;
}
