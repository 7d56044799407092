/* SPDX-License-Identifier: GPL-2.0 */
/* Loading and unloading kernel modules from the tests (hvx.ko, KVM). */
#ifndef HVX_SELFTEST_MODULES_H
#define HVX_SELFTEST_MODULES_H

#include <stdbool.h>

/* $HVX_KO, or /hvx/hvx.ko. */
const char *mod_hvx_ko(void);
/* $HVX_KVM_DIR, or /kvm. */
const char *mod_kvm_dir(void);

/* True if /sys/module/<name> exists (name with '_', as the kernel has it). */
bool mod_loaded(const char *name);
/* finit_module() of a .ko or .ko.xz file: 0 or -errno. */
int mod_load(const char *path);
/* The same with module parameters ("name=value ..."). */
int mod_load_params(const char *path, const char *params);
/* delete_module(name, O_NONBLOCK): 0 or -errno. */
int mod_unload(const char *name);
/* Unload, retrying busy results for up to ms milliseconds. */
int mod_unload_wait(const char *name, int ms);

/* Loads hvx from mod_hvx_ko() unless loaded; waits for /dev/hvx.  0 or -errno. */
int mod_ensure_hvx(void);
/* The loaded hvx's force_shadow parameter: 1, 0, or -errno. */
int mod_hvx_force_shadow(void);

#endif /* HVX_SELFTEST_MODULES_H */
