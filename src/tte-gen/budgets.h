/* budgets: the thinking budgets of a sweep, from --budgets. */
#ifndef TTE_GEN_BUDGETS_H
#define TTE_GEN_BUDGETS_H

enum { MAX_BUDGETS = 64 };

/* Parses "A..B" (the powers of two 2^A .. 2^B, as the study writes its budgets) or a list
 * "100,300,1000" into OUT (ascending, distinct, each in 1..2^30). Returns the count, or -1 with a
 * message in ERR. */
int budgets_parse(const char *s, int out[MAX_BUDGETS], char *err, int errlen);

#endif
