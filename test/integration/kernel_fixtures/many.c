/* 200 threads and 200 processes: all started, signalled and ended. Used to check that
 * the sandbox leaves no stub process, zombie or fd behind on the host. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int stop;
static void *worker(void *a) {
  (void)a;
  while (!stop) usleep(1000);
  return NULL;
}
static void on_usr1(int s) { (void)s; }

int main(void) {
  signal(SIGUSR1, on_usr1);
  pthread_t th[200];
  int made = 0;
  for (int i = 0; i < 200; i++) if (pthread_create(&th[i], NULL, worker, NULL) == 0) made++;
  for (int i = 0; i < made; i++) pthread_kill(th[i], SIGUSR1);
  stop = 1;
  for (int i = 0; i < made; i++) pthread_join(th[i], NULL);
  pid_t kids[200];
  int forked = 0;
  for (int i = 0; i < 200; i++) {
    pid_t p = fork();
    if (p == 0) {
      for (;;) pause();
    }
    if (p > 0) kids[forked++] = p;
  }
  for (int i = 0; i < forked; i++) kill(kids[i], i % 2 ? SIGTERM : SIGKILL);
  int killed = 0;
  for (int i = 0; i < forked; i++) {
    int st;
    if (waitpid(kids[i], &st, 0) == kids[i] && WIFSIGNALED(st)) killed++;
  }
  /* Leave some threads running and children unreaped at exit: the sandbox must clean up. */
  for (int i = 0; i < 10; i++) pthread_create(&th[i], NULL, worker, NULL);
  stop = 0;
  pid_t self = getpid();
  for (int i = 0; i < 10; i++) {
    if (fork() == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL); /* natively too, nothing outlives the test */
      if (getppid() != self) _exit(0);  /* the parent died before prctl */
      for (;;) pause();
    }
  }
  printf("threads %d processes %d killed %d\n", made, forked, killed);
  return 0;
}
