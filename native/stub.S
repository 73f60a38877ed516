/*
 * The tsvisor stub: the host process that an application's threads run in.
 * It is linked at STUB_BASE (0x7fff00000000), above every address the Sentry gives the
 * application. At start it sets no-new-privs and installs a seccomp filter that kills any
 * syscall whose instruction pointer lies outside this code page, then traps to the tracer.
 * Afterwards it only ever executes syscalls the Sentry injects through the trampoline
 * below; application syscalls are caught by PTRACE_SYSEMU before seccomp and never run.
 */
    .section .text
    .p2align 8                /* section starts at STUB_BASE + 0x100 */
    .globl _start
_start:
    /* prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) */
    mov $157, %eax
    mov $38, %edi
    mov $1, %esi
    xor %edx, %edx
    xor %r10d, %r10d
    xor %r8d, %r8d
    syscall
    test %rax, %rax
    jnz fail
    /* seccomp(SECCOMP_SET_MODE_FILTER, 0, &fprog); fprog built on the stack */
    sub $16, %rsp
    movw $(filter_end - filter) / 8, (%rsp)
    lea filter(%rip), %rax
    mov %rax, 8(%rsp)
    mov $317, %eax
    mov $1, %edi
    xor %esi, %esi
    mov %rsp, %rdx
    syscall
    add $16, %rsp
    test %rax, %rax
    jnz fail
    int3                      /* ready: the tracer takes over from here */

/* The injection trampoline. The Sentry points rip here with a syscall loaded in rax and
 * the argument registers, resumes with PTRACE_CONT and regains control at the int3. */
    .org 0x80                 /* fixed: STUB_SYSCALL_ADDR = 0x7fff00000180 */
    .globl stub_syscall
stub_syscall:
    syscall
    int3
    jmp stub_syscall

fail:
    mov $231, %eax            /* exit_group(126) */
    mov $126, %edi
    syscall
    hlt

/* struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }
 * seccomp_data: nr@0 arch@4 instruction_pointer@8 (lo) @12 (hi) */
    .p2align 3
filter:
    .short 0x20; .byte 0, 0; .long 4            /* 0: A = arch */
    .short 0x15; .byte 0, 5; .long 0xc000003e   /* 1: if A != AUDIT_ARCH_X86_64 goto kill */
    .short 0x20; .byte 0, 0; .long 12           /* 2: A = ip >> 32 */
    .short 0x15; .byte 0, 3; .long 0x7fff       /* 3: if A != hi(STUB_BASE) goto kill */
    .short 0x20; .byte 0, 0; .long 8            /* 4: A = ip & 0xffffffff */
    .short 0x35; .byte 1, 0; .long 0x1000       /* 5: if A >= 4096 goto kill */
    .short 0x06; .byte 0, 0; .long 0x7fff0000   /* 6: return ALLOW */
    .short 0x06; .byte 0, 0; .long 0x80000000   /* 7: kill: return KILL_PROCESS */
filter_end:
