/* chat: see chat.h.
 *
 * A recognised template becomes PREFIX + PROMPT + SUFFIX. The markers searched for are the Jinja
 * source's own string literals, written here as they appear in it (a "\\n" below is the two
 * characters backslash and n of a Jinja literal). */
#include "chat.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xalloc.h"

struct tte_chat {
    const char *family;
    char *prefix, *suffix;
    int trim; /* strip white space from both ends of the prompt, as Jinja's |trim */
};

#define PLACEHOLDER "{{prompt}}"

/* A chat of PREFIX + prompt + SUFFIX; takes ownership of both. */
static tte_chat *make(const char *family, int trim, char *prefix, char *suffix) {
    tte_chat *c = tte_xmalloc(sizeof *c);
    *c = (tte_chat){family, prefix, suffix, trim};
    return c;
}

/* A formatted string (out of memory exits). */
static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...) {
    char *s;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) tte_die("out of memory"); /* vasprintf's only failure */
    return s;
}

void tte_chat_free(tte_chat *c) {
    if (!c) return;
    free(c->prefix);
    free(c->suffix);
    free(c);
}

const char *tte_chat_family(const tte_chat *c) { return c->family; }

/* The value of the Jinja string literal whose opening quote is at S[-1] (quote Q), unescaped, or
 * NULL when it does not end. Jinja (Python) escapes: \n \t \\ \' \". */
static char *jinja_literal(const char *s, char q) {
    char *out = tte_xmalloc(strlen(s) + 1), *o = out;
    for (; *s && *s != q; s++) {
        if (*s != '\\' || !s[1]) {
            *o++ = *s;
            continue;
        }
        s++;
        *o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
    }
    if (*s != q) {
        free(out);
        return NULL;
    }
    *o = 0;
    return out;
}

/* The default system block of a ChatML template: the first literal that opens a system turn and
 * closes it in the same literal, "<|im_start|>system\n…<|im_end|>\n", as Qwen2.5 writes when the
 * conversation has no system message. "" when there is none (QwQ, Qwen3). */
static char *chatml_default_system(const char *tmpl) {
    static const char open[] = "<|im_start|>system\\n";
    for (const char *p = strstr(tmpl, open); p; p = strstr(p + 1, open)) {
        if (p == tmpl || (p[-1] != '\'' && p[-1] != '"')) continue;
        char *lit = jinja_literal(p, p[-1]);
        if (!lit) continue;
        size_t len = strlen(lit);
        static const char close[] = "<|im_end|>\n";
        if (len > strlen(close) && strcmp(lit + len - strlen(close), close) == 0) return lit;
        free(lit);
    }
    return tte_xstrdup("");
}

static int uses_bos(const char *tmpl) { return strstr(tmpl, "bos_token") != NULL; }

tte_chat *tte_chat_recognise(const char *tmpl, const char *bos_text, const char *name, char *err,
                             size_t errlen) {
    int bos = uses_bos(tmpl);
    if (bos && !bos_text) {
        snprintf(err, errlen, "%s: the chat template writes bos_token, but there is none", name);
        return NULL;
    }
    const char *b = bos ? bos_text : "";
    if (strstr(tmpl, "<｜User｜>") && strstr(tmpl, "<｜Assistant｜>")) {
        int think = strstr(tmpl, "'<｜Assistant｜><think>\\n'") != NULL;
        return make("deepseek-r1", 0, format("%s<｜User｜>", b),
                    format("<｜Assistant｜>%s", think ? "<think>\n" : ""));
    }
    if (strstr(tmpl, "<|im_start|>") && strstr(tmpl, "<|im_end|>")) {
        if (strstr(tmpl, "content|trim") || strstr(tmpl, "content | trim")) {
            snprintf(err, errlen,
                     "%s: this ChatML chat template trims messages: not a known one; give --template", name);
            return NULL;
        }
        char *system = chatml_default_system(tmpl);
        int think = strstr(tmpl, "'<|im_start|>assistant\\n<think>\\n'") != NULL;
        tte_chat *c = make("chatml", 0, format("%s%s<|im_start|>user\n", b, system),
                           format("<|im_end|>\n<|im_start|>assistant\n%s", think ? "<think>\n" : ""));
        free(system);
        return c;
    }
    if (strstr(tmpl, "<|start_header_id|>") && strstr(tmpl, "<|eot_id|>") &&
        !strstr(tmpl, "Cutting Knowledge")) {
        return make("llama3", 1, format("%s<|start_header_id|>user<|end_header_id|>\n\n", b),
                    tte_xstrdup("<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"));
    }
    snprintf(err, errlen,
             "%s: chat_template is not one tte knows (DeepSeek-R1, ChatML of Qwen2.5/QwQ/Qwen3, Llama-3); "
             "give one with --template FILE",
             name);
    return NULL;
}

tte_chat *tte_chat_from_tokenizer(const tte_tokenizer *t, char *err, size_t errlen) {
    const char *tmpl = tte_tokenizer_chat_template(t);
    char name[1024];
    snprintf(name, sizeof name, "%s", tte_tokenizer_path(t));
    char *slash = strrchr(name, '/');
    snprintf(slash ? slash + 1 : name, sizeof name - (size_t)(slash ? slash + 1 - name : 0),
             "tokenizer_config.json");
    if (!tmpl) {
        snprintf(err, errlen, "%s: no chat_template; give one with --template FILE", name);
        return NULL;
    }
    return tte_chat_recognise(tmpl, tte_tokenizer_bos_text(t), name, err, errlen);
}

tte_chat *tte_chat_from_file(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        TTE_GROW(text, cap, len + 4096 + 1);
        size_t got = fread(text + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(text);
        snprintf(err, errlen, "%s: cannot read it", path);
        return NULL;
    }
    text[len] = 0;
    char *at = strstr(text, PLACEHOLDER);
    const char *problem = strlen(text) != len                   ? "it contains a NUL byte"
                          : !at                                 ? "it has no " PLACEHOLDER
                          : strstr(at + 1, PLACEHOLDER) != NULL ? "it has " PLACEHOLDER " more than once"
                                                                : NULL;
    if (problem) {
        free(text);
        snprintf(err, errlen, "%s: not a chat template: %s", path, problem);
        return NULL;
    }
    *at = 0;
    return make("file", 0, text, tte_xstrdup(at + strlen(PLACEHOLDER)));
}

/* Python's str.isspace for the code point at S (UTF-8), which Jinja's |trim strips; its length in
 * *LEN. */
static int python_space(const unsigned char *s, size_t avail, size_t *len) {
    static const unsigned cps[] = {0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000};
    unsigned c;
    if (s[0] < 0x80) {
        *len = 1;
        return (s[0] >= 0x09 && s[0] <= 0x0D) || (s[0] >= 0x1C && s[0] <= 0x20);
    }
    if ((s[0] & 0xE0) == 0xC0 && avail >= 2)
        *len = 2, c = (s[0] & 0x1Fu) << 6 | (s[1] & 0x3Fu);
    else if ((s[0] & 0xF0) == 0xE0 && avail >= 3)
        *len = 3, c = (s[0] & 0x0Fu) << 12 | (s[1] & 0x3Fu) << 6 | (s[2] & 0x3Fu);
    else
        return 0;
    if (c >= 0x2000 && c <= 0x200A) return 1;
    for (size_t i = 0; i < sizeof cps / sizeof *cps; i++)
        if (c == cps[i]) return 1;
    return 0;
}

char *tte_chat_render(const tte_chat *c, const char *prompt, size_t *len) {
    const unsigned char *p = (const unsigned char *)prompt;
    size_t start = 0, end = strlen(prompt), n;
    if (c->trim) {
        while (start < end && python_space(p + start, end - start, &n)) start += n;
        /* From the end: step back to the start of each character and test it. */
        while (end > start) {
            size_t k = end - 1;
            while (k > start && (p[k] & 0xC0) == 0x80) k--;
            if (!python_space(p + k, end - k, &n) || k + n != end) break;
            end = k;
        }
    }
    size_t plen = strlen(c->prefix), slen = strlen(c->suffix);
    char *out = tte_xmalloc(plen + (end - start) + slen + 1);
    memcpy(out, c->prefix, plen);
    memcpy(out + plen, prompt + start, end - start);
    memcpy(out + plen + (end - start), c->suffix, slen + 1);
    *len = plen + (end - start) + slen;
    return out;
}
