#ifndef CFILEIO_H
#define CFILEIO_H
/// The system calls FileIO needs that Swift cannot spell: open(2) with O_TMPFILE (a macro of
/// several flags that Swift does not import) and glibc's mallopt (malloc.h is not in Glibc).

#ifdef __cplusplus
extern "C" {
#endif

/// Opens an unnamed file for writing in folder `dir` (Linux O_TMPFILE), for atomic outputs that
/// leave nothing behind if the process is killed. Returns the descriptor, or -1 (errno set) where
/// the kernel or file system does not support it.
int cfileio_open_tmpfile(const char *dir);

/// Makes allocations of `bytes` and more separate mappings, returned to the system when freed
/// (glibc's M_MMAP_THRESHOLD, which otherwise grows as such blocks are freed). Returns 1 when
/// set, 0 where the C library has no such setting.
int cfileio_set_mmap_threshold(int bytes);

#ifdef __cplusplus
}
#endif

#endif /* CFILEIO_H */
