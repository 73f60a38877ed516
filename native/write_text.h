/* Writing a short text to an existing file in one write(2), as /proc/self/{uid,gid}_map,
 * setgroups and similar control files need. Header-only: each user gets its own copy. */
#ifndef TSV_WRITE_TEXT_H
#define TSV_WRITE_TEXT_H
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* 0, or -1 when the file cannot be opened or the write is short. */
static int write_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = strlen(text);
  ssize_t n = write(fd, text, len);
  close(fd);
  return n == (ssize_t)len ? 0 : -1;
}

#endif
