/* Shared helpers for the conformance programs: one line per check, "ok NAME" or
 * "FAIL NAME: detail". Programs exit 0 after running every check. */
#ifndef CONFORMANCE_CHECK_H
#define CONFORMANCE_CHECK_H
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CHECK(name, cond, ...)                                   \
  do {                                                           \
    if (cond) printf("ok %s\n", name);                           \
    else {                                                       \
      printf("FAIL %s: ", name);                                 \
      printf(__VA_ARGS__);                                       \
      printf(" (errno %d %s)\n", errno, strerror(errno));        \
    }                                                            \
    fflush(stdout);                                              \
  } while (0)

#endif
