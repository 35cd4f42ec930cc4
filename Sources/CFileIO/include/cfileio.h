#ifndef CFILEIO_H
#define CFILEIO_H
/// The one system call FileIO needs that Swift cannot spell: open(2) with O_TMPFILE (a macro
/// of several flags that Swift does not import).

#ifdef __cplusplus
extern "C" {
#endif

/// Opens an unnamed file for writing in folder `dir` (Linux O_TMPFILE), for atomic outputs that
/// leave nothing behind if the process is killed. Returns the descriptor, or -1 (errno set) where
/// the kernel or file system does not support it.
int cfileio_open_tmpfile(const char *dir);

#ifdef __cplusplus
}
#endif

#endif /* CFILEIO_H */
