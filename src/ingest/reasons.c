/* reasons.c — see reasons.h. */
#include "reasons.h"

const char *reject_reason_name(reject_reason r) {
    static const char *const names[REJ_COUNT] = {
        "field_count", "bad_quoting", "invalid_utf8", "record_too_long",
        "empty_required", "bad_int", "bad_money", "bad_date", "bad_month",
        "bad_enum", "bad_text", "text_too_long", "out_of_range", "bad_kato",
        "unknown_kato", "bad_iin", "iin_checksum", "iin_mismatch",
        "date_order", "duplicate_key", "unknown_reference",
    };
    return (unsigned)r < REJ_COUNT ? names[r] : "unknown";
}
