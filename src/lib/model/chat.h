/* chat: the chat templates of the models tte studies, rendered for one user message with the
 * generation prompt (what transformers' apply_chat_template(messages, add_generation_prompt=True)
 * gives for [{"role": "user", "content": PROMPT}]).
 *
 * tte runs no Jinja. It recognises the template of tokenizer_config.json by its content and renders
 * a fixed recipe for each known family:
 *   deepseek-r1  DeepSeek-R1 and its distills: BOS "<｜User｜>" PROMPT "<｜Assistant｜>", plus "<think>\n"
 *                when the template adds it (the revision of February 2025 does)
 *   chatml       Qwen2.5, Qwen2.5-Math, QwQ, Qwen3: the template's default system block, if it has
 *                one, then "<|im_start|>user\n" PROMPT "<|im_end|>\n<|im_start|>assistant\n", plus
 *                "<think>\n" when the generation prompt has it (QwQ)
 *   llama3       Llama-3 instruct: BOS "<|start_header_id|>user<|end_header_id|>\n\n" PROMPT (trimmed
 *                as Python's str.strip does) "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
 * Anything else (Llama-3.1's dated system prompt included) is an error: give a template file.
 *
 * Template file (--template FILE): the exact text to encode, byte for byte (mind a final newline),
 * with the placeholder {{prompt}} exactly once where the user message goes. Special tokens are
 * written as their text ("<|im_start|>"); encoding turns them into their ids.
 *
 * Ownership: tte_chat_* constructors return an object the caller frees with tte_chat_free; render
 * returns a malloc'd string the caller frees. Errors go to ERR as one line. */
#ifndef TTE_CHAT_H
#define TTE_CHAT_H

#include <stddef.h>

#include "tokenizer.h"

typedef struct tte_chat tte_chat;

/* Recognises the Jinja source TEMPLATE. BOS_TEXT is the tokenizer's bos_token (NULL when none); a
 * template that writes bos_token needs one. NAME is the file named in messages. Returns NULL with a
 * message in ERR for a template tte does not know. Out of memory, here and in every function below,
 * exits (xalloc.h). */
tte_chat *tte_chat_recognise(const char *template_text, const char *bos_text, const char *name, char *err,
                             size_t errlen);
/* The same for the chat_template and bos_token of T's tokenizer_config.json. */
tte_chat *tte_chat_from_tokenizer(const tte_tokenizer *t, char *err, size_t errlen);
/* Reads a template file as described above. */
tte_chat *tte_chat_from_file(const char *path, char *err, size_t errlen);
void tte_chat_free(tte_chat *c);

/* The text to encode for the user message PROMPT (NUL-terminated, *LEN set, malloc'd for the
 * caller); never NULL. */
char *tte_chat_render(const tte_chat *c, const char *prompt, size_t *len);

/* "deepseek-r1", "chatml", "llama3" or "file". Borrowed. */
const char *tte_chat_family(const tte_chat *c);

#endif
