/* System V shared memory: shmget/shmat/shmdt/shmctl semantics, fork sharing, removal at
 * last detach, permissions as a non-root user, limits, /proc/sysvipc/shm, and IPC
 * namespace isolation. */
#include "ipc_check.h"
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

static int nattch(int id) {
  struct shmid_ds ds;
  return shmctl(id, IPC_STAT, &ds) == 0 ? (int)ds.shm_nattch : -1;
}

static int shared_id;

static int nobody_checks(void *arg) {
  (void)arg;
  int bad = 0;
  struct shmid_ds ds;
  errno = 0;
  if (!(shmat(shared_id, NULL, 0) == (void *)-1 && errno == EACCES)) bad |= 1;
  void *p = shmat(shared_id, NULL, SHM_RDONLY);
  if (p == (void *)-1 || *(volatile char *)p != 'R') bad |= 2;
  else shmdt(p);
  if (!(shmctl(shared_id, IPC_RMID, NULL) == -1 && errno == EPERM)) bad |= 4;
  if (shmctl(shared_id, IPC_STAT, &ds) != 0) bad |= 8;
  if (!(shmget(0x5eed0001, 0, 0666) == -1 && errno == EACCES)) bad |= 16;
  if (shmget(0x5eed0001, 0, 0444) != shared_id) bad |= 32;
  return bad;
}

static int private_id;
static int nobody_private(void *arg) {
  (void)arg;
  struct shmid_ds ds;
  int bad = 0;
  if (!(shmctl(private_id, IPC_STAT, &ds) == -1 && errno == EACCES)) bad |= 1;
  if (shmctl(private_id, SHM_STAT_ANY, &ds) == -1 && errno != EINVAL) bad |= 0; /* index form; skipped */
  if (!(shmctl(private_id, SHM_LOCK, NULL) == -1 && errno == EPERM)) bad |= 2;
  return bad;
}

int main(void) {
  fresh_ipc_ns();
  setvbuf(stdout, NULL, _IONBF, 0);

  int id = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
  CHECK("shmget_private", id >= 0, "id %d", id);
  struct shmid_ds ds;
  memset(&ds, 0, sizeof ds);
  int r = shmctl(id, IPC_STAT, &ds);
  CHECK("shm_stat_fields", r == 0 && ds.shm_segsz == 10000 && ds.shm_nattch == 0 && (ds.shm_perm.mode & 0777) == 0600 &&
        ds.shm_cpid == getpid() && ds.shm_perm.uid == 0 && ds.shm_perm.cuid == 0 && ds.shm_atime == 0 && ds.shm_ctime != 0,
        "r %d segsz %zu nattch %lu mode %o cpid %d", r, ds.shm_segsz, (unsigned long)ds.shm_nattch, ds.shm_perm.mode, ds.shm_cpid);

  char *a = shmat(id, NULL, 0);
  CHECK("shmat", a != (void *)-1 && ((unsigned long)a & 4095) == 0, "a %p", (void *)a);
  CHECK("shm_zero_filled", a[0] == 0 && a[9999] == 0, "");
  CHECK("shm_nattch_1", nattch(id) == 1, "%d", nattch(id));
  shmctl(id, IPC_STAT, &ds);
  CHECK("shm_atime_lpid", ds.shm_atime != 0 && ds.shm_lpid == getpid(), "lpid %d", ds.shm_lpid);
  a[0] = 'x';
  a[12287] = 'y'; /* the rest of the last page is mapped too */
  char *b = shmat(id, NULL, SHM_RDONLY);
  CHECK("shmat_second_sees", b != (void *)-1 && b != a && b[0] == 'x' && b[12287] == 'y', "");
  CHECK("shm_nattch_2", nattch(id) == 2, "%d", nattch(id));

  pid_t p = fork();
  if (p == 0) {
    int n = nattch(id);
    a[1] = 'c';
    _exit(n == 4 ? 0 : 10 + n);
  }
  int code = child_code(p);
  CHECK("shm_fork_inherits_attach", code == 0, "child code %d", code);
  CHECK("shm_fork_shares_writes", b[1] == 'c', "b[1]=%d", b[1]);
  CHECK("shm_exit_detaches", nattch(id) == 2, "%d", nattch(id));

  p = fork();
  if (p == 0) {
    b[2] = 'z'; /* read-only attach: SIGSEGV */
    _exit(0);
  }
  code = child_code(p);
  CHECK("shm_rdonly_segv", code == -1000 - SIGSEGV, "code %d", code);

  errno = 0;
  CHECK("shmdt_not_attach", shmdt(a + 4096) == -1 && errno == EINVAL, "");
  errno = 0;
  CHECK("shmdt_unaligned", shmdt(a + 1) == -1 && errno == EINVAL, "");
  CHECK("shmdt", shmdt(b) == 0 && nattch(id) == 1, "%d", nattch(id));
  shmctl(id, IPC_STAT, &ds);
  CHECK("shm_dtime", ds.shm_dtime != 0, "");
  errno = 0;
  CHECK("shmdt_twice", shmdt(b) == -1 && errno == EINVAL, "");

  /* Address hints: unaligned needs SHM_RND; an occupied range needs SHM_REMAP. */
  char *region = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(region, 8 * 4096);
  errno = 0;
  CHECK("shmat_unaligned_einval", shmat(id, region + 100, 0) == (void *)-1 && errno == EINVAL, "");
  char *c = shmat(id, region + 100, SHM_RND);
  CHECK("shmat_shm_rnd", c == region && c[0] == 'x', "c %p region %p", (void *)c, (void *)region);
  errno = 0;
  CHECK("shmat_overlap_einval", shmat(id, region, 0) == (void *)-1 && errno == EINVAL, "");
  char *d = shmat(id, region, SHM_REMAP);
  CHECK("shmat_remap", d == region && d[0] == 'x', "");
  CHECK("shm_remap_nattch", nattch(id) == 2, "%d", nattch(id));
  errno = 0;
  CHECK("shmat_remap_null_einval", shmat(id, NULL, SHM_REMAP) == (void *)-1 && errno == EINVAL, "");
  shmdt(d);
  errno = 0;
  CHECK("shmat_bad_id", shmat(id + 1, NULL, 0) == (void *)-1 && errno == EINVAL, "");

  /* Keys. */
  errno = 0;
  CHECK("shmget_size0_einval", shmget(IPC_PRIVATE, 0, 0600) == -1 && errno == EINVAL, "");
  errno = 0;
  CHECK("shmget_huge_einval", shmget(IPC_PRIVATE, (size_t)-1, 0600) == -1 && errno == EINVAL, "");
  int k1 = shmget(0x5eed0001, 8192, IPC_CREAT | IPC_EXCL | 0644);
  CHECK("shmget_key_create", k1 >= 0, "");
  errno = 0;
  CHECK("shmget_excl_eexist", shmget(0x5eed0001, 8192, IPC_CREAT | IPC_EXCL | 0644) == -1 && errno == EEXIST, "");
  CHECK("shmget_key_same_id", shmget(0x5eed0001, 100, 0) == k1 && shmget(0x5eed0001, 0, IPC_CREAT) == k1, "");
  errno = 0;
  CHECK("shmget_bigger_einval", shmget(0x5eed0001, 8193, 0) == -1 && errno == EINVAL, "");
  errno = 0;
  CHECK("shmget_missing_enoent", shmget(0x5eed0002, 4096, 0600) == -1 && errno == ENOENT, "");

  /* Permissions as nobody: 0644 owned by root. */
  char *k = shmat(k1, NULL, 0);
  k[0] = 'R';
  shared_id = k1;
  code = as_nobody(nobody_checks, NULL);
  CHECK("shm_perm_nobody", code == 0, "bits %d", code);
  private_id = id;
  code = as_nobody(nobody_private, NULL);
  CHECK("shm_perm_nobody_private", code == 0, "bits %d", code);

  /* IPC_SET. */
  shmctl(k1, IPC_STAT, &ds);
  ds.shm_perm.mode = 0640;
  ds.shm_perm.uid = 1234;
  r = shmctl(k1, IPC_SET, &ds);
  memset(&ds, 0, sizeof ds);
  shmctl(k1, IPC_STAT, &ds);
  CHECK("shm_ipc_set", r == 0 && (ds.shm_perm.mode & 0777) == 0640 && ds.shm_perm.uid == 1234 && ds.shm_perm.cuid == 0, "mode %o", ds.shm_perm.mode);

  /* /proc/sysvipc/shm lists both segments. */
  char buf[8192];
  int n = read_file("/proc/sysvipc/shm", buf, sizeof buf);
  char line[128];
  snprintf(line, sizeof line, "%10d %10d  %4o %21lu", 0x5eed0001, k1, 0640, 8192UL);
  CHECK("proc_sysvipc_shm_header", n > 0 && strncmp(buf, "       key      shmid perms                  size  cpid  lpid nattch", 66) == 0, "%.80s", buf);
  CHECK("proc_sysvipc_shm_line", n > 0 && strstr(buf, line) != NULL, "want '%s' in %s", line, buf);

  /* SHM_LOCK / SHM_UNLOCK (root). */
  r = shmctl(id, SHM_LOCK, NULL);
  shmctl(id, IPC_STAT, &ds);
  CHECK("shm_lock", r == 0 && (ds.shm_perm.mode & SHM_LOCKED) != 0, "r %d mode %o", r, ds.shm_perm.mode);
  r = shmctl(id, SHM_UNLOCK, NULL);
  shmctl(id, IPC_STAT, &ds);
  CHECK("shm_unlock", r == 0 && (ds.shm_perm.mode & SHM_LOCKED) == 0, "");

  /* Info. */
  struct shminfo si;
  int mx = shmctl(0, IPC_INFO, (struct shmid_ds *)&si);
  CHECK("shm_ipc_info", mx >= 1 && si.shmmin == 1 && si.shmmni == 4096 && si.shmmax == 18446744073692774399UL, "mx %d min %lu mni %lu", mx, si.shmmin, si.shmmni);
  struct shm_info sinfo;
  mx = shmctl(0, SHM_INFO, (struct shmid_ds *)&sinfo);
  CHECK("shm_info", mx >= 1 && sinfo.used_ids == 2 && sinfo.shm_tot == 3 + 2, "used %d tot %lu", sinfo.used_ids, sinfo.shm_tot);
  int found = 0;
  for (int i = 0; i <= mx; i++) {
    int sid = shmctl(i, SHM_STAT, &ds);
    if (sid == k1 && ds.shm_segsz == 8192) found++;
    if (sid == id && ds.shm_segsz == 10000) found++;
  }
  CHECK("shm_stat_index", found == 2, "found %d", found);
  errno = 0;
  CHECK("shmctl_bad_cmd", shmctl(id, 999, &ds) == -1 && errno == EINVAL, "");

  /* IPC_RMID while attached: the key goes at once, the segment at the last detach. */
  r = shmctl(k1, IPC_RMID, NULL);
  shmctl(k1, IPC_STAT, &ds);
  CHECK("shm_rmid_attached", r == 0 && (ds.shm_perm.mode & SHM_DEST) != 0 && ds.shm_perm.__key == 0 && ds.shm_nattch == 1, "mode %o key %d", ds.shm_perm.mode, ds.shm_perm.__key);
  errno = 0;
  CHECK("shm_rmid_key_gone", shmget(0x5eed0001, 0, 0) == -1 && errno == ENOENT, "");
  CHECK("shm_rmid_still_usable", k[0] == 'R', "");
  CHECK("shm_rmid_last_detach", shmdt(k) == 0 && shmctl(k1, IPC_STAT, &ds) == -1 && errno == EINVAL, "");

  /* IPC_RMID with attaches inherited by a child: destroyed when the child exits. */
  r = shmctl(id, IPC_RMID, NULL);
  shmdt(a);
  errno = 0;
  CHECK("shm_rmid_detached_gone", r == 0 && shmctl(id, IPC_STAT, &ds) == -1 && errno == EINVAL, "");

  /* Namespaces: a key made here is invisible in a new IPC namespace. */
  int nk = shmget(0x5eed0003, 4096, IPC_CREAT | 0600);
  p = fork();
  if (p == 0) {
    if (unshare(CLONE_NEWIPC) != 0) _exit(1);
    if (!(shmget(0x5eed0003, 0, 0) == -1 && errno == ENOENT)) _exit(2);
    if (shmget(0x5eed0003, 4096, IPC_CREAT | IPC_EXCL | 0600) < 0) _exit(3);
    struct shm_info si2;
    if (shmctl(0, SHM_INFO, (struct shmid_ds *)&si2) < 0 || si2.used_ids != 1) _exit(4);
    _exit(0);
  }
  code = child_code(p);
  CHECK("shm_newipc_isolated", code == 0, "code %d", code);
  CHECK("shm_newipc_parent_kept", shmget(0x5eed0003, 0, 0) == nk, "");
  shmctl(nk, IPC_RMID, NULL);
  return 0;
}
