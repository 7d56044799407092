/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code for trace_test.c, all 64-bit. */
#include "guest.h"

#define TRACE_PORT	0x99

/* One OUT for the tracepoints, then HLT. */
GUEST_BEGIN(stats_trace)
	.code64
	mov $0x5a, %al
GLABEL(stats_trace_out)
	out %al, $TRACE_PORT
	hlt
	jmp stats_trace_out
GUEST_END(stats_trace)
