// SPDX-License-Identifier: GPL-2.0
/*
 * The CPU hvx-run shows its guest, and its MSR policy.
 *
 * CPUID starts from the host's leaves and hides what this platform does
 * not have: no local APIC or x2APIC unless the APIC is in the kernel (the
 * kernel then sets those bits, the TSC-deadline timer and each vCPU's
 * APIC ID itself), each CPU a package of one core and one thread (the MP
 * table lists them), no machine-check, MTRR, performance-monitoring,
 * thermal or debug-store MSRs, no speculation-control MSRs, no RDTSCP/RDPID
 * (TSC_AUX is not switched), no SME/SEV, no TSC_ADJUST, MONITOR/MWAIT or
 * WAITPKG.  The hypervisor leaves are hvx-run's own ("hvxhvxhvxhvx"), so a
 * guest never mistakes hvx for another hypervisor.
 *
 * MSRs the kernel does not hold exit here.  The few that an operating
 * system reads without expecting a fault read as 0 and ignore writes
 * (table below); every other one raises #GP, which is what Linux's
 * rdmsr_safe()/wrmsr_safe() probes expect of a missing MSR.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hvx-run.h"

#define BIT(n)		(1U << (n))

struct cpuid_mask {
	__u32 function;
	__u32 clear[4];		/* EAX, EBX, ECX, EDX bits to clear */
};

static const struct cpuid_mask masks[] = {
	/* DS, ACPI (thermal), TM, PBE, MCE, MCA, MTRR, APIC, HTT */
	{ 1, { 0, 0,
	       /* DTES64, MONITOR, DS-CPL, VMX, SMX, EST, TM2, xTPR, PDCM, x2APIC, TSC-deadline */
	       BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) | BIT(8) | BIT(14) |
	       BIT(15) | BIT(21) | BIT(24),
	       BIT(7) | BIT(9) | BIT(12) | BIT(14) | BIT(21) | BIT(22) | BIT(28) | BIT(29) |
	       BIT(31) } },
	/* leaf 7: TSC_ADJUST, SGX, RDT-M, MPX, RDT-A, PT; WAITPKG, RDPID, ...; all of EDX */
	{ 7, { 0, BIT(1) | BIT(2) | BIT(12) | BIT(14) | BIT(15) | BIT(25),
	       BIT(5) | BIT(22) | BIT(30), ~0U } },
	/* SVM, extended APIC space, IBS, SKINIT, WDT, LWP, TCE, core/NB/L2 perf counters */
	{ 0x80000001, { 0, 0,
			BIT(2) | BIT(3) | BIT(10) | BIT(12) | BIT(13) | BIT(15) | BIT(17) |
			BIT(23) | BIT(24) | BIT(28),
			/* RDTSCP */
			BIT(27) } },
	/* power management: keep only the invariant TSC (EDX bit 8) */
	{ 0x80000007, { ~0U, ~0U, ~0U, ~BIT(8) } },
	/* speculation-control bits in EBX; one core (ECX) */
	{ 0x80000008, { 0, ~0U, ~0U, 0 } },
};

/* Leaves that read as zeros: thermal, perfmon, topology, RDT, SGX, PT, AMD topology, SME. */
static int zeroed(__u32 function)
{
	switch (function) {
	case 0x5: case 0x6: case 0xa: case 0xb: case 0xf: case 0x10: case 0x12: case 0x14:
	case 0x1f: case 0x8000001e: case 0x8000001f:
		return 1;
	}
	return function >= 0x40000000 && function < 0x80000000;
}

static void apply_masks(struct hvx_cpuid_entry *e)
{
	size_t i;

	for (i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		if (masks[i].function != e->function)
			continue;
		e->eax &= ~masks[i].clear[0];
		e->ebx &= ~masks[i].clear[1];
		e->ecx &= ~masks[i].clear[2];
		e->edx &= ~masks[i].clear[3];
	}
	if (e->function == 1)		/* APIC ID 0, one logical CPU, no CLFLUSH change */
		e->ebx &= 0x0000ffff;
	if (e->function == 4)		/* cores per package, threads per cache: 1 */
		e->eax &= 0x03ff;
	if (e->function == 7 && e->index != 0)
		e->eax = e->ebx = e->ecx = e->edx = 0;
}

int cpuid__setup(struct hvx_runner *r, struct hvx_vcpu *vcpu)
{
	struct hvx_cpuid_entry *e, *out;
	__u32 nent, i, n = 0;
	int ret;

	e = calloc(HVX_MAX_CPUID, sizeof(*e));
	if (!e) {
		fprintf(stderr, "hvx-run: out of memory for the CPUID table\n");
		return -1;
	}
	ret = hvx_cpuid_from_host(e, HVX_MAX_CPUID - 4, &nent);
	if (ret) {
		fprintf(stderr, "hvx-run: reading the host's CPUID leaves: %s\n", strerror(-ret));
		free(e);
		return -1;
	}
	out = e;
	for (i = 0; i < nent; i++) {
		if (zeroed(e[i].function) || (r->apic && e[i].function == 0x15))
			continue;
		out[n] = e[i];
		apply_masks(&out[n]);
		/* Leaf 0x15 is there for the APIC's timing (below). */
		if (r->apic && e[i].function == 0 && out[n].eax < 0x15)
			out[n].eax = 0x15;
		n++;
	}
	/*
	 * With the APIC in the kernel, leaf 0x15 is the kernel's: the TSC's
	 * ratio to the APIC timer's clock, which Linux reads on Intel CPUs
	 * instead of calibrating the TSC against the PIT.
	 */
	if (r->apic)
		out[n++] = (struct hvx_cpuid_entry){ .function = 0x15 };
	/*
	 * Our own hypervisor leaf range: the maximum leaf and the signature;
	 * with the APIC in the kernel, the timing leaf 0x40000010, which the
	 * kernel fills with the TSC's and the APIC timer's kHz.
	 */
	out[n++] = (struct hvx_cpuid_entry){
		.function = 0x40000000, .eax = r->apic ? 0x40000010 : 0x40000000,
	};
	memcpy(&out[n - 1].ebx, "hvxh", 4);
	memcpy(&out[n - 1].ecx, "vxhv", 4);
	memcpy(&out[n - 1].edx, "xhvx", 4);
	if (r->apic)
		out[n++] = (struct hvx_cpuid_entry){ .function = 0x40000010 };
	ret = hvx_vcpu_set_cpuid(vcpu, out, n);
	free(e);
	if (ret) {
		fprintf(stderr, "hvx-run: HVX_SET_CPUID (%u entries): %s\n", n, strerror(-ret));
		return -1;
	}
	return 0;
}

/* MSRs read as 0, writes ignored; each with the reason it is here. */
static const struct {
	__u32 index;
	const char *name;
} harmless_msrs[] = {
	{ 0x17, "IA32_PLATFORM_ID (Linux's microcode loader reads it)" },
	{ 0x8b, "IA32_BIOS_SIGN_ID / AMD patch level: no microcode" },
	{ 0x1a0, "IA32_MISC_ENABLE (Linux's early Intel set-up reads it unchecked)" },
	{ 0xc0010015, "AMD HWCR (read unchecked by Linux's AMD set-up)" },
	{ 0xc0010055, "AMD interrupt pending message: Linux's erratum 400 check reads it unchecked; 0 is C1E off" },
};

void msr__exit(struct hvx_runner *r, struct hvx_run *run)
{
	size_t i;

	for (i = 0; i < sizeof(harmless_msrs) / sizeof(harmless_msrs[0]); i++) {
		if (harmless_msrs[i].index == run->msr.index) {
			if (!run->msr.is_write)
				run->msr.data = 0;
			run->msr.error = 0;
			return;
		}
	}
	if (r->verbose)
		fprintf(stderr, "hvx-run: %s of unhandled MSR 0x%x at rip 0x%llx: #GP\n",
			run->msr.is_write ? "wrmsr" : "rdmsr", run->msr.index,
			(unsigned long long)run->rip);
	run->msr.error = 1;
}
