// SPDX-License-Identifier: GPL-2.0
/*
 * The small system ports: PCI configuration mechanism #1 with no device
 * behind it (0xcf8 address, 0xcfc..0xcff data reading all-ones), the reset
 * ports (0xfe written to the i8042 command port 0x64, the reset control
 * register 0xcf9, the fast-reset bit of port 0x92), the isa-debug-exit
 * port 0xf4 and the POST/delay port 0x80.
 *
 * A reset ends hvx-run with status 0: hvx-run has no firmware to restart
 * the guest with, and a guest that resets has finished.
 */
#include "../hvx-run.h"

#define RESET_KBD_CMD	0xfe	/* i8042: pulse the CPU reset line */

static void pci_write(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
		      __u32 val)
{
	struct sysctl *sc = &r->sysctl;
	struct pci_conf1 *pci = dev;

	if (off == 0 && size == 4) {
		pci->address = val;
	} else if (off == 1 && size == 1) {
		/* 0xcf9: bit 2 resets, bit 1 says hard (both end the run) */
		sc->cf9 = val & 0x0e;
		if (val & 0x04)
			run__stop(r, 0, "reset through port 0xcf9");
	}
	/* 0xcfc..0xcff: no device to write to */
}

static void pci_read(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
		     __u32 *val)
{
	struct pci_conf1 *pci = dev;

	if (off == 0 && size == 4)
		*val = pci->address;
	else if (off == 1 && size == 1)
		*val = r->sysctl.cf9;
	/* anything else, and every data access: no device, all-ones */
}

static void port92_write(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
			 __u32 val)
{
	struct sysctl *sc = dev;

	(void)off;
	(void)size;
	if ((val & 1) && !(sc->port92 & 1))
		run__stop(r, 0, "reset through port 0x92");
	sc->port92 = (val & 0x02) | 0x02;	/* A20 stays enabled */
}

static void port92_read(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
			__u32 *val)
{
	struct sysctl *sc = dev;

	(void)r;
	(void)off;
	(void)size;
	*val = sc->port92 | 0x02;
}

/*
 * Only the i8042's reset line is modelled.  Its status reads "input buffer
 * empty" (bit 1 clear: a command may be written, so a reset through it
 * goes out at once) and "output buffer full" with nothing behind it (data
 * port 0x60 reads all-ones), which drivers probing for a keyboard
 * controller take for an absent one.
 */
static void kbd_read(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
		     __u32 *val)
{
	(void)r;
	(void)dev;
	(void)off;
	(void)size;
	*val = 0xfd;
}

static void kbd_write(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
		      __u32 val)
{
	(void)dev;
	(void)off;
	(void)size;
	if ((val & 0xff) == RESET_KBD_CMD)
		run__stop(r, 0, "reset through the i8042 (0xfe to port 0x64)");
}

static void debug_exit_write(struct hvx_runner *r, void *dev, unsigned int off,
			     unsigned int size, __u32 val)
{
	(void)dev;
	(void)off;
	(void)size;
	run__stop(r, ((val << 1) | 1) & 0xff, NULL);
}

static void ignore_write(struct hvx_runner *r, void *dev, unsigned int off, unsigned int size,
			 __u32 val)
{
	(void)r;
	(void)dev;
	(void)off;
	(void)size;
	(void)val;
}

int sysdev__init(struct hvx_runner *r)
{
	r->sysctl.port92 = 0x02;
	if (io__register(r, "pci-conf1", 0xcf8, 8, pci_read, pci_write, &r->pci) ||
	    io__register(r, "port92", 0x92, 1, port92_read, port92_write, &r->sysctl) ||
	    io__register(r, "i8042-cmd", 0x64, 1, kbd_read, kbd_write, NULL) ||
	    io__register(r, "debug-exit", 0xf4, 1, NULL, debug_exit_write, NULL) ||
	    io__register(r, "post", 0x80, 1, NULL, ignore_write, NULL))
		return -1;
	return 0;
}
