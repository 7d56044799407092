// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run port and MMIO dispatch: a small table of port ranges, each with a
 * device's read and write handlers.  An unclaimed port reads all-ones and
 * ignores writes, as on an empty ISA bus; so does every MMIO address (no
 * MMIO device is modelled).
 */
#include <string.h>

#include "hvx-run.h"

int io__register(struct hvx_runner *r, const char *name, unsigned int base, unsigned int len,
		 io_read_fn read, io_write_fn write, void *dev)
{
	unsigned int i;

	if (r->nr_io == RUN_MAX_IO_RANGES) {
		fprintf(stderr, "hvx-run: too many port ranges (%s)\n", name);
		return -1;
	}
	for (i = 0; i < r->nr_io; i++) {
		if (base < r->io[i].base + r->io[i].len && r->io[i].base < base + len) {
			fprintf(stderr, "hvx-run: ports 0x%x..0x%x of %s overlap %s\n", base,
				base + len - 1, name, r->io[i].name);
			return -1;
		}
	}
	r->io[r->nr_io++] = (struct io_range){
		.name = name, .base = base, .len = len, .read = read, .write = write, .dev = dev,
	};
	return 0;
}

static struct io_range *find_range(struct hvx_runner *r, unsigned int port)
{
	unsigned int i;

	for (i = 0; i < r->nr_io; i++) {
		if (port >= r->io[i].base && port < r->io[i].base + r->io[i].len)
			return &r->io[i];
	}
	return NULL;
}

void io__exit(struct hvx_runner *r, struct hvx_run *run)
{
	unsigned int port = run->io.port, size = run->io.size, count = run->io.count, i;
	struct io_range *rg = find_range(r, port);
	__u32 v;

	__atomic_add_fetch(rg ? &rg->exits : &r->io_unclaimed, 1, __ATOMIC_RELAXED);
	if (size != 1 && size != 2 && size != 4)
		size = 1;
	if ((size_t)count * size > sizeof(run->io_data))
		count = sizeof(run->io_data) / size;

	for (i = 0; i < count; i++) {
		__u8 *item = run->io_data + (size_t)i * size;

		if (run->io.direction == HVX_IO_OUT) {
			v = 0;
			memcpy(&v, item, size);
			if (rg && rg->write)
				rg->write(r, rg->dev, port - rg->base, size, v);
			else if (r->verbose && !rg)
				fprintf(stderr, "hvx-run: ignored OUT%c 0x%x to port 0x%x at rip 0x%llx\n",
					"?bw?d"[size], v, port, (unsigned long long)run->rip);
		} else {
			v = 0xffffffff;
			if (rg && rg->read)
				rg->read(r, rg->dev, port - rg->base, size, &v);
			else if (r->verbose && !rg)
				fprintf(stderr, "hvx-run: IN%c from unhandled port 0x%x at rip 0x%llx reads all-ones\n",
					"?bw?d"[size], port, (unsigned long long)run->rip);
			memcpy(item, &v, size);
		}
	}
}

int io__mmio(void *opaque, __u64 gpa, void *data, unsigned int len, int is_write)
{
	struct hvx_runner *r = opaque;

	if (r->verbose)
		fprintf(stderr, "hvx-run: MMIO %s of %u bytes at gpa 0x%llx: no device (%s)\n",
			is_write ? "write" : "read", len, (unsigned long long)gpa,
			is_write ? "dropped" : "reads all-ones");
	if (!is_write)
		memset(data, 0xff, len);
	return 0;
}
