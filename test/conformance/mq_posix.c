/* POSIX message queues: mq_open attributes and flags, priority order, O_NONBLOCK,
 * timeouts, blocking receive woken by another process, mq_notify with SIGEV_SIGNAL,
 * mq_getsetattr, the mqueue filesystem's status file, poll readiness and mq_unlink. */
#include "ipc_check.h"
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/stat.h>

static volatile sig_atomic_t got_sig, got_code, got_pid;
static void on_usr1(int s, siginfo_t *si, void *u) {
  (void)u;
  got_sig = s;
  got_code = si->si_code;
  got_pid = si->si_pid;
}

int main(void) {
  fresh_ipc_ns();
  setvbuf(stdout, NULL, _IONBF, 0);
  struct mq_attr at = {0, 4, 64, 0, {0}}, got;
  mqd_t q = mq_open("/tsv_q1", O_RDWR | O_CREAT | O_EXCL, 0600, &at);
  CHECK("mq_open_create", q >= 0, "");
  errno = 0;
  CHECK("mq_open_excl", mq_open("/tsv_q1", O_RDWR | O_CREAT | O_EXCL, 0600, &at) == (mqd_t)-1 && errno == EEXIST, "");
  errno = 0;
  CHECK("mq_open_enoent", mq_open("/tsv_nope", O_RDONLY) == (mqd_t)-1 && errno == ENOENT, "");
  struct mq_attr bad = {0, 0, 64, 0, {0}};
  errno = 0;
  CHECK("mq_open_bad_attr", mq_open("/tsv_q2", O_RDWR | O_CREAT, 0600, &bad) == (mqd_t)-1 && errno == EINVAL, "");
  errno = 0;
  CHECK("mq_open_bad_name", mq_open("tsv_noslash", O_RDWR | O_CREAT, 0600, &at) == (mqd_t)-1 && errno == EINVAL, "");
  CHECK("mq_getattr", mq_getattr(q, &got) == 0 && got.mq_maxmsg == 4 && got.mq_msgsize == 64 && got.mq_curmsgs == 0 && got.mq_flags == 0, "");
  mqd_t d = mq_open("/tsv_def", O_RDWR | O_CREAT, 0600, NULL);
  CHECK("mq_default_attr", d >= 0 && mq_getattr(d, &got) == 0 && got.mq_maxmsg == 10 && got.mq_msgsize == 8192, "");

  CHECK("mq_send", mq_send(q, "low", 3, 1) == 0 && mq_send(q, "high", 4, 9) == 0 && mq_send(q, "mid", 3, 5) == 0 && mq_send(q, "mid2", 4, 5) == 0, "");
  errno = 0;
  CHECK("mq_send_prio_max", mq_send(q, "x", 1, 32768) == -1 && errno == EINVAL, "");
  char buf[128];
  unsigned prio = 0;
  mq_getattr(q, &got);
  CHECK("mq_curmsgs", got.mq_curmsgs == 4, "%ld", got.mq_curmsgs);
  struct pollfd pf = {q, POLLIN | POLLOUT, 0};
  CHECK("mq_poll_full", poll(&pf, 1, 0) == 1 && pf.revents == POLLIN, "revents %x", pf.revents);
  char st[256];
  int fd = open("/dev/null", O_RDONLY);
  close(fd);
  mkdir("/tmp/tsv_mq", 0755);
  int mounted = mount("none", "/tmp/tsv_mq", "mqueue", 0, NULL);
  CHECK("mq_mount", mounted == 0, "");
  int n = read_file("/tmp/tsv_mq/tsv_q1", st, sizeof st);
  CHECK("mq_fs_status", n > 0 && strcmp(st, "QSIZE:14         NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n") == 0, "'%s'", st);
  struct stat sb;
  CHECK("mq_fs_stat", stat("/tmp/tsv_mq/tsv_q1", &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 0777) == 0600, "");
  errno = 0;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 20000000;
  if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
  CHECK("mq_timedsend_timeout", mq_timedsend(q, "x", 1, 0, &ts) == -1 && errno == ETIMEDOUT, "");
  errno = 0;
  CHECK("mq_receive_emsgsize", mq_receive(q, buf, 10, &prio) == -1 && errno == EMSGSIZE, "");
  ssize_t r = mq_receive(q, buf, sizeof buf, &prio);
  CHECK("mq_receive_prio_order", r == 4 && prio == 9 && memcmp(buf, "high", 4) == 0, "r %zd prio %u", r, prio);
  r = mq_receive(q, buf, sizeof buf, &prio);
  CHECK("mq_receive_fifo_same_prio", r == 3 && prio == 5 && memcmp(buf, "mid", 3) == 0, "");
  mq_receive(q, buf, sizeof buf, &prio);
  mq_receive(q, buf, sizeof buf, &prio);
  struct mq_attr nb = {O_NONBLOCK, 0, 0, 0, {0}}, old;
  CHECK("mq_setattr_nonblock", mq_setattr(q, &nb, &old) == 0 && old.mq_flags == 0 && mq_getattr(q, &got) == 0 && got.mq_flags == O_NONBLOCK, "");
  errno = 0;
  CHECK("mq_receive_nonblock_eagain", mq_receive(q, buf, sizeof buf, &prio) == -1 && errno == EAGAIN, "");
  nb.mq_flags = 0;
  mq_setattr(q, &nb, NULL);
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 20000000;
  if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
  errno = 0;
  CHECK("mq_timedreceive_timeout", mq_timedreceive(q, buf, sizeof buf, &prio, &ts) == -1 && errno == ETIMEDOUT, "");
  ts.tv_nsec = 1000000000;
  errno = 0;
  CHECK("mq_timedreceive_bad_timeout", mq_timedreceive(q, buf, sizeof buf, &prio, &ts) == -1 && errno == EINVAL, "");
  pf.revents = 0;
  CHECK("mq_poll_empty", poll(&pf, 1, 0) == 1 && pf.revents == POLLOUT, "revents %x", pf.revents);

  /* A blocked receive woken by another process. */
  pid_t me = getpid();
  pid_t p = fork();
  if (p == 0) {
    int ok = wait_sleeping(me);
    int sent = mq_send(q, "wake", 4, 3);
    _exit(ok && sent == 0 ? 0 : 1);
  }
  r = mq_receive(q, buf, sizeof buf, &prio);
  int code = child_code(p);
  CHECK("mq_receive_blocking_woken", r == 4 && prio == 3 && code == 0, "r %zd code %d", r, code);

  /* mq_notify with SIGEV_SIGNAL: fires once for a message on an empty queue. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_usr1;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, NULL);
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGUSR1;
  CHECK("mq_notify_register", mq_notify(q, &ev) == 0, "");
  errno = 0;
  CHECK("mq_notify_ebusy", mq_notify(d, &ev) == 0 && mq_notify(q, &ev) == -1 && errno == EBUSY, "");
  n = read_file("/tmp/tsv_mq/tsv_q1", st, sizeof st);
  char want[128];
  snprintf(want, sizeof want, "QSIZE:0          NOTIFY:0     SIGNO:%-5d NOTIFY_PID:%-6d\n", SIGUSR1, (int)me);
  CHECK("mq_fs_status_notify", n > 0 && strcmp(st, want) == 0, "'%s'", st);
  /* The owner closing any descriptor of the queue (the status read above) drops its registration. */
  CHECK("mq_notify_dropped_by_close", mq_notify(q, &ev) == 0, "");
  p = fork();
  if (p == 0) _exit(mq_send(q, "n", 1, 0) == 0 ? 0 : 1);
  code = child_code(p);
  for (int i = 0; i < 2000 && !got_sig; i++) nap_ms(5);
  CHECK("mq_notify_signal", code == 0 && got_sig == SIGUSR1 && got_code == SI_MESGQ && got_pid == p, "sig %d code %d pid %d", got_sig, got_code, got_pid);
  CHECK("mq_notify_once", mq_notify(q, &ev) == 0, "");
  CHECK("mq_notify_unregister", mq_notify(q, NULL) == 0, "");
  ev.sigev_notify = 99;
  errno = 0;
  CHECK("mq_notify_bad", mq_notify(q, &ev) == -1 && errno == EINVAL, "");

  /* Unlink: the name goes, open descriptors keep working. */
  CHECK("mq_unlink", mq_unlink("/tsv_q1") == 0 && mq_receive(q, buf, sizeof buf, &prio) == 1, "");
  errno = 0;
  CHECK("mq_unlink_gone", mq_open("/tsv_q1", O_RDONLY) == (mqd_t)-1 && errno == ENOENT && access("/tmp/tsv_mq/tsv_q1", F_OK) != 0, "");
  errno = 0;
  CHECK("mq_unlink_enoent", mq_unlink("/tsv_q1") == -1 && errno == ENOENT, "");
  errno = 0;
  CHECK("mq_send_rdonly_ebadf", mq_send(mq_open("/tsv_def", O_RDONLY), "x", 1, 0) == -1 && errno == EBADF, "");
  mq_close(q);
  mq_close(d);
  mq_unlink("/tsv_def");
  umount("/tmp/tsv_mq");
  rmdir("/tmp/tsv_mq");
  return 0;
}
