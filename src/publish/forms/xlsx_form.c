/* xlsx_form.c — see xlsx_form.h. Owns every libxlsxwriter detail of esep:
 * the formats, the two sheets and the round trip through a memory file
 * (libxlsxwriter 1.1.4 writes its output and its parts to files). */
#include "xlsx_form.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "../../base/fsutil.h"
#include "../../base/stoppoint.h"

#define FORM_HEADER_ROW 8 /* title block above it */
#define XLSX_PARTS_DIR "/dev/shm"

typedef struct {
    lxw_format *title, *bold, *label, *wrap, *header, *text, *name[4], *number[3], *suppressed, *note;
} form_formats;

/* ---- row order ---------------------------------------------------------- */

static int compare_rows(const void *a, const void *b, void *data) {
    const report_table *t = data;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (t->kato[x] != t->kato[y]) return t->kato[x] < t->kato[y] ? -1 : 1;
    for (size_t d = 0; d < t->ndims; d++) {
        int p = t->dims[d].listed[t->dim_value[d][x]], q = t->dims[d].listed[t->dim_value[d][y]];
        if (p != q) return p < q ? -1 : 1;
        if (t->dim_value[d][x] != t->dim_value[d][y]) return t->dim_value[d][x] < t->dim_value[d][y] ? -1 : 1;
    }
    return (x > y) - (x < y);
}

void form_row_order(const report_table *t, size_t *order) {
    for (size_t r = 0; r < t->nrows; r++) order[r] = r;
    if (t->nrows > 1) qsort_r(order, t->nrows, sizeof *order, compare_rows, (void *)t);
}

/* ---- formats -------------------------------------------------------------- */

static lxw_format *bordered(lxw_workbook *wb) {
    lxw_format *f = workbook_add_format(wb);
    if (f) format_set_border(f, LXW_BORDER_THIN);
    return f;
}

static int make_formats(lxw_workbook *wb, form_formats *f) {
    static const char *numbers[3] = {"#,##0", "#,##0.00", "#,##0.0"}; /* by measure_format */
    if (!(f->title = workbook_add_format(wb)) || !(f->bold = workbook_add_format(wb)) ||
        !(f->label = workbook_add_format(wb)) || !(f->wrap = workbook_add_format(wb)) ||
        !(f->header = bordered(wb)) || !(f->text = bordered(wb)) || !(f->suppressed = bordered(wb)) ||
        !(f->note = workbook_add_format(wb)))
        return -1;
    format_set_bold(f->title);
    format_set_font_size(f->title, 13);
    format_set_bold(f->bold);
    format_set_font_color(f->label, 0x555555);
    format_set_text_wrap(f->wrap);
    format_set_align(f->wrap, LXW_ALIGN_VERTICAL_TOP);
    format_set_bold(f->header);
    format_set_text_wrap(f->header);
    format_set_align(f->header, LXW_ALIGN_CENTER);
    format_set_align(f->header, LXW_ALIGN_VERTICAL_CENTER);
    format_set_bg_color(f->header, 0xDDEBF7);
    format_set_num_format(f->text, "@");
    format_set_align(f->suppressed, LXW_ALIGN_RIGHT);
    format_set_italic(f->note);
    for (int l = 0; l < 4; l++) {
        if (!(f->name[l] = bordered(wb))) return -1;
        format_set_indent(f->name[l], (uint8_t)(2 * l));
        if (l == 0) format_set_bold(f->name[l]);
    }
    for (int m = 0; m < 3; m++) {
        if (!(f->number[m] = bordered(wb))) return -1;
        format_set_num_format(f->number[m], numbers[m]);
    }
    return 0;
}

/* ---- the explanation sheet ---------------------------------------------- */

static const char *const ABOUT_KK[] = {
    "Бұл пакетте не бар",
    "Өңірдің (республикалық пакетте — барлық өңірлердің) реттелетін есептері, мемлекеттік тізілімдердің "
    "түнгі үзіндісінен (snapshot) есептелген. Әр есеп — жеке файл: xlsx/<ID>.xlsx (осы нысан), "
    "csv/<ID>.csv (дәл сол мәндер, машинаға арналған), reports.h5; index.html — желісіз дашборд.",
    "Деректер көзі: төменде аталған тізілім үзінділері (файл, SHA-256, оқылған/қабылданған/қабылданбаған жолдар).",
    "Құпиялылықты бақылау: x — мән жасырылған. 1 немесе 2 адамды (үй шаруашылығын) көрсететін мән, "
    "сондай-ақ оны айырма арқылы немесе туынды көрсеткіштен қалпына келтіруге мүмкіндік беретін мәндер жасырылады.",
    "Бос ұяшық — бөлгіш нөлге тең немесе мән жоқ (көрсеткіш анықталмаған). _T — барлығы.",
    "Пакеттің тұтастығын тексеру: MANIFEST.json әр файлдың SHA-256 хэшін тізеді; қолтаңбаны openssl немесе "
    "minisign арқылы тексеруге болады (README).",
};

static const char *const ABOUT_RU[] = {
    "Что в этом пакете",
    "Регламентированные отчёты региона (в республиканском пакете — всех регионов), рассчитанные по ночной "
    "выгрузке государственных реестров (snapshot). Каждый отчёт — отдельный файл: xlsx/<ID>.xlsx (эта форма), "
    "csv/<ID>.csv (те же значения, для машин), reports.h5; index.html — офлайн-дашборд.",
    "Источник данных: выгрузки реестров, перечисленные ниже (файл, SHA-256, строк прочитано/принято/отклонено).",
    "Контроль раскрытия: x — значение скрыто. Скрываются значения, указывающие на 1 или 2 человек "
    "(домохозяйства), а также значения, по которым их можно восстановить вычитанием или из производного показателя.",
    "Пустая ячейка — знаменатель равен нулю или значения нет (показатель не определён). _T — итого.",
    "Проверка целостности: MANIFEST.json перечисляет SHA-256 каждого файла; подпись проверяется openssl или "
    "minisign (README).",
};

static int put(lxw_worksheet *ws, int row, int col, const char *s, lxw_format *f) {
    return worksheet_write_string(ws, (lxw_row_t)row, (lxw_col_t)col, s, f) != LXW_NO_ERROR;
}

static int put_number(lxw_worksheet *ws, int row, int col, double v, lxw_format *f) {
    return worksheet_write_number(ws, (lxw_row_t)row, (lxw_col_t)col, v, f) != LXW_NO_ERROR;
}

static int about_reports(lxw_worksheet *ws, const form_bundle *b, const form_formats *f, int row) {
    static const char *const head[] = {"ID", "Атауы (қаз.)", "Наименование (рус.)", "Әдістеме / Методика",
                                       "Алушы / Адресат", "Мерзімі / Срок", "Жолдар / Строк"};
    int rc = put(ws, row++, 0, "Есептер / Отчёты", f->bold);
    for (int c = 0; c < 7; c++) rc |= put(ws, row, c, head[c], f->header);
    for (size_t i = 0; i < b->ntables; i++) {
        const report_table *t = b->tables[i];
        row++;
        rc |= put(ws, row, 0, t->id, f->text) | put(ws, row, 1, t->title_kk, f->text) |
              put(ws, row, 2, t->title_ru, f->text) | put_number(ws, row, 3, t->methodology_version, f->number[0]) |
              put(ws, row, 4, t->addressee, f->text) | put(ws, row, 5, t->deadline, f->text) |
              put_number(ws, row, 6, (double)t->nrows, f->number[0]);
    }
    return rc ? -1 : row + 2;
}

static int input_row(lxw_worksheet *ws, int row, const report_input *in, const form_formats *f) {
    return put(ws, row, 0, in->name, f->text) | put(ws, row, 1, in->file, f->text) | put(ws, row, 2, in->sha256, f->text) |
           put_number(ws, row, 3, (double)in->read, f->number[0]) |
           put_number(ws, row, 4, (double)in->accepted, f->number[0]) |
           put_number(ws, row, 5, (double)in->rejected, f->number[0]);
}

/* Every input file any report of the bundle used, once, in first-seen
 * order (as MANIFEST.json lists them). */
static int about_inputs(lxw_worksheet *ws, const form_bundle *b, const form_formats *f, int row) {
    static const char *const head[] = {"Үзінді / Выгрузка", "Файл", "SHA-256", "Оқылды / Прочитано",
                                       "Қабылданды / Принято", "Қабылданбады / Отклонено"};
    char line[160];
    snprintf(line, sizeof line, "Деректер көзі / Источник данных (snapshot %.8s)", b->tables[0]->snapshot_date);
    int rc = put(ws, row++, 0, line, f->bold);
    for (int c = 0; c < 6; c++) rc |= put(ws, row, c, head[c], f->header);
    const report_input *seen[REPORT_MAX_EXTRACTS * 4];
    size_t n = report_tables_inputs(b->tables, b->ntables, seen, sizeof seen / sizeof *seen);
    for (size_t k = 0; k < n; k++) rc |= input_row(ws, ++row, seen[k], f);
    return rc ? -1 : 0;
}

static int about_sheet(lxw_workbook *wb, const form_bundle *b, const form_formats *f) {
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Түсіндірме-Пояснение");
    if (!ws) return -1;
    char line[200];
    snprintf(line, sizeof line, "esep: өңір / регион %s, кезең / период %s", b->region, b->period);
    int rc = put(ws, 0, 0, line, f->title) || put(ws, 1, 0, "Қазақша", f->bold) || put(ws, 1, 1, "Русский", f->bold);
    int row = 2;
    for (size_t i = 0; i < sizeof ABOUT_KK / sizeof *ABOUT_KK; i++, row++)
        rc |= put(ws, row, 0, ABOUT_KK[i], i ? f->wrap : f->bold) | put(ws, row, 1, ABOUT_RU[i], i ? f->wrap : f->bold);
    rc |= worksheet_set_column(ws, 0, 1, 70, NULL) != LXW_NO_ERROR;
    rc |= worksheet_set_column(ws, 2, 6, 18, NULL) != LXW_NO_ERROR;
    if (rc || (row = about_reports(ws, b, f, row + 1)) < 0) return -1;
    return about_inputs(ws, b, f, row);
}

/* ---- the form sheet ------------------------------------------------------ */

static int title_block(lxw_worksheet *ws, const report_table *t, const form_formats *f) {
    char version[16], snapshot[16];
    snprintf(version, sizeof version, "%d", t->methodology_version);
    snprintf(snapshot, sizeof snapshot, "%.4s-%.2s-%.2s", t->snapshot_date, t->snapshot_date + 4, t->snapshot_date + 6);
    const char *labels[6] = {"Алушы / Адресат", "Кезең / Период", "Әдістеме нұсқасы / Версия методики",
                             "Үзінді күні / Дата выгрузки", "Тапсыру мерзімі / Срок представления", "Есеп / Отчёт"};
    const char *values[6] = {t->addressee, t->period, version, snapshot, t->deadline, t->id};
    int rc = put(ws, 0, 0, t->title_kk, f->title) || put(ws, 1, 0, t->title_ru, f->title);
    for (int i = 0; i < 6; i++) rc |= put(ws, 2 + i, 0, labels[i], f->label) | put(ws, 2 + i, 2, values[i], f->bold);
    return rc;
}

/* "label_kk / label_ru (name)", or the name when the report gives no label. */
static int header_cell(lxw_worksheet *ws, int col, const char *name, const char *kk, const char *ru,
                       const form_formats *f) {
    char text[2 * REPORT_LABEL_CAP + 64];
    if (*kk || *ru) snprintf(text, sizeof text, "%s%s%s (%s)", kk, *kk && *ru ? " / " : "", ru, name);
    else snprintf(text, sizeof text, "%s", name);
    return put(ws, FORM_HEADER_ROW, col, text, f->header);
}

static int header_row(lxw_worksheet *ws, const report_table *t, const form_formats *f) {
    int col = 0, rc = put(ws, FORM_HEADER_ROW, col++, "КАТО коды / Код КАТО (kato)", f->header);
    rc |= put(ws, FORM_HEADER_ROW, col++, "Деңгей / Уровень (level)", f->header);
    rc |= put(ws, FORM_HEADER_ROW, col++, "Атауы (қаз.)", f->header);
    rc |= put(ws, FORM_HEADER_ROW, col++, "Наименование (рус.)", f->header);
    for (size_t d = 0; d < t->ndims; d++, col++)
        rc |= header_cell(ws, col, t->dims[d].name, t->dims[d].label_kk, t->dims[d].label_ru, f);
    for (size_t m = 0; m < t->nmeasures; m++, col++)
        rc |= header_cell(ws, col, t->measures[m].name, t->measures[m].label_kk, t->measures[m].label_ru, f);
    return rc;
}

/* A measure cell: a number in display units, `x`, or an empty cell. */
static int measure_cell(lxw_worksheet *ws, int row, int col, int64_t v, measure_format fmt, const form_formats *f,
                        int *saw_x, int *saw_empty) {
    static const double scale[3] = {1, 100, 10};
    if (v == MEASURE_SUPPRESSED) return *saw_x = 1, put(ws, row, col, "x", f->suppressed);
    if (v == MEASURE_EMPTY) {
        *saw_empty = 1;
        return worksheet_write_blank(ws, (lxw_row_t)row, (lxw_col_t)col, f->number[fmt]) != LXW_NO_ERROR;
    }
    return put_number(ws, row, col, (double)v / scale[fmt], f->number[fmt]);
}

static int data_rows(lxw_worksheet *ws, const report_table *t, const form_formats *f, int *saw_x, int *saw_empty) {
    size_t *order = malloc((t->nrows + 1) * sizeof *order);
    if (!order) return -1;
    form_row_order(t, order);
    int top = 3, rc = 0;
    for (size_t r = 0; r < t->nrows; r++) top = t->level[r] < top ? t->level[r] : top;
    for (size_t i = 0; rc == 0 && i < t->nrows; i++) {
        size_t r = order[i];
        int row = FORM_HEADER_ROW + 1 + (int)i, col = 4, indent = t->level[r] - top;
        const report_territory *o = report_table_territory(t, t->kato[r]);
        char kato[16];
        snprintf(kato, sizeof kato, "%09ld", (long)t->kato[r]);
        rc |= put(ws, row, 0, kato, f->text) | put_number(ws, row, 1, t->level[r], f->number[0]);
        rc |= put(ws, row, 2, o ? o->name_kk : "", f->name[indent & 3]);
        rc |= put(ws, row, 3, o ? o->name_ru : "", f->name[indent & 3]);
        for (size_t d = 0; d < t->ndims; d++) rc |= put(ws, row, col++, t->dims[d].values[t->dim_value[d][r]], f->text);
        for (size_t m = 0; m < t->nmeasures; m++)
            rc |= measure_cell(ws, row, col++, t->value[m][r], t->measures[m].format, f, saw_x, saw_empty);
    }
    free(order);
    return rc;
}

static int footnotes(lxw_worksheet *ws, const report_table *t, const form_formats *f, int saw_x, int saw_empty) {
    int row = FORM_HEADER_ROW + 2 + (int)t->nrows, rc = 0;
    if (saw_x) {
        rc |= put(ws, row++, 0, "x — мән жасырылған: 1–2 адам (үй шаруашылығы) немесе оны қалпына келтіруге мүмкіндік "
                                "беретін мән (құпиялылықты бақылау).", f->note);
        rc |= put(ws, row++, 0, "x — значение скрыто: 1–2 человека (домохозяйства) или значение, по которому его можно "
                                "восстановить (контроль раскрытия).", f->note);
    }
    if (saw_empty) {
        rc |= put(ws, row++, 0, "Бос ұяшық — бөлгіш нөлге тең (көрсеткіш анықталмаған).", f->note);
        rc |= put(ws, row++, 0, "Пустая ячейка — знаменатель равен нулю (показатель не определён).", f->note);
    }
    return rc | put(ws, row, 0, "_T — барлығы / итого", f->note);
}

static int form_sheet(lxw_workbook *wb, const report_table *t, const form_formats *f) {
    lxw_worksheet *ws = workbook_add_worksheet(wb, t->id);
    if (!ws) return -1;
    int saw_x = 0, saw_empty = 0, last = 3 + (int)t->ndims + (int)t->nmeasures;
    int rc = title_block(ws, t, f) || header_row(ws, t, f) || data_rows(ws, t, f, &saw_x, &saw_empty) ||
             footnotes(ws, t, f, saw_x, saw_empty);
    rc |= worksheet_set_column(ws, 0, 0, 13, NULL) != LXW_NO_ERROR;
    rc |= worksheet_set_column(ws, 1, 1, 8, NULL) != LXW_NO_ERROR;
    rc |= worksheet_set_column(ws, 2, 3, 34, NULL) != LXW_NO_ERROR;
    if (t->ndims) rc |= worksheet_set_column(ws, 4, (lxw_col_t)(3 + t->ndims), 12, NULL) != LXW_NO_ERROR;
    if (t->nmeasures) rc |= worksheet_set_column(ws, (lxw_col_t)(4 + t->ndims), (lxw_col_t)last, 15, NULL) != LXW_NO_ERROR;
    rc |= worksheet_set_row(ws, FORM_HEADER_ROW, 45, NULL) != LXW_NO_ERROR;
    worksheet_freeze_panes(ws, FORM_HEADER_ROW + 1, 4);
    worksheet_set_landscape(ws);
    worksheet_set_paper(ws, 9); /* A4 */
    worksheet_fit_to_pages(ws, 1, 0);
    rc |= worksheet_repeat_rows(ws, FORM_HEADER_ROW, FORM_HEADER_ROW) != LXW_NO_ERROR;
    worksheet_activate(ws);
    return rc;
}

/* ---- the workbook through a memory file ---------------------------------- */

static time_t snapshot_time(const char *yyyymmdd) {
    struct tm tm = {0};
    if (sscanf(yyyymmdd, "%4d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3) return 946684800; /* 2000-01-01 */
    tm.tm_year -= 1900, tm.tm_mon -= 1;
    return timegm(&tm);
}

static int build_workbook(const form_bundle *b, const report_table *t, const char *path, char *tmpdir) {
    lxw_workbook_options opt = {.constant_memory = LXW_FALSE, .tmpdir = tmpdir, .use_zip64 = LXW_FALSE};
    lxw_workbook *wb = workbook_new_opt(path, &opt);
    if (!wb) return -1;
    char title[300];
    snprintf(title, sizeof title, "%s %s — %s", t->id, t->period, t->title_ru);
    lxw_doc_properties props = {.title = title, .author = "esep", .company = "esep", .created = snapshot_time(t->snapshot_date)};
    form_formats f;
    int rc = workbook_set_properties(wb, &props) != LXW_NO_ERROR || make_formats(wb, &f) ||
             about_sheet(wb, b, &f) || form_sheet(wb, t, &f);
    lxw_error closed = workbook_close(wb); /* frees wb whatever happened */
    return rc || closed != LXW_NO_ERROR ? -1 : 0;
}

/* Where libxlsxwriter puts the part files it assembles the zip from: it
 * creates each with O_EXCL under a random name and unlinks it at once, so
 * none outlives the process under any name. On a memory file system they
 * cost no inode of the disk that holds OUT; there, about ten per workbook
 * would be created and deleted in OUT for every form of every bundle
 * (a metadata round trip each on a shared cluster file system). */
static char *parts_dir(const char *scratch_dir, char *buf, size_t n) {
    struct statfs fs;
    const char *dir = scratch_dir;
    if (statfs(XLSX_PARTS_DIR, &fs) == 0 && fs.f_type == TMPFS_MAGIC && access(XLSX_PARTS_DIR, W_OK | X_OK) == 0)
        dir = XLSX_PARTS_DIR;
    snprintf(buf, n, "%s", dir);
    return buf;
}

/* The finished workbook behind fd, which a successful build never leaves empty. */
static int read_workbook(int fd, char **out, size_t *size) {
    if (fs_read_fd(fd, SIZE_MAX, out, size) != 0) return -1;
    if (*size == 0) return free(*out), *out = NULL, -1;
    return 0;
}

/* The workbook in an anonymous memory file: libxlsxwriter 1.1.4 opens its
 * output by path, and /proc/self/fd/N names the memory file, so the
 * finished zip never appears in any directory. -1 where that needs what
 * the host lacks (memfd_create, /proc) or the build fails there. */
static int render_in_memory(const form_bundle *b, const report_table *t, const char *scratch_dir, char **out,
                            size_t *size) {
    char parts[4200], path[64];
    int fd = memfd_create("esep-xlsx", MFD_CLOEXEC);
    if (fd < 0) return -1;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int rc = build_workbook(b, t, path, parts_dir(scratch_dir, parts, sizeof parts));
    if (rc == 0 && read_workbook(fd, out, size)) rc = -1;
    close(fd);
    return rc;
}

/* The workbook in a fresh private directory under scratch_dir, read back
 * and removed: the way that needs nothing but the disk OUT is on. The
 * directory is named like fs_temp_open's files (".<name>.<pid>.<8
 * hex>.tmp"), so what a crashed run leaves is recognised and removed. */
static int render_on_disk(const form_bundle *b, const report_table *t, const char *scratch_dir, char **out,
                          size_t *size, char *dir, size_t dirlen) {
    char path[4300];
    int made = 0;
    for (int attempt = 0; attempt < 16 && !made; attempt++) {
        snprintf(dir, dirlen, "%s/.xlsx.%ld.%08x.tmp", scratch_dir, (long)getpid(), (unsigned)random());
        made = mkdir(dir, 0700) == 0;
        if (!made && errno != EEXIST) break;
    }
    if (!made) return -1;
    snprintf(path, sizeof path, "%s/form.xlsx", dir);
    int rc = build_workbook(b, t, path, dir);
    int fd = rc == 0 ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
    if (rc == 0 && (fd < 0 || read_workbook(fd, out, size))) rc = -1;
    if (fd >= 0) close(fd);
    unlink(path);
    if (rmdir(dir) != 0 && rc == 0) free(*out), *out = NULL, rc = -1;
    return rc;
}

int xlsx_form_render(const form_bundle *b, size_t which, const char *scratch_dir, char **out, size_t *size,
                     char *err, size_t errlen) {
    char dir[4200] = "";
    *out = NULL, *size = 0;
    if (which >= b->ntables) return snprintf(err, errlen, "no report %zu in the bundle", which), -1;
    const report_table *t = b->tables[which];
    /* fail point "xlsx-memory": a host without the memory way, for tests */
    if (!fail_point("xlsx-memory", -1) && render_in_memory(b, t, scratch_dir, out, size) == 0) return 0;
    if (render_on_disk(b, t, scratch_dir, out, size, dir, sizeof dir) == 0) return 0;
    *out = NULL;
    snprintf(err, errlen, "xlsx/%s.xlsx: cannot build the workbook, neither in memory nor in %s", t->id,
             dir[0] ? dir : scratch_dir);
    return -1;
}
