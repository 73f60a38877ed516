/* mount(2), umount2(2) and chroot(2) inside the sandbox (natively in a private mount
 * namespace so nothing leaks to the host). */
#include "fs_check.h"
#include <sched.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#define TMPFS_MAGIC 0x01021994

int main(void) {
  setup();
  /* Natively: a private mount namespace. In the sandbox these may fail; either way the
   * mounts below are only seen by this program. */
  if (unshare(CLONE_NEWNS) == 0) mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  struct statfs sf;
  struct stat st;
  char buf[64];
  mkdir("m", 0755);
  write_file("m/under", "hidden");
  CHECK("mount_tmpfs", mount("none", "m", "tmpfs", 0, "size=64k,mode=0700") == 0);
  CHECK("mount_hides_underlying", access("m/under", F_OK) == -1 && errno == ENOENT);
  CHECK("mount_statfs_type", statfs("m", &sf) == 0 && sf.f_type == TMPFS_MAGIC);
  CHECK("mount_mode_option", stat("m", &st) == 0 && (st.st_mode & 07777) == 0700);
  CHECK("mount_write", write_file("m/f", "in tmpfs") == 0 && read_file("m/f", buf, sizeof buf) == 8);
  {
    int fd = open("m/big", O_WRONLY | O_CREAT, 0644);
    static char chunk[16384];
    ssize_t total = 0, n;
    while ((n = write(fd, chunk, sizeof chunk)) > 0) total += n;
    int e = errno;
    CHECK("mount_size_limit_enospc", n == -1 && e == ENOSPC && total > 0 && total <= 65536);
    close(fd);
    CHECK("mount_data_kept_when_full", read_file("m/f", buf, sizeof buf) == 8 && strcmp(buf, "in tmpfs") == 0);
    unlink("m/big");
  }
  CHECK_ERR("rename_out_of_mount", rename("m/f", "outside"), EXDEV);
  mkdir("b", 0755);
  CHECK("bind_mount", mount("m", "b", NULL, MS_BIND, NULL) == 0 && read_file("b/f", buf, sizeof buf) == 8);
  CHECK("bind_shares_files", write_file("b/g", "g") == 0 && access("m/g", F_OK) == 0);
  CHECK("remount_ro", mount(NULL, "b", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) == 0);
  CHECK_ERR("ro_bind_write", open("b/new", O_WRONLY | O_CREAT, 0644), EROFS);
  CHECK("ro_bind_original_writable", write_file("m/new", "n") == 0);
  CHECK("ro_statfs_flag", statfs("b", &sf) == 0 && (sf.f_flags & ST_RDONLY) != 0);
  CHECK("umount_bind", umount("b") == 0 && access("b/f", F_OK) == -1);
  CHECK_ERR("umount_not_mountpoint", umount2("b", 0), EINVAL);
  CHECK("chdir_into_mount", chdir("m") == 0);
  CHECK_ERR("umount_busy_cwd", umount2(".", 0), EBUSY);
  CHECK("chdir_back", chdir(scratch) == 0);
  CHECK("umount_tmpfs", umount2("m", 0) == 0 && read_file("m/under", buf, sizeof buf) == 6 && strcmp(buf, "hidden") == 0);
  CHECK("mount_noexec", mount("none", "m", "tmpfs", MS_NOEXEC, NULL) == 0);
  {
    int fd = open("m/x", O_WRONLY | O_CREAT, 0755);
    write(fd, "#!/bin/sh\n", 10);
    close(fd);
    CHECK_ERR("exec_on_noexec", execl("m/x", "x", (char *)NULL), EACCES);
  }
  CHECK("umount_detach", umount2("m", MNT_DETACH) == 0);
  CHECK_ERR("mount_bad_fstype", mount("none", "m", "nosuchfs", 0, NULL), ENODEV);
  CHECK_ERR("mount_missing_target", mount("none", "nowhere", "tmpfs", 0, NULL), ENOENT);
  CHECK_ERR("mount_bad_size", mount("none", "m", "tmpfs", 0, "size=lots"), EINVAL);
  CHECK("mount_proc", mkdir("p", 0755) == 0 && mount("proc", "p", "proc", 0, NULL) == 0 && access("p/self/stat", R_OK) == 0);
  umount2("p", MNT_DETACH);
  {
    pid_t c = fork();
    if (c == 0) {
      mkdir("jail", 0755);
      write_file("jail/inside", "j");
      if (chroot("jail") != 0 || chdir("/") != 0) _exit(1);
      if (access("/inside", F_OK) != 0) _exit(2);
      if (access("/../../inside", F_OK) != 0) _exit(3);
      char cwd[64];
      if (getcwd(cwd, sizeof cwd) == NULL || strcmp(cwd, "/") != 0) _exit(4);
      _exit(0);
    }
    int ws;
    waitpid(c, &ws, 0);
    CHECK("chroot_confines", WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
  }
  {
    pid_t c = fork();
    if (c == 0) {
      chmod(scratch, 0755);
      setresuid(1000, 1000, 1000);
      int r = mount("none", "m", "tmpfs", 0, NULL);
      if (r == -1 && errno == EPERM) _exit(0);
      printf("child mount: %d %s\n", r, strerror(errno));
      _exit(1);
    }
    int ws;
    waitpid(c, &ws, 0);
    CHECK("mount_needs_privilege", WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
  }
  return 0;
}
