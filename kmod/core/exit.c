// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: the vendor-neutral half of exit handling.  A backend sets
 * vcpu->exit_rip (the exiting instruction) once per exit before its
 * handlers run, decodes its exit information, sets vcpu->rip (where the
 * guest resumes) and calls one of these.  Each
 * returns 1 (resume the guest), 0 (return to userspace, run page filled)
 * or a negative errno.
 */
#include <linux/kernel.h>
#include <asm/processor.h>
#include <asm/msr-index.h>
#include <asm/trapnr.h>

#include "hvx_core.h"

/* CPUID bits hvx never lets a guest see (it cannot nest). */
#define CPUID_1_ECX_VMX		BIT(5)
#define CPUID_1_ECX_OSXSAVE	BIT(27)
#define CPUID_1_ECX_HYPERVISOR	BIT(31)
#define CPUID_8000_0001_ECX_SVM	BIT(2)
/* ... and what shadow paging does not implement. */
#define CPUID_1_ECX_PCID	BIT(17)
#define CPUID_7_EBX_INVPCID	BIT(10)
#define CPUID_7_ECX_LA57	BIT(16)

static bool hvx_cpuid_lookup(struct hvx_vcpu *vcpu, u32 fn, u32 idx, u32 *r)
{
	u32 i;

	for (i = 0; i < vcpu->cpuid_nent; i++) {
		const struct hvx_cpuid_entry *e = &vcpu->cpuid[i];

		if (e->function != fn)
			continue;
		if ((e->flags & HVX_CPUID_SIGNIFICANT_INDEX) && e->index != idx)
			continue;
		r[0] = e->eax;
		r[1] = e->ebx;
		r[2] = e->ecx;
		r[3] = e->edx;
		return true;
	}
	return false;
}

/*
 * The guest's CPUID leaf before hvx's own adjustments: its table, or the
 * host's values.  A leaf missing from the table reads as zeros.
 */
void hvx_guest_cpuid(struct hvx_vcpu *vcpu, u32 fn, u32 idx, u32 *r)
{
	r[0] = 0;
	r[1] = 0;
	r[2] = 0;
	r[3] = 0;
	/* Performance monitoring and SVM features are not virtualized. */
	if (vcpu->cpuid)
		hvx_cpuid_lookup(vcpu, fn, idx, r);
	else if (fn != 0xa && fn != 0x8000000a)
		cpuid_count(fn, idx, &r[0], &r[1], &r[2], &r[3]);
}

int hvx_exit_cpuid(struct hvx_vcpu *vcpu)
{
	u32 fn = vcpu->regs[HVX_RAX], idx = vcpu->regs[HVX_RCX];
	struct hvx_paging pg;
	u32 r[4];

	hvx_stat_inc(vcpu, HVX_STAT_EXIT_CPUID);
	hvx_guest_cpuid(vcpu, fn, idx, r);
	if (fn == 1) {
		hvx_ops->get_paging(vcpu, &pg);
		r[2] &= ~(CPUID_1_ECX_VMX | CPUID_1_ECX_OSXSAVE);
		r[2] |= CPUID_1_ECX_HYPERVISOR;
		if (pg.cr4 & X86_CR4_OSXSAVE)
			r[2] |= CPUID_1_ECX_OSXSAVE;
	} else if (fn == 0x80000001) {
		r[2] &= ~CPUID_8000_0001_ECX_SVM;
	}
	if (vcpu->apic)
		hvx_lapic_cpuid(vcpu, fn, idx, r);
	if (vcpu->vm->paging == HVX_PAGING_SHADOW) {
		if (fn == 1) {
			r[2] &= ~CPUID_1_ECX_PCID;
		} else if (fn == 7 && idx == 0) {
			r[1] &= ~CPUID_7_EBX_INVPCID;
			r[2] &= ~CPUID_7_ECX_LA57;
		}
	}
	vcpu->regs[HVX_RAX] = r[0];
	vcpu->regs[HVX_RBX] = r[1];
	vcpu->regs[HVX_RCX] = r[2];
	vcpu->regs[HVX_RDX] = r[3];
	return 1;
}

int hvx_exit_internal(struct hvx_vcpu *vcpu, u32 suberror, u64 d0, u64 d1)
{
	struct hvx_run *run = vcpu->run;

	hvx_stat_inc(vcpu, HVX_STAT_EXIT_INTERNAL_ERROR);
	hvx_event(vcpu->vm, HVX_GENL_EVENT_INTERNAL_ERROR, vcpu->id, suberror);
	run->exit_reason = HVX_EXIT_INTERNAL_ERROR;
	run->internal.suberror = suberror;
	run->internal.ndata = 2;
	run->internal.data[0] = d0;
	run->internal.data[1] = d1;
	return 0;
}

/*
 * The guest gets a #PF while the event (HVX_EVENT_*) whose delivery the
 * exit interrupted waits to be delivered again.  As the CPU combines them
 * (SDM vol. 3A §6.15 table 6-5, APM vol. 2 §8.2.9) and KVM's
 * kvm_multiple_exception() does: after a #PF it is a #DF, after a #DF a
 * shutdown; any other exception is abandoned (a fault comes back when the
 * instruction runs again).  An NMI or interrupt is queued again, to be
 * delivered after the #PF (an interrupt is lost only if another one has
 * been queued meanwhile).
 */
enum hvx_pf_merge hvx_pf_during_event(struct hvx_vcpu *vcpu, u32 type, u8 vector)
{
	struct hvx_pending *p = &vcpu->ev;

	switch (type) {
	case HVX_EVENT_NMI:
		p->nmi = true;
		return HVX_PF_ALONE;
	case HVX_EVENT_EXTINT:
		if (!p->irq) {
			p->irq = true;
			p->irq_vector = vector;
		}
		return HVX_PF_ALONE;
	default:
		if (vector == X86_TRAP_PF)
			return HVX_PF_DOUBLE;
		if (vector == X86_TRAP_DF)
			return HVX_PF_SHUTDOWN;
		return HVX_PF_ALONE;
	}
}

int hvx_exit_msr(struct hvx_vcpu *vcpu, u32 index, bool is_write, u64 data)
{
	struct hvx_run *run = vcpu->run;
	u64 val;
	int ret;

	if (is_write) {
		ret = hvx_set_msr(vcpu, index, data, false);
	} else {
		ret = hvx_get_msr(vcpu, index, &val);
		if (!ret) {
			vcpu->regs[HVX_RAX] = (u32)val;
			vcpu->regs[HVX_RDX] = val >> 32;
		}
	}
	if (ret == -ENOENT && !(vcpu->vm->flags & HVX_VM_MSR_UNHANDLED_GP)) {
		hvx_stat_inc(vcpu, HVX_STAT_EXIT_MSR_USER);
		run->exit_reason = HVX_EXIT_MSR;
		run->msr.index = index;
		run->msr.is_write = is_write;
		run->msr.error = 0;
		run->msr.data = is_write ? data : 0;
		vcpu->complete = HVX_COMPLETE_MSR;
		return 0;
	}
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_MSR_KERNEL);
	if (ret)
		hvx_inject_gp(vcpu);
	return 1;
}

/* Adds delta to a register as an instruction with this address size would. */
static void hvx_reg_add(u64 *reg, s64 delta, u8 addr_bytes)
{
	switch (addr_bytes) {
	case 2:
		*reg = (*reg & ~0xffffULL) | ((*reg + delta) & 0xffff);
		break;
	case 4:
		*reg = (u32)(*reg + delta);
		break;
	default:
		*reg += delta;
		break;
	}
}

static u64 hvx_addr_mask(u8 addr_bytes)
{
	return addr_bytes == 8 ? ~0ULL : (1ULL << (addr_bytes * 8)) - 1;
}

/* One item of a string I/O instruction is done: step RSI/RDI and RCX. */
static void hvx_string_step(struct hvx_vcpu *vcpu, enum hvx_reg ptr, u8 size,
			    bool rep, u8 addr_bytes, u64 next_rip)
{
	s64 delta = vcpu->rflags & X86_EFLAGS_DF ? -(s64)size : size;

	hvx_reg_add(&vcpu->regs[ptr], delta, addr_bytes);
	if (rep) {
		hvx_reg_add(&vcpu->regs[HVX_RCX], -1, addr_bytes);
		/* More to do: run the instruction again. */
		if (vcpu->regs[HVX_RCX] & hvx_addr_mask(addr_bytes))
			return;
	}
	vcpu->rip = next_rip;
}

/*
 * The address size and segment of a string I/O instruction come from its
 * prefixes: SVM reports them only with decode assists (and QEMU's
 * emulation reports the size one bit off), VMX not at all without the
 * instruction-information field.  So read the prefixes from guest memory.
 */
static int hvx_string_io_decode(struct hvx_vcpu *vcpu, u8 *addr_bytes, int *seg,
				struct hvx_fault *f)
{
	struct hvx_prefixes p;
	unsigned int len;
	u8 insn[15];
	int ret;

	ret = hvx_fetch_prefixes(vcpu, vcpu->exit_rip, insn, &len, &p, f);
	if (ret)
		return ret;
	*seg = p.seg < 0 ? HVX_SEG_DS : p.seg;
	*addr_bytes = p.asize;
	return 0;
}

/*
 * Items one exit of a string I/O carries: 1, or with HVX_VM_STRING_IO_BATCH
 * as many of a REP's remaining rCX as fit io_data.  Not under
 * single-step, whose trap follows every item.
 */
static unsigned int hvx_string_batch(struct hvx_vcpu *vcpu, u8 size, bool rep, u64 mask)
{
	if (!rep || !(vcpu->vm->flags & HVX_VM_STRING_IO_BATCH) ||
	    (vcpu->rflags & X86_EFLAGS_TF))
		return 1;
	return min_t(u64, vcpu->regs[HVX_RCX] & mask, HVX_IO_DATA_SIZE / size);
}

/* The offset of item @i of a string I/O that starts at @start. */
static u64 hvx_string_off(struct hvx_vcpu *vcpu, u64 start, unsigned int i, u8 size, u64 mask)
{
	u64 d = (u64)i * size;

	return (vcpu->rflags & X86_EFLAGS_DF ? start - d : start + d) & mask;
}

enum hvx_string_op { HVX_STRING_READ, HVX_STRING_CHECK, HVX_STRING_WRITE };

static int hvx_string_access(struct hvx_vcpu *vcpu, enum hvx_string_op op, int seg, u64 off,
			     u8 *buf, unsigned int len, struct hvx_fault *f)
{
	switch (op) {
	case HVX_STRING_READ:
		return hvx_emul_read(vcpu, seg, off, buf, len, f);
	case HVX_STRING_CHECK:
		return hvx_emul_check_write(vcpu, seg, off, len, f);
	default:
		return hvx_emul_write(vcpu, seg, off, buf, len, f);
	}
}

/*
 * Reads (OUTS), checks or writes (INS) up to @n items of @size bytes from
 * @seg:@start in the instruction's order, item i at buf[i * size].  A run
 * that does not wrap moves in one access (io_data spans at most two
 * pages); otherwise, or if that fails, item by item.  Returns the items
 * done; *ret is the result of the one that stopped it (0, 1 with the
 * guest's fault in *f, or -EFAULT), 0 if none did.
 */
static unsigned int hvx_string_items(struct hvx_vcpu *vcpu, enum hvx_string_op op, int seg,
				     u64 start, u8 *buf, unsigned int n, u8 size, u64 mask,
				     int *ret, struct hvx_fault *f)
{
	unsigned int i;

	*ret = 0;
	if (n > 1 && !(vcpu->rflags & X86_EFLAGS_DF) && start + (u64)n * size - 1 <= mask &&
	    !hvx_string_access(vcpu, op, seg, start, buf, n * size, f))
		return n;
	for (i = 0; i < n; i++) {
		*ret = hvx_string_access(vcpu, op, seg, hvx_string_off(vcpu, start, i, size, mask),
					 buf + i * size, size, f);
		if (*ret)
			break;
	}
	return i;
}

int hvx_exit_io(struct hvx_vcpu *vcpu, u16 port, u8 size, bool in,
		bool string, bool rep, u64 next_rip)
{
	struct hvx_run *run = vcpu->run;
	unsigned int n, i;
	struct hvx_fault f;
	u8 addr_bytes;
	int seg, ret;
	u64 mask, off;

	run->exit_reason = HVX_EXIT_IO;
	run->io.direction = in ? HVX_IO_IN : HVX_IO_OUT;
	run->io.size = size;
	run->io.port = port;
	run->io.count = 1;
	run->io.string = string;
	run->io.rep = rep;

	if (!string) {
		hvx_stat_inc(vcpu, in ? HVX_STAT_EXIT_IO_IN : HVX_STAT_EXIT_IO_OUT);
		vcpu->rip = next_rip;
		if (in) {
			memset(run->io_data, 0, size);
			vcpu->complete = HVX_COMPLETE_IO_IN;
		} else {
			memcpy(run->io_data, &vcpu->regs[HVX_RAX], size);
		}
		return 0;
	}

	ret = hvx_string_io_decode(vcpu, &addr_bytes, &seg, &f);
	if (ret < 0)
		return hvx_exit_internal(vcpu, HVX_INTERNAL_FETCH,
					 hvx_seg_linear(vcpu, HVX_SEG_CS, vcpu->exit_rip), ~0ULL);
	if (ret)
		goto fault;
	mask = hvx_addr_mask(addr_bytes);
	if (rep && !(vcpu->regs[HVX_RCX] & mask)) {
		vcpu->rip = next_rip;
		return 1;
	}
	n = hvx_string_batch(vcpu, size, rep, mask);
	if (in) {
		/*
		 * INS stores to ES:rDI (no segment override applies).  A store
		 * the guest may not make faults before the port is read, and
		 * is checked again when the data comes back.  A batch stops
		 * before the first such item, which runs (and faults) alone.
		 */
		off = vcpu->regs[HVX_RDI] & mask;
		n = hvx_string_items(vcpu, HVX_STRING_CHECK, HVX_SEG_ES, off, run->io_data, n,
				     size, mask, &ret, &f);
		if (!n && ret < 0)
			return hvx_exit_internal(vcpu, HVX_INTERNAL_STRING_IO,
						 hvx_seg_linear(vcpu, HVX_SEG_ES, off), 0);
		if (!n)
			goto fault;
		hvx_stat_inc(vcpu, HVX_STAT_EXIT_IO_IN);
		vcpu->ins_off = off;
		vcpu->ins_size = size;
		vcpu->ins_count = n;
		vcpu->complete = HVX_COMPLETE_INS;
		vcpu->rip = vcpu->exit_rip;
		/* The step waits for the data: keep what it needs. */
		vcpu->io_rep = rep;
		vcpu->io_addr_bytes = addr_bytes;
		vcpu->io_next_rip = next_rip;
		run->io.count = n;
		memset(run->io_data, 0, n * size);
		return 0;
	}
	/* OUTS reads seg:rSI, DS unless overridden. */
	off = vcpu->regs[HVX_RSI] & mask;
	n = hvx_string_items(vcpu, HVX_STRING_READ, seg, off, run->io_data, n, size, mask,
			     &ret, &f);
	if (!n && ret < 0)
		return hvx_exit_internal(vcpu, HVX_INTERNAL_STRING_IO,
					 hvx_seg_linear(vcpu, seg, off), 0);
	if (!n)
		goto fault;
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_IO_OUT);
	run->io.count = n;
	for (i = 0; i < n; i++)
		hvx_string_step(vcpu, HVX_RSI, size, rep, addr_bytes, next_rip);
	return 0;

fault:
	/* The guest takes the fault; the port is not accessed. */
	hvx_inject_fault(vcpu, &f);
	return 1;
}

/*
 * INS: the data of the batch came back.  The items are stored and stepped
 * in order; one the guest may no longer store to (its tables changed in
 * the meantime) takes its fault there, with the items before it done.
 */
static int hvx_complete_ins(struct hvx_vcpu *vcpu)
{
	u64 mask = hvx_addr_mask(vcpu->io_addr_bytes);
	struct hvx_fault f;
	unsigned int n, i;
	int ret;

	n = hvx_string_items(vcpu, HVX_STRING_WRITE, HVX_SEG_ES, vcpu->ins_off,
			     vcpu->run->io_data, vcpu->ins_count, vcpu->ins_size, mask, &ret, &f);
	for (i = 0; i < n; i++)
		hvx_string_step(vcpu, HVX_RDI, vcpu->ins_size, vcpu->io_rep,
				vcpu->io_addr_bytes, vcpu->io_next_rip);
	if (ret < 0)
		return hvx_exit_internal(vcpu, HVX_INTERNAL_STRING_IO,
					 hvx_seg_linear(vcpu, HVX_SEG_ES,
							hvx_string_off(vcpu, vcpu->ins_off, n,
								       vcpu->ins_size, mask)),
					 0);
	if (ret)
		hvx_inject_fault(vcpu, &f);
	return 1;
}

int hvx_exit_hypercall(struct hvx_vcpu *vcpu)
{
	struct hvx_run *run = vcpu->run;

	hvx_stat_inc(vcpu, HVX_STAT_EXIT_HYPERCALL);
	run->exit_reason = HVX_EXIT_HYPERCALL;
	run->hypercall.nr = vcpu->regs[HVX_RAX];
	run->hypercall.args[0] = vcpu->regs[HVX_RBX];
	run->hypercall.args[1] = vcpu->regs[HVX_RCX];
	run->hypercall.args[2] = vcpu->regs[HVX_RDX];
	run->hypercall.args[3] = vcpu->regs[HVX_RSI];
	run->hypercall.args[4] = vcpu->regs[HVX_RDI];
	run->hypercall.ret = 0;
	vcpu->complete = HVX_COMPLETE_HYPERCALL;
	return 0;
}

int hvx_exit_mmio(struct hvx_vcpu *vcpu, u64 gpa, bool is_write)
{
	struct hvx_run *run = vcpu->run;
	unsigned int len = sizeof(run->mmio.insn);
	u64 gva, bad_gpa = 0;
	struct hvx_fault f;
	int ret;

	if (hvx_lapic_mmio_hit(vcpu, gpa))
		return hvx_apic_mmio(vcpu, gpa, is_write, false);
	if (hvx_ioapic_hit(vcpu->vm, gpa))
		return hvx_apic_mmio(vcpu, gpa, is_write, true);
	gva = hvx_seg_linear(vcpu, HVX_SEG_CS, vcpu->rip);
	memset(&run->mmio, 0, sizeof(run->mmio));
	ret = hvx_fetch_insn(vcpu, gva, run->mmio.insn, &len, &bad_gpa, &f);
	if (ret < 0)
		return hvx_exit_internal(vcpu, HVX_INTERNAL_FETCH, gva, bad_gpa);
	if (ret) {
		/* The guest's tables changed under the CPU: it may not fetch there now. */
		hvx_inject_fault(vcpu, &f);
		return 1;
	}
	hvx_stat_inc(vcpu, is_write ? HVX_STAT_EXIT_MMIO_WRITE : HVX_STAT_EXIT_MMIO_READ);
	run->exit_reason = HVX_EXIT_MMIO;
	run->mmio.gpa = gpa;
	run->mmio.gva = gva;
	run->mmio.is_write = is_write;
	run->mmio.insn_len = len;
	return 0;
}

/* Finishes the instruction that last exited to userspace. */
int hvx_complete_userspace(struct hvx_vcpu *vcpu)
{
	struct hvx_run *run = vcpu->run;
	enum hvx_completion c = vcpu->complete;

	vcpu->complete = HVX_COMPLETE_NONE;
	switch (c) {
	case HVX_COMPLETE_NONE:
		break;
	case HVX_COMPLETE_IO_IN:
		memcpy(&vcpu->regs[HVX_RAX], run->io_data, run->io.size == 4 ? 4 :
		       run->io.size == 2 ? 2 : 1);
		/* A 32-bit IN zero-extends into RAX. */
		if (run->io.size == 4)
			vcpu->regs[HVX_RAX] &= 0xffffffffULL;
		break;
	case HVX_COMPLETE_INS:
		return hvx_complete_ins(vcpu);
	case HVX_COMPLETE_MSR:
		if (run->msr.error) {
			hvx_inject_gp(vcpu);
		} else if (!run->msr.is_write) {
			vcpu->regs[HVX_RAX] = (u32)run->msr.data;
			vcpu->regs[HVX_RDX] = run->msr.data >> 32;
		}
		break;
	case HVX_COMPLETE_HYPERCALL:
		vcpu->regs[HVX_RAX] = run->hypercall.ret;
		break;
	}
	return 1;
}
