/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-side conventions shared by the guest code (.S) and the tests (.c).
 *
 * Port protocol (all OUTs with EAX unless noted):
 *   PORT_PUTC    byte (AL): console character, collected by the host
 *   PORT_REPORT  a 32-bit value appended to the host's report list
 *   PORT_DONE    the guest finished; EAX is its result
 *   PORT_FAIL    a guest assertion failed; EAX is the .S line number
 *   PORT_EXC     exception/interrupt handler: three OUTs per event
 *                (vector, error code, low 32 bits of the saved RIP)
 *   PORT_ASSERT  a C guest's assertion failed (guest_c.h): EAX is the
 *                address of a struct guest_assert
 *
 * Guest memory map (guest-physical):
 *   0x0000-0x7fff  libhvx tables (HVX_LAYOUT_*)
 *   0x8000         IDT (256 16-byte gates) built by the host when asked
 *   0x9000         exception stubs (guest_idt64)
 *   0x10000        guest code (GUEST_CODE_GPA)
 *   0x30000        guest data page, free for tests (GUEST_DATA_GPA)
 *   0x40000        extra page tables built by tests (GUEST_PT_GPA)
 *   0x80000        top of the initial stack (GUEST_STACK_TOP)
 */
#ifndef HVX_SELFTEST_GUEST_H
#define HVX_SELFTEST_GUEST_H

#define PORT_PUTC		0xe9
#define PORT_DONE		0xf4
#define PORT_FAIL		0xf5
#define PORT_REPORT		0xf6
#define PORT_EXC		0xf7
#define PORT_ASSERT		0xf8

#define GUEST_IDT_GPA		0x8000
#define GUEST_STUBS_GPA		0x9000
#define GUEST_CODE_GPA		0x10000
#define GUEST_DATA_GPA		0x30000
#define GUEST_PT_GPA		0x40000
#define GUEST_STACK_TOP		0x80000
#define GUEST_MIN_MEM		0x100000

/* Exception stubs are 16 bytes apart, vector v at GUEST_STUBS_GPA + 16 * v. */
#define GUEST_STUB_SIZE		16

#ifndef __ASSEMBLER__
/* What a C guest's failed GUEST_ASSERT_EQ() leaves for the host. */
struct guest_assert {
	unsigned long long a, b;	/* the two sides' values */
	unsigned long long expr;	/* address of the expression's text */
	unsigned long long file;	/* address of the file name */
	unsigned int line;
	unsigned int pad;
};
#endif

#ifdef __ASSEMBLER__

/* No executable stack for the test programs. */
	.pushsection .note.GNU-stack, "", @progbits
	.popsection

/* Guest code blob: copied verbatim into guest RAM, so position independent. */
#define GUEST_BEGIN(name)			\
	.section .rodata.guest, "a";		\
	.balign 16;				\
	.globl name##_start;			\
	name##_start:

#define GUEST_END(name)				\
	.globl name##_end;			\
	name##_end:

/* Guest-physical address of a label of blob `base` loaded at GUEST_CODE_GPA. */
#define GPA(base, label)	((label) - (base) + GUEST_CODE_GPA)

/* Export a label so the host can compute its guest address. */
#define GLABEL(name)	.globl name; name:

/* The macros below clobber EAX and EDX; they work in 16, 32 and 64-bit code. */
#define OUT32(port, val)	mov val, %eax; mov $(port), %dx; out %eax, %dx

#define GUEST_REPORT(val)	OUT32(PORT_REPORT, val)
#define GUEST_PUTC(c)		mov $(c), %al; mov $PORT_PUTC, %dx; out %al, %dx

/* Finish with a result; a host that resumes anyway finds a HLT loop. */
#define GUEST_DONE(val)		OUT32(PORT_DONE, val); 9990: hlt; jmp 9990b

#define GUEST_FAIL		OUT32(PORT_FAIL, $__LINE__); 9991: hlt; jmp 9991b

/* Assert reg == imm (32-bit sign-extended immediate in 64-bit code). */
#define GUEST_ASSERT_EQ(reg, imm)	\
	cmp $(imm), reg; je 9992f; GUEST_FAIL; 9992:

/*
 * Hypercall site: VMMCALL (0f 01 d9).  Each site is recorded in section
 * hvx_hcall_sites so the host turns it into VMCALL (0f 01 c1) on Intel.
 */
#define HYPERCALL				\
	9993: .byte 0x0f, 0x01, 0xd9;		\
	.pushsection hvx_hcall_sites, "a";	\
	.quad 9993b;				\
	.popsection

#endif /* __ASSEMBLER__ */

#endif /* HVX_SELFTEST_GUEST_H */
