/* UTS and IPC namespaces, /proc/[pid]/ns links and setns: hostname isolation, sethostname
 * errors, /proc/sys/kernel/hostname, link values equal or different as expected. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include "check.h"

static int link_of(const char *pid, const char *ns, char *out, size_t n) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%s/ns/%s", pid, ns);
  ssize_t r = readlink(path, out, n - 1);
  if (r < 0) return -1;
  out[r] = 0;
  return 0;
}

static int proc_hostname(char *out, size_t n) {
  int fd = open("/proc/sys/kernel/hostname", O_RDONLY);
  if (fd < 0) return -1;
  ssize_t r = read(fd, out, n - 1);
  close(fd);
  if (r <= 0) return -1;
  out[r] = 0;
  out[strcspn(out, "\n")] = 0;
  return 0;
}

int main(void) {
  char before[128], after[128], tmp[128];
  struct utsname u0, u1;
  uname(&u0);
  link_of("self", "uts", before, sizeof before);
  CHECK("uts_link_format", strncmp(before, "uts:[", 5) == 0 && before[strlen(before) - 1] == ']', "%s", before);
  const char *kinds[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "user", "uts", "time"};
  int all = 1;
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    if (link_of("self", kinds[i], tmp, sizeof tmp) != 0) all = 0;
  }
  CHECK("all_ns_links_readable", all, "links");
  link_of("self", "pid", tmp, sizeof tmp);
  link_of("self", "pid_for_children", after, sizeof after);
  CHECK("pid_for_children_equals_pid", strcmp(tmp, after) == 0, "%s %s", tmp, after);

  int self_fd = open("/proc/self/ns/uts", O_RDONLY);
  CHECK("open_ns_file", self_fd >= 0, "open");
  struct stat st;
  unsigned long ino = 0;
  sscanf(before, "uts:[%lu]", &ino);
  CHECK("ns_file_ino_matches_link", fstat(self_fd, &st) == 0 && st.st_ino == ino, "ino %lu vs %lu", (unsigned long)st.st_ino, ino);

  errno = 0;
  char long_name[80];
  memset(long_name, 'x', sizeof long_name);
  CHECK("sethostname_too_long", sethostname(long_name, 65) == -1 && errno == EINVAL, "65");
  CHECK("unshare_uts", unshare(CLONE_NEWUTS) == 0, "unshare");
  link_of("self", "uts", after, sizeof after);
  CHECK("uts_link_changed", strcmp(before, after) != 0, "%s", after);
  uname(&u1);
  CHECK("new_uts_keeps_name", strcmp(u0.nodename, u1.nodename) == 0, "%s", u1.nodename);
  CHECK("sethostname_ok", sethostname("nsbox", 5) == 0, "set");
  CHECK("setdomainname_ok", setdomainname("nsdomain", 8) == 0, "set");
  uname(&u1);
  CHECK("uname_shows_new_name", strcmp(u1.nodename, "nsbox") == 0, "%s", u1.nodename);
  CHECK("uname_shows_new_domain", strcmp(u1.domainname, "nsdomain") == 0, "%s", u1.domainname);
  CHECK("proc_hostname_reflects", proc_hostname(tmp, sizeof tmp) == 0 && strcmp(tmp, "nsbox") == 0, "%s", tmp);
  char h64[65];
  memset(h64, 'h', 64);
  h64[64] = 0;
  CHECK("sethostname_64_ok", sethostname(h64, 64) == 0, "64");
  uname(&u1);
  CHECK("uname_64_name", strcmp(u1.nodename, h64) == 0, "%s", u1.nodename);
  sethostname("nsbox", 5);

  /* A child in the new namespace sees it; setns takes us back to the old one. */
  pid_t c = fork();
  if (c == 0) {
    struct utsname u;
    uname(&u);
    _exit(strcmp(u.nodename, "nsbox") == 0 ? 0 : 1);
  }
  int s;
  CHECK("child_inherits_uts", waitpid(c, &s, 0) == c && WIFEXITED(s) && WEXITSTATUS(s) == 0, "st=%x", s);
  errno = 0;
  CHECK("setns_wrong_type_einval", setns(self_fd, CLONE_NEWPID) == -1 && errno == EINVAL, "setns");
  CHECK("setns_back", setns(self_fd, CLONE_NEWUTS) == 0, "setns");
  uname(&u1);
  CHECK("setns_restores_name", strcmp(u1.nodename, u0.nodename) == 0, "%s", u1.nodename);
  link_of("self", "uts", after, sizeof after);
  CHECK("setns_restores_link", strcmp(before, after) == 0, "%s", after);
  CHECK("old_proc_hostname", proc_hostname(tmp, sizeof tmp) == 0 && strcmp(tmp, u0.nodename) == 0, "%s", tmp);
  int devnull = open("/dev/null", O_RDONLY);
  errno = 0;
  CHECK("setns_non_ns_fd_einval", setns(devnull, 0) == -1 && errno == EINVAL, "setns");
  errno = 0;
  CHECK("setns_bad_fd_ebadf", setns(1000, 0) == -1 && errno == EBADF, "setns");

  /* IPC: a namespace of its own (its link changes), nothing else to see. */
  link_of("self", "ipc", before, sizeof before);
  CHECK("unshare_ipc", unshare(CLONE_NEWIPC) == 0, "unshare");
  link_of("self", "ipc", after, sizeof after);
  CHECK("ipc_link_changed", strcmp(before, after) != 0 && strncmp(after, "ipc:[", 5) == 0, "%s", after);
  link_of("self", "net", before, sizeof before);
  link_of("1", "net", after, sizeof after);
  CHECK("net_link_same_as_pid1", strcmp(before, after) == 0, "%s %s", before, after);
  /* Unsharing what nobody shares is a no-op that succeeds. */
  CHECK("unshare_files_fs_sysvsem", unshare(CLONE_FILES | CLONE_FS | CLONE_SYSVSEM) == 0, "unshare");
  CHECK("unshare_thread_single", unshare(CLONE_THREAD | CLONE_SIGHAND | CLONE_VM) == 0, "unshare");
  errno = 0;
  CHECK("unshare_bad_flag_einval", unshare(0x1) == -1 && errno == EINVAL, "unshare");
  return 0;
}
