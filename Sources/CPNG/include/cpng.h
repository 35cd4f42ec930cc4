// CPNG: the only code in latent that calls libpng.
//
// libpng reports errors with longjmp, which Swift cannot catch. Every function exported here arms
// its own setjmp before it calls into libpng, frees what it allocated when libpng jumps, and
// returns a status code plus a message written into a caller-owned buffer. libpng's warnings are
// collected, never printed. File I/O stays in C; no Swift closure is ever registered with libpng.
#ifndef CPNG_H
#define CPNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Status codes. Swift maps each to one `PNGError` case.
enum {
    CPNG_OK = 0,
    CPNG_E_OPEN = 1,       ///< the file cannot be opened or read (errno text in the message)
    CPNG_E_EMPTY = 2,      ///< the file has zero bytes
    CPNG_E_NOT_PNG = 3,    ///< no PNG signature
    CPNG_E_TRUNCATED = 4,  ///< the file ends before the PNG does
    CPNG_E_CRC = 5,        ///< a critical chunk's CRC does not match
    CPNG_E_HEADER = 6,     ///< IHDR is invalid (zero or out-of-range size, bad depth/colour type)
    CPNG_E_BUDGET = 7,     ///< width x height is over the caller's pixel budget
    CPNG_E_TOO_LARGE = 8,  ///< a chunk or an allocation is over the memory limits
    CPNG_E_CORRUPT = 9,    ///< any other decoding error (deflate stream, chunk order, PLTE, ...)
    CPNG_E_WRITE = 10,     ///< writing failed (disk full, permission, ...)
    CPNG_E_ARGUMENT = 11,  ///< the caller passed an invalid argument (a bug, not bad input)
};

/// Safety limits applied to every read. Zero means "libpng's default" for the chunk limit and
/// "no limit" for the others.
typedef struct {
    uint64_t max_pixels;       ///< width * height budget, checked right after IHDR
    uint64_t max_chunk_bytes;  ///< largest ancillary chunk (and decompressed text/profile) accepted
    uint64_t max_alloc_bytes;  ///< total bytes libpng may hold allocated at once
} cpng_limits;

/// What the file holds and what the reader delivers.
/// Delivered rows: palette expanded to RGB(A), grey below 8 bits expanded to 8 bits (scaled to
/// 0...255), tRNS expanded to an alpha channel; 8- or 16-bit samples, 16-bit in host byte order.
typedef struct {
    uint32_t width;
    uint32_t height;
    uint8_t color_type;  ///< as in IHDR: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
    uint8_t bit_depth;   ///< as in IHDR: 1, 2, 4, 8 or 16
    uint8_t interlaced;  ///< 1 for Adam7
    uint8_t has_trns;    ///< 1 if a tRNS chunk was present
    uint8_t channels;    ///< delivered channels, 1...4
    uint8_t depth;       ///< delivered bits per sample, 8 or 16
    uint64_t row_bytes;  ///< delivered bytes per row
} cpng_info;

/// The largest width or height read or written: libpng's default user limit for both
/// (PNG_USER_WIDTH_MAX, PNG_USER_HEIGHT_MAX), which its writer enforces and its readers apply.
#define CPNG_MAX_SIDE 1000000u

typedef struct cpng_reader cpng_reader;

/// Colour-management and physical-size chunks (sRGB, gAMA, cHRM, iCCP, pHYs): what a reader
/// found, what a writer writes. Fixed-point values are x 100000, as in the file.
typedef struct {
    uint8_t has_srgb, srgb_intent;
    uint8_t has_gama;
    uint32_t gama;
    uint8_t has_chrm;
    int32_t chrm[8];            ///< white x, y; red x, y; green x, y; blue x, y
    uint8_t has_phys, phys_unit;  ///< unit 1: metre, 0: unknown (aspect ratio only)
    uint32_t phys_x, phys_y;
    const char *iccp_name;      ///< NULL: no iCCP
    const uint8_t *iccp;        ///< the uncompressed profile
    uint32_t iccp_len;
} cpng_color;

/// Opens `path`, checks signature and header against `limits`, reads every chunk up to the image
/// data. On success `*out` owns the file and must be released with `cpng_reader_close`.
int cpng_reader_open(const char *path, const cpng_limits *limits, cpng_reader **out,
                     cpng_info *info, char *msg, size_t msglen);

/// Delivers the next `nrows` rows into `dst` (`nrows * row_bytes` bytes). For an interlaced file
/// the whole image is decoded on the first call (it was checked against the pixel budget), and
/// later calls copy from it.
int cpng_reader_read_rows(cpng_reader *r, uint8_t *dst, uint32_t nrows, char *msg, size_t msglen);

/// After the last row, or before the first (then no pixel is decoded: the rest of the image data
/// is inflated into a small buffer, checking it, and dropped): reads the chunks after the image
/// data (checks IEND, collects late text).
int cpng_reader_finish(cpng_reader *r, char *msg, size_t msglen);

/// Text chunks (tEXt, zTXt, iTXt) seen so far. Pointers stay valid until `cpng_reader_close`.
int cpng_reader_text_count(cpng_reader *r);
int cpng_reader_text(cpng_reader *r, int index, const char **key, const char **text);

/// The colour and physical chunks before the image data. Pointers stay valid until close.
void cpng_reader_color(cpng_reader *r, cpng_color *out);

/// Warnings libpng gave so far (newline separated; empty if none). Valid until close.
const char *cpng_reader_warnings(cpng_reader *r);

void cpng_reader_close(cpng_reader *r);

/// What to write. `color_type` and `bit_depth` as in IHDR. Rows are given as the reader delivers
/// them, except: for bit depths 1, 2 and 4 one byte per sample holding the raw level
/// (0 ... 2^depth - 1); for palette images one byte per pixel holding the index.
typedef struct {
    uint32_t width;
    uint32_t height;
    uint8_t color_type;
    uint8_t bit_depth;
    uint8_t interlaced;   ///< Adam7: then `cpng_writer_write_rows` must receive the whole image
    int8_t compression;   ///< zlib level 0...9; -1 for the default (3)
    const uint8_t *palette;  ///< RGB triples, for colour type 3
    uint32_t palette_count;
    const uint8_t *trns;     ///< alpha per palette entry, for colour type 3 (may be NULL)
    uint32_t trns_count;
    const cpng_color *color; ///< chunks to write before the image data (may be NULL)
} cpng_write_spec;

typedef struct cpng_writer cpng_writer;

/// Creates `path` (truncating it) and writes the header and the text chunks
/// (`keys[i]`, `texts[i]`, `ntexts` of them; Latin-1 keys of 1-79 bytes).
int cpng_writer_open(const char *path, const cpng_write_spec *spec, const char *const *keys,
                     const char *const *texts, int ntexts, cpng_writer **out, char *msg,
                     size_t msglen);

/// Writes `nrows` rows of `row_bytes` bytes each from `src`, rows `stride` bytes apart.
int cpng_writer_write_rows(cpng_writer *w, const uint8_t *src, uint32_t nrows, size_t stride,
                           char *msg, size_t msglen);

/// Writes IEND, flushes and closes the file (reporting close errors).
int cpng_writer_finish(cpng_writer *w, char *msg, size_t msglen);

/// Releases the writer; if `finish` was not reached the file is left incomplete for the caller
/// to delete.
void cpng_writer_close(cpng_writer *w);

/// Bytes per delivered row the writer expects for `spec`.
uint64_t cpng_writer_row_bytes(const cpng_write_spec *spec);

/// Independent decode through libpng's simplified API (png_image_*), used by tests to check our
/// writer and reader against libpng itself. `format`: 0 grey, 1 grey+alpha, 2 RGB, 3 RGBA;
/// `linear16`: 1 for 16-bit linear samples (no gamma change for 16-bit files).
/// With `dst == NULL` it only fills width/height.
int cpng_simple_read(const char *path, int format, int linear16, uint8_t *dst, size_t dstlen,
                     uint32_t *width, uint32_t *height, char *msg, size_t msglen);

/// libpng's version string.
const char *cpng_libpng_version(void);

#ifdef __cplusplus
}
#endif

#endif /* CPNG_H */
