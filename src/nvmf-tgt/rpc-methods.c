// SPDX-License-Identifier: MIT
/*
 * The control socket's methods. Each one checks every parameter first (unknown keys
 * included) and only then changes the target, so a refused request changes nothing. Listing
 * and save_config read the target's objects directly (lib/target/core.h): the daemon is part
 * of the same project and the public API has no need for a full introspection interface.
 */
#include "rpc.h"
#include "common/ana.h"
#include "common/hex.h"

#include "nvmf/target.h"
#include "target/core.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rpc_call {
	struct nvmf_tgt *tgt;
	struct json_object *params; /* an object (possibly empty) */
	struct json_object *result;
	int code; /* 0 or a JSON-RPC error code */
	char msg[512];
};

static bool rpc_err(struct rpc_call *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool rpc_err(struct rpc_call *c, int code, const char *fmt, ...)
{
	va_list ap;

	c->code = code;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	return false;
}

/* the target refused a valid request: @what failed with -errno @ret */
static bool rpc_fail(struct rpc_call *c, int ret, const char *what)
{
	return rpc_err(c, RPC_FAILED, "%s: %s", what, strerror(-ret));
}

/* -------------------------------------------------------------------------------------- */
/* Parameters */

static bool check_keys(struct rpc_call *c, const char *const *keys)
{
	struct json_object_iterator it = json_object_iter_begin(c->params);
	struct json_object_iterator end = json_object_iter_end(c->params);

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		bool known = false;

		for (const char *const *k = keys; *k && !known; k++)
			known = !strcmp(*k, key);
		if (!known)
			return rpc_err(c, RPC_INVALID_PARAMS, "params.%.60s: unknown parameter",
				       key);
	}
	return true;
}

/* Return: 1 found, 0 absent (allowed), -1 error (recorded in @c) */
static int p_str(struct rpc_call *c, const char *key, bool required, const char **out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(c->params, key, &v) ||
	    json_object_is_type(v, json_type_null)) {
		if (required)
			return rpc_err(c, RPC_INVALID_PARAMS, "params.%s: missing", key), -1;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return rpc_err(c, RPC_INVALID_PARAMS, "params.%s: not a string", key), -1;
	*out = json_object_get_string(v);
	return 1;
}

static int p_u64(struct rpc_call *c, const char *key, bool required, uint64_t max, uint64_t *out)
{
	struct json_object *v;
	uint64_t val;

	if (!json_object_object_get_ex(c->params, key, &v) ||
	    json_object_is_type(v, json_type_null)) {
		if (required)
			return rpc_err(c, RPC_INVALID_PARAMS, "params.%s: missing", key), -1;
		return 0;
	}
	if (json_object_is_type(v, json_type_int)) {
		/* json-c clamps get_int64 of a large unsigned value to INT64_MAX, never < 0 */
		if (json_object_get_int64(v) < 0)
			return rpc_err(c, RPC_INVALID_PARAMS, "params.%s: negative", key), -1;
		val = json_object_get_uint64(v);
	} else if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		char *end;

		errno = 0;
		val = strtoull(s, &end, 0);
		if (!*s || *end || errno || *s == '-')
			return rpc_err(c, RPC_INVALID_PARAMS,
				       "params.%s: \"%.40s\" is not a number", key, s),
			       -1;
	} else {
		return rpc_err(c, RPC_INVALID_PARAMS, "params.%s: not an integer", key), -1;
	}
	if (val > max)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.%s: %" PRIu64 " is above %" PRIu64,
			       key, val, max),
		       -1;
	*out = val;
	return 1;
}

static int p_bool(struct rpc_call *c, const char *key, bool *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(c->params, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return 0;
	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v);
		return 1;
	}
	if (json_object_is_type(v, json_type_int) &&
	    (json_object_get_int64(v) == 0 || json_object_get_int64(v) == 1)) {
		*out = json_object_get_int64(v) == 1;
		return 1;
	}
	return rpc_err(c, RPC_INVALID_PARAMS, "params.%s: not a boolean", key), -1;
}

static int p_double(struct rpc_call *c, const char *key, double *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(c->params, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
		return rpc_err(c, RPC_INVALID_PARAMS, "params.%s: not a number", key), -1;
	*out = json_object_get_double(v);
	return 1;
}

static void fmt_uuid(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

static struct nvmf_tgt_subsys *p_subsys(struct rpc_call *c, const char *key)
{
	const char *nqn;
	struct nvmf_tgt_subsys *s;

	if (p_str(c, key, true, &nqn) < 0)
		return NULL;
	s = nvmf_tgt_find_subsys_by_nqn(c->tgt, nqn);
	if (!s)
		rpc_err(c, RPC_INVALID_PARAMS, "params.%s: no subsystem \"%.223s\"", key, nqn);
	return s;
}

static struct nvmf_tgt_port *p_port(struct rpc_call *c)
{
	uint64_t id;
	struct nvmf_tgt_port *p;

	if (p_u64(c, "portid", true, UINT16_MAX, &id) < 0)
		return NULL;
	p = nvmf_tgt_find_port_by_id(c->tgt, (uint16_t)id);
	if (!p)
		rpc_err(c, RPC_INVALID_PARAMS, "params.portid: no port %" PRIu64, id);
	return p;
}

/* -------------------------------------------------------------------------------------- */
/* Describing the target (get_* and save_config) */

static const char *trtype_name(uint8_t t)
{
	switch (t) {
	case NVMF_TRTYPE_TCP:
		return "tcp";
	case NVMF_TRTYPE_LOOP:
		return "loop";
	case NVMF_TRTYPE_VFIO_USER:
		return "vfio-user";
	default:
		return "unknown";
	}
}

static const char *adrfam_name(uint8_t a)
{
	switch (a) {
	case NVMF_ADRFAM_IPV4:
		return "ipv4";
	case NVMF_ADRFAM_IPV6:
		return "ipv6";
	case NVMF_ADRFAM_LOOP:
		return "loop";
	case 0:
		return "pcie"; /* as nvmet spells address family 0 in configfs */
	default:
		return "unknown";
	}
}

static const char *treq_name(uint8_t t)
{
	switch (t & 3) {
	case 1:
		return "required";
	case 2:
		return "not required";
	default:
		return "not specified";
	}
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

/* one namespace: @nvmetcli selects the nvmetcli layout (device{}) over the flat one */
static struct json_object *ns_json(const struct nvmf_tgt_ns *ns, bool nvmetcli)
{
	struct json_object *o = json_object_new_object();
	struct json_object *dev = nvmetcli ? json_object_new_object() : o;
	char id[37], nguid[33];
	bool file = !strcmp(ns->ops->name, "file");

	add_int(o, "nsid", ns->nsid);
	fmt_uuid(ns->uuid, id);
	for (int i = 0; i < 16; i++)
		snprintf(nguid + 2 * i, 3, "%02x", ns->nguid[i]);
	if (nvmetcli) {
		add_int(o, "enable", ns->enabled);
		add_int(o, "ana_grpid", ns->anagrpid);
		if (file)
			add_str(dev, "path", ns->path ? ns->path : "");
		else
			add_str(dev, "nvmf_backend", ns->ops->name);
		if (!file || ns->blksz_shift != 9)
			add_int(dev, "nvmf_size", (int64_t)ns->size_bytes);
		if (ns->blksz_shift != 9)
			add_int(dev, "nvmf_block_size", 1 << ns->blksz_shift);
		add_str(dev, "uuid", id);
		add_str(dev, "nguid", nguid);
		json_object_object_add(o, "device", dev);
		return o;
	}
	add_str(o, "backend", ns->ops->name);
	if (ns->path)
		add_str(o, "path", ns->path);
	add_int(o, "size", (int64_t)ns->size_bytes);
	add_int(o, "block_size", 1 << ns->blksz_shift);
	add_int(o, "nsze", (int64_t)nvmf_tgt_ns_nsze(ns));
	json_object_object_add(o, "enabled", json_object_new_boolean(ns->enabled));
	add_int(o, "anagrpid", ns->anagrpid);
	add_str(o, "uuid", id);
	add_str(o, "nguid", nguid);
	return o;
}

static struct json_object *subsys_json(struct nvmf_tgt_subsys *s, bool nvmetcli)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	struct json_object *hosts = json_object_new_array();
	struct json_object *attr = nvmetcli ? json_object_new_object() : o;
	const struct nvmf_tgt_ns_table *t = nvmf_tgt_ns_table(s);
	char ver[16];

	add_str(o, "nqn", s->nqn);
	for (size_t i = 0; i < s->nr_allowed_hosts; i++)
		json_object_array_add(hosts, json_object_new_string(s->allowed_hosts[i]));
	json_object_object_add(o, "allowed_hosts", hosts);
	if (nvmetcli)
		add_str(attr, "allow_any_host", s->allow_any_host ? "1" : "0");
	else
		json_object_object_add(o, "allow_any_host",
				       json_object_new_boolean(s->allow_any_host));
	add_str(attr, "serial", s->serial);
	add_str(attr, "model", s->model);
	add_str(attr, "firmware", s->firmware);
	if (s->version & 0xff)
		snprintf(ver, sizeof(ver), "%u.%u.%u", s->version >> 16, (s->version >> 8) & 0xff,
			 s->version & 0xff);
	else
		snprintf(ver, sizeof(ver), "%u.%u", s->version >> 16, (s->version >> 8) & 0xff);
	add_str(attr, "version", ver);
	add_int(attr, "cntlid_min", s->cntlid_min);
	add_int(attr, "cntlid_max", s->cntlid_max);
	if (nvmetcli)
		json_object_object_add(o, "attr", attr);
	for (uint32_t i = 0; i < t->max_nsid; i++)
		if (t->ns[i])
			json_object_array_add(arr, ns_json(t->ns[i], nvmetcli));
	json_object_object_add(o, "namespaces", arr);
	return o;
}

static struct json_object *addr_json(uint8_t trtype, uint8_t adrfam, uint8_t treq,
				     const char *traddr, const char *trsvcid)
{
	struct json_object *a = json_object_new_object();

	add_str(a, "trtype", trtype_name(trtype));
	add_str(a, "adrfam", adrfam_name(adrfam));
	add_str(a, "traddr", traddr);
	add_str(a, "trsvcid", trsvcid);
	add_str(a, "treq", treq_name(treq));
	return a;
}

/*
 * nvmetcli's ana_groups of a port: group 1 (always there, as nvmet's default group), every
 * group whose state was set on the port, and every group a namespace of a subsystem the port
 * exports belongs to (whose state a host can see through it). Other groups have the port's
 * default state, which is what a reload gives them too (apply.c). Under cfg_lock.
 */
static struct json_object *ana_groups_json(struct nvmf_tgt_port *p)
{
	struct json_object *arr = json_object_new_array();
	bool listed[NVMF_TGT_MAX_ANA_GROUPS + 1] = { false };

	listed[1] = true;
	for (unsigned int g = 2; g <= NVMF_TGT_MAX_ANA_GROUPS; g++)
		listed[g] = atomic_load(&p->ana_set[g]);
	for (size_t i = 0; i < p->nr_subsys; i++) {
		const struct nvmf_tgt_ns_table *t = nvmf_tgt_ns_table(p->subsys[i]);

		for (uint32_t n = 0; n < t->max_nsid; n++) {
			const struct nvmf_tgt_ns *ns = t->ns[n];

			if (ns && ns->anagrpid <= NVMF_TGT_MAX_ANA_GROUPS)
				listed[ns->anagrpid] = true;
		}
	}
	for (unsigned int g = 1; g <= NVMF_TGT_MAX_ANA_GROUPS; g++) {
		struct json_object *go, *so;

		if (!listed[g])
			continue;
		go = json_object_new_object();
		so = json_object_new_object();
		add_str(so, "state", nvmf_ana_state_name(atomic_load(&p->ana_state[g])));
		json_object_object_add(go, "ana", so);
		add_int(go, "grpid", g);
		json_object_array_add(arr, go);
	}
	return arr;
}

static struct json_object *port_json(struct nvmf_tgt_port *p)
{
	struct json_object *o = json_object_new_object(), *subs = json_object_new_array();
	struct json_object *refs = json_object_new_array();

	add_int(o, "portid", p->portid);
	/* in get_ports and in save_config: the configuration loader reads it back */
	json_object_object_add(o, "enabled", json_object_new_boolean(p->enabled));
	json_object_object_add(o, "addr",
			       addr_json(p->trtype, p->adrfam, p->treq, p->traddr, p->trsvcid));
	for (size_t i = 0; i < p->nr_subsys; i++)
		json_object_array_add(subs, json_object_new_string(p->subsys[i]->nqn));
	json_object_object_add(o, "subsystems", subs);
	for (size_t i = 0; i < p->nr_referrals; i++) {
		const struct nvmf_tgt_referral *r = &p->referrals[i];
		struct json_object *ro = json_object_new_object();
		char name[32];

		snprintf(name, sizeof(name), "ref%zu", i + 1);
		add_str(ro, "name", name);
		add_int(ro, "enable", 1);
		add_int(ro, "portid", r->p.portid);
		json_object_object_add(
			ro, "addr",
			addr_json(r->p.trtype, r->p.adrfam, r->p.treq, r->traddr, r->trsvcid));
		json_object_array_add(refs, ro);
	}
	json_object_object_add(o, "referrals", refs);
	json_object_object_add(o, "ana_groups", ana_groups_json(p));
	if (p->trtype == NVMF_TRTYPE_VFIO_USER) {
		struct json_object *vu = json_object_new_object();

		add_int(vu, "kas", p->vfu.kas);
		if (p->vfu.accept_kato != NVMF_TGT_VFU_KATO_DEFAULT)
			json_object_object_add(vu, "accept_kato",
					       json_object_new_boolean(p->vfu.accept_kato ==
								       NVMF_TGT_VFU_KATO_ACCEPT));
		if (p->vfu.max_io_queues)
			add_int(vu, "max_io_queues", p->vfu.max_io_queues);
		if (p->vfu.max_queue_size)
			add_int(vu, "max_queue_size", p->vfu.max_queue_size);
		json_object_object_add(o, "vfio_user", vu);
	}
	return o;
}

/* the reactors' CPUs as an nvmf.cpumask list ("[0,1]"), one entry per reactor, in order */
#define NVMF_CPU_LIST_MAX 4096
static const char *cpu_list(const struct nvmf_tgt *tgt, char buf[NVMF_CPU_LIST_MAX])
{
	size_t off = 0;

	buf[off++] = '[';
	for (unsigned int i = 0; i < tgt->nr_reactors && off < NVMF_CPU_LIST_MAX - 16; i++)
		off += (size_t)snprintf(buf + off, NVMF_CPU_LIST_MAX - off, "%s%d", i ? "," : "",
					tgt->cpus[i]);
	snprintf(buf + off, NVMF_CPU_LIST_MAX - off, "]");
	return buf;
}

static struct json_object *config_json(struct nvmf_tgt *tgt)
{
	char buf[NVMF_CPU_LIST_MAX];
	struct json_object *o = json_object_new_object(), *hosts = json_object_new_array();
	struct json_object *subs = json_object_new_array(), *ports = json_object_new_array();
	struct json_object *ours = json_object_new_object();

	pthread_rwlock_rdlock(&tgt->cfg_lock);
	for (size_t i = 0; i < tgt->nr_subsys; i++) {
		struct nvmf_tgt_subsys *s = tgt->subsys[i];

		json_object_array_add(subs, subsys_json(s, true));
		for (size_t h = 0; h < s->nr_allowed_hosts; h++) {
			bool dup = false;

			for (size_t k = 0; k < json_object_array_length(hosts) && !dup; k++) {
				struct json_object *e = json_object_array_get_idx(hosts, k), *n;

				json_object_object_get_ex(e, "nqn", &n);
				dup = !strcmp(json_object_get_string(n), s->allowed_hosts[h]);
			}
			if (!dup) {
				struct json_object *e = json_object_new_object();

				add_str(e, "nqn", s->allowed_hosts[h]);
				json_object_array_add(hosts, e);
			}
		}
	}
	for (size_t i = 0; i < tgt->nr_ports; i++)
		json_object_array_add(ports, port_json(tgt->ports[i]));
	pthread_rwlock_unlock(&tgt->cfg_lock);
	json_object_object_add(o, "hosts", hosts);
	json_object_object_add(o, "ports", ports);
	json_object_object_add(o, "subsystems", subs);
	add_int(ours, "reactors", tgt->nr_reactors);
	if (tgt->cpus)
		json_object_object_add(ours, "cpumask", json_object_new_string(cpu_list(tgt, buf)));
	json_object_object_add(o, "nvmf", ours);
	return o;
}

/* -------------------------------------------------------------------------------------- */
/* Methods */

static const char *const no_keys[] = { NULL };

static bool m_get_subsystems(struct rpc_call *c)
{
	static const char *const keys[] = { "nqn", NULL };
	const char *nqn = NULL;
	struct json_object *arr;

	if (!check_keys(c, keys) || p_str(c, "nqn", false, &nqn) < 0)
		return false;
	if (nqn && !nvmf_tgt_find_subsys_by_nqn(c->tgt, nqn))
		return rpc_err(c, RPC_INVALID_PARAMS, "params.nqn: no subsystem \"%.223s\"", nqn);
	arr = json_object_new_array();
	pthread_rwlock_rdlock(&c->tgt->cfg_lock);
	for (size_t i = 0; i < c->tgt->nr_subsys; i++)
		if (!nqn || !strcmp(nqn, c->tgt->subsys[i]->nqn))
			json_object_array_add(arr, subsys_json(c->tgt->subsys[i], false));
	pthread_rwlock_unlock(&c->tgt->cfg_lock);
	c->result = arr;
	return true;
}

static bool m_add_subsystem(struct rpc_call *c)
{
	static const char *const keys[] = {
		"nqn",	      "serial",	    "model", "firmware", "allow_any_host",
		"cntlid_min", "cntlid_max", NULL
	};
	struct nvmf_tgt_subsys_params p = { 0 };
	uint64_t lo = 0, hi = 0;
	bool any = false;
	int ret;

	if (!check_keys(c, keys) || p_str(c, "nqn", true, &p.nqn) < 0 ||
	    p_str(c, "serial", false, &p.serial) < 0 || p_str(c, "model", false, &p.model) < 0 ||
	    p_str(c, "firmware", false, &p.firmware) < 0 || p_bool(c, "allow_any_host", &any) < 0 ||
	    p_u64(c, "cntlid_min", false, NVME_CNTLID_MAX, &lo) < 0 ||
	    p_u64(c, "cntlid_max", false, NVME_CNTLID_MAX, &hi) < 0)
		return false;
	if (strlen(p.nqn) > NVME_NQN_MAX_LEN || !strcmp(p.nqn, NVME_DISC_SUBSYS_NAME))
		return rpc_err(c, RPC_INVALID_PARAMS, "params.nqn: not a usable subsystem NQN");
	if (p.serial && strlen(p.serial) > 20)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.serial: more than 20 characters");
	if (p.model && strlen(p.model) > 40)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.model: more than 40 characters");
	if (p.firmware && strlen(p.firmware) > 8)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.firmware: more than 8 characters");
	if ((lo && lo < NVME_CNTLID_MIN) || (lo && hi && lo > hi))
		return rpc_err(c, RPC_INVALID_PARAMS, "params.cntlid_min: outside 1..cntlid_max");
	p.allow_any_host = any;
	p.cntlid_min = (uint16_t)lo;
	p.cntlid_max = (uint16_t)hi;
	ret = nvmf_tgt_add_subsys(c->tgt, &p, NULL);
	if (ret == -EEXIST)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.nqn: subsystem already exists");
	if (ret < 0)
		return rpc_fail(c, ret, "add_subsystem");
	return true;
}

static bool m_remove_subsystem(struct rpc_call *c)
{
	static const char *const keys[] = { "nqn", NULL };
	struct nvmf_tgt_subsys *s;
	int ret;

	if (!check_keys(c, keys) || !(s = p_subsys(c, "nqn")))
		return false;
	ret = nvmf_tgt_remove_subsys(c->tgt, s);
	return ret < 0 ? rpc_fail(c, ret, "remove_subsystem") : true;
}

static bool m_host(struct rpc_call *c, bool add)
{
	static const char *const keys[] = { "nqn", "host", NULL };
	struct nvmf_tgt_subsys *s;
	const char *host;
	int ret;

	if (!check_keys(c, keys) || !(s = p_subsys(c, "nqn")) || p_str(c, "host", true, &host) < 0)
		return false;
	if (!*host || strlen(host) > NVME_NQN_MAX_LEN)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.host: not a host NQN");
	ret = add ? nvmf_tgt_subsys_allow_host(s, host) : nvmf_tgt_subsys_disallow_host(s, host);
	if (ret == -EEXIST)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.host: already allowed");
	if (ret == -ENOENT)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.host: not in the allowed hosts");
	return ret < 0 ? rpc_fail(c, ret, add ? "add_host" : "remove_host") : true;
}

static bool m_add_host(struct rpc_call *c)
{
	return m_host(c, true);
}

static bool m_remove_host(struct rpc_call *c)
{
	return m_host(c, false);
}

static bool m_set_allow_any_host(struct rpc_call *c)
{
	static const char *const keys[] = { "nqn", "allow", NULL };
	struct nvmf_tgt_subsys *s;
	bool allow = false;

	if (!check_keys(c, keys) || !(s = p_subsys(c, "nqn")))
		return false;
	if (p_bool(c, "allow", &allow) <= 0)
		return c->code ? false : rpc_err(c, RPC_INVALID_PARAMS, "params.allow: missing");
	nvmf_tgt_subsys_set_allow_any_host(s, allow);
	return true;
}

static bool m_add_namespace(struct rpc_call *c)
{
	static const char *const keys[] = { "nqn",   "nsid",	   "backend",  "path",
					    "size",  "block_size", "buffered", "uuid",
					    "nguid", "anagrpid",   "enable",   NULL };
	struct nvmf_tgt_ns_params p = { .enable = true };
	const char *backend = "file", *uuid = NULL, *nguid = NULL;
	uint8_t u[16], g[16];
	uint64_t nsid, size = 0, bs = 0, grp = 0;
	struct nvmf_tgt_subsys *s;
	int ret;

	if (!check_keys(c, keys) || !(s = p_subsys(c, "nqn")) ||
	    p_u64(c, "nsid", true, NVME_NSID_ALL - 1, &nsid) < 0 ||
	    p_str(c, "backend", false, &backend) < 0 || p_str(c, "path", false, &p.path) < 0 ||
	    p_u64(c, "size", false, UINT64_MAX, &size) < 0 ||
	    p_u64(c, "block_size", false, 65536, &bs) < 0 ||
	    p_bool(c, "buffered", &p.buffered) < 0 || p_str(c, "uuid", false, &uuid) < 0 ||
	    p_str(c, "nguid", false, &nguid) < 0 ||
	    p_u64(c, "anagrpid", false, NVMF_TGT_MAX_ANA_GROUPS, &grp) < 0 ||
	    p_bool(c, "enable", &p.enable) < 0)
		return false;
	if (!nsid)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.nsid: 0 is not a namespace ID");
	if (!strcmp(backend, "file"))
		p.backend = NVMF_TGT_BACKEND_FILE;
	else if (!strcmp(backend, "null"))
		p.backend = NVMF_TGT_BACKEND_NULL;
	else if (!strcmp(backend, "mem"))
		p.backend = NVMF_TGT_BACKEND_MEM;
	else
		return rpc_err(c, RPC_INVALID_PARAMS,
			       "params.backend: \"%.40s\" is not file, null "
			       "or mem",
			       backend);
	if (p.backend == NVMF_TGT_BACKEND_FILE && (!p.path || !*p.path))
		return rpc_err(c, RPC_INVALID_PARAMS, "params.path: missing (file backend)");
	if (p.backend != NVMF_TGT_BACKEND_FILE && !size)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.size: missing (%s backend)", backend);
	if (nvmf_bdev_blksz_shift((uint32_t)bs) < 0)
		return rpc_err(c, RPC_INVALID_PARAMS,
			       "params.block_size: not a power of two in 512..65536");
	if (uuid && !nvmf_hex_parse_16(uuid, u))
		return rpc_err(c, RPC_INVALID_PARAMS, "params.uuid: not a UUID");
	if (nguid && !nvmf_hex_parse_16(nguid, g))
		return rpc_err(c, RPC_INVALID_PARAMS, "params.nguid: not 32 hex digits");
	if (nvmf_tgt_ns_lookup(s, (uint32_t)nsid))
		return rpc_err(c, RPC_INVALID_PARAMS, "params.nsid: namespace %" PRIu64 " exists",
			       nsid);
	p.nsid = (uint32_t)nsid;
	p.size_bytes = size;
	p.block_size = (uint32_t)bs;
	p.anagrpid = (uint32_t)grp;
	p.uuid = uuid ? u : NULL;
	p.nguid = nguid ? g : NULL;
	ret = nvmf_tgt_subsys_add_ns(s, &p);
	if (ret < 0)
		return rpc_err(c, RPC_FAILED, "add_namespace: %s%s%s", strerror(-ret),
			       p.path ? ": " : "", p.path ? p.path : "");
	return true;
}

static bool m_remove_namespace(struct rpc_call *c)
{
	static const char *const keys[] = { "nqn", "nsid", NULL };
	struct nvmf_tgt_subsys *s;
	uint64_t nsid;
	int ret;

	if (!check_keys(c, keys) || !(s = p_subsys(c, "nqn")) ||
	    p_u64(c, "nsid", true, UINT32_MAX, &nsid) < 0)
		return false;
	ret = nvmf_tgt_subsys_remove_ns(s, (uint32_t)nsid);
	if (ret == -ENOENT)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.nsid: no namespace %" PRIu64, nsid);
	return ret < 0 ? rpc_fail(c, ret, "remove_namespace") : true;
}

static bool m_resize_namespace(struct rpc_call *c)
{
	static const char *const keys[] = { "nqn", "nsid", "size", NULL };
	struct nvmf_tgt_subsys *s;
	uint64_t nsid, size = 0, now = 0;
	int ret;

	if (!check_keys(c, keys) || !(s = p_subsys(c, "nqn")) ||
	    p_u64(c, "nsid", true, UINT32_MAX, &nsid) < 0 ||
	    p_u64(c, "size", false, UINT64_MAX, &size) < 0)
		return false;
	ret = nvmf_tgt_subsys_resize_ns(s, (uint32_t)nsid, size, &now);
	if (ret == -ENOENT)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.nsid: no namespace %" PRIu64, nsid);
	if (ret == -EINVAL)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.size: less than one logical block");
	if (ret == -EOPNOTSUPP)
		return rpc_err(c, RPC_FAILED, "resize_namespace: this backend has a fixed size");
	if (ret < 0)
		return rpc_fail(c, ret, "resize_namespace");
	c->result = json_object_new_object();
	add_int(c->result, "size", (int64_t)now);
	return true;
}

static bool m_get_ports(struct rpc_call *c)
{
	struct json_object *arr;

	if (!check_keys(c, no_keys))
		return false;
	arr = json_object_new_array();
	pthread_rwlock_rdlock(&c->tgt->cfg_lock);
	for (size_t i = 0; i < c->tgt->nr_ports; i++)
		json_object_array_add(arr, port_json(c->tgt->ports[i]));
	pthread_rwlock_unlock(&c->tgt->cfg_lock);
	c->result = arr;
	return true;
}

/* params.vfio_user of add_port: the exported PCIe controller's options, as in the config */
static bool p_vfio_user(struct rpc_call *c, struct nvmf_tgt_vfio_user_params *v)
{
	static const struct {
		const char *key;
		uint64_t min, max;
	} ints[] = {
		{ "kas", 0, UINT16_MAX },
		{ "max_io_queues", 1, NVMF_TGT_MAX_IO_QUEUES },
		{ "max_queue_size", 2, NVMF_TGT_VFU_MAX_QUEUE_SIZE },
	};
	struct json_object *o, *val;

	if (!json_object_object_get_ex(c->params, "vfio_user", &o) ||
	    json_object_is_type(o, json_type_null))
		return true;
	if (!json_object_is_type(o, json_type_object))
		return rpc_err(c, RPC_INVALID_PARAMS, "params.vfio_user: not an object");
	/* json-c's iterator: its foreach macro is a GNU statement expression */
	for (struct json_object_iterator it = json_object_iter_begin(o),
					 end = json_object_iter_end(o);
	     !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);

		if (strcmp(key, "kas") && strcmp(key, "accept_kato") &&
		    strcmp(key, "max_io_queues") && strcmp(key, "max_queue_size"))
			return rpc_err(c, RPC_INVALID_PARAMS,
				       "params.vfio_user.%.40s: unknown key (kas, accept_kato, "
				       "max_io_queues, max_queue_size)",
				       key);
	}
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		int64_t n;

		if (!json_object_object_get_ex(o, ints[i].key, &val))
			continue;
		n = json_object_get_int64(val);
		if (!json_object_is_type(val, json_type_int) || n < (int64_t)ints[i].min ||
		    (uint64_t)n > ints[i].max)
			return rpc_err(c, RPC_INVALID_PARAMS,
				       "params.vfio_user.%s: not an integer in %" PRIu64
				       "..%" PRIu64,
				       ints[i].key, ints[i].min, ints[i].max);
		if (i == 0)
			v->kas = (uint16_t)n;
		else if (i == 1)
			v->max_io_queues = (uint16_t)n;
		else
			v->max_queue_size = (uint16_t)n;
	}
	if (json_object_object_get_ex(o, "accept_kato", &val)) {
		if (!json_object_is_type(val, json_type_boolean))
			return rpc_err(c, RPC_INVALID_PARAMS,
				       "params.vfio_user.accept_kato: not a boolean");
		v->accept_kato = json_object_get_boolean(val) ? NVMF_TGT_VFU_KATO_ACCEPT
							      : NVMF_TGT_VFU_KATO_REFUSE;
	}
	return true;
}

static bool m_add_port(struct rpc_call *c)
{
	static const char *const keys[] = { "portid",	  "trtype",    "adrfam",
					    "traddr",	  "trsvcid",   "treq",
					    "subsystems", "vfio_user", NULL };
	struct nvmf_tgt_port_params p = { 0 };
	const char *trtype = "tcp", *adrfam = "ipv4", *treq = "not specified";
	struct nvmf_tgt_subsys *subs[64];
	struct json_object *list = NULL;
	size_t nsubs = 0;
	struct nvmf_tgt_port *port;
	uint64_t id;
	int ret;

	if (!check_keys(c, keys) || p_u64(c, "portid", true, UINT16_MAX, &id) < 0 ||
	    p_str(c, "trtype", false, &trtype) < 0 || p_str(c, "adrfam", false, &adrfam) < 0 ||
	    p_str(c, "traddr", false, &p.traddr) < 0 ||
	    p_str(c, "trsvcid", false, &p.trsvcid) < 0 || p_str(c, "treq", false, &treq) < 0)
		return false;
	if (!strcmp(trtype, "tcp"))
		p.trtype = NVMF_TRTYPE_TCP;
	else if (!strcmp(trtype, "loop"))
		p.trtype = NVMF_TRTYPE_LOOP;
	else if (!strcmp(trtype, "vfio-user"))
		p.trtype = NVMF_TRTYPE_VFIO_USER;
	else
		return rpc_err(c, RPC_INVALID_PARAMS,
			       "params.trtype: \"%.40s\" is not tcp, loop or vfio-user", trtype);
	if (json_object_object_get_ex(c->params, "vfio_user", NULL) &&
	    p.trtype != NVMF_TRTYPE_VFIO_USER)
		return rpc_err(c, RPC_INVALID_PARAMS,
			       "params.vfio_user: only for trtype vfio-user");
	if (!p_vfio_user(c, &p.vfio_user))
		return false;
	if (!strcmp(adrfam, "ipv4"))
		p.adrfam = NVMF_ADRFAM_IPV4;
	else if (!strcmp(adrfam, "ipv6"))
		p.adrfam = NVMF_ADRFAM_IPV6;
	else if (!strcmp(adrfam, "loop"))
		p.adrfam = NVMF_ADRFAM_LOOP;
	else
		return rpc_err(c, RPC_INVALID_PARAMS,
			       "params.adrfam: \"%.40s\" is not ipv4, ipv6 "
			       "or loop",
			       adrfam);
	if (!strcmp(treq, "not specified"))
		p.treq = 0;
	else if (!strcmp(treq, "required"))
		p.treq = 1;
	else if (!strcmp(treq, "not required"))
		p.treq = 2;
	else
		return rpc_err(c, RPC_INVALID_PARAMS,
			       "params.treq: \"%.40s\" is not \"not "
			       "specified\", \"required\" or \"not required\"",
			       treq);
	if (p.trtype == NVMF_TRTYPE_VFIO_USER &&
	    (!p.traddr || !*p.traddr || strlen(p.traddr) > 107))
		return rpc_err(c, RPC_INVALID_PARAMS,
			       "params.traddr: vfio-user needs a socket path of 1-107 bytes");
	if (p.trtype == NVMF_TRTYPE_TCP && (!p.traddr || !p.trsvcid))
		return rpc_err(c, RPC_INVALID_PARAMS, "params.%s: missing (tcp)",
			       p.traddr ? "trsvcid" : "traddr");
	if (p.traddr && strlen(p.traddr) >= 256)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.traddr: more than 255 bytes");
	if (p.trsvcid && strlen(p.trsvcid) >= 32)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.trsvcid: more than 31 bytes");
	if (p.trtype == NVMF_TRTYPE_TCP && p.adrfam == NVMF_ADRFAM_LOOP)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.adrfam: tcp needs ipv4 or ipv6");
	if (nvmf_tgt_find_port_by_id(c->tgt, (uint16_t)id))
		return rpc_err(c, RPC_INVALID_PARAMS, "params.portid: port %" PRIu64 " exists", id);
	if (json_object_object_get_ex(c->params, "subsystems", &list)) {
		if (!json_object_is_type(list, json_type_array))
			return rpc_err(c, RPC_INVALID_PARAMS, "params.subsystems: not an array");
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *e = json_object_array_get_idx(list, i);

			if (i >= sizeof(subs) / sizeof(subs[0]))
				return rpc_err(c, RPC_INVALID_PARAMS,
					       "params.subsystems: more than 64");
			if (!json_object_is_type(e, json_type_string) ||
			    !(subs[i] = nvmf_tgt_find_subsys_by_nqn(c->tgt,
								    json_object_get_string(e))))
				return rpc_err(c, RPC_INVALID_PARAMS,
					       "params.subsystems[%zu]: no such subsystem", i);
			nsubs++;
		}
	}
	p.portid = (uint16_t)id;
	/*
	 * As a port from the configuration (apply.c) and in nvmet: groups 2..128 are
	 * inaccessible through it until set_ana_state sets them.
	 */
	p.ana_default_state = NVME_ANA_INACCESSIBLE;
	ret = nvmf_tgt_add_port(c->tgt, &p, &port);
	if (ret < 0)
		return rpc_fail(c, ret, "add_port");
	for (size_t i = 0; i < nsubs; i++) {
		ret = nvmf_tgt_port_add_subsys(port, subs[i]);
		if (ret < 0) {
			nvmf_tgt_remove_port(c->tgt, port); /* nothing half-applied */
			return rpc_fail(c, ret, "add_port");
		}
	}
	return true;
}

static bool m_remove_port(struct rpc_call *c)
{
	static const char *const keys[] = { "portid", NULL };
	struct nvmf_tgt_port *p;
	int ret;

	if (!check_keys(c, keys) || !(p = p_port(c)))
		return false;
	ret = nvmf_tgt_remove_port(c->tgt, p);
	return ret < 0 ? rpc_fail(c, ret, "remove_port") : true;
}

/* ---- ports in and out of service, ANA ---- */

static bool m_port_enable(struct rpc_call *c, bool enable)
{
	static const char *const keys[] = { "portid", NULL };
	struct nvmf_tgt_port *p;
	int ret;

	if (!check_keys(c, keys) || !(p = p_port(c)))
		return false;
	ret = enable ? nvmf_tgt_port_enable(p) : nvmf_tgt_port_disable(p);
	if (ret < 0)
		return rpc_fail(c, ret, enable ? "enable_port" : "disable_port");
	c->result = json_object_new_object();
	add_int(c->result, "portid", p->portid);
	json_object_object_add(c->result, "enabled", json_object_new_boolean(enable));
	return true;
}

static bool m_disable_port(struct rpc_call *c)
{
	return m_port_enable(c, false);
}

static bool m_enable_port(struct rpc_call *c)
{
	return m_port_enable(c, true);
}

/* params.grpid: an ANA group ID, 1..128 */
static bool p_grpid(struct rpc_call *c, uint32_t *out)
{
	uint64_t v;

	if (p_u64(c, "grpid", true, NVMF_TGT_MAX_ANA_GROUPS, &v) < 0)
		return false;
	if (!v)
		return rpc_err(c, RPC_INVALID_PARAMS,
			       "params.grpid: 0 is not an ANA group ID (1..%u)",
			       NVMF_TGT_MAX_ANA_GROUPS);
	*out = (uint32_t)v;
	return true;
}

static bool m_set_ana_state(struct rpc_call *c)
{
	static const char *const keys[] = { "portid", "grpid", "state", NULL };
	struct nvmf_tgt_port *p;
	const char *name;
	uint32_t grpid;
	int state, ret;

	if (!check_keys(c, keys) || !(p = p_port(c)) || !p_grpid(c, &grpid) ||
	    p_str(c, "state", true, &name) < 0)
		return false;
	state = nvmf_ana_state_parse(name);
	if (state < 0)
		return rpc_err(c, RPC_INVALID_PARAMS,
			       "params.state: \"%.40s\" is not optimized, non-optimized, "
			       "inaccessible, persistent-loss or change",
			       name);
	ret = nvmf_tgt_port_set_ana_state(p, grpid, (uint8_t)state);
	if (ret < 0)
		return rpc_fail(c, ret, "set_ana_state");
	c->result = json_object_new_object();
	add_int(c->result, "portid", p->portid);
	add_int(c->result, "grpid", grpid);
	add_str(c->result, "state", nvmf_ana_state_name((uint8_t)state));
	add_int(c->result, "chgcnt", (int64_t)atomic_load(&p->ana_chgcnt));
	return true;
}

static bool m_set_ns_ana_group(struct rpc_call *c)
{
	static const char *const keys[] = { "nqn", "nsid", "grpid", NULL };
	struct nvmf_tgt_subsys *s;
	uint64_t nsid;
	uint32_t grpid;
	int ret;

	if (!check_keys(c, keys) || !(s = p_subsys(c, "nqn")) ||
	    p_u64(c, "nsid", true, UINT32_MAX, &nsid) < 0 || !p_grpid(c, &grpid))
		return false;
	ret = nvmf_tgt_subsys_set_ns_anagrpid(s, (uint32_t)nsid, grpid);
	if (ret == -ENOENT)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.nsid: no namespace %" PRIu64, nsid);
	if (ret < 0)
		return rpc_fail(c, ret, "set_ns_ana_group");
	c->result = json_object_new_object();
	add_str(c->result, "nqn", s->nqn);
	add_int(c->result, "nsid", (int64_t)nsid);
	add_int(c->result, "grpid", grpid);
	return true;
}

static bool m_port_subsystem(struct rpc_call *c, bool add)
{
	static const char *const keys[] = { "portid", "nqn", NULL };
	struct nvmf_tgt_subsys *s;
	struct nvmf_tgt_port *p;
	int ret;

	if (!check_keys(c, keys) || !(p = p_port(c)) || !(s = p_subsys(c, "nqn")))
		return false;
	ret = add ? nvmf_tgt_port_add_subsys(p, s) : nvmf_tgt_port_remove_subsys(p, s);
	if (ret == -ENOENT)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.nqn: not exported on port %u",
			       p->portid);
	return ret < 0 ? rpc_fail(c, ret, "port subsystem") : true;
}

static bool m_add_port_subsystem(struct rpc_call *c)
{
	return m_port_subsystem(c, true);
}

static bool m_remove_port_subsystem(struct rpc_call *c)
{
	return m_port_subsystem(c, false);
}

static bool m_get_controllers(struct rpc_call *c)
{
	static const char *const keys[] = { "nqn", NULL };
	struct nvmf_tgt_ctrl_info *info = NULL;
	const char *nqn = NULL;
	size_t n, max = 0;

	if (!check_keys(c, keys) || p_str(c, "nqn", false, &nqn) < 0)
		return false;
	if (nqn && strcmp(nqn, NVME_DISC_SUBSYS_NAME) && !nvmf_tgt_find_subsys_by_nqn(c->tgt, nqn))
		return rpc_err(c, RPC_INVALID_PARAMS, "params.nqn: no subsystem \"%.223s\"", nqn);
	for (;;) {
		n = nvmf_tgt_ctrl_list(c->tgt, nqn, info, max);
		if (n <= max)
			break;
		free(info);
		max = n + 8;
		info = calloc(max, sizeof(*info));
		if (!info)
			return rpc_fail(c, -ENOMEM, "get_controllers");
	}
	c->result = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		add_str(o, "nqn", info[i].subsys_nqn);
		add_int(o, "cntlid", info[i].cntlid);
		add_str(o, "hostnqn", info[i].hostnqn);
		add_int(o, "portid", info[i].portid);
		add_str(o, "state", info[i].state);
		add_int(o, "cc", info[i].cc);
		add_int(o, "csts", info[i].csts);
		add_int(o, "kato_ms", info[i].kato_ms);
		add_int(o, "io_queues", info[i].nr_io_queues);
		add_int(o, "keep_alive_count", (int64_t)info[i].keep_alive_count);
		if (info[i].last_keep_alive_ms == UINT64_MAX)
			json_object_object_add(o, "last_keep_alive_ms", NULL);
		else
			add_int(o, "last_keep_alive_ms", (int64_t)info[i].last_keep_alive_ms);
		json_object_array_add(c->result, o);
	}
	free(info);
	return true;
}

static bool m_fail_controller(struct rpc_call *c)
{
	static const char *const keys[] = { "nqn", "cntlid", NULL };
	const char *nqn;
	uint64_t cntlid;

	if (!check_keys(c, keys) || p_str(c, "nqn", true, &nqn) < 0 ||
	    p_u64(c, "cntlid", true, UINT16_MAX, &cntlid) < 0)
		return false;
	if (nvmf_tgt_ctrl_fail(c->tgt, nqn, (uint16_t)cntlid) < 0)
		return rpc_err(c, RPC_INVALID_PARAMS,
			       "params.cntlid: no live controller %" PRIu64 " in \"%.223s\"",
			       cntlid, nqn);
	return true;
}

static bool m_save_config(struct rpc_call *c)
{
	static const char *const keys[] = { "path", NULL };
	const char *path = NULL;
	struct json_object *cfg;

	if (!check_keys(c, keys) || p_str(c, "path", false, &path) < 0)
		return false;
	cfg = config_json(c->tgt);
	if (path) {
		char tmp[4096];
		int ret;

		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		ret = json_object_to_file_ext(tmp, cfg, JSON_C_TO_STRING_PRETTY);
		if (ret || rename(tmp, path)) {
			json_object_put(cfg);
			unlink(tmp);
			return rpc_err(c, RPC_FAILED, "save_config: cannot write %.200s: %s", path,
				       strerror(errno));
		}
	}
	c->result = cfg;
	return true;
}

static bool m_get_target(struct rpc_call *c)
{
	struct mallinfo2 mi;

	if (!check_keys(c, no_keys))
		return false;
	mi = mallinfo2();
	c->result = json_object_new_object();
	add_int(c->result, "reactors", c->tgt->nr_reactors);
	if (c->tgt->cpus) {
		char buf[NVMF_CPU_LIST_MAX];

		json_object_object_add(c->result, "cpumask",
				       json_object_new_string(cpu_list(c->tgt, buf)));
	}
	add_int(c->result, "subsystems", (int64_t)c->tgt->nr_subsys);
	add_int(c->result, "ports", (int64_t)c->tgt->nr_ports);
	add_int(c->result, "controllers", atomic_load(&c->tgt->nr_ctrls));
	add_int(c->result, "queues", atomic_load(&c->tgt->nr_sqs));
	add_int(c->result, "heap_bytes", (int64_t)mi.uordblks);
	add_int(c->result, "fault_rules", (int64_t)nvmf_tgt_fault_list(c->tgt, NULL, 0));
	return true;
}

/* ---- faults ---- */

static bool m_add_fault(struct rpc_call *c)
{
	static const char *const keys[] = { "action",	"nqn",		"cntlid", "queue",
					    "opcode",	"nsid",		"count",  "probability",
					    "delay_ms", "delay_max_ms", "status", "after",
					    NULL };
	struct nvmf_tgt_fault f = {
		.cntlid = -1, .queue = NVMF_TGT_FAULT_QUEUE_ANY, .opcode = -1, .nsid = -1
	};
	const char *action, *nqn = NULL;
	uint64_t v;
	struct json_object *q;
	uint32_t id;
	int ret;

	if (!check_keys(c, keys) || p_str(c, "action", true, &action) < 0)
		return false;
	for (int a = NVMF_TGT_FAULT_DELAY; a <= NVMF_TGT_FAULT_NO_KEEP_ALIVE; a++)
		if (!strcmp(action, nvmf_tgt_fault_action_name(a)))
			f.action = a;
	if (!f.action)
		return rpc_err(c, RPC_INVALID_PARAMS,
			       "params.action: \"%.40s\" is not delay, hold, status, drop, "
			       "disconnect, corrupt_hdgst, corrupt_ddgst or no_keep_alive",
			       action);
	if (p_str(c, "nqn", false, &nqn) < 0)
		return false;
	if (nqn && strcmp(nqn, NVME_DISC_SUBSYS_NAME) && !nvmf_tgt_find_subsys_by_nqn(c->tgt, nqn))
		return rpc_err(c, RPC_INVALID_PARAMS, "params.nqn: no subsystem \"%.223s\"", nqn);
	f.subsys_nqn = nqn;
	if ((ret = p_u64(c, "cntlid", false, UINT16_MAX, &v)) < 0)
		return false;
	if (ret)
		f.cntlid = (int32_t)v;
	if (json_object_object_get_ex(c->params, "queue", &q) &&
	    json_object_is_type(q, json_type_string)) {
		const char *qs = json_object_get_string(q);

		if (!strcmp(qs, "admin"))
			f.queue = NVMF_TGT_FAULT_QUEUE_ADMIN;
		else if (!strcmp(qs, "io"))
			f.queue = NVMF_TGT_FAULT_QUEUE_IO;
		else if (!strcmp(qs, "any"))
			f.queue = NVMF_TGT_FAULT_QUEUE_ANY;
		else
			return rpc_err(c, RPC_INVALID_PARAMS,
				       "params.queue: \"%.40s\" is not admin, io, any or a QID",
				       qs);
	} else if ((ret = p_u64(c, "queue", false, NVMF_TGT_MAX_IO_QUEUES, &v)) < 0) {
		return false;
	} else if (ret) {
		f.queue = (int32_t)v;
	}
	if ((ret = p_u64(c, "opcode", false, 255, &v)) < 0)
		return false;
	if (ret)
		f.opcode = (int32_t)v;
	if ((ret = p_u64(c, "nsid", false, UINT32_MAX, &v)) < 0)
		return false;
	if (ret)
		f.nsid = (int64_t)v;
	if (p_u64(c, "count", false, UINT64_MAX, &f.count) < 0 ||
	    p_double(c, "probability", &f.probability) < 0)
		return false;
	if (f.probability < 0 || f.probability > 1)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.probability: outside 0..1");
	if ((ret = p_u64(c, "delay_ms", f.action == NVMF_TGT_FAULT_DELAY, 3600000, &v)) < 0)
		return false;
	f.delay_ms = (uint32_t)(ret ? v : 0);
	if ((ret = p_u64(c, "delay_max_ms", false, 3600000, &v)) < 0)
		return false;
	f.delay_max_ms = (uint32_t)(ret ? v : 0);
	if (f.delay_max_ms && f.delay_max_ms < f.delay_ms)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.delay_max_ms: below delay_ms");
	if ((ret = p_u64(c, "status", f.action == NVMF_TGT_FAULT_STATUS, 0xffff, &v)) < 0)
		return false;
	f.status = (uint16_t)(ret ? v : 0);
	if (f.action == NVMF_TGT_FAULT_STATUS && !(f.status & 0x7ff))
		return rpc_err(c, RPC_INVALID_PARAMS, "params.status: 0 is success, not a fault");
	if ((ret = p_u64(c, "after", false, UINT32_MAX, &v)) < 0)
		return false;
	f.after = (uint32_t)(ret ? v : 0);
	ret = nvmf_tgt_fault_add(c->tgt, &f, &id);
	if (ret < 0)
		return rpc_fail(c, ret, "add_fault");
	c->result = json_object_new_object();
	add_int(c->result, "id", id);
	return true;
}

static bool m_get_faults(struct rpc_call *c)
{
	struct nvmf_tgt_fault_info *info = NULL;
	size_t n, max = 0;

	if (!check_keys(c, no_keys))
		return false;
	for (;;) {
		n = nvmf_tgt_fault_list(c->tgt, info, max);
		if (n <= max)
			break;
		free(info);
		max = n + 8;
		info = calloc(max, sizeof(*info));
		if (!info)
			return rpc_fail(c, -ENOMEM, "get_faults");
	}
	c->result = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		const struct nvmf_tgt_fault *f = &info[i].rule;
		struct json_object *o = json_object_new_object();

		add_int(o, "id", info[i].id);
		add_str(o, "action", nvmf_tgt_fault_action_name(f->action));
		if (f->subsys_nqn && *f->subsys_nqn)
			add_str(o, "nqn", f->subsys_nqn);
		if (f->cntlid >= 0)
			add_int(o, "cntlid", f->cntlid);
		if (f->queue == NVMF_TGT_FAULT_QUEUE_ADMIN)
			add_str(o, "queue", "admin");
		else if (f->queue == NVMF_TGT_FAULT_QUEUE_IO)
			add_str(o, "queue", "io");
		else if (f->queue >= 0)
			add_int(o, "queue", f->queue);
		if (f->opcode >= 0)
			add_int(o, "opcode", f->opcode);
		if (f->nsid >= 0)
			add_int(o, "nsid", f->nsid);
		add_int(o, "count", (int64_t)f->count);
		json_object_object_add(o, "probability",
				       json_object_new_double(f->probability ? f->probability : 1));
		if (f->action == NVMF_TGT_FAULT_DELAY) {
			add_int(o, "delay_ms", f->delay_ms);
			add_int(o, "delay_max_ms",
				f->delay_max_ms > f->delay_ms ? f->delay_max_ms : f->delay_ms);
		}
		if (f->action == NVMF_TGT_FAULT_STATUS)
			add_int(o, "status", f->status);
		if (f->action == NVMF_TGT_FAULT_DISCONNECT)
			add_int(o, "after", f->after);
		add_int(o, "hits", (int64_t)info[i].hits);
		add_int(o, "held", info[i].held);
		json_object_array_add(c->result, o);
	}
	free(info);
	return true;
}

static bool fault_id_param(struct rpc_call *c, uint32_t *id)
{
	static const char *const keys[] = { "id", NULL };
	uint64_t v = 0;

	if (!check_keys(c, keys) || p_u64(c, "id", false, UINT32_MAX, &v) < 0)
		return false;
	*id = (uint32_t)v;
	return true;
}

static bool m_remove_fault(struct rpc_call *c)
{
	uint32_t id;

	if (!fault_id_param(c, &id))
		return false;
	if (nvmf_tgt_fault_remove(c->tgt, id) < 0)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.id: no fault rule %u", id);
	return true;
}

static bool m_release_faults(struct rpc_call *c)
{
	uint32_t id;
	int n;

	if (!fault_id_param(c, &id))
		return false;
	n = nvmf_tgt_fault_release(c->tgt, id);
	if (n < 0)
		return rpc_err(c, RPC_INVALID_PARAMS, "params.id: no fault rule %u", id);
	c->result = json_object_new_object();
	add_int(c->result, "released", n);
	return true;
}

static bool m_rpc_get_methods(struct rpc_call *c);

static const struct rpc_method {
	const char *name;
	bool (*fn)(struct rpc_call *c);
} methods[] = {
	{ "rpc_get_methods", m_rpc_get_methods },
	{ "get_target", m_get_target },
	{ "get_subsystems", m_get_subsystems },
	{ "add_subsystem", m_add_subsystem },
	{ "remove_subsystem", m_remove_subsystem },
	{ "add_host", m_add_host },
	{ "remove_host", m_remove_host },
	{ "set_allow_any_host", m_set_allow_any_host },
	{ "add_namespace", m_add_namespace },
	{ "remove_namespace", m_remove_namespace },
	{ "resize_namespace", m_resize_namespace },
	{ "get_ports", m_get_ports },
	{ "add_port", m_add_port },
	{ "remove_port", m_remove_port },
	{ "add_port_subsystem", m_add_port_subsystem },
	{ "remove_port_subsystem", m_remove_port_subsystem },
	{ "disable_port", m_disable_port },
	{ "enable_port", m_enable_port },
	{ "set_ana_state", m_set_ana_state },
	{ "set_ns_ana_group", m_set_ns_ana_group },
	{ "get_controllers", m_get_controllers },
	{ "fail_controller", m_fail_controller },
	{ "save_config", m_save_config },
	{ "add_fault", m_add_fault },
	{ "get_faults", m_get_faults },
	{ "remove_fault", m_remove_fault },
	{ "release_faults", m_release_faults },
};

static bool m_rpc_get_methods(struct rpc_call *c)
{
	if (!check_keys(c, no_keys))
		return false;
	c->result = json_object_new_array();
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		json_object_array_add(c->result, json_object_new_string(methods[i].name));
	return true;
}

/* -------------------------------------------------------------------------------------- */
/* Dispatch */

struct json_object *nvmf_rpc_error_response(struct json_object *id, int code, const char *msg)
{
	struct json_object *r = json_object_new_object(), *e = json_object_new_object();

	add_str(r, "jsonrpc", "2.0");
	add_int(e, "code", code);
	add_str(e, "message", msg);
	json_object_object_add(r, "error", e);
	json_object_object_add(r, "id", id ? json_object_get(id) : NULL);
	return r;
}

static struct json_object *handle_one(struct nvmf_tgt *tgt, struct json_object *req)
{
	struct json_object *v, *id = NULL, *params = NULL, *resp;
	struct rpc_call c = { .tgt = tgt };
	const struct rpc_method *m = NULL;
	bool has_id;
	const char *name;

	if (!json_object_is_type(req, json_type_object))
		return nvmf_rpc_error_response(NULL, RPC_INVALID_REQUEST,
					       "a request is a JSON object");
	has_id = json_object_object_get_ex(req, "id", &id);
	if (has_id && id && !json_object_is_type(id, json_type_int) &&
	    !json_object_is_type(id, json_type_string))
		return nvmf_rpc_error_response(NULL, RPC_INVALID_REQUEST,
					       "id: not a number or string");
	if (!json_object_object_get_ex(req, "jsonrpc", &v) ||
	    !json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), "2.0"))
		return nvmf_rpc_error_response(id, RPC_INVALID_REQUEST, "jsonrpc: must be \"2.0\"");
	if (!json_object_object_get_ex(req, "method", &v) ||
	    !json_object_is_type(v, json_type_string))
		return nvmf_rpc_error_response(id, RPC_INVALID_REQUEST,
					       "method: missing or not a string");
	name = json_object_get_string(v);
	if (json_object_object_get_ex(req, "params", &params) && params &&
	    !json_object_is_type(params, json_type_object))
		return nvmf_rpc_error_response(id, RPC_INVALID_PARAMS,
					       "params: must be an object (by-name parameters)");
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(methods[i].name, name))
			m = &methods[i];
	if (!m) {
		char msg[128];

		snprintf(msg, sizeof(msg), "method \"%.60s\" not found (see rpc_get_methods)",
			 name);
		return has_id ? nvmf_rpc_error_response(id, RPC_METHOD_NOT_FOUND, msg) : NULL;
	}
	c.params = params ? json_object_get(params) : json_object_new_object();
	if (!m->fn(&c)) {
		json_object_put(c.params);
		json_object_put(c.result);
		return has_id ? nvmf_rpc_error_response(id, c.code ? c.code : RPC_INTERNAL_ERROR,
							c.code ? c.msg : "internal error")
			      : NULL;
	}
	json_object_put(c.params);
	if (!has_id) {
		json_object_put(c.result);
		return NULL; /* a notification: no response */
	}
	resp = json_object_new_object();
	add_str(resp, "jsonrpc", "2.0");
	json_object_object_add(resp, "result", c.result ? c.result : json_object_new_boolean(1));
	json_object_object_add(resp, "id", id ? json_object_get(id) : NULL);
	return resp;
}

struct json_object *nvmf_rpc_handle(struct nvmf_tgt *tgt, struct json_object *req)
{
	struct json_object *out;

	if (!json_object_is_type(req, json_type_array))
		return handle_one(tgt, req);
	if (!json_object_array_length(req))
		return nvmf_rpc_error_response(NULL, RPC_INVALID_REQUEST, "empty batch");
	out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(req); i++) {
		struct json_object *r = handle_one(tgt, json_object_array_get_idx(req, i));

		if (r)
			json_object_array_add(out, r);
	}
	if (!json_object_array_length(out)) {
		json_object_put(out);
		return NULL;
	}
	return out;
}
