/* Bulk read/write on tmpfs (/tmp) and on the root's overlay: big and unaligned transfers,
 * iovecs across pages, holes, O_APPEND, and buffers that end in an unmapped page (the
 * count copied before the fault, or EFAULT). Also repeated opens of a host file on the
 * root while another descriptor for it stays open, and directory listings read twice. */
#include "fs_check.h"
#include <dirent.h>
#include <sys/mman.h>
#include <sys/uio.h>

#define BIG (3 << 20)

static unsigned char pattern(long i) { return (unsigned char)(i * 7 + (i >> 12)); }

static int matches(const unsigned char *b, long from, long n) {
  for (long i = 0; i < n; i++) if (b[i] != pattern(from + i)) return 0;
  return 1;
}

/* Write BIG bytes in odd pieces, read them back in other odd pieces and by iovecs. */
static void bulk(const char *tag, const char *path) {
  char name[96];
  unsigned char *src = malloc(BIG), *dst = malloc(BIG);
  for (long i = 0; i < BIG; i++) src[i] = pattern(i);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  long done = 0, piece = 1000;
  while (done < BIG) {
    long n = BIG - done < piece ? BIG - done : piece;
    if (write(fd, src + done, n) != n) break;
    done += n;
    piece = piece * 3 + 17;
  }
  snprintf(name, sizeof name, "%s_write_pieces", tag);
  CHECK(name, done == BIG);
  memset(dst, 0, BIG);
  snprintf(name, sizeof name, "%s_pread_unaligned", tag);
  CHECK(name, pread(fd, dst, 777777, 4095) == 777777 && matches(dst, 4095, 777777));
  struct iovec iov[3] = { { dst, 5 }, { dst + 5, 8191 }, { dst + 8196, BIG - 8196 } };
  lseek(fd, 0, SEEK_SET);
  snprintf(name, sizeof name, "%s_readv_all", tag);
  CHECK(name, readv(fd, iov, 3) == BIG && matches(dst, 0, BIG));
  snprintf(name, sizeof name, "%s_read_at_eof", tag);
  CHECK(name, read(fd, dst, 10) == 0);
  struct iovec wv[2] = { { src + 10, 3000 }, { src + 3010, 9000 } };
  snprintf(name, sizeof name, "%s_pwritev_overwrite", tag);
  CHECK(name, pwritev(fd, wv, 2, 10) == 12000 && pread(fd, dst, 20000, 0) == 20000 && matches(dst, 0, 20000));
  /* A hole past the end reads as zeros. */
  snprintf(name, sizeof name, "%s_hole_zeros", tag);
  CHECK(name, pwrite(fd, "z", 1, BIG + 20000) == 1 && pread(fd, dst, 20001, BIG) == 20001 &&
        dst[0] == 0 && dst[19999] == 0 && dst[20000] == 'z');
  close(fd);
  fd = open(path, O_WRONLY | O_APPEND);
  snprintf(name, sizeof name, "%s_append", tag);
  struct stat st;
  CHECK(name, write(fd, src, 5000) == 5000 && fstat(fd, &st) == 0 && st.st_size == BIG + 20001 + 5000);
  close(fd);
  free(src);
  free(dst);
}

/* A buffer of one good page followed by an inaccessible one. */
static void faults(const char *tag, const char *path) {
  char name[96];
  long pg = sysconf(_SC_PAGESIZE);
  unsigned char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(m, 'q', 2 * pg);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  mprotect(m + pg, pg, PROT_NONE);
  snprintf(name, sizeof name, "%s_write_partial_fault", tag);
  ssize_t w = write(fd, m, 2 * pg);
  struct stat st;
  CHECK(name, w == pg && fstat(fd, &st) == 0 && st.st_size == pg);
  snprintf(name, sizeof name, "%s_write_fault_efault", tag);
  CHECK_ERR(name, write(fd, m + pg, 10), EFAULT);
  char more[3 * 4096];
  memset(more, 'r', sizeof more);
  pwrite(fd, more, sizeof more, pg);
  snprintf(name, sizeof name, "%s_read_partial_fault", tag);
  CHECK(name, pread(fd, m, 2 * pg, 0) == pg && m[0] == 'q');
  snprintf(name, sizeof name, "%s_read_fault_efault", tag);
  CHECK_ERR(name, pread(fd, m + pg, 10, 0), EFAULT);
  close(fd);
  munmap(m, 2 * pg);
}

int main(void) {
  setup();
  bulk("tmp", "big");
  faults("tmp", "faulty");
  char root[64];
  snprintf(root, sizeof root, "/var/tmp/fsdirect.%d", (int)getpid());
  bulk("root", root);
  faults("root", root);
  unlink(root);

  /* Many opens of the same host file, one descriptor kept open throughout. */
  char first[64], again[64];
  int keep = open("/etc/passwd", O_RDONLY);
  ssize_t n0 = read(keep, first, sizeof first);
  int same = n0 > 0;
  for (int i = 0; i < 200 && same; i++) {
    int fd = open("/etc/passwd", O_RDONLY);
    same = fd >= 0 && pread(fd, again, sizeof again, 0) == n0 && memcmp(first, again, n0) == 0;
    close(fd);
  }
  CHECK("reopen_host_file", same);
  char rest[64];
  CHECK("kept_fd_offset", read(keep, rest, sizeof rest) > 0 && lseek(keep, 0, SEEK_CUR) == n0 + (off_t)sizeof rest);
  close(keep);

  /* A root directory listed twice gives the same names; a file made or removed in between shows. */
  int count1 = 0, count2 = 0;
  DIR *d = opendir("/etc");
  while (readdir(d) != NULL) count1++;
  closedir(d);
  d = opendir("/etc");
  while (readdir(d) != NULL) count2++;
  closedir(d);
  CHECK("list_twice_same", count1 > 2 && count1 == count2);
  char made[64];
  snprintf(made, sizeof made, "fsdirect.b.%d", (int)getpid());
  d = opendir("/var/tmp");
  while (readdir(d) != NULL) {}
  closedir(d);
  int dfd = open("/var/tmp", O_RDONLY | O_DIRECTORY);
  int fd = openat(dfd, made, O_WRONLY | O_CREAT | O_EXCL, 0644);
  close(fd);
  int saw = 0;
  d = opendir("/var/tmp");
  struct dirent *e;
  while ((e = readdir(d)) != NULL) if (strcmp(e->d_name, made) == 0) saw = 1;
  closedir(d);
  CHECK("list_sees_new_file", saw);
  unlinkat(dfd, made, 0);
  saw = 0;
  d = opendir("/var/tmp");
  while ((e = readdir(d)) != NULL) if (strcmp(e->d_name, made) == 0) saw = 1;
  closedir(d);
  CHECK("list_drops_removed_file", !saw);
  close(dfd);
  return 0;
}
