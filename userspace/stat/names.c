// SPDX-License-Identifier: GPL-2.0
/*
 * hvxstat: names of counters, vendor exit codes and events.
 */
#include <linux/hvx.h>

#include "hvxstat.h"

/* Vendor-neutral, derived from HVX_STAT_*: the names hvxstat prints. */
static const char *const stat_names[HVX_STAT_MAX + 1] = {
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

const char *names__stat(unsigned int stat)
{
	return stat <= HVX_STAT_MAX ? stat_names[stat] : NULL;
}

/* SVM EXITCODEs 0x60 and up, APM vol. 2 appendix C, table C-1. */
static const char *const svm_exit_names[] = {
	[0x60] = "intr",		[0x61] = "nmi",
	[0x62] = "smi",			[0x63] = "init",
	[0x64] = "vintr",		[0x65] = "cr0_sel_write",
	[0x66] = "idtr_read",		[0x67] = "gdtr_read",
	[0x68] = "ldtr_read",		[0x69] = "tr_read",
	[0x6a] = "idtr_write",		[0x6b] = "gdtr_write",
	[0x6c] = "ldtr_write",		[0x6d] = "tr_write",
	[0x6e] = "rdtsc",		[0x6f] = "rdpmc",
	[0x70] = "pushf",		[0x71] = "popf",
	[0x72] = "cpuid",		[0x73] = "rsm",
	[0x74] = "iret",		[0x75] = "swint",
	[0x76] = "invd",		[0x77] = "pause",
	[0x78] = "hlt",			[0x79] = "invlpg",
	[0x7a] = "invlpga",		[0x7b] = "ioio",
	[0x7c] = "msr",			[0x7d] = "task_switch",
	[0x7e] = "ferr_freeze",		[0x7f] = "shutdown",
	[0x80] = "vmrun",		[0x81] = "vmmcall",
	[0x82] = "vmload",		[0x83] = "vmsave",
	[0x84] = "stgi",		[0x85] = "clgi",
	[0x86] = "skinit",		[0x87] = "rdtscp",
	[0x88] = "icebp",		[0x89] = "wbinvd",
	[0x8a] = "monitor",		[0x8b] = "mwait",
	[0x8c] = "mwait_cond",		[0x8d] = "xsetbv",
	[0x8e] = "rdpru",		[0x8f] = "efer_write_trap",
	[0xa0] = "invlpgb",		[0xa1] = "invlpgb_illegal",
	[0xa2] = "invpcid",		[0xa3] = "mcommit",
	[0xa4] = "tlbsync",		[0xa5] = "buslock",
	[0xa6] = "idle_hlt",
};

/* Exception vectors, for EXITCODEs 0x40-0x5f. */
static const char *const vector_names[32] = {
	"de", "db", "nmi", "bp", "of", "br", "ud", "nm", "df", NULL, "ts", "np",
	"ss", "gp", "pf", NULL, "mf", "ac", "mc", "xf", "ve", "cp", NULL, NULL,
	NULL, NULL, NULL, NULL, "hv", "vc", "sx", NULL,
};

/* The name of an SVM exit code in @buf or a constant string; NULL if unknown. */
const char *names__svm_exit(uint32_t code, char *buf, size_t len)
{
	unsigned int n = code & 0xf;

	if (code < 0x10) {
		snprintf(buf, len, "cr%u_read", n);
		return buf;
	}
	if (code < 0x20) {
		snprintf(buf, len, "cr%u_write", n);
		return buf;
	}
	if (code < 0x30) {
		snprintf(buf, len, "dr%u_read", n);
		return buf;
	}
	if (code < 0x40) {
		snprintf(buf, len, "dr%u_write", n);
		return buf;
	}
	if (code < 0x60) {
		if (vector_names[code - 0x40])
			snprintf(buf, len, "excp_%s", vector_names[code - 0x40]);
		else
			snprintf(buf, len, "excp_%u", code - 0x40);
		return buf;
	}
	if (code >= 0x90 && code < 0xa0) {
		snprintf(buf, len, "cr%u_write_trap", n);
		return buf;
	}
	if (code < sizeof(svm_exit_names) / sizeof(svm_exit_names[0]))
		return svm_exit_names[code];
	switch (code) {
	case 0x400:
		return "npf";
	case 0x401:
		return "avic_incomplete_ipi";
	case 0x402:
		return "avic_noaccel";
	case 0x403:
		return "vmgexit";
	case 0xffffffff:
		return "invalid";
	case 0xfffffffe:
		return "busy";
	}
	return NULL;
}

/* VMX basic exit reasons, SDM vol. 3D appendix C. */
static const char *const vmx_exit_names[] = {
	[0] = "exception_nmi",		[1] = "external_interrupt",
	[2] = "triple_fault",		[3] = "init",
	[4] = "sipi",			[5] = "io_smi",
	[6] = "other_smi",		[7] = "interrupt_window",
	[8] = "nmi_window",		[9] = "task_switch",
	[10] = "cpuid",			[11] = "getsec",
	[12] = "hlt",			[13] = "invd",
	[14] = "invlpg",		[15] = "rdpmc",
	[16] = "rdtsc",			[17] = "rsm",
	[18] = "vmcall",		[19] = "vmclear",
	[20] = "vmlaunch",		[21] = "vmptrld",
	[22] = "vmptrst",		[23] = "vmread",
	[24] = "vmresume",		[25] = "vmwrite",
	[26] = "vmxoff",		[27] = "vmxon",
	[28] = "cr_access",		[29] = "dr_access",
	[30] = "io",			[31] = "rdmsr",
	[32] = "wrmsr",			[33] = "invalid_guest_state",
	[34] = "msr_loading",		[36] = "mwait",
	[37] = "monitor_trap_flag",	[39] = "monitor",
	[40] = "pause",			[41] = "machine_check",
	[43] = "tpr_below_threshold",	[44] = "apic_access",
	[45] = "virtualized_eoi",	[46] = "gdtr_idtr",
	[47] = "ldtr_tr",		[48] = "ept_violation",
	[49] = "ept_misconfig",		[50] = "invept",
	[51] = "rdtscp",		[52] = "preemption_timer",
	[53] = "invvpid",		[54] = "wbinvd",
	[55] = "xsetbv",		[56] = "apic_write",
	[57] = "rdrand",		[58] = "invpcid",
	[59] = "vmfunc",		[60] = "encls",
	[61] = "rdseed",		[62] = "pml_full",
	[63] = "xsaves",		[64] = "xrstors",
	[65] = "pconfig",		[66] = "spp",
	[67] = "umwait",		[68] = "tpause",
	[69] = "loadiwkey",		[70] = "enclv",
	[72] = "enqcmd_pasid",		[73] = "enqcmds_pasid",
	[74] = "bus_lock",		[75] = "notify",
	[76] = "seamcall",		[77] = "tdcall",
	[78] = "rdmsrlist",		[79] = "wrmsrlist",
};

/* The name of a VMX basic exit reason; NULL if unknown. */
static const char *names__vmx_exit(uint32_t code)
{
	if (code < sizeof(vmx_exit_names) / sizeof(vmx_exit_names[0]))
		return vmx_exit_names[code];
	return NULL;
}

const char *names__exit(uint32_t vendor, uint32_t code, char *buf, size_t len)
{
	if (vendor == HVX_VENDOR_INTEL)
		return names__vmx_exit(code);
	if (vendor == HVX_VENDOR_AMD)
		return names__svm_exit(code, buf, len);
	return NULL;
}

const char *names__paging(uint32_t paging)
{
	switch (paging) {
	case HVX_PAGING_NESTED:
		return "nested";
	case HVX_PAGING_SHADOW:
		return "shadow";
	}
	return "unknown";
}

const char *names__vendor(uint32_t vendor)
{
	switch (vendor) {
	case HVX_VENDOR_AMD:
		return "amd";
	case HVX_VENDOR_INTEL:
		return "intel";
	}
	return "unknown";
}

const char *names__event(uint32_t type)
{
	switch (type) {
	case HVX_GENL_EVENT_VM_CREATED:
		return "created";
	case HVX_GENL_EVENT_VM_DESTROYED:
		return "destroyed";
	case HVX_GENL_EVENT_SHUTDOWN:
		return "shutdown";
	case HVX_GENL_EVENT_FAIL_ENTRY:
		return "fail-entry";
	case HVX_GENL_EVENT_INTERNAL_ERROR:
		return "internal-error";
	}
	return NULL;
}
