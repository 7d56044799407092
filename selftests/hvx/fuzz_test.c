// SPDX-License-Identifier: GPL-2.0
/*
 * An ioctl fuzzer: random sequences of every ioctl on system, VM and vCPU
 * fds from several threads, with boundary and random arguments, while
 * other threads close fds, unmap run pages and change the memory behind
 * memory slots (unmapped, PROT_NONE, file-backed, remapped under a running
 * guest); vCPUs run whatever state and code they were given, so this is a
 * guest fuzzer too (random registers, segments, control and debug
 * registers, MSRs, events, instruction bytes, in every mode and both
 * paging modes).  Nothing it does may hurt the host: the rig fails the run
 * on any kernel splat, and the test checks that every VM is gone at the
 * end and that the module can still run a guest.
 *
 * Seeded and bounded: HVX_FUZZ_SEED (default: the time, printed),
 * HVX_FUZZ_CALLS (default 20000, split over the threads), HVX_FUZZ_SECS (a
 * time limit, default 60).  Each thread's sequence of calls follows from
 * the seed; how the threads interleave does not, so a failure found with a
 * seed may need a few runs to come back.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "rng.h"
#include "genl.h"
#include "test_util.h"

#define NR_THREADS	4
#define NR_FDS		48
#define NR_BUFS		8
#define BUF_SIZE	(2UL << 20)

enum fd_kind { FD_NONE, FD_SYS, FD_VM, FD_VCPU };

static struct {
	pthread_mutex_t lock;
	int fd[NR_FDS];
	enum fd_kind kind[NR_FDS];
	void *run[NR_FDS];		/* the vCPU's run page, if mapped */
	unsigned char *buf[NR_BUFS];	/* what slots point at */
	long run_size;
	volatile int stop;
	time_t deadline;
	unsigned long skip;		/* HVX_FUZZ_SKIP: operations left out */
} fz = { .lock = PTHREAD_MUTEX_INITIALIZER };

static __thread uint64_t rng;
static __thread timer_t tmr;
static __thread unsigned long counts[32];

/* A value that likes boundaries: 0, 1, all-ones, powers of two and their neighbours. */
static uint64_t rnd_val(void)
{
	switch (rng_below(&rng, 8)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return ~0ULL;
	case 3: return 1ULL << rng_below(&rng, 64);
	case 4: return (1ULL << rng_below(&rng, 64)) - 1;
	case 5: return rng_below(&rng, 0x10000);
	case 6: return (uint32_t)rng_next(&rng);
	default: return rng_next(&rng);
	}
}

/* An fd of that kind (FD_NONE: any), or -1. */
static int pick(enum fd_kind kind, int *slot)
{
	int i, start = rng_below(&rng, NR_FDS), fd = -1;

	pthread_mutex_lock(&fz.lock);
	for (i = 0; i < NR_FDS; i++) {
		int j = (start + i) % NR_FDS;

		if (fz.kind[j] != FD_NONE && (kind == FD_NONE || fz.kind[j] == kind)) {
			fd = fz.fd[j];
			if (slot)
				*slot = j;
			break;
		}
	}
	pthread_mutex_unlock(&fz.lock);
	return fd;
}

static void add_fd(int fd, enum fd_kind kind)
{
	int i;

	if (fd < 0)
		return;
	pthread_mutex_lock(&fz.lock);
	for (i = 0; i < NR_FDS; i++) {
		if (fz.kind[i] == FD_NONE) {
			fz.fd[i] = fd;
			fz.kind[i] = kind;
			fz.run[i] = NULL;
			pthread_mutex_unlock(&fz.lock);
			return;
		}
	}
	pthread_mutex_unlock(&fz.lock);
	close(fd);
}

static void drop_fd(int slot)
{
	pthread_mutex_lock(&fz.lock);
	if (fz.kind[slot] != FD_NONE) {
		if (fz.run[slot])
			munmap(fz.run[slot], fz.run_size);
		close(fz.fd[slot]);
		fz.kind[slot] = FD_NONE;
		fz.run[slot] = NULL;
	}
	pthread_mutex_unlock(&fz.lock);
}

/* Replaces buffer i with another kind of memory at the same address. */
static void remap_buf(int i)
{
	void *p = fz.buf[i];
	int fd;

	switch (rng_below(&rng, 5)) {
	case 0:
		mmap(p, BUF_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	case 1:
		mmap(p, BUF_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	case 2:
		fd = memfd_create("hvx-fuzz", 0);
		if (fd >= 0) {
			if (!ftruncate(fd, BUF_SIZE / 2))	/* half beyond EOF: SIGBUS */
				mmap(p, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				     fd, 0);
			close(fd);
		}
		break;
	case 3:
		/*
		 * Pages gone (zero-filled on the next touch).  Not munmap():
		 * a run page mapped into the hole would be clobbered by the
		 * next MAP_FIXED here.
		 */
		madvise(p, BUF_SIZE, MADV_DONTNEED);
		break;
	default:
		p = mmap(p, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			 -1, 0);
		if (p != MAP_FAILED) {
			/*
			 * Code and page tables: random bytes.  Another thread
			 * may have remapped the buffer meanwhile: write it in a
			 * way that fails instead of faulting.
			 */
			unsigned char bytes[4096];
			struct iovec l = { bytes, sizeof(bytes) }, r = { p, sizeof(bytes) };

			rng_fill(&rng, bytes, sizeof(bytes));
			process_vm_writev(getpid(), &l, 1, &r, 1, 0);
		}
		break;
	}
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void arm_timer(long ns)
{
	struct itimerspec its = { .it_value.tv_nsec = ns };

	timer_settime(tmr, 0, &its, NULL);
}

static void fuzz_state(int fd)
{
	static __thread struct hvx_msr_entry msrs[16];
	static __thread unsigned char xsave[HVX_XSAVE_SIZE] __attribute__((aligned(64)));
	struct hvx_vcpu_state st;
	unsigned int i;

	memset(&st, 0, sizeof(st));
	st.components = rng_below(&rng, 4) ? HVX_STATE_ALL & ~(HVX_STATE_MSRS | HVX_STATE_FPU) : rnd_val();
	st.nmsrs = rng_below(&rng, 4) ? rng_below(&rng, 17) : rnd_val();
	st.msrs = rng_below(&rng, 8) ? (uintptr_t)msrs : rnd_val();
	st.xsave = rng_below(&rng, 8) ? (uintptr_t)xsave : rnd_val();
	for (i = 0; i < 16; i++) {
		/* Architectural MSRs, hvx's own and random ones. */
		static const uint32_t known[] = { 0x10, 0x1b, 0x3a, 0x48, 0x49, 0x174, 0x175,
			0x176, 0x1d9, 0x277, 0x6e0, 0xc0000080, 0xc0000081, 0xc0000082,
			0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103,
			0xc0010117, 0x480, 0x3b, 0xda0 };

		msrs[i].index = rng_below(&rng, 2) ? known[rng_below(&rng, sizeof(known) / 4)] : rnd_val();
		msrs[i].reserved = rng_below(&rng, 16) ? 0 : rnd_val();
		msrs[i].data = rnd_val();
	}
	if (rng_below(&rng, 2)) {
		st.components &= HVX_STATE_ALL;
		ioctl(fd, HVX_GET_STATE, &st);
		counts[1]++;
		/* Mutate a few bytes of a valid state, or many. */
		for (i = rng_below(&rng, 8) + 1; i; i--)
			((unsigned char *)&st)[16 + rng_below(&rng, sizeof(st) - 16 - 48)] = rng_next(&rng);
		if (!rng_below(&rng, 4))
			rng_fill(&rng, xsave, sizeof(xsave));
	} else {
		rng_fill(&rng, &st.regs, offsetof(struct hvx_vcpu_state, nmsrs) -
				   offsetof(struct hvx_vcpu_state, regs));
	}
	if (rng_below(&rng, 8))
		st.pad = st.flags = 0;
	if (rng_below(&rng, 8))
		memset(st.reserved, 0, sizeof(st.reserved));
	ioctl(fd, HVX_SET_STATE, &st);
	counts[2]++;
}

static void one_call(void)
{
	int fd, slot = -1, i, op = rng_below(&rng, 24);

	if (fz.skip & (1UL << op))
		return;
	switch (op) {
	case 0:
		add_fd(open("/dev/hvx", O_RDWR | O_CLOEXEC), FD_SYS);
		break;
	case 1: {
		struct hvx_vm_create c = { .paging = rng_below(&rng, 4) ? rng_below(&rng, 3) : rnd_val(),
					   .flags = rng_below(&rng, 8) ? 0 : rnd_val() };

		if (!rng_below(&rng, 16))
			c.reserved[rng_below(&rng, 3)] = rnd_val();
		fd = pick(FD_SYS, NULL);
		if (fd >= 0)
			add_fd(ioctl(fd, HVX_CREATE_VM, &c), FD_VM);
		break;
	}
	case 2: case 3: {
		struct hvx_memory_region r = {
			.slot = rng_below(&rng, 8) ? rng_below(&rng, 8) : rnd_val(),
			.flags = rng_below(&rng, 4) ? 0 : rnd_val() & 3,
			.guest_phys_addr = rng_below(&rng, 4) ? rng_below(&rng, 8) * BUF_SIZE : rnd_val(),
			.size = rng_below(&rng, 4) ? BUF_SIZE : rng_below(&rng, 3) ? 0 : rnd_val(),
			.userspace_addr = rng_below(&rng, 8) ? (uintptr_t)fz.buf[rng_below(&rng, NR_BUFS)] :
					  rnd_val(),
		};
		if (!rng_below(&rng, 16))
			r.reserved[rng_below(&rng, 2)] = rnd_val();
		fd = pick(FD_VM, NULL);
		if (fd >= 0)
			ioctl(fd, HVX_SET_MEMORY_REGION, &r);
		break;
	}
	case 4: {
		struct hvx_vcpu_create c = { .id = rng_below(&rng, 4) ? rng_below(&rng, 4) : rnd_val(),
					     .flags = rng_below(&rng, 16) ? 0 : rnd_val() };

		fd = pick(FD_VM, NULL);
		if (fd >= 0)
			add_fd(ioctl(fd, HVX_CREATE_VCPU, &c), FD_VCPU);
		break;
	}
	case 5: case 6: case 7: case 8: {
		struct hvx_run *run;

		fd = pick(FD_VCPU, &slot);
		if (fd < 0)
			break;
		pthread_mutex_lock(&fz.lock);
		if (fz.kind[slot] == FD_VCPU && fz.fd[slot] == fd && !fz.run[slot]) {
			void *p = mmap(NULL, fz.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

			fz.run[slot] = p == MAP_FAILED ? NULL : p;
		}
		run = fz.run[slot];
		if (run && !rng_below(&rng, 8))
			rng_fill(&rng, run, 64);	/* the run page's inputs, garbage */
		pthread_mutex_unlock(&fz.lock);
		/* A guest may run for ever: a signal ends the run within 2 ms. */
		arm_timer(100000 + rng_below(&rng, 2000000));
		ioctl(fd, HVX_RUN, rng_below(&rng, 16) ? 0 : rnd_val());
		arm_timer(0);
		counts[0]++;
		break;
	}
	case 9: case 10:
		fd = pick(FD_VCPU, NULL);
		if (fd >= 0)
			fuzz_state(fd);
		break;
	case 11: {
		struct hvx_event e = {
			.type = rng_below(&rng, 4),
			.vector = rng_below(&rng, 4) ? rng_below(&rng, 256) : rnd_val(),
			.error_code = rnd_val(),
			.flags = rng_below(&rng, 4) ? rng_below(&rng, 2) : rnd_val(),
		};

		fd = pick(FD_VCPU, NULL);
		if (fd >= 0)
			ioctl(fd, HVX_INJECT_EVENT, &e);
		break;
	}
	case 12: {
		static __thread struct hvx_cpuid_entry ent[HVX_MAX_CPUID + 2];
		struct hvx_cpuid c = { .nent = rng_below(&rng, 4) ? rng_below(&rng, HVX_MAX_CPUID + 2) :
					       rnd_val(),
				       .entries = rng_below(&rng, 8) ? (uintptr_t)ent : rnd_val() };

		rng_fill(&rng, ent, sizeof(ent));
		for (i = 0; i < HVX_MAX_CPUID + 2; i++)
			if (rng_below(&rng, 2))
				ent[i].function = rng_below(&rng, 0x20) | (rng_below(&rng, 2) << 31);
		fd = pick(FD_VCPU, NULL);
		if (fd >= 0)
			ioctl(fd, HVX_SET_CPUID, &c);
		break;
	}
	case 13: {
		struct hvx_capability c = { .cap = rng_below(&rng, 4) ? rng_below(&rng, 16) : rnd_val(),
					    .flags = rng_below(&rng, 8) ? 0 : rnd_val() };

		fd = pick(FD_SYS, NULL);
		if (fd >= 0)
			ioctl(fd, HVX_CHECK_CAP, &c);
		break;
	}
	case 14: {
		/* Any ioctl number on any fd, with a pointer or a value. */
		static __thread unsigned char junk[4096];

		rng_fill(&rng, junk, 256);
		fd = pick(FD_NONE, NULL);
		if (fd >= 0)
			ioctl(fd, rng_below(&rng, 2) ? _IOC(rng_below(&rng, 4), 0xBC, rng_below(&rng, 0x40),
						      rng_below(&rng, 2) ? rng_below(&rng, 1024) :
						      rng_below(&rng, 1 << 14)) :
				  (unsigned long)rng_next(&rng),
			      rng_below(&rng, 2) ? (unsigned long)junk : (unsigned long)rnd_val());
		break;
	}
	case 15: case 16:
		if (pick(FD_NONE, &slot) >= 0 && !rng_below(&rng, 3))
			drop_fd(slot);
		break;
	case 17:
		pthread_mutex_lock(&fz.lock);
		slot = rng_below(&rng, NR_FDS);
		if (fz.run[slot]) {
			munmap(fz.run[slot], fz.run_size);
			fz.run[slot] = NULL;
		}
		pthread_mutex_unlock(&fz.lock);
		break;
	case 18: case 19:
		remap_buf(rng_below(&rng, NR_BUFS));
		break;
	case 20: {
		/* A child of the owner: every VM and vCPU ioctl must fail (EIO). */
		int fds[8];
		pid_t pid;

		if (rng_below(&rng, 8))
			break;
		/* Picked before the fork: the child must not take fz.lock. */
		for (i = 0; i < 8; i++)
			fds[i] = pick(FD_NONE, NULL);
		pid = fork();
		if (!pid) {
			for (i = 0; i < 8; i++)
				if (fds[i] >= 0)
					ioctl(fds[i], HVX_RUN, 0);
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
		break;
	}
	case 21:
		fd = pick(FD_SYS, NULL);
		if (fd >= 0) {
			ioctl(fd, HVX_GET_API_VERSION, rng_below(&rng, 8) ? 0 : rnd_val());
			ioctl(fd, HVX_GET_VCPU_MMAP_SIZE, rng_below(&rng, 8) ? 0 : rnd_val());
		}
		break;
	default: {
		/* Random bytes as guest code and page tables at the usual places. */
		unsigned char *b = fz.buf[rng_below(&rng, NR_BUFS)];

		if (!rng_below(&rng, 4))
			madvise(b, BUF_SIZE, MADV_DONTNEED);
		break;
	}
	}
}

struct worker {
	pthread_t th;
	unsigned int idx;
	uint64_t seed;
	unsigned long calls, done;
	unsigned long runs, states;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGUSR1 };

	sev._sigev_un._tid = syscall(SYS_gettid);
	rng = rng_seed(w->seed);
	if (timer_create(CLOCK_MONOTONIC, &sev, &tmr))
		return NULL;
	for (w->done = 0; w->done < w->calls && !fz.stop; w->done++) {
		one_call();
		if (!(w->done & 255) && time(NULL) > fz.deadline)
			break;
		/* Progress on the console, so that a stall shows where it was. */
		if (w->done && !(w->done % 50000))
			ksft_print_msg("fuzz: thread %u: %lu calls\n", w->idx, w->done);
	}
	timer_delete(tmr);
	w->runs = counts[0];
	w->states = counts[2];
	return NULL;
}

FIXTURE(fuzz) {
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
}

/* The harness's limit: past HVX_FUZZ_SECS, with room to clean up. */
TEST_F_TIMEOUT(fuzz, ioctls_and_guests, 24 * 3600)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	static struct vm_list before, after;
	struct worker w[NR_THREADS];
	unsigned long calls, secs, total = 0, runs = 0, states = 0;
	uint64_t seed;
	struct nl_err e;
	struct gnl g;
	struct tvm t;
	int i;

	TVM_REQUIRE_HVX();
	seed = env_ul("HVX_FUZZ_SEED", (unsigned long)time(NULL));
	calls = env_ul("HVX_FUZZ_CALLS", 20000);
	secs = env_ul("HVX_FUZZ_SECS", 60);
	/* A bit mask of one_call()'s cases to leave out, to narrow a finding. */
	fz.skip = env_ul("HVX_FUZZ_SKIP", 0);
	ksft_print_msg("fuzz: seed %llu, %lu calls, %lu s at most, %d threads\n",
		       (unsigned long long)seed, calls, secs, NR_THREADS);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, gnl_open(&g));
	ASSERT_EQ(0, nl_dump_vms(&g, &before, &e));

	for (i = 0; i < NR_BUFS; i++) {
		fz.buf[i] = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, fz.buf[i]);
	}
	i = open("/dev/hvx", O_RDWR);
	ASSERT_LE(0, i);
	fz.run_size = ioctl(i, HVX_GET_VCPU_MMAP_SIZE, 0);
	close(i);
	ASSERT_LT(0, fz.run_size);
	fz.deadline = time(NULL) + secs;

	for (i = 0; i < NR_THREADS; i++) {
		w[i].idx = i;
		w[i].seed = seed * 0x9e3779b97f4a7c15ULL + i + 1;
		w[i].calls = calls / NR_THREADS;
		ASSERT_EQ(0, pthread_create(&w[i].th, NULL, worker, &w[i]));
	}
	for (i = 0; i < NR_THREADS; i++) {
		pthread_join(w[i].th, NULL);
		total += w[i].done;
		runs += w[i].runs;
		states += w[i].states;
	}
	for (i = 0; i < NR_FDS; i++)
		drop_fd(i);
	ksft_print_msg("fuzz: %lu calls (%lu runs, %lu set-states) done\n", total, runs, states);
	if (total < calls)
		ksft_print_msg("fuzz: the %lu s limit ended the run after %lu of %lu calls\n",
			       secs, total, calls);
	ASSERT_LT(0, runs) TH_LOG("no vCPU ever ran: the fuzzer fuzzed nothing");

	/* Every VM went with its fds. */
	for (i = 0; i < 200; i++) {
		ASSERT_EQ(0, nl_dump_vms(&g, &after, &e));
		if (after.nr == before.nr)
			break;
		usleep(10000);
	}
	EXPECT_EQ(before.nr, after.nr) TH_LOG("VMs left after every fd was closed");
	gnl_close(&g);

	/* And the module still runs a guest. */
	TVM_CREATE(&t, GUEST_MIN_MEM, 0, 1);
	memcpy(t.mem + GUEST_CODE_GPA, (const unsigned char[]){ 0xb8, 0x0d, 0x60, 0x00, 0x00,
								0xe7, PORT_DONE, 0xf4 }, 8);
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_PROT32, GUEST_CODE_GPA));
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	tvm_destroy(&t);
}

TEST_HARNESS_MAIN
