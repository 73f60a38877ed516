/*
 * tsvisor native addon: only what JavaScript cannot do. ptrace of stub processes, the
 * memfd memory file mapped into the Sentry, syscall injection into stubs, a waiter thread
 * that turns ptrace stops into events on Node's loop, and seccomp installation.
 *
 * Every entry point checks its arguments and returns -errno on failure; none aborts.
 * All ptrace requests must come from the thread that attached (Node's main thread), so
 * none of them run on the waiter thread: it only peeks with WNOWAIT and signals the loop.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cpuid.h>
#include <elf.h>

#define STUB_SYSCALL_ADDR 0x7fff00000180ULL
#include "napi_args.h"

/* ---- the memory file ---- */

/* memfileCreate(size, chunk) -> [fd, ArrayBuffer...] | -errno.
 * The file is MAP_SHARED into the Sentry so TypeScript reads and writes app memory
 * directly; stubs map the same pages at app addresses. */
static napi_value memfile_create(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t size = arg_i64(&A, 0), chunk = arg_i64(&A, 1);
  CHECK();
  if (size <= 0 || chunk <= 0 || size % chunk != 0 || chunk % 4096 != 0 || size / chunk > 4096)
    return num(env, -EINVAL);
  int fd = memfd_create("tsvisor-memory", MFD_CLOEXEC);
  if (fd < 0) return num(env, -errno);
  if (ftruncate(fd, size) != 0) {
    int e = errno;
    close(fd);
    return num(env, -e);
  }
  void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
  if (base == MAP_FAILED) {
    int e = errno;
    close(fd);
    return num(env, -e);
  }
  napi_value arr;
  napi_create_array(env, &arr);
  napi_set_element(env, arr, 0, num(env, fd));
  for (int64_t i = 0; i < size / chunk; i++) {
    napi_value ab;
    if (napi_create_external_arraybuffer(env, (char *)base + i * chunk, chunk, NULL, NULL, &ab) != napi_ok) {
      munmap(base, size);
      close(fd);
      return num(env, -ENOMEM);
    }
    napi_set_element(env, arr, i + 1, ab);
    /* V8 counts each buffer as external memory, so 16 GiB of mere address space would force
     * a full GC per chunk (~65 ms at boot); the pages are the memory file's, not the heap's. */
    int64_t ignored;
    napi_adjust_external_memory(env, -chunk, &ignored);
  }
  return arr;
}

/* memfilePunch(fd, off, len): returns pages to the host; they read back as zeros. */
static napi_value memfile_punch(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t fd = arg_i64(&A, 0), off = arg_i64(&A, 1), len = arg_i64(&A, 2);
  CHECK();
  if (fd < 0 || off < 0 || len <= 0) return num(env, -EINVAL);
  if (fallocate((int)fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) != 0) return num(env, -errno);
  return num(env, 0);
}

/* ---- stubs ---- */

static int wait_for(pid_t pid, int *status) {
  for (;;) {
    pid_t r = waitpid(pid, status, __WALL);
    if (r == pid) return 0;
    if (r < 0 && errno == EINTR) continue;
    return r < 0 ? -errno : -ECHILD;
  }
}

/* stubSpawn(path, memfd) -> pid | -errno. The master stub: every other stub is cloned from
 * it, so it is the only exec. It gets the memory file as fd 3 and nothing else, its own
 * session (terminal signals go to the Sentry, not to app threads), no ASLR so its few host
 * mappings sit above the app's range, and dies with the Sentry. */
static napi_value stub_spawn(napi_env env, napi_callback_info info) {
  ARGS(2);
  char path[4096];
  size_t plen = 0;
  if (napi_get_value_string_utf8(env, A.argv[0], path, sizeof path, &plen) != napi_ok || plen == 0 || plen >= sizeof path - 1)
    return num(env, -EINVAL);
  int64_t memfd = arg_i64(&A, 1);
  CHECK();
  if (memfd < 0) return num(env, -EBADF);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return num(env, -errno);
  if (pid == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(125);
    setsid();
    personality(ADDR_NO_RANDOMIZE);
    if (dup2((int)memfd, 3) != 3) _exit(125);
    for (int fd = 0; fd < 3; fd++) close(fd);
    syscall(SYS_close_range, 4, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < 65; s++) signal(s, SIG_DFL);
    if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) _exit(125);
    char *argv[] = {path, NULL};
    char *envp[] = {NULL};
    execve(path, argv, envp);
    _exit(127);
  }
  int status;
  int r = wait_for(pid, &status);
  if (r != 0) return num(env, r);
  if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, __WALL);
    return num(env, -ENOEXEC);
  }
  long opts = PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK;
  if (ptrace(PTRACE_SETOPTIONS, pid, 0, opts) != 0) {
    int e = errno;
    kill(pid, SIGKILL);
    waitpid(pid, &status, __WALL);
    return num(env, -e);
  }
  /* Let it install its seccomp filter; it stops again at its int3. */
  if (ptrace(PTRACE_CONT, pid, 0, 0) != 0 || wait_for(pid, &status) != 0 || !WIFSTOPPED(status) ||
      WSTOPSIG(status) != SIGTRAP) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, __WALL);
    return num(env, -ENOEXEC);
  }
  return num(env, pid);
}

/* ---- register access ---- */

static napi_value get_regs(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t tid = arg_i64(&A, 0);
  void *buf = arg_buf(&A, 1, sizeof(struct user_regs_struct));
  CHECK();
  if (ptrace(PTRACE_GETREGS, (pid_t)tid, 0, buf) != 0) return num(env, -errno);
  return num(env, 0);
}

static napi_value set_regs(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t tid = arg_i64(&A, 0);
  void *buf = arg_buf(&A, 1, sizeof(struct user_regs_struct));
  CHECK();
  if (ptrace(PTRACE_SETREGS, (pid_t)tid, 0, buf) != 0) return num(env, -errno);
  return num(env, 0);
}

/* getFpregs/setFpregs(tid, buf[>=4096]): the XSAVE area via NT_X86_XSTATE (FP/SSE/AVX),
 * which signal frames must save and restore. Returns the byte length. */
static napi_value get_fpregs(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t tid = arg_i64(&A, 0);
  CHECK();
  void *buf = NULL;
  size_t cap = 0;
  napi_typedarray_type ty; napi_value ab; size_t off;
  bool is_ta = false;
  napi_is_typedarray(env, A.argv[1], &is_ta);
  if (!is_ta || napi_get_typedarray_info(env, A.argv[1], &ty, &cap, &buf, &ab, &off) != napi_ok || ty != napi_uint8_array || cap < 512)
    return num(env, -EINVAL);
  struct iovec iov = {buf, cap};
  if (ptrace(PTRACE_GETREGSET, (pid_t)tid, (void *)NT_X86_XSTATE, &iov) != 0) {
    iov.iov_len = 512;
    if (ptrace(PTRACE_GETFPREGS, (pid_t)tid, 0, buf) != 0) return num(env, -errno);
  }
  return num(env, (double)iov.iov_len);
}

static napi_value set_fpregs(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t tid = arg_i64(&A, 0);
  void *buf = arg_buf(&A, 1, 512);
  int64_t len = arg_i64(&A, 2);
  CHECK();
  if (len < 512 || len > 65536) return num(env, -EINVAL);
  struct iovec iov = {buf, (size_t)len};
  if (len > 512 && ptrace(PTRACE_SETREGSET, (pid_t)tid, (void *)NT_X86_XSTATE, &iov) == 0) return num(env, 0);
  if (ptrace(PTRACE_SETFPREGS, (pid_t)tid, 0, buf) != 0) return num(env, -errno);
  return num(env, 0);
}

/* getSiginfo(tid, buf[128]) */
static napi_value get_siginfo(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t tid = arg_i64(&A, 0);
  void *buf = arg_buf(&A, 1, sizeof(siginfo_t));
  CHECK();
  if (ptrace(PTRACE_GETSIGINFO, (pid_t)tid, 0, buf) != 0) return num(env, -errno);
  return num(env, 0);
}

static napi_value get_eventmsg(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t tid = arg_i64(&A, 0);
  CHECK();
  unsigned long msg = 0;
  if (ptrace(PTRACE_GETEVENTMSG, (pid_t)tid, 0, &msg) != 0) return num(env, -errno);
  return num(env, (double)msg);
}

/* resume(tid, mode, sig): mode 0 = PTRACE_SYSEMU (run app code, trap on its syscalls),
 * 1 = PTRACE_CONT, 2 = PTRACE_SYSEMU_SINGLESTEP. */
static napi_value resume(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t tid = arg_i64(&A, 0), mode = arg_i64(&A, 1), sig = arg_i64(&A, 2);
  CHECK();
  if (sig < 0 || sig > 64) return num(env, -EINVAL);
  int req;
  switch (mode) {
    case 0: req = PTRACE_SYSEMU; break;
    case 1: req = PTRACE_CONT; break;
    case 2: req = PTRACE_SYSEMU_SINGLESTEP; break;
    default: return num(env, -EINVAL);
  }
  if (ptrace(req, (pid_t)tid, 0, (void *)(long)sig) != 0) return num(env, -errno);
  return num(env, 0);
}

/* tgkill(tgid, tid, sig) and kill(pid, sig) on stub processes only (the caller checks). */
static napi_value do_tgkill(napi_env env, napi_callback_info info) {
  ARGS(3);
  int64_t tgid = arg_i64(&A, 0), tid = arg_i64(&A, 1), sig = arg_i64(&A, 2);
  CHECK();
  if (tgid <= 0 || tid <= 0 || sig < 0 || sig > 64) return num(env, -EINVAL);
  if (syscall(SYS_tgkill, (pid_t)tgid, (pid_t)tid, (int)sig) != 0) return num(env, -errno);
  return num(env, 0);
}

static napi_value do_kill(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t pid = arg_i64(&A, 0), sig = arg_i64(&A, 1);
  CHECK();
  if (pid <= 0 || sig < 0 || sig > 64) return num(env, -EINVAL);
  if (kill((pid_t)pid, (int)sig) != 0) return num(env, -errno);
  return num(env, 0);
}

/* ---- syscall injection ---- */

static int inject_one(pid_t tid, struct user_regs_struct *saved, long nr, const int64_t *a,
                      long *result, long *eventmsg) {
  struct user_regs_struct r = *saved;
  r.rax = nr;
  r.orig_rax = -1; /* not restarting a syscall */
  r.rdi = a[0]; r.rsi = a[1]; r.rdx = a[2]; r.r10 = a[3]; r.r8 = a[4]; r.r9 = a[5];
  r.rip = STUB_SYSCALL_ADDR;
  if (ptrace(PTRACE_SETREGS, tid, 0, &r) != 0) return -errno;
  if (ptrace(PTRACE_CONT, tid, 0, 0) != 0) return -errno;
  for (;;) {
    int status;
    int w = wait_for(tid, &status);
    if (w != 0) return w;
    if (WIFEXITED(status) || WIFSIGNALED(status)) return -ESRCH;
    if (!WIFSTOPPED(status)) continue;
    int sig = WSTOPSIG(status);
    int event = (status >> 16) & 0xff;
    if (sig == SIGTRAP && event != 0) {
      unsigned long msg = 0;
      ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
      if (eventmsg) *eventmsg = (long)msg;
      if (ptrace(PTRACE_CONT, tid, 0, 0) != 0) return -errno;
      continue;
    }
    if (sig == SIGTRAP) break; /* the trampoline's int3 */
    /* Any other signal arriving now is dropped: stubs get signals only from the Sentry,
     * which re-delivers app signals itself. */
    if (ptrace(PTRACE_CONT, tid, 0, 0) != 0) return -errno;
  }
  struct user_regs_struct after;
  if (ptrace(PTRACE_GETREGS, tid, 0, &after) != 0) return -errno;
  *result = (long)after.rax;
  return 0;
}

/* inject(tid, nr, a0..a5) -> [result, eventmsg] | -errno (of the injection itself).
 * Runs a host syscall inside a stopped stub thread through its trampoline and restores
 * the thread's registers afterwards. */
static napi_value inject(napi_env env, napi_callback_info info) {
  ARGS(8);
  int64_t tid = arg_i64(&A, 0), nr = arg_i64(&A, 1);
  int64_t a[6];
  for (int i = 0; i < 6; i++) a[i] = arg_i64(&A, 2 + i);
  CHECK();
  if (tid <= 0 || nr < 0 || nr > 1024) return num(env, -EINVAL);
  struct user_regs_struct saved;
  if (ptrace(PTRACE_GETREGS, (pid_t)tid, 0, &saved) != 0) return num(env, -errno);
  long result = 0, msg = 0;
  int r = inject_one((pid_t)tid, &saved, nr, a, &result, &msg);
  if (ptrace(PTRACE_SETREGS, (pid_t)tid, 0, &saved) != 0 && r == 0) r = -errno;
  if (r != 0) return num(env, r);
  napi_value out;
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, num(env, (double)result));
  napi_set_element(env, out, 1, num(env, (double)msg));
  return out;
}

/* injectBatch(tid, calls: Float64Array [nr,a0..a5]*n, results: Float64Array[n]) -> count | -errno.
 * Several host syscalls in one crossing (mapping a fault's page runs); stops at the first
 * failing call and reports how many ran. */
static napi_value inject_batch(napi_env env, napi_callback_info info) {
  ARGS(4);
  int64_t tid = arg_i64(&A, 0);
  int64_t n = arg_i64(&A, 3);
  CHECK();
  if (tid <= 0 || n < 0 || n > 4096) return num(env, -EINVAL);
  double *calls = arg_buf(&A, 1, (size_t)n * 7 * 8);
  double *results = arg_buf(&A, 2, (size_t)n * 8);
  CHECK();
  struct user_regs_struct saved;
  if (ptrace(PTRACE_GETREGS, (pid_t)tid, 0, &saved) != 0) return num(env, -errno);
  int64_t done = 0;
  int r = 0;
  for (; done < n; done++) {
    const double *c = calls + done * 7;
    int64_t a[6];
    for (int i = 0; i < 6; i++) a[i] = c[1 + i] >= 9223372036854775808.0 ? (int64_t)(uint64_t)c[1 + i] : (int64_t)c[1 + i];
    long res = 0;
    r = inject_one((pid_t)tid, &saved, (long)c[0], a, &res, NULL);
    if (r != 0) break;
    results[done] = (double)res;
    if (res < 0 && res > -4096) { done++; break; }
  }
  if (ptrace(PTRACE_SETREGS, (pid_t)tid, 0, &saved) != 0 && r == 0) r = -errno;
  if (r != 0) return num(env, r);
  return num(env, (double)done);
}

/* waitStopped(tid) -> status | -errno: blocks for the next stop of one thread (used right
 * after cloning a stub or thread, whose first stop is certain and immediate). */
static napi_value wait_stopped(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t tid = arg_i64(&A, 0);
  CHECK();
  int status;
  int r = wait_for((pid_t)tid, &status);
  if (r != 0) return num(env, r);
  return num(env, status);
}

/* ---- the waiter thread: ptrace stops become events on Node's loop ---- */

static pthread_t waiter;
static int waiter_started = 0;
static napi_threadsafe_function waiter_tsfn;
static pthread_mutex_t waiter_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t waiter_cv = PTHREAD_COND_INITIALIZER;
static int waiter_armed = 0;

static void *waiter_main(void *unused) {
  (void)unused;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  for (;;) {
    pthread_mutex_lock(&waiter_mu);
    while (!waiter_armed) pthread_cond_wait(&waiter_cv, &waiter_mu);
    waiter_armed = 0;
    pthread_mutex_unlock(&waiter_mu);
    siginfo_t si;
    for (;;) {
      memset(&si, 0, sizeof si);
      int r = waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WNOWAIT | __WALL);
      if (r == 0) break;
      if (errno == EINTR) continue;
      /* ECHILD: nothing to wait for until the loop re-arms us after spawning a stub. */
      break;
    }
    napi_call_threadsafe_function(waiter_tsfn, NULL, napi_tsfn_nonblocking);
  }
  return NULL;
}

static void waiter_call_js(napi_env env, napi_value cb, void *ctx, void *data) {
  (void)ctx;
  (void)data;
  if (env == NULL || cb == NULL) return;
  napi_value undef;
  napi_get_undefined(env, &undef);
  napi_call_function(env, undef, cb, 0, NULL, NULL);
}

/* waiterStart(cb): cb() runs on the loop whenever some traced thread may have an event;
 * the loop then drains with waitAll() and calls waiterArm(). */
static napi_value waiter_start(napi_env env, napi_callback_info info) {
  ARGS(1);
  if (waiter_started) return num(env, -EBUSY);
  napi_value name;
  napi_create_string_utf8(env, "tsvisor-waiter", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, A.argv[0], NULL, name, 0, 1, NULL, NULL, NULL, waiter_call_js, &waiter_tsfn) != napi_ok)
    return num(env, -EINVAL);
  if (pthread_create(&waiter, NULL, waiter_main, NULL) != 0) return num(env, -EAGAIN);
  pthread_detach(waiter);
  waiter_started = 1;
  return num(env, 0);
}

static napi_value waiter_arm(napi_env env, napi_callback_info info) {
  (void)info;
  pthread_mutex_lock(&waiter_mu);
  waiter_armed = 1;
  pthread_cond_signal(&waiter_cv);
  pthread_mutex_unlock(&waiter_mu);
  return num(env, 0);
}

/* waiterRef(on): whether the pending waiter keeps Node's loop alive. */
static napi_value waiter_ref(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t on = arg_i64(&A, 0);
  CHECK();
  if (!waiter_started) return num(env, -EINVAL);
  if (on) napi_ref_threadsafe_function(env, waiter_tsfn);
  else napi_unref_threadsafe_function(env, waiter_tsfn);
  return num(env, 0);
}

/* waitAll(out: Int32Array [tid,status]*n, spinUs) -> count | -errno. Collects every
 * pending event without blocking; if none is pending, polls for up to spinUs first so a
 * syscall-heavy app does not pay a loop wakeup per syscall. */
static napi_value wait_all(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t *out = NULL;
  size_t n = 0;
  {
    napi_typedarray_type ty; void *d; napi_value ab; size_t off;
    bool is_ta = false;
    napi_is_typedarray(env, A.argv[0], &is_ta);
    if (!is_ta || napi_get_typedarray_info(env, A.argv[0], &ty, &n, &d, &ab, &off) != napi_ok || ty != napi_int32_array)
      return num(env, -EINVAL);
    out = d;
  }
  int64_t spin_us = arg_i64(&A, 1);
  CHECK();
  size_t cap = n / 2, got = 0;
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    while (got < cap) {
      int status;
      pid_t p = waitpid(-1, &status, WNOHANG | __WALL);
      if (p > 0) {
        out[got * 2] = p;
        out[got * 2 + 1] = status;
        got++;
        continue;
      }
      if (p < 0 && errno == EINTR) continue;
      break;
    }
    if (got > 0 || spin_us <= 0) break;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t el = (now.tv_sec - start.tv_sec) * 1000000LL + (now.tv_nsec - start.tv_nsec) / 1000;
    if (el >= spin_us) break;
    sched_yield();
  }
  return num(env, (double)got);
}

/* ---- misc ---- */

/* seccompInstall(filterBytes): no-new-privs + a filter for the calling process (all threads). */
static napi_value seccomp_install(napi_env env, napi_callback_info info) {
  ARGS(1);
  size_t len = 0;
  void *data = NULL;
  bool is_ta = false;
  napi_is_typedarray(env, A.argv[0], &is_ta);
  if (is_ta) {
    napi_typedarray_type ty; size_t n; napi_value ab; size_t off;
    if (napi_get_typedarray_info(env, A.argv[0], &ty, &n, &data, &ab, &off) != napi_ok || ty != napi_uint8_array)
      return num(env, -EINVAL);
    len = n;
  } else return num(env, -EINVAL);
  if (len == 0 || len % 8 != 0 || len / 8 > 4096) return num(env, -EINVAL);
  struct sock_fprog prog = {(unsigned short)(len / 8), (struct sock_filter *)data};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return num(env, -errno);
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) return num(env, -errno);
  return num(env, 0);
}

/* hwcap() -> CPUID.1:EDX, what Linux reports as AT_HWCAP on x86-64. */
static napi_value hwcap(napi_env env, napi_callback_info info) {
  (void)info;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return num(env, 0);
  return num(env, d);
}

static napi_value close_fd(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t fd = arg_i64(&A, 0);
  CHECK();
  if (fd < 0) return num(env, -EBADF);
  if (close((int)fd) != 0) return num(env, -errno);
  return num(env, 0);
}

void tsv_register_oci(napi_env env, napi_value exports);
void tsv_register_gofer(napi_env env, napi_value exports);
void tsv_register_cpuclock(napi_env env, napi_value exports);
void tsv_register_net(napi_env env, napi_value exports);
void tsv_register_sentry_confine(napi_env env, napi_value exports);
void tsv_register_hostinet(napi_env env, napi_value exports);
void tsv_register_vdso_clock(napi_env env, napi_value exports);

static napi_value init(napi_env env, napi_value exports) {
  EXPORT("memfileCreate", memfile_create);
  EXPORT("memfilePunch", memfile_punch);
  EXPORT("stubSpawn", stub_spawn);
  EXPORT("getRegs", get_regs);
  EXPORT("setRegs", set_regs);
  EXPORT("getFpregs", get_fpregs);
  EXPORT("setFpregs", set_fpregs);
  EXPORT("getSiginfo", get_siginfo);
  EXPORT("getEventMsg", get_eventmsg);
  EXPORT("resume", resume);
  EXPORT("tgkill", do_tgkill);
  EXPORT("kill", do_kill);
  EXPORT("inject", inject);
  EXPORT("injectBatch", inject_batch);
  EXPORT("waitStopped", wait_stopped);
  EXPORT("waiterStart", waiter_start);
  EXPORT("waiterArm", waiter_arm);
  EXPORT("waiterRef", waiter_ref);
  EXPORT("waitAll", wait_all);
  EXPORT("seccompInstall", seccomp_install);
  EXPORT("hwcap", hwcap);
  EXPORT("closeFd", close_fd);
  tsv_register_oci(env, exports);
  tsv_register_gofer(env, exports);
  tsv_register_cpuclock(env, exports);
  tsv_register_net(env, exports);
  tsv_register_sentry_confine(env, exports);
  tsv_register_hostinet(env, exports);
  tsv_register_vdso_clock(env, exports);
  napi_value v;
  napi_create_double(env, (double)STUB_SYSCALL_ADDR, &v);
  napi_set_named_property(env, exports, "STUB_SYSCALL_ADDR", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
