/*
 * minimal.c - the floor of the start-up benchmark, not a sandbox.
 *
 * The fewest steps that still give a command new pid, mount, ipc, uts and
 * net namespaces and a pivot_root into its root filesystem with a fresh
 * /proc: no user namespace, no cgroups, no /dev, no seccomp, no capability
 * drop, no monitor, no output capture. Built static by bench/run.sh, it shows
 * what this machine charges for the kernel work alone, next to bubblewrap
 * and llmcore-sandbox in the same run.
 *
 *   minimal ROOTFS COMMAND [ARG...]      (as root)
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: minimal ROOTFS COMMAND [ARG...]\n");
        return 2;
    }
    long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | SIGCHLD;
    pid_t pid = (pid_t)syscall(SYS_clone, flags, 0L, 0L, 0L, 0L);
    if (pid < 0) {
        perror("clone");
        return 2;
    }
    if (pid == 0) {
        char proc[4096];
        snprintf(proc, sizeof proc, "%s/proc", argv[1]);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount(argv[1], argv[1], NULL, MS_BIND | MS_REC, NULL) < 0 ||
            mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ||
            chdir(argv[1]) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
            umount2(".", MNT_DETACH) < 0 || chdir("/") < 0) {
            perror("minimal: set up the root");
            _exit(126);
        }
        execv(argv[2], argv + 2);
        perror("minimal: execv");
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0)
        return 2;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
