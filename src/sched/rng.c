/*
 * rng.c - the scheduler's deterministic PRNG: xoshiro256** seeded through
 * splitmix64.  No global state: every stream lives in a struct gr_sched_rng
 * (one in each snapshot), so a seed fixes every random choice.
 */
#include "sched/sched.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void gr_sched_rng_seed(struct gr_sched_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t gr_sched_rng_next(struct gr_sched_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double gr_sched_rng_double(struct gr_sched_rng *r)
{
	return (double)(gr_sched_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Lemire's nearly-divisionless bounded draw, with rejection for exactness. */
uint64_t gr_sched_rng_below(struct gr_sched_rng *r, uint64_t n)
{
	if (n <= 1)
		return 0;
	uint64_t threshold = -n % n;
	for (;;) {
		uint64_t x = gr_sched_rng_next(r);
		unsigned __int128 m = (unsigned __int128)x * n;
		if ((uint64_t)m >= threshold)
			return (uint64_t)(m >> 64);
	}
}
