/* cmd_import.c: the "import" and "export" command groups. Two files are
 * imported: the participants of a program (md_roster.h) and the HR
 * directory of the organization (md_directory.h). Both go the same way,
 * and one engine here drives them; what differs (the columns, the request
 * carrying the rows, the counts in the summary) is described by an
 * import_kind_t. The file is streamed: records are read, converted and
 * sent in batches under one random import id, so memory stays bounded
 * however long the file is; a final request asks the server to check the
 * file as a whole and apply it. A batch ends at BATCH_ROWS rows, or
 * earlier when one more row would take the request past a byte budget
 * well under the server's frame limit, so that long rows cannot make a
 * request the server must refuse; a row too large to fit a request on its
 * own is a problem of that row. A record the client itself cannot read is
 * never sent; unless --skip-invalid was given, its presence turns the
 * final request into a dry run, so that the server still reports
 * everything it finds but nothing is written. Export writes a program's
 * participants back as the file import reads. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "md_cmd.h"
#include "md_csv.h"
#include "md_directory.h"
#include "md_roster.h"

#define BATCH_ROWS    500
#define PROGRESS_FROM 1000
/* The byte budget of a request is a quarter of the server's frame limit
 * (the protocol's default when the server did not say), and at most
 * BATCH_BYTES: room to spare whatever the encoding adds, and requests
 * small enough to keep the server's memory per connection low. */
#define BATCH_BYTES   (256u * 1024u)
#define DEFAULT_FRAME (1024u * 1024u)
/* What a request holds besides its rows (ids, flags, the column names),
 * generously: the budget for rows is the budget less this. */
#define REQUEST_RESERVE 1024u
/* What a row adds to a request besides its own encoding: its field tag
 * and its length. */
#define ROW_FRAMING 6u

typedef struct import import_t;

/* A number of the server's reply shown in the summary: its JSON key, its
 * label in the table and where it is in an ImportReply. */
typedef struct {
    const char *key;
    const char *label;
    size_t offset; /* of a uint32_t field */
} import_count_t;

/* What tells one kind of import from another. */
typedef struct {
    /* Read the header record into im->header. MD_OK, or MD_EINVAL with
     * the problems in im->issues. */
    int (*header)(import_t *im, char *const *cells, size_t n);
    /* The column of the 1-based cell col of a record, or NULL. */
    const char *(*column)(const import_t *im, uint32_t col);
    /* Convert the record just read and append it to the batch. MD_OK,
     * MD_EINVAL (problems in im->issues, nothing appended) or MD_ENOMEM. */
    int (*add)(import_t *im, const md_csv_reader_t *rd);
    /* Free the rows of the batch from index from on. */
    void (*clear)(import_t *im, size_t from);
    /* The encoded size of row i of the batch. */
    size_t (*row_size)(const import_t *im, size_t i);
    /* Put row from of the batch at index to (whose row is gone). */
    void (*move)(import_t *im, size_t from, size_t to);
    /* Send the batch, with the finishing flags when finish is set; as
     * md_ctx_call, *msg is the reply on success. */
    int (*call)(import_t *im, int finish, int skip_invalid, int dry_run,
                Mentor__V1__ServerMessage **msg);
    /* The ImportReply inside a reply of call. */
    const Mentor__V1__ImportReply *(*reply)(const Mentor__V1__ServerMessage *msg);
    /* The reply's counts the summary shows, in order, after the number
     * of rows and before "skipped" (which adds the rows the client
     * refused itself). */
    const import_count_t *counts;
    size_t ncounts;
} import_kind_t;

struct import {
    const import_kind_t *kind;
    md_ctx_t *c;
    uint64_t program; /* import participants: the program */
    char import_id[33];
    md_issues_t issues;
    union {
        md_roster_header_t participants;
        md_directory_header_t users;
    } header;
    /* Import participants: the profile fields the file provides. */
    const char *columns[MD_RC_COUNT];
    size_t ncolumns;
    union {
        Mentor__V1__ImportRow *participants[BATCH_ROWS];
        Mentor__V1__DirectoryRow *users[BATCH_ROWS];
    } batch;
    size_t nbatch;
    size_t batch_bytes; /* the batch's rows as the request carries them */
    size_t row_budget;  /* the most batch_bytes may reach */
    uint64_t rows_read; /* records after the header */
    uint64_t rows_bad;  /* records refused by the client */
    uint64_t rows_sent;
    off_t file_size; /* 0 when unknown (not a regular file) */
    int tty;
    int progress_shown;
    uint64_t progress_rows; /* rows_sent when a progress line was last printed */
};

/* Random, so that two imports running at once cannot mix their batches. */
static int new_import_id(char out[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return MD_EINTERNAL;
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[32] = '\0';
    return MD_OK;
}

static void batch_clear(import_t *im)
{
    im->kind->clear(im, 0);
    im->nbatch = 0;
    im->batch_bytes = 0;
}

/* After a batch was sent (last: the file's last one). Nothing is written
 * before the final request, so the lines count rows sent, not imported.
 * On a terminal one line is redrawn with a bar; otherwise (a log) a line
 * is printed at most every BATCH_ROWS rows, however small size made the
 * batches, and after the last batch. */
static void progress(import_t *im, uint64_t consumed, int last)
{
    if (im->rows_read <= PROGRESS_FROM)
        return;
    if (im->progress_shown && im->rows_sent == im->progress_rows)
        return;
    if (!im->tty && !last && im->progress_shown && im->rows_sent - im->progress_rows < BATCH_ROWS)
        return;
    im->progress_shown = 1;
    im->progress_rows = im->rows_sent;
    if (!im->tty) {
        fprintf(stderr, "sent %llu rows\n", (unsigned long long)im->rows_sent);
        return;
    }
    if (im->file_size > 0) {
        uint64_t pct = consumed * 100 / (uint64_t)im->file_size;
        if (pct > 100)
            pct = 100;
        int fill = (int)pct * 30 / 100;
        fprintf(stderr, "\r[%.*s%*s] %3d%% sent %llu rows", fill, "##############################",
                30 - fill, "", (int)pct, (unsigned long long)im->rows_sent);
    } else {
        fprintf(stderr, "\rsent %llu rows", (unsigned long long)im->rows_sent);
    }
    fflush(stderr);
}

static void add_reply_issues(import_t *im, const Mentor__V1__ImportReply *r)
{
    for (size_t i = 0; i < r->n_issues; i++)
        md_issues_add(&im->issues, r->issues[i]->row, r->issues[i]->column, "%s",
                      r->issues[i]->message);
}

/* Send the rows batched so far, or the finishing request. On success the
 * reply is returned in *msg when msg is not NULL (and freed otherwise). */
static int send_batch(import_t *im, int finish, int skip_invalid, int dry_run,
                      Mentor__V1__ServerMessage **msg)
{
    Mentor__V1__ServerMessage *m = NULL;
    int rc = im->kind->call(im, finish, skip_invalid, dry_run, &m);
    im->rows_sent += im->nbatch;
    batch_clear(im);
    if (rc != MD_EXIT_OK)
        return rc;
    add_reply_issues(im, im->kind->reply(m));
    if (msg != NULL)
        *msg = m;
    else
        mentor__v1__server_message__free_unpacked(m, NULL);
    return MD_EXIT_OK;
}

/* Print the issues as "row N, column C: message", sorted by row, each
 * once. */
static void print_issues(md_issues_t *l)
{
    md_issues_sort(l);
    md_issues_unique(l);
    for (size_t i = 0; i < l->n; i++) {
        const md_issue_t *it = &l->items[i];
        if (it->column[0] != '\0')
            md_out_line(stderr, "row %u, column %s: %s", it->row, it->column, it->message);
        else
            md_out_line(stderr, "row %u: %s", it->row, it->message);
    }
}

/* A CSV problem names the column by its header name when it can (that
 * is, when the header has been read: with_header). */
static void csv_issue(import_t *im, const md_csv_reader_t *r, int with_header)
{
    char column[24] = "";
    const char *name = column;
    uint32_t col = r->err_column;
    if (col > 0 && with_header)
        name = im->kind->column(im, col);
    else if (col > 0)
        snprintf(column, sizeof(column), "%u", col);
    md_issues_add(&im->issues, r->err_row, name != NULL ? name : "", "%s", r->err);
}

/* A row too large for any request is reported at its largest cell, the
 * one to shorten. */
static void row_too_large(import_t *im, const md_csv_reader_t *r, size_t size)
{
    size_t largest = 0;
    size_t at = 0;
    for (size_t i = 0; i < r->nfields; i++) {
        size_t n = strlen(r->fields[i]);
        if (n > largest) {
            largest = n;
            at = i;
        }
    }
    const char *column = r->nfields > 0 ? im->kind->column(im, (uint32_t)at + 1) : NULL;
    md_issues_add(&im->issues, r->row, column != NULL ? column : "",
                  "the cell is too large (%zu bytes; the whole row takes %zu bytes once encoded, "
                  "more than the %zu a request may carry)",
                  largest, size, im->row_budget);
}

/* The number of rows in a sorted list of issues. */
static size_t rows_with_issues(const md_issues_t *l)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += i == 0 || l->items[i].row != l->items[i - 1].row;
    return n;
}

/* Write the invitation codes as CSV to path, readable only by the user:
 * each code lets its holder set a password. */
static int write_invites(const char *path, const Mentor__V1__ImportReply *r)
{
    static const char *const header[] = {"email", "code", "expires_at"};
    md_buf_t b;
    int rc = MD_OK;
    md_buf_init(&b);
    rc = md_csv_record(&b, header, 3);
    for (size_t i = 0; i < r->n_invites && rc == MD_OK; i++) {
        char expires[MD_TIME_LEN];
        const char *cells[3] = {r->invites[i]->email, r->invites[i]->code, expires};
        (void)md_time_text(r->invites[i]->expires_at, expires);
        rc = md_csv_record(&b, cells, 3);
    }
    if (rc != MD_OK) {
        md_buf_free(&b);
        fprintf(stderr, "mentorctl: out of memory\n");
        return MD_EXIT_REFUSED;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0 && fchmod(fd, 0600) == 0;
    for (size_t off = 0; ok && off < b.len;) {
        ssize_t n = write(fd, b.data + off, b.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        off += ok ? (size_t)n : 0;
    }
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    md_buf_free(&b);
    if (!ok) {
        fprintf(stderr, "mentorctl: cannot write the invitation codes to %s: %s\n", path,
                strerror(errno));
        return MD_EXIT_REFUSED;
    }
    return MD_EXIT_OK;
}

static void json_issues(md_json_t *j, const md_issues_t *l)
{
    md_json_begin_array(j, "issues");
    for (size_t i = 0; i < l->n; i++) {
        md_json_begin_object(j, NULL);
        md_json_uint(j, "row", l->items[i].row);
        md_json_string(j, "column", l->items[i].column);
        md_json_string(j, "message", l->items[i].message);
        md_json_end_object(j);
    }
    md_json_end_array(j);
}

static uint32_t reply_count(const Mentor__V1__ImportReply *r, const import_count_t *count)
{
    uint32_t v;
    memcpy(&v, (const char *)r + count->offset, sizeof(v));
    return v;
}

/* What the summary of a finished import says besides the server's reply. */
typedef struct {
    int dry_run;
    /* The file's problems stop it: nothing was (or, in a dry run, would
     * be) imported, so every count is 0. */
    int refused;
    uint64_t skipped;
    const char *invites_file; /* --invites, or NULL */
    size_t invites_written;
} outcome_t;

static int print_result(import_t *im, const Mentor__V1__ImportReply *r, const outcome_t *o)
{
    const import_kind_t *k = im->kind;
    int rc;
    if (im->c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_bool(&j, "applied", r->applied);
        md_json_bool(&j, "dry_run", o->dry_run);
        md_json_uint(&j, "rows", im->rows_read);
        for (size_t i = 0; i < k->ncounts; i++)
            md_json_uint(&j, k->counts[i].key, o->refused ? 0 : reply_count(r, &k->counts[i]));
        md_json_uint(&j, "skipped", o->skipped);
        json_issues(&j, &im->issues);
        if (o->invites_file != NULL) {
            /* The codes went to the file only: a document on stdout ends up
             * in logs and terminals. */
            md_json_string(&j, "invites_file", o->invites_file);
            md_json_uint(&j, "invites_written", o->invites_written);
        } else {
            md_json_begin_array(&j, "invites");
            for (size_t i = 0; i < r->n_invites; i++) {
                md_json_begin_object(&j, NULL);
                md_json_string(&j, "email", r->invites[i]->email);
                md_json_string(&j, "code", r->invites[i]->code);
                md_json_time(&j, "expires_at", r->invites[i]->expires_at);
                md_json_end_object(&j);
            }
            md_json_end_array(&j);
        }
        md_json_end_object(&j);
        rc = md_ctx_print_json(im->c, &j);
        md_json_free(&j);
        return rc;
    }
    char num[24];
    md_table_t t;
    md_table_init(&t, NULL, 2);
    snprintf(num, sizeof(num), "%llu", (unsigned long long)im->rows_read);
    md_table_add(&t, "rows", num);
    for (size_t i = 0; i < k->ncounts; i++) {
        snprintf(num, sizeof(num), "%u", o->refused ? 0 : reply_count(r, &k->counts[i]));
        md_table_add(&t, k->counts[i].label, num);
    }
    snprintf(num, sizeof(num), "%llu", (unsigned long long)o->skipped);
    md_table_add(&t, "skipped", num);
    md_table_add(&t, "applied", r->applied ? "yes" : o->dry_run ? "no (dry run)" : "no");
    if (o->dry_run)
        printf("dry run: nothing was written; the import would do this:\n");
    rc = md_ctx_print_kv(im->c, &t);
    md_table_free(&t);
    return rc;
}

static void print_invite_table(const Mentor__V1__ImportReply *r)
{
    static const char *const headers[] = {"EMAIL", "CODE", "EXPIRES"};
    md_table_t t;
    md_table_init(&t, headers, 3);
    for (size_t i = 0; i < r->n_invites; i++) {
        char expires[MD_TIME_LEN];
        md_table_add(&t, r->invites[i]->email, r->invites[i]->code,
                     md_time_text(r->invites[i]->expires_at, expires));
    }
    printf("\nInvitation codes (shown once; pass them on, or use --invites FILE):\n");
    if (md_table_print(&t, stdout) != MD_OK)
        fprintf(stderr, "mentorctl: out of memory while formatting the output\n");
    md_table_free(&t);
}

/* The file was refused before it could be sent whole: report why. */
static void print_refused(import_t *im, int dry_run)
{
    print_issues(&im->issues);
    if (im->c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_bool(&j, "applied", 0);
        md_json_bool(&j, "dry_run", dry_run);
        json_issues(&j, &im->issues);
        md_json_end_object(&j);
        (void)md_ctx_print_json(im->c, &j);
        md_json_free(&j);
    }
    fprintf(stderr, "mentorctl: nothing was imported\n");
}

/* Read the header record of rd. Returns MD_EXIT_OK, or MD_EXIT_REFUSED
 * with *refused set when the file's problems are in im->issues (and
 * unset when reading failed, which was reported). */
static int read_header(import_t *im, md_csv_reader_t *rd, const char *path, int *refused)
{
    int rrc = md_csv_read(rd);
    *refused = 1;
    if (rrc == MD_ENOTFOUND) {
        md_issues_add(&im->issues, 1, "", "the file is empty (expected a header row)");
    } else if (rrc == MD_EINVAL) {
        csv_issue(im, rd, 0);
    } else if (rrc != MD_OK) {
        fprintf(stderr, "mentorctl: cannot read %s: %s\n", path, strerror(errno));
        *refused = 0;
    } else if (im->kind->header(im, rd->fields, rd->nfields) == MD_OK) {
        *refused = 0;
        return MD_EXIT_OK;
    }
    return MD_EXIT_REFUSED;
}

/* The row just added to the batch (its last) is sized: refused when no
 * request could carry it, or else sent in the next batch when this one has
 * no room left for it. Returns an md_exit_t. */
static int fit_row(import_t *im, const md_csv_reader_t *rd)
{
    size_t last = im->nbatch - 1;
    size_t size = im->kind->row_size(im, last) + ROW_FRAMING;
    if (size > im->row_budget) {
        row_too_large(im, rd, size);
        im->kind->clear(im, last);
        im->nbatch = last;
        im->rows_bad++;
        return MD_EXIT_OK;
    }
    if (im->batch_bytes + size <= im->row_budget) {
        im->batch_bytes += size;
        return MD_EXIT_OK;
    }
    /* The rows before it go now; it starts the next batch, whether or
     * not the sending went well (so that it is freed either way). */
    im->nbatch = last;
    int rc = send_batch(im, 0, 0, 0, NULL);
    im->kind->move(im, last, 0);
    im->nbatch = 1;
    im->batch_bytes = size;
    if (rc == MD_EXIT_OK)
        progress(im, rd->consumed, 0);
    return rc;
}

/* Read, convert and send every record after the header. Returns an
 * md_exit_t, with *refused set when the file itself cannot be read to its
 * end (its problem is in im->issues). */
static int send_rows(import_t *im, md_csv_reader_t *rd, const char *path, int *refused)
{
    int rc = MD_EXIT_OK;
    *refused = 0;
    for (;;) {
        int rrc = md_csv_read(rd);
        if (rrc == MD_ENOTFOUND)
            break;
        if (rrc == MD_EINVAL) {
            /* The reader cannot go on after a broken record: stop, and let
             * the server forget the batches sent so far. */
            csv_issue(im, rd, 1);
            *refused = 1;
            return MD_EXIT_REFUSED;
        }
        if (rrc != MD_OK) {
            fprintf(stderr, "mentorctl: cannot read %s: %s\n", path, strerror(errno));
            return MD_EXIT_REFUSED;
        }
        im->rows_read++;
        int crc = im->kind->add(im, rd);
        if (crc == MD_ENOMEM || im->issues.err != MD_OK) {
            fprintf(stderr, "mentorctl: out of memory\n");
            return MD_EXIT_REFUSED;
        }
        if (crc != MD_OK) {
            im->rows_bad++;
            continue;
        }
        rc = fit_row(im, rd);
        if (rc != MD_EXIT_OK)
            return rc;
        if (im->issues.err != MD_OK) {
            fprintf(stderr, "mentorctl: out of memory\n");
            return MD_EXIT_REFUSED;
        }
        if (im->nbatch == BATCH_ROWS) {
            rc = send_batch(im, 0, 0, 0, NULL);
            if (rc != MD_EXIT_OK)
                return rc;
            progress(im, rd->consumed, 0);
        }
    }
    if (im->nbatch > 0) {
        rc = send_batch(im, 0, 0, 0, NULL);
        if (rc != MD_EXIT_OK)
            return rc;
    }
    progress(im, rd->consumed, 1);
    if (im->progress_shown && im->tty)
        fputc('\n', stderr);
    return MD_EXIT_OK;
}

/* Ask the server to check the whole file and apply it, then report: the
 * problems, the summary, the invitation codes. */
static int finish_import(import_t *im, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    outcome_t o;
    memset(&o, 0, sizeof(o));
    int skip_invalid = md_args_has(a, "skip-invalid");
    o.dry_run = md_args_has(a, "dry-run");
    o.invites_file = md_args_get(a, "invites");
    /* Rows mentorctl refused never reached the server, which would apply
     * the others: without --skip-invalid it is only asked to check. */
    int check_only = o.dry_run || (im->rows_bad > 0 && !skip_invalid);
    int rc = send_batch(im, 1, skip_invalid, check_only, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__ImportReply *r = im->kind->reply(msg);
    print_issues(&im->issues);
    /* Rows with problems, whoever found them: the list is sorted. Without
     * --skip-invalid one of them stops the whole file, in a dry run as in
     * the real one; the counts the server worked out when only mentorctl
     * saw the problems are then not what happens, and are not shown. */
    size_t bad = rows_with_issues(&im->issues);
    o.refused = bad > 0 && !skip_invalid;
    if (o.refused)
        fprintf(stderr,
                "mentorctl: nothing %s imported: %zu row%s with problems (fix them, or use "
                "--skip-invalid to import the others)\n",
                o.dry_run ? "would be" : "was", bad, bad == 1 ? "" : "s");
    else
        o.skipped = r->skipped + (skip_invalid ? im->rows_bad : 0);
    int wrc = MD_EXIT_OK;
    if (o.invites_file != NULL && r->n_invites > 0) {
        wrc = write_invites(o.invites_file, r);
        if (wrc == MD_EXIT_OK)
            o.invites_written = r->n_invites;
    }
    rc = print_result(im, r, &o);
    if (!im->c->json && o.invites_file == NULL && r->n_invites > 0) {
        print_invite_table(r);
    } else if (!im->c->json && o.invites_written > 0) {
        putchar('\n');
        md_out_line(stdout, "%zu invitation code%s written to %s", o.invites_written,
                    o.invites_written == 1 ? "" : "s", o.invites_file);
    }
    if (rc == MD_EXIT_OK)
        rc = wrc;
    if (rc == MD_EXIT_OK && (o.refused || (!o.dry_run && !r->applied)))
        rc = MD_EXIT_REFUSED;
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

/* The byte budget of the rows of one request, from the server's frame
 * limit (known once connected). */
static size_t row_budget(md_ctx_t *c)
{
    size_t frame = md_net_max_request(c->net);
    if (frame == 0)
        frame = DEFAULT_FRAME;
    size_t budget = frame / 4 < BATCH_BYTES ? frame / 4 : BATCH_BYTES;
    return budget > 2 * REQUEST_RESERVE ? budget - REQUEST_RESERVE : REQUEST_RESERVE;
}

/* The whole import of the file a names (its one positional argument; "-"
 * for standard input). im has its kind and, for participants, program. */
static int run_import(import_t *im, const md_args_t *a)
{
    md_csv_reader_t *rd = NULL;
    const char *path = a->pos[0];
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    int refused = 0;
    int rc;
    if (f == NULL) {
        fprintf(stderr, "mentorctl: cannot open %s: %s\n", path, strerror(errno));
        rc = MD_EXIT_USAGE;
        goto cleanup;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
        im->file_size = st.st_size;
    im->tty = isatty(STDERR_FILENO);
    rd = malloc(sizeof(*rd));
    if (rd == NULL || new_import_id(im->import_id) != MD_OK) {
        fprintf(stderr, "mentorctl: out of memory\n");
        rc = MD_EXIT_REFUSED;
        goto cleanup;
    }
    md_csv_reader_init(rd, f);

    /* The header is checked before connecting: a wrong file needs no
     * server to be refused. */
    rc = read_header(im, rd, path, &refused);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_connect(im->c, 1);
    if (rc == MD_EXIT_OK) {
        im->row_budget = row_budget(im->c);
        rc = send_rows(im, rd, path, &refused);
    }
    if (rc == MD_EXIT_OK)
        rc = finish_import(im, a);
    else if (refused)
        print_refused(im, md_args_has(a, "dry-run"));

cleanup:
    batch_clear(im);
    if (rd != NULL)
        md_csv_reader_free(rd);
    free(rd);
    if (f != NULL && f != stdin)
        fclose(f);
    md_issues_free(&im->issues);
    return rc;
}

static void import_init(import_t *im, md_ctx_t *c, const import_kind_t *kind)
{
    memset(im, 0, sizeof(*im));
    im->kind = kind;
    im->c = c;
    md_issues_init(&im->issues);
}

/* ------------------------------------------------------------------ */
/* Participants of a program */

static int participants_header(import_t *im, char *const *cells, size_t n)
{
    int rc = md_roster_header(&im->header.participants, cells, n, &im->issues);
    if (rc == MD_OK)
        im->ncolumns = md_roster_fields(&im->header.participants, im->columns);
    return rc;
}

static const char *participants_column(const import_t *im, uint32_t col)
{
    const md_roster_header_t *h = &im->header.participants;
    return col <= h->n ? md_roster_col_name(h->col[col - 1]) : NULL;
}

static int participants_add(import_t *im, const md_csv_reader_t *rd)
{
    Mentor__V1__ImportRow *row = NULL;
    int rc = md_roster_row(&im->header.participants, rd->row, rd->fields, rd->nfields, &im->issues,
                           &row);
    if (rc == MD_OK)
        im->batch.participants[im->nbatch++] = row;
    return rc;
}

static void participants_clear(import_t *im, size_t from)
{
    for (size_t i = from; i < im->nbatch; i++)
        mentor__v1__import_row__free_unpacked(im->batch.participants[i], NULL);
}

static size_t participants_row_size(const import_t *im, size_t i)
{
    return mentor__v1__import_row__get_packed_size(im->batch.participants[i]);
}

static void participants_move(import_t *im, size_t from, size_t to)
{
    im->batch.participants[to] = im->batch.participants[from];
}

static int participants_call(import_t *im, int finish, int skip_invalid, int dry_run,
                             Mentor__V1__ServerMessage **msg)
{
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__ParticipantImport pi = MENTOR__V1__PARTICIPANT_IMPORT__INIT;
    pi.program_id = im->program;
    pi.import_id = im->import_id;
    pi.rows = im->batch.participants;
    pi.n_rows = im->nbatch;
    pi.finish = finish;
    pi.skip_invalid = skip_invalid;
    pi.dry_run = dry_run;
    /* Only the final request applies them, but every request names the
     * fields: the server checks the names with the first batch, not after
     * the whole file was sent. */
    pi.columns = (char **)im->columns;
    pi.n_columns = im->ncolumns;
    pi.columns_given = 1;
    req.kind_case = MENTOR__V1__REQUEST__KIND_PARTICIPANT_IMPORT;
    req.participant_import = &pi;
    return md_ctx_call(im->c, &req, MENTOR__V1__RESPONSE__RESULT_PARTICIPANT_IMPORT, msg);
}

static const Mentor__V1__ImportReply *participants_reply(const Mentor__V1__ServerMessage *msg)
{
    return msg->response->participant_import;
}

#define OFFSET(field) offsetof(Mentor__V1__ImportReply, field)

static const import_count_t participants_counts[] = {
    {"users_created", "users created", OFFSET(users_created)},
    {"enrolled", "enrolled", OFFSET(enrolled)},
    {"updated", "updated", OFFSET(updated)},
    {"unchanged", "unchanged", OFFSET(unchanged)},
};

static const import_kind_t participants_kind = {
    .header = participants_header,
    .column = participants_column,
    .add = participants_add,
    .clear = participants_clear,
    .row_size = participants_row_size,
    .move = participants_move,
    .call = participants_call,
    .reply = participants_reply,
    .counts = participants_counts,
    .ncounts = sizeof(participants_counts) / sizeof(participants_counts[0]),
};

int md_cmd_import_participants(md_ctx_t *c, const md_args_t *a)
{
    import_t im;
    import_init(&im, c, &participants_kind);
    int rc = md_ctx_parse_id(c, md_args_get(a, "program"), "program", &im.program);
    if (rc != MD_EXIT_OK)
        return rc;
    return run_import(&im, a);
}

/* ------------------------------------------------------------------ */
/* Users from the HR directory */

static int users_header(import_t *im, char *const *cells, size_t n)
{
    return md_directory_header(&im->header.users, cells, n, &im->issues);
}

static const char *users_column(const import_t *im, uint32_t col)
{
    const md_directory_header_t *h = &im->header.users;
    return col <= h->n ? md_directory_col_name(h->col[col - 1]) : NULL;
}

static int users_add(import_t *im, const md_csv_reader_t *rd)
{
    Mentor__V1__DirectoryRow *row = NULL;
    int rc =
        md_directory_row(&im->header.users, rd->row, rd->fields, rd->nfields, &im->issues, &row);
    if (rc == MD_OK)
        im->batch.users[im->nbatch++] = row;
    return rc;
}

static void users_clear(import_t *im, size_t from)
{
    for (size_t i = from; i < im->nbatch; i++)
        mentor__v1__directory_row__free_unpacked(im->batch.users[i], NULL);
}

static size_t users_row_size(const import_t *im, size_t i)
{
    return mentor__v1__directory_row__get_packed_size(im->batch.users[i]);
}

static void users_move(import_t *im, size_t from, size_t to)
{
    im->batch.users[to] = im->batch.users[from];
}

static int users_call(import_t *im, int finish, int skip_invalid, int dry_run,
                      Mentor__V1__ServerMessage **msg)
{
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__UserImport ui = MENTOR__V1__USER_IMPORT__INIT;
    ui.import_id = im->import_id;
    ui.rows = im->batch.users;
    ui.n_rows = im->nbatch;
    ui.finish = finish;
    ui.skip_invalid = skip_invalid;
    ui.dry_run = dry_run;
    req.kind_case = MENTOR__V1__REQUEST__KIND_USER_IMPORT;
    req.user_import = &ui;
    return md_ctx_call(im->c, &req, MENTOR__V1__RESPONSE__RESULT_USER_IMPORT, msg);
}

static const Mentor__V1__ImportReply *users_reply(const Mentor__V1__ServerMessage *msg)
{
    return msg->response->user_import;
}

static const import_count_t users_counts[] = {
    {"users_created", "users created", OFFSET(users_created)},
    {"updated", "updated", OFFSET(updated)},
    {"unchanged", "unchanged", OFFSET(unchanged)},
    {"deactivated", "deactivated", OFFSET(deactivated)},
    {"on_leave", "on leave", OFFSET(on_leave)},
};

static const import_kind_t users_kind = {
    .header = users_header,
    .column = users_column,
    .add = users_add,
    .clear = users_clear,
    .row_size = users_row_size,
    .move = users_move,
    .call = users_call,
    .reply = users_reply,
    .counts = users_counts,
    .ncounts = sizeof(users_counts) / sizeof(users_counts[0]),
};

int md_cmd_import_users(md_ctx_t *c, const md_args_t *a)
{
    import_t im;
    import_init(&im, c, &users_kind);
    return run_import(&im, a);
}

/* ------------------------------------------------------------------ */
/* Export */

/* The e-mail of each manager named by the participants: UserList (which
 * the program's admins and coordinators may use) knows them all. */
static int manager_emails(md_ctx_t *c, const Mentor__V1__ParticipantListReply *l,
                          Mentor__V1__ServerMessage **users)
{
    int any = 0;
    *users = NULL;
    for (size_t i = 0; i < l->n_participants && !any; i++)
        any = l->participants[i]->profile != NULL && l->participants[i]->profile->manager_id != 0;
    if (!any)
        return MD_EXIT_OK;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__UserList list = MENTOR__V1__USER_LIST__INIT;
    list.include_inactive = 1;
    req.kind_case = MENTOR__V1__REQUEST__KIND_USER_LIST;
    req.user_list = &list;
    return md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_USER_LIST, users);
}

static const char *manager_of(const Mentor__V1__Participant *p,
                              const Mentor__V1__ServerMessage *users)
{
    uint64_t id = p->profile != NULL ? p->profile->manager_id : 0;
    if (id == 0 || users == NULL)
        return "";
    const Mentor__V1__UserListReply *l = users->response->user_list;
    for (size_t i = 0; i < l->n_users; i++) {
        if (l->users[i]->id == id)
            return l->users[i]->email;
    }
    md_out_line(stderr, "mentorctl: warning: %s: manager %llu not found; left empty", p->email,
                (unsigned long long)id);
    return "";
}

static int export_csv(md_ctx_t *c, const Mentor__V1__ParticipantListReply *l, FILE *out)
{
    Mentor__V1__ServerMessage *users = NULL;
    const char *header[MD_RC_COUNT];
    const char *cells[MD_RC_COUNT];
    md_buf_t line;
    md_buf_t cellbuf;
    int rc = manager_emails(c, l, &users);
    if (rc != MD_EXIT_OK)
        return rc;
    md_buf_init(&line);
    md_buf_init(&cellbuf);
    for (int i = 0; i < MD_RC_COUNT; i++)
        header[i] = md_roster_col_name(i);
    int brc = md_csv_record(&line, header, MD_RC_COUNT);
    for (size_t i = 0; i < l->n_participants && brc == MD_OK; i++) {
        const Mentor__V1__Participant *p = l->participants[i];
        brc = md_roster_cells(p, manager_of(p, users), &cellbuf, cells);
        if (brc == MD_OK)
            brc = md_csv_record(&line, cells, MD_RC_COUNT);
    }
    if (brc != MD_OK) {
        fprintf(stderr, "mentorctl: out of memory\n");
        rc = MD_EXIT_REFUSED;
    } else if (fwrite(line.data, 1, line.len, out) != line.len) {
        rc = MD_EXIT_REFUSED;
    }
    md_buf_free(&line);
    md_buf_free(&cellbuf);
    if (users != NULL)
        mentor__v1__server_message__free_unpacked(users, NULL);
    return rc;
}

int md_cmd_export_participants(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    const char *output = md_args_get(a, "output");
    uint64_t program = 0;
    FILE *out = stdout;
    int as_json = c->json || md_args_has(a, "json");
    int rc = md_ctx_parse_id(c, md_args_get(a, "program"), "program", &program);
    if (rc != MD_EXIT_OK)
        return rc;
    if (md_args_has(a, "csv") && md_args_has(a, "json"))
        return md_ctx_usage(c, "give either --csv or --json, not both");
    if (md_args_has(a, "csv"))
        as_json = 0;
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__ParticipantList list = MENTOR__V1__PARTICIPANT_LIST__INIT;
    list.program_id = program;
    req.kind_case = MENTOR__V1__REQUEST__KIND_PARTICIPANT_LIST;
    req.participant_list = &list;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_PARTICIPANT_LIST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__ParticipantListReply *l = msg->response->participant_list;
    if (output != NULL && strcmp(output, "-") != 0) {
        /* Profiles are personal data: the file is the user's alone. */
        int fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        out = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (out == NULL) {
            fprintf(stderr, "mentorctl: cannot write %s: %s\n", output, strerror(errno));
            if (fd >= 0)
                close(fd);
            mentor__v1__server_message__free_unpacked(msg, NULL);
            return MD_EXIT_REFUSED;
        }
    }
    if (as_json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_begin_array(&j, "participants");
        for (size_t i = 0; i < l->n_participants; i++)
            md_json_participant(&j, NULL, l->participants[i]);
        md_json_end_array(&j);
        md_json_end_object(&j);
        const char *doc = md_json_finish(&j);
        if (doc == NULL || fprintf(out, "%s\n", doc) < 0)
            rc = MD_EXIT_REFUSED;
        md_json_free(&j);
    } else {
        rc = export_csv(c, l, out);
    }
    if (out != stdout && fclose(out) != 0)
        rc = MD_EXIT_REFUSED;
    if (rc != MD_EXIT_OK && out != stdout)
        fprintf(stderr, "mentorctl: writing %s failed\n", output);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}
