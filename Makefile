# SPDX-License-Identifier: GPL-2.0
#
# hvx top-level build.  `make` builds the module for every installed kernel
# that has headers, the userspace tools, the example launchers and the
# selftests; `make check` runs the whole suite in emulated hardware;
# `make demo` runs a guest.

BUILD	?= $(CURDIR)/build
# Kernels to build for: every /lib/modules/<ver> with a build tree.
KVERS	?= $(notdir $(patsubst %/build,%,$(wildcard /lib/modules/*/build)))
KMOD_SRC := Kbuild $(shell find kmod uapi -name '*.[chS]' 2>/dev/null)

.PHONY: all modules userspace selftests examples setup check check-static check-dkms unit demo bench \
	clean checkpatch dkms-check

all: modules userspace selftests examples

modules: $(foreach v,$(KVERS),$(BUILD)/$(v)/hvx.ko)

# Kbuild writes its objects next to the sources, so each kernel gets its own
# copy of the tree.  W=1 and C=1 (sparse) run on every build; any warning
# fails it (scripts/build-module.sh).
$(BUILD)/%/hvx.ko: $(KMOD_SRC)
	+@scripts/build-module.sh $* $(BUILD)/$*

userspace:
	$(MAKE) -C userspace BUILD=$(BUILD)

selftests: userspace
	$(MAKE) -C selftests/hvx BUILD=$(BUILD)

# The launchers of Documentation/tutorial.rst, into $(BUILD)/bin.
examples: userspace
	$(MAKE) -C examples BUILD=$(BUILD)

setup:
	scripts/setup.sh

# The whole suite: static checks and host-side unit tests first, then the
# DKMS-built module loaded and used in the emulated host, and last the
# selftests on every kernel, whose summary ends the output.
# Two emulators at a time on two cores: QEMU (svm) and Bochs (vmx) runs.
check: all check-static check-dkms
	HVX_RIG_JOBS=$${HVX_RIG_JOBS:-2} scripts/rig.sh check

check-static: checkpatch unit

unit: userspace
	$(MAKE) -C userspace BUILD=$(BUILD) test

check-dkms: all dkms-check
	HVX_USE_DKMS=1 HVX_VENDORS=svm HVX_TESTS="exits_test module_test" scripts/rig.sh check

demo: all
	scripts/rig.sh demo

bench: all
	scripts/rig.sh bench

checkpatch:
	scripts/checkpatch.sh

dkms-check:
	scripts/dkms-check.sh

clean:
	rm -rf $(BUILD)
