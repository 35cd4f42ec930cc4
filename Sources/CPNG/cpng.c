// CPNG: see include/cpng.h. Every exported function that calls libpng arms setjmp first.
#define _GNU_SOURCE
#include "cpng.h"

#include <fcntl.h>

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------------------------
// Shared error state: libpng's callbacks write here, then jump.

typedef struct {
    char message[512];
    char warnings[1024];
    int truncated;   // our read function hit end of file
    int io_failed;   // our read or write function hit an I/O error
    uint64_t alloc_budget;  // 0 = unlimited
    uint64_t allocated;
    int alloc_refused;
    uint64_t refused_size;
    uint32_t refused_chunk;  // chunk being read when an allocation was refused
    uint32_t error_chunk;    // chunk being read when libpng raised its error
} cpng_state;

static void copy_msg(char *dst, size_t dstlen, const char *src) {
    if (dst == NULL || dstlen == 0) return;
    snprintf(dst, dstlen, "%s", src ? src : "");
}

static void on_error(png_structp png, png_const_charp message) {
    cpng_state *s = (cpng_state *)png_get_error_ptr(png);
    if (s != NULL && s->message[0] == 0) {
        copy_msg(s->message, sizeof s->message, message);
        s->error_chunk = png_get_io_chunk_type(png);
    }
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
    cpng_state *s = (cpng_state *)png_get_error_ptr(png);
    if (s == NULL) return;
    size_t used = strlen(s->warnings);
    if (used + 2 < sizeof s->warnings) {
        snprintf(s->warnings + used, sizeof s->warnings - used, "%s%s", used ? "\n" : "", message);
    }
}

// Allocation budget: every block carries its size in a 16-byte header.
static png_voidp on_malloc(png_structp png, png_alloc_size_t size) {
    cpng_state *s = (cpng_state *)png_get_mem_ptr(png);
    if (s != NULL && s->alloc_budget != 0 && s->allocated + size > s->alloc_budget) {
        s->alloc_refused = 1;
        s->refused_size = size;
        s->refused_chunk = png_get_io_chunk_type(png);
        return NULL;
    }
    unsigned char *block = malloc(size + 16);
    if (block == NULL) return NULL;
    memcpy(block, &size, sizeof size);
    if (s != NULL) s->allocated += size;
    return block + 16;
}

static void on_free(png_structp png, png_voidp ptr) {
    if (ptr == NULL) return;
    unsigned char *block = (unsigned char *)ptr - 16;
    png_alloc_size_t size;
    memcpy(&size, block, sizeof size);
    cpng_state *s = (cpng_state *)png_get_mem_ptr(png);
    if (s != NULL) s->allocated -= size;
    free(block);
}

// Maps libpng's message (and what our callbacks saw) to a status code.
static int classify(const cpng_state *s) {
    const char *m = s->message;
    int in_ihdr = s->error_chunk == 0x49484452u;  // 'IHDR'
    if (strstr(m, "Invalid IHDR data") && strstr(s->warnings, "exceeds user limit")) return CPNG_E_BUDGET;
    if (s->truncated) return CPNG_E_TRUNCATED;
    if (s->io_failed) return CPNG_E_OPEN;
    if (strstr(m, "CRC error")) return CPNG_E_CRC;
    if (strstr(m, "exceeds user limit") || strstr(m, "over the pixel budget")) return CPNG_E_BUDGET;
    if (s->alloc_refused || strstr(m, "too large") || strstr(m, "out of memory") ||
        strstr(m, "Out of memory") || strstr(m, "Insufficient memory") ||
        strstr(m, "exceeds the memory limit") || strstr(m, "too many"))
        return CPNG_E_TOO_LARGE;
    if (in_ihdr || strstr(m, "IHDR")) return CPNG_E_HEADER;
    return CPNG_E_CORRUPT;
}

// ---------------------------------------------------------------------------------------------
// Reading

struct cpng_reader {
    cpng_state state;
    FILE *fp;
    png_structp png;
    png_infop info;
    png_infop end_info;
    cpng_info out;
    uint32_t next_row;
    uint8_t *whole;  // interlaced images: the decoded image
    int finished;
    int ntext;
    png_textp text;
};

static void read_fn(png_structp png, png_bytep data, size_t length) {
    cpng_reader *r = (cpng_reader *)png_get_io_ptr(png);
    size_t got = fread(data, 1, length, r->fp);
    if (got != length) {
        if (ferror(r->fp)) {
            r->state.io_failed = 1;
            png_error(png, strerror(errno));
        }
        r->state.truncated = 1;
        png_error(png, "unexpected end of file");
    }
}

static void collect_text(cpng_reader *r, png_infop info) {
    png_textp text = NULL;
    int n = 0;
    png_get_text(r->png, info, &text, &n);
    if (info == r->info) {
        r->text = text;
        r->ntext = n;
    }
}

void cpng_reader_color(cpng_reader *r, cpng_color *c) {
    memset(c, 0, sizeof *c);
    if (r == NULL || r->png == NULL) return;
    int intent = 0;
    if (png_get_sRGB(r->png, r->info, &intent)) { c->has_srgb = 1; c->srgb_intent = (uint8_t)intent; }
    png_fixed_point g = 0;
    if (png_get_gAMA_fixed(r->png, r->info, &g) && g > 0) { c->has_gama = 1; c->gama = (uint32_t)g; }
    png_fixed_point v[8];
    if (png_get_cHRM_fixed(r->png, r->info, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7])) {
        c->has_chrm = 1;
        for (int i = 0; i < 8; i++) c->chrm[i] = (int32_t)v[i];
    }
    png_uint_32 px = 0, py = 0;
    int unit = 0;
    if (png_get_pHYs(r->png, r->info, &px, &py, &unit)) { c->has_phys = 1; c->phys_x = px; c->phys_y = py; c->phys_unit = (uint8_t)unit; }
    png_charp name = NULL;
    int compression = 0;
    png_bytep profile = NULL;
    png_uint_32 len = 0;
    if (png_get_iCCP(r->png, r->info, &name, &compression, &profile, &len) && name != NULL && profile != NULL && len > 0) {
        c->iccp_name = name;
        c->iccp = profile;
        c->iccp_len = len;
    }
}

static void chunk_name(uint32_t type, char out[5]) {
    for (int i = 0; i < 4; i++) {
        char c = (char)((type >> (24 - 8 * i)) & 0xff);
        out[i] = (c >= 'A' && c <= 'z') ? c : '?';
    }
    out[4] = 0;
}

static int reader_fail(cpng_reader *r, char *msg, size_t msglen) {
    cpng_state *s = &r->state;
    int code = classify(s);
    char buf[1200];
    if (s->alloc_refused) {
        char name[5];
        chunk_name(s->refused_chunk, name);
        snprintf(buf, sizeof buf, "%s: needs %llu bytes, over the memory budget of %llu bytes", name,
                 (unsigned long long)s->refused_size, (unsigned long long)s->alloc_budget);
        code = CPNG_E_TOO_LARGE;
    } else if (strcmp(s->message, "Invalid IHDR data") == 0 && s->warnings[0] != 0) {
        // png_check_IHDR gives the details as warnings, then this generic error.
        const char *last = strrchr(s->warnings, '\n');
        snprintf(buf, sizeof buf, "%s", last ? last + 1 : s->warnings);
    } else {
        snprintf(buf, sizeof buf, "%s", s->message);
    }
    copy_msg(msg, msglen, buf);
    return code;
}

void cpng_reader_close(cpng_reader *r) {
    if (r == NULL) return;
    if (r->png != NULL) png_destroy_read_struct(&r->png, &r->info, &r->end_info);
    if (r->fp != NULL) fclose(r->fp);
    free(r->whole);
    free(r);
}

int cpng_reader_open(const char *path, const cpng_limits *limits, cpng_reader **out,
                     cpng_info *info, char *msg, size_t msglen) {
    *out = NULL;
    cpng_reader *r = calloc(1, sizeof *r);
    if (r == NULL) {
        copy_msg(msg, msglen, "out of memory");
        return CPNG_E_TOO_LARGE;
    }
    r->fp = fopen(path, "rb");
    if (r->fp == NULL) {
        copy_msg(msg, msglen, strerror(errno));
        cpng_reader_close(r);
        return CPNG_E_OPEN;
    }
    unsigned char sig[8];
    size_t got = fread(sig, 1, 8, r->fp);
    if (got == 0 && ferror(r->fp)) {
        copy_msg(msg, msglen, strerror(errno));
        cpng_reader_close(r);
        return CPNG_E_OPEN;
    }
    if (got == 0) {
        copy_msg(msg, msglen, "the file is empty");
        cpng_reader_close(r);
        return CPNG_E_EMPTY;
    }
    if (got < 8 || png_sig_cmp(sig, 0, 8) != 0) {
        copy_msg(msg, msglen, "no PNG signature");
        cpng_reader_close(r);
        return CPNG_E_NOT_PNG;
    }

    if (limits != NULL) r->state.alloc_budget = limits->max_alloc_bytes;
    r->png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &r->state, on_error, on_warning,
                                      &r->state, on_malloc, on_free);
    if (r->png == NULL) {
        copy_msg(msg, msglen, "cannot create libpng read structure");
        cpng_reader_close(r);
        return CPNG_E_TOO_LARGE;
    }
    if (setjmp(png_jmpbuf(r->png))) {
        int code = reader_fail(r, msg, msglen);
        cpng_reader_close(r);
        return code;
    }
    r->info = png_create_info_struct(r->png);
    r->end_info = png_create_info_struct(r->png);
    if (r->info == NULL || r->end_info == NULL) png_error(r->png, "out of memory");

    png_set_read_fn(r->png, r, read_fn);
    png_set_sig_bytes(r->png, 8);
    uint64_t max_pixels = limits ? limits->max_pixels : 0;
    if (max_pixels != 0) {
        // Each side alone is bounded by the budget; the product is checked after IHDR.
        uint32_t side = max_pixels > 0x7fffffffULL ? 0x7fffffffU : (uint32_t)max_pixels;
        png_set_user_limits(r->png, side, side);
    }
    uint64_t chunk_max = (limits && limits->max_chunk_bytes) ? limits->max_chunk_bytes : 8000000;
    png_set_chunk_malloc_max(r->png, (png_alloc_size_t)chunk_max);
    png_set_chunk_cache_max(r->png, 1000);
    // Ancillary chunks with bad CRCs are dropped with a warning; critical ones are errors.
    png_set_crc_action(r->png, PNG_CRC_DEFAULT, PNG_CRC_WARN_DISCARD);

    // Read the signature's next chunk (IHDR) first so the budget is checked before anything else.
    png_read_info(r->png, r->info);

    png_uint_32 w = png_get_image_width(r->png, r->info);
    png_uint_32 h = png_get_image_height(r->png, r->info);
    if (max_pixels != 0 && (uint64_t)w * (uint64_t)h > max_pixels) {
        char buf[200];
        snprintf(buf, sizeof buf, "%ux%u is %llu pixels, over the pixel budget of %llu", w, h,
                 (unsigned long long)w * h, (unsigned long long)max_pixels);
        copy_msg(msg, msglen, buf);
        cpng_reader_close(r);
        return CPNG_E_BUDGET;
    }
    if (w > CPNG_MAX_SIDE || h > CPNG_MAX_SIDE) {
        // libpng writes no side over PNG_USER_WIDTH_MAX / PNG_USER_HEIGHT_MAX (and its readers
        // refuse them by default): refused here, naming the input, not later at the output.
        char buf[200];
        snprintf(buf, sizeof buf, "%ux%u has a side over %u pixels, the largest PNG libpng writes", w, h, CPNG_MAX_SIDE);
        copy_msg(msg, msglen, buf);
        cpng_reader_close(r);
        return CPNG_E_HEADER;
    }
    int color_type = png_get_color_type(r->png, r->info);
    int bit_depth = png_get_bit_depth(r->png, r->info);
    int interlace = png_get_interlace_type(r->png, r->info);
    int has_trns = png_get_valid(r->png, r->info, PNG_INFO_tRNS) != 0;

    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r->png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(r->png);
    if (has_trns) png_set_tRNS_to_alpha(r->png);
    if (bit_depth == 16) {
        const int one = 1;
        if (*(const char *)&one == 1) png_set_swap(r->png);  // host byte order
    }
    if (interlace != PNG_INTERLACE_NONE) png_set_interlace_handling(r->png);
    png_read_update_info(r->png, r->info);

    r->out.width = w;
    r->out.height = h;
    r->out.color_type = (uint8_t)color_type;
    r->out.bit_depth = (uint8_t)bit_depth;
    r->out.interlaced = interlace != PNG_INTERLACE_NONE;
    r->out.has_trns = (uint8_t)has_trns;
    r->out.channels = png_get_channels(r->png, r->info);
    r->out.depth = png_get_bit_depth(r->png, r->info);
    r->out.row_bytes = png_get_rowbytes(r->png, r->info);
    if (r->out.row_bytes != (uint64_t)w * r->out.channels * (r->out.depth / 8)) {
        copy_msg(msg, msglen, "unexpected row size after transformations");
        cpng_reader_close(r);
        return CPNG_E_CORRUPT;
    }
    collect_text(r, r->info);
    *info = r->out;
    *out = r;
    return CPNG_OK;
}

int cpng_reader_read_rows(cpng_reader *r, uint8_t *dst, uint32_t nrows, char *msg, size_t msglen) {
    if (r == NULL || dst == NULL) {
        copy_msg(msg, msglen, "invalid reader");
        return CPNG_E_ARGUMENT;
    }
    if (nrows > r->out.height - r->next_row) {
        copy_msg(msg, msglen, "read past the last row");
        return CPNG_E_ARGUMENT;
    }
    size_t rb = (size_t)r->out.row_bytes;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(r->png))) {
        free(rows);
        return reader_fail(r, msg, msglen);
    }
    if (r->out.interlaced) {
        if (r->whole == NULL) {
            size_t total = rb * r->out.height;
            r->whole = malloc(total ? total : 1);
            rows = malloc(sizeof(png_bytep) * (r->out.height ? r->out.height : 1));
            if (r->whole == NULL || rows == NULL) png_error(r->png, "out of memory");
            for (uint32_t y = 0; y < r->out.height; y++) rows[y] = r->whole + rb * y;
            png_read_image(r->png, rows);
            free(rows);
            rows = NULL;
        }
        memcpy(dst, r->whole + rb * r->next_row, rb * nrows);
    } else {
        for (uint32_t i = 0; i < nrows; i++) png_read_row(r->png, dst + rb * i, NULL);
    }
    r->next_row += nrows;
    return CPNG_OK;
}

int cpng_reader_finish(cpng_reader *r, char *msg, size_t msglen) {
    if (r == NULL) return CPNG_E_ARGUMENT;
    if (r->finished) return CPNG_OK;
    if (r->next_row != r->out.height && r->next_row != 0) {
        copy_msg(msg, msglen, "finish before the last row");
        return CPNG_E_ARGUMENT;
    }
    if (setjmp(png_jmpbuf(r->png))) return reader_fail(r, msg, msglen);
    png_read_end(r->png, r->info);
    r->finished = 1;
    collect_text(r, r->info);
    return CPNG_OK;
}

int cpng_reader_text_count(cpng_reader *r) { return r ? r->ntext : 0; }

int cpng_reader_text(cpng_reader *r, int index, const char **key, const char **text) {
    if (r == NULL || index < 0 || index >= r->ntext) return CPNG_E_ARGUMENT;
    *key = r->text[index].key;
    *text = r->text[index].text ? r->text[index].text : "";
    return CPNG_OK;
}

const char *cpng_reader_warnings(cpng_reader *r) { return r ? r->state.warnings : ""; }

// ---------------------------------------------------------------------------------------------
// Writing

struct cpng_writer {
    cpng_state state;
    FILE *fp;
    png_structp png;
    png_infop info;
    cpng_write_spec spec;
    uint64_t row_bytes;
    uint32_t next_row;
    int finished;
};

static void write_fn(png_structp png, png_bytep data, size_t length) {
    cpng_writer *w = (cpng_writer *)png_get_io_ptr(png);
    if (fwrite(data, 1, length, w->fp) != length) {
        w->state.io_failed = 1;
        png_error(png, strerror(errno));
    }
}

static void flush_fn(png_structp png) {
    cpng_writer *w = (cpng_writer *)png_get_io_ptr(png);
    if (fflush(w->fp) != 0) {
        w->state.io_failed = 1;
        png_error(png, strerror(errno));
    }
}

static int spec_channels(int color_type) {
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    case PNG_COLOR_TYPE_PALETTE: return 1;
    default: return 0;
    }
}

uint64_t cpng_writer_row_bytes(const cpng_write_spec *spec) {
    int ch = spec_channels(spec->color_type);
    int bytes = spec->bit_depth == 16 ? 2 : 1;
    return (uint64_t)spec->width * ch * bytes;
}

static int valid_spec(const cpng_write_spec *s) {
    if (s->width == 0 || s->height == 0 || s->width > 0x7fffffffU || s->height > 0x7fffffffU)
        return 0;
    switch (s->color_type) {
    case PNG_COLOR_TYPE_GRAY:
        return s->bit_depth == 1 || s->bit_depth == 2 || s->bit_depth == 4 || s->bit_depth == 8 ||
               s->bit_depth == 16;
    case PNG_COLOR_TYPE_PALETTE:
        return (s->bit_depth == 1 || s->bit_depth == 2 || s->bit_depth == 4 || s->bit_depth == 8) &&
               s->palette != NULL && s->palette_count >= 1 && s->palette_count <= 256 &&
               s->palette_count <= (1u << s->bit_depth) && s->trns_count <= s->palette_count;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
    case PNG_COLOR_TYPE_RGB:
    case PNG_COLOR_TYPE_RGB_ALPHA: return s->bit_depth == 8 || s->bit_depth == 16;
    default: return 0;
    }
}

void cpng_writer_close(cpng_writer *w) {
    if (w == NULL) return;
    if (w->png != NULL) png_destroy_write_struct(&w->png, &w->info);
    if (w->fp != NULL) fclose(w->fp);
    free(w);
}

static int writer_fail(cpng_writer *w, char *msg, size_t msglen) {
    copy_msg(msg, msglen, w->state.message);
    return w->state.io_failed ? CPNG_E_WRITE : CPNG_E_ARGUMENT;
}

int cpng_writer_open(const char *path, const cpng_write_spec *spec, const char *const *keys,
                     const char *const *texts, int ntexts, cpng_writer **out, char *msg,
                     size_t msglen) {
    *out = NULL;
    if (spec == NULL || !valid_spec(spec)) {
        copy_msg(msg, msglen, "invalid image geometry, colour type or bit depth for writing");
        return CPNG_E_ARGUMENT;
    }
    cpng_writer *w = calloc(1, sizeof *w);
    if (w == NULL) {
        copy_msg(msg, msglen, "out of memory");
        return CPNG_E_TOO_LARGE;
    }
    w->spec = *spec;
    w->row_bytes = cpng_writer_row_bytes(spec);
    w->fp = fopen(path, "wb");
    if (w->fp == NULL) {
        copy_msg(msg, msglen, strerror(errno));
        cpng_writer_close(w);
        return CPNG_E_WRITE;
    }
    w->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &w->state, on_error, on_warning);
    if (w->png == NULL) {
        copy_msg(msg, msglen, "cannot create libpng write structure");
        cpng_writer_close(w);
        return CPNG_E_TOO_LARGE;
    }
    png_textp volatile text = NULL;
    if (setjmp(png_jmpbuf(w->png))) {
        free(text);
        int code = writer_fail(w, msg, msglen);
        cpng_writer_close(w);
        return code;
    }
    w->info = png_create_info_struct(w->png);
    if (w->info == NULL) png_error(w->png, "out of memory");
    png_set_write_fn(w->png, w, write_fn, flush_fn);

    int level = spec->compression < 0 ? 3 : spec->compression;
    if (level > 9) level = 9;
    png_set_compression_level(w->png, level);
    if (level <= 2) {
        // Fast path: one cheap filter; deflate at low levels does little with adaptive filters.
        png_set_filter(w->png, 0, level == 0 ? PNG_FILTER_NONE : PNG_FILTER_SUB);
    }
    png_set_IHDR(w->png, w->info, spec->width, spec->height, spec->bit_depth, spec->color_type,
                 spec->interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (spec->color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[256];
        for (uint32_t i = 0; i < spec->palette_count; i++) {
            pal[i].red = spec->palette[3 * i];
            pal[i].green = spec->palette[3 * i + 1];
            pal[i].blue = spec->palette[3 * i + 2];
        }
        png_set_PLTE(w->png, w->info, pal, (int)spec->palette_count);
        if (spec->trns != NULL && spec->trns_count > 0)
            png_set_tRNS(w->png, w->info, spec->trns, (int)spec->trns_count, NULL);
    }
    if (ntexts > 0) {
        text = calloc((size_t)ntexts, sizeof *text);
        if (text == NULL) png_error(w->png, "out of memory");
        for (int i = 0; i < ntexts; i++) {
            text[i].compression = PNG_TEXT_COMPRESSION_NONE;
            text[i].key = (png_charp)keys[i];
            text[i].text = (png_charp)texts[i];
            text[i].text_length = strlen(texts[i]);
        }
        png_set_text(w->png, w->info, text, ntexts);
        free(text);
        text = NULL;
    }
    const cpng_color *c = spec->color;
    if (c != NULL) {
        // An embedded profile wins over sRGB (the PNG specification allows one of them).
        if (c->iccp_name != NULL && c->iccp != NULL && c->iccp_len > 0) {
            png_set_iCCP(w->png, w->info, c->iccp_name, PNG_COMPRESSION_TYPE_BASE, c->iccp, c->iccp_len);
        } else if (c->has_srgb) {
            png_set_sRGB(w->png, w->info, c->srgb_intent);
        }
        if (c->has_gama) png_set_gAMA_fixed(w->png, w->info, (png_fixed_point)c->gama);
        if (c->has_chrm)
            png_set_cHRM_fixed(w->png, w->info, c->chrm[0], c->chrm[1], c->chrm[2], c->chrm[3], c->chrm[4], c->chrm[5],
                               c->chrm[6], c->chrm[7]);
        if (c->has_phys) png_set_pHYs(w->png, w->info, c->phys_x, c->phys_y, c->phys_unit);
    }
    png_write_info(w->png, w->info);
    if (spec->bit_depth < 8) png_set_packing(w->png);
    if (spec->bit_depth == 16) {
        const int one = 1;
        if (*(const char *)&one == 1) png_set_swap(w->png);
    }
    *out = w;
    return CPNG_OK;
}

int cpng_writer_write_rows(cpng_writer *w, const uint8_t *src, uint32_t nrows, size_t stride,
                           char *msg, size_t msglen) {
    if (w == NULL || src == NULL || nrows > w->spec.height - w->next_row) {
        copy_msg(msg, msglen, "write past the last row");
        return CPNG_E_ARGUMENT;
    }
    if (w->spec.interlaced && (w->next_row != 0 || nrows != w->spec.height)) {
        copy_msg(msg, msglen, "an interlaced image must be written whole");
        return CPNG_E_ARGUMENT;
    }
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(w->png))) {
        free(rows);
        return writer_fail(w, msg, msglen);
    }
    if (w->spec.interlaced) {
        rows = malloc(sizeof(png_bytep) * nrows);
        if (rows == NULL) png_error(w->png, "out of memory");
        for (uint32_t y = 0; y < nrows; y++) rows[y] = (png_bytep)(src + stride * y);
        png_write_image(w->png, rows);
        free(rows);
        rows = NULL;
    } else {
        for (uint32_t y = 0; y < nrows; y++) png_write_row(w->png, (png_const_bytep)(src + stride * y));
    }
    w->next_row += nrows;
    return CPNG_OK;
}

int cpng_writer_finish(cpng_writer *w, char *msg, size_t msglen) {
    if (w == NULL || w->next_row != w->spec.height) {
        copy_msg(msg, msglen, "finish before the last row");
        return CPNG_E_ARGUMENT;
    }
    if (setjmp(png_jmpbuf(w->png))) return writer_fail(w, msg, msglen);
    png_write_end(w->png, NULL);
    FILE *fp = w->fp;
    w->fp = NULL;
    if (fflush(fp) != 0 || ferror(fp)) {
        copy_msg(msg, msglen, strerror(errno));
        fclose(fp);
        return CPNG_E_WRITE;
    }
    if (fclose(fp) != 0) {
        copy_msg(msg, msglen, strerror(errno));
        return CPNG_E_WRITE;
    }
    w->finished = 1;
    return CPNG_OK;
}

// ---------------------------------------------------------------------------------------------
// Independent decode with the simplified API (for tests).

int cpng_simple_read(const char *path, int format, int linear16, uint8_t *dst, size_t dstlen,
                     uint32_t *width, uint32_t *height, char *msg, size_t msglen) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&image, path)) {
        copy_msg(msg, msglen, image.message);
        return CPNG_E_CORRUPT;
    }
    *width = image.width;
    *height = image.height;
    if (dst == NULL) {
        png_image_free(&image);
        return CPNG_OK;
    }
    static const png_uint_32 formats[4] = {PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB,
                                           PNG_FORMAT_RGBA};
    if (format < 0 || format > 3) {
        png_image_free(&image);
        return CPNG_E_ARGUMENT;
    }
    image.format = formats[format] | (linear16 ? PNG_FORMAT_FLAG_LINEAR : 0);
    if (PNG_IMAGE_SIZE(image) > dstlen) {
        png_image_free(&image);
        copy_msg(msg, msglen, "buffer too small");
        return CPNG_E_ARGUMENT;
    }
    if (!png_image_finish_read(&image, NULL, dst, 0, NULL)) {
        copy_msg(msg, msglen, image.message);
        png_image_free(&image);
        return CPNG_E_CORRUPT;
    }
    return CPNG_OK;
}

const char *cpng_libpng_version(void) { return png_get_libpng_ver(NULL); }
