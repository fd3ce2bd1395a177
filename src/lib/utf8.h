/* utf8: checking UTF-8 and repairing it the way every tokenizer reference does.
 *
 * Text handed to tte may contain bytes that are not UTF-8 (a truncated download, a binary field).
 * Hugging Face tokenizers take Rust strings, so such bytes never reach them: callers first decode
 * with String::from_utf8_lossy, and JavaScript with TextDecoder. Both replace each maximal invalid
 * subsequence (Unicode 15, section 3.9, "U+FFFD substitution of maximal subparts") with one U+FFFD.
 * tte does the same, so a string's token ids are those of its lossy decoding. */
#ifndef TTE_UTF8_H
#define TTE_UTF8_H

#include <stddef.h>

/* Length of the longest valid UTF-8 prefix of S[0..LEN). Equals LEN when S is valid. */
size_t tte_utf8_valid_prefix(const char *s, size_t len);

/* S with every maximal invalid subsequence replaced by U+FFFD (EF BF BD), NUL-terminated; *OUTLEN
 * gets its length. Returns a new malloc'd string the caller frees; never NULL (out of memory exits,
 * xalloc.h). */
char *tte_utf8_lossy(const char *s, size_t len, size_t *outlen);

#endif
