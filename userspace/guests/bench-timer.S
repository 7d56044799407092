/* SPDX-License-Identifier: GPL-2.0 */
/* The timer benchmark: see bench-apic.h. */
#define BENCH_TIMER
#include "bench-apic.h"
