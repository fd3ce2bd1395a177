/* grade: answer extraction and math equivalence, as the public graders (Qwen2.5-Math's math_equal,
 * Math-Verify) decide it.
 *
 * A grade has two steps. Extraction finds the answer in what a model wrote: the forced final answer
 * (tte_extract_final), or the last \boxed{} of a free text, with documented fallbacks
 * (tte_extract_text). Equivalence (tte_answer_equal) then decides whether that answer means the same
 * as the gold answer: LaTeX is normalised, numbers compared with relative tolerance 1e-6, tuples,
 * intervals and sets compared by their elements, equations and symbolic expressions by evaluating
 * both sides at seeded random points. tte_answer_canonical writes an answer in a normal form, so that
 * equivalent answers usually compare equal as strings (majority voting groups them).
 *
 * Ownership: every returned char * is a new string the caller frees with free(); inputs are borrowed.
 * Every function accepts arbitrary bytes (never crashes on malformed LaTeX); a string it cannot
 * parse as math is compared as normalised text. */
#ifndef TTE_GRADE_H
#define TTE_GRADE_H

typedef enum {
    TTE_ANSWER_INTEGER, /* AIME: 0-999, leading zeros allowed ("007" is 7) */
    TTE_ANSWER_NUMBER,  /* a real number, possibly written as a fraction or with separators */
    TTE_ANSWER_LATEX,   /* anything: expressions, tuples, intervals, sets, equations, text */
    TTE_ANSWER_CHOICE,  /* a multiple choice letter A-Z */
} tte_answer_type;

/* Parses "integer", "number", "latex" or "choice"; returns -1 for anything else. */
int tte_answer_type_parse(const char *name);
const char *tte_answer_type_name(tte_answer_type type);
/* The type of a gold answer given without one: integer when it is an optional minus sign and digits,
 * choice when it is one capital letter A-Z and the item has choices (HAS_CHOICES), number when it
 * reads as a plain number (decimal point, thousands separators, a/b), latex otherwise. */
tte_answer_type tte_answer_type_infer(const char *gold, int has_choices);

/* Where an extracted answer came from; the names are those of the "extracted" field. */
typedef enum {
    TTE_EXTRACTED_NONE,
    TTE_EXTRACTED_FINAL,    /* the forced final answer of a generation */
    TTE_EXTRACTED_BOXED,    /* the last \boxed{} / \fbox{} of a text */
    TTE_EXTRACTED_PRED,     /* given by the user as "pred" */
    TTE_EXTRACTED_FALLBACK, /* "final answer is ...", a math segment or the last number of a text */
} tte_extracted;
const char *tte_extracted_name(tte_extracted how);

/* The forced final answer: FINAL is what followed "\boxed{", so the answer runs up to the first '}'
 * that closes nothing ("204}" -> "204", "\frac{1}{2}}" -> "\frac{1}{2}"), or to the end when the
 * answer tokens ran out first. Returns NULL when that leaves nothing but spaces. */
char *tte_extract_final(const char *final);

/* The answer in a free text, in this order of preference:
 *  1. the last \boxed{...} or \fbox{...} (balanced braces; "\boxed 5" too); boxes right before it
 *     that are separated from it only by commas, spacing, or a short phrase with "and"/"or" are
 *     joined into one list ("\boxed{1}, \boxed{2}" -> "1, 2");                       -> BOXED
 *  2. after the last "final answer" phrase: the math or number after "is", else the last number of
 *     its sentence;                                                                     -> FALLBACK
 *  3. the whole text, when it is short, has no math delimiters or prose words, and reads as math;
 *  4. after the last "answer is" / "answer:": as in 2;
 *  5. whichever comes last of: the last math segment ($..$, $$..$$, \(..\), \[..\]; joined with the
 *     segments before it like boxes in 1) and the last number outside math segments (a number glued
 *     to letters, as in "AZYUK2A", is not one).                                        -> FALLBACK
 * Returns NULL with *HOW = NONE when nothing is found. HOW may be NULL. */
char *tte_extract_text(const char *text, tte_extracted *how);

/* 1 when PRED means the same as GOLD for an answer of TYPE, else 0. Both are answers already
 * extracted (no surrounding prose). Deterministic: random points come from a fixed seed. */
int tte_answer_equal(const char *gold, const char *pred, tte_answer_type type);

/* The letter ('A' + index) of the choice among the N texts of CHOICES that PRED equals (as LaTeX),
 * when PRED is not already a letter; 0 when none does. */
int tte_choice_match(const char *pred, const char *const *choices, int n);

/* PRED in canonical form: integers without leading zeros or separators ("007" -> "7", "1,000" ->
 * "1000"); numbers as the shortest decimal that round-trips ("\frac{1}{2}" -> "0.5", "50\%" -> "50");
 * choices as the capital letter ("(C)", "\text{C}", "C) 42" -> "C"); LaTeX normalised (\dfrac and
 * \tfrac -> \frac, no \left \right, spacing, \text{} units, degrees, dollars, trailing period, no
 * spaces); "x = 5" as "5" (a one-letter name, and no other relation or comma). An answer that does not
 * read as its type keeps its normalised LaTeX form. */
char *tte_answer_canonical(const char *pred, tte_answer_type type);

/* ---- graders ----
 * Two public graders decide equivalence differently; tte follows either (see tte-score(1), GRADERS):
 *  MATH_VERIFY  huggingface/Math-Verify's parse + verify, the default and what the functions above do:
 *               several boxes next to each other are one set; sets are unordered, tuples and
 *               intervals ordered with their brackets; "1,22" may be a decimal comma; an inequality
 *               of one variable equals its interval; "a=1,b=4" equals the tuple (1,4).
 *  QWEN         Qwen2.5-Math's extract_answer + strip_string + math_equal: only the last box; every
 *               list is ordered and its brackets do not matter ((1,2] is [1,2), {1,2} is (1,2) but
 *               not {2,1}); commas in numbers are dropped ("1,22" is 122); two plain numbers are
 *               also equal when one is 100 times the other (50 and 0.5); relative tolerance 1e-4;
 *               two equations are equal when lhs - rhs agree up to sign only. */
typedef enum { TTE_GRADER_MATH_VERIFY, TTE_GRADER_QWEN } tte_grader;

/* Parses "math-verify" or "qwen"; -1 for anything else. */
int tte_grader_parse(const char *name);
const char *tte_grader_name(tte_grader grader);

/* tte_extract_text as GRADER extracts: MATH_VERIFY is tte_extract_text; QWEN takes the last "boxed"
 * (no joining), else what follows the last "he answer is" / "final answer is", else the last number
 * of the text with its commas dropped. */
char *tte_extract_text_as(const char *text, tte_extracted *how, tte_grader grader);

/* The gold answer as the grader reads it: a gold that is a solution text (it has a \boxed{} or
 * \fbox{}, or prose with "answer is" / "final answer") is read at its final answer exactly as a
 * prediction is; any other gold is returned as it is. A new string, never NULL. */
char *tte_extract_gold(const char *gold, tte_grader grader);

/* tte_answer_equal under GRADER's rules (MATH_VERIFY is tte_answer_equal). */
int tte_answer_equal_as(const char *gold, const char *pred, tte_answer_type type, tte_grader grader);

#endif
