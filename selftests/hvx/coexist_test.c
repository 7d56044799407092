// SPDX-License-Identifier: GPL-2.0
/*
 * Coexistence with KVM: while kvm-amd or kvm-intel owns SVM/VMX (it has a
 * VM), loading hvx fails with EBUSY and the KVM guest keeps running; once
 * KVM is gone hvx loads and works.  Needs the kernel's KVM modules in
 * $HVX_KVM_DIR (listed in load order in ORDER, else irqbypass ccp kvm
 * kvm-amd, or irqbypass kvm kvm-intel).  Leaves hvx loaded and KVM
 * unloaded.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "modules.h"

#define MAX_KVM_MODS	8

FIXTURE(coexist) {
	char mods[MAX_KVM_MODS][64];	/* file names, load order */
	char paths[MAX_KVM_MODS][512];
	int nr_mods;
	int kvm_fd, kvm_vm_fd;
	const char *vendor_mod;		/* kvm-amd or kvm-intel */
	const char *vendor_name;	/* kvm_amd or kvm_intel */
};

/* "kvm-amd.ko" -> "kvm_amd" */
static void mod_name(const char *file, char *name, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len && file[i] && file[i] != '.'; i++)
		name[i] = file[i] == '-' ? '_' : file[i];
	name[i] = 0;
}

static int find_module(const char *dir, const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s.ko", dir, name);
	if (!access(path, R_OK))
		return 0;
	snprintf(path, len, "%s/%s.ko.xz", dir, name);
	return access(path, R_OK) ? -1 : 0;
}

static bool cpu_is_amd(void)
{
	char line[256];
	bool amd = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "vendor_id", 9)) {
			amd = strstr(line, "AuthenticAMD") != NULL;
			break;
		}
	fclose(f);
	return amd;
}

FIXTURE_SETUP(coexist)
{
	static const char *const amd_defaults[] = { "irqbypass", "ccp", "kvm", "kvm-amd" };
	static const char *const intel_defaults[] = { "irqbypass", "kvm", "kvm-intel" };
	const char *dir = mod_kvm_dir();
	char order[512], line[64];
	bool amd = cpu_is_amd();
	bool found = false;
	FILE *f;
	int i;

	self->kvm_fd = self->kvm_vm_fd = -1;
	self->nr_mods = 0;
	self->vendor_mod = amd ? "kvm-amd" : "kvm-intel";
	self->vendor_name = amd ? "kvm_amd" : "kvm_intel";
	if (!mod_loaded("hvx"))
		SKIP(return, "hvx is not loaded");
	if (access(mod_hvx_ko(), R_OK))
		SKIP(return, "%s not readable: cannot reload hvx", mod_hvx_ko());
	if (mod_loaded(self->vendor_name))
		SKIP(return, "%s is already loaded", self->vendor_name);

	snprintf(order, sizeof(order), "%s/ORDER", dir);
	f = fopen(order, "r");
	if (f) {
		while (self->nr_mods < MAX_KVM_MODS && fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = 0;
			if (!*line)
				continue;
			/* ORDER holds file names (x.ko); keep the stem. */
			line[strcspn(line, ".")] = 0;
			snprintf(self->mods[self->nr_mods++], sizeof(self->mods[0]), "%s", line);
		}
		fclose(f);
	} else {
		const char *const *d = amd ? amd_defaults : intel_defaults;
		int n = amd ? 4 : 3;

		for (i = 0; i < n; i++)
			snprintf(self->mods[self->nr_mods++], sizeof(self->mods[0]), "%s", d[i]);
	}
	/* ORDER may list both vendors' modules: keep the other vendor's out. */
	for (i = 0; i < self->nr_mods; i++) {
		if (!strcmp(self->mods[i], amd ? "kvm-intel" : "kvm-amd")) {
			memmove(self->mods[i], self->mods[i + 1],
				(self->nr_mods - i - 1) * sizeof(self->mods[0]));
			self->nr_mods--;
			i--;
			continue;
		}
		found |= !strcmp(self->mods[i], self->vendor_mod);
	}
	for (i = 0; i < self->nr_mods; i++)
		if (find_module(dir, self->mods[i], self->paths[i], sizeof(self->paths[i])))
			SKIP(return, "%s: no %s.ko", dir, self->mods[i]);
	if (!found)
		SKIP(return, "%s: %s missing from the module list", dir, self->vendor_mod);
}

/*
 * A real-mode KVM guest at address 0 that runs "hlt": its KVM_RUN must end
 * in KVM_EXIT_HLT.  Returns 0 or a message in @msg.
 */
static int kvm_run_hlt(int vm_fd, int kvm_fd, char *msg, size_t len)
{
	struct kvm_userspace_memory_region mr = { .slot = 0, .memory_size = 4096 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0, .rflags = 2 };
	struct kvm_run *run;
	unsigned char *mem;
	int vcpu, size, ret = -1;

	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return snprintf(msg, len, "mmap: %s", strerror(errno)), -1;
	mem[0] = 0xf4;	/* hlt */
	mr.userspace_addr = (unsigned long)mem;
	vcpu = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
	size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || size <= 0) {
		snprintf(msg, len, "KVM_CREATE_VCPU: %s", strerror(errno));
		goto out_mem;
	}
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED) {
		snprintf(msg, len, "mmap kvm_run: %s", strerror(errno));
		goto out_vcpu;
	}
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &mr) ||
	    ioctl(vcpu, KVM_GET_SREGS, &sregs)) {
		snprintf(msg, len, "KVM setup: %s", strerror(errno));
		goto out_run;
	}
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) || ioctl(vcpu, KVM_SET_REGS, &regs) ||
	    ioctl(vcpu, KVM_RUN, 0)) {
		snprintf(msg, len, "KVM_RUN: %s", strerror(errno));
		goto out_run;
	}
	if (run->exit_reason != KVM_EXIT_HLT)
		snprintf(msg, len, "KVM exit %u, not HLT", run->exit_reason);
	else
		ret = 0;
out_run:
	munmap(run, size);
out_vcpu:
	close(vcpu);
out_mem:
	munmap(mem, 4096);
	return ret;
}

static void unload_kvm(struct __test_metadata *_metadata, FIXTURE_DATA(coexist) *self,
		       bool strict)
{
	char name[64];
	int i, r;

	if (self->kvm_vm_fd >= 0)
		close(self->kvm_vm_fd);
	if (self->kvm_fd >= 0)
		close(self->kvm_fd);
	self->kvm_vm_fd = self->kvm_fd = -1;
	for (i = self->nr_mods - 1; i >= 0; i--) {
		mod_name(self->mods[i], name, sizeof(name));
		if (!mod_loaded(name))
			continue;
		r = mod_unload_wait(name, 2000);
		/* Only kvm-amd/intel and kvm must go; helpers may be in use elsewhere. */
		if (strict && (!strcmp(name, self->vendor_name) || !strcmp(name, "kvm")))
			EXPECT_EQ(0, r) TH_LOG("rmmod %s: %s", name, strerror(-r));
	}
}

FIXTURE_TEARDOWN(coexist)
{
	int r;

	unload_kvm(_metadata, self, false);
	r = mod_ensure_hvx();
	if (r)
		TH_LOG("reloading hvx from %s: %s", mod_hvx_ko(), strerror(-r));
}

/* Module loads are slow under emulation: a generous timeout. */
TEST_F_TIMEOUT(coexist, hvx_load_busy_while_kvm_runs, 300)
{
	char msg[256] = "", name[64];
	int i, r;

	TH_LOG("rmmod hvx");
	r = mod_unload_wait("hvx", 2000);
	ASSERT_EQ(0, r) TH_LOG("rmmod hvx: %s", strerror(-r));

	TH_LOG("insmod the KVM modules from %s", mod_kvm_dir());
	for (i = 0; i < self->nr_mods; i++) {
		mod_name(self->mods[i], name, sizeof(name));
		r = mod_load(self->paths[i]);
		if (r == -EEXIST)
			continue;
		if (r) {
			if (!strcmp(name, self->vendor_name) || !strcmp(name, "kvm"))
				SKIP(return, "insmod %s: %s (KVM unusable here)", self->paths[i],
				     strerror(-r));
			TH_LOG("insmod %s: %s (ignored)", self->paths[i], strerror(-r));
		}
	}
	ASSERT_TRUE(mod_loaded(self->vendor_name));

	TH_LOG("KVM_CREATE_VM");
	/* A KVM VM makes KVM turn SVM/VMX on (older kernels enable it only then). */
	for (i = 0; i < 40 && self->kvm_fd < 0; i++) {
		self->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		if (self->kvm_fd < 0)
			usleep(50000);
	}
	ASSERT_LE(0, self->kvm_fd) TH_LOG("open /dev/kvm: %s", strerror(errno));
	self->kvm_vm_fd = ioctl(self->kvm_fd, KVM_CREATE_VM, 0);
	ASSERT_LE(0, self->kvm_vm_fd) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));

	TH_LOG("insmod hvx (must fail: EBUSY)");
	r = mod_load(mod_hvx_ko());
	EXPECT_EQ(-EBUSY, r) TH_LOG("insmod hvx with KVM owning SVM/VMX: %s",
				    r ? strerror(-r) : "succeeded");
	if (!r) {
		r = mod_unload_wait("hvx", 2000);
		EXPECT_EQ(0, r) TH_LOG("rmmod hvx: %s", strerror(-r));
	}

	/* KVM still works: a guest of its VM runs to its HLT. */
	EXPECT_EQ(0, kvm_run_hlt(self->kvm_vm_fd, self->kvm_fd, msg, sizeof(msg)))
		TH_LOG("KVM guest after the failed hvx load: %s", msg);
	msg[0] = 0;

	TH_LOG("rmmod the KVM modules, insmod hvx, run a guest");
	unload_kvm(_metadata, self, true);
	ASSERT_FALSE(mod_loaded(self->vendor_name));
	r = mod_ensure_hvx();
	ASSERT_EQ(0, r) TH_LOG("insmod hvx after KVM left: %s", strerror(-r));
	ASSERT_EQ(0, tvm_smoke(msg, sizeof(msg))) TH_LOG("hvx after KVM: %s", msg);
}

TEST_HARNESS_MAIN
