# SPDX-License-Identifier: GPL-2.0
#
# hvx top-level build.
#
#   make                 the module for every installed kernel with headers,
#                        libhvx, the tools, the flat guests, the example
#                        launchers, and the selftests when the kselftest
#                        headers are there (make setup)
#   make install         tools, libhvx, headers, man pages, udev rule, guests
#                        (PREFIX=/usr/local, DESTDIR=); make uninstall
#   make dkms-install    the module through DKMS (replaces any other version);
#                        make dkms-uninstall
#   make setup           (Debian 12, root) what the test rig needs
#   make check           the whole suite, in emulated machines
#   make demo            a Linux guest under hvx, in an emulated machine
#
# A user's build does not fail on warnings (a newer kernel or compiler may
# bring new ones).  STRICT=1, which `make check` sets, builds the module
# with W=1 and sparse and everything with -Werror.

BUILD	?= $(CURDIR)/build
override BUILD := $(abspath $(BUILD))
# Kernels to build for: every /lib/modules/<ver> with a build tree, under
# KROOT if given (the debug kernel's root: scripts/debug-kernel.sh).
KROOT	?=
KVERS	?= $(notdir $(patsubst %/build,%,$(wildcard $(KROOT)/lib/modules/*/build)))
# make check also runs the AMD suite on a debug kernel (KASAN, lockdep...).
DEBUG_KERNEL ?= 1
KMOD_SRC := Kbuild dkms.conf $(shell find kmod uapi -name '*.[chS]' 2>/dev/null)
STRICT	?= 0
# The version lives in dkms.conf only.
VERSION	:= $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)
KSFT	?= $(BUILD)/kernel-tools/tools/testing/selftests
HAVE_KSFT = $(wildcard $(KSFT)/kselftest_harness.h)

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
LIBDIR	?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR	?= $(PREFIX)/share/man
DATADIR	?= $(PREFIX)/share/hvx
# udev reads /usr/lib/udev/rules.d (packages) and /etc/udev/rules.d (local).
UDEVDIR	?= $(if $(filter /usr,$(PREFIX)),/usr/lib/udev/rules.d,/etc/udev/rules.d)

.PHONY: all modules userspace selftests examples setup check check-static check-dkms \
	check-user-build check-install unit rig-summary-test demo bench fuzz clean checkpatch \
	dkms-check debug-kernel debug-module \
	install uninstall dkms-install dkms-uninstall FORCE

all: modules userspace selftests examples

modules: $(foreach v,$(KVERS),$(BUILD)/$(v)/hvx.ko)

# Rebuild the module when STRICT changes.
$(BUILD)/.strict: FORCE
	@mkdir -p $(BUILD)
	@echo '$(STRICT)' | cmp -s - $@ || echo '$(STRICT)' >$@

# Kbuild writes its objects next to the sources, so each kernel gets its own
# copy of the tree (scripts/build-module.sh).
$(BUILD)/%/hvx.ko: $(KMOD_SRC) $(BUILD)/.strict
	+@KROOT=$(KROOT) scripts/build-module.sh $* $(BUILD)/$* $(STRICT)

userspace:
	$(MAKE) -C userspace BUILD=$(BUILD) STRICT=$(STRICT)

selftests: userspace
ifneq ($(HAVE_KSFT),)
	$(MAKE) -C selftests/hvx BUILD=$(BUILD) STRICT=$(STRICT) KSFT=$(KSFT)
else
	@echo "  SKIP    selftests: no kselftest_harness.h in $(KSFT) (make setup, or KSFT=<kernel tree>/tools/testing/selftests)"
endif

# The launchers of Documentation/tutorial.rst, into $(BUILD)/bin.
examples: userspace
	$(MAKE) -C examples BUILD=$(BUILD) STRICT=$(STRICT)

setup:
	scripts/setup.sh

# The whole suite, strict: static checks, host-side unit tests and the
# user-facing builds and installs first, then the DKMS-built module loaded
# and used in the emulated host, the demo, and last the selftests on every
# kernel, whose summary ends the output.  Two emulators at a time on two
# cores: QEMU (svm) and Bochs (vmx) runs.
check: STRICT := 1
check: all check-static check-install check-dkms $(if $(filter 1,$(DEBUG_KERNEL)),debug-kernel)
	scripts/rig.sh demo
	HVX_EXTRA_KROOT=$(if $(filter 1,$(DEBUG_KERNEL)),$$(scripts/debug-kernel.sh root)) \
		HVX_RIG_JOBS=$${HVX_RIG_JOBS:-2} scripts/rig.sh check

# The rig's debug kernel, built once per machine and cached outside the
# tree (scripts/debug-kernel.sh), and hvx.ko for it.
debug-kernel:
	scripts/debug-kernel.sh build >/dev/null
	$(MAKE) modules KROOT="$$(scripts/debug-kernel.sh root)" STRICT=$(STRICT)

# hvx.ko for the debug kernel if it is built; nothing otherwise.
debug-module:
	@root=$$(scripts/debug-kernel.sh root 2>/dev/null) || exit 0; \
	$(MAKE) modules KROOT="$$root" STRICT=$(STRICT)

check-static: rig-summary-test checkpatch unit check-user-build
	scripts/check-ioctl-magic.sh
	scripts/check-docs.py
	shellcheck scripts/*.sh scripts/rig/*.conf .ci/run

# The rig's counter of results (scripts/rig-summary.py), first: it takes
# under a second.
rig-summary-test:
	scripts/test_rig_summary.py

unit: userspace
	$(MAKE) -C userspace BUILD=$(BUILD) STRICT=$(STRICT) test

# A user's build of a fresh copy: no sparse, no kernel tools, no -Werror.
check-user-build:
	scripts/check-user-build.sh

# make install into a scratch DESTDIR, clients built with pkg-config only,
# the selftests built in a kernel tree, make uninstall.
check-install: all
	scripts/check-install.sh

check-dkms: all dkms-check
	HVX_USE_DKMS=1 HVX_VENDORS=svm HVX_TESTS="exits_test module_test" scripts/rig.sh check

demo: userspace $(BUILD)/$(firstword $(shell scripts/rig.sh kernels))/hvx.ko
	scripts/rig.sh demo

bench: all
	scripts/rig.sh bench

# The long fuzz run: a million ioctls and guest runs (fuzz_test) and
# 10,000 random guests per paging mode (guestfuzz_test) on every kernel,
# the debug kernel too once built (make debug-kernel), on the AMD machine
# unless HVX_VENDORS says otherwise.
FUZZ_CALLS ?= 1000000
FUZZ_GUESTS ?= 10000
fuzz: all debug-module
	HVX_EXTRA_KROOT=$$(scripts/debug-kernel.sh root 2>/dev/null) \
	HVX_VENDORS=$${HVX_VENDORS:-svm} HVX_TESTS="fuzz_test guestfuzz_test" \
		HVX_FUZZ_CALLS=$(FUZZ_CALLS) HVX_GUESTFUZZ_ITERS=$(FUZZ_GUESTS) \
		HVX_GUESTFUZZ_SEED=$${HVX_GUESTFUZZ_SEED:-$$(date +%s)} \
		HVX_FUZZ_SECS=$${HVX_FUZZ_SECS:-5400} HVX_TEST_TIMEOUT=$${HVX_TEST_TIMEOUT:-6000} \
		HVX_BOOT_TIMEOUT=$${HVX_BOOT_TIMEOUT:-7200} scripts/rig.sh check

checkpatch:
	scripts/checkpatch.sh

dkms-check:
	scripts/dkms-check.sh

dkms-install:
	scripts/dkms-install.sh install

dkms-uninstall:
	scripts/dkms-install.sh uninstall

# ---- make install / uninstall ----------------------------------------------

MANPAGES := userspace/run/hvx-run.1 $(wildcard userspace/stat/hvxstat.1)
GUEST_FILES := $(wildcard $(BUILD)/guests/*.bin) $(wildcard $(BUILD)/selftests/hvx/mbkernel.elf)
SOMAJOR	:= $(firstword $(subst ., ,$(VERSION)))

install: userspace
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR)/linux $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(DATADIR)/guests $(DESTDIR)$(UDEVDIR)
	install -m 755 $(BUILD)/bin/hvx-run $(BUILD)/bin/hvxstat $(DESTDIR)$(BINDIR)/
	install -m 644 $(BUILD)/lib/libhvx.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(BUILD)/lib/libhvx.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libhvx.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libhvx.so.$(SOMAJOR)
	ln -sf libhvx.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libhvx.so
	install -m 644 $(BUILD)/include/libhvx.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 uapi/linux/hvx.h uapi/linux/hvx_genl.h $(DESTDIR)$(INCLUDEDIR)/linux/
	for m in $(MANPAGES); do \
		sed 's/@VERSION@/$(VERSION)/g' $$m >$(DESTDIR)$(MANDIR)/man1/$$(basename $$m) && \
		chmod 644 $(DESTDIR)$(MANDIR)/man1/$$(basename $$m) || exit 1; \
	done
	$(if $(GUEST_FILES),install -m 644 $(GUEST_FILES) $(DESTDIR)$(DATADIR)/guests/)
	install -m 644 udev/60-hvx.rules $(DESTDIR)$(UDEVDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    userspace/lib/libhvx.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/libhvx.pc
	$(if $(DESTDIR),,-ldconfig)

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/hvx-run $(DESTDIR)$(BINDIR)/hvxstat \
	      $(DESTDIR)$(LIBDIR)/libhvx.a $(DESTDIR)$(LIBDIR)/libhvx.so \
	      $(DESTDIR)$(LIBDIR)/libhvx.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libhvx.so.$(VERSION) \
	      $(DESTDIR)$(LIBDIR)/pkgconfig/libhvx.pc $(DESTDIR)$(INCLUDEDIR)/libhvx.h \
	      $(DESTDIR)$(INCLUDEDIR)/linux/hvx.h $(DESTDIR)$(INCLUDEDIR)/linux/hvx_genl.h \
	      $(DESTDIR)$(MANDIR)/man1/hvx-run.1 $(DESTDIR)$(MANDIR)/man1/hvxstat.1 \
	      $(DESTDIR)$(UDEVDIR)/60-hvx.rules
	rm -rf $(DESTDIR)$(DATADIR)
	$(if $(DESTDIR),,-ldconfig)

clean:
	rm -rf $(BUILD)
