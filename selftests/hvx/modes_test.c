// SPDX-License-Identifier: GPL-2.0
/*
 * Guest execution modes: real mode (also from the reset vector), 32-bit
 * protected mode, 64-bit long mode, and a guest that enters long mode from
 * real mode by itself.  Each computes values and reports them over port I/O.
 */
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "test_util.h"

GUEST_CODE(modes_real);
GUEST_CODE(modes_reset);
GUEST_CODE(modes_prot32);
GUEST_CODE(modes_long);
GUEST_CODE(modes_switch);
GUEST_CODE(modes_smsw_a16);
GUEST_CODE(modes_rm_events);
GUEST_CODE(modes_pm_to_rm);
GUEST_CODE(modes_unreal);

/*
 * Real mode needs unrestricted guest on VMX, which needs EPT: under shadow
 * paging on VMX the kernel refuses it with EOPNOTSUPP, and the test checks
 * that before it skips the rest.
 */
#define SKIP_IF_NO_REAL_MODE(t, refused) do {					\
	if (!tvm_real_mode_ok(t)) {						\
		EXPECT_EQ(-EOPNOTSUPP, (refused));				\
		tvm_destroy(t);							\
		SKIP(return, "real mode needs unrestricted guest, which VMX "	\
		     "has only with EPT (paging mode %u)", (t)->paging);		\
	}									\
} while (0)

/* A VM whose vCPU 0 starts @name in real mode at GUEST_CODE_GPA; skips where real mode cannot run. */
#define REAL_MODE_GUEST(t, name) do {						\
	TVM_CREATE(t, 2 * GUEST_MIN_MEM, 0, 1);					\
	tvm_load_code(t, #name, name##_start, name##_end);			\
	SKIP_IF_NO_REAL_MODE(t, tvm_setup(t, 0, HVX_MODE_REAL, GUEST_CODE_GPA));	\
	ASSERT_OK(tvm_setup(t, 0, HVX_MODE_REAL, GUEST_CODE_GPA));		\
} while (0)

/* Virtual-8086 mode runs this VM's real mode (VMX, shadow paging). */
static bool vm86(struct tvm *t)
{
	return t->paging == HVX_PAGING_SHADOW &&
	       tvm_cap(&t->sys, HVX_CAP_SHADOW_REAL_MODE, 0) == HVX_REAL_MODE_VM86;
}

/*
 * Virtual-8086 mode refused the state: the vCPU stopped before running
 * anything, naming segment register @seg and the instruction at @linear.
 */
#define ASSERT_VM86_REFUSED(t, seg, linear) do {				\
	struct hvx_run *__run = (t)->vcpu[0].run;				\
										\
	ASSERT_RUN_EXIT(t, 0, HVX_EXIT_INTERNAL_ERROR);				\
	EXPECT_EQ(HVX_INTERNAL_REAL_MODE, __run->internal.suberror);		\
	EXPECT_EQ(seg, __run->internal.data[0]);				\
	EXPECT_EQ(linear, __run->internal.data[1]);				\
	EXPECT_EQ(0, (t)->io[0].nr_reports);					\
} while (0)

TEST(real_mode)
{
	struct tvm t;

	REAL_MODE_GUEST(&t, modes_real);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_REPORTS(&t, 5050, 144, 0x34567812, GUEST_CODE_GPA >> 4);
	tvm_destroy(&t);
}

/*
 * Real mode's interrupts and exceptions go through the vector table at
 * IDTR, and its privileged instructions run: natively with AMD's paged
 * real mode and Intel's unrestricted guest, delivered and emulated by the
 * kernel in virtual-8086 mode (Intel, shadow paging).  The host's view of
 * the registers is real mode's throughout.
 */
TEST(real_mode_events_and_privileged_insns)
{
	struct hvx_vcpu_state st;
	struct tvm t;

	REAL_MODE_GUEST(&t, modes_rm_events);
	/* The guest halts with IF set; an interrupt ends the HLT. */
	ASSERT_GUEST_EXIT(&t, 0, HVX_EXIT_HLT);
	ASSERT_OK(hvx_vcpu_inject(&t.vcpu[0], HVX_EVENT_EXTINT, 0x42, 0, 0));
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_REPORTS(&t, 0x200, 0, 1, 1, 1, 1, 8, 0, 0x200, 0x5000, 0x1234, 1);

	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st,
				     HVX_STATE_REGS | HVX_STATE_SREGS | HVX_STATE_CREGS));
	EXPECT_EQ(0x2345, st.sregs.fs.selector);
	EXPECT_EQ(0x23450, st.sregs.fs.base);
	EXPECT_EQ(0xffff, st.sregs.fs.limit);
	EXPECT_EQ(0x1000, st.sregs.cs.selector);
	EXPECT_EQ(0x10000, st.sregs.cs.base);
	EXPECT_EQ(0, st.sregs.cs.dpl);
	EXPECT_EQ(0, st.sregs.idt.base);
	EXPECT_EQ(0x3ff, st.sregs.idt.limit);
	/* Neither virtual-8086 mode's VM flag nor its IOPL shows. */
	EXPECT_EQ(0, st.regs.rflags & 0x23000);
	EXPECT_EQ(0, st.cregs.cr0 & 1);
	EXPECT_EQ(0x5000, st.cregs.cr3);
	tvm_destroy(&t);
}

/*
 * Protected mode back to real mode: the segments loaded in protected mode
 * keep their bases after PE is cleared, until reloaded.  In virtual-8086
 * mode the guest reads such a selector as base / 16 (Documentation/api.rst).
 */
TEST(protected_back_to_real_mode)
{
	struct tvm t;

	REAL_MODE_GUEST(&t, modes_pm_to_rm);
	*(__u16 *)(t.mem + 0x20000) = 0xbeef;
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_REPORTS(&t, 0xbeef, vm86(&t) ? 0x2000 : 0x10, 0x5eed5eed);
	tvm_destroy(&t);
}

/*
 * Real mode with a 4 GiB data segment ("unreal" mode, set by SET_STATE)
 * reads above 1 MiB, except in virtual-8086 mode, whose segments have
 * 64 KiB limits: there the vCPU stops at once with HVX_INTERNAL_REAL_MODE
 * naming DS and the instruction, and nothing has run.
 */
TEST(unreal_mode)
{
	struct hvx_vcpu_state st;
	struct tvm t;

	REAL_MODE_GUEST(&t, modes_unreal);
	*(__u32 *)(t.mem + 0x100000) = 0xca11ab1e;
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_SREGS));
	st.sregs.ds.limit = 0xffffffff;
	st.sregs.ds.g = 1;
	ASSERT_OK(hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_SREGS));
	if (vm86(&t)) {
		ASSERT_VM86_REFUSED(&t, 3, GUEST_CODE_GPA);		/* DS */
		EXPECT_EQ(GUEST_CODE_GPA & 0xffff, t.vcpu[0].run->rip);
		tvm_destroy(&t);
		return;
	}
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_REPORTS(&t, 0xca11ab1e);
	tvm_destroy(&t);
}

TEST(reset_vector)
{
	const size_t size = 0x10000;
	unsigned char *rom;
	struct tvm t;

	TVM_CREATE(&t, GUEST_MIN_MEM, 0, 1);
	rom = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, rom);
	memset(rom, 0xf4, size);
	memcpy(rom + 0xf000, modes_reset_start, modes_reset_end - modes_reset_start);
	/* At 0xfffffff0: jmp near 0xf000 (e9 rel16). */
	rom[0xfff0] = 0xe9;
	rom[0xfff1] = (0xf000 - 0xfff3) & 0xff;
	rom[0xfff2] = ((0xf000 - 0xfff3) >> 8) & 0xff;
	ASSERT_OK(hvx_vm_set_region(&t.vm, 1, HVX_MEM_READONLY, 0xffff0000ULL, size, rom));
	t.src = "modes_reset";
	SKIP_IF_NO_REAL_MODE(&t, tvm_run_once(&t, 0));
	/*
	 * Virtual-8086 mode (VMX, shadow paging) cannot hold CS at
	 * 0xffff0000 with selector 0xf000: the vCPU stops, naming CS and the
	 * reset vector, and nothing has run.
	 */
	if (vm86(&t)) {
		ASSERT_VM86_REFUSED(&t, 1, 0xfffffff0ULL);		/* CS */
		tvm_destroy(&t);
		munmap(rom, size);
		return;
	}
	/* No state set: the vCPU starts from its reset state. */
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_REPORTS(&t, 0xf000);
	tvm_destroy(&t);
	munmap(rom, size);
}

TEST(protected_mode_32)
{
	struct tvm t;

	TVM_CREATE(&t, 2 * GUEST_MIN_MEM, 0, 1);
	tvm_load_code(&t, "modes_prot32", modes_prot32_start, modes_prot32_end);
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_PROT32, GUEST_CODE_GPA));
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_REPORTS(&t, 54321, 0x00020001, 1, 0x5a5a1234);
	tvm_destroy(&t);
}

/*
 * Repeated prefixes count once: SMSW to memory with two 0x67 prefixes in
 * 32-bit code uses 16-bit addressing (emulated under shadow paging on SVM,
 * where a decoder that toggled the address size per prefix stored at
 * [ESI] and stepped over 5 bytes instead of 7).
 */
TEST(repeated_prefix_counts_once)
{
	struct hvx_vcpu_state st;
	struct tvm t;

	TVM_CREATE(&t, 2 * GUEST_MIN_MEM, 0, 1);
	tvm_load_code(&t, "modes_smsw_a16", modes_smsw_a16_start, modes_smsw_a16_end);
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_PROT32, GUEST_CODE_GPA));
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_CREGS));
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_REPORTS(&t, (__u16)st.cregs.cr0, 0);
	tvm_destroy(&t);
}

TEST(long_mode)
{
	struct tvm t;

	TVM_LONG_GUEST(&t, modes_long, 0);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_REPORTS(&t, 0x56789000, 0x1234, 0xba987654, 0x3210fedc, 42);
	tvm_destroy(&t);
}

TEST(real_to_long_switch)
{
	struct hvx_vcpu_state st;
	struct tvm t;

	REAL_MODE_GUEST(&t, modes_switch);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_REPORTS(&t, 0x67452301, 0xefcdab89, 0x500, 0xc0ffee);

	/* The host sees the mode the guest built. */
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_SREGS | HVX_STATE_CREGS));
	EXPECT_EQ(0x500, st.cregs.efer & 0x500);
	EXPECT_EQ(0x80000001ULL, st.cregs.cr0 & 0x80000001ULL);
	EXPECT_EQ(0x20, st.cregs.cr4 & 0x20);
	EXPECT_EQ(0x61000, st.cregs.cr3 & ~0xfffULL);
	EXPECT_EQ(0x08, st.sregs.cs.selector);
	EXPECT_EQ(1, st.sregs.cs.l);
	EXPECT_EQ(0x60000, st.sregs.gdt.base);
	EXPECT_EQ(0x17, st.sregs.gdt.limit);
	tvm_destroy(&t);
}

TEST_HARNESS_MAIN
