// SPDX-License-Identifier: GPL-2.0
/*
 * hvx's tracepoints (Documentation/netlink.rst): hvx_exit and
 * hvx_userspace_exit record a guest's port I/O exit with its VM, vCPU,
 * raw exit code and RIP, read back from tracefs.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "stats.h"

GUEST_CODE(stats_trace);

extern const unsigned char stats_trace_out[];

#define TRACEFS	"/sys/kernel/tracing"

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

static int trace_enable(const char *event, bool on)
{
	char path[256];

	snprintf(path, sizeof(path), TRACEFS "/events/hvx/%s/enable", event);
	return write_file(path, on ? "1" : "0");
}

/* Reads the whole trace into a malloc'd string. */
static char *read_trace(void)
{
	int fd = open(TRACEFS "/trace", O_RDONLY | O_CLOEXEC);
	char *buf;

	if (fd < 0)
		return NULL;
	buf = stats_read_all(fd);
	close(fd);
	return buf;
}

/* Is there a line with every one of the given substrings? */
static bool trace_has(const char *trace, const char *a, const char *b)
{
	const char *line = trace, *end;
	char tmp[1024];
	size_t n;

	while (*line) {
		end = strchr(line, '\n');
		n = end ? (size_t)(end - line) : strlen(line);
		if (n < sizeof(tmp)) {
			memcpy(tmp, line, n);
			tmp[n] = 0;
			if (tmp[0] != '#' && strstr(tmp, a) && strstr(tmp, b))
				return true;
		}
		line += n + (end ? 1 : 0);
	}
	return false;
}

TEST(tracepoints)
{
	char want_exit[128], want_user[128];
	struct gnl g;
	struct tvm t;
	char *trace;
	__u32 id;
	int r;

	if (geteuid())
		SKIP(return, "tracefs needs root");
	if (access(TRACEFS "/trace", F_OK) &&
	    mount("nodev", TRACEFS, "tracefs", 0, NULL))
		SKIP(return, "tracefs not available at " TRACEFS ": %s", strerror(errno));
	GNL_OPEN(&g);
	if (access(TRACEFS "/events/hvx/hvx_exit/enable", F_OK))
		SKIP(return, "no hvx trace events in " TRACEFS "/events (kernel without tracing?)");

	TVM_LONG_GUEST(&t, stats_trace, 0);
	ASSERT_VM_ID(&g, id);
	ASSERT_OK(write_file(TRACEFS "/trace", ""));
	ASSERT_OK(trace_enable("hvx_exit", true));
	ASSERT_OK(trace_enable("hvx_userspace_exit", true));
	ASSERT_RUN_EXIT(&t, 0, HVX_EXIT_IO);
	ASSERT_EQ(0x99, t.vcpu[0].run->io.port);
	r = tvm_run_once(&t, 0);
	trace_enable("hvx_exit", false);
	trace_enable("hvx_userspace_exit", false);
	ASSERT_EQ(HVX_EXIT_HLT, r);

	trace = read_trace();
	ASSERT_NE(NULL, trace);
	snprintf(want_exit, sizeof(want_exit), "vm %u vcpu 0 reason %#x rip 0x%llx ", id,
		 raw_codes()->io, (unsigned long long)GUEST_ADDR(stats_trace, stats_trace_out));
	snprintf(want_user, sizeof(want_user), "vm %u vcpu 0 exit_reason %u ret 0", id,
		 HVX_EXIT_IO);
	EXPECT_TRUE(trace_has(trace, "hvx_exit:", want_exit))
		TH_LOG("no \"hvx_exit: %s\" in the trace:\n%.2000s", want_exit, trace);
	EXPECT_TRUE(trace_has(trace, "hvx_userspace_exit:", want_user))
		TH_LOG("no \"hvx_userspace_exit: %s\" in the trace:\n%.2000s", want_user, trace);
	free(trace);
	tvm_destroy(&t);
	gnl_close(&g);
}

int main(int argc, char **argv)
{
	stats_require_hvx();
	return test_harness_run(argc, argv);
}
