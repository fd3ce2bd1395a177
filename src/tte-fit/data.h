/* data: the scored records of one run of tte-fit, collected by group, item and budget.
 *
 * read.c fills it from the input; report.c turns it into output records. Every string is owned by
 * the structure and freed by fitdata_free. */
#ifndef TTE_FIT_DATA_H
#define TTE_FIT_DATA_H

#include "jsonl.h"
#include "records.h"
#include "strmap.h"

typedef struct {
    long long index; /* the record's "sample", or its order of arrival when it has none */
    int correct;     /* -1: the record has no "correct" */
    char *pred;      /* NULL: no answer */
    double prm;      /* the record's "prm_score" (tte-score --prm); NAN: none */
} sample;

/* One item at one budget: the samples' metric values and, for pass@k, the samples themselves. */
typedef struct {
    long long budget;
    double sum[TTE_METRIC_N];
    int count[TTE_METRIC_N];
    sample *samples;
    int nsamples, cap;
} cell;

typedef struct {
    char *id;
    cell *cells; /* in order of arrival; few budgets, searched linearly */
    int ncells, cap;
} item;

typedef struct {
    json_t *key;         /* the --by fields' values, an object (null for a record without one) */
    char *model;         /* the "model" value as a string, or NULL */
    double model_params; /* from the first record that has "model_params" */
    int has_params;
    long long *budgets; /* every budget seen in the group, sorted (fitdata_finish) */
    int nbudgets;
    item *items;
    int nitems, cap;
    tte_strmap item_index;
} group;

typedef struct {
    char **by; /* the grouping fields */
    int nby;
    group *groups; /* in order of first appearance */
    int ngroups, cap;
    tte_strmap group_index;
    long long arrivals; /* records read, to order samples without a "sample" field */
} fitdata;

/* Adds one scored record. Returns 0, or -1 after tte_jsonl_fail (a located message) on a bad field. */
int fitdata_add(fitdata *d, tte_jsonl *r, json_t *rec);
/* Sorts each group's budgets and each cell's samples; call once after the last record. */
void fitdata_finish(fitdata *d);
void fitdata_free(fitdata *d);

/* The index of BUDGET in G's sorted budgets, or -1. */
int group_budget_index(const group *g, long long budget);

#endif
