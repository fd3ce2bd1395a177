/* sampling: see sampling.h. */
#include "sampling.h"

tte_sampling sampling_resolve(const sampling_choice *c, const tte_config *cfg) {
    tte_sampling s;
    s.temperature = c->greedy ? 0 : c->temperature >= 0 ? c->temperature : cfg->temperature;
    s.top_p = c->top_p >= 0 ? c->top_p : cfg->top_p;
    s.top_k = c->top_k >= 0 ? c->top_k : cfg->top_k;
    return s;
}

int sampling_vocab(const tte_config *cfg, const tte_tokenizer *tok) {
    int n = (int)tte_tokenizer_vocab_size(tok);
    return n < cfg->vocab_size ? n : cfg->vocab_size;
}
