/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hvx: userspace ABI of the hvx hypervisor (/dev/hvx).
 *
 * The fd chain is /dev/hvx (system) -> VM fd -> vCPU fd.  Every structure
 * uses fixed-width types only, has explicit padding, and carries flags or
 * reserved fields that must be zero.  See Documentation/api.rst.
 */
#ifndef _UAPI_LINUX_HVX_H
#define _UAPI_LINUX_HVX_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define HVX_API_VERSION		1

/*
 * ioctl magic: one for the whole API, unregistered in the kernel's
 * Documentation/userspace-api/ioctl/ioctl-number.rst (see api.rst).
 */
#define HVXIO			0xBC

/* ---- Capabilities (HVX_CHECK_CAP) -------------------------------------- */

#define HVX_CAP_VENDOR		0	/* HVX_VENDOR_* */
#define HVX_CAP_PAGING_NESTED	1	/* 1 if NPT/EPT paging is available */
#define HVX_CAP_PAGING_SHADOW	2	/* 1 if shadow paging is available */
#define HVX_CAP_MAX_VCPUS	3	/* vCPUs per VM */
#define HVX_CAP_NR_MEMSLOTS	4	/* memory slots per VM */
#define HVX_CAP_MAX_MSRS	5	/* entries per HVX_STATE_MSRS request */
#define HVX_CAP_XSAVE_SIZE	6	/* bytes of the HVX_STATE_FPU buffer */
#define HVX_CAP_STATE_MASK	7	/* supported HVX_STATE_* bits */
#define HVX_CAP_MAX_CPUID	8	/* entries in a CPUID table */
#define HVX_CAP_NRIP_SAVE	9	/* 1 if the CPU reports the next RIP */
#define HVX_CAP_MAX_GPA_BITS	10	/* guest-physical address width */
#define HVX_CAP_UNRESTRICTED_GUEST 11	/* 1 if real mode and unpaged protected mode run */
#define HVX_CAP_SHADOW_REAL_MODE 12	/* real mode under shadow paging: HVX_REAL_MODE_* */
#define HVX_CAP_LAPIC		13	/* 1 if HVX_VM_LAPIC is available */
#define HVX_CAP_IOAPIC_PINS	14	/* pins of the HVX_VM_IOAPIC I/O APIC, 0: none */
#define HVX_CAP_TSC_KHZ		15	/* the guest TSC's frequency in kHz, 0: unknown */
#define HVX_CAP_STRING_IO_BATCH	16	/* bytes per batched string I/O exit, 0: none */
#define HVX_CAP_SYNC_REGS	17	/* HVX_STATE_* bits of the run page's registers area */
#define HVX_NR_CAPS		18

/* HVX_CAP_SHADOW_REAL_MODE values */
#define HVX_REAL_MODE_NONE	0	/* refused: EOPNOTSUPP */
#define HVX_REAL_MODE_FULL	1	/* any real-mode state runs */
/*
 * Run as virtual-8086 mode: segment bases must be selector * 16 with
 * 64 KiB limits; other states stop with HVX_INTERNAL_REAL_MODE.
 */
#define HVX_REAL_MODE_VM86	2

#define HVX_VENDOR_AMD		1
#define HVX_VENDOR_INTEL	2

struct hvx_capability {
	__u32 cap;		/* in: HVX_CAP_* */
	__u32 flags;		/* in: must be 0 */
	__u64 value;		/* out */
};

/* ---- VM creation ------------------------------------------------------- */

#define HVX_PAGING_AUTO		0
#define HVX_PAGING_NESTED	1
#define HVX_PAGING_SHADOW	2

/* MSRs the kernel does not virtualize raise #GP in the guest ... */
#define HVX_VM_MSR_UNHANDLED_GP	(1U << 0)
/* ... instead of exiting to userspace with HVX_EXIT_MSR (the default). */
/*
 * Every vCPU gets a local APIC in the kernel (xAPIC and x2APIC, timer,
 * IPIs, INIT/SIPI); HLT waits in the kernel for an interrupt.
 */
#define HVX_VM_LAPIC		(1U << 1)
/* ... and an I/O APIC at 0xfec00000 whose pins HVX_IRQ_LINE drives (needs LAPIC). */
#define HVX_VM_IOAPIC		(1U << 2)
/*
 * A REP INS/OUTS exits with as many items as fit io_data (io.count up to
 * rCX), not one item per exit.
 */
#define HVX_VM_STRING_IO_BATCH	(1U << 3)
#define HVX_VM_FLAGS_ALL	(HVX_VM_MSR_UNHANDLED_GP | HVX_VM_LAPIC | HVX_VM_IOAPIC | \
				 HVX_VM_STRING_IO_BATCH)

struct hvx_vm_create {
	__u32 paging;		/* HVX_PAGING_* */
	__u32 flags;		/* HVX_VM_* */
	__u64 reserved[3];	/* must be 0 */
};

/* ---- Memory regions ---------------------------------------------------- */

#define HVX_MEM_READONLY	(1U << 0)
#define HVX_MEM_FLAGS_ALL	HVX_MEM_READONLY

/* A region with size 0 removes the slot. */
struct hvx_memory_region {
	__u32 slot;
	__u32 flags;		/* HVX_MEM_* */
	__u64 guest_phys_addr;	/* page aligned */
	__u64 size;		/* page aligned; 0 removes the slot */
	__u64 userspace_addr;	/* page aligned */
	__u64 reserved[2];	/* must be 0 */
};

/* ---- vCPU creation ----------------------------------------------------- */

struct hvx_vcpu_create {
	__u32 id;		/* 0 .. HVX_CAP_MAX_VCPUS - 1, unique per VM */
	__u32 flags;		/* must be 0 */
	__u64 reserved[3];	/* must be 0 */
};

/* ---- vCPU state -------------------------------------------------------- */

struct hvx_regs {
	__u64 rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	__u64 r8, r9, r10, r11, r12, r13, r14, r15;
	__u64 rip, rflags;
};

/* Segment attributes in architectural (descriptor) terms. */
struct hvx_segment {
	__u64 base;
	__u32 limit;		/* byte granular: 0xffffffff for a flat 4G */
	__u16 selector;
	__u8  type;		/* descriptor type field, 4 bits */
	__u8  present;
	__u8  dpl;
	__u8  db;
	__u8  s;		/* 1: code/data, 0: system */
	__u8  l;
	__u8  g;
	__u8  avl;
	__u8  unusable;
	__u8  pad;
};

struct hvx_dtable {
	__u64 base;
	__u16 limit;
	__u16 pad[3];
};

struct hvx_sregs {
	struct hvx_segment cs, ds, es, fs, gs, ss, tr, ldt;
	struct hvx_dtable gdt, idt;
};

struct hvx_cregs {
	__u64 cr0, cr2, cr3, cr4, cr8;
	__u64 efer;
	__u64 xcr0;
	__u64 reserved;		/* must be 0 */
};

struct hvx_dregs {
	__u64 dr0, dr1, dr2, dr3, dr6, dr7;
	__u64 reserved[2];	/* must be 0 */
};

/* Events pending on the vCPU (not yet delivered to the guest). */
#define HVX_EVENTS_EXCEPTION	(1U << 0)	/* exception_* valid */
#define HVX_EVENTS_EXC_ERRCODE	(1U << 1)	/* exception has an error code */
#define HVX_EVENTS_NMI		(1U << 2)	/* an NMI is pending */
#define HVX_EVENTS_IRQ		(1U << 3)	/* irq_vector is pending */
#define HVX_EVENTS_NMI_MASKED	(1U << 4)	/* guest is inside its NMI handler */
#define HVX_EVENTS_SHADOW	(1U << 5)	/* STI/MOV SS interrupt shadow */
#define HVX_EVENTS_ALL		0x3f

struct hvx_events {
	__u32 flags;		/* HVX_EVENTS_* */
	__u8  exception_vector;
	__u8  irq_vector;
	__u16 pad;
	__u32 exception_error_code;
	__u32 pad2;
	__u64 reserved[2];	/* must be 0 */
};

struct hvx_msr_entry {
	__u32 index;
	__u32 reserved;		/* must be 0 */
	__u64 data;
};

/* Components of struct hvx_vcpu_state. */
#define HVX_STATE_REGS		(1ULL << 0)
#define HVX_STATE_SREGS		(1ULL << 1)
#define HVX_STATE_CREGS		(1ULL << 2)
#define HVX_STATE_DREGS		(1ULL << 3)
#define HVX_STATE_MSRS		(1ULL << 4)
#define HVX_STATE_FPU		(1ULL << 5)
#define HVX_STATE_EVENTS	(1ULL << 6)
#define HVX_STATE_LAPIC		(1ULL << 7)	/* HVX_VM_LAPIC VMs only */
#define HVX_STATE_ALL		0xffULL

/* What a vCPU with an in-kernel local APIC is doing (hvx_lapic_state). */
#define HVX_MP_RUNNABLE		0
#define HVX_MP_HALTED		1	/* in HLT, until an interrupt */
#define HVX_MP_WAIT_SIPI	2	/* after INIT, until a SIPI */

/*
 * The local APIC: IA32_APIC_BASE, IA32_TSC_DEADLINE and the registers as
 * the first KiB of the xAPIC page lays them out (register at offset o in
 * regs[o / 4]; in x2APIC mode ID holds the 32-bit x2APIC ID).  On SET_STATE
 * the timer restarts from the current-count register (0x390).
 */
struct hvx_lapic_state {
	__u64 apic_base;
	__u64 tsc_deadline;
	__u32 mp_state;		/* HVX_MP_* */
	__u32 flags;		/* must be 0 */
	__u64 reserved[5];	/* must be 0 */
	__u32 regs[256];
};

/* Limit of nmsrs (HVX_CAP_MAX_MSRS). */
#define HVX_MAX_MSRS		64
/* Size of the FPU buffer: the standard-format XSAVE area (HVX_CAP_XSAVE_SIZE). */
#define HVX_XSAVE_SIZE		4096

struct hvx_vcpu_state {
	__u64 components;	/* HVX_STATE_* to read or write */
	__u64 flags;		/* must be 0 */
	struct hvx_regs regs;
	struct hvx_sregs sregs;
	struct hvx_cregs cregs;
	struct hvx_dregs dregs;
	struct hvx_events events;
	__u32 nmsrs;		/* HVX_STATE_MSRS: entries at msrs */
	__u32 pad;
	__u64 msrs;		/* HVX_STATE_MSRS: struct hvx_msr_entry[nmsrs] */
	__u64 xsave;		/* HVX_STATE_FPU: HVX_XSAVE_SIZE-byte XSAVE image */
	__u64 lapic;		/* HVX_STATE_LAPIC: struct hvx_lapic_state */
	__u64 reserved[3];	/* must be 0 */
};

/* ---- Event injection --------------------------------------------------- */

#define HVX_EVENT_EXTINT	0	/* external interrupt, vector 32..255 */
#define HVX_EVENT_NMI		1
#define HVX_EVENT_EXCEPTION	2	/* vector 0..30, not 2 */

#define HVX_EVENT_HAS_ERRCODE	(1U << 0)

struct hvx_event {
	__u32 type;		/* HVX_EVENT_* */
	__u32 vector;
	__u32 error_code;	/* with HVX_EVENT_HAS_ERRCODE */
	__u32 flags;
	__u64 reserved[2];	/* must be 0 */
};

/*
 * A message signalled interrupt (HVX_SIGNAL_MSI, VM fd), as a device
 * writes it: address 0xfeeXXXXX with the destination ID in bits 19:12
 * (bits 31:8 of an x2APIC ID in address bits 63:40) and the logical
 * destination mode in bit 2; data with the vector in bits 7:0, the
 * delivery mode in 10:8 and level trigger in bit 15.
 */
struct hvx_msi {
	__u64 address;
	__u32 data;
	__u32 flags;		/* must be 0 */
	__u64 reserved[2];	/* must be 0 */
};

/* An I/O APIC pin's level (HVX_IRQ_LINE, VM fd): 1 high, 0 low. */
struct hvx_irq_line {
	__u32 pin;		/* 0 .. HVX_CAP_IOAPIC_PINS - 1 */
	__u32 level;		/* 0 or 1 */
	__u32 flags;		/* must be 0 */
	__u32 pad;		/* must be 0 */
	__u64 reserved[2];	/* must be 0 */
};

/* The I/O APIC (HVX_GET_IOAPIC, HVX_SET_IOAPIC; VM fd). */
struct hvx_ioapic_state {
	__u32 id;		/* bits 27:24 of the ID register, 0-15 */
	__u32 regsel;		/* IOREGSEL */
	__u32 lines;		/* pins held high by HVX_IRQ_LINE, a bit each */
	__u32 flags;		/* must be 0 */
	__u64 rte[24];		/* the redirection table, remote IRR included */
	__u64 reserved[4];	/* must be 0 */
};

/* ---- CPUID table ------------------------------------------------------- */

#define HVX_CPUID_SIGNIFICANT_INDEX	(1U << 0)
#define HVX_MAX_CPUID		256

struct hvx_cpuid_entry {
	__u32 function;
	__u32 index;
	__u32 flags;		/* HVX_CPUID_* */
	__u32 eax, ebx, ecx, edx;
	__u32 reserved;		/* must be 0 */
};

struct hvx_cpuid {
	__u32 nent;		/* <= HVX_MAX_CPUID */
	__u32 flags;		/* must be 0 */
	__u64 entries;		/* struct hvx_cpuid_entry[nent] */
	__u64 reserved[2];	/* must be 0 */
};

/* ---- The run page (mmap of a vCPU fd, HVX_GET_VCPU_MMAP_SIZE bytes) ----- */

#define HVX_EXIT_NONE		0
#define HVX_EXIT_IO		1
#define HVX_EXIT_MMIO		2
#define HVX_EXIT_HLT		3
#define HVX_EXIT_SHUTDOWN	4
#define HVX_EXIT_HYPERCALL	5
#define HVX_EXIT_MSR		6
#define HVX_EXIT_IRQ_WINDOW	7
#define HVX_EXIT_FAIL_ENTRY	8
#define HVX_EXIT_INTERNAL_ERROR	9
#define HVX_EXIT_INTR		10

#define HVX_IO_IN		0
#define HVX_IO_OUT		1

/* HVX_EXIT_INTERNAL_ERROR suberrors */
/* data[0]: vendor exit code, data[1]: its first qualification (EXITINFO1) */
#define HVX_INTERNAL_UNKNOWN_EXIT	1
/*
 * data[0]: linear address of the instruction, data[1]: gpa of its first
 * unreadable byte, or ~0 if the guest's page tables do not map it
 */
#define HVX_INTERNAL_FETCH		2
/* data[0]: linear address of the INS/OUTS data outside guest RAM */
#define HVX_INTERNAL_STRING_IO		3
/* data[0]: gpa whose page cannot be pinned, data[1]: its user address */
#define HVX_INTERNAL_MEMORY		4
/*
 * The CPU's walk of the guest's page tables reached a gpa outside guest
 * RAM (or wrote A/D bits to read-only memory): data[0]: that gpa,
 * data[1]: 1 for a write
 */
#define HVX_INTERNAL_PT_WALK		5
/*
 * An access to the xAPIC page by an instruction the kernel does not
 * emulate (only MOV to and from a register, and MOV of an immediate):
 * data[0]: the gpa, data[1]: linear address of the instruction
 */
#define HVX_INTERNAL_APIC_ACCESS	6
/*
 * Real mode under shadow paging on Intel (HVX_REAL_MODE_VM86) met what
 * virtual-8086 mode cannot run: data[0]: the segment register (0-5: ES,
 * CS, SS, DS, FS, GS, the SDM's numbering) whose base is not its
 * selector * 16 or whose limit is not 0xffff, or ~0 for an instruction
 * not emulated there; data[1]: linear address of the instruction
 */
#define HVX_INTERNAL_REAL_MODE		7

#define HVX_IO_DATA_SIZE	1024	/* bytes of run->io_data */

struct hvx_run {
	/* in */
	__u8  request_interrupt_window;
	__u8  immediate_exit;
	__u8  pad_in[6];
	/* out */
	__u8  if_flag;			/* guest RFLAGS.IF */
	__u8  ready_for_interrupt;	/* an HVX_EVENT_EXTINT would be taken now */
	__u8  pad_out[2];
	__u32 exit_reason;		/* HVX_EXIT_* */
	__u64 rip;			/* guest RIP at the exit */
	__u64 reserved[4];
	union {
		/* HVX_EXIT_IO: data in io_data; IN data is written by userspace */
		struct {
			__u8  direction;	/* HVX_IO_IN / HVX_IO_OUT */
			__u8  size;		/* 1, 2 or 4 */
			__u16 port;
			__u32 count;		/* items of size bytes in io_data: 1, */
						/* more with HVX_VM_STRING_IO_BATCH */
			__u8  string;		/* INS/OUTS */
			__u8  rep;
			__u8  pad[6];
		} io;
		/* HVX_EXIT_MMIO: the instruction is not decoded by the kernel */
		struct {
			__u64 gpa;
			__u64 gva;		/* linear address of the instruction */
			__u8  is_write;
			__u8  insn_len;		/* valid bytes in insn */
			__u8  len;		/* access size if known, else 0 */
			__u8  pad[5];
			__u8  data[8];		/* write data if len != 0 */
			__u8  insn[16];
		} mmio;
		/* HVX_EXIT_HYPERCALL: VMMCALL/VMCALL; ret is written to RAX */
		struct {
			__u64 nr;		/* RAX */
			__u64 args[5];		/* RBX, RCX, RDX, RSI, RDI */
			__u64 ret;
		} hypercall;
		/* HVX_EXIT_MSR: userspace sets data (reads) or error */
		struct {
			__u32 index;
			__u8  is_write;
			__u8  error;		/* in: 1 injects #GP */
			__u8  pad[2];
			__u64 data;
		} msr;
		/* HVX_EXIT_FAIL_ENTRY */
		struct {
			__u64 hardware_reason;	/* VMCB exit code / VM-instruction error */
			__u32 cpu;
			__u32 pad;
		} fail_entry;
		/* HVX_EXIT_INTERNAL_ERROR */
		struct {
			__u32 suberror;		/* HVX_INTERNAL_* */
			__u32 ndata;
			__u64 data[8];
		} internal;
		__u8 exit_pad[256];
	};
	__u8 io_data[HVX_IO_DATA_SIZE];
	/*
	 * The registers area (HVX_CAP_SYNC_REGS): the components set in
	 * sync_valid are written here at every return from HVX_RUN; those
	 * set in sync_dirty are loaded from here, as HVX_SET_STATE loads
	 * them, when HVX_RUN starts, and the bits cleared.
	 */
	__u64 sync_valid;		/* in: HVX_STATE_REGS, _SREGS, _CREGS */
	__u64 sync_dirty;		/* in: HVX_STATE_REGS, _SREGS, _CREGS */
	struct hvx_regs sync_regs;
	struct hvx_sregs sync_sregs;
	struct hvx_cregs sync_cregs;
};

/* ---- ioctls ------------------------------------------------------------ */

/* /dev/hvx */
#define HVX_GET_API_VERSION	_IO(HVXIO, 0x00)
#define HVX_CHECK_CAP		_IOWR(HVXIO, 0x01, struct hvx_capability)
#define HVX_CREATE_VM		_IOW(HVXIO, 0x02, struct hvx_vm_create)
#define HVX_GET_VCPU_MMAP_SIZE	_IO(HVXIO, 0x03)

/* VM fd */
#define HVX_SET_MEMORY_REGION	_IOW(HVXIO, 0x10, struct hvx_memory_region)
#define HVX_CREATE_VCPU		_IOW(HVXIO, 0x11, struct hvx_vcpu_create)
#define HVX_SIGNAL_MSI		_IOW(HVXIO, 0x12, struct hvx_msi)
#define HVX_IRQ_LINE		_IOW(HVXIO, 0x13, struct hvx_irq_line)
#define HVX_GET_IOAPIC		_IOR(HVXIO, 0x14, struct hvx_ioapic_state)
#define HVX_SET_IOAPIC		_IOW(HVXIO, 0x15, struct hvx_ioapic_state)

/* vCPU fd */
#define HVX_RUN			_IO(HVXIO, 0x20)
#define HVX_GET_STATE		_IOWR(HVXIO, 0x21, struct hvx_vcpu_state)
#define HVX_SET_STATE		_IOW(HVXIO, 0x22, struct hvx_vcpu_state)
#define HVX_INJECT_EVENT	_IOW(HVXIO, 0x23, struct hvx_event)
#define HVX_SET_CPUID		_IOW(HVXIO, 0x24, struct hvx_cpuid)

/* The layout is the ABI: pinned at compile time (C11/C++11 and up). */
#ifdef __KERNEL__
#include <linux/build_bug.h>
#define HVX_ABI_CHECKS 1
#elif defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L)
#include <assert.h>
#define HVX_ABI_CHECKS 1
#endif

#ifdef HVX_ABI_CHECKS

static_assert(sizeof(struct hvx_capability) == 16, "abi");
static_assert(sizeof(struct hvx_vm_create) == 32, "abi");
static_assert(sizeof(struct hvx_memory_region) == 48, "abi");
static_assert(sizeof(struct hvx_vcpu_create) == 32, "abi");
static_assert(sizeof(struct hvx_regs) == 144, "abi");
static_assert(sizeof(struct hvx_segment) == 24, "abi");
static_assert(sizeof(struct hvx_dtable) == 16, "abi");
static_assert(sizeof(struct hvx_sregs) == 224, "abi");
static_assert(sizeof(struct hvx_cregs) == 64, "abi");
static_assert(sizeof(struct hvx_dregs) == 64, "abi");
static_assert(sizeof(struct hvx_events) == 32, "abi");
static_assert(sizeof(struct hvx_msr_entry) == 16, "abi");
static_assert(sizeof(struct hvx_vcpu_state) == 600, "abi");
static_assert(sizeof(struct hvx_event) == 32, "abi");
static_assert(sizeof(struct hvx_lapic_state) == 1088, "abi");
static_assert(sizeof(struct hvx_msi) == 32, "abi");
static_assert(sizeof(struct hvx_irq_line) == 32, "abi");
static_assert(sizeof(struct hvx_ioapic_state) == 240, "abi");
static_assert(sizeof(struct hvx_cpuid_entry) == 32, "abi");
static_assert(sizeof(struct hvx_cpuid) == 32, "abi");
static_assert(sizeof(struct hvx_run) == 56 + 256 + HVX_IO_DATA_SIZE + 16 + 144 + 224 + 64,
	      "abi");
#endif

#endif /* _UAPI_LINUX_HVX_H */
