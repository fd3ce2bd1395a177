/* records: see records.h. */
#include "records.h"

#include <string.h>

const char TTE_END_THINKING_DEFAULT[] = "</think>FINAL ANSWER: \\boxed{";
const char TTE_CONTINUE_PHRASE_DEFAULT[] = " Hmm, but let me keep thinking...";

static const struct {
    const char *name, *field;
    int negated, probability;
} metrics[TTE_METRIC_N] = {
    [TTE_METRIC_CORRECT] = {"correct", "correct", 0, 1},
    [TTE_METRIC_P_GOLD_NORM] = {"p_gold_norm", "p_gold_norm", 0, 1},
    [TTE_METRIC_P_GOLD] = {"p_gold", "p_gold", 0, 1},
    [TTE_METRIC_NEG_ENTROPY] = {"neg_entropy", "entropy_nats", 1, 0},
};

static const char *const kinds[TTE_KIND_N] = {
    [TTE_KIND_CURVE] = "curve", [TTE_KIND_ITEM] = "item",
    [TTE_KIND_PASSK] = "passk", [TTE_KIND_CORRELATION] = "correlation",
    [TTE_KIND_SIZES] = "sizes", [TTE_KIND_PREDICTION] = "prediction",
};

const char *tte_metric_name(tte_metric m) { return metrics[m].name; }
const char *tte_metric_field(tte_metric m) { return metrics[m].field; }
int tte_metric_negated(tte_metric m) { return metrics[m].negated; }
int tte_metric_is_probability(tte_metric m) { return metrics[m].probability; }

int tte_metric_parse(const char *name) {
    for (int m = 0; m < TTE_METRIC_N; m++)
        if (strcmp(name, metrics[m].name) == 0) return m;
    return -1;
}

const char *tte_kind_name(tte_record_kind k) { return kinds[k]; }

int tte_kind_parse(const char *name) {
    for (int k = 0; k < TTE_KIND_N; k++)
        if (strcmp(name, kinds[k]) == 0) return k;
    return -1;
}
