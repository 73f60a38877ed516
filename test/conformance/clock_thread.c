/* Thread CPU clocks: CLOCK_THREAD_CPUTIME_ID is the calling thread's own CPU time, and
 * CLOCK_PROCESS_CPUTIME_ID the sum over the process. A thread that spins and one that
 * sleeps read accordingly (own clock, pthread_getcpuclockid, getrusage(RUSAGE_THREAD),
 * /proc/self/task/TID/stat); another process's thread clock is EINVAL while its process
 * clock reads; clock_nanosleep on one's own thread clock is EINVAL but on a sibling's
 * waits for its CPU time (CLOCK_THREAD_CPUTIME_ID itself: EOPNOTSUPP); a timer on the thread clock fires once the thread burnt it.
 * Bounds are generous: spinner >= 100 ms, sleeper < 50 ms. */
#define _GNU_SOURCE
#include "check.h"
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#define MS 1000000LL

static long long ts_ns(const struct timespec *ts) {
  return ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static long long clock_ns(clockid_t c) {
  struct timespec ts;
  if (clock_gettime(c, &ts) != 0) return -1;
  return ts_ns(&ts);
}

static long long tv_ns(const struct timeval *tv) {
  return tv->tv_sec * 1000000000LL + tv->tv_usec * 1000LL;
}

/* About a millisecond of pure computation, no system calls. */
static volatile unsigned long sink;
static void burn(void) {
  for (unsigned long i = 0; i < 300000; i++) sink += i * i;
}

/* Burns CPU until this thread's clock reaches ns (or 20 s of wall time pass). */
static void spin_until(long long ns) {
  long long wall0 = clock_ns(CLOCK_MONOTONIC);
  while (clock_ns(CLOCK_THREAD_CPUTIME_ID) < ns && clock_ns(CLOCK_MONOTONIC) - wall0 < 20000 * MS) burn();
}

/* utime + stime of /proc/self/task/TID/stat, in ticks; -1 on error. */
static long task_ticks(pid_t tid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  unsigned long ut, st;
  if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return -1;
  return (long)(ut + st);
}

static pthread_barrier_t ready;
static sem_t spun, released;
static pid_t spinner_tid, sleeper_tid;
/* Set once main has slept on the spinner's clock: the spinner burns at least until then. */
static volatile int main_slept;
static long long spinner_rusage_ns, sleeper_rusage_ns, sleeper_own_ns;

static void *spinner(void *arg) {
  (void)arg;
  spinner_tid = gettid();
  pthread_barrier_wait(&ready);
  spin_until(200 * MS);
  long long wall0 = clock_ns(CLOCK_MONOTONIC);
  while (!main_slept && clock_ns(CLOCK_MONOTONIC) - wall0 < 20000 * MS) burn();
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  spinner_rusage_ns = tv_ns(&ru.ru_utime) + tv_ns(&ru.ru_stime);
  sem_post(&spun);
  sem_wait(&released);
  return NULL;
}

static void *sleeper(void *arg) {
  (void)arg;
  sleeper_tid = gettid();
  pthread_barrier_wait(&ready);
  sem_wait(&released);
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  sleeper_rusage_ns = tv_ns(&ru.ru_utime) + tv_ns(&ru.ru_stime);
  sleeper_own_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  return NULL;
}

static volatile sig_atomic_t fired;
static volatile long long fired_at;

static void on_timer(int s) {
  (void)s;
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  fired_at = ts_ns(&ts);
  fired = 1;
}

static void thread_checks(void) {
  pthread_t a, b;
  pthread_barrier_init(&ready, NULL, 3);
  sem_init(&spun, 0, 0);
  sem_init(&released, 0, 0);
  pthread_create(&a, NULL, spinner, NULL);
  pthread_create(&b, NULL, sleeper, NULL);
  pthread_barrier_wait(&ready);

  clockid_t ca, cb;
  CHECK("getcpuclockid-spinner", pthread_getcpuclockid(a, &ca) == 0, "pthread_getcpuclockid");
  CHECK("getcpuclockid-sleeper", pthread_getcpuclockid(b, &cb) == 0, "pthread_getcpuclockid");
  struct timespec res = {0, 0};
  CHECK("getres-sibling-thread-clock", clock_getres(ca, &res) == 0 && ts_ns(&res) > 0, "res=%lld", ts_ns(&res));

  /* Sleeping on a sibling's CPU clock waits until it has run that long more. */
  long long before = clock_ns(ca);
  struct timespec rq = {0, 30 * MS};
  int r = clock_nanosleep(ca, 0, &rq, NULL);
  long long after = clock_ns(ca);
  CHECK("nanosleep-sibling-clock", r == 0 && after - before >= 30 * MS, "r=%d advanced %lld ns", r, after - before);
  main_slept = 1;

  sem_wait(&spun);
  long long spin_ns = clock_ns(ca);
  long long sleep_ns = clock_ns(cb);
  long long proc_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  CHECK("spinner-clock-high", spin_ns >= 100 * MS, "spinner %lld ns", spin_ns);
  CHECK("sleeper-clock-low", sleep_ns >= 0 && sleep_ns < 50 * MS, "sleeper %lld ns", sleep_ns);
  CHECK("process-clock-covers-threads", proc_ns + MS >= spin_ns + sleep_ns, "process %lld spinner %lld sleeper %lld", proc_ns, spin_ns, sleep_ns);
  long long main_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  CHECK("main-clock-low", main_ns >= 0 && main_ns < 50 * MS, "main %lld ns", main_ns);
  CHECK("spinner-rusage-thread", spinner_rusage_ns >= 100 * MS, "rusage %lld ns", spinner_rusage_ns);
  long spin_ticks = task_ticks(spinner_tid);
  long sleep_ticks = task_ticks(sleeper_tid);
  CHECK("proc-task-stat-spinner", spin_ticks >= 10, "ticks=%ld", spin_ticks);
  CHECK("proc-task-stat-sleeper", sleep_ticks >= 0 && sleep_ticks < 5, "ticks=%ld", sleep_ticks);

  sem_post(&released);
  sem_post(&released);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  CHECK("sleeper-rusage-thread-low", sleeper_rusage_ns < 50 * MS, "rusage %lld ns", sleeper_rusage_ns);
  CHECK("sleeper-own-clock-low", sleeper_own_ns >= 0 && sleeper_own_ns < 50 * MS, "own %lld ns", sleeper_own_ns);
  errno = 0;
  CHECK("joined-thread-clock-einval", clock_gettime(ca, &res) == -1 && errno == EINVAL, "gettime of a gone thread");
}

static void own_clock_checks(void) {
  struct timespec res = {0, 0};
  CHECK("getres-thread-clock", clock_getres(CLOCK_THREAD_CPUTIME_ID, &res) == 0 && ts_ns(&res) > 0, "res=%lld", ts_ns(&res));
  CHECK("getres-process-clock", clock_getres(CLOCK_PROCESS_CPUTIME_ID, &res) == 0 && ts_ns(&res) > 0, "res=%lld", ts_ns(&res));
  clockid_t self;
  CHECK("getcpuclockid-self", pthread_getcpuclockid(pthread_self(), &self) == 0, "pthread_getcpuclockid");
  long long own = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  long long via = clock_ns(self);
  CHECK("self-clock-id-reads", own >= 0 && via >= own, "own %lld via id %lld", own, via);

  /* clock_nanosleep on one's own thread clock: EINVAL (by id, and raw). */
  struct timespec rq = {0, 1 * MS};
  int r = clock_nanosleep(self, 0, &rq, NULL);
  CHECK("nanosleep-own-thread-clock-einval", r == EINVAL, "r=%d", r);
  r = clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &rq, NULL);
  CHECK("nanosleep-thread-cputime-einval", r == EINVAL, "r=%d", r);
  /* The raw call: CLOCK_THREAD_CPUTIME_ID has no sleep at all in Linux. */
  errno = 0;
  long rr = syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &rq, NULL);
  CHECK("nanosleep-thread-cputime-raw-eopnotsupp", rr == -1 && errno == EOPNOTSUPP, "r=%ld", rr);

  /* A timer on this thread's CPU clock fires after the thread has burnt that much. */
  signal(SIGUSR1, on_timer);
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGUSR1;
  timer_t tm;
  CHECK("timer-create-thread-clock", timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &tm) == 0, "timer_create");
  long long start = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  struct itimerspec its = {{0, 0}, {0, 50 * MS}};
  CHECK("timer-settime-thread-clock", timer_settime(tm, 0, &its, NULL) == 0, "timer_settime");
  long long wall0 = clock_ns(CLOCK_MONOTONIC);
  while (!fired && clock_ns(CLOCK_MONOTONIC) - wall0 < 20000 * MS) burn();
  CHECK("timer-thread-clock-fired", fired, "no signal after %lld ns of CPU", clock_ns(CLOCK_THREAD_CPUTIME_ID) - start);
  CHECK("timer-thread-clock-not-early", fired && fired_at - start >= 50 * MS, "fired after %lld ns", fired_at - start);
  timer_delete(tm);

  /* A timer on a sibling's clock id is accepted too. */
  CHECK("timer-create-own-id", timer_create(self, &sev, &tm) == 0 && timer_delete(tm) == 0, "timer_create by id");
}

static volatile int stop_burning;
static void *burner(void *arg) {
  (void)arg;
  while (!stop_burning) burn();
  return NULL;
}

/* The same timer while a sibling burns CPU too: only this thread's time counts. */
static void busy_sibling_timer_checks(void) {
  pthread_t b;
  /* The timer's signal is for the process: the burner starts with it blocked, so only
   * the timing thread takes it. */
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &s, NULL);
  pthread_create(&b, NULL, burner, NULL);
  pthread_sigmask(SIG_UNBLOCK, &s, NULL);
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGUSR1;
  timer_t tm;
  fired = 0;
  CHECK("busy-timer-create", timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &tm) == 0, "timer_create");
  long long start = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  struct itimerspec its = {{0, 0}, {0, 50 * MS}};
  timer_settime(tm, 0, &its, NULL);
  long long wall0 = clock_ns(CLOCK_MONOTONIC);
  while (!fired && clock_ns(CLOCK_MONOTONIC) - wall0 < 20000 * MS) burn();
  CHECK("busy-timer-fired", fired, "no signal after %lld ns of CPU", clock_ns(CLOCK_THREAD_CPUTIME_ID) - start);
  CHECK("busy-timer-not-early", fired && fired_at - start >= 50 * MS, "fired after %lld ns", fired_at - start);
  timer_delete(tm);
  stop_burning = 1;
  pthread_join(b, NULL);
}

static void other_process_checks(void) {
  int p[2];
  if (pipe(p) != 0) return;
  pid_t child = fork();
  if (child == 0) {
    char c;
    close(p[1]);
    (void)read(p[0], &c, 1);
    _exit(0);
  }
  close(p[0]);
  clockid_t thread_clock = (clockid_t)((~(unsigned)child) << 3) | 6;
  clockid_t proc_clock = (clockid_t)((~(unsigned)child) << 3) | 2;
  struct timespec ts;
  errno = 0;
  CHECK("other-process-thread-clock-einval", clock_gettime(thread_clock, &ts) == -1 && errno == EINVAL, "gettime");
  errno = 0;
  CHECK("other-process-thread-clock-getres-einval", clock_getres(thread_clock, &ts) == -1 && errno == EINVAL, "getres");
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_NONE;
  timer_t tm;
  errno = 0;
  CHECK("other-process-thread-clock-timer-einval", timer_create(thread_clock, &sev, &tm) == -1 && errno == EINVAL, "timer_create");
  CHECK("other-process-clock-reads", clock_gettime(proc_clock, &ts) == 0 && ts_ns(&ts) >= 0, "gettime");
  clockid_t cid;
  CHECK("clock-getcpuclockid-child", clock_getcpuclockid(child, &cid) == 0 && clock_gettime(cid, &ts) == 0, "clock_getcpuclockid");
  errno = 0;
  CHECK("bad-cpu-clock-einval", clock_gettime((clockid_t)((~0u << 3) | 7), &ts) == -1 && errno == EINVAL, "which=3");
  close(p[1]);
  waitpid(child, NULL, 0);
}

int main(void) {
  alarm(120);
  thread_checks();
  own_clock_checks();
  busy_sibling_timer_checks();
  other_process_checks();
  return 0;
}
