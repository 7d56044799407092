// SPDX-License-Identifier: GPL-2.0
/*
 * Coexistence with KVM: while kvm-amd owns SVM (it has a VM), loading hvx
 * fails with EBUSY; once KVM is gone hvx loads and works.  AMD only; needs
 * the kernel's KVM modules in $HVX_KVM_DIR (listed in load order in ORDER,
 * else irqbypass ccp kvm kvm-amd).  Leaves hvx loaded and KVM unloaded.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
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
	static const char *const defaults[] = { "irqbypass", "ccp", "kvm", "kvm-amd" };
	const char *dir = mod_kvm_dir();
	char order[512], line[64];
	FILE *f;
	int i;

	self->kvm_fd = self->kvm_vm_fd = -1;
	self->nr_mods = 0;
	if (!cpu_is_amd())
		SKIP(return, "kvm-amd coexistence: AMD only");
	if (!mod_loaded("hvx"))
		SKIP(return, "hvx is not loaded");
	if (access(mod_hvx_ko(), R_OK))
		SKIP(return, "%s not readable: cannot reload hvx", mod_hvx_ko());
	if (mod_loaded("kvm_amd"))
		SKIP(return, "kvm_amd is already loaded");

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
		for (i = 0; i < 4; i++)
			snprintf(self->mods[self->nr_mods++], sizeof(self->mods[0]), "%s",
				 defaults[i]);
	}
	for (i = 0; i < self->nr_mods; i++)
		if (find_module(dir, self->mods[i], self->paths[i], sizeof(self->paths[i])))
			SKIP(return, "%s: no %s.ko", dir, self->mods[i]);
	if (self->nr_mods == 0 || strcmp(self->mods[self->nr_mods - 1], "kvm-amd"))
		SKIP(return, "%s: kvm-amd missing from the module list", dir);
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
		/* Only kvm-amd and kvm must go; helpers may be in use elsewhere. */
		if (strict && (!strcmp(name, "kvm_amd") || !strcmp(name, "kvm")))
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
TEST_F_TIMEOUT(coexist, hvx_load_busy_while_kvm_owns_svm, 150)
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
			if (!strcmp(name, "kvm_amd") || !strcmp(name, "kvm"))
				SKIP(return, "insmod %s: %s (KVM unusable here)", self->paths[i],
				     strerror(-r));
			TH_LOG("insmod %s: %s (ignored)", self->paths[i], strerror(-r));
		}
	}
	ASSERT_TRUE(mod_loaded("kvm_amd"));

	TH_LOG("KVM_CREATE_VM");
	/* A KVM VM makes KVM turn SVM on (older kernels enable it only then). */
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
	EXPECT_EQ(-EBUSY, r) TH_LOG("insmod hvx with KVM owning SVM: %s",
				    r ? strerror(-r) : "succeeded");
	if (!r) {
		r = mod_unload_wait("hvx", 2000);
		EXPECT_EQ(0, r) TH_LOG("rmmod hvx: %s", strerror(-r));
	}

	/* KVM still works: its VM can get a vCPU. */
	r = ioctl(self->kvm_vm_fd, KVM_CREATE_VCPU, 0);
	EXPECT_LE(0, r) TH_LOG("KVM_CREATE_VCPU after the failed hvx load: %s", strerror(errno));
	if (r >= 0)
		close(r);

	TH_LOG("rmmod the KVM modules, insmod hvx, run a guest");
	unload_kvm(_metadata, self, true);
	ASSERT_FALSE(mod_loaded("kvm_amd"));
	r = mod_ensure_hvx();
	ASSERT_EQ(0, r) TH_LOG("insmod hvx after KVM left: %s", strerror(-r));
	ASSERT_EQ(0, tvm_smoke(msg, sizeof(msg))) TH_LOG("hvx after KVM: %s", msg);
}

TEST_HARNESS_MAIN
