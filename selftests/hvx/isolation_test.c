// SPDX-License-Identifier: GPL-2.0
/*
 * Isolation under load: ISO_NR_VMS single-vCPU VMs at once (more than the
 * CPU has ASIDs, so that ASIDs are recycled while VMs run), each on its
 * own thread, each filling its RAM with a pattern of its own and checking
 * it pass after pass (isolation_guest.S), halting often to be woken by an
 * injected interrupt.  At every exit the host checks the guest's RIP and
 * the registers that hold values of that VM alone, and at the end of each
 * pass the whole pattern from its side.  The threads hop between host CPUs
 * as they go, and each VM is destroyed and another created in its place
 * ISO_ROUNDS times while the others run.  Any state of one VM (or of the
 * host) seen in another, any lost write or interrupt, any VM that dies or
 * stalls, fails the test.  Once with nested paging, once with shadow
 * paging.
 */
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "isolation_guest.h"

GUEST_CODE(isolation_guest);
GUEST_CODE(guest_idt64);
extern const unsigned char isolation_guest_woken[];

#define ISO_NR_VMS	64
#define ISO_ROUNDS	3
#define ISO_MEM_SIZE	(3ULL << 20)
/* Userspace exits between two hops of a vCPU thread to another CPU. */
#define ISO_HOP_EXITS	3
/* No VM takes longer than this, however slow the machine. */
#define ISO_DEADLINE_MS	500000

#define ISO_FIRST_PAGE	((ISO_DATA_START >> 12) + ISO_REPORT_PAGES)
#define ISO_LAST_PAGE	(ISO_MEM_SIZE >> 12)

struct iso_job {
	pthread_t thread;
	unsigned int idx;
	__u32 paging;
	pthread_barrier_t *start;
	unsigned long long deadline;
	cpu_set_t cpus;			/* where the thread may hop */
	int nr_cpus;
	unsigned int rounds;		/* completed */
	unsigned long exits, hops;
	char err[1024];			/* the first failure, "" if none */
	struct tvm t;
};

/* Values unique to a VM: a counter in the low bits, mixed ones above. */
static __u64 iso_seed(unsigned int idx, unsigned int round)
{
	__u64 k = idx * ISO_ROUNDS + round + 1, z = k * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31)) << 16 | k;
}

/* The registers the guest never writes, as the host sets them. */
static void iso_fixed_regs(__u64 seed, struct hvx_regs *r)
{
	r->rbx = seed;
	r->rbp = seed << 32 | seed >> 32;
	r->r12 = ~seed;
	r->r13 = __builtin_bswap64(seed);
	r->r14 = seed ^ 0x5555555555555555ULL;
	r->r15 = -seed;
	r->r11 = ISO_MEM_SIZE;
}

#define ISO_FAIL(j, ...) do {						\
	if (!(j)->err[0])						\
		snprintf((j)->err, sizeof((j)->err), __VA_ARGS__);	\
	return -1;							\
} while (0)

/* Registers and RIP at an exit: the VM's own, inside its code. */
static int iso_check_regs(struct iso_job *j, __u64 seed, unsigned int round)
{
	const __u64 code_end = GUEST_ADDR(isolation_guest, isolation_guest_end);
	const __u64 stubs_end = GUEST_STUBS_GPA + (guest_idt64_end - guest_idt64_start);
	struct hvx_regs want, got;
	int r;

	r = tvm_get_regs(&j->t, 0, &got);
	if (r)
		ISO_FAIL(j, "round %u: HVX_GET_STATE: %s", round, strerror(-r));
	if ((got.rip < GUEST_CODE_GPA || got.rip > code_end) &&
	    (got.rip < GUEST_STUBS_GPA || got.rip > stubs_end))
		ISO_FAIL(j, "round %u, exit %lu: rip 0x%llx outside the guest's code",
			 round, j->exits, (unsigned long long)got.rip);
	iso_fixed_regs(seed, &want);
#define ISO_REG(reg)								\
	if (got.reg != want.reg)						\
		ISO_FAIL(j, "round %u, exit %lu at rip 0x%llx: %s is 0x%llx, not this VM's 0x%llx", \
			 round, j->exits, (unsigned long long)got.rip, #reg,	\
			 (unsigned long long)got.reg, (unsigned long long)want.reg)
	ISO_REG(rbx);
	ISO_REG(rbp);
	ISO_REG(r11);
	ISO_REG(r12);
	ISO_REG(r13);
	ISO_REG(r14);
	ISO_REG(r15);
#undef ISO_REG
	return 0;
}

/* After pass p, the host sees all of it, and the code as loaded. */
static int iso_check_memory(struct iso_job *j, __u64 seed, unsigned int round, __u64 p)
{
	const size_t code_len = isolation_guest_end - isolation_guest_start;
	__u64 a, v, want;

	if (memcmp(j->t.mem + GUEST_CODE_GPA, isolation_guest_start, code_len))
		ISO_FAIL(j, "round %u, pass %llu: the guest's code changed", round,
			 (unsigned long long)p);
	for (a = ISO_DATA_START; a < ISO_MEM_SIZE; a += ISO_STRIDE) {
		memcpy(&v, j->t.mem + a, 8);
		want = ISO_PATTERN(seed, a, p);
		if (v != want)
			ISO_FAIL(j, "round %u, pass %llu: gpa 0x%llx holds 0x%llx, not 0x%llx",
				 round, (unsigned long long)p, (unsigned long long)a,
				 (unsigned long long)v, (unsigned long long)want);
	}
	return 0;
}

static void iso_hop(struct iso_job *j)
{
	cpu_set_t one;
	int n = j->hops++ % j->nr_cpus, cpu;

	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &j->cpus) && n-- == 0)
			break;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	sched_setaffinity(0, sizeof(one), &one);
}

/* The vector this VM gets at each HLT: spread over 0x20-0xef. */
static __u32 iso_vector(__u64 seed)
{
	return 0x20 + seed % 0xd0;
}

/*
 * Runs the VM of one round to its end, checking every exit: the guest
 * reports progress, halts, and after the interrupt the host injects
 * there, guest_idt64's stub reports (vector, error code, RIP) in three
 * OUTs.
 */
static int iso_run(struct iso_job *j, __u64 seed, unsigned int round)
{
	const __u64 woken = GUEST_ADDR(isolation_guest, isolation_guest_woken);
	struct hvx_run *run = j->t.vcpu[0].run;
	__u32 next = ISO_PROGRESS(0, ISO_FIRST_PAGE), val, vector = iso_vector(seed);
	enum { RUNNING, HALTING, WOKEN } state = RUNNING;
	unsigned int exc_word = 0;
	__u64 pass = 0;
	char why[512];
	int r;

	for (;;) {
		r = tvm_run_once(&j->t, 0);
		j->exits++;
		if (iso_check_regs(j, seed, round))
			return -1;
		if (r == HVX_EXIT_HLT && state == HALTING) {
			r = hvx_vcpu_inject(&j->t.vcpu[0], HVX_EVENT_EXTINT, vector, 0, 0);
			if (r)
				ISO_FAIL(j, "round %u: HVX_INJECT_EVENT: %s", round, strerror(-r));
			state = WOKEN;
			exc_word = 0;
			goto next_exit;
		}
		if (r != HVX_EXIT_IO || run->io.direction != HVX_IO_OUT ||
		    run->io.size != 4 || run->io.count != 1 || run->io.string)
			ISO_FAIL(j, "round %u, seed 0x%llx, after %lu exits%s: %s", round,
				 (unsigned long long)seed, j->exits,
				 state == HALTING ? ", halting" : "",
				 tvm_describe(&j->t, 0, r, why, sizeof(why)));
		memcpy(&val, run->io_data, 4);
		if (state == WOKEN) {
			const __u32 want[3] = { vector, 0, (__u32)woken };

			if (run->io.port != PORT_EXC || val != want[exc_word])
				ISO_FAIL(j, "round %u: word %u of the interrupt's report: 0x%x to port 0x%x, expected 0x%x to 0x%x",
					 round, exc_word, val, run->io.port, want[exc_word], PORT_EXC);
			if (++exc_word == 3)
				state = RUNNING;
			goto next_exit;
		}
		if (state != RUNNING)
			ISO_FAIL(j, "round %u: out to port 0x%x instead of HLT", round, run->io.port);
		switch (run->io.port) {
		case PORT_REPORT:
			if (val != next)
				ISO_FAIL(j, "round %u: progress 0x%x, expected 0x%x", round, val, next);
			if ((val & 0xffffff) == ISO_LAST_PAGE) {
				if (iso_check_memory(j, seed, round, pass))
					return -1;
				pass++;
				next = ISO_PROGRESS(pass, ISO_FIRST_PAGE);
			} else {
				next += ISO_REPORT_PAGES;
			}
			state = HALTING;
			break;
		case PORT_DONE:
			if (pass != ISO_PASSES || val != (__u32)seed)
				ISO_FAIL(j, "round %u: done with 0x%x after %llu passes", round,
					 val, (unsigned long long)pass);
			return 0;
		case PORT_FAIL: {
			__u64 v = 0;

			if (val >= ISO_DATA_START && val + 8 <= ISO_MEM_SIZE)
				memcpy(&v, j->t.mem + val, 8);
			ISO_FAIL(j, "round %u, pass %llu: the guest found 0x%llx at gpa 0x%x, not 0x%llx",
				 round, (unsigned long long)pass, (unsigned long long)v, val,
				 (unsigned long long)ISO_PATTERN(seed, (__u64)val, pass - 1));
		}
		default:
			ISO_FAIL(j, "round %u: out to port 0x%x", round, run->io.port);
		}
next_exit:
		if (tvm_now_ms() > j->deadline)
			ISO_FAIL(j, "round %u: not done after %u ms", round, ISO_DEADLINE_MS);
		if (j->nr_cpus > 1 && j->exits % ISO_HOP_EXITS == 0)
			iso_hop(j);
	}
}

/* Creates a VM for the round; on failure, err says why. */
static int iso_create(struct iso_job *j, __u64 seed, unsigned int round)
{
	struct hvx_regs regs;
	int r;

	r = tvm_create_paging(&j->t, ISO_MEM_SIZE, j->paging, 0, 1);
	if (r)
		ISO_FAIL(j, "round %u: creating VM %u: %s", round, j->idx, strerror(-r));
	tvm_load_code(&j->t, "isolation_guest", isolation_guest_start, isolation_guest_end);
	r = tvm_setup(&j->t, 0, HVX_MODE_LONG, GUEST_CODE_GPA);
	if (!r)
		r = tvm_setup_idt64(&j->t, 0);
	if (!r)
		r = tvm_get_regs(&j->t, 0, &regs);
	if (!r) {
		iso_fixed_regs(seed, &regs);
		r = tvm_set_regs(&j->t, 0, &regs);
	}
	if (r) {
		tvm_destroy(&j->t);
		ISO_FAIL(j, "round %u: setting up VM %u: %s", round, j->idx, strerror(-r));
	}
	return 0;
}

static void *iso_thread(void *arg)
{
	struct iso_job *j = arg;
	unsigned int round;
	int r;

	for (round = 0; round < ISO_ROUNDS; round++) {
		__u64 seed = iso_seed(j->idx, round);

		r = iso_create(j, seed, round);
		/* Every VM of the first round exists before any of them runs. */
		if (round == 0)
			pthread_barrier_wait(j->start);
		if (r)
			break;
		r = iso_run(j, seed, round);
		tvm_destroy(&j->t);
		if (r)
			break;
		j->rounds++;
	}
	return NULL;
}

FIXTURE(iso) {
	struct iso_job *jobs;
};

FIXTURE_VARIANT(iso) {
	__u32 paging;
};

FIXTURE_VARIANT_ADD(iso, nested) {
	.paging = HVX_PAGING_NESTED,
};

FIXTURE_VARIANT_ADD(iso, shadow) {
	.paging = HVX_PAGING_SHADOW,
};



FIXTURE_SETUP(iso)
{
	struct hvx_sys sys;
	__u32 cap = variant->paging == HVX_PAGING_NESTED ? HVX_CAP_PAGING_NESTED :
							   HVX_CAP_PAGING_SHADOW;
	__u64 has;

	self->jobs = NULL;
	TVM_REQUIRE_HVX();
	ASSERT_EQ(0, tvm_sys_open(&sys));
	has = tvm_cap(&sys, cap, 0);
	hvx_close(&sys);
	if (!has)
		SKIP(return, "no %s paging on this CPU",
		     variant->paging == HVX_PAGING_NESTED ? "nested" : "shadow");
	self->jobs = calloc(ISO_NR_VMS, sizeof(*self->jobs));
	ASSERT_NE(NULL, self->jobs);
}

FIXTURE_TEARDOWN(iso)
{
	free(self->jobs);
}

TEST_F_TIMEOUT(iso, many_vms_keep_to_themselves, 600)
{
	unsigned long long t0 = tvm_now_ms();
	unsigned long exits = 0, hops = 0;
	pthread_barrier_t start;
	cpu_set_t cpus;
	unsigned int i, failed = 0;

	ASSERT_EQ(0, sched_getaffinity(0, sizeof(cpus), &cpus));
	if (CPU_COUNT(&cpus) < 2)
		TH_LOG("one CPU only: the vCPU threads cannot move between CPUs");
	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, ISO_NR_VMS));
	for (i = 0; i < ISO_NR_VMS; i++) {
		struct iso_job *j = &self->jobs[i];

		j->idx = i;
		j->paging = variant->paging;
		j->start = &start;
		j->deadline = t0 + ISO_DEADLINE_MS;
		j->cpus = cpus;
		j->nr_cpus = CPU_COUNT(&cpus);
		ASSERT_EQ(0, pthread_create(&j->thread, NULL, iso_thread, j));
	}
	for (i = 0; i < ISO_NR_VMS; i++)
		ASSERT_EQ(0, pthread_join(self->jobs[i].thread, NULL));
	pthread_barrier_destroy(&start);

	for (i = 0; i < ISO_NR_VMS; i++) {
		struct iso_job *j = &self->jobs[i];

		exits += j->exits;
		hops += j->hops;
		if (j->err[0] || j->rounds != ISO_ROUNDS) {
			failed++;
			TH_LOG("VM thread %u: %s", i, j->err[0] ? j->err : "stopped early");
		}
	}
	TH_LOG("%u VMs at once, %u rounds, %lu exits checked, %lu CPU hops, %llu ms",
	       ISO_NR_VMS, ISO_ROUNDS, exits, hops, tvm_now_ms() - t0);
	EXPECT_EQ(0, failed);
}

TEST_HARNESS_MAIN
