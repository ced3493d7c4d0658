/* dashboard.c — see dashboard.h. The page is one HTML file: styles, the
 * data as a JSON block (built here from published values only), Chart.js
 * and a small script that draws the page in the chosen language. Strings
 * in the JSON escape <, > and & so nothing in the data can close the
 * script element. */
#include "dashboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../archive/h5archive.h"
#include "../disclosure.h"

#define DASH_MAX_PERIODS 28 /* 7 years of quarters; 13 months; 7 years */

/* One report's history: the periods of the window ending at P (oldest
 * first) and, for each earlier one, its `_T` rows of levels ≤ 2 after
 * disclosure control (NULL: no archived table). P itself is the bundle's
 * own cut, supplied when the page is drawn. */
typedef struct {
    char id[16];
    size_t nperiods;
    char period[DASH_MAX_PERIODS][12];
    report_table *table[DASH_MAX_PERIODS];
} report_history;

struct dashboard_history {
    size_t n;
    report_history *reports;
};

/* ---- periods -------------------------------------------------------------- */

/* The window ending at p, oldest first: 13 months, 28 quarters or 7 years. */
static size_t window(const char *p, char out[][12]) {
    int y = 0, n = 0;
    size_t count;
    if (strlen(p) == 7 && p[4] == '-' && p[5] == 'Q' && sscanf(p, "%4d-Q%1d", &y, &n) == 2) {
        count = 28;
        for (size_t i = 0; i < count; i++) {
            int k = y * 4 + (n - 1) - (int)(count - 1 - i);
            snprintf(out[i], 12, "%04d-Q%d", k / 4 % 10000, k % 4 + 1);
        }
    } else if (strlen(p) == 7 && sscanf(p, "%4d-%2d", &y, &n) == 2) {
        count = 13;
        for (size_t i = 0; i < count; i++) {
            int k = y * 12 + (n - 1) - (int)(count - 1 - i);
            snprintf(out[i], 12, "%04d-%02d", k / 12 % 10000, k % 12 + 1);
        }
    } else {
        count = 7;
        y = atoi(p);
        for (size_t i = 0; i < count; i++) snprintf(out[i], 12, "%04d", (y - (int)(count - 1 - i)) % 10000);
    }
    return count;
}

/* ---- history from the archive -------------------------------------------- */

/* Keeps the rows of levels ≤ 2 whose dimensions are all `_T` (what a
 * page can show, for every region), in place. */
static void keep_totals(report_table *t) {
    size_t k = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        int total = t->level[r] <= 2;
        for (size_t d = 0; d < t->ndims; d++) total &= t->dim_value[d][r] == t->dims[d].nvalues - 1;
        if (!total) continue;
        t->kato[k] = t->kato[r], t->level[k] = t->level[r];
        for (size_t d = 0; d < t->ndims; d++) t->dim_value[d][k] = t->dim_value[d][r];
        for (size_t m = 0; m < t->nmeasures; m++) t->value[m][k] = t->value[m][r];
        k++;
    }
    t->nrows = k;
}

/* The archived table of (id, period) as it is published, or NULL in *t
 * when there is none. 0, or -1 with a message. */
static int load_past(const char *out_dir, const char *id, const char *period, report_table **t, char *err,
                     size_t errlen) {
    char path[4200];
    struct stat st;
    *t = NULL;
    snprintf(path, sizeof path, "%s/archive/%s/%s.h5", out_dir, period, id);
    if (stat(path, &st) != 0) return 0;
    report_table *tab = calloc(1, sizeof *tab);
    if (!tab) return snprintf(err, errlen, "out of memory"), -1;
    if (h5archive_read(path, tab, err, errlen) || disclosure_apply(tab, err, errlen)) {
        report_table_free(tab);
        free(tab);
        return -1;
    }
    keep_totals(tab);
    *t = tab;
    return 0;
}

void dashboard_history_free(dashboard_history *h) {
    if (!h) return;
    for (size_t r = 0; r < h->n; r++)
        for (size_t i = 0; i < h->reports[r].nperiods; i++)
            if (h->reports[r].table[i]) report_table_free(h->reports[r].table[i]), free(h->reports[r].table[i]);
    free(h->reports);
    free(h);
}

int dashboard_history_load(const char *out_dir, const report_table *const *tables, size_t n, const char *period,
                           dashboard_history **out, char *err, size_t errlen) {
    dashboard_history *h = calloc(1, sizeof *h);
    *out = NULL;
    if (!h || !(h->reports = calloc(n ? n : 1, sizeof *h->reports))) return free(h), snprintf(err, errlen, "out of memory"), -1;
    for (size_t t = 0; t < n; t++) {
        report_history *rh = &h->reports[h->n++];
        snprintf(rh->id, sizeof rh->id, "%s", tables[t]->id);
        rh->nperiods = window(period, rh->period);
        for (size_t i = 0; i + 1 < rh->nperiods; i++)
            if (load_past(out_dir, rh->id, rh->period[i], &rh->table[i], err, errlen))
                return dashboard_history_free(h), -1;
    }
    *out = h;
    return 0;
}

static const report_history *history_of(const dashboard_history *h, const char *id) {
    for (size_t r = 0; r < h->n; r++)
        if (!strcmp(h->reports[r].id, id)) return &h->reports[r];
    return NULL;
}

/* ---- JSON ---------------------------------------------------------------- */

/* A JSON string safe inside <script>: <, > and & as \u escapes. */
static void put_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&') fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

/* A value in display units as a JSON number, "x" when suppressed, null
 * when empty. Exact: decimal text from the integer, never a double. */
static void put_value(FILE *f, int64_t v, measure_format fmt) {
    if (v == MEASURE_SUPPRESSED) {
        fputs("\"x\"", f);
        return;
    }
    if (v == MEASURE_EMPTY) {
        fputs("null", f);
        return;
    }
    int scale = fmt == MEASURE_MONEY ? 100 : fmt == MEASURE_DECIMAL1 ? 10 : 1;
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    fprintf(f, "%s%llu", v < 0 ? "-" : "", (unsigned long long)(a / (uint64_t)scale));
    if (scale == 100) fprintf(f, ".%02llu", (unsigned long long)(a % 100));
    if (scale == 10) fprintf(f, ".%llu", (unsigned long long)(a % 10));
}

/* The row of kato whose dimensions are all `_T`, or -1. */
static long find_row(const report_table *t, int32_t kato) {
    for (size_t r = 0; r < t->nrows; r++) {
        int total = t->kato[r] == kato;
        for (size_t d = 0; total && d < t->ndims; d++) total = t->dim_value[d][r] == t->dims[d].nvalues - 1;
        if (total) return (long)r;
    }
    return -1;
}

static int find_measure(const report_table *t, const char *name) {
    for (size_t m = 0; m < t->nmeasures; m++)
        if (!strcmp(t->measures[m].name, name)) return (int)m;
    return -1;
}

/* "values": {kato: [[m0, m1, …] or null per period]} over the territories;
 * tab[p] is period p's table (NULL: none), tab[n - 1] the bundle's cut. */
static void put_series(FILE *f, const report_table *cut, const report_table *const *tab, size_t n, size_t first) {
    fputs("\"values\":{", f);
    size_t emitted = 0;
    for (size_t o = 0; o < cut->nterritories; o++) {
        int32_t kato = cut->territories[o].kato;
        if (cut->territories[o].level > 2) continue;
        fprintf(f, "%s\"%09ld\":[", emitted++ ? "," : "", (long)kato);
        for (size_t p = first; p < n; p++) {
            const report_table *t = tab[p];
            long r = t ? find_row(t, kato) : -1;
            if (p > first) fputc(',', f);
            if (r < 0) {
                fputs("null", f);
                continue;
            }
            fputc('[', f);
            for (size_t m = 0; m < cut->nmeasures; m++) {
                int k = find_measure(t, cut->measures[m].name);
                if (m) fputc(',', f);
                if (k < 0) fputs("null", f);
                else put_value(f, t->value[k][r], cut->measures[m].format);
            }
            fputc(']', f);
        }
        fputc(']', f);
    }
    fputc('}', f);
}

static const char *format_name(measure_format f) {
    return f == MEASURE_MONEY ? "money" : f == MEASURE_DECIMAL1 ? "decimal1" : "count";
}

static void put_report(FILE *f, const report_table *cut, const dashboard_history *h, const char *period) {
    const report_history *rh = history_of(h, cut->id);
    const report_table *tab[DASH_MAX_PERIODS] = {0};
    size_t n = rh ? rh->nperiods : 1, first = n - 1;
    for (size_t p = 0; p + 1 < n; p++) tab[p] = rh->table[p];
    tab[n - 1] = cut;
    for (size_t p = 0; p + 1 < n; p++)
        if (tab[p]) {
            first = p;
            break;
        }
    fputs("{\"id\":", f);
    put_string(f, cut->id);
    fputs(",\"kk\":", f);
    put_string(f, cut->title_kk);
    fputs(",\"ru\":", f);
    put_string(f, cut->title_ru);
    fputs(",\"measures\":[", f);
    for (size_t m = 0; m < cut->nmeasures; m++) {
        fprintf(f, "%s{\"name\":", m ? "," : "");
        put_string(f, cut->measures[m].name);
        fputs(",\"kk\":", f);
        put_string(f, cut->measures[m].label_kk);
        fputs(",\"ru\":", f);
        put_string(f, cut->measures[m].label_ru);
        fprintf(f, ",\"format\":\"%s\"}", format_name(cut->measures[m].format));
    }
    fputs("],\"periods\":[", f);
    for (size_t p = first; p < n; p++) fprintf(f, "%s\"%s\"", p > first ? "," : "", rh ? rh->period[p] : period);
    fputs("],", f);
    put_series(f, cut, tab, n, first);
    fputc('}', f);
}

/* Territories of levels ≤ 2 over all reports, by code, once each. */
static void put_territories(FILE *f, const form_bundle *b) {
    int32_t last = -1;
    fputs("\"territories\":[", f);
    for (;;) { /* merge: the smallest code above last, over every table */
        const report_territory *next = NULL;
        for (size_t i = 0; i < b->ntables; i++)
            for (size_t o = 0; o < b->tables[i]->nterritories; o++) {
                const report_territory *t = &b->tables[i]->territories[o];
                if (t->level <= 2 && t->kato > last && (!next || t->kato < next->kato)) next = t;
            }
        if (!next) break;
        fprintf(f, "%s{\"kato\":\"%09ld\",\"level\":%d,\"kk\":", last >= 0 ? "," : "", (long)next->kato, next->level);
        put_string(f, next->name_kk);
        fputs(",\"ru\":", f);
        put_string(f, next->name_ru);
        fputc('}', f);
        last = next->kato;
    }
    fputc(']', f);
}

static void put_data(FILE *f, const form_bundle *b, const dashboard_history *h) {
    const char *snap = b->ntables ? b->tables[0]->snapshot_date : "";
    fputs("{\"region\":", f);
    put_string(f, b->region);
    fputs(",\"period\":", f);
    put_string(f, b->period);
    fprintf(f, ",\"snapshot\":\"%.4s-%.2s-%.2s\",", snap, snap + (*snap ? 4 : 0), snap + (*snap ? 6 : 0));
    put_territories(f, b);
    fputs(",\"reports\":[", f);
    for (size_t i = 0; i < b->ntables; i++) {
        if (i) fputc(',', f);
        put_report(f, b->tables[i], h, b->period);
    }
    fputs("]}", f);
}

/* ---- the page --------------------------------------------------------------- */

static const char PAGE_HEAD[] =
    "<!DOCTYPE html>\n<html lang=\"kk\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; img-src data:\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";

static const char PAGE_STYLE[] =
    "<style>\n"
    "body{font-family:sans-serif;margin:0;background:#f4f6f9;color:#1d2733}\n"
    "header{background:#0b4f8a;color:#fff;padding:12px 20px;display:flex;flex-wrap:wrap;gap:12px;align-items:center}\n"
    "header h1{font-size:20px;margin:0;flex:1 1 auto}\n"
    "header button{background:#fff;color:#0b4f8a;border:0;padding:6px 12px;cursor:pointer;font-weight:bold}\n"
    "header button.on{background:#ffd24d}\n"
    "header select{padding:5px;max-width:360px}\n"
    "#meta{padding:8px 20px;font-size:13px;color:#44505c}\n"
    "main{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:14px;padding:0 20px 20px}\n"
    "section{background:#fff;border:1px solid #d6dde5;padding:12px 14px}\n"
    "section h2{font-size:15px;margin:0 0 8px}\n"
    "table{border-collapse:collapse;font-size:13px;width:100%;margin-top:8px}\n"
    "td,th{border-bottom:1px solid #e3e8ee;padding:3px 6px;text-align:left}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".chart{position:relative;height:190px}\n"
    "footer{padding:10px 20px 30px;font-size:12px;color:#44505c}\n"
    "</style>\n";

static const char PAGE_BODY[] =
    "</head>\n<body>\n<header><h1 id=\"title\"></h1>"
    "<select id=\"territory\" aria-label=\"territory\"></select>"
    "<button id=\"lang-kk\" data-lang=\"kk\">Қазақша</button><button id=\"lang-ru\" data-lang=\"ru\">Русский</button>"
    "</header>\n<div id=\"meta\"></div>\n<main id=\"reports\"></main>\n<footer id=\"notes\"></footer>\n";

/* The page's own script: draws everything from #esep-data in one language. */
static const char PAGE_SCRIPT[] =
    "<script>\n(function () {\n'use strict';\n"
    "var D = JSON.parse(document.getElementById('esep-data').textContent);\n"
    "var L = {\n"
    " kk: {title: 'Есептер дашборды', region: 'Өңір', period: 'Кезең', snapshot: 'Үзінді күні',\n"
    "      measure: 'Көрсеткіш', value: 'Мәні', key: 'Негізгі көрсеткіш', by: 'Аумақтар бойынша',\n"
    "      notes: 'x — құпиялылықты бақылау үшін жасырылған мән (1–2 адам немесе оны қалпына келтіруге болатын мән); "
    "графиктерде бос орын. — — мән жоқ (бөлгіш нөлге тең). Деректер тек осы пакеттен; желі қажет емес.'},\n"
    " ru: {title: 'Дашборд отчётов', region: 'Регион', period: 'Период', snapshot: 'Дата выгрузки',\n"
    "      measure: 'Показатель', value: 'Значение', key: 'Ключевой показатель', by: 'По территориям',\n"
    "      notes: 'x — значение скрыто контролем раскрытия (1–2 человека или значение, по которому его можно "
    "восстановить); на графиках — разрыв. — — значения нет (знаменатель равен нулю). Данные только из этого пакета; "
    "сеть не нужна.'}\n};\n"
    "var lang = 'kk', terr = D.territories.length ? D.territories[0].kato : '', charts = [];\n"
    "var top = D.territories.reduce(function (a, t) { return Math.min(a, t.level); }, 9);\n"
    "function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined) e.textContent = text;"
    " if (cls) e.className = cls; return e; }\n"
    "function digits(f) { return f === 'money' ? 2 : f === 'decimal1' ? 1 : 0; }\n"
    "function show(v, f) { if (v === 'x') return 'x'; if (v === null || v === undefined) return '—';\n"
    "  return v.toLocaleString(lang === 'kk' ? 'kk-KZ' : 'ru-RU', {minimumFractionDigits: digits(f),"
    " maximumFractionDigits: digits(f)}); }\n"
    "function label(m) { return m[lang] || m.name; }\n"
    "function point(v) { return typeof v === 'number' ? v : null; }\n"
    "function name(kato) { for (var i = 0; i < D.territories.length; i++) if (D.territories[i].kato === kato)"
    " return D.territories[i][lang]; return kato; }\n"
    "function last(r, kato) { var s = r.values[kato]; return s ? s[s.length - 1] : null; }\n"
    "function card(r) {\n"
    "  var s = el('section'); s.id = 'report-' + r.id; s.appendChild(el('h2', r.id + ' · ' + r[lang]));\n"
    "  var cur = last(r, terr), t = el('table'), hr = el('tr');\n"
    "  hr.appendChild(el('th', L[lang].measure)); hr.appendChild(el('th', L[lang].value + ', ' + D.period)); t.appendChild(hr);\n"
    "  r.measures.forEach(function (m, k) { var tr = el('tr'); tr.appendChild(el('td', label(m)));\n"
    "    var td = el('td', show(cur ? cur[k] : null, m.format), 'n'); td.dataset.measure = m.name; tr.appendChild(td);"
    " t.appendChild(tr); });\n"
    "  var box = el('div', undefined, 'chart'), canvas = el('canvas'); box.appendChild(canvas); s.appendChild(box);\n"
    "  var series = (r.values[terr] || []).map(function (p) { return p ? point(p[0]) : null; });\n"
    "  charts.push(new Chart(canvas, {type: 'line', data: {labels: r.periods, datasets: [{label: label(r.measures[0]) + ' — '"
    " + name(terr), data: series, spanGaps: false, borderColor: '#0b4f8a', backgroundColor: '#0b4f8a', pointRadius: 3}]},\n"
    "    options: {animation: false, responsive: true, maintainAspectRatio: false, plugins: {legend: {display: true}},"
    " scales: {y: {beginAtZero: true}}}}));\n"
    "  s.appendChild(t);\n"
    "  var d = el('table'), dh = el('tr'); dh.appendChild(el('th', L[lang].by)); dh.appendChild(el('th', label(r.measures[0])));"
    " d.appendChild(dh);\n"
    "  D.territories.forEach(function (o) { if (o.level !== top + 1 && o.level !== top) return; var tr = el('tr');\n"
    "    tr.appendChild(el('td', '\\u00a0'.repeat(3 * (o.level - top)) + o[lang]));\n"
    "    var v = last(r, o.kato); tr.appendChild(el('td', show(v ? v[0] : null, r.measures[0].format), 'n')); d.appendChild(tr); });\n"
    "  s.appendChild(d);\n  return s;\n}\n"
    "function render() {\n"
    "  document.documentElement.lang = lang; document.title = 'esep ' + D.region + ' ' + D.period;\n"
    "  document.getElementById('title').textContent = L[lang].title + ' — ' + name(D.territories.length ?"
    " D.territories[0].kato : '');\n"
    "  document.getElementById('meta').textContent = L[lang].region + ': ' + D.region + ' · ' + L[lang].period + ': ' +"
    " D.period + ' · ' + L[lang].snapshot + ': ' + D.snapshot;\n"
    "  document.getElementById('notes').textContent = L[lang].notes;\n"
    "  ['kk', 'ru'].forEach(function (l) { document.getElementById('lang-' + l).className = l === lang ? 'on' : ''; });\n"
    "  var sel = document.getElementById('territory'); sel.textContent = '';\n"
    "  D.territories.forEach(function (o) { var op = el('option', '\\u00a0'.repeat(3 * (o.level - top)) + o[lang] + ' ('"
    " + o.kato + ')'); op.value = o.kato; sel.appendChild(op); }); sel.value = terr;\n"
    "  charts.forEach(function (c) { c.destroy(); }); charts = [];\n"
    "  var main = document.getElementById('reports'); main.textContent = '';\n"
    "  D.reports.forEach(function (r) { main.appendChild(card(r)); });\n"
    "  document.body.dataset.ready = lang + ':' + terr;\n}\n"
    "document.getElementById('lang-kk').onclick = function () { lang = 'kk'; render(); };\n"
    "document.getElementById('lang-ru').onclick = function () { lang = 'ru'; render(); };\n"
    "document.getElementById('territory').onchange = function (e) { terr = e.target.value; render(); };\n"
    "render();\n})();\n</script>\n</body>\n</html>\n";

static int put_chartjs(FILE *f, char *err, size_t errlen) {
    const char *path = getenv("ESEP_CHARTJS") ? getenv("ESEP_CHARTJS") : DASHBOARD_CHARTJS;
    FILE *in = fopen(path, "rb");
    if (!in) return snprintf(err, errlen, "index.html: cannot read Chart.js at %s (apt install libjs-chart.js)", path), -1;
    fputs("<script>\n/* Chart.js, MIT license, from Debian's libjs-chart.js */\n", f);
    char buf[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        /* a script element ends at "</script"; Chart.js has none, but check */
        if (memmem(buf, n, "</script", 8)) rc = -1;
        fwrite(buf, 1, n, f);
    }
    if (ferror(in)) rc = -1;
    fclose(in);
    fputs("\n</script>\n", f);
    if (rc) snprintf(err, errlen, "index.html: %s cannot be inlined", path);
    return rc;
}

int dashboard_render(const form_bundle *b, const dashboard_history *h, char **out, size_t *size, char *err,
                     size_t errlen) {
    *out = NULL, *size = 0;
    FILE *f = open_memstream(out, size);
    if (!f) return snprintf(err, errlen, "out of memory"), -1;
    fputs(PAGE_HEAD, f);
    fprintf(f, "<title>esep %s %s</title>\n", b->region, b->period);
    fputs(PAGE_STYLE, f);
    fputs(PAGE_BODY, f);
    fputs("<script type=\"application/json\" id=\"esep-data\">", f);
    put_data(f, b, h);
    fputs("</script>\n", f);
    int rc = put_chartjs(f, err, errlen);
    fputs(PAGE_SCRIPT, f);
    if (fclose(f) != 0 && rc == 0) rc = -1, snprintf(err, errlen, "index.html: out of memory");
    if (rc) free(*out), *out = NULL, *size = 0;
    return rc;
}
