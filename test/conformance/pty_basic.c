// ptys: allocation and locking, termios defaults and changes, canonical line editing,
// echo, output processing, non-canonical VMIN/VTIME reads, window size, hangups.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define CHECK(name, cond) do { if (cond) printf("ok %s\n", name); \
  else printf("FAIL %s: errno=%d (%s)\n", name, errno, strerror(errno)); } while (0)

static int m, s;
static char buf[256];

/** Reads what the master has (echo and output), up to a short quiet period. */
static int drain(int fd, char *out, int cap) {
  int n = 0;
  struct pollfd p = { .fd = fd, .events = POLLIN };
  while (n < cap - 1 && poll(&p, 1, 100) == 1 && (p.revents & POLLIN)) {
    int k = read(fd, out + n, cap - 1 - n);
    if (k <= 0) break;
    n += k;
  }
  out[n] = 0;
  return n;
}
static void type(const char *str) { (void)!write(m, str, strlen(str)); }
/** Linux processes typed input asynchronously: wait until the slave has something to read. */
static void wait_input(void) {
  struct pollfd p = { .fd = s, .events = POLLIN };
  poll(&p, 1, 2000);
}
static int slave_read(void) {
  int n = read(s, buf, sizeof buf - 1);
  if (n >= 0) buf[n] = 0;
  return n;
}
static void set_lflag(tcflag_t on, tcflag_t off) {
  struct termios t;
  tcgetattr(s, &t);
  t.c_lflag = (t.c_lflag | on) & ~off;
  tcsetattr(s, TCSANOW, &t);
}
static void set_cc(int i, int v) {
  struct termios t;
  tcgetattr(s, &t);
  t.c_cc[i] = v;
  tcsetattr(s, TCSANOW, &t);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  alarm(30);
  char echo[256];
  m = posix_openpt(O_RDWR | O_NOCTTY);
  CHECK("pty_posix_openpt", m >= 0);
  CHECK("pty_grantpt", grantpt(m) == 0);
  int lock = -1;
  CHECK("pty_initially_locked", ioctl(m, TIOCGPTLCK, &lock) == 0 && lock == 1);
  char *name = ptsname(m);
  CHECK("pty_ptsname", name != NULL && strncmp(name, "/dev/pts/", 9) == 0);
  unsigned ptn = 9999;
  CHECK("pty_tiocgptn_matches", ioctl(m, TIOCGPTN, &ptn) == 0 && name != NULL && (unsigned)atoi(name + 9) == ptn);
  CHECK("pty_open_locked_eio", open(name, O_RDWR | O_NOCTTY) == -1 && errno == EIO);
  CHECK("pty_unlockpt", unlockpt(m) == 0 && ioctl(m, TIOCGPTLCK, &lock) == 0 && lock == 0);
  s = open(name, O_RDWR | O_NOCTTY);
  CHECK("pty_open_slave", s >= 0);
  CHECK("pty_isatty_both", isatty(m) && isatty(s));
  int p[2];
  (void)!pipe(p);
  CHECK("pty_isatty_pipe_enotty", !isatty(p[0]) && errno == ENOTTY);
  close(p[0]);
  close(p[1]);

  struct termios t;
  CHECK("pty_tcgetattr", tcgetattr(s, &t) == 0);
  CHECK("pty_default_iflag", t.c_iflag == (ICRNL | IXON));
  CHECK("pty_default_oflag", t.c_oflag == (OPOST | ONLCR));
  CHECK("pty_default_lflag", t.c_lflag == (ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN));
  CHECK("pty_default_cc", t.c_cc[VINTR] == 3 && t.c_cc[VQUIT] == 28 && t.c_cc[VERASE] == 127 && t.c_cc[VKILL] == 21 &&
    t.c_cc[VEOF] == 4 && t.c_cc[VSUSP] == 26 && t.c_cc[VMIN] == 1 && t.c_cc[VTIME] == 0);
  CHECK("pty_master_shares_termios", tcgetattr(m, &t) == 0 && t.c_lflag == (ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN));
  struct winsize ws = { 0 };
  CHECK("pty_default_winsize_zero", ioctl(s, TIOCGWINSZ, &ws) == 0 && ws.ws_row == 0 && ws.ws_col == 0);
  struct winsize set = { .ws_row = 33, .ws_col = 101, .ws_xpixel = 7, .ws_ypixel = 9 };
  CHECK("pty_set_winsize_master", ioctl(m, TIOCSWINSZ, &set) == 0 && ioctl(s, TIOCGWINSZ, &ws) == 0 &&
    ws.ws_row == 33 && ws.ws_col == 101 && ws.ws_xpixel == 7 && ws.ws_ypixel == 9);

  type("hello\n");
  CHECK("pty_canon_line", slave_read() == 6 && strcmp(buf, "hello\n") == 0);
  drain(m, echo, sizeof echo);
  CHECK("pty_echo_crnl", strcmp(echo, "hello\r\n") == 0);
  int fl = fcntl(s, F_GETFL);
  fcntl(s, F_SETFL, fl | O_NONBLOCK);
  type("ab");
  CHECK("pty_canon_partial_eagain", slave_read() == -1 && errno == EAGAIN);
  int avail = -1;
  CHECK("pty_fionread_partial_zero", ioctl(s, FIONREAD, &avail) == 0 && avail == 0);
  type("c\n");
  wait_input();
  CHECK("pty_fionread_line", ioctl(s, FIONREAD, &avail) == 0 && avail == 4);
  CHECK("pty_canon_completed", slave_read() == 4 && strcmp(buf, "abc\n") == 0);
  drain(m, echo, sizeof echo);
  type("one\ntwo\n");
  CHECK("pty_canon_one_line_per_read", slave_read() == 4 && strcmp(buf, "one\n") == 0 && slave_read() == 4 && strcmp(buf, "two\n") == 0);
  drain(m, echo, sizeof echo);
  type("abx\x7f" "c\n");
  CHECK("pty_erase", slave_read() == 4 && strcmp(buf, "abc\n") == 0);
  drain(m, echo, sizeof echo);
  CHECK("pty_erase_echo", strcmp(echo, "abx\b \bc\r\n") == 0);
  type("junk\x15ok\n");
  CHECK("pty_kill_line", slave_read() == 3 && strcmp(buf, "ok\n") == 0);
  drain(m, echo, sizeof echo);
  type("one two\x17three\n");
  CHECK("pty_word_erase", slave_read() == 10 && strcmp(buf, "one three\n") == 0);
  drain(m, echo, sizeof echo);
  type("\x04");
  CHECK("pty_eof_empty_line", slave_read() == 0);
  type("ab\x04");
  CHECK("pty_eof_ends_line", slave_read() == 2 && strcmp(buf, "ab") == 0);
  drain(m, echo, sizeof echo);
  type("x\r");
  CHECK("pty_icrnl", slave_read() == 2 && strcmp(buf, "x\n") == 0);
  drain(m, echo, sizeof echo);
  type("\x01\n");
  slave_read();
  drain(m, echo, sizeof echo);
  CHECK("pty_echoctl", strcmp(echo, "^A\r\n") == 0);
  type("\x16\x7f\n");
  CHECK("pty_lnext_literal", slave_read() == 2 && buf[0] == 0x7f);
  drain(m, echo, sizeof echo);

  set_lflag(0, ECHO);
  type("secret\n");
  slave_read();
  CHECK("pty_noecho", drain(m, echo, sizeof echo) == 0);
  set_lflag(ECHO, 0);

  (void)!write(s, "a\nb", 3);
  drain(m, echo, sizeof echo);
  CHECK("pty_output_onlcr", strcmp(echo, "a\r\nb") == 0);
  tcgetattr(s, &t);
  t.c_oflag &= ~OPOST;
  tcsetattr(s, TCSANOW, &t);
  (void)!write(s, "a\nb", 3);
  drain(m, echo, sizeof echo);
  CHECK("pty_output_raw", strcmp(echo, "a\nb") == 0);
  t.c_oflag |= OPOST;
  tcsetattr(s, TCSANOW, &t);

  fcntl(s, F_SETFL, fl);
  set_lflag(0, ICANON | ECHO);
  set_cc(VMIN, 0);
  set_cc(VTIME, 0);
  CHECK("pty_raw_vmin0_vtime0_empty", slave_read() == 0);
  type("xyz");
  wait_input();
  CHECK("pty_raw_reads_available", slave_read() == 3 && strcmp(buf, "xyz") == 0);
  set_cc(VTIME, 1);
  CHECK("pty_raw_vtime_timeout", slave_read() == 0);
  set_cc(VMIN, 3);
  set_cc(VTIME, 0);
  type("12345");
  CHECK("pty_raw_vmin_met", slave_read() == 5 && strcmp(buf, "12345") == 0);
  set_cc(VMIN, 1);
  type("\r");
  CHECK("pty_raw_icrnl_still_applies", slave_read() == 1 && buf[0] == '\n');
  type("q");
  CHECK("pty_raw_vmin1", slave_read() == 1 && buf[0] == 'q');
  cfmakeraw(&t);
  CHECK("pty_cfmakeraw_set", tcsetattr(s, TCSAFLUSH, &t) == 0 && tcgetattr(s, &t) == 0 && (t.c_lflag & (ICANON | ECHO | ISIG)) == 0 && (t.c_iflag & ICRNL) == 0);
  type("\r");
  CHECK("pty_cfmakeraw_no_icrnl", slave_read() == 1 && buf[0] == '\r');
  type("\x03");
  CHECK("pty_raw_ctrl_c_is_data", slave_read() == 1 && buf[0] == 3);
  CHECK("pty_tcflush", tcflush(s, TCIOFLUSH) == 0);
  CHECK("pty_tcdrain", tcdrain(s) == 0);
  int ldisc = -1;
  CHECK("pty_tiocgetd", ioctl(s, TIOCGETD, &ldisc) == 0 && ldisc == 0);
  CHECK("pty_slave_tiocgpgrp_not_ctty_enotty", ioctl(s, TIOCGPGRP, &ldisc) == -1 && errno == ENOTTY);
  CHECK("pty_unknown_ioctl_enotty", ioctl(s, 0x54ff, 0) == -1 && errno == ENOTTY);

  close(s);
  fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
  CHECK("pty_master_read_slave_closed_eio", read(m, buf, 10) == -1 && errno == EIO);
  struct pollfd pm = { .fd = m, .events = POLLIN };
  CHECK("pty_master_poll_hup", poll(&pm, 1, 0) == 1 && (pm.revents & POLLHUP));
  s = open(name, O_RDWR | O_NOCTTY);
  CHECK("pty_reopen_slave", s >= 0);
  close(m);
  struct pollfd ps = { .fd = s, .events = POLLIN | POLLOUT };
  CHECK("pty_slave_poll_after_hangup", poll(&ps, 1, 0) == 1 && (ps.revents & POLLHUP));
  CHECK("pty_slave_read_after_hangup_eof", read(s, buf, 10) == 0);
  CHECK("pty_slave_write_after_hangup_eio", write(s, "x", 1) == -1 && errno == EIO);
  close(s);

  int am, as;
  struct winsize w2 = { .ws_row = 24, .ws_col = 80 };
  CHECK("pty_openpty", openpty(&am, &as, NULL, NULL, &w2) == 0 && isatty(as));
  CHECK("pty_openpty_winsize", ioctl(as, TIOCGWINSZ, &ws) == 0 && ws.ws_row == 24 && ws.ws_col == 80);
  char *n2 = ttyname(as);
  CHECK("pty_ttyname", n2 != NULL && strncmp(n2, "/dev/pts/", 9) == 0);
  return 0;
}
