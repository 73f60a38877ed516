/* Permission checks: umask, owner/group/other bits, root's overrides, sticky
 * directories, setgid directories, and who may chmod/chown/utime. */
#include "fs_check.h"
#include <grp.h>
#include <sys/wait.h>

/* Runs the unprivileged half in a child as uid/gid 1000 (groups: 1000 only). */
static void as_user(void (*fn)(void)) {
  pid_t c = fork();
  if (c == 0) {
    if (setgroups(0, NULL) != 0 || setresgid(1000, 1000, 1000) != 0 || setresuid(1000, 1000, 1000) != 0) {
      printf("FAIL drop_privileges: %s\n", strerror(errno));
      _exit(1);
    }
    fn();
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(c, &st, 0);
}

static void user_checks(void) {
  char buf[16];
  struct stat st;
  CHECK_ERR("user_read_0600_root", open("secret", O_RDONLY), EACCES);
  CHECK_ERR("user_write_0644_root", open("public", O_WRONLY), EACCES);
  CHECK("user_read_0644_root", read_file("public", buf, sizeof buf) > 0);
  CHECK_ERR("user_search_no_x", stat("nox/f", &st), EACCES);
  CHECK_ERR("user_create_no_w", open("now/new", O_WRONLY | O_CREAT, 0644), EACCES);
  CHECK("user_create_in_sticky", write_file("sticky/mine", "m") == 0);
  CHECK_ERR("user_unlink_others_sticky", unlink("sticky/theirs"), EPERM);
  CHECK_ERR("user_rename_others_sticky", rename("sticky/theirs", "sticky/x"), EPERM);
  CHECK("user_unlink_own_sticky", unlink("sticky/mine") == 0);
  CHECK_ERR("user_chmod_not_owner", chmod("public", 0777), EPERM);
  CHECK_ERR("user_chown_not_owner", chown("public", 1000, 1000), EPERM);
  CHECK_ERR("user_utime_explicit_not_owner", utimensat(AT_FDCWD, "public", (struct timespec[2]){{1, 0}, {1, 0}}, 0), EPERM);
  CHECK_ERR("user_utime_now_no_write", utimensat(AT_FDCWD, "public", NULL, 0), EACCES);
  CHECK("user_utime_now_with_write", utimensat(AT_FDCWD, "groupw", NULL, 0) == 0);
  CHECK_ERR("user_access_w", access("public", W_OK), EACCES);
  CHECK("user_access_r", access("public", R_OK) == 0);
  CHECK("user_own_file", write_file("open/own", "o") == 0 && stat("open/own", &st) == 0 && st.st_uid == 1000 && st.st_gid == 1000);
  CHECK("user_chmod_own", chmod("open/own", 0600) == 0);
  CHECK_ERR("user_chown_own_to_other_uid", chown("open/own", 0, -1), EPERM);
  CHECK("user_setgid_dir_inherits_gid", write_file("sgid/f", "g") == 0 && stat("sgid/f", &st) == 0 && st.st_gid == 4242);
  CHECK("user_setgid_subdir_keeps_bit", mkdir("sgid/sub", 0755) == 0 && stat("sgid/sub", &st) == 0 && (st.st_mode & S_ISGID) != 0);
  CHECK("user_read_other_bits", read_file("otheronly", buf, sizeof buf) > 0);
  CHECK_ERR("user_exec_no_x", execl("./noexec", "noexec", (char *)NULL), EACCES);
  CHECK_ERR("user_rmdir_no_w_parent", rmdir("now/d"), EACCES);
}

int main(void) {
  setup();
  chmod(scratch, 0755);
  struct stat st;
  char buf[16];
  umask(027);
  int fd = open("um", O_WRONLY | O_CREAT, 0666);
  CHECK("umask_file", fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0640);
  close(fd);
  CHECK("umask_dir", mkdir("umd", 0777) == 0 && stat("umd", &st) == 0 && (st.st_mode & 0777) == 0750);
  CHECK("umask_returns_old", umask(022) == 027);
  CHECK("umask_not_applied_to_chmod", chmod("um", 0666) == 0 && stat("um", &st) == 0 && (st.st_mode & 0777) == 0666);

  write_file("secret", "s");
  chmod("secret", 0600);
  write_file("public", "p");
  chmod("public", 0644);
  write_file("groupw", "g");
  chmod("groupw", 0646);
  write_file("otheronly", "o");
  chmod("otheronly", 0004);
  write_file("noexec", "#!/bin/sh\n");
  chmod("noexec", 0644);
  mkdir("nox", 0700);
  write_file("nox/f", "f");
  chmod("nox", 0766);
  mkdir("now", 0555);
  chmod("now", 0755);
  mkdir("now/d", 0777);
  chmod("now", 0555);
  mkdir("sticky", 0777);
  chmod("sticky", 01777);
  write_file("sticky/theirs", "t");
  chown("sticky/theirs", 1001, 1001);
  mkdir("open", 0777);
  chmod("open", 0777);
  mkdir("sgid", 0777);
  chown("sgid", 0, 4242);
  chmod("sgid", 02777);

  CHECK("root_reads_0000", chmod("secret", 0) == 0 && read_file("secret", buf, sizeof buf) == 1);
  CHECK("root_writes_0444", chmod("public", 0444) == 0 && open("public", O_WRONLY) >= 0);
  chmod("public", 0644);
  chmod("secret", 0600);
  CHECK_ERR("root_exec_without_x", execl("./noexec", "noexec", (char *)NULL), EACCES);
  CHECK("root_access_x_dir", access("nox", X_OK) == 0);
  CHECK_ERR("root_access_x_file", access("public", X_OK), EACCES);
  as_user(user_checks);
  CHECK("sticky_file_survived", access("sticky/theirs", F_OK) == 0);
  chmod("now", 0755);
  return 0;
}
