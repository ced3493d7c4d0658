/* gen_kato.c — the invented territory below the 20 real regions.
 *
 * Owns the KATO tree (districts, okrugs, settlements with Kazakh/Russian
 * names), its reform history, how the requested number of persons is
 * spread over settlements, and the schools of each district. Reports lay
 * rows out on this tree, so it must contain every case their KATO logic
 * has to handle:
 *   - the real 2022-06-08 reform: every district of Abai, Jetisu and
 *     Ulytau has a closed predecessor under East Kazakhstan, Almaty oblast
 *     or Karaganda (district digits 11, 15, 19 … there);
 *   - a reform inside the data window (first day of the month eight months
 *     before the snapshot): Abai's first district is renamed and recoded
 *     (district digits 12), which also gives a successor chain of length
 *     two from East Kazakhstan; and Kostanay's first two districts merge
 *     into a new district (digits 12) whose okrugs take new codes.
 * District digits ≡ 2 (mod 4) are original, ≡ 3 are 2022 predecessors,
 * ≡ 0 were created by the in-window reform, so codes never collide. */
#include "gen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* From shared/reference/regions.csv (2024), with what the generator adds:
 * city districts for the three cities, the "south" flag (more large
 * families) and the share of households schooling in Kazakh. */
static const struct region_ref {
    const char *code, *name_kk, *name_ru;
    int y, m, d;
    uint32_t pop_thousands;
    int city_districts;        /* > 0 for cities of republican significance */
    int south;
    double kk_share;
} REGION_REF[] = {
    {"100000000", "Абай облысы", "область Абай", 2022, 6, 8, 603, 0, 0, 0.72},
    {"110000000", "Ақмола облысы", "Акмолинская область", 1997, 1, 1, 788, 0, 0, 0.50},
    {"150000000", "Ақтөбе облысы", "Актюбинская область", 1997, 1, 1, 929, 0, 0, 0.80},
    {"190000000", "Алматы облысы", "Алматинская область", 1997, 1, 1, 1532, 0, 0, 0.80},
    {"230000000", "Атырау облысы", "Атырауская область", 1997, 1, 1, 701, 0, 0, 0.94},
    {"270000000", "Батыс Қазақстан облысы", "Западно-Казахстанская область", 1997, 1, 1, 690, 0, 0, 0.76},
    {"310000000", "Жамбыл облысы", "Жамбылская область", 1997, 1, 1, 1220, 0, 1, 0.84},
    {"330000000", "Жетісу облысы", "область Жетісу", 2022, 6, 8, 698, 0, 0, 0.76},
    {"350000000", "Қарағанды облысы", "Карагандинская область", 1997, 1, 1, 1131, 0, 0, 0.45},
    {"390000000", "Қостанай облысы", "Костанайская область", 1997, 1, 1, 829, 0, 0, 0.40},
    {"430000000", "Қызылорда облысы", "Кызылординская область", 1997, 1, 1, 840, 0, 1, 0.95},
    {"470000000", "Маңғыстау облысы", "Мангистауская область", 1997, 1, 1, 785, 0, 1, 0.92},
    {"550000000", "Павлодар облысы", "Павлодарская область", 1997, 1, 1, 751, 0, 0, 0.45},
    {"590000000", "Солтүстік Қазақстан облысы", "Северо-Казахстанская область", 1997, 1, 1, 527, 0, 0, 0.38},
    {"610000000", "Түркістан облысы", "Туркестанская область", 2018, 6, 19, 2140, 0, 1, 0.88},
    {"620000000", "Ұлытау облысы", "область Ұлытау", 2022, 6, 8, 222, 0, 0, 0.75},
    {"630000000", "Шығыс Қазақстан облысы", "Восточно-Казахстанская область", 1997, 1, 1, 728, 0, 0, 0.40},
    {"710000000", "Астана", "город Астана", 1997, 1, 1, 1423, 5, 0, 0.70},
    {"750000000", "Алматы", "город Алматы", 1997, 1, 1, 2229, 8, 0, 0.55},
    {"790000000", "Шымкент", "город Шымкент", 2018, 6, 19, 1227, 5, 1, 0.86},
};
#define N_REGION_REF ((int)(sizeof REGION_REF / sizeof REGION_REF[0]))

/* The 2022 reform: new region ← region it was carved out of. */
static const struct {
    const char *created, *from;
} REFORM_2022[] = {
    {"100000000", "630000000"},  /* Abai   ← East Kazakhstan */
    {"330000000", "190000000"},  /* Jetisu ← Almaty oblast */
    {"620000000", "350000000"},  /* Ulytau ← Karaganda */
};

/* Place-name stems, Kazakh and Russian spelling. */
static const char *const STEMS[][2] = {
    {"Ақсу", "Аксу"}, {"Қарасу", "Карасу"}, {"Бесқарағай", "Бескарагай"},
    {"Көктал", "Коктал"}, {"Жаңаарқа", "Жанаарка"}, {"Сарыөзек", "Сарыозек"},
    {"Талдысай", "Талдысай"}, {"Шұбаркөл", "Шубарколь"}, {"Ақжар", "Акжар"},
    {"Қызылжар", "Кызылжар"}, {"Көкжиде", "Кокжиде"}, {"Жетікөл", "Жетыколь"},
    {"Алғабас", "Алгабас"}, {"Бірлік", "Бирлик"}, {"Достық", "Достык"},
    {"Ынтымақ", "Ынтымак"}, {"Жаңатұрмыс", "Жанатурмыс"}, {"Қостөбе", "Костобе"},
    {"Ақтоғай", "Актогай"}, {"Қаражал", "Каражал"}, {"Теректі", "Терекли"},
    {"Сарыкөл", "Сарыколь"}, {"Талапты", "Талапты"}, {"Ұлан", "Улан"},
    {"Мойынқұм", "Мойынкум"}, {"Шалқар", "Шалкар"}, {"Егінсу", "Егинсу"},
    {"Қайнар", "Кайнар"}, {"Бозой", "Бозой"}, {"Ақкөл", "Акколь"},
    {"Қаракемер", "Каракемер"}, {"Шиелі", "Шиели"}, {"Аққайың", "Аккайын"},
    {"Тасты", "Тасты"}, {"Майтөбе", "Майтобе"}, {"Көкпекті", "Кокпекты"},
    {"Бестерек", "Бестерек"}, {"Алатау", "Алатау"}, {"Саумалкөл", "Саумалколь"},
    {"Күншығыс", "Куншыгыс"}, {"Қаратау", "Каратау"}, {"Береке", "Береке"},
    {"Самал", "Самал"}, {"Жұлдыз", "Жулдыз"}, {"Қарабұлақ", "Карабулак"},
    {"Көктөбе", "Коктобе"}, {"Ақтас", "Актас"}, {"Жалғызтал", "Жалгызтал"},
    {"Тереңөзек", "Теренозек"}, {"Қамысты", "Камысты"}, {"Орнек", "Орнек"},
    {"Шыңғыстау", "Шынгыстау"}, {"Ащысай", "Ащысай"}, {"Балтакөл", "Балтаколь"},
    {"Жиделі", "Жидели"}, {"Қоғалы", "Когалы"}, {"Ақши", "Акши"},
    {"Сексеуіл", "Саксаульский"}, {"Түлкібас", "Тюлькубас"}, {"Ескелді", "Ескельды"},
};
#define N_STEMS ((int)(sizeof STEMS / sizeof STEMS[0]))

enum name_kind {
    NK_DISTRICT, NK_TOWN, NK_OKRUG, NK_CITY_OKRUG,
    NK_TOWN_CENTRE, NK_VILLAGE, NK_CITY_QUARTER
};

/* "<stem><suffix>" in both languages; the Russian forms put the generic
 * word first, as modern official names do ("сельский округ Аксу"). */
static void name_unit(kato_unit *u, rng_t *r, enum name_kind kind, int stem)
{
    static const char *const kk_suffix[] = {
        " ауданы", " қаласы", " ауылдық округі", " шағын ауданы",
        " қаласы", " ауылы", " тұрғын алабы"};
    static const char *const ru_prefix[] = {
        "район ", "город ", "сельский округ ", "микрорайон ",
        "город ", "село ", "жилой массив "};
    if (stem < 0)
        stem = (int)rng_below(r, N_STEMS);
    char number[8] = "";
    if (kind == NK_CITY_OKRUG || kind == NK_CITY_QUARTER)
        snprintf(number, sizeof number, "-%u", 1 + rng_below(r, 9));
    snprintf(u->name_kk, sizeof u->name_kk, "%s%s%s", STEMS[stem][0], number, kk_suffix[kind]);
    snprintf(u->name_ru, sizeof u->name_ru, "%s%s%s", ru_prefix[kind], STEMS[stem][1], number);
}

/* Appends a unit; returns its index, or -1 when out of memory. */
static int unit_add(territory *t, const char *code, int parent, int level,
                    day_t from, double weight)
{
    if (t->n_units == t->cap_units) {
        int cap = t->cap_units ? t->cap_units * 2 : 1024;
        kato_unit *u = realloc(t->units, (size_t)cap * sizeof *u);
        if (!u)
            return -1;
        t->units = u;
        t->cap_units = cap;
    }
    kato_unit *u = &t->units[t->n_units];
    memset(u, 0, sizeof *u);
    memcpy(u->code, code, 9);
    u->parent = parent;
    u->level = level;
    u->valid_from = from;
    u->valid_to = DAY_NONE;
    u->successor = -1;
    u->pred = -1;
    u->weight = weight;
    return t->n_units++;
}

/* Most units date from their parent's creation; some were formed later,
 * but always before 2022 so every reform closes an older code. */
static day_t child_from(rng_t *r, day_t parent_from)
{
    day_t latest = days_from_civil(2021, 12, 31);
    if (parent_from >= latest || rng_chance(r, 0.85))
        return parent_from;
    return (day_t)rng_range(r, parent_from, latest);
}

static double rng_between(rng_t *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_unit(r);
}

/* Adds okrug number k of district `dist` with its settlements.
 * Returns 0 or -1 when out of memory. */
static int build_okrug(territory *t, rng_t *r, int dist, int k, int city)
{
    const kato_unit *d = &t->units[dist];
    char code[10];
    memcpy(code, d->code, 9);
    code[9] = 0;
    int ef = 10 + 2 * k;
    code[4] = (char)('0' + ef / 10);
    code[5] = (char)('0' + ef % 10);
    int town = !city && k == 0;
    double w = town ? rng_between(r, 3.0, 6.0) : rng_between(r, 0.3, 1.0);
    day_t from = child_from(r, d->valid_from);
    int okrug = unit_add(t, code, dist, 3, from, w);
    if (okrug < 0)
        return -1;
    int stem = (int)rng_below(r, N_STEMS);
    name_unit(&t->units[okrug], r, city ? NK_CITY_OKRUG : town ? NK_TOWN : NK_OKRUG, stem);
    int n = city ? 2 + (int)rng_below(r, 2) : 2 + (int)rng_below(r, 5);
    for (int j = 0; j < n; j++) {
        int hij = (j + 1) * 100 + (int)rng_below(r, 50);
        code[6] = (char)('0' + hij / 100);
        code[7] = (char)('0' + hij / 10 % 10);
        code[8] = (char)('0' + hij % 10);
        double sw = j == 0 ? rng_between(r, 2.0, 4.0) : rng_between(r, 0.2, 1.0);
        int s = unit_add(t, code, okrug, 4, child_from(r, from), sw);
        if (s < 0)
            return -1;
        enum name_kind kind = city ? NK_CITY_QUARTER
                            : town && j == 0 ? NK_TOWN_CENTRE : NK_VILLAGE;
        name_unit(&t->units[s], r, kind, town && j == 0 ? stem : -1);
    }
    return 0;
}

/* Adds district digits `cd` of region unit `reg` with its okrugs and
 * settlements. Returns the district's unit index or -1 (out of memory). */
static int build_district(territory *t, rng_t *r, int reg, int cd, int city, day_t from)
{
    char code[10];
    memcpy(code, t->units[reg].code, 9);
    code[9] = 0;
    code[2] = (char)('0' + cd / 10);
    code[3] = (char)('0' + cd % 10);
    int dist = unit_add(t, code, reg, 2, from, rng_between(r, 0.5, 1.8));
    if (dist < 0)
        return -1;
    name_unit(&t->units[dist], r, NK_DISTRICT, -1);
    int n_okrugs = city ? 2 + (int)rng_below(r, 2) : 3 + (int)rng_below(r, 5);
    for (int k = 0; k < n_okrugs; k++)
        if (build_okrug(t, r, dist, k, city) != 0)
            return -1;
    return dist;
}

/* Copies the subtree units[first, last) — a district followed by its
 * okrugs and settlements, as build_district lays them out — under region
 * unit `reg` with district digits `cd` and okrug digits shifted by
 * `ef_shift`, all valid from `from`. When `into` ≥ 0 the district itself
 * is not copied: its okrugs join the existing district `into`. Returns the
 * index of the first copy (copies keep the source order), or -1. */
static int copy_subtree(territory *t, int first, int last, int reg, int cd,
                        int ef_shift, day_t from, int into)
{
    int start = t->n_units;
    int skip = into >= 0;
    for (int i = first + skip; i < last; i++) {
        kato_unit src = t->units[i];          /* units may move on realloc */
        char code[10];
        memcpy(code, src.code, 10);
        memcpy(code, t->units[reg].code, 2);
        code[2] = (char)('0' + cd / 10);
        code[3] = (char)('0' + cd % 10);
        if (src.level >= 3) {
            int ef = (code[4] - '0') * 10 + (code[5] - '0') + ef_shift;
            code[4] = (char)('0' + ef / 10);
            code[5] = (char)('0' + ef % 10);
        }
        int parent = src.level == 2 ? reg
                   : src.parent == first && skip ? into
                   : start + (src.parent - first - skip);
        int u = unit_add(t, code, parent, src.level, from, src.weight);
        if (u < 0)
            return -1;
        memcpy(t->units[u].name_kk, src.name_kk, sizeof src.name_kk);
        memcpy(t->units[u].name_ru, src.name_ru, sizeof src.name_ru);
    }
    return start;
}

/* Closes `old` the day before `reform`, replaced by `repl`. */
static void close_unit(territory *t, int old, int repl, day_t reform)
{
    t->units[old].valid_to = reform - 1;
    t->units[old].successor = repl;
    if (t->units[repl].pred < 0)
        t->units[repl].pred = old;
}

/* Closes units[first+skip, last) onto the copies starting at `copy`, and
 * the district units[first] onto `district_repl` when skip is set. */
static void close_subtree(territory *t, int first, int last, int copy,
                          int skip, int district_repl, day_t reform)
{
    if (skip)
        close_unit(t, first, district_repl, reform);
    for (int i = first + skip; i < last; i++)
        close_unit(t, i, copy + (i - first - skip), reform);
}

static int find_unit(const territory *t, const char *code)
{
    for (int i = 0; i < t->n_units; i++)
        if (memcmp(t->units[i].code, code, 9) == 0)
            return i;
    return -1;
}

/* The region units themselves, first, so that a 2022 region can find the
 * region it was carved out of. Unit index = REGION_REF index. Returns 0 or
 * -1 (out of memory). */
static int add_regions(territory *t)
{
    for (int ri = 0; ri < N_REGION_REF; ri++) {
        const struct region_ref *ref = &REGION_REF[ri];
        day_t from = days_from_civil(ref->y, ref->m, ref->d);
        int reg = unit_add(t, ref->code, -1, 1, from, ref->pop_thousands);
        if (reg < 0)
            return -1;
        snprintf(t->units[reg].name_kk, sizeof t->units[reg].name_kk, "%s", ref->name_kk);
        snprintf(t->units[reg].name_ru, sizeof t->units[reg].name_ru, "%s", ref->name_ru);
    }
    return 0;
}

/* The districts of region REGION_REF[ri]. For a region created in 2022
 * each district also gets a closed predecessor under the region it came
 * from. Returns 0 or -1 (out of memory). `sub` receives the first two
 * districts' subtrees as [start, end) unit ranges for the in-window
 * reform. */
static int build_region(territory *t, rng_t *r, int ri, int sub[2][2])
{
    const struct region_ref *ref = &REGION_REF[ri];
    int reg = ri;
    day_t from = t->units[reg].valid_from;
    int old_reg = -1;
    for (size_t k = 0; k < sizeof REFORM_2022 / sizeof REFORM_2022[0]; k++)
        if (strcmp(REFORM_2022[k].created, ref->code) == 0)
            old_reg = find_unit(t, REFORM_2022[k].from);
    int n = ref->city_districts ? ref->city_districts
                                : 8 + (int)(ref->pop_thousands / 200);
    if (n > 20)
        n = 20;
    for (int i = 0; i < n; i++) {
        int first = t->n_units;
        if (build_district(t, r, reg, 10 + 4 * i, ref->city_districts > 0,
                           child_from(r, from)) < 0)
            return -1;
        int last = t->n_units;
        if (i < 2) {
            sub[i][0] = first;
            sub[i][1] = last;
        }
        if (old_reg < 0)
            continue;
        int copy = copy_subtree(t, first, last, old_reg, 11 + 4 * i, 0,
                                t->units[old_reg].valid_from, -1);
        if (copy < 0)
            return -1;
        close_subtree(t, copy, copy + (last - first), first, 0, -1, t->reform_2022);
    }
    return 0;
}

/* The reform inside the data window: rename Abai's first district (X→Y,
 * chaining its East Kazakhstan predecessors) and merge Kostanay's first
 * two districts M and N into a new district Z. Returns 0 or -1. */
static int reform_in_window(territory *t, rng_t *r, const int abai[2], const int kost[2][2])
{
    day_t R = t->reform_window;
    int abai_reg = t->units[abai[0]].parent;
    int y = copy_subtree(t, abai[0], abai[1], abai_reg, 12, 0, R, -1);
    if (y < 0)
        return -1;
    name_unit(&t->units[y], r, NK_DISTRICT, -1);
    close_subtree(t, abai[0], abai[1], y, 0, -1, R);

    int kost_reg = t->units[kost[0][0]].parent;
    int z = copy_subtree(t, kost[0][0], kost[0][1], kost_reg, 12, 0, R, -1);
    if (z < 0)
        return -1;
    int n_copy = copy_subtree(t, kost[1][0], kost[1][1], kost_reg, 12, 1, R, z);
    if (n_copy < 0)
        return -1;
    t->units[z].weight += t->units[kost[1][0]].weight;
    name_unit(&t->units[z], r, NK_DISTRICT, -1);
    close_subtree(t, kost[0][0], kost[0][1], z, 0, -1, R);
    close_subtree(t, kost[1][0], kost[1][1], n_copy, 1, z, R);
    return 0;
}

static int cmp_unit_code(const void *a, const void *b, void *units)
{
    const kato_unit *u = units;
    return memcmp(u[*(const int *)a].code, u[*(const int *)b].code, 9);
}

/* Builds the KATO tree. Returns 0, or -1 with g->err set. */
int territory_build(gen_ctx *g)
{
    territory *t = &g->terr;
    rng_t r;
    rng_seed(&r, g->seed ^ 0x4B41544F00000000ull);   /* "KATO" */
    t->reform_2022 = days_from_civil(2022, 6, 8);
    int abai[2] = {0, 0}, kost[2][2] = {{0, 0}, {0, 0}};
    if (add_regions(t) != 0)
        goto oom;
    for (int ri = 0; ri < N_REGION_REF; ri++) {
        int sub[2][2];
        if (build_region(t, &r, ri, sub) != 0)
            goto oom;
        if (strcmp(REGION_REF[ri].code, "100000000") == 0)
            memcpy(abai, sub[0], sizeof abai);
        if (strcmp(REGION_REF[ri].code, "390000000") == 0)
            memcpy(kost, sub, sizeof kost);
    }
    if (reform_in_window(t, &r, abai, kost) != 0)
        goto oom;
    return 0;
oom:
    snprintf(g->err, sizeof g->err, "out of memory building the KATO tree");
    return -1;
}

/* Indexes open units in code order into regions, districts and
 * settlements. Returns 0 or -1 (out of memory). */
static int index_open_units(territory *t, const int *order)
{
    t->districts = calloc((size_t)t->n_units, sizeof *t->districts);
    t->settlements = calloc((size_t)t->n_units, sizeof *t->settlements);
    int *district_of = malloc((size_t)t->n_units * sizeof *district_of);
    if (!t->districts || !t->settlements || !district_of) {
        free(district_of);
        return -1;
    }
    for (int k = 0; k < t->n_units; k++) {
        int u = order[k];
        const kato_unit *x = &t->units[u];
        if (x->valid_to != DAY_NONE)
            continue;
        if (x->level == 1) {
            region *rg = &t->regions[t->n_regions++];
            const struct region_ref *ref = NULL;
            for (int i = 0; i < N_REGION_REF; i++)
                if (strcmp(REGION_REF[i].code, x->code) == 0)
                    ref = &REGION_REF[i];
            rg->unit = u;
            rg->first_district = t->n_districts;
            rg->south = ref->south;
            rg->kk_share = ref->kk_share;
            rg->pop_thousands = ref->pop_thousands;
        } else if (x->level == 2) {
            district *d = &t->districts[t->n_districts];
            d->unit = u;
            d->region = t->n_regions - 1;
            d->first_settlement = t->n_settlements;
            t->regions[d->region].n_districts++;
            district_of[u] = t->n_districts++;
        } else if (x->level == 4) {
            settlement *s = &t->settlements[t->n_settlements++];
            s->unit = u;
            s->district = district_of[t->units[x->parent].parent];
            t->districts[s->district].n_settlements++;
        }
    }
    free(district_of);
    return 0;
}

typedef struct {
    double frac;
    int index;
} remainder_t;

static int cmp_remainder(const void *a, const void *b)
{
    const remainder_t *x = a, *y = b;
    if (x->frac != y->frac)
        return x->frac < y->frac ? 1 : -1;
    return x->index - y->index;
}

/* Share of unit u among its open siblings. */
static double sibling_share(const territory *t, const double *child_sum, int u)
{
    int p = t->units[u].parent;
    return p < 0 ? t->units[u].weight : t->units[u].weight / child_sum[p];
}

/* Splits g->n_persons over settlements by region population and sibling
 * weights (largest remainder, so the total is exact). Returns 0 or -1. */
static int assign_population(gen_ctx *g)
{
    territory *t = &g->terr;
    double *child_sum = calloc((size_t)t->n_units, sizeof *child_sum);
    remainder_t *rem = malloc((size_t)t->n_settlements * sizeof *rem);
    if (!child_sum || !rem) {
        free(child_sum);
        free(rem);
        return -1;
    }
    for (int u = 0; u < t->n_units; u++)
        if (t->units[u].valid_to == DAY_NONE && t->units[u].parent >= 0)
            child_sum[t->units[u].parent] += t->units[u].weight;
    double total = 0;
    for (int i = 0; i < t->n_settlements; i++) {
        double w = 1;
        for (int u = t->settlements[i].unit; u >= 0; u = t->units[u].parent)
            w *= sibling_share(t, child_sum, u);
        rem[i].frac = w;
        total += w;
    }
    uint64_t given = 0;
    for (int i = 0; i < t->n_settlements; i++) {
        double exact = (double)g->n_persons * rem[i].frac / total;
        t->settlements[i].persons = (uint64_t)exact;
        given += t->settlements[i].persons;
        rem[i].frac = exact - floor(exact);
        rem[i].index = i;
    }
    qsort(rem, (size_t)t->n_settlements, sizeof *rem, cmp_remainder);
    for (int k = 0; given < g->n_persons; k = (k + 1) % t->n_settlements, given++)
        t->settlements[rem[k].index].persons++;
    for (int i = 0; i < t->n_settlements; i++)
        t->districts[t->settlements[i].district].persons += t->settlements[i].persons;
    free(child_sum);
    free(rem);
    return 0;
}

/* Gives two settlements names that need CSV quoting (a '"' and a ';'),
 * so readers' quote handling is exercised by every snapshot. */
static void quoting_names(territory *t)
{
    static const char *const names[2][2] = {
        {"\"Жаңа жол\" ауылы", "село \"Жана жол\""},
        {"№ 12 разъезд; Бейнеу бекеті", "разъезд № 12; станция Бейнеу"},
    };
    int picks[2] = {t->n_settlements / 3, t->n_settlements * 2 / 3};
    for (int k = 0; k < 2; k++) {
        kato_unit *u = &t->units[t->settlements[picks[k]].unit];
        snprintf(u->name_kk, sizeof u->name_kk, "%s", names[k][0]);
        snprintf(u->name_ru, sizeof u->name_ru, "%s", names[k][1]);
    }
}

/* Of ages 7–17 per resident; sets the expected load of each school. */
#define PUPIL_SHARE 0.18
#define RESIDENTS_PER_SCHOOL 2500.0

static int pick_settlement_by_persons(const territory *t, rng_t *r, const district *d)
{
    uint64_t x = d->persons ? (uint64_t)rng_range(r, 0, (int64_t)d->persons - 1) : 0;
    for (int i = 0; i < d->n_settlements; i++) {
        uint64_t p = t->settlements[d->first_settlement + i].persons;
        if (x < p)
            return i;
        x -= p;
    }
    return (int)rng_below(r, (uint32_t)d->n_settlements);
}

static int school_built_year(rng_t *r, int snap_year)
{
    double u = rng_unit(r);
    int y = u < 0.10 ? (int)rng_range(r, 1930, 1959)
          : u < 0.65 ? (int)rng_range(r, 1960, 1989)
          : u < 0.80 ? (int)rng_range(r, 1990, 2009)
                     : (int)rng_range(r, 2010, 2024);
    return y > snap_year ? snap_year : y;
}

/* Capacity from the load the school is expected to carry: the district's
 * magnet school and about one in eight others are built too small, the
 * rest with room to spare, so over- and under-capacity schools share
 * districts. */
static void size_school(school *s, rng_t *r, double expected, int magnet, int snap_year)
{
    int over = magnet || rng_chance(r, 0.12);
    double f = over ? rng_between(r, 0.60, 0.92) : rng_between(r, 1.08, 1.80);
    long cap = lround(expected * f);
    s->capacity = (int)(cap < 100 ? 100 : cap > 1500 ? 1500 : cap);
    s->built_year = school_built_year(r, snap_year);
    double u = rng_unit(r);
    s->shifts = over ? (u < 0.07 ? 3 : u < 0.55 ? 2 : 1) : (u < 0.004 ? 3 : u < 0.15 ? 2 : 1);
}

/* Places and sizes the schools of one district. `count` is scratch of
 * d->n_settlements ints. Returns 0 or -1 (out of memory). */
static int plan_district_schools(gen_ctx *g, rng_t *r, int di, int *count)
{
    territory *t = &g->terr;
    district *d = &t->districts[di];
    long n = lround((double)d->persons / RESIDENTS_PER_SCHOOL);
    if (n < 2)
        n = 2;
    int largest = 0;
    for (int i = 0; i < d->n_settlements; i++) {
        count[i] = 0;
        if (t->settlements[d->first_settlement + i].persons >
            t->settlements[d->first_settlement + largest].persons)
            largest = i;
    }
    count[largest] = 1;
    for (long k = 1; k < n; k++)
        count[pick_settlement_by_persons(t, r, d)]++;
    school *grown = realloc(t->schools, (size_t)(t->n_schools + n) * sizeof *grown);
    if (!grown)
        return -1;
    t->schools = grown;
    d->first_school = t->n_schools;
    for (int i = 0; i < d->n_settlements; i++) {
        settlement *s = &t->settlements[d->first_settlement + i];
        s->first_school = t->n_schools;
        for (int k = 0; k < count[i]; k++) {
            school *sc = &t->schools[t->n_schools++];
            sc->org_id = 100001u + (uint32_t)(t->n_schools - 1);
            sc->settlement = d->first_settlement + i;
            sc->weight = rng_between(r, 0.6, 1.4) * (i == largest && k == 0 ? 2.5 : 1.0);
            s->n_schools++;
            s->school_weight += sc->weight;
            d->school_weight += sc->weight;
        }
    }
    d->n_schools = t->n_schools - d->first_school;
    double homeless = 0;   /* pupils of settlements without a school */
    for (int i = 0; i < d->n_settlements; i++)
        if (!count[i])
            homeless += (double)t->settlements[d->first_settlement + i].persons * PUPIL_SHARE;
    for (int k = d->first_school; k < t->n_schools; k++) {
        school *sc = &t->schools[k];
        const settlement *s = &t->settlements[sc->settlement];
        double expected = (double)s->persons * PUPIL_SHARE * sc->weight / s->school_weight
                        + homeless * sc->weight / d->school_weight;
        size_school(sc, r, expected, k == t->settlements[d->first_settlement + largest].first_school,
                    g->snap_year);
    }
    return 0;
}

/* Indexes the tree, spreads the population and places schools. Returns 0
 * or -1 with g->err set. */
int territory_plan(gen_ctx *g)
{
    territory *t = &g->terr;
    int *order = malloc((size_t)t->n_units * sizeof *order);
    int *count = malloc((size_t)t->n_units * sizeof *count);
    int rc = -1;
    if (!order || !count)
        goto out;
    for (int i = 0; i < t->n_units; i++)
        order[i] = i;
    qsort_r(order, (size_t)t->n_units, sizeof *order, cmp_unit_code, t->units);
    if (index_open_units(t, order) != 0 || assign_population(g) != 0)
        goto out;
    quoting_names(t);
    rng_t r;
    rng_seed(&r, g->seed ^ 0x5343484F4F4C5300ull);   /* "SCHOOLS" */
    for (int di = 0; di < t->n_districts; di++)
        if (plan_district_schools(g, &r, di, count) != 0)
            goto out;
    rc = 0;
out:
    if (rc != 0)
        snprintf(g->err, sizeof g->err, "out of memory planning the territory");
    free(order);
    free(count);
    return rc;
}

void territory_free(territory *t)
{
    free(t->units);
    free(t->districts);
    free(t->settlements);
    free(t->schools);
    memset(t, 0, sizeof *t);
}

const char *kato_for_row(const territory *t, rng_t *r, int unit, day_t when, double p)
{
    const kato_unit *u = t->units;
    int pred = u[unit].pred;
    if (pred < 0 || when > u[pred].valid_to || !rng_chance(r, p))
        return u[unit].code;
    while (u[pred].pred >= 0 && when <= u[u[pred].pred].valid_to)
        pred = u[pred].pred;
    return u[pred].code;
}

int other_district_settlement(const territory *t, rng_t *r, int settlement)
{
    const district *d = &t->districts[t->settlements[settlement].district];
    const region *rg = &t->regions[d->region];
    if (rg->n_districts < 2)
        return -1;
    int own = t->settlements[settlement].district - rg->first_district;
    int k = (int)rng_below(r, (uint32_t)rg->n_districts - 1);
    if (k >= own)
        k++;
    const district *o = &t->districts[rg->first_district + k];
    return o->first_settlement + (int)rng_below(r, (uint32_t)o->n_settlements);
}

/* Rows in code order. Returns 0 or -1 (stream error). */
int write_kato(gen_ctx *g)
{
    territory *t = &g->terr;
    out_stream *s = &g->out[X_KATO];
    int *order = malloc((size_t)t->n_units * sizeof *order);
    if (!order) {
        snprintf(g->err, sizeof g->err, "out of memory writing kato");
        return -1;
    }
    for (int i = 0; i < t->n_units; i++)
        order[i] = i;
    qsort_r(order, (size_t)t->n_units, sizeof *order, cmp_unit_code, t->units);
    int rc = 0;
    for (int k = 0; k < t->n_units && rc == 0; k++) {
        const kato_unit *u = &t->units[order[k]];
        if ((rc = out_reserve(s)) != 0)
            break;
        char *p = out_cursor(s);
        p = put_mem(p, u->code, 9);
        *p++ = ';';
        p = u->parent < 0 ? PUT_LIT(p, "000000000") : put_mem(p, t->units[u->parent].code, 9);
        *p++ = ';';
        p = put_u64(p, (uint64_t)u->level);
        *p++ = ';';
        p = put_csv_text(p, u->name_kk);
        *p++ = ';';
        p = put_csv_text(p, u->name_ru);
        *p++ = ';';
        p = put_date(p, &g->dates, u->valid_from);
        *p++ = ';';
        p = put_opt_date(p, &g->dates, u->valid_to);
        *p++ = ';';
        if (u->successor >= 0)
            p = put_mem(p, t->units[u->successor].code, 9);
        out_commit_row(s, p);
    }
    free(order);
    return rc;
}

/* Returns 0 or -1 (stream error). */
int write_schools(gen_ctx *g)
{
    const territory *t = &g->terr;
    out_stream *s = &g->out[X_SCHOOLS];
    for (int k = 0; k < t->n_schools; k++) {
        const school *sc = &t->schools[k];
        if (out_reserve(s) != 0)
            return -1;
        char *p = out_cursor(s);
        p = put_u64(p, sc->org_id);
        *p++ = ';';
        p = put_mem(p, t->units[t->settlements[sc->settlement].unit].code, 9);
        *p++ = ';';
        p = put_u64(p, (uint64_t)sc->capacity);
        *p++ = ';';
        p = put_u64(p, (uint64_t)sc->built_year);
        *p++ = ';';
        p = put_u64(p, (uint64_t)sc->shifts);
        out_commit_row(s, p);
    }
    return 0;
}
