/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx: the list of backend ops (struct hvx_backend_ops, hvx_core.h), once,
 * in the struct's order.  HVX_OP() is mandatory: hvx_init() refuses a
 * backend without it.  HVX_OP_OPTIONAL() may be NULL, and every caller
 * tests it.  Include with both macros defined; they are undefined after.
 */
HVX_OP(probe)
HVX_OP(hardware_setup)
HVX_OP(hardware_unsetup)
HVX_OP(cpu_enable)
HVX_OP(cpu_disable)
HVX_OP(cap)
HVX_OP(vm_init)
HVX_OP(vm_destroy)
HVX_OP(vcpu_create)
HVX_OP(vcpu_free)
HVX_OP(run)
HVX_OP(get_sregs)
HVX_OP(set_sregs)
HVX_OP(get_cregs)
HVX_OP(set_cregs)
HVX_OP(get_dregs)
HVX_OP(set_dregs)
HVX_OP(get_events)
HVX_OP(set_events)
HVX_OP(get_injection)
HVX_OP(set_injection)
HVX_OP(set_cr2)
HVX_OP(get_msr)
HVX_OP(set_msr)
HVX_OP(get_paging)
HVX_OP(seg_base)
HVX_OP(get_segment)
HVX_OP(interruptible)
HVX_OP(nmi_allowed)
HVX_OP(set_windows)
HVX_OP(raw_exit_code)

#undef HVX_OP
#undef HVX_OP_OPTIONAL
