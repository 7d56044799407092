// SPDX-License-Identifier: GPL-2.0
/*
 * Module lifetime: hvx cannot be unloaded while any of its fds (system,
 * VM, vCPU or a vCPU's run-page mapping) is alive; once they are gone it
 * unloads, reloads and works again.  The paging mode a VM gets: nested
 * where the CPU has it, shadow where it does not or with force_shadow=1.
 * Leaves hvx loaded without parameters.
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
#include "genl.h"

GUEST_CODE(module_hlt);

/* Set while this test process has hvx loaded with parameters. */
static bool params_changed;

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
	/* A test that stopped half-way may leave hvx loaded with a parameter. */
	if (mod_hvx_force_shadow() == 1 || params_changed)
		mod_unload_wait("hvx", 2000);
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

static const char *paging_name(__u32 paging)
{
	switch (paging) {
	case HVX_PAGING_NESTED:
		return "nested";
	case HVX_PAGING_SHADOW:
		return "shadow";
	default:
		return "?";
	}
}

/*
 * Creates a VM with the given paging request: its fd and, from the VM
 * list of the netlink family, the paging mode it got; or -errno.
 */
static int create_vm(struct hvx_sys *sys, __u32 paging, __u32 *got)
{
	struct hvx_vm_create vc = { .paging = paging };
	static struct vm_list list;
	const struct vm_info *vm;
	struct nl_err e;
	struct gnl g;
	int fd, r;

	fd = ioctl(sys->fd, HVX_CREATE_VM, &vc);
	if (fd < 0)
		return -errno;
	r = gnl_open(&g);
	if (!r) {
		r = nl_dump_vms(&g, &list, &e);
		if (!r) {
			vm = find_vm(&list, newest_vm_of(&g, getpid()));
			*got = vm ? vm->paging : ~0U;
		}
		gnl_close(&g);
	}
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

/*
 * What HVX_CREATE_VM gives for each paging request, as the capabilities
 * and force_shadow say (Documentation/api.rst, HVX_CREATE_VM): nested
 * paging only with HVX_CAP_PAGING_NESTED, else ENODEV; auto picks nested
 * where it exists unless force_shadow=1, shadow otherwise.
 */
static void check_paging_choice(struct __test_metadata *_metadata, int force)
{
	__u64 nested = 0, shadow = 0;
	__u32 got = ~0U, want;
	struct hvx_sys sys;
	int fd;

	ASSERT_EQ(0, hvx_open(&sys));
	ASSERT_EQ(0, hvx_check_cap(&sys, HVX_CAP_PAGING_NESTED, &nested));
	ASSERT_EQ(0, hvx_check_cap(&sys, HVX_CAP_PAGING_SHADOW, &shadow));
	ASSERT_TRUE(nested || shadow) TH_LOG("hvx loaded with no paging mode at all");
	/* Unrestricted guest is a property of nested paging. */
	if (!nested)
		EXPECT_EQ(0, tvm_cap(&sys, HVX_CAP_UNRESTRICTED_GUEST, 1));

	fd = create_vm(&sys, HVX_PAGING_NESTED, &got);
	if (nested) {
		ASSERT_LE(0, fd) TH_LOG("nested VM: %s", strerror(-fd));
		EXPECT_EQ(HVX_PAGING_NESTED, got);
		close(fd);
	} else {
		EXPECT_EQ(-ENODEV, fd) TH_LOG("nested VM without nested paging: %s",
					      fd < 0 ? strerror(-fd) : "created");
		if (fd >= 0)
			close(fd);
	}

	want = nested && (!force || !shadow) ? HVX_PAGING_NESTED : HVX_PAGING_SHADOW;
	fd = create_vm(&sys, HVX_PAGING_AUTO, &got);
	ASSERT_LE(0, fd) TH_LOG("auto VM: %s", strerror(-fd));
	EXPECT_EQ(want, got) TH_LOG("auto VM got %s paging, not %s", paging_name(got),
				    paging_name(want));
	close(fd);
	TH_LOG("nested paging %s, shadow paging %s, force_shadow %d: auto gives %s paging",
	       nested ? "available" : "absent", shadow ? "available" : "absent", force,
	       paging_name(got));
	hvx_close(&sys);
}

TEST_F(mod, paging_choice)
{
	int force = mod_hvx_force_shadow();

	ASSERT_LE(0, force) TH_LOG("force_shadow parameter: %s", strerror(-force));
	check_paging_choice(_metadata, force);
}

/* With force_shadow=1, auto gives shadow even where nested paging exists. */
TEST_F_TIMEOUT(mod, force_shadow, 90)
{
	char msg[256] = "";
	int r;

	r = mod_unload_wait("hvx", 2000);
	ASSERT_EQ(0, r) TH_LOG("unload: %s", strerror(-r));
	r = mod_load_params(mod_hvx_ko(), "force_shadow=1");
	ASSERT_EQ(0, r) TH_LOG("load with force_shadow=1: %s", strerror(-r));
	ASSERT_EQ(0, mod_ensure_hvx());
	ASSERT_EQ(1, mod_hvx_force_shadow());
	check_paging_choice(_metadata, 1);

	r = mod_unload_wait("hvx", 2000);
	ASSERT_EQ(0, r) TH_LOG("unload: %s", strerror(-r));
	ASSERT_EQ(0, mod_ensure_hvx());
	ASSERT_EQ(0, mod_hvx_force_shadow());
	ASSERT_EQ(0, tvm_smoke(msg, sizeof(msg))) TH_LOG("after reload: %s", msg);
}

/* An integer module parameter of hvx as it reads back, or -errno. */
static int hvx_param_int(const char *name, int *val)
{
	char path[128], buf[32] = "";
	int fd, n;

	snprintf(path, sizeof(path), "/sys/module/hvx/parameters/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || sscanf(buf, "%d", val) != 1)
		return -EIO;
	return 0;
}

static bool cmdline_has(const char *word)
{
	char buf[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strstr(buf, word) != NULL;
}

/*
 * l1d_flush (VMX, L1TF): by default it resolves at load to 1 or 0 (0 when
 * the host runs with mitigations=off); with l1d_flush=1 every entry first
 * empties L1D.  No emulator here models L1TF or its flush, so what this
 * shows is that the flush path runs under guests of both paging modes,
 * through many entries, and that they still run.
 */
TEST_F_TIMEOUT(mod, l1d_flush_always, 120)
{
	static const __u32 pagings[] = { HVX_PAGING_NESTED, HVX_PAGING_SHADOW };
	struct hvx_sys sys;
	__u64 vendor = 0;
	unsigned int i, n;
	int r, val = -1;

	ASSERT_EQ(0, hvx_open(&sys));
	ASSERT_EQ(0, hvx_check_cap(&sys, HVX_CAP_VENDOR, &vendor));
	hvx_close(&sys);
	ASSERT_EQ(0, hvx_param_int("l1d_flush", &val));
	if (vendor != HVX_VENDOR_INTEL)
		SKIP(return, "L1TF is Intel's: the SVM backend does not flush L1D");
	EXPECT_TRUE(val == 0 || val == 1) TH_LOG("l1d_flush %d after load", val);
	if (cmdline_has("mitigations=off"))
		EXPECT_EQ(0, val) TH_LOG("l1d_flush on with mitigations=off");

	r = mod_unload_wait("hvx", 2000);
	ASSERT_EQ(0, r) TH_LOG("unload: %s", strerror(-r));
	params_changed = true;
	r = mod_load_params(mod_hvx_ko(), "l1d_flush=1");
	ASSERT_EQ(0, r) TH_LOG("load with l1d_flush=1: %s", strerror(-r));
	ASSERT_EQ(0, hvx_param_int("l1d_flush", &val));
	ASSERT_EQ(1, val);
	for (i = 0; i < 2; i++) {
		r = tvm_create_paging(&self->t, 2 * GUEST_MIN_MEM, pagings[i], 0, 1);
		if (r == -ENODEV || r == -EOPNOTSUPP) {
			TH_LOG("paging mode %u not available: not tried", pagings[i]);
			continue;
		}
		ASSERT_EQ(0, r) TH_LOG("creating a VM: %s", strerror(-r));
		tvm_load_code(&self->t, "module_hlt", module_hlt_start, module_hlt_end);
		ASSERT_OK(tvm_setup(&self->t, 0, HVX_MODE_LONG, GUEST_CODE_GPA));
		for (n = 0; n < 200; n++)
			ASSERT_EQ(HVX_EXIT_HLT, tvm_run_once(&self->t, 0)) TH_LOG("run %u", n);
		tvm_destroy(&self->t);
		self->t.nr_vcpus = 0;
		self->t.vm.fd = -1;
		self->t.sys.fd = -1;
	}
	r = mod_unload_wait("hvx", 2000);
	ASSERT_EQ(0, r) TH_LOG("unload: %s", strerror(-r));
	params_changed = false;
	ASSERT_EQ(0, mod_ensure_hvx());
}

/*
 * The parameters that decide at load (-1) or are forced off (0) or on (1)
 * take nothing else: the load fails with EINVAL, hvx stays unloaded, and
 * a load with good values still works.  Both backends' parameters are
 * checked on either vendor (the kernel parses them before hvx's init).
 */
TEST_F_TIMEOUT(mod, bad_params_refused, 120)
{
	static const char *const bad[] = {
		"l1d_flush=2", "l1d_flush=-2", "l1d_flush=yes", "l1d_flush=",
		"kick_after_inject=5", "kick_after_inject=-7", "kick_after_inject=0x100000001",
		"force_shadow=maybe",
	};
	char msg[256] = "";
	unsigned int i;
	int r, val;

	r = mod_unload_wait("hvx", 2000);
	ASSERT_EQ(0, r) TH_LOG("unload: %s", strerror(-r));
	params_changed = true;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = mod_load_params(mod_hvx_ko(), bad[i]);
		EXPECT_EQ(-EINVAL, r) TH_LOG("load with %s: %s", bad[i],
					     r ? strerror(-r) : "loaded");
		if (!r)
			ASSERT_EQ(0, mod_unload_wait("hvx", 2000));
		EXPECT_FALSE(mod_loaded("hvx")) TH_LOG("after %s", bad[i]);
	}
	r = mod_load_params(mod_hvx_ko(), "l1d_flush=0 kick_after_inject=-1");
	ASSERT_EQ(0, r) TH_LOG("load with good values: %s", strerror(-r));
	ASSERT_EQ(0, hvx_param_int("l1d_flush", &val));
	EXPECT_EQ(0, val);
	ASSERT_EQ(0, hvx_param_int("kick_after_inject", &val));
	/* -1 resolves at load on AMD; the Intel backend does not use it. */
	EXPECT_TRUE(val == 0 || val == 1 || val == -1) TH_LOG("kick_after_inject %d", val);
	ASSERT_EQ(0, tvm_smoke(msg, sizeof(msg))) TH_LOG("after a good load: %s", msg);
	r = mod_unload_wait("hvx", 2000);
	ASSERT_EQ(0, r) TH_LOG("unload: %s", strerror(-r));
	params_changed = false;
	ASSERT_EQ(0, mod_ensure_hvx());
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
