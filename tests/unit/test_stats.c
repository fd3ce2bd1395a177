/* Unit tests of src/lib/stats against reference values from numpy and scipy
 * (tools/fit_reference.py writes the JSON files in tests/golden/fit; make runs the tests from the repo root).
 */
#include "stats/bootstrap.h"
#include "stats/emergence.h"
#include "stats/fit.h"
#include "stats/lstsq.h"
#include "stats/passk.h"
#include "stats/spearman.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>

static json_t *golden(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "tests/golden/fit/%s", name);
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    cr_assert(j, "%s: %s (run the tests from the repository root)", path, err.text);
    return j;
}

/* Relative closeness, relative to at least SCALE (the size of the quantities a small value is a
 * difference of). */
static void expect_near(double got, double want, double rel, double scale, const char *what) {
    double tol = rel * fmax(fmax(fabs(got), fabs(want)), scale);
    cr_expect(fabs(got - want) <= tol, "%s: got %.17g, want %.17g", what, got, want);
}

static void expect_close(double got, double want, double rel, const char *what) {
    expect_near(got, want, rel, 1e-6, what);
}

/* A tte_value against a golden number or null. */
static void expect_value(tte_value got, json_t *want, double rel, const char *what) {
    if (json_is_null(want)) {
        cr_expect(got.why != NULL, "%s: got %.17g, want undefined", what, got.v);
        return;
    }
    cr_expect(got.why == NULL, "%s: undefined (%s), want %.17g", what, got.why ? got.why : "",
              json_number_value(want));
    if (!got.why) expect_close(got.v, json_number_value(want), rel, what);
}

static int load_array(json_t *a, double *out, int max) {
    int n = (int)json_array_size(a);
    cr_assert(n <= max);
    for (int i = 0; i < n; i++) {
        json_t *v = json_array_get(a, (size_t)i);
        out[i] = json_is_null(v) ? NAN : json_number_value(v);
    }
    return n;
}

Test(stats, lstsq_solves_and_detects_rank_deficiency) {
    const double x[] = {1, 0, 1, 1, 1, 2, 1, 3}; /* columns 1, t */
    const double y[] = {1, 3, 5, 7};
    double beta[2], sse;
    cr_assert_eq(tte_lstsq(x, y, 4, 2, beta, &sse), 0);
    expect_close(beta[0], 1, 1e-12, "intercept");
    expect_close(beta[1], 2, 1e-12, "slope");
    cr_expect(sse < 1e-24);
    const double dup[] = {1, 2, 1, 2, 1, 2}; /* second column = 2 * first */
    cr_expect_eq(tte_lstsq(dup, y, 3, 2, beta, &sse), -1);
}

Test(stats, fits_match_numpy_and_scipy) {
    json_t *cases = golden("fits.json");
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        double x[64], y[64];
        int n = load_array(json_object_get(c, "x"), x, 64);
        load_array(json_object_get(c, "y"), y, 64);
        /* A coefficient near 0 (a slope of 0.001 beside an intercept of 0.1) is compared relative to
         * the curve's scale: the brute-force reference locates tau to about 1e-9, not better. */
        double yscale = 0;
        for (int j = 0; j < n; j++) yscale = fmax(yscale, fabs(y[j]));
        for (int kind = 0; kind < TTE_FIT_NKINDS; kind++) {
            char what[128];
            json_t *want = json_object_get(c, tte_fit_name(kind));
            tte_fit f = tte_fit_curve(kind, x, y, n);
            snprintf(what, sizeof what, "%s %s", name, tte_fit_name(kind));
            if (json_is_null(want)) {
                cr_expect(f.why != NULL, "%s: fitted, want no fit", what);
                continue;
            }
            cr_assert(f.why == NULL, "%s: no fit (%s)", what, f.why);
            double rel = kind == TTE_FIT_LOGISTIC ? 1e-4 : 1e-6;
            json_t *params = json_object_get(want, "params");
            for (int p = 0; p < f.nparam; p++) {
                char pw[160];
                snprintf(pw, sizeof pw, "%s %s", what, tte_fit_param_names(kind)[p]);
                expect_near(f.param[p], json_number_value(json_array_get(params, (size_t)p)), rel, yscale,
                            pw);
            }
            char cw[160];
            snprintf(cw, sizeof cw, "%s sse", what);
            expect_close(f.sse, json_number_value(json_object_get(want, "sse")), rel, cw);
            snprintf(cw, sizeof cw, "%s r2", what);
            expect_value(f.r2, json_object_get(want, "r2"), rel, cw);
            snprintf(cw, sizeof cw, "%s aicc", what);
            expect_value(f.aicc, json_object_get(want, "aicc"), rel, cw);
            snprintf(cw, sizeof cw, "%s bic", what);
            expect_value(f.bic, json_object_get(want, "bic"), rel, cw);
            snprintf(cw, sizeof cw, "%s loo", what);
            expect_value(f.loo_rmse, json_object_get(want, "loo_rmse"), rel, cw);
        }
    }
    json_decref(cases);
}

Test(stats, hinge_is_exact_between_grid_points) {
    /* A noiseless hinge with its knee between budgets is recovered exactly. */
    double x[8], y[8];
    for (int i = 0; i < 8; i++) x[i] = 7 + i, y[i] = 0.1 + 0.02 * x[i] + 0.3 * fmax(0, x[i] - 10.37);
    double p[4], sse;
    const char *why;
    cr_assert_eq(tte_fit_hinge(x, y, 8, p, &sse, &why), 0);
    expect_close(p[3], 10.37, 1e-9, "tau");
    expect_close(p[2], 0.3, 1e-9, "c");
    cr_expect(sse < 1e-20);
    tte_fit f = tte_fit_curve(TTE_FIT_HINGE, x, y, 8);
    cr_expect(f.aicc.why != NULL, "an exact fit has no AICc");
}

Test(stats, too_few_budgets_give_no_fit) {
    double x[] = {7, 8, 9, 10, 11}, y[] = {0.1, 0.2, 0.4, 0.3, 0.6};
    cr_expect(tte_fit_curve(TTE_FIT_HINGE, x, y, 4).why != NULL);
    cr_expect(tte_fit_curve(TTE_FIT_LOGISTIC, x, y, 4).why != NULL);
    cr_expect(tte_fit_curve(TTE_FIT_HINGE2, x, y, 5).why != NULL);
    tte_fit f = tte_fit_curve(TTE_FIT_LOGLINEAR, x, y, 5);
    cr_expect(f.why == NULL && f.aicc.why == NULL);
    tte_fit four = tte_fit_curve(TTE_FIT_LOGLINEAR, x, y, 4);
    cr_expect(four.why == NULL && four.aicc.why != NULL, "k = 3, n - k - 1 = 0: no AICc");
    tte_fit hinge = tte_fit_curve(TTE_FIT_HINGE, x, y, 5);
    cr_expect(hinge.why == NULL && hinge.aicc.why != NULL && hinge.loo_rmse.why != NULL);
    double unsorted[] = {7, 9, 8, 10, 11};
    cr_expect(tte_fit_curve(TTE_FIT_LOGLINEAR, unsorted, y, 4).why != NULL);
}

Test(stats, best_is_smallest_aicc_else_leave_one_out) {
    tte_fit fits[3] = {0};
    const char *by;
    for (int i = 0; i < 3; i++) fits[i].loo_rmse = tte_value_undefined("none");
    fits[0].aicc = tte_value_of(-3, NULL);
    fits[1].aicc = tte_value_of(-1, NULL);
    fits[2].aicc = tte_value_of(-5, NULL);
    cr_expect_eq(tte_fit_best(fits, 3, &by), 2);
    cr_expect_str_eq(by, "aicc");
    /* A fit without AICc (too many parameters for the budgets): leave-one-out decides. */
    fits[2].aicc = tte_value_undefined("n - k - 1 <= 0");
    fits[0].loo_rmse = tte_value_of(0.17, NULL);
    fits[2].loo_rmse = tte_value_of(0.08, NULL);
    cr_expect_eq(tte_fit_best(fits, 3, &by), 2);
    cr_expect_str_eq(by, "loo_rmse");
    /* No leave-one-out anywhere: the smallest defined AICc. */
    fits[0].loo_rmse = fits[2].loo_rmse = tte_value_undefined("none");
    cr_expect_eq(tte_fit_best(fits, 3, &by), 0);
    cr_expect_str_eq(by, "aicc");
    fits[0].aicc = fits[1].aicc = tte_value_undefined("none");
    cr_expect_eq(tte_fit_best(fits, 3, &by), -1);
    fits[2].why = "no fit";
    fits[0].aicc = tte_value_of(-3, NULL);
    cr_expect_eq(tte_fit_best(fits, 3, &by), 0);
}

Test(stats, emergence_matches_the_study_and_scipy) {
    json_t *g = golden("emergence.json");
    size_t i;
    json_t *c;
    /* The study's own test vectors, as it prints them (6 digits). */
    json_array_foreach(json_object_get(g, "study"), i, c) {
        double y[16];
        int k = load_array(json_object_get(c, "y"), y, 16);
        expect_value(tte_breakthroughness(y, k), json_object_get(c, "breakthroughness"), 2e-6, "study B");
        expect_value(tte_breakthroughness_legacy(y, k), json_object_get(c, "legacy"), 2e-6, "study legacy");
        expect_value(tte_difference_skew(y, k), json_object_get(c, "skew"), 2e-6, "study skew");
    }
    json_array_foreach(json_object_get(g, "cases"), i, c) {
        double y[16];
        int k = load_array(json_object_get(c, "y"), y, 16);
        expect_value(tte_breakthroughness(y, k), json_object_get(c, "breakthroughness"), 1e-6, "B");
        expect_value(tte_breakthroughness_legacy(y, k), json_object_get(c, "legacy"), 1e-6, "legacy");
        expect_value(tte_difference_skew(y, k), json_object_get(c, "skew"), 1e-6, "skew");
        expect_value(tte_difference_skew_unweighted(y, k), json_object_get(c, "skew_unweighted"), 1e-6,
                     "unweighted skew");
        expect_value(tte_bigbench_linearity(y, k), json_object_get(c, "bigbench_linearity"), 1e-6, "L");
        expect_value(tte_bigbench_breakthroughness(y, k), json_object_get(c, "bigbench_breakthroughness"),
                     1e-6, "BIG-bench B");
    }
    json_decref(g);
    double three[] = {0, 0.5, 1};
    cr_expect(tte_difference_skew(three, 3).why != NULL, "skew needs 4 budgets");
    double one[] = {0.3};
    cr_expect(tte_breakthroughness(one, 1).why != NULL);
}

Test(stats, spearman_matches_scipy) {
    json_t *g = golden("spearman.json");
    size_t i;
    json_t *c;
    json_array_foreach(g, i, c) {
        double x[64], y[64], rank[64], want_rank[64];
        int n = load_array(json_object_get(c, "x"), x, 64);
        load_array(json_object_get(c, "y"), y, 64);
        load_array(json_object_get(c, "rank_x"), want_rank, 64);
        expect_value(tte_spearman(x, y, n), json_object_get(c, "rho"), 1e-9, "rho");
        tte_average_ranks(x, n, rank);
        for (int j = 0; j < n; j++) expect_close(rank[j], want_rank[j], 1e-12, "rank");
    }
    json_decref(g);
    double flat[] = {1, 1, 1}, up[] = {1, 2, 3};
    cr_expect(tte_spearman(flat, up, 3).why != NULL);
}

Test(stats, bootstrap_matches_numpy_on_the_same_resamples) {
    json_t *g = golden("bootstrap.json");
    json_t *rows = json_object_get(g, "values");
    int nitems = (int)json_array_size(rows), nb = (int)json_array_size(json_array_get(rows, 0));
    double values[256], lo[16], hi[16], want[16];
    for (int i = 0; i < nitems; i++) load_array(json_array_get(rows, (size_t)i), values + i * nb, 16);
    uint64_t seed = (uint64_t)json_integer_value(json_object_get(g, "seed"));

    /* The first resample's indices, as the Python splitmix64 drew them. */
    uint64_t state = seed;
    double first[64];
    int n = load_array(json_object_get(g, "first_indices"), first, 64);
    for (int i = 0; i < n; i++) cr_expect_eq(tte_random_index(&state, nitems), (int)first[i]);

    int nres = (int)json_integer_value(json_object_get(g, "nres"));
    double level = json_number_value(json_object_get(g, "level"));
    tte_bootstrap_curve(values, nitems, nb, nres, seed, level, lo, hi);
    load_array(json_object_get(g, "lo"), want, 16);
    for (int j = 0; j < nb; j++) expect_close(lo[j], want[j], 1e-9, "lo");
    load_array(json_object_get(g, "hi"), want, 16);
    for (int j = 0; j < nb; j++) expect_close(hi[j], want[j], 1e-9, "hi");
    json_decref(g);
}

Test(stats, pass_at_k_matches_enumeration) {
    json_t *g = golden("passk.json");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(g, "cases"), i, c) {
        int n = (int)json_integer_value(json_object_get(c, "n"));
        int correct = (int)json_integer_value(json_object_get(c, "c"));
        int k = (int)json_integer_value(json_object_get(c, "k"));
        expect_close(tte_pass_at_k(n, correct, k), json_number_value(json_object_get(c, "pass")), 1e-12,
                     "pass@k");
    }
    json_t *cov = json_object_get(g, "coverage");
    double kd[16], cv[16];
    int m = load_array(json_object_get(cov, "k"), kd, 16);
    load_array(json_object_get(cov, "c"), cv, 16);
    int ks[16];
    for (int j = 0; j < m; j++) ks[j] = (int)kd[j];
    tte_coverage_fit f = tte_fit_coverage(ks, cv, m);
    cr_expect_eq(f.npoints, m);
    expect_value(f.a, json_object_get(cov, "a"), 1e-9, "coverage a");
    expect_value(f.b, json_object_get(cov, "b"), 1e-9, "coverage b");
    json_decref(g);
}

Test(stats, maj_at_k_votes_with_first_occurrence_ties) {
    const char *preds[] = {"7", "12", "12", "7", NULL, NULL, NULL, "3"};
    const int correct[] = {1, 0, 0, 1, 0, 0, 0, 0};
    cr_expect_eq(tte_maj_at_k(preds, correct, 1), 1); /* "7" */
    cr_expect_eq(tte_maj_at_k(preds, correct, 3), 0); /* "12" twice */
    cr_expect_eq(tte_maj_at_k(preds, correct, 4), 1); /* 2-2 tie: "7" came first */
    cr_expect_eq(tte_maj_at_k(preds, correct, 7), 1); /* no answer does not vote */
    const char *none[] = {NULL, NULL};
    const int zero[] = {1, 1};
    cr_expect_eq(tte_maj_at_k(none, zero, 2), 0);
}

/* Brute force over every k-subset as a bit mask: Best-of-N (the subset's best scores, ties shared
 * evenly) and weighted voting (score sums per distinct answer; a tie to the lowest sample index). */
static void brute_selection(const char *const *preds, const double *score, const int *correct, int n, int k,
                            double *bon, double *weighted) {
    double sum_bon = 0, sum_w = 0, subsets = 0;
    for (unsigned mask = 0; mask < (1u << n); mask++) {
        if (__builtin_popcount(mask) != k) continue;
        double top = -INFINITY;
        for (int i = 0; i < n; i++)
            if (mask >> i & 1) top = fmax(top, score[i]);
        double hits = 0, ties = 0;
        for (int i = 0; i < n; i++)
            if ((mask >> i & 1) && score[i] == top) hits += correct[i], ties++;
        sum_bon += hits / ties;
        int winner = -1;
        double best = 0;
        for (int i = 0; i < n; i++) {
            if (!(mask >> i & 1) || !preds[i]) continue;
            double w = 0;
            for (int j = 0; j < n; j++)
                if ((mask >> j & 1) && preds[j] && strcmp(preds[j], preds[i]) == 0) w += score[j];
            if (winner < 0 || w > best) winner = i, best = w;
        }
        sum_w += winner >= 0 && correct[winner];
        subsets++;
    }
    *bon = sum_bon / subsets, *weighted = sum_w / subsets;
}

Test(stats, bon_and_weighted_at_k_match_brute_force) {
    /* ties in the scores, repeated answers, a sample without an answer */
    const char *preds[] = {"7", "12", "7", NULL, "12", "3", "7", "12", "5", "3"};
    const double score[] = {0.9, 0.8, 0.3, 0.95, 0.8, 0.1, 0.3, 0.6, 0.8, 0.2};
    const int correct[] = {1, 0, 1, 0, 0, 0, 1, 0, 0, 0};
    int n = 10;
    for (int k = 1; k <= n; k++) {
        double bon, weighted;
        char what[32];
        brute_selection(preds, score, correct, n, k, &bon, &weighted);
        snprintf(what, sizeof what, "bon@%d", k);
        expect_close(tte_bon_at_k(score, correct, n, k), bon, 1e-12, what);
        snprintf(what, sizeof what, "weighted@%d", k);
        expect_close(tte_weighted_at_k(preds, score, correct, n, k, 1), weighted, 1e-12, what);
    }
    expect_close(tte_bon_at_k(score, correct, n, 1), 0.3, 1e-12, "bon@1 is the fraction correct");
}

Test(stats, weighted_at_k_samples_subsets_when_there_are_too_many) {
    enum { N = 24, K = 8 }; /* C(24, 8) = 735471 subsets: sampled */
    const char *answers[] = {"1", "2", "3", "4"};
    const char *preds[N];
    double score[N];
    int correct[N];
    uint64_t st = 5;
    for (int i = 0; i < N; i++) {
        int a = tte_random_index(&st, 4);
        preds[i] = answers[a], correct[i] = a == 0, score[i] = (double)tte_random_index(&st, 100) / 100;
    }
    double bon, exact;
    brute_selection(preds, score, correct, N, K, &bon, &exact);
    double got = tte_weighted_at_k(preds, score, correct, N, K, 9);
    /* 4000 subsets: the standard error is at most 0.5 / sqrt(4000) = 0.008 */
    cr_expect(fabs(got - exact) < 0.035, "sampled %g, exact %g", got, exact);
    cr_expect_eq(got, tte_weighted_at_k(preds, score, correct, N, K, 9), "the same seed, other subsets");
    expect_close(tte_bon_at_k(score, correct, N, K), bon, 1e-12, "bon@8 of 24");
}
