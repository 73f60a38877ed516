/* System V semaphores: semget/semop/semtimedop/semctl, blocking waits woken by another
 * process, EIDRM, EINTR, SEM_UNDO at exit, limits, permissions as a non-root user,
 * /proc/sysvipc/sem and IPC namespace isolation. */
#include "ipc_check.h"
#include <sys/ipc.h>
#include <sys/sem.h>

union semun {
  int val;
  struct semid_ds *buf;
  unsigned short *array;
  struct seminfo *__buf;
};

static int sop(int id, unsigned short num, short op, short flg) {
  struct sembuf b = {num, op, flg};
  return semop(id, &b, 1);
}

static int getval(int id, int n) {
  return semctl(id, n, GETVAL);
}

/* Waits until GETNCNT (or GETZCNT) of sem n reaches want. */
static int wait_cnt(int id, int n, int cmd, int want) {
  for (int i = 0; i < 4000; i++) {
    if (semctl(id, n, cmd) == want) return 1;
    nap_ms(5);
  }
  return 0;
}

static void on_usr1(int s) {
  (void)s;
}

static int perm_id;
static int nobody_checks(void *arg) {
  (void)arg;
  int bad = 0;
  if (!(sop(perm_id, 0, 1, IPC_NOWAIT) == -1 && errno == EACCES)) bad |= 1;
  if (!(semctl(perm_id, 0, GETVAL) == -1 && errno == EACCES)) bad |= 2;
  if (!(semctl(perm_id, 0, IPC_RMID) == -1 && errno == EPERM)) bad |= 4;
  union semun u = {.val = 3};
  if (!(semctl(perm_id, 0, SETVAL, u) == -1 && errno == EACCES)) bad |= 8;
  return bad;
}

static int ro_id;
static int nobody_ro(void *arg) {
  (void)arg;
  int bad = 0;
  if (semctl(ro_id, 0, GETVAL) != 0) bad |= 1;
  if (sop(ro_id, 0, 0, IPC_NOWAIT) != 0) bad |= 2; /* wait-for-zero only reads */
  if (!(sop(ro_id, 0, 1, IPC_NOWAIT) == -1 && errno == EACCES)) bad |= 4;
  return bad;
}

int main(void) {
  fresh_ipc_ns();
  setvbuf(stdout, NULL, _IONBF, 0);
  union semun u;

  int id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
  CHECK("semget_private", id >= 0, "id %d", id);
  CHECK("sem_initial_zero", getval(id, 0) == 0 && getval(id, 2) == 0, "");
  u.val = 5;
  CHECK("sem_setval", semctl(id, 0, SETVAL, u) == 0 && getval(id, 0) == 5, "");
  CHECK("sem_getpid_setval", semctl(id, 0, GETPID) == getpid(), "%d", semctl(id, 0, GETPID));
  unsigned short all[3] = {1, 2, 3}, got[3] = {0, 0, 0};
  u.array = all;
  int r = semctl(id, 0, SETALL, u);
  u.array = got;
  CHECK("sem_setall_getall", r == 0 && semctl(id, 0, GETALL, u) == 0 && got[0] == 1 && got[1] == 2 && got[2] == 3, "");
  CHECK("semop_inc", sop(id, 0, 4, 0) == 0 && getval(id, 0) == 5, "");
  CHECK("semop_dec", sop(id, 0, -5, 0) == 0 && getval(id, 0) == 0, "");
  errno = 0;
  CHECK("semop_nowait_eagain", sop(id, 0, -1, IPC_NOWAIT) == -1 && errno == EAGAIN, "");
  errno = 0;
  CHECK("semop_zero_nowait_eagain", sop(id, 1, 0, IPC_NOWAIT) == -1 && errno == EAGAIN, "");
  CHECK("semop_zero_ok", sop(id, 0, 0, 0) == 0, "");
  struct sembuf two[2] = {{1, 5, 0}, {2, -10, IPC_NOWAIT}};
  errno = 0;
  r = semop(id, two, 2);
  CHECK("semop_atomic", r == -1 && errno == EAGAIN && getval(id, 1) == 2 && getval(id, 2) == 3, "r %d v1 %d", r, getval(id, 1));
  struct sembuf both[2] = {{1, -2, 0}, {2, 1, 0}};
  CHECK("semop_multi", semop(id, both, 2) == 0 && getval(id, 1) == 0 && getval(id, 2) == 4, "");
  errno = 0;
  CHECK("semop_efbig", sop(id, 3, 1, 0) == -1 && errno == EFBIG, "");
  struct sembuf many[501];
  for (int i = 0; i < 501; i++) many[i] = (struct sembuf){0, 0, 0};
  errno = 0;
  CHECK("semop_e2big", semop(id, many, 501) == -1 && errno == E2BIG, "");
  errno = 0;
  CHECK("semop_nsops0_einval", semop(id, many, 0) == -1 && errno == EINVAL, "");
  u.val = 32768;
  errno = 0;
  CHECK("setval_erange", semctl(id, 0, SETVAL, u) == -1 && errno == ERANGE, "");
  u.val = -1;
  errno = 0;
  CHECK("setval_negative_erange", semctl(id, 0, SETVAL, u) == -1 && errno == ERANGE, "");
  u.val = 32767;
  semctl(id, 0, SETVAL, u);
  errno = 0;
  CHECK("semop_over_semvmx_erange", sop(id, 0, 1, 0) == -1 && errno == ERANGE && getval(id, 0) == 32767, "");
  u.val = 0;
  semctl(id, 0, SETVAL, u);
  errno = 0;
  CHECK("getval_bad_num", semctl(id, 5, GETVAL) == -1 && errno == EINVAL, "");

  struct timespec ts = {0, 30 * 1000000};
  struct sembuf dec = {0, -1, 0};
  errno = 0;
  CHECK("semtimedop_timeout", semtimedop(id, &dec, 1, &ts) == -1 && errno == EAGAIN, "");
  ts.tv_nsec = 1000000000;
  errno = 0;
  CHECK("semtimedop_bad_timeout", semtimedop(id, &dec, 1, &ts) == -1 && errno == EINVAL, "");

  /* A blocked decrement woken by another process. */
  pid_t p = fork();
  if (p == 0) {
    int ok = wait_cnt(id, 0, GETNCNT, 1);
    sop(id, 0, 1, 0);
    _exit(ok ? 0 : 1);
  }
  r = sop(id, 0, -1, 0);
  int code = child_code(p);
  CHECK("semop_blocking_woken", r == 0 && code == 0 && getval(id, 0) == 0, "r %d code %d", r, code);
  CHECK("sem_getpid", semctl(id, 0, GETPID) == getpid(), "");

  /* A wait-for-zero woken by another process. */
  u.val = 2;
  semctl(id, 1, SETVAL, u);
  p = fork();
  if (p == 0) _exit(sop(id, 1, 0, 0) == 0 ? 0 : 1);
  int zc = wait_cnt(id, 1, GETZCNT, 1);
  CHECK("sem_getzcnt", zc, "zcnt %d", semctl(id, 1, GETZCNT));
  sop(id, 1, -2, 0);
  code = child_code(p);
  CHECK("semop_zero_woken", code == 0, "code %d", code);
  CHECK("sem_counts_cleared", semctl(id, 1, GETZCNT) == 0 && semctl(id, 0, GETNCNT) == 0, "");

  /* Signals interrupt a wait with EINTR, even under SA_RESTART. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  pid_t me = getpid();
  p = fork();
  if (p == 0) {
    int ok = wait_cnt(id, 0, GETNCNT, 1);
    kill(me, SIGUSR1);
    _exit(ok ? 0 : 1);
  }
  errno = 0;
  r = sop(id, 0, -1, 0);
  int e = errno;
  code = child_code(p);
  CHECK("semop_eintr", r == -1 && e == EINTR && code == 0, "r %d errno %d", r, e);
  CHECK("semop_eintr_ncnt_gone", semctl(id, 0, GETNCNT) == 0, "");

  /* SEM_UNDO: a process's adjustments are reverted when it exits. */
  u.val = 10;
  semctl(id, 2, SETVAL, u);
  p = fork();
  if (p == 0) {
    if (sop(id, 2, 3, SEM_UNDO) != 0 || sop(id, 2, -1, SEM_UNDO) != 0) _exit(1);
    _exit(getval(id, 2) == 12 ? 0 : 2);
  }
  code = child_code(p);
  CHECK("sem_undo_on_exit", code == 0 && getval(id, 2) == 10, "code %d val %d", code, getval(id, 2));
  p = fork();
  if (p == 0) {
    if (sop(id, 2, -4, SEM_UNDO) != 0) _exit(1);
    _exit(0);
  }
  code = child_code(p);
  CHECK("sem_undo_dec_restored", code == 0 && getval(id, 2) == 10, "val %d", getval(id, 2));
  /* A waiter blocked on the semaphore is woken by the undo. */
  p = fork();
  if (p == 0) {
    sop(id, 2, -10, SEM_UNDO);
    int ok = wait_cnt(id, 2, GETNCNT, 1);
    _exit(ok ? 0 : 1);
  }
  for (int i = 0; i < 4000 && getval(id, 2) != 0; i++) nap_ms(5); /* the child took it */
  r = sop(id, 2, -10, 0);
  code = child_code(p);
  CHECK("sem_undo_wakes_waiter", r == 0 && code == 0 && getval(id, 2) == 0, "r %d code %d", r, code);
  /* SETVAL clears the adjustments of others. */
  p = fork();
  if (p == 0) {
    sop(id, 2, 5, SEM_UNDO);
    u.val = 1;
    semctl(id, 2, SETVAL, u);
    _exit(0);
  }
  child_code(p);
  CHECK("sem_setval_clears_undo", getval(id, 2) == 1, "val %d", getval(id, 2));

  /* EIDRM for a waiter when the set is removed. */
  int id2 = semget(IPC_PRIVATE, 1, 0600);
  p = fork();
  if (p == 0) {
    errno = 0;
    int rr = sop(id2, 0, -1, 0);
    _exit(rr == -1 && errno == EIDRM ? 0 : 1);
  }
  int nc = wait_cnt(id2, 0, GETNCNT, 1);
  r = semctl(id2, 0, IPC_RMID);
  code = child_code(p);
  CHECK("sem_rmid_eidrm", nc && r == 0 && code == 0, "code %d", code);
  errno = 0;
  CHECK("sem_removed_einval", semctl(id2, 0, GETVAL) == -1 && errno == EINVAL, "");

  /* Keys and sizes. */
  int k = semget(0x5eed0011, 4, IPC_CREAT | IPC_EXCL | 0600);
  CHECK("semget_key", k >= 0 && semget(0x5eed0011, 2, 0) == k && semget(0x5eed0011, 0, 0) == k, "");
  errno = 0;
  CHECK("semget_more_einval", semget(0x5eed0011, 5, 0) == -1 && errno == EINVAL, "");
  errno = 0;
  CHECK("semget_eexist", semget(0x5eed0011, 4, IPC_CREAT | IPC_EXCL) == -1 && errno == EEXIST, "");
  errno = 0;
  CHECK("semget_enoent", semget(0x5eed0012, 1, 0) == -1 && errno == ENOENT, "");
  errno = 0;
  CHECK("semget_zero_einval", semget(IPC_PRIVATE, 0, 0600) == -1 && errno == EINVAL, "");
  errno = 0;
  CHECK("semget_semmsl_einval", semget(IPC_PRIVATE, 32001, 0600) == -1 && errno == EINVAL, "");

  /* IPC_STAT / IPC_SET. */
  struct semid_ds ds;
  memset(&ds, 0, sizeof ds);
  u.buf = &ds;
  r = semctl(k, 0, IPC_STAT, u);
  CHECK("sem_ipc_stat", r == 0 && ds.sem_nsems == 4 && (ds.sem_perm.mode & 0777) == 0600 && ds.sem_perm.__key == 0x5eed0011 && ds.sem_otime == 0 && ds.sem_ctime != 0, "mode %o", ds.sem_perm.mode);
  ds.sem_perm.mode = 0604;
  r = semctl(k, 0, IPC_SET, u);
  memset(&ds, 0, sizeof ds);
  semctl(k, 0, IPC_STAT, u);
  CHECK("sem_ipc_set", r == 0 && (ds.sem_perm.mode & 0777) == 0604, "mode %o", ds.sem_perm.mode);
  sop(k, 0, 1, 0);
  semctl(k, 0, IPC_STAT, u);
  CHECK("sem_otime", ds.sem_otime != 0, "");

  /* Permissions as nobody. */
  perm_id = id;
  code = as_nobody(nobody_checks, NULL);
  CHECK("sem_perm_nobody", code == 0, "bits %d", code);
  ro_id = k;
  u.val = 0;
  semctl(k, 0, SETVAL, u);
  code = as_nobody(nobody_ro, NULL);
  CHECK("sem_perm_nobody_readonly", code == 0, "bits %d", code);

  /* Info and /proc. */
  struct seminfo si;
  u.__buf = &si;
  int mx = semctl(0, 0, IPC_INFO, u);
  CHECK("sem_ipc_info", mx >= 1 && si.semmsl == 32000 && si.semopm == 500 && si.semvmx == 32767 && si.semmni == 32000, "mx %d msl %d", mx, si.semmsl);
  mx = semctl(0, 0, SEM_INFO, u);
  CHECK("sem_info", mx >= 1 && si.semusz == 2 && si.semaem == 7, "usz %d aem %d", si.semusz, si.semaem);
  u.buf = &ds;
  int found = 0;
  for (int i = 0; i <= mx; i++) if (semctl(i, 0, SEM_STAT, u) == k && ds.sem_nsems == 4) found = 1;
  CHECK("sem_stat_index", found, "");
  char buf[4096], line[128];
  int n = read_file("/proc/sysvipc/sem", buf, sizeof buf);
  snprintf(line, sizeof line, "%10d %10d  %4o %10u %5u %5u %5u %5u", 0x5eed0011, k, 0604, 4u, 0u, 0u, 0u, 0u);
  CHECK("proc_sysvipc_sem", n > 0 && strncmp(buf, "       key      semid perms      nsems", 38) == 0 && strstr(buf, line) != NULL, "%s", buf);

  /* IPC namespaces. */
  p = fork();
  if (p == 0) {
    if (unshare(CLONE_NEWIPC) != 0) _exit(1);
    if (!(semget(0x5eed0011, 0, 0) == -1 && errno == ENOENT)) _exit(2);
    _exit(semget(0x5eed0011, 1, IPC_CREAT | IPC_EXCL | 0600) >= 0 ? 0 : 3);
  }
  code = child_code(p);
  CHECK("sem_newipc_isolated", code == 0 && semget(0x5eed0011, 0, 0) == k, "code %d", code);

  semctl(id, 0, IPC_RMID);
  semctl(k, 0, IPC_RMID);
  return 0;
}
