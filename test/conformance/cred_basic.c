/* Credentials: set*uid/set*gid transitions and their permission rules, saved ids,
 * setfsuid, setgroups, and capabilities (capget/capset, dropped when leaving root).
 * Each scenario runs in a child so the parent stays root. */
#define _GNU_SOURCE
#include "check.h"
#include <grp.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static int capget_(struct __user_cap_data_struct d[2]) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  return (int)syscall(SYS_capget, &h, d);
}

/* Runs fn in a child; returns its exit code (0 = check passed). */
static int in_child(int (*fn)(void)) {
  pid_t p = fork();
  if (p == 0) _exit(fn());
  int st;
  waitpid(p, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

static int t_setuid_root(void) {
  if (setuid(1000) != 0) return 1;
  uid_t r, e, s;
  getresuid(&r, &e, &s);
  if (r != 1000 || e != 1000 || s != 1000) return 2;
  if (setuid(0) != -1 || errno != EPERM) return 3;
  return 0;
}
static int t_seteuid_and_back(void) {
  if (seteuid(1000) != 0) return 1;
  if (geteuid() != 1000 || getuid() != 0) return 2;
  if (seteuid(0) != 0) return 3; /* saved uid is still 0 */
  return geteuid() == 0 ? 0 : 4;
}
static int t_setresuid_rules(void) {
  if (setresuid(1000, 1001, 1002) != 0) return 1;
  uid_t r, e, s;
  getresuid(&r, &e, &s);
  if (r != 1000 || e != 1001 || s != 1002) return 2;
  if (setresuid(1002, 1000, -1) != 0) return 3; /* permutations allowed */
  if (setresuid(5, -1, -1) != -1 || errno != EPERM) return 4;
  return 0;
}
static int t_setreuid_saved(void) {
  if (setreuid(1000, 1001) != 0) return 1;
  uid_t r, e, s;
  getresuid(&r, &e, &s);
  return r == 1000 && e == 1001 && s == 1001 ? 0 : 2;
}
static int t_caps_dropped(void) {
  struct __user_cap_data_struct d[2];
  capget_(d);
  if ((d[0].effective & (1u << CAP_SETUID)) == 0) return 1;
  setuid(1000);
  capget_(d);
  return d[0].effective == 0 && d[0].permitted == 0 ? 0 : 2;
}
static int t_caps_effective_follow_euid(void) {
  struct __user_cap_data_struct d[2];
  seteuid(1000);
  capget_(d);
  if (d[0].effective != 0 || (d[0].permitted & (1u << CAP_SETUID)) == 0) return 1;
  seteuid(0);
  capget_(d);
  return (d[0].effective & (1u << CAP_SETUID)) != 0 ? 0 : 2;
}
static int t_capset_drop(void) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  capget_(d);
  d[0].effective &= ~(1u << CAP_SETUID);
  d[0].permitted &= ~(1u << CAP_SETUID);
  if (syscall(SYS_capset, &h, d) != 0) return 1;
  if (setuid(1000) != -1 || errno != EPERM) return 2;
  d[0].permitted |= 1u << CAP_SETUID;
  if (syscall(SYS_capset, &h, d) != -1 || errno != EPERM) return 3; /* cannot regain */
  return 0;
}
static int t_setgid_groups(void) {
  if (setgid(500) != 0) return 1;
  gid_t r, e, s;
  getresgid(&r, &e, &s);
  if (r != 500 || e != 500 || s != 500) return 2;
  gid_t g[3] = {30, 10, 20};
  if (setgroups(3, g) != 0) return 3;
  gid_t out[8];
  int n = getgroups(8, out);
  if (n != 3) return 4;
  if (getgroups(1, out) != -1 || errno != EINVAL) return 5;
  if (getgroups(0, NULL) != 3) return 6;
  setuid(1000);
  if (setgroups(0, NULL) != -1 || errno != EPERM) return 7;
  if (setgid(0) != -1 || errno != EPERM) return 8;
  return 0;
}
static int t_setfsuid(void) {
  int old = setfsuid(1234);
  if (old != 0) return 1;
  if (setfsuid(-1) != 1234) return 2; /* query */
  setresuid(1000, 1000, 1000);
  if (setfsuid(55) != 1000) return 3; /* fsuid followed euid */
  return setfsuid(-1) == 1000 ? 0 : 4; /* unprivileged change refused */
}
static int t_capget_version(void) {
  struct __user_cap_header_struct h = {0x12345678, 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) != -1 || errno != EINVAL) return 1;
  return h.version == _LINUX_CAPABILITY_VERSION_3 ? 0 : 2;
}
static int t_fork_inherits(void) {
  setresuid(1000, 1000, 1000);
  pid_t p = fork();
  if (p == 0) _exit(getuid() == 1000 && geteuid() == 1000 ? 0 : 1);
  int st;
  waitpid(p, &st, 0);
  return WEXITSTATUS(st);
}
static int t_keepcaps(void) {
  struct __user_cap_data_struct d[2];
  if (prctl(PR_SET_KEEPCAPS, 1) != 0 || prctl(PR_GET_KEEPCAPS) != 1) return 1;
  setresuid(1000, 1000, 1000);
  capget_(d);
  if (d[0].effective != 0 || (d[0].permitted & (1u << CAP_SETUID)) == 0) return 2;
  return prctl(PR_CAPBSET_READ, CAP_SETUID) == 1 ? 0 : 3;
}
static int t_kill_permission(void) {
  pid_t victim = fork();
  if (victim == 0) {
    for (;;) pause();
  }
  pid_t p = fork();
  if (p == 0) {
    setresuid(2000, 2000, 2000);
    _exit(kill(victim, SIGTERM) == -1 && errno == EPERM ? 0 : 1);
  }
  int st;
  waitpid(p, &st, 0);
  kill(victim, SIGKILL);
  waitpid(victim, NULL, 0);
  return WEXITSTATUS(st);
}

int main(void) {
  alarm(60);
  CHECK("starts-as-root", getuid() == 0 && geteuid() == 0 && getgid() == 0, "uid=%d", getuid());
  CHECK("setuid-as-root-sets-all", in_child(t_setuid_root) == 0, "step %d", in_child(t_setuid_root));
  CHECK("seteuid-keeps-saved-root", in_child(t_seteuid_and_back) == 0, "step %d", in_child(t_seteuid_and_back));
  CHECK("setresuid-rules", in_child(t_setresuid_rules) == 0, "step %d", in_child(t_setresuid_rules));
  CHECK("setreuid-updates-saved", in_child(t_setreuid_saved) == 0, "step %d", in_child(t_setreuid_saved));
  CHECK("caps-dropped-leaving-root", in_child(t_caps_dropped) == 0, "step %d", in_child(t_caps_dropped));
  CHECK("caps-effective-follow-euid", in_child(t_caps_effective_follow_euid) == 0, "step %d", in_child(t_caps_effective_follow_euid));
  CHECK("capset-drop-is-final", in_child(t_capset_drop) == 0, "step %d", in_child(t_capset_drop));
  CHECK("setgid-and-groups", in_child(t_setgid_groups) == 0, "step %d", in_child(t_setgid_groups));
  CHECK("setfsuid", in_child(t_setfsuid) == 0, "step %d", in_child(t_setfsuid));
  CHECK("capget-bad-version", in_child(t_capget_version) == 0, "step %d", in_child(t_capget_version));
  CHECK("fork-inherits-creds", in_child(t_fork_inherits) == 0, "step %d", in_child(t_fork_inherits));
  CHECK("keepcaps-keeps-permitted", in_child(t_keepcaps) == 0, "step %d", in_child(t_keepcaps));
  CHECK("kill-needs-permission", in_child(t_kill_permission) == 0, "step %d", in_child(t_kill_permission));
  CHECK("setuid-minus-one-einval", setuid(-1) == -1 && errno == EINVAL, "accepted");
  return 0;
}
