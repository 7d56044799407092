/* SPDX-License-Identifier: GPL-2.0 */
/* The ipihlt benchmark: see bench-apic.h. */
#define BENCH_HLT
#include "bench-apic.h"
