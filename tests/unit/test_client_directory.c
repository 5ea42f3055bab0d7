/* test_client_directory.c: unit tests for the HR directory file of
 * "mentorctl import users": the header (columns in any order, unknown,
 * repeated and missing columns), the employment status words, and the
 * conversion of records read by the CSV reader into DirectoryRow
 * messages: required cells, cell lengths counted in characters, UTF-8
 * names, quoted cells holding commas and line breaks, row numbers; and
 * the problem list keeping each problem once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "md_csv.h"
#include "md_directory.h"

#define HEADER "employee_id,email,name,department,title,manager_employee_id,status\n"

/* A CSV reader over a string. */
typedef struct {
    FILE *f;
    md_csv_reader_t r;
} reader_t;

static reader_t *open_str(const char *text)
{
    reader_t *t = malloc(sizeof(*t));
    assert_non_null(t);
    t->f = fmemopen((void *)text, strlen(text), "rb");
    assert_non_null(t->f);
    md_csv_reader_init(&t->r, t->f);
    return t;
}

static void close_reader(reader_t *t)
{
    md_csv_reader_free(&t->r);
    fclose(t->f);
    free(t);
}

/* Read the header of t into h, which must be accepted. */
static void read_header(reader_t *t, md_directory_header_t *h)
{
    md_issues_t issues;
    md_issues_init(&issues);
    assert_int_equal(md_csv_read(&t->r), MD_OK);
    assert_int_equal(md_directory_header(h, t->r.fields, t->r.nfields, &issues), MD_OK);
    assert_int_equal(issues.n, 0);
    md_issues_free(&issues);
}

/* Read the next record of t and convert it under h. */
static int next_row(reader_t *t, const md_directory_header_t *h, md_issues_t *issues,
                    Mentor__V1__DirectoryRow **row)
{
    assert_int_equal(md_csv_read(&t->r), MD_OK);
    return md_directory_row(h, t->r.row, t->r.fields, t->r.nfields, issues, row);
}

/* Convert the one record after HEADER: "text" is that record. */
static int convert(const char *record, md_issues_t *issues, Mentor__V1__DirectoryRow **row)
{
    md_directory_header_t h;
    size_t len = strlen(HEADER) + strlen(record) + 1;
    char *text = malloc(len);
    assert_non_null(text);
    snprintf(text, len, "%s%s", HEADER, record);
    reader_t *t = open_str(text);
    read_header(t, &h);
    int rc = next_row(t, &h, issues, row);
    close_reader(t);
    free(text);
    return rc;
}

/* A string of n copies of the UTF-8 character c. */
static char *repeat(const char *c, size_t n)
{
    size_t len = strlen(c);
    char *s = malloc(n * len + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * len, c, len);
    s[n * len] = '\0';
    return s;
}

static void test_column_names(void **state)
{
    (void)state;
    const char *want[] = {"employee_id",         "email", "name", "department", "title",
                          "manager_employee_id", "status"};
    for (int i = 0; i < MD_DC_COUNT; i++)
        assert_string_equal(md_directory_col_name(i), want[i]);
    assert_null(md_directory_col_name(MD_DC_COUNT));
    assert_null(md_directory_col_name(-1));
}

static void test_header_any_order(void **state)
{
    (void)state;
    md_directory_header_t h;
    md_issues_t issues;
    md_issues_init(&issues);
    char *cells[] = {"status", "email", "title", "employee_id"};
    assert_int_equal(md_directory_header(&h, cells, 4, &issues), MD_OK);
    assert_int_equal(issues.n, 0);
    assert_int_equal(h.n, 4);
    assert_int_equal(h.col[0], MD_DC_STATUS);
    assert_int_equal(h.col[1], MD_DC_EMAIL);
    assert_int_equal(h.col[2], MD_DC_TITLE);
    assert_int_equal(h.col[3], MD_DC_EMPLOYEE_ID);
    md_issues_free(&issues);
}

static void test_header_missing_required(void **state)
{
    (void)state;
    md_directory_header_t h;
    md_issues_t issues;
    md_issues_init(&issues);
    char *cells[] = {"name", "department"};
    assert_int_equal(md_directory_header(&h, cells, 2, &issues), MD_EINVAL);
    assert_int_equal(issues.n, 3);
    const char *cols[] = {"employee_id", "email", "status"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(issues.items[i].row, 1);
        assert_string_equal(issues.items[i].column, cols[i]);
        assert_string_equal(issues.items[i].message, "required column missing");
    }
    md_issues_free(&issues);
}

static void test_header_unknown_and_repeated(void **state)
{
    (void)state;
    md_directory_header_t h;
    md_issues_t issues;
    md_issues_init(&issues);
    /* Names are exact: "Email" is not "email". */
    char *cells[] = {"employee_id", "emial", "status", "status", "colour", "Email", "email"};
    assert_int_equal(md_directory_header(&h, cells, 7, &issues), MD_EINVAL);
    assert_int_equal(issues.n, 4);
    assert_string_equal(issues.items[0].column, "emial");
    assert_string_equal(issues.items[0].message, "unknown column (did you mean 'email'?)");
    assert_string_equal(issues.items[1].column, "status");
    assert_string_equal(issues.items[1].message, "column given twice");
    assert_string_equal(issues.items[2].column, "colour");
    assert_string_equal(issues.items[2].message, "unknown column");
    assert_string_equal(issues.items[3].column, "Email");
    assert_non_null(strstr(issues.items[3].message, "did you mean 'email'"));
    md_issues_free(&issues);

    /* A suggestion for a near miss of the long name too. */
    md_issues_init(&issues);
    char *near[] = {"employee_id", "email", "status", "manager_employe_id"};
    assert_int_equal(md_directory_header(&h, near, 4, &issues), MD_EINVAL);
    assert_int_equal(issues.n, 1);
    assert_non_null(strstr(issues.items[0].message, "'manager_employee_id'"));
    md_issues_free(&issues);
}

static void test_status_words(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int status;
    } good[] = {
        {"active", MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_ACTIVE},
        {"ACTIVE", MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_ACTIVE},
        {" Active\t", MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_ACTIVE},
        {"leave", MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_LEAVE},
        {"Leave", MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_LEAVE},
        {"on leave", MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_LEAVE},
        {"On_Leave", MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_LEAVE},
        {"terminated", MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_TERMINATED},
        {"TERMINATED", MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_TERMINATED},
    };
    static const char *const bad[] = {"",       "  ",  "retired",  "on-leave",  "onleave",
                                      "leaves", "act", "active x", "terminate", "1"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int status = -1;
        assert_int_equal(md_employment_parse(good[i].text, &status), MD_OK);
        assert_int_equal(status, good[i].status);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int status = -1;
        assert_int_equal(md_employment_parse(bad[i], &status), MD_EINVAL);
        assert_int_equal(status, -1);
    }
    assert_string_equal(md_employment_name(MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_ACTIVE),
                        "active");
    assert_string_equal(md_employment_name(MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_LEAVE),
                        "leave");
    assert_string_equal(md_employment_name(MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_TERMINATED),
                        "terminated");
    assert_string_equal(
        md_employment_name(MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_STATUS_UNSPECIFIED),
        "unspecified");
}

static void test_row_full(void **state)
{
    (void)state;
    md_issues_t issues;
    Mentor__V1__DirectoryRow *row = NULL;
    md_issues_init(&issues);
    assert_int_equal(convert("E-042,zoe.muller@example.com,\"Müller, Zoë\",\"R&D, Berlin\","
                             "Staff Engineer,E-001,On Leave\n",
                             &issues, &row),
                     MD_OK);
    assert_int_equal(issues.n, 0);
    assert_int_equal(row->row, 2);
    assert_string_equal(row->employee_id, "E-042");
    assert_string_equal(row->email, "zoe.muller@example.com");
    assert_string_equal(row->display_name, "Müller, Zoë");
    assert_string_equal(row->department, "R&D, Berlin");
    assert_string_equal(row->title, "Staff Engineer");
    assert_string_equal(row->manager_employee_id, "E-001");
    assert_int_equal(row->status, MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_LEAVE);
    mentor__v1__directory_row__free_unpacked(row, NULL);
    md_issues_free(&issues);
}

static void test_row_optional_cells(void **state)
{
    (void)state;
    md_issues_t issues;
    Mentor__V1__DirectoryRow *row = NULL;
    md_issues_init(&issues);
    /* Only the required columns: the other fields are empty strings. */
    reader_t *t = open_str("status,email,employee_id\r\nterminated,li.wei@example.com,7\r\n");
    md_directory_header_t h;
    read_header(t, &h);
    assert_int_equal(next_row(t, &h, &issues, &row), MD_OK);
    assert_string_equal(row->employee_id, "7");
    assert_string_equal(row->email, "li.wei@example.com");
    assert_string_equal(row->display_name, "");
    assert_string_equal(row->department, "");
    assert_string_equal(row->title, "");
    assert_string_equal(row->manager_employee_id, "");
    assert_int_equal(row->status, MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_TERMINATED);
    mentor__v1__directory_row__free_unpacked(row, NULL);
    close_reader(t);

    /* Empty optional cells under the full header. */
    assert_int_equal(convert("9,a@example.com,,,,,active\n", &issues, &row), MD_OK);
    assert_string_equal(row->display_name, "");
    assert_string_equal(row->manager_employee_id, "");
    assert_int_equal(row->status, MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_ACTIVE);
    mentor__v1__directory_row__free_unpacked(row, NULL);
    assert_int_equal(issues.n, 0);
    md_issues_free(&issues);
}

static void test_row_required_cells(void **state)
{
    (void)state;
    md_issues_t issues;
    Mentor__V1__DirectoryRow *row = NULL;
    md_issues_init(&issues);
    /* Blank is as good as empty; every problem of the row is reported, in
     * column order. */
    assert_int_equal(convert(" ,,Nobody,,,, \n", &issues, &row), MD_EINVAL);
    assert_null(row);
    assert_int_equal(issues.n, 3);
    assert_int_equal(issues.items[0].row, 2);
    assert_string_equal(issues.items[0].column, "employee_id");
    assert_string_equal(issues.items[0].message, "required");
    assert_string_equal(issues.items[1].column, "email");
    assert_string_equal(issues.items[1].message, "required");
    assert_string_equal(issues.items[2].column, "status");
    assert_non_null(strstr(issues.items[2].message, "required"));
    md_issues_free(&issues);

    md_issues_init(&issues);
    assert_int_equal(convert("1,a@example.com,A,,,,fired\n", &issues, &row), MD_EINVAL);
    assert_int_equal(issues.n, 1);
    assert_string_equal(issues.items[0].column, "status");
    assert_string_equal(issues.items[0].message,
                        "invalid status 'fired' (expected active, leave or terminated)");
    md_issues_free(&issues);

    /* A record with another number of cells than the header. */
    md_issues_init(&issues);
    assert_int_equal(convert("1,a@example.com,active\n", &issues, &row), MD_EINVAL);
    assert_int_equal(issues.n, 1);
    assert_string_equal(issues.items[0].column, "");
    assert_string_equal(issues.items[0].message, "expected 7 cells as in the header, found 3");
    md_issues_free(&issues);
}

static void test_row_lengths(void **state)
{
    (void)state;
    md_issues_t issues;
    Mentor__V1__DirectoryRow *row = NULL;
    char record[2048];
    char *id64 = repeat("x", MD_DIRECTORY_MAX_ID);
    char *id65 = repeat("x", MD_DIRECTORY_MAX_ID + 1);
    /* Lengths count characters: 200 two-byte characters fit. */
    char *name200 = repeat("é", MD_DIRECTORY_MAX_TEXT);
    char *title201 = repeat("ß", MD_DIRECTORY_MAX_TEXT + 1);
    char *local = repeat("a", MD_DIRECTORY_MAX_EMAIL - strlen("@example.com") + 1);

    md_issues_init(&issues);
    snprintf(record, sizeof(record), "%s,a@example.com,%s,,,%s,active\n", id64, name200, id64);
    assert_int_equal(convert(record, &issues, &row), MD_OK);
    assert_int_equal(strlen(row->display_name), 2 * MD_DIRECTORY_MAX_TEXT);
    mentor__v1__directory_row__free_unpacked(row, NULL);
    assert_int_equal(issues.n, 0);

    snprintf(record, sizeof(record), "%s,%s@example.com,,,%s,%s,active\n", id65, local, title201,
             id65);
    assert_int_equal(convert(record, &issues, &row), MD_EINVAL);
    assert_null(row);
    assert_int_equal(issues.n, 4);
    assert_string_equal(issues.items[0].column, "employee_id");
    assert_string_equal(issues.items[0].message, "too long: 65 characters (at most 64)");
    assert_string_equal(issues.items[1].column, "email");
    assert_string_equal(issues.items[1].message, "too long: 255 characters (at most 254)");
    assert_string_equal(issues.items[2].column, "title");
    assert_string_equal(issues.items[2].message, "too long: 201 characters (at most 200)");
    assert_string_equal(issues.items[3].column, "manager_employee_id");
    md_issues_free(&issues);
    free(id64);
    free(id65);
    free(name200);
    free(title201);
    free(local);
}

static void test_file_rows(void **state)
{
    (void)state;
    md_issues_t issues;
    md_directory_header_t h;
    Mentor__V1__DirectoryRow *row = NULL;
    md_issues_init(&issues);
    /* A byte order mark, a quoted cell spanning two lines, a quote inside
     * quotes and a blank line: rows are the lines where records start. */
    reader_t *t =
        open_str("\xEF\xBB\xBF" HEADER "1,ceo@example.com,李伟,Board,\"Chief\nExecutive\","
                 ",active\n"
                 "\n"
                 "2,sam@example.com,\"Sam \"\"Sammy\"\" O'Neil\",Sales,,1,terminated\n");
    read_header(t, &h);
    assert_int_equal(next_row(t, &h, &issues, &row), MD_OK);
    assert_int_equal(row->row, 2);
    assert_string_equal(row->display_name, "李伟");
    assert_string_equal(row->title, "Chief\nExecutive");
    mentor__v1__directory_row__free_unpacked(row, NULL);
    assert_int_equal(next_row(t, &h, &issues, &row), MD_OK);
    assert_int_equal(row->row, 5);
    assert_string_equal(row->display_name, "Sam \"Sammy\" O'Neil");
    assert_string_equal(row->manager_employee_id, "1");
    assert_int_equal(row->status, MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_TERMINATED);
    mentor__v1__directory_row__free_unpacked(row, NULL);
    assert_int_equal(md_csv_read(&t->r), MD_ENOTFOUND);
    assert_int_equal(issues.n, 0);
    close_reader(t);
    md_issues_free(&issues);
}

/* The problem list both import files report into: the server may repeat
 * a row's problem in its verdict on the whole file, which is shown once. */
static void test_issues_unique(void **state)
{
    (void)state;
    md_issues_t l;
    md_issues_init(&l);
    md_issues_add(&l, 4, "email", "not an e-mail");
    md_issues_add(&l, 2, "title", "too long");
    md_issues_add(&l, 4, "status", "required");
    md_issues_add(&l, 2, "title", "too long");
    md_issues_add(&l, 4, "email", "not an e-mail");
    md_issues_add(&l, 4, "email", "another problem");
    md_issues_add(&l, 9, "title", "too long");
    md_issues_sort(&l);
    md_issues_unique(&l);
    assert_int_equal(l.n, 5);
    assert_int_equal(l.items[0].row, 2);
    assert_string_equal(l.items[1].column, "email");
    assert_string_equal(l.items[1].message, "not an e-mail");
    assert_string_equal(l.items[2].column, "status");
    assert_string_equal(l.items[3].message, "another problem");
    assert_int_equal(l.items[4].row, 9);
    md_issues_free(&l);
}

/* The sample file of the documentation is a valid directory file. It is
 * found from this file's own path, which the build passes to the compiler
 * in full (tests/unit/ -> docs/). */
static void test_sample_file(void **state)
{
    (void)state;
    char path[4096];
    md_issues_t issues;
    md_directory_header_t h;
    md_csv_reader_t r;
    const char *slash = strrchr(__FILE__, '/');
    if (slash == NULL) {
        skip();
        return;
    }
    snprintf(path, sizeof(path), "%.*s/../../docs/directory-sample.csv", (int)(slash - __FILE__),
             __FILE__);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        skip();
        return;
    }
    md_issues_init(&issues);
    md_csv_reader_init(&r, f);
    assert_int_equal(md_csv_read(&r), MD_OK);
    assert_int_equal(md_directory_header(&h, r.fields, r.nfields, &issues), MD_OK);
    size_t rows = 0;
    int statuses[4] = {0};
    for (int rc = md_csv_read(&r); rc != MD_ENOTFOUND; rc = md_csv_read(&r)) {
        Mentor__V1__DirectoryRow *row = NULL;
        assert_int_equal(rc, MD_OK);
        assert_int_equal(md_directory_row(&h, r.row, r.fields, r.nfields, &issues, &row), MD_OK);
        statuses[row->status]++;
        mentor__v1__directory_row__free_unpacked(row, NULL);
        rows++;
    }
    assert_int_equal(issues.n, 0);
    assert_in_range(rows, 6, 10);
    assert_true(statuses[MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_LEAVE] >= 1);
    assert_true(statuses[MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_TERMINATED] >= 1);
    md_csv_reader_free(&r);
    fclose(f);
    md_issues_free(&issues);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_column_names),
        cmocka_unit_test(test_header_any_order),
        cmocka_unit_test(test_header_missing_required),
        cmocka_unit_test(test_header_unknown_and_repeated),
        cmocka_unit_test(test_status_words),
        cmocka_unit_test(test_row_full),
        cmocka_unit_test(test_row_optional_cells),
        cmocka_unit_test(test_row_required_cells),
        cmocka_unit_test(test_row_lengths),
        cmocka_unit_test(test_file_rows),
        cmocka_unit_test(test_issues_unique),
        cmocka_unit_test(test_sample_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
