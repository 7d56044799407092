// SPDX-License-Identifier: GPL-2.0
/*
 * A read-only fw_cfg on legacy I/O as QEMU has it: a 16-bit write of a key
 * to 0x510 selects an item, byte reads of 0x511 walk it.  The items are the
 * few that test kernels ask for: the "QEMU" signature (0x00), the interface
 * ID (0x01: 1, no DMA), RAM_SIZE (0x03), NB_CPUS (0x05) and MAX_CPUS
 * (0x0f).  Any other key, among them 0x11 where test suites look for a RAM
 * limit, reads as zeros (QEMU docs/specs/fw_cfg.rst).
 */
#include <string.h>

#include "../hvx-run.h"

#define FW_CFG_SIGNATURE	0x00
#define FW_CFG_ID		0x01
#define FW_CFG_RAM_SIZE		0x03
#define FW_CFG_NB_CPUS		0x05
#define FW_CFG_MAX_CPUS		0x0f

/* The selected item's bytes; returns its length. */
static unsigned int item(const struct hvx_runner *r, __u16 key, __u8 buf[8])
{
	__u64 v;

	memset(buf, 0, 8);
	switch (key) {
	case FW_CFG_SIGNATURE:
		memcpy(buf, "QEMU", 4);
		return 4;
	case FW_CFG_ID:
		buf[0] = 1;
		return 4;
	case FW_CFG_RAM_SIZE:
		v = r->mem_size;
		memcpy(buf, &v, 8);
		return 8;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		buf[0] = r->cpus;
		return 2;
	}
	return 0;
}

static void fw_cfg_write(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
			 __u32 val)
{
	struct fw_cfg *f = dev;

	(void)r;
	if (off == 0 && size >= 2) {
		f->key = val;
		f->offset = 0;
	}
}

static void fw_cfg_read(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
			__u32 *val)
{
	struct fw_cfg *f = dev;
	unsigned int i, len;
	__u8 buf[8];

	if (off != 1)
		return;		/* the selector reads all-ones */
	len = item(r, f->key, buf);
	*val = 0;
	for (i = 0; i < size; i++, f->offset++)
		*val |= (__u32)(f->offset < len ? buf[f->offset] : 0) << (8 * i);
}

int fw_cfg__init(struct hvx_runner *r)
{
	return io__register(r, "fw_cfg", 0x510, 2, fw_cfg_read, fw_cfg_write, &r->fw_cfg);
}
