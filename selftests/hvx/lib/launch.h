/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Runs hvx-run (or any program) as a child with its stdin, stdout and
 * stderr on pipes, for the launcher tests.
 */
#ifndef HVX_SELFTEST_LAUNCH_H
#define HVX_SELFTEST_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct launch {
	int status;		/* exit status, 128+N for signal N, -1 on timeout */
	int signal;		/* N if signal N ended it, else 0 */
	char *out, *err;	/* NUL-terminated output (malloc'd) */
	size_t out_len, err_len;
	double wall_s;		/* launch to exit */
	double cpu_s;		/* user + system time of the child */
	double marker_s;	/* launch to the first marker in stdout, -1 if never */
};

/*
 * Runs argv.  input (may be NULL) is written to its stdin once marker
 * (may be NULL: at once) appears in its stdout; then stdin is closed.
 * After timeout_s seconds launch_on_timeout (if set) is called with the
 * child's pid, the child gets SIGUSR1 (hvx-run then reports its state on
 * stderr), and two seconds later SIGKILL; status is then -1.  Returns 0,
 * or -1 if it could not be started.
 */
int launch_run(char *const argv[], const char *marker, const char *input,
	       unsigned int timeout_s, struct launch *l);
/*
 * launch_run() with in_child() called in the child just before the exec
 * (to drop privileges, say); if it fails (non-zero, errno set) the child
 * says so on stderr and exits with status 126.
 */
int launch_run_setup(char *const argv[], const char *marker, const char *input,
		     unsigned int timeout_s, int (*in_child)(void), struct launch *l);
void launch_free(struct launch *l);

/* Called when a child times out, before it is killed (see launch_run()). */
extern void (*launch_on_timeout)(pid_t pid);

/* Lines of s (stdout or stderr), not counting a trailing newline's empty line. */
unsigned int launch_lines(const char *s);

/* hvx-run's path: $HVX_RUN, else "hvx-run" looked up in PATH. */
const char *launch_hvx_run(void);
/* Whether launch_hvx_run() names an executable ($HVX_RUN, or on PATH). */
bool launch_have_hvx_run(void);

#endif
