/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx: tracepoints, trace system "hvx" (perf record -e 'hvx:*',
 * trace-cmd record -e hvx, /sys/kernel/tracing/events/hvx/).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM hvx

#if !defined(HVX_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define HVX_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(hvx_entry,
	    TP_PROTO(u32 vm_id, u32 vcpu_id, u64 rip),
	    TP_ARGS(vm_id, vcpu_id, rip),
	    TP_STRUCT__entry(__field(u32, vm_id)
			     __field(u32, vcpu_id)
			     __field(u64, rip)),
	    TP_fast_assign(__entry->vm_id = vm_id;
			   __entry->vcpu_id = vcpu_id;
			   __entry->rip = rip;),
	    TP_printk("vm %u vcpu %u rip 0x%llx", __entry->vm_id, __entry->vcpu_id,
		      __entry->rip)
);

TRACE_EVENT(hvx_exit,
	    TP_PROTO(u32 vm_id, u32 vcpu_id, u64 code, u64 rip, u64 info1, u64 info2),
	    TP_ARGS(vm_id, vcpu_id, code, rip, info1, info2),
	    TP_STRUCT__entry(__field(u32, vm_id)
			     __field(u32, vcpu_id)
			     __field(u64, code)
			     __field(u64, rip)
			     __field(u64, info1)
			     __field(u64, info2)),
	    TP_fast_assign(__entry->vm_id = vm_id;
			   __entry->vcpu_id = vcpu_id;
			   __entry->code = code;
			   __entry->rip = rip;
			   __entry->info1 = info1;
			   __entry->info2 = info2;),
	    TP_printk("vm %u vcpu %u reason 0x%llx rip 0x%llx info 0x%llx 0x%llx",
		      __entry->vm_id, __entry->vcpu_id, __entry->code, __entry->rip,
		      __entry->info1, __entry->info2)
);

TRACE_EVENT(hvx_inject,
	    TP_PROTO(u32 vm_id, u32 vcpu_id, u32 type, u32 vector),
	    TP_ARGS(vm_id, vcpu_id, type, vector),
	    TP_STRUCT__entry(__field(u32, vm_id)
			     __field(u32, vcpu_id)
			     __field(u32, type)
			     __field(u32, vector)),
	    TP_fast_assign(__entry->vm_id = vm_id;
			   __entry->vcpu_id = vcpu_id;
			   __entry->type = type;
			   __entry->vector = vector;),
	    TP_printk("vm %u vcpu %u type %u vector %u", __entry->vm_id, __entry->vcpu_id,
		      __entry->type, __entry->vector)
);

TRACE_EVENT(hvx_userspace_exit,
	    TP_PROTO(u32 vm_id, u32 vcpu_id, u32 reason, int ret),
	    TP_ARGS(vm_id, vcpu_id, reason, ret),
	    TP_STRUCT__entry(__field(u32, vm_id)
			     __field(u32, vcpu_id)
			     __field(u32, reason)
			     __field(int, ret)),
	    TP_fast_assign(__entry->vm_id = vm_id;
			   __entry->vcpu_id = vcpu_id;
			   __entry->reason = reason;
			   __entry->ret = ret;),
	    TP_printk("vm %u vcpu %u exit_reason %u ret %d", __entry->vm_id,
		      __entry->vcpu_id, __entry->reason, __entry->ret)
);

TRACE_EVENT(hvx_page_fault,
	    TP_PROTO(u32 vm_id, u32 vcpu_id, u64 gpa, bool write, int result),
	    TP_ARGS(vm_id, vcpu_id, gpa, write, result),
	    TP_STRUCT__entry(__field(u32, vm_id)
			     __field(u32, vcpu_id)
			     __field(u64, gpa)
			     __field(bool, write)
			     __field(int, result)),
	    TP_fast_assign(__entry->vm_id = vm_id;
			   __entry->vcpu_id = vcpu_id;
			   __entry->gpa = gpa;
			   __entry->write = write;
			   __entry->result = result;),
	    TP_printk("vm %u vcpu %u gpa 0x%llx %s result %d", __entry->vm_id,
		      __entry->vcpu_id, __entry->gpa, __entry->write ? "write" : "read",
		      __entry->result)
);

#endif /* HVX_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE hvx_trace
#include <trace/define_trace.h>
