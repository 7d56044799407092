// SPDX-License-Identifier: GPL-2.0
/*
 * Memory slots: overlaps, read-only slots, removing a slot under a live VM,
 * and a sparse layout above 4 GiB up to the top of the guest-physical space;
 * what drops a cached translation (MOV to CR3, INVLPG, CR4.PGE, global
 * pages); 2 MiB mappings of memory the host backs with huge pages; in
 * both paging modes.
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
GUEST_CODE(mem_huge);
GUEST_CODE(mem_huge_ro);
extern const unsigned char ro_write[], ro_write_end[], rm_read[], huge_ro_write[];

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

/* What the module says of this process's newest VM. */
static struct vm_info vm_info(struct __test_metadata *_metadata)
{
	struct vm_info vm;
	struct nl_err e;
	struct gnl g;
	__u32 id;

	memset(&vm, 0, sizeof(vm));
	EXPECT_EQ(0, gnl_open(&g));
	id = newest_vm_of(&g, getpid());
	EXPECT_EQ(0, nl_get_vm(&g, id, &vm, &e));
	gnl_close(&g);
	return vm;
}

static __u64 table_pages(struct __test_metadata *_metadata)
{
	return vm_info(_metadata).table_pages;
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
	__u64 before, after_fail, after_map, after_remove, huge_before;
	struct hvx_regs regs;
	unsigned char *m;
	struct tvm t;
	bool huge;
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
	huge_before = vm_info(_metadata).stats[HVX_STAT_PAGES_MAPPED_2M];
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
	/*
	 * The guest's own pages may have been mapped by the first run.  A
	 * PD for the slot at 1 GiB, and a PT unless the host backed it with
	 * a huge page, which a 2 MiB leaf in the PD maps.
	 */
	huge = vm_info(_metadata).stats[HVX_STAT_PAGES_MAPPED_2M] > huge_before;
	EXPECT_EQ(after_fail, after_map - (huge ? 1 : 2))
		TH_LOG("a PD%s for the slot at 1 GiB", huge ? "" : " and a PT");
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

/* ---- 2 MiB mappings ------------------------------------------------------ */

#define HUGE_GPA	(1024 * MiB)
#define HUGE_SIZE	(8 * MiB)
#define HUGE_PAGES	(HUGE_SIZE / 4096)

/* kB of transparent huge pages in the mapping that holds @p (/proc/self/smaps). */
static long anon_huge_kb(const void *p)
{
	unsigned long a = (unsigned long)p, lo, hi;
	char line[256];
	bool in = false;
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = lo <= a && a < hi;
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/*
 * HUGE_SIZE bytes, 2 MiB aligned, a mapping of their own advised for and
 * touched into transparent huge pages; NULL where the host gave it none
 * (no THP, or no free 2 MiB blocks), for the caller to skip on.
 */
static unsigned char *alloc_huge(void)
{
	size_t len = HUGE_SIZE + 2 * MiB, head;
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	head = (2 * MiB - ((unsigned long)p & (2 * MiB - 1))) & (2 * MiB - 1);
	if (head)
		munmap(p, head);
	munmap(p + head + HUGE_SIZE, 2 * MiB - head);
	p += head;
	if (madvise(p, HUGE_SIZE, MADV_HUGEPAGE) ||
	    (memset(p, 0, HUGE_SIZE), anon_huge_kb(p) < (long)(HUGE_SIZE / 1024))) {
		munmap(p, HUGE_SIZE);
		return NULL;
	}
	return p;
}

#define HUGE_MEM(m) do {							\
	m = alloc_huge();							\
	if (!m)									\
		SKIP(return, "the host gave no transparent huge pages for %llu MiB", \
		     HUGE_SIZE / MiB);						\
} while (0)

static void set_huge_regs(struct __test_metadata *_metadata, struct tvm *t, __u64 gpa,
			  __u64 pages, __u64 rsi)
{
	struct hvx_regs regs;

	ASSERT_OK(tvm_get_regs(t, 0, &regs));
	regs.rdi = gpa;
	regs.rcx = pages;
	regs.rsi = rsi;
	/* The guest's entry for @gpa in libhvx's identity map (2 MiB pages). */
	regs.r12 = HVX_LAYOUT_PD + (gpa >> 21) * 8;
	ASSERT_OK(tvm_set_regs(t, 0, &regs));
}

/* Runs to the guest's next report; asserts it is @want. */
#define RUN_TO_REPORT(t, want) do {						\
	ASSERT_RUN_EXIT(t, 0, HVX_EXIT_IO);					\
	ASSERT_EQ(PORT_REPORT, (t)->vcpu[0].run->io.port);			\
	EXPECT_EQ(0, memcmp((t)->vcpu[0].run->io_data, &(__u32){ want }, 4));	\
} while (0)

/* What the counters said of a guest's pass of writes over a slot. */
struct touch {
	__u64 maps_2m, maps_4k, npf;
	__u32 paging;		/* the VM's HVX_PAGING_* */
};

/*
 * A VM whose guest writes i to page i of a slot of @size bytes of @m at
 * @gpa, then sums them: the writes land, the VM's pins are all accounted
 * for, and *@d gets the counters' changes over the writes.
 */
static void touch_slot(struct __test_metadata *_metadata, unsigned char *m, __u64 gpa,
		       __u64 size, struct touch *d)
{
	unsigned int i, pages = size / 4096;
	struct vm_info before, after;
	struct tvm t;
	__u32 sum = 0;

	memset(m, 0xff, HUGE_SIZE);
	TVM_LONG_GUEST(&t, mem_huge, 0);
	ASSERT_OK(hvx_vm_set_region(&t.vm, 1, 0, gpa, size, m));
	set_huge_regs(_metadata, &t, gpa, pages, 0);
	RUN_TO_REPORT(&t, 1);
	before = vm_info(_metadata);
	RUN_TO_REPORT(&t, 2);
	after = vm_info(_metadata);
	d->maps_2m = after.stats[HVX_STAT_PAGES_MAPPED_2M] - before.stats[HVX_STAT_PAGES_MAPPED_2M];
	d->maps_4k = after.stats[HVX_STAT_PAGES_MAPPED] - before.stats[HVX_STAT_PAGES_MAPPED];
	d->npf = after.stats[HVX_STAT_EXIT_NPF] - before.stats[HVX_STAT_EXIT_NPF];
	d->paging = t.paging;
	EXPECT_EQ(after.pinned_pages, after.stats[HVX_STAT_PAGES_MAPPED] +
		  512 * after.stats[HVX_STAT_PAGES_MAPPED_2M]);
	for (i = 0; i < pages; i++) {
		EXPECT_EQ(i, *(__u32 *)(m + i * 4096UL));
		sum += i;
	}
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_REPORTS(&t, sum);	/* 1 and 2 went by RUN_TO_REPORT */
	tvm_destroy(&t);
}

/*
 * A slot backed by 2 MiB host pages, 2 MiB aligned in both address
 * spaces, maps with one 2 MiB leaf per 2 MiB: the guest's 2,048 page
 * writes take four mappings (and, under nested paging, four nested page
 * faults).
 */
TEST(huge_slot_maps_2m_at_a_time)
{
	struct touch d;
	unsigned char *m;

	HUGE_MEM(m);
	touch_slot(_metadata, m, HUGE_GPA, HUGE_SIZE, &d);
	EXPECT_EQ(4, d.maps_2m);
	EXPECT_EQ(0, d.maps_4k);
	if (d.paging == HVX_PAGING_NESTED)
		EXPECT_EQ(4, d.npf);
	munmap(m, HUGE_SIZE);
}

/* The same on hugetlbfs pages (MAP_HUGETLB) from the host's reserved pool. */
TEST(hugetlb_slot_maps_2m_at_a_time)
{
	unsigned long old;
	unsigned char *m;
	struct touch d;
	int ret;

	if (tvm_hugetlb_free() < 0)
		SKIP(return, "the host kernel has no hugetlbfs (no HugePages_Free in /proc/meminfo)");
	ret = tvm_hugetlb_reserve(HUGE_SIZE / (2 * MiB), &old);
	if (ret)
		SKIP(return, "cannot reserve %llu 2 MiB huge pages: %s", HUGE_SIZE / (2 * MiB),
		     strerror(-ret));
	m = mmap(NULL, HUGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (m == MAP_FAILED) {
		tvm_hugetlb_restore(old);
		ASSERT_TRUE(m != MAP_FAILED) TH_LOG("MAP_HUGETLB: %s", strerror(errno));
	}
	touch_slot(_metadata, m, HUGE_GPA, HUGE_SIZE, &d);
	munmap(m, HUGE_SIZE);
	tvm_hugetlb_restore(old);
	EXPECT_EQ(4, d.maps_2m);
	EXPECT_EQ(0, d.maps_4k);
	if (d.paging == HVX_PAGING_NESTED)
		EXPECT_EQ(4, d.npf);
}

/*
 * The same memory where a 2 MiB leaf cannot go: the slot starts 4 KiB
 * past a 2 MiB boundary of guest-physical space, so no aligned 2 MiB of
 * it is aligned in the host too; and a slot that covers only part of a
 * huge page.  Both map 4 KiB at a time, correctly.
 */
TEST(huge_pages_misaligned_or_partial_map_4k)
{
	struct touch d;
	unsigned char *m;

	HUGE_MEM(m);
	touch_slot(_metadata, m, HUGE_GPA + 4096, HUGE_SIZE, &d);
	EXPECT_EQ(0, d.maps_2m);
	EXPECT_EQ(HUGE_PAGES, d.maps_4k);
	touch_slot(_metadata, m, HUGE_GPA, 1 * MiB, &d);
	EXPECT_EQ(0, d.maps_2m);
	EXPECT_EQ(256, d.maps_4k);
	munmap(m, HUGE_SIZE);
}

/*
 * A read-only slot on huge pages maps 2 MiB at a time too, and still
 * refuses a write: it exits to userspace as MMIO at that address.
 */
TEST(huge_readonly_slot)
{
	struct vm_info after;
	unsigned char *m;
	struct tvm t;
	__u32 sum = 0;
	unsigned int i;

	HUGE_MEM(m);
	for (i = 0; i < HUGE_PAGES; i++) {
		*(__u32 *)(m + i * 4096UL) = 3 * i;
		sum += 3 * i;
	}
	TVM_LONG_GUEST(&t, mem_huge_ro, 0);
	ASSERT_OK(hvx_vm_set_region(&t.vm, 1, HVX_MEM_READONLY, HUGE_GPA, HUGE_SIZE, m));
	set_huge_regs(_metadata, &t, HUGE_GPA, HUGE_PAGES, HUGE_GPA + 5 * 4096);
	RUN_TO_REPORT(&t, sum);
	after = vm_info(_metadata);
	EXPECT_LE(4, after.stats[HVX_STAT_PAGES_MAPPED_2M]);
	ASSERT_RUN_EXIT(&t, 0, HVX_EXIT_MMIO);
	EXPECT_EQ(HUGE_GPA + 5 * 4096, t.vcpu[0].run->mmio.gpa);
	EXPECT_EQ(1, t.vcpu[0].run->mmio.is_write);
	EXPECT_EQ(GUEST_ADDR(mem_huge_ro, huge_ro_write), t.vcpu[0].run->rip);
	EXPECT_EQ(15, *(__u32 *)(m + 5 * 4096));
	tvm_destroy(&t);
	munmap(m, HUGE_SIZE);
}

/*
 * Removing a slot mapped 2 MiB at a time unpins all of it, and the next
 * access finds no memory there (MMIO).
 */
TEST(huge_slot_removed_mid_run)
{
	struct vm_info mapped, removed;
	unsigned char *m;
	struct tvm t;

	HUGE_MEM(m);
	TVM_LONG_GUEST(&t, mem_huge, 0);
	ASSERT_OK(hvx_vm_set_region(&t.vm, 1, 0, HUGE_GPA, HUGE_SIZE, m));
	set_huge_regs(_metadata, &t, HUGE_GPA, HUGE_PAGES, 0);
	RUN_TO_REPORT(&t, 1);
	RUN_TO_REPORT(&t, 2);
	mapped = vm_info(_metadata);
	ASSERT_OK(hvx_vm_set_region(&t.vm, 1, 0, HUGE_GPA, 0, m));
	removed = vm_info(_metadata);
	EXPECT_EQ(HUGE_PAGES, mapped.pinned_pages - removed.pinned_pages);
	ASSERT_RUN_EXIT(&t, 0, HVX_EXIT_MMIO);
	EXPECT_EQ(HUGE_GPA, t.vcpu[0].run->mmio.gpa);
	EXPECT_EQ(0, t.vcpu[0].run->mmio.is_write);
	tvm_destroy(&t);
	munmap(m, HUGE_SIZE);
}

TEST_HARNESS_MAIN
