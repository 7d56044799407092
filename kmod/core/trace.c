// SPDX-License-Identifier: GPL-2.0
/* hvx: instantiates the tracepoints of hvx_trace.h. */
#define CREATE_TRACE_POINTS
#include "hvx_trace.h"
