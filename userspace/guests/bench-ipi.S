/* SPDX-License-Identifier: GPL-2.0 */
/* The ipi benchmark: see bench-apic.h. */
#include "bench-apic.h"
