/* cmd_import.c: the "import" and "export" command groups: a program's
 * participants to and from a CSV file (format in md_roster.h and the
 * README). Import streams the file: records are read, converted and sent
 * in batches of BATCH_ROWS under one random import id, so memory stays
 * bounded however long the file is; a final request asks the server to
 * check the file as a whole and apply it. A record the client itself
 * cannot read is never sent; unless --skip-invalid was given, its
 * presence turns the final request into a dry run, so that the server
 * still reports everything it finds but nothing is written. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "md_cmd.h"
#include "md_csv.h"
#include "md_roster.h"

#define BATCH_ROWS    500
#define PROGRESS_FROM 1000

typedef struct {
    md_ctx_t *c;
    uint64_t program;
    char import_id[33];
    md_issues_t issues;
    Mentor__V1__ImportRow *batch[BATCH_ROWS];
    size_t nbatch;
    uint64_t rows_read; /* records after the header */
    uint64_t rows_bad;  /* records refused by the client */
    uint64_t rows_sent;
    off_t file_size; /* 0 when unknown (not a regular file) */
    int tty;
    int progress_shown;
} import_t;

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
    for (size_t i = 0; i < im->nbatch; i++)
        mentor__v1__import_row__free_unpacked(im->batch[i], NULL);
    im->nbatch = 0;
}

static void progress(import_t *im, uint64_t consumed)
{
    if (im->rows_read <= PROGRESS_FROM)
        return;
    im->progress_shown = 1;
    if (!im->tty) {
        fprintf(stderr, "imported %llu rows\n", (unsigned long long)im->rows_read);
        return;
    }
    if (im->file_size > 0) {
        uint64_t pct = consumed * 100 / (uint64_t)im->file_size;
        if (pct > 100)
            pct = 100;
        int fill = (int)pct * 30 / 100;
        fprintf(stderr, "\r[%.*s%*s] %3d%% %llu rows", fill, "##############################",
                30 - fill, "", (int)pct, (unsigned long long)im->rows_read);
    } else {
        fprintf(stderr, "\r%llu rows", (unsigned long long)im->rows_read);
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
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__ParticipantImport pi = MENTOR__V1__PARTICIPANT_IMPORT__INIT;
    pi.program_id = im->program;
    pi.import_id = im->import_id;
    pi.rows = im->batch;
    pi.n_rows = im->nbatch;
    pi.finish = finish;
    pi.skip_invalid = skip_invalid;
    pi.dry_run = dry_run;
    req.kind_case = MENTOR__V1__REQUEST__KIND_PARTICIPANT_IMPORT;
    req.participant_import = &pi;
    int rc = md_ctx_call(im->c, &req, MENTOR__V1__RESPONSE__RESULT_PARTICIPANT_IMPORT, &m);
    im->rows_sent += im->nbatch;
    batch_clear(im);
    if (rc != MD_EXIT_OK)
        return rc;
    add_reply_issues(im, m->response->participant_import);
    if (msg != NULL)
        *msg = m;
    else
        mentor__v1__server_message__free_unpacked(m, NULL);
    return MD_EXIT_OK;
}

/* Print the issues as "row N, column C: message", sorted by row. */
static void print_issues(md_issues_t *l)
{
    md_issues_sort(l);
    for (size_t i = 0; i < l->n; i++) {
        const md_issue_t *it = &l->items[i];
        if (it->column[0] != '\0')
            md_out_line(stderr, "row %u, column %s: %s", it->row, it->column, it->message);
        else
            md_out_line(stderr, "row %u: %s", it->row, it->message);
    }
}

/* A CSV problem names the column by its header name when it can. */
static void csv_issue(import_t *im, const md_csv_reader_t *r, const md_roster_header_t *h)
{
    char column[24] = "";
    const char *name = column;
    uint32_t col = r->err_column;
    if (col > 0 && h != NULL && col <= h->n)
        name = md_roster_col_name(h->col[col - 1]);
    else if (col > 0)
        snprintf(column, sizeof(column), "%u", col);
    md_issues_add(&im->issues, r->err_row, name != NULL ? name : "", "%s", r->err);
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

static int print_result(import_t *im, const Mentor__V1__ImportReply *r, int dry_run,
                        uint64_t skipped)
{
    int rc;
    if (im->c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_bool(&j, "applied", r->applied);
        md_json_bool(&j, "dry_run", dry_run);
        md_json_uint(&j, "rows", im->rows_read);
        md_json_uint(&j, "users_created", r->users_created);
        md_json_uint(&j, "enrolled", r->enrolled);
        md_json_uint(&j, "updated", r->updated);
        md_json_uint(&j, "unchanged", r->unchanged);
        md_json_uint(&j, "skipped", skipped);
        md_json_begin_array(&j, "issues");
        for (size_t i = 0; i < im->issues.n; i++) {
            md_json_begin_object(&j, NULL);
            md_json_uint(&j, "row", im->issues.items[i].row);
            md_json_string(&j, "column", im->issues.items[i].column);
            md_json_string(&j, "message", im->issues.items[i].message);
            md_json_end_object(&j);
        }
        md_json_end_array(&j);
        md_json_begin_array(&j, "invites");
        for (size_t i = 0; i < r->n_invites; i++) {
            md_json_begin_object(&j, NULL);
            md_json_string(&j, "email", r->invites[i]->email);
            md_json_string(&j, "code", r->invites[i]->code);
            md_json_time(&j, "expires_at", r->invites[i]->expires_at);
            md_json_end_object(&j);
        }
        md_json_end_array(&j);
        md_json_end_object(&j);
        rc = md_ctx_print_json(im->c, &j);
        md_json_free(&j);
        return rc;
    }
    char num[6][24];
    md_table_t t;
    md_table_init(&t, NULL, 2);
    snprintf(num[0], sizeof(num[0]), "%llu", (unsigned long long)im->rows_read);
    snprintf(num[1], sizeof(num[1]), "%u", r->users_created);
    snprintf(num[2], sizeof(num[2]), "%u", r->enrolled);
    snprintf(num[3], sizeof(num[3]), "%u", r->updated);
    snprintf(num[4], sizeof(num[4]), "%u", r->unchanged);
    snprintf(num[5], sizeof(num[5]), "%llu", (unsigned long long)skipped);
    md_table_add(&t, "rows", num[0]);
    md_table_add(&t, "users created", num[1]);
    md_table_add(&t, "enrolled", num[2]);
    md_table_add(&t, "updated", num[3]);
    md_table_add(&t, "unchanged", num[4]);
    md_table_add(&t, "skipped", num[5]);
    md_table_add(&t, "applied", r->applied ? "yes" : dry_run ? "no (dry run)" : "no");
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

int md_cmd_import_participants(md_ctx_t *c, const md_args_t *a)
{
    import_t im;
    md_csv_reader_t *rd = NULL;
    md_roster_header_t *h = NULL;
    Mentor__V1__ServerMessage *msg = NULL;
    const char *path = a->pos[0];
    const char *invites = md_args_get(a, "invites");
    int skip_invalid = md_args_has(a, "skip-invalid");
    int dry_run = md_args_has(a, "dry-run");
    FILE *f = NULL;
    int rc;
    memset(&im, 0, sizeof(im));
    im.c = c;
    md_issues_init(&im.issues);
    rc = md_ctx_parse_id(c, md_args_get(a, "program"), "program", &im.program);
    if (rc != MD_EXIT_OK)
        goto cleanup;
    f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "mentorctl: cannot open %s: %s\n", path, strerror(errno));
        rc = MD_EXIT_USAGE;
        goto cleanup;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
        im.file_size = st.st_size;
    im.tty = isatty(STDERR_FILENO);
    rd = malloc(sizeof(*rd));
    h = malloc(sizeof(*h));
    if (rd == NULL || h == NULL || new_import_id(im.import_id) != MD_OK) {
        fprintf(stderr, "mentorctl: out of memory\n");
        rc = MD_EXIT_REFUSED;
        goto cleanup;
    }
    md_csv_reader_init(rd, f);

    /* The header is checked before connecting: a wrong file needs no
     * server to be refused. */
    int rrc = md_csv_read(rd);
    if (rrc == MD_ENOTFOUND) {
        md_issues_add(&im.issues, 1, "", "the file is empty (expected a header row)");
    } else if (rrc == MD_EINVAL) {
        csv_issue(&im, rd, NULL);
    } else if (rrc != MD_OK) {
        fprintf(stderr, "mentorctl: cannot read %s: %s\n", path, strerror(errno));
        rc = MD_EXIT_REFUSED;
        goto cleanup;
    } else if (md_roster_header(h, rd->fields, rd->nfields, &im.issues) != MD_OK) {
        rrc = MD_EINVAL;
    }
    if (rrc != MD_OK) {
        rc = MD_EXIT_REFUSED;
        goto report;
    }
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        goto cleanup;

    for (;;) {
        rrc = md_csv_read(rd);
        if (rrc == MD_ENOTFOUND)
            break;
        if (rrc == MD_EINVAL) {
            /* The reader cannot go on after a broken record: stop, and let
             * the server forget the batches sent so far. */
            csv_issue(&im, rd, h);
            rc = MD_EXIT_REFUSED;
            goto report;
        }
        if (rrc != MD_OK) {
            fprintf(stderr, "mentorctl: cannot read %s: %s\n", path, strerror(errno));
            rc = MD_EXIT_REFUSED;
            goto cleanup;
        }
        im.rows_read++;
        Mentor__V1__ImportRow *row = NULL;
        int crc = md_roster_row(h, rd->row, rd->fields, rd->nfields, &im.issues, &row);
        if (crc == MD_ENOMEM || im.issues.err != MD_OK) {
            fprintf(stderr, "mentorctl: out of memory\n");
            rc = MD_EXIT_REFUSED;
            goto cleanup;
        }
        if (crc != MD_OK) {
            im.rows_bad++;
            continue;
        }
        im.batch[im.nbatch++] = row;
        if (im.nbatch == BATCH_ROWS) {
            rc = send_batch(&im, 0, 0, 0, NULL);
            if (rc != MD_EXIT_OK)
                goto cleanup;
            progress(&im, rd->consumed);
        }
    }
    if (im.nbatch > 0) {
        rc = send_batch(&im, 0, 0, 0, NULL);
        if (rc != MD_EXIT_OK)
            goto cleanup;
        progress(&im, rd->consumed);
    }
    if (im.progress_shown && im.tty)
        fputc('\n', stderr);

    int check_only = dry_run || (im.rows_bad > 0 && !skip_invalid);
    rc = send_batch(&im, 1, skip_invalid, check_only, &msg);
    if (rc != MD_EXIT_OK)
        goto cleanup;
    const Mentor__V1__ImportReply *r = msg->response->participant_import;
    uint64_t skipped = r->skipped + (skip_invalid ? im.rows_bad : 0);
    md_issues_sort(&im.issues);
    print_issues(&im.issues);
    if (im.rows_bad > 0 && !skip_invalid && !dry_run)
        fprintf(stderr,
                "mentorctl: nothing was imported: %llu row%s with problems (fix them, or "
                "use --skip-invalid to import the others)\n",
                (unsigned long long)im.rows_bad, im.rows_bad == 1 ? "" : "s");
    rc = print_result(&im, r, dry_run, skipped);
    if (r->n_invites > 0) {
        int wrc = MD_EXIT_OK;
        if (invites != NULL)
            wrc = write_invites(invites, r);
        else if (!c->json)
            print_invite_table(r);
        if (wrc != MD_EXIT_OK)
            rc = wrc;
    }
    if (rc == MD_EXIT_OK && im.issues.n > 0 && !r->applied)
        rc = MD_EXIT_REFUSED;
    goto cleanup;

report:
    print_issues(&im.issues);
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_bool(&j, "applied", 0);
        md_json_begin_array(&j, "issues");
        for (size_t i = 0; i < im.issues.n; i++) {
            md_json_begin_object(&j, NULL);
            md_json_uint(&j, "row", im.issues.items[i].row);
            md_json_string(&j, "column", im.issues.items[i].column);
            md_json_string(&j, "message", im.issues.items[i].message);
            md_json_end_object(&j);
        }
        md_json_end_array(&j);
        md_json_end_object(&j);
        (void)md_ctx_print_json(c, &j);
        md_json_free(&j);
    }
    fprintf(stderr, "mentorctl: nothing was imported\n");

cleanup:
    if (msg != NULL)
        mentor__v1__server_message__free_unpacked(msg, NULL);
    batch_clear(&im);
    if (rd != NULL)
        md_csv_reader_free(rd);
    free(rd);
    free(h);
    if (f != NULL && f != stdin)
        fclose(f);
    md_issues_free(&im.issues);
    return rc;
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
