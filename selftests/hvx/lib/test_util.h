/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the hvx selftests: a VM with guest RAM at gpa 0, guest
 * code loading, and a run loop that speaks the port protocol of guest.h.
 * The ASSERT-style macros at the end expand to kselftest_harness.h macros:
 * a test includes that header before this one.
 */
#ifndef HVX_SELFTEST_TEST_UTIL_H
#define HVX_SELFTEST_TEST_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>

#include "libhvx.h"
#include "guest.h"
#include "x86.h"

#define TVM_MAX_VCPUS	8
#define TVM_MAX_REPORTS	64
#define TVM_MAX_EXCS	16	/* exception events kept; more is a fault loop */

/* Results of tvm_run_guest() besides HVX_EXIT_* and -errno. */
#define GUEST_EXIT_DONE		0x100	/* guest wrote PORT_DONE; value in io.done */
#define GUEST_EXIT_FAIL		0x101	/* guest wrote PORT_FAIL or PORT_ASSERT; line in
					 * io.fail_line, a C guest's values in io.assert_msg */
#define GUEST_EXIT_EXC_LOOP	0x102	/* more than TVM_MAX_EXCS exception events */

#define GUEST_CODE(name) extern const unsigned char name##_start[], name##_end[]

/* Guest address of a label inside a blob loaded at GUEST_CODE_GPA. */
#define GUEST_ADDR(blob, label) \
	(GUEST_CODE_GPA + (__u64)((const unsigned char *)(label) - (blob##_start)))

struct tvm_exc {
	__u32 vector;
	__u32 error_code;
	__u32 rip;
};

/* What the guest said over the port protocol since the last reset. */
struct tvm_io {
	char console[256];
	unsigned int console_len;
	__u32 reports[TVM_MAX_REPORTS];
	unsigned int nr_reports;
	struct tvm_exc excs[TVM_MAX_EXCS];
	unsigned int nr_excs;
	unsigned int exc_words;	/* PORT_EXC words of the current event */
	__u32 done;
	__u32 fail_line;
	char assert_msg[256];	/* a C guest's failed assertion, if any */
};

struct tvm {
	struct hvx_sys sys;
	struct hvx_vm vm;
	struct hvx_vcpu vcpu[TVM_MAX_VCPUS];
	struct tvm_io io[TVM_MAX_VCPUS];
	unsigned int nr_vcpus;
	unsigned char *mem;		/* guest RAM, slot 0 at gpa 0 */
	size_t mem_size;
	__u32 vendor;			/* HVX_VENDOR_* */
	__u32 paging;			/* HVX_PAGING_NESTED or _SHADOW: what it got */
	const char *src;		/* guest source file, for messages */
};

/* 0 if /dev/hvx opens; -errno otherwise (-ENOENT: module not loaded). */
int tvm_sys_open(struct hvx_sys *sys);
/*
 * Whether this process cannot use hvx at all: 0 if /dev/hvx opens, else
 * -errno with the reason in why (no device: the module is not loaded;
 * EACCES: neither root nor in group hvx).  Any other failure to open it
 * returns 0, for the test to fail on.
 */
int tvm_hvx_absent(char *why, size_t len);

/*
 * The guest artefacts (hello.bin, bench-pio.bin, bench-cpuid.bin,
 * mbkernel.elf, linux/vmlinuz, linux/initrd.gz) live in $HVX_GUEST_DIR,
 * by default where make install puts them (HVX_GUEST_DIR_DEFAULT, from
 * the Makefile's PREFIX).
 */
const char *tvm_guest_dir(void);
/* Writes tvm_guest_dir()/name to path: 0 if it is readable, else -errno. */
int tvm_guest_file(const char *name, char *path, size_t len);
/* Capability value, or def if the query fails. */
__u64 tvm_cap(struct hvx_sys *sys, __u32 cap, __u64 def);

/*
 * Opens /dev/hvx, creates a VM (paging auto, vm_flags) with mem_size bytes of
 * RAM at gpa 0 in slot 0 and vCPUs 0 .. nr_vcpus - 1.  0 or -errno.
 */
int tvm_create(struct tvm *t, size_t mem_size, __u32 vm_flags, unsigned int nr_vcpus);
/* tvm_create() with the given paging mode (HVX_PAGING_*). */
int tvm_create_paging(struct tvm *t, size_t mem_size, __u32 paging, __u32 vm_flags,
		      unsigned int nr_vcpus);
/* The paging mode the HVX_PAGING environment variable names (auto if unset). */
__u32 tvm_env_paging(void);
/* hvx drives Intel VMX on this host (HVX_CAP_VENDOR); false if /dev/hvx is not there. */
bool tvm_host_is_intel(void);
/*
 * The mode HVX_PAGING_AUTO gives (Documentation/api.rst, HVX_CREATE_VM):
 * nested where the CPU has it, unless hvx was loaded with force_shadow=1.
 */
__u32 tvm_auto_paging(struct hvx_sys *sys);
/* Whether this VM can run real mode (not VMX under shadow paging). */
bool tvm_real_mode_ok(struct tvm *t);
void tvm_destroy(struct tvm *t);

/*
 * Copies the blob [start, end) to guest RAM at gpa, turning the recorded
 * VMMCALL sites into VMCALL on Intel.
 */
void tvm_load(struct tvm *t, __u64 gpa, const void *start, const void *end);
/* tvm_load() at GUEST_CODE_GPA; src names the .S file for messages. */
void tvm_load_code(struct tvm *t, const char *src, const void *start, const void *end);

/* hvx_setup_mode() for vCPU idx, entry at gpa, RSP GUEST_STACK_TOP - idx * 0x4000. */
int tvm_setup(struct tvm *t, unsigned int idx, enum hvx_mode mode, __u64 entry);

/* Loads guest_idt64 and points the vCPU's IDT (long mode) at its stubs. */
int tvm_setup_idt64(struct tvm *t, unsigned int idx);

/* Set/get general registers. */
int tvm_get_regs(struct tvm *t, unsigned int idx, struct hvx_regs *regs);
int tvm_set_regs(struct tvm *t, unsigned int idx, const struct hvx_regs *regs);

/* One HVX_RUN: the exit reason, or -errno. */
int tvm_run_once(struct tvm *t, unsigned int idx);
/* Records a protocol OUT (console, exception report, ...) in t->io[idx]. */
int tvm_run_protocol_exit(struct tvm *t, unsigned int idx);

/*
 * Runs vCPU idx, handling PUTC/REPORT/EXC OUTs, until the guest is done
 * (GUEST_EXIT_DONE), fails (GUEST_EXIT_FAIL), loops on exceptions
 * (GUEST_EXIT_EXC_LOOP) or exits for any other reason (HVX_EXIT_*, the run
 * page tells the rest).  -errno if HVX_RUN fails.
 */
int tvm_run_guest(struct tvm *t, unsigned int idx);

/* Human-readable account of a tvm_run_*() result, for failure messages. */
const char *tvm_describe(struct tvm *t, unsigned int idx, int ret, char *buf, size_t len);

/* 1 if the test CPU matches, for a vendor-specific expectation. */
static inline bool tvm_is_amd(struct tvm *t)
{
	return t->vendor == HVX_VENDOR_AMD;
}

/*
 * Creates a VM whose vCPU runs a HLT at the reset vector: 0 if it exits
 * with HLT, else -errno or the exit reason, with msg saying what happened.
 */
int tvm_smoke(char *msg, size_t len);

/*
 * The host's pool of 2 MiB huge pages (/proc/sys/vm/nr_hugepages, root
 * only): grows it by @pages, the old size in *@old; 0, or -errno (ENOMEM
 * if the host could not find that many) with the pool left as it was.
 */
int tvm_hugetlb_reserve(unsigned long pages, unsigned long *old);
void tvm_hugetlb_restore(unsigned long old);
/* HugePages_Free of /proc/meminfo, or -1. */
long tvm_hugetlb_free(void);

/* Monotonic clock in milliseconds. */
unsigned long long tvm_now_ms(void);

/* ---- harness glue: these need the kselftest _metadata in scope ----------- */

/* SKIPs the test, with the reason, unless this process can use /dev/hvx. */
#define TVM_REQUIRE_HVX() do {							\
	char __why[192];							\
	if (tvm_hvx_absent(__why, sizeof(__why)))				\
		SKIP(return, "%s", __why);					\
} while (0)

/*
 * Puts the path of guest artefact name (see tvm_guest_file()) in the
 * array path, or SKIPs the test naming that path.
 */
#define TVM_REQUIRE_GUEST_FILE(name, path) do {					\
	int __r = tvm_guest_file(name, path, sizeof(path));			\
	if (__r)								\
		SKIP(return, "no guest artefact %.512s: %s (HVX_GUEST_DIR "	\
		     "names their directory)", path, strerror(-__r));		\
} while (0)

/* Creates the VM or SKIPs (no usable /dev/hvx) / fails the test. */
#define TVM_CREATE(t, mem_size, vm_flags, nr_vcpus) do {			\
	int __r = tvm_create(t, mem_size, vm_flags, nr_vcpus);			\
	if (__r)								\
		TVM_REQUIRE_HVX();						\
	ASSERT_EQ(0, __r) TH_LOG("creating a VM: %s", strerror(-__r));	\
} while (0)

/* TVM_CREATE() in a given paging mode; skips if the module lacks it. */
#define TVM_CREATE_PAGING(t, mem_size, paging, vm_flags, nr_vcpus) do {		\
	int __r = tvm_create_paging(t, mem_size, paging, vm_flags, nr_vcpus);	\
	if (__r)								\
		TVM_REQUIRE_HVX();						\
	if (__r == -EOPNOTSUPP)							\
		SKIP(return, "paging mode %u not available", (paging));	\
	ASSERT_EQ(0, __r) TH_LOG("creating a VM: %s", strerror(-__r));	\
} while (0)

/* Runs vCPU idx and asserts the guest finished with the given value. */
#define ASSERT_GUEST_DONE(t, idx, value) do {					\
	char __b[512];								\
	int __r = tvm_run_guest(t, idx);					\
	ASSERT_EQ(GUEST_EXIT_DONE, __r)						\
		TH_LOG("%s", tvm_describe(t, idx, __r, __b, sizeof(__b)));	\
	ASSERT_EQ((__u32)(value), (t)->io[idx].done)				\
		TH_LOG("guest result 0x%x, expected 0x%x",			\
		       (t)->io[idx].done, (__u32)(value));			\
} while (0)

/* Runs vCPU idx and asserts the given exit (HVX_EXIT_* or GUEST_EXIT_*). */
#define ASSERT_GUEST_EXIT(t, idx, reason) do {					\
	char __b[512];								\
	int __r = tvm_run_guest(t, idx);					\
	ASSERT_EQ((int)(reason), __r)						\
		TH_LOG("expected exit %s, got %s", tvm_exit_str(reason),	\
		       tvm_describe(t, idx, __r, __b, sizeof(__b)));		\
} while (0)

/* One HVX_RUN of vCPU idx; asserts the exit reason. */
#define ASSERT_RUN_EXIT(t, idx, reason) do {					\
	char __b[512];								\
	int __r = tvm_run_once(t, idx);						\
	ASSERT_EQ((int)(reason), __r)						\
		TH_LOG("expected exit %s, got %s", tvm_exit_str(reason),	\
		       tvm_describe(t, idx, __r, __b, sizeof(__b)));		\
} while (0)

/* Asserts vCPU 0's reports equal the expected list. */
#define ASSERT_REPORTS(t, ...) do {						\
	const __u32 _want[] = { __VA_ARGS__ };					\
	unsigned int _i, _n = sizeof(_want) / sizeof(_want[0]);		\
	ASSERT_EQ(_n, (t)->io[0].nr_reports);					\
	for (_i = 0; _i < _n; _i++) {						\
		__u32 _w = _want[_i], _g = (t)->io[0].reports[_i];		\
		EXPECT_EQ(_w, _g)						\
			TH_LOG("report %u: 0x%x, expected 0x%x", _i, _g, _w);	\
	}									\
} while (0)

const char *tvm_exit_str(int reason);

/* A VM with one vCPU in long mode at the start of blob, code loaded. */
#define TVM_LONG_GUEST(t, blob, vm_flags) do {					\
	TVM_CREATE(t, 2 * GUEST_MIN_MEM, vm_flags, 1);				\
	tvm_load_code(t, #blob, blob##_start, blob##_end);			\
	ASSERT_OK(tvm_setup(t, 0, HVX_MODE_LONG, GUEST_CODE_GPA));		\
} while (0)

#define ASSERT_OK(expr) do {							\
	int __r = (expr);							\
	ASSERT_EQ(0, __r) TH_LOG("%s: %s", #expr, strerror(-__r));		\
} while (0)

#endif /* HVX_SELFTEST_TEST_UTIL_H */
