// The shape of a syscall handler and of a family's table.

import type { SyscallArgs } from '../abi/regs.js';
import type { Task } from '../kernel/task.js';

/** Returns rax: a value >= 0, or -errno. May return a Promise when the syscall must wait. */
export type SyscallHandler = (t: Task, a: SyscallArgs) => number | Promise<number>;

/** A family's handlers keyed by x86-64 syscall number. */
export type SyscallTable = Record<number, SyscallHandler>;
