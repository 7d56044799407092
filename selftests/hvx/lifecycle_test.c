// SPDX-License-Identifier: GPL-2.0
/*
 * The lives of VMs against hostile or careless users of the API:
 *
 *  - a VM's owner can stall an access to its guest memory for ever (a
 *    userfaultfd range nobody serves, a FUSE-backed file): while a vCPU
 *    waits on such a page inside hvx, the statistics of every VM, this one
 *    included, and the creation of new VMs must go on;
 *  - a VM fd closed by another thread the moment it exists, over and over:
 *    every VM must go.  (hvx once touched the VM after publishing its fd;
 *    a stock kernel cannot see such a use after free, KASAN can.)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "genl.h"
#include "test_util.h"

GUEST_CODE(lc_touch);

#define SLOT1_GPA	0x200000ULL
#define SLOT1_SIZE	(2ULL << 20)

struct runner {
	struct tvm *t;
	int ret;
	volatile int done;
};

static void *run_vcpu(void *arg)
{
	struct runner *r = arg;

	r->ret = tvm_run_guest(r->t, 0);
	r->done = 1;
	return NULL;
}

/*
 * Serves every fault on the range with a zero page until the vCPU is done
 * (shadow paging maps neighbouring pages too, each a fault of its own).
 */
static int serve_faults(int uffd, struct runner *r)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	int n = 0, ms = 5000;

	while (!r->done && ms > 0) {
		struct uffdio_zeropage zp = { 0 };
		struct uffd_msg msg;

		if (poll(&pfd, 1, 10) != 1) {
			ms -= 10;
			continue;
		}
		if (read(uffd, &msg, sizeof(msg)) != sizeof(msg) ||
		    msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		zp.range.start = msg.arg.pagefault.address & ~0xfffULL;
		zp.range.len = 0x1000;
		if (ioctl(uffd, UFFDIO_ZEROPAGE, &zp) && errno != EEXIST)
			return -errno;
		n++;
	}
	return r->done ? n : -ETIMEDOUT;
}

/*
 * In a child, so that a request that blocks in the kernel cannot hang the
 * test: dumps every VM, gets VM `id` and its vCPUs, creates a VM.  Exits 0
 * when all worked.
 */
static int netlink_child(__u32 id)
{
	static struct vm_list list;
	struct vcpu_list vcpus;
	struct vm_info vm;
	struct nl_err e;
	struct hvx_sys sys;
	struct hvx_vm v;
	struct gnl g;

	if (gnl_open(&g))
		return 10;
	if (nl_dump_vms(&g, &list, &e) || !find_vm(&list, id))
		return 11;
	if (nl_get_vm(&g, id, &vm, &e) || vm.nr_vcpus != 1)
		return 12;
	if (nl_dump_vcpus(&g, id, &vcpus, &e) || vcpus.nr != 1)
		return 13;
	gnl_close(&g);
	if (hvx_open(&sys) || hvx_vm_create(&sys, &v, HVX_PAGING_AUTO, 0))
		return 14;
	hvx_vm_destroy(&v);
	hvx_close(&sys);
	return 0;
}

/* Waits up to ms for pid; its exit status, or -1 if it is still running. */
static int wait_child(pid_t pid, int ms)
{
	int st;

	for (; ms > 0; ms -= 10) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	}
	return -1;
}

static void stall_test(struct __test_metadata *_metadata, __u32 paging)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	struct uffdio_zeropage zp = { 0 };
	struct pollfd pfd;
	struct uffd_msg msg;
	struct runner r;
	pthread_t th;
	__u32 *mem;
	pid_t pid;
	int uffd, st, st2, served, i;
	struct tvm t;
	struct gnl g;
	__u32 id;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	mem = mmap(NULL, SLOT1_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	reg.range.start = (unsigned long)mem;
	reg.range.len = SLOT1_SIZE;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg)) TH_LOG("UFFDIO_REGISTER: %s",
								strerror(errno));

	TVM_CREATE_PAGING(&t, 2 * GUEST_MIN_MEM, paging, 0, 1);
	tvm_load_code(&t, "lc_touch", lc_touch_start, lc_touch_end);
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_LONG, GUEST_CODE_GPA));
	ASSERT_OK(hvx_vm_set_region(&t.vm, 1, 0, SLOT1_GPA, SLOT1_SIZE, mem));
	ASSERT_EQ(0, gnl_open(&g));
	id = newest_vm_of(&g, getpid());
	gnl_close(&g);
	ASSERT_NE(0, id);

	r.t = &t;
	r.done = 0;
	ASSERT_EQ(0, pthread_create(&th, NULL, run_vcpu, &r));
	/* The vCPU now waits inside hvx for a page that nobody serves. */
	pfd.fd = uffd;
	pfd.events = POLLIN;
	for (i = 0; i < 2000 && !r.done; i++)
		if (poll(&pfd, 1, 10) == 1)
			break;
	if (r.done && poll(&pfd, 1, 0) != 1) {
		/*
		 * The pin gave up at once instead of waiting for the fault to
		 * be served: some kernels (6.1) pin without the retry that
		 * userfaultfd needs.  Nothing can stall here, so nothing to show.
		 */
		pthread_join(th, NULL);
		tvm_destroy(&t);
		SKIP(return, "this kernel's pinning does not wait for userfaultfd (vCPU exit %d)",
		     r.ret);
	}
	ASSERT_EQ(1, poll(&pfd, 1, 0)) TH_LOG("the guest's access never reached the page");
	ASSERT_EQ((ssize_t)sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ((unsigned long)mem, msg.arg.pagefault.address & ~0xfffUL);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(netlink_child(id));
	st = wait_child(pid, 10000);

	/* Serve the page: everything that waited goes on. */
	zp.range.start = (unsigned long)mem;
	zp.range.len = 0x1000;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_ZEROPAGE, &zp)) TH_LOG("UFFDIO_ZEROPAGE: %s",
							       strerror(errno));
	served = serve_faults(uffd, &r);
	ASSERT_LE(0, served) TH_LOG("serving the guest's faults: %s", strerror(-served));
	st2 = st >= 0 ? st : wait_child(pid, 10000);
	ASSERT_EQ(0, pthread_join(th, NULL));

	EXPECT_LE(0, st) TH_LOG("statistics or VM creation waited on the stalled VM (status %d once served)",
				st2);
	EXPECT_EQ(0, st) TH_LOG("netlink child failed: status %d", st);
	ASSERT_EQ(GUEST_EXIT_DONE, r.ret);
	EXPECT_EQ(0x600d, t.io[0].done);
	ASSERT_EQ(1, t.io[0].nr_reports);
	EXPECT_EQ(0x1234, t.io[0].reports[0]);
	tvm_destroy(&t);
	munmap(mem, SLOT1_SIZE);
	close(uffd);
}

TEST(stalled_guest_memory_nested)
{
	stall_test(_metadata, HVX_PAGING_NESTED);
}

TEST(stalled_guest_memory_shadow)
{
	stall_test(_metadata, HVX_PAGING_SHADOW);
}

/* Closes every VM fd the creator publishes, as soon as it can guess it. */
struct closer {
	volatile int stop;
	int first_fd;
};

static void *close_fds(void *arg)
{
	struct closer *c = arg;

	while (!c->stop)
		for (int fd = c->first_fd; fd < c->first_fd + 4; fd++)
			close(fd);
	return NULL;
}

/*
 * A VM fd closed by another thread while the create ioctl still finishes
 * the VM: every VM goes (the module's VM count returns to what it was).
 */
TEST(vm_fd_closed_at_birth)
{
	struct closer c = { 0 };
	struct hvx_sys sys;
	struct gnl g;
	static struct vm_list before, after;
	struct nl_err e;
	pthread_t th;
	int i, fd, made = 0, last = -1;

	TVM_REQUIRE_HVX();
	ASSERT_OK(hvx_open(&sys));
	ASSERT_EQ(0, gnl_open(&g));
	ASSERT_EQ(0, nl_dump_vms(&g, &before, &e));
	/* The next fd numbers: the lowest free ones. */
	fd = dup(0);
	ASSERT_LE(0, fd);
	close(fd);
	c.first_fd = fd;
	ASSERT_EQ(0, pthread_create(&th, NULL, close_fds, &c));
	for (i = 0; i < 500; i++) {
		struct hvx_vm_create vc = { .paging = HVX_PAGING_AUTO };
		int r = ioctl(sys.fd, HVX_CREATE_VM, &vc);

		if (r >= 0) {
			made++;
			if (r > last)
				last = r;
		}
	}
	c.stop = 1;
	pthread_join(th, NULL);
	/* VM fds the closer missed (numbered past its range) go now. */
	for (fd = c.first_fd; fd <= last; fd++)
		close(fd);
	ASSERT_LT(0, made);
	/* A VM goes when its fd does: give the releases a moment. */
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, nl_dump_vms(&g, &after, &e));
		if (after.nr == before.nr)
			break;
		usleep(10000);
	}
	EXPECT_EQ(before.nr, after.nr) TH_LOG("VMs left behind: %u before, %u after",
					      before.nr, after.nr);
	gnl_close(&g);
	hvx_close(&sys);
}

TEST_HARNESS_MAIN
