// SPDX-License-Identifier: GPL-2.0
/*
 * Triple faults end in HVX_EXIT_SHUTDOWN in every mode, and leave the host
 * able to run the next VM.
 */
#include "kselftest_harness.h"
#include "test_util.h"

GUEST_CODE(shut_long);
GUEST_CODE(shut_prot32);
GUEST_CODE(shut_real);
GUEST_CODE(shut_ok);

FIXTURE(shutdown) {
	struct tvm t;
};

FIXTURE_VARIANT(shutdown) {
	enum hvx_mode mode;
	const unsigned char *start, *end;
};

FIXTURE_VARIANT_ADD(shutdown, long_ud2) {
	.mode = HVX_MODE_LONG, .start = shut_long_start, .end = shut_long_end,
};

FIXTURE_VARIANT_ADD(shutdown, prot32_int3_null_idt) {
	.mode = HVX_MODE_PROT32, .start = shut_prot32_start, .end = shut_prot32_end,
};

FIXTURE_VARIANT_ADD(shutdown, real_int3_null_ivt) {
	.mode = HVX_MODE_REAL, .start = shut_real_start, .end = shut_real_end,
};

FIXTURE_SETUP(shutdown)
{
	(void)self;
}

FIXTURE_TEARDOWN(shutdown)
{
	(void)self;
}

TEST_F(shutdown, triple_fault)
{
	struct tvm *t = &self->t;
	struct tvm t2;

	TVM_CREATE(t, 2 * GUEST_MIN_MEM, 0, 1);
	tvm_load_code(t, "shutdown_guest", variant->start, variant->end);
	if (variant->mode == HVX_MODE_REAL && !tvm_real_mode_ok(t)) {
		EXPECT_EQ(-EOPNOTSUPP, tvm_setup(t, 0, variant->mode, GUEST_CODE_GPA));
		tvm_destroy(t);
		SKIP(return, "real mode needs unrestricted guest, which VMX has only with EPT");
	}
	ASSERT_OK(tvm_setup(t, 0, variant->mode, GUEST_CODE_GPA));
	ASSERT_GUEST_EXIT(t, 0, HVX_EXIT_SHUTDOWN);
	tvm_destroy(t);

	/* The host is fine: another VM runs to completion. */
	TVM_LONG_GUEST(&t2, shut_ok, 0);
	ASSERT_GUEST_DONE(&t2, 0, 0x600d);
	tvm_destroy(&t2);
}

/* A second VM alive while the first one shuts down is unaffected. */
TEST(shutdown_beside_live_vm)
{
	struct tvm a, b;

	TVM_LONG_GUEST(&a, shut_ok, 0);
	TVM_LONG_GUEST(&b, shut_long, 0);
	ASSERT_GUEST_EXIT(&b, 0, HVX_EXIT_SHUTDOWN);
	ASSERT_GUEST_DONE(&a, 0, 0x600d);
	tvm_destroy(&b);
	tvm_destroy(&a);
}

TEST_HARNESS_MAIN
