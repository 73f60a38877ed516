/* Timers and clocks: alarm, setitimer/getitimer (REAL, VIRTUAL, PROF), POSIX timers
 * (signal value, thread id, SIGEV_NONE, absolute, overruns), clock_gettime/getres and
 * CPU clocks, nanosleep/clock_nanosleep arguments, times and getrusage. */
#define _GNU_SOURCE
#include "check.h"
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>

static volatile int alrm, vtalrm, prof, rt_hits, rt_value, rt_code;
static volatile pid_t rt_tid;
static void on_alrm(int s) { (void)s; alrm++; }
static void on_vt(int s) { (void)s; vtalrm++; }
static void on_prof(int s) { (void)s; prof++; }
static void on_rt(int s, siginfo_t *si, void *uc) {
  (void)s; (void)uc;
  rt_value = si->si_value.sival_int;
  rt_code = si->si_code;
  rt_tid = (pid_t)syscall(SYS_gettid);
  rt_hits++; /* last: the main thread polls it, then reads the rest */
}

static void handler(int sig, void (*h)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = h;
  sa.sa_flags = SA_RESTART;
  sigaction(sig, &sa, NULL);
}

static int64_t ns_of(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static volatile uint64_t sink;
static void spin_cpu_ms(int ms) {
  int64_t start = ns_of(CLOCK_PROCESS_CPUTIME_ID);
  while (ns_of(CLOCK_PROCESS_CPUTIME_ID) - start < (int64_t)ms * 1000000)
    for (int i = 0; i < 10000; i++) sink += i;
}

static volatile int thread_ready, thread_stop;
static volatile pid_t thread_tid;
static void *idle_thread(void *a) {
  (void)a;
  thread_tid = (pid_t)syscall(SYS_gettid);
  thread_ready = 1;
  while (!thread_stop) usleep(1000);
  return NULL;
}

int main(void) {
  CHECK("alarm-none-pending", alarm(10) == 0, "not 0");
  unsigned left = alarm(20);
  CHECK("alarm-returns-remaining", left == 10 || left == 9, "left=%u", left);
  CHECK("alarm-cancel", alarm(0) == 20 || alarm(0) == 0, "-");
  handler(SIGALRM, on_alrm);
  alarm(1);
  struct timespec t = {3, 0};
  nanosleep(&t, NULL);
  CHECK("alarm-fires", alrm == 1, "alrm=%d", alrm);
  alarm(60);

  struct itimerval it = {{0, 0}, {5, 0}}, cur;
  setitimer(ITIMER_REAL, &it, NULL);
  getitimer(ITIMER_REAL, &cur);
  CHECK("getitimer-remaining", cur.it_value.tv_sec >= 4 && cur.it_value.tv_sec <= 5 && cur.it_interval.tv_sec == 0, "sec=%ld", (long)cur.it_value.tv_sec);
  struct itimerval off = {{0, 0}, {0, 0}}, old;
  setitimer(ITIMER_REAL, &off, &old);
  CHECK("setitimer-returns-old", old.it_value.tv_sec >= 4, "old=%ld", (long)old.it_value.tv_sec);
  getitimer(ITIMER_REAL, &cur);
  CHECK("setitimer-disarm", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0, "still armed");
  CHECK("alarm-sees-disarmed", alarm(0) == 0, "armed");
  struct itimerval badv = {{0, 0}, {0, 2000000}};
  CHECK("setitimer-bad-usec", setitimer(ITIMER_REAL, &badv, NULL) == -1 && errno == EINVAL, "accepted");
  CHECK("setitimer-bad-which", setitimer(7, &it, NULL) == -1 && errno == EINVAL, "accepted");

  alrm = 0;
  struct itimerval per = {{0, 10000}, {0, 10000}};
  setitimer(ITIMER_REAL, &per, NULL);
  for (int i = 0; i < 200 && alrm < 3; i++) usleep(5000);
  setitimer(ITIMER_REAL, &off, NULL);
  CHECK("itimer-real-periodic", alrm >= 3, "alrm=%d", alrm);

  handler(SIGVTALRM, on_vt);
  struct itimerval vt = {{0, 0}, {0, 20000}};
  setitimer(ITIMER_VIRTUAL, &vt, NULL);
  for (int i = 0; i < 50 && !vtalrm; i++) spin_cpu_ms(10);
  CHECK("itimer-virtual-fires-on-cpu", vtalrm == 1, "vtalrm=%d", vtalrm);
  handler(SIGPROF, on_prof);
  setitimer(ITIMER_PROF, &vt, NULL);
  for (int i = 0; i < 50 && !prof; i++) spin_cpu_ms(10);
  CHECK("itimer-prof-fires-on-cpu", prof == 1, "prof=%d", prof);

  /* POSIX timers */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_rt;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGRTMIN, &sa, NULL);
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGRTMIN;
  ev.sigev_value.sival_int = 4242;
  timer_t tm;
  CHECK("timer-create", timer_create(CLOCK_MONOTONIC, &ev, &tm) == 0, "failed");
  struct itimerspec its = {{0, 0}, {0, 20 * 1000 * 1000}}, got;
  CHECK("timer-settime", timer_settime(tm, 0, &its, NULL) == 0, "failed");
  timer_gettime(tm, &got);
  CHECK("timer-gettime-armed", got.it_value.tv_sec == 0 && got.it_value.tv_nsec > 0 && got.it_value.tv_nsec <= 20000000, "nsec=%ld", got.it_value.tv_nsec);
  for (int i = 0; i < 200 && !rt_hits; i++) usleep(2000);
  CHECK("timer-signal-delivered", rt_hits == 1, "hits=%d", rt_hits);
  CHECK("timer-siginfo", rt_code == SI_TIMER && rt_value == 4242, "code=%d value=%d", rt_code, rt_value);
  timer_gettime(tm, &got);
  CHECK("timer-gettime-expired", got.it_value.tv_sec == 0 && got.it_value.tv_nsec == 0, "nsec=%ld", got.it_value.tv_nsec);

  /* Absolute expiry on CLOCK_REALTIME */
  rt_hits = 0;
  struct timespec nowr;
  clock_gettime(CLOCK_REALTIME, &nowr);
  nowr.tv_nsec += 20000000;
  if (nowr.tv_nsec >= 1000000000) { nowr.tv_sec++; nowr.tv_nsec -= 1000000000; }
  timer_t tr;
  timer_create(CLOCK_REALTIME, &ev, &tr);
  struct itimerspec abs_its = {{0, 0}, nowr};
  timer_settime(tr, TIMER_ABSTIME, &abs_its, NULL);
  for (int i = 0; i < 200 && !rt_hits; i++) usleep(2000);
  CHECK("timer-abstime", rt_hits == 1, "hits=%d", rt_hits);

  /* Overruns: a blocked signal keeps one instance; later expiries count as overruns. */
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGRTMIN);
  sigprocmask(SIG_BLOCK, &m, NULL);
  rt_hits = 0;
  struct itimerspec fast = {{0, 5000000}, {0, 5000000}};
  timer_settime(tm, 0, &fast, NULL);
  usleep(60000);
  siginfo_t si;
  int sig = sigwaitinfo(&m, &si);
  int ov = timer_getoverrun(tm);
  struct itimerspec stop = {{0, 0}, {0, 0}};
  timer_settime(tm, 0, &stop, NULL);
  CHECK("timer-overrun-one-signal", sig == SIGRTMIN && si.si_code == SI_TIMER && si.si_overrun >= 3, "sig=%d overrun=%d", sig, si.si_overrun);
  CHECK("timer-getoverrun", ov == si.si_overrun, "overrun=%d siginfo=%d", ov, si.si_overrun);
  sigprocmask(SIG_UNBLOCK, &m, NULL);
  rt_hits = 0;

  /* SIGEV_THREAD_ID targets one thread. */
  pthread_t th;
  pthread_create(&th, NULL, idle_thread, NULL);
  while (!thread_ready) usleep(500);
  struct sigevent evt;
  memset(&evt, 0, sizeof evt);
  evt.sigev_notify = SIGEV_THREAD_ID;
  evt.sigev_signo = SIGRTMIN;
  evt._sigev_un._tid = thread_tid;
  timer_t tt;
  CHECK("timer-create-thread-id", timer_create(CLOCK_MONOTONIC, &evt, &tt) == 0, "failed");
  rt_hits = 0;
  rt_tid = 0;
  timer_settime(tt, 0, &its, NULL);
  for (int i = 0; i < 200 && !rt_hits; i++) usleep(2000);
  CHECK("timer-thread-id-target", rt_tid == thread_tid, "tid=%d want %d", rt_tid, thread_tid);
  thread_stop = 1;
  pthread_join(th, NULL);

  struct sigevent none;
  memset(&none, 0, sizeof none);
  none.sigev_notify = SIGEV_NONE;
  timer_t tn;
  timer_create(CLOCK_MONOTONIC, &none, &tn);
  struct itimerspec lng = {{0, 0}, {100, 0}};
  timer_settime(tn, 0, &lng, NULL);
  timer_gettime(tn, &got);
  CHECK("timer-sigev-none-counts-down", got.it_value.tv_sec >= 98 && got.it_value.tv_sec <= 100, "sec=%ld", (long)got.it_value.tv_sec);
  CHECK("timer-delete", timer_delete(tn) == 0, "failed");
  CHECK("timer-delete-twice-einval", timer_delete(tn) == -1 && errno == EINVAL, "accepted");
  CHECK("timer-create-bad-clock", timer_create(99, &ev, &tn) == -1 && errno == EINVAL, "accepted");
  struct sigevent badev = ev;
  badev.sigev_signo = 99;
  CHECK("timer-create-bad-signal", timer_create(CLOCK_MONOTONIC, &badev, &tn) == -1 && errno == EINVAL, "accepted");
  timer_delete(tm);
  timer_delete(tr);
  timer_delete(tt);

  /* Clocks */
  int64_t m1 = ns_of(CLOCK_MONOTONIC);
  usleep(10000);
  int64_t m2 = ns_of(CLOCK_MONOTONIC);
  CHECK("monotonic-advances", m2 - m1 >= 10000000, "delta=%ld", (long)(m2 - m1));
  CHECK("boottime-at-least-monotonic", ns_of(CLOCK_BOOTTIME) >= m2, "less");
  int64_t c1 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
  spin_cpu_ms(20);
  int64_t c2 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
  CHECK("process-cputime-advances", c2 - c1 >= 20000000, "delta=%ld", (long)(c2 - c1));
  int64_t w1 = ns_of(CLOCK_MONOTONIC);
  int64_t c3 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
  usleep(50000);
  int64_t c4 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
  int64_t w2 = ns_of(CLOCK_MONOTONIC);
  CHECK("cputime-not-wall-time-while-sleeping", c4 - c3 < (w2 - w1) / 2, "cpu=%ld wall=%ld", (long)(c4 - c3), (long)(w2 - w1));
  CHECK("thread-cputime-readable", ns_of(CLOCK_THREAD_CPUTIME_ID) > 0, "zero");
  clockid_t pc;
  CHECK("clock-getcpuclockid-self", clock_getcpuclockid(0, &pc) == 0 && ns_of(pc) > 0, "failed");
  struct timespec res;
  CHECK("clock-getres-monotonic", clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec == 1, "res=%ld", res.tv_nsec);
  CHECK("clock-gettime-bad-clock", clock_gettime(99, &res) == -1 && errno == EINVAL, "accepted");
  struct timespec bad = {0, 1000000000};
  CHECK("nanosleep-bad-nsec", nanosleep(&bad, NULL) == -1 && errno == EINVAL, "accepted");
  struct timespec neg = {-1, 0};
  CHECK("nanosleep-negative", nanosleep(&neg, NULL) == -1 && errno == EINVAL, "accepted");
  struct timespec abs_t;
  clock_gettime(CLOCK_MONOTONIC, &abs_t);
  abs_t.tv_nsec += 15000000;
  if (abs_t.tv_nsec >= 1000000000) { abs_t.tv_sec++; abs_t.tv_nsec -= 1000000000; }
  CHECK("clock-nanosleep-abstime", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs_t, NULL) == 0 && ns_of(CLOCK_MONOTONIC) >= (int64_t)abs_t.tv_sec * 1000000000 + abs_t.tv_nsec, "early");
  CHECK("clock-nanosleep-thread-cputime-einval", clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &abs_t, NULL) == EINVAL, "accepted");

  struct tms tb;
  clock_t ct = times(&tb);
  CHECK("times-user-cpu", ct != (clock_t)-1 && tb.tms_utime + tb.tms_stime > 0, "utime=%ld", (long)tb.tms_utime);
  struct rusage ru;
  CHECK("getrusage-self", getrusage(RUSAGE_SELF, &ru) == 0 && ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec > 0, "zero");
  pid_t p = fork();
  if (p == 0) {
    spin_cpu_ms(60);
    _exit(0);
  }
  int st;
  struct rusage cru;
  wait4(p, &st, 0, &cru);
  long cus = cru.ru_utime.tv_sec * 1000000 + cru.ru_utime.tv_usec + cru.ru_stime.tv_sec * 1000000 + cru.ru_stime.tv_usec;
  CHECK("wait4-rusage-child-cpu", cus >= 50000 && cus < 5000000, "us=%ld", cus);
  struct rusage all;
  getrusage(RUSAGE_CHILDREN, &all);
  long aus = all.ru_utime.tv_sec * 1000000 + all.ru_utime.tv_usec + all.ru_stime.tv_sec * 1000000 + all.ru_stime.tv_usec;
  CHECK("getrusage-children", aus >= cus, "children=%ld child=%ld", aus, cus);
  times(&tb);
  CHECK("times-cutime", tb.tms_cutime + tb.tms_cstime >= 5, "cutime=%ld", (long)(tb.tms_cutime + tb.tms_cstime));
  CHECK("getrusage-bad-who", getrusage(5, &ru) == -1 && errno == EINVAL, "accepted");
  return 0;
}
