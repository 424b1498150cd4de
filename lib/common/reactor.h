/* SPDX-License-Identifier: MIT */
/*
 * The reactor: one thread, one epoll set, its timers, a cross-thread message queue and an
 * io_uring for backend I/O. Everything a reactor owns is touched only from its thread; other
 * threads talk to it with nvmf_reactor_send(). While work is in flight (up to 1 ms after the
 * last event) or for spin_us after the last event, the loop polls without sleeping, like
 * SPDK's reactors; when idle it blocks in epoll_wait so an idle target costs no CPU.
 */
#ifndef NVMF_COMMON_REACTOR_H
#define NVMF_COMMON_REACTOR_H

#include <stdbool.h>
#include <stdint.h>

struct io_uring;
struct io_uring_sqe;
struct nvmf_reactor;

struct nvmf_fd_handler;
/* @events: EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP bits as epoll reported them */
typedef void (*nvmf_fd_cb)(struct nvmf_fd_handler *h, uint32_t events);

/*
 * @poll (optional): read what @fd has ready without asking epoll, as @cb would for EPOLLIN;
 * returns true if it found data. While the reactor polls, it calls the @poll of the handler
 * that last reported input instead of epoll_wait() on most iterations (one system call per
 * message instead of two); every few iterations it still asks epoll about everything else.
 */
struct nvmf_fd_handler {
	int fd;
	uint32_t events;
	nvmf_fd_cb cb;
	bool (*poll)(struct nvmf_fd_handler *h);
};

struct nvmf_timer {
	uint64_t expires_ns; /* CLOCK_MONOTONIC */
	void (*fn)(struct nvmf_timer *t);
	struct nvmf_timer *next;
	bool armed;
};

/* Work run once at the end of the current loop iteration, to batch system calls. */
struct nvmf_deferred {
	struct nvmf_deferred *next;
	void (*fn)(struct nvmf_deferred *d);
	bool queued;
};

/* Completion of one io_uring operation: @res is the CQE result (bytes or -errno). */
struct nvmf_uring_cb {
	void (*fn)(struct nvmf_uring_cb *cb, int res);
};

/**
 * nvmf_now_ns() - CLOCK_MONOTONIC now
 *
 * Return: nanoseconds.
 */
uint64_t nvmf_now_ns(void);

/**
 * nvmf_reactor_create() - make a reactor (no thread yet)
 * @id: index, used in logs
 * @spin_us: microseconds to keep polling after the last event before sleeping, when the
 *	event before it came less than @spin_us earlier too (a lone event does not spin);
 *	0: never spin when idle. Work in flight polls up to 1 ms after the last event.
 *
 * Return: the reactor, or NULL with errno set.
 */
struct nvmf_reactor *nvmf_reactor_create(unsigned int id, unsigned int spin_us);

/**
 * nvmf_reactor_destroy() - free a stopped reactor
 * @r: reactor whose thread has returned (or never started)
 */
void nvmf_reactor_destroy(struct nvmf_reactor *r);

/**
 * nvmf_reactor_set_cpu() - pin the thread nvmf_reactor_start() will create to one CPU
 * @r: reactor not started yet
 * @cpu: CPU number (as in sched_setaffinity(2)), or -1 for no pinning (the default)
 */
void nvmf_reactor_set_cpu(struct nvmf_reactor *r, int cpu);

/**
 * nvmf_reactor_start() - run @r in a new thread
 * @r: reactor
 *
 * Return: 0 or -errno (-EINVAL if the CPU given to nvmf_reactor_set_cpu() is not usable).
 */
int nvmf_reactor_start(struct nvmf_reactor *r);

/**
 * nvmf_reactor_run() - run the loop of @r in the calling thread until nvmf_reactor_stop()
 * @r: reactor
 *
 * The stop request is consumed on return, so the loop may be run again.
 */
void nvmf_reactor_run(struct nvmf_reactor *r);

/**
 * nvmf_reactor_poll_once() - run one iteration of @r's loop in the calling thread
 * @r: reactor that no other thread runs
 * @timeout_ms: longest wait for an event when nothing is pending (0: do not wait, -1: until
 *	the next event or timer)
 *
 * For callers that drive a reactor themselves (a polled host controller) and for waits
 * nested inside the loop (a synchronous command issued from a reactor callback): events,
 * messages, io_uring completions, due timers and deferred work all run.
 * Return: 0 or -errno from epoll_wait.
 */
int nvmf_reactor_poll_once(struct nvmf_reactor *r, int timeout_ms);

/**
 * nvmf_reactor_stop() - ask @r to return from its loop; callable from any thread
 * @r: reactor
 */
void nvmf_reactor_stop(struct nvmf_reactor *r);

/**
 * nvmf_reactor_join() - wait for the thread started by nvmf_reactor_start()
 * @r: reactor
 */
void nvmf_reactor_join(struct nvmf_reactor *r);

/** nvmf_reactor_current() - the reactor running on this thread, or NULL */
struct nvmf_reactor *nvmf_reactor_current(void);

/** nvmf_reactor_id() - the @id given at creation */
unsigned int nvmf_reactor_id(const struct nvmf_reactor *r);

/**
 * nvmf_reactor_fd_add() - watch @h->fd for @events (level-triggered)
 * @r: the calling thread's reactor
 * @h: handler; must stay valid until nvmf_reactor_fd_del()
 * @events: EPOLLIN and/or EPOLLOUT
 *
 * Return: 0 or -errno.
 */
int nvmf_reactor_fd_add(struct nvmf_reactor *r, struct nvmf_fd_handler *h, uint32_t events);
/** nvmf_reactor_fd_mod() - change the watched events; Return: 0 or -errno */
int nvmf_reactor_fd_mod(struct nvmf_reactor *r, struct nvmf_fd_handler *h, uint32_t events);
/** nvmf_reactor_fd_del() - stop watching @h->fd (the fd is not closed) */
void nvmf_reactor_fd_del(struct nvmf_reactor *r, struct nvmf_fd_handler *h);

/**
 * nvmf_timer_arm() - run @t->fn on @r's thread after @delay_ms (re-arms if armed)
 * @r: the calling thread's reactor
 * @t: timer
 * @delay_ms: milliseconds
 */
void nvmf_timer_arm(struct nvmf_reactor *r, struct nvmf_timer *t, uint64_t delay_ms);
/** nvmf_timer_cancel() - disarm @t if armed */
void nvmf_timer_cancel(struct nvmf_reactor *r, struct nvmf_timer *t);

/**
 * nvmf_reactor_send() - run fn(arg) on @r's thread; callable from any thread
 * @r: target reactor
 * @fn: function
 * @arg: its argument
 *
 * Control path only: allocates one message.
 * Return: 0 or -ENOMEM.
 */
int nvmf_reactor_send(struct nvmf_reactor *r, void (*fn)(void *arg), void *arg);

/**
 * nvmf_reactor_defer() - run @d->fn once at the end of this loop iteration
 * @r: the calling thread's reactor
 * @d: work item; queuing it twice in one iteration runs it once
 */
void nvmf_reactor_defer(struct nvmf_reactor *r, struct nvmf_deferred *d);

/**
 * nvmf_reactor_inflight_add() - count work that will complete later (keeps the loop polling)
 * @r: the calling thread's reactor
 * @n: +1 when work starts, -1 when it completes
 *
 * While the count is above zero the loop polls instead of sleeping, for as long as events
 * keep coming: after 1 ms without one it sleeps until an fd, the io_uring or a timer wakes
 * it, so a command the peer holds does not burn a core.
 */
void nvmf_reactor_inflight_add(struct nvmf_reactor *r, int n);

/**
 * nvmf_reactor_get_sqe() - an io_uring SQE on @r's ring, submitted at the end of the iteration
 * @r: the calling thread's reactor
 *
 * The caller must set the SQE's user_data to a struct nvmf_uring_cb * (io_uring_sqe_set_data).
 * Return: the SQE, or NULL if the ring cannot be set up (errno-style failure logged once).
 */
struct io_uring_sqe *nvmf_reactor_get_sqe(struct nvmf_reactor *r);

#endif
