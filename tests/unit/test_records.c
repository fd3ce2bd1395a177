/* records: the names of the record contract (records.h) round-trip, and unknown names are -1. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "records.h"
#include "stats/fit.h"
#include "strmap.h"

Test(records, metric_names_round_trip) {
    for (int m = 0; m < TTE_METRIC_N; m++) cr_expect_eq(tte_metric_parse(tte_metric_name(m)), m);
    cr_expect_str_eq(tte_metric_name(TTE_METRIC_NEG_ENTROPY), "neg_entropy");
    cr_expect_str_eq(tte_metric_field(TTE_METRIC_NEG_ENTROPY), "entropy_nats");
    cr_expect(tte_metric_negated(TTE_METRIC_NEG_ENTROPY) && !tte_metric_negated(TTE_METRIC_CORRECT));
    cr_expect(tte_metric_is_probability(TTE_METRIC_P_GOLD) &&
              !tte_metric_is_probability(TTE_METRIC_NEG_ENTROPY));
    cr_expect_eq(tte_metric_parse("accuracy"), -1);
}

Test(records, kinds_and_fits_round_trip) {
    for (int k = 0; k < TTE_KIND_N; k++) cr_expect_eq(tte_kind_parse(tte_kind_name(k)), k);
    cr_expect_str_eq(tte_kind_name(TTE_KIND_PASSK), "passk");
    cr_expect_eq(tte_kind_parse("generation"), -1);
    for (int k = 0; k < TTE_FIT_NKINDS; k++) cr_expect_eq(tte_fit_parse(tte_fit_name(k)), k);
    cr_expect_str_eq(tte_fit_name(TTE_FIT_HINGE2), TTE_FIT_NAME_HINGE2);
    cr_expect_eq(tte_fit_parse("sigmoid"), -1);
}

Test(records, defaults) {
    cr_expect_str_eq(TTE_END_THINKING_DEFAULT, "</think>FINAL ANSWER: \\boxed{");
    cr_expect_str_eq(TTE_CONTINUE_PHRASE_DEFAULT, " Hmm, but let me keep thinking...");
}

/* A zero-initialised map is empty and grows as keys arrive. */
Test(strmap, zero_initialised_map_grows) {
    tte_strmap m = {0};
    cr_expect_eq(tte_strmap_get(&m, "a", 1), -1);
    char key[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        tte_strmap_put(&m, key, strlen(key), i);
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        cr_expect_eq(tte_strmap_get(&m, key, strlen(key)), i);
    }
    cr_expect_eq(tte_strmap_get(&m, "k1000", 5), -1);
    tte_strmap_free(&m);
}
