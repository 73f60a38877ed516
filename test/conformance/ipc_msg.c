/* System V message queues: msgget/msgsnd/msgrcv/msgctl with message types, MSG_EXCEPT,
 * MSG_NOERROR, MSG_COPY, IPC_NOWAIT, blocking both ways, msg_qbytes, EIDRM, EINTR,
 * permissions as a non-root user, /proc/sysvipc/msg and IPC namespace isolation. */
#include "ipc_check.h"
#include <sys/ipc.h>
#include <sys/msg.h>

struct mbuf {
  long type;
  char text[256];
};

static int snd(int q, long type, const char *s, int flags) {
  struct mbuf m;
  m.type = type;
  size_t n = strlen(s);
  memcpy(m.text, s, n);
  return msgsnd(q, &m, n, flags);
}

/* Receives into a fresh buffer; returns the length, stores type and text. */
static struct mbuf last;
static ssize_t rcv(int q, size_t max, long type, int flags) {
  memset(&last, 0, sizeof last);
  return msgrcv(q, &last, max, type, flags);
}

static void on_usr1(int s) {
  (void)s;
}

static int perm_q;
static int nobody_checks(void *arg) {
  (void)arg;
  int bad = 0;
  if (!(snd(perm_q, 1, "x", IPC_NOWAIT) == -1 && errno == EACCES)) bad |= 1;
  struct msqid_ds ds;
  if (!(msgctl(perm_q, IPC_RMID, NULL) == -1 && errno == EPERM)) bad |= 2;
  if (msgctl(perm_q, IPC_STAT, &ds) != 0) bad |= 4; /* 0644: readable */
  if (rcv(perm_q, 100, 0, IPC_NOWAIT) != 4 || strcmp(last.text, "keep") != 0) bad |= 8;
  return bad;
}

int main(void) {
  fresh_ipc_ns();
  setvbuf(stdout, NULL, _IONBF, 0);
  pid_t me = getpid();

  int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  CHECK("msgget_private", q >= 0, "q %d", q);
  CHECK("msgsnd", snd(q, 1, "hello", 0) == 0, "");
  struct msqid_ds ds;
  memset(&ds, 0, sizeof ds);
  int r = msgctl(q, IPC_STAT, &ds);
  CHECK("msg_stat", r == 0 && ds.msg_qnum == 1 && ds.__msg_cbytes == 5 && ds.msg_qbytes == 16384 && ds.msg_lspid == me && ds.msg_stime != 0 && ds.msg_rtime == 0,
        "qnum %lu cbytes %lu qbytes %lu", (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes, (unsigned long)ds.msg_qbytes);
  ssize_t n = rcv(q, sizeof last.text, 0, 0);
  CHECK("msgrcv", n == 5 && last.type == 1 && memcmp(last.text, "hello", 5) == 0, "n %zd", n);
  msgctl(q, IPC_STAT, &ds);
  CHECK("msg_stat_after_rcv", ds.msg_qnum == 0 && ds.__msg_cbytes == 0 && ds.msg_lrpid == me && ds.msg_rtime != 0, "");
  errno = 0;
  CHECK("msgsnd_type0_einval", snd(q, 0, "x", 0) == -1 && errno == EINVAL, "");
  static char big[8200 + sizeof(long)];
  errno = 0;
  CHECK("msgsnd_too_big_einval", msgsnd(q, big, 8193, 0) == -1 && errno == EINVAL, "");
  *(long *)big = 1;
  CHECK("msgsnd_msgmax_ok", msgsnd(q, big, 8192, 0) == 0 && msgrcv(q, big, 8192, 0, 0) == 8192, "");
  errno = 0;
  CHECK("msgrcv_nowait_enomsg", rcv(q, 100, 0, IPC_NOWAIT) == -1 && errno == ENOMSG, "");
  CHECK("msgsnd_zero_len", snd(q, 9, "", 0) == 0 && rcv(q, 100, 9, 0) == 0 && last.type == 9, "");

  /* Types. */
  snd(q, 3, "three", 0);
  snd(q, 1, "one", 0);
  snd(q, 2, "two", 0);
  snd(q, 1, "uno", 0);
  n = rcv(q, 100, 2, IPC_NOWAIT);
  CHECK("msgrcv_type_exact", n == 3 && last.type == 2, "n %zd type %ld", n, last.type);
  n = rcv(q, 100, -3, IPC_NOWAIT);
  CHECK("msgrcv_type_negative", n == 3 && last.type == 1 && strcmp(last.text, "one") == 0, "type %ld %s", last.type, last.text);
  n = rcv(q, 100, 1, IPC_NOWAIT | MSG_EXCEPT);
  CHECK("msgrcv_except", n == 5 && last.type == 3, "type %ld", last.type);
  errno = 0;
  CHECK("msgrcv_except_none", rcv(q, 100, 1, IPC_NOWAIT | MSG_EXCEPT) == -1 && errno == ENOMSG, "");
  errno = 0;
  CHECK("msgrcv_type_missing", rcv(q, 100, 7, IPC_NOWAIT) == -1 && errno == ENOMSG, "");
  n = rcv(q, 100, 0, IPC_NOWAIT);
  CHECK("msgrcv_fifo", n == 3 && strcmp(last.text, "uno") == 0, "");

  /* Sizes. */
  snd(q, 4, "0123456789", 0);
  errno = 0;
  CHECK("msgrcv_e2big", rcv(q, 4, 0, IPC_NOWAIT) == -1 && errno == E2BIG, "");
  msgctl(q, IPC_STAT, &ds);
  CHECK("msgrcv_e2big_keeps", ds.msg_qnum == 1, "");
  n = rcv(q, 4, 0, IPC_NOWAIT | MSG_NOERROR);
  CHECK("msgrcv_noerror_truncates", n == 4 && memcmp(last.text, "0123", 4) == 0 && last.text[4] == 0, "n %zd", n);
  msgctl(q, IPC_STAT, &ds);
  CHECK("msgrcv_noerror_removes", ds.msg_qnum == 0, "");

  /* MSG_COPY reads by position without removing. */
  snd(q, 5, "first", 0);
  snd(q, 6, "second", 0);
  n = rcv(q, 100, 1, IPC_NOWAIT | MSG_COPY);
  msgctl(q, IPC_STAT, &ds);
  CHECK("msgrcv_copy", n == 6 && last.type == 6 && ds.msg_qnum == 2, "n %zd", n);
  errno = 0;
  CHECK("msgrcv_copy_needs_nowait", rcv(q, 100, 0, MSG_COPY) == -1 && errno == EINVAL, "");
  errno = 0;
  CHECK("msgrcv_copy_past_end", rcv(q, 100, 2, IPC_NOWAIT | MSG_COPY) == -1 && errno == ENOMSG, "");
  rcv(q, 100, 0, 0);
  rcv(q, 100, 0, 0);

  /* msg_qbytes bounds the queue; a full queue blocks senders. */
  msgctl(q, IPC_STAT, &ds);
  ds.msg_qbytes = 10;
  r = msgctl(q, IPC_SET, &ds);
  msgctl(q, IPC_STAT, &ds);
  CHECK("msg_set_qbytes", r == 0 && ds.msg_qbytes == 10, "");
  CHECK("msgsnd_fills", snd(q, 1, "12345678", IPC_NOWAIT) == 0, "");
  errno = 0;
  CHECK("msgsnd_full_eagain", snd(q, 1, "abc", IPC_NOWAIT) == -1 && errno == EAGAIN, "");
  pid_t p = fork();
  if (p == 0) _exit(snd(q, 2, "abc", 0) == 0 ? 0 : 1);
  int slept = wait_sleeping(p);
  n = rcv(q, 100, 1, 0);
  int code = child_code(p);
  CHECK("msgsnd_blocking_woken", slept && n == 8 && code == 0, "slept %d n %zd code %d", slept, n, code);
  n = rcv(q, 100, 2, IPC_NOWAIT);
  CHECK("msgsnd_blocked_delivered", n == 3 && strcmp(last.text, "abc") == 0, "");

  ds.msg_qbytes = 16384;
  msgctl(q, IPC_SET, &ds);

  /* A blocked receiver gets a later message. */
  p = fork();
  if (p == 0) {
    ssize_t m = rcv(q, 100, 42, 0);
    _exit(m == 6 && last.type == 42 && strcmp(last.text, "answer") == 0 ? 0 : 1);
  }
  slept = wait_sleeping(p);
  snd(q, 41, "other", 0);
  snd(q, 42, "answer", 0);
  code = child_code(p);
  msgctl(q, IPC_STAT, &ds);
  CHECK("msgrcv_blocking_woken", slept && code == 0 && ds.msg_qnum == 1, "code %d qnum %lu", code, (unsigned long)ds.msg_qnum);
  rcv(q, 100, 0, 0);

  /* Signals interrupt a blocked msgrcv with EINTR even under SA_RESTART. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  /* The child keeps signalling while the parent sleeps, until the parent is back (a signal
   * that lands before msgrcv blocks only runs the handler). */
  p = fork();
  if (p == 0) {
    for (int i = 0; i < 2000; i++) {
      if (proc_state(me) == 'S') kill(me, SIGUSR1);
      nap_ms(10);
    }
    _exit(1);
  }
  errno = 0;
  n = rcv(q, 100, 0, 0);
  int e = errno;
  kill(p, SIGKILL);
  code = child_code(p);
  code = code == -1000 - SIGKILL ? 0 : code;
  CHECK("msgrcv_eintr", n == -1 && e == EINTR && code == 0, "n %zd errno %d", n, e);

  /* IPC_RMID wakes waiters with EIDRM. */
  /* The child may not have blocked yet when the queue goes (it then sees EINVAL): retry. */
  int q2 = -1;
  code = -1;
  slept = 0;
  r = -1;
  for (int attempt = 0; attempt < 20 && code != 0; attempt++) {
    q2 = msgget(IPC_PRIVATE, 0600);
    p = fork();
    if (p == 0) {
      errno = 0;
      ssize_t m = rcv(q2, 100, 0, 0);
      _exit(m == -1 && errno == EIDRM ? 0 : m == -1 && errno == EINVAL ? 2 : 1);
    }
    slept = wait_sleeping(p);
    r = msgctl(q2, IPC_RMID, NULL);
    code = child_code(p);
    if (code != 2) break;
  }
  CHECK("msg_rmid_eidrm", slept && r == 0 && code == 0, "code %d", code);
  errno = 0;
  CHECK("msg_removed_einval", snd(q2, 1, "x", IPC_NOWAIT) == -1 && errno == EINVAL, "");

  /* Keys. */
  int k = msgget(0x5eed0021, IPC_CREAT | IPC_EXCL | 0644);
  CHECK("msgget_key", k >= 0 && msgget(0x5eed0021, 0) == k, "");
  errno = 0;
  CHECK("msgget_eexist", msgget(0x5eed0021, IPC_CREAT | IPC_EXCL) == -1 && errno == EEXIST, "");
  errno = 0;
  CHECK("msgget_enoent", msgget(0x5eed0022, 0) == -1 && errno == ENOENT, "");

  /* Permissions as nobody on a 0644 queue. */
  snd(k, 1, "keep", 0);
  perm_q = k;
  code = as_nobody(nobody_checks, NULL);
  CHECK("msg_perm_nobody", code == 0, "bits %d", code);
  snd(k, 1, "keep", 0);

  /* Info and /proc. */
  struct msginfo mi;
  int mx = msgctl(0, IPC_INFO, (struct msqid_ds *)&mi);
  CHECK("msg_ipc_info", mx >= 1 && mi.msgmax == 8192 && mi.msgmnb == 16384 && mi.msgmni == 32000, "mx %d", mx);
  mx = msgctl(0, MSG_INFO, (struct msqid_ds *)&mi);
  CHECK("msg_info", mx >= 1 && mi.msgpool == 2 && mi.msgmap == 1 && mi.msgtql == 4, "pool %d map %d tql %d", mi.msgpool, mi.msgmap, mi.msgtql);
  int found = 0;
  for (int i = 0; i <= mx; i++) if (msgctl(i, MSG_STAT, &ds) == k && ds.msg_qnum == 1) found = 1;
  CHECK("msg_stat_index", found, "");
  char buf[4096], line[128];
  int len = read_file("/proc/sysvipc/msg", buf, sizeof buf);
  snprintf(line, sizeof line, "%10d %10d  %4o  %10lu %10lu %5u", 0x5eed0021, k, 0644, 4UL, 1UL, (unsigned)me);
  CHECK("proc_sysvipc_msg", len > 0 && strncmp(buf, "       key      msqid perms      cbytes", 39) == 0 && strstr(buf, line) != NULL, "want '%s' in %s", line, buf);

  p = fork();
  if (p == 0) {
    if (unshare(CLONE_NEWIPC) != 0) _exit(1);
    _exit(msgget(0x5eed0021, 0) == -1 && errno == ENOENT ? 0 : 2);
  }
  code = child_code(p);
  CHECK("msg_newipc_isolated", code == 0, "code %d", code);

  msgctl(q, IPC_RMID, NULL);
  msgctl(k, IPC_RMID, NULL);
  return 0;
}
