/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libhvx: thin userspace wrappers around the /dev/hvx ioctl API, guest
 * entry-mode setup and the MMIO instruction decode assist.
 *
 * Every function that can fail returns 0 or a negative errno; none of them
 * prints anything or keeps global state.
 */
#ifndef LIBHVX_H
#define LIBHVX_H

#include <stddef.h>
#include <linux/types.h>
#include <linux/hvx.h>

#define HVX_DEVICE_PATH		"/dev/hvx"

struct hvx_sys {
	int fd;
};

struct hvx_vm {
	int fd;
	struct hvx_sys *sys;
};

struct hvx_vcpu {
	int fd;
	unsigned int id;
	struct hvx_run *run;	/* the mmap'd run page */
	size_t run_size;
};

/* ---- System, VM and vCPU fds ----------------------------------------- */

/* Opens /dev/hvx and checks HVX_GET_API_VERSION == HVX_API_VERSION (-EPROTO if not). */
int hvx_open(struct hvx_sys *sys);
void hvx_close(struct hvx_sys *sys);
int hvx_check_cap(struct hvx_sys *sys, __u32 cap, __u64 *value);

int hvx_vm_create(struct hvx_sys *sys, struct hvx_vm *vm, __u32 paging, __u32 flags);
void hvx_vm_destroy(struct hvx_vm *vm);
/* size 0 removes the slot; gpa, size and uaddr must be page aligned. */
int hvx_vm_set_region(struct hvx_vm *vm, __u32 slot, __u32 flags, __u64 gpa, __u64 size,
		      void *uaddr);

/* Creates vCPU `id` and mmaps its run page (HVX_GET_VCPU_MMAP_SIZE bytes). */
int hvx_vcpu_create(struct hvx_vm *vm, __u32 id, struct hvx_vcpu *vcpu);
void hvx_vcpu_destroy(struct hvx_vcpu *vcpu);
/* 0 with vcpu->run->exit_reason set, or -errno (-EINTR: signal or immediate_exit). */
int hvx_vcpu_run(struct hvx_vcpu *vcpu);
/* Reads/writes the HVX_STATE_* components given (st->components is set from it). */
int hvx_vcpu_get_state(struct hvx_vcpu *vcpu, struct hvx_vcpu_state *st, __u64 components);
int hvx_vcpu_set_state(struct hvx_vcpu *vcpu, struct hvx_vcpu_state *st, __u64 components);
int hvx_vcpu_inject(struct hvx_vcpu *vcpu, __u32 type, __u32 vector, __u32 flags,
		    __u32 error_code);
int hvx_vcpu_set_cpuid(struct hvx_vcpu *vcpu, const struct hvx_cpuid_entry *e, __u32 nent);

/*
 * Fills e[] (room for max entries) with the host's own CPUID leaves, basic
 * and extended, with the sub-leaves of the indexed leaves; *nent gets the
 * count.  The kernel masks what it cannot virtualize when the table is set.
 * -ENOSPC if max is too small.
 */
int hvx_cpuid_from_host(struct hvx_cpuid_entry *e, __u32 max, __u32 *nent);

/* "IO", "MMIO", ...; "UNKNOWN" for a value outside HVX_EXIT_*. */
const char *hvx_exit_name(__u32 exit_reason);

/* ---- Guest entry modes -------------------------------------------------- */

/*
 * Layout of the reserved area at the bottom of guest RAM, used by
 * HVX_MODE_PROT32 and HVX_MODE_LONG (guests load at >= HVX_GUEST_LOAD_MIN):
 *
 *   0x1000  GDT: 0x08 64-bit code, 0x10 32-bit code, 0x18 flat data,
 *                0x20 64-bit TSS (two slots); the TSS itself at 0x1800
 *   0x2000  PML4 (entry 0 -> PDPT)
 *   0x3000  PDPT (entries 0..3 -> the four PDs)
 *   0x4000  four page directories of 2 MiB pages: identity map of 0..4 GiB
 *
 * All mappings are present, writable and user; nothing is NX.  The IDT is
 * empty (limit 0): any exception shuts the guest down (triple fault).
 */
#define HVX_LAYOUT_GDT		0x1000ULL
#define HVX_LAYOUT_TSS		0x1800ULL
#define HVX_LAYOUT_PML4		0x2000ULL
#define HVX_LAYOUT_PDPT		0x3000ULL
#define HVX_LAYOUT_PD		0x4000ULL
#define HVX_LAYOUT_END		0x8000ULL
#define HVX_GUEST_LOAD_MIN	HVX_LAYOUT_END
#define HVX_LAYOUT_MAP_SIZE	(4ULL << 30)	/* identity-mapped in long mode */

#define HVX_SEL_CODE64		0x08
#define HVX_SEL_CODE32		0x10
#define HVX_SEL_DATA		0x18
#define HVX_SEL_TSS		0x20

enum hvx_mode {
	/*
	 * Real mode, no tables written.  entry must be below 1 MiB: CS, DS, ES,
	 * FS, GS get selector (entry >> 4) & 0xf000 (base entry & 0xf0000) and
	 * IP = entry & 0xffff.  A non-zero stack sets SS the same way from the
	 * stack address and SP = stack & 0xffff.
	 */
	HVX_MODE_REAL,
	/* 32-bit protected mode, flat 4 GiB CS (0x10) and data (0x18), paging off. */
	HVX_MODE_PROT32,
	/*
	 * 64-bit long mode: CS 0x08, data 0x18, CR3 = the identity map above,
	 * CR0 PE|MP|ET|NE|WP|PG, CR4 PAE|OSFXSR|OSXMMEXCPT, EFER LME|LMA.
	 * entry must be below 4 GiB.
	 */
	HVX_MODE_LONG,
};

/*
 * Writes what mode needs into guest RAM `mem` (mem_size bytes at guest
 * physical 0) and edits st (REGS, SREGS and CREGS; other fields untouched)
 * for entry at `entry` with RSP = stack (0 leaves RSP as it is in st).
 * Does no ioctl: usable by other hypervisor clients too.  -EINVAL for an
 * entry the mode cannot reach or RAM too small for the tables (the PROT32
 * and LONG modes need mem_size >= HVX_LAYOUT_END).
 */
int hvx_mode_prepare(void *mem, __u64 mem_size, enum hvx_mode mode, __u64 entry, __u64 stack,
		     struct hvx_vcpu_state *st);

/*
 * hvx_mode_prepare() on the vCPU's current state, then HVX_SET_STATE of
 * REGS|SREGS|CREGS.  Returns 0 or -errno.
 */
int hvx_setup_mode(struct hvx_vcpu *vcpu, void *mem, __u64 mem_size, enum hvx_mode mode,
		   __u64 entry, __u64 stack);

/* ---- MMIO decode assist --------------------------------------------------- */

/*
 * Performs one guest access of len bytes at gpa: for a write, data holds
 * the bytes to store; for a read, fill data.  Returns 0 or -errno.
 */
typedef int (*hvx_mmio_fn)(void *opaque, __u64 gpa, void *data, unsigned int len, int is_write);

/*
 * Completes an HVX_EXIT_MMIO: decodes run->mmio.insn for the vCPU's current
 * mode, performs the access through fn, writes the destination register
 * and flags and advances RIP with HVX_SET_STATE.  Handles, with every
 * ModRM/SIB/displacement form and the 66/67/REX/segment/LOCK/REP prefixes,
 * in 16-, 32- and 64-bit modes:
 *   MOV 88/89/8A/8B/C6/C7/A0-A3, MOVZX 0F B6/B7, MOVSX 0F BE/BF;
 *   ADD, OR, AND, SUB, XOR, CMP with memory as source or destination
 *   (00-03, 08-0B, 20-23, 28-2B, 30-33, 38-3B, 80/81/83), TEST 84/85/F6/F7;
 *   XCHG 86/87; BT, BTS, BTR, BTC (0F A3/AB/B3/BB, 0F BA /4-7);
 *   STOS AA/AB and LODS AC/AD, with REP one item per exit (RIP stays on
 *   the instruction while the count is not zero, so it exits again).
 * MOVS A4/A5 needs the other operand in guest RAM: see
 * hvx_mmio_complete_ram().
 * Returns 0; -EINVAL if the instruction cannot be decoded (msg then names
 * the bytes, the gva and the gpa); another -errno from an ioctl or fn.
 * msg may be NULL.
 */
int hvx_mmio_complete(struct hvx_vcpu *vcpu, hvx_mmio_fn fn, void *opaque, char *msg,
		      size_t msglen);

/*
 * hvx_mmio_complete() that also emulates MOVS between the device and guest
 * RAM: mem (mem_size bytes at guest-physical 0) is the guest's RAM, and the
 * RAM operand's linear address is translated through the guest's page
 * tables (32-bit, PAE or 4-level; presence is checked, not permissions).
 */
int hvx_mmio_complete_ram(struct hvx_vcpu *vcpu, hvx_mmio_fn fn, void *opaque, void *mem,
			  __u64 mem_size, char *msg, size_t msglen);

#endif /* LIBHVX_H */
