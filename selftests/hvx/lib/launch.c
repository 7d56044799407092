// SPDX-License-Identifier: GPL-2.0
/*
 * Child-process runner for the launcher tests (see launch.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "launch.h"

/* Seconds a timed-out child has to report its state before SIGKILL. */
#define LAUNCH_REPORT_S	2

void (*launch_on_timeout)(pid_t pid);

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t ncap = (*len + n + 1) * 2;
		char *p = realloc(*buf, ncap);

		if (!p)
			return -1;
		*buf = p;
		*cap = ncap;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/* Prints line (up to its newline) as a TAP comment, cut to 200 bytes. */
static void comment(const char *what, const char *line)
{
	size_t len = strcspn(line, "\n");

	printf("# launch: %s%.*s\n", what, (int)(len < 200 ? len : 200), line);
}

/*
 * A timed-out child in a few comment lines, before the test's own dump of
 * everything: the last line of its output, and hvx-run's state report's
 * lines on the PIC and each vCPU's registers and run counts (vcpu.c).
 */
static void timeout_digest(const struct launch *l, unsigned int timeout_s)
{
	static const char *const keys[] = { "hvx-run: state: pic", ": rip 0x", ": halted " };
	const char *p, *last = l->out, *q;
	unsigned int i, n = 0;

	printf("# launch: timed out after %u s\n", timeout_s);
	for (q = l->out; *q; q++)
		if (q[0] == '\n' && q[1])
			last = q + 1;
	comment("its output ends: ", last);
	for (p = l->err; *p && n < 6; p = *q ? q + 1 : q) {
		q = p + strcspn(p, "\n");
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (memmem(p, q - p, keys[i], strlen(keys[i]))) {
				comment("", p);
				n++;
				break;
			}
		}
	}
	fflush(stdout);
}

int launch_run(char *const argv[], const char *marker, const char *input,
	       unsigned int timeout_s, struct launch *l)
{
	return launch_run_setup(argv, marker, input, timeout_s, NULL, l);
}

int launch_run_setup(char *const argv[], const char *marker, const char *input,
		     unsigned int timeout_s, int (*in_child)(void), struct launch *l)
{
	int in[2], out[2], err[2], st = 0, open_fds = 2, reported = 0;
	size_t out_cap = 0, err_cap = 0, in_off = 0, in_len = input ? strlen(input) : 0;
	double t0 = now_s(), end = t0 + timeout_s;
	struct rusage ru;
	struct pollfd p[3];
	char buf[4096];
	ssize_t n;
	pid_t pid;

	memset(l, 0, sizeof(*l));
	l->marker_s = -1;
	l->out = calloc(1, 1);
	l->err = calloc(1, 1);
	if (!l->out || !l->err || pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) ||
	    pipe2(err, O_CLOEXEC))
		return -1;
	signal(SIGPIPE, SIG_IGN);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (in_child && in_child()) {
			dprintf(2, "launch: setting up the child for %s: %s\n", argv[0],
				strerror(errno));
			_exit(126);
		}
		execvp(argv[0], argv);
		dprintf(2, "launch: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (!input) {
		close(in[1]);
		in[1] = -1;
	}
	while (open_fds) {
		double left = end - now_s();
		int ready_for_input = in[1] >= 0 && (!marker || l->marker_s >= 0);

		if (left <= 0 && !reported) {
			/* hvx-run reports its state on SIGUSR1: give it a moment. */
			if (launch_on_timeout)
				launch_on_timeout(pid);
			kill(pid, SIGUSR1);
			reported = 1;
			end = now_s() + LAUNCH_REPORT_S;
			continue;
		}
		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		p[0] = (struct pollfd){ .fd = out[0], .events = POLLIN };
		p[1] = (struct pollfd){ .fd = err[0], .events = POLLIN };
		p[2] = (struct pollfd){ .fd = ready_for_input ? in[1] : -1, .events = POLLOUT };
		if (poll(p, 3, (int)(left * 1000) + 1) < 0 && errno != EINTR)
			break;
		if (p[2].revents) {
			n = write(in[1], input + in_off, in_len - in_off);
			if (n > 0)
				in_off += n;
			if (n <= 0 || in_off == in_len) {
				close(in[1]);
				in[1] = -1;
			}
		}
		for (int i = 0; i < 2; i++) {
			if (!p[i].revents || p[i].fd < 0)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				close(p[i].fd);
				if (i == 0)
					out[0] = -1;
				else
					err[0] = -1;
				open_fds--;
				continue;
			}
			if (i == 0) {
				append(&l->out, &l->out_len, &out_cap, buf, n);
				if (marker && l->marker_s < 0 && strstr(l->out, marker))
					l->marker_s = now_s() - t0;
			} else {
				append(&l->err, &l->err_len, &err_cap, buf, n);
			}
		}
	}
	if (in[1] >= 0)
		close(in[1]);
	if (out[0] >= 0)
		close(out[0]);
	if (err[0] >= 0)
		close(err[0]);
	if (reported) {
		/* Timed out, whatever it did after SIGUSR1. */
		wait4(pid, NULL, 0, &ru);
		l->status = -1;
		timeout_digest(l, timeout_s);
	} else {
		if (wait4(pid, &st, 0, &ru) < 0)
			return -1;
		l->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		l->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	}
	l->wall_s = now_s() - t0;
	l->cpu_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		   ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	return 0;
}

void launch_free(struct launch *l)
{
	free(l->out);
	free(l->err);
	l->out = l->err = NULL;
}

unsigned int launch_lines(const char *s)
{
	unsigned int n = 0;

	for (; *s; s++) {
		if (*s == '\n' || !s[1])
			n++;
	}
	return n;
}

const char *launch_hvx_run(void)
{
	const char *p = getenv("HVX_RUN");

	return p && *p ? p : "hvx-run";
}

bool launch_have_hvx_run(void)
{
	const char *run = launch_hvx_run(), *path = getenv("PATH");
	char buf[4096];

	if (strchr(run, '/'))
		return access(run, X_OK) == 0;
	while (path && *path) {
		size_t n = strcspn(path, ":");

		if (n && snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, run) <
			 (int)sizeof(buf) && access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}
