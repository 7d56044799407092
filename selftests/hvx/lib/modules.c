// SPDX-License-Identifier: GPL-2.0
/*
 * Module helpers for module_test and coexist_test.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "modules.h"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE	4
#endif

const char *mod_hvx_ko(void)
{
	const char *p = getenv("HVX_KO");

	return p && *p ? p : "/hvx/hvx.ko";
}

const char *mod_kvm_dir(void)
{
	const char *p = getenv("HVX_KVM_DIR");

	return p && *p ? p : "/kvm";
}

bool mod_loaded(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return access(path, F_OK) == 0;
}

int mod_load(const char *path)
{
	return mod_load_params(path, "");
}

int mod_load_params(const char *path, const char *params)
{
	size_t n = strlen(path);
	int flags = 0, fd, r;

	if (n > 3 && !strcmp(path + n - 3, ".xz"))
		flags = MODULE_INIT_COMPRESSED_FILE;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = syscall(SYS_finit_module, fd, params, flags);
	r = r ? -errno : 0;
	close(fd);
	return r;
}

int mod_unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int mod_unload_wait(const char *name, int ms)
{
	int r;

	for (;;) {
		r = mod_unload(name);
		if ((r != -EBUSY && r != -EAGAIN) || ms <= 0)
			return r;
		sleep_ms(50);
		ms -= 50;
	}
}

int mod_hvx_force_shadow(void)
{
	char c = 0;
	int fd, n;

	fd = open("/sys/module/hvx/parameters/force_shadow", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, &c, 1);
	close(fd);
	if (n != 1 || (c != 'Y' && c != 'N'))
		return -EIO;
	return c == 'Y';
}

int mod_ensure_hvx(void)
{
	int r = 0, i;

	if (!mod_loaded("hvx")) {
		r = mod_load(mod_hvx_ko());
		if (r && r != -EEXIST)
			return r;
	}
	/* devtmpfs creates the node asynchronously. */
	for (i = 0; i < 40; i++) {
		if (access("/dev/hvx", F_OK) == 0)
			return 0;
		sleep_ms(50);
	}
	return -ENOENT;
}
