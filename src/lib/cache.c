/* cache: see cache.h.
 *
 * File format of an entry: the 8-byte magic "TTEcach1", the entry's own key (16 bytes), the xxh3-64
 * of the uncompressed content (8 bytes), integers little endian, then one zstd frame with its own
 * content size and checksum. The frame checksum catches damaged compressed bytes; the content hash
 * catches damage the frame checksum misses; the key catches a file that holds another entry (a bug,
 * a hand edit, a copy between caches), which both checksums would accept. */
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define MAGIC       "TTEcach1"
#define HEADER_SIZE 32
/* Entries are small JSON documents; level 3 is zstd's default balance of speed and size. */
#define ZSTD_LEVEL 3

/* The largest entry content read back: entries are JSON documents of kilobytes (a unit's trace, a
 * record's candidate scores); anything claiming more is damage, not data. */
#define MAX_CONTENT ((unsigned long long)1 << 30)
/* A zstd frame header's sizes (zstd.h has them only for static linking). */
#define FRAME_HEADER_MIN 6
#define FRAME_HEADER_MAX 18

struct tte_cache {
    char *dir;
    int write_failed; /* a put failed for good: later puts store nothing (atomic: puts may run in
                         threads) */
    char host[65];    /* this machine's name, in temporary file names */
};

/* mkdir that accepts an existing directory, and only a directory. */
static int make_dir(const char *path) {
    if (mkdir(path, 0777) == 0) return 0;
    if (errno != EEXIST) return -1;
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    if (!S_ISDIR(st.st_mode)) return errno = ENOTDIR, -1;
    return 0;
}

static int make_dirs(const char *path) {
    char *p = strdup(path);
    if (!p) return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (make_dir(p) != 0) {
            int e = errno;
            free(p);
            errno = e;
            return -1;
        }
        *s = '/';
    }
    int rc = make_dir(p), e = errno;
    free(p);
    errno = e;
    return rc;
}

/* This machine's name for temporary file names into OUT: letters, digits, '-' and '.' only, at
 * most 64 bytes ("host" when it has none). */
static void host_name(char out[65]) {
    char h[256] = "";
    if (gethostname(h, sizeof h - 1) != 0 || !h[0]) snprintf(h, sizeof h, "host");
    size_t n = 0;
    for (const char *p = h; *p && n < 64; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                 *p == '-' || *p == '.';
        out[n++] = ok ? *p : '_';
    }
    out[n] = 0;
}

tte_cache *tte_cache_open(const char *dir, char *err, size_t errlen) {
    char buf[4096];
    if (!dir) dir = getenv("TTE_CACHE");
    if (!dir || !*dir) {
        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (xdg && *xdg)
            snprintf(buf, sizeof buf, "%s/tte", xdg);
        else if (home && *home)
            snprintf(buf, sizeof buf, "%s/.cache/tte", home);
        else {
            snprintf(err, errlen, "cache: neither TTE_CACHE, XDG_CACHE_HOME nor HOME is set");
            return NULL;
        }
        dir = buf;
    }
    if (make_dirs(dir) != 0) {
        snprintf(err, errlen, "cache: cannot create %s: %s", dir, strerror(errno));
        return NULL;
    }
    tte_cache *c = calloc(1, sizeof *c);
    if (!c || !(c->dir = strdup(dir))) {
        free(c);
        snprintf(err, errlen, "cache: out of memory");
        return NULL;
    }
    host_name(c->host);
    return c;
}

void tte_cache_close(tte_cache *c) {
    if (!c) return;
    free(c->dir);
    free(c);
}

const char *tte_cache_dir(const tte_cache *c) { return c->dir; }

tte_key tte_key_of(const void *data, size_t len) {
    XXH128_hash_t h = XXH3_128bits(data, len);
    return (tte_key){h.high64, h.low64};
}

tte_key tte_key_of_json(const json_t *v) {
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    tte_key k = tte_key_of(s ? s : "", s ? strlen(s) : 0);
    free(s);
    return k;
}

void tte_key_format(tte_key k, char out[38]) {
    snprintf(out, 38, "xxh3:%016llx%016llx", (unsigned long long)k.hi, (unsigned long long)k.lo);
}

static int put_entry(tte_cache *c, tte_key k, const void *data, size_t len, int *e, char *err, size_t errlen);

/* Tries of a put whose failure may pass (tte_cache_put). */
#define PUT_ATTEMPTS 3

/* DIR/xx/<hex>.zst; the two-digit subdirectory keeps directories small on big sweeps. */
static void entry_path(const tte_cache *c, tte_key k, char *out, size_t n, int subdir_only) {
    char hex[38];
    tte_key_format(k, hex);
    if (subdir_only)
        snprintf(out, n, "%s/%.2s", c->dir, hex + 5);
    else
        snprintf(out, n, "%s/%.2s/%s.zst", c->dir, hex + 5, hex + 5);
}

static void put_le64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static int read_at(int fd, unsigned char *buf, size_t n, off_t at) {
    size_t done = 0;
    while (done < n) {
        ssize_t got = pread(fd, buf + done, n - done, at + (off_t)done);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return -1;
        done += (size_t)got;
    }
    return 0;
}

/* The file of entry K, read whole only once its header, the content size its frame claims and its
 * own size agree (so a damaged or foreign file costs no more memory than a real entry would). NULL
 * with *DAMAGED 0 when there is no file, 1 when it is no entry of K. *SEEN: the file's stat. */
static unsigned char *read_entry(const char *path, tte_key k, size_t *flen, int *damaged, struct stat *seen) {
    *damaged = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    unsigned char head[HEADER_SIZE + FRAME_HEADER_MAX], *buf = NULL;
    struct stat st;
    *damaged = 1;
    if (fstat(fd, &st) != 0) goto done;
    *seen = st;
    if (!S_ISREG(st.st_mode) || st.st_size < HEADER_SIZE + FRAME_HEADER_MIN) goto done;
    size_t size = (size_t)st.st_size, nhead = size < sizeof head ? size : sizeof head;
    if (read_at(fd, head, nhead, 0) != 0 || memcmp(head, MAGIC, 8) != 0 || get_le64(head + 8) != k.hi ||
        get_le64(head + 16) != k.lo)
        goto done;
    unsigned long long content = ZSTD_getFrameContentSize(head + HEADER_SIZE, nhead - HEADER_SIZE);
    if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN || content > MAX_CONTENT)
        goto done;
    /* One frame of CONTENT bytes is at most its bound (a little slack for the checksum). */
    if (size - HEADER_SIZE > ZSTD_compressBound((size_t)content) + 64) goto done;
    buf = malloc(size);
    if (buf && read_at(fd, buf, size, 0) == 0) {
        *flen = size;
        *damaged = 0;
    } else {
        /* Out of memory or a read error: absent, but not known to be damaged. */
        free(buf);
        buf = NULL;
        *damaged = 0;
    }
done:
    close(fd);
    return buf;
}

/* Decodes an entry file; NULL when it is damaged in any way. */
static char *decode_entry(tte_key k, const unsigned char *file, size_t flen, size_t *len) {
    if (flen < HEADER_SIZE || memcmp(file, MAGIC, 8) != 0) return NULL;
    if (get_le64(file + 8) != k.hi || get_le64(file + 16) != k.lo) return NULL;
    const unsigned char *frame = file + HEADER_SIZE;
    size_t frame_len = flen - HEADER_SIZE;
    unsigned long long size = ZSTD_getFrameContentSize(frame, frame_len);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > MAX_CONTENT) return NULL;
    char *out = malloc((size_t)size + 1);
    if (!out) return NULL;
    size_t got = ZSTD_decompress(out, (size_t)size, frame, frame_len);
    if (ZSTD_isError(got) || got != size || XXH3_64bits(out, got) != get_le64(file + 24)) {
        free(out);
        return NULL;
    }
    out[got] = 0;
    *len = got;
    return out;
}

int tte_cache_get(tte_cache *c, tte_key k, char **data, size_t *len) {
    if (!c) return 0;
    char path[4200];
    entry_path(c, k, path, sizeof path, 0);
    size_t flen = 0;
    int damaged;
    struct stat seen = {0}, now;
    unsigned char *file = read_entry(path, k, &flen, &damaged, &seen);
    char *out = file ? decode_entry(k, file, flen, len) : NULL;
    damaged = damaged || (file && !out);
    free(file);
    if (damaged) {
        /* Damaged: remove it so the recomputed result can take its place; but only the file read,
         * not a good entry another process renamed over it meanwhile. */
        if (stat(path, &now) == 0 && now.st_ino == seen.st_ino && now.st_dev == seen.st_dev) unlink(path);
        return 0;
    }
    if (!out) return 0;
    *data = out;
    return 1;
}

/* Whether a failed write will fail again for every entry (the disk is full, the folder is not
 * ours to write), so that trying the next entries only repeats the message. Anything else (a folder
 * removed under us by a cleaner, a temporary name taken by a stale file of another host's process)
 * may pass on the next try. */
static int lasting_failure(int e) {
    return e == ENOSPC || e == EDQUOT || e == EROFS || e == EACCES || e == EPERM || e == ENOTDIR ||
           e == ENAMETOOLONG || e == ENOMEM;
}

int tte_cache_put(tte_cache *c, tte_key k, const void *data, size_t len, char *err, size_t errlen) {
    if (!c || __atomic_load_n(&c->write_failed, __ATOMIC_RELAXED)) return 0;
    if (len > MAX_CONTENT) {
        snprintf(err, errlen, "cache: an entry of %zu bytes is more than the cache keeps (%llu)", len,
                 MAX_CONTENT);
        return -1;
    }
    /* A failure that may pass is tried again, from the folder on, with a new temporary name. */
    int rc = -1, e = 0;
    for (int attempt = 0; attempt < PUT_ATTEMPTS && rc != 0; attempt++) {
        rc = put_entry(c, k, data, len, &e, err, errlen);
        if (rc != 0 && lasting_failure(e)) break;
    }
    if (rc == 0) return 0;
    if (!lasting_failure(e)) return -1; /* this entry is lost; the next ones are still stored */
    /* The first lasting failure is the caller's one message; later puts store nothing, silently. */
    if (__atomic_exchange_n(&c->write_failed, 1, __ATOMIC_RELAXED)) return 0;
    size_t n = strlen(err);
    if (n < errlen) snprintf(err + n, errlen - n, "; going on without storing results in the cache");
    return -1;
}

/* One try at storing entry K: 0, or -1 with the errno in *E and a message in ERR. */
static int put_entry(tte_cache *c, tte_key k, const void *data, size_t len, int *e, char *err,
                     size_t errlen) {
    char dir[4200], path[4200], tmp[4400];
    entry_path(c, k, dir, sizeof dir, 1);
    entry_path(c, k, path, sizeof path, 0);
    if (make_dirs(dir) != 0) {
        *e = errno;
        snprintf(err, errlen, "cache: cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    size_t bound = ZSTD_compressBound(len);
    unsigned char *buf = malloc(HEADER_SIZE + bound);
    if (!buf) {
        *e = ENOMEM;
        snprintf(err, errlen, "cache: out of memory");
        return -1;
    }
    memcpy(buf, MAGIC, 8);
    put_le64(buf + 8, k.hi);
    put_le64(buf + 16, k.lo);
    put_le64(buf + 24, XXH3_64bits(data, len));
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, ZSTD_LEVEL);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    size_t clen = ZSTD_compress2(cctx, buf + HEADER_SIZE, bound, data, len);
    ZSTD_freeCCtx(cctx);
    if (ZSTD_isError(clen)) {
        free(buf);
        *e = ENOMEM; /* zstd fails only for want of memory here */
        snprintf(err, errlen, "cache: zstd: %s", ZSTD_getErrorName(clen));
        return -1;
    }
    /* The temporary name is unique per host, process and call, so concurrent writers, also on other
     * machines sharing the folder over NFS, never share one; O_EXCL refuses a stale file of a killed
     * process whose pid came back (the next try takes the next name). Readers open only final
     * names, so they never see a temporary file, and rename replaces the final name at once. */
    static unsigned counter;
    snprintf(tmp, sizeof tmp, "%s.tmp.%s.%ld.%u", path, c->host, (long)getpid(),
             __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    int ok = fd >= 0;
    size_t total = HEADER_SIZE + clen, done = 0;
    while (ok && done < total) {
        ssize_t w = write(fd, buf + done, total - done);
        if (w < 0 && errno == EINTR) continue;
        ok = w > 0;
        if (ok) done += (size_t)w;
    }
    int saved = errno;
    if (fd >= 0 && close(fd) != 0) ok = 0;
    free(buf);
    if (ok && rename(tmp, path) == 0) return 0;
    saved = errno ? errno : saved;
    if (fd >= 0) unlink(tmp); /* ours: a name O_EXCL refused is another process's */
    *e = saved;
    snprintf(err, errlen, "cache: cannot write %s: %s", path, strerror(saved));
    return -1;
}

json_t *tte_cache_get_json(tte_cache *c, tte_key k) {
    if (!c) return NULL;
    char *data;
    size_t len;
    if (!tte_cache_get(c, k, &data, &len)) return NULL;
    json_t *v = json_loadb(data, len, JSON_DECODE_ANY, NULL);
    free(data);
    return v;
}

int tte_cache_put_json(tte_cache *c, tte_key k, const json_t *v, char *err, size_t errlen) {
    if (!c || __atomic_load_n(&c->write_failed, __ATOMIC_RELAXED)) return 0;
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    if (!s) {
        snprintf(err, errlen, "cache: cannot encode entry");
        return -1;
    }
    int rc = tte_cache_put(c, k, s, strlen(s), err, errlen);
    free(s);
    return rc;
}
