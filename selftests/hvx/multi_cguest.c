// SPDX-License-Identifier: GPL-2.0
/* Guest code for multi_test.c, in C (lib/guest_c.h). */
#include "guest_c.h"

#define LCG_MUL		6364136223846793005ULL
#define LCG_INC		1442695040888963407ULL

/* 2000 LCG steps from @seed, reporting the low half every 500; the high half is the result. */
GUEST_ENTRY(multi_calc);
uint32_t multi_calc(uint64_t x)
{
	int i, k;

	for (i = 0; i < 4; i++) {
		for (k = 0; k < 500; k++)
			x = x * LCG_MUL + LCG_INC;
		GUEST_REPORT(x);
	}
	return x >> 32;
}

/* Reports the vCPU's @id, adds 1 to the shared counter 1000 times. */
GUEST_ENTRY(multi_vcpu);
uint32_t multi_vcpu(uint64_t id)
{
	uint32_t *counter = (uint32_t *)GUEST_DATA_GPA;
	int i;

	GUEST_REPORT(id);
	for (i = 0; i < 1000; i++)
		__atomic_fetch_add(counter, 1, __ATOMIC_SEQ_CST);
	return id;
}

/*
 * 200 rounds of 50 LCG steps from @seed, reporting the low half after
 * each round (the host moves the vCPU thread to another CPU at every
 * report); the high half is the result.  XMM0 counts the rounds alongside,
 * so vector registers cross the moves too.
 */
GUEST_ENTRY(multi_migrate);
uint32_t multi_migrate(uint64_t x)
{
	uint64_t rounds;
	int i, k;

	/* CR4.OSFXSR; XMM1 = 1, XMM0 = 0. */
	asm volatile("mov %%cr4, %%rax\n\tor $0x200, %%rax\n\tmov %%rax, %%cr4\n\t"
		     "pxor %%xmm0, %%xmm0\n\tmov $1, %%eax\n\tmovq %%rax, %%xmm1" : : : "rax");
	for (i = 0; i < 200; i++) {
		for (k = 0; k < 50; k++)
			x = x * LCG_MUL + LCG_INC;
		asm volatile("paddq %xmm1, %xmm0");
		GUEST_REPORT(x);
	}
	asm volatile("movq %%xmm0, %0" : "=r"(rounds));
	GUEST_ASSERT_EQ(rounds, 200);
	return x >> 32;
}

/* Fails a guest assertion unless @arg is 42: the host checks what it reports. */
GUEST_ENTRY(multi_assert);
uint32_t multi_assert(uint64_t arg)
{
	GUEST_ASSERT_EQ(arg, 42);
	return 1;
}
