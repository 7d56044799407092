// SPDX-License-Identifier: GPL-2.0
/*
 * Instructions hvx emulates for the guest are checked with the rights of
 * the instruction that exited: a CPL 3 guest must not reach supervisor or
 * read-only pages through SMSW to memory, INS or OUTS, nor change a
 * control register, not even by changing the instruction's bytes between
 * the exit and hvx's fetch of them.  Each case runs one instruction of
 * emul_guest.S at CPL 3 (or CPL 0) in 64-bit mode, with 4 KiB pages of
 * chosen rights.  Under SVM with shadow paging all of them are emulated
 * (CR accesses exit there, and QEMU's SVM has no decode assists); under
 * nested paging or VMX the CPU runs SMSW and MOV CR itself, and string
 * I/O exits on both.
 */
#include "kselftest_harness.h"
#include "test_util.h"

GUEST_CODE(emul_guest);
extern const unsigned char emul_smsw_mem[], emul_insb[], emul_outsb[], emul_movsb[],
	emul_mov_cr0[],
	emul_mov_cr3[], emul_mov_cr4[], emul_swap[], emul_swap_end[];

#define PORT_EMUL_IO	0x80
#define PORT_EMUL_SWAP	0x81

/* Guest-physical = linear: 4 KiB pages for the first 2 MiB. */
#define PT_GPA		GUEST_PT_GPA
#define CODE_A		0x50000ULL	/* emul_swap as the CPU first runs it */
#define CODE_B		0x51000ULL	/* the same with another first instruction */
#define SUP_PAGE	0x52000ULL	/* supervisor-only, writable */
#define RO_PAGE		0x53000ULL	/* user, read-only */
#define USER_PAGE	0x54000ULL	/* user, writable */
#define EVIL_PML4	0x55000ULL	/* a copy of the PML4: a CR3 the guest could use */
#define MMIO_GPA	0x10000000ULL	/* no RAM: a device (identity-mapped, user) */
#define KSTACK_TOP	0x70000ULL	/* TSS.RSP0: the stubs run here */

/* Selectors added to libhvx's GDT (after its 16-byte TSS descriptor at 0x20). */
#define SEL_UDATA	0x33
#define SEL_UCODE64	0x3b

#define PF_EC_P		1
#define PF_EC_W		2
#define PF_EC_U		4

#define FILL		0x11

struct emul {
	struct tvm t;
	struct hvx_vcpu_state st;	/* the state the case started with */
	unsigned int port_in, port_out;	/* INS/OUTS items that reached the host */
	unsigned int mmio_reads;	/* device reads of MOVS */
	char msg[512];			/* hvx_mmio_complete_ram()'s complaint */
	bool swapped;
};

static void put64(struct tvm *t, __u64 gpa, __u64 v)
{
	memcpy(t->mem + gpa, &v, sizeof(v));
}

static struct hvx_segment user_seg(__u16 sel, __u8 type, int l)
{
	return (struct hvx_segment){
		.limit = 0xffffffff, .selector = sel, .type = type, .present = 1, .s = 1,
		.dpl = 3, .l = l, .db = !l, .g = 1,
	};
}

/*
 * A long-mode VM whose vCPU starts at @label at CPL 3 (@user) or 0, with
 * the page rights above, the exception stubs of guest_lib.S and IOPL 3.
 */
static int emul_create(struct emul *e, const unsigned char *label, bool user)
{
	const __u64 comps = HVX_STATE_REGS | HVX_STATE_SREGS | HVX_STATE_CREGS;
	struct tvm *t = &e->t;
	__u64 i;
	int ret;

	memset(e, 0, sizeof(*e));
	ret = tvm_create(t, 2 * GUEST_MIN_MEM, 0, 1);
	if (ret)
		return ret;
	tvm_load_code(t, "emul_guest", emul_guest_start, emul_guest_end);
	ret = tvm_setup(t, 0, HVX_MODE_LONG, GUEST_ADDR(emul_guest, label));
	if (!ret)
		ret = tvm_setup_idt64(t, 0);
	if (ret)
		return ret;

	/* The first 2 MiB in 4 KiB pages, user and writable but for these. */
	put64(t, HVX_LAYOUT_PD, PT_GPA | PTE_P | PTE_RW | PTE_US);
	for (i = 0; i < 512; i++)
		put64(t, PT_GPA + i * 8, (i << 12) | PTE_P | PTE_RW | PTE_US);
	put64(t, PT_GPA + (SUP_PAGE >> 12) * 8, SUP_PAGE | PTE_P | PTE_RW);
	put64(t, PT_GPA + (RO_PAGE >> 12) * 8, RO_PAGE | PTE_P | PTE_US);
	memset(t->mem + SUP_PAGE, FILL, 0x1000);
	memset(t->mem + RO_PAGE, FILL, 0x1000);
	memset(t->mem + USER_PAGE, FILL, 0x1000);
	memcpy(t->mem + EVIL_PML4, t->mem + HVX_LAYOUT_PML4, 0x1000);

	/* User code and data descriptors, and the stack faults from CPL 3 switch to. */
	put64(t, HVX_LAYOUT_GDT + (SEL_UDATA & ~3), 0x00cff3000000ffffULL);
	put64(t, HVX_LAYOUT_GDT + (SEL_UCODE64 & ~3), 0x00affb000000ffffULL);
	put64(t, HVX_LAYOUT_TSS + 4, KSTACK_TOP);

	ret = hvx_vcpu_get_state(&t->vcpu[0], &e->st, comps);
	if (ret)
		return ret;
	e->st.sregs.gdt.limit = SEL_UCODE64 | 7;
	e->st.regs.rflags |= RFLAGS_IOPL3;
	if (user) {
		e->st.sregs.cs = user_seg(SEL_UCODE64, 0xb, 1);
		e->st.sregs.ss = user_seg(SEL_UDATA, 0x3, 0);
		e->st.sregs.ds = e->st.sregs.ss;
		e->st.sregs.es = e->st.sregs.ss;
	}
	return hvx_vcpu_set_state(&t->vcpu[0], &e->st, comps);
}

static int emul_set_regs(struct emul *e, __u64 rax, __u64 rsi, __u64 rdi)
{
	e->st.regs.rax = rax;
	e->st.regs.rsi = rsi;
	e->st.regs.rdi = rdi;
	e->st.regs.r13 = rax;
	return tvm_set_regs(&e->t, 0, &e->st.regs);
}

static int emul_mmio(void *opaque, __u64 gpa, void *data, unsigned int len, int is_write)
{
	struct emul *e = opaque;

	if (is_write || gpa != MMIO_GPA)
		return -EINVAL;
	memset(data, 0xcd, len);
	e->mmio_reads++;
	return 0;
}

/*
 * Runs the case: the guest's port protocol, the test's two ports, and a
 * device at MMIO_GPA completed by libhvx with the guest's RAM.
 */
static int emul_run(struct emul *e)
{
	struct hvx_run *run = e->t.vcpu[0].run;
	int ret;

	for (;;) {
		ret = tvm_run_once(&e->t, 0);
		if (ret == HVX_EXIT_MMIO) {
			ret = hvx_mmio_complete_ram(&e->t.vcpu[0], emul_mmio, e, e->t.mem,
						    e->t.mem_size, e->msg, sizeof(e->msg));
			if (ret)
				return ret;
			continue;
		}
		if (ret != HVX_EXIT_IO)
			return ret;
		if (run->io.port == PORT_EMUL_IO) {
			if (run->io.direction == HVX_IO_IN) {
				memset(run->io_data, 0xab, run->io.size * run->io.count);
				e->port_in++;
			} else {
				e->port_out++;
			}
			continue;
		}
		if (run->io.port == PORT_EMUL_SWAP) {
			/* No INVLPG: a TLB may keep the old translation, or not. */
			put64(&e->t, PT_GPA + (CODE_A >> 12) * 8, CODE_B | PTE_P | PTE_US);
			e->swapped = true;
			continue;
		}
		ret = tvm_run_protocol_exit(&e->t, 0);
		if (ret < 0)
			return HVX_EXIT_IO;
		if (ret)
			return ret;
	}
}

#define EMUL_CREATE(e, label, user) do {					\
	int __r = emul_create(e, label, user);					\
	if (__r == -ENOENT || __r == -EACCES || __r == -ENODEV)		\
		TVM_REQUIRE_HVX();						\
	ASSERT_EQ(0, __r) TH_LOG("setting up the guest: %s", strerror(-__r));	\
} while (0)

#define EMUL_RUN_DONE(e) do {							\
	char __b[512];								\
	int __r = emul_run(e);							\
	ASSERT_EQ(GUEST_EXIT_DONE, __r)						\
		TH_LOG("%s %s", tvm_describe(&(e)->t, 0, __r, __b, sizeof(__b)),	\
		       (e)->msg);						\
} while (0)

/* Exactly one exception was reported, this one. */
#define ASSERT_ONE_EXC(e, vec, ec) do {						\
	const struct tvm_io *__io = &(e)->t.io[0];				\
	ASSERT_EQ(1, __io->nr_excs)						\
		TH_LOG("%u exceptions, expected one #%u (first: vector %u "	\
		       "error code 0x%x)", __io->nr_excs, (vec),		\
		       __io->excs[0].vector, __io->excs[0].error_code);	\
	EXPECT_EQ((vec), __io->excs[0].vector);					\
	EXPECT_EQ((ec), __io->excs[0].error_code);				\
} while (0)

/* A #PF, with CR2 at @addr. */
#define ASSERT_PF(e, ec, addr) do {						\
	struct hvx_vcpu_state __s;						\
	ASSERT_ONE_EXC(e, 14, ec);						\
	memset(&__s, 0, sizeof(__s));						\
	ASSERT_OK(hvx_vcpu_get_state(&(e)->t.vcpu[0], &__s, HVX_STATE_CREGS));	\
	EXPECT_EQ((__u64)(addr), __s.cregs.cr2);				\
} while (0)

static bool page_is(const struct tvm *t, __u64 gpa, unsigned char v)
{
	unsigned int i;

	for (i = 0; i < 0x1000; i++)
		if (t->mem[gpa + i] != v)
			return false;
	return true;
}

/* (a) SMSW stores 16 bits: at CPL 3 never into a supervisor or read-only page. */
TEST(smsw_cpl3_supervisor_page)
{
	struct emul e;

	EMUL_CREATE(&e, emul_smsw_mem, true);
	ASSERT_OK(emul_set_regs(&e, 0, 0, SUP_PAGE + 0x100));
	EMUL_RUN_DONE(&e);
	ASSERT_PF(&e, PF_EC_U | PF_EC_W | PF_EC_P, SUP_PAGE + 0x100);
	EXPECT_TRUE(page_is(&e.t, SUP_PAGE, FILL));
	tvm_destroy(&e.t);
}

TEST(smsw_cpl3_readonly_page)
{
	struct emul e;

	EMUL_CREATE(&e, emul_smsw_mem, true);
	ASSERT_OK(emul_set_regs(&e, 0, 0, RO_PAGE + 0x100));
	EMUL_RUN_DONE(&e);
	ASSERT_PF(&e, PF_EC_U | PF_EC_W | PF_EC_P, RO_PAGE + 0x100);
	EXPECT_TRUE(page_is(&e.t, RO_PAGE, FILL));
	tvm_destroy(&e.t);
}

/* The check is not a refusal of everything: a user page takes the store. */
TEST(smsw_cpl3_user_page)
{
	struct emul e;
	__u16 msw;

	EMUL_CREATE(&e, emul_smsw_mem, true);
	ASSERT_OK(emul_set_regs(&e, 0, 0, USER_PAGE + 0x100));
	EMUL_RUN_DONE(&e);
	EXPECT_EQ(0, e.t.io[0].nr_excs);
	memcpy(&msw, e.t.mem + USER_PAGE + 0x100, 2);
	EXPECT_EQ((__u16)e.st.cregs.cr0, msw);
	tvm_destroy(&e.t);
}

/* (b) INS stores to ES:RDI: faults before the port is read. */
TEST(ins_cpl3_supervisor_page)
{
	struct emul e;

	EMUL_CREATE(&e, emul_insb, true);
	ASSERT_OK(emul_set_regs(&e, 0, 0, SUP_PAGE + 0x10));
	EMUL_RUN_DONE(&e);
	ASSERT_PF(&e, PF_EC_U | PF_EC_W | PF_EC_P, SUP_PAGE + 0x10);
	EXPECT_TRUE(page_is(&e.t, SUP_PAGE, FILL));
	EXPECT_EQ(0, e.port_in);
	tvm_destroy(&e.t);
}

TEST(ins_cpl3_readonly_page)
{
	struct emul e;

	EMUL_CREATE(&e, emul_insb, true);
	ASSERT_OK(emul_set_regs(&e, 0, 0, RO_PAGE + 0x10));
	EMUL_RUN_DONE(&e);
	ASSERT_PF(&e, PF_EC_U | PF_EC_W | PF_EC_P, RO_PAGE + 0x10);
	EXPECT_TRUE(page_is(&e.t, RO_PAGE, FILL));
	EXPECT_EQ(0, e.port_in);
	tvm_destroy(&e.t);
}

/* CR0.WP binds the supervisor too (libhvx's long mode sets it). */
TEST(ins_cpl0_readonly_page_wp)
{
	struct emul e;

	EMUL_CREATE(&e, emul_insb, false);
	ASSERT_TRUE(e.st.cregs.cr0 & CR0_WP);
	ASSERT_OK(emul_set_regs(&e, 0, 0, RO_PAGE + 0x10));
	EMUL_RUN_DONE(&e);
	ASSERT_PF(&e, PF_EC_W | PF_EC_P, RO_PAGE + 0x10);
	EXPECT_TRUE(page_is(&e.t, RO_PAGE, FILL));
	tvm_destroy(&e.t);
}

/* SMAP: a supervisor store to a user page faults unless EFLAGS.AC is set. */
TEST(ins_cpl0_user_page_smap)
{
	struct emul e;
	__u64 i;
	int ret;

	EMUL_CREATE(&e, emul_insb, false);
	/* SMAP binds the supervisor's own accesses too: only USER_PAGE stays user. */
	for (i = 0; i < 512; i++)
		if ((i << 12) != USER_PAGE)
			put64(&e.t, PT_GPA + i * 8, (i << 12) | PTE_P | PTE_RW);
	e.st.cregs.cr4 |= CR4_SMAP;
	ret = hvx_vcpu_set_state(&e.t.vcpu[0], &e.st, HVX_STATE_CREGS);
	if (ret) {
		tvm_destroy(&e.t);
		SKIP(return, "CR4.SMAP refused (%s): the CPU has no SMAP", strerror(-ret));
	}
	ASSERT_OK(emul_set_regs(&e, 0, 0, USER_PAGE + 0x10));
	EMUL_RUN_DONE(&e);
	ASSERT_PF(&e, PF_EC_W | PF_EC_P, USER_PAGE + 0x10);
	EXPECT_TRUE(page_is(&e.t, USER_PAGE, FILL));
	tvm_destroy(&e.t);
}

TEST(ins_cpl3_user_page)
{
	struct emul e;

	EMUL_CREATE(&e, emul_insb, true);
	ASSERT_OK(emul_set_regs(&e, 0, 0, USER_PAGE + 0x10));
	EMUL_RUN_DONE(&e);
	EXPECT_EQ(0, e.t.io[0].nr_excs);
	EXPECT_EQ(1, e.port_in);
	EXPECT_EQ(0xab, e.t.mem[USER_PAGE + 0x10]);
	tvm_destroy(&e.t);
}

/* OUTS at CPL 3 cannot read a supervisor page out through a port. */
TEST(outs_cpl3_supervisor_page)
{
	struct emul e;

	EMUL_CREATE(&e, emul_outsb, true);
	ASSERT_OK(emul_set_regs(&e, 0, SUP_PAGE + 0x20, 0));
	EMUL_RUN_DONE(&e);
	ASSERT_PF(&e, PF_EC_U | PF_EC_P, SUP_PAGE + 0x20);
	EXPECT_EQ(0, e.port_out);
	tvm_destroy(&e.t);
}

/* (libhvx) MOVS from a device into a supervisor page at CPL 3: #PF, nothing read. */
TEST(movs_cpl3_supervisor_page)
{
	struct emul e;

	EMUL_CREATE(&e, emul_movsb, true);
	ASSERT_OK(emul_set_regs(&e, 0, MMIO_GPA, SUP_PAGE + 0x30));
	EMUL_RUN_DONE(&e);
	ASSERT_PF(&e, PF_EC_U | PF_EC_W | PF_EC_P, SUP_PAGE + 0x30);
	EXPECT_TRUE(page_is(&e.t, SUP_PAGE, FILL));
	EXPECT_EQ(0, e.mmio_reads);
	tvm_destroy(&e.t);
}

TEST(movs_cpl3_user_page)
{
	struct emul e;

	EMUL_CREATE(&e, emul_movsb, true);
	ASSERT_OK(emul_set_regs(&e, 0, MMIO_GPA, USER_PAGE + 0x30));
	EMUL_RUN_DONE(&e);
	EXPECT_EQ(0, e.t.io[0].nr_excs);
	EXPECT_EQ(1, e.mmio_reads);
	EXPECT_EQ(0xcd, e.t.mem[USER_PAGE + 0x30]);
	tvm_destroy(&e.t);
}

/* The control registers the case started with are still the guest's. */
static bool cregs_unchanged(struct emul *e, struct hvx_cregs *now)
{
	struct hvx_vcpu_state s;

	memset(&s, 0, sizeof(s));
	if (hvx_vcpu_get_state(&e->t.vcpu[0], &s, HVX_STATE_CREGS))
		return false;
	*now = s.cregs;
	return s.cregs.cr0 == e->st.cregs.cr0 && s.cregs.cr3 == e->st.cregs.cr3 &&
	       s.cregs.cr4 == e->st.cregs.cr4;
}

#define ASSERT_CREGS_UNCHANGED(e) do {						\
	struct hvx_cregs __c;							\
	EXPECT_TRUE(cregs_unchanged(e, &__c))					\
		TH_LOG("CR0/CR3/CR4 0x%llx/0x%llx/0x%llx, were 0x%llx/0x%llx/0x%llx", \
		       (unsigned long long)__c.cr0, (unsigned long long)__c.cr3,	\
		       (unsigned long long)__c.cr4,				\
		       (unsigned long long)(e)->st.cregs.cr0,			\
		       (unsigned long long)(e)->st.cregs.cr3,			\
		       (unsigned long long)(e)->st.cregs.cr4);			\
} while (0)

/* The value a MOV to CRn writes in these cases: valid, and not the current one. */
static __u64 evil_value(const struct emul *e, int cr)
{
	if (cr == 0)
		return e->st.cregs.cr0 & ~CR0_WP;
	if (cr == 3)
		return EVIL_PML4;
	return e->st.cregs.cr4 ^ CR4_OSXMMEXCPT;
}

/* (c) MOV to CR at CPL 3: #GP, the register unchanged. */
static void mov_cr_cpl3(struct __test_metadata *_metadata, const unsigned char *label, int cr)
{
	struct emul e;

	EMUL_CREATE(&e, label, true);
	ASSERT_OK(emul_set_regs(&e, evil_value(&e, cr), 0, 0));
	EMUL_RUN_DONE(&e);
	ASSERT_ONE_EXC(&e, 13, 0);
	ASSERT_CREGS_UNCHANGED(&e);
	tvm_destroy(&e.t);
}

TEST(mov_to_cr0_cpl3)
{
	mov_cr_cpl3(_metadata, emul_mov_cr0, 0);
}

TEST(mov_to_cr3_cpl3)
{
	mov_cr_cpl3(_metadata, emul_mov_cr3, 3);
}

TEST(mov_to_cr4_cpl3)
{
	mov_cr_cpl3(_metadata, emul_mov_cr4, 4);
}

/*
 * (d) The instruction changes between the exit and the fetch.  CPL 3 runs
 * SMSW %AX from CODE_A; the host then maps CODE_B, where the same bytes
 * are @insn, without any invalidation.  The second run of the address is
 * either SMSW again (a TLB kept CODE_A) or @insn, which faults at CPL 3
 * with #GP: never @insn done with the rights of the SMSW that exited.
 */
static void swap_case(struct __test_metadata *_metadata, const unsigned char insn[4],
		      int cr)
{
	size_t len = emul_swap_end - emul_swap;
	const struct tvm_io *io;
	struct hvx_regs regs;
	struct emul e;
	bool shadow_svm;

	EMUL_CREATE(&e, emul_swap, true);
	memcpy(e.t.mem + CODE_A, emul_swap, len);
	memcpy(e.t.mem + CODE_B, emul_swap, len);
	memcpy(e.t.mem + CODE_B, insn, 4);
	put64(&e.t, PT_GPA + (CODE_A >> 12) * 8, CODE_A | PTE_P | PTE_US);
	e.st.regs.rip = CODE_A;
	e.st.regs.r12 = 0;
	/* A MOV to CRn gets a value it would accept; a MOV from CR0 a marked RAX. */
	ASSERT_OK(emul_set_regs(&e, cr >= 0 ? evil_value(&e, cr) : 0x5a5a5a5a5a5a0000ULL,
				0, 0));
	EMUL_RUN_DONE(&e);
	ASSERT_TRUE(e.swapped);
	ASSERT_CREGS_UNCHANGED(&e);
	ASSERT_OK(tvm_get_regs(&e.t, 0, &regs));

	io = &e.t.io[0];
	if (io->nr_excs) {
		/* @insn ran and faulted, RAX untouched. */
		ASSERT_ONE_EXC(&e, 13, 0);
		EXPECT_EQ(CODE_A, io->excs[0].rip);
		EXPECT_EQ(e.st.regs.r13, regs.rbx);
	} else {
		/* SMSW ran again: only AX changed. */
		EXPECT_EQ(e.st.regs.r13 >> 16, regs.rbx >> 16)
			TH_LOG("RAX 0x%llx after the second run, 0x%llx before",
			       (unsigned long long)regs.rbx,
			       (unsigned long long)e.st.regs.r13);
	}
	/*
	 * Under SVM shadow paging hvx decodes the bytes itself: it must drop
	 * the stale translation and let the CPU run what is there now.
	 */
	shadow_svm = tvm_is_amd(&e.t) && e.t.paging == HVX_PAGING_SHADOW;
	if (shadow_svm)
		EXPECT_EQ(1, io->nr_excs);
	tvm_destroy(&e.t);
}

TEST(swap_smsw_to_mov_cr0)
{
	static const unsigned char mov_cr0[4] = { 0x0f, 0x22, 0xc0, 0x90 };

	swap_case(_metadata, mov_cr0, 0);
}

TEST(swap_smsw_to_mov_cr3)
{
	static const unsigned char mov_cr3[4] = { 0x0f, 0x22, 0xd8, 0x90 };

	swap_case(_metadata, mov_cr3, 3);
}

TEST(swap_smsw_to_mov_from_cr0)
{
	static const unsigned char mov_from_cr0[4] = { 0x0f, 0x20, 0xc0, 0x90 };

	swap_case(_metadata, mov_from_cr0, -1);
}

TEST_HARNESS_MAIN
