/* Data-moving calls: fallocate, SEEK_DATA/HOLE, copy_file_range, sendfile, splice,
 * memfd_create, file mmap (private and shared), and user xattrs. */
#include "fs_check.h"
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>

int main(void) {
  setup();
  char buf[8192];
  struct stat st;
  int fd = open("f", O_RDWR | O_CREAT, 0644);

  CHECK("fallocate_grows", fallocate(fd, 0, 0, 10000) == 0 && fstat(fd, &st) == 0 && st.st_size == 10000);
  CHECK("fallocate_keep_size", fallocate(fd, FALLOC_FL_KEEP_SIZE, 10000, 5000) == 0 && fstat(fd, &st) == 0 && st.st_size == 10000);
  CHECK("fallocate_reads_zero", pread(fd, buf, 100, 5000) == 100 && buf[0] == 0 && buf[99] == 0);
  CHECK_ERR("fallocate_bad_len", fallocate(fd, 0, 0, 0), EINVAL);
  CHECK_ERR("fallocate_neg_off", fallocate(fd, 0, -1, 10), EINVAL);
  CHECK("punch_hole", pwrite(fd, "abcdefgh", 8, 4096) == 8 &&
        fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4) == 0 &&
        pread(fd, buf, 8, 4096) == 8 && buf[0] == 0 && buf[3] == 0 && buf[4] == 'e');
  CHECK_ERR("punch_hole_needs_keep_size", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096), EOPNOTSUPP);
  int ro = open("f", O_RDONLY);
  CHECK_ERR("fallocate_rdonly", fallocate(ro, 0, 0, 10), EBADF);
  close(ro);
  close(fd);

  fd = open("sparse", O_RDWR | O_CREAT, 0644);
  pwrite(fd, "x", 1, 0);
  pwrite(fd, "y", 1, 1 << 20);
  CHECK("seek_data_start", lseek(fd, 0, SEEK_DATA) == 0);
  off_t hole = lseek(fd, 0, SEEK_HOLE);
  CHECK("seek_hole_after_data", hole > 0 && hole < (1 << 20));
  CHECK("seek_data_second", lseek(fd, hole, SEEK_DATA) > hole && lseek(fd, hole, SEEK_DATA) <= (1 << 20));
  CHECK("seek_hole_at_eof", lseek(fd, (1 << 20), SEEK_HOLE) == (1 << 20) + 1);
  CHECK_ERR("seek_data_past_eof", lseek(fd, (1 << 20) + 1, SEEK_DATA), ENXIO);
  close(fd);

  write_file("src", "0123456789");
  int in = open("src", O_RDONLY);
  int out = open("dst", O_RDWR | O_CREAT | O_TRUNC, 0644);
  loff_t io = 2, oo = 0;
  CHECK("copy_file_range", copy_file_range(in, &io, out, &oo, 5, 0) == 5 && io == 7 && oo == 5);
  CHECK("copy_file_range_data", pread(out, buf, 5, 0) == 5 && memcmp(buf, "23456", 5) == 0);
  CHECK("copy_file_range_offsets_kept", lseek(in, 0, SEEK_CUR) == 0);
  CHECK("copy_file_range_fd_offsets", copy_file_range(in, NULL, out, NULL, 3, 0) == 3 &&
        lseek(in, 0, SEEK_CUR) == 3 && lseek(out, 0, SEEK_CUR) == 3);
  CHECK_ERR("copy_file_range_flags", copy_file_range(in, NULL, out, NULL, 3, 1), EINVAL);
  CHECK("copy_file_range_eof", copy_file_range(in, &(loff_t){10}, out, &(loff_t){0}, 3, 0) == 0);
  off_t so = 1;
  CHECK("sendfile_offset", sendfile(out, in, &so, 4) == 4 && so == 5);
  lseek(in, 0, SEEK_SET);
  int p[2];
  pipe(p);
  CHECK("sendfile_to_pipe", sendfile(p[1], in, NULL, 10) == 10 && read(p[0], buf, 10) == 10 && memcmp(buf, "0123456789", 10) == 0);
  CHECK("splice_file_to_pipe", splice(in, &(loff_t){3}, p[1], NULL, 4, 0) == 4 && read(p[0], buf, 4) == 4 && memcmp(buf, "3456", 4) == 0);
  write(p[1], "PIPED", 5);
  loff_t po = 0;
  CHECK("splice_pipe_to_file", splice(p[0], NULL, out, &po, 5, 0) == 5 && po == 5 && pread(out, buf, 5, 0) == 5 && memcmp(buf, "PIPED", 5) == 0);
  CHECK_ERR("splice_no_pipe", splice(in, NULL, out, NULL, 4, 0), EINVAL);
  CHECK_ERR("splice_pipe_offset", splice(p[0], &po, out, NULL, 4, 0), ESPIPE);
  close(p[0]);
  close(p[1]);
  close(in);
  close(out);

  int mfd = memfd_create("conf", MFD_CLOEXEC);
  CHECK("memfd_create", mfd >= 0 && (fcntl(mfd, F_GETFD) & FD_CLOEXEC) != 0);
  CHECK("memfd_io", ftruncate(mfd, 4096) == 0 && pwrite(mfd, "mem", 3, 0) == 3 && pread(mfd, buf, 3, 0) == 3 && memcmp(buf, "mem", 3) == 0);
  CHECK("memfd_stat", fstat(mfd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 4096);
  CHECK_ERR("memfd_bad_flags", memfd_create("x", 0x100), EINVAL);

  /* mmap */
  fd = open("map", O_RDWR | O_CREAT | O_TRUNC, 0644);
  memset(buf, 'A', 8192);
  write(fd, buf, 8192);
  char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  CHECK("mmap_private", m != MAP_FAILED && m[0] == 'A' && m[8191] == 'A');
  m[0] = 'B';
  CHECK("mmap_private_no_writeback", pread(fd, buf, 1, 0) == 1 && buf[0] == 'A');
  munmap(m, 8192);
  char *r = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 4096);
  CHECK("mmap_offset", r != MAP_FAILED && r[0] == 'A');
  munmap(r, 4096);
  CHECK_ERR("mmap_unaligned_offset", (long)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL);
  ro = open("map", O_RDONLY);
  CHECK_ERR("mmap_shared_write_rdonly_fd", (long)mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES);
  close(ro);
  char *a = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  a[0] = 1;
  pid_t c = fork();
  if (c == 0) {
    a[0] = 42;
    _exit(0);
  }
  int ws;
  waitpid(c, &ws, 0);
  CHECK("mmap_shared_anon_across_fork", a[0] == 42);
  char *pa = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  pa[0] = 1;
  c = fork();
  if (c == 0) {
    pa[0] = 42;
    _exit(0);
  }
  waitpid(c, &ws, 0);
  CHECK("mmap_private_anon_cow", pa[0] == 1);
  {
    unsigned char vec[1];
    CHECK("mincore_touched", mincore(pa, 4096, vec) == 0 && (vec[0] & 1) == 1);
    munmap(pa, 4096);
    CHECK_ERR("mincore_unmapped", mincore(pa, 4096, vec), ENOMEM);
    CHECK_ERR("mincore_unaligned", mincore((char *)a + 1, 10, vec), EINVAL);
  }
  char *s1 = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  char *s2 = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  s1[10] = 'S';
  CHECK("mmap_shared_two_mappings", s2[10] == 'S');
  CHECK("mmap_shared_visible_to_read", pread(fd, buf, 1, 10) == 1 && buf[0] == 'S');
  pwrite(fd, "W", 1, 4097);
  CHECK("mmap_shared_sees_write", s1[4097] == 'W');
  c = fork();
  if (c == 0) {
    s1[20] = 'C';
    _exit(0);
  }
  waitpid(c, &ws, 0);
  CHECK("mmap_shared_child_write", s2[20] == 'C' && pread(fd, buf, 1, 20) == 1 && buf[0] == 'C');
  CHECK("msync", msync(s1, 8192, MS_SYNC) == 0);
  CHECK_ERR("msync_unaligned", msync(s1 + 1, 10, MS_SYNC), EINVAL);
  munmap(s1, 8192);
  munmap(s2, 8192);
  ro = open("map", O_RDONLY);
  char *rs = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
  CHECK_ERR("mprotect_shared_rdonly_fd", mprotect(rs, 4096, PROT_READ | PROT_WRITE), EACCES);
  munmap(rs, 4096);
  close(ro);
  CHECK("memfd_shared_mmap", ({ char *mm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
        mm[0] = 'Q'; pread(mfd, buf, 1, 0) == 1 && buf[0] == 'Q'; }));
  close(fd);

  /* user xattrs */
  write_file("x", "x");
  CHECK("setxattr", setxattr("x", "user.k", "val", 3, 0) == 0);
  CHECK("getxattr", getxattr("x", "user.k", buf, sizeof buf) == 3 && memcmp(buf, "val", 3) == 0);
  CHECK("getxattr_size_query", getxattr("x", "user.k", NULL, 0) == 3);
  CHECK_ERR("getxattr_erange", getxattr("x", "user.k", buf, 1), ERANGE);
  CHECK_ERR("getxattr_missing", getxattr("x", "user.none", buf, sizeof buf), ENODATA);
  CHECK_ERR("setxattr_create_exists", setxattr("x", "user.k", "v", 1, XATTR_CREATE), EEXIST);
  CHECK_ERR("setxattr_replace_missing", setxattr("x", "user.n", "v", 1, XATTR_REPLACE), ENODATA);
  CHECK("listxattr", setxattr("x", "user.j", "", 0, 0) == 0 && listxattr("x", buf, sizeof buf) == 14);
  CHECK("removexattr", removexattr("x", "user.k") == 0 && getxattr("x", "user.k", buf, sizeof buf) == -1 && errno == ENODATA);
  CHECK_ERR("xattr_bad_namespace", setxattr("x", "bogus.k", "v", 1, 0), EOPNOTSUPP);
  symlink("x", "xl");
  CHECK_ERR("lsetxattr_user_on_symlink", lsetxattr("xl", "user.k", "v", 1, 0), EPERM);
  fd = open("x", O_RDONLY);
  CHECK("fgetxattr", fgetxattr(fd, "user.j", buf, sizeof buf) == 0);
  close(fd);
  return 0;
}
