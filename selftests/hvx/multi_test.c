// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency: several VMs at once, each on its own thread with distinct
 * work; several vCPUs of one VM on their own threads sharing a counter;
 * the C guests' assertions (lib/guest_c.h), whose guest code is here.
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "multi_cguest.h"

GUEST_CODE(multi_cguest);

#define NR_VMS		4
#define LCG_MUL		6364136223846793005ULL
#define LCG_INC		1442695040888963407ULL

struct vm_job {
	pthread_t thread;
	__u64 seed;
	int ret;			/* tvm_run_guest() result or -errno */
	char err[512];
	struct tvm t;
};

static void *vm_thread(void *arg)
{
	struct vm_job *j = arg;
	struct hvx_regs regs;
	int r;

	r = tvm_create(&j->t, 2 * GUEST_MIN_MEM, 0, 1);
	if (r) {
		snprintf(j->err, sizeof(j->err), "tvm_create: %s", strerror(-r));
		j->ret = r;
		return NULL;
	}
	tvm_load_code(&j->t, "multi_cguest.c", multi_cguest_start, multi_cguest_end);
	r = tvm_setup(&j->t, 0, HVX_MODE_LONG, MULTI_CALC_ENTRY);
	if (!r)
		r = tvm_get_regs(&j->t, 0, &regs);
	if (!r) {
		regs.rbx = j->seed;
		r = tvm_set_regs(&j->t, 0, &regs);
	}
	if (r) {
		snprintf(j->err, sizeof(j->err), "vCPU setup: %s", strerror(-r));
		j->ret = r;
		return NULL;
	}
	j->ret = tvm_run_guest(&j->t, 0);
	tvm_describe(&j->t, 0, j->ret, j->err, sizeof(j->err));
	return NULL;
}

TEST(vms_in_parallel)
{
	static struct vm_job jobs[NR_VMS];
	struct hvx_sys sys;
	int i, k, r;

	TVM_REQUIRE_HVX();
	r = tvm_sys_open(&sys);
	ASSERT_EQ(0, r);
	hvx_close(&sys);

	for (i = 0; i < NR_VMS; i++) {
		jobs[i].seed = 0x1000 * (i + 1) + i;
		ASSERT_EQ(0, pthread_create(&jobs[i].thread, NULL, vm_thread, &jobs[i]));
	}
	for (i = 0; i < NR_VMS; i++)
		ASSERT_EQ(0, pthread_join(jobs[i].thread, NULL));

	for (i = 0; i < NR_VMS; i++) {
		struct vm_job *j = &jobs[i];
		__u64 x = j->seed;

		EXPECT_EQ(GUEST_EXIT_DONE, j->ret) TH_LOG("VM %d: %s", i, j->err);
		if (j->ret != GUEST_EXIT_DONE)
			continue;
		EXPECT_EQ(4, j->t.io[0].nr_reports);
		for (k = 0; k < 4 && k < (int)j->t.io[0].nr_reports; k++) {
			int n;

			for (n = 0; n < 500; n++)
				x = x * LCG_MUL + LCG_INC;
			EXPECT_EQ((__u32)x, j->t.io[0].reports[k]) TH_LOG("VM %d report %d", i, k);
		}
		EXPECT_EQ((__u32)(x >> 32), j->t.io[0].done) TH_LOG("VM %d result", i);
		tvm_destroy(&j->t);
	}
}

struct vcpu_job {
	pthread_t thread;
	struct tvm *t;
	unsigned int id;
	pthread_mutex_t *lock;
	pthread_barrier_t *barrier;
	int ret;
	char err[512];
};

static void *vcpu_thread(void *arg)
{
	struct vcpu_job *j = arg;
	struct hvx_regs regs;
	int r;

	/* Each vCPU is created and run by its own thread. */
	pthread_mutex_lock(j->lock);
	r = hvx_vcpu_create(&j->t->vm, j->id, &j->t->vcpu[j->id]);
	if (!r)
		r = tvm_setup(j->t, j->id, HVX_MODE_LONG, MULTI_VCPU_ENTRY);
	if (!r)
		r = tvm_get_regs(j->t, j->id, &regs);
	if (!r) {
		regs.rbx = j->id;
		r = tvm_set_regs(j->t, j->id, &regs);
	}
	pthread_mutex_unlock(j->lock);
	/* All page tables written before anyone runs. */
	pthread_barrier_wait(j->barrier);
	if (r) {
		snprintf(j->err, sizeof(j->err), "vCPU %u setup: %s", j->id, strerror(-r));
		j->ret = r;
		return NULL;
	}
	j->ret = tvm_run_guest(j->t, j->id);
	tvm_describe(j->t, j->id, j->ret, j->err, sizeof(j->err));
	return NULL;
}

TEST(vcpus_in_parallel)
{
	static struct vcpu_job jobs[TVM_MAX_VCPUS];
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_barrier_t barrier;
	unsigned int i, n;
	__u32 counter;
	struct tvm t;

	TVM_CREATE(&t, 2 * GUEST_MIN_MEM, 0, 0);
	n = (unsigned int)tvm_cap(&t.sys, HVX_CAP_MAX_VCPUS, 1);
	if (n > 4)
		n = 4;
	ASSERT_GE(n, 2) TH_LOG("HVX_CAP_MAX_VCPUS is %u", n);
	tvm_load_code(&t, "multi_cguest.c", multi_cguest_start, multi_cguest_end);
	ASSERT_EQ(0, pthread_barrier_init(&barrier, NULL, n));
	for (i = 0; i < n; i++) {
		jobs[i] = (struct vcpu_job){ .t = &t, .id = i, .lock = &lock, .barrier = &barrier };
		ASSERT_EQ(0, pthread_create(&jobs[i].thread, NULL, vcpu_thread, &jobs[i]));
	}
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, pthread_join(jobs[i].thread, NULL));
	t.nr_vcpus = n;

	for (i = 0; i < n; i++) {
		EXPECT_EQ(GUEST_EXIT_DONE, jobs[i].ret) TH_LOG("vCPU %u: %s", i, jobs[i].err);
		EXPECT_EQ(i, t.io[i].done);
		EXPECT_EQ(1, t.io[i].nr_reports);
		EXPECT_EQ(i, t.io[i].reports[0]);
	}
	memcpy(&counter, t.mem + GUEST_DATA_GPA, 4);
	EXPECT_EQ(1000 * n, counter);
	pthread_barrier_destroy(&barrier);
	tvm_destroy(&t);
}


/*
 * A vCPU's thread may move between host CPUs between any two runs: the
 * thread hops to the other CPU at every exit, and the guest's registers
 * (general and vector) and its progress must come through unharmed.
 */
TEST(vcpu_migrates_between_cpus)
{
	const __u64 seed = 0x5eed1234abcdULL;
	struct hvx_run *run;
	struct hvx_regs regs;
	__u64 x = seed;
	int i, k, hops = 0;
	cpu_set_t set;
	struct tvm t;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two online CPUs");
	TVM_CREATE(&t, 2 * GUEST_MIN_MEM, 0, 1);
	tvm_load_code(&t, "multi_cguest.c", multi_cguest_start, multi_cguest_end);
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_LONG, MULTI_MIGRATE_ENTRY));
	run = t.vcpu[0].run;
	ASSERT_OK(tvm_get_regs(&t, 0, &regs));
	regs.rbx = seed;
	ASSERT_OK(tvm_set_regs(&t, 0, &regs));

	for (i = 0; i < 200; i++) {
		int cpu = i % 2;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
		if (sched_getcpu() == cpu)
			hops++;
		ASSERT_EQ(HVX_EXIT_IO, tvm_run_once(&t, 0));
		ASSERT_EQ(PORT_REPORT, run->io.port);
		for (k = 0; k < 50; k++)
			x = x * LCG_MUL + LCG_INC;
		ASSERT_EQ((__u32)x, *(__u32 *)run->io_data)
			TH_LOG("round %d on CPU %d", i, cpu);
	}
	ASSERT_GUEST_DONE(&t, 0, (__u32)(x >> 32));
	/* The thread really ran on both CPUs. */
	EXPECT_GT(hops, 100);
	CPU_ZERO(&set);
	for (i = 0; i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
	tvm_destroy(&t);
}

/*
 * A C guest's failed GUEST_ASSERT_EQ() stops it with its file, line,
 * expression and both values (lib/guest_c.h); one that holds lets it run on.
 */
TEST(c_guest_assert_reports_values)
{
	struct hvx_regs regs;
	char buf[512];
	struct tvm t;
	int ret;

	TVM_CREATE(&t, 2 * GUEST_MIN_MEM, 0, 1);
	tvm_load_code(&t, "multi_cguest.c", multi_cguest_start, multi_cguest_end);
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_LONG, MULTI_ASSERT_ENTRY));
	ASSERT_OK(tvm_get_regs(&t, 0, &regs));
	regs.rbx = 41;
	ASSERT_OK(tvm_set_regs(&t, 0, &regs));
	ret = tvm_run_guest(&t, 0);
	ASSERT_EQ(GUEST_EXIT_FAIL, ret) TH_LOG("%s", tvm_describe(&t, 0, ret, buf, sizeof(buf)));
	EXPECT_NE(0, t.io[0].fail_line);
	EXPECT_TRUE(strstr(t.io[0].assert_msg, "multi_cguest.c:") == t.io[0].assert_msg)
		TH_LOG("%s", t.io[0].assert_msg);
	EXPECT_TRUE(strstr(t.io[0].assert_msg, ": arg == 42: 0x29 vs 0x2a") != NULL)
		TH_LOG("%s", t.io[0].assert_msg);
	tvm_describe(&t, 0, ret, buf, sizeof(buf));
	EXPECT_TRUE(strstr(buf, t.io[0].assert_msg) != NULL) TH_LOG("%s", buf);
	tvm_destroy(&t);

	TVM_CREATE(&t, 2 * GUEST_MIN_MEM, 0, 1);
	tvm_load_code(&t, "multi_cguest.c", multi_cguest_start, multi_cguest_end);
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_LONG, MULTI_ASSERT_ENTRY));
	ASSERT_OK(tvm_get_regs(&t, 0, &regs));
	regs.rbx = 42;
	ASSERT_OK(tvm_set_regs(&t, 0, &regs));
	ASSERT_GUEST_DONE(&t, 0, 1);
	tvm_destroy(&t);
}

TEST_HARNESS_MAIN
