// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: module entry, /dev/hvx and the system ioctls, per-CPU enabling.
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/cpuhotplug.h>
#include <linux/reboot.h>
#include <linux/uaccess.h>
#include <linux/cpu.h>
#include <asm/tsc.h>

#include "hvx_core.h"

const struct hvx_backend_ops *hvx_ops;

static bool force_shadow;
module_param(force_shadow, bool, 0444);
MODULE_PARM_DESC(force_shadow, "HVX_PAGING_AUTO picks shadow paging even where EPT/NPT exist");
static enum cpuhp_state hvx_cpuhp_state;

static int hvx_cpu_online(unsigned int cpu)
{
	return hvx_ops->cpu_enable();
}

static int hvx_cpu_offline(unsigned int cpu)
{
	hvx_ops->cpu_disable();
	return 0;
}

static void hvx_cpu_disable_ipi(void *unused)
{
	hvx_ops->cpu_disable();
}

/*
 * Set before the CPUs leave SVM/VMX operation for a reboot: no vCPU may
 * enter a guest again (the backends check it with interrupts off, so the
 * disabling IPI comes either before the check or after the exit).
 */
bool hvx_rebooting;

/* Leave no CPU in SVM/VMX operation across a reboot or kexec. */
static int hvx_reboot(struct notifier_block *nb, unsigned long code, void *v)
{
	WRITE_ONCE(hvx_rebooting, true);
	on_each_cpu(hvx_cpu_disable_ipi, NULL, 1);
	return NOTIFY_OK;
}

static struct notifier_block hvx_reboot_nb = {
	.notifier_call = hvx_reboot,
};

/*
 * A parameter that is -1 (decide at load), 0 or 1: anything else fails
 * the load with EINVAL, rather than meaning "on" by accident.
 */
static int hvx_param_set_tristate(const char *val, const struct kernel_param *kp)
{
	int v;

	if (kstrtoint(val, 0, &v) || v < -1 || v > 1)
		return -EINVAL;
	*(int *)kp->arg = v;
	return 0;
}

const struct kernel_param_ops hvx_param_tristate = {
	.set = hvx_param_set_tristate,
	.get = param_get_int,
};

static cpu_emergency_virt_cb *hvx_emergency_cb;

/*
 * The kernel has one emergency-disable slot (crash, emergency reboot), for
 * the backend to leave SVM/VMX operation in NMI context; KVM takes it when
 * loaded.  Take it only if KVM is absent.
 */
void hvx_emergency_register(cpu_emergency_virt_cb *cb, const char *what)
{
	if (__symbol_get("kvm_rebooting")) {
		__symbol_put("kvm_rebooting");
		pr_warn("hvx: kvm is loaded: it owns the emergency %s-off hook\n", what);
		return;
	}
	cpu_emergency_register_virt_callback(cb);
	hvx_emergency_cb = cb;
}

void hvx_emergency_unregister(void)
{
	if (hvx_emergency_cb)
		cpu_emergency_unregister_virt_callback(hvx_emergency_cb);
	hvx_emergency_cb = NULL;
}

static long hvx_check_cap(struct hvx_capability __user *argp)
{
	struct hvx_capability c;

	if (copy_from_user(&c, argp, sizeof(c)))
		return -EFAULT;
	if (c.flags)
		return -EINVAL;
	switch (c.cap) {
	case HVX_CAP_VENDOR:
		c.value = hvx_ops->vendor;
		break;
	case HVX_CAP_MAX_VCPUS:
		c.value = HVX_MAX_VCPUS;
		break;
	case HVX_CAP_NR_MEMSLOTS:
		c.value = HVX_NR_SLOTS;
		break;
	case HVX_CAP_MAX_MSRS:
		c.value = HVX_MAX_MSRS;
		break;
	case HVX_CAP_XSAVE_SIZE:
		c.value = HVX_XSAVE_SIZE;
		break;
	case HVX_CAP_STATE_MASK:
		c.value = HVX_STATE_ALL;
		break;
	case HVX_CAP_MAX_CPUID:
		c.value = HVX_MAX_CPUID;
		break;
	case HVX_CAP_MAX_GPA_BITS:
		c.value = HVX_GPA_BITS;
		break;
	case HVX_CAP_LAPIC:
		c.value = 1;
		break;
	case HVX_CAP_IOAPIC_PINS:
		c.value = 24;
		break;
	case HVX_CAP_SYNC_REGS:
		c.value = HVX_SYNC_ALL;
		break;
	case HVX_CAP_STRING_IO_BATCH:
		c.value = HVX_IO_DATA_SIZE;
		break;
	case HVX_CAP_TSC_KHZ:
		/* The host's: a guest's TSC is the host's plus an offset. */
		c.value = tsc_khz;
		break;
	case HVX_CAP_PAGING_SHADOW:
	case HVX_CAP_PAGING_NESTED:
	case HVX_CAP_NRIP_SAVE:
	case HVX_CAP_UNRESTRICTED_GUEST:
	case HVX_CAP_SHADOW_REAL_MODE:
		c.value = hvx_ops->cap(c.cap);
		break;
	default:
		return -EINVAL;
	}
	if (copy_to_user(argp, &c, sizeof(c)))
		return -EFAULT;
	return 0;
}

static long hvx_create_vm(struct hvx_vm_create __user *argp)
{
	struct hvx_vm_create c;

	if (copy_from_user(&c, argp, sizeof(c)))
		return -EFAULT;
	if (c.flags & ~HVX_VM_FLAGS_ALL || memchr_inv(c.reserved, 0, sizeof(c.reserved)))
		return -EINVAL;
	/* The I/O APIC's messages go to local APICs. */
	if ((c.flags & HVX_VM_IOAPIC) && !(c.flags & HVX_VM_LAPIC))
		return -EINVAL;
	switch (c.paging) {
	case HVX_PAGING_AUTO:
		if (hvx_ops->cap(HVX_CAP_PAGING_NESTED) && !force_shadow)
			c.paging = HVX_PAGING_NESTED;
		else if (hvx_ops->cap(HVX_CAP_PAGING_SHADOW))
			c.paging = HVX_PAGING_SHADOW;
		else if (hvx_ops->cap(HVX_CAP_PAGING_NESTED))
			c.paging = HVX_PAGING_NESTED;
		else
			return -EOPNOTSUPP;
		break;
	case HVX_PAGING_NESTED:
		if (!hvx_ops->cap(HVX_CAP_PAGING_NESTED))
			return -ENODEV;
		break;
	case HVX_PAGING_SHADOW:
		if (!hvx_ops->cap(HVX_CAP_PAGING_SHADOW))
			return -EOPNOTSUPP;
		break;
	default:
		return -EINVAL;
	}
	return hvx_vm_create(c.paging, c.flags);
}

static long hvx_dev_ioctl(struct file *filp, unsigned int ioctl, unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (ioctl) {
	case HVX_GET_API_VERSION:
		return arg ? -EINVAL : HVX_API_VERSION;
	case HVX_CHECK_CAP:
		return hvx_check_cap(argp);
	case HVX_CREATE_VM:
		return hvx_create_vm(argp);
	case HVX_GET_VCPU_MMAP_SIZE:
		return arg ? -EINVAL : HVX_RUN_PAGES * PAGE_SIZE;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations hvx_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= hvx_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice hvx_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "hvx",
	.fops	= &hvx_dev_fops,
	.mode	= 0660,
};

/* The ops of hvx_ops.h, where they sit in the table, and which may be NULL. */
static const struct hvx_op_desc {
	const char *name;
	size_t offset;
	bool optional;
} hvx_op_list[] = {
#define HVX_OP(op)		{ #op, offsetof(struct hvx_backend_ops, op), false },
#define HVX_OP_OPTIONAL(op)	{ #op, offsetof(struct hvx_backend_ops, op), true },
#include "hvx_ops.h"
};

/* As many ops in the list as function pointers in the table. */
static_assert(ARRAY_SIZE(hvx_op_list) ==
	      (sizeof(struct hvx_backend_ops) - offsetof(struct hvx_backend_ops, probe)) /
	      sizeof(void (*)(void)));

/*
 * A backend without a mandatory op does not load (EINVAL, with a WARN);
 * neither does a list out of the table's order (each op once, so that
 * none is missing).
 */
static bool hvx_ops_complete(const struct hvx_backend_ops *ops)
{
	size_t first = offsetof(struct hvx_backend_ops, probe);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hvx_op_list); i++) {
		const struct hvx_op_desc *d = &hvx_op_list[i];
		void *const *op = (void *const *)((const char *)ops + d->offset);

		if (WARN(d->offset != first + i * sizeof(void (*)(void)),
			 "hvx: hvx_ops.h lists %s out of the table's order\n", d->name))
			return false;
		if (WARN(!d->optional && !*op, "hvx: the %s backend has no %s op\n",
			 ops->name, d->name))
			return false;
	}
	return true;
}

static int __init hvx_init(void)
{
	int ret;

	if (hvx_svm_ops.probe() == 0) {
		hvx_ops = &hvx_svm_ops;
	} else if (hvx_vmx_ops.probe() == 0) {
		hvx_ops = &hvx_vmx_ops;
	} else {
		pr_err("hvx: no supported virtualization extension (AMD SVM, Intel VMX) on this CPU\n");
		return -ENODEV;
	}
	if (!hvx_ops_complete(hvx_ops))
		return -EINVAL;

	hvx_setup_cr4_valid();
	ret = hvx_ops->hardware_setup();
	if (ret)
		return ret;

	/* Enables every online CPU now and each CPU that comes online later. */
	ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "hvx:online",
				hvx_cpu_online, hvx_cpu_offline);
	if (ret < 0)
		goto err_unsetup;
	hvx_cpuhp_state = ret;

	register_reboot_notifier(&hvx_reboot_nb);
	hvx_stats_init();

	ret = hvx_netlink_init();
	if (ret)
		goto err_cpuhp;
	ret = misc_register(&hvx_dev);
	if (ret)
		goto err_netlink;

	pr_info("hvx: %s backend ready\n", hvx_ops->name);
	return 0;

err_netlink:
	hvx_netlink_exit();
err_cpuhp:
	unregister_reboot_notifier(&hvx_reboot_nb);
	cpuhp_remove_state(hvx_cpuhp_state);
err_unsetup:
	hvx_ops->hardware_unsetup();
	return ret;
}

static void __exit hvx_exit(void)
{
	misc_deregister(&hvx_dev);
	hvx_netlink_exit();
	unregister_reboot_notifier(&hvx_reboot_nb);
	cpuhp_remove_state(hvx_cpuhp_state);
	hvx_ops->hardware_unsetup();
}

module_init(hvx_init);
module_exit(hvx_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvx: a small hypervisor for AMD SVM and Intel VMX");
MODULE_VERSION(HVX_VERSION);
