// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: VMCS handling.  A VMCS is active on at most one CPU at a time (SDM
 * vol. 3C §25.1): a vCPU that moves clears its VMCS where it was (an IPI)
 * before loading it here, and each CPU keeps the list of the VMCSs active
 * on it, to clear them when it leaves VMX operation.
 */
#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <asm/desc.h>
#include <asm/msr.h>

#include "vmx.h"

DEFINE_PER_CPU(struct vmx_cpu, vmx_cpu);

void vmx_vmwrite_error(unsigned long field, unsigned long value)
{
	pr_err_ratelimited("hvx: VMWRITE %#lx <- %#lx failed (error %lu)\n", field, value,
			   vmcs_read(VM_INSTRUCTION_ERROR));
}

int vmx_vmclear(u64 pa)
{
	asm goto("vmclear %0; jna %l[fail]" : : "m"(pa) : "cc", "memory" : fail);
	return 0;
fail:
	pr_err_ratelimited("hvx: VMCLEAR %#llx failed\n", pa);
	return -EIO;
}

int vmx_vmptrld(u64 pa)
{
	asm goto("vmptrld %0; jna %l[fail]" : : "m"(pa) : "cc", "memory" : fail);
	return 0;
fail:
	pr_err_ratelimited("hvx: VMPTRLD %#llx failed\n", pa);
	return -EIO;
}

void vmx_invept(u64 eptp)
{
	struct { u64 eptp, reserved; } desc = { eptp, 0 };
	unsigned long type = vmx_caps.invept_single ? VMX_EPT_EXTENT_CONTEXT :
						      VMX_EPT_EXTENT_GLOBAL;

	asm volatile("invept %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}

void vmx_invept_all(void)
{
	struct { u64 eptp, reserved; } desc = { 0, 0 };
	unsigned long type = VMX_EPT_EXTENT_GLOBAL;

	asm volatile("invept %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}

void vmx_invvpid(u16 vpid)
{
	struct { u64 vpid, gla; } desc = { vpid, 0 };
	unsigned long type = vmx_caps.invvpid_single ? VMX_VPID_EXTENT_SINGLE_CONTEXT :
						  VMX_VPID_EXTENT_ALL_CONTEXT;

	asm volatile("invvpid %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}

/* IPI (or local call): VMCLEAR the VMCS if it is still active on this CPU. */
static void vmx_clear_ipi(void *arg)
{
	struct vmx_vcpu *vmx = arg;
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);

	if (READ_ONCE(vmx->cpu) != smp_processor_id())
		return;
	vmx_vmclear(vmx->vmcs_pa);
	list_del_init(&vmx->loaded);
	if (vc->current_vmcs == vmx)
		vc->current_vmcs = NULL;
	WRITE_ONCE(vmx->cpu, -1);
}

void vmx_clear_remote(struct vmx_vcpu *vmx)
{
	int cpu = READ_ONCE(vmx->cpu);

	/* An offline CPU cleared its VMCSs when it went down. */
	if (cpu >= 0)
		smp_call_function_single(cpu, vmx_clear_ipi, vmx, 1);
}

static unsigned long vmx_tss_base(void)
{
	struct desc_ptr gdt;
	u16 tr;
	struct ldttss_desc *d;

	native_store_gdt(&gdt);
	asm volatile("str %0" : "=r"(tr));
	d = (struct ldttss_desc *)(gdt.address + (tr & ~7));
	return d->base0 | ((unsigned long)d->base1 << 16) |
	       ((unsigned long)d->base2 << 24) | ((unsigned long)d->base3 << 32);
}

/* The host state that differs between CPUs (called when the VMCS moves here). */
static void vmx_set_cpu_host_state(void)
{
	struct desc_ptr gdt;
	u64 esp;

	native_store_gdt(&gdt);
	vmcs_write(HOST_GDTR_BASE, gdt.address);
	vmcs_write(HOST_TR_BASE, vmx_tss_base());
	rdmsrl(MSR_IA32_SYSENTER_ESP, esp);
	vmcs_write(HOST_IA32_SYSENTER_ESP, esp);
}

/* Makes the vCPU's VMCS current on this CPU; preemption is off. */
int vmx_load(struct hvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	int cpu = smp_processor_id();

	if (unlikely(!vc->enabled))
		return -EIO;
	if (READ_ONCE(vmx->cpu) != cpu) {
		vmx_clear_remote(vmx);
		if (vmx_vmclear(vmx->vmcs_pa) || vmx_vmptrld(vmx->vmcs_pa))
			return -EIO;
		local_irq_disable();
		list_add(&vmx->loaded, &vc->loaded);
		WRITE_ONCE(vmx->cpu, cpu);
		local_irq_enable();
		vc->current_vmcs = vmx;
		vmx->launched = false;
		/* Translations tagged on this CPU may predate a zap elsewhere. */
		vmx->flush = true;
		vmx_set_cpu_host_state();
		/* The host's TSC_AUX holds the CPU number (vgetcpu()). */
		if (vmx_caps.rdtscp)
			rdmsrl(MSR_TSC_AUX, vmx->host_msrs[VMX_AUTO_TSC_AUX].value);
	} else if (vc->current_vmcs != vmx) {
		if (vmx_vmptrld(vmx->vmcs_pa))
			return -EIO;
		vc->current_vmcs = vmx;
	}
	return 0;
}

void vmx_get(struct hvx_vcpu *vcpu)
{
	preempt_disable();
	WARN_ON_ONCE(vmx_load(vcpu));
}

void vmx_put(struct hvx_vcpu *vcpu)
{
	preempt_enable();
}
