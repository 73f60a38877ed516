/* Basic file I/O and namespace operations on a writable directory. */
#include "fs_check.h"
#include <dirent.h>
#include <sys/uio.h>

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) n++;
  closedir(d);
  return n;
}

int main(void) {
  setup();
  char buf[256];
  struct stat st;

  int fd = open("a", O_RDWR | O_CREAT | O_EXCL, 0640);
  CHECK("open_creat_excl", fd >= 0);
  CHECK("write_returns_count", write(fd, "hello world", 11) == 11);
  CHECK("fstat_size", fstat(fd, &st) == 0 && st.st_size == 11);
  CHECK("fstat_mode", S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0640);
  CHECK("fstat_nlink", st.st_nlink == 1);
  CHECK("fstat_uid", st.st_uid == getuid());
  CHECK("lseek_set", lseek(fd, 0, SEEK_SET) == 0);
  CHECK("read_back", read(fd, buf, sizeof buf) == 11 && memcmp(buf, "hello world", 11) == 0);
  CHECK("read_eof", read(fd, buf, sizeof buf) == 0);
  CHECK("lseek_end", lseek(fd, 0, SEEK_END) == 11);
  CHECK("lseek_cur", lseek(fd, -5, SEEK_CUR) == 6);
  CHECK("read_middle", read(fd, buf, 5) == 5 && memcmp(buf, "world", 5) == 0);
  CHECK("pread", pread(fd, buf, 5, 0) == 5 && memcmp(buf, "hello", 5) == 0);
  CHECK("pread_keeps_offset", lseek(fd, 0, SEEK_CUR) == 11);
  CHECK("pwrite", pwrite(fd, "HELLO", 5, 0) == 5);
  CHECK("pwrite_visible", pread(fd, buf, 11, 0) == 11 && memcmp(buf, "HELLO world", 11) == 0);
  CHECK("pwrite_past_end", pwrite(fd, "!", 1, 20) == 1 && fstat(fd, &st) == 0 && st.st_size == 21);
  CHECK("hole_reads_zero", pread(fd, buf, 9, 11) == 9 && buf[0] == 0 && buf[8] == 0);
  CHECK("ftruncate_shrink", ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5);
  CHECK("ftruncate_grow", ftruncate(fd, 100) == 0 && fstat(fd, &st) == 0 && st.st_size == 100);
  CHECK("grow_reads_zero", pread(fd, buf, 10, 50) == 10 && buf[0] == 0 && buf[9] == 0);
  CHECK("truncate_path", truncate("a", 3) == 0 && stat("a", &st) == 0 && st.st_size == 3);
  {
    struct iovec iov[3] = {{"ab", 2}, {"cde", 3}, {"f", 1}};
    CHECK("writev", lseek(fd, 0, SEEK_SET) == 0 && writev(fd, iov, 3) == 6);
    char x[2], y[4];
    struct iovec r[2] = {{x, 2}, {y, 4}};
    CHECK("readv", lseek(fd, 0, SEEK_SET) == 0 && readv(fd, r, 2) == 6 && memcmp(x, "ab", 2) == 0 && memcmp(y, "cdef", 4) == 0);
    struct iovec pw[2] = {{"XY", 2}, {"Z", 1}};
    CHECK("pwritev", pwritev(fd, pw, 2, 1) == 3 && pread(fd, buf, 4, 0) == 4 && memcmp(buf, "aXYZ", 4) == 0);
  }
  close(fd);

  fd = open("app", O_WRONLY | O_CREAT | O_APPEND, 0644);
  CHECK("append_write1", write(fd, "one", 3) == 3);
  lseek(fd, 0, SEEK_SET);
  CHECK("append_write2", write(fd, "two", 3) == 3);
  close(fd);
  CHECK("append_at_end", read_file("app", buf, sizeof buf) == 6 && strcmp(buf, "onetwo") == 0);
  fd = open("app", O_WRONLY | O_TRUNC);
  CHECK("o_trunc", fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0);
  close(fd);
  CHECK("creat", (fd = creat("c", 0600)) >= 0 && close(fd) == 0 && stat("c", &st) == 0 && (st.st_mode & 0777) == 0600);

  CHECK("mkdir", mkdir("d", 0755) == 0 && stat("d", &st) == 0 && S_ISDIR(st.st_mode));
  CHECK("mkdir_nlink", st.st_nlink == 2);
  CHECK("mkdir_sub", mkdir("d/e", 0700) == 0 && stat("d", &st) == 0 && st.st_nlink == 3);
  CHECK("create_in_subdir", write_file("d/e/f", "deep") == 0);
  CHECK("readdir_count", count_entries("d/e") == 3);
  CHECK("rmdir_notempty", rmdir("d/e") == -1 && errno == ENOTEMPTY);
  CHECK("unlink", unlink("d/e/f") == 0 && access("d/e/f", F_OK) == -1 && errno == ENOENT);
  CHECK("rmdir", rmdir("d/e") == 0 && stat("d", &st) == 0 && st.st_nlink == 2);

  CHECK("link", link("app", "app2") == 0 && stat("app", &st) == 0 && st.st_nlink == 2);
  {
    struct stat s2;
    CHECK("link_same_inode", stat("app2", &s2) == 0 && s2.st_ino == st.st_ino && s2.st_dev == st.st_dev);
  }
  CHECK("unlink_one_link", unlink("app2") == 0 && stat("app", &st) == 0 && st.st_nlink == 1);

  CHECK("symlink", symlink("app", "ln") == 0);
  ssize_t n = readlink("ln", buf, sizeof buf);
  CHECK("readlink", n == 3 && memcmp(buf, "app", 3) == 0);
  CHECK("lstat_symlink", lstat("ln", &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == 3);
  CHECK("stat_follows", stat("ln", &st) == 0 && S_ISREG(st.st_mode));
  CHECK("symlink_dangling", symlink("nowhere", "dl") == 0 && stat("dl", &st) == -1 && errno == ENOENT);
  CHECK("readlink_truncates", readlink("dl", buf, 3) == 3 && memcmp(buf, "now", 3) == 0);

  CHECK("rename_file", rename("app", "moved") == 0 && access("app", F_OK) == -1 && access("moved", F_OK) == 0);
  CHECK("rename_replace", write_file("x1", "1") == 0 && write_file("x2", "2") == 0 && rename("x1", "x2") == 0 &&
        read_file("x2", buf, sizeof buf) == 1 && buf[0] == '1');
  CHECK("rename_dir", mkdir("r1", 0755) == 0 && write_file("r1/in", "i") == 0 && rename("r1", "r2") == 0 &&
        access("r2/in", F_OK) == 0);
  CHECK("rename_dir_over_empty", mkdir("r3", 0755) == 0 && rename("r2", "r3") == 0 && access("r3/in", F_OK) == 0);

  fd = open("open_unlinked", O_RDWR | O_CREAT, 0644);
  CHECK("unlink_open_file", fd >= 0 && write(fd, "still", 5) == 5 && unlink("open_unlinked") == 0);
  CHECK("unlinked_still_readable", pread(fd, buf, 5, 0) == 5 && memcmp(buf, "still", 5) == 0);
  CHECK("unlinked_nlink0", fstat(fd, &st) == 0 && st.st_nlink == 0);
  close(fd);

  fd = open("a", O_RDONLY);
  int fd2 = dup(fd);
  CHECK("dup_shares_offset", fd2 >= 0 && lseek(fd, 2, SEEK_SET) == 2 && lseek(fd2, 0, SEEK_CUR) == 2);
  CHECK("fcntl_getfl", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
  CHECK("fcntl_cloexec", fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC && fcntl(fd2, F_GETFD) == 0);
  CHECK("fcntl_setfl_nonblock", fcntl(fd, F_SETFL, O_NONBLOCK) == 0 && (fcntl(fd2, F_GETFL) & O_NONBLOCK) != 0);
  close(fd);
  close(fd2);

  CHECK("chmod", chmod("a", 0600) == 0 && stat("a", &st) == 0 && (st.st_mode & 07777) == 0600);
  CHECK("chmod_setuid_bits", chmod("a", 04755) == 0 && stat("a", &st) == 0 && (st.st_mode & 07777) == 04755);
  CHECK("chown_root", chown("a", 123, 456) == 0 && stat("a", &st) == 0 && st.st_uid == 123 && st.st_gid == 456);
  CHECK("chown_clears_setuid", (st.st_mode & 04000) == 0);
  {
    struct timespec ts[2] = {{1000000000, 5}, {1200000000, 7}};
    CHECK("utimensat", utimensat(AT_FDCWD, "a", ts, 0) == 0 && stat("a", &st) == 0 &&
          st.st_atim.tv_sec == 1000000000 && st.st_mtim.tv_sec == 1200000000 && st.st_mtim.tv_nsec == 7);
    struct timespec om[2] = {{0, UTIME_OMIT}, {5, 0}};
    CHECK("utimensat_omit", utimensat(AT_FDCWD, "a", om, 0) == 0 && stat("a", &st) == 0 &&
          st.st_atim.tv_sec == 1000000000 && st.st_mtim.tv_sec == 5);
  }
  {
    struct stat before, after;
    stat(".", &before);
    usleep(20000);
    write_file("newent", "n");
    stat(".", &after);
    CHECK("dir_mtime_changes", after.st_mtim.tv_sec > before.st_mtim.tv_sec ||
          (after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_mtim.tv_nsec > before.st_mtim.tv_nsec));
  }
  CHECK("mknod_fifo", mknod("fifo", S_IFIFO | 0644, 0) == 0 && stat("fifo", &st) == 0 && S_ISFIFO(st.st_mode));
  CHECK("mkfifo_nonblock_reader", (fd = open("fifo", O_RDONLY | O_NONBLOCK)) >= 0);
  fd2 = open("fifo", O_WRONLY | O_NONBLOCK);
  CHECK("fifo_write_read", fd2 >= 0 && write(fd2, "pq", 2) == 2 && read(fd, buf, 2) == 2 && memcmp(buf, "pq", 2) == 0);
  close(fd2);
  close(fd);
  CHECK_ERR("fifo_writer_no_reader", open("fifo", O_WRONLY | O_NONBLOCK), ENXIO);
  {
    char cwd[256];
    CHECK("getcwd_matches", getcwd(cwd, sizeof cwd) != NULL && strcmp(cwd, scratch) == 0);
    CHECK("chdir_relative", chdir("d") == 0 && getcwd(cwd, sizeof cwd) != NULL && strcmp(cwd + strlen(cwd) - 2, "/d") == 0);
    CHECK("chdir_dotdot", chdir("..") == 0 && getcwd(cwd, sizeof cwd) != NULL && strcmp(cwd, scratch) == 0);
  }
  return 0;
}
