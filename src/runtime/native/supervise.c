/*
 * supervise.c - host side: the poll loop that supervises a one-shot run while
 * the sandbox lives.
 *
 * Feeds stdin, collects stdout and stderr up to the per-stream cap, reads
 * init's status records, and enforces the wall-clock timeout. It returns as
 * soon as the command's exit status ('W') is in and its output pipes are at
 * EOF: init's exit (the kernel tearing down the namespaces, ~1 ms here) then
 * overlaps with the caller's accounting, and the caller reaps init. Every wait is
 * bounded: the loop wakes at least every 100 ms, setup has its own deadline,
 * and after init is reaped the pipes get at most two seconds to drain (the
 * kernel has killed every other sandbox process by then, so they reach EOF
 * at once in practice).
 *
 * Killing "the sandbox" means: cgroup.kill (v2) or freeze+SIGKILL (v1), and
 * SIGKILL to init through its pidfd, which makes the kernel kill every
 * process of the pid namespace; no descendant can leave that namespace, so
 * double-forked daemons die too.
 */
#include "runtime/native/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct stream {
    int *fd;
    char **buf;
    size_t *len;
    size_t cap;
    int *truncated;
} stream;

static void kill_sandbox(lcs_supervise_io *io)
{
    if (io->cg)
        lcs_cg_kill(io->cg);
    if (io->pidfd >= 0)
        syscall(SYS_pidfd_send_signal, io->pidfd, SIGKILL, NULL, 0);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Read what is available; returns 1 if the cap was exceeded. */
static int pump(stream *s, uint64_t limit)
{
    char tmp[65536];
    for (;;) {
        ssize_t n = read(*s->fd, tmp, sizeof tmp);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                close_fd(s->fd);
            return 0;
        }
        if (n == 0) {
            close_fd(s->fd);
            return 0;
        }
        size_t room = limit > *s->len ? (size_t)(limit - *s->len) : 0;
        size_t take = (size_t)n < room ? (size_t)n : room;
        if (take) {
            if (*s->len + take + 1 > s->cap) {
                size_t nc = s->cap ? s->cap : 4096;
                while (nc < *s->len + take + 1)
                    nc *= 2;
                if (nc > limit + 1)
                    nc = (size_t)limit + 1;
                char *nb = realloc(*s->buf, nc);
                if (!nb)
                    return -1;
                *s->buf = nb;
                s->cap = nc;
            }
            memcpy(*s->buf + *s->len, tmp, take);
            *s->len += take;
            (*s->buf)[*s->len] = 0;
        }
        if ((size_t)n > take) {
            *s->truncated = 1;
            return 1;
        }
    }
}

/* Parse complete status records from buf; returns bytes consumed. */
static size_t parse_records(const unsigned char *buf, size_t len, lcs_supervise_out *mo)
{
    size_t off = 0;
    while (len - off >= 3) {
        size_t rl = (size_t)buf[off + 1] | ((size_t)buf[off + 2] << 8);
        if (len - off < 3 + rl)
            break;
        const unsigned char *d = buf + off + 3;
        switch (buf[off]) {
        case 'E':
            if (!mo->setup_error[0]) {
                size_t n = rl < sizeof mo->setup_error - 1 ? rl : sizeof mo->setup_error - 1;
                memcpy(mo->setup_error, d, n);
                mo->setup_error[n] = 0;
            }
            break;
        case 'R':
            mo->started = 1;
            break;
        case 'D':
            if (rl == sizeof(int))
                memcpy(&mo->exec_denied, d, sizeof(int));
            break;
        case 'W':
            if (rl == sizeof(int)) {
                memcpy(&mo->wait_status, d, sizeof(int));
                mo->reaped = 2; /* exact status of the command */
            }
            break;
        default:
            break;
        }
        off += 3 + rl;
    }
    return off;
}

int lcs_supervise_run(lcs_supervise_io *io, lcs_native_result *r, lcs_supervise_out *mo, lcs_error *err)
{
    size_t out_cap = 0, err_cap = 0;
    stream so = {&io->out_fd, &r->out, &r->out_len, out_cap, &r->out_truncated};
    stream se = {&io->err_fd, &r->err, &r->err_len, err_cap, &r->err_truncated};
    int fds[4] = {io->out_fd, io->err_fd, io->status_fd, io->stdin_fd};
    for (int i = 0; i < 4; i++)
        if (fds[i] >= 0)
            fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
    unsigned char rec[4096];
    size_t rec_len = 0, stdin_off = 0;
    double start = lcs_now();
    double deadline = start + io->timeout_s;
    double setup_deadline = start + io->setup_timeout_s;
    double drain_deadline = 0;
    int killed = 0, init_done = 0, init_status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);

    for (;;) {
        double now = lcs_now();
        if (!init_done && !killed) {
            if (!mo->started && !mo->setup_error[0] && now >= setup_deadline) {
                mo->setup_timed_out = 1;
                kill_sandbox(io);
                killed = 1;
            } else if (now >= deadline) {
                mo->timed_out = 1;
                kill_sandbox(io);
                killed = 1;
            }
        }
        if (init_done) {
            if (io->out_fd < 0 && io->err_fd < 0 && io->status_fd < 0)
                break;
            if (now >= drain_deadline)
                break;
        } else if (mo->reaped == 2 && !killed && io->out_fd < 0 && io->err_fd < 0) {
            mo->wall_s = now - start; /* command done, every writer gone */
            break;
        }
        struct pollfd pf[5];
        int n = 0, ix_out = -1, ix_err = -1, ix_st = -1, ix_in = -1, ix_pid = -1;
        if (io->out_fd >= 0)
            pf[ix_out = n++] = (struct pollfd){io->out_fd, POLLIN, 0};
        if (io->err_fd >= 0)
            pf[ix_err = n++] = (struct pollfd){io->err_fd, POLLIN, 0};
        if (io->status_fd >= 0)
            pf[ix_st = n++] = (struct pollfd){io->status_fd, POLLIN, 0};
        if (io->stdin_fd >= 0 && mo->started)
            pf[ix_in = n++] = (struct pollfd){io->stdin_fd, POLLOUT, 0};
        if (!init_done)
            pf[ix_pid = n++] = (struct pollfd){io->pidfd, POLLIN, 0};
        double limit_t = init_done ? drain_deadline : (mo->started ? deadline : setup_deadline);
        if (!init_done && deadline < limit_t)
            limit_t = deadline;
        int ms = (int)((limit_t - now) * 1000.0) + 1;
        if (ms > 100)
            ms = 100;
        if (ms < 1)
            ms = 1;
        int pr = poll(pf, (nfds_t)n, ms);
        if (pr < 0 && errno != EINTR)
            return lcs_fail_errno(err, "poll on the sandbox's pipes");
        if (pr <= 0)
            continue;
        if (ix_out >= 0 && pf[ix_out].revents) {
            int x = pump(&so, io->limit);
            if (x < 0)
                return lcs_fail_nomem(err);
            if (x > 0 && !killed) {
                mo->output_exceeded = 1;
                kill_sandbox(io);
                killed = 1;
            }
        }
        if (ix_err >= 0 && pf[ix_err].revents) {
            int x = pump(&se, io->limit);
            if (x < 0)
                return lcs_fail_nomem(err);
            if (x > 0 && !killed) {
                mo->output_exceeded = 1;
                kill_sandbox(io);
                killed = 1;
            }
        }
        if (ix_st >= 0 && pf[ix_st].revents) {
            ssize_t k = read(io->status_fd, rec + rec_len, sizeof rec - rec_len);
            if (k > 0) {
                rec_len += (size_t)k;
                size_t used = parse_records(rec, rec_len, mo);
                memmove(rec, rec + used, rec_len - used);
                rec_len -= used;
                if (rec_len == sizeof rec)
                    rec_len = 0; /* garbage: drop it */
            } else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
                close_fd(&io->status_fd);
            }
            if (mo->setup_error[0] && !killed) {
                kill_sandbox(io);
                killed = 1;
            }
        }
        if (ix_in >= 0 && pf[ix_in].revents) {
            if (pf[ix_in].revents & (POLLERR | POLLHUP)) {
                close_fd(&io->stdin_fd);
            } else {
                size_t left = io->stdin_len - stdin_off;
                ssize_t w = left ? send(io->stdin_fd, io->stdin_data + stdin_off, left,
                                        MSG_NOSIGNAL | MSG_DONTWAIT)
                                 : 0;
                if (w > 0)
                    stdin_off += (size_t)w;
                if ((w < 0 && errno != EAGAIN && errno != EINTR) || stdin_off >= io->stdin_len)
                    close_fd(&io->stdin_fd);
            }
        }
        if (ix_pid >= 0 && pf[ix_pid].revents) {
            pid_t w = wait4(io->pid, &init_status, WNOHANG, &ru);
            if (w == io->pid) {
                init_done = 1;
                mo->init_reaped = 1;
                mo->wall_s = lcs_now() - start;
                drain_deadline = lcs_now() + 2.0;
                close_fd(&io->stdin_fd);
                /* Belt and braces: anything still in the cgroup dies now. */
                if (io->cg)
                    lcs_cg_kill(io->cg);
            }
        }
    }
    close_fd(&io->stdin_fd);
    if (mo->reaped != 2)
        mo->wait_status = init_status;
    mo->reaped = 1;
    mo->rusage_cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    mo->rusage_maxrss = (uint64_t)ru.ru_maxrss * 1024u;
    return 0;
}
