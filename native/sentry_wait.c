/*
 * tsvisor-sentry-wait PID: what `tsvisor do`'s Node process execs into once it has started
 * the confined Sentry (PID, its child) and has no host network plumbing to remove: a
 * waiter of a few hundred KiB instead of a ~45 MiB idle Node. It exits as
 * runConfinedSentry (sentry/confine/sentry_process.ts) does: the Sentry's exit code, or
 * 128+N with a line on stderr when the Sentry died of signal N.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
  char *end = NULL;
  long pid = argc == 2 ? strtol(argv[1], &end, 10) : 0;
  if (pid <= 0 || end == NULL || *end != 0) {
    fprintf(stderr, "usage: tsvisor-sentry-wait PID\n");
    return 125;
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  int status = 0;
  while (waitpid((pid_t)pid, &status, 0) < 0) {
    if (errno == EINTR) continue;
    fprintf(stderr, "tsvisor: cannot wait for the Sentry: errno %d\n", errno);
    return 125;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  int sig = WTERMSIG(status);
  if (sig == SIGSYS) {
    fprintf(stderr, "tsvisor: the Sentry was killed by SIGSYS: it made a syscall its seccomp filter forbids\n");
  } else {
    const char *name = sig == SIGABRT ? "SIGABRT" : sig == SIGKILL ? "SIGKILL" : sig == SIGSEGV ? "SIGSEGV" : NULL;
    if (name != NULL) fprintf(stderr, "tsvisor: the Sentry was killed by %s\n", name);
    else fprintf(stderr, "tsvisor: the Sentry was killed by signal %d\n", sig);
  }
  return 128 + sig;
}
