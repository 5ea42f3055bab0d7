/* fuzz_csv.c: libFuzzer target for mentorctl's CSV reader (client/csv.c)
 * and the two file formats built on it, participants (client/roster.c)
 * and the HR directory (client/directory.c). The first input byte picks
 * the format; the rest is the file. Besides not crashing, the reader must
 * keep its promises: cells are well-formed UTF-8 of bounded size, rows
 * never go backwards, and every record it returns, written back with
 * md_csv_record, reads back as the same cells. A row the format accepts
 * must pack as a protobuf message that unpacks again. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_csv.h"
#include "md_directory.h"
#include "md_issues.h"
#include "md_roster.h"
#include "md_utf8.h"
#include "mentor.pb-c.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

/* Write the record and read it back: the same cells must come out. */
static void check_round_trip(char *const *cells, size_t n)
{
    if (n == 1 && cells[0][0] == '\0')
        return; /* an empty line, which the reader skips by design */
    if ((unsigned char)cells[0][0] == 0xEF && (unsigned char)cells[0][1] == 0xBB &&
        (unsigned char)cells[0][2] == 0xBF)
        return; /* read back at the start of a file, it would be a BOM */
    md_buf_t out;
    md_buf_init(&out);
    CHECK(md_csv_record(&out, (const char *const *)cells, n) == MD_OK);
    FILE *f = fmemopen(out.data, out.len, "r");
    CHECK(f != NULL);
    md_csv_reader_t *r = malloc(sizeof(*r));
    CHECK(r != NULL);
    md_csv_reader_init(r, f);
    CHECK(md_csv_read(r) == MD_OK);
    CHECK(r->nfields == n);
    for (size_t i = 0; i < n; i++)
        CHECK(strcmp(r->fields[i], cells[i]) == 0);
    CHECK(md_csv_read(r) == MD_ENOTFOUND);
    md_csv_reader_free(r);
    free(r);
    fclose(f);
    md_buf_free(&out);
}

static void check_packs(const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    CHECK(buf != NULL);
    CHECK(protobuf_c_message_pack(m, buf) == n);
    ProtobufCMessage *back = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
    CHECK(back != NULL);
    protobuf_c_message_free_unpacked(back, NULL);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int directory = data[0] & 1;
    FILE *f = fmemopen((void *)(data + 1), size - 1, "r");
    if (f == NULL)
        return 0;
    md_csv_reader_t *r = malloc(sizeof(*r));
    CHECK(r != NULL);
    md_csv_reader_init(r, f);
    md_issues_t issues;
    md_issues_init(&issues);
    md_roster_header_t rh;
    md_directory_header_t dh;
    int have_header = 0;
    uint32_t last_row = 0;
    for (int records = 0; records < 64; records++) {
        int rc = md_csv_read(r);
        if (rc != MD_OK) {
            CHECK(rc == MD_ENOTFOUND || rc == MD_EINVAL || rc == MD_EIO || rc == MD_ENOMEM);
            if (rc == MD_EINVAL)
                CHECK(r->err[0] != '\0' && r->err_row >= 1);
            break;
        }
        CHECK(r->row >= 1 && r->row > last_row);
        CHECK(r->nfields >= 1 && r->nfields <= MD_CSV_MAX_FIELDS);
        last_row = r->row;
        for (size_t i = 0; i < r->nfields; i++) {
            size_t len = strlen(r->fields[i]);
            CHECK(len <= MD_CSV_MAX_CELL);
            CHECK(md_utf8_valid(r->fields[i], len, NULL));
        }
        check_round_trip(r->fields, r->nfields);
        if (!have_header) {
            rc = directory ? md_directory_header(&dh, r->fields, r->nfields, &issues)
                           : md_roster_header(&rh, r->fields, r->nfields, &issues);
            CHECK(rc == MD_OK || rc == MD_EINVAL || rc == MD_ENOMEM);
            if (rc != MD_OK)
                break;
            have_header = 1;
            continue;
        }
        if (directory) {
            Mentor__V1__DirectoryRow *row = NULL;
            rc = md_directory_row(&dh, r->row, r->fields, r->nfields, &issues, &row);
            CHECK(rc == MD_OK || rc == MD_EINVAL || rc == MD_ENOMEM);
            CHECK((rc == MD_OK) == (row != NULL));
            if (row != NULL) {
                check_packs(&row->base);
                mentor__v1__directory_row__free_unpacked(row, NULL);
            }
        } else {
            Mentor__V1__ImportRow *row = NULL;
            rc = md_roster_row(&rh, r->row, r->fields, r->nfields, &issues, &row);
            CHECK(rc == MD_OK || rc == MD_EINVAL || rc == MD_ENOMEM);
            CHECK((rc == MD_OK) == (row != NULL));
            if (row != NULL) {
                check_packs(&row->base);
                mentor__v1__import_row__free_unpacked(row, NULL);
            }
        }
    }
    md_issues_free(&issues);
    md_csv_reader_free(r);
    free(r);
    fclose(f);
    return 0;
}
