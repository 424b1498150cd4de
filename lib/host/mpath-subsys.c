// SPDX-License-Identifier: MIT
/*
 * Host multipath: the host subsystem (Linux struct nvme_subsystem), its reactor, adding and
 * removing paths, destroying it, what it reports (paths, heads, reference counts), and the
 * public submission and synchronous helpers. Heads, path selection and failover: mpath.c.
 *
 * Threads. Everything here runs on the subsystem's one reactor, so nothing takes a lock:
 * the path controllers are created on it, head I/O completes on it, timers and deferred
 * work run on it. A threaded subsystem's public functions called from another thread travel
 * there as messages (s_call()); the caller waits on s->cond.
 *
 * Nested frames. Synchronous steps of a path controller (associate, namespace scan, ANA log
 * read, teardown) run the reactor nested, so other paths' events and messages run inside
 * them: I/O on one path goes on while another reconnects. Nothing is freed under such a
 * frame: code here never keeps a head or a path namespace across a nested poll, and the
 * operations that free paths or the subsystem (add/remove path, destroy) run only when no
 * frame of the subsystem is open (s_busy()): a message that arrives inside one waits on
 * s->ctl_pending for s->ctl_timer; a caller on the reactor thread (a callback) gets
 * -EDEADLK.
 */
#include "ctrl.h"
#include "mpath-internal.h"
#include "mpath.h"

#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------
 * Running on the reactor
 */

/* The calling thread may touch the subsystem directly. */
static bool s_local(const struct nvmf_host_subsys *s)
{
	return !s->threaded || nvmf_reactor_current() == s->r;
}

/* A frame of the subsystem is open on the reactor's stack (see the top of this file). */
static bool s_busy(const struct nvmf_host_subsys *s)
{
	if (s->in_cb || s->ctl_running)
		return true;
	for (const struct nvmf_host_mpath_path *p = s->paths; p; p = p->next)
		if (p->ctrl->nest || p->ctrl->cb_depth)
			return true;
	return false;
}

struct s_call {
	struct nvmf_host_subsys *s;
	int (*fn)(struct nvmf_host_subsys *s, void *arg);
	void *arg;
	bool exclusive; /* frees or creates paths: only with no frame of the subsystem open */
	bool done;
	int ret;
	struct s_call *next;
};

static void call_run(struct s_call *c)
{
	struct nvmf_host_subsys *s = c->s;
	int ret;

	if (c->exclusive) {
		if (s_busy(s)) {
			c->next = s->ctl_pending;
			s->ctl_pending = c;
			nvmf_timer_arm(s->r, &s->ctl_timer, MPATH_CTL_RETRY_MS);
			return;
		}
		s->ctl_running++;
	}
	ret = c->fn(s, c->arg);
	if (c->exclusive)
		s->ctl_running--;
	/* the last touch of @c: its owner may return as soon as it sees done */
	pthread_mutex_lock(&s->lock);
	c->ret = ret;
	c->done = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void call_on_reactor(void *arg)
{
	call_run(arg);
}

static void ctl_timer_fn(struct nvmf_timer *t)
{
	struct nvmf_host_subsys *s = container_of_field(t, struct nvmf_host_subsys, ctl_timer);
	struct s_call *list = s->ctl_pending, *rev = NULL;

	s->ctl_pending = NULL;
	/* oldest first: the list was built by pushing */
	while (list) {
		struct s_call *next = list->next;

		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		struct s_call *next = rev->next;

		call_run(rev);
		rev = next;
	}
}

/*
 * Run @fn(@s, @arg) on the reactor thread and return its result. @exclusive: it creates or
 * frees paths or heads, so only with no frame of the subsystem open: from a callback on
 * the reactor thread it is refused with -EDEADLK, from another thread it waits its turn.
 */
static int s_call(struct nvmf_host_subsys *s, int (*fn)(struct nvmf_host_subsys *s, void *arg),
		  void *arg, bool exclusive)
{
	struct s_call c = { .s = s, .fn = fn, .arg = arg, .exclusive = exclusive };
	int ret;

	if (s_local(s)) {
		if (exclusive && s_busy(s))
			return -EDEADLK;
		if (exclusive)
			s->ctl_running++;
		ret = fn(s, arg);
		if (exclusive)
			s->ctl_running--;
		return ret;
	}
	ret = nvmf_reactor_send(s->r, call_on_reactor, &c);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&s->lock);
	while (!c.done)
		pthread_cond_wait(&s->cond, &s->lock);
	ret = c.ret;
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* ------------------------------------------------------------------------------------------
 * Subsystem and paths
 */

const char *nvmf_host_iopolicy_name(enum nvmf_host_iopolicy policy)
{
	switch (policy) {
	case NVMF_IOPOLICY_NUMA:
		return "numa";
	case NVMF_IOPOLICY_ROUND_ROBIN:
		return "round-robin";
	case NVMF_IOPOLICY_QUEUE_DEPTH:
		return "queue-depth";
	default:
		return "unknown";
	}
}

int nvmf_host_iopolicy_parse(const char *name)
{
	if (!name)
		return -EINVAL;
	for (int p = NVMF_IOPOLICY_NUMA; p <= NVMF_IOPOLICY_QUEUE_DEPTH; p++)
		if (!strcmp(name, nvmf_host_iopolicy_name((enum nvmf_host_iopolicy)p)))
			return p;
	return -EINVAL;
}

static bool iopolicy_valid(enum nvmf_host_iopolicy policy)
{
	return policy == NVMF_IOPOLICY_NUMA || policy == NVMF_IOPOLICY_ROUND_ROBIN ||
	       policy == NVMF_IOPOLICY_QUEUE_DEPTH;
}

static void subsys_free(struct nvmf_host_subsys *s)
{
	if (s->r)
		nvmf_reactor_destroy(s->r);
	free(s->ios);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
	nvmf_host_live_add(&nvmf_host_live.subsystems, -1);
}

int nvmf_host_subsys_create(const struct nvmf_host_subsys_opts *opts, struct nvmf_host_subsys **out)
{
	struct nvmf_host_subsys *s;
	int ret;

	if (!opts || !out || !opts->subnqn || !*opts->subnqn ||
	    strlen(opts->subnqn) >= NVME_NQN_FIELD_LEN || !iopolicy_valid(opts->iopolicy) ||
	    opts->max_queued > MPATH_MAX_QUEUED_LIMIT)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	nvmf_host_live_add(&nvmf_host_live.subsystems, 1); /* paired with subsys_free() */
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	snprintf(s->subnqn, sizeof(s->subnqn), "%s", opts->subnqn);
	s->iopolicy = opts->iopolicy;
	s->delayed_removal_secs = opts->delayed_removal_secs;
	s->threaded = opts->threaded;
	s->max_queued = opts->max_queued ? opts->max_queued : MPATH_DEFAULT_MAX_QUEUED;
	s->refs = 1; /* the caller's handle, dropped by nvmf_host_subsys_destroy() */
	nvmf_host_mpath_subsys_init(s);
	s->ctl_timer.fn = ctl_timer_fn;
	/* every slot now: the I/O path allocates nothing */
	s->ios = calloc(s->max_queued, sizeof(*s->ios));
	if (!s->ios) {
		subsys_free(s);
		return -ENOMEM;
	}
	for (unsigned int i = s->max_queued; i-- > 0;) {
		s->ios[i].next = s->free_ios;
		s->free_ios = &s->ios[i];
	}
	s->r = nvmf_reactor_create(0, s->threaded ? 50 : 0);
	if (!s->r) {
		ret = -errno;
		subsys_free(s);
		return ret;
	}
	if (s->threaded) {
		ret = nvmf_reactor_start(s->r);
		if (ret) {
			subsys_free(s);
			return ret;
		}
	}
	*out = s;
	return 0;
}

/*
 * Remove path @p, as Linux nvme_do_delete_ctrl(): its namespaces leave their heads first
 * (heads left with no path are removed or their removal becomes pending), then its
 * controller is deleted (head I/O in flight fails over once the transport drained it) and
 * it is freed. No namespace of it is left on a head once its controller is gone.
 */
static void path_destroy(struct nvmf_host_mpath_path *p)
{
	struct nvmf_host_subsys *s = p->s;
	struct nvmf_host_mpath_path **pp;

	uint64_t deadline;

	p->removing = true;
	nvmf_timer_cancel(s->r, &p->anatt_timer);
	nvmf_host_mpath_path_detach(p);
	/*
	 * Head I/O still in flight on a live path finishes there before the shutdown (CC.SHN),
	 * after which the controller would refuse what it had not parsed yet with Command
	 * Sequence Error and DNR, an error no other path would get the chance to retry. Bounded
	 * by the I/O timeout, which ends such a command anyway.
	 */
	deadline = nvmf_now_ns() + (uint64_t)p->ctrl->opts.io_timeout_ms * 1000000u;
	while (p->inflight && nvmf_host_ctrl_get_state(p->ctrl) == NVMF_CTRL_LIVE &&
	       nvmf_now_ns() < deadline)
		nvmf_reactor_poll_once(s->r, 10);
	nvmf_host_ctrl_delete_on(p->ctrl);
	nvmf_timer_cancel(s->r, &p->anatt_timer);
	/* ana_work may have been queued by a failover during the teardown: it sees removing */
	while (p->ana_work.queued)
		nvmf_reactor_poll_once(s->r, 0);
	for (pp = &s->paths; *pp && *pp != p; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = p->next;
	s->nr_paths--;
	s->refs--; /* taken in do_add_path() */
	free(p);
	nvmf_host_mpath_requeue(s);
}

struct add_path_args {
	const struct nvmf_host_opts *opts;
	struct nvmf_host_ctrl *ctrl;
};

static int do_add_path(struct nvmf_host_subsys *s, void *arg)
{
	struct add_path_args *a = arg;
	struct nvmf_host_opts o = *a->opts;
	struct nvmf_host_mpath_path *p;
	struct nvmf_host_ctrl *ctrl;
	char nqn[sizeof(ctrl->id.subnqn) + 1];
	int ret;

	if (s->destroying)
		return -ENOLINK;
	if (o.subnqn && *o.subnqn && strcmp(o.subnqn, s->subnqn))
		return -EINVAL;
	o.subnqn = s->subnqn;
	o.threaded = s->threaded;
	ret = nvmf_host_ctrl_connect_on(&o, s->r, s->threaded, &ctrl);
	if (ret)
		return ret;
	snprintf(nqn, sizeof(nqn), "%.*s", (int)sizeof(ctrl->id.subnqn), ctrl->id.subnqn);
	if (strcmp(nqn, s->subnqn)) {
		nvmf_warn("host %s: the controller reports SUBNQN %s: not a path", s->subnqn, nqn);
		ret = -EINVAL;
		goto out_delete;
	}
	/* Linux multipaths only subsystems that can have several controllers (CMIC bit 1) */
	if (s->paths && (!(ctrl->id.cmic & NVME_CTRL_CMIC_MULTI_CTRL) ||
			 !(s->paths->ctrl->id.cmic & NVME_CTRL_CMIC_MULTI_CTRL))) {
		nvmf_warn("host %s: CMIC 0x%x: no multi-controller subsystem, no second path",
			  s->subnqn, ctrl->id.cmic);
		ret = -EINVAL;
		goto out_delete;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		ret = -ENOMEM;
		goto out_delete;
	}
	p->s = s;
	p->ctrl = ctrl;
	nvmf_host_mpath_path_init(p);
	{
		struct nvmf_host_mpath_path **pp;

		for (pp = &s->paths; *pp; pp = &(*pp)->next)
			;
		*pp = p;
	}
	s->nr_paths++;
	s->refs++; /* dropped in path_destroy() */
	ctrl->mpath = p;
	nvmf_info("host %s: path cntlid %u (%s %s:%s) added", s->subnqn, ctrl->cntlid,
		  ctrl->ops->name, ctrl->traddr, ctrl->trsvcid);
	nvmf_host_mpath_path_sync(p);
	nvmf_host_mpath_anatt_update(p);
	a->ctrl = ctrl;
	return 0;

out_delete:
	nvmf_host_ctrl_delete_on(ctrl);
	return ret;
}

int nvmf_host_subsys_add_path(struct nvmf_host_subsys *s, const struct nvmf_host_opts *opts,
			      struct nvmf_host_ctrl **out)
{
	struct add_path_args a = { .opts = opts };
	int ret;

	if (!s || !opts)
		return -EINVAL;
	ret = s_call(s, do_add_path, &a, true);
	if (!ret && out)
		*out = a.ctrl;
	return ret;
}

static int do_remove_path(struct nvmf_host_subsys *s, void *arg)
{
	struct nvmf_host_mpath_path *p;

	for (p = s->paths; p && p->ctrl != arg; p = p->next)
		;
	if (!p)
		return -ENOENT;
	nvmf_info("host %s: removing path cntlid %u", s->subnqn, p->ctrl->cntlid);
	path_destroy(p);
	return 0;
}

int nvmf_host_subsys_remove_path(struct nvmf_host_subsys *s, struct nvmf_host_ctrl *ctrl)
{
	if (!s || !ctrl)
		return -EINVAL;
	return s_call(s, do_remove_path, ctrl, true);
}

static int do_destroy(struct nvmf_host_subsys *s, void *arg)
{
	(void)arg;
	s->destroying = true;
	while (s->paths)
		path_destroy(s->paths);
	/* heads whose removal was pending: their references go now, once */
	while (s->heads) {
		struct mpath_head *head = s->heads;

		nvmf_host_mpath_removal_cancel(head);
		nvmf_host_mpath_head_remove(head);
	}
	nvmf_timer_cancel(s->r, &s->ana_poll_timer);
	nvmf_timer_cancel(s->r, &s->ctl_timer);
	while (s->requeue_work.queued)
		nvmf_reactor_poll_once(s->r, 0);
	/* control calls from other threads that came during the teardown: refused, not lost */
	while (s->ctl_pending) {
		struct s_call *c = s->ctl_pending;

		s->ctl_pending = c->next;
		pthread_mutex_lock(&s->lock);
		c->ret = -ENODEV;
		c->done = true;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
	}
	return 0;
}

void nvmf_host_subsys_destroy(struct nvmf_host_subsys *s)
{
	int ret;

	if (!s)
		return;
	ret = s_call(s, do_destroy, NULL, true);
	if (ret) {
		/* from a callback: the frames above it still use the subsystem */
		nvmf_err("host %s: nvmf_host_subsys_destroy() from a callback: refused (%s)",
			 s->subnqn, strerror(-ret));
		return;
	}
	if (s->threaded) {
		nvmf_reactor_stop(s->r);
		nvmf_reactor_join(s->r);
	}
	if (s->refs != 1 || s->nr_heads)
		nvmf_err("host %s: destroyed with %u references, %u heads left", s->subnqn, s->refs,
			 s->nr_heads);
	subsys_free(s);
}

int nvmf_host_subsys_poll(struct nvmf_host_subsys *s, int timeout_ms)
{
	if (!s || s->threaded)
		return -EINVAL;
	if (s->in_cb)
		return -EDEADLK;
	return nvmf_reactor_poll_once(s->r, timeout_ms);
}

static int do_set_iopolicy(struct nvmf_host_subsys *s, void *arg)
{
	s->iopolicy = *(const enum nvmf_host_iopolicy *)arg;
	for (struct mpath_head *head = s->heads; head; head = head->next)
		head->current = NULL;
	return 0;
}

int nvmf_host_subsys_set_iopolicy(struct nvmf_host_subsys *s, enum nvmf_host_iopolicy policy)
{
	if (!s || !iopolicy_valid(policy))
		return -EINVAL;
	return s_call(s, do_set_iopolicy, &policy, false);
}

static int do_set_delayed_removal(struct nvmf_host_subsys *s, void *arg)
{
	s->delayed_removal_secs = *(const unsigned int *)arg;
	return 0;
}

int nvmf_host_subsys_set_delayed_removal(struct nvmf_host_subsys *s, unsigned int secs)
{
	if (!s)
		return -EINVAL;
	return s_call(s, do_set_delayed_removal, &secs, false);
}

/* ------------------------------------------------------------------------------------------
 * Information
 */

struct paths_args {
	uint32_t nsid;
	struct nvmf_host_path_info *info;
	size_t max;
	size_t n;
};

static int do_paths(struct nvmf_host_subsys *s, void *arg)
{
	struct paths_args *a = arg;
	struct mpath_head *head = a->nsid ? nvmf_host_mpath_find_head(s, a->nsid) : NULL;

	a->n = 0;
	for (struct nvmf_host_mpath_path *p = s->paths; p; p = p->next, a->n++) {
		struct nvmf_host_path_info *i;
		struct mpath_ns *pns;

		if (a->n >= a->max)
			continue;
		i = &a->info[a->n];
		memset(i, 0, sizeof(*i));
		i->ctrl = p->ctrl;
		i->cntlid = p->ctrl->cntlid;
		snprintf(i->trtype, sizeof(i->trtype), "%s", p->ctrl->ops->name);
		snprintf(i->traddr, sizeof(i->traddr), "%s", p->ctrl->traddr);
		snprintf(i->trsvcid, sizeof(i->trsvcid), "%s", p->ctrl->trsvcid);
		i->state = (enum nvmf_host_ctrl_state)atomic_load(&p->ctrl->state);
		i->inflight = p->inflight;
		i->submitted = p->submitted;
		i->failovers = p->failovers;
		pns = head ? nvmf_host_mpath_head_path(head, p) : NULL;
		if (pns) {
			i->anagrpid = pns->anagrpid;
			i->ana_state = pns->ana_state;
			i->ana_pending = pns->ana_pending;
			i->current = head->current == pns && nvmf_host_mpath_path_usable(pns);
		}
	}
	return 0;
}

size_t nvmf_host_subsys_paths(struct nvmf_host_subsys *s, uint32_t nsid,
			      struct nvmf_host_path_info *info, size_t max)
{
	struct paths_args a = { .nsid = nsid, .info = info, .max = info ? max : 0 };

	if (!s || s_call(s, do_paths, &a, false))
		return 0;
	return a.n;
}

struct heads_args {
	struct nvmf_host_head_info *info;
	size_t max;
	size_t n;
};

static int do_heads(struct nvmf_host_subsys *s, void *arg)
{
	struct heads_args *a = arg;

	a->n = 0;
	for (struct mpath_head *h = s->heads; h; h = h->next, a->n++) {
		struct nvmf_host_head_info *i;

		if (a->n >= a->max)
			continue;
		i = &a->info[a->n];
		memset(i, 0, sizeof(*i));
		i->nsid = h->nsid;
		i->nsze = h->nsze;
		i->lba_shift = h->lba_shift;
		memcpy(i->nguid, h->nguid, sizeof(i->nguid));
		memcpy(i->eui64, h->eui64, sizeof(i->eui64));
		memcpy(i->uuid, h->uuid, sizeof(i->uuid));
		i->nr_paths = h->nr_paths;
		i->nr_queued = h->nr_queued;
		i->removal_pending = h->removal_pending;
		i->refs = h->refs;
	}
	return 0;
}

size_t nvmf_host_subsys_heads(struct nvmf_host_subsys *s, struct nvmf_host_head_info *info,
			      size_t max)
{
	struct heads_args a = { .info = info, .max = info ? max : 0 };

	if (!s || s_call(s, do_heads, &a, false))
		return 0;
	return a.n;
}

static int do_refs(struct nvmf_host_subsys *s, void *arg)
{
	struct nvmf_host_subsys_refs *r = arg;

	memset(r, 0, sizeof(*r));
	r->subsys = s->refs;
	for (struct mpath_head *h = s->heads; h; h = h->next) {
		r->heads++;
		r->head_refs += h->refs;
		r->removals_pending += h->removal_pending;
	}
	return 0;
}

int nvmf_host_subsys_get_refs(struct nvmf_host_subsys *s, struct nvmf_host_subsys_refs *r)
{
	if (!s || !r)
		return -EINVAL;
	return s_call(s, do_refs, r, false);
}

/* ------------------------------------------------------------------------------------------
 * Submission
 */

struct submit_msg {
	struct nvmf_host_subsys *s;
	struct nvme_sqe cmd;
	void *buf;
	uint32_t len;
	nvmf_host_cb cb;
	void *arg;
};

static void submit_on_reactor(void *p)
{
	struct submit_msg *m = p;
	struct nvmf_host_subsys *s = m->s;
	int ret = nvmf_host_mpath_submit_local(s, &m->cmd, m->buf, m->len, m->cb, m->arg);

	/* the caller was told 0: a refusal is its one completion */
	if (ret < 0) {
		s->in_cb++;
		m->cb(m->arg, ret, NULL);
		s->in_cb--;
	}
	free(m);
}

int nvmf_host_mpath_submit_io(struct nvmf_host_subsys *s, const struct nvme_sqe *cmd, void *buf,
			      uint32_t len, nvmf_host_cb cb, void *arg)
{
	struct submit_msg *m;
	int ret;

	if (!s || !cmd || !cb)
		return -EINVAL;
	if (s_local(s))
		return nvmf_host_mpath_submit_local(s, cmd, buf, len, cb, arg);
	/* another thread: hand it over (threaded mode's price: one small message) */
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	*m = (struct submit_msg){ s, *cmd, buf, len, cb, arg };
	ret = nvmf_reactor_send(s->r, submit_on_reactor, m);
	if (ret < 0)
		free(m);
	return ret;
}

/* ------------------------------------------------------------------------------------------
 * Synchronous helpers
 */

struct mpath_wait {
	struct nvmf_host_subsys *s;
	bool done;
	int status;
};

static void wait_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct mpath_wait *w = arg;

	(void)cqe;
	pthread_mutex_lock(&w->s->lock);
	w->status = status;
	w->done = true;
	pthread_cond_broadcast(&w->s->cond);
	pthread_mutex_unlock(&w->s->lock);
}

static int do_lba_shift(struct nvmf_host_subsys *s, void *arg)
{
	const struct mpath_head *head = nvmf_host_mpath_find_head(s, *(const uint32_t *)arg);

	return head ? head->lba_shift : -ENODEV;
}

static int mpath_rw(struct nvmf_host_subsys *s, uint8_t opcode, uint32_t nsid, uint64_t slba,
		    uint32_t nlb, void *buf, uint32_t flags)
{
	struct nvme_sqe c = { .opcode = opcode, .nsid = nsid };
	struct mpath_wait w = { .s = s };
	bool local;
	uint64_t len;
	int shift, ret;

	if (!s || !buf || !nlb || nlb > 0x10000)
		return -EINVAL;
	local = s_local(s);
	/* waiting inside a callback would run the subsystem's work under its own frame */
	if (local && s_busy(s))
		return -EDEADLK;
	shift = s_call(s, do_lba_shift, &nsid, false);
	if (shift < 0)
		return shift;
	len = (uint64_t)nlb << shift;
	if (len > UINT32_MAX)
		return -EINVAL;
	c.cdw10 = (uint32_t)slba;
	c.cdw11 = (uint32_t)(slba >> 32);
	c.cdw12 = (nlb - 1) | flags;
	ret = nvmf_host_mpath_submit_io(s, &c, buf, (uint32_t)len, wait_done, &w);
	if (ret < 0)
		return ret;
	if (local) {
		while (!w.done)
			nvmf_reactor_poll_once(s->r, 10);
	} else {
		pthread_mutex_lock(&s->lock);
		while (!w.done)
			pthread_cond_wait(&s->cond, &s->lock);
		pthread_mutex_unlock(&s->lock);
	}
	return w.status;
}

int nvmf_host_mpath_read(struct nvmf_host_subsys *s, uint32_t nsid, uint64_t slba, uint32_t nlb,
			 void *buf)
{
	return mpath_rw(s, nvme_cmd_read, nsid, slba, nlb, buf, 0);
}

int nvmf_host_mpath_write(struct nvmf_host_subsys *s, uint32_t nsid, uint64_t slba, uint32_t nlb,
			  const void *buf, bool fua)
{
	/* the buffer is only read: the library never writes into an H2C buffer */
	return mpath_rw(s, nvme_cmd_write, nsid, slba, nlb, (void *)buf, fua ? NVME_RW_FUA : 0);
}
