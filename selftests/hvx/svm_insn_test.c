// SPDX-License-Identifier: GPL-2.0
/*
 * SVM instructions executed by a guest (VMRUN, VMLOAD, VMSAVE, STGI, CLGI,
 * SKINIT, INVLPGA) are intercepted and raise #UD in the guest.  AMD only.
 */
#include "kselftest_harness.h"
#include "test_util.h"

GUEST_CODE(svm_insn);
extern const unsigned char svm_insn_site[];

FIXTURE(svm) {
	struct tvm t;
};

FIXTURE_VARIANT(svm) {
	unsigned char modrm;		/* 0f 01 modrm */
};

FIXTURE_VARIANT_ADD(svm, vmrun) { .modrm = 0xd8 };
FIXTURE_VARIANT_ADD(svm, vmload) { .modrm = 0xda };
FIXTURE_VARIANT_ADD(svm, vmsave) { .modrm = 0xdb };
FIXTURE_VARIANT_ADD(svm, stgi) { .modrm = 0xdc };
FIXTURE_VARIANT_ADD(svm, clgi) { .modrm = 0xdd };
FIXTURE_VARIANT_ADD(svm, skinit) { .modrm = 0xde };
FIXTURE_VARIANT_ADD(svm, invlpga) { .modrm = 0xdf };

FIXTURE_SETUP(svm)
{
	(void)self;
}

FIXTURE_TEARDOWN(svm)
{
	(void)self;
}

TEST_F(svm, raises_ud)
{
	struct tvm *t = &self->t;
	__u64 site = GUEST_ADDR(svm_insn, svm_insn_site);

	TVM_LONG_GUEST(t, svm_insn, 0);
	if (!tvm_is_amd(t))
		SKIP(return, "SVM instructions: AMD only (HVX_CAP_VENDOR %u)", t->vendor);
	ASSERT_OK(tvm_setup_idt64(t, 0));
	t->mem[site] = 0x0f;
	t->mem[site + 1] = 0x01;
	t->mem[site + 2] = variant->modrm;

	ASSERT_GUEST_DONE(t, 0, 0x600d);
	ASSERT_EQ(1, t->io[0].nr_excs);
	EXPECT_EQ(6, t->io[0].excs[0].vector)
		TH_LOG("0f 01 %02x: vector %u", variant->modrm, t->io[0].excs[0].vector);
	EXPECT_EQ(site, t->io[0].excs[0].rip);
	tvm_destroy(t);
}

TEST_HARNESS_MAIN
