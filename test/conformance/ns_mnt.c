/* Mount namespaces (private propagation) and a proc mount inside a new pid namespace:
 * mounts made after unshare(CLONE_NEWNS) are invisible to the other namespace, mountinfo
 * follows each task's namespace, setns(mnt) switches trees, and /proc mounted in a child
 * pid namespace lists only that namespace's processes. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "check.h"

static char dir[64];
static int cp[2];

static void write_int(int fd, int v) {
  if (write(fd, &v, sizeof v) != sizeof v) _exit(99);
}
static int read_int(int fd) {
  int v = -1;
  if (read(fd, &v, sizeof v) != sizeof v) return -1;
  return v;
}

static int exists_in(const char *name) {
  char p[128];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return access(p, F_OK) == 0;
}

/* Whether /proc/self/mountinfo has a line mentioning dir as a mount point. */
static int mountinfo_has(const char *path) {
  FILE *f = fopen("/proc/self/mountinfo", "r");
  if (!f) return -1;
  char line[1024];
  int found = 0;
  while (fgets(line, sizeof line, f)) {
    char a[64], b[64], c[64], root[512], mp[512];
    if (sscanf(line, "%63s %63s %63s %511s %511s", a, b, c, root, mp) == 5 && strcmp(mp, path) == 0) found = 1;
  }
  fclose(f);
  return found;
}

static int link_eq(const char *a, const char *b) {
  char x[64] = "", y[64] = "";
  if (readlink(a, x, sizeof x - 1) < 0 || readlink(b, y, sizeof y - 1) < 0) return -1;
  return strcmp(x, y) == 0;
}

/* Counts numeric entries of the proc mounted at path, and whether "1" is one of them. */
static int count_pids(const char *path, int *has1) {
  DIR *d = opendir(path);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  *has1 = 0;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') n++;
    if (strcmp(e->d_name, "1") == 0) *has1 = 1;
  }
  closedir(d);
  return n;
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/nsmnt.XXXXXX");
  if (!mkdtemp(dir)) return 1;
  char marker[128];
  snprintf(marker, sizeof marker, "%s/lower", dir);
  close(open(marker, O_CREAT | O_WRONLY, 0644));
  if (pipe(cp) != 0) return 1;
  int go[2];
  if (pipe(go) != 0) return 1;

  pid_t c = fork();
  if (c == 0) {
    close(go[1]);
    int ok = unshare(CLONE_NEWNS) == 0;
    write_int(cp[1], ok);
    write_int(cp[1], link_eq("/proc/self/ns/mnt", "/proc/1/ns/mnt") == 0);
    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL);
    write_int(cp[1], mount("tmpfs", dir, "tmpfs", 0, NULL) == 0);
    write_int(cp[1], !exists_in("lower"));
    close(open(marker, O_CREAT | O_WRONLY, 0644));
    write_int(cp[1], mountinfo_has(dir) == 1);
    /* A grandchild shares our namespace. */
    pid_t g = fork();
    if (g == 0) _exit(exists_in("lower") && link_eq("/proc/self/ns/mnt", "/proc/self/ns/mnt") == 1 ? 0 : 1);
    int st;
    waitpid(g, &st, 0);
    write_int(cp[1], WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* Back into the first namespace through setns on its init's link. */
    int fd = open("/proc/1/ns/mnt", O_RDONLY);
    write_int(cp[1], fd >= 0 && setns(fd, CLONE_NEWNS) == 0);
    write_int(cp[1], exists_in("lower") && mountinfo_has(dir) == 0);
    write_int(cp[1], link_eq("/proc/self/ns/mnt", "/proc/1/ns/mnt") == 1);
    char ch;
    (void)read(go[0], &ch, 1);
    _exit(0);
  }
  close(go[0]);
  CHECK("child_unshare_newns", read_int(cp[0]) == 1, "unshare");
  CHECK("child_mnt_link_differs", read_int(cp[0]) == 1, "link");
  CHECK("child_mounts_tmpfs", read_int(cp[0]) == 1, "mount");
  CHECK("child_sees_its_mount", read_int(cp[0]) == 1, "lower hidden");
  CHECK("child_mountinfo_has_mount", read_int(cp[0]) == 1, "mountinfo");
  CHECK("parent_mountinfo_lacks_mount", mountinfo_has(dir) == 0, "mountinfo");
  CHECK("parent_still_sees_lower", exists_in("lower"), "lower");
  CHECK("grandchild_shares_ns", read_int(cp[0]) == 1, "grandchild");
  CHECK("setns_mnt_ok", read_int(cp[0]) == 1, "setns");
  CHECK("setns_mnt_sees_old_tree", read_int(cp[0]) == 1, "tree");
  CHECK("setns_mnt_link_equal", read_int(cp[0]) == 1, "link");
  close(go[1]);
  int st;
  waitpid(c, &st, 0);
  CHECK("child_exit", WIFEXITED(st) && WEXITSTATUS(st) == 0, "st=%x", st);

  /* A new pid + mount namespace with its own proc: it lists only its own processes. */
  c = fork();
  if (c == 0) {
    if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) _exit(10);
    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL);
    pid_t i = fork();
    if (i == 0) {
      int ok = mount("proc", dir, "proc", 0, NULL) == 0;
      pid_t k = fork();
      if (k == 0) {
        pause();
        _exit(0);
      }
      int has1 = 0;
      int n = count_pids(dir, &has1);
      char self[32] = "";
      char p[128];
      snprintf(p, sizeof p, "%s/self", dir);
      ssize_t r = readlink(p, self, sizeof self - 1);
      if (r > 0) self[r] = 0;
      kill(k, SIGKILL);
      waitpid(k, NULL, 0);
      _exit(ok && n == 2 && has1 && strcmp(self, "1") == 0 ? 0 : 20 + (n > 9 ? 9 : n));
    }
    int s2;
    waitpid(i, &s2, 0);
    _exit(WIFEXITED(s2) ? WEXITSTATUS(s2) : 30);
  }
  waitpid(c, &st, 0);
  CHECK("ns_proc_shows_only_ns", WIFEXITED(st) && WEXITSTATUS(st) == 0, "st=%x", st);
  CHECK("parent_dir_has_no_proc", exists_in("lower") && !exists_in("self"), "dir");
  unlink(marker);
  rmdir(dir);
  return 0;
}
