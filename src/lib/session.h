/* session: a model ready to run, the one way every tool opens one.
 *
 * tte_session_open resolves the model (a folder, or a Hugging Face id in the local cache, hub.h),
 * loads its tokenizer, when asked its chat template (the model's, or a --template file) and, unless the
 * caller only tokenises, its config and weights; hashes the weights for cache keys; and opens the result
 * cache (cache.h) when asked. tte_session_start then opens the engine on its device and the
 * scheduler over it (engine/sched.h), once the caller knows how much KV memory its work needs.
 *
 * Everything a cache key must name about the numbers is here: the model's hash and `numerics`,
 * which names the device, the CPU kernel path and the numerics version (engine.h), so results
 * computed with different rounding never mix in a cache shared between machines.
 *
 * Ownership: the session owns everything it holds, freed by tte_session_close. Failure: open and
 * start return NULL / -1 with a one-line message in ERR, and the caller prints it; out of memory
 * exits (xalloc.h). Not thread-safe (the engine uses threads inside). */
#ifndef TTE_SESSION_H
#define TTE_SESSION_H

#include <stddef.h>

#include "cache.h"
#include "engine/engine.h"
#include "engine/sched.h"
#include "jsonl.h"
#include "model/chat.h"
#include "model/tokenizer.h"

typedef struct {
    const char *model;         /* --model: a folder or a Hugging Face id */
    const char *template_path; /* --template FILE, or NULL for the model's chat template */
    int tokenizer_only;        /* load no weights */
    int chat;                  /* load the chat template (template_path, or the model's) */
    int threads;               /* 0: all cores */
    const char *device;        /* cpu, cuda or auto (NULL: cpu) */
    int use_cache;             /* open the result cache ($TTE_CACHE); if it cannot be, warn and go on */
} tte_session_opts;

typedef struct {
    char model_dir[4096]; /* the folder the model resolved to */
    char model_name[256]; /* the records' "model": the last part of the name the user gave */
    tte_tokenizer *tok;
    tte_chat *chat;   /* NULL without opts.chat */
    tte_model *model; /* NULL with tokenizer_only */
    const tte_config *cfg;
    char model_hash[40];
    double n_params;    /* parameters stored in the safetensors files (embeddings included) */
    char numerics[64];  /* e.g. "cpu/avx512/n1" (engine.h's tte_engine_numerics) */
    tte_cache *cache;   /* NULL without use_cache */
    tte_engine *engine; /* after tte_session_start */
    tte_sched *sched;
    int threads;
    const char *device;
} tte_session;

tte_session *tte_session_open(const tte_session_opts *o, char *err, size_t errlen);
/* Opens the engine with KV_BYTES of KV cache (0: the engine's default) and a scheduler of at most
 * BATCH lanes per forward call over it. */
int tte_session_start(tte_session *s, size_t kv_bytes, int batch, char *err, size_t errlen);
void tte_session_close(tte_session *s);

/* Tokens a record of --logprobs, --next-dist or --prm is expected to hold, for the default KV
 * memory: a longer one runs alone, or asks for more --kv-mem when even that does not fit. */
enum { TTE_SESSION_RECORD_TOKENS = 4096 };

/* The KV memory a job takes when --kv-mem is not given: BATCH pieces of work of TOKENS tokens each,
 * at most 2 GiB, and never less than one piece (a larger piece gets what it needs). */
size_t tte_session_kv_default(const tte_session *s, size_t tokens, int batch);

/* The ids of TEXT (malloc'd, never NULL); *N set. Exits with a message on out of memory and when
 * the tokenizer's pattern hits PCRE2's match limit (tokenizer.h), which real texts do not reach. */
int32_t *tte_session_encode(const tte_session *s, const char *text, size_t len, int *n);
/* A record's token ids into OUT (empty on entry): its IDS_FIELD list, each a token of the model, or
 * else its TEXT_FIELD encoded (through the chat template when CHAT: the session has one). Returns 0,
 * or -1 after tte_jsonl_fail on IN (a missing or bad field, a text that encodes to no tokens). */
int tte_session_read_ids(const tte_session *s, tte_jsonl *in, json_t *rec, const char *ids_field,
                         const char *text_field, int chat, tte_tokens *out);

/* The chat-templated ids of the user message PROMPT (the session has its chat template); *N set. */
int32_t *tte_session_prompt(const tte_session *s, const char *prompt, int *n);

#endif
