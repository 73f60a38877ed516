/* dirfd-relative calls, O_PATH, openat2 RESOLVE_*, renameat2 flags, O_TMPFILE, statx. */
#include "fs_check.h"
#include <linux/openat2.h>
#include <sys/syscall.h>

static int openat2_(int dirfd, const char *path, __u64 flags, __u64 mode, __u64 resolve) {
  struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int main(void) {
  setup();
  char buf[128];
  struct stat st;
  mkdir("d", 0755);
  mkdir("d/sub", 0755);
  write_file("d/f", "file");
  write_file("top", "top");
  symlink("/etc", "d/abs");
  symlink("../top", "d/up");
  symlink("f", "d/rel");

  int dfd = open("d", O_RDONLY | O_DIRECTORY);
  CHECK("openat_relative", dfd >= 0 && close(openat(dfd, "f", O_RDONLY)) == 0);
  CHECK("fstatat_relative", fstatat(dfd, "f", &st, 0) == 0 && st.st_size == 4);
  CHECK("fstatat_nofollow", fstatat(dfd, "rel", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode));
  CHECK("fstatat_empty_path", fstatat(dfd, "", &st, AT_EMPTY_PATH) == 0 && S_ISDIR(st.st_mode));
  CHECK_ERR("fstatat_empty_no_flag", fstatat(dfd, "", &st, 0), ENOENT);
  CHECK("mkdirat", mkdirat(dfd, "m", 0700) == 0 && fstatat(dfd, "m", &st, 0) == 0 && S_ISDIR(st.st_mode));
  CHECK("unlinkat_removedir", unlinkat(dfd, "m", AT_REMOVEDIR) == 0);
  CHECK("symlinkat_readlinkat", symlinkat("target", dfd, "sl") == 0 && readlinkat(dfd, "sl", buf, sizeof buf) == 6);
  CHECK("linkat", linkat(dfd, "f", dfd, "f2", 0) == 0 && fstatat(dfd, "f", &st, 0) == 0 && st.st_nlink == 2);
  CHECK("linkat_follow", linkat(dfd, "rel", dfd, "f3", AT_SYMLINK_FOLLOW) == 0 && fstatat(dfd, "f3", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode));
  CHECK("linkat_nofollow", linkat(dfd, "rel", dfd, "rel2", 0) == 0 && fstatat(dfd, "rel2", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode));
  CHECK("renameat", renameat(dfd, "f3", AT_FDCWD, "moved") == 0 && access("moved", F_OK) == 0);
  CHECK("faccessat", faccessat(dfd, "f", R_OK | W_OK, 0) == 0);
  CHECK_ERR("faccessat_missing", faccessat(dfd, "nope", F_OK, 0), ENOENT);
  CHECK("fchmodat", fchmodat(dfd, "f", 0604, 0) == 0 && fstatat(dfd, "f", &st, 0) == 0 && (st.st_mode & 0777) == 0604);
  CHECK("fchownat_nofollow", fchownat(dfd, "rel", 7, 8, AT_SYMLINK_NOFOLLOW) == 0 && fstatat(dfd, "rel", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_uid == 7);
  CHECK("fchownat_target_untouched", fstatat(dfd, "f", &st, 0) == 0 && st.st_uid == 0);
  CHECK_ERR("openat_absolute_ignores_bad_dirfd", openat(999, "/nonexistent-zz", O_RDONLY), ENOENT);
  CHECK_ERR("openat_relative_bad_dirfd", openat(999, "f", O_RDONLY), EBADF);
  int ffd = open("top", O_RDONLY);
  CHECK_ERR("openat_dirfd_not_dir", openat(ffd, "x", O_RDONLY), ENOTDIR);
  close(ffd);

  /* O_PATH */
  int pfd = open("d/f", O_PATH);
  CHECK("o_path_open", pfd >= 0);
  CHECK_ERR("o_path_read", read(pfd, buf, 1), EBADF);
  CHECK("o_path_fstat", fstat(pfd, &st) == 0 && st.st_size == 4);
  CHECK("o_path_getfl", fcntl(pfd, F_GETFL) == O_PATH);
  close(pfd);
  int lfd = open("d/rel", O_PATH | O_NOFOLLOW);
  CHECK("o_path_nofollow_symlink", lfd >= 0 && fstat(lfd, &st) == 0 && S_ISLNK(st.st_mode));
  CHECK("readlinkat_empty_path", readlinkat(lfd, "", buf, sizeof buf) == 1 && buf[0] == 'f');
  close(lfd);
  int pdir = open("d", O_PATH | O_DIRECTORY);
  CHECK("o_path_dir_as_dirfd", pdir >= 0 && fstatat(pdir, "f", &st, 0) == 0);
  CHECK("fchdir_o_path", fchdir(pdir) == 0 && access("f", F_OK) == 0 && chdir(scratch) == 0);
  close(pdir);

  /* openat2 */
  int fd = openat2_(dfd, "f", O_RDONLY, 0, 0);
  CHECK("openat2_plain", fd >= 0);
  close(fd);
  CHECK_ERR("openat2_beneath_dotdot", openat2_(dfd, "../top", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
  CHECK_ERR("openat2_beneath_absolute", openat2_(dfd, "/etc/passwd", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
  CHECK_ERR("openat2_beneath_abs_symlink", openat2_(dfd, "abs/passwd", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
  CHECK_ERR("openat2_beneath_up_symlink", openat2_(dfd, "up", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
  fd = openat2_(dfd, "sub/../f", O_RDONLY, 0, RESOLVE_BENEATH);
  CHECK("openat2_beneath_inside", fd >= 0);
  close(fd);
  CHECK_ERR("openat2_no_symlinks", openat2_(dfd, "rel", O_RDONLY, 0, RESOLVE_NO_SYMLINKS), ELOOP);
  fd = openat2_(dfd, "/f", O_RDONLY, 0, RESOLVE_IN_ROOT);
  CHECK("openat2_in_root_absolute", fd >= 0 && read(fd, buf, 4) == 4 && memcmp(buf, "file", 4) == 0);
  close(fd);
  fd = openat2_(dfd, "../../f", O_RDONLY, 0, RESOLVE_IN_ROOT);
  CHECK("openat2_in_root_dotdot_clamped", fd >= 0);
  close(fd);
  CHECK_ERR("openat2_no_xdev", openat2_(AT_FDCWD, "/proc/self", O_RDONLY, 0, RESOLVE_NO_XDEV), EXDEV);
  CHECK_ERR("openat2_mode_without_creat", openat2_(dfd, "f", O_RDONLY, 0644, 0), EINVAL);
  CHECK_ERR("openat2_bad_resolve", openat2_(dfd, "f", O_RDONLY, 0, 0x1000), EINVAL);
  {
    struct open_how how = {.flags = O_RDONLY};
    CHECK_ERR("openat2_small_size", syscall(SYS_openat2, dfd, "f", &how, 8), EINVAL);
  }

  /* renameat2 */
  write_file("r1", "one");
  write_file("r2", "two");
  CHECK_ERR("renameat2_noreplace", renameat2(AT_FDCWD, "r1", AT_FDCWD, "r2", RENAME_NOREPLACE), EEXIST);
  CHECK("renameat2_noreplace_free", renameat2(AT_FDCWD, "r1", AT_FDCWD, "r3", RENAME_NOREPLACE) == 0);
  CHECK("renameat2_exchange", renameat2(AT_FDCWD, "r2", AT_FDCWD, "r3", RENAME_EXCHANGE) == 0 &&
        read_file("r2", buf, sizeof buf) == 3 && strcmp(buf, "one") == 0 && read_file("r3", buf, sizeof buf) == 3 && strcmp(buf, "two") == 0);
  CHECK("renameat2_exchange_dir_file", renameat2(AT_FDCWD, "r2", AT_FDCWD, "d", RENAME_EXCHANGE) == 0 &&
        stat("r2", &st) == 0 && S_ISDIR(st.st_mode) && stat("d", &st) == 0 && S_ISREG(st.st_mode));
  renameat2(AT_FDCWD, "r2", AT_FDCWD, "d", RENAME_EXCHANGE);
  CHECK_ERR("renameat2_exchange_missing", renameat2(AT_FDCWD, "r2", AT_FDCWD, "zz", RENAME_EXCHANGE), ENOENT);
  CHECK_ERR("renameat2_both_flags", renameat2(AT_FDCWD, "r2", AT_FDCWD, "r3", RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL);

  /* O_TMPFILE */
  fd = open(".", O_TMPFILE | O_RDWR, 0600);
  CHECK("o_tmpfile_open", fd >= 0);
  CHECK("o_tmpfile_io", write(fd, "tmp", 3) == 3 && pread(fd, buf, 3, 0) == 3 && memcmp(buf, "tmp", 3) == 0);
  CHECK("o_tmpfile_nlink0", fstat(fd, &st) == 0 && st.st_nlink == 0 && S_ISREG(st.st_mode));
  CHECK("o_tmpfile_linkat", linkat(fd, "", AT_FDCWD, "named", AT_EMPTY_PATH) == 0 && read_file("named", buf, sizeof buf) == 3);
  CHECK("o_tmpfile_linked_nlink", fstat(fd, &st) == 0 && st.st_nlink == 1);
  close(fd);
  fd = open(".", O_TMPFILE | O_RDWR | O_EXCL, 0600);
  CHECK_ERR("o_tmpfile_excl_not_linkable", linkat(fd, "", AT_FDCWD, "named2", AT_EMPTY_PATH), ENOENT);
  close(fd);
  CHECK_ERR("o_tmpfile_rdonly", open(".", O_TMPFILE | O_RDONLY, 0600), EINVAL);
  CHECK_ERR("o_tmpfile_on_file", open("top", O_TMPFILE | O_RDWR, 0600), ENOTDIR);

  /* statx */
  struct statx sx;
  CHECK("statx_basic", statx(AT_FDCWD, "top", 0, STATX_BASIC_STATS, &sx) == 0 && sx.stx_size == 3 && S_ISREG(sx.stx_mode));
  CHECK("statx_mask", (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS);
  stat("top", &st);
  CHECK("statx_matches_stat", sx.stx_ino == st.st_ino && sx.stx_nlink == st.st_nlink && sx.stx_mtime.tv_sec == st.st_mtim.tv_sec);
  CHECK("statx_empty_path", statx(dfd, "", AT_EMPTY_PATH, STATX_TYPE, &sx) == 0 && S_ISDIR(sx.stx_mode));
  CHECK_ERR("statx_reserved_mask", statx(AT_FDCWD, "top", 0, 0x80000000u, &sx), EINVAL);
  CHECK_ERR("statx_bad_flags", statx(AT_FDCWD, "top", 0x10000000, STATX_BASIC_STATS, &sx), EINVAL);
  close(dfd);
  return 0;
}
