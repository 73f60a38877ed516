/* Threads: creation and join, shared memory and fds, tids, TLS, mutexes, condition
 * variables, barriers, semaphores, signals to threads, thread exit vs process exit,
 * exec from a thread, robust mutexes and glibc's all-thread setuid. */
#define _GNU_SOURCE
#include "check.h"
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static void *ret_double(void *a) { return (void *)((long)a * 2); }

static atomic_int counter;
static void *bump(void *a) { (void)a; atomic_fetch_add(&counter, 1); return NULL; }

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long shared_total;
static void *locked_adds(void *a) {
  (void)a;
  for (int i = 0; i < 20000; i++) {
    pthread_mutex_lock(&mu);
    shared_total++;
    pthread_mutex_unlock(&mu);
  }
  return NULL;
}

static pid_t seen_tid, seen_pid;
static void *ids(void *a) { (void)a; seen_tid = gettid_(); seen_pid = getpid(); return NULL; }

static __thread int tls_value = 5;
static void *tls_thread(void *a) { tls_value = (int)(long)a; return (void *)(long)tls_value; }

static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int queue_items, consumed;
static void *consumer(void *a) {
  (void)a;
  pthread_mutex_lock(&mu);
  while (consumed < 100) {
    while (queue_items == 0) pthread_cond_wait(&cv, &mu);
    queue_items--;
    consumed++;
  }
  pthread_mutex_unlock(&mu);
  return NULL;
}

static pthread_barrier_t bar;
static atomic_int before_barrier, wrong_after;
static void *barrier_thread(void *a) {
  (void)a;
  atomic_fetch_add(&before_barrier, 1);
  pthread_barrier_wait(&bar);
  if (atomic_load(&before_barrier) != 4) atomic_fetch_add(&wrong_after, 1);
  return NULL;
}

static sem_t sem;
static void *sem_poster(void *a) { (void)a; for (int i = 0; i < 10; i++) sem_post(&sem); return NULL; }

static volatile pid_t handler_tid;
static void on_usr1(int s) { (void)s; handler_tid = gettid_(); }
static volatile int thread_ready, thread_stop;
static volatile pid_t worker_tid;
static void *spinner(void *a) {
  (void)a;
  worker_tid = gettid_();
  thread_ready = 1;
  while (!thread_stop) {
  }
  return NULL;
}
static void *unblocked_waiter(void *a) {
  (void)a;
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR1);
  pthread_sigmask(SIG_UNBLOCK, &m, NULL);
  worker_tid = gettid_();
  thread_ready = 1;
  while (!thread_stop) usleep(1000);
  return NULL;
}

static void *sigwaiter(void *a) {
  (void)a;
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR2);
  int sig = 0;
  sigwait(&m, &sig);
  return (void *)(long)sig;
}

static void *exiter(void *a) { usleep(20000); exit((int)(long)a); }
static void *late_exit(void *a) { (void)a; usleep(30000); return NULL; }
static char *self_path;
static void *execer(void *a) { (void)a; execl(self_path, self_path, "exec-ok", (char *)NULL); return NULL; }

static pthread_mutex_t robust;
static void *die_holding(void *a) { (void)a; pthread_mutex_lock(&robust); return NULL; }

static volatile long *shared_counter;
static void *count_forever(void *a) {
  (void)a;
  for (;;) shared_counter[0]++;
  return NULL;
}

static void *uid_reader(void *a) {
  (void)a;
  while (getuid() != 1000) usleep(1000);
  return (void *)(long)geteuid();
}

static void *blocked_in_read(void *a) {
  int fd = (int)(long)a;
  char c;
  read(fd, &c, 1);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "exec-ok") == 0) _exit(getpid() == getppid() ? 1 : 9);
  self_path = argv[0];
  alarm(60);
  pthread_t th[64];
  void *r;

  CHECK("create-join-value", pthread_create(&th[0], NULL, ret_double, (void *)21) == 0 && pthread_join(th[0], &r) == 0 && (long)r == 42, "r=%ld", (long)r);

  for (int i = 0; i < 50; i++) pthread_create(&th[i], NULL, bump, NULL);
  for (int i = 0; i < 50; i++) pthread_join(th[i], NULL);
  CHECK("fifty-threads", atomic_load(&counter) == 50, "counter=%d", atomic_load(&counter));

  pthread_create(&th[0], NULL, ids, NULL);
  pthread_join(th[0], NULL);
  CHECK("thread-tid-differs", seen_tid != getpid() && seen_tid > 0, "tid=%d", seen_tid);
  CHECK("thread-shares-pid", seen_pid == getpid(), "pid=%d", seen_pid);
  CHECK("main-tid-is-pid", gettid_() == getpid(), "tid=%d", gettid_());

  for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, locked_adds, NULL);
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  CHECK("mutex-contention", shared_total == 80000, "total=%ld", shared_total);

  pthread_create(&th[0], NULL, tls_thread, (void *)9);
  pthread_join(th[0], &r);
  CHECK("tls-per-thread", (long)r == 9 && tls_value == 5, "thread=%ld main=%d", (long)r, tls_value);

  pthread_create(&th[0], NULL, consumer, NULL);
  for (int i = 0; i < 100; i++) {
    pthread_mutex_lock(&mu);
    queue_items++;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    if (i % 10 == 0) usleep(100);
  }
  pthread_join(th[0], NULL);
  CHECK("condvar-producer-consumer", consumed == 100, "consumed=%d", consumed);

  pthread_barrier_init(&bar, NULL, 4);
  for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, barrier_thread, NULL);
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  CHECK("barrier", atomic_load(&wrong_after) == 0, "wrong=%d", atomic_load(&wrong_after));

  sem_init(&sem, 0, 0);
  pthread_create(&th[0], NULL, sem_poster, NULL);
  int waited = 0;
  for (int i = 0; i < 10; i++) waited += sem_wait(&sem) == 0;
  pthread_join(th[0], NULL);
  CHECK("semaphore", waited == 10, "waited=%d", waited);

  int fds[2];
  pipe(fds);
  pthread_create(&th[0], NULL, blocked_in_read, (void *)(long)fds[0]);
  usleep(10000);
  write(fds[1], "z", 1);
  CHECK("fd-table-shared", pthread_join(th[0], NULL) == 0, "join failed");

  /* pthread_kill reaches the thread running user code. */
  signal(SIGUSR1, on_usr1);
  thread_ready = thread_stop = 0;
  pthread_create(&th[0], NULL, spinner, NULL);
  while (!thread_ready) usleep(100);
  pthread_kill(th[0], SIGUSR1);
  for (int i = 0; i < 2000 && handler_tid == 0; i++) usleep(1000);
  thread_stop = 1;
  pthread_join(th[0], NULL);
  CHECK("pthread-kill-runs-in-target", handler_tid == worker_tid, "handler tid=%d worker=%d", handler_tid, worker_tid);

  /* A process signal goes to a thread that does not block it. */
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &m, NULL);
  handler_tid = 0;
  thread_ready = thread_stop = 0;
  pthread_create(&th[0], NULL, unblocked_waiter, NULL);
  while (!thread_ready) usleep(100);
  kill(getpid(), SIGUSR1);
  for (int i = 0; i < 2000 && handler_tid == 0; i++) usleep(1000);
  thread_stop = 1;
  pthread_join(th[0], NULL);
  CHECK("process-signal-to-unblocking-thread", handler_tid == worker_tid, "handler tid=%d worker=%d", handler_tid, worker_tid);
  pthread_sigmask(SIG_UNBLOCK, &m, NULL);

  sigemptyset(&m);
  sigaddset(&m, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &m, NULL);
  pthread_create(&th[0], NULL, sigwaiter, NULL);
  usleep(10000);
  kill(getpid(), SIGUSR2);
  pthread_join(th[0], &r);
  CHECK("sigwait-in-thread", (long)r == SIGUSR2, "r=%ld", (long)r);

  int st;
  pid_t p = fork();
  if (p == 0) {
    pthread_t t2;
    pthread_create(&t2, NULL, exiter, (void *)7);
    for (;;) pause();
  }
  waitpid(p, &st, 0);
  CHECK("exit-from-thread-ends-process", WIFEXITED(st) && WEXITSTATUS(st) == 7, "status=%x", st);

  p = fork();
  if (p == 0) {
    pthread_t t2;
    pthread_create(&t2, NULL, late_exit, NULL);
    pthread_exit(NULL);
  }
  waitpid(p, &st, 0);
  CHECK("main-pthread-exit-waits-for-threads", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status=%x", st);

  p = fork();
  if (p == 0) {
    pthread_t t2;
    pthread_create(&t2, NULL, execer, NULL);
    for (;;) pause();
  }
  waitpid(p, &st, 0);
  CHECK("exec-from-thread", WIFEXITED(st) && WEXITSTATUS(st) == 9, "status=%x", st);

  p = fork();
  if (p == 0) {
    pthread_t t2;
    thread_stop = 0;
    pthread_create(&t2, NULL, spinner, NULL);
    for (;;) pause();
  }
  usleep(20000);
  kill(p, SIGTERM);
  waitpid(p, &st, 0);
  CHECK("fatal-signal-kills-all-threads", WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status=%x", st);

  /* SIGSTOP stops every thread of the group, SIGCONT resumes them. */
  shared_counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  shared_counter[0] = 0;
  p = fork();
  if (p == 0) {
    pthread_t t2;
    pthread_create(&t2, NULL, count_forever, NULL);
    for (;;) pause();
  }
  while (shared_counter[0] == 0) usleep(1000);
  kill(p, SIGSTOP);
  waitpid(p, &st, WUNTRACED);
  long c1 = shared_counter[0];
  usleep(50000);
  long c2 = shared_counter[0];
  CHECK("group-stop-stops-all-threads", WIFSTOPPED(st) && c1 == c2, "status=%x counter %ld -> %ld", st, c1, c2);
  kill(p, SIGCONT);
  usleep(50000);
  long c3 = shared_counter[0];
  CHECK("sigcont-resumes-all-threads", c3 > c2, "counter %ld -> %ld", c2, c3);
  kill(p, SIGKILL);
  waitpid(p, &st, 0);

  pthread_mutexattr_t ma;
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&robust, &ma);
  pthread_create(&th[0], NULL, die_holding, NULL);
  pthread_join(th[0], NULL);
  int lr = pthread_mutex_lock(&robust);
  CHECK("robust-mutex-owner-died", lr == EOWNERDEAD, "lock=%d", lr);
  if (lr == EOWNERDEAD) pthread_mutex_consistent(&robust);
  pthread_mutex_unlock(&robust);

  p = fork();
  if (p == 0) {
    pthread_t t2;
    pthread_create(&t2, NULL, uid_reader, NULL);
    if (setuid(1000) != 0) _exit(2);
    void *e;
    pthread_join(t2, &e);
    _exit((long)e == 1000 ? 0 : 3);
  }
  waitpid(p, &st, 0);
  CHECK("setuid-applies-to-all-threads", WIFEXITED(st) && WEXITSTATUS(st) == 0, "status=%x", st);

  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 1 << 20);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  counter = 0;
  for (int i = 0; i < 10; i++) pthread_create(&th[i], &at, bump, NULL);
  for (int i = 0; i < 2000 && atomic_load(&counter) < 10; i++) usleep(1000);
  CHECK("detached-threads-run", atomic_load(&counter) == 10, "counter=%d", atomic_load(&counter));
  return 0;
}
