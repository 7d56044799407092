// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: real mode under shadow paging on VMX, run as virtual-8086 mode.
 *
 * VMX runs real mode as it is only with "unrestricted guest", which needs
 * EPT; under shadow paging the CPU runs protected mode only.  There real
 * mode runs as virtual-8086 mode (SDM vol. 3B ch. 20), as KVM runs it
 * without unrestricted guest, for as long as the guest's CR0.PE is clear:
 * an AP's start at its SIPI vector, a boot sector, a BIOS.
 *
 * - Each entry swaps the guest's segments for virtual-8086 ones (base
 *   selector * 16, limit 0xffff, DPL 3: what VM entry checks, SDM vol. 3C
 *   §26.3.1.2), TR for a TSS of hvx's whose I/O bitmap lets every port
 *   through to the I/O exit, IDTR for an empty one, and sets RFLAGS.VM
 *   and IOPL 3, so that CLI, STI, PUSHF, POPF and IRET run as in real
 *   mode; the exit swaps them back.  Between entries the VMCS holds what
 *   the guest sees, so every state accessor and exit handler is the same
 *   as in any other mode.
 * - Only states whose segments virtual-8086 mode can hold run: each limit
 *   0xffff and each base selector * 16, as after INIT/SIPI or any
 *   real-mode segment load, or a base below 1 MiB on a 16-byte boundary
 *   (a segment left from protected mode when the guest cleared PE, which
 *   runs as selector base / 16, as on KVM).  Others (the RESET state's CS
 *   at 0xffff0000, "unreal" mode) stop the vCPU with
 *   HVX_INTERNAL_REAL_MODE.
 * - Every exception exits.  What CPL 3 refuses (#GP) and real mode allows
 *   is emulated: HLT, MOV to and from CR, CLTS, LMSW, LGDT, LIDT, INVLPG,
 *   INVD, WBINVD, RDMSR, WRMSR; INT n (which finds the empty IDT) too.
 *   Any other #GP is the guest's.
 * - Interrupts and exceptions reach the guest as in real mode (SDM vol. 3A
 *   §20.1.4), delivered here before the entry: FLAGS, CS and IP pushed,
 *   CS:IP from the guest's interrupt vector table.
 *
 * The TSS is mapped in the shadow tables only, at a linear address
 * virtual-8086 mode cannot form (above 0x10ffef), supervisor-only, on the
 * first fault there; leaving real mode changes CR0 and drops it with the
 * rest of the shadow tables.
 *
 * What differs from real mode: PUSHF shows IOPL 3, POPF cannot change
 * IOPL, SGDT and SIDT show hvx's tables, MOV to and from DR stops the
 * vCPU (HVX_INTERNAL_REAL_MODE); a segment register left from protected
 * mode reads as base / 16 in the guest, and keeps its old selector in
 * GET_STATE until the guest loads another one.
 */
#include <linux/kernel.h>
#include <linux/gfp.h>
#include <asm/trapnr.h>
#include <asm/processor-flags.h>

#include "vmx.h"

#define VMX_RM_TSS_LA		0xfffe0000ULL
#define VMX_RM_TSS_ORDER	2		/* 16 KiB; the first three pages used */
#define VMX_RM_TSS_PAGES	3
#define VMX_RM_IOMAP		0x68		/* right after the 32-bit TSS */
/* The I/O bitmap's 65,536 bits and the 0xff byte that must follow it (SDM §19.5.2). */
#define VMX_RM_TSS_LIMIT	(VMX_RM_IOMAP + 0x2000)
/* Present, DPL 3, read/write data, accessed: every segment in virtual-8086 mode. */
#define VMX_RM_SEG_AR		0xf3
#define VMX_RM_TR_AR		0x8b		/* present, busy 32-bit TSS */

/* Segment fields are laid out ES, CS, SS, DS, FS, GS, LDTR, TR, 2 apart. */
#define VMX_RM_CS		1
#define VMX_RM_SS		2
#define VMX_RM_TR		7
#define SEG_FIELD(f, i)		((f) + (i) * 2)

static const char *const vmx_rm_seg_names[] = { "ES", "CS", "SS", "DS", "FS", "GS" };

static int vmx_rm_unrunnable(struct hvx_vcpu *vcpu, u64 what)
{
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	return hvx_exit_internal(vcpu, HVX_INTERNAL_REAL_MODE, what,
				 hvx_seg_linear(vcpu, HVX_SEG_CS, vcpu->rip));
}

/*
 * Delivers the event in the injection field as real mode does (SDM vol.
 * 3A §20.1.4): FLAGS, CS and IP pushed on the 16-bit stack, IF, TF, AC
 * and RF cleared, CS:IP from the vector's entry in the table at IDTR.  A
 * vector past the IDT limit raises #GP, #GP one there #DF, and #DF one
 * there shuts the guest down.  Preemption on: guest memory may fault in.
 */
static int vmx_rm_deliver(struct hvx_vcpu *vcpu)
{
	u32 info, type, len;
	struct hvx_sregs s;
	struct hvx_fault f;
	u16 frame[3], sp;
	__le16 ivt[2];
	u8 vector;
	u64 ip;
	int i, ret;

	vmx_get(vcpu);
	info = vmcs_read(VM_ENTRY_INTR_INFO_FIELD);
	len = vmcs_read(VM_ENTRY_INSTRUCTION_LEN);
	if (info & INTR_INFO_VALID_MASK)
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmx_put(vcpu);
	if (!(info & INTR_INFO_VALID_MASK))
		return 1;

	vector = info & INTR_INFO_VECTOR_MASK;
	type = info & INTR_INFO_INTR_TYPE_MASK;
	ip = vcpu->rip;
	/* INT n, INT3, INTO, INT1 return past themselves. */
	if (type == INTR_TYPE_SOFT_INTR || type == INTR_TYPE_SOFT_EXCEPTION ||
	    type == INTR_TYPE_PRIV_SW_EXCEPTION)
		ip += len;
	vmx_get_sregs(vcpu, &s);
	while ((u32)vector * 4 + 3 > s.idt.limit) {
		if (vector == X86_TRAP_DF)
			return hvx_exit_shutdown(vcpu);
		vector = vector == X86_TRAP_GP ? X86_TRAP_DF : X86_TRAP_GP;
		ip = vcpu->rip;
		type = INTR_TYPE_HARD_EXCEPTION;
	}
	ret = hvx_read_gva(vcpu, s.idt.base + vector * 4, ivt, sizeof(ivt), &f);
	if (ret)
		return vmx_rm_unrunnable(vcpu, ~0ULL);

	frame[0] = vcpu->rflags;
	frame[1] = s.cs.selector;
	frame[2] = ip;
	sp = vcpu->regs[HVX_RSP];
	for (i = 0; i < 3; i++) {
		__le16 w = cpu_to_le16(frame[i]);

		sp -= 2;
		/* Paging is off: no #PF; outside RAM, the push is lost. */
		hvx_write_gva(vcpu, s.ss.base + sp, &w, sizeof(w), &f);
	}
	vcpu->regs[HVX_RSP] = (vcpu->regs[HVX_RSP] & ~0xffffULL) | sp;
	vcpu->rflags &= ~(X86_EFLAGS_IF | X86_EFLAGS_TF | X86_EFLAGS_AC | X86_EFLAGS_RF);
	vcpu->rip = le16_to_cpu(ivt[0]);

	vmx_get(vcpu);
	vmcs_write(GUEST_CS_SELECTOR, le16_to_cpu(ivt[1]));
	vmcs_write(GUEST_CS_BASE, (u64)le16_to_cpu(ivt[1]) << 4);
	vmcs_clear_bits(GUEST_INTERRUPTIBILITY_INFO,
			GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);
	/* An NMI handler runs with NMIs blocked until its IRET. */
	if (type == INTR_TYPE_NMI_INTR)
		vmcs_set_bits(GUEST_INTERRUPTIBILITY_INFO, GUEST_INTR_STATE_NMI);
	vmx_put(vcpu);
	return 1;
}

/*
 * Before an entry in real mode, preemption on: the TSS, whether
 * virtual-8086 mode can hold the segments, and the event to deliver.
 * Returns 1 to enter, or as an exit handler does.
 */
int vmx_rm_prepare(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	const struct hvx_segment *seg[6];
	struct hvx_sregs s;
	int i;

	vcpu->exit_rip = vcpu->rip;
	if (!vmx->rm_tss) {
		u8 *tss = (u8 *)__get_free_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO,
						 VMX_RM_TSS_ORDER);

		if (!tss)
			return -ENOMEM;
		tss[0x66] = VMX_RM_IOMAP;	/* the I/O map base, a 16-bit field */
		tss[VMX_RM_TSS_LIMIT] = 0xff;
		vmx->rm_tss = tss;
	}
	vmx_get_sregs(vcpu, &s);
	seg[0] = &s.es;
	seg[1] = &s.cs;
	seg[2] = &s.ss;
	seg[3] = &s.ds;
	seg[4] = &s.fs;
	seg[5] = &s.gs;
	for (i = 0; i < 6; i++) {
		vmx->rm_sel[i] = seg[i]->base >> 4;
		if (seg[i]->limit == 0xffff && !(seg[i]->base & ~0xffff0ULL) &&
		    !(i == VMX_RM_CS && seg[i]->db))
			continue;
		pr_warn_ratelimited("hvx: vCPU %u: real mode with %s %#x base %#llx limit %#x: not virtual-8086 mode, stopped\n",
				    vcpu->id, vmx_rm_seg_names[i], seg[i]->selector,
				    seg[i]->base, seg[i]->limit);
		return vmx_rm_unrunnable(vcpu, i);
	}
	return vmx_rm_deliver(vcpu);
}

/* Interrupts off, the VMCS current: the guest's view out, virtual-8086 mode in. */
void vmx_rm_enter(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int i;

	for (i = 0; i < 6; i++) {
		vmx->rm_guest_sel[i] = vmcs_read(SEG_FIELD(GUEST_ES_SELECTOR, i));
		vmx->rm_limit[i] = vmcs_read(SEG_FIELD(GUEST_ES_LIMIT, i));
		vmx->rm_ar[i] = vmcs_read(SEG_FIELD(GUEST_ES_AR_BYTES, i));
		vmcs_write(SEG_FIELD(GUEST_ES_SELECTOR, i), vmx->rm_sel[i]);
		vmcs_write(SEG_FIELD(GUEST_ES_LIMIT, i), 0xffff);
		vmcs_write(SEG_FIELD(GUEST_ES_AR_BYTES, i), VMX_RM_SEG_AR);
	}
	vmx->rm_tr_sel = vmcs_read(GUEST_TR_SELECTOR);
	vmx->rm_tr_base = vmcs_read(GUEST_TR_BASE);
	vmx->rm_tr_limit = vmcs_read(GUEST_TR_LIMIT);
	vmx->rm_tr_ar = vmcs_read(GUEST_TR_AR_BYTES);
	vmcs_write(GUEST_TR_SELECTOR, 0);
	vmcs_write(GUEST_TR_BASE, VMX_RM_TSS_LA);
	vmcs_write(GUEST_TR_LIMIT, VMX_RM_TSS_LIMIT);
	vmcs_write(GUEST_TR_AR_BYTES, VMX_RM_TR_AR);
	vmx->rm_idt_base = vmcs_read(GUEST_IDTR_BASE);
	vmx->rm_idt_limit = vmcs_read(GUEST_IDTR_LIMIT);
	vmcs_write(GUEST_IDTR_BASE, 0);
	vmcs_write(GUEST_IDTR_LIMIT, 0);
	/*
	 * VME would send INT n through the TSS's redirection bitmap; AM
	 * would check alignment at CPL 3, which real mode never does.
	 */
	vmx->rm_cr4 = vmcs_read(GUEST_CR4);
	vmcs_write(GUEST_CR4, vmx->rm_cr4 & ~(X86_CR4_VME | X86_CR4_PVI));
	vmx->rm_cr0 = vmcs_read(GUEST_CR0);
	vmcs_write(GUEST_CR0, vmx->rm_cr0 & ~X86_CR0_AM);
	vmx->rm_iopl = vcpu->rflags & X86_EFLAGS_IOPL;
	vmcs_write(GUEST_RFLAGS, vcpu->rflags | X86_EFLAGS_VM | X86_EFLAGS_IOPL);
	vmcs_write(EXCEPTION_BITMAP, ~0U);
	vmx->rm_ran = true;
}

/*
 * After the exit (or a failed entry), interrupts off, the VMCS current:
 * the guest's view back.  A segment register the guest loaded has base
 * selector * 16 and keeps the limit and attributes it had, as in real
 * mode; one it did not load (or loaded with the selector it ran with)
 * keeps its selector.
 */
void vmx_rm_exit(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int i;

	for (i = 0; i < 6; i++) {
		u64 sel = vmcs_read(SEG_FIELD(GUEST_ES_SELECTOR, i));

		if (sel == vmx->rm_sel[i]) {
			vmcs_write(SEG_FIELD(GUEST_ES_SELECTOR, i), vmx->rm_guest_sel[i]);
		} else {
			vmx->rm_sel[i] = sel;
			vmcs_write(SEG_FIELD(GUEST_ES_BASE, i), sel << 4);
		}
		vmcs_write(SEG_FIELD(GUEST_ES_LIMIT, i), vmx->rm_limit[i]);
		vmcs_write(SEG_FIELD(GUEST_ES_AR_BYTES, i), vmx->rm_ar[i]);
	}
	vmcs_write(GUEST_TR_SELECTOR, vmx->rm_tr_sel);
	vmcs_write(GUEST_TR_BASE, vmx->rm_tr_base);
	vmcs_write(GUEST_TR_LIMIT, vmx->rm_tr_limit);
	vmcs_write(GUEST_TR_AR_BYTES, vmx->rm_tr_ar);
	vmcs_write(GUEST_IDTR_BASE, vmx->rm_idt_base);
	vmcs_write(GUEST_IDTR_LIMIT, vmx->rm_idt_limit);
	vmcs_write(GUEST_CR4, vmx->rm_cr4);
	vmcs_write(GUEST_CR0, vmx->rm_cr0);
	vmcs_write(EXCEPTION_BITMAP, vmx_exception_bitmap(vmx));
	vcpu->rflags = (vcpu->rflags & ~(X86_EFLAGS_VM | X86_EFLAGS_IOPL)) | vmx->rm_iopl;
	vmcs_write(GUEST_RFLAGS, vcpu->rflags);
}

/* A #PF on hvx's TSS (an I/O instruction's bitmap check): map its page. */
bool vmx_rm_tss_fault(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 off = vmx->exit_qual - VMX_RM_TSS_LA;

	if (vmx->exit_qual < VMX_RM_TSS_LA || off >= VMX_RM_TSS_PAGES * PAGE_SIZE)
		return false;
	/* Out of table budget: all flushed, and the access faults again. */
	hvx_shadow_map_host(&vcpu->shadow, vmx->exit_qual & PAGE_MASK,
			    __pa(vmx->rm_tss + (off & PAGE_MASK)));
	return true;
}

/* LGDT, LIDT: a 16-bit limit and a 24-bit base, or 32 with an operand-size prefix. */
static int vmx_rm_load_dt(struct hvx_vcpu *vcpu, const struct hvx_insn *in, bool o32)
{
	struct hvx_fault f;
	u8 d[6];
	u32 base;
	int ret;

	if (!in->mem) {
		hvx_queue_exception(vcpu, X86_TRAP_UD, 0);
		return 1;
	}
	ret = hvx_read_gva(vcpu, hvx_seg_linear(vcpu, in->seg, in->ea), d, sizeof(d), &f);
	if (ret == 1) {
		hvx_inject_fault(vcpu, &f);
		return 1;
	}
	if (ret)
		return vmx_rm_unrunnable(vcpu, ~0ULL);
	base = (d[2] | d[3] << 8 | d[4] << 16 | (u32)d[5] << 24) & (o32 ? ~0U : 0xffffff);
	vmx_get(vcpu);
	if ((in->reg & 7) == 2) {
		vmcs_write(GUEST_GDTR_BASE, base);
		vmcs_write(GUEST_GDTR_LIMIT, d[0] | d[1] << 8);
	} else {
		vmcs_write(GUEST_IDTR_BASE, base);
		vmcs_write(GUEST_IDTR_LIMIT, d[0] | d[1] << 8);
	}
	vmx_put(vcpu);
	vmx_skip(vcpu);
	return 1;
}

/*
 * The CR-access exit qualification of an emulated instruction (SDM vol.
 * 3C table 28-3), for vmx_exit_cr(): @type 0 MOV to CR, 1 MOV from CR, 2
 * CLTS, 3 LMSW with @data.
 */
static int vmx_rm_cr(struct hvx_vcpu *vcpu, unsigned int type, unsigned int cr,
		     unsigned int gpr, u16 data)
{
	to_vmx(vcpu)->exit_qual = cr | type << 4 | (gpr & 15) << 8 | (u64)data << 16;
	return vmx_exit_cr(vcpu);
}

/*
 * A #GP in virtual-8086 mode: an instruction real mode allows and CPL 3
 * does not, emulated through the exit handler of the exit it would make
 * with unrestricted guest; else the guest's own #GP.
 */
static int vmx_rm_gp(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct hvx_prefixes p;
	struct hvx_insn in;
	struct hvx_fault f;
	unsigned int len;
	u8 b[15], op;
	u16 msw;
	int ret;

	ret = hvx_fetch_prefixes(vcpu, vcpu->rip, b, &len, &p, &f);
	if (ret == 1) {
		hvx_inject_fault(vcpu, &f);
		return 1;
	}
	if (ret || p.len >= len)
		return vmx_rm_unrunnable(vcpu, ~0ULL);
	op = b[p.len];
	vmx->exit_insn_len = p.len + 1;
	if (op == 0xf4)
		return vmx_exit_hlt(vcpu);
	if (op == 0xcd && p.len + 1 < len) {
		/* INT n met the empty IDT: deliver it, past the instruction. */
		vmx_get(vcpu);
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD,
			   b[p.len + 1] | INTR_TYPE_SOFT_INTR | INTR_INFO_VALID_MASK);
		vmcs_write(VM_ENTRY_INSTRUCTION_LEN, p.len + 2);
		vmx_put(vcpu);
		return 1;
	}
	if (op != 0x0f || p.len + 1 >= len)
		goto guest_gp;
	vmx->exit_insn_len = p.len + 2;
	switch (b[p.len + 1]) {
	case 0x06:
		return vmx_rm_cr(vcpu, 2, 0, 0, 0);
	case 0x08:
		return vmx_exit_invd(vcpu);
	case 0x09:
		return vmx_exit_wbinvd(vcpu);
	case 0x30:
		return vmx_exit_wrmsr(vcpu);
	case 0x32:
		return vmx_exit_rdmsr(vcpu);
	case 0x01:
	case 0x20:
	case 0x22:
		break;
	case 0x21:
	case 0x23:
		return vmx_rm_unrunnable(vcpu, ~0ULL);	/* MOV DR */
	default:
		goto guest_gp;
	}

	ret = hvx_decode_0f(vcpu, &in, &f);
	if (ret == 1) {
		hvx_inject_fault(vcpu, &f);
		return 1;
	}
	if (ret)
		return vmx_rm_unrunnable(vcpu, ~0ULL);
	vmx->exit_insn_len = in.len;
	if (in.op == 0x20)
		return vmx_rm_cr(vcpu, 1, in.reg, in.rm, 0);
	if (in.op == 0x22)
		return vmx_rm_cr(vcpu, 0, in.reg, in.rm, 0);
	switch (in.reg & 7) {
	case 2:		/* LGDT */
	case 3:		/* LIDT */
		return vmx_rm_load_dt(vcpu, &in, p.osize == 4);
	case 6:		/* LMSW */
		msw = vcpu->regs[in.rm & 15];
		if (in.mem) {
			__le16 m;

			ret = hvx_read_gva(vcpu, hvx_seg_linear(vcpu, in.seg, in.ea), &m,
					   sizeof(m), &f);
			if (ret == 1) {
				hvx_inject_fault(vcpu, &f);
				return 1;
			}
			if (ret)
				return vmx_rm_unrunnable(vcpu, ~0ULL);
			msw = le16_to_cpu(m);
		}
		return vmx_rm_cr(vcpu, 3, 0, 0, msw);
	case 7:		/* INVLPG: paging is off, nothing is cached */
		hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
		vmx_skip(vcpu);
		return 1;
	}
guest_gp:
	hvx_queue_exception(vcpu, X86_TRAP_GP, 0);
	return 1;
}

/*
 * An exception in virtual-8086 mode (all of them exit) that is not #PF,
 * #DB, #AC or #MC, which have their handlers: #GP may be an instruction to
 * emulate; the rest are the guest's, delivered as real mode does.
 */
int vmx_rm_exception(struct hvx_vcpu *vcpu, u8 vector)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 type = vmx->exit_intr_info & INTR_INFO_INTR_TYPE_MASK;

	if (vector == X86_TRAP_GP && type == INTR_TYPE_HARD_EXCEPTION)
		return vmx_rm_gp(vcpu);
	hvx_stat_inc(vcpu, HVX_STAT_EXIT_OTHER);
	if (type == INTR_TYPE_SOFT_EXCEPTION) {
		/* INT3, INTO: delivered past the instruction. */
		vmx_get(vcpu);
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD,
			   vector | INTR_TYPE_SOFT_EXCEPTION | INTR_INFO_VALID_MASK);
		vmcs_write(VM_ENTRY_INSTRUCTION_LEN, vmx->exit_insn_len);
		vmx_put(vcpu);
		return 1;
	}
	hvx_queue_exception(vcpu, vector, 0);
	return 1;
}
