/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A seeded pseudo-random sequence for the fuzzers: xorshift64*, small and
 * reproducible from its seed; the caller owns the state (per thread, per
 * guest), so runs replay exactly.  Not for anything secret.
 */
#ifndef HVX_SELFTEST_RNG_H
#define HVX_SELFTEST_RNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* A state of 0 would stay 0: any seed maps to a non-zero one. */
static inline uint64_t rng_seed(uint64_t seed)
{
	return seed ? seed : 1;
}

static inline uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* In [0, n); 0 if n is 0.  The modulo's bias does not matter here. */
static inline uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return n ? rng_next(s) % n : 0;
}

static inline void rng_fill(uint64_t *s, void *p, size_t n)
{
	unsigned char *b = p;

	while (n--)
		*b++ = rng_next(s);
}

/* A numeric environment setting (any base strtoul takes), or @def. */
static inline unsigned long env_ul(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

#endif
