// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark client code shared by the hvx and the KVM client.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "bench.h"
#include "../guests/guest.h"

#define DEFAULT_ITERATIONS	20000
#define DEFAULT_RUNS		5

/* The APIC's round trips take several exits each: fewer of them. */
static const struct bench_test bench_tests[] = {
	{ "pio", 1, 0, DEFAULT_ITERATIONS, NULL, 0 },
	{ "cpuid", 1, 0, DEFAULT_ITERATIONS, NULL, 0 },
	/*
	 * One iteration moves BENCH_OUTSB_BYTES (guest.h): KVM takes an exit
	 * per byte of a REP OUTS, so few of them.
	 */
	{ "outsb", 1, 0, 20, NULL, 0 },
	/* The same on hvx one item per exit, as without HVX_VM_STRING_IO_BATCH. */
	{ "outsb1", 1, 0, 10, "outsb", 1 },
	{ "mmio", 1, 0, DEFAULT_ITERATIONS, NULL, 0 },
	/* The same on hvx with HVX_GET_STATE and HVX_SET_STATE per exit. */
	{ "mmio3", 1, 0, DEFAULT_ITERATIONS, "mmio", 1 },
	{ "timer", 1, 1, DEFAULT_ITERATIONS / 4, NULL, 0 },
	{ "ipi", 2, 1, DEFAULT_ITERATIONS / 10, NULL, 0 },
	{ "ipihlt", 2, 1, DEFAULT_ITERATIONS / 10, NULL, 0 },
};

void bench__no_restart(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

const struct bench_test *bench__test(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(bench_tests) / sizeof(bench_tests[0]); i++)
		if (!strcmp(bench_tests[i].name, name))
			return &bench_tests[i];
	return NULL;
}

static void usage(FILE *f, const char *prog, const char *what)
{
	fprintf(f,
		"Usage: %s [-n ITERATIONS] [-r RUNS] [-d GUEST_DIR] [TEST...]\n"
		"       %s [-d GUEST_DIR] --run FILE\n"
		"\n"
		"Runs the benchmark guests on %s and prints, per test, the median time of one\n"
		"guest round trip over RUNS measured rounds (after one warm-up round):\n"
		"  pio     OUT to a port, handled by this program in userspace\n"
		"  cpuid   CPUID, handled by the hypervisor in the kernel\n"
		"  outsb   REP OUTSB of %u bytes to a port handled in userspace\n"
		"  outsb1  the same, hvx moving one byte per exit (KVM: as outsb)\n"
		"  mmio    a MOV to unbacked guest-physical memory, completed in userspace\n"
		"  mmio3   the same, hvx with HVX_GET_STATE and HVX_SET_STATE per exit\n"
		"          instead of the run page's registers area (KVM: as mmio)\n"
		"  timer   a TSC-deadline timer interrupt, the deadline due when armed\n"
		"  ipi     an IPI from vCPU 0 to vCPU 1 and one back (vCPU 1 spins)\n"
		"  ipihlt  the same with vCPU 1 halted: includes its wake-up from HLT\n"
		"(the last three use the in-kernel local APIC, in x2APIC mode)\n"
		"\n"
		"  -n, --iterations N  round trips per round (default %u for pio, cpuid, mmio,\n"
		"                      a quarter of that for timer, a tenth for ipi, ipihlt,\n"
		"                      20 for outsb, 10 for outsb1)\n"
		"  -r, --runs N        measured rounds (default %u, at most %u)\n"
		"  -d, --guest-dir DIR where the bench-TEST.bin guests are\n"
		"                      (default: ../guests next to this program)\n"
		"      --run FILE      run the 64-bit flat guest FILE at 0x%x instead, with\n"
		"                      COM1 on stdout; exit with the value it writes to port 0x%x\n"
		"  -h, --help          this text\n",
		prog, prog, what, BENCH_OUTSB_BYTES, DEFAULT_ITERATIONS, DEFAULT_RUNS,
		BENCH_MAX_RUNS,
		GUEST_LOAD_ADDR, PORT_DEBUG_EXIT);
}

static unsigned int parse_count(const char *prog, const char *opt, const char *arg,
				unsigned int max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 0);
	if (errno || end == arg || *end || *arg == '-' || v == 0 || v > max) {
		fprintf(stderr, "%s: %s '%s': expected a number from 1 to %u\n", prog, opt, arg,
			max);
		exit(2);
	}
	return v;
}

void bench__parse_options(int argc, char **argv, struct bench_options *opt, const char *what)
{
	static const struct option longopts[] = {
		{ "iterations", required_argument, NULL, 'n' },
		{ "runs", required_argument, NULL, 'r' },
		{ "guest-dir", required_argument, NULL, 'd' },
		{ "run", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char default_dir[PATH_MAX];
	ssize_t n;
	int c, i;

	memset(opt, 0, sizeof(*opt));
	opt->prog = argv[0] && strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 :
		    argv[0] ? argv[0] : "bench";
	opt->iterations = 0;
	opt->runs = DEFAULT_RUNS;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:r:d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			opt->iterations = parse_count(opt->prog, "--iterations", optarg, 100000000);
			break;
		case 'r':
			opt->runs = parse_count(opt->prog, "--runs", optarg, BENCH_MAX_RUNS);
			break;
		case 'd':
			opt->guest_dir = optarg;
			break;
		case 'R':
			opt->run_file = optarg;
			break;
		case 'h':
			usage(stdout, opt->prog, what);
			exit(0);
		case ':':
			fprintf(stderr, "%s: option '%s' needs an argument (see --help)\n",
				opt->prog, argv[optind - 1]);
			exit(2);
		default:
			fprintf(stderr, "%s: unknown option '%s' (see --help)\n", opt->prog,
				argv[optind - 1]);
			exit(2);
		}
	}
	for (i = optind; i < argc; i++) {
		if (!bench__test(argv[i])) {
			fprintf(stderr,
				"%s: unknown test '%s' (pio, cpuid, outsb, outsb1, mmio, mmio3, timer, ipi or ipihlt)\n",
				opt->prog, argv[i]);
			exit(2);
		}
		if (opt->ntests == sizeof(opt->tests) / sizeof(opt->tests[0])) {
			fprintf(stderr, "%s: too many tests\n", opt->prog);
			exit(2);
		}
		opt->tests[opt->ntests++] = argv[i];
	}
	if (!opt->ntests)
		for (i = 0; i < (int)(sizeof(bench_tests) / sizeof(bench_tests[0])); i++)
			opt->tests[opt->ntests++] = bench_tests[i].name;
	if (!opt->guest_dir) {
		/* The build and install layouts both keep bin/ next to guests/. */
		n = readlink("/proc/self/exe", default_dir, sizeof(default_dir) - 1);
		if (n > 0) {
			default_dir[n] = '\0';
			dirname(default_dir);
			if (strlen(default_dir) + sizeof("/../guests") <= sizeof(default_dir))
				strcat(default_dir, "/../guests");
		} else {
			strcpy(default_dir, "../guests");
		}
		opt->guest_dir = default_dir;
	}
}

void bench__guest_path(const struct bench_options *opt, const struct bench_test *test,
		       char *buf, size_t len)
{
	snprintf(buf, len, "%s/bench-%s.bin", opt->guest_dir,
		 test->guest ? test->guest : test->name);
}

int bench__load_guest(const struct bench_options *opt, const char *path, void *mem,
		      unsigned long long mem_size)
{
	unsigned long long off = 0, room = mem_size - GUEST_LOAD_ADDR;
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot open guest %s: %s\n", opt->prog, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size == 0 ||
	    (unsigned long long)st.st_size > room) {
		fprintf(stderr, "%s: guest %s: not a non-empty regular file of at most %llu bytes\n",
			opt->prog, path, room);
		close(fd);
		return -1;
	}
	while (off < (unsigned long long)st.st_size) {
		n = read(fd, (char *)mem + GUEST_LOAD_ADDR + off, st.st_size - off);
		if (n <= 0) {
			fprintf(stderr, "%s: cannot read guest %s: %s\n", opt->prog, path,
				n < 0 ? strerror(errno) : "short read");
			close(fd);
			return -1;
		}
		off += n;
	}
	close(fd);
	return 0;
}

void bench__session_init(struct bench_session *s, const struct bench_options *opt,
			 const struct bench_test *test)
{
	memset(s, 0, sizeof(*s));
	s->opt = opt;
	s->iterations = opt->iterations ? opt->iterations :
			test ? test->iterations : DEFAULT_ITERATIONS;
}

static double elapsed_us(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e6 + (b->tv_nsec - a->tv_nsec) / 1e3;
}

void bench__port(struct bench_session *s, int is_out, __u16 port, unsigned int size,
		 unsigned int count, __u8 *data)
{
	struct timespec now;
	__u32 v = 0;
	unsigned int i;

	if (!is_out) {
		if (port == PORT_BENCH_COUNT)
			v = s->rounds_given++ < s->opt->runs + 1 ? s->iterations : 0;
		else if (port == PORT_COM1_LSR)
			v = 0x60;
		else
			v = 0xffffffff;
		for (i = 0; i < count; i++)
			memcpy(data + i * size, &v, size);
		return;
	}

	memcpy(&v, data, size < sizeof(v) ? size : sizeof(v));
	switch (port) {
	case PORT_BENCH_PIO:
		break;
	case PORT_BENCH_START:
		clock_gettime(CLOCK_MONOTONIC, &s->start);
		break;
	case PORT_BENCH_STOP:
		clock_gettime(CLOCK_MONOTONIC, &now);
		/* Round 0 warms up caches, page tables and the exit path. */
		if (s->rounds_done++ > 0 && s->nus < BENCH_MAX_RUNS)
			s->us[s->nus++] = elapsed_us(&s->start, &now) / s->iterations;
		break;
	case PORT_COM1:
		for (i = 0; i < count; i++)
			putchar(data[i * size]);
		if (memchr(data, '\n', count * size))
			fflush(stdout);
		break;
	case PORT_DEBUG_EXIT:
		s->finished = 1;
		s->exit_value = v & 0xff;
		fflush(stdout);
		break;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int bench__report(const struct bench_session *s, const char *test)
{
	double sorted[BENCH_MAX_RUNS], median;
	unsigned int n = s->nus;

	if (!n) {
		fprintf(stderr, "%s: %s: the guest finished no measured round\n", s->opt->prog,
			test);
		return -1;
	}
	memcpy(sorted, s->us, n * sizeof(sorted[0]));
	qsort(sorted, n, sizeof(sorted[0]), cmp_double);
	median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
	printf("%s: %u iterations, %.3f us per round trip (median of %u runs, min %.3f, max %.3f)\n",
	       test, s->iterations, median, n, sorted[0], sorted[n - 1]);
	fflush(stdout);
	return 0;
}
