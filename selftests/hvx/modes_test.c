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

TEST(real_mode)
{
	struct tvm t;

	TVM_CREATE(&t, 2 * GUEST_MIN_MEM, 0, 1);
	tvm_load_code(&t, "modes_real", modes_real_start, modes_real_end);
	SKIP_IF_NO_REAL_MODE(&t, tvm_setup(&t, 0, HVX_MODE_REAL, GUEST_CODE_GPA));
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_REAL, GUEST_CODE_GPA));
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_REPORTS(&t, 5050, 144, 0x34567812, GUEST_CODE_GPA >> 4);
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

	TVM_CREATE(&t, 2 * GUEST_MIN_MEM, 0, 1);
	tvm_load_code(&t, "modes_switch", modes_switch_start, modes_switch_end);
	SKIP_IF_NO_REAL_MODE(&t, tvm_setup(&t, 0, HVX_MODE_REAL, GUEST_CODE_GPA));
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_REAL, GUEST_CODE_GPA));
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
