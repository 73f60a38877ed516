/* Helpers shared by the SysV IPC / mqueue conformance programs. */
#ifndef IPC_CHECK_H
#define IPC_CHECK_H
#define _GNU_SOURCE
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

/* Natively the program shares the host's IPC namespace: move to a fresh one first. */
static inline void fresh_ipc_ns(void) {
  if (unshare(CLONE_NEWIPC) != 0) {
    printf("FAIL unshare(CLONE_NEWIPC): %s\n", strerror(errno));
    exit(1);
  }
}

static inline void nap_ms(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* The state letter of pid in /proc/PID/stat, or 0. */
static inline char proc_state(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (f == NULL) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  return p != NULL && p[1] == ' ' ? p[2] : 0;
}

/* Waits (up to ~20 s) until pid is asleep in a syscall and stays so a little. */
static inline int wait_sleeping(pid_t pid) {
  for (int i = 0; i < 2000; i++) {
    if (proc_state(pid) == 'S') {
      nap_ms(20);
      if (proc_state(pid) == 'S') return 1;
    }
    nap_ms(10);
  }
  return 0;
}

/* Runs fn in a child as uid/gid 65534; returns its exit status (or -1). */
static inline int as_nobody(int (*fn)(void *), void *arg) {
  pid_t p = fork();
  if (p == 0) {
    if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(99);
    _exit(fn(arg));
  }
  int st;
  if (waitpid(p, &st, 0) != p || !WIFEXITED(st)) return -1;
  return WEXITSTATUS(st);
}

/* Reads a whole small file into buf. */
static inline int read_file(const char *path, char *buf, size_t len) {
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  size_t n = fread(buf, 1, len - 1, f);
  fclose(f);
  buf[n] = 0;
  return (int)n;
}

/* Exit code of a waited child, -1 if it did not exit normally. */
static inline int child_code(pid_t p) {
  int st;
  pid_t w;
  while ((w = waitpid(p, &st, 0)) == -1 && errno == EINTR) {
  }
  if (w != p) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1000 - (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}
#endif
