// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: the VM fd, its memory slots and guest-physical memory access.
 */
#include <linux/module.h>
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/cred.h>
#include <linux/uaccess.h>

#include "hvx_core.h"

/* Every live VM, in id order, for statistics; the lock guards the list. */
DEFINE_MUTEX(hvx_vms_lock);
LIST_HEAD(hvx_vms);
static atomic_t hvx_vm_last_id;

static void hvx_vm_free(struct hvx_vm *vm)
{
	mutex_lock(&hvx_vms_lock);
	list_del(&vm->node);
	mutex_unlock(&hvx_vms_lock);
	hvx_event(vm, HVX_GENL_EVENT_VM_DESTROYED, -1, 0);
	hvx_ops->vm_destroy(vm);
	hvx_tdp_destroy(&vm->tdp);
	hvx_ioapic_free(vm);
	mmdrop(vm->mm);
	kfree(vm);
	module_put(THIS_MODULE);
}

void hvx_vm_put(struct hvx_vm *vm)
{
	if (refcount_dec_and_test(&vm->users))
		hvx_vm_free(vm);
}

struct hvx_slot *hvx_slot_find(struct hvx_vm *vm, u64 gpa)
{
	int i;

	lockdep_assert_held(&vm->lock);
	for (i = 0; i < HVX_NR_SLOTS; i++) {
		struct hvx_slot *s = &vm->slots[i];

		if (s->npages && gpa >= s->gpa &&
		    gpa < s->gpa + (s->npages << PAGE_SHIFT))
			return s;
	}
	return NULL;
}

/* Copies to or from guest-physical memory that lies in RAM slots. */
static int hvx_access_gpa(struct hvx_vm *vm, u64 gpa, void *buf,
			  unsigned int len, bool write)
{
	int ret = 0;

	if (current->mm != vm->mm)
		return -EIO;
	mutex_lock(&vm->lock);
	while (len) {
		unsigned int chunk = min_t(u64, len, PAGE_SIZE - offset_in_page(gpa));
		struct hvx_slot *s = hvx_slot_find(vm, gpa);
		void __user *ua;

		if (!s || (write && (s->flags & HVX_MEM_READONLY))) {
			ret = -ENOENT;
			break;
		}
		ua = (void __user *)(unsigned long)(s->uaddr + (gpa - s->gpa));
		if (write ? copy_to_user(ua, buf, chunk) : copy_from_user(buf, ua, chunk)) {
			ret = -EFAULT;
			break;
		}
		gpa += chunk;
		buf += chunk;
		len -= chunk;
	}
	mutex_unlock(&vm->lock);
	return ret;
}

int hvx_read_gpa(struct hvx_vm *vm, u64 gpa, void *buf, unsigned int len)
{
	return hvx_access_gpa(vm, gpa, buf, len, false);
}

int hvx_write_gpa(struct hvx_vm *vm, u64 gpa, const void *buf, unsigned int len)
{
	return hvx_access_gpa(vm, gpa, (void *)buf, len, true);
}

/*
 * Compare-and-exchange of a naturally aligned 4- or 8-byte word of guest
 * RAM, as the CPU updates a page-table entry's A and D bits: 0 if it held
 * @old and now holds @new, 1 if it held something else (nothing written),
 * -EFAULT if it is not writable RAM.
 */
int hvx_cmpxchg_gpa(struct hvx_vm *vm, u64 gpa, u64 old, u64 new, unsigned int size)
{
	struct hvx_slot *s;
	void __user *ua;
	int ret = -EFAULT;

	if (current->mm != vm->mm || (size != 4 && size != 8) || (gpa & (size - 1)))
		return -EFAULT;
	mutex_lock(&vm->lock);
	s = hvx_slot_find(vm, gpa);
	if (!s || (s->flags & HVX_MEM_READONLY))
		goto out;
	ua = (void __user *)(unsigned long)(s->uaddr + (gpa - s->gpa));
	if (!access_ok(ua, size))
		goto out;
	if (size == 4) {
		u32 o = old;

		ret = __try_cmpxchg_user((u32 __user *)ua, &o, (u32)new, efault4);
	} else {
		ret = __try_cmpxchg_user((u64 __user *)ua, &old, new, efault8);
	}
out:
	mutex_unlock(&vm->lock);
	return ret;
}

static int hvx_check_region(const struct hvx_memory_region *r)
{
	u64 end = r->guest_phys_addr + r->size;

	if (r->slot >= HVX_NR_SLOTS || r->flags & ~HVX_MEM_FLAGS_ALL ||
	    memchr_inv(r->reserved, 0, sizeof(r->reserved)))
		return -EINVAL;
	if (!r->size)
		return 0;
	if (!PAGE_ALIGNED(r->guest_phys_addr) || !PAGE_ALIGNED(r->size) ||
	    !PAGE_ALIGNED(r->userspace_addr))
		return -EINVAL;
	if (end < r->guest_phys_addr || end > (1ULL << HVX_GPA_BITS))
		return -EINVAL;
	if (r->userspace_addr + r->size < r->userspace_addr ||
	    !access_ok((void __user *)(unsigned long)r->userspace_addr, r->size))
		return -EINVAL;
	return 0;
}

static long hvx_vm_set_region(struct hvx_vm *vm, struct hvx_memory_region __user *argp)
{
	struct hvx_memory_region r;
	struct hvx_slot *slot;
	int i, ret;

	if (copy_from_user(&r, argp, sizeof(r)))
		return -EFAULT;
	ret = hvx_check_region(&r);
	if (ret)
		return ret;

	mutex_lock(&vm->lock);
	slot = &vm->slots[r.slot];
	if (!r.size) {
		if (!slot->npages) {
			ret = -ENOENT;
			goto out;
		}
		/* Unmaps, flushes every vCPU's TLB, then unpins. */
		ret = hvx_tdp_zap_range(vm, slot->gpa, slot->npages);
		if (!ret)
			slot->npages = 0;
		goto out;
	}
	if (slot->npages) {
		ret = -EEXIST;
		goto out;
	}
	for (i = 0; i < HVX_NR_SLOTS; i++) {
		struct hvx_slot *s = &vm->slots[i];

		if (s->npages && r.guest_phys_addr < s->gpa + (s->npages << PAGE_SHIFT) &&
		    s->gpa < r.guest_phys_addr + r.size) {
			ret = -EEXIST;
			goto out;
		}
	}
	slot->gpa = r.guest_phys_addr;
	slot->uaddr = r.userspace_addr;
	slot->flags = r.flags;
	slot->npages = r.size >> PAGE_SHIFT;
out:
	mutex_unlock(&vm->lock);
	return ret;
}

static long hvx_vm_create_vcpu(struct hvx_vm *vm, struct hvx_vcpu_create __user *argp)
{
	struct hvx_vcpu_create c;

	if (copy_from_user(&c, argp, sizeof(c)))
		return -EFAULT;
	if (c.flags || memchr_inv(c.reserved, 0, sizeof(c.reserved)) ||
	    c.id >= HVX_MAX_VCPUS)
		return -EINVAL;
	return hvx_vcpu_create(vm, c.id);
}

static long hvx_vm_ioapic_state(struct hvx_vm *vm, void __user *argp, bool set)
{
	struct hvx_ioapic_state *s;
	long ret;

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return -ENOMEM;
	if (set) {
		ret = copy_from_user(s, argp, sizeof(*s)) ? -EFAULT : hvx_ioapic_set_state(vm, s);
	} else {
		ret = hvx_ioapic_get_state(vm, s);
		if (!ret && copy_to_user(argp, s, sizeof(*s)))
			ret = -EFAULT;
	}
	kfree(s);
	return ret;
}

static long hvx_vm_ioctl(struct file *filp, unsigned int ioctl, unsigned long arg)
{
	struct hvx_vm *vm = filp->private_data;
	void __user *argp = (void __user *)arg;

	if (current->mm != vm->mm)
		return -EIO;
	switch (ioctl) {
	case HVX_SET_MEMORY_REGION:
		return hvx_vm_set_region(vm, argp);
	case HVX_CREATE_VCPU:
		return hvx_vm_create_vcpu(vm, argp);
	case HVX_IRQ_LINE: {
		struct hvx_irq_line l;

		if (copy_from_user(&l, argp, sizeof(l)))
			return -EFAULT;
		return l.pad ? -EINVAL : hvx_ioapic_line(vm, &l);
	}
	case HVX_GET_IOAPIC:
		return hvx_vm_ioapic_state(vm, argp, false);
	case HVX_SET_IOAPIC:
		return hvx_vm_ioapic_state(vm, argp, true);
	case HVX_SIGNAL_MSI: {
		struct hvx_msi msi;

		if (copy_from_user(&msi, argp, sizeof(msi)))
			return -EFAULT;
		return hvx_signal_msi(vm, &msi);
	}
	default:
		return -ENOTTY;
	}
}

static int hvx_vm_release(struct inode *inode, struct file *filp)
{
	hvx_vm_put(filp->private_data);
	return 0;
}

static const struct file_operations hvx_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= hvx_vm_release,
	.unlocked_ioctl	= hvx_vm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

int hvx_vm_create(u32 paging, u32 flags)
{
	struct hvx_vm *vm;
	int ret;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;
	refcount_set(&vm->users, 1);
	mutex_init(&vm->lock);
	spin_lock_init(&vm->vcpus_lock);
	vm->paging = paging;
	vm->flags = flags;
	vm->mm = current->mm;
	mmgrab(vm->mm);
	/* Ids only grow, so that a netlink dump can resume after the last one. */
	vm->id = atomic_inc_return(&hvx_vm_last_id);
	vm->pid = task_tgid_vnr(current);
	vm->uid = current_euid();

	ret = hvx_ioapic_create(vm);
	if (ret)
		goto err_free_vm;
	ret = hvx_ops->vm_init(vm);
	if (ret)
		goto err_free_vm;

	/* Held by the VM until it is freed: no unload while it lives. */
	__module_get(THIS_MODULE);
	mutex_lock(&hvx_vms_lock);
	list_add_tail(&vm->node, &hvx_vms);
	mutex_unlock(&hvx_vms_lock);
	/*
	 * Once the fd is published another thread may close it: hold a
	 * reference of our own until the created event has gone out.
	 */
	refcount_inc(&vm->users);
	ret = anon_inode_getfd("hvx-vm", &hvx_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (ret < 0)
		hvx_vm_put(vm);		/* the fd's, never published */
	else
		hvx_event(vm, HVX_GENL_EVENT_VM_CREATED, -1, 0);
	hvx_vm_put(vm);
	return ret;

err_free_vm:
	hvx_ioapic_free(vm);
	mmdrop(vm->mm);
	kfree(vm);
	return ret;
}
