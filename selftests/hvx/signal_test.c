// SPDX-License-Identifier: GPL-2.0
/*
 * Signals: a signal interrupts HVX_RUN of a spinning guest (-EINTR,
 * HVX_EXIT_INTR); RUN then resumes the guest where it was and it finishes.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include "kselftest_harness.h"
#include "test_util.h"

GUEST_CODE(sig_spin);
extern const unsigned char sig_count[], sig_flag[];

static void noop_handler(int sig)
{
	(void)sig;
}

static __u64 guest_count(struct tvm *t)
{
	__u64 c;

	memcpy(&c, t->mem + GUEST_ADDR(sig_spin, sig_count), 8);
	return c;
}

static void guest_stop(struct tvm *t)
{
	memcpy(t->mem + GUEST_ADDR(sig_spin, sig_flag), &(__u32){ 1 }, 4);
}

static int install(int sig)
{
	struct sigaction sa = { .sa_handler = noop_handler };	/* no SA_RESTART */

	return sigaction(sig, &sa, NULL);
}

TEST(timer_signal)
{
	struct itimerval it = { .it_value = { .tv_usec = 200 * 1000 } };
	struct hvx_run *run;
	__u64 c1, c2;
	int round, r;
	struct tvm t;

	TVM_LONG_GUEST(&t, sig_spin, 0);
	run = t.vcpu[0].run;
	ASSERT_EQ(0, install(SIGALRM));

	/* Interrupted three times; the guest makes progress in between. */
	c1 = 0;
	for (round = 0; round < 3; round++) {
		ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
		r = tvm_run_once(&t, 0);
		ASSERT_EQ(-EINTR, r) TH_LOG("round %d: RUN returned %s", round, tvm_exit_str(r));
		EXPECT_EQ(HVX_EXIT_INTR, run->exit_reason);
		c2 = guest_count(&t);
		EXPECT_GT(c2, c1) TH_LOG("round %d: guest did not run", round);
		c1 = c2;
	}
	guest_stop(&t);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	tvm_destroy(&t);
}

struct killer {
	pthread_t target;
	int sig;
};

static void *kill_later(void *arg)
{
	struct killer *k = arg;
	struct timespec ts = { .tv_nsec = 200 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	pthread_kill(k->target, k->sig);
	return NULL;
}

TEST(thread_signal)
{
	struct killer k = { .sig = SIGUSR1 };
	struct hvx_run *run;
	pthread_t th;
	struct tvm t;
	int r;

	TVM_LONG_GUEST(&t, sig_spin, 0);
	run = t.vcpu[0].run;
	ASSERT_EQ(0, install(SIGUSR1));
	k.target = pthread_self();
	ASSERT_EQ(0, pthread_create(&th, NULL, kill_later, &k));
	r = tvm_run_once(&t, 0);
	pthread_join(th, NULL);
	ASSERT_EQ(-EINTR, r) TH_LOG("RUN returned %s", tvm_exit_str(r));
	EXPECT_EQ(HVX_EXIT_INTR, run->exit_reason);
	EXPECT_NE(0, guest_count(&t));
	guest_stop(&t);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	tvm_destroy(&t);
}

/* A blocked signal does not interrupt RUN. */
TEST(blocked_signal)
{
	sigset_t set, old;
	struct tvm t;

	TVM_LONG_GUEST(&t, sig_spin, 0);
	ASSERT_EQ(0, install(SIGUSR2));
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &set, &old));
	ASSERT_EQ(0, raise(SIGUSR2));
	guest_stop(&t);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_EQ(0, pthread_sigmask(SIG_SETMASK, &old, NULL));
	tvm_destroy(&t);
}

TEST_HARNESS_MAIN
