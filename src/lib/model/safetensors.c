/* safetensors: header parsing and validation, mmap of single and sharded files. */
#include "model/safetensors.h"
#include "cli.h"
#include "errmsg.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The format caps the header at 100 MB; larger is corrupt or hostile. */
#define MAX_HEADER (100u * 1000 * 1000)

typedef struct {
    char *path;
    void *map; /* NULL when the image belongs to the caller (tte_st_parse) */
    size_t size;
    const unsigned char *image;
} st_file;

struct tte_st_set {
    st_file *files;
    int nfiles, files_cap;
    tte_st_tensor *tensors;
    int ntensors, cap;
};

static const struct {
    const char *name;
    size_t size;
} dtypes[] = {
    [TTE_DT_F32] = {"F32", 4},   [TTE_DT_F16] = {"F16", 2},         [TTE_DT_BF16] = {"BF16", 2},
    [TTE_DT_F64] = {"F64", 8},   [TTE_DT_I64] = {"I64", 8},         [TTE_DT_I32] = {"I32", 4},
    [TTE_DT_I16] = {"I16", 2},   [TTE_DT_I8] = {"I8", 1},           [TTE_DT_U8] = {"U8", 1},
    [TTE_DT_BOOL] = {"BOOL", 1}, [TTE_DT_F8_E4M3] = {"F8_E4M3", 1}, [TTE_DT_F8_E5M2] = {"F8_E5M2", 1},
};

size_t tte_dtype_size(tte_dtype dt) { return dtypes[dt].size; }
const char *tte_dtype_name(tte_dtype dt) { return dtypes[dt].name; }

static int parse_dtype(const char *s, tte_dtype *out) {
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcmp(s, dtypes[i].name) == 0) {
            *out = (tte_dtype)i;
            return 0;
        }
    return -1;
}

static void add_tensor(tte_st_set *s, const tte_st_tensor *t) {
    if (s->ntensors == INT32_MAX) tte_die("out of memory");
    TTE_GROW(s->tensors, s->cap, (size_t)s->ntensors + 1);
    s->tensors[s->ntensors++] = *t;
}

/* Parses one entry of the header into T. Returns 0, or -1 with a message naming the tensor. */
static int parse_entry(const char *fname, const char *key, json_t *v, uint64_t data_len, tte_st_tensor *t,
                       char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    if (!json_is_object(v))
        return tte_fail(err, errlen, "%s: tensor '%s': entry is not an object", fname, key);
    json_t *dt = json_object_get(v, "dtype"), *shape = json_object_get(v, "shape"),
           *off = json_object_get(v, "data_offsets");
    if (!json_is_string(dt) || parse_dtype(json_string_value(dt), &t->dtype) != 0)
        return tte_fail(err, errlen, "%s: tensor '%s': missing or unknown dtype", fname, key);
    if (!json_is_array(shape) || json_array_size(shape) > TTE_ST_MAX_DIMS)
        return tte_fail(err, errlen, "%s: tensor '%s': shape must be an array of at most %d sizes", fname,
                        key, TTE_ST_MAX_DIMS);
    /* Element count with overflow checks: every factor is bounded by the data length. */
    uint64_t count = 1;
    int zero = 0;
    t->ndim = (int)json_array_size(shape);
    for (int i = 0; i < t->ndim; i++) {
        json_t *d = json_array_get(shape, (size_t)i);
        if (!json_is_integer(d) || json_integer_value(d) < 0)
            return tte_fail(err, errlen, "%s: tensor '%s': shape entries must be non-negative integers",
                            fname, key);
        uint64_t n = (uint64_t)json_integer_value(d);
        t->shape[i] = (int64_t)n;
        if (n == 0)
            zero = 1;
        else if (!zero && count > data_len / n)
            return tte_fail(err, errlen, "%s: tensor '%s': shape larger than the file", fname, key);
        else if (!zero)
            count *= n;
    }
    if (zero) count = 0;
    if (!json_is_array(off) || json_array_size(off) != 2 || !json_is_integer(json_array_get(off, 0)) ||
        !json_is_integer(json_array_get(off, 1)))
        return tte_fail(err, errlen, "%s: tensor '%s': data_offsets must be [begin, end]", fname, key);
    json_int_t b = json_integer_value(json_array_get(off, 0)), e = json_integer_value(json_array_get(off, 1));
    if (b < 0 || e < b || (uint64_t)e > data_len)
        return tte_fail(err, errlen,
                        "%s: tensor '%s': data_offsets [%lld, %lld] outside the data (%llu bytes)", fname,
                        key, (long long)b, (long long)e, (unsigned long long)data_len);
    uint64_t want = count * dtypes[t->dtype].size; /* count <= data_len, size <= 8: no overflow */
    if (want != (uint64_t)(e - b))
        return tte_fail(err, errlen, "%s: tensor '%s': shape and dtype need %llu bytes, offsets give %lld",
                        fname, key, (unsigned long long)want, (long long)(e - b));
    t->nbytes = (size_t)(e - b);
    t->data = (const void *)(uintptr_t)b; /* made absolute by the caller */
    return 0;
}

static int by_offset(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)((const tte_st_tensor *)a)->data,
              y = (uintptr_t)((const tte_st_tensor *)b)->data;
    return x < y ? -1 : x > y;
}

/* Parses the image of file F (already in s->files) and appends its tensors. */
static int parse_file(tte_st_set *s, int fi, char *err, size_t errlen) {
    st_file *f = &s->files[fi];
    const char *fname = f->path;
    if (f->size < 8)
        return tte_fail(err, errlen, "%s: truncated: %zu bytes, no header length", fname, f->size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | f->image[i];
    if (hlen > MAX_HEADER || hlen > f->size - 8)
        return tte_fail(err, errlen, "%s: header length %llu exceeds the file (%zu bytes)", fname,
                        (unsigned long long)hlen, f->size);
    json_error_t je;
    json_t *h = json_loadb((const char *)f->image + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &je);
    if (!h && json_error_code(&je) == json_error_out_of_memory) tte_die("out of memory");
    if (!h) return tte_fail(err, errlen, "%s: header is not valid JSON: %s", fname, je.text);
    int rc = 0;
    if (!json_is_object(h)) {
        rc = tte_fail(err, errlen, "%s: header is not a JSON object", fname);
        goto out;
    }
    const unsigned char *data = f->image + 8 + hlen;
    uint64_t data_len = f->size - 8 - hlen;
    int first = s->ntensors;
    const char *key;
    json_t *v;
    json_object_foreach(h, key, v) {
        if (strcmp(key, "__metadata__") == 0) continue;
        tte_st_tensor t;
        if ((rc = parse_entry(fname, key, v, data_len, &t, err, errlen)) != 0) goto out;
        if (tte_st_find(s, key)) {
            rc = tte_fail(err, errlen, "%s: tensor '%s' appears in more than one file", fname, key);
            goto out;
        }
        t.name = tte_xstrdup(key);
        t.file = f->path;
        add_tensor(s, &t);
    }
    /* Overlap check on this file's tensors, sorted by begin offset (still relative here). */
    tte_st_tensor *ts = s->tensors + first;
    int n = s->ntensors - first;
    qsort(ts, (size_t)n, sizeof *ts, by_offset);
    for (int i = 0; i + 1 < n; i++)
        if ((uintptr_t)ts[i].data + ts[i].nbytes > (uintptr_t)ts[i + 1].data) {
            rc =
                tte_fail(err, errlen, "%s: tensors '%s' and '%s' overlap", fname, ts[i].name, ts[i + 1].name);
            goto out;
        }
    for (int i = 0; i < n; i++) ts[i].data = data + (uintptr_t)ts[i].data;
out:
    json_decref(h);
    return rc;
}

static tte_st_set *set_new(void) { return tte_xcalloc(1, sizeof(tte_st_set)); }

static st_file *add_file(tte_st_set *s, const char *path) {
    TTE_GROW(s->files, s->files_cap, (size_t)s->nfiles + 1);
    st_file *f = &s->files[s->nfiles++];
    memset(f, 0, sizeof *f);
    f->path = tte_xstrdup(path);
    return f;
}

tte_st_set *tte_st_parse(const void *buf, size_t len, const char *name, char *err, size_t errlen) {
    tte_st_set *s = set_new();
    st_file *f = add_file(s, name);
    f->image = buf;
    f->size = len;
    if (parse_file(s, 0, err, errlen) != 0) {
        tte_st_close(s);
        return NULL;
    }
    return s;
}

static int map_file(tte_st_set *s, const char *path, char *err, size_t errlen) {
    st_file *f = add_file(s, path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return tte_fail(err, errlen, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return tte_fail(err, errlen, "%s: not a regular file", path);
    }
    f->size = (size_t)st.st_size;
    if (f->size > 0) {
        void *m = mmap(NULL, f->size, PROT_READ, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) {
            close(fd);
            return tte_fail(err, errlen, "%s: mmap: %s", path, strerror(errno));
        }
        f->map = m;
        f->image = m;
    } else {
        f->image = (const unsigned char *)"";
    }
    close(fd);
    return parse_file(s, s->nfiles - 1, err, errlen);
}

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = tte_xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Sharded checkpoint: map every distinct file of the index's weight_map, then check the map. */
static int open_sharded(tte_st_set *s, const char *dir, const char *index_path, char *err, size_t errlen) {
    json_error_t je;
    json_t *idx = json_load_file(index_path, JSON_REJECT_DUPLICATES, &je);
    if (!idx && json_error_code(&je) == json_error_out_of_memory) tte_die("out of memory");
    if (!idx) return tte_fail(err, errlen, "%s:%d: %s", index_path, je.line, je.text);
    int rc = 0;
    json_t *wm = json_object_get(idx, "weight_map");
    if (!json_is_object(wm) || json_object_size(wm) == 0) {
        rc = tte_fail(err, errlen, "%s: missing or empty 'weight_map'", index_path);
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(wm, key, v) {
        const char *file = json_string_value(v);
        if (!file || !*file || strchr(file, '/') || strcmp(file, "..") == 0) {
            rc = tte_fail(err, errlen, "%s: weight_map['%s'] must be a file name in the model folder",
                          index_path, key);
            goto out;
        }
        char *path = join(dir, file);
        int seen = 0;
        for (int i = 0; i < s->nfiles; i++) seen |= strcmp(s->files[i].path, path) == 0;
        rc = seen ? 0 : map_file(s, path, err, errlen);
        free(path);
        if (rc) goto out;
    }
    json_object_foreach(wm, key, v) {
        const tte_st_tensor *t = tte_st_find(s, key);
        const char *base = t ? strrchr(t->file, '/') + 1 : NULL;
        if (!t || strcmp(base, json_string_value(v)) != 0) {
            rc = tte_fail(err, errlen, "%s: tensor '%s' is not in %s", index_path, key, json_string_value(v));
            goto out;
        }
    }
out:
    json_decref(idx);
    return rc;
}

/* Whether DIR holds PyTorch pickle weights (pytorch_model.bin or its sharded index). */
static int has_torch_weights(const char *dir) {
    char *bin = join(dir, "pytorch_model.bin"), *index = join(dir, "pytorch_model.bin.index.json");
    int found = access(bin, F_OK) == 0 || access(index, F_OK) == 0;
    free(bin), free(index);
    return found;
}

tte_st_set *tte_st_open_dir(const char *dir, char *err, size_t errlen) {
    tte_st_set *s = set_new();
    char *single = join(dir, "model.safetensors"), *index = join(dir, "model.safetensors.index.json");
    int rc;
    if (access(single, F_OK) == 0)
        rc = map_file(s, single, err, errlen);
    else if (access(index, F_OK) == 0)
        rc = open_sharded(s, dir, index, err, errlen);
    else if (has_torch_weights(dir))
        rc = tte_fail(err, errlen,
                      "%s: the weights are only in PyTorch's pickle format (pytorch_model.bin), which tte does "
                      "not read; convert them once: python3 -c \"from transformers import AutoModel; "
                      "AutoModel.from_pretrained('%s').save_pretrained('%s', safe_serialization=True)\"",
                      dir, dir, dir);
    else
        rc = tte_fail(err, errlen, "%s: no model.safetensors or model.safetensors.index.json", dir);
    free(single);
    free(index);
    if (rc != 0) {
        tte_st_close(s);
        return NULL;
    }
    return s;
}

void tte_st_close(tte_st_set *s) {
    if (!s) return;
    for (int i = 0; i < s->ntensors; i++) free((char *)s->tensors[i].name);
    for (int i = 0; i < s->nfiles; i++) {
        if (s->files[i].map) munmap(s->files[i].map, s->files[i].size);
        free(s->files[i].path);
    }
    free(s->tensors);
    free(s->files);
    free(s);
}

const tte_st_tensor *tte_st_find(const tte_st_set *s, const char *name) {
    for (int i = 0; i < s->ntensors; i++)
        if (strcmp(s->tensors[i].name, name) == 0) return &s->tensors[i];
    return NULL;
}

int tte_st_count(const tte_st_set *s) { return s->ntensors; }
const tte_st_tensor *tte_st_at(const tte_st_set *s, int i) { return &s->tensors[i]; }
int tte_st_nfiles(const tte_st_set *s) { return s->nfiles; }

void tte_st_file_info(const tte_st_set *s, int i, const char **path, size_t *size, const void **header,
                      size_t *header_len) {
    const st_file *f = &s->files[i];
    uint64_t hlen = 0;
    for (int b = 7; b >= 0; b--) hlen = hlen << 8 | f->image[b];
    *path = f->path;
    *size = f->size;
    *header = f->image;
    *header_len = (size_t)(8 + hlen);
}

size_t tte_st_mapped_bytes(const tte_st_set *s) {
    size_t n = 0;
    for (int i = 0; i < s->nfiles; i++) n += s->files[i].map ? s->files[i].size : 0;
    return n;
}
