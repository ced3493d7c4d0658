/* gen_people.c — households, the persons extract and civil events.
 *
 * The population is built household by household, settlement by
 * settlement, so nothing grows with the number of persons. Household
 * types and family sizes are chosen to give Kazakhstan's young age
 * structure (about 30 % under 18, 9 % aged 63+, mean size about 3.5) and
 * more large families in the south; deaths, births, marriages and
 * divorces follow age-specific rates. The reconciliation defects that
 * REC-01 must find (deaths missing from either registry, deaths of IINs
 * unknown to persons) are planted here on purpose. */
#include "gen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define STALE_ROW_P 0.015        /* rows dated before a reform keeping the old code */
#define STALE_DEAD_P 0.20        /* dead persons' records never moved to the new code */
#define DEATH_EVENT_MISSING_P 0.01
#define PHANTOM_DEATH_P 0.0006   /* per living person aged 55+: civil death, alive in persons */
#define MARRIAGE_P 0.030         /* per person aged 20–49, over the window */
#define DIVORCE_P 0.0105         /* per person aged 23–65, over the window */
#define CHILDREN_ELSEWHERE_P 0.03

typedef struct {
    int age;
    char sex;
    int role;
} member_plan;

static char other_sex(char sex)
{
    return sex == 'M' ? 'F' : 'M';
}

static char random_sex(rng_t *r, double p_male)
{
    return rng_chance(r, p_male) ? 'M' : 'F';
}

/* 63 and over, thinning out with age like a real old-age pyramid. */
static int elder_age(rng_t *r)
{
    int a = 63 + (int)(-9.0 * log(1.0 - rng_unit(r)));
    return a > 100 ? 100 - (int)rng_below(r, 12) : a;
}

static void add_member(household *h, member_plan *plan, int age, char sex, int role)
{
    if (h->n >= HH_MAX)
        return;
    plan[h->n].age = age;
    plan[h->n].sex = sex;
    plan[h->n].role = role;
    h->n++;
}

/* Number of children a family sets out to have; capped later by the
 * mother's age, so the realised mean is lower. */
static int planned_children(rng_t *r, int south)
{
    static const double base[] = {0.26, 0.31, 0.22, 0.11, 0.06, 0.03, 0.01};
    static const double southern[] = {0.14, 0.24, 0.24, 0.17, 0.11, 0.06, 0.04};
    const double *p = south ? southern : base;
    double u = rng_unit(r);
    for (int k = 0; k < 7; k++) {
        if (u < p[k])
            return k + 1;
        u -= p[k];
    }
    return 7;
}

/* Parents, the children still at home, sometimes grandparents. */
static void plan_family(household *h, member_plan *plan, rng_t *r, int south)
{
    int mother = 20 + (int)rng_below(r, 33);
    int father_present = rng_chance(r, 0.88);
    int single_father = !father_present && rng_chance(r, 0.1);
    if (father_present) {
        int father = mother + (int)rng_range(r, -1, 6);
        add_member(h, plan, father, 'M', ROLE_HEAD);
        add_member(h, plan, mother, 'F', ROLE_SPOUSE);
    } else {
        add_member(h, plan, mother + (single_father ? 3 : 0),
                   single_father ? 'M' : 'F', ROLE_HEAD);
        h->single_parent = 1;
    }
    int want = planned_children(r, south);
    int age = mother - 19 - (int)rng_below(r, 8);
    for (int k = 0; k < want && age >= 0; k++) {
        if (age < 18 || rng_chance(r, age <= 24 ? 0.45 : age <= 29 ? 0.3 : age <= 34 ? 0.12 : 0))
            add_member(h, plan, age, random_sex(r, 0.51), ROLE_CHILD);
        age -= 1 + (int)rng_below(r, south ? 3 : 4);
    }
    if (rng_chance(r, south ? 0.38 : 0.28)) {
        int g = mother + 22 + (int)rng_below(r, 12);
        if (g <= 98) {
            char sex = random_sex(r, 0.3);
            add_member(h, plan, g, sex, ROLE_ELDER);
            if (rng_chance(r, 0.35))
                add_member(h, plan, g + (int)rng_range(r, -3, 3), other_sex(sex), ROLE_ELDER);
        }
    }
}

/* Chooses the household type and the members' ages, sexes and roles.
 * The shares are tuned so that the population comes out with about 30 %
 * under 18, 9 % aged 63+ and a mean household size of about 3.5. */
static void plan_household(household *h, member_plan *plan, rng_t *r, int south)
{
    h->n = 0;
    h->single_parent = 0;
    double u = rng_unit(r);
    if (u < 0.055) {
        add_member(h, plan, elder_age(r), random_sex(r, 0.28), ROLE_HEAD);
    } else if (u < 0.095) {
        add_member(h, plan, 30 + (int)rng_below(r, 33), random_sex(r, 0.5), ROLE_HEAD);
    } else if (u < 0.14) {
        int a = elder_age(r);
        add_member(h, plan, a, 'M', ROLE_HEAD);
        add_member(h, plan, a - (int)rng_range(r, 0, 5), 'F', ROLE_SPOUSE);
    } else if (u < 0.205) {
        /* Parents whose children have mostly left home. */
        int a = 50 + (int)rng_below(r, 16);
        add_member(h, plan, a, 'M', ROLE_HEAD);
        add_member(h, plan, a - (int)rng_range(r, 0, 5), 'F', ROLE_SPOUSE);
        if (rng_chance(r, 0.5))
            add_member(h, plan, a - 22 - (int)rng_below(r, 8), random_sex(r, 0.6), ROLE_CHILD);
    } else if (u < 0.225) {
        int a = 20 + (int)rng_below(r, 15);
        int wife = a - (int)rng_range(r, -2, 5);
        add_member(h, plan, a, 'M', ROLE_HEAD);
        add_member(h, plan, wife < 18 ? 18 : wife, 'F', ROLE_SPOUSE);
    } else {
        plan_family(h, plan, r, south);
    }
}

/* Two-year probability of death, from age-specific annual rates. */
static double death_probability(int age, char sex)
{
    static const struct {
        int upto;
        double annual;
    } rates[] = {{0, 0.009}, {4, 0.0006}, {14, 0.0003}, {24, 0.0010},
                 {34, 0.0018}, {44, 0.0030}, {54, 0.0065}, {64, 0.0140},
                 {74, 0.030}, {84, 0.065}, {200, 0.150}};
    double m = 0;
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
        if (age <= rates[i].upto) {
            m = rates[i].annual;
            break;
        }
    return 2.0 * m * (sex == 'M' ? 1.35 : 0.72);
}

static int disability_group(rng_t *r, int age)
{
    double p = age < 18 ? 0.015 : age < 40 ? 0.028 : age < 63 ? 0.058 : 0.13;
    if (!rng_chance(r, p))
        return 0;
    double u = rng_unit(r);
    if (age >= 63)
        return u < 0.20 ? 1 : u < 0.70 ? 2 : 3;
    return u < 0.08 ? 1 : u < 0.45 ? 2 : 3;
}

static const char *household_citizenship(rng_t *r, int south)
{
    double u = rng_unit(r);
    if (u < (south ? 0.950 : 0.968))
        return "KAZ";
    u = rng_unit(r);
    if (south)
        return u < 0.15 ? "RUS" : u < 0.75 ? "UZB" : u < 0.92 ? "KGZ" : "CHN";
    return u < 0.45 ? "RUS" : u < 0.65 ? "UZB" : u < 0.80 ? "KGZ" : "CHN";
}

/* A day in [lo, hi], or DAY_NONE when the range is empty. */
static day_t random_day(rng_t *r, day_t lo, day_t hi)
{
    return hi < lo ? DAY_NONE : (day_t)rng_range(r, lo, hi);
}

/* Gives member i a birth date matching its planned age, an IIN, and its
 * death and disability. Returns 0 or -1 (IIN serials exhausted). */
static int realise_member(gen_ctx *g, rng_t *r, household *h, int i, const member_plan *mp)
{
    person *p = &h->m[i];
    p->age = mp->age;
    p->sex = mp->sex;
    p->role = mp->role;
    p->settlement = h->settlement;
    day_t hi = add_years(g->snapshot, -mp->age);
    p->birth = random_day(r, add_years(g->snapshot, -mp->age - 1) + 1, hi);
    if (iin_assign(g, p->birth, p->sex, p->iin) != 0)
        return -1;
    p->death = DAY_NONE;
    if (rng_chance(r, death_probability(p->age, p->sex))) {
        day_t lo = p->birth > g->window_start ? p->birth : g->window_start;
        p->death = random_day(r, lo, g->snapshot);
    }
    p->disability = disability_group(r, p->age);
    return 0;
}

/* Some children are registered in another district of the region (with
 * grandparents, or for a school place) — reports must count such a
 * household in both districts. */
static void scatter_children(rng_t *r, const territory *t, household *h)
{
    if (!h->under18 || !rng_chance(r, CHILDREN_ELSEWHERE_P))
        return;
    int alt = other_district_settlement(t, r, h->settlement);
    if (alt < 0)
        return;
    int moved = 0, first = -1;
    for (int i = 0; i < h->n; i++) {
        if (h->m[i].age >= 18)
            continue;
        if (first < 0)
            first = i;
        if (rng_chance(r, 0.6)) {
            h->m[i].settlement = alt;
            moved++;
        }
    }
    if (!moved)
        h->m[first].settlement = alt;
}

static int emit_person(gen_ctx *g, rng_t *r, const household *h, const person *p,
                       const char *citizenship)
{
    out_stream *s = &g->out[X_PERSONS];
    if (out_reserve(s) != 0)
        return -1;
    int unit = g->terr.settlements[p->settlement].unit;
    const char *kato = p->death == DAY_NONE ? g->terr.units[unit].code
                     : kato_for_row(&g->terr, r, unit, p->death, STALE_DEAD_P);
    char *c = out_cursor(s);
    c = put_mem(c, p->iin, 12);
    *c++ = ';';
    c = put_date(c, &g->dates, p->birth);
    *c++ = ';';
    *c++ = p->sex;
    *c++ = ';';
    c = put_mem(c, kato, 9);
    *c++ = ';';
    c = put_u64(c, h->id);
    *c++ = ';';
    c = put_opt_date(c, &g->dates, p->death);
    *c++ = ';';
    if (p->disability)
        *c++ = (char)('0' + p->disability);
    *c++ = ';';
    c = put_mem(c, citizenship, 3);
    out_commit_row(s, c);
    return 0;
}

/* ICD-10 causes of death with weights in percent: circulatory 40,
 * neoplasms 15, external 8, then respiratory, digestive, endocrine,
 * infectious, nervous and ill-defined causes. */
static const struct {
    const char *code;
    int weight;
} CAUSES[] = {
    {"I21.9", 10}, {"I25.1", 9}, {"I63.9", 7}, {"I50.0", 5}, {"I11.9", 4},
    {"I64", 3}, {"I67.8", 2},
    {"C34.1", 3}, {"C16.9", 3}, {"C50.9", 2}, {"C18.7", 2}, {"C61", 1},
    {"C25.9", 1}, {"C22.0", 1}, {"D46.9", 1}, {"C56", 1},
    {"V89.2", 2}, {"X70", 1}, {"W19", 1}, {"X59.9", 1}, {"Y34", 1},
    {"V43.5", 1}, {"X42", 1},
    {"J18.9", 5}, {"J44.9", 4}, {"J96.0", 1},
    {"K74.6", 3}, {"K70.3", 2}, {"K92.2", 2},
    {"E11.9", 4}, {"E14.9", 1},
    {"A41.9", 2}, {"U07.1", 1}, {"A16.2", 1},
    {"G30.9", 2}, {"G93.4", 1}, {"G40.9", 1},
    {"N18.9", 2}, {"R99", 2}, {"R54", 2}, {"Q24.9", 1},
};

static const char *death_cause(rng_t *r, int age_at_death)
{
    static const char *const infant[] = {"P07.3", "P22.0", "P36.9", "Q24.9", "J18.9"};
    if (age_at_death < 1)
        return infant[rng_below(r, 5)];
    int x = (int)rng_below(r, 100);
    for (size_t i = 0; i < sizeof CAUSES / sizeof CAUSES[0]; i++) {
        if (x < CAUSES[i].weight)
            return CAUSES[i].code;
        x -= CAUSES[i].weight;
    }
    return "R99";
}

/* Writes one civil_events row. `cause` is NULL except for deaths. */
static int emit_event(gen_ctx *g, const char *type, day_t date, const char *iin,
                      const char *kato, const char *cause)
{
    out_stream *s = &g->out[X_CIVIL_EVENTS];
    if (out_reserve(s) != 0)
        return -1;
    char *c = out_cursor(s);
    c = put_u64(c, g->next_event++);
    *c++ = ';';
    c = put_str(c, type);
    *c++ = ';';
    c = put_date(c, &g->dates, date);
    *c++ = ';';
    c = put_mem(c, iin, 12);
    *c++ = ';';
    c = put_mem(c, kato, 9);
    *c++ = ';';
    if (cause)
        c = put_str(c, cause);
    out_commit_row(s, c);
    return 0;
}

/* A marriage or divorce in the window, at an adult age, before death. */
static int emit_union_event(gen_ctx *g, rng_t *r, const person *p, const char *type, int unit)
{
    day_t adult = add_years(p->birth, 18);
    day_t lo = adult > g->window_start ? adult : g->window_start;
    day_t hi = p->death == DAY_NONE ? g->snapshot : p->death - 1;
    day_t d = random_day(r, lo, hi);
    if (d == DAY_NONE)
        return 0;
    return emit_event(g, type, d, p->iin, kato_for_row(&g->terr, r, unit, d, STALE_ROW_P), NULL);
}

/* Births, deaths, marriages and divorces of one person. */
static int emit_person_events(gen_ctx *g, rng_t *r, const person *p)
{
    int unit = g->terr.settlements[p->settlement].unit;
    const territory *t = &g->terr;
    if (p->birth >= g->window_start &&
        emit_event(g, "BIRTH", p->birth, p->iin,
                   kato_for_row(t, r, unit, p->birth, STALE_ROW_P), NULL) != 0)
        return -1;
    if (p->death != DAY_NONE) {
        if (!rng_chance(r, DEATH_EVENT_MISSING_P) &&
            emit_event(g, "DEATH", p->death, p->iin,
                       kato_for_row(t, r, unit, p->death, STALE_ROW_P),
                       death_cause(r, age_on(p->birth, p->death))) != 0)
            return -1;
    } else if (p->age >= 55 && rng_chance(r, PHANTOM_DEATH_P)) {
        day_t d = random_day(r, g->window_start, g->snapshot);
        if (emit_event(g, "DEATH", d, p->iin, kato_for_row(t, r, unit, d, STALE_ROW_P),
                       death_cause(r, p->age)) != 0)
            return -1;
    }
    if (p->age >= 20 && p->age <= 49 && rng_chance(r, MARRIAGE_P) &&
        emit_union_event(g, r, p, "MARRIAGE", unit) != 0)
        return -1;
    if (p->age >= 23 && p->age <= 65 && rng_chance(r, DIVORCE_P) &&
        emit_union_event(g, r, p, "DIVORCE", unit) != 0)
        return -1;
    return 0;
}

/* Plans, realises and writes one household of at most `room` persons.
 * Returns the number of persons written, or -1. */
static int64_t generate_household(gen_ctx *g, rng_t *r, int settlement, uint64_t room)
{
    const territory *t = &g->terr;
    const region *rg = &t->regions[t->districts[t->settlements[settlement].district].region];
    household h;
    member_plan plan[HH_MAX];
    h.settlement = settlement;
    plan_household(&h, plan, r, rg->south);
    if ((uint64_t)h.n > room)
        h.n = (int)room;
    h.id = g->next_household++;
    double u = rng_unit(r);
    h.language = u < rg->kk_share ? LANG_KK : u < (rg->south ? 0.97 : 0.99) ? LANG_RU : LANG_OTHER;
    const char *citizenship = household_citizenship(r, rg->south);
    h.under18 = 0;
    for (int i = 0; i < h.n; i++) {
        if (realise_member(g, r, &h, i, &plan[i]) != 0)
            return -1;
        h.under18 += h.m[i].age < 18;
    }
    h.large = h.under18 >= 4;
    scatter_children(r, t, &h);
    for (int i = 0; i < h.n; i++)
        if (emit_person(g, r, &h, &h.m[i], citizenship) != 0 ||
            emit_person_events(g, r, &h.m[i]) != 0)
            return -1;
    if (services_emit(g, r, &h) != 0)
        return -1;
    return h.n;
}

/* Deaths registered in the civil registry for IINs persons never had.
 * Their IINs come from the same serial counters, so they are valid and
 * guaranteed absent from persons. */
static int emit_unknown_deaths(gen_ctx *g)
{
    rng_t r;
    rng_seed(&r, g->seed ^ 0x474854535300ull);
    uint64_t n = g->n_persons / 50000;
    if (n < 3)
        n = 3;
    for (uint64_t k = 0; k < n; k++) {
        const territory *t = &g->terr;
        int s = (int)rng_below(&r, (uint32_t)t->n_settlements);
        int age = 40 + (int)rng_below(&r, 50);
        day_t birth = random_day(&r, add_years(g->snapshot, -age - 1) + 1,
                                 add_years(g->snapshot, -age));
        char iin[12];
        if (iin_assign(g, birth, random_sex(&r, 0.55), iin) != 0)
            return -1;
        day_t d = random_day(&r, g->window_start, g->snapshot);
        if (emit_event(g, "DEATH", d, iin, t->units[t->settlements[s].unit].code,
                       death_cause(&r, age)) != 0)
            return -1;
    }
    return 0;
}

/* Writes persons and everything that hangs off them. A household that
 * overshoots its settlement's quota is kept whole and the next settlement
 * gets that much less, so only the very last household is ever cut short
 * (small runs would otherwise lose most of their children). Returns 0, or
 * -1 with the message in g->err or the failing stream's err. */
int people_generate(gen_ctx *g)
{
    const territory *t = &g->terr;
    uint64_t done = 0, quota = 0;
    for (int s = 0; s < t->n_settlements; s++) {
        /* Seeded per settlement: its people do not depend on the others'. */
        rng_t r;
        uint64_t code = strtoull(t->units[t->settlements[s].unit].code, NULL, 10);
        rng_seed(&r, g->seed * 0x9E3779B97F4A7C15ull + code);
        quota += t->settlements[s].persons;
        while (done < quota) {
            int64_t n = generate_household(g, &r, s, g->n_persons - done);
            if (n < 0)
                return -1;
            done += (uint64_t)n;
        }
    }
    return emit_unknown_deaths(g);
}
