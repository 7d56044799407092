// SPDX-License-Identifier: GPL-2.0
/*
 * Module lifetime: hvx cannot be unloaded while any of its fds (system,
 * VM, vCPU or a vCPU's run-page mapping) is alive; once they are gone it
 * unloads, reloads and works again.  Leaves hvx loaded.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "modules.h"

GUEST_CODE(module_hlt);

FIXTURE(mod) {
	struct tvm t;
	void *run_map;
	size_t run_size;
};

FIXTURE_SETUP(mod)
{
	self->run_map = NULL;
	self->t.nr_vcpus = 0;
	self->t.vm.fd = -1;
	self->t.sys.fd = -1;
	if (!mod_loaded("hvx"))
		SKIP(return, "hvx is not loaded");
	if (access(mod_hvx_ko(), R_OK))
		SKIP(return, "%s not readable: cannot reload hvx", mod_hvx_ko());
}

FIXTURE_TEARDOWN(mod)
{
	int r;

	if (self->run_map)
		munmap(self->run_map, self->run_size);
	tvm_destroy(&self->t);
	r = mod_ensure_hvx();
	if (r)
		TH_LOG("reloading hvx from %s: %s", mod_hvx_ko(), strerror(-r));
}

#define EXPECT_UNLOAD_REFUSED(what) do {					\
	int _r = mod_unload("hvx");						\
	EXPECT_TRUE(_r == -EBUSY || _r == -EAGAIN)				\
		TH_LOG("unload with %s open: %s", what,			\
		       _r ? strerror(-_r) : "succeeded");			\
	if (!_r)								\
		ASSERT_EQ(0, mod_ensure_hvx());					\
	EXPECT_TRUE(mod_loaded("hvx"));						\
} while (0)

/* Module loads are slow under emulation: a generous timeout. */
TEST_F_TIMEOUT(mod, unload_refused_while_in_use, 90)
{
	struct tvm *t = &self->t;
	char msg[256] = "";
	int r;

	TVM_CREATE(t, GUEST_MIN_MEM, 0, 1);
	EXPECT_UNLOAD_REFUSED("system, VM and vCPU fds");

	/* Only the VM and vCPU fds. */
	hvx_close(&t->sys);
	EXPECT_UNLOAD_REFUSED("VM and vCPU fds");

	/* Only the vCPU fd and its run page. */
	close(t->vm.fd);
	t->vm.fd = -1;
	EXPECT_UNLOAD_REFUSED("a vCPU fd");

	/* Only the run-page mapping: keep it, drop the rest. */
	self->run_size = t->vcpu[0].run_size;
	self->run_map = mmap(NULL, self->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			     t->vcpu[0].fd, 0);
	ASSERT_NE(MAP_FAILED, self->run_map) TH_LOG("mmap vCPU fd: %s", strerror(errno));
	tvm_destroy(t);
	EXPECT_UNLOAD_REFUSED("a vCPU run-page mapping");

	munmap(self->run_map, self->run_size);
	self->run_map = NULL;
	r = mod_unload_wait("hvx", 2000);
	ASSERT_EQ(0, r) TH_LOG("unload with nothing open: %s", strerror(-r));
	EXPECT_FALSE(mod_loaded("hvx"));
	EXPECT_NE(0, access("/dev/hvx", F_OK)) TH_LOG("/dev/hvx still there after unload");

	ASSERT_EQ(0, mod_ensure_hvx()) TH_LOG("reload from %s", mod_hvx_ko());
	TH_LOG("unloaded and reloaded; running a guest");
	ASSERT_EQ(0, tvm_smoke(msg, sizeof(msg))) TH_LOG("after reload: %s", msg);
}

TEST_F_TIMEOUT(mod, unload_reload_cycles, 120)
{
	char msg[256] = "";
	int i, r;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, tvm_smoke(msg, sizeof(msg))) TH_LOG("cycle %d: %s", i, msg);
		r = mod_unload_wait("hvx", 2000);
		ASSERT_EQ(0, r) TH_LOG("cycle %d: unload: %s", i, strerror(-r));
		r = mod_ensure_hvx();
		ASSERT_EQ(0, r) TH_LOG("cycle %d: reload: %s", i, strerror(-r));
	}
	/* Loading it twice is refused. */
	EXPECT_EQ(-EEXIST, mod_load(mod_hvx_ko()));
}

static int cpu_set_online(int cpu, int online)
{
	char path[64];
	int fd, ok;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ok = write(fd, online ? "1" : "0", 1) == 1;
	close(fd);
	return ok ? 0 : -EIO;
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * CPU hotplug: hvx turns SVM off on a CPU going offline and on again when
 * it comes back.  A VM made before runs on the CPU that came back, and a
 * new one too; a CPU left without SVM would fault the host at VMRUN.
 */
TEST(cpu_offline_online)
{
	struct tvm t, t2;
	int r;

	if (access("/sys/devices/system/cpu/cpu1/online", W_OK))
		SKIP(return, "CPU 1 cannot be taken offline here");
	TVM_LONG_GUEST(&t, module_hlt, 0);
	pin_to_cpu(0);
	ASSERT_EQ(0, cpu_set_online(1, 0));
	r = tvm_run_once(&t, 0);
	ASSERT_EQ(0, cpu_set_online(1, 1));
	ASSERT_EQ(HVX_EXIT_HLT, r);
	pin_to_cpu(1);
	ASSERT_EQ(1, sched_getcpu());
	ASSERT_EQ(HVX_EXIT_HLT, tvm_run_once(&t, 0));
	TVM_LONG_GUEST(&t2, module_hlt, 0);
	ASSERT_EQ(HVX_EXIT_HLT, tvm_run_once(&t2, 0));
	tvm_destroy(&t2);
	tvm_destroy(&t);
	pin_to_cpu(0);
}

TEST_HARNESS_MAIN
