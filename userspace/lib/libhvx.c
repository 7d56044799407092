// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libhvx: ioctl wrappers for /dev/hvx, VM and vCPU fds.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <cpuid.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "libhvx.h"

/* ioctl() result as 0/positive or -errno. */
static int hvx_ioctl(int fd, unsigned long req, void *arg)
{
	int ret = ioctl(fd, req, arg);

	return ret < 0 ? -errno : ret;
}

const char *hvx_library_version(void)
{
	return HVX_VERSION;
}

int hvx_open(struct hvx_sys *sys)
{
	int ret;

	sys->fd = open(HVX_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (sys->fd < 0)
		return -errno;
	ret = hvx_ioctl(sys->fd, HVX_GET_API_VERSION, NULL);
	if (ret < 0)
		goto error_close;
	if (ret != HVX_API_VERSION) {
		ret = -EPROTO;
		goto error_close;
	}
	return 0;

error_close:
	close(sys->fd);
	sys->fd = -1;
	return ret;
}

void hvx_close(struct hvx_sys *sys)
{
	if (sys->fd >= 0)
		close(sys->fd);
	sys->fd = -1;
}

int hvx_check_cap(struct hvx_sys *sys, __u32 cap, __u64 *value)
{
	struct hvx_capability c = { .cap = cap };
	int ret;

	ret = hvx_ioctl(sys->fd, HVX_CHECK_CAP, &c);
	if (ret < 0)
		return ret;
	*value = c.value;
	return 0;
}

int hvx_vm_create(struct hvx_sys *sys, struct hvx_vm *vm, __u32 paging, __u32 flags)
{
	struct hvx_vm_create c = { .paging = paging, .flags = flags };
	int ret;

	vm->sys = sys;
	ret = hvx_ioctl(sys->fd, HVX_CREATE_VM, &c);
	vm->fd = ret < 0 ? -1 : ret;
	return ret < 0 ? ret : 0;
}

void hvx_vm_destroy(struct hvx_vm *vm)
{
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = -1;
}

int hvx_vm_set_region(struct hvx_vm *vm, __u32 slot, __u32 flags, __u64 gpa, __u64 size,
		      void *uaddr)
{
	struct hvx_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.size = size,
		.userspace_addr = (__u64)(unsigned long)uaddr,
	};
	int ret = hvx_ioctl(vm->fd, HVX_SET_MEMORY_REGION, &r);

	return ret < 0 ? ret : 0;
}

int hvx_vm_signal_msi(struct hvx_vm *vm, __u64 address, __u32 data)
{
	struct hvx_msi m = { .address = address, .data = data };

	return hvx_ioctl(vm->fd, HVX_SIGNAL_MSI, &m);
}

int hvx_vm_irq_line(struct hvx_vm *vm, __u32 pin, __u32 level)
{
	struct hvx_irq_line l = { .pin = pin, .level = level };

	return hvx_ioctl(vm->fd, HVX_IRQ_LINE, &l);
}

int hvx_vcpu_create(struct hvx_vm *vm, __u32 id, struct hvx_vcpu *vcpu)
{
	struct hvx_vcpu_create c = { .id = id };
	void *run;
	int ret;

	vcpu->id = id;
	vcpu->run = NULL;
	vcpu->run_size = 0;
	vcpu->fd = -1;

	ret = hvx_ioctl(vm->sys->fd, HVX_GET_VCPU_MMAP_SIZE, NULL);
	if (ret < 0)
		return ret;
	if ((size_t)ret < sizeof(struct hvx_run))
		return -EPROTO;
	vcpu->run_size = ret;

	ret = hvx_ioctl(vm->fd, HVX_CREATE_VCPU, &c);
	if (ret < 0)
		return ret;
	vcpu->fd = ret;

	run = mmap(NULL, vcpu->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (run == MAP_FAILED) {
		ret = -errno;
		goto error_close_vcpu;
	}
	vcpu->run = run;
	return 0;

error_close_vcpu:
	close(vcpu->fd);
	vcpu->fd = -1;
	return ret;
}

void hvx_vcpu_destroy(struct hvx_vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	vcpu->run = NULL;
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->fd = -1;
}

int hvx_vcpu_run(struct hvx_vcpu *vcpu)
{
	int ret = hvx_ioctl(vcpu->fd, HVX_RUN, NULL);

	return ret < 0 ? ret : 0;
}

int hvx_vcpu_get_state(struct hvx_vcpu *vcpu, struct hvx_vcpu_state *st, __u64 components)
{
	int ret;

	/* The header's must-be-zero fields are ours to clear: st may be fresh stack. */
	st->components = components;
	st->flags = 0;
	st->pad = 0;
	memset(st->reserved, 0, sizeof(st->reserved));
	ret = hvx_ioctl(vcpu->fd, HVX_GET_STATE, st);
	return ret < 0 ? ret : 0;
}

int hvx_vcpu_set_state(struct hvx_vcpu *vcpu, struct hvx_vcpu_state *st, __u64 components)
{
	int ret;

	st->components = components;
	st->flags = 0;
	st->pad = 0;
	memset(st->reserved, 0, sizeof(st->reserved));
	ret = hvx_ioctl(vcpu->fd, HVX_SET_STATE, st);
	return ret < 0 ? ret : 0;
}

int hvx_vcpu_inject(struct hvx_vcpu *vcpu, __u32 type, __u32 vector, __u32 flags,
		    __u32 error_code)
{
	struct hvx_event ev = {
		.type = type,
		.vector = vector,
		.flags = flags,
		.error_code = error_code,
	};
	int ret = hvx_ioctl(vcpu->fd, HVX_INJECT_EVENT, &ev);

	return ret < 0 ? ret : 0;
}

int hvx_vcpu_set_cpuid(struct hvx_vcpu *vcpu, const struct hvx_cpuid_entry *e, __u32 nent)
{
	struct hvx_cpuid c = {
		.nent = nent,
		.entries = (__u64)(unsigned long)e,
	};
	int ret = hvx_ioctl(vcpu->fd, HVX_SET_CPUID, &c);

	return ret < 0 ? ret : 0;
}

/* Leaves whose ECX input selects a sub-leaf, with how many to read at most. */
static __u32 cpuid_subleaves(__u32 leaf)
{
	switch (leaf) {
	case 0x4: case 0x7: case 0xb: case 0xd: case 0xf: case 0x10:
	case 0x12: case 0x14: case 0x17: case 0x18: case 0x1f:
	case 0x8000001d: case 0x80000020:
		return 64;
	default:
		return 1;
	}
}

static int cpuid_add_range(struct hvx_cpuid_entry *e, __u32 max, __u32 *n, __u32 first)
{
	__u32 a, b, c, d, last, leaf, sub, nsub;

	__cpuid(first, last, b, c, d);
	if (last < first || last - first > 0xff)
		last = first;
	for (leaf = first; leaf <= last; leaf++) {
		nsub = cpuid_subleaves(leaf);
		for (sub = 0; sub < nsub; sub++) {
			__cpuid_count(leaf, sub, a, b, c, d);
			/*
			 * An all-zero sub-leaf past the first ends the list,
			 * except in leaf 0xD, where one per XSAVE component
			 * is listed and absent components leave gaps.
			 */
			if (sub > 0 && !(a | b | c | d)) {
				if (leaf == 0xd)
					continue;
				break;
			}
			if (*n >= max)
				return -ENOSPC;
			e[*n] = (struct hvx_cpuid_entry){
				.function = leaf,
				.index = sub,
				.flags = nsub > 1 ? HVX_CPUID_SIGNIFICANT_INDEX : 0,
				.eax = a, .ebx = b, .ecx = c, .edx = d,
			};
			(*n)++;
		}
	}
	return 0;
}

int hvx_cpuid_from_host(struct hvx_cpuid_entry *e, __u32 max, __u32 *nent)
{
	int ret;

	*nent = 0;
	ret = cpuid_add_range(e, max, nent, 0);
	if (ret)
		return ret;
	return cpuid_add_range(e, max, nent, 0x80000000);
}

const char *hvx_exit_name(__u32 exit_reason)
{
	static const char *const names[] = {
		[HVX_EXIT_NONE] = "NONE",
		[HVX_EXIT_IO] = "IO",
		[HVX_EXIT_MMIO] = "MMIO",
		[HVX_EXIT_HLT] = "HLT",
		[HVX_EXIT_SHUTDOWN] = "SHUTDOWN",
		[HVX_EXIT_HYPERCALL] = "HYPERCALL",
		[HVX_EXIT_MSR] = "MSR",
		[HVX_EXIT_IRQ_WINDOW] = "IRQ_WINDOW",
		[HVX_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[HVX_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
		[HVX_EXIT_INTR] = "INTR",
	};

	if (exit_reason >= sizeof(names) / sizeof(names[0]) || !names[exit_reason])
		return "UNKNOWN";
	return names[exit_reason];
}
