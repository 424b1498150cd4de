// SPDX-License-Identifier: MIT
/*
 * Host multipath, after Linux drivers/nvme/host/multipath.c (NVMe Base 2.0c 8.1, Asymmetric
 * Namespace Access): a host subsystem and its paths (controllers), namespace heads joining
 * the same namespace seen through several paths, path selection by I/O policy, failover of
 * head I/O through the requeue list, ANA log re-reads and ANATT, delayed head removal with
 * balanced references (seed 001). This file: heads, path selection, head I/O and its
 * failover, ANA; mpath-subsys.c: the subsystem, its paths and the public functions.
 *
 * Head I/O. A head I/O takes a slot, picks a path (find_path()) and is sent there with
 * nvmf_host_submit_mpath(): a path controller never parks or resends it. A path error
 * (-ENOLINK, -ETIMEDOUT, SCT 3h without DNR) puts it on its head's requeue list (failover());
 * an ANA status also marks that path's namespace ANA-pending and re-reads the path's ANA log
 * (ana_work, deferred: never inside a transport's receive path). The requeue work sends
 * queued I/O again through path selection when a path controller goes LIVE, an ANA log read
 * changes a state, a path is added or a pending removal is cancelled. A head I/O fails over
 * at most MPATH_MAX_FAILOVERS times, then completes with its last status: a target that
 * answers every attempt with a path error (say ANA Inaccessible while its ANA log says
 * optimized) cannot keep an I/O going round forever.
 */
#include "ctrl.h"
#include "mpath-internal.h"
#include "mpath.h"

#include "common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void nvmf_host_mpath_requeue(struct nvmf_host_subsys *s)
{
	nvmf_reactor_defer(s->r, &s->requeue_work);
}

/* ------------------------------------------------------------------------------------------
 * Path state
 */

static bool ana_usable(uint8_t state)
{
	return state == NVME_ANA_OPTIMIZED || state == NVME_ANA_NONOPTIMIZED;
}

static bool ctrl_has_ana(const struct nvmf_host_ctrl *ctrl)
{
	return !!(ctrl->id.cmic & NVME_CTRL_CMIC_ANA);
}

/* Linux !nvme_path_is_disabled() and a usable ANA state */
bool nvmf_host_mpath_path_usable(const struct mpath_ns *pns)
{
	const struct nvmf_host_mpath_path *p = pns->path;

	return !p->removing && atomic_load(&p->ctrl->state) == NVMF_CTRL_LIVE &&
	       !pns->ana_pending && ana_usable(pns->ana_state);
}

/*
 * Linux nvme_available_path(): a path controller that may come back (LIVE, RESETTING,
 * CONNECTING, fast_io_fail_tmo not expired), or delayed removal configured (Linux
 * NVME_NSHEAD_QUEUE_IF_NO_PATH): then I/O waits for a path rather than failing.
 */
static bool available_path(const struct mpath_head *head)
{
	const struct nvmf_host_subsys *s = head->s;

	if (head->gone || s->destroying)
		return false;
	for (const struct mpath_ns *pns = head->paths; pns; pns = pns->sibling) {
		const struct nvmf_host_ctrl *ctrl = pns->path->ctrl;

		if (pns->path->removing || ctrl->fail_fast)
			continue;
		switch (atomic_load(&ctrl->state)) {
		case NVMF_CTRL_LIVE:
		case NVMF_CTRL_RESETTING:
		case NVMF_CTRL_CONNECTING:
			return true;
		default:
			break;
		}
	}
	return head->removal_pending || s->delayed_removal_secs > 0;
}

/* Linux __nvme_find_path(): the first optimized path, else the first non-optimized one. */
static struct mpath_ns *find_first_path(struct mpath_head *head)
{
	struct mpath_ns *fallback = NULL;

	for (struct mpath_ns *pns = head->paths; pns; pns = pns->sibling) {
		if (!nvmf_host_mpath_path_usable(pns))
			continue;
		if (pns->ana_state == NVME_ANA_OPTIMIZED) {
			head->current = pns;
			return pns;
		}
		if (!fallback)
			fallback = pns;
	}
	if (fallback)
		head->current = fallback;
	return fallback;
}

static struct mpath_ns *next_sibling(struct mpath_head *head, struct mpath_ns *pns)
{
	return pns->sibling ? pns->sibling : head->paths;
}

/* Linux nvme_round_robin_path(): the next usable path after @old, optimized first. */
static struct mpath_ns *round_robin_path(struct mpath_head *head, struct mpath_ns *old)
{
	struct mpath_ns *found = NULL;

	if (head->nr_paths == 1)
		return nvmf_host_mpath_path_usable(old) ? old : NULL;
	for (struct mpath_ns *pns = next_sibling(head, old); pns != old;
	     pns = next_sibling(head, pns)) {
		if (!nvmf_host_mpath_path_usable(pns))
			continue;
		if (pns->ana_state == NVME_ANA_OPTIMIZED) {
			head->current = pns;
			return pns;
		}
		if (!found)
			found = pns;
	}
	/* no other optimized path: stay on @old if it is optimized, or the only usable one */
	if (nvmf_host_mpath_path_usable(old) &&
	    (old->ana_state == NVME_ANA_OPTIMIZED ||
	     (!found && old->ana_state == NVME_ANA_NONOPTIMIZED)))
		return old;
	if (found)
		head->current = found;
	return found;
}

/* Linux nvme_queue_depth_path(): the fewest head I/Os in flight, optimized paths first. */
static struct mpath_ns *queue_depth_path(struct mpath_head *head)
{
	struct mpath_ns *best_opt = NULL, *best_nonopt = NULL;

	for (struct mpath_ns *pns = head->paths; pns; pns = pns->sibling) {
		uint64_t depth = pns->path->inflight;

		if (!nvmf_host_mpath_path_usable(pns))
			continue;
		if (pns->ana_state == NVME_ANA_OPTIMIZED) {
			if (!best_opt || depth < best_opt->path->inflight)
				best_opt = pns;
			if (!depth)
				break;
		} else if (!best_nonopt || depth < best_nonopt->path->inflight) {
			best_nonopt = pns;
		}
	}
	head->current = best_opt ? best_opt : best_nonopt;
	return head->current;
}

/* Linux nvme_find_path() */
static struct mpath_ns *find_path(struct mpath_head *head)
{
	struct mpath_ns *cur = head->current;

	switch (head->s->iopolicy) {
	case NVMF_IOPOLICY_ROUND_ROBIN:
		return cur ? round_robin_path(head, cur) : find_first_path(head);
	case NVMF_IOPOLICY_QUEUE_DEPTH:
		return queue_depth_path(head);
	case NVMF_IOPOLICY_NUMA:
	default:
		if (cur && nvmf_host_mpath_path_usable(cur) && cur->ana_state == NVME_ANA_OPTIMIZED)
			return cur;
		return find_first_path(head);
	}
}

struct mpath_ns *nvmf_host_mpath_head_path(struct mpath_head *head,
					   const struct nvmf_host_mpath_path *p)
{
	for (struct mpath_ns *pns = head->paths; pns; pns = pns->sibling)
		if (pns->path == p)
			return pns;
	return NULL;
}

/* ------------------------------------------------------------------------------------------
 * Head I/O
 */

static void io_put(struct nvmf_host_subsys *s, struct mpath_io *io)
{
	io->state = MPATH_IO_FREE;
	io->head = NULL;
	io->path = NULL;
	io->cb = NULL;
	io->next = s->free_ios;
	s->free_ios = io;
}

/* The slot is free first: the callback may submit again. */
static void io_complete(struct nvmf_host_subsys *s, struct mpath_io *io, int status,
			const struct nvme_cqe *cqe)
{
	nvmf_host_cb cb = io->cb;
	void *arg = io->arg;

	io_put(s, io);
	s->in_cb++;
	cb(arg, status, cqe);
	s->in_cb--;
}

static void head_free(struct mpath_head *head)
{
	nvmf_timer_cancel(head->s->r, &head->remove_timer);
	free(head);
	nvmf_host_live_add(&nvmf_host_live.ns_heads, -1); /* paired with head_alloc() */
}

static void head_maybe_free(struct mpath_head *head)
{
	if (head->gone && !head->inflight && !head->rq_head)
		head_free(head);
}

static void enqueue(struct mpath_head *head, struct mpath_io *io)
{
	struct nvmf_host_subsys *s = head->s;

	io->state = MPATH_IO_QUEUED;
	io->next = NULL;
	*head->rq_tail = io;
	head->rq_tail = &io->next;
	head->nr_queued++;
	if (!s->ana_poll_timer.armed)
		nvmf_timer_arm(s->r, &s->ana_poll_timer, MPATH_ANA_POLL_MS);
}

static void io_done(void *arg, int status, const struct nvme_cqe *cqe);

/* Send @io on path namespace @pns, on the path's next I/O queue with a free tag. */
static int send_on(struct mpath_io *io, struct mpath_ns *pns)
{
	struct nvmf_host_mpath_path *p = pns->path;
	struct nvmf_host_ctrl *ctrl = p->ctrl;
	unsigned int nq = ctrl->nr_io_queues;
	unsigned int qi = 0;
	int ret = -ENOLINK;

	/* counted before the send: a transport may complete it before returning */
	io->path = p;
	io->state = MPATH_IO_INFLIGHT;
	p->inflight++;
	io->head->inflight++;
	for (unsigned int i = 0; i < nq; i++) {
		qi = (p->next_q + i) % nq;
		ret = nvmf_host_submit_mpath(ctrl, (uint16_t)(qi + 1), &io->cmd, io->buf, io->len,
					     io_done, io);
		if (ret != -EAGAIN)
			break;
	}
	if (ret) {
		io->path = NULL;
		p->inflight--;
		io->head->inflight--;
		return ret;
	}
	p->next_q = nq ? (qi + 1) % nq : 0;
	p->submitted++;
	return 0;
}

enum dispatch_result {
	DISPATCH_SENT = 0,
	DISPATCH_WAIT = 1, /* no usable path now, but one may come: requeue */
	DISPATCH_FULL = 2, /* usable paths, every I/O queue of them full */
};

/*
 * Send @io on the path the policy picks; if that one is full (or refuses it), on the other
 * usable paths of the same ANA state. Return: enum dispatch_result, or -ENOLINK (no path
 * and none that could come back: fail it).
 */
static int dispatch(struct mpath_io *io)
{
	struct mpath_head *head = io->head;
	struct mpath_ns *pns;
	bool full = false;
	int ret;

	if (head->gone || head->s->destroying)
		return -ENOLINK;
	pns = find_path(head);
	if (pns) {
		ret = send_on(io, pns);
		if (!ret)
			return DISPATCH_SENT;
		full |= ret == -EAGAIN;
		for (struct mpath_ns *o = head->paths; o; o = o->sibling) {
			if (o == pns || !nvmf_host_mpath_path_usable(o) ||
			    o->ana_state != pns->ana_state)
				continue;
			ret = send_on(io, o);
			if (!ret)
				return DISPATCH_SENT;
			full |= ret == -EAGAIN;
		}
	}
	if (full)
		return DISPATCH_FULL;
	return available_path(head) ? DISPATCH_WAIT : -ENOLINK;
}

/* Path related status (SCT 3h) without DNR, or the association broke or timed out. */
static bool is_path_error(int status)
{
	if (status < 0)
		return status == -ENOLINK || status == -ETIMEDOUT;
	return (status & NVME_SCT_MASK) == NVME_SCT_PATH && !(status & NVME_STATUS_DNR);
}

static bool is_ana_error(int status)
{
	switch (status & 0x7ff) {
	case NVME_SC_ANA_PERSISTENT_LOSS:
	case NVME_SC_ANA_INACCESSIBLE:
	case NVME_SC_ANA_TRANSITION:
		return status > 0;
	default:
		return false;
	}
}

/* Linux nvme_failover_req() */
static void failover(struct mpath_io *io, struct nvmf_host_mpath_path *p, int status)
{
	struct mpath_head *head = io->head;
	struct nvmf_host_subsys *s = head->s;
	struct mpath_ns *pns = nvmf_host_mpath_head_path(head, p);

	io->failovers++;
	p->failovers++;
	if (pns) {
		if (head->current == pns)
			head->current = NULL;
		/* the controller is alive but not serving this namespace: read its ANA log */
		if (is_ana_error(status) && ctrl_has_ana(p->ctrl)) {
			pns->ana_pending = true;
			nvmf_reactor_defer(s->r, &p->ana_work);
		}
	}
	enqueue(head, io);
	nvmf_host_mpath_requeue(s);
}

/* A head I/O finished on its path. */
static void io_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct mpath_io *io = arg;
	struct nvmf_host_mpath_path *p = io->path;
	struct mpath_head *head = io->head;
	struct nvmf_host_subsys *s = head->s;

	io->path = NULL;
	p->inflight--;
	head->inflight--;
	if (is_path_error(status) && !head->gone && !s->destroying) {
		if (io->failovers < MPATH_MAX_FAILOVERS) {
			failover(io, p, status);
			return;
		}
		nvmf_warn("host %s: nsid %u: I/O failed on every attempt (%u failovers), last "
			  "status %s0x%x",
			  s->subnqn, head->nsid, io->failovers, status < 0 ? "-" : "",
			  (unsigned int)(status < 0 ? -status : status));
	}
	if (s->wait_tags) {
		s->wait_tags = false;
		nvmf_host_mpath_requeue(s);
	}
	io_complete(s, io, status, cqe);
	head_maybe_free(head);
}

/* Linux nvme_requeue_work(): every queued head I/O goes through path selection again. */
static void requeue_work(struct nvmf_deferred *d)
{
	struct nvmf_host_subsys *s = container_of_field(d, struct nvmf_host_subsys, requeue_work);

	s->wait_tags = false;
	for (struct mpath_head *head = s->heads; head; head = head->next) {
		struct mpath_io *list = head->rq_head, *keep = NULL, **keep_tail = &keep;
		unsigned int kept = 0;

		if (!list)
			continue;
		head->rq_head = NULL;
		head->rq_tail = &head->rq_head;
		head->nr_queued = 0;
		while (list) {
			struct mpath_io *io = list;
			int ret;

			list = io->next;
			io->next = NULL;
			ret = dispatch(io);
			if (ret == DISPATCH_SENT)
				continue;
			if (ret < 0) {
				io_complete(s, io, ret, NULL);
				continue;
			}
			if (ret == DISPATCH_FULL)
				s->wait_tags = true;
			*keep_tail = io;
			keep_tail = &io->next;
			kept++;
		}
		/* what waits again goes before what callbacks queued meanwhile */
		if (keep) {
			*keep_tail = head->rq_head;
			if (!head->rq_head)
				head->rq_tail = keep_tail;
			head->rq_head = keep;
			head->nr_queued += kept;
		}
	}
}

/* Fail every queued I/O of @head with -ENOLINK. */
static void fail_queued(struct mpath_head *head)
{
	struct mpath_io *list = head->rq_head;

	head->rq_head = NULL;
	head->rq_tail = &head->rq_head;
	head->nr_queued = 0;
	while (list) {
		struct mpath_io *io = list;

		list = io->next;
		io_complete(head->s, io, -ENOLINK, NULL);
	}
}

/* ------------------------------------------------------------------------------------------
 * Heads: joining, leaving, removal (Linux nvme_init_ns_head(), nvme_mpath_remove_disk())
 */

struct mpath_head *nvmf_host_mpath_find_head(const struct nvmf_host_subsys *s, uint32_t nsid)
{
	for (struct mpath_head *h = s->heads; h && h->nsid <= nsid; h = h->next)
		if (h->nsid == nsid)
			return h;
	return NULL;
}

static void remove_timer_fn(struct nvmf_timer *t);

static struct mpath_head *head_alloc(struct nvmf_host_subsys *s, const struct nvmf_host_ns *ns)
{
	struct mpath_head *head = calloc(1, sizeof(*head));
	struct mpath_head **pp;

	if (!head)
		return NULL;
	nvmf_host_live_add(&nvmf_host_live.ns_heads, 1); /* paired with head_free() */
	head->s = s;
	head->nsid = ns->info.nsid;
	head->nsze = ns->info.nsze;
	head->lba_shift = ns->info.lba_shift;
	memcpy(head->nguid, ns->nguid, sizeof(head->nguid));
	memcpy(head->eui64, ns->eui64, sizeof(head->eui64));
	memcpy(head->uuid, ns->uuid, sizeof(head->uuid));
	head->rq_tail = &head->rq_head;
	head->remove_timer.fn = remove_timer_fn;
	for (pp = &s->heads; *pp && (*pp)->nsid < head->nsid; pp = &(*pp)->next)
		;
	head->next = *pp;
	*pp = head;
	s->nr_heads++;
	return head;
}

/* Take @head off the subsystem: its queued I/O fails, it is freed once nothing is in flight. */
void nvmf_host_mpath_head_remove(struct mpath_head *head)
{
	struct nvmf_host_subsys *s = head->s;
	struct mpath_head **pp;

	for (pp = &s->heads; *pp && *pp != head; pp = &(*pp)->next)
		;
	if (*pp) {
		*pp = head->next;
		s->nr_heads--;
	}
	head->gone = true;
	nvmf_timer_cancel(s->r, &head->remove_timer);
	nvmf_info("host %s: namespace head %u removed", s->subnqn, head->nsid);
	fail_queued(head);
	head_maybe_free(head);
}

/*
 * The references a pending removal holds (one on the head, one on the subsystem: Linux's
 * module reference) are taken in head_no_path() and dropped exactly once: here when a path
 * comes back first (Linux "put module reference when delayed removal work is canceled",
 * seed 001), or in remove_timer_fn() when the delay runs out.
 */
void nvmf_host_mpath_removal_cancel(struct mpath_head *head)
{
	struct nvmf_host_subsys *s = head->s;

	if (!head->removal_pending)
		return;
	nvmf_timer_cancel(s->r, &head->remove_timer);
	head->removal_pending = false;
	head->refs--;
	s->refs--;
	nvmf_info("host %s: namespace head %u: a path is back, removal cancelled", s->subnqn,
		  head->nsid);
	nvmf_host_mpath_requeue(s);
}

static void remove_timer_fn(struct nvmf_timer *t)
{
	struct mpath_head *head = container_of_field(t, struct mpath_head, remove_timer);
	struct nvmf_host_subsys *s = head->s;

	if (!head->removal_pending)
		return;
	head->removal_pending = false;
	head->refs--;
	s->refs--;
	if (!head->nr_paths)
		nvmf_host_mpath_head_remove(head);
}

/* Linux nvme_mpath_remove_disk(): the last path of @head went away. */
static void head_no_path(struct mpath_head *head)
{
	struct nvmf_host_subsys *s = head->s;

	if (!s->delayed_removal_secs || s->destroying) {
		nvmf_host_mpath_head_remove(head);
		return;
	}
	if (!head->removal_pending) {
		head->removal_pending = true;
		head->refs++; /* dropped in nvmf_host_mpath_removal_cancel() or remove_timer_fn() */
		s->refs++;
	}
	nvmf_info("host %s: namespace head %u has no path: removed in %u s unless one comes back",
		  s->subnqn, head->nsid, s->delayed_removal_secs);
	nvmf_timer_arm(s->r, &head->remove_timer, (uint64_t)s->delayed_removal_secs * 1000);
}

/* @pns leaves its head and its path, and is freed. */
static void head_drop_path(struct mpath_ns *pns)
{
	struct mpath_head *head = pns->head;
	struct nvmf_host_mpath_path *p = pns->path;
	struct mpath_ns **pp;

	for (pp = &p->ns; *pp && *pp != pns; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = pns->next;
	for (pp = &head->paths; *pp && *pp != pns; pp = &(*pp)->sibling)
		;
	if (*pp)
		*pp = pns->sibling;
	head->nr_paths--;
	head->refs--;
	if (head->current == pns)
		head->current = NULL;
	free(pns);
	if (!head->nr_paths)
		head_no_path(head);
	else
		nvmf_host_mpath_requeue(
			head->s); /* queued I/O may have lost its last available path */
}

static bool ids_equal(const struct mpath_head *head, const struct nvmf_host_ns *ns)
{
	return !memcmp(head->nguid, ns->nguid, sizeof(head->nguid)) &&
	       !memcmp(head->eui64, ns->eui64, sizeof(head->eui64)) &&
	       !memcmp(head->uuid, ns->uuid, sizeof(head->uuid));
}

static const struct nvmf_host_ns *ctrl_ns(const struct nvmf_host_ctrl *ctrl, uint32_t nsid)
{
	for (size_t i = 0; i < ctrl->nr_ns; i++)
		if (ctrl->ns[i].info.nsid == nsid)
			return &ctrl->ns[i];
	return NULL;
}

static uint8_t ns_ana_state(const struct nvmf_host_ctrl *ctrl, const struct nvmf_host_ns *ns)
{
	/* no ANA reporting (CMIC.ANA 0): every path is as good as optimized */
	return ctrl_has_ana(ctrl) ? ns->info.ana_state : NVME_ANA_OPTIMIZED;
}

/* Namespace @ns of path @p joins the head with its NSID and identifiers, or a new one. */
static void head_attach(struct nvmf_host_mpath_path *p, const struct nvmf_host_ns *ns)
{
	struct nvmf_host_subsys *s = p->s;
	struct mpath_head *head = nvmf_host_mpath_find_head(s, ns->info.nsid);
	struct mpath_ns *pns, **pp;
	bool fresh = false;

	if (head) {
		if (!ids_equal(head, ns) || head->lba_shift != ns->info.lba_shift) {
			nvmf_warn("host %s: nsid %u through cntlid %u: other identifiers or LBA "
				  "size than its namespace head: left out",
				  s->subnqn, ns->info.nsid, p->ctrl->cntlid);
			return;
		}
		if (head->nr_paths && !ns->shared) {
			nvmf_warn(
				"host %s: nsid %u through cntlid %u: a second path to a namespace "
				"that is not shared (NMIC 0): left out",
				s->subnqn, ns->info.nsid, p->ctrl->cntlid);
			return;
		}
	} else {
		head = head_alloc(s, ns);
		if (!head) {
			nvmf_err("host %s: nsid %u: no memory for a namespace head", s->subnqn,
				 ns->info.nsid);
			return;
		}
		fresh = true;
	}
	pns = calloc(1, sizeof(*pns));
	if (!pns) {
		nvmf_err("host %s: nsid %u: no memory for a path", s->subnqn, ns->info.nsid);
		if (fresh)
			nvmf_host_mpath_head_remove(head);
		return;
	}
	pns->head = head;
	pns->path = p;
	pns->nsid = ns->info.nsid;
	pns->anagrpid = ns->info.anagrpid;
	pns->ana_state = ns_ana_state(p->ctrl, ns);
	for (pp = &head->paths; *pp; pp = &(*pp)->sibling)
		;
	*pp = pns;
	pns->next = p->ns;
	p->ns = pns;
	head->nr_paths++;
	head->refs++; /* dropped in head_drop_path() */
	head->nsze = ns->info.nsze;
	nvmf_host_mpath_removal_cancel(head);
}

/* Every namespace of @p leaves its head (the path is going or its controller is DEAD). */
void nvmf_host_mpath_path_detach(struct nvmf_host_mpath_path *p)
{
	while (p->ns)
		head_drop_path(p->ns);
}

/* The ANA states of @p's namespaces from its controller's last ANA log read. */
static void path_ana_update(struct nvmf_host_mpath_path *p)
{
	struct nvmf_host_ctrl *ctrl = p->ctrl;
	bool changed = false;

	for (struct mpath_ns *pns = p->ns; pns; pns = pns->next) {
		const struct nvmf_host_ns *ns = ctrl_ns(ctrl, pns->nsid);
		uint8_t state;

		if (!ns)
			continue;
		state = ns_ana_state(ctrl, ns);
		if (state != pns->ana_state || pns->ana_pending) {
			nvmf_debug("host %s: nsid %u through cntlid %u: ANA state 0x%x -> 0x%x",
				   p->s->subnqn, pns->nsid, ctrl->cntlid, pns->ana_state, state);
			changed = true;
		}
		pns->ana_state = state;
		pns->anagrpid = ns->info.anagrpid;
		pns->ana_pending = false;
	}
	if (changed)
		nvmf_host_mpath_requeue(p->s);
}

/* Namespaces of @p leave (gone, or other identifiers now) and join (new) their heads. */
void nvmf_host_mpath_path_sync(struct nvmf_host_mpath_path *p)
{
	struct nvmf_host_ctrl *ctrl = p->ctrl;
	struct mpath_ns *pns = p->ns;

	while (pns) {
		struct mpath_ns *next = pns->next;
		const struct nvmf_host_ns *ns = ctrl_ns(ctrl, pns->nsid);

		if (!ns || !ids_equal(pns->head, ns) || pns->head->lba_shift != ns->info.lba_shift)
			head_drop_path(pns);
		else
			pns->head->nsze = ns->info.nsze;
		pns = next;
	}
	for (size_t i = 0; i < ctrl->nr_ns; i++) {
		bool have = false;

		for (pns = p->ns; pns && !have; pns = pns->next)
			have = pns->nsid == ctrl->ns[i].info.nsid;
		if (!have)
			head_attach(p, &ctrl->ns[i]);
	}
	path_ana_update(p);
	nvmf_host_mpath_requeue(p->s);
}

/* ------------------------------------------------------------------------------------------
 * ANA: re-read after an ANA status, ANATT, and the poll while I/O waits
 */

static void ana_work_fn(struct nvmf_deferred *d)
{
	struct nvmf_host_mpath_path *p =
		container_of_field(d, struct nvmf_host_mpath_path, ana_work);

	/* checked before the controller is touched: it may be gone (path_destroy()) */
	if (p->removing || atomic_load(&p->ctrl->state) != NVMF_CTRL_LIVE)
		return;
	nvmf_host_read_ana(p->ctrl); /* runs nvmf_host_mpath_ana_read() on success */
}

/* Linux nvme_anatt_timeout(): a group stayed in change too long: reset the controller. */
static void anatt_timer_fn(struct nvmf_timer *t)
{
	struct nvmf_host_mpath_path *p =
		container_of_field(t, struct nvmf_host_mpath_path, anatt_timer);

	if (p->removing || atomic_load(&p->ctrl->state) != NVMF_CTRL_LIVE)
		return;
	nvmf_warn("host %s: cntlid %u: ANA group in change longer than ANATT (%u s): resetting",
		  p->s->subnqn, p->ctrl->cntlid, p->ctrl->id.anatt);
	nvmf_host_start_reset(p->ctrl);
}

/*
 * As Linux, twice ANATT for the slack of event delivery, one timer per controller for all
 * its groups. Unlike Linux's mod_timer() it is not pushed back by every read that still
 * shows a group in change (the ANA poll reads often): it runs from the first one.
 */
void nvmf_host_mpath_anatt_update(struct nvmf_host_mpath_path *p)
{
	struct nvmf_host_ctrl *ctrl = p->ctrl;
	uint64_t anatt_s = ctrl->id.anatt ? ctrl->id.anatt : 1;

	if (!ctrl->ana_nr_change)
		nvmf_timer_cancel(p->s->r, &p->anatt_timer);
	else if (!p->anatt_timer.armed)
		nvmf_timer_arm(p->s->r, &p->anatt_timer, anatt_s * 2 * 1000);
}

static void ana_poll_fn(struct nvmf_timer *t)
{
	struct nvmf_host_subsys *s = container_of_field(t, struct nvmf_host_subsys, ana_poll_timer);
	bool waiting = false;

	for (struct mpath_head *head = s->heads; head; head = head->next) {
		if (!head->rq_head)
			continue;
		waiting = true;
		for (struct mpath_ns *pns = head->paths; pns; pns = pns->sibling) {
			struct nvmf_host_mpath_path *p = pns->path;

			if (p->removing || atomic_load(&p->ctrl->state) != NVMF_CTRL_LIVE ||
			    !ctrl_has_ana(p->ctrl))
				continue;
			if (pns->ana_pending || !ana_usable(pns->ana_state))
				nvmf_reactor_defer(s->r, &p->ana_work);
		}
	}
	if (waiting)
		nvmf_timer_arm(s->r, t, MPATH_ANA_POLL_MS);
}

/* ------------------------------------------------------------------------------------------
 * Hooks from the controller core (mpath.h)
 */

void nvmf_host_mpath_ctrl_state(struct nvmf_host_ctrl *ctrl, int old, int state)
{
	struct nvmf_host_mpath_path *p = ctrl->mpath;

	(void)old;
	switch (state) {
	case NVMF_CTRL_LIVE:
		/* Linux nvme_mpath_set_live() / nvme_kick_requeue_lists() */
		nvmf_host_mpath_requeue(p->s);
		break;
	case NVMF_CTRL_RESETTING:
		/* Linux nvme_mpath_stop(); the reconnect's ANA read arms it again if needed */
		nvmf_timer_cancel(p->s->r, &p->anatt_timer);
		for (struct mpath_ns *pns = p->ns; pns; pns = pns->next)
			if (pns->head->current == pns)
				pns->head->current = NULL;
		break;
	case NVMF_CTRL_DEAD:
		/* ctrl_loss_tmo, a refused reconnect, or a delete: as if the path was removed */
		nvmf_timer_cancel(p->s->r, &p->anatt_timer);
		nvmf_host_mpath_path_detach(p);
		nvmf_host_mpath_requeue(p->s);
		break;
	default:
		break;
	}
}

void nvmf_host_mpath_scanned(struct nvmf_host_ctrl *ctrl)
{
	nvmf_host_mpath_path_sync(ctrl->mpath);
}

void nvmf_host_mpath_ana_read(struct nvmf_host_ctrl *ctrl)
{
	struct nvmf_host_mpath_path *p = ctrl->mpath;

	path_ana_update(p);
	if (!p->removing)
		nvmf_host_mpath_anatt_update(p);
}

void nvmf_host_mpath_kick(struct nvmf_host_ctrl *ctrl)
{
	nvmf_host_mpath_requeue(ctrl->mpath->s);
}

bool nvmf_host_mpath_in_cb(struct nvmf_host_ctrl *ctrl)
{
	const struct nvmf_host_subsys *s = ctrl->mpath->s;

	if (s->in_cb)
		return true;
	/* the paths share one reactor: a callback of any of them is a frame on its stack */
	for (const struct nvmf_host_mpath_path *p = s->paths; p; p = p->next)
		if (p->ctrl->cb_depth)
			return true;
	return false;
}

void nvmf_host_mpath_delete_path(struct nvmf_host_ctrl *ctrl)
{
	struct nvmf_host_subsys *s = ctrl->mpath->s;
	int ret = nvmf_host_subsys_remove_path(s, ctrl);

	if (ret)
		nvmf_err("host %s: cannot delete path cntlid %u: %s", s->subnqn, ctrl->cntlid,
			 strerror(-ret));
}

/* ------------------------------------------------------------------------------------------
 * Submission
 */

int nvmf_host_mpath_submit_local(struct nvmf_host_subsys *s, const struct nvme_sqe *cmd, void *buf,
				 uint32_t len, nvmf_host_cb cb, void *arg)
{
	struct mpath_head *head = nvmf_host_mpath_find_head(s, cmd->nsid);
	struct mpath_io *io;
	int ret;

	if (!head)
		return -ENODEV;
	if (s->destroying)
		return -ENOLINK;
	io = s->free_ios;
	if (!io)
		return -EAGAIN;
	s->free_ios = io->next;
	io->cmd = *cmd;
	io->head = head;
	io->path = NULL;
	io->buf = buf;
	io->len = len;
	io->failovers = 0;
	io->cb = cb;
	io->arg = arg;
	io->next = NULL;
	ret = dispatch(io);
	if (ret == DISPATCH_SENT)
		return 0;
	if (ret == DISPATCH_WAIT) {
		enqueue(head, io);
		return 0;
	}
	io_put(s, io);
	return ret == DISPATCH_FULL ? -EAGAIN : ret;
}

void nvmf_host_mpath_subsys_init(struct nvmf_host_subsys *s)
{
	s->requeue_work.fn = requeue_work;
	s->ana_poll_timer.fn = ana_poll_fn;
}

void nvmf_host_mpath_path_init(struct nvmf_host_mpath_path *p)
{
	p->ana_work.fn = ana_work_fn;
	p->anatt_timer.fn = anatt_timer_fn;
}
