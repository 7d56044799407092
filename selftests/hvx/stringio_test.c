// SPDX-License-Identifier: GPL-2.0
/*
 * Batched string I/O (HVX_VM_STRING_IO_BATCH): a REP INS/OUTS exits with as
 * many items as fit io_data instead of one per exit, and ends in exactly
 * the state one item per exit gives.  The same guest runs twice, without
 * and with the flag, against the same port device; the data the ports saw
 * and gave, the guest's memory, its registers (checked by the guest) and
 * its faults must match, with the batched run taking the exits its counts
 * say.
 */
#include "kselftest_harness.h"
#include "test_util.h"
#include "stringio_guest.h"

GUEST_CODE(stringio);

#define SIO_LOG_SIZE	(64 * 1024)
#define SIO_MAX_EXITS	16	/* per-exit item counts kept per port */

struct sio_port {
	unsigned int exits;
	unsigned int items;
	unsigned int counts[SIO_MAX_EXITS];	/* items of the first exits */
};

struct sio_result {
	unsigned char log[SIO_LOG_SIZE];	/* OUT data, then IN data, in order */
	size_t log_len;
	struct sio_port port[SIO_NR_PORTS];
	unsigned int in_seq;			/* the device's next IN byte */
	unsigned char dst[0x4000];		/* SIO_DST after the run */
	unsigned char hole_before[SIO_BEFORE_HOLE];
	struct tvm_exc excs[TVM_MAX_EXCS];
	unsigned int nr_excs;
	unsigned int max_count;			/* largest io.count seen */
};

/* SIO_SRC's fill: no two nearby bytes alike, so a misplaced item shows. */
static unsigned char src_byte(unsigned int i)
{
	return (unsigned char)(i * 7 + (i >> 8) * 3 + 1);
}

static void run_stringio(struct __test_metadata *_metadata, __u32 flags, struct sio_result *r)
{
	unsigned int i, n;
	struct hvx_run *run;
	struct tvm t;
	char buf[512];
	int ret;

	memset(r, 0, sizeof(*r));
	TVM_CREATE(&t, SIO_MEM_SIZE, flags, 1);
	tvm_load_code(&t, "stringio_guest.S", stringio_start, stringio_end);
	ASSERT_OK(tvm_setup(&t, 0, HVX_MODE_LONG, GUEST_CODE_GPA));
	ASSERT_OK(tvm_setup_idt64(&t, 0));
	for (i = 0; i < 0x4000; i++)
		t.mem[SIO_SRC + i] = src_byte(i);
	for (i = 0; i < SIO_BEFORE_HOLE; i++)
		t.mem[SIO_HOLE - SIO_BEFORE_HOLE + i] = src_byte(0x4000 + i);
	/* The guest's identity map: SIO_HOLE's 2 MiB page not present. */
	memset(t.mem + HVX_LAYOUT_PD + (SIO_HOLE >> 21) * 8, 0, 8);
	run = t.vcpu[0].run;

	for (;;) {
		struct sio_port *p;
		size_t bytes;

		ret = tvm_run_guest(&t, 0);
		if (ret != HVX_EXIT_IO || run->io.port < SIO_PORT_OUTSB ||
		    run->io.port >= SIO_PORT_OUTSB + SIO_NR_PORTS)
			break;
		ASSERT_TRUE(run->io.string) TH_LOG("port 0x%x", run->io.port);
		ASSERT_TRUE(run->io.rep);
		n = run->io.count;
		bytes = (size_t)n * run->io.size;
		ASSERT_GE(n, 1);
		ASSERT_LE(bytes, sizeof(run->io_data))
			TH_LOG("%u items of %u bytes", n, run->io.size);
		ASSERT_LE(r->log_len + bytes, sizeof(r->log));
		if (!(flags & HVX_VM_STRING_IO_BATCH))
			ASSERT_EQ(1, n) TH_LOG("io.count without HVX_VM_STRING_IO_BATCH");
		p = &r->port[run->io.port - SIO_PORT_OUTSB];
		if (p->exits < SIO_MAX_EXITS)
			p->counts[p->exits] = n;
		p->exits++;
		p->items += n;
		if (n > r->max_count)
			r->max_count = n;
		if (run->io.direction == HVX_IO_IN) {
			for (i = 0; i < bytes; i++)
				run->io_data[i] = (unsigned char)(r->in_seq++ * 13 + 5);
		}
		memcpy(r->log + r->log_len, run->io_data, bytes);
		r->log_len += bytes;
	}
	ASSERT_EQ(GUEST_EXIT_DONE, ret) TH_LOG("%s", tvm_describe(&t, 0, ret, buf, sizeof(buf)));
	ASSERT_EQ(0x600d, t.io[0].done);
	memcpy(r->dst, t.mem + SIO_DST, sizeof(r->dst));
	memcpy(r->hole_before, t.mem + SIO_HOLE - SIO_BEFORE_HOLE, sizeof(r->hole_before));
	memcpy(r->excs, t.io[0].excs, sizeof(r->excs));
	r->nr_excs = t.io[0].nr_excs;
	tvm_destroy(&t);
}

TEST(capability)
{
	struct hvx_sys sys;

	if (tvm_sys_open(&sys))
		TVM_REQUIRE_HVX();
	EXPECT_EQ(HVX_IO_DATA_SIZE, tvm_cap(&sys, HVX_CAP_STRING_IO_BATCH, 0));
	hvx_close(&sys);
}

/* The items the device saw and gave, per port, and the exits they took. */
static const struct {
	unsigned int port, items, size;
} sio_expect[SIO_NR_PORTS] = {
	{ SIO_PORT_OUTSB, SIO_N_OUTSB, 1 },
	{ SIO_PORT_OUTSW, SIO_N_OUTSW, 2 },
	{ SIO_PORT_OUTSL, SIO_N_OUTSL, 4 },
	{ SIO_PORT_INSB, SIO_N_INSB, 1 },
	{ SIO_PORT_INSW, SIO_N_INSW, 2 },
	{ SIO_PORT_A32, SIO_N_A32, 1 },
	{ SIO_PORT_OUT_HOLE, SIO_BEFORE_HOLE, 1 },
	{ SIO_PORT_IN_HOLE, SIO_BEFORE_HOLE, 1 },
};

static void check_src_items(struct __test_metadata *_metadata, const unsigned char *log,
			    unsigned int first, int step, unsigned int items, unsigned int size,
			    const char *what)
{
	unsigned int i, j, bad = 0;

	for (i = 0; i < items; i++) {
		unsigned int at = first + i * step;

		for (j = 0; j < size; j++)
			bad += log[i * size + j] != src_byte(at + j);
	}
	EXPECT_EQ(0, bad) TH_LOG("%s: %u bytes differ from SIO_SRC's", what, bad);
}

TEST(batched_equals_unbatched)
{
	struct sio_result *one = calloc(1, sizeof(*one)), *batch = calloc(1, sizeof(*batch));
	const unsigned char *log;
	unsigned int i, per_exit;

	ASSERT_TRUE(one && batch);
	run_stringio(_metadata, 0, one);
	run_stringio(_metadata, HVX_VM_STRING_IO_BATCH, batch);

	/* The unbatched run: one exit per item, and the data in the right order. */
	for (i = 0; i < SIO_NR_PORTS; i++) {
		EXPECT_EQ(sio_expect[i].items, one->port[i].items) TH_LOG("port 0x%x", 0x90 + i);
		EXPECT_EQ(sio_expect[i].items, one->port[i].exits) TH_LOG("port 0x%x", 0x90 + i);
	}
	log = one->log;
	check_src_items(_metadata, log, 0, 1, SIO_N_OUTSB, 1, "REP OUTSB");
	log += SIO_N_OUTSB;
	check_src_items(_metadata, log, 0xfff, 2, SIO_N_OUTSW, 2, "REP OUTSW");
	log += 2 * SIO_N_OUTSW;
	check_src_items(_metadata, log, 0x3000, -4, SIO_N_OUTSL, 4, "STD; REP OUTSD");

	/* The batched run: the same, in as many exits as io_data needs. */
	EXPECT_EQ(one->log_len, batch->log_len);
	EXPECT_EQ(0, memcmp(one->log, batch->log, one->log_len))
		TH_LOG("the ports saw different data");
	EXPECT_EQ(0, memcmp(one->dst, batch->dst, sizeof(one->dst)))
		TH_LOG("INS stored different data");
	EXPECT_EQ(0, memcmp(one->hole_before, batch->hole_before, sizeof(one->hole_before)))
		TH_LOG("INS before the unmapped page stored different data");
	EXPECT_EQ(HVX_IO_DATA_SIZE, batch->max_count);
	for (i = 0; i < SIO_NR_PORTS; i++) {
		per_exit = HVX_IO_DATA_SIZE / sio_expect[i].size;
		EXPECT_EQ(sio_expect[i].items, batch->port[i].items) TH_LOG("port 0x%x", 0x90 + i);
		EXPECT_EQ((sio_expect[i].items + per_exit - 1) / per_exit, batch->port[i].exits)
			TH_LOG("port 0x%x: %u items of %u bytes", 0x90 + i, sio_expect[i].items,
			       sio_expect[i].size);
		EXPECT_EQ(sio_expect[i].items < per_exit ? sio_expect[i].items : per_exit,
			  batch->port[i].counts[0]) TH_LOG("port 0x%x", 0x90 + i);
	}
	EXPECT_EQ(SIO_N_OUTSB - 2 * 1024, batch->port[0].counts[2]);

	/* INSB's data landed where the guest pointed, INSW's backwards. */
	EXPECT_EQ(one->log[SIO_N_OUTSB + 2 * SIO_N_OUTSW + 4 * SIO_N_OUTSL], one->dst[1]);

	/* Two #PF at SIO_HOLE, a read and a write, in both runs. */
	ASSERT_EQ(2, one->nr_excs);
	ASSERT_EQ(2, batch->nr_excs);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(14, batch->excs[i].vector);
		EXPECT_EQ(one->excs[i].vector, batch->excs[i].vector);
		EXPECT_EQ(one->excs[i].error_code, batch->excs[i].error_code);
		EXPECT_EQ(one->excs[i].rip, batch->excs[i].rip);
	}
	EXPECT_EQ(0, batch->excs[0].error_code & 2);
	EXPECT_EQ(2, batch->excs[1].error_code & 2);
	free(one);
	free(batch);
}

TEST_HARNESS_MAIN
