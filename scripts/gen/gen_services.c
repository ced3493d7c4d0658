/* gen_services.c — what the state does for one household: social
 * payments, job-seeker spells, education records, the kindergarten queue,
 * and the appeals its members send.
 *
 * Kept apart from gen_people.c because these rules are about programmes,
 * not demography. Each rule plants the cases a report must handle: people
 * paid in two districts (SOC-01 distinct counts), large families on ASP
 * (FAM-01), long-term and doubly registered job seekers (LAB-01), schools
 * over and under capacity (EDU-02), overdue appeals (APL-01), and rows
 * still carrying a KATO code that a later reform closed. */
#include "gen.h"

#include <math.h>

#define STALE_ROW_P 0.015
#define PAID_ELSEWHERE_P 0.01
#define ASP_P 0.028
#define HOUSING_P 0.017
#define JOB_SEEKER_P 0.03
#define DOUBLE_SPELL_P 0.004
#define QUEUE_P 0.08
#define PRESCHOOL_P 0.78
#define APPEAL_P 0.12

#define KINDERGARTEN_ID_BASE 1000000u
#define TVET_ID_BASE 2000000u

/* ------------------------------------------------------------------ */
/* Social payments                                                      */

/* Whole tenge in [lo, hi] plus, sometimes, 25, 50 or 75 tiyn. */
static int64_t random_amount(rng_t *r, int lo, int hi)
{
    int64_t tiyn = rng_range(r, lo, hi) * 100;
    double u = rng_unit(r);
    return tiyn + (u < 0.60 ? 0 : u < 0.85 ? 50 : u < 0.95 ? 75 : 25);
}

/* The payment months [*first, *last] in which person p is alive.
 * Returns 0 when there are none. */
static int months_alive(const gen_ctx *g, const person *p, int *first, int *last)
{
    *first = 0;
    while (*first < g->n_months && g->month_last[*first] < p->birth)
        ++*first;
    *last = g->n_months - 1;
    while (*last >= 0 && p->death != DAY_NONE && g->month_first[*last] > p->death)
        --*last;
    return *first <= *last;
}

typedef struct {
    const person *recipient;
    const char *program;
    int first, last;           /* payment months, inclusive */
    int64_t tiyn;              /* monthly amount before indexation */
} payment_run;

static int emit_payment(gen_ctx *g, rng_t *r, const payment_run *run, int m, int unit)
{
    out_stream *s = &g->out[X_SOCIAL_PAYMENTS];
    if (out_reserve(s) != 0)
        return -1;
    /* Benefits are indexed each January: 8.5 % in the current year. */
    int64_t tiyn = m >= 12 ? (run->tiyn * 1085 + 500) / 1000 : run->tiyn;
    char *c = out_cursor(s);
    c = put_u64(c, g->next_payment++);
    *c++ = ';';
    c = put_mem(c, run->recipient->iin, 12);
    *c++ = ';';
    c = put_str(c, run->program);
    *c++ = ';';
    c = put_mem(c, g->period[m], 7);
    *c++ = ';';
    c = put_money(c, tiyn);
    *c++ = ';';
    c = put_mem(c, kato_for_row(&g->terr, r, unit, g->month_first[m], STALE_ROW_P), 9);
    out_commit_row(s, c);
    return 0;
}

/* One row per month of the run, clipped to the recipient's lifetime. A
 * few recipients are paid for a stretch of months in another district of
 * their region. */
static int emit_run(gen_ctx *g, rng_t *r, payment_run run)
{
    int alive_first, alive_last;
    if (!months_alive(g, run.recipient, &alive_first, &alive_last))
        return 0;
    if (run.first < alive_first)
        run.first = alive_first;
    if (run.last > alive_last)
        run.last = alive_last;
    const territory *t = &g->terr;
    int home = t->settlements[run.recipient->settlement].unit;
    int away = -1, away_first = 0, away_last = -1;
    if (run.first <= run.last && rng_chance(r, PAID_ELSEWHERE_P)) {
        int alt = other_district_settlement(t, r, run.recipient->settlement);
        away = alt < 0 ? -1 : t->settlements[alt].unit;
        away_first = (int)rng_range(r, run.first, run.last);
        away_last = (int)rng_range(r, away_first, run.last);
    }
    for (int m = run.first; m <= run.last; m++) {
        int unit = away >= 0 && m >= away_first && m <= away_last ? away : home;
        if (emit_payment(g, r, &run, m, unit) != 0)
            return -1;
    }
    return 0;
}

/* A spell of 3–18 months somewhere in the file's months. */
static void random_spell(const gen_ctx *g, rng_t *r, int *first, int *last)
{
    int start = (int)rng_range(r, -6, g->n_months - 1);
    int len = 3 + (int)rng_below(r, 16);
    *first = start < 0 ? 0 : start;
    *last = start + len - 1 >= g->n_months ? g->n_months - 1 : start + len - 1;
}

/* The member who receives the children's benefits: the mother if there
 * is one among the parents, else the head. */
static const person *benefit_recipient(const household *h)
{
    for (int i = 0; i < h->n; i++)
        if ((h->m[i].role == ROLE_HEAD || h->m[i].role == ROLE_SPOUSE) && h->m[i].sex == 'F')
            return &h->m[i];
    return &h->m[0];
}

/* Child benefit, one row per child per month: for every child of a
 * low-income large family, for children of families on ASP while it is
 * paid, and a care allowance in a baby's first year. */
static int emit_child_benefits(gen_ctx *g, rng_t *r, const household *h,
                               int asp, int asp_first, int asp_last)
{
    const person *mother = benefit_recipient(h);
    int large_paid = h->large && rng_chance(r, 0.45);
    for (int i = 0; i < h->n; i++) {
        const person *c = &h->m[i];
        if (c->age >= 18 || c == mother)
            continue;
        int first, last;
        if (!months_alive(g, c, &first, &last))
            continue;
        payment_run run = {mother, "CHILD", first, last, 0};
        if (large_paid) {
            run.tiyn = random_amount(r, 14000, 26000);
        } else if (asp) {
            run.first = first > asp_first ? first : asp_first;
            run.last = last < asp_last ? last : asp_last;
            run.tiyn = random_amount(r, 5000, 9500);
        } else if (c->age <= 1 && rng_chance(r, 0.35)) {
            run.last = first + 11 < last ? first + 11 : last;
            run.tiyn = random_amount(r, 28000, 65000);
        } else {
            continue;
        }
        if (run.first <= run.last && emit_run(g, r, run) != 0)
            return -1;
    }
    return 0;
}

/* ASP (poorer and larger households, paid to the head), child benefits,
 * housing assistance, and special state benefits for the disabled and
 * some of the old. */
static int emit_payments(gen_ctx *g, rng_t *r, const household *h)
{
    const person *head = &h->m[0];
    double p_asp = h->large ? 0.30 : h->n >= 5 ? 0.10 : h->single_parent ? 0.14 : ASP_P;
    int asp = rng_chance(r, p_asp);
    int asp_first = 0, asp_last = -1;
    if (asp) {
        random_spell(g, r, &asp_first, &asp_last);
        payment_run run = {head, "ASP", asp_first, asp_last,
                           random_amount(r, 4500 * h->n, 11000 * h->n)};
        if (emit_run(g, r, run) != 0)
            return -1;
    }
    if (emit_child_benefits(g, r, h, asp, asp_first, asp_last) != 0)
        return -1;
    if (rng_chance(r, asp ? 3 * HOUSING_P : HOUSING_P)) {
        payment_run run = {head, "HOUSING", 0, 0, random_amount(r, 1500, 14000)};
        random_spell(g, r, &run.first, &run.last);
        if (emit_run(g, r, run) != 0)
            return -1;
    }
    for (int i = 0; i < h->n; i++) {
        const person *p = &h->m[i];
        static const int lo[] = {18000, 55000, 40000, 22000}, hi[] = {30000, 75000, 55000, 35000};
        int special = p->disability ? rng_chance(r, 0.33) : p->age >= 63 && rng_chance(r, 0.035);
        if (!special)
            continue;
        payment_run run = {p, "SPECIAL", 0, g->n_months - 1,
                           random_amount(r, lo[p->disability], hi[p->disability])};
        if (emit_run(g, r, run) != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Job seekers                                                          */

static const char *dereg_reason(rng_t *r)
{
    double u = rng_unit(r);
    return u < 0.62 ? "EMPLOYED" : u < 0.77 ? "PROGRAM" : u < 0.90 ? "REMOVED" : "OTHER";
}

static int emit_spell(gen_ctx *g, rng_t *r, const person *p, day_t reg, day_t dereg,
                      const char *reason)
{
    out_stream *s = &g->out[X_JOB_SEEKERS];
    if (out_reserve(s) != 0)
        return -1;
    int unit = g->terr.settlements[p->settlement].unit;
    char *c = out_cursor(s);
    c = put_mem(c, p->iin, 12);
    *c++ = ';';
    c = put_date(c, &g->dates, reg);
    *c++ = ';';
    c = put_opt_date(c, &g->dates, dereg);
    *c++ = ';';
    if (reason)
        c = put_str(c, reason);
    *c++ = ';';
    c = put_mem(c, kato_for_row(&g->terr, r, unit, reg, STALE_ROW_P), 9);
    out_commit_row(s, c);
    return 0;
}

/* Spells of a working-age person: sometimes an earlier closed one; the
 * current one closed for about 60 %; rarely a second open spell the
 * source system should have refused. Death closes an open spell. */
static int emit_job_seeker(gen_ctx *g, rng_t *r, const person *p)
{
    day_t lo = add_years(p->birth, 16);
    if (lo < g->window_start)
        lo = g->window_start;
    day_t hi = p->death == DAY_NONE ? g->snapshot : p->death;
    if (lo > hi)
        return 0;
    if (hi - lo > 240 && rng_chance(r, 0.08)) {
        day_t reg = (day_t)rng_range(r, lo, lo + (hi - lo) / 2);
        day_t dereg = reg + 14 + (day_t)rng_below(r, 90);
        if (emit_spell(g, r, p, reg, dereg, dereg_reason(r)) != 0)
            return -1;
        lo = dereg + 1;
    }
    day_t reg = (day_t)rng_range(r, lo, hi);
    if (p->death == DAY_NONE && rng_chance(r, DOUBLE_SPELL_P))
        return emit_spell(g, r, p, reg, DAY_NONE, NULL) != 0 ||
               emit_spell(g, r, p, (day_t)rng_range(r, lo, hi), DAY_NONE, NULL) != 0 ? -1 : 0;
    day_t dereg = DAY_NONE;
    const char *reason = NULL;
    if (rng_chance(r, 0.68)) {
        dereg = reg + (day_t)(-110.0 * log(1.0 - rng_unit(r)));
        reason = dereg_reason(r);
    }
    if (dereg != DAY_NONE && dereg > hi)
        dereg = DAY_NONE, reason = NULL;
    if (dereg == DAY_NONE && p->death != DAY_NONE && rng_chance(r, 0.8))
        dereg = p->death, reason = "OTHER";
    return emit_spell(g, r, p, reg, dereg, reason);
}

/* ------------------------------------------------------------------ */
/* Education and the kindergarten queue                                 */

static const char *const LANGUAGE[] = {"KK", "RU", "OTHER"};

static int emit_education(gen_ctx *g, const person *p, uint32_t org_id, const char *org_kato,
                          const char *level, int language, day_t enrolled, day_t left)
{
    out_stream *s = &g->out[X_EDUCATION];
    if (out_reserve(s) != 0)
        return -1;
    char *c = out_cursor(s);
    c = put_mem(c, p->iin, 12);
    *c++ = ';';
    c = put_u64(c, org_id);
    *c++ = ';';
    c = put_mem(c, org_kato, 9);
    *c++ = ';';
    c = put_str(c, level);
    *c++ = ';';
    c = put_str(c, LANGUAGE[language]);
    *c++ = ';';
    c = put_date(c, &g->dates, enrolled);
    *c++ = ';';
    c = put_opt_date(c, &g->dates, left);
    out_commit_row(s, c);
    return 0;
}

/* Sep 1 of the year a child starts school (6 by then, or turning 7 soon
 * after: the child is 7–8 at the end of the first school year). */
static day_t school_start(day_t birth)
{
    int y, m, d;
    civil_from_days(birth, &y, &m, &d);
    return days_from_civil(y + (m < 9 || (m == 9 && d == 1) ? 6 : 7), 9, 1);
}

static day_t year_day(day_t in_year, int m, int d)
{
    int y, mm, dd;
    civil_from_days(in_year, &y, &mm, &dd);
    return days_from_civil(y, m, d);
}

/* The day a record ends: the death, if the person died. */
static day_t left_by_death(const person *p, day_t enrolled)
{
    return p->death != DAY_NONE && p->death >= enrolled ? p->death : DAY_NONE;
}

/* Weighted pick of a school for a pupil of settlement s: one of the
 * settlement's own schools if it has any, else any of its district's. */
static const school *pick_school(const territory *t, rng_t *r, int s)
{
    const settlement *st = &t->settlements[s];
    const district *d = &t->districts[st->district];
    int first = st->n_schools ? st->first_school : d->first_school;
    int n = st->n_schools ? st->n_schools : d->n_schools;
    double x = rng_unit(r) * (st->n_schools ? st->school_weight : d->school_weight);
    for (int k = first; k < first + n - 1; k++) {
        if (x < t->schools[k].weight)
            return &t->schools[k];
        x -= t->schools[k].weight;
    }
    return &t->schools[first + n - 1];
}

/* Another school of the same district, for a pupil who changed school. */
static const school *other_school(const territory *t, rng_t *r, const school *from)
{
    const district *d = &t->districts[t->settlements[from->settlement].district];
    int k = (int)rng_below(r, (uint32_t)d->n_schools - 1);
    if (d->first_school + k >= (int)(from - t->schools))
        k++;
    return &t->schools[d->first_school + k];
}

static const char *school_level(int age)
{
    return age <= 10 ? "PRIMARY" : age <= 15 ? "BASIC" : "SECONDARY";
}

/* The current school record, preceded for a few pupils by a school they
 * left during the window. */
static int emit_pupil(gen_ctx *g, rng_t *r, const person *p, int language)
{
    const territory *t = &g->terr;
    const school *sc = pick_school(t, r, p->settlement);
    day_t start = school_start(p->birth);
    day_t hi = p->death == DAY_NONE ? g->snapshot : p->death;
    if (start > hi)
        return 0;
    const char *level = school_level(p->age);
    if (rng_chance(r, 0.03)) {
        day_t lo = start > g->window_start ? start : g->window_start;
        if (hi - 11 >= lo) {
            day_t moved = (day_t)rng_range(r, lo, hi - 11);
            const school *old = other_school(t, r, sc);
            const char *kato = t->units[t->settlements[old->settlement].unit].code;
            if (emit_education(g, p, old->org_id, kato, level, language, start, moved) != 0)
                return -1;
            start = moved + (day_t)rng_below(r, 11);
        }
    }
    const char *kato = t->units[t->settlements[sc->settlement].unit].code;
    return emit_education(g, p, sc->org_id, kato, level, language, start,
                          left_by_death(p, start));
}

/* A school leaver of the window: finished grade 11 on May 25. */
static int emit_graduate(gen_ctx *g, rng_t *r, const person *p, int language)
{
    day_t start = school_start(p->birth);
    day_t graduated = year_day(add_years(start, 11), 5, 25);
    day_t hi = p->death == DAY_NONE ? g->snapshot : p->death;
    if (graduated < g->window_start || graduated > hi)
        return 0;
    const school *sc = pick_school(&g->terr, r, p->settlement);
    const char *kato = g->terr.units[g->terr.settlements[sc->settlement].unit].code;
    return emit_education(g, p, sc->org_id, kato, "SECONDARY", language, start, graduated);
}

/* A college (one per district, in its first settlement) from Sep 1 after
 * grade 9, or after grade 11 for some of the older students. */
static int emit_tvet(gen_ctx *g, rng_t *r, const person *p, int language)
{
    const territory *t = &g->terr;
    int di = t->settlements[p->settlement].district;
    const district *d = &t->districts[di];
    day_t start = add_years(school_start(p->birth), p->age >= 18 && rng_chance(r, 0.5) ? 11 : 9);
    day_t hi = p->death == DAY_NONE ? g->snapshot : p->death;
    if (start > hi)
        return 0;
    day_t left = left_by_death(p, start);
    if (left == DAY_NONE && p->age >= 20 && rng_chance(r, 0.35)) {
        day_t june = year_day(g->snapshot, 6, 30);
        left = june <= g->snapshot ? june : add_years(june, -1);
        if (left < start)
            left = DAY_NONE;
    }
    const char *kato = t->units[t->settlements[d->first_settlement].unit].code;
    return emit_education(g, p, TVET_ID_BASE + (uint32_t)di, kato, "TVET", language, start, left);
}

/* One of the settlement's kindergartens (1 + one per 3000 residents, up
 * to 9), identified in a range no school uses. */
static uint32_t kindergarten(const territory *t, rng_t *r, int s)
{
    uint64_t n = 1 + t->settlements[s].persons / 3000;
    if (n > 9)
        n = 9;
    return KINDERGARTEN_ID_BASE + (uint32_t)s * 10u + rng_below(r, (uint32_t)n);
}

static int emit_preschool(gen_ctx *g, rng_t *r, const person *p, int language,
                          day_t enrolled, day_t left)
{
    int unit = g->terr.settlements[p->settlement].unit;
    return emit_education(g, p, kindergarten(&g->terr, r, p->settlement),
                          kato_for_row(&g->terr, r, unit, enrolled, STALE_ROW_P),
                          "PRESCHOOL", language, enrolled, left);
}

static const char *queue_priority(rng_t *r, const household *h)
{
    if (h->large && rng_chance(r, 0.6))
        return "LARGE_FAMILY";
    double u = rng_unit(r);
    return u < 0.85 ? "NONE" : u < 0.90 ? "DISABLED_PARENT" : u < 0.91 ? "ORPHAN"
         : u < 0.96 ? "SPECIAL_NEEDS" : "MILITARY";
}

static int emit_queue_row(gen_ctx *g, rng_t *r, const person *p, day_t queued, day_t placed,
                          const char *priority)
{
    out_stream *s = &g->out[X_PRESCHOOL_QUEUE];
    if (out_reserve(s) != 0)
        return -1;
    int unit = g->terr.settlements[p->settlement].unit;
    char *c = out_cursor(s);
    c = put_mem(c, p->iin, 12);
    *c++ = ';';
    c = put_mem(c, kato_for_row(&g->terr, r, unit, queued, STALE_ROW_P), 9);
    *c++ = ';';
    c = put_date(c, &g->dates, queued);
    *c++ = ';';
    c = put_opt_date(c, &g->dates, placed);
    *c++ = ';';
    c = put_str(c, priority);
    out_commit_row(s, c);
    return 0;
}

/* Children 0–6: queued for a kindergarten (about half placed, and then
 * enrolled on that day), or already enrolled; some left during the
 * window. */
static int emit_young_child(gen_ctx *g, rng_t *r, const household *h, const person *p,
                            int language)
{
    day_t hi = p->death == DAY_NONE ? g->snapshot : p->death;
    if (rng_chance(r, QUEUE_P)) {
        day_t lo = p->birth > g->window_start ? p->birth : g->window_start;
        day_t queued = (day_t)rng_range(r, lo, hi);
        day_t placed = rng_chance(r, 0.7) ? queued + 14 + (day_t)rng_below(r, 240) : DAY_NONE;
        if (placed != DAY_NONE && placed > hi)
            placed = DAY_NONE;
        if (emit_queue_row(g, r, p, queued, placed, queue_priority(r, h)) != 0)
            return -1;
        return placed == DAY_NONE ? 0
             : emit_preschool(g, r, p, language, placed, left_by_death(p, placed));
    }
    if (p->age < 1 || !rng_chance(r, PRESCHOOL_P))
        return 0;
    day_t lo = add_years(p->birth, 1);
    if (lo < g->snapshot - 4 * 365)
        lo = g->snapshot - 4 * 365;
    if (lo > hi)
        return 0;
    day_t enrolled = (day_t)rng_range(r, lo, hi);
    day_t left = left_by_death(p, enrolled);
    if (left == DAY_NONE && rng_chance(r, 0.04))
        left = (day_t)rng_range(r, enrolled, hi);
    return emit_preschool(g, r, p, language, enrolled, left);
}

/* A 7–8 year-old's kindergarten record, closed when school began. */
static int emit_former_preschool(gen_ctx *g, rng_t *r, const person *p, int language)
{
    day_t enrolled = add_years(p->birth, 2 + (int)rng_below(r, 3));
    day_t left = school_start(p->birth) - 7;
    day_t hi = p->death == DAY_NONE ? g->snapshot : p->death;
    if (left > hi || left <= enrolled)
        return 0;
    return emit_preschool(g, r, p, language, enrolled, left);
}

/* Every education and queue record of one person, by age. */
static int emit_learner(gen_ctx *g, rng_t *r, const household *h, const person *p)
{
    int language = h->language;
    if (language != LANG_OTHER && rng_chance(r, 0.04))
        language = language == LANG_KK ? LANG_RU : LANG_KK;
    if (p->age <= 6)
        return emit_young_child(g, r, h, p, language);
    if ((p->age == 7 || p->age == 8) && rng_chance(r, 0.55) &&
        emit_former_preschool(g, r, p, language) != 0)
        return -1;
    if (p->age <= 15)
        return rng_chance(r, 0.985) ? emit_pupil(g, r, p, language) : 0;
    if (p->age <= 17) {
        double u = rng_unit(r);
        return u < 0.70 ? emit_pupil(g, r, p, language)
             : u < 0.95 ? emit_tvet(g, r, p, language) : 0;
    }
    if (p->age <= 19 && rng_chance(r, 0.6) && emit_graduate(g, r, p, language) != 0)
        return -1;
    if (p->age <= 20 && rng_chance(r, 0.30))
        return emit_tvet(g, r, p, language);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Appeals                                                              */

static const char *pick_weighted(rng_t *r, const char *const *names, const int *weights, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        total += weights[i];
    int x = (int)rng_below(r, (uint32_t)total);
    for (int i = 0; i < n - 1; i++) {
        if (x < weights[i])
            return names[i];
        x -= weights[i];
    }
    return names[n - 1];
}

/* Days to answer: mostly within the legal limit, about one in ten late;
 * -1 for an appeal that was never answered. */
static int answer_days(rng_t *r, int extended)
{
    if (rng_chance(r, 0.07))
        return -1;
    int limit = extended ? 30 : 15;
    if (rng_chance(r, 0.10))
        return limit + 1 + (int)rng_below(r, 30);
    return 1 + (int)((limit + 5) * pow(rng_unit(r), 1.4)) % limit;
}

/* One appeal received in the window at settlement unit `unit`. Returns 0
 * or -1 (stream error). */
static int appeal_emit(gen_ctx *g, rng_t *r, int unit)
{
    static const char *const channels[] = {"PORTAL", "CALL_1414", "FRONT_OFFICE",
                                           "SOCIAL", "MOBILE", "WRITTEN"};
    static const int channel_w[] = {35, 20, 15, 8, 12, 10};
    static const char *const categories[] = {"housing", "utilities", "roads", "social",
                                             "health", "education", "land", "transport",
                                             "employment"};
    static const int category_w[] = {16, 20, 14, 14, 9, 8, 9, 5, 5};
    static const char *const results[] = {"SATISFIED", "EXPLAINED", "REJECTED"};
    static const int result_w[] = {40, 48, 12};

    day_t received = (day_t)rng_range(r, g->window_start, g->snapshot);
    int extended = rng_chance(r, 0.10);
    const char *channel = pick_weighted(r, channels, channel_w, 6);
    const char *category = pick_weighted(r, categories, category_w, 9);
    int days = answer_days(r, extended);
    day_t answered = days < 0 || received + days > g->snapshot ? DAY_NONE : received + days;
    const char *kato = kato_for_row(&g->terr, r, unit, received, STALE_ROW_P);

    out_stream *s = &g->out[X_APPEALS];
    if (out_reserve(s) != 0)
        return -1;
    char *c = out_cursor(s);
    c = put_u64(c, g->next_appeal++);
    *c++ = ';';
    c = put_date(c, &g->dates, received);
    *c++ = ';';
    c = put_opt_date(c, &g->dates, answered);
    *c++ = ';';
    *c++ = (char)('0' + extended);
    *c++ = ';';
    c = put_str(c, channel);
    *c++ = ';';
    c = put_str(c, category);
    *c++ = ';';
    c = put_mem(c, kato, 9);
    *c++ = ';';
    if (answered != DAY_NONE)
        c = put_str(c, pick_weighted(r, results, result_w, 3));
    out_commit_row(s, c);
    return 0;
}

/* ------------------------------------------------------------------ */

int services_emit(gen_ctx *g, rng_t *r, const household *h)
{
    if (emit_payments(g, r, h) != 0)
        return -1;
    for (int i = 0; i < h->n; i++) {
        const person *p = &h->m[i];
        if (p->age <= 20 && emit_learner(g, r, h, p) != 0)
            return -1;
        if (p->age >= 16 && p->age <= 62 && rng_chance(r, JOB_SEEKER_P) &&
            emit_job_seeker(g, r, p) != 0)
            return -1;
        if (rng_chance(r, APPEAL_P) &&
            appeal_emit(g, r, g->terr.settlements[p->settlement].unit) != 0)
            return -1;
    }
    return 0;
}
