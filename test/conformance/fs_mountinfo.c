/* /proc/self/mountinfo after mounts made here (natively in a private mount namespace): bind
 * mounts show the directory they bind as their root, per-mount flags show as options,
 * remounts change them, and paths with spaces are escaped. */
#include "fs_check.h"
#include <sched.h>
#include <sys/mount.h>

struct info {
  int id, parent;
  char root[512], point[512], opts[256], type[64];
};

/* The mountinfo line whose mount point is `point` (the last one: the top of a stack). */
static int find_mount(const char *point, struct info *out) {
  FILE *f = fopen("/proc/self/mountinfo", "r");
  if (f == NULL) return -1;
  char line[2048];
  int found = -1;
  while (fgets(line, sizeof line, f) != NULL) {
    struct info i;
    char dev[32];
    if (sscanf(line, "%d %d %31s %511s %511s %255s", &i.id, &i.parent, dev, i.root, i.point, i.opts) != 6) continue;
    const char *dash = strstr(line, " - ");
    if (dash == NULL || sscanf(dash + 3, "%63s", i.type) != 1) continue;
    if (strcmp(i.point, point) == 0) {
      *out = i;
      found = 0;
    }
  }
  fclose(f);
  return found;
}

int main(void) {
  setup();
  if (unshare(CLONE_NEWNS) == 0) mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  char path[512];
  struct info t, b, c, n, s;
  mkdir("t", 0755);
  CHECK("mount_tmpfs", mount("none", "t", "tmpfs", 0, NULL) == 0);
  snprintf(path, sizeof path, "%s/t", scratch);
  CHECK("tmpfs_line", find_mount(path, &t) == 0 && strcmp(t.root, "/") == 0 && strcmp(t.type, "tmpfs") == 0);
  CHECK("tmpfs_opts", strcmp(t.opts, "rw,relatime") == 0);
  mkdir("t/sub", 0755);
  mkdir("t/sub/deep", 0755);
  mkdir("b", 0755);
  CHECK("bind_subdir", mount("t/sub/deep", "b", NULL, MS_BIND, NULL) == 0);
  snprintf(path, sizeof path, "%s/b", scratch);
  CHECK("bind_root_is_subdir", find_mount(path, &b) == 0 && strcmp(b.root, "/sub/deep") == 0);
  CHECK("bind_same_type", strcmp(b.type, "tmpfs") == 0);
  CHECK("bind_new_id", b.id != t.id);
  mkdir("c", 0755);
  CHECK("bind_of_bind", mount("b", "c", NULL, MS_BIND, NULL) == 0);
  snprintf(path, sizeof path, "%s/c", scratch);
  CHECK("bind_of_bind_root", find_mount(path, &c) == 0 && strcmp(c.root, "/sub/deep") == 0);
  CHECK("remount_bind_ro", mount(NULL, "c", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) == 0);
  CHECK("remount_shows_ro", find_mount(path, &c) == 0 && strncmp(c.opts, "ro,", 3) == 0);
  CHECK("other_bind_still_rw", find_mount(b.point, &b) == 0 && strncmp(b.opts, "rw,", 3) == 0);
  CHECK_ERR("ro_bind_refuses_write", open("c/new", O_WRONLY | O_CREAT, 0644), EROFS);
  CHECK("rw_bind_writes", write_file("b/new", "x") == 0);
  mkdir("n", 0755);
  CHECK("mount_flags", mount("none", "n", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0);
  snprintf(path, sizeof path, "%s/n", scratch);
  CHECK("flags_in_opts", find_mount(path, &n) == 0 && strcmp(n.opts, "rw,nosuid,nodev,noexec,relatime") == 0);
  CHECK("parent_is_enclosing_mount", n.parent == t.parent);
  mkdir("sp ace", 0755);
  CHECK("mount_at_space", mount("none", "sp ace", "tmpfs", 0, NULL) == 0);
  snprintf(path, sizeof path, "%s/sp\\040ace", scratch);
  CHECK("space_escaped", find_mount(path, &s) == 0 && strcmp(s.type, "tmpfs") == 0);
  umount2("sp ace", 0);
  umount2("n", 0);
  umount2("c", 0);
  umount2("b", 0);
  umount2("t", 0);
  snprintf(path, sizeof path, "%s/t", scratch);
  CHECK("umount_removes_line", find_mount(path, &t) == -1);
  return 0;
}
