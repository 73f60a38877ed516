// Signal numbers and the default action Linux takes for each (signal(7)).

export const SIG: Record<string, number> & Record<number, string> = {} as Record<string, number> & Record<number, string>;
const names = ['', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL',
  'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP',
  'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO',
  'SIGPWR', 'SIGSYS'];
names.forEach((n, i) => {
  if (n !== '') {
    SIG[n] = i;
    SIG[i] = n;
  }
});

export type DefaultAction = 'terminate' | 'core' | 'ignore' | 'stop' | 'continue';

export function defaultAction(signo: number): DefaultAction {
  switch (signo) {
    case SIG.SIGCHLD: case SIG.SIGURG: case SIG.SIGWINCH:
      return 'ignore';
    case SIG.SIGCONT:
      return 'continue';
    case SIG.SIGSTOP: case SIG.SIGTSTP: case SIG.SIGTTIN: case SIG.SIGTTOU:
      return 'stop';
    case SIG.SIGQUIT: case SIG.SIGILL: case SIG.SIGTRAP: case SIG.SIGABRT: case SIG.SIGBUS: case SIG.SIGFPE:
    case SIG.SIGSEGV: case SIG.SIGXCPU: case SIG.SIGXFSZ: case SIG.SIGSYS:
      return 'core';
    default:
      return 'terminate'; // including real-time signals
  }
}
