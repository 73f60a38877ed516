/* Advisory locks: flock between descriptions, fcntl record locks between processes,
 * OFD locks, and release on close. */
#include "fs_check.h"
#include <sys/file.h>
#include <sys/wait.h>

/* Runs fn in a child and returns its exit code. */
static int in_child(int (*fn)(int), int arg) {
  pid_t c = fork();
  if (c == 0) _exit(fn(arg));
  int st;
  waitpid(c, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

static int child_setlk(int fd) {
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
  if (fcntl(fd, F_SETLK, &fl) == 0) return 0;
  return errno == EAGAIN || errno == EACCES ? 1 : 2;
}

static int child_setlk_far(int fd) {
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 10};
  return fcntl(fd, F_SETLK, &fl) == 0 ? 0 : 1;
}

static int child_rdlk(int fd) {
  struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
  return fcntl(fd, F_SETLK, &fl) == 0 ? 0 : 1;
}

static int child_getlk(int fd) {
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1};
  if (fcntl(fd, F_GETLK, &fl) != 0) return 2;
  if (fl.l_type != F_WRLCK) return 3;
  if (fl.l_pid != getppid()) return 4;
  if (fl.l_start != 0 || fl.l_len != 10) return 5;
  return 0;
}

static int child_flock_nb(int fd) {
  int fd2 = open("f", O_RDWR);
  int r = flock(fd2, LOCK_EX | LOCK_NB);
  (void)fd;
  return r == -1 && errno == EWOULDBLOCK ? 1 : 0;
}

int main(void) {
  setup();
  write_file("f", "0123456789abcdef");
  int a = open("f", O_RDWR);
  int b = open("f", O_RDWR);

  CHECK("flock_ex", flock(a, LOCK_EX) == 0);
  CHECK_ERR("flock_other_desc_blocks", flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
  CHECK_ERR("flock_shared_blocked_by_ex", flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
  CHECK("flock_same_desc_relock", flock(a, LOCK_SH) == 0);
  CHECK("flock_shared_shared", flock(b, LOCK_SH | LOCK_NB) == 0);
  CHECK_ERR("flock_upgrade_blocked", flock(a, LOCK_EX | LOCK_NB), EWOULDBLOCK);
  CHECK("flock_unlock", flock(b, LOCK_UN) == 0 && flock(a, LOCK_EX | LOCK_NB) == 0);
  CHECK("flock_held_in_child_view", in_child(child_flock_nb, 0) == 1);
  int d = dup(a);
  close(a);
  CHECK_ERR("flock_survives_dup_close", flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
  close(d);
  CHECK("flock_released_last_close", flock(b, LOCK_EX | LOCK_NB) == 0);
  flock(b, LOCK_UN);
  CHECK_ERR("flock_bad_op", flock(b, 0), EINVAL);

  a = open("f", O_RDWR);
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
  CHECK("setlk_wr", fcntl(a, F_SETLK, &fl) == 0);
  CHECK("setlk_same_process_other_fd", fcntl(b, F_SETLK, &fl) == 0);
  CHECK("setlk_child_conflict", in_child(child_setlk, a) == 1);
  CHECK("setlk_child_disjoint", in_child(child_setlk_far, a) == 0);
  CHECK("getlk_reports_owner", in_child(child_getlk, a) == 0);
  fl.l_type = F_WRLCK;
  fl.l_start = 5;
  fl.l_len = 1;
  CHECK("getlk_own_lock_unlocked", fcntl(a, F_GETLK, &fl) == 0 && fl.l_type == F_UNLCK);
  fl.l_type = F_RDLCK;
  fl.l_start = 0;
  fl.l_len = 10;
  CHECK("downgrade_to_read", fcntl(a, F_SETLK, &fl) == 0);
  CHECK("child_read_shares", in_child(child_rdlk, a) == 0);
  CHECK("child_write_still_blocked", in_child(child_setlk, a) == 1);
  close(b);
  CHECK("close_any_fd_releases", in_child(child_setlk, a) == 0);
  fl.l_type = F_WRLCK;
  CHECK("setlk_again", fcntl(a, F_SETLK, &fl) == 0);
  fl.l_type = F_UNLCK;
  fl.l_start = 2;
  fl.l_len = 3;
  CHECK("unlock_middle", fcntl(a, F_SETLK, &fl) == 0);
  struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
  CHECK("child_lock_in_gap", in_child(child_setlk_far, a) == 0);
  fl.l_type = F_UNLCK;
  fl.l_start = 0;
  fl.l_len = 0;
  CHECK("unlock_all", fcntl(a, F_SETLK, &fl) == 0 && in_child(child_setlk, a) == 0);
  int ro = open("f", O_RDONLY);
  q.l_type = F_WRLCK;
  CHECK_ERR("setlk_write_on_rdonly", fcntl(ro, F_SETLK, &q), EBADF);
  q.l_type = 7;
  CHECK_ERR("setlk_bad_type", fcntl(a, F_SETLK, &q), EINVAL);
  close(ro);

  /* OFD locks conflict between descriptions even in one process. */
  int o1 = open("f", O_RDWR);
  int o2 = open("f", O_RDWR);
  struct flock ofd = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 4, .l_pid = 0};
  CHECK("ofd_setlk", fcntl(o1, F_OFD_SETLK, &ofd) == 0);
  CHECK_ERR("ofd_conflict_same_process", fcntl(o2, F_OFD_SETLK, &ofd), EAGAIN);
  struct flock g = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1, .l_pid = 0};
  CHECK("ofd_getlk_pid", fcntl(o2, F_OFD_GETLK, &g) == 0 && g.l_type == F_WRLCK && g.l_pid == -1);
  ofd.l_pid = 5;
  CHECK_ERR("ofd_nonzero_pid", fcntl(o1, F_OFD_SETLK, &ofd), EINVAL);
  close(o1);
  ofd.l_pid = 0;
  CHECK("ofd_released_on_close", fcntl(o2, F_OFD_SETLK, &ofd) == 0);
  close(o2);
  close(a);
  return 0;
}
