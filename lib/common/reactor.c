// SPDX-License-Identifier: MIT
/* The reactor event loop: epoll + timers + MPSC messages + a lazily created io_uring. */
#include "reactor.h"

#include "cpumask.h"

#include "log.h"

#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define NVMF_REACTOR_URING_DEPTH 512
#define NVMF_REACTOR_MAX_EVENTS 64
/*
 * With work in flight the loop polls, but only while events keep coming: after this long
 * without one (a held command, a slow disk) it blocks until the fd, ring or timer wakes it.
 */
#define NVMF_REACTOR_INFLIGHT_POLL_NS (1000ull * 1000)
/* while polling, epoll_wait() runs on one iteration in this many; the hot handler's poll on
 * the others */
#define NVMF_REACTOR_EPOLL_EVERY 4

struct nvmf_msg {
	struct nvmf_msg *next;
	void (*fn)(void *arg);
	void *arg;
};

struct nvmf_reactor {
	unsigned int id;
	int epfd;
	pthread_t thread;
	bool thread_started;
	int cpu; /* pin the thread to this CPU, or -1 */
	atomic_bool stop;

	/* messages from other threads: a lock-free stack, reversed on pop to keep FIFO order */
	_Atomic(struct nvmf_msg *) msgs;
	atomic_bool sleeping;
	struct nvmf_fd_handler msg_h; /* eventfd */

	struct nvmf_timer *timers; /* sorted by expires_ns */
	struct nvmf_deferred *deferred;
	struct nvmf_deferred **deferred_tail;

	/* the handler that last reported input and has a poll method (see nvmf_fd_handler) */
	struct nvmf_fd_handler *hot;
	unsigned int hot_polls; /* iterations since the last epoll_wait() */

	long inflight;
	bool started; /* work was started since the last iteration: counts as an event */
	uint64_t spin_ns;
	uint64_t last_event_ns;
	uint64_t prev_event_ns; /* the busy iteration before the last one */

	struct io_uring ring;
	bool ring_ready;
	bool ring_failed;
	unsigned int ring_pending;     /* SQEs not yet submitted */
	struct nvmf_fd_handler ring_h; /* eventfd registered with the ring */
};

static __thread struct nvmf_reactor *current_reactor;

uint64_t nvmf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct nvmf_reactor *nvmf_reactor_current(void)
{
	return current_reactor;
}

unsigned int nvmf_reactor_id(const struct nvmf_reactor *r)
{
	return r->id;
}

static void msg_cb(struct nvmf_fd_handler *h, uint32_t events);
static void ring_cb(struct nvmf_fd_handler *h, uint32_t events);

struct nvmf_reactor *nvmf_reactor_create(unsigned int id, unsigned int spin_us)
{
	struct nvmf_reactor *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return NULL;
	r->id = id;
	r->cpu = -1;
	r->spin_ns = (uint64_t)spin_us * 1000;
	r->deferred_tail = &r->deferred;
	r->ring_h.fd = -1;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0)
		goto out_free;
	r->msg_h.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->msg_h.fd < 0)
		goto out_close_ep;
	r->msg_h.cb = msg_cb;
	if (nvmf_reactor_fd_add(r, &r->msg_h, EPOLLIN) < 0)
		goto out_close_ev;
	return r;

out_close_ev:
	err = errno;
	close(r->msg_h.fd);
	errno = err;
out_close_ep:
	err = errno;
	close(r->epfd);
	errno = err;
out_free:
	free(r);
	return NULL;
}

void nvmf_reactor_destroy(struct nvmf_reactor *r)
{
	struct nvmf_msg *m;

	if (!r)
		return;
	if (current_reactor == r)
		current_reactor = NULL;
	m = atomic_exchange(&r->msgs, NULL);
	while (m) {
		struct nvmf_msg *next = m->next;

		free(m);
		m = next;
	}
	if (r->ring_ready) {
		io_uring_queue_exit(&r->ring);
		close(r->ring_h.fd);
	}
	close(r->msg_h.fd);
	close(r->epfd);
	free(r);
}

int nvmf_reactor_fd_add(struct nvmf_reactor *r, struct nvmf_fd_handler *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	h->events = events;
	return epoll_ctl(r->epfd, EPOLL_CTL_ADD, h->fd, &ev) < 0 ? -errno : 0;
}

int nvmf_reactor_fd_mod(struct nvmf_reactor *r, struct nvmf_fd_handler *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	if (h->events == events)
		return 0;
	h->events = events;
	return epoll_ctl(r->epfd, EPOLL_CTL_MOD, h->fd, &ev) < 0 ? -errno : 0;
}

void nvmf_reactor_fd_del(struct nvmf_reactor *r, struct nvmf_fd_handler *h)
{
	if (r->hot == h)
		r->hot = NULL;
	epoll_ctl(r->epfd, EPOLL_CTL_DEL, h->fd, NULL);
}

void nvmf_timer_cancel(struct nvmf_reactor *r, struct nvmf_timer *t)
{
	struct nvmf_timer **pp;

	if (!t->armed)
		return;
	for (pp = &r->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->armed = false;
	t->next = NULL;
}

void nvmf_timer_arm(struct nvmf_reactor *r, struct nvmf_timer *t, uint64_t delay_ms)
{
	struct nvmf_timer **pp;

	nvmf_timer_cancel(r, t);
	t->expires_ns = nvmf_now_ns() + delay_ms * 1000000ull;
	for (pp = &r->timers; *pp && (*pp)->expires_ns <= t->expires_ns; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	t->armed = true;
}

int nvmf_reactor_send(struct nvmf_reactor *r, void (*fn)(void *arg), void *arg)
{
	struct nvmf_msg *m = malloc(sizeof(*m));
	struct nvmf_msg *head;
	uint64_t one = 1;

	if (!m)
		return -ENOMEM;
	m->fn = fn;
	m->arg = arg;
	head = atomic_load_explicit(&r->msgs, memory_order_relaxed);
	do {
		m->next = head;
	} while (!atomic_compare_exchange_weak_explicit(&r->msgs, &head, m, memory_order_release,
							memory_order_relaxed));
	/*
	 * A reactor sending to itself will see the message in this iteration unless it is
	 * about to sleep: skip the system call then. Other senders always signal (control
	 * path only; it keeps the ordering argument trivial).
	 */
	if (atomic_load_explicit(&r->sleeping, memory_order_seq_cst) || r != current_reactor) {
		if (write(r->msg_h.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			nvmf_err("reactor %u: eventfd write: %s", r->id, strerror(errno));
	}
	return 0;
}

static bool run_msgs(struct nvmf_reactor *r)
{
	struct nvmf_msg *m = atomic_exchange_explicit(&r->msgs, NULL, memory_order_acquire);
	struct nvmf_msg *rev = NULL;

	if (!m)
		return false;
	while (m) {
		struct nvmf_msg *next = m->next;

		m->next = rev;
		rev = m;
		m = next;
	}
	while (rev) {
		struct nvmf_msg *next = rev->next;

		rev->fn(rev->arg);
		free(rev);
		rev = next;
	}
	return true;
}

static void msg_cb(struct nvmf_fd_handler *h, uint32_t events)
{
	uint64_t v;

	(void)events;
	if (read(h->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		nvmf_err("reactor: eventfd read: %s", strerror(errno));
}

void nvmf_reactor_defer(struct nvmf_reactor *r, struct nvmf_deferred *d)
{
	if (d->queued)
		return;
	d->queued = true;
	d->next = NULL;
	*r->deferred_tail = d;
	r->deferred_tail = &d->next;
}

void nvmf_reactor_inflight_add(struct nvmf_reactor *r, int n)
{
	r->inflight += n;
	if (n > 0)
		r->started = true;
}

static int ring_setup(struct nvmf_reactor *r)
{
	struct io_uring_params p = { 0 };
	int ret;

	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
	ret = io_uring_queue_init_params(NVMF_REACTOR_URING_DEPTH, &r->ring, &p);
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(NVMF_REACTOR_URING_DEPTH, &r->ring, &p);
	}
	if (ret < 0)
		return ret;
	r->ring_h.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->ring_h.fd < 0) {
		ret = -errno;
		goto out_exit;
	}
	ret = io_uring_register_eventfd(&r->ring, r->ring_h.fd);
	if (ret < 0)
		goto out_close;
	r->ring_h.cb = ring_cb;
	ret = nvmf_reactor_fd_add(r, &r->ring_h, EPOLLIN);
	if (ret < 0)
		goto out_close;
	r->ring_ready = true;
	return 0;

out_close:
	close(r->ring_h.fd);
	r->ring_h.fd = -1;
out_exit:
	io_uring_queue_exit(&r->ring);
	return ret;
}

static void ring_submit(struct nvmf_reactor *r)
{
	int ret;

	if (!r->ring_pending)
		return;
	ret = io_uring_submit(&r->ring);
	if (ret < 0 && ret != -EAGAIN && ret != -EBUSY)
		nvmf_err("reactor %u: io_uring_submit: %s", r->id, strerror(-ret));
	else if (ret > 0)
		r->ring_pending -=
			(unsigned int)ret > r->ring_pending ? r->ring_pending : (unsigned int)ret;
}

struct io_uring_sqe *nvmf_reactor_get_sqe(struct nvmf_reactor *r)
{
	struct io_uring_sqe *sqe;

	if (!r->ring_ready) {
		int ret;

		if (r->ring_failed)
			return NULL;
		ret = ring_setup(r);
		if (ret < 0) {
			nvmf_err("reactor %u: io_uring setup: %s", r->id, strerror(-ret));
			r->ring_failed = true;
			return NULL;
		}
	}
	sqe = io_uring_get_sqe(&r->ring);
	if (!sqe) {
		/* The ring is full: submit what is queued to make room. */
		io_uring_submit(&r->ring);
		r->ring_pending = 0;
		sqe = io_uring_get_sqe(&r->ring);
	}
	if (sqe)
		r->ring_pending++;
	return sqe;
}

static bool ring_reap(struct nvmf_reactor *r)
{
	struct io_uring_cqe *cqes[64];
	unsigned int n, i;
	bool any = false;

	if (!r->ring_ready)
		return false;
	while ((n = io_uring_peek_batch_cqe(&r->ring, cqes, 64)) > 0) {
		for (i = 0; i < n; i++) {
			struct nvmf_uring_cb *cb = io_uring_cqe_get_data(cqes[i]);
			int res = cqes[i]->res;

			io_uring_cqe_seen(&r->ring, cqes[i]);
			if (cb)
				cb->fn(cb, res);
		}
		any = true;
	}
	return any;
}

static void ring_cb(struct nvmf_fd_handler *h, uint32_t events)
{
	uint64_t v;

	(void)events;
	if (read(h->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		nvmf_err("reactor: ring eventfd read: %s", strerror(errno));
}

static bool run_timers(struct nvmf_reactor *r, uint64_t now)
{
	bool any = false;

	while (r->timers && r->timers->expires_ns <= now) {
		struct nvmf_timer *t = r->timers;

		r->timers = t->next;
		t->next = NULL;
		t->armed = false;
		t->fn(t);
		any = true;
	}
	return any;
}

static void run_deferred(struct nvmf_reactor *r)
{
	while (r->deferred) {
		struct nvmf_deferred *d = r->deferred;

		r->deferred = d->next;
		if (!r->deferred)
			r->deferred_tail = &r->deferred;
		d->queued = false;
		d->fn(d);
	}
}

static int wait_timeout_ms(struct nvmf_reactor *r, uint64_t now)
{
	uint64_t delta;

	if (r->deferred || r->ring_pending || r->started)
		return 0;
	if (r->inflight > 0 && now - r->last_event_ns < NVMF_REACTOR_INFLIGHT_POLL_NS)
		return 0;
	/*
	 * Spin only while events come close together: a lone event (a keep-alive every few
	 * seconds) is handled and the loop sleeps again at once, so idle controllers cost
	 * nothing; a stream of commands keeps it polling between them.
	 */
	if (r->spin_ns && now - r->last_event_ns < r->spin_ns &&
	    r->last_event_ns - r->prev_event_ns < r->spin_ns)
		return 0;
	if (!r->timers)
		return -1;
	if (r->timers->expires_ns <= now)
		return 0;
	delta = (r->timers->expires_ns - now + 999999) / 1000000;
	return delta > 60000 ? 60000 : (int)delta;
}

/* One loop iteration; @max_timeout_ms caps the wait (-1: no cap). 0 or -errno. */
static int reactor_iterate(struct nvmf_reactor *r, int max_timeout_ms)
{
	struct epoll_event evs[NVMF_REACTOR_MAX_EVENTS];
	uint64_t now = nvmf_now_ns();
	int timeout = wait_timeout_ms(r, now);
	bool busy = r->started;
	int n, i;

	if (max_timeout_ms >= 0 && (timeout < 0 || timeout > max_timeout_ms))
		timeout = max_timeout_ms;
	if (timeout != 0) {
		atomic_store_explicit(&r->sleeping, true, memory_order_seq_cst);
		/* re-check after announcing sleep: a sender may not have signalled */
		if (atomic_load_explicit(&r->msgs, memory_order_seq_cst))
			timeout = 0;
	}
	r->started = false;
	if (timeout == 0 && r->hot && ++r->hot_polls < NVMF_REACTOR_EPOLL_EVERY) {
		/* polling with one busy connection: read it directly, skip epoll this time */
		n = 0;
		busy |= r->hot->poll(r->hot);
	} else {
		r->hot_polls = 0;
		n = epoll_wait(r->epfd, evs, NVMF_REACTOR_MAX_EVENTS, timeout);
		atomic_store_explicit(&r->sleeping, false, memory_order_relaxed);
	}
	if (n < 0 && errno != EINTR) {
		int err = errno;

		nvmf_err("reactor %u: epoll_wait: %s", r->id, strerror(err));
		return -err;
	}
	for (i = 0; i < n; i++) {
		struct nvmf_fd_handler *h = evs[i].data.ptr;

		if (h->poll && (evs[i].events & EPOLLIN))
			r->hot = h;
		h->cb(h, evs[i].events);
		busy = true;
	}
	busy |= run_msgs(r);
	busy |= ring_reap(r);
	/* a poll that found nothing took well under a microsecond: its clock is still good */
	if (timeout != 0 || busy)
		now = nvmf_now_ns();
	busy |= run_timers(r, now);
	if (r->deferred)
		busy = true;
	run_deferred(r);
	ring_submit(r);
	if (busy) {
		r->prev_event_ns = r->last_event_ns;
		r->last_event_ns = now;
	}
	return 0;
}

int nvmf_reactor_poll_once(struct nvmf_reactor *r, int timeout_ms)
{
	struct nvmf_reactor *prev = current_reactor;
	int ret;

	current_reactor = r;
	ret = reactor_iterate(r, timeout_ms);
	/* exactly as before: a later reactor at the same address must not look current */
	current_reactor = prev;
	return ret;
}

void nvmf_reactor_run(struct nvmf_reactor *r)
{
	current_reactor = r;
	r->last_event_ns = nvmf_now_ns();
	while (!atomic_load_explicit(&r->stop, memory_order_acquire)) {
		if (reactor_iterate(r, -1) < 0)
			break;
	}
	/* drain messages so senders' work items are not leaked */
	run_msgs(r);
	run_deferred(r);
	current_reactor = NULL;
	/* consumed: the loop may be run again (tests drive one operation per run) */
	atomic_store_explicit(&r->stop, false, memory_order_relaxed);
}

static void *reactor_thread(void *arg)
{
	nvmf_reactor_run(arg);
	return NULL;
}

void nvmf_reactor_set_cpu(struct nvmf_reactor *r, int cpu)
{
	r->cpu = cpu;
}

int nvmf_reactor_start(struct nvmf_reactor *r)
{
	int ret = nvmf_thread_create_pinned(&r->thread, r->cpu, reactor_thread, r);

	if (ret)
		return ret;
	r->thread_started = true;
	return 0;
}

void nvmf_reactor_stop(struct nvmf_reactor *r)
{
	uint64_t one = 1;

	atomic_store_explicit(&r->stop, true, memory_order_release);
	if (write(r->msg_h.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		nvmf_err("reactor %u: eventfd write: %s", r->id, strerror(errno));
}

void nvmf_reactor_join(struct nvmf_reactor *r)
{
	if (r->thread_started) {
		pthread_join(r->thread, NULL);
		r->thread_started = false;
	}
}
