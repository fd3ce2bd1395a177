/* gpqa: GPQA (Rein et al., 2023) from the user's own copy, with the original study's construction of
 * each item: the pre-revision columns, the four answers shuffled by numpy's legacy
 * RandomState(seed).shuffle, one shuffle per row in file order from one generator, and its prompt.
 * GPQA is gated (its authors ask that it not be reposted in plain text), so tte does not ship it. */
#ifndef TTE_FETCH_GPQA_H
#define TTE_FETCH_GPQA_H

#include <jansson.h>
#include <stdint.h>

#include "item.h"

typedef struct {
    int revised;         /* read Question, Correct Answer, Incorrect Answer 1-3 */
    uint32_t seed;       /* RandomState seed of the choice order; the study's is 42 */
    const char *dataset; /* dataset name of the items; NULL: "gpqa" */
} gpqa_options;

#define GPQA_STUDY_SEED 42

/* Reads every row of PATH (CSV with a header, as downloaded, or JSON lines or a JSON array with the
 * same fields) into ITEMS. A missing column or an empty field is an error ("FILE:LINE: ..." in ERR,
 * return -1) unless SKIP_BAD, which counts the row in *SKIPPED; a skipped row still takes its
 * shuffle, so the other rows' orders never depend on --skip-bad. */
int gpqa_read(const char *path, const gpqa_options *opt, prompt_style style, int skip_bad, json_t *items,
              long *skipped, char *err, size_t errlen);

#endif
