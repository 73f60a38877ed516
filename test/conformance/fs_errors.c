/* Error answers of path and fd operations: Linux's errno for each bad input. */
#include "fs_check.h"
#include <limits.h>
#include <sys/statfs.h>
#include <sys/uio.h>

int main(void) {
  setup();
  char buf[64];
  struct stat st;
  static char longname[NAME_MAX + 2];
  static char longpath[PATH_MAX + 16];
  memset(longname, 'n', NAME_MAX + 1);
  longname[NAME_MAX + 1] = 0;
  for (size_t i = 0; i < sizeof longpath - 1; i += 2) { longpath[i] = 'p'; longpath[i + 1] = '/'; }
  longpath[sizeof longpath - 1] = 0;

  write_file("f", "data");
  mkdir("d", 0755);
  write_file("d/x", "x");

  CHECK_ERR("name_too_long_open", open(longname, O_RDONLY | O_CREAT, 0644), ENAMETOOLONG);
  CHECK_ERR("name_too_long_mkdir", mkdir(longname, 0755), ENAMETOOLONG);
  CHECK_ERR("name_too_long_stat", stat(longname, &st), ENAMETOOLONG);
  CHECK_ERR("path_too_long_open", open(longpath, O_RDONLY), ENAMETOOLONG);
  CHECK_ERR("path_too_long_mkdir", mkdir(longpath, 0755), ENAMETOOLONG);
  {
    char okname[NAME_MAX + 1];
    memset(okname, 'k', NAME_MAX);
    okname[NAME_MAX] = 0;
    int fd = open(okname, O_WRONLY | O_CREAT, 0644);
    CHECK("name_max_ok", fd >= 0);
    close(fd);
    unlink(okname);
  }
  CHECK("symlink_loop_make", symlink("l2", "l1") == 0 && symlink("l1", "l2") == 0);
  CHECK_ERR("symlink_loop_open", open("l1", O_RDONLY), ELOOP);
  CHECK_ERR("symlink_loop_stat", stat("l1/x", &st), ELOOP);
  {
    /* c39 -> ... -> c0 -> f is 40 links and resolves; one more is ELOOP. */
    char a[16], b[16];
    symlink("f", "c0");
    for (int i = 1; i <= 41; i++) {
      snprintf(a, sizeof a, "c%d", i);
      snprintf(b, sizeof b, "c%d", i - 1);
      symlink(b, a);
    }
    CHECK("symlink_chain_40", stat("c39", &st) == 0 && S_ISREG(st.st_mode));
    CHECK_ERR("symlink_chain_41", stat("c40", &st), ELOOP);
  }
  CHECK_ERR("o_nofollow_symlink", open("c0", O_RDONLY | O_NOFOLLOW), ELOOP);
  CHECK_ERR("enoent", open("missing", O_RDONLY), ENOENT);
  CHECK_ERR("enoent_parent", open("missing/x", O_RDONLY | O_CREAT, 0644), ENOENT);
  CHECK_ERR("enotdir_component", open("f/x", O_RDONLY), ENOTDIR);
  CHECK_ERR("enotdir_trailing_slash", open("f/", O_RDONLY), ENOTDIR);
  CHECK_ERR("o_directory_on_file", open("f", O_RDONLY | O_DIRECTORY), ENOTDIR);
  CHECK_ERR("eisdir_write", open("d", O_WRONLY), EISDIR);
  CHECK_ERR("eisdir_creat", open("d", O_RDWR | O_CREAT, 0644), EISDIR);
  CHECK_ERR("eexist_excl", open("f", O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST);
  CHECK_ERR("eexist_excl_symlink", open("c0", O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST);
  CHECK_ERR("eexist_mkdir", mkdir("f", 0755), EEXIST);
  CHECK_ERR("eexist_symlink", symlink("x", "f"), EEXIST);
  CHECK_ERR("eexist_link", link("f", "d"), EEXIST);
  CHECK_ERR("link_dir_eperm", link("d", "d2"), EPERM);
  CHECK_ERR("unlink_dir", unlink("d"), EISDIR);
  CHECK_ERR("rmdir_file", rmdir("f"), ENOTDIR);
  CHECK_ERR("rmdir_dot", rmdir("d/."), EINVAL);
  CHECK_ERR("rmdir_notempty", rmdir("d"), ENOTEMPTY);
  CHECK_ERR("rename_dir_into_self", rename("d", "d/sub"), EINVAL);
  CHECK_ERR("rename_file_over_dir", rename("f", "d"), EISDIR);
  CHECK_ERR("rename_dir_over_file", rename("d", "f"), ENOTDIR);
  CHECK("mkdir_for_notempty", mkdir("e", 0755) == 0 && write_file("e/y", "y") == 0);
  CHECK_ERR("rename_dir_over_nonempty", rename("d", "e"), ENOTEMPTY);
  CHECK_ERR("rename_missing", rename("missing", "z"), ENOENT);
  CHECK_ERR("rename_across_mounts", rename("f", "/proc/f"), EXDEV);
  CHECK_ERR("ebadf_read", read(999, buf, 1), EBADF);
  CHECK_ERR("ebadf_close", close(999), EBADF);
  CHECK_ERR("ebadf_fstat", fstat(-1, &st), EBADF);
  int ro = open("f", O_RDONLY);
  CHECK_ERR("write_on_rdonly", write(ro, "x", 1), EBADF);
  CHECK_ERR("ftruncate_rdonly", ftruncate(ro, 0), EINVAL);
  CHECK_ERR("lseek_bad_whence", lseek(ro, 0, 42), EINVAL);
  CHECK_ERR("lseek_negative", lseek(ro, -10, SEEK_SET), EINVAL);
  CHECK_ERR("pread_negative", pread(ro, buf, 1, -1), EINVAL);
  CHECK_ERR("getdents_on_file", syscall(217, ro, buf, sizeof buf), ENOTDIR);
  close(ro);
  int wo = open("f", O_WRONLY);
  CHECK_ERR("read_on_wronly", read(wo, buf, 1), EBADF);
  close(wo);
  int dfd = open("d", O_RDONLY | O_DIRECTORY);
  CHECK_ERR("read_on_dir", read(dfd, buf, 1), EISDIR);
  CHECK_ERR("ftruncate_dir", ftruncate(dfd, 0), EINVAL);
  close(dfd);
  int p[2];
  pipe(p);
  CHECK_ERR("lseek_pipe", lseek(p[0], 0, SEEK_SET), ESPIPE);
  CHECK_ERR("pread_pipe", pread(p[0], buf, 1, 0), ESPIPE);
  close(p[0]);
  close(p[1]);
  CHECK_ERR("truncate_negative", truncate("f", -1), EINVAL);
  CHECK_ERR("truncate_dir", truncate("d", 0), EISDIR);
  CHECK_ERR("readlink_not_link", readlink("f", buf, sizeof buf), EINVAL);
  CHECK_ERR("dup2_bad", dup2(999, 5), EBADF);
  CHECK_ERR("dup3_same", dup3(1, 1, 0), EINVAL);
  CHECK_ERR("fcntl_bad_cmd", fcntl(1, 0x7777), EINVAL);
  CHECK_ERR("efault_path", open((const char *)8, O_RDONLY), EFAULT);
  int rfd = open("f", O_RDONLY);
  CHECK_ERR("efault_read_buf", syscall(0, rfd, 8L, 4L), EFAULT);
  close(rfd);
  CHECK_ERR("empty_path", open("", O_RDONLY), ENOENT);
  CHECK_ERR("mknod_dir_type", mknod("nd", S_IFDIR | 0755, 0), EPERM);
  CHECK_ERR("utimensat_bad_nsec", utimensat(AT_FDCWD, "f", (struct timespec[2]){{0, 2000000000}, {0, 0}}, 0), EINVAL);
  CHECK_ERR("unlinkat_bad_flag", unlinkat(AT_FDCWD, "f", 0x1), EINVAL);
  {
    struct statfs sf;
    CHECK("statfs_ok", statfs(".", &sf) == 0 && sf.f_bsize > 0);
    CHECK_ERR("statfs_missing", statfs("missing", &sf), ENOENT);
  }
  return 0;
}
