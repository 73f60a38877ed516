// epoll: create/ctl errors, level- and edge-triggered, EPOLLONESHOT, nesting, loops, HUP,
// maxevents, registrations dying with their file, blocking wake-up.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(name, cond) do { if (cond) printf("ok %s\n", name); \
  else printf("FAIL %s: errno=%d (%s)\n", name, errno, strerror(errno)); } while (0)

static int add(int ep, int fd, uint32_t ev, uint64_t data) {
  struct epoll_event e = { .events = ev, .data.u64 = data };
  return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}
static int mod(int ep, int fd, uint32_t ev, uint64_t data) {
  struct epoll_event e = { .events = ev, .data.u64 = data };
  return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
}
static int wait0(int ep, struct epoll_event *out, int max) { return epoll_wait(ep, out, max, 0); }
static void put(int fd) { uint64_t one = 1; (void)!write(fd, &one, 8); }

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  alarm(20);
  struct epoll_event ev[8];
  int ep = epoll_create1(EPOLL_CLOEXEC);
  CHECK("epoll_create1", ep >= 0 && (fcntl(ep, F_GETFD) & FD_CLOEXEC));
  CHECK("epoll_create_zero_einval", epoll_create(0) == -1 && errno == EINVAL);
  CHECK("epoll_create1_bad_flags_einval", epoll_create1(1) == -1 && errno == EINVAL);
  CHECK("epoll_wait_maxevents_zero_einval", epoll_wait(ep, ev, 0, 0) == -1 && errno == EINVAL);
  CHECK("epoll_wait_not_epoll_einval", epoll_wait(0 == ep ? 1 : 0, ev, 1, 0) == -1 && errno == EINVAL);
  CHECK("epoll_ctl_self_einval", add(ep, ep, EPOLLIN, 0) == -1 && errno == EINVAL);
  CHECK("epoll_ctl_badfd_ebadf", add(ep, 999, EPOLLIN, 0) == -1 && errno == EBADF);
  int reg = open("/proc/self/exe", O_RDONLY);
  if (reg < 0) reg = open("/bin/sh", O_RDONLY);
  CHECK("epoll_ctl_regular_file_eperm", add(ep, reg, EPOLLIN, 0) == -1 && errno == EPERM);
  close(reg);

  int p[2];
  (void)!pipe(p);
  CHECK("epoll_ctl_add", add(ep, p[0], EPOLLIN, 7) == 0);
  CHECK("epoll_ctl_add_twice_eexist", add(ep, p[0], EPOLLIN, 7) == -1 && errno == EEXIST);
  CHECK("epoll_ctl_mod_missing_enoent", mod(ep, p[1], EPOLLOUT, 0) == -1 && errno == ENOENT);
  CHECK("epoll_ctl_del_missing_enoent", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL) == -1 && errno == ENOENT);
  CHECK("epoll_wait_nothing_ready", wait0(ep, ev, 8) == 0);
  CHECK("epoll_wait_timeout_expires", epoll_wait(ep, ev, 8, 30) == 0);
  (void)!write(p[1], "x", 1);
  int n = wait0(ep, ev, 8);
  CHECK("epoll_lt_reports_in", n == 1 && ev[0].events == EPOLLIN && ev[0].data.u64 == 7);
  CHECK("epoll_lt_reports_again", wait0(ep, ev, 8) == 1);
  struct pollfd pf = { .fd = ep, .events = POLLIN };
  CHECK("epoll_fd_pollable_when_ready", poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN));
  char c;
  (void)!read(p[0], &c, 1);
  CHECK("epoll_lt_drained_not_reported", wait0(ep, ev, 8) == 0);
  CHECK("epoll_fd_not_readable_when_idle", poll(&pf, 1, 0) == 0);
  CHECK("epoll_ctl_mod_data", mod(ep, p[0], EPOLLIN, 9) == 0);
  (void)!write(p[1], "y", 1);
  CHECK("epoll_mod_new_data", wait0(ep, ev, 8) == 1 && ev[0].data.u64 == 9);
  CHECK("epoll_ctl_del", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) == 0 && wait0(ep, ev, 8) == 0);

  int e = eventfd(0, EFD_NONBLOCK);
  add(ep, e, EPOLLIN | EPOLLET, 11);
  put(e);
  CHECK("epoll_et_first_report", wait0(ep, ev, 8) == 1 && ev[0].data.u64 == 11);
  CHECK("epoll_et_no_second_report", wait0(ep, ev, 8) == 0);
  put(e);
  CHECK("epoll_et_new_edge_reports", wait0(ep, ev, 8) == 1);
  epoll_ctl(ep, EPOLL_CTL_DEL, e, NULL);

  CHECK("epoll_oneshot_add", add(ep, e, EPOLLIN | EPOLLONESHOT, 12) == 0);
  CHECK("epoll_oneshot_fires_once", wait0(ep, ev, 8) == 1 && wait0(ep, ev, 8) == 0);
  put(e);
  CHECK("epoll_oneshot_stays_disabled", wait0(ep, ev, 8) == 0);
  CHECK("epoll_oneshot_rearm_by_mod", mod(ep, e, EPOLLIN | EPOLLONESHOT, 13) == 0 && wait0(ep, ev, 8) == 1 && ev[0].data.u64 == 13);
  epoll_ctl(ep, EPOLL_CTL_DEL, e, NULL);

  add(ep, p[1], EPOLLOUT, 20);
  n = wait0(ep, ev, 8);
  CHECK("epoll_pipe_write_end_out", n == 1 && ev[0].events == EPOLLOUT);
  epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL);
  (void)!read(p[0], &c, 1);
  add(ep, p[0], EPOLLIN, 21);
  close(p[1]);
  n = wait0(ep, ev, 8);
  CHECK("epoll_hup_always_reported", n == 1 && ev[0].events == EPOLLHUP);
  close(p[0]);
  CHECK("epoll_closed_file_dropped", wait0(ep, ev, 8) == 0);

  int q[2];
  (void)!pipe(q);
  int dupfd = dup(q[0]);
  add(ep, q[0], EPOLLIN, 30);
  close(q[0]);
  (void)!write(q[1], "z", 1);
  CHECK("epoll_dup_keeps_registration", wait0(ep, ev, 8) == 1 && ev[0].data.u64 == 30);
  CHECK("epoll_del_closed_fd_ebadf", epoll_ctl(ep, EPOLL_CTL_DEL, q[0], NULL) == -1 && errno == EBADF);
  close(dupfd);
  close(q[1]);
  CHECK("epoll_all_refs_closed_dropped", wait0(ep, ev, 8) == 0);

  int fds[3];
  for (int i = 0; i < 3; i++) {
    fds[i] = eventfd(1, 0);
    add(ep, fds[i], EPOLLIN, 40 + i);
  }
  CHECK("epoll_maxevents_limits", wait0(ep, ev, 2) == 2);
  uint64_t seen = 0;
  for (int round = 0; round < 3; round++) {
    int k = wait0(ep, ev, 1);
    if (k == 1) seen |= 1ull << (ev[0].data.u64 - 40);
  }
  CHECK("epoll_lt_round_robin", seen == 7);
  for (int i = 0; i < 3; i++) close(fds[i]);

  int inner = epoll_create1(0);
  int outer = epoll_create1(0);
  int e2 = eventfd(0, 0);
  add(inner, e2, EPOLLIN, 50);
  CHECK("epoll_nested_add", add(outer, inner, EPOLLIN, 51) == 0);
  CHECK("epoll_nested_idle", wait0(outer, ev, 8) == 0);
  put(e2);
  CHECK("epoll_nested_ready", wait0(outer, ev, 8) == 1 && ev[0].data.u64 == 51 && ev[0].events == EPOLLIN);
  CHECK("epoll_nested_loop_eloop", add(inner, outer, EPOLLIN, 0) == -1 && errno == ELOOP);

  int e3 = eventfd(0, 0);
  add(ep, e3, EPOLLIN, 60);
  pid_t child = fork();
  if (child == 0) {
    put(e3);
    _exit(0);
  }
  n = epoll_wait(ep, ev, 8, 10000);
  CHECK("epoll_blocking_wait_woken", n == 1 && ev[0].data.u64 == 60);
  waitpid(child, NULL, 0);
  n = epoll_pwait(ep, ev, 8, 0, NULL);
  CHECK("epoll_pwait_null_mask", n == 1 && ev[0].data.u64 == 60);
  return 0;
}
