/* Unit tests of src/lib/grade: extraction, each normalisation and equivalence rule, canonical forms,
 * and a real-data check (MATH-500 gold answers against the \boxed{} answers of their solutions). */
#include "grade/grade.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void expect_extract_final(const char *final, const char *want) {
    char *got = tte_extract_final(final);
    if (!want)
        cr_expect_null(got, "final [%s] -> [%s], want nothing", final, got);
    else
        cr_expect(got && strcmp(got, want) == 0, "final [%s] -> [%s], want [%s]", final, got ? got : "(null)",
                  want);
    free(got);
}

static void expect_extract(const char *text, const char *want, tte_extracted want_how) {
    tte_extracted how;
    char *got = tte_extract_text(text, &how);
    if (!want)
        cr_expect_null(got, "text [%s] -> [%s], want nothing", text, got);
    else
        cr_expect(got && strcmp(got, want) == 0, "text [%s] -> [%s], want [%s]", text, got ? got : "(null)",
                  want);
    cr_expect_eq(how, want_how, "text [%s]: extracted %s, want %s", text, tte_extracted_name(how),
                 tte_extracted_name(want_how));
    free(got);
}

#define EQ(type, gold, pred)                                                                                 \
    cr_expect(tte_answer_equal(gold, pred, TTE_ANSWER_##type), #type ": [%s] should equal [%s]", gold, pred)
#define NE(type, gold, pred)                                                                                 \
    cr_expect(!tte_answer_equal(gold, pred, TTE_ANSWER_##type), #type ": [%s] should differ from [%s]",      \
              gold, pred)

static void expect_canonical(tte_answer_type type, const char *pred, const char *want) {
    char *got = tte_answer_canonical(pred, type);
    cr_expect(strcmp(got, want) == 0, "canonical %s [%s] -> [%s], want [%s]", tte_answer_type_name(type),
              pred, got, want);
    free(got);
}

Test(extract, final_up_to_first_unbalanced_brace) {
    expect_extract_final("204}", "204");
    expect_extract_final("\\frac{1}{2}} and more", "\\frac{1}{2}");
    expect_extract_final("\\{1,2\\}}", "\\{1,2\\}");
    expect_extract_final(" 17 ", "17"); /* the answer tokens ran out before '}' */
    expect_extract_final("}", NULL);
    expect_extract_final("", NULL);
}

Test(extract, last_boxed_with_balanced_braces) {
    expect_extract("so $\\boxed{3}$, no wait, $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}", TTE_EXTRACTED_BOXED);
    expect_extract("\\fbox{x^{2}}", "x^{2}", TTE_EXTRACTED_BOXED);
    expect_extract("the answer is \\boxed 5.", "5.", TTE_EXTRACTED_BOXED);
    expect_extract("\\boxed{\\{1,2\\}} done", "\\{1,2\\}", TTE_EXTRACTED_BOXED);
    expect_extract("unclosed \\boxed{12", "12", TTE_EXTRACTED_BOXED);
}

Test(extract, adjacent_boxes_join) {
    expect_extract("\\boxed{1}, \\boxed{2}", "1 , 2", TTE_EXTRACTED_BOXED);
    expect_extract("$\\boxed{k = 45} \\quad \\text{and} \\quad \\boxed{n = 2}$", "k = 45 , n = 2",
                   TTE_EXTRACTED_BOXED);
    expect_extract("\\boxed{1} no no no no no \\boxed{2}", "2", TTE_EXTRACTED_BOXED);
}

Test(extract, fallbacks) {
    expect_extract("Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.", "\\frac{3}{4}",
                   TTE_EXTRACTED_FALLBACK);
    expect_extract("Final Answer: The volume of $V$ is 120. Thanks 7", "120", TTE_EXTRACTED_FALLBACK);
    expect_extract("Final Answer: Jane started 3 hours ago.", "3", TTE_EXTRACTED_FALLBACK);
    expect_extract("Thus the answer is 42.", "42", TTE_EXTRACTED_FALLBACK);
    expect_extract("7,425,000", "7,425,000", TTE_EXTRACTED_FALLBACK);
    expect_extract("We find that $x \\lt 3$.", "x \\lt 3", TTE_EXTRACTED_FALLBACK);
    expect_extract("$1$ and $2$ and $3$", "1 , 2 , 3", TTE_EXTRACTED_FALLBACK);
    expect_extract("so it is $x$ and then 2/3 of them", "2/3", TTE_EXTRACTED_FALLBACK);
    expect_extract("it grows by 100%.", "100%", TTE_EXTRACTED_FALLBACK);
    expect_extract("AZYUK2A", NULL, TTE_EXTRACTED_NONE);
    expect_extract("Answer $ \n 9 \n $", NULL, TTE_EXTRACTED_NONE); /* $..$ does not span lines */
    expect_extract("no answer here", NULL, TTE_EXTRACTED_NONE);
    expect_extract("", NULL, TTE_EXTRACTED_NONE);
}

Test(equal, integers_for_aime) {
    EQ(INTEGER, "7", "007");
    EQ(INTEGER, "204", "204");
    EQ(INTEGER, "0", "000");
    NE(INTEGER, "70", "007");
    NE(INTEGER, "204", "205");
    EQ(INTEGER, "1000", "1,000");
    EQ(INTEGER, "25", "25.0"); /* not an integer string: compared as a number */
}

Test(equal, numbers) {
    EQ(NUMBER, "7425000", "7,425,000");
    EQ(NUMBER, "1000", "1 000");
    EQ(NUMBER, "0.4", ".4");
    EQ(NUMBER, "0.5", "\\frac{1}{2}");
    EQ(NUMBER, "0.5", "1/2");
    EQ(NUMBER, "1.22", "1,22"); /* a decimal comma */
    NE(NUMBER, "32349", "32, 349");
    EQ(NUMBER, "1500", "1.5 \\times 10^{3}");
    EQ(NUMBER, "0.0015", "1.5e-3");
    EQ(NUMBER, "3", "3.0000001");       /* relative tolerance 1e-6 */
    NE(NUMBER, "3", "3.00001");         /* but not 1e-5 */
    EQ(NUMBER, "\\frac{1}{3}", "0.33"); /* a rounded decimal */
    NE(NUMBER, "\\frac{1}{3}", "0.34");
    EQ(NUMBER, "\\frac{70}{9}", "7.78");
}

Test(equal, latex_normalisation) {
    EQ(LATEX, "\\frac{1}{2}", "\\dfrac{1}{2}");
    EQ(LATEX, "\\frac{1}{2}", "\\tfrac12");
    EQ(LATEX, "\\sqrt{3}", "\\sqrt3");
    EQ(LATEX, "(3, \\frac{\\pi}{2})", "\\left( 3, \\frac{\\pi}{2} \\right)");
    EQ(LATEX, "12", "1\\!2");
    EQ(LATEX, "125", "125\\text{ miles}");
    EQ(LATEX, "125", "125 miles");
    EQ(LATEX, "90", "90^\\circ");
    EQ(LATEX, "90", "90^{\\circ}");
    EQ(LATEX, "28", "28\\%");
    EQ(LATEX, "28", "28 percent");
    EQ(LATEX, "28\\%", "0.28"); /* a percentage as a fraction of one */
    EQ(LATEX, "0.28", "28%");
    NE(LATEX, "28", "0.28"); /* but only when written as a percentage */
    EQ(LATEX, "16386.17", "\\$16,\\!386.17");
    EQ(LATEX, "5", "5.");
    EQ(LATEX, "\\text{Evelyn}", "\\text{ Evelyn }");
    EQ(LATEX, "\\text{odd}", "odd");
    EQ(LATEX, "\\frac{1}{5}", "\\\\frac{1}{5}"); /* escaped twice */
    NE(LATEX, "\\text{Evelyn}", "\\text{Carla}");
}

Test(equal, tuples_intervals_sets) {
    EQ(LATEX, "(1,\\frac{9}{2})", "(1,4.5)");
    NE(LATEX, "(1,2)", "(2,1)");
    EQ(LATEX, "[0,1)", "[0, 1)");
    NE(LATEX, "[0,1)", "(0,1)");
    NE(LATEX, "[0,1)", "[0,1]");
    EQ(LATEX, "\\{1,2,3\\}", "\\{3,1,2\\}");
    EQ(LATEX, "1,2,3", "3, 2, 1");
    EQ(LATEX, "\\{1\\pm\\sqrt{5},-2\\}", "\\{-2, 1+\\sqrt{5}, 1-\\sqrt{5}\\}");
    EQ(LATEX, "3 \\pm 2\\sqrt{2}", "3+2\\sqrt2, 3-2\\sqrt2");
    EQ(LATEX, "(1,2),(3,4)", "(3,4),(1,2)");
    EQ(LATEX, "(0;1)", "(0,1)");
    EQ(LATEX, "(-\\infty, 1) \\cup (2, \\infty)", "(2,\\infty)\\cup(-\\infty,1)");
    NE(LATEX, "(-\\infty, 1) \\cup (2, \\infty)", "(-\\infty, 1) \\cup [2, \\infty)");
    EQ(LATEX, "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}");
    NE(LATEX, "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&5\\end{pmatrix}");
}

Test(equal, relations) {
    EQ(LATEX, "5", "x = 5");
    EQ(LATEX, "(3,2)", "(p,q) = (3,2)");
    EQ(LATEX, "11", "x = 5+5+1 = 11");
    EQ(LATEX, "\\frac{1}{3}", "x = 1/3 \\approx 0.33");
    NE(LATEX, "7 = 11a+c", "11a+c"); /* not a name on the left: an equation */
    EQ(LATEX, "2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{3}{4}");
    EQ(LATEX, "x \\le 5", "5 \\geq x");
    EQ(LATEX, "x < 1", "-x > -1");
    NE(LATEX, "x < 1", "x > -1");
    NE(LATEX, "x < 1", "x \\le 1");
    EQ(LATEX, "[-2,7]", "-2 \\le x \\le 7");
    EQ(LATEX, "x \\in [-2,7]", "[-2,7]");
    EQ(LATEX, "x \\neq 3", "x != 3");
}

Test(equal, symbolic_expressions) {
    EQ(LATEX, "\\frac{x+2}{7}", "\\frac{x}{7}+\\frac{2}{7}");
    EQ(LATEX, "\\tan^2(y)+1", "\\sec^2(y)");
    EQ(LATEX, "2 \\sin b \\cos a", "2\\cos a \\sin b");
    EQ(LATEX, "x^{2/3}", "\\sqrt[3]{x}^2");
    EQ(LATEX, "(x+1)^2", "x^2+2x+1");
    EQ(LATEX, "e^{\\ln 2}", "2");
    EQ(LATEX, "\\log_2 8", "3");
    EQ(LATEX, "5!", "120");
    EQ(LATEX, "\\binom{5}{2}", "10");
    EQ(LATEX, "|{-3}|", "3");
    NE(LATEX, "x+2n+1", "x+1");
    NE(LATEX, "4", "\\frac{34}{16}+\\frac{\\sqrt{1358}}{16}");
    EQ(LATEX, "204_5", "54");                   /* a number in base 5 */
    EQ(LATEX, "1\\frac{4}{5}", "\\frac{9}{5}"); /* a mixed number */
    EQ(LATEX, "-1\\frac{4}{5}", "-1.8");
    EQ(LATEX, "2\\frac{\\pi}{3}", "\\frac{2\\pi}{3}");                 /* not a mixed number: a product */
    EQ(LATEX, "\\frac{639}{40}", "15\\frac{39}{40}, \\frac{639}{40}"); /* one value in two forms */
    NE(LATEX, "\\frac{639}{40}", "15, \\frac{639}{40}");
}

/* Rules learnt from Math-Verify's source (parser.py, latex2sympy2_extended's grammar), each with its
 * reason. */
Test(equal, math_verify_percent_sum_and_line_breaks) {
    /* A percentage is a hundredth of the whole number written before it (latex2sympy2's
     * PERCENT_NUMBER, parser.py's convert_to_pct), while the number as written still matches by
     * Math-Verify's fallback string: 4 4/9% is 40/900, not 40/9; 12.5% is 0.125 and "12.5". */
    EQ(LATEX, "\\frac{40}{900}", "4 4/9%");
    NE(LATEX, "\\frac{40}{9}", "4 4/9%");
    NE(LATEX, "\\frac{40}{9}", "4 4/9 pct");
    EQ(LATEX, "0.125", "12.5\\%");
    EQ(LATEX, "12.5", "12.5 percent");
    NE(LATEX, "28", "0.28%"); /* neither the value (0.0028) nor the number written (0.28) */
    NE(LATEX, "0.0028", "28%");
    /* \sum and \prod with limits (latex2sympy's FUNC_SUM: the body is the product that follows):
     * evaluated term by term when the limits are integers, otherwise compared as sums. */
    EQ(LATEX, "\\sum_{k=1}^{10} k", "55");
    EQ(LATEX, "\\prod_{i=1}^{5} i", "5!");
    EQ(LATEX, "\\sum_{k=1}^{n} k^2 + 1", "1 + \\sum_{j=1}^{n} j^2"); /* the index is bound */
    NE(LATEX, "\\sum_{k=1}^{n} k", "\\sum_{k=1}^{n} k^2");
    NE(LATEX, "\\sum_{k=0}^{n} k", "\\sum_{k=1}^{n+1} k");
    EQ(LATEX, "F_n = \\sum_{k=0}^{n-1} F_k F_{n-k-1}", "F_n = \\sum_{k=0}^{n-1} F_{n-k-1} F_k");
    EQ(LATEX, "\\sum_{i=1}^{0} i", "0"); /* an empty sum */
    /* A full stop after an answer goes, an ellipsis of dots stays (normalize_latex drops \ldots) */
    EQ(LATEX, "\\frac{1}{3}", "\\frac{1}{3}.");
    NE(LATEX, "1, 2, 3", "1, 2, 3, ...");
    EQ(LATEX, "1,2,3", "1,2,3,\\ldots");
}

Test(extract, line_break_between_numbers) {
    /* parser.py joins the lines of a plain expression with spaces and parses it as Python: "11 5/6"
     * does not parse, so the last number after whitespace is the answer (no '/' in its pattern);
     * on one line "11 5/6" is the mixed number 71/6. */
    expect_extract("11\n5/6", "5", TTE_EXTRACTED_FALLBACK);
    expect_extract("11\r\n5/6", "5", TTE_EXTRACTED_FALLBACK);
    expect_extract("11 5/6", "11 5/6", TTE_EXTRACTED_FALLBACK);
    expect_extract("3\n-5", "3\n-5", TTE_EXTRACTED_FALLBACK); /* 3 -5 is Python: -2 */
    EQ(LATEX, "\\frac{71}{6}", "11 5/6");
    EQ(LATEX, "-2", "3\n-5");
}

Test(equal, choices) {
    const char *forms[] = {"C",        "(C)",         "\\text{C}", "\\text{(C)}", "C) 42", "C. 42",
                           "Option C", "\\textbf{C}", "c"};
    for (size_t k = 0; k < sizeof forms / sizeof *forms; k++) {
        EQ(CHOICE, "C", forms[k]);
        NE(CHOICE, "B", forms[k]);
    }
    const char *choices[] = {"12", "\\frac{1}{2}", "7"};
    cr_expect_eq(tte_choice_match("0.5", choices, 3), 'B');
    cr_expect_eq(tte_choice_match("8", choices, 3), 0);
    cr_expect_eq(tte_choice_match("A", choices, 3), 0); /* already a letter */
}

Test(equal, never_on_missing_or_garbage) {
    cr_expect(!tte_answer_equal(NULL, "1", TTE_ANSWER_LATEX));
    cr_expect(!tte_answer_equal("1", NULL, TTE_ANSWER_LATEX));
    NE(LATEX, "", "");
    NE(LATEX, "1", "\\frac{");
    NE(LATEX, "1", "((((");
}

Test(canonical, forms_written_to_pred) {
    expect_canonical(TTE_ANSWER_INTEGER, "007", "7");
    expect_canonical(TTE_ANSWER_INTEGER, "1,000", "1000");
    expect_canonical(TTE_ANSWER_NUMBER, "\\frac{1}{2}", "0.5");
    expect_canonical(TTE_ANSWER_NUMBER, "50\\%", "50");
    expect_canonical(TTE_ANSWER_CHOICE, "\\text{(C)}", "C");
    expect_canonical(TTE_ANSWER_LATEX, "\\dfrac12", "\\frac{1}{2}");
    expect_canonical(TTE_ANSWER_LATEX, "\\left( 3, \\frac{\\pi}{2} \\right).", "(3,\\frac{\\pi}{2})");
    expect_canonical(TTE_ANSWER_LATEX, "2 \\sin b", "2\\sin b");
    expect_canonical(TTE_ANSWER_LATEX, "k = \\dfrac{1}{3}", "\\frac{1}{3}");
    expect_canonical(TTE_ANSWER_INTEGER, "x_{1} = 007", "7");
    expect_canonical(TTE_ANSWER_LATEX, "y = 2x+1, z = 3", "y=2x+1,z=3"); /* a list stays */
    expect_canonical(TTE_ANSWER_LATEX, "x = 5 = y", "x=5=y");
    expect_canonical(TTE_ANSWER_LATEX, "\\text{The midpoints}", "\\text{The midpoints}");
}

Test(types, parse_and_infer) {
    cr_expect_eq(tte_answer_type_parse("integer"), TTE_ANSWER_INTEGER);
    cr_expect_eq(tte_answer_type_parse("choice"), TTE_ANSWER_CHOICE);
    cr_expect_eq(tte_answer_type_parse("float"), -1);
    cr_expect_eq(tte_answer_type_infer("204", 0), TTE_ANSWER_INTEGER);
    cr_expect_eq(tte_answer_type_infer("-3", 0), TTE_ANSWER_INTEGER);
    cr_expect_eq(tte_answer_type_infer("2.5", 0), TTE_ANSWER_NUMBER);
    cr_expect_eq(tte_answer_type_infer("1/3", 0), TTE_ANSWER_NUMBER);
    cr_expect_eq(tte_answer_type_infer("C", 1), TTE_ANSWER_CHOICE);
    cr_expect_eq(tte_answer_type_infer("C", 0), TTE_ANSWER_LATEX);
    cr_expect_eq(tte_answer_type_infer("\\frac{14}{3}", 0), TTE_ANSWER_LATEX);
}

/* MATH-500's gold answers against the \boxed{} answer of each item's own solution: real answers in
 * every format the benchmark has. Expected misses, each with its reason: */
static const struct {
    int line;
    const char *reason;
} math500_misses[] = {
    {0, NULL},
};

Test(real_data, math500_solutions_agree_with_answers) {
    const char *share = getenv("TTE_SHARE");
    char path[4096];
    snprintf(path, sizeof path, "%s/data/math500.jsonl", share ? share : "share");
    FILE *f = fopen(path, "r");
    cr_assert(f, "%s: cannot open", path);
    char *line = NULL;
    size_t cap = 0;
    int line_no = 0, agree = 0, unexpected = 0;
    while (getline(&line, &cap, f) > 0) {
        line_no++;
        json_t *rec = json_loads(line, 0, NULL);
        cr_assert(rec, "%s:%d: bad JSON", path, line_no);
        const char *gold = json_string_value(json_object_get(rec, "answer"));
        char *pred = tte_extract_text(json_string_value(json_object_get(rec, "solution")), NULL);
        int equal = pred && tte_answer_equal(gold, pred, tte_answer_type_infer(gold, 0));
        int listed = 0;
        for (size_t k = 0; math500_misses[k].reason; k++)
            if (math500_misses[k].line == line_no) listed = 1;
        if (equal) agree++;
        if (equal == listed) {
            unexpected++;
            printf("math500 line %d: %s: gold [%s] boxed [%s]\n", line_no,
                   listed ? "now agrees" : "UNEXPECTED", gold, pred ? pred : "(none)");
        }
        free(pred);
        json_decref(rec);
    }
    free(line);
    fclose(f);
    printf("math500: %d of %d solutions agree with their answers\n", agree, line_no);
    cr_expect_eq(line_no, 500);
    cr_expect_eq(unexpected, 0);
}

/* SymPy's LaTeX printer and SymPy's verdict as an independent reference: the pairs of PATH (each
 * {"a", "b", "equal"}), of which there must be 300, all agreeing under Math-Verify's behaviour. */
static void sympy_pairs_agree(const char *path) {
    FILE *f = fopen(path, "r");
    cr_assert(f, "%s: cannot open (run from the repository root)", path);
    char *line = NULL;
    size_t cap = 0;
    int n = 0, agree = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *rec = json_loads(line, 0, NULL);
        cr_assert(rec, "%s:%d: bad JSON", path, n + 1);
        const char *a = json_string_value(json_object_get(rec, "a"));
        const char *b = json_string_value(json_object_get(rec, "b"));
        int want = json_is_true(json_object_get(rec, "equal"));
        int got = tte_answer_equal(a, b, TTE_ANSWER_LATEX);
        n++;
        if (got == want)
            agree++;
        else
            printf("%s:%d: SymPy %s, tte %s: [%s] [%s]\n", path, n, want ? "equal" : "different",
                   got ? "equal" : "different", a, b);
        json_decref(rec);
    }
    free(line);
    fclose(f);
    printf("%s: %d of %d agree\n", path, agree, n);
    cr_expect_eq(n, 300);
    cr_expect_eq(agree, n);
}

/* Expressions (tools/grade_sympy_pairs.py): half equal by a symbolic rewriting, half different by one
 * change. */
Test(real_data, sympy_pairs_agree) { sympy_pairs_agree("tests/golden/grade-sympy-pairs.jsonl"); }

/* Sets, tuples, intervals and their unions, equations (tools/grade_sympy_structures.py). */
Test(real_data, sympy_structures_agree) { sympy_pairs_agree("tests/golden/grade-sympy-structures.jsonl"); }
