// SPDX-License-Identifier: GPL-2.0
/*
 * hvx: per-vCPU counters and the events sent to the netlink "events"
 * group.  Counters are plain u64 written by the vCPU's own thread only (no
 * atomics, no locks on the exit path); readers see each value whole.
 */
#include <linux/module.h>
#include <linux/jump_label.h>

#include "hvx_core.h"

DEFINE_STATIC_KEY_TRUE(hvx_stats_on);

static bool stats = true;
module_param(stats, bool, 0444);
MODULE_PARM_DESC(stats, "Keep per-vCPU counters (default on; off only to measure their cost)");

void hvx_stats_init(void)
{
	if (!stats)
		static_branch_disable(&hvx_stats_on);
}
