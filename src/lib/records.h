/* records: the contract between the tools, in one place. man/tte.7 is the user's copy of it, with
 * every field; this header holds the names and values that more than one tool uses.
 *
 * The pipeline, and the record each tool writes (one JSON object per line):
 *
 *   tte-fetch   item        {"id","dataset","problem","answer","answer_type","choices","prompt",...}
 *   tte-gen     generation  the item, plus "model","budget","sample","text","final","ended",...:
 *                           one per item, sample and thinking budget; at the budget the thinking is
 *                           closed with TTE_END_THINKING_DEFAULT, and an early end is replaced by
 *                           TTE_CONTINUE_PHRASE_DEFAULT (budget forcing, man/tte-gen.1)
 *   tte-score   scored      the generation, plus "pred","correct" (grading) and, with a model, the
 *                           continuous metric "p_gold","p_gold_norm","logp_gold","entropy_nats",...
 *   tte-fit     fit         records with a "kind" (enum tte_record_kind): curves of each metric
 *                           (enum tte_metric) against the budget with their fits (the names of
 *                           TTE_FIT_NAME_*, stats/fit.h), per-item emergence, pass@k, ...
 *   tte-plot    a gnuplot script drawn from the fit records
 *
 * Each tool keeps the fields it does not know, so jq can sit between any two. tte-gen and tte-score
 * cache what they compute ($TTE_CACHE, cache.h) under keys that start with a version
 * (TTE_KEY_VERSION_*): a change to what a key's result means bumps its version.
 *
 * Everything here is constant; the functions are pure and thread-safe. */
#ifndef TTE_RECORDS_H
#define TTE_RECORDS_H

/* Fields read by a tool other than the one that writes them. */
#define TTE_FIELD_ID           "id"
#define TTE_FIELD_DATASET      "dataset"
#define TTE_FIELD_ANSWER       "answer"
#define TTE_FIELD_ANSWER_TYPE  "answer_type"
#define TTE_FIELD_CHOICES      "choices"
#define TTE_FIELD_PROMPT       "prompt"
#define TTE_FIELD_MODEL        "model"
#define TTE_FIELD_MODEL_PARAMS "model_params"
#define TTE_FIELD_BUDGET       "budget"
#define TTE_FIELD_SAMPLE       "sample"
#define TTE_FIELD_TEXT         "text"
#define TTE_FIELD_FINAL        "final"
#define TTE_FIELD_PRED         "pred"
#define TTE_FIELD_KIND         "kind"   /* tte-fit's records; a record without one is an input record */
#define TTE_FIELD_METRIC       "metric" /* a fit record's metric: tte_metric_name */

/* tte-gen's budget forcing defaults (tte-score needs the first to find the forced answer). */
extern const char TTE_END_THINKING_DEFAULT[];    /* "</think>FINAL ANSWER: \\boxed{" */
extern const char TTE_CONTINUE_PHRASE_DEFAULT[]; /* " Hmm, but let me keep thinking..." */

/* The metrics tte-fit fits and tte-plot draws, in tte-fit's output order. */
typedef enum {
    TTE_METRIC_CORRECT,     /* "correct": 0 or 1, tte-score's grade */
    TTE_METRIC_P_GOLD_NORM, /* "p_gold_norm": p(gold) over the solution set */
    TTE_METRIC_P_GOLD,      /* "p_gold" */
    TTE_METRIC_NEG_ENTROPY, /* "neg_entropy": -entropy_nats */
    TTE_METRIC_N
} tte_metric;

/* "correct", "p_gold_norm", "p_gold", "neg_entropy". */
const char *tte_metric_name(tte_metric m);
/* The metric NAME names, or -1. */
int tte_metric_parse(const char *name);
/* The field of a scored record the metric is read from ("entropy_nats" for neg_entropy, which is
 * its negation: tte_metric_negated). */
const char *tte_metric_field(tte_metric m);
int tte_metric_negated(tte_metric m);
/* Whether the metric's values lie in [0, 1]. */
int tte_metric_is_probability(tte_metric m);

/* The kinds of tte-fit's records ("kind" field). */
typedef enum {
    TTE_KIND_CURVE,       /* "curve": a metric against the budget, with fits and emergence scores */
    TTE_KIND_ITEM,        /* "item": one item's values and emergence scores */
    TTE_KIND_PASSK,       /* "passk": pass@k and maj@k at one budget */
    TTE_KIND_CORRELATION, /* "correlation": items' scores of two groups against each other */
    TTE_KIND_SIZES,       /* "sizes": a metric against model parameters at one budget */
    TTE_KIND_PREDICTION,  /* "prediction": a family's largest model predicted from the smaller ones */
    TTE_KIND_N
} tte_record_kind;

const char *tte_kind_name(tte_record_kind k);
/* The kind NAME names, or -1. */
int tte_kind_parse(const char *name);

/* The fit names of a curve record's "fits" object, in the order of stats/fit.h's tte_fit_kind. */
#define TTE_FIT_NAME_LOGLINEAR "loglinear"
#define TTE_FIT_NAME_HINGE     "hinge"
#define TTE_FIT_NAME_HINGE2    "hinge2"
#define TTE_FIT_NAME_LOGISTIC  "logistic"

/* The version at the start of each cache key. */
enum {
    TTE_KEY_VERSION_GENERATION =
        3, /* tte-gen: a budget-forcing sweep's generations (3: keys name the numerics) */
    TTE_KEY_VERSION_METRIC = 2, /* tte-score: a record's continuous metric (2: keys name the numerics) */
    TTE_KEY_VERSION_PRM = 1,    /* tte-score --prm: a PRM input's step scores */
};

#endif
