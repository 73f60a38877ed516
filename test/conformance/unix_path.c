// AF_UNIX sockets bound to filesystem names: the socket inode, connect by path (absolute
// and relative), names after unlink, non-socket files, and datagrams sent to a path.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

static socklen_t path_addr(struct sockaddr_un *a, const char *p) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  strncpy(a->sun_path, p, sizeof a->sun_path - 1);
  return offsetof(struct sockaddr_un, sun_path) + strlen(p) + 1;
}

int main(void) {
  alarm(30);
  setvbuf(stdout, NULL, _IONBF, 0);
  char dir[] = "/tmp/tsv-unix-XXXXXX";
  if (mkdtemp(dir) == NULL) {
    printf("FAIL mkdtemp: %d\n", errno);
    return 0;
  }
  char path[128];
  snprintf(path, sizeof path, "%s/srv.sock", dir);
  struct sockaddr_un a, b;
  socklen_t al = path_addr(&a, path);
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK("bind_path", bind(l, (struct sockaddr *)&a, al) == 0, "bind");
  struct stat st;
  CHECK("socket_inode", stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "mode=%o", st.st_mode);
  socklen_t bl = sizeof b;
  CHECK("sockname_path", getsockname(l, (struct sockaddr *)&b, &bl) == 0 && bl == al && strcmp(b.sun_path, path) == 0, "bl=%d", bl);
  int l2 = socket(AF_UNIX, SOCK_STREAM, 0);
  errno = 0;
  CHECK("bind_existing_eaddrinuse", bind(l2, (struct sockaddr *)&a, al) == -1 && errno == EADDRINUSE, "inuse");
  close(l2);
  int c = socket(AF_UNIX, SOCK_STREAM, 0);
  errno = 0;
  CHECK("connect_not_listening_refused", connect(c, (struct sockaddr *)&a, al) == -1 && errno == ECONNREFUSED, "refused");
  close(c);
  listen(l, 4);
  c = socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK("connect_path", connect(c, (struct sockaddr *)&a, al) == 0, "connect");
  int s = accept(l, NULL, NULL);
  char buf[8];
  CHECK("path_exchange", write(c, "hey", 3) == 3 && read(s, buf, sizeof buf) == 3, "exchange");
  bl = sizeof b;
  CHECK("peername_path", getpeername(c, (struct sockaddr *)&b, &bl) == 0 && strcmp(b.sun_path, path) == 0, "peer");
  close(s);
  close(c);
  // A relative name resolves against the cwd.
  char cwd[256];
  getcwd(cwd, sizeof cwd);
  chdir(dir);
  c = socket(AF_UNIX, SOCK_STREAM, 0);
  socklen_t rl = path_addr(&b, "srv.sock");
  CHECK("connect_relative_path", connect(c, (struct sockaddr *)&b, rl) == 0, "connect");
  close(accept(l, NULL, NULL));
  close(c);
  chdir(cwd);
  // Unlinking the name: the listener lives on, but nobody can find it.
  CHECK("unlink_socket_file", unlink(path) == 0, "unlink");
  c = socket(AF_UNIX, SOCK_STREAM, 0);
  errno = 0;
  CHECK("connect_after_unlink_enoent", connect(c, (struct sockaddr *)&a, al) == -1 && errno == ENOENT, "enoent");
  close(c);
  close(l);
  // Closing a bound socket leaves its file behind: bind fails until it is removed.
  l = socket(AF_UNIX, SOCK_STREAM, 0);
  bind(l, (struct sockaddr *)&a, al);
  close(l);
  l = socket(AF_UNIX, SOCK_STREAM, 0);
  errno = 0;
  CHECK("stale_file_eaddrinuse", bind(l, (struct sockaddr *)&a, al) == -1 && errno == EADDRINUSE, "inuse");
  c = socket(AF_UNIX, SOCK_STREAM, 0);
  errno = 0;
  CHECK("connect_stale_refused", connect(c, (struct sockaddr *)&a, al) == -1 && errno == ECONNREFUSED, "refused");
  close(c);
  unlink(path);
  close(l);
  // A regular file is not a socket.
  char file[128];
  snprintf(file, sizeof file, "%s/plain", dir);
  close(open(file, O_CREAT | O_WRONLY, 0644));
  c = socket(AF_UNIX, SOCK_STREAM, 0);
  socklen_t fl = path_addr(&b, file);
  errno = 0;
  CHECK("connect_regular_file_refused", connect(c, (struct sockaddr *)&b, fl) == -1 && errno == ECONNREFUSED, "refused");
  close(c);
  unlink(file);
  // Datagrams to a path.
  char dpath[128];
  snprintf(dpath, sizeof dpath, "%s/d.sock", dir);
  int d = socket(AF_UNIX, SOCK_DGRAM, 0);
  socklen_t dl = path_addr(&b, dpath);
  bind(d, (struct sockaddr *)&b, dl);
  int sender = socket(AF_UNIX, SOCK_DGRAM, 0);
  CHECK("dgram_sendto_path", sendto(sender, "dg", 2, 0, (struct sockaddr *)&b, dl) == 2 && recv(d, buf, sizeof buf, 0) == 2, "sendto");
  struct sockaddr_un z;
  char missing[128];
  snprintf(missing, sizeof missing, "%s/missing", dir);
  socklen_t zl = path_addr(&z, missing);
  errno = 0;
  CHECK("dgram_sendto_missing_enoent", sendto(sender, "x", 1, 0, (struct sockaddr *)&z, zl) == -1 && errno == ENOENT, "enoent");
  close(sender);
  close(d);
  unlink(dpath);
  CHECK("cleanup", rmdir(dir) == 0, "rmdir");
  return 0;
}
