// SPDX-License-Identifier: GPL-2.0
/*
 * Every ioctl with bad input, through raw ioctl() so the errno is the
 * kernel's own: wrong fd type, unknown ioctls, bad pointers, non-zero
 * reserved/flags/pad fields, out-of-range values, and a VM used from a
 * forked process.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"

static int xioctl(int fd, unsigned long req, const void *arg)
{
	int r = ioctl(fd, req, arg);

	return r < 0 ? -errno : r;
}

/* ioctl(fd, req, arg) must fail with errno err. */
#define EXPECT_ERR(err, fd, req, arg) do {					\
	int _r = xioctl(fd, req, arg);						\
	EXPECT_EQ(-(err), _r)							\
		TH_LOG("%s(%s, %s): got %s, expected %s", #req, #fd, #arg,	\
		       _r < 0 ? strerror(-_r) : "success", strerror(err));	\
} while (0)

#define EXPECT_OK_IOCTL(fd, req, arg) do {					\
	int _r = xioctl(fd, req, arg);						\
	EXPECT_LE(0, _r) TH_LOG("%s(%s, %s): %s", #req, #fd, #arg,		\
				strerror(-_r));					\
} while (0)

FIXTURE(bad) {
	int sys, vm, vcpu;
	void *unmapped;		/* PROT_NONE page */
	void *page;		/* page-aligned scratch memory */
	__u64 max_vcpus, nr_slots, gpa_bits;
};

FIXTURE_SETUP(bad)
{
	struct hvx_vm_create vc = { 0 };
	struct hvx_vcpu_create cc = { 0 };
	struct hvx_capability cap = { 0 };

	self->vm = self->vcpu = self->sys = -1;
	TVM_REQUIRE_HVX();
	self->sys = open("/dev/hvx", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->sys) TH_LOG("open /dev/hvx: %s", strerror(errno));
	self->vm = xioctl(self->sys, HVX_CREATE_VM, &vc);
	ASSERT_LE(0, self->vm) TH_LOG("HVX_CREATE_VM: %s", strerror(-self->vm));
	self->vcpu = xioctl(self->vm, HVX_CREATE_VCPU, &cc);
	ASSERT_LE(0, self->vcpu) TH_LOG("HVX_CREATE_VCPU: %s", strerror(-self->vcpu));

	/* Inaccessible, and kept mapped so that no later mmap reuses it. */
	self->unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->unmapped);
	self->page = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->page);

	cap.cap = HVX_CAP_MAX_VCPUS;
	ASSERT_EQ(0, xioctl(self->sys, HVX_CHECK_CAP, &cap));
	self->max_vcpus = cap.value;
	cap.cap = HVX_CAP_NR_MEMSLOTS;
	ASSERT_EQ(0, xioctl(self->sys, HVX_CHECK_CAP, &cap));
	self->nr_slots = cap.value;
	cap.cap = HVX_CAP_MAX_GPA_BITS;
	ASSERT_EQ(0, xioctl(self->sys, HVX_CHECK_CAP, &cap));
	self->gpa_bits = cap.value;
}

FIXTURE_TEARDOWN(bad)
{
	if (self->vcpu >= 0)
		close(self->vcpu);
	if (self->vm >= 0)
		close(self->vm);
	if (self->sys >= 0)
		close(self->sys);
}

TEST_F(bad, api_version_and_caps)
{
	struct hvx_capability cap = { 0 };
	__u32 c;

	EXPECT_EQ(HVX_API_VERSION, xioctl(self->sys, HVX_GET_API_VERSION, NULL));
	EXPECT_LE((int)sizeof(struct hvx_run), xioctl(self->sys, HVX_GET_VCPU_MMAP_SIZE, NULL));
	for (c = 0; c < HVX_NR_CAPS; c++) {
		cap = (struct hvx_capability){ .cap = c };
		EXPECT_EQ(0, xioctl(self->sys, HVX_CHECK_CAP, &cap)) TH_LOG("cap %u", c);
	}
	cap = (struct hvx_capability){ .cap = HVX_CAP_MAX_MSRS };
	ASSERT_EQ(0, xioctl(self->sys, HVX_CHECK_CAP, &cap));
	EXPECT_EQ(HVX_MAX_MSRS, cap.value);
	cap = (struct hvx_capability){ .cap = HVX_CAP_MAX_CPUID };
	ASSERT_EQ(0, xioctl(self->sys, HVX_CHECK_CAP, &cap));
	EXPECT_EQ(HVX_MAX_CPUID, cap.value);
	cap = (struct hvx_capability){ .cap = HVX_CAP_XSAVE_SIZE };
	ASSERT_EQ(0, xioctl(self->sys, HVX_CHECK_CAP, &cap));
	EXPECT_EQ(HVX_XSAVE_SIZE, cap.value);
	cap = (struct hvx_capability){ .cap = HVX_CAP_STATE_MASK };
	ASSERT_EQ(0, xioctl(self->sys, HVX_CHECK_CAP, &cap));
	EXPECT_EQ(HVX_STATE_ALL, cap.value);

	cap = (struct hvx_capability){ .cap = HVX_NR_CAPS };
	EXPECT_ERR(EINVAL, self->sys, HVX_CHECK_CAP, &cap);
	cap = (struct hvx_capability){ .cap = 0xffffffff };
	EXPECT_ERR(EINVAL, self->sys, HVX_CHECK_CAP, &cap);
	cap = (struct hvx_capability){ .cap = HVX_CAP_VENDOR, .flags = 1 };
	EXPECT_ERR(EINVAL, self->sys, HVX_CHECK_CAP, &cap);
}

TEST_F(bad, wrong_fd_type)
{
	struct hvx_vm_create vc = { 0 };
	struct hvx_memory_region mr = { .slot = 5, .size = 4096,
					.userspace_addr = (__u64)(uintptr_t)self->page };
	struct hvx_vcpu_create cc = { .id = 1 };
	struct hvx_vcpu_state st = { .components = HVX_STATE_REGS };
	struct hvx_event ev = { .type = HVX_EVENT_NMI };
	struct hvx_cpuid cpuid = { 0 };

	/* VM and vCPU ioctls on the system fd. */
	EXPECT_ERR(ENOTTY, self->sys, HVX_SET_MEMORY_REGION, &mr);
	EXPECT_ERR(ENOTTY, self->sys, HVX_CREATE_VCPU, &cc);
	EXPECT_ERR(ENOTTY, self->sys, HVX_RUN, NULL);
	EXPECT_ERR(ENOTTY, self->sys, HVX_GET_STATE, &st);
	EXPECT_ERR(ENOTTY, self->sys, HVX_SET_STATE, &st);
	EXPECT_ERR(ENOTTY, self->sys, HVX_INJECT_EVENT, &ev);
	EXPECT_ERR(ENOTTY, self->sys, HVX_SET_CPUID, &cpuid);
	/* System and vCPU ioctls on the VM fd. */
	EXPECT_ERR(ENOTTY, self->vm, HVX_CREATE_VM, &vc);
	EXPECT_ERR(ENOTTY, self->vm, HVX_RUN, NULL);
	EXPECT_ERR(ENOTTY, self->vm, HVX_GET_STATE, &st);
	EXPECT_ERR(ENOTTY, self->vm, HVX_SET_STATE, &st);
	EXPECT_ERR(ENOTTY, self->vm, HVX_INJECT_EVENT, &ev);
	EXPECT_ERR(ENOTTY, self->vm, HVX_SET_CPUID, &cpuid);
	/* System and VM ioctls on the vCPU fd. */
	EXPECT_ERR(ENOTTY, self->vcpu, HVX_CREATE_VM, &vc);
	EXPECT_ERR(ENOTTY, self->vcpu, HVX_SET_MEMORY_REGION, &mr);
	EXPECT_ERR(ENOTTY, self->vcpu, HVX_CREATE_VCPU, &cc);
}

TEST_F(bad, unknown_ioctl)
{
	int fds[3] = { self->sys, self->vm, self->vcpu };
	__u64 buf[8] = { 0 };
	int i;

	for (i = 0; i < 3; i++) {
		EXPECT_ERR(ENOTTY, fds[i], _IO(HVXIO, 0x7f), NULL);
		EXPECT_ERR(ENOTTY, fds[i], _IOWR(HVXIO, 0x30, __u64), buf);
		EXPECT_ERR(ENOTTY, fds[i], _IO('x', 0x01), NULL);
	}
	/* A known number with the wrong size is a different ioctl. */
	EXPECT_ERR(ENOTTY, self->sys, _IOWR(HVXIO, 0x01, __u64), buf);
	EXPECT_ERR(ENOTTY, self->vm, _IOW(HVXIO, 0x10, __u64), buf);
	EXPECT_ERR(ENOTTY, self->vcpu, _IOWR(HVXIO, 0x21, __u64), buf);
}

TEST_F(bad, bad_pointers)
{
	void *ptrs[3] = { NULL, (void *)1, self->unmapped };
	int i;

	for (i = 0; i < 3; i++) {
		void *p = ptrs[i];

		TH_LOG("pointer %p", p);
		EXPECT_ERR(EFAULT, self->sys, HVX_CHECK_CAP, p);
		EXPECT_ERR(EFAULT, self->sys, HVX_CREATE_VM, p);
		EXPECT_ERR(EFAULT, self->vm, HVX_SET_MEMORY_REGION, p);
		EXPECT_ERR(EFAULT, self->vm, HVX_CREATE_VCPU, p);
		EXPECT_ERR(EFAULT, self->vcpu, HVX_GET_STATE, p);
		EXPECT_ERR(EFAULT, self->vcpu, HVX_SET_STATE, p);
		EXPECT_ERR(EFAULT, self->vcpu, HVX_INJECT_EVENT, p);
		EXPECT_ERR(EFAULT, self->vcpu, HVX_SET_CPUID, p);
	}
}

TEST_F(bad, bad_nested_pointers)
{
	__u64 ptrs[3] = { 0, 1, (__u64)(uintptr_t)self->unmapped };
	struct hvx_vcpu_state st;
	struct hvx_cpuid cpuid;
	int i;

	for (i = 0; i < 3; i++) {
		TH_LOG("pointer 0x%llx", (unsigned long long)ptrs[i]);
		memset(&st, 0, sizeof(st));
		st.components = HVX_STATE_MSRS;
		st.nmsrs = 1;
		st.msrs = ptrs[i];
		EXPECT_ERR(EFAULT, self->vcpu, HVX_GET_STATE, &st);
		EXPECT_ERR(EFAULT, self->vcpu, HVX_SET_STATE, &st);
		memset(&st, 0, sizeof(st));
		st.components = HVX_STATE_FPU;
		st.xsave = ptrs[i];
		EXPECT_ERR(EFAULT, self->vcpu, HVX_GET_STATE, &st);
		EXPECT_ERR(EFAULT, self->vcpu, HVX_SET_STATE, &st);
		memset(&cpuid, 0, sizeof(cpuid));
		cpuid.nent = 1;
		cpuid.entries = ptrs[i];
		EXPECT_ERR(EFAULT, self->vcpu, HVX_SET_CPUID, &cpuid);
	}
}

TEST_F(bad, create_vm)
{
	struct hvx_capability cap = { .cap = HVX_CAP_PAGING_SHADOW };
	struct hvx_vm_create vc;
	int i, fd;

	for (i = 0; i < 3; i++) {
		vc = (struct hvx_vm_create){ 0 };
		vc.reserved[i] = 1;
		EXPECT_ERR(EINVAL, self->sys, HVX_CREATE_VM, &vc);
	}
	vc = (struct hvx_vm_create){ .flags = HVX_VM_FLAGS_ALL + 1 };
	EXPECT_ERR(EINVAL, self->sys, HVX_CREATE_VM, &vc);
	vc = (struct hvx_vm_create){ .flags = 0x80000000 };
	EXPECT_ERR(EINVAL, self->sys, HVX_CREATE_VM, &vc);
	vc = (struct hvx_vm_create){ .paging = 3 };
	EXPECT_ERR(EINVAL, self->sys, HVX_CREATE_VM, &vc);
	vc = (struct hvx_vm_create){ .paging = 0xffffffff };
	EXPECT_ERR(EINVAL, self->sys, HVX_CREATE_VM, &vc);

	/* Shadow paging: available or EOPNOTSUPP, as the capability says. */
	ASSERT_EQ(0, xioctl(self->sys, HVX_CHECK_CAP, &cap));
	vc = (struct hvx_vm_create){ .paging = HVX_PAGING_SHADOW };
	fd = xioctl(self->sys, HVX_CREATE_VM, &vc);
	if (cap.value) {
		EXPECT_LE(0, fd) TH_LOG("shadow paging: %s", strerror(-fd));
	} else {
		EXPECT_EQ(-EOPNOTSUPP, fd) TH_LOG("shadow paging without the cap: %s",
						   fd < 0 ? strerror(-fd) : "success");
	}
	if (fd >= 0)
		close(fd);

	/* Nested paging: available or ENODEV, as the capability says. */
	cap = (struct hvx_capability){ .cap = HVX_CAP_PAGING_NESTED };
	ASSERT_EQ(0, xioctl(self->sys, HVX_CHECK_CAP, &cap));
	vc = (struct hvx_vm_create){ .paging = HVX_PAGING_NESTED,
				     .flags = HVX_VM_MSR_UNHANDLED_GP };
	fd = xioctl(self->sys, HVX_CREATE_VM, &vc);
	if (cap.value) {
		EXPECT_LE(0, fd) TH_LOG("nested paging: %s", strerror(-fd));
	} else {
		EXPECT_EQ(-ENODEV, fd) TH_LOG("nested paging without the cap: %s",
					      fd < 0 ? strerror(-fd) : "success");
	}
	if (fd >= 0)
		close(fd);
}

static struct hvx_memory_region mr_make(__u32 slot, __u32 flags, __u64 gpa, __u64 size,
				       __u64 ua)
{
	return (struct hvx_memory_region){ .slot = slot, .flags = flags, .guest_phys_addr = gpa,
					   .size = size, .userspace_addr = ua };
}

TEST_F(bad, memory_region)
{
	__u64 ua = (__u64)(uintptr_t)self->page;
	__u64 top = 1ULL << self->gpa_bits;
	struct hvx_memory_region mr;
	int i;

	for (i = 0; i < 2; i++) {
		mr = mr_make(1, 0, 0x100000, 0x100000, ua);
		mr.reserved[i] = 1;
		EXPECT_ERR(EINVAL, self->vm, HVX_SET_MEMORY_REGION, &mr);
	}
	mr = mr_make(1, HVX_MEM_FLAGS_ALL + 1, 0x100000, 0x100000, ua);
	EXPECT_ERR(EINVAL, self->vm, HVX_SET_MEMORY_REGION, &mr);
	mr = mr_make(1, 0, 0x100800, 0x100000, ua);
	EXPECT_ERR(EINVAL, self->vm, HVX_SET_MEMORY_REGION, &mr);
	mr = mr_make(1, 0, 0x100000, 0x100800, ua);
	EXPECT_ERR(EINVAL, self->vm, HVX_SET_MEMORY_REGION, &mr);
	mr = mr_make(1, 0, 0x100000, 0x100000, ua + 8);
	EXPECT_ERR(EINVAL, self->vm, HVX_SET_MEMORY_REGION, &mr);
	mr = mr_make((__u32)self->nr_slots, 0, 0x100000, 0x100000, ua);
	EXPECT_ERR(EINVAL, self->vm, HVX_SET_MEMORY_REGION, &mr);
	mr = mr_make(0xffffffff, 0, 0x100000, 0x100000, ua);
	EXPECT_ERR(EINVAL, self->vm, HVX_SET_MEMORY_REGION, &mr);
	/* Beyond the guest-physical address width, and wrapping around. */
	mr = mr_make(1, 0, top - 0x1000, 0x2000, ua);
	EXPECT_ERR(EINVAL, self->vm, HVX_SET_MEMORY_REGION, &mr);
	mr = mr_make(1, 0, top, 0x1000, ua);
	EXPECT_ERR(EINVAL, self->vm, HVX_SET_MEMORY_REGION, &mr);
	mr = mr_make(1, 0, 0xfffffffffffff000ULL, 0x2000, ua);
	EXPECT_ERR(EINVAL, self->vm, HVX_SET_MEMORY_REGION, &mr);
	/* The last page of the space is fine. */
	mr = mr_make(2, 0, top - 0x1000, 0x1000, ua);
	EXPECT_OK_IOCTL(self->vm, HVX_SET_MEMORY_REGION, &mr);

	/* Valid, then overlapping, then slot in use. */
	mr = mr_make(1, 0, 0x100000, 0x100000, ua);
	EXPECT_OK_IOCTL(self->vm, HVX_SET_MEMORY_REGION, &mr);
	mr = mr_make(3, 0, 0x1ff000, 0x2000, ua);
	EXPECT_ERR(EEXIST, self->vm, HVX_SET_MEMORY_REGION, &mr);
	mr = mr_make(1, 0, 0x400000, 0x100000, ua);
	EXPECT_ERR(EEXIST, self->vm, HVX_SET_MEMORY_REGION, &mr);
}

TEST_F(bad, create_vcpu)
{
	struct hvx_vcpu_create cc;
	int i;

	cc = (struct hvx_vcpu_create){ .id = 1, .flags = 1 };
	EXPECT_ERR(EINVAL, self->vm, HVX_CREATE_VCPU, &cc);
	for (i = 0; i < 3; i++) {
		cc = (struct hvx_vcpu_create){ .id = 1 };
		cc.reserved[i] = 1;
		EXPECT_ERR(EINVAL, self->vm, HVX_CREATE_VCPU, &cc);
	}
	cc = (struct hvx_vcpu_create){ .id = (__u32)self->max_vcpus };
	EXPECT_ERR(EINVAL, self->vm, HVX_CREATE_VCPU, &cc);
	cc = (struct hvx_vcpu_create){ .id = 0xffffffff };
	EXPECT_ERR(EINVAL, self->vm, HVX_CREATE_VCPU, &cc);
	cc = (struct hvx_vcpu_create){ .id = 0 };
	EXPECT_ERR(EEXIST, self->vm, HVX_CREATE_VCPU, &cc);
	/* The highest id is fine. */
	cc = (struct hvx_vcpu_create){ .id = (__u32)self->max_vcpus - 1 };
	i = xioctl(self->vm, HVX_CREATE_VCPU, &cc);
	EXPECT_LE(0, i) TH_LOG("vCPU id %u: %s", cc.id, strerror(-i));
	if (i >= 0)
		close(i);
}

TEST_F(bad, state_header)
{
	struct hvx_vcpu_state st;
	unsigned long reqs[2] = { HVX_GET_STATE, HVX_SET_STATE };
	int i, k;

	for (k = 0; k < 2; k++) {
		TH_LOG("%s", k ? "HVX_SET_STATE" : "HVX_GET_STATE");
		memset(&st, 0, sizeof(st));
		ASSERT_EQ(0, xioctl(self->vcpu, HVX_GET_STATE,
				    &(struct hvx_vcpu_state){ .components = HVX_STATE_REGS }));
		st.components = HVX_STATE_REGS;
		st.flags = 1;
		EXPECT_ERR(EINVAL, self->vcpu, reqs[k], &st);
		for (i = 0; i < 3; i++) {
			memset(&st, 0, sizeof(st));
			st.components = HVX_STATE_REGS;
			st.reserved[i] = 1;
			EXPECT_ERR(EINVAL, self->vcpu, reqs[k], &st);
		}
		memset(&st, 0, sizeof(st));
		st.components = HVX_STATE_ALL + 1;
		EXPECT_ERR(EINVAL, self->vcpu, reqs[k], &st);
		st.components = 1ULL << 63;
		EXPECT_ERR(EINVAL, self->vcpu, reqs[k], &st);
		memset(&st, 0, sizeof(st));
		st.components = HVX_STATE_MSRS;
		st.pad = 1;
		EXPECT_ERR(EINVAL, self->vcpu, reqs[k], &st);
	}
}

/* SET_STATE of a component read back from the vCPU with one bad field. */
static int set_with(int vcpu, __u64 comp, void (*poke)(struct hvx_vcpu_state *))
{
	struct hvx_vcpu_state st;
	int r;

	memset(&st, 0, sizeof(st));
	st.components = comp;
	r = xioctl(vcpu, HVX_GET_STATE, &st);
	if (r)
		return 1000 + r;
	poke(&st);
	return xioctl(vcpu, HVX_SET_STATE, &st);
}

static void poke_cregs(struct hvx_vcpu_state *st) { st->cregs.reserved = 1; }
static void poke_dregs0(struct hvx_vcpu_state *st) { st->dregs.reserved[0] = 1; }
static void poke_dregs1(struct hvx_vcpu_state *st) { st->dregs.reserved[1] = 1; }
static void poke_ev_flags(struct hvx_vcpu_state *st) { st->events.flags = HVX_EVENTS_ALL + 1; }
static void poke_ev_pad(struct hvx_vcpu_state *st) { st->events.pad = 1; }
static void poke_ev_pad2(struct hvx_vcpu_state *st) { st->events.pad2 = 1; }
static void poke_ev_res0(struct hvx_vcpu_state *st) { st->events.reserved[0] = 1; }
static void poke_ev_res1(struct hvx_vcpu_state *st) { st->events.reserved[1] = 1; }
static void poke_seg_pad(struct hvx_vcpu_state *st) { st->sregs.ds.pad = 1; }
static void poke_cs_pad(struct hvx_vcpu_state *st) { st->sregs.cs.pad = 1; }
static void poke_gdt_pad(struct hvx_vcpu_state *st) { st->sregs.gdt.pad[0] = 1; }
static void poke_idt_pad(struct hvx_vcpu_state *st) { st->sregs.idt.pad[2] = 1; }
static void poke_exc_vec(struct hvx_vcpu_state *st)
{
	st->events.flags = HVX_EVENTS_EXCEPTION;
	st->events.exception_vector = 32;
}

TEST_F(bad, state_components)
{
	EXPECT_EQ(-EINVAL, set_with(self->vcpu, HVX_STATE_CREGS, poke_cregs));
	EXPECT_EQ(-EINVAL, set_with(self->vcpu, HVX_STATE_DREGS, poke_dregs0));
	EXPECT_EQ(-EINVAL, set_with(self->vcpu, HVX_STATE_DREGS, poke_dregs1));
	EXPECT_EQ(-EINVAL, set_with(self->vcpu, HVX_STATE_EVENTS, poke_ev_flags));
	EXPECT_EQ(-EINVAL, set_with(self->vcpu, HVX_STATE_EVENTS, poke_ev_pad));
	EXPECT_EQ(-EINVAL, set_with(self->vcpu, HVX_STATE_EVENTS, poke_ev_pad2));
	EXPECT_EQ(-EINVAL, set_with(self->vcpu, HVX_STATE_EVENTS, poke_ev_res0));
	EXPECT_EQ(-EINVAL, set_with(self->vcpu, HVX_STATE_EVENTS, poke_ev_res1));
	EXPECT_EQ(-EINVAL, set_with(self->vcpu, HVX_STATE_EVENTS, poke_exc_vec));
	EXPECT_EQ(-EINVAL, set_with(self->vcpu, HVX_STATE_SREGS, poke_seg_pad));
	EXPECT_EQ(-EINVAL, set_with(self->vcpu, HVX_STATE_SREGS, poke_cs_pad));
	EXPECT_EQ(-EINVAL, set_with(self->vcpu, HVX_STATE_SREGS, poke_gdt_pad));
	EXPECT_EQ(-EINVAL, set_with(self->vcpu, HVX_STATE_SREGS, poke_idt_pad));
}

TEST_F(bad, state_msrs)
{
	struct hvx_msr_entry e[HVX_MAX_MSRS + 1];
	struct hvx_vcpu_state st;
	int k;

	memset(e, 0, sizeof(e));
	for (k = 0; k <= HVX_MAX_MSRS; k++)
		e[k].index = 0xc0000081;	/* STAR */
	for (k = 0; k < 2; k++) {
		unsigned long req = k ? HVX_SET_STATE : HVX_GET_STATE;

		memset(&st, 0, sizeof(st));
		st.components = HVX_STATE_MSRS;
		st.msrs = (__u64)(uintptr_t)e;
		st.nmsrs = HVX_MAX_MSRS + 1;
		EXPECT_ERR(E2BIG, self->vcpu, req, &st);
		st.nmsrs = 0xffffffff;
		EXPECT_ERR(E2BIG, self->vcpu, req, &st);
		st.nmsrs = HVX_MAX_MSRS;
		EXPECT_OK_IOCTL(self->vcpu, req, &st);

		/* Indices the kernel does not keep. */
		st.nmsrs = 2;
		e[1].index = 0x1a0;
		EXPECT_ERR(EINVAL, self->vcpu, req, &st);
		e[1].index = 0x40000100;
		EXPECT_ERR(EINVAL, self->vcpu, req, &st);
		e[1].index = 0xc0000081;
		e[1].reserved = 1;
		EXPECT_ERR(EINVAL, self->vcpu, req, &st);
		e[1].reserved = 0;
	}
}

TEST_F(bad, inject_event)
{
	static const int errcode_vectors[] = { 8, 10, 11, 12, 13, 14, 17, 21, 29, 30 };
	struct hvx_vcpu_create cc = { .id = 1 };
	struct hvx_event ev;
	int i, v, fd;

	ev = (struct hvx_event){ .type = HVX_EVENT_NMI, .flags = 2 };
	EXPECT_ERR(EINVAL, self->vcpu, HVX_INJECT_EVENT, &ev);
	for (i = 0; i < 2; i++) {
		ev = (struct hvx_event){ .type = HVX_EVENT_NMI };
		ev.reserved[i] = 1;
		EXPECT_ERR(EINVAL, self->vcpu, HVX_INJECT_EVENT, &ev);
	}
	ev = (struct hvx_event){ .type = 3 };
	EXPECT_ERR(EINVAL, self->vcpu, HVX_INJECT_EVENT, &ev);
	ev = (struct hvx_event){ .type = 0xffffffff };
	EXPECT_ERR(EINVAL, self->vcpu, HVX_INJECT_EVENT, &ev);
	/* External interrupts: vectors 32..255. */
	ev = (struct hvx_event){ .type = HVX_EVENT_EXTINT, .vector = 0 };
	EXPECT_ERR(EINVAL, self->vcpu, HVX_INJECT_EVENT, &ev);
	ev.vector = 31;
	EXPECT_ERR(EINVAL, self->vcpu, HVX_INJECT_EVENT, &ev);
	ev.vector = 256;
	EXPECT_ERR(EINVAL, self->vcpu, HVX_INJECT_EVENT, &ev);
	ev.vector = 0x40;
	ev.flags = HVX_EVENT_HAS_ERRCODE;
	EXPECT_ERR(EINVAL, self->vcpu, HVX_INJECT_EVENT, &ev);
	/* Exceptions: 0..30 but not NMI's 2; error code only where one exists. */
	ev = (struct hvx_event){ .type = HVX_EVENT_EXCEPTION, .vector = 2 };
	EXPECT_ERR(EINVAL, self->vcpu, HVX_INJECT_EVENT, &ev);
	ev.vector = 31;		/* reserved; an AMD-compatible VMRUN may refuse it */
	EXPECT_ERR(EINVAL, self->vcpu, HVX_INJECT_EVENT, &ev);
	ev.vector = 32;
	EXPECT_ERR(EINVAL, self->vcpu, HVX_INJECT_EVENT, &ev);
	for (v = 0; v < 32; v++) {
		int has = 0;

		for (i = 0; i < (int)(sizeof(errcode_vectors) / sizeof(int)); i++)
			has |= errcode_vectors[i] == v;
		if (has || v == 2)
			continue;
		ev = (struct hvx_event){ .type = HVX_EVENT_EXCEPTION, .vector = v,
					 .flags = HVX_EVENT_HAS_ERRCODE };
		EXPECT_ERR(EINVAL, self->vcpu, HVX_INJECT_EVENT, &ev);
	}

	/* Valid ones on a fresh vCPU; a second EXTINT while one is queued: EBUSY. */
	fd = xioctl(self->vm, HVX_CREATE_VCPU, &cc);
	ASSERT_LE(0, fd);
	ev = (struct hvx_event){ .type = HVX_EVENT_EXTINT, .vector = 32 };
	EXPECT_OK_IOCTL(fd, HVX_INJECT_EVENT, &ev);
	ev.vector = 255;
	EXPECT_ERR(EBUSY, fd, HVX_INJECT_EVENT, &ev);
	close(fd);
	cc.id = 2;
	fd = xioctl(self->vm, HVX_CREATE_VCPU, &cc);
	ASSERT_LE(0, fd);
	ev = (struct hvx_event){ .type = HVX_EVENT_EXCEPTION, .vector = 14,
				 .flags = HVX_EVENT_HAS_ERRCODE, .error_code = 2 };
	EXPECT_OK_IOCTL(fd, HVX_INJECT_EVENT, &ev);
	close(fd);
}

TEST_F(bad, set_cpuid)
{
	struct hvx_cpuid_entry e[HVX_MAX_CPUID + 1];
	struct hvx_cpuid c;
	int i;

	memset(e, 0, sizeof(e));
	c = (struct hvx_cpuid){ .nent = HVX_MAX_CPUID + 1, .entries = (__u64)(uintptr_t)e };
	EXPECT_ERR(E2BIG, self->vcpu, HVX_SET_CPUID, &c);
	c.nent = 0xffffffff;
	EXPECT_ERR(E2BIG, self->vcpu, HVX_SET_CPUID, &c);
	c = (struct hvx_cpuid){ .nent = 1, .flags = 1, .entries = (__u64)(uintptr_t)e };
	EXPECT_ERR(EINVAL, self->vcpu, HVX_SET_CPUID, &c);
	for (i = 0; i < 2; i++) {
		c = (struct hvx_cpuid){ .nent = 1, .entries = (__u64)(uintptr_t)e };
		c.reserved[i] = 1;
		EXPECT_ERR(EINVAL, self->vcpu, HVX_SET_CPUID, &c);
	}
	c = (struct hvx_cpuid){ .nent = 1, .entries = (__u64)(uintptr_t)e };
	e[0].reserved = 1;
	EXPECT_ERR(EINVAL, self->vcpu, HVX_SET_CPUID, &c);
	e[0].reserved = 0;
	e[0].flags = HVX_CPUID_SIGNIFICANT_INDEX << 1;
	EXPECT_ERR(EINVAL, self->vcpu, HVX_SET_CPUID, &c);
	e[0].flags = 0;
	EXPECT_OK_IOCTL(self->vcpu, HVX_SET_CPUID, &c);
}

/* A child process may not drive the parent's VM. */
TEST_F(bad, forked_child_gets_eio)
{
	struct hvx_memory_region mr = { .slot = 1, .guest_phys_addr = 0x100000, .size = 0x1000,
					.userspace_addr = (__u64)(uintptr_t)self->page };
	struct hvx_vcpu_create cc = { .id = 3 };
	struct hvx_event ev = { .type = HVX_EVENT_NMI };
	int status = 0;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct hvx_vcpu_state st = { .components = HVX_STATE_REGS };
		int bad = 0;

		bad |= (xioctl(self->vm, HVX_CREATE_VCPU, &cc) != -EIO) << 0;
		bad |= (xioctl(self->vm, HVX_SET_MEMORY_REGION, &mr) != -EIO) << 1;
		bad |= (xioctl(self->vcpu, HVX_RUN, NULL) != -EIO) << 2;
		bad |= (xioctl(self->vcpu, HVX_GET_STATE, &st) != -EIO) << 3;
		bad |= (xioctl(self->vcpu, HVX_SET_STATE, &st) != -EIO) << 4;
		bad |= (xioctl(self->vcpu, HVX_INJECT_EVENT, &ev) != -EIO) << 5;
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child calls not refused with EIO (bit mask: 1 CREATE_VCPU, 2 SET_MEMORY_REGION, "
		       "4 RUN, 8 GET_STATE, 16 SET_STATE, 32 INJECT_EVENT): 0x%x",
		       WEXITSTATUS(status));
	/* The parent still owns them. */
	EXPECT_OK_IOCTL(self->vm, HVX_CREATE_VCPU, &cc);
}

TEST_HARNESS_MAIN
