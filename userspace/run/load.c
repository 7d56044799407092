// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run loaders: reading images, the guest memory map, flat binaries.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "hvx-run.h"

/* The largest file hvx-run reads: more than any RAM it can give a guest. */
#define LOAD_MAX_FILE	(RUN_MEM_MAX)

int load__file(const char *what, const char *path, void **buf, size_t *size)
{
	struct stat stbuf;
	size_t off = 0;
	ssize_t n;
	char *p;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "hvx-run: cannot open %s %s: %s\n", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &stbuf) || !S_ISREG(stbuf.st_mode)) {
		fprintf(stderr, "hvx-run: %s %s is not a regular file\n", what, path);
		goto error_close;
	}
	if (stbuf.st_size == 0) {
		fprintf(stderr, "hvx-run: %s %s is empty\n", what, path);
		goto error_close;
	}
	if ((unsigned long long)stbuf.st_size > LOAD_MAX_FILE) {
		fprintf(stderr, "hvx-run: %s %s is too large (%lld bytes)\n", what, path,
			(long long)stbuf.st_size);
		goto error_close;
	}
	p = malloc(stbuf.st_size);
	if (!p) {
		fprintf(stderr, "hvx-run: out of memory reading %s %s\n", what, path);
		goto error_close;
	}
	while (off < (size_t)stbuf.st_size) {
		n = read(fd, p + off, stbuf.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "hvx-run: cannot read %s %s: %s\n", what, path,
				n < 0 ? strerror(errno) : "file shrank while reading");
			free(p);
			goto error_close;
		}
		off += n;
	}
	close(fd);
	*buf = p;
	*size = off;
	return 0;

error_close:
	close(fd);
	return -1;
}

unsigned int load__memmap(const struct hvx_runner *r, struct mem_range *m)
{
	m[0] = (struct mem_range){ 0, RUN_EBDA_START, 1 };
	m[1] = (struct mem_range){ RUN_EBDA_START, 0xa0000 - RUN_EBDA_START, 2 };
	m[2] = (struct mem_range){ RUN_BIOS_START, RUN_HIGH_START - RUN_BIOS_START, 2 };
	m[3] = (struct mem_range){ RUN_HIGH_START, r->mem_size - RUN_HIGH_START, 1 };
	return 4;
}

int load__flat(struct hvx_runner *r, const struct run_options *o)
{
	size_t size;
	void *buf;

	if (load__file("guest image", o->image, &buf, &size))
		return -1;
	if (o->entry >= r->mem_size || size > r->mem_size - o->entry) {
		fprintf(stderr, "hvx-run: guest image %s (%zu bytes) at 0x%llx does not fit in %lluK of guest RAM\n",
			o->image, size, o->entry, r->mem_size >> 10);
		free(buf);
		return -1;
	}
	memcpy((char *)r->mem + o->entry, buf, size);
	free(buf);
	r->entry = (struct run_entry){ .mode = o->mode, .rip = o->entry, .rsp = o->entry };
	return 0;
}
