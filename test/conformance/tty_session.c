// Controlling terminals and job control on a pty: acquiring a terminal on open, /dev/tty,
// TIOCSCTTY/TIOCGSID/tcgetpgrp/tcsetpgrp, signal characters to the foreground group,
// SIGTTIN for background readers, SIGWINCH, TIOCNOTTY, SIGHUP on hangup and on the
// session leader's exit. Each scenario
// runs in a child that starts its own session and reports its checks through its stdout.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define CHECK(name, cond) do { if (cond) printf("ok %s\n", name); \
  else printf("FAIL %s: errno=%d (%s)\n", name, errno, strerror(errno)); } while (0)

static volatile sig_atomic_t got[65];
static void on_signal(int sig) { got[sig]++; }
static void catch(int sig) {
  struct sigaction sa = { .sa_handler = on_signal };
  sigaction(sig, &sa, NULL);
}

static int m;
static char *name;

static void new_pty(void) {
  m = posix_openpt(O_RDWR | O_NOCTTY);
  grantpt(m);
  unlockpt(m);
  name = ptsname(m);
}

/** Waits (up to 5 s) for signal sig to have been handled. */
static int await_signal(int sig) {
  for (int i = 0; i < 500 && !got[sig]; i++) usleep(10000);
  return got[sig] > 0;
}

/** Runs scenario fn in a child in a new session, then waits for it. */
static void scenario(const char *what, void (*fn)(int ready_fd), int go_fd_used) {
  int ready[2];
  (void)!pipe(ready);
  pid_t c = fork();
  if (c == 0) {
    close(ready[0]);
    setsid();
    fn(ready[1]);
    exit(0);
  }
  close(ready[1]);
  if (go_fd_used) {
    char b;
    while (read(ready[0], &b, 1) == 1) {
      // The child asks for a signal character: type it on the master.
      (void)!write(m, &b, 1);
    }
  }
  close(ready[0]);
  int st;
  waitpid(c, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("FAIL %s: child status %#x\n", what, st);
}

static void ctty_basics(int ready) {
  (void)ready;
  int before = open("/dev/tty", O_RDWR);
  CHECK("tty_no_ctty_enxio", before == -1 && errno == ENXIO);
  int s = open(name, O_RDWR);
  CHECK("tty_open_acquires_ctty", s >= 0 && tcgetsid(s) == getpid());
  CHECK("tty_tcgetpgrp_is_own_group", tcgetpgrp(s) == getpgrp());
  int t = open("/dev/tty", O_RDWR);
  CHECK("tty_dev_tty_opens", t >= 0 && isatty(t));
  CHECK("tty_dev_tty_same_terminal", t >= 0 && tcgetsid(t) == getpid());
  CHECK("tty_tcsetpgrp_missing_esrch", tcsetpgrp(s, 0x3ffffff0) == -1 && errno == ESRCH);
  CHECK("tty_tcsetpgrp_negative_einval", tcsetpgrp(s, -5) == -1 && errno == EINVAL);
  int ptn = 0;
  ioctl(m, TIOCGPTN, &ptn);
  int pg = -1;
  CHECK("tty_master_sees_fg_group", ioctl(m, TIOCGPGRP, &pg) == 0 && pg == getpgrp());
  pid_t c = fork();
  if (c == 0) {
    CHECK("tty_sctty_not_leader_eperm", ioctl(s, TIOCSCTTY, 0) == -1 && errno == EPERM);
    setpgid(0, 0);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  close(t);
  close(s);
}

static void explicit_sctty(int ready) {
  (void)ready;
  int s = open(name, O_RDWR | O_NOCTTY);
  CHECK("tty_noctty_open_no_ctty", tcgetpgrp(s) == -1 && errno == ENOTTY);
  CHECK("tty_tiocsctty", ioctl(s, TIOCSCTTY, 0) == 0 && tcgetsid(s) == getpid());
  CHECK("tty_tiocsctty_again_ok", ioctl(s, TIOCSCTTY, 0) == 0);
  close(s);
}

static void signal_chars(int ready) {
  int s = open(name, O_RDWR);
  catch(SIGINT);
  catch(SIGQUIT);
  catch(SIGTSTP);
  (void)!write(ready, "\x03", 1);
  CHECK("tty_ctrl_c_sigint", await_signal(SIGINT));
  (void)!write(ready, "\x1c", 1);
  CHECK("tty_ctrl_backslash_sigquit", await_signal(SIGQUIT));
  (void)!write(ready, "\x1a", 1);
  CHECK("tty_ctrl_z_sigtstp", await_signal(SIGTSTP));
  struct termios t;
  tcgetattr(s, &t);
  t.c_lflag &= ~ISIG;
  tcsetattr(s, TCSANOW, &t);
  got[SIGINT] = 0;
  (void)!write(ready, "\x03", 1);
  char b = 0;
  t.c_lflag &= ~ICANON;
  tcsetattr(s, TCSANOW, &t);
  CHECK("tty_noisig_ctrl_c_is_data", read(s, &b, 1) == 1 && b == 3 && got[SIGINT] == 0);
  catch(SIGWINCH);
  struct winsize ws = { .ws_row = 50, .ws_col = 132 };
  ioctl(s, TIOCSWINSZ, &ws);
  CHECK("tty_winsize_change_sigwinch", await_signal(SIGWINCH));
  got[SIGWINCH] = 0;
  ioctl(s, TIOCSWINSZ, &ws);
  usleep(50000);
  CHECK("tty_winsize_same_no_sigwinch", got[SIGWINCH] == 0);
  close(s);
}

static void background(int ready) {
  (void)ready;
  int s = open(name, O_RDWR);
  pid_t c = fork();
  if (c == 0) {
    setpgid(0, 0);
    signal(SIGTTIN, SIG_IGN);
    char b;
    CHECK("tty_bg_read_sigttin_ignored_eio", read(s, &b, 1) == -1 && errno == EIO);
    catch(SIGTTIN);
    CHECK("tty_bg_read_sigttin_handled_eintr", read(s, &b, 1) == -1 && errno == EINTR && got[SIGTTIN] == 1);
    CHECK("tty_bg_write_allowed_without_tostop", write(s, "w", 1) == 1);
    signal(SIGTTOU, SIG_IGN);
    CHECK("tty_bg_tcsetpgrp_sigttou_ignored", tcsetpgrp(s, getpgrp()) == 0 && tcgetpgrp(s) == getpgrp());
    _exit(0);
  }
  int st;
  waitpid(c, &st, 0);
  CHECK("tty_bg_child_done", WIFEXITED(st) && WEXITSTATUS(st) == 0);
  signal(SIGTTOU, SIG_IGN);
  CHECK("tty_leader_takes_terminal_back", tcsetpgrp(s, getpgrp()) == 0 && tcgetpgrp(s) == getpgrp());
  close(s);
}

static void notty(int ready) {
  (void)ready;
  int s = open(name, O_RDWR);
  signal(SIGHUP, SIG_IGN);
  CHECK("tty_tiocnotty", ioctl(s, TIOCNOTTY) == 0);
  CHECK("tty_after_notty_no_dev_tty", open("/dev/tty", O_RDWR) == -1 && errno == ENXIO);
  CHECK("tty_after_notty_enotty", tcgetpgrp(s) == -1 && errno == ENOTTY);
  close(s);
}

static void hangup(int ready) {
  int s = open(name, O_RDWR);
  catch(SIGHUP);
  (void)!write(ready, "H", 1);
  close(ready);
  CHECK("tty_master_close_sighup", await_signal(SIGHUP));
  char b;
  CHECK("tty_hungup_read_eof", read(s, &b, 1) == 0);
  close(s);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  alarm(30);
  // Each scenario runs in a fresh session on a fresh terminal.
  static const struct {
    const char *what;
    void (*fn)(int ready_fd);
    int go_fd_used;
  } scenarios[] = {
    {"ctty_basics", ctty_basics, 0},
    {"explicit_sctty", explicit_sctty, 0},
    {"signal_chars", signal_chars, 1},
    {"background", background, 0},
    {"notty", notty, 0},
  };
  for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
    new_pty();
    scenario(scenarios[i].what, scenarios[i].fn, scenarios[i].go_fd_used);
    close(m);
  }

  // Hangup: the child says when it is ready; the parent closes the master.
  new_pty();
  int ready[2];
  (void)!pipe(ready);
  pid_t c = fork();
  if (c == 0) {
    close(ready[0]);
    setsid();
    close(m);
    hangup(ready[1]);
    exit(0);
  }
  close(ready[1]);
  char b;
  (void)!read(ready[0], &b, 1);
  close(m);
  int st;
  waitpid(c, &st, 0);
  CHECK("tty_hangup_child_done", WIFEXITED(st) && WEXITSTATUS(st) == 0);

  // The session leader exits: its terminal's foreground group gets SIGHUP and the session
  // loses the terminal. A grandchild in that group reports; main reads its pipe to EOF.
  new_pty();
  int done[2];
  (void)!pipe(done);
  pid_t l = fork();
  if (l == 0) {
    close(done[0]);
    setsid();
    int s = open(name, O_RDWR);
    int go[2];
    (void)!pipe(go);
    if (fork() == 0) {
      close(go[0]);
      catch(SIGHUP);
      (void)!write(go[1], "R", 1);
      close(go[1]);
      CHECK("tty_leader_exit_sighup", await_signal(SIGHUP));
      CHECK("tty_leader_exit_no_dev_tty", open("/dev/tty", O_RDWR) == -1 && errno == ENXIO);
      CHECK("tty_leader_exit_disassociated", tcgetpgrp(s) == -1 && errno == ENOTTY);
      _exit(0);
    }
    close(go[1]);
    (void)!read(go[0], &b, 1);
    _exit(0);
  }
  close(done[1]);
  waitpid(l, &st, 0);
  while (read(done[0], &b, 1) > 0) {}
  close(done[0]);
  close(m);
  return 0;
}
