/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by hvx-bench and hvx-kvm-bench: options, the guest-side protocol
 * (guests/guest.h) and the timing, so both hypervisors are measured the
 * same way with the same guest binaries.
 */
#ifndef HVX_BENCH_H
#define HVX_BENCH_H

#include <stdio.h>
#include <time.h>
#include <linux/types.h>

#define BENCH_MAX_RUNS		101
#define BENCH_MEM_SIZE		(16ULL << 20)

struct bench_options {
	const char *prog;		/* for messages */
	const char *guest_dir;		/* where bench-*.bin live */
	unsigned int iterations;	/* per round; 0: each test's own */
	unsigned int runs;		/* measured rounds; one more warms up */
	const char *run_file;		/* --run: just run this guest */
	const char *tests[16];		/* names of bench_tests[] */
	unsigned int ntests;
};

/* One guest execution: rounds handed out and measured so far. */
struct bench_session {
	const struct bench_options *opt;
	unsigned int iterations;	/* per round */
	unsigned int rounds_given;	/* answers to PORT_BENCH_COUNT */
	unsigned int rounds_done;
	struct timespec start;
	double us[BENCH_MAX_RUNS];	/* per round trip, measured rounds only */
	unsigned int nus;
	int finished;			/* guest wrote PORT_DEBUG_EXIT */
	unsigned int exit_value;
};

/* A benchmark guest, guests/bench-NAME.bin. */
struct bench_test {
	const char *name;
	unsigned int vcpus;		/* 1, or 2: vCPU 1 runs beside vCPU 0 */
	int apic;			/* needs the hypervisor's in-kernel local APIC */
	unsigned int iterations;	/* per round unless -n says */
	const char *guest;		/* guests/bench-GUEST.bin; NULL: the name */
	int plain;			/* hvx: no string I/O batching, no registers area */
};

/* Installs @fn for @sig without SA_RESTART: it interrupts a blocked RUN. */
void bench__no_restart(int sig, void (*fn)(int));

/* The test called @name, or NULL. */
const struct bench_test *bench__test(const char *name);

/* Parses argv; exits with status 2 and one message on a bad option. */
void bench__parse_options(int argc, char **argv, struct bench_options *opt, const char *what);

/* Reads GUEST_DIR/NAME into mem at GUEST_LOAD_ADDR; prints why on failure. */
int bench__load_guest(const struct bench_options *opt, const char *path, void *mem,
		      unsigned long long mem_size);

/* "GUEST_DIR/bench-GUEST.bin" of @test into buf. */
void bench__guest_path(const struct bench_options *opt, const struct bench_test *test,
		       char *buf, size_t len);

/* A session of @test (NULL: --run), with its iterations per round. */
void bench__session_init(struct bench_session *s, const struct bench_options *opt,
			 const struct bench_test *test);

/*
 * A port access by the guest: count items of size bytes at data (written
 * for an IN).  Handles the bench protocol, COM1 output and debug-exit.
 */
void bench__port(struct bench_session *s, int is_out, __u16 port, unsigned int size,
		 unsigned int count, __u8 *data);

/* Prints "TEST: N iterations, X us per round trip (...)"; -1 if nothing was measured. */
int bench__report(const struct bench_session *s, const char *test);

#endif /* HVX_BENCH_H */
