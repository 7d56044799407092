// SPDX-License-Identifier: GPL-2.0
/*
 * Memory slots: overlaps, read-only slots, removing a slot under a live VM,
 * and a sparse layout above 4 GiB up to the top of the guest-physical space;
 * what drops a cached translation (MOV to CR3, INVLPG, CR4.PGE, global
 * pages), in both paging modes.
 */
#include <cpuid.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "genl.h"
#include "test_util.h"

GUEST_CODE(mem_ro);
GUEST_CODE(mem_remove);
GUEST_CODE(mem_sparse);
GUEST_CODE(mem_tlb);
extern const unsigned char ro_write[], ro_write_end[], rm_read[];

#define SLOT1_GPA	0x200000ULL
#define MiB		(1ULL << 20)

static void *alloc_mem(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

TEST(overlap)
{
	void *a = alloc_mem(4 * MiB);
	struct tvm t;

	ASSERT_NE(NULL, a);
	TVM_CREATE(&t, 2 * MiB, 0, 0);	/* slot 0: [0, 2M) */
	/* Overlapping slot 0 from inside, across its end, and covering it. */
	EXPECT_EQ(-EEXIST, hvx_vm_set_region(&t.vm, 1, 0, 1 * MiB, 2 * MiB, a));
	EXPECT_EQ(-EEXIST, hvx_vm_set_region(&t.vm, 1, 0, 0, 4 * MiB, a));
	EXPECT_EQ(-EEXIST, hvx_vm_set_region(&t.vm, 1, 0, 0x1000, 0x1000, a));
	/* Adjacent is fine. */
	ASSERT_OK(hvx_vm_set_region(&t.vm, 1, 0, 2 * MiB, 1 * MiB, a));
	EXPECT_EQ(-EEXIST, hvx_vm_set_region(&t.vm, 2, 0, 2 * MiB + 0x1000, 0x1000, a));
	/* A slot in use cannot be re-added elsewhere. */
	EXPECT_EQ(-EEXIST, hvx_vm_set_region(&t.vm, 1, 0, 8 * MiB, 1 * MiB, a));
	/* Removed, the range and the slot are free again. */
	ASSERT_OK(hvx_vm_set_region(&t.vm, 1, 0, 2 * MiB, 0, a));
	ASSERT_OK(hvx_vm_set_region(&t.vm, 2, 0, 2 * MiB, 2 * MiB, a));
	ASSERT_OK(hvx_vm_set_region(&t.vm, 1, 0, 8 * MiB, 1 * MiB, (char *)a + 2 * MiB));
	tvm_destroy(&t);
	munmap(a, 4 * MiB);
}

TEST(readonly)
{
	unsigned char *ro = alloc_mem(2 * MiB);
	struct hvx_run *run;
	struct hvx_regs regs;
	struct tvm t;

	ASSERT_NE(NULL, ro);
	memcpy(ro, &(__u32){ 0xfeed0001 }, 4);
	memcpy(ro + 0x1000, &(__u32){ 0xfeed0002 }, 4);
	TVM_LONG_GUEST(&t, mem_ro, 0);
	run = t.vcpu[0].run;
	ASSERT_OK(hvx_vm_set_region(&t.vm, 1, HVX_MEM_READONLY, SLOT1_GPA, 2 * MiB, ro));

	ASSERT_GUEST_EXIT(&t, 0, HVX_EXIT_MMIO);
	EXPECT_EQ(SLOT1_GPA, run->mmio.gpa);
	EXPECT_EQ(1, run->mmio.is_write);
	EXPECT_EQ(GUEST_ADDR(mem_ro, ro_write), run->rip);
	ASSERT_GE(run->mmio.insn_len, ro_write_end - ro_write);
	EXPECT_EQ(0, memcmp(run->mmio.insn, ro_write, ro_write_end - ro_write));
	/* Drop the write: skip the instruction. */
	ASSERT_OK(tvm_get_regs(&t, 0, &regs));
	EXPECT_EQ(GUEST_ADDR(mem_ro, ro_write), regs.rip);
	regs.rip += ro_write_end - ro_write;
	ASSERT_OK(tvm_set_regs(&t, 0, &regs));

	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_REPORTS(&t, 0xfeed0001, 0xfeed0002, 0xfeed0001);
	EXPECT_EQ(0, memcmp(ro, &(__u32){ 0xfeed0001 }, 4)) TH_LOG("read-only memory written");
	tvm_destroy(&t);
	munmap(ro, 2 * MiB);
}

static int mmio_read_5678(void *opaque, __u64 gpa, void *data, unsigned int len,
			  int is_write)
{
	(void)opaque;
	(void)gpa;
	if (is_write)
		return -EINVAL;
	memcpy(data, &(__u64){ 0x5678 }, len < 8 ? len : 8);
	return 0;
}

TEST(remove_live)
{
	unsigned char *m = alloc_mem(2 * MiB);
	struct hvx_run *run;
	char msg[256] = "";
	struct tvm t;

	ASSERT_NE(NULL, m);
	TVM_LONG_GUEST(&t, mem_remove, 0);
	run = t.vcpu[0].run;
	ASSERT_OK(hvx_vm_set_region(&t.vm, 1, 0, SLOT1_GPA, 2 * MiB, m));

	ASSERT_RUN_EXIT(&t, 0, HVX_EXIT_IO);
	ASSERT_EQ(PORT_REPORT, run->io.port);
	EXPECT_EQ(0, memcmp(run->io_data, &(__u32){ 0x1234 }, 4));
	/* The guest's write landed in our memory. */
	EXPECT_EQ(0, memcmp(m, &(__u32){ 0x1234 }, 4));

	ASSERT_OK(hvx_vm_set_region(&t.vm, 1, 0, SLOT1_GPA, 0, m));
	ASSERT_RUN_EXIT(&t, 0, HVX_EXIT_MMIO);
	EXPECT_EQ(SLOT1_GPA, run->mmio.gpa);
	EXPECT_EQ(0, run->mmio.is_write);
	EXPECT_EQ(GUEST_ADDR(mem_remove, rm_read), run->rip);
	ASSERT_EQ(0, hvx_mmio_complete(&t.vcpu[0], mmio_read_5678, NULL, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_REPORTS(&t, 0x5678);
	tvm_destroy(&t);
	munmap(m, 2 * MiB);
}

static unsigned int host_phys_bits(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid(0x80000008, &a, &b, &c, &d))
		return 36;
	return a & 0xff;
}

TEST(sparse)
{
	const __u64 pte = 0x83;		/* P | RW | PS: 2 MiB page */
	unsigned char *hi, *top;
	__u64 bits, top_gpa, e;
	struct hvx_regs regs;
	struct tvm t;

	TVM_LONG_GUEST(&t, mem_sparse, 0);
	bits = tvm_cap(&t.sys, HVX_CAP_MAX_GPA_BITS, 0);
	ASSERT_GE(bits, 33) TH_LOG("HVX_CAP_MAX_GPA_BITS %llu", (unsigned long long)bits);
	/* Guest page tables cannot point past the CPU's physical address width. */
	if (bits > host_phys_bits())
		bits = host_phys_bits();
	top_gpa = (1ULL << bits) - 2 * MiB;
	TH_LOG("slots at 0, 4 GiB and 0x%llx (%llu-bit gpa space)",
	       (unsigned long long)top_gpa, (unsigned long long)bits);

	hi = alloc_mem(2 * MiB);
	top = alloc_mem(2 * MiB);
	ASSERT_NE(NULL, hi);
	ASSERT_NE(NULL, top);
	ASSERT_OK(hvx_vm_set_region(&t.vm, 1, 0, 4096 * MiB, 2 * MiB, hi));
	ASSERT_OK(hvx_vm_set_region(&t.vm, 2, 0, top_gpa, 2 * MiB, top));

	/* PDPT[4]: 4 GiB identity; PDPT[5]: linear 5 GiB -> top_gpa. */
	memset(t.mem + GUEST_PT_GPA, 0, 0x2000);
	e = (4096 * MiB) | pte;
	memcpy(t.mem + GUEST_PT_GPA, &e, 8);
	e = top_gpa | pte;
	memcpy(t.mem + GUEST_PT_GPA + 0x1000, &e, 8);
	e = GUEST_PT_GPA | 0x7;
	memcpy(t.mem + HVX_LAYOUT_PDPT + 4 * 8, &e, 8);
	e = (GUEST_PT_GPA + 0x1000) | 0x7;
	memcpy(t.mem + HVX_LAYOUT_PDPT + 5 * 8, &e, 8);

	memcpy(t.mem, &(__u32){ 0xa0 }, 4);
	memcpy(hi, &(__u32){ 0xb0 }, 4);
	memcpy(top, &(__u32){ 0xc0 }, 4);
	ASSERT_OK(tvm_get_regs(&t, 0, &regs));
	regs.rdi = 0;		/* page 0 is free in the libhvx layout */
	regs.rbx = 4096 * MiB;
	regs.rcx = 5120 * MiB;
	ASSERT_OK(tvm_set_regs(&t, 0, &regs));

	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_REPORTS(&t, 0xa0, 0xb0, 0xc0);
	EXPECT_EQ(0, memcmp(t.mem, &(__u32){ 0xa1 }, 4));
	EXPECT_EQ(0, memcmp(hi, &(__u32){ 0xb1 }, 4));
	EXPECT_EQ(0, memcmp(top, &(__u32){ 0xc1 }, 4));
	EXPECT_EQ(0, memcmp(t.mem + 2 * MiB - 4, &(__u32){ 0x77 }, 4));
	EXPECT_EQ(0, memcmp(hi + 2 * MiB - 4, &(__u32){ 0x78 }, 4));
	EXPECT_EQ(0, memcmp(top + 2 * MiB - 4, &(__u32){ 0x79 }, 4));
	tvm_destroy(&t);
}

static __u64 table_pages(struct __test_metadata *_metadata)
{
	struct vm_info vm;
	struct nl_err e;
	struct gnl g;
	__u32 id;

	EXPECT_EQ(0, gnl_open(&g));
	id = newest_vm_of(&g, getpid());
	EXPECT_EQ(0, nl_get_vm(&g, id, &vm, &e));
	gnl_close(&g);
	return vm.table_pages;
}

/*
 * Page tables (nested, or the record of pinned pages under shadow paging)
 * exist only for pages hvx could pin: a slot whose memory is PROT_NONE
 * costs no table however often the guest touches it; once it can be
 * pinned the tables come (one per level below the top for a lone 2 MiB
 * region at 1 GiB), and removing the slot frees the tables it emptied.
 */
TEST(tables_follow_pins)
{
	__u64 before, after_fail, after_map, after_remove;
	struct hvx_regs regs;
	unsigned char *m;
	struct tvm t;
	int i;

	m = mmap(NULL, 2 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	TVM_LONG_GUEST(&t, mem_sparse, 0);
	ASSERT_OK(hvx_vm_set_region(&t.vm, 1, 0, 1024 * MiB, 2 * MiB, m));
	before = table_pages(_metadata);

	for (i = 0; i < 3; i++) {
		ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_LONG, GUEST_CODE_GPA));
		ASSERT_OK(tvm_get_regs(&t, 0, &regs));
		regs.rdi = regs.rbx = regs.rcx = 1024 * MiB;
		ASSERT_OK(tvm_set_regs(&t, 0, &regs));
		ASSERT_GUEST_EXIT(&t, 0, HVX_EXIT_INTERNAL_ERROR);
		EXPECT_EQ(HVX_INTERNAL_MEMORY, t.vcpu[0].run->internal.suberror);
	}
	after_fail = table_pages(_metadata);

	ASSERT_EQ(0, mprotect(m, 2 * MiB, PROT_READ | PROT_WRITE));
	memcpy(m, &(__u32){ 0xb0 }, 4);
	t.io[0].nr_reports = 0;
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_LONG, GUEST_CODE_GPA));
	ASSERT_OK(tvm_get_regs(&t, 0, &regs));
	regs.rdi = regs.rbx = regs.rcx = 1024 * MiB;
	ASSERT_OK(tvm_set_regs(&t, 0, &regs));
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	after_map = table_pages(_metadata);

	ASSERT_OK(hvx_vm_set_region(&t.vm, 1, 0, 1024 * MiB, 0, m));
	after_remove = table_pages(_metadata);
	TH_LOG("table pages: %llu at start, %llu after 3 failed pins, %llu mapped, %llu removed",
	       (unsigned long long)before, (unsigned long long)after_fail,
	       (unsigned long long)after_map, (unsigned long long)after_remove);
	/* The guest's own pages may have been mapped by the first run. */
	EXPECT_EQ(after_fail, after_map - 2) TH_LOG("a PD and a PT for the slot at 1 GiB");
	EXPECT_EQ(after_fail, after_remove);
	tvm_destroy(&t);
	munmap(m, 2 * MiB);
}

/*
 * Each flush the architecture defines drops a cached translation; the
 * guest reads a page after remapping it and flushing (memory_guest.S).
 * A G bit keeps an entry across MOV to CR3 only with CR4.PGE: the guest
 * never relies on that, as the architecture makes it optional.
 */
#define TLB_VA_PDE	(HVX_LAYOUT_PD + (0x40000000ULL >> 21) * 8)
#define FRAME_A		(GUEST_DATA_GPA + 0x1000)
#define FRAME_B		(GUEST_DATA_GPA + 0x2000)

TEST(tlb_flushes)
{
	__u64 pde = GUEST_PT_GPA | 3, pte = FRAME_A | 3;
	struct tvm t;

	TVM_CREATE(&t, GUEST_MIN_MEM, 0, 1);
	tvm_load_code(&t, "mem_tlb", mem_tlb_start, mem_tlb_end);
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_LONG, GUEST_CODE_GPA));
	memcpy(t.mem + FRAME_A, &(__u32){ 0xaaaa }, 4);
	memcpy(t.mem + FRAME_B, &(__u32){ 0xbbbb }, 4);
	memset(t.mem + GUEST_PT_GPA, 0, 0x1000);
	memcpy(t.mem + GUEST_PT_GPA, &pte, 8);
	memcpy(t.mem + TLB_VA_PDE, &pde, 8);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_REPORTS(&t, 0xaaaa, 0xbbbb, 0xaaaa, 0xbbbb, 0xaaaa, 0xbbbb, 0xbbbb, 0xaaaa);
	tvm_destroy(&t);
}

TEST_HARNESS_MAIN
