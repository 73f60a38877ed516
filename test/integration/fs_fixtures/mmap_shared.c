#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* argv[1]: a directory. Two processes share a MAP_SHARED mapping of a file there; write()
 * and read() see the mapped bytes; msync and munmap put them in the file. */
static void check(int ok, const char *what) { printf("%s %s\n", ok ? "ok" : "FAIL", what); }

int main(int argc, char **argv) {
  char path[4096], buf[64];
  snprintf(path, sizeof path, "%s/shared.bin", argv[1]);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  check(fd >= 0, "open");
  check(ftruncate(fd, 3 * 4096) == 0, "ftruncate");
  char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  check(m != MAP_FAILED, "mmap");
  pid_t pid = fork();
  if (pid == 0) {
    char *c = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    memcpy(c + 100, "from-child", 10);
    memcpy(m + 5000, "inherited", 9);
    msync(c, 3 * 4096, MS_SYNC);
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  check(memcmp(m + 100, "from-child", 10) == 0, "parent-sees-child-mapping");
  check(memcmp(m + 5000, "inherited", 9) == 0, "parent-sees-inherited-mapping");
  memset(buf, 0, sizeof buf);
  check(pread(fd, buf, 10, 100) == 10 && memcmp(buf, "from-child", 10) == 0, "pread-sees-mapping");
  check(pwrite(fd, "by-write", 8, 9000) == 8, "pwrite");
  check(memcmp(m + 9000, "by-write", 8) == 0, "mapping-sees-pwrite");
  memcpy(m + 200, "unsynced", 8);
  int fd2 = open(path, O_RDONLY);
  memset(buf, 0, sizeof buf);
  check(pread(fd2, buf, 8, 200) == 8 && memcmp(buf, "unsynced", 8) == 0, "other-fd-sees-store");
  check(msync(m, 3 * 4096, MS_SYNC) == 0, "msync");
  memcpy(m + 300, "at-munmap", 9);
  check(munmap(m, 3 * 4096) == 0, "munmap");
  memset(buf, 0, sizeof buf);
  check(pread(fd2, buf, 9, 300) == 9 && memcmp(buf, "at-munmap", 9) == 0, "read-after-munmap");
  char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd2, 0);
  check(p != MAP_FAILED && memcmp(p + 100, "from-child", 10) == 0 && memcmp(p + 300, "at-munmap", 9) == 0, "private-map-sees-data");
  /* A last store left for exit to write back. */
  char *e = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
  memcpy(e + 10, "at-exit", 7);
  close(fd);
  close(fd2);
  return 0;
}
