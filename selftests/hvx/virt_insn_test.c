// SPDX-License-Identifier: GPL-2.0
/*
 * Virtualization instructions executed by a guest raise #UD in it: hvx
 * does not nest.  On AMD the SVM instructions (VMRUN, VMLOAD, VMSAVE,
 * STGI, CLGI, SKINIT, INVLPGA) are intercepted and get #UD from the
 * kernel, and the VMX ones do not exist; on Intel the VMX instructions
 * (VMLAUNCH, VMRESUME, VMXOFF, ...) exit and get #UD from the kernel, and
 * the SVM ones do not exist.  Either way the guest sees the same #UD at
 * the instruction, as does the other vendor's hypercall instruction.
 */
#include "kselftest_harness.h"
#include "test_util.h"

GUEST_CODE(virt_insn);
extern const unsigned char virt_insn_site[];

FIXTURE(insn) {
	struct tvm t;
};

FIXTURE_VARIANT(insn) {
	unsigned char modrm;		/* 0f 01 modrm */
	bool other_hypercall;		/* the other vendor's hypercall instead */
};

FIXTURE_VARIANT_ADD(insn, vmrun) { .modrm = 0xd8 };
FIXTURE_VARIANT_ADD(insn, vmload) { .modrm = 0xda };
FIXTURE_VARIANT_ADD(insn, vmsave) { .modrm = 0xdb };
FIXTURE_VARIANT_ADD(insn, stgi) { .modrm = 0xdc };
FIXTURE_VARIANT_ADD(insn, clgi) { .modrm = 0xdd };
FIXTURE_VARIANT_ADD(insn, skinit) { .modrm = 0xde };
FIXTURE_VARIANT_ADD(insn, invlpga) { .modrm = 0xdf };
FIXTURE_VARIANT_ADD(insn, vmlaunch) { .modrm = 0xc2 };
FIXTURE_VARIANT_ADD(insn, vmresume) { .modrm = 0xc3 };
FIXTURE_VARIANT_ADD(insn, vmxoff) { .modrm = 0xc4 };
FIXTURE_VARIANT_ADD(insn, other_hypercall) { .other_hypercall = true };

FIXTURE_SETUP(insn)
{
	(void)self;
}

FIXTURE_TEARDOWN(insn)
{
	(void)self;
}

TEST_F(insn, raises_ud)
{
	struct tvm *t = &self->t;
	__u64 site = GUEST_ADDR(virt_insn, virt_insn_site);
	unsigned char modrm = variant->modrm;

	TVM_LONG_GUEST(t, virt_insn, 0);
	ASSERT_OK(tvm_setup_idt64(t, 0));
	/* VMCALL on AMD, VMMCALL on Intel. */
	if (variant->other_hypercall)
		modrm = tvm_is_amd(t) ? 0xc1 : 0xd9;
	t->mem[site] = 0x0f;
	t->mem[site + 1] = 0x01;
	t->mem[site + 2] = modrm;

	ASSERT_GUEST_DONE(t, 0, 0x600d);
	ASSERT_EQ(1, t->io[0].nr_excs);
	EXPECT_EQ(6, t->io[0].excs[0].vector)
		TH_LOG("0f 01 %02x: vector %u", modrm, t->io[0].excs[0].vector);
	EXPECT_EQ(site, t->io[0].excs[0].rip);
	tvm_destroy(t);
}

TEST_HARNESS_MAIN
