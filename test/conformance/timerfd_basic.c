// timerfd: clocks, relative and absolute expiry, periodic counts, gettime/old values,
// disarming, errors, readiness through poll and epoll.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define CHECK(name, cond) do { if (cond) printf("ok %s\n", name); \
  else printf("FAIL %s: errno=%d (%s)\n", name, errno, strerror(errno)); } while (0)
#define MS 1000000L

static struct itimerspec spec(long value_ns, long interval_ns) {
  struct itimerspec s = { { interval_ns / 1000000000L, interval_ns % 1000000000L }, { value_ns / 1000000000L, value_ns % 1000000000L } };
  return s;
}
static long long ns_of(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }
static int readable(int fd) {
  struct pollfd p = { .fd = fd, .events = POLLIN };
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  alarm(20);
  uint64_t n = 0;
  struct itimerspec s, cur, old;
  int m = timerfd_create(CLOCK_MONOTONIC, 0);
  CHECK("timerfd_create_monotonic", m >= 0);
  int r = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
  CHECK("timerfd_create_realtime_flags", r >= 0 && (fcntl(r, F_GETFL) & O_NONBLOCK) && (fcntl(r, F_GETFD) & FD_CLOEXEC));
  int b = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
  CHECK("timerfd_create_boottime", b >= 0);
  CHECK("timerfd_create_bad_clock_einval", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0) == -1 && errno == EINVAL);
  CHECK("timerfd_create_bad_flags_einval", timerfd_create(CLOCK_MONOTONIC, 0x40) == -1 && errno == EINVAL);
  CHECK("timerfd_gettime_disarmed_zero", timerfd_gettime(m, &cur) == 0 && ns_of(cur.it_value) == 0 && ns_of(cur.it_interval) == 0);
  CHECK("timerfd_read_disarmed_eagain", read(b, &n, 8) == -1 && errno == EAGAIN);

  s = spec(20 * MS, 0);
  CHECK("timerfd_settime_relative", timerfd_settime(m, 0, &s, NULL) == 0);
  CHECK("timerfd_gettime_remaining", timerfd_gettime(m, &cur) == 0 && ns_of(cur.it_value) > 0 && ns_of(cur.it_value) <= 20 * MS);
  CHECK("timerfd_blocking_read_one", read(m, &n, 8) == 8 && n == 1);
  CHECK("timerfd_oneshot_disarmed_after", timerfd_gettime(m, &cur) == 0 && ns_of(cur.it_value) == 0);

  s = spec(10 * MS, 10 * MS);
  timerfd_settime(b, 0, &s, NULL);
  struct timespec nap = { 0, 60 * MS };
  nanosleep(&nap, NULL);
  CHECK("timerfd_periodic_counts", read(b, &n, 8) == 8 && n >= 3);
  CHECK("timerfd_gettime_interval", timerfd_gettime(b, &cur) == 0 && ns_of(cur.it_interval) == 10 * MS && ns_of(cur.it_value) > 0);
  s = spec(0, 0);
  CHECK("timerfd_disarm", timerfd_settime(b, 0, &s, &old) == 0 && ns_of(old.it_interval) == 10 * MS);
  nanosleep(&nap, NULL);
  CHECK("timerfd_disarmed_no_expiry", read(b, &n, 8) == -1 && errno == EAGAIN);

  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  s = spec(ns_of(now) + 30 * MS, 0);
  CHECK("timerfd_settime_abstime", timerfd_settime(m, TFD_TIMER_ABSTIME, &s, NULL) == 0);
  CHECK("timerfd_abstime_read", read(m, &n, 8) == 8 && n == 1);
  struct timespec after;
  clock_gettime(CLOCK_MONOTONIC, &after);
  CHECK("timerfd_abstime_not_early", ns_of(after) >= ns_of(now) + 30 * MS);
  s = spec(1, 0);
  timerfd_settime(m, TFD_TIMER_ABSTIME, &s, NULL);
  CHECK("timerfd_abstime_past_immediate", readable(m) && read(m, &n, 8) == 8 && n == 1);

  s = spec(10000 * MS, 0);
  timerfd_settime(m, 0, &s, NULL);
  CHECK("timerfd_armed_not_readable", !readable(m));
  s = spec(20000 * MS, 0);
  CHECK("timerfd_settime_old_value", timerfd_settime(m, 0, &s, &old) == 0 && ns_of(old.it_value) > 9000 * MS && ns_of(old.it_value) <= 10000 * MS);

  s = spec(1, 0);
  timerfd_settime(m, TFD_TIMER_ABSTIME, &s, NULL);
  s = spec(10000 * MS, 0);
  timerfd_settime(m, 0, &s, NULL);
  int fl = fcntl(m, F_GETFL);
  fcntl(m, F_SETFL, fl | O_NONBLOCK);
  CHECK("timerfd_rearm_clears_count", read(m, &n, 8) == -1 && errno == EAGAIN);

  s = spec(0, 0);
  s.it_value.tv_nsec = 1000000000L;
  CHECK("timerfd_bad_nsec_einval", timerfd_settime(m, 0, &s, NULL) == -1 && errno == EINVAL);
  CHECK("timerfd_bad_settime_flags_einval", timerfd_settime(m, 0x10, &s, NULL) == -1 && errno == EINVAL);
  int e = eventfd(0, 0);
  s = spec(MS, 0);
  CHECK("timerfd_settime_not_timerfd_einval", timerfd_settime(e, 0, &s, NULL) == -1 && errno == EINVAL);
  uint32_t small;
  CHECK("timerfd_short_read_einval", read(m, &small, 4) == -1 && errno == EINVAL);
  CHECK("timerfd_write_einval", write(m, &n, 8) == -1 && errno == EINVAL);

  clock_gettime(CLOCK_REALTIME, &now);
  s = spec(ns_of(now) + 20 * MS, 0);
  CHECK("timerfd_realtime_abstime_cancel_on_set", timerfd_settime(r, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &s, NULL) == 0);
  int ep = epoll_create1(0);
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 5 }, out;
  epoll_ctl(ep, EPOLL_CTL_ADD, r, &ev);
  CHECK("timerfd_epoll_wakes", epoll_wait(ep, &out, 1, 10000) == 1 && out.data.u64 == 5);
  CHECK("timerfd_realtime_read", read(r, &n, 8) == 8 && n == 1);
  return 0;
}
