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
/* What a curve's x axis is (--x): the records' setting, budget or n, or their cost (compute.h):
 * tokens generated, FLOPs or bytes, the PRM's added when the records have it. A cost axis keys the
 * cells by budget, or by n for records without one (a search), and places each at the mean cost. */
typedef enum { X_BUDGET, X_N, X_TOKENS, X_FLOPS, X_BYTES } x_axis;
const char *x_axis_name(x_axis a);

typedef struct {
    long long budget; /* the cell's key: the budget, or n (x_axis) */
    double cost_sum;  /* of the records' cost, on a cost axis */
    int cost_n;
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
    x_axis x;
    group *groups; /* in order of first appearance */
    int ngroups, cap;
    tte_strmap group_index;
    long long arrivals;              /* records read, to order samples without a "sample" field */
    long long present[TTE_METRIC_N]; /* records with a value of each metric */
    /* Where each record with a "sample" came from, to name both lines of a repeat: */
    tte_strmap seen; /* group, budget, sample, id -> index into where */
    struct {
        int file; /* into files */
        long line;
    } * where;
    int nwhere, cap_where;
    char **files; /* the input names, in order */
    int nfiles;
    long last_line; /* of the record read last */
} fitdata;

/* Adds one scored record. Returns 0, or -1 after tte_jsonl_fail (a located message) on a bad field
 * or on a record that repeats an earlier one (the same group, id, budget and sample: it would be
 * counted twice), naming both lines. */
int fitdata_add(fitdata *d, tte_jsonl *r, json_t *rec);
/* Sorts each group's budgets and each cell's samples; call once after the last record. */
void fitdata_finish(fitdata *d);
void fitdata_free(fitdata *d);
/* 0 when a record has a value of one of the metrics selected in METRIC[TTE_METRIC_N]; else -1 with
 * the message in ERR: no record at all, or none of them scored. */
int fitdata_usable(const fitdata *d, const int *metric, char *err, size_t errlen);

/* The index of BUDGET in G's sorted budgets, or -1. */
int group_budget_index(const group *g, long long budget);
/* Where G's J-th budget sits on D's x axis: the budget (or n) itself, or its cells' mean cost. */
double group_x(const fitdata *d, const group *g, int j);

#endif
