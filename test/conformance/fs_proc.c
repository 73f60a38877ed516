/* procfs and sysfs as programs read them: the caller's own entries and global files. */
#include "fs_check.h"
#include <dirent.h>
#include <limits.h>
#include <sys/wait.h>

static char text[65536];

static int has_line_prefix(const char *t, const char *prefix) {
  for (const char *p = t; p != NULL && *p != 0; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
    if (strncmp(p, prefix, strlen(prefix)) == 0) return 1;
  }
  return 0;
}

static long field_after(const char *t, const char *key) {
  const char *p = strstr(t, key);
  return p == NULL ? -1 : strtol(p + strlen(key), NULL, 10);
}

int main(int argc, char **argv) {
  (void)argc;
  setup();
  char path[PATH_MAX], link[PATH_MAX];
  char self[32];
  snprintf(self, sizeof self, "%d", getpid());
  ssize_t n = readlink("/proc/self", link, sizeof link - 1);
  CHECK("proc_self_link", n > 0 && (link[n] = 0, strcmp(link, self) == 0));
  CHECK("proc_stat_pid", read_file("/proc/self/stat", text, sizeof text) > 0 && atoi(text) == getpid());
  CHECK("proc_stat_comm", strstr(text, "(fs_proc)") != NULL);
  {
    char *close_paren = strrchr(text, ')');
    int ppid = -1;
    char state = 0;
    sscanf(close_paren + 2, "%c %d", &state, &ppid);
    CHECK("proc_stat_ppid", ppid == getppid());
    CHECK("proc_stat_state", state == 'R' || state == 'S');
  }
  CHECK("proc_status_pid", read_file("/proc/self/status", text, sizeof text) > 0 && field_after(text, "\nPid:\t") == getpid());
  CHECK("proc_status_name", has_line_prefix(text, "Name:\tfs_proc"));
  CHECK("proc_status_ppid", field_after(text, "\nPPid:\t") == getppid());
  CHECK("proc_status_uid", field_after(text, "\nUid:\t") == (long)getuid());
  CHECK("proc_status_threads", field_after(text, "\nThreads:\t") == 1);
  CHECK("proc_status_vmrss", field_after(text, "\nVmRSS:") > 0);
  n = read_file("/proc/self/cmdline", text, sizeof text);
  CHECK("proc_cmdline", n == (ssize_t)strlen(argv[0]) + 1 && strcmp(text, argv[0]) == 0);
  n = read_file("/proc/self/environ", text, sizeof text);
  CHECK("proc_environ", n >= 0);
  CHECK("proc_statm", read_file("/proc/self/statm", text, sizeof text) > 0 && atol(text) > 0);
  CHECK("proc_maps_stack", read_file("/proc/self/maps", text, sizeof text) > 0 && strstr(text, "[stack]") != NULL);
  CHECK("proc_maps_heap_or_exec", strstr(text, "r-xp") != NULL);
  int fd = open("marker", O_RDWR | O_CREAT, 0644);
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  n = readlink(path, link, sizeof link - 1);
  snprintf(path, sizeof path, "%s/marker", scratch);
  CHECK("proc_fd_link", n > 0 && (link[n] = 0, strcmp(link, path) == 0));
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
  lseek(fd, 3, SEEK_SET);
  CHECK("proc_fdinfo_pos", read_file(path, text, sizeof text) > 0 && field_after(text, "pos:\t") == 3);
  {
    DIR *d = opendir("/proc/self/fd");
    int found = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) if (atoi(e->d_name) == fd) found = 1;
    if (d) closedir(d);
    CHECK("proc_fd_listing", found);
  }
  close(fd);
  n = readlink("/proc/self/exe", link, sizeof link - 1);
  CHECK("proc_exe", n > 8 && (link[n] = 0, strcmp(link + n - 8, "/fs_proc") == 0));
  n = readlink("/proc/self/cwd", link, sizeof link - 1);
  CHECK("proc_cwd", n > 0 && (link[n] = 0, strcmp(link, scratch) == 0));
  CHECK("proc_limits", read_file("/proc/self/limits", text, sizeof text) > 0 && strstr(text, "Max open files") != NULL);
  CHECK("proc_mounts_proc", read_file("/proc/self/mounts", text, sizeof text) > 0 && strstr(text, " /proc proc ") != NULL);
  CHECK("proc_mounts_link", read_file("/proc/mounts", text, sizeof text) > 0 && strstr(text, " /proc proc ") != NULL);
  CHECK("proc_mountinfo", read_file("/proc/self/mountinfo", text, sizeof text) > 0 && strstr(text, " /proc ") != NULL);
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", getpid());
  CHECK("proc_task_dir", read_file(path, text, sizeof text) > 0 && atoi(text) == getpid());
  CHECK("proc_init_visible", access("/proc/1/status", R_OK) == 0);
  CHECK_ERR("proc_missing_pid", access("/proc/999999/status", F_OK), ENOENT);
  CHECK("proc_meminfo", read_file("/proc/meminfo", text, sizeof text) > 0 && has_line_prefix(text, "MemTotal:") && has_line_prefix(text, "MemAvailable:"));
  CHECK("proc_cpuinfo_count", read_file("/proc/cpuinfo", text, sizeof text) > 0 &&
        (long)(strstr(text, "processor") != NULL) && sysconf(_SC_NPROCESSORS_ONLN) >= 1);
  CHECK("proc_uptime", read_file("/proc/uptime", text, sizeof text) > 0 && strchr(text, '.') != NULL);
  CHECK("proc_loadavg", read_file("/proc/loadavg", text, sizeof text) > 0 && strchr(text, '/') != NULL);
  CHECK("proc_stat_btime", read_file("/proc/stat", text, sizeof text) > 0 && has_line_prefix(text, "cpu ") && has_line_prefix(text, "btime "));
  CHECK("proc_filesystems", read_file("/proc/filesystems", text, sizeof text) > 0 && strstr(text, "\tproc\n") != NULL && strstr(text, "\ttmpfs\n") != NULL);
  CHECK("proc_version", read_file("/proc/version", text, sizeof text) > 0 && strncmp(text, "Linux version ", 14) == 0);
  CHECK("proc_sys_ostype", read_file("/proc/sys/kernel/ostype", text, sizeof text) > 0 && strcmp(text, "Linux\n") == 0);
  {
    char host[256];
    gethostname(host, sizeof host);
    strcat(host, "\n");
    CHECK("proc_sys_hostname", read_file("/proc/sys/kernel/hostname", text, sizeof text) > 0 && strcmp(text, host) == 0);
  }
  CHECK("proc_sys_pid_max", read_file("/proc/sys/kernel/pid_max", text, sizeof text) > 0 && atol(text) > 0);
  CHECK("proc_sys_vm_overcommit", read_file("/proc/sys/vm/overcommit_memory", text, sizeof text) > 0 && (text[0] >= '0' && text[0] <= '2'));
  CHECK("proc_sys_fs_nr_open", read_file("/proc/sys/fs/nr_open", text, sizeof text) > 0 && atol(text) > 0);
  CHECK("sys_cpu_online", read_file("/sys/devices/system/cpu/online", text, sizeof text) > 0 && text[0] == '0');
  CHECK("nprocs_matches_sysfs", sysconf(_SC_NPROCESSORS_ONLN) >= 1);
  {
    pid_t c = fork();
    if (c == 0) {
      char buf[64];
      ssize_t k = readlink("/proc/self", buf, sizeof buf - 1);
      buf[k > 0 ? k : 0] = 0;
      _exit(atoi(buf) == getpid() ? 0 : 1);
    }
    int st;
    waitpid(c, &st, 0);
    CHECK("proc_self_in_child", WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  return 0;
}
