/* report: the output records of tte-fit (curve, item, passk, correlation, sizes; see tte-fit(1)). */
#ifndef TTE_FIT_REPORT_H
#define TTE_FIT_REPORT_H

#include "data.h"

#include <stdint.h>
#include <stdio.h>

typedef struct {
    int metric[TTE_METRIC_N]; /* which metrics to report */
    int bootstrap;            /* resamples; 0: no bands */
    uint64_t seed;
    double level; /* of the bootstrap band */
    int legacy;   /* breakthroughness is the study's median-squared variant */
    int top;      /* item records per group and metric; 0: all */
} fit_options;

/* What later records need from a group: per metric, the curve's mean at each of the group's budgets
 * and each item's breakthroughness (NAN where there is none). Freed by summary_free. */
typedef struct {
    double *mean[TTE_METRIC_N];
    double *item_score[TTE_METRIC_N];
} group_summary;

/* Each returns 0, or -1 on a write error (errno set); out of memory exits (xalloc.h). */
int report_group(FILE *out, const fitdata *d, int gi, const fit_options *o, group_summary *s);
int report_correlations(FILE *out, const fitdata *d, const group_summary *s, const fit_options *o);
int report_sizes(FILE *out, const fitdata *d, const group_summary *s, const fit_options *o);
void summary_free(group_summary *s);

#endif
