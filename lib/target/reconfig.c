// SPDX-License-Identifier: MIT
/*
 * Changing a running target: namespaces added, removed and resized, subsystems, ports and
 * hosts added and removed, with the asynchronous events that tell connected hosts (NVMe Base
 * 2.0c 5.2: Namespace Attribute Changed, Discovery Log Page Change).
 *
 * The I/O path takes no lock, so nothing it may be looking at is changed in place:
 * - a namespace table is replaced by a new one (release store) and the old one freed once
 *   every reactor that could be reading it has gone once through its loop (a reactor never
 *   keeps a table across callbacks);
 * - a namespace (or the struct describing it, when resized) is freed only after a grace
 *   period: I/O commands count themselves in their SQ's ns_refs[epoch & 1] from
 *   nvmf_tgt_req_init() to completion; the control path flips the epoch, lets every reactor
 *   pass once (so that no command can still be between its epoch read and its count), then
 *   waits for the old half of every SQ of the subsystem to drain.
 * Ports and subsystems taken out are failed (their controllers disconnected) and freed when
 * their last controller has gone; whatever cannot be waited for in bounded time is kept on
 * tgt->retired and freed by nvmf_tgt_destroy(), never while something may still use it.
 */
#include "core.h"

#include "common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECONFIG_WAIT_MS 10000 /* longest wait for reactors or in-flight commands */

enum retired_kind {
	RETIRED_TABLE,	 /* a namespace table: free() */
	RETIRED_NS,	 /* a namespace: close its backend and free it */
	RETIRED_NS_DESC, /* a namespace struct whose backend lives on in its successor */
	RETIRED_SUBSYS,	 /* a subsystem whose controllers have not all gone */
	RETIRED_PORT,	 /* a removed port: unconnected queues may still point at it */
};

struct nvmf_tgt_retired {
	struct nvmf_tgt_retired *next;
	enum retired_kind kind;
	void *obj;
};

static void sleep_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static void ns_desc_free(struct nvmf_tgt_ns *ns)
{
	free(ns->path);
	free(ns);
}

static void retired_free(struct nvmf_tgt_retired *r)
{
	switch (r->kind) {
	case RETIRED_TABLE:
		free(r->obj);
		break;
	case RETIRED_NS:
		nvmf_tgt_ns_free(r->obj);
		break;
	case RETIRED_NS_DESC:
		ns_desc_free(r->obj);
		break;
	case RETIRED_SUBSYS:
		nvmf_tgt_subsys_free(r->obj);
		break;
	case RETIRED_PORT: {
		struct nvmf_tgt_port *port = r->obj;

		free(port->subsys);
		free(port->referrals);
		free(port);
		break;
	}
	}
	free(r);
}

/* Keep @obj until nvmf_tgt_destroy(). On allocation failure the object leaks: never freed
 * early. */
static void retire(struct nvmf_tgt *tgt, enum retired_kind kind, void *obj)
{
	struct nvmf_tgt_retired *r = calloc(1, sizeof(*r));

	if (!r) {
		nvmf_err("reconfig: out of memory; an object of kind %d is leaked", kind);
		return;
	}
	r->kind = kind;
	r->obj = obj;
	r->next = tgt->retired;
	tgt->retired = r;
}

void nvmf_tgt_retired_free_all(struct nvmf_tgt *tgt)
{
	while (tgt->retired) {
		struct nvmf_tgt_retired *r = tgt->retired;

		tgt->retired = r->next;
		retired_free(r);
	}
}

/* -------------------------------------------------------------------------------------- */
/* Waiting for reactors */

struct sync_state {
	atomic_int refs; /* the waiter + one per message in flight */
	atomic_int left; /* reactors that have not run the message yet */
};

static void sync_put(struct sync_state *st)
{
	if (atomic_fetch_sub(&st->refs, 1) == 1)
		free(st);
}

static void sync_on_reactor(void *arg)
{
	struct sync_state *st = arg;

	atomic_fetch_sub(&st->left, 1);
	sync_put(st);
}

static bool add_reactor(struct nvmf_reactor ***arr, size_t *n, size_t *cap, struct nvmf_reactor *r)
{
	for (size_t i = 0; i < *n; i++)
		if ((*arr)[i] == r)
			return true;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct nvmf_reactor **a = realloc(*arr, ncap * sizeof(*a));

		if (!a)
			return false;
		*arr = a;
		*cap = ncap;
	}
	(*arr)[(*n)++] = r;
	return true;
}

static bool subsys_reactors(struct nvmf_tgt_subsys *s, struct nvmf_reactor ***arr, size_t *n,
			    size_t *cap)
{
	bool ok = true;

	pthread_mutex_lock(&s->lock);
	for (struct nvmf_tgt_ctrl *c = s->ctrls; c && ok; c = c->next) {
		pthread_mutex_lock(&c->lock);
		for (unsigned int q = 0; q <= NVMF_TGT_MAX_IO_QUEUES && ok; q++)
			if (c->sqs[q])
				ok = add_reactor(arr, n, cap, c->sqs[q]->reactor);
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return ok;
}

/**
 * nvmf_tgt_sync_reactors() - wait until every reactor that may be running a callback which
 * read @s's configuration before now has finished that callback: the target's reactors (when
 * started) and those of every queue of @s's controllers (loop queues run on their host's)
 * @tgt: target
 * @s: subsystem, or NULL for the target's reactors only
 *
 * Call after publishing a change, before freeing what it replaced. Not from a reactor.
 * Return: 0, -EDEADLK on a reactor thread, -ENOMEM, -ETIMEDOUT after RECONFIG_WAIT_MS (a
 * reactor that is not being run: a polled host nobody polls).
 */
int nvmf_tgt_sync_reactors(struct nvmf_tgt *tgt, struct nvmf_tgt_subsys *s)
{
	struct nvmf_reactor **arr = NULL;
	size_t n = 0, cap = 0;
	struct sync_state *st;
	uint64_t deadline;
	int ret = 0;

	if (nvmf_reactor_current())
		return -EDEADLK;
	if (tgt->started)
		for (unsigned int i = 0; i < tgt->nr_reactors; i++)
			if (!add_reactor(&arr, &n, &cap, tgt->reactors[i]))
				ret = -ENOMEM;
	if (!ret && s && !subsys_reactors(s, &arr, &n, &cap))
		ret = -ENOMEM;
	if (ret || !n) {
		free(arr);
		return ret;
	}
	st = malloc(sizeof(*st));
	if (!st) {
		free(arr);
		return -ENOMEM;
	}
	atomic_init(&st->refs, (int)n + 1);
	atomic_init(&st->left, (int)n);
	for (size_t i = 0; i < n; i++) {
		if (nvmf_reactor_send(arr[i], sync_on_reactor, st) < 0) {
			ret = -ENOMEM;
			atomic_fetch_sub(&st->left, 1);
			sync_put(st);
		}
	}
	free(arr);
	deadline = nvmf_now_ns() + RECONFIG_WAIT_MS * 1000000ull;
	while (atomic_load(&st->left) > 0) {
		if (nvmf_now_ns() > deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		sleep_us(100);
	}
	sync_put(st);
	return ret;
}

static bool ns_half_busy(struct nvmf_tgt_subsys *s, unsigned int half)
{
	bool busy = false;

	pthread_mutex_lock(&s->lock);
	for (struct nvmf_tgt_ctrl *c = s->ctrls; c && !busy; c = c->next) {
		pthread_mutex_lock(&c->lock);
		for (unsigned int q = 1; q <= NVMF_TGT_MAX_IO_QUEUES && !busy; q++) {
			struct nvmf_tgt_sq *sq = c->sqs[q];

			busy = sq && atomic_load_explicit(&sq->ns_refs[half], memory_order_acquire);
		}
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return busy;
}

/*
 * After a namespace table of @s was replaced: wait until no reactor can reach the old table
 * and no command started before the replacement is still running. Return: 0, or -errno when
 * the wait had to be given up (the caller retires what it would have freed).
 */
static int ns_grace_period(struct nvmf_tgt_subsys *s)
{
	struct nvmf_tgt *tgt = s->tgt;
	unsigned int old = atomic_fetch_add(&tgt->ns_epoch, 1) & 1;
	uint64_t deadline;
	int ret;

	ret = nvmf_tgt_sync_reactors(tgt, s);
	if (ret < 0)
		return ret;
	deadline = nvmf_now_ns() + RECONFIG_WAIT_MS * 1000000ull;
	while (ns_half_busy(s, old)) {
		if (nvmf_now_ns() > deadline)
			return -ETIMEDOUT;
		sleep_us(200);
	}
	return 0;
}

/* -------------------------------------------------------------------------------------- */
/* Events */

void nvmf_tgt_disc_changed(struct nvmf_tgt *tgt)
{
	struct nvmf_tgt_subsys *d = tgt->disc_subsys;

	atomic_fetch_add(&tgt->disc_genctr, 1);
	pthread_mutex_lock(&d->lock);
	for (struct nvmf_tgt_ctrl *c = d->ctrls; c; c = c->next)
		if (!atomic_load(&c->fatal))
			nvmf_tgt_ctrl_aen(c, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_DISC_CHANGED,
					  NVME_LOG_DISC);
	pthread_mutex_unlock(&d->lock);
}

/* Changed Namespace List (NVMe Base 2.0c 5.16.1.5) + Namespace Attribute Changed event */
static void ns_changed(struct nvmf_tgt_subsys *s, uint32_t nsid)
{
	pthread_mutex_lock(&s->lock);
	for (struct nvmf_tgt_ctrl *c = s->ctrls; c; c = c->next) {
		bool found = false;

		if (atomic_load(&c->fatal))
			continue;
		pthread_mutex_lock(&c->lock);
		for (unsigned int i = 0; i < c->nr_changed_ns; i++)
			found |= c->changed_ns[i] == nsid || c->changed_ns[i] == NVME_NSID_ALL;
		if (!found) {
			if (c->nr_changed_ns < NVME_MAX_CHANGED_NAMESPACES) {
				c->changed_ns[c->nr_changed_ns++] = nsid;
			} else {
				/* more than the list holds: one entry of FFFFFFFFh */
				c->changed_ns[0] = NVME_NSID_ALL;
				c->nr_changed_ns = 1;
			}
		}
		pthread_mutex_unlock(&c->lock);
		nvmf_tgt_ctrl_aen(c, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
				  NVME_LOG_CHANGED_NS);
	}
	pthread_mutex_unlock(&s->lock);
}

/* One controller's ANA Change event; the admin reactor drops it if disabled or masked. */
static void ana_event(struct nvmf_tgt_ctrl *c)
{
	if (!atomic_load(&c->fatal))
		nvmf_tgt_ctrl_aen(c, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_ANA, NVME_LOG_ANA);
}

void nvmf_tgt_ana_changed(struct nvmf_tgt *tgt, const struct nvmf_tgt_port *port,
			  struct nvmf_tgt_subsys *subsys)
{
	if (subsys) {
		pthread_mutex_lock(&subsys->lock);
		for (struct nvmf_tgt_ctrl *c = subsys->ctrls; c; c = c->next)
			if (!port || c->port == port)
				ana_event(c);
		pthread_mutex_unlock(&subsys->lock);
		return;
	}
	if (!port)
		return;
	/* nvmet_port_send_ana_event(): the controllers of every subsystem, through @port */
	pthread_rwlock_rdlock(&tgt->cfg_lock);
	for (size_t i = 0; i < tgt->nr_subsys; i++) {
		struct nvmf_tgt_subsys *s = tgt->subsys[i];

		pthread_mutex_lock(&s->lock);
		for (struct nvmf_tgt_ctrl *c = s->ctrls; c; c = c->next)
			if (c->port == port)
				ana_event(c);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_rwlock_unlock(&tgt->cfg_lock);
}

/* -------------------------------------------------------------------------------------- */
/* Namespaces */

/* A copy of @old with slot @nsid set to @ns (NULL: emptied); NN shrinks to the highest used */
static struct nvmf_tgt_ns_table *table_with(const struct nvmf_tgt_ns_table *old, uint32_t nsid,
					    struct nvmf_tgt_ns *ns)
{
	uint32_t max = old->max_nsid > nsid || !ns ? old->max_nsid : nsid;
	struct nvmf_tgt_ns_table *t;

	while (max && (max == nsid ? !ns : !old->ns[max - 1]))
		max--;
	t = calloc(1, sizeof(*t) + (size_t)max * sizeof(t->ns[0]));
	if (!t)
		return NULL;
	t->max_nsid = max;
	for (uint32_t i = 0; i < max; i++) {
		t->ns[i] = i + 1 == nsid ? ns : i < old->max_nsid ? old->ns[i] : NULL;
		t->nr_ns += t->ns[i] != NULL;
	}
	return t;
}

/* Publish @t as @s's table and free the old one once no reactor can be reading it. */
static void table_replace(struct nvmf_tgt_subsys *s, struct nvmf_tgt_ns_table *t)
{
	struct nvmf_tgt_ns_table *old = nvmf_tgt_ns_table(s);
	int ret;

	atomic_store_explicit(&s->nst, t, memory_order_release);
	ret = nvmf_tgt_sync_reactors(s->tgt, s);
	if (ret < 0) {
		nvmf_warn("%s: namespace table kept until exit: %s", s->nqn, strerror(-ret));
		retire(s->tgt, RETIRED_TABLE, old);
		return;
	}
	free(old);
}

int nvmf_tgt_publish_ns(struct nvmf_tgt_subsys *s, struct nvmf_tgt_ns *ns)
{
	struct nvmf_tgt_ns_table *t;
	int ret = 0;

	pthread_mutex_lock(&s->tgt->ctl_lock);
	if (nvmf_tgt_ns_lookup(s, ns->nsid)) {
		ret = -EEXIST;
		goto out;
	}
	t = table_with(nvmf_tgt_ns_table(s), ns->nsid, ns);
	if (!t) {
		ret = -ENOMEM;
		goto out;
	}
	table_replace(s, t);
	ns_changed(s, ns->nsid);
out:
	pthread_mutex_unlock(&s->tgt->ctl_lock);
	return ret;
}

int nvmf_tgt_subsys_remove_ns(struct nvmf_tgt_subsys *s, uint32_t nsid)
{
	struct nvmf_tgt_ns_table *t;
	struct nvmf_tgt_ns *ns;
	int ret = 0;

	pthread_mutex_lock(&s->tgt->ctl_lock);
	ns = nvmf_tgt_ns_lookup(s, nsid);
	if (!ns) {
		ret = -ENOENT;
		goto out;
	}
	t = table_with(nvmf_tgt_ns_table(s), nsid, NULL);
	if (!t) {
		ret = -ENOMEM;
		goto out;
	}
	table_replace(s, t);
	if (ns_grace_period(s) < 0) {
		nvmf_warn("%s: ns %u: commands still in flight; its backend closes at exit", s->nqn,
			  nsid);
		retire(s->tgt, RETIRED_NS, ns);
	} else {
		nvmf_tgt_ns_free(ns);
	}
	nvmf_notice("%s: namespace %u removed", s->nqn, nsid);
	ns_changed(s, nsid);
out:
	pthread_mutex_unlock(&s->tgt->ctl_lock);
	return ret;
}

/*
 * A new description of @ns, for a change the I/O path must see all at once (it reads a
 * namespace's fields without a lock): the backend (fd, mapping, private state) moves to the
 * copy, which ns_install() then publishes. NULL if out of memory.
 */
static struct nvmf_tgt_ns *ns_copy(const struct nvmf_tgt_ns *ns)
{
	struct nvmf_tgt_ns *nns = malloc(sizeof(*nns));

	if (!nns)
		return NULL;
	*nns = *ns;
	nns->path = ns->path ? strdup(ns->path) : NULL;
	if (ns->path && !nns->path) {
		free(nns);
		return NULL;
	}
	return nns;
}

/* Publish @nns in place of NSID @nsid's description; on failure @nns is freed. 0 or -ENOMEM. */
static int ns_install(struct nvmf_tgt_subsys *s, uint32_t nsid, struct nvmf_tgt_ns *nns)
{
	struct nvmf_tgt_ns_table *t = table_with(nvmf_tgt_ns_table(s), nsid, nns);

	if (!t) {
		free(nns->path);
		free(nns);
		return -ENOMEM;
	}
	table_replace(s, t);
	return 0;
}

int nvmf_tgt_subsys_resize_ns(struct nvmf_tgt_subsys *s, uint32_t nsid, uint64_t size_bytes,
			      uint64_t *new_size)
{
	struct nvmf_tgt_ns *ns, *nns;
	uint64_t size = size_bytes, blk;
	int ret = 0;

	pthread_mutex_lock(&s->tgt->ctl_lock);
	ns = nvmf_tgt_ns_lookup(s, nsid);
	if (!ns) {
		ret = -ENOENT;
		goto out;
	}
	if (!ns->ops->resize) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	blk = UINT64_C(1) << ns->blksz_shift;
	if (size) {
		size &= ~(blk - 1);
		if (!size) {
			ret = -EINVAL;
			goto out;
		}
	}
	/* the medium grows first, so no command ever sees a size the medium lacks */
	if (!size || size > ns->size_bytes) {
		ret = ns->ops->resize(ns, &size);
		if (ret < 0)
			goto out;
		size &= ~(blk - 1);
		if (!size) {
			ret = -EINVAL;
			goto out;
		}
	}
	if (new_size)
		*new_size = size;
	if (size == ns->size_bytes)
		goto out;
	nns = ns_copy(ns);
	if (!nns) {
		ret = -ENOMEM;
		goto out;
	}
	nns->size_bytes = size;
	ret = ns_install(s, nsid, nns);
	if (ret)
		goto out;
	if (ns_grace_period(s) < 0) {
		retire(s->tgt, RETIRED_NS_DESC, ns);
	} else {
		/* and shrinks last, when no command can reach past the new end */
		if (size < ns->size_bytes && nns->ops->resize(nns, &size) < 0)
			nvmf_warn("%s: ns %u: the medium could not be shrunk", s->nqn, nsid);
		ns_desc_free(ns);
	}
	nvmf_notice("%s: namespace %u resized to %llu bytes", s->nqn, nsid,
		    (unsigned long long)nns->size_bytes);
	ns_changed(s, nsid);
out:
	pthread_mutex_unlock(&s->tgt->ctl_lock);
	return ret;
}

int nvmf_tgt_subsys_set_ns_anagrpid(struct nvmf_tgt_subsys *s, uint32_t nsid, uint32_t anagrpid)
{
	struct nvmf_tgt *tgt = s->tgt;
	struct nvmf_tgt_ns *ns, *nns;
	uint32_t old;
	int ret = 0;

	if (!anagrpid || anagrpid > NVMF_TGT_MAX_ANA_GROUPS)
		return -EINVAL;
	pthread_mutex_lock(&tgt->ctl_lock);
	ns = nvmf_tgt_ns_lookup(s, nsid);
	if (!ns) {
		ret = -ENOENT;
		goto out;
	}
	old = ns->anagrpid;
	if (anagrpid != old) {
		/*
		 * The I/O path reads ns->anagrpid without a lock: the namespace is described
		 * anew, as for a resize, and the old description freed after its commands.
		 */
		nns = ns_copy(ns);
		if (!nns) {
			ret = -ENOMEM;
			goto out;
		}
		nns->anagrpid = anagrpid;
		ret = ns_install(s, nsid, nns);
		if (ret)
			goto out;
		if (ns_grace_period(s) < 0)
			retire(tgt, RETIRED_NS_DESC, ns);
		else
			ns_desc_free(ns);
	}
	/*
	 * nvmet keeps one change count; ours is per port, so every port whose ANA log lists
	 * this subsystem's namespaces counts the change.
	 */
	pthread_rwlock_rdlock(&tgt->cfg_lock);
	for (size_t i = 0; i < tgt->nr_ports; i++)
		if (nvmf_tgt_port_has_subsys(tgt->ports[i], s))
			atomic_fetch_add_explicit(&tgt->ports[i]->ana_chgcnt, 1,
						  memory_order_release);
	pthread_rwlock_unlock(&tgt->cfg_lock);
	nvmf_notice("%s: namespace %u: ANA group %u -> %u", s->nqn, nsid, old, anagrpid);
	/* nvmet_ns_ana_grpid_store(): every controller of the subsystem, any port */
	nvmf_tgt_ana_changed(tgt, NULL, s);
out:
	pthread_mutex_unlock(&tgt->ctl_lock);
	return ret;
}

/* -------------------------------------------------------------------------------------- */
/* Hosts, subsystems, ports */

int nvmf_tgt_subsys_disallow_host(struct nvmf_tgt_subsys *s, const char *hostnqn)
{
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&s->tgt->cfg_lock);
	for (size_t i = 0; i < s->nr_allowed_hosts; i++) {
		if (strcmp(s->allowed_hosts[i], hostnqn))
			continue;
		free(s->allowed_hosts[i]);
		s->allowed_hosts[i] = s->allowed_hosts[--s->nr_allowed_hosts];
		ret = 0;
		break;
	}
	pthread_rwlock_unlock(&s->tgt->cfg_lock);
	if (!ret)
		nvmf_tgt_disc_changed(s->tgt);
	return ret;
}

void nvmf_tgt_subsys_set_allow_any_host(struct nvmf_tgt_subsys *s, bool allow)
{
	pthread_rwlock_wrlock(&s->tgt->cfg_lock);
	s->allow_any_host = allow;
	pthread_rwlock_unlock(&s->tgt->cfg_lock);
	nvmf_tgt_disc_changed(s->tgt);
}

/* Fail the controllers of @s (every one, or those that came in through @port) */
static void fail_ctrls(struct nvmf_tgt_subsys *s, const struct nvmf_tgt_port *port, const char *why)
{
	pthread_mutex_lock(&s->lock);
	for (struct nvmf_tgt_ctrl *c = s->ctrls; c; c = c->next)
		if (!port || c->port == port)
			nvmf_tgt_ctrl_fatal(c, why);
	pthread_mutex_unlock(&s->lock);
}

static bool wait_no_ctrls(struct nvmf_tgt_subsys *s, const struct nvmf_tgt_port *port)
{
	uint64_t deadline = nvmf_now_ns() + RECONFIG_WAIT_MS * 1000000ull;

	for (;;) {
		bool busy = false;

		pthread_mutex_lock(&s->lock);
		for (struct nvmf_tgt_ctrl *c = s->ctrls; c && !busy; c = c->next)
			busy = !port || c->port == port;
		pthread_mutex_unlock(&s->lock);
		if (!busy)
			return true;
		if (nvmf_now_ns() > deadline)
			return false;
		sleep_us(1000);
	}
}

static void port_unlink_subsys(struct nvmf_tgt_port *port, struct nvmf_tgt_subsys *s)
{
	for (size_t i = 0; i < port->nr_subsys; i++) {
		if (port->subsys[i] == s) {
			memmove(&port->subsys[i], &port->subsys[i + 1],
				(port->nr_subsys - i - 1) * sizeof(port->subsys[0]));
			port->nr_subsys--;
			return;
		}
	}
}

int nvmf_tgt_remove_subsys(struct nvmf_tgt *tgt, struct nvmf_tgt_subsys *s)
{
	size_t i;

	pthread_mutex_lock(&tgt->ctl_lock);
	pthread_rwlock_wrlock(&tgt->cfg_lock);
	for (i = 0; i < tgt->nr_subsys && tgt->subsys[i] != s; i++)
		;
	if (i == tgt->nr_subsys) {
		pthread_rwlock_unlock(&tgt->cfg_lock);
		pthread_mutex_unlock(&tgt->ctl_lock);
		return -ENOENT;
	}
	memmove(&tgt->subsys[i], &tgt->subsys[i + 1],
		(tgt->nr_subsys - i - 1) * sizeof(tgt->subsys[0]));
	tgt->nr_subsys--;
	for (size_t p = 0; p < tgt->nr_ports; p++)
		port_unlink_subsys(tgt->ports[p], s);
	pthread_rwlock_unlock(&tgt->cfg_lock);

	/* no Connect can find it any more; the controllers it has go, then it does */
	fail_ctrls(s, NULL, "subsystem removed");
	if (wait_no_ctrls(s, NULL)) {
		nvmf_tgt_subsys_free(s);
	} else {
		nvmf_warn("%s: controllers still tearing down; freed at exit", s->nqn);
		retire(tgt, RETIRED_SUBSYS, s);
	}
	pthread_mutex_unlock(&tgt->ctl_lock);
	nvmf_tgt_disc_changed(tgt);
	return 0;
}

int nvmf_tgt_port_remove_subsys(struct nvmf_tgt_port *port, struct nvmf_tgt_subsys *s)
{
	struct nvmf_tgt *tgt = port->tgt;
	size_t before;

	pthread_mutex_lock(&tgt->ctl_lock);
	pthread_rwlock_wrlock(&tgt->cfg_lock);
	before = port->nr_subsys;
	port_unlink_subsys(port, s);
	pthread_rwlock_unlock(&tgt->cfg_lock);
	if (before == port->nr_subsys) {
		pthread_mutex_unlock(&tgt->ctl_lock);
		return -ENOENT;
	}
	/* as nvmet: the subsystem's controllers on this port go with the export */
	fail_ctrls(s, port, "subsystem removed from the port");
	pthread_mutex_unlock(&tgt->ctl_lock);
	nvmf_tgt_disc_changed(tgt);
	return 0;
}

int nvmf_tgt_remove_port(struct nvmf_tgt *tgt, struct nvmf_tgt_port *port)
{
	size_t i;

	pthread_mutex_lock(&tgt->ctl_lock);
	pthread_rwlock_wrlock(&tgt->cfg_lock);
	for (i = 0; i < tgt->nr_ports && tgt->ports[i] != port; i++)
		;
	if (i == tgt->nr_ports) {
		pthread_rwlock_unlock(&tgt->cfg_lock);
		pthread_mutex_unlock(&tgt->ctl_lock);
		return -ENOENT;
	}
	memmove(&tgt->ports[i], &tgt->ports[i + 1],
		(tgt->nr_ports - i - 1) * sizeof(tgt->ports[0]));
	tgt->nr_ports--;
	pthread_rwlock_unlock(&tgt->cfg_lock);

	if (tgt->started || port->trtype == NVMF_TRTYPE_LOOP)
		port->ops->remove_port(port);
	fail_ctrls(tgt->disc_subsys, port, "port removed");
	for (size_t s = 0; s < tgt->nr_subsys; s++)
		fail_ctrls(tgt->subsys[s], port, "port removed");
	/* queues that never connected may still point at it: kept until exit (a few bytes) */
	retire(tgt, RETIRED_PORT, port);
	pthread_mutex_unlock(&tgt->ctl_lock);
	nvmf_notice("port %u removed", port->portid);
	nvmf_tgt_disc_changed(tgt);
	return 0;
}

/* Is @port one of @tgt's ports? Under cfg_lock (nvmf_tgt_add_port() takes only that). */
static bool port_listed(const struct nvmf_tgt *tgt, const struct nvmf_tgt_port *port)
{
	for (size_t i = 0; i < tgt->nr_ports; i++)
		if (tgt->ports[i] == port)
			return true;
	return false;
}

/*
 * Under ctl_lock: set @port's enabled flag to @enabled. Return: 1 if it changed, 0 if it
 * already was, -ENOENT if @port is gone. A Connect runs under cfg_lock (read): it either ran
 * before the change, or sees it.
 */
static int port_set_enabled(struct nvmf_tgt *tgt, struct nvmf_tgt_port *port, bool enabled)
{
	int ret = 1;

	pthread_rwlock_wrlock(&tgt->cfg_lock);
	if (!port_listed(tgt, port))
		ret = -ENOENT;
	else if (port->enabled == enabled)
		ret = 0;
	else
		port->enabled = enabled;
	pthread_rwlock_unlock(&tgt->cfg_lock);
	return ret;
}

int nvmf_tgt_port_disable(struct nvmf_tgt_port *port)
{
	struct nvmf_tgt *tgt = port->tgt;
	int ret;

	pthread_mutex_lock(&tgt->ctl_lock);
	ret = port_set_enabled(tgt, port, false);
	if (ret <= 0) {
		pthread_mutex_unlock(&tgt->ctl_lock);
		return ret;
	}
	if (tgt->started || port->trtype == NVMF_TRTYPE_LOOP)
		port->ops->remove_port(port);
	/* as nvmf_tgt_remove_port(), but the port and its configuration stay */
	fail_ctrls(tgt->disc_subsys, port, "port disabled");
	for (size_t s = 0; s < tgt->nr_subsys; s++)
		fail_ctrls(tgt->subsys[s], port, "port disabled");
	pthread_mutex_unlock(&tgt->ctl_lock);
	nvmf_notice("port %u disabled", port->portid);
	nvmf_tgt_disc_changed(tgt);
	return 0;
}

int nvmf_tgt_port_enable(struct nvmf_tgt_port *port)
{
	struct nvmf_tgt *tgt = port->tgt;
	int ret;

	pthread_mutex_lock(&tgt->ctl_lock);
	/* enabled before it listens, so that a host that connects at once is not refused */
	ret = port_set_enabled(tgt, port, true);
	if (ret <= 0) {
		pthread_mutex_unlock(&tgt->ctl_lock);
		return ret;
	}
	ret = tgt->started || port->trtype == NVMF_TRTYPE_LOOP ? port->ops->add_port(tgt, port) : 0;
	if (ret < 0) {
		port_set_enabled(tgt, port, false);
		/* a queue accepted before the disable may have connected in between */
		fail_ctrls(tgt->disc_subsys, port, "port not enabled");
		for (size_t i = 0; i < tgt->nr_subsys; i++)
			fail_ctrls(tgt->subsys[i], port, "port not enabled");
		pthread_mutex_unlock(&tgt->ctl_lock);
		nvmf_err("port %u: enable: %s", port->portid, strerror(-ret));
		return ret;
	}
	pthread_mutex_unlock(&tgt->ctl_lock);
	nvmf_notice("port %u enabled", port->portid);
	nvmf_tgt_disc_changed(tgt);
	return 0;
}
