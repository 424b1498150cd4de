// SPDX-License-Identifier: MIT
/*
 * Fault injection: rules (struct nvmf_tgt_fault in include/nvmf/target.h) that delay, hold,
 * fail, drop or corrupt the completions of matching commands, or disconnect their queue, so
 * that hosts can be tested against a controller that misbehaves on cue.
 *
 * Cost when unused: nvmf_tgt_req_init() and nvmf_tgt_req_complete() load tgt->nr_faults
 * (relaxed) and branch. Only while rules are listed do commands come here, and matching then
 * takes tgt->fault_lock (a leaf lock: nothing else is taken under it).
 *
 * Where the actions act:
 *   STATUS          nvmf_tgt_req_init(), once the command parsed: req->execute becomes
 *                   "complete with the status", so the transport still moves H2C data and
 *                   the command flows as any other, but is not executed.
 *   all the others  nvmf_tgt_req_complete(), before the CQE is filled:
 *   DELAY           a timer in the request (no allocation) on the SQ's reactor completes it.
 *   HOLD            parked on the SQ's list until nvmf_tgt_fault_release() or _remove() has
 *                   the SQ's reactor complete it, or the queue goes.
 *   DROP, NO_KEEP_ALIVE  TCP: req->fault.drop: tcp_queue_response() frees the slot without
 *                   sending anything. Loop: the host half owns the slot and gets it back
 *                   only with a response, so the request stays parked until the queue goes
 *                   (the host times the command out and resets, which stops the queue).
 *   DISCONNECT      parked (never answered) and the queue disconnected by a message to its
 *                   own reactor: nvmf_tgt_ctrl_disconnect_queue().
 *   CORRUPT_*       req->fault.corrupt: tcp_queue_response() flips a digest bit.
 *
 * A command is matched at most once per phase and acted on at most once: req->fault.seen.
 * Fabrics commands and AERs are never matched (admin.c parks AERs itself, until an event or
 * the teardown; a second parking mechanism on top of that one would only confuse both).
 *
 * Teardown (seed 000): a parked request belongs to the core as one in a backend does, so
 * the transport waits for it. nvmf_tgt_sq_quiesce() therefore completes every request on
 * the SQ's list at once (timers cancelled, held requests released) and marks the SQ so that
 * nothing is parked on it again; the transport discards those responses as it does any
 * response of a dying queue.
 *
 * Releases find the SQs that hold requests through the subsystems' controllers and reach
 * each on its reactor with a message that holds a controller reference, as ctrl.c's
 * disconnects do: an SQ still registered in its controller, seen from its own reactor, is
 * alive there. Loop SQs are found the same way (their reactor is the host controller's).
 */
#include "core.h"

#include "common/log.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NVMF_TGT_MAX_FAULTS 64

enum nvmf_tgt_fault_state {
	FAULT_NONE = 0,
	FAULT_DELAYED, /* req->fault.timer armed */
	FAULT_HELD,    /* until released or the queue goes */
	FAULT_PARKED,  /* never answered: until the queue goes */
};

/**
 * struct nvmf_tgt_fault_rule - a listed rule
 * @id: rule ID, >= 1
 * @f: the rule as added; @f.subsys_nqn points to @nqn or is NULL
 * @nqn: the subsystem NQN selector ("" for any)
 * @hits: commands acted on
 * @seen: DISCONNECT: matching commands let through since the last disconnect
 * @held: commands held right now
 */
struct nvmf_tgt_fault_rule {
	uint32_t id;
	struct nvmf_tgt_fault f;
	char nqn[NVME_NQN_FIELD_LEN];
	uint64_t hits;
	uint64_t seen;
	uint32_t held;
};

static const char *const action_names[] = {
	[NVMF_TGT_FAULT_DELAY] = "delay",
	[NVMF_TGT_FAULT_HOLD] = "hold",
	[NVMF_TGT_FAULT_STATUS] = "status",
	[NVMF_TGT_FAULT_DROP] = "drop",
	[NVMF_TGT_FAULT_DISCONNECT] = "disconnect",
	[NVMF_TGT_FAULT_CORRUPT_HDGST] = "corrupt_hdgst",
	[NVMF_TGT_FAULT_CORRUPT_DDGST] = "corrupt_ddgst",
	[NVMF_TGT_FAULT_NO_KEEP_ALIVE] = "no_keep_alive",
};

const char *nvmf_tgt_fault_action_name(enum nvmf_tgt_fault_action action)
{
	if ((unsigned int)action >= sizeof(action_names) / sizeof(action_names[0]) ||
	    !action_names[action])
		return "unknown";
	return action_names[action];
}

/* ------------------------------------------------------------------------------------------
 * Probability: a per-thread xorshift64* generator (no shared state, no rand())
 */

static _Thread_local uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t x = rng_state;

	if (!x) {
		/* splitmix64 of the time and the thread: distinct streams per reactor */
		x = nvmf_now_ns() ^ ((uint64_t)gettid() << 32) ^ (uintptr_t)&rng_state;
		x += 0x9e3779b97f4a7c15ull;
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
		x ^= x >> 31;
		if (!x)
			x = 1;
	}
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Does a command matching a rule of probability @p suffer it? 0 means always, as 1. */
static bool roll(double p)
{
	if (p <= 0.0 || p >= 1.0)
		return true;
	return (double)(rng_next() >> 11) * 0x1.0p-53 < p;
}

static uint32_t pick_delay_ms(const struct nvmf_tgt_fault *f)
{
	uint64_t span;

	if (f->delay_max_ms <= f->delay_ms)
		return f->delay_ms;
	span = (uint64_t)f->delay_max_ms - f->delay_ms + 1;
	return f->delay_ms + (uint32_t)(rng_next() % span);
}

/* ------------------------------------------------------------------------------------------
 * Matching (under tgt->fault_lock)
 */

enum fault_phase {
	PHASE_INIT,	/* nvmf_tgt_req_init(): only STATUS acts */
	PHASE_COMPLETE, /* nvmf_tgt_req_complete(): every other action */
};

/* May fault injection look at @req at all? */
static bool fault_candidate(const struct nvmf_tgt_req *req)
{
	const struct nvmf_tgt_sq *sq = req->sq;

	if (req->fault.seen || !sq->ctrl || sq->fault_quiesced)
		return false;
	if (req->cmd.opcode == nvme_fabrics_command)
		return false;
	return sq->qid || req->cmd.opcode != nvme_admin_async_event;
}

/* Actions that only exist for some commands: those are part of what the rule matches. */
static bool action_applies(const struct nvmf_tgt_fault *f, const struct nvmf_tgt_req *req,
			   enum fault_phase phase, uint16_t status)
{
	const struct nvmf_tgt_sq *sq = req->sq;

	switch (f->action) {
	case NVMF_TGT_FAULT_NO_KEEP_ALIVE:
		return !sq->qid && req->cmd.opcode == nvme_admin_keep_alive;
	case NVMF_TGT_FAULT_CORRUPT_HDGST:
		return sq->hdgst;
	case NVMF_TGT_FAULT_CORRUPT_DDGST:
		/* a C2H data digest exists only when a successful command returns data */
		return sq->ddgst && req->data_dir == NVMF_DATA_C2H &&
		       (phase == PHASE_INIT || (!status && req->transfer_len));
	default:
		return true;
	}
}

static bool rule_matches(const struct nvmf_tgt_fault_rule *r, const struct nvmf_tgt_req *req,
			 enum fault_phase phase, uint16_t status)
{
	const struct nvmf_tgt_fault *f = &r->f;
	const struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	uint16_t qid = req->sq->qid;

	if (f->count && r->hits >= f->count)
		return false; /* spent */
	if (f->subsys_nqn && strcmp(f->subsys_nqn, ctrl->subsys->nqn))
		return false;
	if (f->cntlid >= 0 && f->cntlid != ctrl->cntlid)
		return false;
	switch (f->queue) {
	case NVMF_TGT_FAULT_QUEUE_ANY:
		break;
	case NVMF_TGT_FAULT_QUEUE_ADMIN:
		if (qid)
			return false;
		break;
	case NVMF_TGT_FAULT_QUEUE_IO:
		if (!qid)
			return false;
		break;
	default:
		if (f->queue != qid)
			return false;
		break;
	}
	if (f->opcode >= 0 && f->opcode != req->cmd.opcode)
		return false;
	if (f->nsid >= 0 && f->nsid != req->cmd.nsid)
		return false;
	return action_applies(f, req, phase, status);
}

/* The first live rule @req matches: it alone decides what happens to the command. */
static struct nvmf_tgt_fault_rule *first_match(struct nvmf_tgt *tgt, const struct nvmf_tgt_req *req,
					       enum fault_phase phase, uint16_t status)
{
	for (unsigned int i = 0; i < tgt->nr_fault_rules; i++)
		if (rule_matches(tgt->fault_rules[i], req, phase, status))
			return tgt->fault_rules[i];
	return NULL;
}

static struct nvmf_tgt_fault_rule *find_rule(struct nvmf_tgt *tgt, uint32_t id)
{
	for (unsigned int i = 0; i < tgt->nr_fault_rules; i++)
		if (tgt->fault_rules[i]->id == id)
			return tgt->fault_rules[i];
	return NULL;
}

/* ------------------------------------------------------------------------------------------
 * The SQ's list of parked requests (SQ's reactor only)
 */

static void fault_park(struct nvmf_tgt_req *req, uint8_t state)
{
	struct nvmf_tgt_sq *sq = req->sq;

	req->fault.state = state;
	req->fault.next = sq->fault_reqs;
	if (sq->fault_reqs)
		sq->fault_reqs->fault.pprev = &req->fault.next;
	req->fault.pprev = &sq->fault_reqs;
	sq->fault_reqs = req;
}

static void fault_unpark(struct nvmf_tgt_req *req)
{
	*req->fault.pprev = req->fault.next;
	if (req->fault.next)
		req->fault.next->fault.pprev = req->fault.pprev;
	req->fault.next = NULL;
	req->fault.pprev = NULL;
}

/* @req is off the list: complete it for real (req->fault.seen keeps it from matching). */
static void fault_finish(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt_sq *sq = req->sq;
	uint8_t state = req->fault.state;

	req->fault.state = FAULT_NONE;
	if (state == FAULT_HELD) {
		struct nvmf_tgt *tgt = sq->tgt;
		struct nvmf_tgt_fault_rule *r;

		pthread_mutex_lock(&tgt->fault_lock);
		r = find_rule(tgt, req->fault.id); /* NULL: removed */
		if (r && r->held)
			r->held--;
		atomic_fetch_sub_explicit(&sq->fault_held, 1, memory_order_relaxed);
		pthread_mutex_unlock(&tgt->fault_lock);
	} else if (state == FAULT_PARKED) {
		/* only a dying queue gives a parked request back: it was never to be answered */
		req->fault.drop = true;
	}
	nvmf_tgt_req_complete(req, req->fault.status);
}

/* Complete the requests on @list (linked through fault.next), in list order. */
static void finish_list(struct nvmf_tgt_req *list)
{
	while (list) {
		struct nvmf_tgt_req *req = list;

		list = req->fault.next;
		req->fault.next = NULL;
		fault_finish(req);
	}
}

static void delay_expired(struct nvmf_timer *t)
{
	struct nvmf_tgt_req *req =
		(struct nvmf_tgt_req *)((char *)t - offsetof(struct nvmf_tgt_req, fault.timer));

	fault_unpark(req);
	fault_finish(req);
}

/*
 * Complete @sq's requests held by rule @id (0: any rule) no later than hold @seq. On the
 * SQ's reactor. The list is newest first: taking them off reverses it, oldest first.
 */
static void release_sq(struct nvmf_tgt_sq *sq, uint32_t id, uint64_t seq)
{
	struct nvmf_tgt_req *req, *next, *list = NULL;

	for (req = sq->fault_reqs; req; req = next) {
		next = req->fault.next;
		if (req->fault.state != FAULT_HELD || (id && req->fault.id != id) ||
		    req->fault.seq > seq)
			continue;
		fault_unpark(req);
		req->fault.next = list;
		list = req;
	}
	finish_list(list);
}

/* ------------------------------------------------------------------------------------------
 * Hooks of the request lifecycle (core.c)
 */

static void execute_status(struct nvmf_tgt_req *req)
{
	nvmf_tgt_req_complete(req, req->fault.status);
}

void nvmf_tgt_fault_req_init(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt *tgt = req->sq->tgt;
	struct nvmf_tgt_fault_rule *r;

	if (!fault_candidate(req))
		return;
	pthread_mutex_lock(&tgt->fault_lock);
	r = first_match(tgt, req, PHASE_INIT, 0);
	if (r && r->f.action == NVMF_TGT_FAULT_STATUS && roll(r->f.probability)) {
		r->hits++;
		req->fault.seen = true;
		req->fault.id = r->id;
		req->fault.status = r->f.status;
		req->execute = execute_status;
	}
	pthread_mutex_unlock(&tgt->fault_lock);
	if (req->fault.seen)
		nvmf_debug("fault %u: qid %u cid %u opcode 0x%02x: status 0x%04x", req->fault.id,
			   req->sq->qid, req->cmd.cid, req->cmd.opcode, req->fault.status);
}

bool nvmf_tgt_fault_complete(struct nvmf_tgt_req *req, uint16_t status)
{
	struct nvmf_tgt_sq *sq = req->sq;
	struct nvmf_tgt *tgt = sq->tgt;
	struct nvmf_tgt_fault_rule *r;
	uint32_t delay_ms = 0;
	uint8_t action;

	if (!fault_candidate(req))
		return false;
	req->fault.seen = true;
	pthread_mutex_lock(&tgt->fault_lock);
	r = first_match(tgt, req, PHASE_COMPLETE, status);
	/* a STATUS rule first in line had its chance in nvmf_tgt_req_init() */
	if (!r || r->f.action == NVMF_TGT_FAULT_STATUS)
		goto out_unlock;
	if (r->f.action == NVMF_TGT_FAULT_DISCONNECT && r->seen < r->f.after) {
		r->seen++;
		goto out_unlock;
	}
	if (!roll(r->f.probability))
		goto out_unlock;
	r->hits++;
	r->seen = 0;
	action = (uint8_t)r->f.action;
	req->fault.id = r->id;
	req->fault.status = status;
	if (action == NVMF_TGT_FAULT_DELAY) {
		delay_ms = pick_delay_ms(&r->f);
	} else if (action == NVMF_TGT_FAULT_HOLD) {
		/* counted under the lock: a release that sees this hold sees the SQ holding */
		req->fault.seq = ++tgt->fault_seq;
		r->held++;
		atomic_fetch_add_explicit(&sq->fault_held, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&tgt->fault_lock);

	nvmf_debug("fault %u: qid %u cid %u opcode 0x%02x: %s", req->fault.id, sq->qid,
		   req->cmd.cid, req->cmd.opcode, nvmf_tgt_fault_action_name(action));
	switch (action) {
	case NVMF_TGT_FAULT_DELAY:
		fault_park(req, FAULT_DELAYED);
		req->fault.timer.fn = delay_expired;
		nvmf_timer_arm(sq->reactor, &req->fault.timer, delay_ms);
		return true;
	case NVMF_TGT_FAULT_HOLD:
		fault_park(req, FAULT_HELD);
		return true;
	case NVMF_TGT_FAULT_DROP:
	case NVMF_TGT_FAULT_NO_KEEP_ALIVE:
		if (sq->ops->trtype == NVMF_TRTYPE_LOOP) {
			fault_park(req, FAULT_PARKED);
			return true;
		}
		req->fault.drop = true;
		return false;
	case NVMF_TGT_FAULT_DISCONNECT:
		fault_park(req, FAULT_PARKED);
		nvmf_notice("fault %u: ctrl %u: disconnecting qid %u", req->fault.id,
			    sq->ctrl->cntlid, sq->qid);
		nvmf_tgt_ctrl_disconnect_queue(sq->ctrl, sq->qid);
		return true;
	default: /* CORRUPT_HDGST, CORRUPT_DDGST */
		req->fault.corrupt = action;
		return false;
	}

out_unlock:
	pthread_mutex_unlock(&tgt->fault_lock);
	return false;
}

void nvmf_tgt_fault_quiesce(struct nvmf_tgt_sq *sq)
{
	struct nvmf_tgt_req *req, *list = NULL;

	sq->fault_quiesced = true;
	while ((req = sq->fault_reqs)) {
		if (req->fault.state == FAULT_DELAYED)
			nvmf_timer_cancel(sq->reactor, &req->fault.timer);
		fault_unpark(req);
		req->fault.next = list;
		list = req;
	}
	finish_list(list);
}

/* ------------------------------------------------------------------------------------------
 * Releasing held requests on their reactors
 */

struct release_msg {
	struct nvmf_tgt_ctrl *ctrl; /* holds a reference */
	uint16_t qid;
	uint32_t id;
	uint64_t seq;
};

static void release_on_reactor(void *arg)
{
	struct release_msg *m = arg;
	struct nvmf_tgt_ctrl *ctrl = m->ctrl;
	struct nvmf_tgt_sq *sq = nvmf_tgt_ctrl_local_sq(ctrl, m->qid);

	if (sq)
		release_sq(sq, m->id, m->seq);
	/* pairs with the get in release_subsys() */
	nvmf_tgt_ctrl_put(ctrl);
	free(m);
}

static void release_subsys(struct nvmf_tgt_subsys *s, uint32_t id, uint64_t seq)
{
	pthread_mutex_lock(&s->lock);
	for (struct nvmf_tgt_ctrl *c = s->ctrls; c; c = c->next) {
		pthread_mutex_lock(&c->lock);
		for (unsigned int qid = 0; qid <= NVMF_TGT_MAX_IO_QUEUES; qid++) {
			struct nvmf_tgt_sq *sq = c->sqs[qid];
			struct release_msg *m;

			if (!sq || !atomic_load_explicit(&sq->fault_held, memory_order_relaxed))
				continue;
			m = malloc(sizeof(*m));
			if (!m) {
				nvmf_err("fault: out of memory releasing ctrl %u qid %u", c->cntlid,
					 qid);
				continue;
			}
			m->ctrl = c;
			m->qid = (uint16_t)qid;
			m->id = id;
			m->seq = seq;
			/* the registered SQ holds a reference too: never the last one here */
			nvmf_tgt_ctrl_get(c);
			if (nvmf_reactor_send(sq->reactor, release_on_reactor, m) < 0) {
				nvmf_err("fault: out of memory releasing ctrl %u qid %u", c->cntlid,
					 qid);
				nvmf_tgt_ctrl_put(c);
				free(m);
			}
		}
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&s->lock);
}

/* Every SQ holding requests: release those of rule @id (0: any) held up to @seq. */
static void release_all(struct nvmf_tgt *tgt, uint32_t id, uint64_t seq)
{
	/* the subsystem list changes on a running target: as nvmf_tgt_ctrl_list() */
	pthread_rwlock_rdlock(&tgt->cfg_lock);
	release_subsys(tgt->disc_subsys, id, seq);
	for (size_t i = 0; i < tgt->nr_subsys; i++)
		release_subsys(tgt->subsys[i], id, seq);
	pthread_rwlock_unlock(&tgt->cfg_lock);
}

/* ------------------------------------------------------------------------------------------
 * Public API
 */

void nvmf_tgt_fault_init(struct nvmf_tgt *tgt)
{
	pthread_mutex_init(&tgt->fault_lock, NULL);
	tgt->fault_rules = NULL;
	tgt->nr_fault_rules = 0;
	tgt->fault_next_id = 0;
	tgt->fault_seq = 0;
	atomic_init(&tgt->nr_faults, 0);
}

void nvmf_tgt_fault_fini(struct nvmf_tgt *tgt)
{
	for (unsigned int i = 0; i < tgt->nr_fault_rules; i++)
		free(tgt->fault_rules[i]);
	free(tgt->fault_rules);
	tgt->fault_rules = NULL;
	tgt->nr_fault_rules = 0;
	pthread_mutex_destroy(&tgt->fault_lock);
}

static int fault_check(const struct nvmf_tgt_fault *f)
{
	if (f->action < NVMF_TGT_FAULT_DELAY || f->action > NVMF_TGT_FAULT_NO_KEEP_ALIVE)
		return -EINVAL;
	if (!(f->probability >= 0.0 && f->probability <= 1.0)) /* NaN too */
		return -EINVAL;
	if (f->queue < NVMF_TGT_FAULT_QUEUE_IO || f->queue > UINT16_MAX)
		return -EINVAL;
	if (f->opcode < -1 || f->opcode > 255)
		return -EINVAL;
	if (f->cntlid < -1 || f->cntlid > UINT16_MAX)
		return -EINVAL;
	if (f->nsid < -1 || f->nsid > UINT32_MAX)
		return -EINVAL;
	/* a "failure" without SCT/SC would read as success */
	if (f->action == NVMF_TGT_FAULT_STATUS && !(f->status & (NVME_SCT_MASK | NVME_SC_MASK)))
		return -EINVAL;
	if (f->subsys_nqn && strnlen(f->subsys_nqn, NVME_NQN_FIELD_LEN) > NVME_NQN_MAX_LEN)
		return -EINVAL;
	return 0;
}

/**
 * nvmf_tgt_fault_add() - add a fault injection rule (see include/nvmf/target.h)
 * @tgt: target
 * @f: the rule (copied)
 * @id: its ID (>= 1)
 *
 * Return: 0, -EINVAL, -ENOSPC (NVMF_TGT_MAX_FAULTS rules), -ENOMEM.
 */
int nvmf_tgt_fault_add(struct nvmf_tgt *tgt, const struct nvmf_tgt_fault *f, uint32_t *id)
{
	struct nvmf_tgt_fault_rule *r, **arr;
	int ret = fault_check(f);

	if (ret)
		return ret;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->f = *f;
	r->f.subsys_nqn = NULL;
	if (f->subsys_nqn && *f->subsys_nqn) {
		memcpy(r->nqn, f->subsys_nqn, strlen(f->subsys_nqn) + 1);
		r->f.subsys_nqn = r->nqn;
	}
	pthread_mutex_lock(&tgt->fault_lock);
	if (tgt->nr_fault_rules >= NVMF_TGT_MAX_FAULTS) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	arr = realloc(tgt->fault_rules, (tgt->nr_fault_rules + 1) * sizeof(*arr));
	if (!arr) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	tgt->fault_rules = arr;
	if (!++tgt->fault_next_id)
		tgt->fault_next_id = 1;
	r->id = tgt->fault_next_id;
	arr[tgt->nr_fault_rules++] = r;
	atomic_store_explicit(&tgt->nr_faults, tgt->nr_fault_rules, memory_order_relaxed);
	pthread_mutex_unlock(&tgt->fault_lock);
	nvmf_notice("fault %u added: %s, queue %d, opcode %d, count %llu", r->id,
		    nvmf_tgt_fault_action_name(f->action), f->queue, f->opcode,
		    (unsigned long long)f->count);
	if (id)
		*id = r->id;
	return 0;

out_unlock:
	pthread_mutex_unlock(&tgt->fault_lock);
	free(r);
	return ret;
}

/**
 * nvmf_tgt_fault_remove() - remove rule @id (0: every rule) and release what it holds
 * @tgt: target
 * @id: rule ID, or 0
 *
 * The held commands complete on their reactors after this returns; delayed ones keep their
 * timers.
 * Return: 0 or -ENOENT.
 */
int nvmf_tgt_fault_remove(struct nvmf_tgt *tgt, uint32_t id)
{
	unsigned int kept = 0;
	uint32_t held = 0;
	bool found = false;
	uint64_t seq;

	pthread_mutex_lock(&tgt->fault_lock);
	for (unsigned int i = 0; i < tgt->nr_fault_rules; i++) {
		struct nvmf_tgt_fault_rule *r = tgt->fault_rules[i];

		if (id && r->id != id) {
			tgt->fault_rules[kept++] = r;
			continue;
		}
		found = true;
		held += r->held;
		free(r);
	}
	tgt->nr_fault_rules = kept;
	atomic_store_explicit(&tgt->nr_faults, kept, memory_order_relaxed);
	/* a removed rule holds nothing new: every hold it made is at or before this one */
	seq = tgt->fault_seq;
	pthread_mutex_unlock(&tgt->fault_lock);
	if (id && !found)
		return -ENOENT;
	if (held)
		release_all(tgt, id, seq);
	return 0;
}

/**
 * nvmf_tgt_fault_release() - complete what rule @id (0: every rule) holds, each command on
 * its own reactor after this returns
 * @tgt: target
 * @id: rule ID, or 0
 *
 * Commands held after this call are not covered, even when they reach their reactor first.
 * Return: the number of commands released (those a disconnect completes meanwhile included),
 * or -ENOENT.
 */
int nvmf_tgt_fault_release(struct nvmf_tgt *tgt, uint32_t id)
{
	uint64_t held = 0, seq;
	bool found = false;

	pthread_mutex_lock(&tgt->fault_lock);
	for (unsigned int i = 0; i < tgt->nr_fault_rules; i++) {
		if (id && tgt->fault_rules[i]->id != id)
			continue;
		found = true;
		held += tgt->fault_rules[i]->held;
	}
	seq = tgt->fault_seq;
	pthread_mutex_unlock(&tgt->fault_lock);
	if (id && !found)
		return -ENOENT;
	if (held)
		release_all(tgt, id, seq);
	return (int)held;
}

/**
 * nvmf_tgt_fault_list() - the rules in match order, with their counters
 * @tgt: target
 * @info: output array
 * @max: entries of @info
 *
 * Return: the number of rules (may exceed @max).
 */
size_t nvmf_tgt_fault_list(struct nvmf_tgt *tgt, struct nvmf_tgt_fault_info *info, size_t max)
{
	size_t n;

	pthread_mutex_lock(&tgt->fault_lock);
	n = tgt->nr_fault_rules;
	for (size_t i = 0; i < n && i < max; i++) {
		const struct nvmf_tgt_fault_rule *r = tgt->fault_rules[i];

		info[i].id = r->id;
		info[i].rule = r->f;
		info[i].hits = r->hits;
		info[i].held = r->held;
	}
	pthread_mutex_unlock(&tgt->fault_lock);
	return n;
}
