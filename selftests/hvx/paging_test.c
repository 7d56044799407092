// SPDX-License-Identifier: GPL-2.0
/*
 * Paging conformance.  For each guest paging mode (32-bit 2-level with
 * 4 KiB and 4 MiB pages, PAE with 4 KiB and 2 MiB pages, 4-level with
 * 4 KiB, 2 MiB and 1 GiB pages) the test builds a translation path for one
 * target address and varies P/RW/US/NX/A/D, reserved bits and the page size
 * at every level; under each relevant CR0.WP / CR4.SMEP / CR4.SMAP /
 * RFLAGS.AC / EFER.NXE setting the guest reads, writes and fetches at the
 * target from CPL 0 and CPL 3.  Each case records the outcome (done, or #PF
 * with its error code and CR2, as the guest's own handler saw them) and
 * every entry of the path afterwards (A/D bits).
 *
 * Every outcome is checked against the architecture's rules (Intel SDM
 * vol. 3A ch. 4, AMD APM vol. 2 ch. 5), computed by a model below; where a
 * rule leaves a choice to the implementation (A bits of a walk that ends in
 * a fault) it is not checked.  Under nested paging the (emulated) CPU walks
 * the guest's tables itself: its results are the reference, and a VM with
 * shadow paging must produce the same results, case for case.
 *
 * The page-table entries of the path are written by the guest itself (the
 * runner in paging_guest.S) followed by a CR3 reload, as an OS would; the
 * host writes only the descriptor of the case.
 */
#include <cpuid.h>
#include <stdint.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "test_util.h"
#include "paging_guest.h"

GUEST_CODE(paging_guest);
extern const unsigned char pg_run32[], pg_access32[], pg_run64[], pg_access64[];

#define MEM_SIZE	(4ULL << 20)

/* Guest-physical layout (the descriptor and stack: paging_guest.h). */
#define GDT_GPA		0x1000
#define TSS32_GPA	0x2000
#define TSS64_GPA	0x2100
#define IDT_GPA		0x3000
#define STUBS_GPA	0x4000
#define DATA_GPA	GUEST_DATA_GPA		/* the target page */
#define IDMAP_END	0x80000			/* identity map (supervisor) */
#define UALIAS		0x100000		/* user alias of the code */
#define UALIAS_PAGES	16

/* Page tables: infrastructure (identity map) and the target path. */
#define M32_PD		0x20000
#define M32_PT		0x21000
#define M32_TPT		0x22000
#define PAE_PDPT	0x23000
#define PAE_PD		0x24000
#define PAE_PT		0x25000
#define PAE_TPD		0x26000
#define PAE_TPT		0x27000
#define LM_PML4		0x28000
#define LM_PDPT		0x29000
#define LM_PD		0x2a000
#define LM_PT		0x2b000
#define LM_TPDPT	0x2c000
#define LM_TPD		0x2d000
#define LM_TPT		0x2e000

#define T32		(0x40000000ULL + DATA_GPA)	/* 32-bit and PAE target */
#define T64		(0x8000000000ULL + DATA_GPA)	/* 4-level target */

#define P	(1ULL << 0)
#define RW	(1ULL << 1)
#define US	(1ULL << 2)
#define A	(1ULL << 5)
#define D	(1ULL << 6)
#define PS	(1ULL << 7)
#define NX	(1ULL << 63)
#define RSVD_HI	(1ULL << 51)	/* above MAXPHYADDR when that is < 52 */
#define RSVD_LG	(1ULL << 13)	/* inside a large page's frame offset */

/* #PF error code bits. */
#define EC_P		(1U << 0)
#define EC_W		(1U << 1)
#define EC_U		(1U << 2)
#define EC_RSVD		(1U << 3)
#define EC_I		(1U << 4)

#define DATA_WORD	0xc0ffee11U

enum pg_mode { M32, PAE, LM };

/* Kinds of paging-structure entries: they differ in reserved bits. */
enum kind { K_PD32, K_PT32, K_PDPTE_PAE, K_PDE_PAE, K_PTE_PAE, K_PML4E, K_PDPTE, K_PDE, K_PTE };

#define MAX_LEVELS	4

struct group {
	const char *name;
	enum pg_mode mode;
	unsigned int nlev;
	bool large;			/* the last level maps a large page */
	enum kind kind[MAX_LEVELS];
	__u64 table[MAX_LEVELS];	/* table holding the level's entry */
	unsigned int index[MAX_LEVELS];
	bool pse_off;			/* CR4.PSE clear: the PDE's PS bit is ignored */
};

static const struct group groups[] = {
	{ "32-bit 4K", M32, 2, false, { K_PD32, K_PT32 }, { M32_PD, M32_TPT }, { 256, 0x30 }, false },
	{ "32-bit 4M", M32, 1, true, { K_PD32 }, { M32_PD }, { 256 }, false },
	{ "32-bit 4K PS ignored", M32, 2, false, { K_PD32, K_PT32 }, { M32_PD, M32_TPT },
	  { 256, 0x30 }, true },
	{ "PAE 4K", PAE, 3, false, { K_PDPTE_PAE, K_PDE_PAE, K_PTE_PAE },
	  { PAE_PDPT, PAE_TPD, PAE_TPT }, { 1, 0, 0x30 }, false },
	{ "PAE 2M", PAE, 2, true, { K_PDPTE_PAE, K_PDE_PAE }, { PAE_PDPT, PAE_TPD }, { 1, 0 },
	  false },
	{ "4-level 4K", LM, 4, false, { K_PML4E, K_PDPTE, K_PDE, K_PTE },
	  { LM_PML4, LM_TPDPT, LM_TPD, LM_TPT }, { 1, 0, 0, 0x30 }, false },
	{ "4-level 2M", LM, 3, true, { K_PML4E, K_PDPTE, K_PDE },
	  { LM_PML4, LM_TPDPT, LM_TPD }, { 1, 0, 0 }, false },
	{ "4-level 1G", LM, 2, true, { K_PML4E, K_PDPTE }, { LM_PML4, LM_TPDPT }, { 1, 0 },
	  false },
};
#define NR_GROUPS	(sizeof(groups) / sizeof(groups[0]))

/* Settings: bits of one number, each relevant only to some accesses. */
#define S_WP		(1U << 0)
#define S_SMEP		(1U << 1)
#define S_SMAP		(1U << 2)
#define S_AC		(1U << 3)
#define S_NXE		(1U << 4)
#define NR_SETTINGS	32

struct pcase {
	unsigned int group;
	__u64 ent[MAX_LEVELS];		/* entries written before the access */
	unsigned int settings;
	unsigned int access;		/* PG_READ, PG_WRITE, PG_FETCH */
	bool user;
};

struct presult {
	__u32 res;			/* PG_RES_* or 0xdead0000 | exit */
	__u32 ec;
	__u64 cr2;
	__u32 value;			/* read: value read; write: data word after */
	__u64 ent[MAX_LEVELS];		/* entries after the access */
};

struct host_cpu {
	bool smep, smap, gbpages, tcg;
	unsigned int maxphy;
};

static void host_cpu(struct host_cpu *h)
{
	unsigned int a, b, c, d;
	char sig[13];

	memset(h, 0, sizeof(*h));
	h->maxphy = 36;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
		h->smep = b & (1U << 7);
		h->smap = b & (1U << 20);
	}
	if (__get_cpuid(0x80000001, &a, &b, &c, &d))
		h->gbpages = d & (1U << 26);
	if (__get_cpuid(0x80000008, &a, &b, &c, &d))
		h->maxphy = a & 0xff;
	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = 0;
	h->tcg = !strcmp(sig, "TCGTCGTCGTCG");
}

/* ---- the architecture's rules -------------------------------------------- */

static bool is_leaf(const struct group *g, unsigned int lvl)
{
	return lvl == g->nlev - 1;
}

static __u64 rsvd_mask(const struct host_cpu *h, const struct group *g, unsigned int lvl,
		       __u64 e, bool nxe)
{
	__u64 addr_hi = h->maxphy < 52 ? ((1ULL << 52) - 1) & ~((1ULL << h->maxphy) - 1) : 0;
	__u64 m = 0;

	switch (g->kind[lvl]) {
	case K_PD32:
	case K_PT32:
		return 0;
	case K_PDPTE_PAE:
		/* SDM Table 4-8: bits 2:1, 8:5 and 63:MAXPHYADDR. */
		return 0x1e6ULL | addr_hi | (0xfffULL << 52);
	case K_PML4E:
		m = PS;
		break;
	case K_PDPTE:
		if (e & PS)
			m = h->gbpages ? 0x3fffe000ULL : PS;
		break;
	case K_PDE:
	case K_PDE_PAE:
		if (e & PS)
			m = 0x1fe000ULL;
		break;
	default:
		break;
	}
	if (g->kind[lvl] == K_PDE_PAE || g->kind[lvl] == K_PTE_PAE)
		addr_hi |= 0x7ffULL << 52;	/* PAE: bits 62:52 too (SDM Tables 4-10, 4-11) */
	return m | addr_hi | (nxe ? 0 : NX);
}

/* The expected outcome of c; also the expected entries after (when defined). */
static void model(const struct host_cpu *h, const struct pcase *c, struct presult *r,
		  __u64 *defined)
{
	const struct group *g = &groups[c->group];
	bool nxe = c->settings & S_NXE, wp = c->settings & S_WP;
	bool smep = c->settings & S_SMEP, smap = c->settings & S_SMAP;
	bool ac = c->settings & S_AC;
	bool w = c->access == PG_WRITE, x = c->access == PG_FETCH;
	bool rw_all = true, us_all = true, nx_any = false, ok;
	__u64 target = (g->mode == LM ? T64 : T32) + (x ? 0 : PG_RW_OFF);
	__u32 ec = (w ? EC_W : 0) | (c->user ? EC_U : 0);
	unsigned int lvl;

	/* SDM 4.7: I/D is reported with SMEP, or with NXE under PAE/4-level paging. */
	if (x && (smep || (nxe && g->mode != M32)))
		ec |= EC_I;
	memset(r, 0, sizeof(*r));
	memcpy(r->ent, c->ent, sizeof(r->ent));
	for (lvl = 0; lvl < MAX_LEVELS; lvl++)
		defined[lvl] = ~0ULL;
	r->value = x ? 0 : DATA_WORD;

	for (lvl = 0; lvl < g->nlev; lvl++) {
		__u64 e = c->ent[lvl];

		if (!(e & P)) {
			r->res = PG_RES_PF;
			r->ec = ec;
			r->cr2 = target;
			goto fault;
		}
		if (e & rsvd_mask(h, g, lvl, e, nxe)) {
			r->res = PG_RES_PF;
			r->ec = ec | EC_P | EC_RSVD;
			r->cr2 = target;
			goto fault;
		}
		if (g->kind[lvl] != K_PDPTE_PAE) {
			rw_all &= !!(e & RW);
			us_all &= !!(e & US);
			nx_any |= nxe && (e & NX);
		}
	}

	/* SDM 4.6, APM 5.6: access rights of the whole walk. */
	if (c->user) {
		ok = us_all && (!w || rw_all) && (!x || !nx_any);
	} else if (x) {
		ok = !nx_any && !(smep && us_all);
	} else {
		ok = !(us_all && smap && !ac) && (!w || rw_all || !wp);
	}
	if (!ok) {
		r->res = PG_RES_PF;
		r->ec = ec | EC_P;
		r->cr2 = target;
		lvl = g->nlev;
		goto fault;
	}
	r->res = x ? PG_RES_FETCHED : PG_RES_OK;
	if (w)
		r->value = PG_WRITE_MARK;
	/* SDM 4.8: A set in every entry used, D in the leaf on a write. */
	for (lvl = 0; lvl < g->nlev; lvl++) {
		if (g->kind[lvl] == K_PDPTE_PAE)
			continue;	/* no A bit: bit 5 is reserved there */
		r->ent[lvl] |= A;
		if (is_leaf(g, lvl) && w)
			r->ent[lvl] |= D;
	}
	return;

fault:
	/*
	 * Whether the entries walked before the fault get their A bit is the
	 * implementation's choice; entries past the fault are not touched and
	 * the leaf's D bit is not set by a faulting access.
	 */
	{
		unsigned int i;

		for (i = 0; i < lvl && i < g->nlev; i++)
			defined[i] = ~A;
		if (lvl < g->nlev)
			defined[lvl] = ~A;
	}
}

/* ---- building the cases -------------------------------------------------- */

struct caselist {
	struct pcase *c;
	unsigned int n, cap;
};

static void add_case(struct caselist *l, const struct pcase *c)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4096;
		l->c = realloc(l->c, l->cap * sizeof(*l->c));
		if (!l->c)
			abort();
	}
	l->c[l->n++] = *c;
}

/* Next table of level lvl's entry, or the frame of a leaf. */
static __u64 entry_addr(const struct group *g, unsigned int lvl)
{
	if (is_leaf(g, lvl))
		return g->large ? 0 : DATA_GPA;	/* large pages: frame 0 holds DATA_GPA */
	return g->table[lvl + 1];
}

static __u64 base_entry(const struct group *g, unsigned int lvl)
{
	__u64 e = entry_addr(g, lvl) | P;

	if (g->kind[lvl] == K_PDPTE_PAE)
		return e;
	e |= RW | US;
	if ((is_leaf(g, lvl) && g->large) || (lvl == 0 && g->pse_off))
		e |= PS;
	return e;
}

static bool settings_relevant(const struct group *g, const struct host_cpu *h,
			      unsigned int s, unsigned int access, bool user)
{
	if ((s & S_SMEP) && !h->smep)
		return false;
	if ((s & (S_SMAP | S_AC)) && !h->smap)
		return false;
	if ((s & S_AC) && !(s & S_SMAP))
		return false;
	if ((s & S_NXE) && g->mode == M32)
		return false;
	if ((s & S_WP) && (user || access != PG_WRITE))
		return false;
	if ((s & (S_SMAP | S_AC)) && (user || access == PG_FETCH))
		return false;
	if ((s & S_SMEP) && (user || access != PG_FETCH))
		return false;
	return true;
}

/* Settings the CPU has, whether or not they matter to the access. */
static bool settings_possible(const struct group *g, const struct host_cpu *h, unsigned int s)
{
	if ((s & S_SMEP) && !h->smep)
		return false;
	if ((s & S_SMAP) && !h->smap)
		return false;
	/* NXE under 32-bit paging: whether a fetch's #PF has I/D differs by vendor. */
	return !((s & S_NXE) && g->mode == M32);
}

static void add_path(struct caselist *l, const struct host_cpu *h, unsigned int gi,
		     const __u64 *ent, bool all_settings)
{
	const struct group *g = &groups[gi];
	struct pcase c = { .group = gi };
	unsigned int s, access, user;

	memcpy(c.ent, ent, sizeof(c.ent));
	for (user = 0; user < 2; user++)
		for (access = PG_READ; access <= PG_FETCH; access++)
			for (s = 0; s < NR_SETTINGS; s++) {
				if (all_settings ? !settings_possible(g, h, s) :
				    !settings_relevant(g, h, s, access, user))
					continue;
				c.settings = s;
				c.access = access;
				c.user = user;
				add_case(l, &c);
			}
}

static unsigned int rnd(unsigned int *state)
{
	*state = *state * 1103515245U + 12345U;
	return *state >> 16;
}

static void build_cases(struct caselist *l, const struct host_cpu *h)
{
	unsigned int gi, lvl, combo, i, seed = 1;

	for (gi = 0; gi < NR_GROUPS; gi++) {
		const struct group *g = &groups[gi];
		unsigned int leaf = g->nlev - 1;
		__u64 base[MAX_LEVELS] = { 0 }, e[MAX_LEVELS];
		bool has_nx = g->mode != M32;

		if (g->mode == LM && g->large && g->nlev == 2 && !h->gbpages)
			continue;
		for (lvl = 0; lvl < g->nlev; lvl++)
			base[lvl] = base_entry(g, lvl);
		/* Every setting, also those that must not matter to the access. */
		add_path(l, h, gi, base, true);

		/* RW, US, NX cleared/set at one level, the others permissive. */
		for (lvl = 0; lvl < g->nlev; lvl++) {
			if (g->kind[lvl] == K_PDPTE_PAE)
				continue;
			for (combo = 1; combo < 8; combo++) {
				if ((combo & 4) && !has_nx)
					continue;
				memcpy(e, base, sizeof(e));
				if (combo & 1)
					e[lvl] &= ~RW;
				if (combo & 2)
					e[lvl] &= ~US;
				if (combo & 4)
					e[lvl] |= NX;
				add_path(l, h, gi, e, false);
			}
		}
		/* Not present at one level. */
		for (lvl = 0; lvl < g->nlev; lvl++) {
			memcpy(e, base, sizeof(e));
			e[lvl] &= ~P;
			add_path(l, h, gi, e, false);
		}
		/* A and D already set. */
		memcpy(e, base, sizeof(e));
		e[leaf] |= A;
		add_path(l, h, gi, e, false);
		e[leaf] |= D;
		add_path(l, h, gi, e, false);
		for (lvl = 0; lvl < g->nlev; lvl++)
			if (g->kind[lvl] != K_PDPTE_PAE)
				e[lvl] |= A;
		add_path(l, h, gi, e, false);
		/* Bit 6 of a non-leaf entry is ignored: D there changes nothing. */
		for (lvl = 0; lvl < leaf; lvl++)
			if (g->kind[lvl] != K_PDPTE_PAE)
				e[lvl] |= D;
		add_path(l, h, gi, e, false);
		/* Reserved bits. */
		if (g->mode != M32) {
			for (lvl = 0; lvl < g->nlev && h->maxphy < 52; lvl++) {
				if (g->kind[lvl] == K_PDPTE_PAE)
					continue;	/* #GP at the CR3 load, not #PF */
				memcpy(e, base, sizeof(e));
				e[lvl] |= RSVD_HI;
				add_path(l, h, gi, e, false);
			}
			if (g->large) {
				memcpy(e, base, sizeof(e));
				e[leaf] |= RSVD_LG;
				add_path(l, h, gi, e, false);
			}
			if (g->mode == LM) {
				memcpy(e, base, sizeof(e));
				e[0] |= PS;
				add_path(l, h, gi, e, false);
			}
		}
		/* Mixed: random RW/US/NX/A at every level, D at the leaf. */
		for (i = 0; i < 24; i++) {
			for (lvl = 0; lvl < g->nlev; lvl++) {
				unsigned int r = rnd(&seed);

				e[lvl] = base[lvl];
				if (g->kind[lvl] == K_PDPTE_PAE)
					continue;
				if (r & 1)
					e[lvl] &= ~RW;
				if (r & 2)
					e[lvl] &= ~US;
				if ((r & 4) && has_nx)
					e[lvl] |= NX;
				if (r & 8)
					e[lvl] |= A;
				if ((r & 16) && lvl == leaf)
					e[lvl] |= D;
			}
			add_path(l, h, gi, e, false);
		}
	}
}

/* ---- running them ------------------------------------------------------------ */

static void put64(struct tvm *t, __u64 gpa, __u64 v)
{
	memcpy(t->mem + gpa, &v, 8);
}

static void put32(struct tvm *t, __u64 gpa, __u32 v)
{
	memcpy(t->mem + gpa, &v, 4);
}

static __u64 get_entry(struct tvm *t, enum pg_mode mode, __u64 gpa)
{
	__u64 v = 0;

	memcpy(&v, t->mem + gpa, mode == M32 ? 4 : 8);
	return v;
}

static __u64 idt_gate(__u64 handler, __u16 sel)
{
	return (handler & 0xffff) | ((__u64)sel << 16) | (0x8eULL << 40) |
	       ((handler >> 16) & 0xffff) << 48;
}

/* The identity map and the user alias, for each paging mode. */
static void build_infra(struct tvm *t)
{
	static const unsigned char pf_stub[] = {
		0x0f, 0x20, 0xd3,	/* mov %cr2, %ebx (%rbx) */
		0x59,			/* pop %ecx (%rcx): the error code */
		0xb8, PG_RES_PF & 0xff, PG_RES_PF >> 8, 0, 0,	/* mov $PG_RES_PF, %eax */
		0xe7, PORT_DONE,	/* out %eax, $PORT_DONE */
		0xf4,			/* hlt */
	};
	static const unsigned char fetch_stub[] = {
		0xb8, PG_RES_FETCHED & 0xff, PG_RES_FETCHED >> 8, 0, 0,
		0xe7, PORT_DONE, 0xf4,
	};
	__u64 i, pa;

	/* GDT: see PG_SEL_*. */
	put64(t, GDT_GPA + PG_SEL_CODE32, 0x00cf9b000000ffffULL);
	put64(t, GDT_GPA + PG_SEL_DATA, 0x00cf93000000ffffULL);
	put64(t, GDT_GPA + (PG_SEL_UCODE32 & ~3), 0x00cffb000000ffffULL);
	put64(t, GDT_GPA + (PG_SEL_UDATA & ~3), 0x00cff3000000ffffULL);
	put64(t, GDT_GPA + PG_SEL_TSS32, 0x67 | ((__u64)TSS32_GPA << 16) | (0x8bULL << 40));
	put64(t, GDT_GPA + PG_SEL_CODE64, 0x00af9b000000ffffULL);
	put64(t, GDT_GPA + (PG_SEL_UCODE64 & ~3), 0x00affb000000ffffULL);
	put64(t, GDT_GPA + PG_SEL_TSS64, 0x67 | ((__u64)TSS64_GPA << 16) | (0x8bULL << 40));
	put64(t, GDT_GPA + PG_SEL_TSS64 + 8, 0);
	/* TSSs: the CPL 0 stack for faults taken at CPL 3. */
	put32(t, TSS32_GPA + 4, PG_STACK_TOP);
	put32(t, TSS32_GPA + 8, PG_SEL_DATA);
	put64(t, TSS64_GPA + 4, PG_STACK_TOP);
	/* Exception stubs: vector v reports PG_RES_EXC + v, #PF its CR2 and code. */
	for (i = 0; i < 32; i++) {
		unsigned char stub[8] = { 0xb8, (PG_RES_EXC + i) & 0xff, (PG_RES_EXC + i) >> 8,
					  0, 0, 0xe7, PORT_DONE, 0xf4 };

		memcpy(t->mem + STUBS_GPA + 16 * i, stub, sizeof(stub));
	}
	memcpy(t->mem + STUBS_GPA + 16 * 14, pf_stub, sizeof(pf_stub));
	memcpy(t->mem + DATA_GPA, fetch_stub, sizeof(fetch_stub));

	/* 32-bit: PDE 0 -> PT of 4 KiB pages. */
	put32(t, M32_PD, M32_PT | P | RW | US);
	/* PAE: PDPTE 0 -> PD 0 -> PT. */
	put64(t, PAE_PDPT, PAE_PD | P);
	put64(t, PAE_PD, PAE_PT | P | RW | US);
	/* 4-level: PML4E 0 -> PDPTE 0 -> PDE 0 -> PT. */
	put64(t, LM_PML4, LM_PDPT | P | RW | US);
	put64(t, LM_PDPT, LM_PD | P | RW | US);
	put64(t, LM_PD, LM_PT | P | RW | US);
	for (pa = 0; pa < IDMAP_END; pa += 0x1000) {
		put32(t, M32_PT + (pa >> 12) * 4, pa | P | RW);
		put64(t, PAE_PT + (pa >> 12) * 8, pa | P | RW);
		put64(t, LM_PT + (pa >> 12) * 8, pa | P | RW);
	}
	for (i = 0; i < UALIAS_PAGES; i++) {
		__u64 la = UALIAS + i * 0x1000;

		pa = GUEST_CODE_GPA + i * 0x1000;
		put32(t, M32_PT + (la >> 12) * 4, pa | P | US);
		put64(t, PAE_PT + (la >> 12) * 8, pa | P | US);
		put64(t, LM_PT + (la >> 12) * 8, pa | P | US);
	}
}

static void build_idt(struct tvm *t, enum pg_mode mode)
{
	unsigned int v;

	memset(t->mem + IDT_GPA, 0, 0x1000);
	for (v = 0; v < 32; v++) {
		__u64 h = STUBS_GPA + 16 * v;

		if (mode == LM) {
			put64(t, IDT_GPA + 16 * v, idt_gate(h, PG_SEL_CODE64));
			put64(t, IDT_GPA + 16 * v + 8, 0);
		} else {
			put64(t, IDT_GPA + 8 * v, idt_gate(h, PG_SEL_CODE32));
		}
	}
}

static struct hvx_segment seg(__u16 sel, __u8 type, int l, int db)
{
	return (struct hvx_segment){
		.limit = 0xffffffff, .selector = sel, .type = type, .present = 1,
		.s = 1, .l = l, .db = db, .g = 1,
	};
}

struct runner {
	struct tvm t;
	struct hvx_vcpu_state st;
	bool tcg;
};

static int runner_init(struct runner *r, __u32 paging, bool tcg)
{
	int ret = tvm_create_paging(&r->t, MEM_SIZE, paging, 0, 1);

	if (ret)
		return ret;
	r->tcg = tcg;
	tvm_load_code(&r->t, "paging_guest", paging_guest_start, paging_guest_end);
	build_infra(&r->t);
	memset(&r->st, 0, sizeof(r->st));
	ret = hvx_vcpu_get_state(&r->t.vcpu[0], &r->st,
				 HVX_STATE_REGS | HVX_STATE_SREGS | HVX_STATE_CREGS);
	if (ret)
		tvm_destroy(&r->t);
	return ret;
}

static void run_case(struct runner *rn, const struct pcase *c, struct presult *res)
{
	const struct group *g = &groups[c->group];
	struct hvx_vcpu_state *st = &rn->st;
	struct tvm *t = &rn->t;
	bool lm = g->mode == LM;
	__u64 target = lm ? T64 : T32;
	unsigned int lvl, s = c->settings;
	struct hvx_regs regs;
	int ret;

	/* The descriptor and the target page. */
	put32(t, PG_DESC_GPA, g->nlev);
	put32(t, PG_DESC_GPA + 4, c->access);
	put32(t, PG_DESC_GPA + 8, c->user);
	put64(t, PG_DESC_GPA + 16, target);
	put64(t, PG_DESC_GPA + 24, UALIAS + (GUEST_ADDR(paging_guest, lm ? pg_access64 :
							 pg_access32) - GUEST_CODE_GPA));
	for (lvl = 0; lvl < g->nlev; lvl++) {
		__u64 d = PG_DESC_GPA + PG_DESC_ENTRIES + lvl * PG_ENTRY_SIZE;

		put64(t, d, g->table[lvl] + g->index[lvl] * (g->mode == M32 ? 4 : 8));
		put64(t, d + 8, c->ent[lvl]);
		put32(t, d + 16, g->mode == M32 ? 4 : 8);
	}
	put32(t, DATA_GPA + PG_RW_OFF, DATA_WORD);
	build_idt(t, g->mode);

	memset(&st->regs, 0, sizeof(st->regs));
	st->regs.rip = GUEST_ADDR(paging_guest, lm ? pg_run64 : pg_run32);
	st->regs.rsp = PG_STACK_TOP;
	st->regs.rflags = 0x2 | RFLAGS_IOPL3 | ((s & S_AC) ? RFLAGS_AC : 0);
	st->sregs.cs = lm ? seg(PG_SEL_CODE64, 0xb, 1, 0) : seg(PG_SEL_CODE32, 0xb, 0, 1);
	st->sregs.ds = seg(PG_SEL_DATA, 0x3, 0, 1);
	st->sregs.es = st->sregs.ds;
	st->sregs.fs = st->sregs.ds;
	st->sregs.gs = st->sregs.ds;
	st->sregs.ss = st->sregs.ds;
	st->sregs.tr = (struct hvx_segment){
		.base = lm ? TSS64_GPA : TSS32_GPA, .limit = 0x67,
		.selector = lm ? PG_SEL_TSS64 : PG_SEL_TSS32, .type = 0xb, .present = 1,
	};
	/*
	 * QEMU TCG aborts the whole emulated machine ("invalid tss type") when
	 * a 32-bit TR caches the busy type (the architecture's, and what VM
	 * entry requires) on an interrupt from CPL 3: it expects the type LTR
	 * read before setting the busy bit.  Give it that, on TCG only.
	 */
	if (!lm && rn->tcg)
		st->sregs.tr.type = 0x9;
	st->sregs.gdt = (struct hvx_dtable){ .base = GDT_GPA, .limit = PG_SEL_TSS64 + 15 };
	st->sregs.idt = (struct hvx_dtable){ .base = IDT_GPA, .limit = lm ? 32 * 16 - 1 :
					     32 * 8 - 1 };
	st->cregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG | ((s & S_WP) ? CR0_WP : 0);
	st->cregs.cr2 = 0;
	st->cregs.cr3 = g->mode == M32 ? M32_PD : g->mode == PAE ? PAE_PDPT : LM_PML4;
	st->cregs.cr4 = (g->mode == M32 ? (g->pse_off ? 0 : CR4_PSE) : CR4_PAE) |
			((s & S_SMEP) ? CR4_SMEP : 0) | ((s & S_SMAP) ? CR4_SMAP : 0);
	st->cregs.efer = (lm ? EFER_LME | EFER_LMA : 0) | ((s & S_NXE) ? EFER_NXE : 0);

	memset(res, 0, sizeof(*res));
	memset(&t->io[0], 0, sizeof(t->io[0]));
	ret = hvx_vcpu_set_state(&t->vcpu[0], st,
				 HVX_STATE_REGS | HVX_STATE_SREGS | HVX_STATE_CREGS);
	if (ret) {
		res->res = 0xdead0000 | (-ret & 0xffff);
		return;
	}
	ret = tvm_run_guest(t, 0);
	if (ret != GUEST_EXIT_DONE) {
		res->res = 0xdead0000 | (ret & 0xffff);
		return;
	}
	res->res = t->io[0].done;
	if (tvm_get_regs(t, 0, &regs)) {
		res->res = 0xdead0000;
		return;
	}
	if (res->res == PG_RES_PF) {
		res->ec = (__u32)regs.rcx;
		res->cr2 = lm ? regs.rbx : (__u32)regs.rbx;
	}
	if (c->access == PG_READ)
		res->value = res->res == PG_RES_OK ? (__u32)regs.rcx : DATA_WORD;
	else if (c->access == PG_WRITE)
		memcpy(&res->value, t->mem + DATA_GPA + PG_RW_OFF, 4);
	for (lvl = 0; lvl < g->nlev; lvl++)
		res->ent[lvl] = get_entry(t, g->mode,
					  g->table[lvl] + g->index[lvl] * (g->mode == M32 ? 4 : 8));
}

/* ---- reporting -------------------------------------------------------------------- */

static const char *const access_name[] = { "read", "write", "fetch" };

static char *case_str(const struct pcase *c, char *buf, size_t len)
{
	const struct group *g = &groups[c->group];
	unsigned int lvl;
	int n;

	n = snprintf(buf, len, "%s %s %s WP=%d SMEP=%d SMAP=%d AC=%d NXE=%d entries",
		     g->name, c->user ? "user" : "supervisor", access_name[c->access],
		     !!(c->settings & S_WP), !!(c->settings & S_SMEP),
		     !!(c->settings & S_SMAP), !!(c->settings & S_AC),
		     !!(c->settings & S_NXE));
	for (lvl = 0; lvl < g->nlev && n > 0 && (size_t)n < len; lvl++)
		n += snprintf(buf + n, len - n, " %llx", (unsigned long long)c->ent[lvl]);
	return buf;
}

static char *res_str(const struct presult *r, unsigned int nlev, char *buf, size_t len)
{
	unsigned int lvl;
	int n;

	if (r->res == PG_RES_PF)
		n = snprintf(buf, len, "#PF ec=%#x cr2=%#llx", r->ec, (unsigned long long)r->cr2);
	else
		n = snprintf(buf, len, "%#x value=%#x", r->res, r->value);
	n += snprintf(buf + n, len - n, " after");
	for (lvl = 0; lvl < nlev && n > 0 && (size_t)n < len; lvl++)
		n += snprintf(buf + n, len - n, " %llx", (unsigned long long)r->ent[lvl]);
	return buf;
}

/*
 * Known deviations of the emulated CPUs from the architecture, each applied
 * only where it occurs: adj gets want with those deviations that got shows.
 * Returns the deviations applied (DEV_* bits), 0 if none.
 */
#define DEV_RSVD_NO_P	(1U << 0)
#define DEV_PDPTE_A	(1U << 1)
#define NR_DEVS		2

static unsigned int deviation(const struct host_cpu *h, const struct pcase *c,
			      const struct presult *want, const struct presult *got,
			      struct presult *adj)
{
	unsigned int devs = 0;

	*adj = *want;
	if (!h->tcg)
		return 0;
	/* QEMU TCG reports a reserved-bit #PF without the P bit (8, not 9). */
	if (want->res == PG_RES_PF && (want->ec & EC_RSVD) && got->res == PG_RES_PF &&
	    got->ec == (want->ec & ~EC_P)) {
		adj->ec = got->ec;
		devs |= DEV_RSVD_NO_P;
	}
	/* QEMU TCG sets bit 5 of a PAE PDPTE, a reserved bit (SDM Table 4-8). */
	if (groups[c->group].kind[0] == K_PDPTE_PAE && (got->ent[0] & A) && !(want->ent[0] & A)) {
		adj->ent[0] |= A;
		devs |= DEV_PDPTE_A;
	}
	return devs;
}

static bool same(const struct presult *a, const struct presult *b, const __u64 *mask,
		 unsigned int nlev)
{
	unsigned int lvl;

	if (a->res != b->res || a->ec != b->ec || a->cr2 != b->cr2 || a->value != b->value)
		return false;
	for (lvl = 0; lvl < nlev; lvl++)
		if ((a->ent[lvl] ^ b->ent[lvl]) & mask[lvl])
			return false;
	return true;
}

/*
 * Runs every case in a VM with the given paging, checking each against the
 * architecture's rules; fills out[] when not NULL.  Returns the number of
 * cases that broke a rule (at most 20 are printed).
 */
static unsigned int run_all(struct __test_metadata *_metadata, __u32 paging,
			    const struct host_cpu *h, const struct caselist *l,
			    struct presult *out, unsigned int *deviations, unsigned int *faults)
{
	unsigned int i, d, devs, bad = 0;
	struct runner rn;
	int ret;

	ret = runner_init(&rn, paging, h->tcg);
	if (ret) {
		TH_LOG("creating a VM with paging %u: %s", paging, strerror(-ret));
		return l->n;
	}
	for (i = 0; i < l->n; i++) {
		const struct pcase *c = &l->c[i];
		struct presult want, got;
		__u64 mask[MAX_LEVELS];
		struct presult adj;
		char b1[256], b2[192], b3[192];

		run_case(&rn, c, &got);
		*faults += got.res == PG_RES_PF;
		if (out)
			out[i] = got;
		model(h, c, &want, mask);
		if (same(&want, &got, mask, groups[c->group].nlev))
			continue;
		devs = deviation(h, c, &want, &got, &adj);
		if (devs && same(&adj, &got, mask, groups[c->group].nlev)) {
			for (d = 0; d < NR_DEVS; d++)
				deviations[d] += !!(devs & (1U << d));
			continue;
		}
		if (bad++ < 20)
			TH_LOG("%s: expected %s, got %s", case_str(c, b1, sizeof(b1)),
			       res_str(&want, groups[c->group].nlev, b2, sizeof(b2)),
			       res_str(&got, groups[c->group].nlev, b3, sizeof(b3)));
	}
	tvm_destroy(&rn.t);
	return bad;
}

static __u64 cap(__u32 c)
{
	struct hvx_sys sys;
	__u64 v;

	if (tvm_sys_open(&sys))
		return 0;
	v = tvm_cap(&sys, c, 0);
	hvx_close(&sys);
	return v;
}

/*
 * Thousands of guest page walks a case: a debug kernel (KASAN, lockdep)
 * takes minutes where a stock one takes seconds.
 */
FIXTURE(paging) {
};

FIXTURE_SETUP(paging)
{
}

FIXTURE_TEARDOWN(paging)
{
}

TEST_F_TIMEOUT(paging, nested, 600)
{
	unsigned int bad, dev[NR_DEVS] = { 0 }, pf = 0;
	unsigned long long t0;
	struct caselist l = { 0 };
	struct host_cpu h;

	TVM_REQUIRE_HVX();
	if (cap(HVX_CAP_PAGING_NESTED) != 1)
		SKIP(return, "nested paging not available (HVX_CAP_PAGING_NESTED = 0)");
	host_cpu(&h);
	build_cases(&l, &h);
	t0 = tvm_now_ms();
	bad = run_all(_metadata, HVX_PAGING_NESTED, &h, &l, NULL, dev, &pf);
	TH_LOG("paging: %u cases under nested paging (%u #PF), %u break the architecture's "
	       "rules, known emulator deviations: %u #PF RSVD without P, %u PAE PDPTE.A set "
	       "(%s; SMEP %s, SMAP %s, 1G pages %s), %llu ms", l.n, pf, bad, dev[0], dev[1],
	       h.tcg ? "QEMU TCG" : "not TCG", h.smep ? "yes" : "no", h.smap ? "yes" : "no",
	       h.gbpages ? "yes" : "no", tvm_now_ms() - t0);
	EXPECT_EQ(0, bad);
	free(l.c);
}

/*
 * Shadow paging alone, against the architecture's rules, where there is
 * no nested paging to compare it with (nested_vs_shadow does both where
 * there is).
 */
TEST_F_TIMEOUT(paging, shadow, 600)
{
	unsigned int bad, dev[NR_DEVS] = { 0 }, pf = 0;
	unsigned long long t0;
	struct caselist l = { 0 };
	struct host_cpu h;

	TVM_REQUIRE_HVX();
	if (cap(HVX_CAP_PAGING_SHADOW) != 1)
		SKIP(return, "shadow paging not available (HVX_CAP_PAGING_SHADOW = 0)");
	if (cap(HVX_CAP_PAGING_NESTED) == 1)
		SKIP(return, "nested paging available: nested_vs_shadow checks shadow paging "
		     "against the architecture and against nested paging");
	host_cpu(&h);
	build_cases(&l, &h);
	t0 = tvm_now_ms();
	bad = run_all(_metadata, HVX_PAGING_SHADOW, &h, &l, NULL, dev, &pf);
	TH_LOG("paging: %u cases under shadow paging (%u #PF), %u break the architecture's "
	       "rules (no nested paging to compare with), %llu ms", l.n, pf, bad,
	       tvm_now_ms() - t0);
	EXPECT_EQ(0, bad);
	free(l.c);
}

TEST_F_TIMEOUT(paging, nested_vs_shadow, 600)
{
	struct presult *ref, *sh;
	unsigned int bad, i, same_n = 0, arch_n = 0, mism = 0, dev[NR_DEVS] = { 0 }, pf = 0;
	unsigned int fault_a_n = 0;
	unsigned long long t0;
	struct caselist l = { 0 };
	struct host_cpu h;

	TVM_REQUIRE_HVX();
	if (cap(HVX_CAP_PAGING_SHADOW) != 1)
		SKIP(return, "shadow paging not available (HVX_CAP_PAGING_SHADOW = 0): "
		     "nothing to compare with nested paging");
	if (cap(HVX_CAP_PAGING_NESTED) != 1)
		SKIP(return, "nested paging not available: no reference for shadow paging");
	host_cpu(&h);
	build_cases(&l, &h);
	ref = calloc(l.n, sizeof(*ref));
	sh = calloc(l.n, sizeof(*sh));
	ASSERT_TRUE(ref && sh);
	t0 = tvm_now_ms();
	run_all(_metadata, HVX_PAGING_NESTED, &h, &l, ref, dev, &pf);
	bad = run_all(_metadata, HVX_PAGING_SHADOW, &h, &l, sh, dev, &pf);
	EXPECT_EQ(0, bad) TH_LOG("shadow paging breaks the architecture's rules in %u cases",
				 bad);
	for (i = 0; i < l.n; i++) {
		const struct pcase *c = &l.c[i];
		unsigned int nlev = groups[c->group].nlev;
		__u64 mask[MAX_LEVELS], all[MAX_LEVELS] = { ~0ULL, ~0ULL, ~0ULL, ~0ULL };
		struct presult want, adj;
		char b1[256], b2[192], b3[192];

		/* A bits of a faulting walk are the implementation's choice. */
		model(&h, c, &want, mask);
		if (same(&ref[i], &sh[i], ref[i].res == PG_RES_PF ? mask : all, nlev)) {
			same_n++;
			fault_a_n += !same(&ref[i], &sh[i], all, nlev);
			continue;
		}
		/* The emulated CPU deviates (listed above), shadow paging does not. */
		if (deviation(&h, c, &want, &ref[i], &adj) && same(&adj, &ref[i], mask, nlev) &&
		    same(&want, &sh[i], mask, nlev)) {
			arch_n++;
			continue;
		}
		if (mism++ < 20)
			TH_LOG("%s: nested %s, shadow %s", case_str(c, b1, sizeof(b1)),
			       res_str(&ref[i], nlev, b2, sizeof(b2)),
			       res_str(&sh[i], nlev, b3, sizeof(b3)));
	}
	TH_LOG("paging: %u cases, nested vs shadow: %u identical (%u of them but for A bits "
	       "the architecture leaves open in a faulting walk), %u differ only where the "
	       "emulated CPU deviates from the architecture and shadow paging does not, "
	       "%u differ; %llu ms", l.n, same_n, fault_a_n, arch_n, mism, tvm_now_ms() - t0);
	EXPECT_EQ(0, mism);
	free(ref);
	free(sh);
	free(l.c);
}

TEST_HARNESS_MAIN
