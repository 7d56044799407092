/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code in C (NAME_cguest.c): 64-bit, freestanding, linked at
 * GUEST_CODE_GPA by lib/guest_c.ld into one image that the test loads
 * whole.  Each GUEST_ENTRY(fn) is an entry point: the host sets RIP to
 * fn's address (FN_ENTRY_GPA in the generated NAME_cguest.h) and RBX to
 * its argument; what fn returns goes to PORT_DONE.  The guest speaks the
 * port protocol of guest.h; GUEST_ASSERT_EQ() reports both values, the
 * expression, file and line, which tvm_describe() shows.
 *
 * The guest runs identity-mapped, so its addresses are guest-physical.
 * Built with general registers only: SSE and x87 only in inline asm.
 */
#ifndef HVX_SELFTEST_GUEST_C_H
#define HVX_SELFTEST_GUEST_C_H

#include <stdint.h>
#include "guest.h"

#define GUEST_STR_(x)	#x
#define GUEST_STR(x)	GUEST_STR_(x)

static inline void guest_out32(uint16_t port, uint32_t val)
{
	asm volatile("outl %0, %1" : : "a"(val), "Nd"(port) : "memory");
}

static inline __attribute__((noreturn)) void guest_halt(void)
{
	for (;;)
		asm volatile("hlt");
}

#define GUEST_REPORT(val)	guest_out32(PORT_REPORT, (uint32_t)(val))
#define GUEST_DONE(val)		do { guest_out32(PORT_DONE, (uint32_t)(val)); guest_halt(); } while (0)

static inline __attribute__((noreturn)) void
guest_assert_fail(const char *expr, const char *file, unsigned int line, uint64_t a, uint64_t b)
{
	struct guest_assert ga = {
		.a = a, .b = b,
		.expr = (uintptr_t)expr, .file = (uintptr_t)file, .line = line,
	};

	guest_out32(PORT_ASSERT, (uint32_t)(uintptr_t)&ga);
	guest_halt();
}

/* Fails the guest, with both values, unless @a == @b (compared as u64). */
#define GUEST_ASSERT_EQ(a, b) do {						\
	uint64_t __a = (uint64_t)(a), __b = (uint64_t)(b);			\
	if (__a != __b)								\
		guest_assert_fail(#a " == " #b, __FILE__, __LINE__, __a, __b);	\
} while (0)

/*
 * Entry point fn_entry: calls uint32_t fn(uint64_t arg) with arg = RBX and
 * writes its result to PORT_DONE.
 */
#define GUEST_ENTRY(fn)								\
	uint32_t fn(uint64_t arg) __attribute__((used, noinline));		\
	asm(".pushsection .text.entry, \"ax\"\n"				\
	    ".balign 16\n"							\
	    ".globl " #fn "_entry\n"						\
	    #fn "_entry:\n"							\
	    "	mov %rbx, %rdi\n"						\
	    "	call " #fn "\n"							\
	    "	mov $" GUEST_STR(PORT_DONE) ", %dx\n"				\
	    "	out %eax, %dx\n"						\
	    "1:	hlt\n"								\
	    "	jmp 1b\n"							\
	    ".popsection\n")

#endif /* HVX_SELFTEST_GUEST_C_H */
