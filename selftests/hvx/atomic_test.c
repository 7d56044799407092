// SPDX-License-Identifier: GPL-2.0
/*
 * What hvx reads from guest memory on behalf of the hardware must not
 * depend on where the VM owner's pages happen to be.  hvx once read the
 * PAE page-directory pointers into the VMCS (VMX with EPT: SDM vol. 3C
 * §26.3.2.4) with preemption off; a user page not mapped at that moment
 * (here: in the page cache of a memfd, written with pwrite() and never
 * touched through the mapping) could not be faulted in there, the copy
 * failed, and the guest got not-present PDPTEs.  Both vendors and both
 * paging modes must run the guest.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "test_util.h"

#define SLOT1_GPA	0x200000ULL
#define SLOT1_SIZE	0x200000ULL
#define PDPT_GPA	SLOT1_GPA
#define PD_GPA		(SLOT1_GPA + 0x1000)

static void pae_from_page_cache(struct __test_metadata *_metadata, __u32 paging)
{
	/* mov $0x600d, %eax; out %eax, $PORT_DONE; hlt */
	static const unsigned char code[] = { 0xb8, 0x0d, 0x60, 0x00, 0x00,
					      0xe7, PORT_DONE, 0xf4 };
	__u64 pdpt[4] = { PD_GPA | 1, 0, 0, 0 };
	/* PDE 0: a 2 MiB page at 0 (P, RW, PS), which holds the code. */
	__u64 pde0 = 0x83;
	struct hvx_vcpu_state st;
	void *slot;
	int fd;
	struct tvm t;

	fd = memfd_create("hvx-pdpt", 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, SLOT1_SIZE));
	/* Into the page cache only: this process's page tables stay empty. */
	ASSERT_EQ((ssize_t)sizeof(pdpt), pwrite(fd, pdpt, sizeof(pdpt), 0));
	ASSERT_EQ((ssize_t)sizeof(pde0), pwrite(fd, &pde0, sizeof(pde0), 0x1000));
	slot = mmap(NULL, SLOT1_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, slot);

	TVM_CREATE_PAGING(&t, 2 * GUEST_MIN_MEM, paging, 0, 1);
	ASSERT_OK(hvx_vm_set_region(&t.vm, 1, 0, SLOT1_GPA, SLOT1_SIZE, slot));
	memcpy(t.mem + GUEST_CODE_GPA, code, sizeof(code));
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_PROT32, GUEST_CODE_GPA));

	/* PAE paging on, through SET_STATE: the PDPTEs come from slot 1. */
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_CREGS));
	st.cregs.cr0 |= CR0_PE | CR0_PG;
	st.cregs.cr4 |= CR4_PAE;
	st.cregs.cr3 = PDPT_GPA;
	ASSERT_OK(hvx_vcpu_set_state(&t.vcpu[0], &st, HVX_STATE_CREGS));

	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	tvm_destroy(&t);
	munmap(slot, SLOT1_SIZE);
	close(fd);
}

TEST(pae_pdptes_from_page_cache_nested)
{
	pae_from_page_cache(_metadata, HVX_PAGING_NESTED);
}

TEST(pae_pdptes_from_page_cache_shadow)
{
	pae_from_page_cache(_metadata, HVX_PAGING_SHADOW);
}

TEST_HARNESS_MAIN
