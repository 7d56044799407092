/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hvx: the generic-netlink ABI for statistics and events.
 *
 * Family HVX_GENL_NAME, version HVX_GENL_VERSION.  Commands:
 *
 *   HVX_CMD_GET_VM    dump: every VM the caller may see;
 *                     do, with HVX_A_VM_ID: that VM.
 *   HVX_CMD_GET_VCPU  dump, with HVX_A_VM_ID: that VM's vCPUs;
 *                     do, with HVX_A_VM_ID and HVX_A_VCPU_ID: one vCPU.
 *   HVX_CMD_EVENT     sent to the multicast group HVX_GENL_MCGRP_EVENTS.
 *
 * A caller without CAP_SYS_ADMIN sees only the VMs created by its own uid.
 * See Documentation/netlink.rst.
 */
#ifndef _UAPI_LINUX_HVX_GENL_H
#define _UAPI_LINUX_HVX_GENL_H

#define HVX_GENL_NAME		"hvx"
#define HVX_GENL_VERSION	1
#define HVX_GENL_MCGRP_EVENTS	"events"

enum hvx_genl_cmd {
	HVX_CMD_UNSPEC,
	HVX_CMD_GET_VM,
	HVX_CMD_GET_VCPU,
	HVX_CMD_EVENT,
	__HVX_CMD_MAX,
};

#define HVX_CMD_MAX (__HVX_CMD_MAX - 1)

enum hvx_genl_attr {
	HVX_A_UNSPEC,
	HVX_A_PAD,
	HVX_A_VM_ID,		/* u32 */
	HVX_A_VM_PID,		/* u32: thread group of the creator */
	HVX_A_VM_UID,		/* u32: uid of the creator */
	HVX_A_VM_NR_VCPUS,	/* u32 */
	HVX_A_VM_MEM_BYTES,	/* u64: guest RAM in memory slots */
	HVX_A_VM_PINNED_PAGES,	/* u64: guest pages pinned */
	HVX_A_VM_TABLE_PAGES,	/* u64: pages of page tables (NPT/EPT) */
	HVX_A_VM_PAGING,	/* u32: HVX_PAGING_* */
	HVX_A_VM_VENDOR,	/* u32: HVX_VENDOR_* */
	HVX_A_VM_STATS,		/* nest: HVX_STAT_* u64 totals of all vCPUs */
	HVX_A_VCPU_ID,		/* u32 */
	HVX_A_VCPU_STATS,	/* nest: HVX_STAT_* u64 counters */
	HVX_A_VCPU_RAW_EXITS,	/* nest: HVX_A_RAW_EXIT entries */
	HVX_A_RAW_EXIT,		/* nest: HVX_A_RAW_CODE, HVX_A_RAW_COUNT */
	HVX_A_RAW_CODE,		/* u32: vendor exit code (SVM EXITCODE) */
	HVX_A_RAW_COUNT,	/* u64 */
	HVX_A_EVENT_TYPE,	/* u32: HVX_GENL_EVENT_* */
	HVX_A_EVENT_DATA,	/* u64: detail, see HVX_GENL_EVENT_* */
	__HVX_A_MAX,
};

#define HVX_A_MAX (__HVX_A_MAX - 1)

/* HVX_A_EVENT_TYPE; events carry HVX_A_VM_ID and HVX_A_VM_UID too. */
enum hvx_genl_event {
	HVX_GENL_EVENT_VM_CREATED = 1,
	HVX_GENL_EVENT_VM_DESTROYED,
	HVX_GENL_EVENT_SHUTDOWN,	/* vCPU triple fault; HVX_A_VCPU_ID */
	HVX_GENL_EVENT_FAIL_ENTRY,	/* HVX_A_VCPU_ID; data: hardware reason */
	HVX_GENL_EVENT_INTERNAL_ERROR,	/* HVX_A_VCPU_ID; data: suberror */
};

/*
 * Counters, attribute types inside HVX_A_VCPU_STATS and HVX_A_VM_STATS
 * (all u64).  Exits are counted by vendor-neutral reason; the raw vendor
 * exit codes are in HVX_A_VCPU_RAW_EXITS.
 */
enum hvx_stat {
	HVX_STAT_UNSPEC,
	HVX_STAT_PAD,
	HVX_STAT_EXITS,			/* every exit from the guest */
	HVX_STAT_EXITS_KERNEL,		/* handled in the kernel, guest resumed */
	HVX_STAT_EXITS_USER,		/* returned to userspace */
	HVX_STAT_EXIT_IO_IN,		/* port I/O to userspace, by direction */
	HVX_STAT_EXIT_IO_OUT,
	HVX_STAT_EXIT_MMIO_READ,	/* MMIO to userspace, by direction */
	HVX_STAT_EXIT_MMIO_WRITE,
	HVX_STAT_EXIT_HLT,
	HVX_STAT_EXIT_SHUTDOWN,
	HVX_STAT_EXIT_HYPERCALL,
	HVX_STAT_EXIT_MSR_USER,		/* MSR access completed by userspace */
	HVX_STAT_EXIT_MSR_KERNEL,	/* MSR access handled in the kernel */
	HVX_STAT_EXIT_IRQ_WINDOW,
	HVX_STAT_EXIT_FAIL_ENTRY,
	HVX_STAT_EXIT_INTERNAL_ERROR,
	HVX_STAT_EXIT_SIGNAL,		/* RUN left for a pending signal */
	HVX_STAT_EXIT_CPUID,
	HVX_STAT_EXIT_HOST_INTR,	/* a host interrupt or NMI */
	HVX_STAT_EXIT_NPF,		/* nested page fault (NPT/EPT violation) */
	HVX_STAT_EXIT_OTHER,		/* any other reason */
	HVX_STAT_INJ_IRQ,		/* events injected, by kind */
	HVX_STAT_INJ_NMI,
	HVX_STAT_INJ_EXCEPTION,
	HVX_STAT_RUN_NS,		/* time spent in the guest */
	HVX_STAT_TLB_FLUSHES,		/* guest TLB flushes requested */
	HVX_STAT_PAGES_MAPPED,		/* NPT/EPT 4 KiB leaves filled */
	HVX_STAT_SHADOW_FILLS,		/* shadow paging: leaves filled */
	HVX_STAT_SHADOW_FLUSHES,	/* shadow paging: all tables dropped */
	HVX_STAT_SHADOW_TABLES,		/* shadow paging: most tables held at once */
	HVX_STAT_EXIT_APIC,		/* xAPIC page accesses handled in the kernel */
	HVX_STAT_HALT_NS,		/* time halted in the kernel (in-kernel APIC) */
	HVX_STAT_PAGES_MAPPED_2M,	/* NPT/EPT 2 MiB leaves filled (512 pages each) */
	__HVX_STAT_MAX,
};

#define HVX_STAT_MAX (__HVX_STAT_MAX - 1)

#endif /* _UAPI_LINUX_HVX_GENL_H */
