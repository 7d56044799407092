// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-kvm-bench: the hvx-bench measurements on Linux KVM, for comparison on
 * the same machine.  A minimal KVM client: one vCPU in long mode with the
 * GDT and page tables libhvx builds for hvx (hvx_mode_prepare()), so the
 * guests see the same environment on both hypervisors.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#include "libhvx.h"
#include "bench.h"
#include "../guests/guest.h"

#define KVM_DEVICE_PATH		"/dev/kvm"
#define KVM_MAX_CPUID		256

struct kvm_bench_vm {
	int vm_fd;
	int vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	int ap_fd;			/* vCPU 1 of a two-vCPU test, or -1 */
	struct kvm_run *ap_run;
	void *mem;
	unsigned long long mem_size;
};

static void to_kvm_segment(struct kvm_segment *k, const struct hvx_segment *h)
{
	memset(k, 0, sizeof(*k));
	k->base = h->base;
	k->limit = h->limit;
	k->selector = h->selector;
	k->type = h->type;
	k->present = h->present;
	k->dpl = h->dpl;
	k->db = h->db;
	k->s = h->s;
	k->l = h->l;
	k->g = h->g;
	k->avl = h->avl;
	k->unusable = h->unusable;
}

/* The long-mode entry state hvx_setup_mode() gives an hvx vCPU, on KVM. */
static int setup_long_mode(struct kvm_bench_vm *b, int vcpu_fd, const char *prog)
{
	struct hvx_vcpu_state st;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int ret;

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
		fprintf(stderr, "%s: KVM_GET_SREGS: %s\n", prog, strerror(errno));
		return -1;
	}
	memset(&st, 0, sizeof(st));
	ret = hvx_mode_prepare(b->mem, b->mem_size, HVX_MODE_LONG, GUEST_LOAD_ADDR,
			       GUEST_STACK_TOP, &st);
	if (ret) {
		fprintf(stderr, "%s: long-mode tables: %s\n", prog, strerror(-ret));
		return -1;
	}
	to_kvm_segment(&sregs.cs, &st.sregs.cs);
	to_kvm_segment(&sregs.ds, &st.sregs.ds);
	to_kvm_segment(&sregs.es, &st.sregs.es);
	to_kvm_segment(&sregs.fs, &st.sregs.fs);
	to_kvm_segment(&sregs.gs, &st.sregs.gs);
	to_kvm_segment(&sregs.ss, &st.sregs.ss);
	to_kvm_segment(&sregs.tr, &st.sregs.tr);
	sregs.gdt.base = st.sregs.gdt.base;
	sregs.gdt.limit = st.sregs.gdt.limit;
	sregs.idt.base = st.sregs.idt.base;
	sregs.idt.limit = st.sregs.idt.limit;
	sregs.cr0 = st.cregs.cr0;
	sregs.cr3 = st.cregs.cr3;
	sregs.cr4 = st.cregs.cr4;
	sregs.efer = st.cregs.efer;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0) {
		fprintf(stderr, "%s: KVM_SET_SREGS (long mode): %s\n", prog, strerror(errno));
		return -1;
	}
	memset(&regs, 0, sizeof(regs));
	regs.rip = st.regs.rip;
	regs.rsp = st.regs.rsp;
	regs.rflags = st.regs.rflags;
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0) {
		fprintf(stderr, "%s: KVM_SET_REGS: %s\n", prog, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * KVM's supported CPUID as the guest's, as a KVM launcher would set it;
 * with the in-kernel APIC, plus the TSC-deadline timer, which KVM
 * emulates but leaves to the launcher to offer (QEMU does).
 */
static void set_cpuid(int kvm_fd, int vcpu_fd, int apic, const char *prog)
{
	struct kvm_cpuid2 *cpuid;
	__u32 i;

	cpuid = calloc(1, sizeof(*cpuid) + KVM_MAX_CPUID * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return;
	cpuid->nent = KVM_MAX_CPUID;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		fprintf(stderr, "%s: warning: KVM_GET_SUPPORTED_CPUID: %s\n", prog,
			strerror(errno));
		free(cpuid);
		return;
	}
	for (i = 0; apic && i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 1)
			cpuid->entries[i].ecx |= 1U << 24;
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) < 0)
		fprintf(stderr, "%s: warning: KVM CPUID setup: %s\n", prog, strerror(errno));
	free(cpuid);
}

/* A vCPU fd and its mapped run page; -1 with a message on failure. */
static int vcpu_create(int kvm_fd, struct kvm_bench_vm *b, unsigned int id, int apic,
		       struct kvm_run **run, const char *prog)
{
	int fd, mmap_size;

	fd = ioctl(b->vm_fd, KVM_CREATE_VCPU, id);
	if (fd < 0) {
		fprintf(stderr, "%s: KVM_CREATE_VCPU %u: %s\n", prog, id, strerror(errno));
		return -1;
	}
	mmap_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run)) {
		fprintf(stderr, "%s: KVM_GET_VCPU_MMAP_SIZE: %s\n", prog,
			mmap_size < 0 ? strerror(errno) : "too small");
		close(fd);
		return -1;
	}
	b->run_size = mmap_size;
	*run = mmap(NULL, b->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*run == MAP_FAILED) {
		fprintf(stderr, "%s: mmap of the KVM run page: %s\n", prog, strerror(errno));
		close(fd);
		return -1;
	}
	set_cpuid(kvm_fd, fd, apic, prog);
	return fd;
}

static int vm_create(int kvm_fd, struct kvm_bench_vm *b, const char *prog,
		     const struct bench_test *t)
{
	struct kvm_userspace_memory_region region;

	memset(b, 0, sizeof(*b));
	b->vcpu_fd = -1;
	b->ap_fd = -1;
	b->mem_size = BENCH_MEM_SIZE;
	b->vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (b->vm_fd < 0) {
		fprintf(stderr, "%s: KVM_CREATE_VM: %s\n", prog, strerror(errno));
		return -1;
	}
	b->mem = mmap(NULL, b->mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (b->mem == MAP_FAILED) {
		fprintf(stderr, "%s: cannot allocate guest RAM: %s\n", prog, strerror(errno));
		goto error_close_vm;
	}
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = b->mem_size,
		.userspace_addr = (__u64)(unsigned long)b->mem,
	};
	if (ioctl(b->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		fprintf(stderr, "%s: KVM_SET_USER_MEMORY_REGION: %s\n", prog, strerror(errno));
		goto error_unmap;
	}
	/* The local APICs (and KVM's PIC and I/O APIC) in the kernel. */
	if (t->apic && ioctl(b->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		fprintf(stderr, "%s: KVM_CREATE_IRQCHIP: %s\n", prog, strerror(errno));
		goto error_unmap;
	}
	b->vcpu_fd = vcpu_create(kvm_fd, b, 0, t->apic, &b->run, prog);
	if (b->vcpu_fd < 0)
		goto error_unmap;
	if (t->vcpus > 1) {
		b->ap_fd = vcpu_create(kvm_fd, b, 1, t->apic, &b->ap_run, prog);
		if (b->ap_fd < 0)
			goto error_close_vcpu;
	}
	return 0;

error_close_vcpu:
	munmap(b->run, b->run_size);
	close(b->vcpu_fd);
error_unmap:
	munmap(b->mem, b->mem_size);
error_close_vm:
	close(b->vm_fd);
	return -1;
}

static void vm_destroy(struct kvm_bench_vm *b)
{
	if (b->ap_fd >= 0) {
		munmap(b->ap_run, b->run_size);
		close(b->ap_fd);
	}
	munmap(b->run, b->run_size);
	close(b->vcpu_fd);
	munmap(b->mem, b->mem_size);
	close(b->vm_fd);
}

/* vCPU 1's thread: runs until stopped; any exit of its own is an error. */
struct ap_job {
	int fd;
	struct kvm_run *run;
	volatile int stop;
	int err;			/* errno, or 1000 + the unexpected exit reason */
};

static void *ap_thread(void *arg)
{
	struct ap_job *j = arg;

	for (;;) {
		if (ioctl(j->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR && j->stop)
				return NULL;
			if (errno == EINTR)
				continue;
			j->err = errno;
			return NULL;
		}
		j->err = 1000 + j->run->exit_reason;
		return NULL;
	}
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

/* vCPU 1 in long mode, running without INIT and SIPI; its thread started. */
static int ap_start(struct kvm_bench_vm *b, struct ap_job *j, pthread_t *th, const char *prog)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

	if (setup_long_mode(b, b->ap_fd, prog))
		return -1;
	if (ioctl(b->ap_fd, KVM_SET_MP_STATE, &mp) < 0) {
		fprintf(stderr, "%s: KVM_SET_MP_STATE: %s\n", prog, strerror(errno));
		return -1;
	}
	j->fd = b->ap_fd;
	j->run = b->ap_run;
	if (pthread_create(th, NULL, ap_thread, j)) {
		fprintf(stderr, "%s: cannot start vCPU 1's thread\n", prog);
		return -1;
	}
	return 0;
}

static int run_guest(int kvm_fd, const char *path, const struct bench_test *t,
		     struct bench_session *s)
{
	const char *prog = s->opt->prog;
	struct ap_job job = { 0 };
	struct kvm_bench_vm b;
	struct kvm_run *run;
	int status = -1, ap_running = 0;
	pthread_t th;

	if (vm_create(kvm_fd, &b, prog, t))
		return -1;
	run = b.run;
	if (bench__load_guest(s->opt, path, b.mem, b.mem_size) ||
	    setup_long_mode(&b, b.vcpu_fd, prog))
		goto out;
	if (b.ap_fd >= 0) {
		if (ap_start(&b, &job, &th, prog))
			goto out;
		ap_running = 1;
	}

	while (!s->finished) {
		if (ioctl(b.vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: KVM_RUN: %s\n", prog, strerror(errno));
			goto out;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if ((size_t)run->io.count * run->io.size >
			    b.run_size - run->io.data_offset) {
				fprintf(stderr, "%s: guest %s: I/O exit beyond the run page\n", prog,
					path);
				goto out;
			}
			bench__port(s, run->io.direction == KVM_EXIT_IO_OUT, run->io.port,
				    run->io.size, run->io.count,
				    (__u8 *)run + run->io.data_offset);
			break;
		case KVM_EXIT_MMIO:
			/* bench-mmio's MOV to nothing: KVM has decoded it; a write to drop. */
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
			break;
		case KVM_EXIT_FAIL_ENTRY:
			fprintf(stderr, "%s: guest %s: VM entry failed, hardware reason 0x%llx\n",
				prog, path,
				(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			goto out;
		default:
			fprintf(stderr, "%s: guest %s: unexpected KVM exit %u\n", prog, path,
				run->exit_reason);
			goto out;
		}
	}
	status = 0;
out:
	if (ap_running) {
		job.stop = 1;
		b.ap_run->immediate_exit = 1;
		pthread_kill(th, SIGUSR1);
		pthread_join(th, NULL);
		if (job.err) {
			fprintf(stderr, "%s: guest %s: vCPU 1 stopped: %s %d\n", prog, path,
				job.err >= 1000 ? "KVM exit" : strerror(job.err),
				job.err >= 1000 ? job.err - 1000 : job.err);
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
	char path[4096];
	unsigned int i;
	int kvm_fd, ver, status = 0;

	bench__parse_options(argc, argv, &opt, "KVM");
	bench__no_restart(SIGUSR1, on_sigusr1);
	kvm_fd = open(KVM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		fprintf(stderr, "%s: cannot open %s: %s\n", opt.prog, KVM_DEVICE_PATH,
			strerror(errno));
		return 1;
	}
	ver = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		fprintf(stderr, "%s: KVM_GET_API_VERSION: %d, expected %d\n", opt.prog, ver,
			KVM_API_VERSION);
		close(kvm_fd);
		return 1;
	}

	if (opt.run_file) {
		bench__session_init(&s, &opt, NULL);
		status = run_guest(kvm_fd, opt.run_file, bench__test("pio"), &s) ? 1 :
			 (int)s.exit_value;
		goto out;
	}
	for (i = 0; i < opt.ntests; i++) {
		bench__session_init(&s, &opt, bench__test(opt.tests[i]));
		bench__guest_path(&opt, bench__test(opt.tests[i]), path, sizeof(path));
		if (run_guest(kvm_fd, path, bench__test(opt.tests[i]), &s) ||
		    bench__report(&s, opt.tests[i]))
			status = 1;
	}
out:
	close(kvm_fd);
	return status;
}
