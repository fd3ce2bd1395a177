/* datasets: see datasets.h. Field names differ between the source files; each adapter knows its
 * file's (share/data/SOURCES.md, "Answer formats"). */
#include "datasets.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "share.h"

/* Fills F from SRC; returns 0, or -1 after tte_jsonl_fail. Strings set in F must live as long as
 * SRC or be kept in SCRATCH (freed by the caller after item_new). */
typedef int (*adapter_fn)(tte_jsonl *r, json_t *src, item_fields *f, char *scratch, size_t scratch_len);

struct dataset {
    const char *name;
    const char *file; /* under share/data/ */
    int aime;         /* add the study's AIME answer instruction */
    adapter_fn adapt;
    const char *description;
};

/* Copies the answer field FIELD as a string: strings as they are, numbers without a spurious ".0". */
static int answer_string(tte_jsonl *r, json_t *src, const char *field, char *out, size_t n) {
    json_t *v = json_object_get(src, field);
    if (json_is_string(v))
        snprintf(out, n, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d == floor(d) && fabs(d) < 1e15)
            snprintf(out, n, "%.0f", d);
        else
            snprintf(out, n, "%.15g", d);
    } else
        return tte_jsonl_fail(r, "field \"%s\": %s", field, v ? "must be a string or number" : "missing");
    if (!*out) return tte_jsonl_fail(r, "field \"%s\": empty", field);
    return 0;
}

static int problem_string(tte_jsonl *r, json_t *src, const char *field, item_fields *f) {
    if (tte_jsonl_get_string(r, src, field, &f->problem) != 0) return -1;
    if (!*f->problem) return tte_jsonl_fail(r, "field \"%s\": empty", field);
    return 0;
}

/* Problem in "problem", answer in "answer": AIME 2024/2025, AMC23, MATH-500. */
static int adapt_problem_answer(tte_jsonl *r, json_t *src, item_fields *f, char *scratch, size_t n) {
    if (problem_string(r, src, "problem", f) || answer_string(r, src, "answer", scratch, n)) return -1;
    f->answer = scratch;
    return 0;
}

static int adapt_aime26(tte_jsonl *r, json_t *src, item_fields *f, char *scratch, size_t n) {
    if (problem_string(r, src, "question", f) || answer_string(r, src, "ground_truth", scratch, n)) return -1;
    f->answer = scratch;
    return 0;
}

/* GSM8K's answer is a worked solution ending "#### N"; N may have thousands separators. */
static int adapt_gsm8k(tte_jsonl *r, json_t *src, item_fields *f, char *scratch, size_t n) {
    const char *solution;
    if (problem_string(r, src, "question", f) || tte_jsonl_get_string(r, src, "answer", &solution)) return -1;
    const char *mark = strstr(solution, "####");
    if (!mark) return tte_jsonl_fail(r, "field \"answer\": no \"####\" before the final number");
    size_t k = 0;
    for (const char *p = mark + 4; *p && k + 1 < n; p++)
        if (*p != ',' && *p != ' ' && *p != '\n') scratch[k++] = *p;
    scratch[k] = 0;
    if (!k) return tte_jsonl_fail(r, "field \"answer\": nothing after \"####\"");
    f->answer = scratch;
    return 0;
}

/* The content of the last \boxed{...} in S (balanced braces) into OUT; 0, or -1 when there is none. */
static int last_boxed(const char *s, char *out, size_t n) {
    const char *start = NULL;
    for (const char *p = strstr(s, "\\boxed{"); p; p = strstr(p + 1, "\\boxed{")) start = p + 7;
    if (!start) return -1;
    int depth = 1;
    const char *p = start;
    for (; *p && depth; p++) depth += (*p == '{') - (*p == '}');
    if (depth) return -1;
    size_t len = (size_t)(p - 1 - start);
    if (len + 1 > n) return -1;
    memcpy(out, start, len);
    out[len] = 0;
    return 0;
}

/* Minerva gives only a worked solution; the answer is its last \boxed{}. */
static int adapt_minerva(tte_jsonl *r, json_t *src, item_fields *f, char *scratch, size_t n) {
    const char *solution;
    if (problem_string(r, src, "problem", f) || tte_jsonl_get_string(r, src, "solution", &solution))
        return -1;
    if (last_boxed(solution, scratch, n) != 0)
        return tte_jsonl_fail(r, "field \"solution\": no balanced \\boxed{} answer");
    f->answer = scratch;
    return 0;
}

/* OlympiadBench: final_answer is a list of LaTeX strings in $…$; several answers are joined with
 * ", " as the dataset's own evaluation does. */
static int adapt_olympiad(tte_jsonl *r, json_t *src, item_fields *f, char *scratch, size_t n) {
    if (problem_string(r, src, "question", f)) return -1;
    json_t *answers = json_object_get(src, "final_answer");
    if (!json_is_array(answers) || json_array_size(answers) == 0)
        return tte_jsonl_fail(r, "field \"final_answer\": must be a non-empty list");
    size_t k = 0, i;
    json_t *a;
    json_array_foreach(answers, i, a) {
        const char *s = json_string_value(a);
        if (!s) return tte_jsonl_fail(r, "field \"final_answer\": entries must be strings");
        size_t len = strlen(s);
        if (len >= 2 && s[0] == '$' && s[len - 1] == '$') s++, len -= 2;
        if (k + len + 3 > n) return tte_jsonl_fail(r, "field \"final_answer\": too long");
        if (i > 0) memcpy(scratch + k, ", ", 2), k += 2;
        memcpy(scratch + k, s, len);
        k += len;
    }
    scratch[k] = 0;
    f->answer = scratch;
    return 0;
}

static int check_choices(tte_jsonl *r, json_t *choices, const char *field) {
    size_t n = json_array_size(choices), i;
    json_t *c;
    if (n < 2 || n > 26) return tte_jsonl_fail(r, "field \"%s\": needs 2 to 26 options", field);
    json_array_foreach(choices, i, c) {
        if (!json_is_string(c)) return tte_jsonl_fail(r, "field \"%s\": options must be strings", field);
    }
    return 0;
}

/* MMLU-STEM: answer is the index of the right entry of choices. */
static int adapt_mmlu(tte_jsonl *r, json_t *src, item_fields *f, char *scratch, size_t n) {
    long long index;
    if (problem_string(r, src, "question", f) || tte_jsonl_get_int(r, src, "answer", &index)) return -1;
    f->choices = json_object_get(src, "choices");
    if (!json_is_array(f->choices)) return tte_jsonl_fail(r, "field \"choices\": must be a list");
    if (check_choices(r, f->choices, "choices")) return -1;
    if (index < 0 || (size_t)index >= json_array_size(f->choices))
        return tte_jsonl_fail(r, "field \"answer\": index %lld outside the choices", index);
    snprintf(scratch, n, "%c", item_choice_letter((size_t)index));
    f->answer = scratch;
    return 0;
}

/* ARC: options are [{label, text}]; labels are usually A–D but some ARC files use 1–4, so the
 * answer is mapped through its label's position. */
static int adapt_arc(tte_jsonl *r, json_t *src, item_fields *f, char *scratch, size_t n) {
    const char *answer;
    if (problem_string(r, src, "question", f) || tte_jsonl_get_string(r, src, "answer", &answer)) return -1;
    json_t *options = json_object_get(src, "options");
    if (!json_is_array(options)) return tte_jsonl_fail(r, "field \"options\": must be a list");
    json_t *texts = json_array();
    size_t i;
    json_t *o;
    long found = -1;
    json_array_foreach(options, i, o) {
        const char *label = json_string_value(json_object_get(o, "label"));
        json_t *text = json_object_get(o, "text");
        if (!label || !json_is_string(text)) {
            json_decref(texts);
            return tte_jsonl_fail(r, "field \"options\": entry %zu needs \"label\" and \"text\" strings", i);
        }
        if (strcmp(label, answer) == 0) found = (long)i;
        json_array_append(texts, text);
    }
    if (found < 0 || check_choices(r, texts, "options")) {
        json_decref(texts);
        return found < 0 ? tte_jsonl_fail(r, "field \"answer\": \"%s\" is not an option's label", answer)
                         : -1;
    }
    /* The adapter's choices must outlive this call: keep them in the source record. */
    json_object_set_new(src, "tte_choices", texts);
    f->choices = texts;
    snprintf(scratch, n, "%c", item_choice_letter((size_t)found));
    f->answer = scratch;
    return 0;
}

static const dataset DATASETS[] = {
    {"aime24", "aime24.jsonl", 1, adapt_problem_answer, "AIME 2024 (I and II), integer answers 0-999"},
    {"aime25", "aime25.jsonl", 1, adapt_problem_answer, "AIME 2025 (I and II), integer answers 0-999"},
    {"aime26", "aime26.jsonl", 1, adapt_aime26, "AIME 2026 (I and II), integer answers 0-999"},
    {"amc23", "amc23.jsonl", 0, adapt_problem_answer, "AMC 12 2023, numeric answers"},
    {"math500", "math500.jsonl", 0, adapt_problem_answer, "MATH-500 (Lightman et al.), LaTeX answers"},
    {"gsm8k", "gsm8k.jsonl", 0, adapt_gsm8k, "GSM8K test split, numeric answers"},
    {"minerva", "minerva_math.jsonl", 0, adapt_minerva, "Minerva Math (OCWCourses), LaTeX answers"},
    {"olympiadbench", "olympiadbench.jsonl", 0, adapt_olympiad,
     "OlympiadBench (English, maths), LaTeX answers"},
    {"mmlu-stem", "mmlu_stem.jsonl", 0, adapt_mmlu, "MMLU STEM subjects, multiple choice"},
    {"arc-challenge", "arc_challenge.jsonl", 0, adapt_arc, "ARC-Challenge test, multiple choice"},
};
#define N_DATASETS (sizeof DATASETS / sizeof *DATASETS)

const dataset *dataset_find(const char *name) {
    for (size_t i = 0; i < N_DATASETS; i++)
        if (strcmp(DATASETS[i].name, name) == 0) return &DATASETS[i];
    return NULL;
}

void dataset_list(FILE *out) {
    fprintf(out, "%-14s %s\n", "arith", "synthetic sums of K numbers (generated; see --seed, --terms)");
    for (size_t i = 0; i < N_DATASETS; i++)
        fprintf(out, "%-14s %s\n", DATASETS[i].name, DATASETS[i].description);
    fprintf(
        out, "%-14s %s\n", "gpqa FILE",
        "GPQA Diamond, multiple choice, from your own download: gpqa_diamond.csv of the Hugging Face "
        "dataset Idavidrein/gpqa (gated, its authors ask that it not be reposted, so tte does not ship it)");
}

/* AIME answers are integers by the competition's rules; other answers are typed by their form. */
static const char *answer_type_of(const dataset *d, const item_fields *f) {
    if (f->choices) return "choice";
    return d->aime ? "integer" : item_infer_answer_type(f->answer);
}

/* Source fields other than the problem and answer, kept under "meta" (level, subject, url, …). */
static json_t *meta_of(json_t *src) {
    static const char *const dropped[] = {"problem", "question",     "answer",       "solution",   "choices",
                                          "options", "ground_truth", "final_answer", "tte_choices"};
    json_t *meta = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(src, key, v) {
        int keep = !json_is_null(v);
        for (size_t i = 0; keep && i < sizeof dropped / sizeof *dropped; i++)
            keep = strcmp(key, dropped[i]) != 0;
        if (keep) json_object_set(meta, key, v);
    }
    return meta;
}

int dataset_read(const dataset *d, prompt_style style, int skip_bad, json_t *items, long *skipped, char *err,
                 size_t errlen) {
    char rel[256], path[4096];
    snprintf(rel, sizeof rel, "data/%s", d->file);
    if (tte_share_path(rel, path, sizeof path) != 0) {
        snprintf(err, errlen, "%s: dataset file not found (set TTE_SHARE to the share/ directory)", path);
        return -1;
    }
    tte_jsonl *r = tte_jsonl_open(path, err, errlen);
    if (!r) return -1;
    json_t *src;
    int rc;
    long index = 0;
    static char scratch[1 << 16];
    while ((rc = tte_jsonl_next(r, &src)) != 0) {
        /* Ids count source records, bad ones included, so an item's id never depends on --skip-bad. */
        long this_index = index++;
        item_fields f = {.dataset = d->name, .aime = d->aime};
        if (rc > 0 && d->adapt(r, src, &f, scratch, sizeof scratch) == 0) {
            char id[300];
            snprintf(id, sizeof id, "%s/%ld", d->name, this_index);
            f.id = id;
            f.answer_type = answer_type_of(d, &f);
            f.meta = meta_of(src);
            json_array_append_new(items, item_new(&f, style));
            json_decref(f.meta);
        } else if (skip_bad) {
            (*skipped)++;
        } else {
            snprintf(err, errlen, "%s", tte_jsonl_error(r));
            if (rc > 0) json_decref(src);
            tte_jsonl_close(r);
            return -1;
        }
        if (rc > 0) json_decref(src);
    }
    tte_jsonl_close(r);
    return 0;
}
