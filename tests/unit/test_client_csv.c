/* test_client_csv.c: unit tests for the CSV reader and writer of mentorctl
 * (quotes, embedded separators and line breaks, line ends, byte order
 * mark, UTF-8, cell size limit, row numbers, writer round trip) and for
 * the participants file built on it: the header, the conversion of a
 * record into an ImportRow with its problems, and of a participant back
 * into a record that converts to the same row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "md_csv.h"
#include "md_roster.h"

typedef struct {
    FILE *f;
    md_csv_reader_t r;
} reader_t;

static reader_t *open_text(const char *text, size_t len)
{
    reader_t *t = malloc(sizeof(*t));
    assert_non_null(t);
    t->f = fmemopen((void *)text, len, "rb");
    assert_non_null(t->f);
    md_csv_reader_init(&t->r, t->f);
    return t;
}

static reader_t *open_str(const char *text)
{
    return open_text(text, strlen(text));
}

static void close_reader(reader_t *t)
{
    md_csv_reader_free(&t->r);
    fclose(t->f);
    free(t);
}

/* Read a record and check its row and cells (NULL-terminated). */
static void expect_record(reader_t *t, uint32_t row, ...)
{
    va_list ap;
    size_t i = 0;
    assert_int_equal(md_csv_read(&t->r), MD_OK);
    assert_int_equal(t->r.row, row);
    va_start(ap, row);
    for (const char *want = va_arg(ap, const char *); want != NULL;
         want = va_arg(ap, const char *)) {
        assert_true(i < t->r.nfields);
        assert_string_equal(t->r.fields[i], want);
        i++;
    }
    va_end(ap);
    assert_int_equal(t->r.nfields, i);
}

static void expect_end(reader_t *t)
{
    assert_int_equal(md_csv_read(&t->r), MD_ENOTFOUND);
}

static void expect_error(reader_t *t, uint32_t row, uint32_t column, const char *part)
{
    assert_int_equal(md_csv_read(&t->r), MD_EINVAL);
    assert_int_equal(t->r.err_row, row);
    assert_int_equal(t->r.err_column, column);
    assert_non_null(strstr(t->r.err, part));
}

static void test_plain(void **state)
{
    (void)state;
    reader_t *t = open_str("a,b,c\n1,,3\n");
    expect_record(t, 1, "a", "b", "c", NULL);
    expect_record(t, 2, "1", "", "3", NULL);
    expect_end(t);
    close_reader(t);
}

static void test_quotes(void **state)
{
    (void)state;
    reader_t *t = open_str("\"a\",\"b,c\",\"say \"\"hi\"\"\",\"\"\nx,\"\",\" sp \"");
    expect_record(t, 1, "a", "b,c", "say \"hi\"", "", NULL);
    expect_record(t, 2, "x", "", " sp ", NULL);
    expect_end(t);
    close_reader(t);
}

static void test_newlines_in_quotes_and_rows(void **state)
{
    (void)state;
    /* The second record spans lines 2-4, so the third starts on line 5. */
    reader_t *t = open_str("h1,h2\r\n\"line1\nline2\r\nline3\",x\r\nnext,y\r\n");
    expect_record(t, 1, "h1", "h2", NULL);
    expect_record(t, 2, "line1\nline2\r\nline3", "x", NULL);
    expect_record(t, 5, "next", "y", NULL);
    expect_end(t);
    close_reader(t);
}

static void test_crlf_lf_and_blank_lines(void **state)
{
    (void)state;
    reader_t *t = open_str("a,b\r\n\r\n\nc,d\ne,f");
    expect_record(t, 1, "a", "b", NULL);
    expect_record(t, 4, "c", "d", NULL);
    expect_record(t, 5, "e", "f", NULL);
    expect_end(t);
    close_reader(t);
}

static void test_bom(void **state)
{
    (void)state;
    reader_t *t = open_str("\xEF\xBB\xBF"
                           "email,role\n");
    expect_record(t, 1, "email", "role", NULL);
    expect_end(t);
    close_reader(t);
    /* Only a leading one: elsewhere it is an ordinary character. */
    t = open_str("a,\xEF\xBB\xBF"
                 "b\n");
    expect_record(t, 1, "a",
                  "\xEF\xBB\xBF"
                  "b",
                  NULL);
    close_reader(t);
}

static void test_empty_file(void **state)
{
    (void)state;
    reader_t *t = open_str("");
    expect_end(t);
    close_reader(t);
    t = open_str("\xEF\xBB\xBF");
    expect_end(t);
    close_reader(t);
}

static void test_utf8(void **state)
{
    (void)state;
    reader_t *t = open_str("Zoë,Łukasz,李\n");
    expect_record(t, 1, "Zoë", "Łukasz", "李", NULL);
    close_reader(t);
    /* Latin-1 "é" in the second cell of row 2. */
    t = open_str("a,b\nx,caf\xE9\n");
    expect_record(t, 1, "a", "b", NULL);
    expect_error(t, 2, 2, "invalid UTF-8");
    close_reader(t);
    /* An overlong encoding of '/' and a lone surrogate are refused too. */
    t = open_str("\xC0\xAF\n");
    expect_error(t, 1, 1, "invalid UTF-8");
    close_reader(t);
    t = open_str("a,\"\xED\xA0\x80\"\n");
    expect_error(t, 1, 2, "invalid UTF-8");
    close_reader(t);
}

static void test_stray_quote(void **state)
{
    (void)state;
    reader_t *t = open_str("a,b\"c\n");
    expect_error(t, 1, 2, "quote inside an unquoted cell");
    close_reader(t);
    t = open_str("\"ab\"c,d\n");
    expect_error(t, 1, 1, "after a closing quote");
    close_reader(t);
}

static void test_unterminated(void **state)
{
    (void)state;
    reader_t *t = open_str("a\n\"never closed,\nstill\n");
    expect_record(t, 1, "a", NULL);
    expect_error(t, 2, 1, "not closed");
    close_reader(t);
}

static void test_bare_cr_and_nul(void **state)
{
    (void)state;
    reader_t *t = open_str("a\rb\n");
    expect_error(t, 1, 1, "carriage return");
    close_reader(t);
    t = open_str("x\n\ry\n");
    expect_record(t, 1, "x", NULL);
    expect_error(t, 2, 1, "carriage return");
    close_reader(t);
    static const char nul[] = "a,b\0c\n";
    t = open_text(nul, sizeof(nul) - 1);
    expect_error(t, 1, 2, "NUL");
    close_reader(t);
}

static void test_cell_limit(void **state)
{
    (void)state;
    /* A cell of exactly the limit is fine; one byte more is refused with
     * its row and column, quoted or not. */
    size_t n = MD_CSV_MAX_CELL;
    char *text = malloc(n + 64);
    assert_non_null(text);
    memcpy(text, "h\nok,", 5);
    memset(text + 5, 'x', n);
    memcpy(text + 5 + n, "\n", 2);
    reader_t *t = open_str(text);
    expect_record(t, 1, "h", NULL);
    assert_int_equal(md_csv_read(&t->r), MD_OK);
    assert_int_equal(strlen(t->r.fields[1]), n);
    close_reader(t);
    memcpy(text, "h\nok,\"", 6);
    memset(text + 6, 'x', n + 1);
    memcpy(text + 6 + n + 1, "\"\n", 3);
    t = open_str(text);
    expect_record(t, 1, "h", NULL);
    expect_error(t, 2, 2, "larger than");
    close_reader(t);
    free(text);
}

static void test_too_many_fields(void **state)
{
    (void)state;
    char text[MD_CSV_MAX_FIELDS * 2 + 8];
    size_t n = 0;
    for (unsigned i = 0; i <= MD_CSV_MAX_FIELDS; i++) {
        text[n++] = 'a';
        text[n++] = ',';
    }
    text[n - 1] = '\n';
    text[n] = '\0';
    reader_t *t = open_str(text);
    expect_error(t, 1, 0, "columns");
    close_reader(t);
}

static void test_writer(void **state)
{
    (void)state;
    md_buf_t b;
    md_buf_init(&b);
    const char *cells[] = {"plain", "a,b",    "say \"hi\"", "two\nlines",
                           " lead", "trail ", "",           "Zoë"};
    assert_int_equal(md_csv_record(&b, cells, 8), MD_OK);
    assert_int_equal(md_buf_append(&b, "", 1), MD_OK);
    assert_string_equal(
        (const char *)b.data,
        "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" lead\",\"trail \",,Zoë\n");
    md_buf_free(&b);
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *rows[3][4] = {
        {"email", "x", "", "\"\""},
        {"a,\"b\"\r\nc", " \t", "Łódź", ",,,"},
        {"", "", "", "end"},
    };
    md_buf_t b;
    md_buf_init(&b);
    for (int i = 0; i < 3; i++)
        assert_int_equal(md_csv_record(&b, rows[i], 4), MD_OK);
    reader_t *t = open_text((const char *)b.data, b.len);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(md_csv_read(&t->r), MD_OK);
        assert_int_equal(t->r.nfields, 4);
        for (int k = 0; k < 4; k++)
            assert_string_equal(t->r.fields[k], rows[i][k]);
    }
    expect_end(t);
    close_reader(t);
    md_buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Participants file */

static void header_of(md_roster_header_t *h, const char *line)
{
    md_issues_t issues;
    reader_t *t = open_str(line);
    md_issues_init(&issues);
    assert_int_equal(md_csv_read(&t->r), MD_OK);
    assert_int_equal(md_roster_header(h, t->r.fields, t->r.nfields, &issues), MD_OK);
    assert_int_equal(issues.n, 0);
    md_issues_free(&issues);
    close_reader(t);
}

/* Convert the one record of line under header h. */
static int convert(const md_roster_header_t *h, const char *line, md_issues_t *issues,
                   Mentor__V1__ImportRow **row)
{
    reader_t *t = open_str(line);
    assert_int_equal(md_csv_read(&t->r), MD_OK);
    int rc = md_roster_row(h, 7, t->r.fields, t->r.nfields, issues, row);
    close_reader(t);
    return rc;
}

static void test_header_errors(void **state)
{
    (void)state;
    md_roster_header_t h;
    md_issues_t issues;
    md_issues_init(&issues);
    char *cells[] = {"emial", "role", "role", "colour"};
    assert_int_equal(md_roster_header(&h, cells, 4, &issues), MD_EINVAL);
    assert_int_equal(issues.n, 4);
    assert_string_equal(issues.items[0].column, "emial");
    assert_non_null(strstr(issues.items[0].message, "did you mean 'email'"));
    assert_string_equal(issues.items[1].column, "role");
    assert_non_null(strstr(issues.items[1].message, "twice"));
    assert_string_equal(issues.items[2].column, "colour");
    assert_string_equal(issues.items[3].column, "email");
    assert_non_null(strstr(issues.items[3].message, "required"));
    md_issues_free(&issues);
}

static void test_row_full(void **state)
{
    (void)state;
    md_roster_header_t h;
    md_issues_t issues;
    Mentor__V1__ImportRow *row = NULL;
    md_issues_init(&issues);
    /* Columns in a free order. */
    header_of(&h, "role,email,display_name,skills_offered,skills_wanted,career_goals,interests,"
                  "department,seniority_level,seniority_years,time_zone,languages,availability,"
                  "manager_email,capacity\n");
    assert_int_equal(convert(&h,
                             "Mentor,zoe@example.com,\"Zoë, PhD\",\"c:4; go:3;\",rust:2,"
                             "lead;speak,,R&D,5,12,Europe/Paris,en;fr,"
                             "\"mon-fri:9-12,sat:10-11\",boss@example.com,3\n",
                             &issues, &row),
                     MD_OK);
    assert_int_equal(issues.n, 0);
    assert_int_equal(row->row, 7);
    assert_int_equal(row->role, MENTOR__V1__PARTICIPANT_ROLE__MENTOR);
    assert_string_equal(row->email, "zoe@example.com");
    assert_string_equal(row->display_name, "Zoë, PhD");
    assert_string_equal(row->manager_email, "boss@example.com");
    const Mentor__V1__Profile *p = row->profile;
    assert_int_equal(p->n_skills_offered, 2);
    assert_string_equal(p->skills_offered[0]->name, "c");
    assert_int_equal(p->skills_offered[0]->level, 4);
    assert_string_equal(p->skills_offered[1]->name, "go");
    assert_int_equal(p->n_skills_wanted, 1);
    assert_int_equal(p->n_career_goals, 2);
    assert_string_equal(p->career_goals[1], "speak");
    assert_int_equal(p->n_interests, 0);
    assert_string_equal(p->department, "R&D");
    assert_int_equal(p->seniority_level, 5);
    assert_int_equal(p->seniority_years, 12);
    assert_string_equal(p->time_zone, "Europe/Paris");
    assert_int_equal(p->n_languages, 2);
    assert_int_equal(p->n_availability, 5 * 3 + 1);
    assert_int_equal(p->availability[0], 9);
    assert_int_equal(p->availability[15], 5 * 24 + 10);
    assert_int_equal(p->capacity, 3);
    mentor__v1__import_row__free_unpacked(row, NULL);
    md_issues_free(&issues);
}

static void test_row_errors(void **state)
{
    (void)state;
    md_roster_header_t h;
    md_issues_t issues;
    Mentor__V1__ImportRow *row = NULL;
    md_issues_init(&issues);
    header_of(&h, "email,role,skills_offered,seniority_level,capacity,availability\n");
    /* Every problem of the record is reported, each with its column. */
    assert_int_equal(convert(&h, "a@x,boss,\"c:4;python\",senior,-1,mon:9-25\n", &issues, &row),
                     MD_EINVAL);
    assert_null(row);
    assert_int_equal(issues.n, 5);
    const char *cols[] = {"role", "skills_offered", "seniority_level", "capacity", "availability"};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(issues.items[i].row, 7);
        assert_string_equal(issues.items[i].column, cols[i]);
    }
    assert_non_null(strstr(issues.items[0].message, "mentor or mentee"));
    assert_non_null(strstr(issues.items[1].message, "'python'"));
    assert_non_null(strstr(issues.items[2].message, "whole number"));
    assert_non_null(strstr(issues.items[4].message, "hours"));
    md_issues_free(&issues);

    md_issues_init(&issues);
    assert_int_equal(convert(&h, "a@x,,,,,\n", &issues, &row), MD_EINVAL);
    assert_int_equal(issues.n, 1);
    assert_string_equal(issues.items[0].column, "role");
    assert_non_null(strstr(issues.items[0].message, "required"));
    md_issues_free(&issues);

    md_issues_init(&issues);
    assert_int_equal(convert(&h, "a@x,mentee\n", &issues, &row), MD_EINVAL);
    assert_int_equal(issues.n, 1);
    assert_string_equal(issues.items[0].column, "");
    assert_non_null(strstr(issues.items[0].message, "expected 6 cells"));
    md_issues_free(&issues);

    /* Empty optional cells are simply not given. */
    md_issues_init(&issues);
    assert_int_equal(convert(&h, "a@x,mentee,,,,\n", &issues, &row), MD_OK);
    assert_int_equal(row->role, MENTOR__V1__PARTICIPANT_ROLE__MENTEE);
    assert_int_equal(row->profile->n_skills_offered, 0);
    assert_int_equal(row->profile->capacity, 0);
    mentor__v1__import_row__free_unpacked(row, NULL);
    md_issues_free(&issues);
}

/* 0 reads as "not given" on the wire, so where a range starts at 1 a
 * written 0 is refused rather than silently dropped; seniority years may
 * be 0. */
static void test_row_zero(void **state)
{
    (void)state;
    md_roster_header_t h;
    md_issues_t issues;
    Mentor__V1__ImportRow *row = NULL;
    md_issues_init(&issues);
    header_of(&h, "email,role,capacity,seniority_level,seniority_years\n");
    assert_int_equal(convert(&h, "a@x,mentor,0,00,0\n", &issues, &row), MD_EINVAL);
    assert_null(row);
    assert_int_equal(issues.n, 2);
    assert_string_equal(issues.items[0].column, "capacity");
    assert_non_null(strstr(issues.items[0].message, "capacity 0"));
    assert_non_null(strstr(issues.items[0].message, "1-10"));
    assert_string_equal(issues.items[1].column, "seniority_level");
    assert_non_null(strstr(issues.items[1].message, "1-20"));
    md_issues_free(&issues);

    md_issues_init(&issues);
    assert_int_equal(convert(&h, "a@x,mentor,1,20,0\n", &issues, &row), MD_OK);
    assert_int_equal(row->profile->capacity, 1);
    assert_int_equal(row->profile->seniority_level, 20);
    assert_int_equal(row->profile->seniority_years, 0);
    mentor__v1__import_row__free_unpacked(row, NULL);
    /* Above the range is for the server to say. */
    assert_int_equal(convert(&h, "a@x,mentor,11,21,61\n", &issues, &row), MD_OK);
    assert_int_equal(row->profile->capacity, 11);
    mentor__v1__import_row__free_unpacked(row, NULL);
    assert_int_equal(issues.n, 0);
    md_issues_free(&issues);
}

/* The profile fields a header provides: its columns but email,
 * display_name and role, in the header's order. */
static void test_fields(void **state)
{
    (void)state;
    md_roster_header_t h;
    const char *fields[MD_RC_COUNT];
    header_of(&h, "capacity,email,display_name,manager_email,role,department\n");
    assert_int_equal(md_roster_fields(&h, fields), 3);
    assert_string_equal(fields[0], "capacity");
    assert_string_equal(fields[1], "manager_email");
    assert_string_equal(fields[2], "department");
    header_of(&h, "role,email\n");
    assert_int_equal(md_roster_fields(&h, fields), 0);
    /* Every column: every profile field, named as the protocol names them. */
    const char *header[MD_RC_COUNT];
    md_buf_t line;
    md_buf_init(&line);
    for (int i = 0; i < MD_RC_COUNT; i++)
        header[i] = md_roster_col_name(i);
    assert_int_equal(md_csv_record(&line, header, MD_RC_COUNT), MD_OK);
    assert_int_equal(md_buf_append(&line, "", 1), MD_OK);
    header_of(&h, (const char *)line.data);
    assert_int_equal(md_roster_fields(&h, fields), MD_RC_COUNT - 3);
    assert_string_equal(fields[0], "skills_offered");
    assert_string_equal(fields[MD_RC_COUNT - 5], "manager_email");
    assert_string_equal(fields[MD_RC_COUNT - 4], "capacity");
    md_buf_free(&line);
}

static void test_issues_sort(void **state)
{
    (void)state;
    md_issues_t l;
    md_issues_init(&l);
    md_issues_add(&l, 9, "a", "first of 9");
    md_issues_add(&l, 3, "b", "x");
    md_issues_add(&l, 9, "c", "second of 9");
    md_issues_add(&l, 1, "", "y");
    md_issues_sort(&l);
    assert_int_equal(l.items[0].row, 1);
    assert_int_equal(l.items[1].row, 3);
    assert_string_equal(l.items[2].message, "first of 9");
    assert_string_equal(l.items[3].message, "second of 9");
    md_issues_free(&l);
}

/* The spec written for some slots reads back as the same slots; the
 * slots come from the import side, which reads the spec as "profile edit
 * --availability" does. */
static void test_availability_spec(void **state)
{
    (void)state;
    const char *specs[] = {"mon-fri:9-17,sat:10-12", "mon:0-24", "mon:9-12,mon:14-17,wed:9-12",
                           "tue-thu:8-9,tue-thu:20-22,sun:23-24"};
    md_roster_header_t h;
    header_of(&h, "email,role,availability\n");
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        char line[128];
        md_issues_t issues;
        Mentor__V1__ImportRow *row = NULL;
        md_buf_t b;
        md_issues_init(&issues);
        md_buf_init(&b);
        snprintf(line, sizeof(line), "a@x,mentor,\"%s\"\n", specs[i]);
        assert_int_equal(convert(&h, line, &issues, &row), MD_OK);
        const Mentor__V1__Profile *p = row->profile;
        assert_int_equal(md_roster_availability_spec(p->availability, p->n_availability, &b),
                         MD_OK);
        assert_int_equal(md_buf_append(&b, "", 1), MD_OK);
        assert_string_equal((const char *)b.data, specs[i]);
        mentor__v1__import_row__free_unpacked(row, NULL);
        md_issues_free(&issues);
        md_buf_free(&b);
    }
}

/* Export then import: a participant's record converts back to a row with
 * the same fields. */
static void test_participant_round_trip(void **state)
{
    (void)state;
    Mentor__V1__Skill s1 = MENTOR__V1__SKILL__INIT;
    Mentor__V1__Skill s2 = MENTOR__V1__SKILL__INIT;
    Mentor__V1__Skill *offered[] = {&s1, &s2};
    char *langs[] = {"en", "fr"};
    char *goals[] = {"public speaking"};
    uint32_t avail[] = {9, 10, 33, 34, 130};
    Mentor__V1__Profile pr = MENTOR__V1__PROFILE__INIT;
    Mentor__V1__Participant p = MENTOR__V1__PARTICIPANT__INIT;
    s1.name = "c";
    s1.level = 4;
    s2.name = "machine learning";
    s2.level = 2;
    pr.skills_offered = offered;
    pr.n_skills_offered = 2;
    pr.career_goals = goals;
    pr.n_career_goals = 1;
    pr.department = "R&D, \"Lab\"";
    pr.seniority_level = 3;
    pr.time_zone = "Asia/Tokyo";
    pr.languages = langs;
    pr.n_languages = 2;
    pr.availability = avail;
    pr.n_availability = 5;
    pr.capacity = 2;
    p.email = "zoe@example.com";
    p.display_name = " Zoë ";
    p.role = MENTOR__V1__PARTICIPANT_ROLE__MENTOR;
    p.profile = &pr;

    md_buf_t cellbuf;
    md_buf_t file;
    const char *cells[MD_RC_COUNT];
    const char *header[MD_RC_COUNT];
    md_buf_init(&cellbuf);
    md_buf_init(&file);
    for (int i = 0; i < MD_RC_COUNT; i++)
        header[i] = md_roster_col_name(i);
    assert_int_equal(md_csv_record(&file, header, MD_RC_COUNT), MD_OK);
    assert_int_equal(md_roster_cells(&p, "boss@example.com", &cellbuf, cells), MD_OK);
    assert_string_equal(cells[MD_RC_SKILLS_OFFERED], "c:4;machine learning:2");
    assert_string_equal(cells[MD_RC_AVAILABILITY], "mon-tue:9-11,sat:10-11");
    assert_string_equal(cells[MD_RC_SENIORITY_YEARS], "");
    assert_int_equal(md_csv_record(&file, cells, MD_RC_COUNT), MD_OK);

    md_roster_header_t h;
    md_issues_t issues;
    md_issues_init(&issues);
    reader_t *t = open_text((const char *)file.data, file.len);
    assert_int_equal(md_csv_read(&t->r), MD_OK);
    assert_int_equal(md_roster_header(&h, t->r.fields, t->r.nfields, &issues), MD_OK);
    assert_int_equal(md_csv_read(&t->r), MD_OK);
    Mentor__V1__ImportRow *row = NULL;
    assert_int_equal(md_roster_row(&h, t->r.row, t->r.fields, t->r.nfields, &issues, &row), MD_OK);
    assert_int_equal(row->row, 2);
    assert_string_equal(row->email, p.email);
    assert_string_equal(row->display_name, p.display_name);
    assert_string_equal(row->manager_email, "boss@example.com");
    assert_int_equal(row->role, p.role);
    const Mentor__V1__Profile *q = row->profile;
    assert_int_equal(q->n_skills_offered, 2);
    assert_string_equal(q->skills_offered[1]->name, "machine learning");
    assert_int_equal(q->skills_offered[1]->level, 2);
    assert_int_equal(q->n_career_goals, 1);
    assert_string_equal(q->career_goals[0], "public speaking");
    assert_string_equal(q->department, pr.department);
    assert_int_equal(q->seniority_level, 3);
    assert_int_equal(q->seniority_years, 0);
    assert_string_equal(q->time_zone, "Asia/Tokyo");
    assert_int_equal(q->n_languages, 2);
    assert_int_equal(q->n_availability, 5);
    assert_memory_equal(q->availability, avail, sizeof(avail));
    assert_int_equal(q->capacity, 2);
    mentor__v1__import_row__free_unpacked(row, NULL);
    expect_end(t);
    close_reader(t);
    md_issues_free(&issues);
    md_buf_free(&cellbuf);
    md_buf_free(&file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_newlines_in_quotes_and_rows),
        cmocka_unit_test(test_crlf_lf_and_blank_lines),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_stray_quote),
        cmocka_unit_test(test_unterminated),
        cmocka_unit_test(test_bare_cr_and_nul),
        cmocka_unit_test(test_cell_limit),
        cmocka_unit_test(test_too_many_fields),
        cmocka_unit_test(test_writer),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_row_full),
        cmocka_unit_test(test_row_errors),
        cmocka_unit_test(test_row_zero),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_issues_sort),
        cmocka_unit_test(test_availability_spec),
        cmocka_unit_test(test_participant_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
