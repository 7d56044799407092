// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run console: the guest's serial line on stdin/stdout.  When stdin is
 * a terminal it is put in raw mode (the guest does its own echo and line
 * editing) and restored on every way out: normal exit, error exit, and the
 * signals that end hvx-run.  Ctrl-A x ends hvx-run from the keyboard;
 * Ctrl-A Ctrl-A sends one Ctrl-A to the guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "hvx-run.h"

#define CTRL_A		0x01

/* The state to restore lives where atexit() and signal handlers find it. */
static struct termios saved_tio;
static int saved_tio_valid;
static int saved_flags = -1;

void console__restore(void)
{
	if (saved_tio_valid) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		saved_tio_valid = 0;
	}
	if (saved_flags >= 0) {
		fcntl(STDIN_FILENO, F_SETFL, saved_flags);
		saved_flags = -1;
	}
}

int console__init(struct hvx_runner *r)
{
	struct termios tio;
	int flags;

	r->con.in_fd = STDIN_FILENO;
	r->con.out_fd = STDOUT_FILENO;
	flags = fcntl(STDIN_FILENO, F_GETFL);
	if (flags < 0) {
		r->con.eof = 1;		/* no stdin at all */
		return 0;
	}
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &tio) == 0) {
		saved_tio = tio;
		saved_tio_valid = 1;
		atexit(console__restore);
		cfmakeraw(&tio);
		tio.c_oflag |= OPOST | ONLCR;	/* keep the host's own output readable */
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio)) {
			saved_tio_valid = 0;
		} else {
			r->con.raw = 1;
		}
	}
	if (!(flags & O_NONBLOCK)) {
		saved_flags = flags;
		if (!saved_tio_valid)
			atexit(console__restore);
		fcntl(STDIN_FILENO, F_SETFL, flags | O_NONBLOCK);
	}
	return 0;
}

void console__flush(struct hvx_runner *r)
{
	size_t off = 0;
	ssize_t n;

	while (off < r->con.out_len) {
		n = write(r->con.out_fd, r->con.out + off, r->con.out_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* stdout shares stdin's non-blocking file description */
			usleep(1000);
			continue;
		}
		if (n <= 0)
			break;		/* output gone: drop it, the guest goes on */
		off += n;
	}
	r->con.out_len = 0;
}

void console__putc(struct hvx_runner *r, __u8 c)
{
	if (r->con.out_len == sizeof(r->con.out))
		console__flush(r);
	r->con.out[r->con.out_len++] = c;
	if (c == '\n')
		console__flush(r);
}

int console__read(struct hvx_runner *r, __u8 *buf, int n)
{
	int got = 0;
	ssize_t k;
	__u8 c;

	while (got < n && !r->con.eof) {
		k = read(r->con.in_fd, &c, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			break;
		if (k <= 0) {
			r->con.eof = 1;
			break;
		}
		if (r->con.raw && r->con.escape) {
			r->con.escape = 0;
			if (c == 'x' || c == 'X') {
				run__stop(r, 0, "Ctrl-A x");
				break;
			}
			if (c != CTRL_A)
				continue;
		} else if (r->con.raw && c == CTRL_A) {
			r->con.escape = 1;
			continue;
		}
		buf[got++] = c;
	}
	return got;
}
