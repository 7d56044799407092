// SPDX-License-Identifier: GPL-2.0
/*
 * hvxstat's views of live VMs against what their guests did and what the
 * "hvx" generic-netlink family reports: the VM list, one VM's table and
 * their JSON, the field filter (-f), --skip-zero, --pid, --watch, the CSV
 * log (--log), --version, and the usage errors.
 */
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "json.h"
#include "stats.h"

/* ---- hvxstat --------------------------------------------------------------------- */

/* Runs a command and returns its output (malloc'd), or NULL; *status gets the exit status. */
static char *run_cmd(const char *cmd, int *status)
{
	FILE *f = popen(cmd, "r");
	char *buf;

	if (!f)
		return NULL;
	/* Nothing was read through f: its fd is at the start of the output. */
	buf = stats_read_all(fileno(f));
	*status = pclose(f);
	return buf;
}

static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char dir[512], file[600];
	const char *p, *colon;
	size_t n;

	for (p = path ? path : "/usr/bin:/bin"; *p; p = colon ? colon + 1 : p + n) {
		colon = strchr(p, ':');
		n = colon ? (size_t)(colon - p) : strlen(p);
		if (n && n < sizeof(dir)) {
			memcpy(dir, p, n);
			dir[n] = 0;
			snprintf(file, sizeof(file), "%s/%s", dir, prog);
			if (!access(file, X_OK))
				return true;
		}
		if (!colon)
			break;
	}
	return false;
}

/* The plain VM list has a row "ID PID UID VCPUS ..." for the VM. */
static bool list_has_row(const char *out, __u32 id, pid_t pid, uid_t uid, unsigned int vcpus)
{
	const char *line = out;
	unsigned int a, b, c, d;

	while (line && *line) {
		if (sscanf(line, "%u %u %u %u", &a, &b, &c, &d) == 4 && a == id &&
		    b == (unsigned int)pid && c == uid && d == vcpus)
			return true;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

#define EXPECT_JSTAT(j, stats, name, want)					\
	EXPECT_EQ((unsigned long long)(want), j_uint(j, j_get(j, stats, name)))	\
		TH_LOG("hvxstat --json: \"%s\"", name)

TEST(hvxstat_output)
{
	const struct counts want = { .outs = 100, .ins = 37, .cpuids = 25 };
	static struct json j;
	int root, vms, vm, vcpus, vcpu, stats, raw, c;
	struct counts seen;
	struct vm_info info;
	struct nl_err e;
	char cmd[128];
	struct gnl g;
	struct tvm t;
	char *out;
	int status;
	__u32 id;
	bool raw_ioio = false;

	if (!on_path("hvxstat"))
		SKIP(return, "hvxstat is not on PATH");
	GNL_OPEN(&g);
	counts_vm(_metadata, &t, &want, 1, &seen);
	ASSERT_VM_ID(&g, id);
	ASSERT_NL_OK(nl_get_vm(&g, id, &info, &e), &e);

	/* The plain list: a row with the VM's id, pid, uid and vCPUs. */
	out = run_cmd("hvxstat", &status);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, status) TH_LOG("hvxstat: exit status 0x%x:\n%s", status, out);
	EXPECT_TRUE(list_has_row(out, id, getpid(), geteuid(), 1))
		TH_LOG("no row for VM %u (pid %d) in:\n%s", id, getpid(), out);
	free(out);

	/* The JSON list. */
	out = run_cmd("hvxstat --json", &status);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, status);
	root = json_parse(&j, out);
	ASSERT_LE(0, root) TH_LOG("hvxstat --json is not JSON:\n%s", out);
	vms = j_get(&j, root, "vms");
	ASSERT_LE(0, vms) TH_LOG("no \"vms\" in:\n%s", out);
	vm = j_find_id(&j, vms, id);
	ASSERT_LE(0, vm) TH_LOG("no VM %u in:\n%s", id, out);
	EXPECT_EQ((unsigned long long)getpid(), j_uint(&j, j_get(&j, vm, "pid")));
	EXPECT_EQ(geteuid(), j_uint(&j, j_get(&j, vm, "uid")));
	EXPECT_EQ(1, j_uint(&j, j_get(&j, vm, "nr_vcpus")));
	EXPECT_EQ(info.mem_bytes, j_uint(&j, j_get(&j, vm, "mem_bytes")));
	EXPECT_EQ(info.pinned_pages, j_uint(&j, j_get(&j, vm, "pinned_pages")));
	/* The mode the VM got: shadow where the CPU has no nested paging. */
	EXPECT_TRUE(j_streq(&j, j_get(&j, vm, "paging"),
			    t.paging == HVX_PAGING_SHADOW ? "shadow" : "nested"))
		TH_LOG("VM %u: \"paging\" is not %s", id,
		       t.paging == HVX_PAGING_SHADOW ? "shadow" : "nested");
	stats = j_get(&j, vm, "stats");
	EXPECT_JSTAT(&j, stats, "exit_io_out", want.outs);
	EXPECT_JSTAT(&j, stats, "exit_io_in", want.ins);
	EXPECT_JSTAT(&j, stats, "exit_cpuid", want.cpuids);
	EXPECT_JSTAT(&j, stats, "exit_mmio_read", 1);
	EXPECT_JSTAT(&j, stats, "exit_mmio_write", 1);
	EXPECT_JSTAT(&j, stats, "exit_hlt", 1);
	EXPECT_JSTAT(&j, stats, "exits_user", seen.runs);
	EXPECT_JSTAT(&j, stats, "exits", info.stats[HVX_STAT_EXITS]);
	free(out);

	/* One VM as JSON: the VM and its vCPU with raw exit codes. */
	snprintf(cmd, sizeof(cmd), "hvxstat %u --json", id);
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, status);
	root = json_parse(&j, out);
	ASSERT_LE(0, root) TH_LOG("%s is not JSON:\n%s", cmd, out);
	vm = j_get(&j, root, "vm");
	EXPECT_EQ(id, j_uint(&j, j_get(&j, vm, "id"))) TH_LOG("%s:\n%s", cmd, out);
	EXPECT_EQ((unsigned long long)getpid(), j_uint(&j, j_get(&j, vm, "pid")));
	vcpus = j_get(&j, root, "vcpus");
	vcpu = j_at(&j, vcpus, 0);
	ASSERT_LE(0, vcpu) TH_LOG("no vCPU in:\n%s", out);
	EXPECT_GT(0, j_at(&j, vcpus, 1)) TH_LOG("more than one vCPU in:\n%s", out);
	EXPECT_EQ(0, j_uint(&j, j_get(&j, vcpu, "id")));
	stats = j_get(&j, vcpu, "stats");
	EXPECT_JSTAT(&j, stats, "exit_io_out", want.outs);
	EXPECT_JSTAT(&j, stats, "exit_io_in", want.ins);
	EXPECT_JSTAT(&j, stats, "exit_cpuid", want.cpuids);
	EXPECT_JSTAT(&j, stats, "exit_mmio_read", 1);
	EXPECT_JSTAT(&j, stats, "exit_mmio_write", 1);
	EXPECT_JSTAT(&j, stats, "exit_hlt", 1);
	EXPECT_JSTAT(&j, stats, "exits_user", seen.runs);
	raw = j_get(&j, vcpu, "raw_exits");
	ASSERT_LE(0, raw) TH_LOG("no \"raw_exits\" in:\n%s", out);
	for (c = 0; j_at(&j, raw, c) >= 0; c++) {
		int r = j_at(&j, raw, c);

		if (j_uint(&j, j_get(&j, r, "code")) == raw_codes()->io) {
			raw_ioio = true;
			EXPECT_EQ(want.outs + want.ins, j_uint(&j, j_get(&j, r, "count")));
			EXPECT_TRUE(j_streq(&j, j_get(&j, r, "name"), raw_codes()->io_name))
				TH_LOG("raw exit %#x is not named \"%s\" in:\n%s",
				       raw_codes()->io, raw_codes()->io_name, out);
		}
	}
	EXPECT_TRUE(raw_ioio) TH_LOG("no raw exit %#x in:\n%s", raw_codes()->io, out);
	free(out);

	/* A VM that is gone: exit status 1. */
	tvm_destroy(&t);
	snprintf(cmd, sizeof(cmd), "hvxstat %u --json 2>/dev/null", id);
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1)
		TH_LOG("%s for a destroyed VM: status 0x%x", cmd, status);
	free(out);
	gnl_close(&g);
}

/* ---- hvxstat's options: -f, -z, -p, --log, --version -------------------------------- */

/* hvxstat's names of the counters (Documentation/netlink.rst, section 4). */
static const char *const stat_name[HVX_STAT_MAX + 1] = {
	[HVX_STAT_EXITS]		= "exits",
	[HVX_STAT_EXITS_KERNEL]		= "exits_kernel",
	[HVX_STAT_EXITS_USER]		= "exits_user",
	[HVX_STAT_EXIT_IO_IN]		= "exit_io_in",
	[HVX_STAT_EXIT_IO_OUT]		= "exit_io_out",
	[HVX_STAT_EXIT_MMIO_READ]	= "exit_mmio_read",
	[HVX_STAT_EXIT_MMIO_WRITE]	= "exit_mmio_write",
	[HVX_STAT_EXIT_HLT]		= "exit_hlt",
	[HVX_STAT_EXIT_SHUTDOWN]	= "exit_shutdown",
	[HVX_STAT_EXIT_HYPERCALL]	= "exit_hypercall",
	[HVX_STAT_EXIT_MSR_USER]	= "exit_msr_user",
	[HVX_STAT_EXIT_MSR_KERNEL]	= "exit_msr_kernel",
	[HVX_STAT_EXIT_IRQ_WINDOW]	= "exit_irq_window",
	[HVX_STAT_EXIT_FAIL_ENTRY]	= "exit_fail_entry",
	[HVX_STAT_EXIT_INTERNAL_ERROR]	= "exit_internal_error",
	[HVX_STAT_EXIT_SIGNAL]		= "exit_signal",
	[HVX_STAT_EXIT_CPUID]		= "exit_cpuid",
	[HVX_STAT_EXIT_HOST_INTR]	= "exit_host_intr",
	[HVX_STAT_EXIT_NPF]		= "exit_npf",
	[HVX_STAT_EXIT_OTHER]		= "exit_other",
	[HVX_STAT_INJ_IRQ]		= "inj_irq",
	[HVX_STAT_INJ_NMI]		= "inj_nmi",
	[HVX_STAT_INJ_EXCEPTION]	= "inj_exception",
	[HVX_STAT_RUN_NS]		= "run_ns",
	[HVX_STAT_TLB_FLUSHES]		= "tlb_flushes",
	[HVX_STAT_PAGES_MAPPED]		= "pages_mapped",
	[HVX_STAT_SHADOW_FILLS]		= "shadow_fills",
	[HVX_STAT_SHADOW_FLUSHES]	= "shadow_flushes",
	[HVX_STAT_SHADOW_TABLES]	= "shadow_tables",
	[HVX_STAT_EXIT_APIC]		= "exit_apic",
	[HVX_STAT_HALT_NS]		= "halt_ns",
	[HVX_STAT_PAGES_MAPPED_2M]	= "pages_mapped_2m",
};

/* run_cmd() with stderr in the output too, for the messages of usage errors. */
static char *run_cmd_err(const char *cmd, int *status)
{
	char full[512];

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	return run_cmd(full, status);
}

#define EXPECT_EXIT(status, code, cmd, out)					\
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == (code))	\
		TH_LOG("%s: status 0x%x, expected exit %d:\n%s", cmd, status, code, out)

/*
 * The rows of a table of hvxstat's view of one VM in [text, end): the lines
 * after the one that starts with heading, up to a blank line.  Returns the
 * row names joined by commas (raw exits by their name, without the code)
 * in names, and the number in column col (1: first after the name) of row
 * want in *value, if given.
 */
static void table_rows(const char *text, const char *end, const char *heading,
		       char *names, size_t len, const char *want, unsigned int col,
		       double *value)
{
	const char *line = text, *nl, *p;
	char row[512], name[64], code[32];
	bool in = false;
	size_t n, used = 0;
	unsigned int c;
	int skip;

	names[0] = 0;
	for (; line < end && *line; line = nl ? nl + 1 : end) {
		nl = memchr(line, '\n', end - line);
		n = nl ? (size_t)(nl - line) : (size_t)(end - line);
		if (n >= sizeof(row))
			continue;
		memcpy(row, line, n);
		row[n] = 0;
		if (!in) {
			in = !strncmp(row, heading, strlen(heading));
			continue;
		}
		if (!n)
			break;
		skip = 0;
		if (!strncmp(row, "0x", 2)) {
			if (sscanf(row, "%31s %63s%n", code, name, &skip) != 2)
				continue;
		} else if (sscanf(row, "%63s%n", name, &skip) != 1) {
			continue;
		}
		used += snprintf(names + used, used < len ? len - used : 0, "%s%s",
				 used ? "," : "", name);
		if (value && want && !strcmp(name, want)) {
			p = row + skip;
			for (c = 1; c <= col; c++) {
				char *e;
				double d = strtod(p, &e);

				if (e == p)
					break;
				if (c == col)
					*value = d;
				p = e;
			}
		}
	}
}

/* The names of the members of JSON object obj, joined by commas. */
static void j_keys(const struct json *j, int obj, char *buf, size_t len)
{
	size_t used = 0;
	int n;

	buf[0] = 0;
	if (obj < 0)
		return;
	for (n = j->node[obj].child; n >= 0; n = j->node[n].next)
		used += snprintf(buf + used, used < len ? len - used : 0, "%s%.*s",
				 used ? "," : "", (int)j->node[n].key_len, j->node[n].key);
}

/* Joins the names of the counters for which keep(stats[s]) holds. */
static void stat_names_where(const __u64 *stats, bool nonzero, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int s;

	buf[0] = 0;
	for (s = HVX_STAT_EXITS; s <= HVX_STAT_MAX; s++)
		if (!nonzero || stats[s])
			used += snprintf(buf + used, used < len ? len - used : 0, "%s%s",
					 used ? "," : "", stat_name[s]);
}

/* A command whose stdout the test reads as it comes. */
struct reader {
	pid_t pid;
	int fd;
	char buf[1 << 16];
	size_t len, pos;	/* bytes read; bytes handed out as lines */
	bool eof;
};

static int reader_start(struct reader *r, const char *cmd)
{
	int p[2];

	memset(r, 0, sizeof(*r));
	if (pipe(p))
		return -errno;
	r->pid = fork();
	if (r->pid < 0)
		return -errno;
	if (!r->pid) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	r->fd = p[0];
	return 0;
}

/* Reads what is there, waiting up to timeout_ms for something: -EAGAIN if nothing. */
static int reader_fill(struct reader *r, int timeout_ms)
{
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	ssize_t n;

	if (r->eof)
		return 0;
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return -EAGAIN;
	n = read(r->fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
	if (n <= 0) {
		r->eof = true;
		return 0;
	}
	r->len += n;
	r->buf[r->len] = 0;
	return n;
}

/* The next whole line (without its newline), waiting up to timeout_ms: NULL if none. */
static const char *reader_line(struct reader *r, int timeout_ms)
{
	struct timespec t0, now;
	char *nl;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
		if (nl) {
			const char *line = r->buf + r->pos;

			*nl = 0;
			r->pos = nl + 1 - r->buf;
			return line;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (r->eof || (now.tv_sec - t0.tv_sec) * 1000 +
			      (now.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
			return NULL;
		reader_fill(r, 100);
	}
}

/* Waits for the command to end; its wait status. */
static int reader_wait(struct reader *r)
{
	int status = -1;

	while (reader_fill(r, 30000) > 0)
		;
	close(r->fd);
	if (waitpid(r->pid, &status, 0) != r->pid)
		return -1;
	return status;
}

/* Splits a CSV line into at most max fields (in place); the number of fields. */
static unsigned int csv_split(char *line, char **f, unsigned int max)
{
	unsigned int n = 0;
	char *p = line;

	for (;;) {
		if (n < max)
			f[n] = p;
		n++;
		p = strchr(p, ',');
		if (!p)
			return n;
		*p++ = 0;
	}
}

/*
 * -f: the per-VM table, its JSON and the VM list keep exactly the counters
 * (and, for one VM, the raw exits) whose names match.
 */
TEST(hvxstat_fields)
{
	const struct counts want = { .outs = 100, .ins = 37, .cpuids = 25 };
	static struct json j;
	char cmd[256], names[1024], expect[256];
	int root, vcpu, raw, vms, vm, status;
	struct counts seen;
	struct gnl g;
	struct tvm t;
	double val = -1;
	char *out;
	__u32 id;

	if (!on_path("hvxstat"))
		SKIP(return, "hvxstat is not on PATH");
	GNL_OPEN(&g);
	counts_vm(_metadata, &t, &want, 1, &seen);
	ASSERT_VM_ID(&g, id);

	/* One VM: the two port I/O counters, and no raw exit (none is named exit_io_*). */
	snprintf(cmd, sizeof(cmd), "hvxstat %u -f '^exit_io_'", id);
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, cmd, out);
	table_rows(out, out + strlen(out), "COUNTER", names, sizeof(names), "exit_io_out", 1,
		   &val);
	EXPECT_STREQ("exit_io_in,exit_io_out", names) TH_LOG("%s:\n%s", cmd, out);
	EXPECT_EQ(want.outs, val) TH_LOG("%s: exit_io_out:\n%s", cmd, out);
	table_rows(out, out + strlen(out), "COUNTER", names, sizeof(names), "exit_io_in", 1,
		   &val);
	EXPECT_EQ(want.ins, val) TH_LOG("%s: exit_io_in:\n%s", cmd, out);
	table_rows(out, out + strlen(out), "RAW EXIT", names, sizeof(names), NULL, 0, NULL);
	EXPECT_STREQ("", names) TH_LOG("%s: raw exits:\n%s", cmd, out);
	free(out);

	/* The same in JSON, with the raw exit of port I/O by its name. */
	snprintf(cmd, sizeof(cmd), "hvxstat %u --json -f '^(exit_io_in|exit_cpuid|%s)$'", id,
		 raw_codes()->io_name);
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, cmd, out);
	root = json_parse(&j, out);
	ASSERT_LE(0, root) TH_LOG("%s is not JSON:\n%s", cmd, out);
	vcpu = j_at(&j, j_get(&j, root, "vcpus"), 0);
	ASSERT_LE(0, vcpu) TH_LOG("%s: no vCPU:\n%s", cmd, out);
	j_keys(&j, j_get(&j, vcpu, "stats"), names, sizeof(names));
	EXPECT_STREQ("exit_io_in,exit_cpuid", names) TH_LOG("%s:\n%s", cmd, out);
	EXPECT_JSTAT(&j, j_get(&j, vcpu, "stats"), "exit_io_in", want.ins);
	EXPECT_JSTAT(&j, j_get(&j, vcpu, "stats"), "exit_cpuid", want.cpuids);
	j_keys(&j, j_get(&j, j_get(&j, root, "vm"), "stats"), names, sizeof(names));
	EXPECT_STREQ("exit_io_in,exit_cpuid", names) TH_LOG("%s: the VM's stats:\n%s", cmd, out);
	raw = j_get(&j, vcpu, "raw_exits");
	EXPECT_EQ(raw_codes()->io, j_uint(&j, j_get(&j, j_at(&j, raw, 0), "code")))
		TH_LOG("%s: raw exits:\n%s", cmd, out);
	EXPECT_EQ(want.outs + want.ins, j_uint(&j, j_get(&j, j_at(&j, raw, 0), "count")));
	EXPECT_GT(0, j_at(&j, raw, 1)) TH_LOG("%s: more than one raw exit:\n%s", cmd, out);
	free(out);

	/* The VM list: a column for each counter that matches, instead of EXITS. */
	snprintf(cmd, sizeof(cmd), "hvxstat -p %d -f 'hlt|cpuid'", getpid());
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, cmd, out);
	snprintf(expect, sizeof(expect), "%6u %8d %6u %5u", id, getpid(), geteuid(), 1);
	EXPECT_TRUE(strstr(out, "EXIT_HLT") && strstr(out, "EXIT_CPUID") &&
		    !strstr(out, " EXITS")) TH_LOG("%s: columns:\n%s", cmd, out);
	{
		const char *row = strstr(out, expect);
		unsigned long long hlt = 0, cpuid = 0;

		ASSERT_NE(NULL, row) TH_LOG("%s: no row \"%s\":\n%s", cmd, expect, out);
		EXPECT_EQ(2, sscanf(row, "%*u %*u %*u %*u %*f %*f %*s %*s %llu %llu", &hlt,
				    &cpuid)) TH_LOG("%s", row);
		EXPECT_EQ(1, hlt);
		EXPECT_EQ(want.cpuids, cpuid);
	}
	free(out);

	/* And in JSON: each VM's "stats" has those two only. */
	snprintf(cmd, sizeof(cmd), "hvxstat -p %d --json -f 'hlt|cpuid'", getpid());
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, cmd, out);
	root = json_parse(&j, out);
	ASSERT_LE(0, root) TH_LOG("%s is not JSON:\n%s", cmd, out);
	vms = j_get(&j, root, "vms");
	vm = j_find_id(&j, vms, id);
	ASSERT_LE(0, vm) TH_LOG("%s: no VM %u:\n%s", cmd, id, out);
	j_keys(&j, j_get(&j, vm, "stats"), names, sizeof(names));
	EXPECT_STREQ("exit_hlt,exit_cpuid", names) TH_LOG("%s:\n%s", cmd, out);
	free(out);
	tvm_destroy(&t);
	gnl_close(&g);
}

/*
 * -z: one VM's table keeps exactly the counters that are not zero; the list
 * leaves out a VM that never ran; with --watch, a counter that is not zero
 * but did not move is left out and one that moved is kept.
 */
TEST(hvxstat_skip_zero)
{
	const struct counts want[2] = {
		{ .outs = 1000000000, .ins = 0, .cpuids = 0 },	/* OUTs while watched */
		{ .outs = 10, .ins = 37, .cpuids = 25 },	/* done before */
	};
	struct counts seen;
	struct vcpu_info v;
	struct nl_err e;
	static struct reader r;
	struct tvm t, idle;
	struct gnl g;
	char cmd[256], names[1024], expect[1024];
	struct timespec t0, now;
	unsigned int refreshes = 0, with_out = 0, rows_moving = 0, rows = 0;
	const char *p, *next;
	char *out;
	int status;
	__u32 id, idle_id;

	if (!on_path("hvxstat"))
		SKIP(return, "hvxstat is not on PATH");
	GNL_OPEN(&g);
	counts_vm(_metadata, &t, &want[1], 1, &seen);
	ASSERT_VM_ID(&g, id);
	TVM_CREATE(&idle, GUEST_MIN_MEM, 0, 1);
	ASSERT_VM_ID(&g, idle_id);
	ASSERT_NE(id, idle_id);

	/* One VM: the rows are the counters that are not zero, all of them. */
	ASSERT_NL_OK(nl_get_vcpu(&g, id, 0, &v, &e), &e);
	stat_names_where(v.stats, true, expect, sizeof(expect));
	snprintf(cmd, sizeof(cmd), "hvxstat %u -z", id);
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, cmd, out);
	table_rows(out, out + strlen(out), "COUNTER", names, sizeof(names), NULL, 0, NULL);
	EXPECT_STREQ(expect, names) TH_LOG("%s:\n%s", cmd, out);
	EXPECT_TRUE(strstr(names, "exit_io_out") && strstr(names, "exit_cpuid") &&
		    !strstr(names, "exit_shutdown") && !strstr(names, "inj_irq"))
		TH_LOG("%s: %s", cmd, names);
	free(out);
	/* Without -z, every counter. */
	stat_names_where(v.stats, false, expect, sizeof(expect));
	snprintf(cmd, sizeof(cmd), "hvxstat %u", id);
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	table_rows(out, out + strlen(out), "COUNTER", names, sizeof(names), NULL, 0, NULL);
	EXPECT_STREQ(expect, names) TH_LOG("%s:\n%s", cmd, out);
	free(out);

	/* The list: the VM that ran, not the one that never did. */
	snprintf(cmd, sizeof(cmd), "hvxstat -p %d -z", getpid());
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, cmd, out);
	EXPECT_TRUE(list_has_row(out, id, getpid(), geteuid(), 1)) TH_LOG("%s:\n%s", cmd, out);
	EXPECT_FALSE(list_has_row(out, idle_id, getpid(), geteuid(), 1))
		TH_LOG("%s: idle VM %u listed:\n%s", cmd, idle_id, out);
	free(out);
	snprintf(cmd, sizeof(cmd), "hvxstat -p %d", getpid());
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_TRUE(list_has_row(out, idle_id, getpid(), geteuid(), 1))
		TH_LOG("%s: idle VM %u not listed:\n%s", cmd, idle_id, out);
	free(out);
	tvm_destroy(&idle);
	tvm_destroy(&t);

	/*
	 * --watch: vCPU 1 has done its INs, CPUIDs and HLT before; vCPU 0 does
	 * OUTs all the while hvxstat watches.
	 */
	counts_vm_ready(_metadata, &t, 2, want);
	ASSERT_VM_ID(&g, id);
	run_counts(_metadata, &t, 1, &seen);
	snprintf(cmd, sizeof(cmd), "hvxstat %u --watch 0.3 --count 4 -z", id);
	ASSERT_EQ(0, reader_start(&r, cmd));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		int ret = tvm_run_once(&t, 0);
		struct hvx_run *run = t.vcpu[0].run;

		ASSERT_EQ(HVX_EXIT_IO, ret);
		ASSERT_EQ(STATS_PORT_OUT, run->io.port);
		reader_fill(&r, 0);
		clock_gettime(CLOCK_MONOTONIC, &now);
		ASSERT_GT(60, now.tv_sec - t0.tv_sec) TH_LOG("%s did not end", cmd);
	} while (!r.eof);
	status = reader_wait(&r);
	EXPECT_EXIT(status, 0, cmd, r.buf);

	/* Each refresh starts with the VM's summary line. */
	for (p = strstr(r.buf, "vm "); p; p = next) {
		double rate = -1;
		char *rest;

		next = strstr(p + 1, "\nvm ");
		if (next)
			next++;
		refreshes++;
		table_rows(p, next ? next : p + strlen(p), "COUNTER", names, sizeof(names),
			   "exit_io_out", 2, &rate);
		if (strstr(names, "exit_io_out") && rate > 0)
			with_out++;
		EXPECT_FALSE(strstr(names, "exit_io_in") || strstr(names, "exit_cpuid") ||
			     strstr(names, "exit_hlt") || strstr(names, "exit_mmio"))
			TH_LOG("a counter that did not move is shown: %s", names);
		/* Every row shown moved: its TOTAL/S is not zero. */
		for (rest = strtok(names, ","); rest; rest = strtok(NULL, ",")) {
			char row[64];
			double r2 = -1;

			snprintf(row, sizeof(row), "%s", rest);
			table_rows(p, next ? next : p + strlen(p), "COUNTER", expect,
				   sizeof(expect), row, 2, &r2);
			rows++;
			if (r2 > 0)
				rows_moving++;
		}
		table_rows(p, next ? next : p + strlen(p), "RAW EXIT", names, sizeof(names),
			   NULL, 0, NULL);
		EXPECT_STREQ(raw_codes()->io_name, strtok(names, ","))
			TH_LOG("raw exits of a refresh: the port I/O one alone expected");
	}
	EXPECT_EQ(4, refreshes) TH_LOG("%s:\n%s", cmd, r.buf);
	EXPECT_EQ(4, with_out) TH_LOG("refreshes without a moving exit_io_out:\n%s", r.buf);
	EXPECT_EQ(rows, rows_moving) TH_LOG("rows with a zero rate:\n%s", r.buf);
	tvm_destroy(&t);
	gnl_close(&g);
}

/* The VM of a child process, which the child keeps until fd closes. */
static pid_t child_with_vm(int *keep, unsigned int nr_vcpus)
{
	int ready[2], hold[2];
	pid_t pid;
	char c = 0;

	if (pipe(ready) || pipe(hold))
		return -1;
	pid = fork();
	if (!pid) {
		struct hvx_vcpu vcpu;
		struct hvx_sys sys;
		struct hvx_vm vm;
		unsigned int i;
		void *mem;

		close(ready[0]);
		close(hold[1]);
		mem = mmap(NULL, GUEST_MIN_MEM, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		c = 1;
		if (mem == MAP_FAILED || hvx_open(&sys) ||
		    hvx_vm_create(&sys, &vm, HVX_PAGING_AUTO, 0) ||
		    hvx_vm_set_region(&vm, 0, 0, 0, GUEST_MIN_MEM, mem))
			c = 0;
		for (i = 0; c && i < nr_vcpus; i++)
			if (hvx_vcpu_create(&vm, i, &vcpu))
				c = 0;
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		while (read(hold[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	if (pid < 0 || read(ready[0], &c, 1) != 1 || !c) {
		close(ready[0]);
		close(hold[1]);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return -1;
	}
	close(ready[0]);
	*keep = hold[1];
	return pid;
}

/* -p: exactly the VMs of that process, in the list and in JSON. */
TEST(hvxstat_pid)
{
	static struct vm_list list;
	static struct json j;
	char cmd[128], *out, *line;
	unsigned int rows = 0, i, n_child = 0;
	int keep, status, root, vms, k;
	struct nl_err e;
	struct gnl g;
	struct tvm t;
	pid_t child;
	__u32 id, child_id = 0;

	if (!on_path("hvxstat"))
		SKIP(return, "hvxstat is not on PATH");
	GNL_OPEN(&g);
	TVM_CREATE(&t, GUEST_MIN_MEM, 0, 1);
	ASSERT_VM_ID(&g, id);
	child = child_with_vm(&keep, 2);
	ASSERT_LT(0, child) TH_LOG("the child could not create its VM");
	ASSERT_NL_OK(nl_dump_vms(&g, &list, &e), &e);
	for (i = 0; i < list.nr; i++)
		if (list.vm[i].pid == (__u32)child) {
			child_id = list.vm[i].id;
			n_child++;
		}
	ASSERT_EQ(1, n_child);

	snprintf(cmd, sizeof(cmd), "hvxstat -p %d", child);
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, cmd, out);
	EXPECT_TRUE(list_has_row(out, child_id, child, geteuid(), 2)) TH_LOG("%s:\n%s", cmd, out);
	/* The header and the child's VM, nothing else. */
	for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		rows++;
	EXPECT_EQ(2, rows) TH_LOG("%s: %u lines", cmd, rows);
	free(out);

	snprintf(cmd, sizeof(cmd), "hvxstat --pid=%d --json", getpid());
	out = run_cmd(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, cmd, out);
	root = json_parse(&j, out);
	ASSERT_LE(0, root) TH_LOG("%s is not JSON:\n%s", cmd, out);
	vms = j_get(&j, root, "vms");
	ASSERT_LE(0, j_find_id(&j, vms, id)) TH_LOG("%s: no VM %u:\n%s", cmd, id, out);
	for (k = 0; j_at(&j, vms, k) >= 0; k++)
		EXPECT_EQ((unsigned long long)getpid(),
			  j_uint(&j, j_get(&j, j_at(&j, vms, k), "pid")))
			TH_LOG("%s: another process's VM:\n%s", cmd, out);
	EXPECT_EQ(1, k) TH_LOG("%s:\n%s", cmd, out);
	free(out);

	close(keep);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	/* Its process gone, the pid is not one of a process. */
	snprintf(cmd, sizeof(cmd), "hvxstat -p %d", child);
	out = run_cmd_err(cmd, &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 2, cmd, out);
	EXPECT_NE(NULL, strstr(out, "no process")) TH_LOG("%s:\n%s", cmd, out);
	free(out);
	tvm_destroy(&t);
	gnl_close(&g);
}

/* Bad values and combinations: exit 2 and a message that names the problem. */
TEST(hvxstat_bad_usage)
{
	static const struct {
		const char *args, *msg;
	} bad[] = {
		{ "-f '('", "--fields" },
		{ "-f '[[:nope:]]'", "not a POSIX extended regex" },
		{ "-f nomatch_xyz", "matches no counter" },
		{ "-p abc", "--pid: 'abc' is not a process id" },
		{ "-p 0", "is not a process id" },
		{ "-p -5", "--pid" },
		{ "-p", "needs a process id" },
		{ "-p 1 3", "--pid" },
		{ "--log --json", "--log" },
		{ "--log --watch", "--log" },
		{ "--events -z", "--events" },
		{ "--events -p 1", "--events" },
		{ "--events --log", "--events" },
		{ "-c 2", "--count" },
		{ "--log 0", "--log" },
	};
	char cmd[128], *out;
	unsigned int i;
	int status;

	if (!on_path("hvxstat"))
		SKIP(return, "hvxstat is not on PATH");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cmd, sizeof(cmd), "hvxstat %s", bad[i].args);
		out = run_cmd_err(cmd, &status);
		ASSERT_NE(NULL, out);
		EXPECT_EXIT(status, 2, cmd, out);
		EXPECT_NE(NULL, strstr(out, bad[i].msg))
			TH_LOG("%s: no \"%s\" in:\n%s", cmd, bad[i].msg, out);
		free(out);
	}

	/* --version: "hvxstat X.Y.Z". */
	out = run_cmd_err("hvxstat --version", &status);
	ASSERT_NE(NULL, out);
	EXPECT_EXIT(status, 0, "hvxstat --version", out);
	{
		unsigned int a, b, c;
		char nl = 0;

		EXPECT_EQ(4, sscanf(out, "hvxstat %u.%u.%u%c", &a, &b, &c, &nl))
			TH_LOG("hvxstat --version: \"%s\"", out);
		EXPECT_EQ('\n', nl);
	}
	free(out);
}

#define LOG_INTERVALS	12

/*
 * --log: a header, then one line per interval, each flushed as written (the
 * first is read while hvxstat still runs), LOG_INTERVALS lines in all, the
 * same number of columns in each; the increases over the intervals add up
 * to what the guest did: none before it ran, none once it is done.
 */
static void check_log(struct __test_metadata *_metadata, bool one_vm)
{
	const struct counts want = { .outs = 100, .ins = 37, .cpuids = 25 };
	static const unsigned int checked[] = {
		HVX_STAT_EXIT_IO_IN, HVX_STAT_EXIT_IO_OUT, HVX_STAT_EXIT_MMIO_READ,
		HVX_STAT_EXIT_MMIO_WRITE, HVX_STAT_EXIT_HLT, HVX_STAT_EXIT_CPUID,
	};
	static struct reader r;
	char cmd[256], header[1024], expect[1024], copy[1024], prev_stamp[32] = "";
	unsigned long long sum[HVX_STAT_MAX + 1] = { 0 };
	unsigned int col[HVX_STAT_MAX + 1] = { 0 };
	unsigned int ncols, nlines = 0, after = 0, c, k, s;
	const char *line;
	struct counts seen;
	char *f[64];
	struct gnl g;
	struct tvm t;
	size_t used = 0;
	int status;
	__u32 id;

	if (!on_path("hvxstat"))
		SKIP(return, "hvxstat is not on PATH");
	GNL_OPEN(&g);
	counts_vm_ready(_metadata, &t, 1, &want);
	ASSERT_VM_ID(&g, id);

	/* All counters for one VM; those of port I/O, MMIO, HLT, CPUID for the pid. */
	if (one_vm)
		snprintf(cmd, sizeof(cmd), "hvxstat --log 0.25 --count %d %u", LOG_INTERVALS,
			 id);
	else
		snprintf(cmd, sizeof(cmd),
			 "hvxstat -l 0.25 -c %d -p %d -f '^exit_(io|mmio|hlt|cpuid)'",
			 LOG_INTERVALS, getpid());
	used = snprintf(expect, sizeof(expect), "timestamp");
	for (s = HVX_STAT_EXITS; s <= HVX_STAT_MAX; s++)
		if (one_vm || !strncmp(stat_name[s], "exit_io", 7) ||
		    !strncmp(stat_name[s], "exit_mmio", 9) || !strcmp(stat_name[s], "exit_hlt") ||
		    !strcmp(stat_name[s], "exit_cpuid"))
			used += snprintf(expect + used, sizeof(expect) - used, ",%s",
					 stat_name[s]);

	ASSERT_EQ(0, reader_start(&r, cmd));
	line = reader_line(&r, 30000);
	ASSERT_NE(NULL, line) TH_LOG("%s: no header within 30 s", cmd);
	snprintf(header, sizeof(header), "%s", line);
	EXPECT_STREQ(expect, header) TH_LOG("%s: header", cmd);
	snprintf(copy, sizeof(copy), "%s", header);
	ncols = csv_split(copy, f, 64);
	ASSERT_GE(64, ncols);
	for (c = 1; c < ncols; c++)
		for (s = HVX_STAT_EXITS; s <= HVX_STAT_MAX; s++)
			if (!strcmp(f[c], stat_name[s]))
				col[s] = c;
	for (k = 0; k < sizeof(checked) / sizeof(checked[0]); k++)
		ASSERT_NE(0, col[checked[k]]) TH_LOG("no column %s", stat_name[checked[k]]);

	/* The first interval, read while hvxstat runs on: nothing happened in it. */
	for (;;) {
		line = reader_line(&r, 30000);
		ASSERT_NE(NULL, line) TH_LOG("%s: no line within 30 s of the header (not flushed?)",
					     cmd);
		nlines++;
		snprintf(copy, sizeof(copy), "%s", line);
		ASSERT_EQ(ncols, csv_split(copy, f, 64)) TH_LOG("line %u: %s", nlines, line);
		for (c = 1; c < ncols; c++)
			EXPECT_STREQ("0", f[c]) TH_LOG("before the guest ran: %s", line);
		snprintf(prev_stamp, sizeof(prev_stamp), "%s", f[0]);
		break;
	}

	run_counts(_metadata, &t, 0, &seen);
	/* Lines already written may hold some of the guest's work ... */
	while (reader_fill(&r, 0) > 0)
		;
	/* ... as may the first one written from now on; none after that. */
	for (;;) {
		bool fresh = r.pos >= r.len || !memchr(r.buf + r.pos, '\n', r.len - r.pos);

		line = reader_line(&r, 30000);
		if (!line)
			break;
		nlines++;
		if (fresh)
			after++;
		snprintf(copy, sizeof(copy), "%s", line);
		ASSERT_EQ(ncols, csv_split(copy, f, 64)) TH_LOG("line %u: %s", nlines, line);
		EXPECT_EQ(23, strlen(f[0])) TH_LOG("timestamp \"%s\" (YYYY-MM-DD HH:MM:SS.mmm)",
						   f[0]);
		EXPECT_LE(0, strcmp(f[0], prev_stamp)) TH_LOG("time went back: %s", line);
		snprintf(prev_stamp, sizeof(prev_stamp), "%s", f[0]);
		for (c = 1; c < ncols; c++) {
			EXPECT_NE(0, f[c][0]);
			if (after >= 2)
				EXPECT_STREQ("0", f[c])
					TH_LOG("an interval after the guest was done: %s", line);
		}
		for (s = HVX_STAT_EXITS; s <= HVX_STAT_MAX; s++)
			if (col[s])
				sum[s] += strtoull(f[col[s]], NULL, 10);
	}
	status = reader_wait(&r);
	EXPECT_EXIT(status, 0, cmd, "");
	EXPECT_EQ(LOG_INTERVALS, nlines) TH_LOG("%s: lines after the header", cmd);
	EXPECT_LE(2, after) TH_LOG("the guest ran longer than %d intervals: no line to check",
				   LOG_INTERVALS);
	EXPECT_EQ(want.ins, sum[HVX_STAT_EXIT_IO_IN]);
	EXPECT_EQ(want.outs, sum[HVX_STAT_EXIT_IO_OUT]);
	EXPECT_EQ(want.cpuids, sum[HVX_STAT_EXIT_CPUID]);
	EXPECT_EQ(1, sum[HVX_STAT_EXIT_MMIO_READ]);
	EXPECT_EQ(1, sum[HVX_STAT_EXIT_MMIO_WRITE]);
	EXPECT_EQ(1, sum[HVX_STAT_EXIT_HLT]);
	if (one_vm)
		EXPECT_EQ(seen.runs, sum[HVX_STAT_EXITS_USER]);

	/* -z: an idle VM's intervals are all zero, so the header alone. */
	if (one_vm)
		snprintf(cmd, sizeof(cmd), "hvxstat --log 0.1 --count 3 -z %u", id);
	else
		snprintf(cmd, sizeof(cmd),
			 "hvxstat --log 0.1 --count 3 -z -p %d -f '^exit_(io|mmio|hlt|cpuid)'",
			 getpid());
	{
		char *out = run_cmd(cmd, &status);

		ASSERT_NE(NULL, out);
		EXPECT_EXIT(status, 0, cmd, out);
		EXPECT_TRUE(!strncmp(out, header, strlen(header)) &&
			    !strcmp(out + strlen(header), "\n"))
			TH_LOG("%s: the header alone expected:\n%s", cmd, out);
		free(out);
	}
	tvm_destroy(&t);
	gnl_close(&g);
}

TEST(hvxstat_log_one_vm)
{
	check_log(_metadata, true);
}

TEST(hvxstat_log_pid_fields)
{
	check_log(_metadata, false);
}

int main(int argc, char **argv)
{
	stats_require_hvx();
	return test_harness_run(argc, argv);
}
