/* inotify: create, modify, delete, move and attribute events on a watched directory. */
#include "fs_check.h"
#include <poll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>

static char evbuf[4096] __attribute__((aligned(8)));
static int nev;
static struct inotify_event *evs[64];

/* Reads everything queued (non-blocking fd) into evs. */
static int drain(int fd) {
  nev = 0;
  ssize_t n = read(fd, evbuf, sizeof evbuf);
  if (n <= 0) return (int)n;
  for (char *p = evbuf; p < evbuf + n && nev < 64;) {
    struct inotify_event *e = (struct inotify_event *)p;
    evs[nev++] = e;
    p += sizeof *e + e->len;
  }
  return nev;
}

static int has(uint32_t mask, const char *name) {
  for (int i = 0; i < nev; i++) {
    if ((evs[i]->mask & mask) == mask && (name == NULL ? evs[i]->len == 0 : (evs[i]->len > 0 && strcmp(evs[i]->name, name) == 0))) return 1;
  }
  return 0;
}

int main(void) {
  setup();
  mkdir("w", 0755);
  int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  CHECK("inotify_init1", in >= 0 && (fcntl(in, F_GETFD) & FD_CLOEXEC) != 0);
  int wd = inotify_add_watch(in, "w", IN_CREATE | IN_DELETE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_CLOSE_WRITE);
  CHECK("add_watch", wd > 0);
  CHECK_ERR("read_empty_eagain", read(in, evbuf, sizeof evbuf), EAGAIN);
  CHECK("add_watch_same_inode_same_wd", inotify_add_watch(in, "w/.", IN_CREATE | IN_DELETE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_CLOSE_WRITE) == wd);
  int fd = open("w/f", O_WRONLY | O_CREAT, 0644);
  struct pollfd p = {.fd = in, .events = POLLIN};
  CHECK("poll_readable", poll(&p, 1, 1000) == 1 && (p.revents & POLLIN) != 0);
  int queued = 0;
  CHECK("fionread", ioctl(in, FIONREAD, &queued) == 0 && queued == 32);
  CHECK("event_create", drain(in) == 1 && has(IN_CREATE, "f") && evs[0]->wd == wd);
  write(fd, "x", 1);
  close(fd);
  CHECK("event_modify_close_write", drain(in) == 2 && has(IN_MODIFY, "f") && has(IN_CLOSE_WRITE, "f"));
  chmod("w/f", 0600);
  CHECK("event_attrib", drain(in) == 1 && has(IN_ATTRIB, "f"));
  rename("w/f", "w/g");
  CHECK("event_moves", drain(in) == 2 && has(IN_MOVED_FROM, "f") && has(IN_MOVED_TO, "g") && evs[0]->cookie == evs[1]->cookie && evs[0]->cookie != 0);
  mkdir("w/d", 0755);
  CHECK("event_mkdir_isdir", drain(in) == 1 && has(IN_CREATE | IN_ISDIR, "d"));
  rmdir("w/d");
  CHECK("event_rmdir", drain(in) == 1 && has(IN_DELETE | IN_ISDIR, "d"));
  unlink("w/g");
  CHECK("event_delete", drain(in) >= 1 && has(IN_DELETE, "g"));
  write_file("w/h", "h");
  drain(in);
  int wf = inotify_add_watch(in, "w/h", IN_MODIFY | IN_DELETE_SELF);
  CHECK("watch_file", wf > 0 && wf != wd);
  fd = open("w/h", O_WRONLY | O_APPEND);
  write(fd, "more", 4);
  close(fd);
  CHECK("file_watch_modify", drain(in) >= 2 && has(IN_MODIFY, NULL) && has(IN_MODIFY, "h"));
  CHECK("rm_watch", inotify_rm_watch(in, wf) == 0 && drain(in) == 1 && has(IN_IGNORED, NULL));
  CHECK_ERR("rm_watch_twice", inotify_rm_watch(in, wf), EINVAL);
  CHECK_ERR("add_watch_missing", inotify_add_watch(in, "w/none", IN_MODIFY), ENOENT);
  CHECK_ERR("add_watch_onlydir", inotify_add_watch(in, "w/h", IN_MODIFY | IN_ONLYDIR), ENOTDIR);
  CHECK_ERR("add_watch_empty_mask", inotify_add_watch(in, "w", 0), EINVAL);
  CHECK_ERR("add_watch_not_inotify", inotify_add_watch(1, "w", IN_MODIFY), EINVAL);
  CHECK_ERR("init1_bad_flags", inotify_init1(0x1), EINVAL);
  write_file("w/small", "");
  char tiny[8];
  CHECK_ERR("read_buffer_too_small", read(in, tiny, sizeof tiny), EINVAL);
  close(in);
  return 0;
}
