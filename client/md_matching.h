/* md_matching.h: what mentorctl knows about matching, apart from talking to the
 * server: the names of solvers, proposal statuses, objectives and match
 * modes as users type and read them, scores as points, and the renderers
 * of proposals, explanations, runs, preferences, suggestions and pairs in
 * both output modes (tables and key/value blocks for people, JSON with the
 * protocol's field names for scripts). All of it is pure, so the unit tests
 * cover it without a server. */
#ifndef MD_MATCHING_H
#define MD_MATCHING_H

#include <stddef.h>
#include <stdint.h>

#include "md_output.h"
#include "mentor.pb-c.h"

/* "optimal" (also for MATCH_SOLVER_UNSPECIFIED, which the server runs as
 * optimal) and "stable". Parsing ignores case; MD_EINVAL when unknown. */
const char *md_solver_name(int solver);
MD_WUR int md_solver_parse(const char *s, int *solver);
/* "proposed", "paired", "declined", "rejected", "superseded", "expired",
 * "withdrawn"; "unspecified" otherwise. */
const char *md_proposal_status_name(int status);
MD_WUR int md_proposal_status_parse(const char *s, int *status);
/* "participation", "score"; "unspecified" otherwise. */
const char *md_matching_objective_name(int objective);
MD_WUR int md_matching_objective_parse(const char *s, int *objective);
/* "admin" (ADMIN_LED), "self" (SELF_MATCH); "unspecified" otherwise. */
const char *md_matching_mode_name(int mode);
MD_WUR int md_matching_mode_parse(const char *s, int *mode);

/* Room for any score text, NUL included. */
#define MD_SCORE_LEN 24

/* Hundredths of a point as points with two decimals: 8735 is "87.35",
 * -5 is "-0.05". Scores, factor values and contributions all use it. */
const char *md_score_text(int64_t hundredths, char buf[MD_SCORE_LEN]);
/* The k factors with the largest contributions, largest first (ties keep
 * the order given), as "skills 30.1, goals 12.0": contributions in points
 * rounded to one decimal. Factors contributing nothing are left out;
 * nothing is appended when none is left. */
void md_factors_text(Mentor__V1__MatchFactor *const *factors, size_t n, size_t k, md_str_t *out);
/* The proposal's flags that are set, in this order: "pinned, approved,
 * mentee ok, mentor ok, requested". Nothing is appended when none is. */
void md_proposal_flags_text(const Mentor__V1__MatchProposal *p, md_str_t *out);

/* JSON renderers: one object under key (NULL for an array element). Scores,
 * values and contributions are the protocol's integers (hundredths of a
 * point), enums lowercase names, times RFC 3339 or null when unset. */
void md_json_factor(md_json_t *j, const char *key, const Mentor__V1__MatchFactor *f);
void md_json_proposal(md_json_t *j, const char *key, const Mentor__V1__MatchProposal *p);
void md_json_run(md_json_t *j, const char *key, const Mentor__V1__MatchRunInfo *r);
void md_json_explanation(md_json_t *j, const char *key, const Mentor__V1__MatchExplainReply *e);
void md_json_preference(md_json_t *j, const char *key, const Mentor__V1__MatchPreference *p);
void md_json_suggestion(md_json_t *j, const char *key, const Mentor__V1__MatchSuggestion *s);
void md_json_pair(md_json_t *j, const char *key, const Mentor__V1__Pair *p);

/* Key/value blocks for one object. md_kv_explanation gives the head of
 * an explanation (names, score, pin, blocking rules); its factors are a
 * table of their own (md_factor_table_init). */
void md_kv_proposal(md_table_t *t, const Mentor__V1__MatchProposal *p);
void md_kv_run(md_table_t *t, const Mentor__V1__MatchRunInfo *r);
void md_kv_explanation(md_table_t *t, const Mentor__V1__MatchExplainReply *e);
void md_kv_pair(md_table_t *t, const Mentor__V1__Pair *p);

/* Tables for lists: each _init sets the headers, each _add one row. */
void md_proposal_table_init(md_table_t *t);
void md_proposal_table_add(md_table_t *t, const Mentor__V1__MatchProposal *p);
/* FACTOR WEIGHT VALUE POINTS DETAIL, a neutral factor marked in DETAIL. */
void md_factor_table_init(md_table_t *t);
void md_factor_table_add(md_table_t *t, const Mentor__V1__MatchFactor *f);
void md_run_table_init(md_table_t *t);
void md_run_table_add(md_table_t *t, const Mentor__V1__MatchRunInfo *r);
void md_preference_table_init(md_table_t *t);
void md_preference_table_add(md_table_t *t, const Mentor__V1__MatchPreference *p);
void md_suggestion_table_init(md_table_t *t);
void md_suggestion_table_add(md_table_t *t, const Mentor__V1__MatchSuggestion *s);
void md_pair_table_init(md_table_t *t);
void md_pair_table_add(md_table_t *t, const Mentor__V1__Pair *p);

#endif
