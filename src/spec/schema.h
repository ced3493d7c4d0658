/* schema.h — what each registry extract looks like, read from the schemas/ files
 * (one YAML file per extract of extracts.md). Owns the in-memory description: columns, types, nullability,
 * enum domains, patterns, bounds, the key, references to other extracts and
 * row checks. The reader is generic over this: a new column or a new extract
 * is an edit of a schema file, never C code. */
#ifndef ESEP_SCHEMA_H
#define ESEP_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "pattern.h"

typedef enum {
    COL_IIN,      /* validated IIN, stored int64 */
    COL_KATO,     /* 9 digits that must exist in the kato extract; int32 */
    COL_KATOCODE, /* 9 digits, no existence check (the kato extract itself) */
    COL_DATE,     /* YYYY-MM-DD, int32 day number */
    COL_MONTH,    /* YYYY-MM, int32 year*12+month-1 */
    COL_MONEY,    /* decimal tenge, int64 tiyn */
    COL_INT,      /* int64 */
    COL_ENUM,     /* one of `values`, uint8 index */
    COL_TEXT      /* UTF-8 text, optional pattern, bounded length */
} column_type;

#define SCHEMA_MAX_ENUM 64
#define SCHEMA_TEXT_MAX_DEFAULT 200

typedef struct {
    char *name;
    column_type type;
    int nullable;
    int has_min, has_max;   /* INT, MONEY: inclusive bounds, MONEY in tiyn */
    int64_t min, max;
    char **values;          /* ENUM domain, in declared order */
    size_t nvalues;
    size_t max_length;      /* TEXT: bytes */
    int has_pattern;
    pattern text_pattern;   /* TEXT */
} schema_column;

typedef enum {
    CHECK_DATE_ORDER, /* columns[a] <= columns[b] when both are present */
    CHECK_IIN_AGREES  /* IIN columns[a] encodes birth date [b] and sex [c] */
} schema_check_kind;

typedef struct {
    schema_check_kind kind;
    int a, b, c;      /* column indexes */
} schema_check;

typedef struct {
    int column;       /* referencing column */
    int extract;      /* index of the referenced extract (its key) */
} schema_reference;

typedef struct {
    char *name;           /* file stem: persons → persons.csv[.zst] */
    char *title;
    char *path;           /* the schema file, for messages */
    int replicated;       /* small reference table read whole by every rank */
    int key_column;       /* -1 when the extract has no key */
    int previous_years;   /* holds the snapshot's year and this many before; -1 no limit */
    schema_column *columns;
    size_t ncolumns;
    schema_check *checks;
    size_t nchecks;
    schema_reference *refs;
    size_t nrefs;
} schema_extract;

typedef struct {
    schema_extract *extracts; /* sorted by name */
    size_t count;
    size_t *order;            /* processing order: dependencies first */
    int kato_extract;         /* the extract COL_KATO refers to, or -1 */
} schema_set;

/* Loads every *.yaml file in dir. Returns 0 and sets *out (free with
 * schema_set_free), or -1 with "file:line:column: message" in err. */
int schema_set_load(const char *dir, schema_set **out, char *err, size_t errlen);

/* Frees everything; NULL allowed. Cannot fail. */
/* The same from n documents in memory: names[i] ("persons.yaml") and
 * texts[i][0..lens[i]). For tests and fuzzing; same errors. */
int schema_set_parse(char *const *names, const char *const *texts, const size_t *lens, size_t n, schema_set **out,
                     char *err, size_t errlen);

void schema_set_free(schema_set *set);

/* Index of the extract named name, or -1. Cannot fail. */
int schema_find_extract(const schema_set *set, const char *name);

/* Index of the column named name, or -1. Cannot fail. */
int schema_find_column(const schema_extract *ext, const char *name);

/* The type's name as written in schema files. Cannot fail. */
const char *schema_type_name(column_type type);

#endif
