/* timeparse.c — absolute time for sources (declared in sources.h): start times read from
 * file names with strftime-style patterns, and ISO-8601 UTC parsing and formatting.
 *
 * All arithmetic is on the proleptic Gregorian calendar with integer days (Howard Hinnant's
 * days_from_civil / civil_from_days), so results do not depend on the C library's time zone,
 * locale or timegm(), and times before 1970 work.
 *
 * Owns nothing. Threading: pure functions.
 */
#include "sources.h"

#include <stdbool.h> /* match state */
#include <stdio.h>   /* snprintf */
#include <string.h>  /* strrchr, strlen */

/* Days since 1970-01-01 of y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int64_t y, int m) {
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* n decimal digits at s, or -1. */
static int digits(const char *s, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

typedef struct {
    int year, month, day, hour, minute, second, yday;
    bool has_year, has_month, has_day, has_yday;
} tm_fields;

/* Match `pat` at the start of `s`. 1 on a match, 0 when it does not match, -1 for an
 * unsupported directive (reported by the caller). */
static int match_at(const char *s, const char *pat, tm_fields *f) {
    while (*pat) {
        if (*pat != '%') {
            if (*s != *pat) return 0;
            s++, pat++;
            continue;
        }
        char d = pat[1];
        int v;
        switch (d) {
        case '%':
            if (*s != '%') return 0;
            s++;
            break;
        case 'Y':
            if ((v = digits(s, 4)) < 0) return 0;
            f->year = v, f->has_year = true, s += 4;
            break;
        case 'y':
            if ((v = digits(s, 2)) < 0) return 0;
            f->year = v < 69 ? 2000 + v : 1900 + v, f->has_year = true, s += 2; /* POSIX */
            break;
        case 'm':
            if ((v = digits(s, 2)) < 1 || v > 12) return 0;
            f->month = v, f->has_month = true, s += 2;
            break;
        case 'd':
            if ((v = digits(s, 2)) < 1 || v > 31) return 0;
            f->day = v, f->has_day = true, s += 2;
            break;
        case 'j':
            if ((v = digits(s, 3)) < 1 || v > 366) return 0;
            f->yday = v, f->has_yday = true, s += 3;
            break;
        case 'H':
            if ((v = digits(s, 2)) < 0 || v > 23) return 0;
            f->hour = v, s += 2;
            break;
        case 'M':
            if ((v = digits(s, 2)) < 0 || v > 59) return 0;
            f->minute = v, s += 2;
            break;
        case 'S':
            if ((v = digits(s, 2)) < 0 || v > 60) return 0;
            f->second = v, s += 2;
            break;
        default: return -1;
        }
        pat += 2;
    }
    return 1;
}

bl_status bl_time_parse_pattern(const char *name, const char *pattern, int64_t *utc_ms) {
    BL_RETURN_IF(!name || !pattern || !utc_ms, BL_ERR_INVALID_ARG, "bl_time_parse_pattern: NULL argument");
    for (const char *p = pattern; *p; p++) {
        if (*p != '%') continue;
        p++;
        BL_RETURN_IF(!*p || !strchr("%YymdjHMS", *p), BL_ERR_CONFIG,
                     "time_pattern \"%s\": unsupported directive %%%c; supported: %%Y %%y %%m %%d %%j "
                     "%%H %%M %%S %%%%",
                     pattern, *p ? *p : ' ');
    }
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    size_t n = strlen(base);
    for (size_t off = 0; off <= n; off++) {
        tm_fields f = {.year = 1970, .month = 1, .day = 1};
        if (match_at(base + off, pattern, &f) != 1) continue;
        BL_RETURN_IF(!f.has_year, BL_ERR_CONFIG, "time_pattern \"%s\" has no year (%%Y or %%y)", pattern);
        int64_t days;
        if (f.has_yday) {
            if (f.yday > (is_leap(f.year) ? 366 : 365)) continue;
            days = days_from_civil(f.year, 1, 1) + f.yday - 1;
        } else {
            if (f.day > days_in_month(f.year, f.month)) continue;
            days = days_from_civil(f.year, f.month, f.day);
        }
        *utc_ms = ((days * 24 + f.hour) * 60 + f.minute) * 60000 + (int64_t)f.second * 1000;
        return BL_OK;
    }
    return BL_ERROR(BL_ERR_FORMAT, "time_pattern \"%s\" does not match the file name \"%s\"", pattern, base);
}

bl_status bl_time_parse_iso(const char *s, int64_t *utc_ms) {
    BL_RETURN_IF(!s || !utc_ms, BL_ERR_INVALID_ARG, "bl_time_parse_iso: NULL argument");
    static const char *const expect =
        "expected ISO-8601 UTC such as 2018-11-01T03:00:00Z (optionally with .fff seconds or a "
        "+HH:MM offset)";
    int y = digits(s, 4), mo, d, h, mi, se;
    BL_RETURN_IF(y < 0 || s[4] != '-' || (mo = digits(s + 5, 2)) < 1 || mo > 12 || s[7] != '-' ||
                     (d = digits(s + 8, 2)) < 1 || d > days_in_month(y, mo) ||
                     (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || (h = digits(s + 11, 2)) < 0 ||
                     h > 23 || s[13] != ':' || (mi = digits(s + 14, 2)) < 0 || mi > 59 || s[16] != ':' ||
                     (se = digits(s + 17, 2)) < 0 || se > 60,
                 BL_ERR_FORMAT, "time \"%.64s\": %s", s, expect);
    const char *p = s + 19;
    int64_t ms = 0;
    if (*p == '.' || *p == ',') {
        p++;
        int nd = 0;
        int64_t scale = 100;
        while (*p >= '0' && *p <= '9') {
            if (nd < 3) ms += (*p - '0') * scale, scale /= 10; /* further digits: truncated */
            nd++, p++;
        }
        BL_RETURN_IF(nd == 0 || nd > 18, BL_ERR_FORMAT, "time \"%.64s\": %s", s, expect);
    }
    int64_t off_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        int oh = digits(p + 1, 2), om;
        BL_RETURN_IF(oh < 0 || oh > 23, BL_ERR_FORMAT, "time \"%.64s\": bad UTC offset; %s", s, expect);
        const char *q = p + 3;
        if (*q == ':') q++;
        om = digits(q, 2);
        BL_RETURN_IF(om < 0 || om > 59, BL_ERR_FORMAT, "time \"%.64s\": bad UTC offset; %s", s, expect);
        off_min = sign * (oh * 60 + om);
        p = q + 2;
    } else {
        return BL_ERROR(BL_ERR_FORMAT, "time \"%.64s\": no time zone (end it with Z for UTC); %s", s, expect);
    }
    BL_RETURN_IF(*p != '\0', BL_ERR_FORMAT, "time \"%.64s\": unexpected text after the time; %s", s, expect);
    int64_t days = days_from_civil(y, mo, d);
    *utc_ms = (((days * 24 + h) * 60 + mi - off_min) * 60 + se) * 1000 + ms;
    return BL_OK;
}

void bl_time_format_iso(int64_t utc_ms, char *buf, size_t cap) {
    if (!buf || cap == 0) return;
    int64_t days = utc_ms / 86400000, rem = utc_ms % 86400000;
    if (rem < 0) rem += 86400000, days--;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int ms = (int)(rem % 1000);
    int64_t s = rem / 1000;
    snprintf(buf, cap, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d, (int)(s / 3600),
             (int)(s / 60 % 60), (int)(s % 60), ms);
}

void bl_time_format_compact(int64_t utc_ms, char *buf, size_t cap) {
    if (!buf || cap == 0) return;
    char iso[48];
    bl_time_format_iso(utc_ms, iso, sizeof iso);
    /* "2018-11-01T03:15:22.250Z" → "20181101T031522.250Z" */
    size_t j = 0;
    for (size_t i = 0; iso[i] && j + 1 < cap; i++)
        if (iso[i] != '-' && iso[i] != ':') buf[j++] = iso[i];
    buf[j] = '\0';
}
