// SPDX-License-Identifier: GPL-2.0
/*
 * The example launchers of Documentation/tutorial.rst (examples/), run the
 * way their readers run them: hvx-hello-raw (raw ioctls) and hvx-hello-lib
 * (libhvx), found on PATH, in each paging mode.  Where the mode can run
 * their real-mode guest they must print exactly the guest's greeting and
 * sum, nothing on stderr, and exit 0; where it cannot, they must exit 1
 * with one line naming the call that failed and why, and the case skips.
 * A bad argument gets the usage line and status 2.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "launch.h"
#include "test_util.h"

#define RAW		"hvx-hello-raw"
#define LIB		"hvx-hello-lib"
#define GOOD_OUTPUT	"Hello from a real-mode guest!\n1234 + 4321 = 5555\n"
#define TIMEOUT_S	120

/* Full path of the executable prog found on PATH, in buf; false if none. */
static bool find_in_path(const char *prog, char *buf, size_t len)
{
	const char *p = getenv("PATH");
	const char *end;

	for (; p && *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		if (end == p)
			continue;
		snprintf(buf, len, "%.*s/%s", (int)(end - p), p, prog);
		if (!access(buf, X_OK))
			return true;
	}
	return false;
}

FIXTURE(hello) {
	char path[PATH_MAX];
	struct hvx_sys sys;
};

FIXTURE_VARIANT(hello) {
	const char *prog;
	const char *paging;	/* the argument; NULL: none (auto) */
	__u32 mode;		/* HVX_PAGING_* it asks for */
	const char *create;	/* its name for the call that creates the VM */
	/*
	 * ... and for the first one that needs real mode: hello-raw keeps
	 * the reset CR0, so only HVX_RUN can refuse it; hvx_setup_mode()
	 * writes CR0, which HVX_SET_STATE refuses at once (api.rst, 7.3).
	 */
	const char *real;
};

FIXTURE_VARIANT_ADD(hello, raw) {
	.prog = RAW, .mode = HVX_PAGING_AUTO, .create = "HVX_CREATE_VM", .real = "HVX_RUN",
};
FIXTURE_VARIANT_ADD(hello, raw_nested) {
	.prog = RAW, .paging = "nested", .mode = HVX_PAGING_NESTED,
	.create = "HVX_CREATE_VM", .real = "HVX_RUN",
};
FIXTURE_VARIANT_ADD(hello, raw_shadow) {
	.prog = RAW, .paging = "shadow", .mode = HVX_PAGING_SHADOW,
	.create = "HVX_CREATE_VM", .real = "HVX_RUN",
};
FIXTURE_VARIANT_ADD(hello, lib) {
	.prog = LIB, .mode = HVX_PAGING_AUTO, .create = "hvx_vm_create", .real = "hvx_setup_mode",
};
FIXTURE_VARIANT_ADD(hello, lib_nested) {
	.prog = LIB, .paging = "nested", .mode = HVX_PAGING_NESTED,
	.create = "hvx_vm_create", .real = "hvx_setup_mode",
};
FIXTURE_VARIANT_ADD(hello, lib_shadow) {
	.prog = LIB, .paging = "shadow", .mode = HVX_PAGING_SHADOW,
	.create = "hvx_vm_create", .real = "hvx_setup_mode",
};

FIXTURE_SETUP(hello)
{
	int ret;

	self->sys.fd = -1;
	if (!find_in_path(variant->prog, self->path, sizeof(self->path)))
		SKIP(return, "%s not found on PATH", variant->prog);
	ret = tvm_sys_open(&self->sys);
	if (ret == -ENOENT)
		SKIP(return, "/dev/hvx not present (hvx.ko not loaded)");
	ASSERT_EQ(0, ret) TH_LOG("opening /dev/hvx: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(hello)
{
	hvx_close(&self->sys);
}

/*
 * What the example must report when this CPU cannot run its guest in the
 * variant's paging mode (Documentation/api.rst, HVX_CREATE_VM and
 * "Real mode and unpaged protected mode"): the call and its errno, or
 * NULL when the guest can run.
 */
static const char *expected_failure(struct hvx_sys *sys, const FIXTURE_VARIANT(hello) *v,
				    int *err)
{
	__u32 mode = v->mode == HVX_PAGING_AUTO ? tvm_auto_paging(sys) : v->mode;

	if (v->mode == HVX_PAGING_NESTED && !tvm_cap(sys, HVX_CAP_PAGING_NESTED, 0)) {
		*err = ENODEV;
		return v->create;
	}
	if (mode == HVX_PAGING_SHADOW && !tvm_cap(sys, HVX_CAP_PAGING_SHADOW, 0)) {
		*err = EOPNOTSUPP;
		return v->create;
	}
	if (!tvm_cap(sys, mode == HVX_PAGING_SHADOW ? HVX_CAP_SHADOW_REAL_MODE :
						    HVX_CAP_UNRESTRICTED_GUEST, 0)) {
		*err = EOPNOTSUPP;
		return v->real;
	}
	return NULL;
}

TEST_F(hello, runs_the_guest)
{
	char *argv[] = { self->path, (char *)variant->paging, NULL };
	const char *call, *args = variant->paging ?: "";
	char want_err[256];
	struct launch l;
	int err = 0;
	bool refused;

	call = expected_failure(&self->sys, variant, &err);
	ASSERT_EQ(0, launch_run(argv, NULL, NULL, TIMEOUT_S, &l));
	if (!call) {
		EXPECT_EQ(0, l.status) TH_LOG("%s %s: stderr '%s'", self->path, args, l.err);
		EXPECT_STREQ(GOOD_OUTPUT, l.out);
		EXPECT_STREQ("", l.err);
		launch_free(&l);
		return;
	}
	snprintf(want_err, sizeof(want_err), "%s: %s: %s\n", variant->prog, call, strerror(err));
	refused = l.status == 1 && !strcmp(want_err, l.err) && !l.out_len;
	EXPECT_EQ(1, l.status) TH_LOG("%s %s: stdout '%s'", self->path, args, l.out);
	EXPECT_STREQ(want_err, l.err);
	EXPECT_STREQ("", l.out);
	launch_free(&l);
	if (refused)
		SKIP(return, "paging '%s' cannot run the real-mode guest on this CPU (%s: %s)",
		     variant->paging ?: "auto", call, strerror(err));
}

FIXTURE(usage) {
	char path[PATH_MAX];
};

FIXTURE_VARIANT(usage) {
	const char *prog;
};

FIXTURE_VARIANT_ADD(usage, raw) {
	.prog = RAW,
};
FIXTURE_VARIANT_ADD(usage, lib) {
	.prog = LIB,
};

FIXTURE_SETUP(usage)
{
	if (!find_in_path(variant->prog, self->path, sizeof(self->path)))
		SKIP(return, "%s not found on PATH", variant->prog);
}

FIXTURE_TEARDOWN(usage)
{
}

/* An unknown mode and one argument too many: the usage line, status 2. */
TEST_F(usage, rejects_bad_arguments)
{
	static const char *const bad[][2] = { { "fast", NULL }, { "auto", "shadow" } };
	char want_err[256];
	unsigned int i;

	snprintf(want_err, sizeof(want_err), "usage: %s [auto|nested|shadow]  (the paging mode)\n",
		 variant->prog);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { self->path, (char *)bad[i][0], (char *)bad[i][1], NULL };
		struct launch l;

		ASSERT_EQ(0, launch_run(argv, NULL, NULL, TIMEOUT_S, &l));
		EXPECT_EQ(2, l.status) TH_LOG("%s %s %s", variant->prog, bad[i][0],
					      bad[i][1] ?: "");
		EXPECT_STREQ(want_err, l.err);
		EXPECT_STREQ("", l.out);
		launch_free(&l);
	}
}

/*
 * Without the module, or without either example, there is nothing to run:
 * the whole test skips with the reason (status KSFT_SKIP).
 */
int main(int argc, char **argv)
{
	char path[PATH_MAX];

	if (access(HVX_DEVICE_PATH, F_OK) && errno == ENOENT) {
		ksft_print_header();
		ksft_exit_skip("%s not present (hvx.ko not loaded)\n", HVX_DEVICE_PATH);
	}
	if (!find_in_path(RAW, path, sizeof(path)) && !find_in_path(LIB, path, sizeof(path))) {
		ksft_print_header();
		ksft_exit_skip("neither %s nor %s found on PATH\n", RAW, LIB);
	}
	return test_harness_run(argc, argv);
}
