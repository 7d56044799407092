// SPDX-License-Identifier: GPL-2.0
/*
 * The run page's registers area (HVX_CAP_SYNC_REGS): what sync_valid asks
 * for is there after every HVX_RUN, equal to HVX_GET_STATE's view; what
 * sync_dirty marks loads when HVX_RUN starts, as HVX_SET_STATE would load
 * it; unknown bits and states SET_STATE refuses fail with EINVAL and
 * change nothing; and hvx_mmio_complete() finishes MMIO exits through it
 * with no state ioctl.
 */
#include "kselftest_harness.h"
#include "test_util.h"

GUEST_CODE(sync_out);
GUEST_CODE(sync_in);
GUEST_CODE(sync_mmio);

extern const unsigned char sync_out_1[], sync_out_2[];
extern const unsigned char sync_in_1[], sync_in_2[], sync_in_skip[], sync_in_in[];
extern const unsigned char sync_mmio_read[], sync_mmio_write[], sync_mmio_cmp[];

#define SYNC_ALL	(HVX_STATE_REGS | HVX_STATE_SREGS | HVX_STATE_CREGS)
#define SYNC_PORT	0x70
#define SYNC_MMIO_GPA	0xd0000000ULL

static void poison_area(struct hvx_run *run)
{
	memset(&run->sync_regs, 0xa5, sizeof(run->sync_regs));
	memset(&run->sync_sregs, 0xa5, sizeof(run->sync_sregs));
	memset(&run->sync_cregs, 0xa5, sizeof(run->sync_cregs));
}

static bool poisoned(const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len--)
		if (*c++ != 0xa5)
			return false;
	return true;
}

TEST(capability)
{
	struct hvx_sys sys;

	if (tvm_sys_open(&sys))
		TVM_REQUIRE_HVX();
	EXPECT_EQ(SYNC_ALL, tvm_cap(&sys, HVX_CAP_SYNC_REGS, 0));
	hvx_close(&sys);
}

/* The area after an exit is what HVX_GET_STATE reads, and only what was asked. */
TEST(out_matches_get_state)
{
	struct hvx_vcpu_state st;
	struct hvx_run *run;
	struct tvm t;

	TVM_LONG_GUEST(&t, sync_out, 0);
	run = t.vcpu[0].run;
	poison_area(run);
	run->sync_valid = SYNC_ALL;

	ASSERT_RUN_EXIT(&t, 0, HVX_EXIT_IO);
	EXPECT_EQ(SYNC_PORT, run->io.port);
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, SYNC_ALL));
	EXPECT_EQ(0, memcmp(&st.regs, &run->sync_regs, sizeof(st.regs)));
	EXPECT_EQ(0, memcmp(&st.sregs, &run->sync_sregs, sizeof(st.sregs)));
	EXPECT_EQ(0, memcmp(&st.cregs, &run->sync_cregs, sizeof(st.cregs)));
	EXPECT_EQ(GUEST_ADDR(sync_out, sync_out_1) + 1, run->sync_regs.rip);
	EXPECT_EQ(0x8888888888888888ULL, run->sync_regs.r8);
	EXPECT_EQ(0xffff, run->sync_regs.r15);
	EXPECT_EQ(st.cregs.cr3, run->sync_cregs.cr3);
	EXPECT_TRUE(run->sync_sregs.cs.l);
	EXPECT_EQ(0, run->sync_dirty);

	/* REGS only: the other parts are not written. */
	poison_area(run);
	run->sync_valid = HVX_STATE_REGS;
	ASSERT_RUN_EXIT(&t, 0, HVX_EXIT_IO);
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, HVX_STATE_REGS));
	EXPECT_EQ(0, memcmp(&st.regs, &run->sync_regs, sizeof(st.regs)));
	EXPECT_EQ(GUEST_ADDR(sync_out, sync_out_2) + 1, run->sync_regs.rip);
	EXPECT_EQ(0x1112, run->sync_regs.rax);
	EXPECT_EQ(1, run->sync_regs.rflags & 1) TH_LOG("CF from STC");
	EXPECT_TRUE(poisoned(&run->sync_sregs, sizeof(run->sync_sregs)));
	EXPECT_TRUE(poisoned(&run->sync_cregs, sizeof(run->sync_cregs)));

	run->sync_valid = 0;
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	tvm_destroy(&t);
}

/* Dirty components load when HVX_RUN starts, and not before. */
TEST(dirty_loads_at_run)
{
	struct hvx_vcpu_state st;
	struct hvx_run *run;
	struct tvm t;
	int ret;

	TVM_LONG_GUEST(&t, sync_in, 0);
	run = t.vcpu[0].run;
	run->sync_valid = SYNC_ALL;

	ASSERT_RUN_EXIT(&t, 0, HVX_EXIT_IO);
	EXPECT_EQ(GUEST_ADDR(sync_in, sync_in_1) + 2, run->sync_regs.rip);
	run->sync_regs.rbx = 0xb0b;
	run->sync_dirty = HVX_STATE_REGS;
	ret = tvm_run_guest(&t, 0);
	ASSERT_EQ(HVX_EXIT_IO, ret);
	EXPECT_EQ(0, run->sync_dirty);
	ASSERT_EQ(1, t.io[0].nr_reports);
	EXPECT_EQ(0xb0b, t.io[0].reports[0]);
	EXPECT_EQ(GUEST_ADDR(sync_in, sync_in_2) + 2, run->sync_regs.rip);

	/* RIP past a GUEST_FAIL, CR0.TS, FS's base: all three at once. */
	memcpy(t.mem + GUEST_DATA_GPA, &(__u32){ 0x5eed1234 }, 4);
	run->sync_regs.rip = GUEST_ADDR(sync_in, sync_in_skip);
	run->sync_cregs.cr0 |= 1ULL << 3;
	run->sync_sregs.fs.base = GUEST_DATA_GPA;
	run->sync_dirty = SYNC_ALL;
	/* Not loaded yet: HVX_GET_STATE still has the old values. */
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, SYNC_ALL));
	EXPECT_EQ(GUEST_ADDR(sync_in, sync_in_2) + 2, st.regs.rip);
	EXPECT_EQ(0, st.cregs.cr0 & (1ULL << 3));
	EXPECT_NE(GUEST_DATA_GPA, st.sregs.fs.base);

	ret = tvm_run_guest(&t, 0);
	ASSERT_EQ(HVX_EXIT_IO, ret);
	EXPECT_EQ(0, run->sync_dirty);
	ASSERT_EQ(3, t.io[0].nr_reports);
	EXPECT_EQ(1, t.io[0].reports[1]) TH_LOG("CR0.TS");
	EXPECT_EQ(0x5eed1234, t.io[0].reports[2]) TH_LOG("the word at FS:0");
	EXPECT_EQ(GUEST_DATA_GPA, run->sync_sregs.fs.base);

	/* An IN: dirty REGS replace the registers, so RAX is the area's. */
	EXPECT_EQ(HVX_IO_IN, run->io.direction);
	EXPECT_EQ(GUEST_ADDR(sync_in, sync_in_in) + 2, run->sync_regs.rip);
	memcpy(run->io_data, &(__u32){ 0xd00d }, 4);
	run->sync_regs.rax = 0xfeed;
	run->sync_dirty = HVX_STATE_REGS;
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	ASSERT_EQ(4, t.io[0].nr_reports);
	EXPECT_EQ(0xfeed, t.io[0].reports[3]);
	tvm_destroy(&t);
}

/* Unknown bits and refused states: EINVAL, nothing loaded, nothing run. */
TEST(bad_bits_refused)
{
	struct hvx_vcpu_state st, now;
	struct hvx_run *run;
	struct tvm t;

	TVM_LONG_GUEST(&t, sync_out, 0);
	run = t.vcpu[0].run;
	memset(&st, 0, sizeof(st));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &st, SYNC_ALL));

	run->sync_valid = HVX_STATE_DREGS;
	EXPECT_EQ(-EINVAL, tvm_run_once(&t, 0));
	run->sync_valid = 1ULL << 63;
	EXPECT_EQ(-EINVAL, tvm_run_once(&t, 0));
	run->sync_valid = 0;
	run->sync_dirty = HVX_STATE_EVENTS;
	EXPECT_EQ(-EINVAL, tvm_run_once(&t, 0));

	/* CREGS with the reserved field set, then with CR0.PG without PE. */
	run->sync_cregs = st.cregs;
	run->sync_cregs.reserved = 1;
	run->sync_regs = st.regs;
	run->sync_regs.rbx = 0xbad;
	run->sync_dirty = HVX_STATE_CREGS | HVX_STATE_REGS;
	EXPECT_EQ(-EINVAL, tvm_run_once(&t, 0));
	EXPECT_EQ(HVX_STATE_CREGS | HVX_STATE_REGS, run->sync_dirty);
	run->sync_cregs.reserved = 0;
	run->sync_cregs.cr0 &= ~1ULL;
	EXPECT_EQ(-EINVAL, tvm_run_once(&t, 0));

	memset(&now, 0, sizeof(now));
	ASSERT_OK(hvx_vcpu_get_state(&t.vcpu[0], &now, SYNC_ALL));
	EXPECT_EQ(0, memcmp(&st.regs, &now.regs, sizeof(st.regs)));
	EXPECT_EQ(0, memcmp(&st.sregs, &now.sregs, sizeof(st.sregs)));
	EXPECT_EQ(0, memcmp(&st.cregs, &now.cregs, sizeof(st.cregs)));

	/* Cleared, the guest runs from where it was. */
	run->sync_dirty = 0;
	ASSERT_RUN_EXIT(&t, 0, HVX_EXIT_IO);
	EXPECT_EQ(GUEST_ADDR(sync_out, sync_out_1), run->rip);
	ASSERT_RUN_EXIT(&t, 0, HVX_EXIT_IO);
	EXPECT_EQ(GUEST_ADDR(sync_out, sync_out_2), run->rip);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	tvm_destroy(&t);
}

struct mmio_log {
	__u64 gpa;
	__u32 data;
	int calls;
};

static int mmio_cb(void *opaque, __u64 gpa, void *data, unsigned int len, int is_write)
{
	struct mmio_log *log = opaque;

	log->calls++;
	log->gpa = gpa;
	if (is_write)
		memcpy(&log->data, data, len < 4 ? len : 4);
	else
		memcpy(data, &(__u64){ 0x11223344 }, len < 8 ? len : 8);
	return 0;
}

/*
 * hvx_mmio_complete() reads the state from the area and leaves the result
 * there for HVX_RUN: HVX_GET_STATE shows the old RIP until then, so no
 * HVX_SET_STATE happened.
 */
TEST(mmio_completes_through_area)
{
	struct mmio_log log = { 0 };
	struct hvx_regs regs;
	struct hvx_run *run;
	char msg[256] = "";
	struct tvm t;

	TVM_LONG_GUEST(&t, sync_mmio, 0);
	run = t.vcpu[0].run;
	run->sync_valid = SYNC_ALL;

	ASSERT_RUN_EXIT(&t, 0, HVX_EXIT_MMIO);
	EXPECT_EQ(GUEST_ADDR(sync_mmio, sync_mmio_read), run->rip);
	ASSERT_EQ(0, hvx_mmio_complete(&t.vcpu[0], mmio_cb, &log, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	EXPECT_EQ(SYNC_MMIO_GPA + 0x10, log.gpa);
	EXPECT_EQ(HVX_STATE_REGS, run->sync_dirty);
	EXPECT_EQ(GUEST_ADDR(sync_mmio, sync_mmio_read) + 3, run->sync_regs.rip);
	EXPECT_EQ(0x11223344, run->sync_regs.rax);
	ASSERT_OK(tvm_get_regs(&t, 0, &regs));
	EXPECT_EQ(GUEST_ADDR(sync_mmio, sync_mmio_read), regs.rip);

	ASSERT_RUN_EXIT(&t, 0, HVX_EXIT_MMIO);
	EXPECT_EQ(0, run->sync_dirty);
	EXPECT_EQ(GUEST_ADDR(sync_mmio, sync_mmio_write), run->rip);
	ASSERT_EQ(0, hvx_mmio_complete(&t.vcpu[0], mmio_cb, &log, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	EXPECT_EQ(SYNC_MMIO_GPA + 0x14, log.gpa);
	EXPECT_EQ(0xcafef00d, log.data);

	ASSERT_RUN_EXIT(&t, 0, HVX_EXIT_MMIO);
	EXPECT_EQ(GUEST_ADDR(sync_mmio, sync_mmio_cmp), run->rip);
	ASSERT_EQ(0, hvx_mmio_complete(&t.vcpu[0], mmio_cb, &log, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	EXPECT_EQ(3, log.calls);
	ASSERT_GUEST_DONE(&t, 0, 0x600d);
	tvm_destroy(&t);
}

TEST_HARNESS_MAIN
