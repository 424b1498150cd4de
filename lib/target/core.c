// SPDX-License-Identifier: MIT
/*
 * Target core: building the target (subsystems, namespaces, ports), starting and stopping it,
 * and the generic part of the request lifecycle (validation, completion).
 */
#include "core.h"

#include "common/ana.h"
#include "common/log.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NVMF_TGT_DEFAULT_SPIN_US 100
#define NVMF_TGT_DEFAULT_MDTS (128u * 1024)
#define NVMF_TGT_DEFAULT_QUEUE_DEPTH 128
#define NVMF_TGT_DEFAULT_IO_QUEUES 64
#define NVMF_TGT_DEFAULT_INLINE 8192

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static struct nvmf_tgt_subsys *subsys_alloc(struct nvmf_tgt *tgt)
{
	struct nvmf_tgt_subsys *s = calloc(1, sizeof(*s));
	struct nvmf_tgt_ns_table *t = calloc(1, sizeof(*t));

	if (!s || !t) {
		free(s);
		free(t);
		return NULL;
	}
	atomic_init(&s->nst, t);
	s->tgt = tgt;
	pthread_mutex_init(&s->lock, NULL);
	s->power_on_ns = nvmf_now_ns();
	return s;
}

void nvmf_tgt_ns_free(struct nvmf_tgt_ns *ns)
{
	if (!ns)
		return;
	if (ns->ops)
		ns->ops->close(ns);
	free(ns->path);
	free(ns);
}

void nvmf_tgt_subsys_free(struct nvmf_tgt_subsys *s)
{
	struct nvmf_tgt_ns_table *t;

	if (!s)
		return;
	t = nvmf_tgt_ns_table(s);
	for (uint32_t i = 0; i < t->max_nsid; i++)
		nvmf_tgt_ns_free(t->ns[i]);
	free(t);
	for (size_t i = 0; i < s->nr_allowed_hosts; i++)
		free(s->allowed_hosts[i]);
	free(s->allowed_hosts);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Pinning, if asked for: one CPU per reactor, each one sched_setaffinity(2) can name. */
static bool cpus_valid(const struct nvmf_tgt_opts *o)
{
	if (!o->nr_cpus)
		return true;
	if (!o->cpus || o->nr_reactors != o->nr_cpus)
		return false;
	for (unsigned int i = 0; i < o->nr_cpus; i++)
		if (o->cpus[i] < 0 || o->cpus[i] >= CPU_SETSIZE)
			return false;
	return true;
}

struct nvmf_tgt *nvmf_tgt_create(const struct nvmf_tgt_opts *opts)
{
	struct nvmf_tgt *tgt = calloc(1, sizeof(*tgt));
	struct nvmf_tgt_subsys *d;

	if (!tgt)
		return NULL;
	if (opts)
		tgt->opts = *opts;
	pthread_rwlock_init(&tgt->cfg_lock, NULL);
	pthread_mutex_init(&tgt->ctl_lock, NULL);
	if (tgt->opts.nr_cpus && !tgt->opts.nr_reactors)
		tgt->opts.nr_reactors = tgt->opts.nr_cpus;
	if (!tgt->opts.nr_reactors) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		tgt->opts.nr_reactors = n > 0 ? (unsigned int)n : 1;
	}
	if (!opts || !opts->spin_us)
		tgt->opts.spin_us = NVMF_TGT_DEFAULT_SPIN_US;
	if (!tgt->opts.mdts_bytes)
		tgt->opts.mdts_bytes = NVMF_TGT_DEFAULT_MDTS;
	if (!tgt->opts.io_queue_depth)
		tgt->opts.io_queue_depth = NVMF_TGT_DEFAULT_QUEUE_DEPTH;
	if (!tgt->opts.max_io_queues)
		tgt->opts.max_io_queues = NVMF_TGT_DEFAULT_IO_QUEUES;
	if (!tgt->opts.inline_data_size)
		tgt->opts.inline_data_size = NVMF_TGT_DEFAULT_INLINE;
	if (!is_pow2(tgt->opts.mdts_bytes) || tgt->opts.mdts_bytes < 4096 ||
	    tgt->opts.io_queue_depth < 2 || tgt->opts.max_io_queues > NVMF_TGT_MAX_IO_QUEUES ||
	    tgt->opts.inline_data_size % 16 || tgt->opts.inline_data_size > tgt->opts.mdts_bytes ||
	    !cpus_valid(&tgt->opts)) {
		free(tgt);
		errno = EINVAL;
		return NULL;
	}
	nvmf_tgt_fault_init(tgt);

	d = subsys_alloc(tgt);
	if (!d)
		goto out_free;
	snprintf(d->nqn, sizeof(d->nqn), "%s", NVME_DISC_SUBSYS_NAME);
	d->subtype = NVME_NQN_CURR;
	d->allow_any_host = true;
	d->version = NVME_VS(1, 3, 0);
	d->cntlid_min = NVME_CNTLID_MIN;
	d->cntlid_max = NVME_CNTLID_MAX;
	d->next_cntlid = NVME_CNTLID_MIN;
	snprintf(d->model, sizeof(d->model), "nvmf discovery");
	snprintf(d->firmware, sizeof(d->firmware), "0.1");
	snprintf(d->serial, sizeof(d->serial), "nvmf-discovery");
	tgt->disc_subsys = d;

	tgt->reactors = calloc(tgt->opts.nr_reactors, sizeof(*tgt->reactors));
	if (!tgt->reactors)
		goto out_free;
	if (tgt->opts.nr_cpus) {
		tgt->cpus = malloc(tgt->opts.nr_cpus * sizeof(*tgt->cpus));
		if (!tgt->cpus)
			goto out_free;
		memcpy(tgt->cpus, tgt->opts.cpus, tgt->opts.nr_cpus * sizeof(*tgt->cpus));
	}
	for (unsigned int i = 0; i < tgt->opts.nr_reactors; i++) {
		tgt->reactors[i] = nvmf_reactor_create(i, tgt->opts.spin_us);
		if (!tgt->reactors[i])
			goto out_free;
		tgt->nr_reactors++;
		if (tgt->cpus) {
			nvmf_reactor_set_cpu(tgt->reactors[i], tgt->cpus[i]);
			nvmf_info("reactor %u: pinned to CPU %d", i, tgt->cpus[i]);
		}
	}
	/* the caller's array: not kept past this call (tgt->cpus is our copy) */
	tgt->opts.cpus = NULL;
	tgt->opts.nr_cpus = 0;
	return tgt;

out_free:
	nvmf_tgt_destroy(tgt);
	errno = ENOMEM;
	return NULL;
}

static bool nqn_valid(const char *nqn)
{
	size_t len = strnlen(nqn, NVME_NQN_FIELD_LEN);

	return len > 0 && len <= NVME_NQN_MAX_LEN;
}

struct nvmf_tgt_subsys *nvmf_tgt_find_subsys(struct nvmf_tgt *tgt, const char *nqn)
{
	if (!strcmp(nqn, NVME_DISC_SUBSYS_NAME))
		return tgt->disc_subsys;
	for (size_t i = 0; i < tgt->nr_subsys; i++)
		if (!strcmp(tgt->subsys[i]->nqn, nqn))
			return tgt->subsys[i];
	return NULL;
}

struct nvmf_tgt_subsys *nvmf_tgt_find_subsys_by_nqn(struct nvmf_tgt *tgt, const char *nqn)
{
	struct nvmf_tgt_subsys *s;

	pthread_rwlock_rdlock(&tgt->cfg_lock);
	s = nvmf_tgt_find_subsys(tgt, nqn);
	pthread_rwlock_unlock(&tgt->cfg_lock);
	return s && s->subtype == NVME_NQN_NVME ? s : NULL;
}

struct nvmf_tgt_port *nvmf_tgt_find_port_by_id(struct nvmf_tgt *tgt, uint16_t portid)
{
	struct nvmf_tgt_port *p;

	pthread_rwlock_rdlock(&tgt->cfg_lock);
	p = nvmf_tgt_find_port(tgt, portid);
	pthread_rwlock_unlock(&tgt->cfg_lock);
	return p;
}

static void copy_str(char *dst, size_t size, const char *src, const char *def)
{
	snprintf(dst, size, "%s", src && *src ? src : def);
}

int nvmf_tgt_add_subsys(struct nvmf_tgt *tgt, const struct nvmf_tgt_subsys_params *p,
			struct nvmf_tgt_subsys **out)
{
	struct nvmf_tgt_subsys *s, **arr;
	char serial[21];

	if (!p->nqn || !nqn_valid(p->nqn))
		return -EINVAL;
	if (p->cntlid_min && p->cntlid_max && p->cntlid_min > p->cntlid_max)
		return -EINVAL;
	s = subsys_alloc(tgt);
	if (!s)
		return -ENOMEM;
	snprintf(s->nqn, sizeof(s->nqn), "%s", p->nqn);
	s->subtype = NVME_NQN_NVME;
	/* like nvmet: a stable serial derived from the NQN unless one is given */
	{
		uint64_t h = 0xcbf29ce484222325ull;

		for (const char *c = p->nqn; *c; c++)
			h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
		snprintf(serial, sizeof(serial), "%016llx", (unsigned long long)h);
	}
	copy_str(s->serial, sizeof(s->serial), p->serial, serial);
	copy_str(s->model, sizeof(s->model), p->model, "nvmf");
	copy_str(s->firmware, sizeof(s->firmware), p->firmware, "0.1");
	s->version = p->version ? p->version : NVME_VS(1, 3, 0);
	s->cntlid_min = p->cntlid_min ? p->cntlid_min : NVME_CNTLID_MIN;
	s->cntlid_max = p->cntlid_max ? p->cntlid_max : NVME_CNTLID_MAX;
	s->next_cntlid = s->cntlid_min;
	s->allow_any_host = p->allow_any_host;

	pthread_rwlock_wrlock(&tgt->cfg_lock);
	if (nvmf_tgt_find_subsys(tgt, p->nqn)) {
		pthread_rwlock_unlock(&tgt->cfg_lock);
		nvmf_tgt_subsys_free(s);
		return -EEXIST;
	}
	arr = realloc(tgt->subsys, (tgt->nr_subsys + 1) * sizeof(*arr));
	if (!arr) {
		pthread_rwlock_unlock(&tgt->cfg_lock);
		nvmf_tgt_subsys_free(s);
		return -ENOMEM;
	}
	tgt->subsys = arr;
	tgt->subsys[tgt->nr_subsys++] = s;
	pthread_rwlock_unlock(&tgt->cfg_lock);
	if (out)
		*out = s;
	return 0;
}

int nvmf_tgt_subsys_allow_host(struct nvmf_tgt_subsys *s, const char *hostnqn)
{
	char **arr;

	char *dup;
	int ret = 0;

	if (!hostnqn || !nqn_valid(hostnqn))
		return -EINVAL;
	dup = strdup(hostnqn);
	if (!dup)
		return -ENOMEM;
	pthread_rwlock_wrlock(&s->tgt->cfg_lock);
	for (size_t i = 0; i < s->nr_allowed_hosts; i++)
		if (!strcmp(s->allowed_hosts[i], hostnqn))
			ret = -EEXIST;
	arr = ret ? NULL : realloc(s->allowed_hosts, (s->nr_allowed_hosts + 1) * sizeof(*arr));
	if (arr) {
		s->allowed_hosts = arr;
		arr[s->nr_allowed_hosts++] = dup;
		dup = NULL;
	} else if (!ret) {
		ret = -ENOMEM;
	}
	pthread_rwlock_unlock(&s->tgt->cfg_lock);
	free(dup);
	return ret;
}

bool nvmf_tgt_host_allowed(const struct nvmf_tgt_subsys *s, const char *hostnqn)
{
	if (s->allow_any_host)
		return true;
	for (size_t i = 0; i < s->nr_allowed_hosts; i++)
		if (!strcmp(s->allowed_hosts[i], hostnqn))
			return true;
	return false;
}

/* A stable identifier from the subsystem NQN and NSID (FNV-1a), RFC 4122 version 4 layout. */
static void derive_id(const char *nqn, uint32_t nsid, uint8_t salt, uint8_t out[16])
{
	uint64_t h1 = 0xcbf29ce484222325ull ^ salt, h2 = 0x84222325cbf29ce4ull ^ nsid;

	for (const char *c = nqn; *c; c++) {
		h1 = (h1 ^ (uint8_t)*c) * 0x100000001b3ull;
		h2 = (h2 ^ (uint8_t)*c ^ nsid) * 0x100000001b3ull;
	}
	memcpy(out, &h1, 8);
	memcpy(out + 8, &h2, 8);
	out[6] = (out[6] & 0x0f) | 0x40;
	out[8] = (out[8] & 0x3f) | 0x80;
}

int nvmf_tgt_subsys_add_ns(struct nvmf_tgt_subsys *s, const struct nvmf_tgt_ns_params *p)
{
	struct nvmf_tgt_ns *ns;
	int ret;

	if (!p->nsid || p->nsid == NVME_NSID_ALL || s->subtype != NVME_NQN_NVME)
		return -EINVAL;
	if (p->anagrpid > NVMF_TGT_MAX_ANA_GROUPS)
		return -EINVAL;
	if (nvmf_tgt_ns_lookup(s, p->nsid))
		return -EEXIST;
	ns = calloc(1, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	ns->nsid = p->nsid;
	ns->subsys = s;
	ns->enabled = p->enable;
	ns->anagrpid = p->anagrpid ? p->anagrpid : 1;
	ns->fd = -1;
	ns->buffered = p->buffered;
	if (p->path) {
		ns->path = strdup(p->path);
		if (!ns->path) {
			free(ns);
			return -ENOMEM;
		}
	}
	if (p->uuid)
		memcpy(ns->uuid, p->uuid, 16);
	else
		derive_id(s->nqn, p->nsid, 1, ns->uuid);
	if (p->nguid)
		memcpy(ns->nguid, p->nguid, 16);
	else
		derive_id(s->nqn, p->nsid, 2, ns->nguid);
	if (p->eui64) {
		memcpy(ns->eui64, p->eui64, 8);
		ns->has_eui64 = true;
	}
	switch (p->backend) {
	case NVMF_TGT_BACKEND_FILE:
		ns->ops = &nvmf_bdev_file_ops;
		break;
	case NVMF_TGT_BACKEND_NULL:
		ns->ops = &nvmf_bdev_null_ops;
		break;
	case NVMF_TGT_BACKEND_MEM:
		ns->ops = &nvmf_bdev_mem_ops;
		break;
	default:
		free(ns->path);
		free(ns);
		return -EINVAL;
	}
	ret = ns->ops->open(ns, p);
	if (ret < 0) {
		ns->ops = NULL;
		nvmf_tgt_ns_free(ns);
		return ret;
	}
	ret = nvmf_tgt_publish_ns(s, ns);
	if (ret < 0)
		nvmf_tgt_ns_free(ns);
	return ret;
}

struct nvmf_tgt_ns *nvmf_tgt_ns_lookup(const struct nvmf_tgt_subsys *s, uint32_t nsid)
{
	const struct nvmf_tgt_ns_table *t = nvmf_tgt_ns_table(s);

	if (!nsid || nsid > t->max_nsid)
		return NULL;
	return t->ns[nsid - 1];
}

struct nvmf_tgt_ns *nvmf_tgt_find_ns(const struct nvmf_tgt_subsys *s, uint32_t nsid)
{
	struct nvmf_tgt_ns *ns = nvmf_tgt_ns_lookup(s, nsid);

	return ns && ns->enabled ? ns : NULL;
}

int nvmf_tgt_add_port(struct nvmf_tgt *tgt, const struct nvmf_tgt_port_params *p,
		      struct nvmf_tgt_port **out)
{
	const struct nvmf_tgt_transport_ops *ops;
	struct nvmf_tgt_port *port, **arr;
	int ret;

	switch (p->trtype) {
	case NVMF_TRTYPE_TCP:
		if (!p->traddr || !p->trsvcid)
			return -EINVAL;
		if (p->adrfam != NVMF_ADRFAM_IPV4 && p->adrfam != NVMF_ADRFAM_IPV6)
			return -EINVAL;
		ops = &nvmf_tgt_tcp_ops;
		break;
	case NVMF_TRTYPE_LOOP:
		/* nothing to listen on: the address, if any, is only shown in discovery logs */
		ops = &nvmf_tgt_loop_ops;
		break;
	case NVMF_TRTYPE_VFIO_USER: {
		const struct nvmf_tgt_vfio_user_params *v = &p->vfio_user;

		/* a UNIX socket path: sun_path holds 107 bytes and the NUL */
		if (!p->traddr || !*p->traddr || strlen(p->traddr) > 107)
			return -EINVAL;
		if (v->accept_kato > NVMF_TGT_VFU_KATO_REFUSE ||
		    v->max_io_queues > NVMF_TGT_MAX_IO_QUEUES || v->max_queue_size == 1 ||
		    v->max_queue_size > NVMF_TGT_VFU_MAX_QUEUE_SIZE)
			return -EINVAL;
		ops = &nvmf_tgt_vfio_user_ops;
		break;
	}
	default:
		return -EPROTONOSUPPORT;
	}
	if (p->ana_default_state && !nvmf_ana_state_valid(p->ana_default_state))
		return -EINVAL;
	/* TRADDR and TRSVCID are fixed-size discovery log fields: refuse, never truncate */
	if ((p->traddr && strlen(p->traddr) >= sizeof(((struct nvmf_tgt_port *)0)->traddr)) ||
	    (p->trsvcid && strlen(p->trsvcid) >= sizeof(((struct nvmf_tgt_port *)0)->trsvcid)))
		return -EINVAL;
	if (nvmf_tgt_find_port(tgt, p->portid))
		return -EEXIST;
	port = calloc(1, sizeof(*port));
	if (!port)
		return -ENOMEM;
	port->tgt = tgt;
	port->portid = p->portid;
	port->trtype = p->trtype;
	port->adrfam = p->adrfam;
	port->treq = p->treq;
	snprintf(port->traddr, sizeof(port->traddr), "%s", p->traddr ? p->traddr : "");
	snprintf(port->trsvcid, sizeof(port->trsvcid), "%s", p->trsvcid ? p->trsvcid : "");
	port->ops = ops;
	if (p->trtype == NVMF_TRTYPE_VFIO_USER)
		port->vfu = p->vfio_user;
	port->enabled = true;
	/* group 1 exists on every port, optimized (nvmet's ana_default_group) */
	for (unsigned int i = 0; i <= NVMF_TGT_MAX_ANA_GROUPS; i++) {
		atomic_init(&port->ana_state[i], i <= 1 || !p->ana_default_state
							 ? NVME_ANA_OPTIMIZED
							 : p->ana_default_state);
		atomic_init(&port->ana_set[i], false);
	}
	atomic_init(&port->ana_chgcnt, 1);
	if (tgt->started) {
		ret = ops->add_port(tgt, port);
		if (ret < 0) {
			free(port);
			return ret;
		}
	}
	pthread_rwlock_wrlock(&tgt->cfg_lock);
	arr = realloc(tgt->ports, (tgt->nr_ports + 1) * sizeof(*arr));
	if (arr) {
		tgt->ports = arr;
		tgt->ports[tgt->nr_ports++] = port;
	}
	pthread_rwlock_unlock(&tgt->cfg_lock);
	if (!arr) {
		if (tgt->started)
			ops->remove_port(port);
		free(port);
		return -ENOMEM;
	}
	if (tgt->started)
		nvmf_tgt_disc_changed(tgt);
	if (out)
		*out = port;
	return 0;
}

struct nvmf_tgt_port *nvmf_tgt_find_port(struct nvmf_tgt *tgt, uint16_t portid)
{
	for (size_t i = 0; i < tgt->nr_ports; i++)
		if (tgt->ports[i]->portid == portid)
			return tgt->ports[i];
	return NULL;
}

int nvmf_tgt_port_add_subsys(struct nvmf_tgt_port *port, struct nvmf_tgt_subsys *s)
{
	struct nvmf_tgt_subsys **arr;

	if (s->subtype != NVME_NQN_NVME)
		return -EINVAL;
	pthread_rwlock_wrlock(&port->tgt->cfg_lock);
	if (nvmf_tgt_port_has_subsys(port, s)) {
		pthread_rwlock_unlock(&port->tgt->cfg_lock);
		return 0;
	}
	arr = realloc(port->subsys, (port->nr_subsys + 1) * sizeof(*arr));
	if (arr) {
		port->subsys = arr;
		arr[port->nr_subsys++] = s;
	}
	pthread_rwlock_unlock(&port->tgt->cfg_lock);
	if (!arr)
		return -ENOMEM;
	nvmf_tgt_disc_changed(port->tgt);
	return 0;
}

bool nvmf_tgt_port_has_subsys(const struct nvmf_tgt_port *port, const struct nvmf_tgt_subsys *s)
{
	if (s->subtype == NVME_NQN_CURR)
		return true;
	for (size_t i = 0; i < port->nr_subsys; i++)
		if (port->subsys[i] == s)
			return true;
	return false;
}

int nvmf_tgt_port_add_referral(struct nvmf_tgt_port *port, const struct nvmf_tgt_port_params *p)
{
	struct nvmf_tgt_referral *arr, *ref;

	if (!p->traddr || !p->trsvcid || strlen(p->traddr) >= sizeof(ref->traddr) ||
	    strlen(p->trsvcid) >= sizeof(ref->trsvcid))
		return -EINVAL;
	pthread_rwlock_wrlock(&port->tgt->cfg_lock);
	arr = realloc(port->referrals, (port->nr_referrals + 1) * sizeof(*arr));
	if (!arr) {
		pthread_rwlock_unlock(&port->tgt->cfg_lock);
		return -ENOMEM;
	}
	port->referrals = arr;
	ref = &arr[port->nr_referrals++];
	memset(ref, 0, sizeof(*ref));
	ref->p = *p;
	snprintf(ref->traddr, sizeof(ref->traddr), "%s", p->traddr);
	snprintf(ref->trsvcid, sizeof(ref->trsvcid), "%s", p->trsvcid);
	ref->p.traddr = ref->traddr;
	ref->p.trsvcid = ref->trsvcid;
	pthread_rwlock_unlock(&port->tgt->cfg_lock);
	nvmf_tgt_disc_changed(port->tgt);
	return 0;
}

int nvmf_tgt_port_set_ana_state(struct nvmf_tgt_port *port, uint32_t anagrpid, uint8_t state)
{
	if (!anagrpid || anagrpid > NVMF_TGT_MAX_ANA_GROUPS || !nvmf_ana_state_valid(state))
		return -EINVAL;
	atomic_store_explicit(&port->ana_state[anagrpid], state, memory_order_relaxed);
	atomic_store_explicit(&port->ana_set[anagrpid], true, memory_order_relaxed);
	/* the count last: a log that shows the new count shows the new state (acquire there) */
	atomic_fetch_add_explicit(&port->ana_chgcnt, 1, memory_order_release);
	/* as nvmet's ana_state store: the same state again is still an event */
	nvmf_tgt_ana_changed(port->tgt, port, NULL);
	return 0;
}

struct nvmf_reactor *nvmf_tgt_pick_reactor(struct nvmf_tgt *tgt)
{
	unsigned int i = atomic_fetch_add_explicit(&tgt->next_reactor, 1, memory_order_relaxed);

	return tgt->reactors[i % tgt->nr_reactors];
}

/* Runs on the reactor's thread. 15 characters at most: "reactor_1023" fits. */
static void reactor_name_thread(void *arg)
{
	char name[16];

	snprintf(name, sizeof(name), "reactor_%u", nvmf_reactor_id(arg));
	pthread_setname_np(pthread_self(), name);
}

int nvmf_tgt_start(struct nvmf_tgt *tgt)
{
	size_t i;
	int ret;

	if (tgt->started)
		return -EALREADY;
	for (unsigned int r = 0; r < tgt->nr_reactors; r++) {
		ret = nvmf_reactor_start(tgt->reactors[r]);
		if (ret < 0) {
			if (ret == -EINVAL)
				nvmf_err("reactor %u: its CPU is not available", r);
			goto out_stop;
		}
		/* for top -H and /proc/PID/task; a failed send only leaves it unnamed */
		nvmf_reactor_send(tgt->reactors[r], reactor_name_thread, tgt->reactors[r]);
	}
	tgt->started = true;
	for (i = 0; i < tgt->nr_ports; i++) {
		struct nvmf_tgt_port *port = tgt->ports[i];

		if (!port->enabled) {
			nvmf_notice("port %u: disabled, not listening", port->portid);
			continue;
		}
		ret = port->ops->add_port(tgt, port);
		if (ret < 0) {
			nvmf_err("port %u: listen on %s:%s: %s", port->portid, port->traddr,
				 port->trsvcid, strerror(-ret));
			while (i-- > 0)
				tgt->ports[i]->ops->remove_port(tgt->ports[i]);
			goto out_stop;
		}
		if (port->trtype == NVMF_TRTYPE_LOOP)
			nvmf_notice("port %u: loop, open to hosts in this process", port->portid);
		else if (port->trtype == NVMF_TRTYPE_VFIO_USER)
			nvmf_notice("port %u: vfio-user, listening on %s", port->portid,
				    port->traddr);
		else
			nvmf_notice("port %u: listening on %s %s:%s", port->portid, port->ops->name,
				    port->traddr, port->trsvcid);
	}
	return 0;

out_stop:
	tgt->started = false;
	for (unsigned int r = 0; r < tgt->nr_reactors; r++) {
		nvmf_reactor_stop(tgt->reactors[r]);
		nvmf_reactor_join(tgt->reactors[r]);
	}
	return ret;
}

static void fail_all_ctrls(struct nvmf_tgt_subsys *s)
{
	struct nvmf_tgt_ctrl *c;

	pthread_mutex_lock(&s->lock);
	for (c = s->ctrls; c; c = c->next)
		nvmf_tgt_ctrl_fatal(c, "target shutting down");
	pthread_mutex_unlock(&s->lock);
}

void nvmf_tgt_stop(struct nvmf_tgt *tgt)
{
	uint64_t deadline;

	if (!tgt->started)
		return;
	for (size_t i = 0; i < tgt->nr_ports; i++)
		tgt->ports[i]->ops->remove_port(tgt->ports[i]);
	fail_all_ctrls(tgt->disc_subsys);
	for (size_t i = 0; i < tgt->nr_subsys; i++)
		fail_all_ctrls(tgt->subsys[i]);
	nvmf_tgt_tcp_ops.stop(tgt);
	nvmf_tgt_loop_ops.stop(tgt);
	nvmf_tgt_vfio_user_ops.stop(tgt);
	/* every queue drains its in-flight backend I/O before it goes: wait for that */
	deadline = nvmf_now_ns() + 30ull * 1000000000ull;
	while (atomic_load(&tgt->nr_sqs) > 0 && nvmf_now_ns() < deadline) {
		struct timespec ts = { .tv_nsec = 1000000 };

		nanosleep(&ts, NULL);
	}
	if (atomic_load(&tgt->nr_sqs) > 0)
		nvmf_warn("stop: %d queues still draining after 30 s", atomic_load(&tgt->nr_sqs));
	for (unsigned int r = 0; r < tgt->nr_reactors; r++)
		nvmf_reactor_stop(tgt->reactors[r]);
	for (unsigned int r = 0; r < tgt->nr_reactors; r++)
		nvmf_reactor_join(tgt->reactors[r]);
	tgt->started = false;
}

void nvmf_tgt_destroy(struct nvmf_tgt *tgt)
{
	if (!tgt)
		return;
	nvmf_tgt_stop(tgt);
	for (size_t i = 0; i < tgt->nr_ports; i++) {
		free(tgt->ports[i]->subsys);
		free(tgt->ports[i]->referrals);
		free(tgt->ports[i]);
	}
	free(tgt->ports);
	nvmf_tgt_retired_free_all(tgt);
	for (size_t i = 0; i < tgt->nr_subsys; i++)
		nvmf_tgt_subsys_free(tgt->subsys[i]);
	free(tgt->subsys);
	nvmf_tgt_subsys_free(tgt->disc_subsys);
	for (unsigned int r = 0; r < tgt->nr_reactors; r++)
		nvmf_reactor_destroy(tgt->reactors[r]);
	free(tgt->reactors);
	free(tgt->cpus);
	pthread_rwlock_destroy(&tgt->cfg_lock);
	pthread_mutex_destroy(&tgt->ctl_lock);
	nvmf_tgt_fault_fini(tgt);
	free(tgt);
}

/* ------------------------------------------------------------------------------------------
 * Request lifecycle
 */

void nvmf_tgt_sq_init(struct nvmf_tgt_sq *sq, struct nvmf_tgt *tgt, struct nvmf_tgt_port *port,
		      struct nvmf_reactor *reactor, const struct nvmf_tgt_transport_ops *ops)
{
	memset(sq, 0, sizeof(*sq));
	sq->tgt = tgt;
	sq->port = port;
	sq->reactor = reactor;
	sq->ops = ops;
	sq->icd_max = NVME_TCP_ADMIN_CCSZ;
	atomic_fetch_add(&tgt->nr_sqs, 1);
}

void nvmf_tgt_sq_quiesce(struct nvmf_tgt_sq *sq)
{
	struct nvmf_tgt_ctrl *ctrl = sq->ctrl;

	/* delayed and held commands come back now: a fault never blocks a teardown */
	nvmf_tgt_fault_quiesce(sq);
	if (!ctrl || sq->qid != 0)
		return;
	nvmf_tgt_ctrl_fatal(ctrl, "admin queue disconnected");
	nvmf_timer_cancel(sq->reactor, &ctrl->ka_timer);
	nvmf_tgt_ctrl_abort_aers(ctrl);
}

void nvmf_tgt_sq_destroy(struct nvmf_tgt_sq *sq)
{
	struct nvmf_tgt_ctrl *ctrl = sq->ctrl;

	if (ctrl) {
		struct nvmf_tgt_subsys *s = ctrl->subsys;

		/* lock order subsys -> ctrl, as nvmf_tgt_subsys_stats(): no count is lost */
		pthread_mutex_lock(&s->lock);
		pthread_mutex_lock(&ctrl->lock);
		if (ctrl->sqs[sq->qid] == sq)
			ctrl->sqs[sq->qid] = NULL;
		pthread_mutex_unlock(&ctrl->lock);
		s->read_bytes += atomic_load_explicit(&sq->stats.read_bytes, memory_order_relaxed);
		s->write_bytes +=
			atomic_load_explicit(&sq->stats.write_bytes, memory_order_relaxed);
		s->read_cmds += atomic_load_explicit(&sq->stats.read_cmds, memory_order_relaxed);
		s->write_cmds += atomic_load_explicit(&sq->stats.write_cmds, memory_order_relaxed);
		pthread_mutex_unlock(&s->lock);
		sq->ctrl = NULL;
		/* pairs with the reference taken when Connect bound this queue */
		nvmf_tgt_ctrl_put(ctrl);
	}
	atomic_fetch_sub(&sq->tgt->nr_sqs, 1);
}

uint16_t nvmf_tgt_errno_to_status(int err)
{
	switch (err) {
	case 0:
		return NVME_SC_SUCCESS;
	case -ENOSPC:
		return NVME_SC_CAP_EXCEEDED | NVME_STATUS_DNR;
	case -EINVAL:
	case -EOPNOTSUPP:
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	case -EROFS:
	case -EPERM:
	case -EACCES:
		return NVME_SC_ACCESS_DENIED | NVME_STATUS_DNR;
	default:
		return NVME_SC_INTERNAL | NVME_STATUS_DNR;
	}
}

uint16_t nvmf_tgt_req_set_data_len(struct nvmf_tgt_req *req, uint32_t len)
{
	if (len > req->buf_len) {
		req->error_loc = offsetof(struct nvme_sqe, dptr);
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	}
	req->data_len = len;
	if (len && req->data_dir == NVMF_DATA_H2C)
		return req->sq->ops->data_in(req);
	return NVME_SC_SUCCESS;
}

bool nvmf_tgt_check_transfer_len(struct nvmf_tgt_req *req, uint32_t len)
{
	if (req->sq->pcie) {
		uint16_t status = nvmf_tgt_req_set_data_len(req, len);

		if (!status)
			return true;
		nvmf_tgt_req_complete(req, status);
		return false;
	}
	if (req->data_len == len)
		return true;
	req->error_loc = offsetof(struct nvme_sqe, dptr) + offsetof(struct nvme_sgl_desc, length);
	nvmf_tgt_req_complete(req, NVME_SC_SGL_INVALID_DATA | NVME_STATUS_DNR);
	return false;
}

/* data direction is in the two low opcode bits (NVMe Base 2.0c Figure 28) */
static uint8_t opcode_data_dir(uint8_t opc)
{
	switch (opc & 3) {
	case 1:
		return NVMF_DATA_H2C;
	case 2:
		return NVMF_DATA_C2H;
	default:
		return NVMF_DATA_NONE;
	}
}

static uint16_t parse_sgl(struct nvmf_tgt_req *req)
{
	const struct nvme_sgl_desc *sgl = &req->cmd.dptr.sgl;
	uint8_t opc = req->cmd.opcode;
	uint32_t len = sgl->length;

	if (opc == nvme_fabrics_command)
		opc = ((const struct nvmf_common_cmd *)&req->cmd)->fctype;
	req->data_dir = opcode_data_dir(opc);
	if (!len) {
		req->data_dir = NVMF_DATA_NONE;
		return NVME_SC_SUCCESS;
	}
	req->error_loc = offsetof(struct nvme_sqe, dptr);
	if (req->data_dir == NVMF_DATA_NONE)
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	switch (sgl->type) {
	case NVME_SGL_ID_INCAPSULE:
		if (req->data_dir != NVMF_DATA_H2C)
			return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
		/* ICDOFF is 0: in-capsule data starts right after the SQE */
		if (sgl->addr != 0 || len > req->sq->icd_max)
			return NVME_SC_SGL_INVALID_OFFSET | NVME_STATUS_DNR;
		break;
	case NVME_SGL_ID_TCP_TRANSPORT:
		break;
	default:
		req->error_loc += offsetof(struct nvme_sgl_desc, type);
		return NVME_SC_SGL_INVALID_TYPE | NVME_STATUS_DNR;
	}
	if (len > req->buf_len) {
		req->error_loc += offsetof(struct nvme_sgl_desc, length);
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	}
	req->data_len = len;
	req->error_loc = 0xffff;
	return NVME_SC_SUCCESS;
}

uint16_t nvmf_tgt_req_init(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt_sq *sq = req->sq;
	struct nvmf_tgt_ctrl *ctrl = sq->ctrl;
	uint16_t status;

	req->execute = NULL;
	req->ns = NULL;
	req->data_len = 0;
	req->transfer_len = 0;
	req->data_dir = NVMF_DATA_NONE;
	req->completed = false;
	req->zero_data = false;
	req->error_loc = 0xffff;
	req->error_lba = 0;
	req->ns_ref = 0;
	memset(&req->cqe, 0, sizeof(req->cqe));
	nvmf_tgt_req_fault_reset(req);

	if (!sq->sqhd_disabled && sq->size)
		sq->sqhd = (uint16_t)((sq->sqhd + 1) % sq->size);
	if (ctrl)
		nvmf_tgt_ctrl_ka_activity(ctrl);

	if (req->cmd.flags & NVME_CMD_FUSE_MASK) {
		req->error_loc = offsetof(struct nvme_sqe, flags);
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	}
	if (sq->pcie) {
		/*
		 * PCIe: PRPs (00b) or an SGL with a contiguous metadata buffer (01b), in host
		 * memory; the length comes from the command fields, later. No fabrics commands
		 * (NVMe Base 2.0c 6: they exist on fabrics only).
		 */
		uint8_t psdt = req->cmd.flags & NVME_CMD_PSDT_MASK;

		if (psdt != NVME_CMD_PSDT_PRP && psdt != NVME_CMD_PSDT_SGL_MPTR_CONTIG) {
			req->error_loc = offsetof(struct nvme_sqe, flags);
			return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
		}
		if (req->cmd.opcode == nvme_fabrics_command) {
			req->error_loc = offsetof(struct nvme_sqe, opcode);
			return NVME_SC_INVALID_OPCODE | NVME_STATUS_DNR;
		}
		req->data_dir = opcode_data_dir(req->cmd.opcode);
	} else {
		/* fabrics carry data in SGLs only: PSDT must be 01b or 10b? nvmet and the
		 * Linux host use 01b (SGL, contiguous metadata); accept exactly that */
		if ((req->cmd.flags & NVME_CMD_PSDT_MASK) != NVME_CMD_PSDT_SGL_MPTR_CONTIG) {
			req->error_loc = offsetof(struct nvme_sqe, flags);
			return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
		}
		status = parse_sgl(req);
		if (status)
			return status;
		if (req->cmd.opcode == nvme_fabrics_command)
			return nvmf_tgt_parse_fabrics_cmd(req);
	}
	if (!ctrl) {
		/* the first command on a queue must be Connect (NVMe Base 2.0c 6.3) */
		req->error_loc = offsetof(struct nvme_sqe, opcode);
		return NVME_SC_CMD_SEQ_ERROR | NVME_STATUS_DNR;
	}
	/*
	 * A controller being torn down (keep-alive expiry, a disabled or removed port, a
	 * transport error) executes nothing it parses from now on: its host may already have
	 * sent these commands again on another path, and a late write would land over newer
	 * data. Controller Pathing Error, without DNR, so a multipath host retries elsewhere.
	 */
	if (unlikely(atomic_load_explicit(&ctrl->fatal, memory_order_relaxed))) {
		req->error_loc = offsetof(struct nvme_sqe, opcode);
		return NVME_SC_CTRL_PATH_ERROR;
	}
	if (!(atomic_load_explicit(&ctrl->cc, memory_order_acquire) & NVME_CC_ENABLE) ||
	    !(atomic_load_explicit(&ctrl->csts, memory_order_acquire) & NVME_CSTS_RDY)) {
		req->error_loc = offsetof(struct nvme_sqe, opcode);
		return NVME_SC_CMD_SEQ_ERROR | NVME_STATUS_DNR;
	}
	if (sq->qid == 0) {
		if (ctrl->subsys->subtype == NVME_NQN_CURR)
			status = nvmf_tgt_parse_discovery_cmd(req);
		else
			status = nvmf_tgt_parse_admin_cmd(req);
	} else {
		/* before any namespace lookup; left in nvmf_tgt_req_complete() */
		nvmf_tgt_req_ns_enter(req);
		status = nvmf_tgt_parse_io_cmd(req);
	}
	/* fault injection (STATUS rules): one relaxed load when no rule exists */
	if (unlikely(atomic_load_explicit(&sq->tgt->nr_faults, memory_order_relaxed)) && !status)
		nvmf_tgt_fault_req_init(req);
	return status;
}

void nvmf_tgt_req_complete(struct nvmf_tgt_req *req, uint16_t status)
{
	struct nvmf_tgt_sq *sq = req->sq;

	/* the command is done with its namespace (the removal path may free it now) */
	nvmf_tgt_req_ns_leave(req);
	/* fault injection may delay, hold or park the request: it completes here again later */
	if (unlikely(atomic_load_explicit(&sq->tgt->nr_faults, memory_order_relaxed)) &&
	    nvmf_tgt_fault_complete(req, status))
		return;
	req->cqe.cid = req->cmd.cid;
	req->cqe.sq_id = sq->qid;
	req->cqe.sq_head = sq->sqhd;
	req->cqe.status = (uint16_t)(status << 1);
	req->completed = true;
	if (status && sq->ctrl)
		nvmf_tgt_ctrl_add_error(req);
	if (status && nvmf_log_enabled(NVMF_LOG_DEBUG))
		nvmf_debug("qid %u cid %u opcode 0x%02x: status 0x%04x", sq->qid, req->cmd.cid,
			   req->cmd.opcode, status);
	sq->ops->queue_response(req);
}
