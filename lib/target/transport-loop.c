// SPDX-License-Identifier: MIT
/*
 * The loop transport, target half (NVMF_TRTYPE_LOOP; Linux drivers/nvme/target/loop.c).
 *
 * A loop port listens on nothing: a host in this process (lib/host/transport-loop.c) makes
 * its queues itself, each embedding a struct nvmf_tgt_loop_sq, and submits into them on its
 * controller's reactor, which is then also the SQ's reactor (requests, backends, keep-alive
 * timer). This half is what the core sees of such a queue: it forwards responses and
 * disconnects to the host half, and keeps the list of loop queues so that a stopping target
 * can disconnect those that no controller knows of.
 *
 * A loop port needs no listener, so it serves as soon as it exists, started target or not.
 * nvmf_tgt_stop() closes it (remove_port) before it disconnects the queues: the hosts'
 * reconnects are refused from then on, so that the stop can wait for the last loop queue to
 * drain. nvmf_tgt_start() opens it again (add_port).
 *
 * The host half owns the teardown (seed 000): it quiesces the SQ, waits for every slot to
 * come back through queue_response and only then destroys the SQ. Nothing here completes a
 * request.
 */
#include "core.h"

#include "common/log.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>

/*
 * Every loop SQ of the process (few: one per host queue); nvmf_tgt_stop() walks it. The lock
 * also covers the ports' open/closed state, so that a queue is either refused or on the list
 * by the time loop_stop() looks.
 */
static pthread_mutex_t loop_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nvmf_tgt_loop_sq *loop_sqs;

/* port->priv of a closed loop port (NULL: open) */
static const char loop_port_closed;

static struct nvmf_tgt_loop_sq *to_loop_sq(struct nvmf_tgt_sq *sq)
{
	return (struct nvmf_tgt_loop_sq *)((char *)sq - offsetof(struct nvmf_tgt_loop_sq, sq));
}

int nvmf_tgt_loop_sq_init(struct nvmf_tgt_loop_sq *lsq, struct nvmf_tgt *tgt,
			  struct nvmf_tgt_port *port, struct nvmf_reactor *reactor,
			  const struct nvmf_tgt_loop_sq_ops *ops)
{
	pthread_mutex_lock(&loop_lock);
	if (port->priv == &loop_port_closed) {
		pthread_mutex_unlock(&loop_lock);
		return -ECONNREFUSED;
	}
	nvmf_tgt_sq_init(&lsq->sq, tgt, port, reactor, &nvmf_tgt_loop_ops);
	lsq->ops = ops;
	lsq->disconnected = false;
	lsq->next = loop_sqs;
	loop_sqs = lsq;
	pthread_mutex_unlock(&loop_lock);
	return 0;
}

void nvmf_tgt_loop_sq_destroy(struct nvmf_tgt_loop_sq *lsq)
{
	pthread_mutex_lock(&loop_lock);
	for (struct nvmf_tgt_loop_sq **pp = &loop_sqs; *pp; pp = &(*pp)->next) {
		if (*pp == lsq) {
			*pp = lsq->next;
			break;
		}
	}
	pthread_mutex_unlock(&loop_lock);
	lsq->next = NULL;
	nvmf_tgt_sq_destroy(&lsq->sq);
}

/* Nothing to listen on: (re)open the port to new queues. */
static int loop_add_port(struct nvmf_tgt *tgt, struct nvmf_tgt_port *port)
{
	(void)tgt;
	pthread_mutex_lock(&loop_lock);
	port->priv = NULL;
	pthread_mutex_unlock(&loop_lock);
	return 0;
}

/* Refuse new queues; those connected go with their controllers or loop_stop(). */
static void loop_remove_port(struct nvmf_tgt_port *port)
{
	pthread_mutex_lock(&loop_lock);
	port->priv = (void *)&loop_port_closed;
	pthread_mutex_unlock(&loop_lock);
}

static void loop_queue_response(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt_loop_sq *lsq = to_loop_sq(req->sq);

	lsq->ops->response(lsq, req);
}

static void loop_disconnect(struct nvmf_tgt_loop_sq *lsq, const char *why)
{
	if (lsq->disconnected)
		return;
	lsq->disconnected = true;
	nvmf_info("loop qid %u: disconnect: %s", lsq->sq.qid, why);
	lsq->ops->disconnect(lsq, why);
}

static void loop_disconnect_sq(struct nvmf_tgt_sq *sq)
{
	loop_disconnect(to_loop_sq(sq), "controller teardown");
}

/* Disconnect every loop queue of @arg's target that lives on the calling reactor. */
static void loop_disconnect_local(void *arg)
{
	struct nvmf_tgt *tgt = arg;
	struct nvmf_reactor *r = nvmf_reactor_current();

	for (;;) {
		struct nvmf_tgt_loop_sq *lsq;

		pthread_mutex_lock(&loop_lock);
		for (lsq = loop_sqs; lsq; lsq = lsq->next)
			if (lsq->sq.tgt == tgt && lsq->sq.reactor == r && !lsq->disconnected)
				break;
		pthread_mutex_unlock(&loop_lock);
		if (!lsq)
			return;
		/*
		 * Loop queues are destroyed only on their own reactor, i.e. not while this
		 * runs; the host half may tear others down in the callback, hence the rescan.
		 */
		loop_disconnect(lsq, "target stopping");
	}
}

/* Has a loop queue before @lsq in the list the same target and reactor? */
static bool reactor_seen(const struct nvmf_tgt_loop_sq *lsq)
{
	for (const struct nvmf_tgt_loop_sq *o = loop_sqs; o != lsq; o = o->next)
		if (o->sq.tgt == lsq->sq.tgt && o->sq.reactor == lsq->sq.reactor)
			return true;
	return false;
}

/*
 * One message per reactor that has loop queues of @tgt (the host controllers' reactors).
 * Sent under the lock: a registered queue's reactor exists, as its host has not freed it.
 */
static void loop_stop(struct nvmf_tgt *tgt)
{
	pthread_mutex_lock(&loop_lock);
	for (struct nvmf_tgt_loop_sq *lsq = loop_sqs; lsq; lsq = lsq->next) {
		if (lsq->sq.tgt != tgt || reactor_seen(lsq))
			continue;
		if (nvmf_reactor_send(lsq->sq.reactor, loop_disconnect_local, tgt) < 0)
			nvmf_err("loop: out of memory disconnecting the queues of reactor %u",
				 nvmf_reactor_id(lsq->sq.reactor));
	}
	pthread_mutex_unlock(&loop_lock);
}

const struct nvmf_tgt_transport_ops nvmf_tgt_loop_ops = {
	.name = "loop",
	.trtype = NVMF_TRTYPE_LOOP,
	.add_port = loop_add_port,
	.remove_port = loop_remove_port,
	.queue_response = loop_queue_response,
	.disconnect_sq = loop_disconnect_sq,
	.stop = loop_stop,
};
