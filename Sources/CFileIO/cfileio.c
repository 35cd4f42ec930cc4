#define _GNU_SOURCE
#include "cfileio.h"
#include <errno.h>
#include <fcntl.h>

int cfileio_open_tmpfile(const char *dir) {
#ifdef O_TMPFILE
    return open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
#else
    (void)dir;
    errno = EOPNOTSUPP;
    return -1;
#endif
}
