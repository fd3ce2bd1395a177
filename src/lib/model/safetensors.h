/* safetensors: read-only, memory-mapped access to Hugging Face .safetensors files, single or sharded.
 *
 * Format (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length N, N bytes
 * of JSON {"name": {"dtype": "BF16", "shape": [r, c], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {...}}, then the data; offsets are relative to the first byte after the header.
 *
 * Everything is validated at open: header length inside the file, JSON well formed, every entry has a
 * known dtype, a non-negative shape and offsets inside the data, shape x dtype size equals the byte
 * length, and no two tensors overlap. Tensors are never copied or converted: `data` points into the
 * read-only mapping, which lives until tte_st_close.
 *
 * Errors are one line, naming the file and, where there is one, the tensor. */
#ifndef TTE_SAFETENSORS_H
#define TTE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    TTE_DT_F32,
    TTE_DT_F16,
    TTE_DT_BF16,
    TTE_DT_F64,
    TTE_DT_I64,
    TTE_DT_I32,
    TTE_DT_I16,
    TTE_DT_I8,
    TTE_DT_U8,
    TTE_DT_BOOL,
    TTE_DT_F8_E4M3,
    TTE_DT_F8_E5M2,
} tte_dtype;

enum { TTE_ST_MAX_DIMS = 8 };

typedef struct {
    const char *name; /* owned by the set */
    const char *file; /* path of the file holding it, owned by the set */
    tte_dtype dtype;
    int ndim;
    int64_t shape[TTE_ST_MAX_DIMS];
    const void *data; /* inside the mapping, read-only */
    size_t nbytes;
} tte_st_tensor;

typedef struct tte_st_set tte_st_set;

/* Parses a header held in memory: BUF is the whole file image (LEN bytes). On success returns 0 and
 * the tensors (data pointing into BUF) through tte_st_set; used by tte_st_open and by the fuzzer.
 * NAME is used in error messages. The returned set does not own BUF. */
tte_st_set *tte_st_parse(const void *buf, size_t len, const char *name, char *err, size_t errlen);

/* Opens DIR/model.safetensors, or every shard named by DIR/model.safetensors.index.json (whose
 * weight_map must agree with the shards' headers). Returns NULL with a message in ERR when a file
 * cannot be read or is not valid (out of memory, here and in tte_st_parse, exits: xalloc.h). */
tte_st_set *tte_st_open_dir(const char *dir, char *err, size_t errlen);
void tte_st_close(tte_st_set *s);

/* The tensor named NAME, or NULL. Borrowed from the set. */
const tte_st_tensor *tte_st_find(const tte_st_set *s, const char *name);
int tte_st_count(const tte_st_set *s);
const tte_st_tensor *tte_st_at(const tte_st_set *s, int i);

/* Number of files and, for each, its path, size and header bytes (8-byte length + JSON): what the
 * model hash covers. Borrowed. */
int tte_st_nfiles(const tte_st_set *s);
void tte_st_file_info(const tte_st_set *s, int i, const char **path, size_t *size, const void **header,
                      size_t *header_len);
/* Bytes mapped in all files. */
size_t tte_st_mapped_bytes(const tte_st_set *s);

/* Size in bytes of one element of DT; the name as written in headers ("BF16"). */
size_t tte_dtype_size(tte_dtype dt);
const char *tte_dtype_name(tte_dtype dt);

#endif
