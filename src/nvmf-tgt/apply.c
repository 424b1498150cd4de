// SPDX-License-Identifier: MIT
/*
 * The mapping from a loaded nvmetcli configuration (struct nvmf_cfg) to target API calls:
 * subsystems with their allowed hosts and namespaces, then ports with their subsystems,
 * referrals and ANA group states.
 */
#include "apply.h"

#include "nvmf/spec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void apply_err(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void apply_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errbuf || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

static int apply_ns(struct nvmf_tgt_subsys *s, const struct nvmf_cfg_ns *n, size_t si, size_t ni,
		    char *errbuf, size_t errlen)
{
	struct nvmf_tgt_ns_params p = {
		.nsid = n->nsid,
		.path = n->path[0] ? n->path : NULL,
		.size_bytes = n->size_bytes,
		.block_size = n->block_size,
		.buffered = n->buffered,
		.anagrpid = n->anagrpid,
		.uuid = n->has_uuid ? n->uuid : NULL,
		.nguid = n->has_nguid ? n->nguid : NULL,
		.eui64 = n->has_eui64 ? n->eui64 : NULL,
		.enable = n->enable,
	};
	int ret;

	switch (n->backend) {
	case NVMF_CFG_BACKEND_NULL:
		p.backend = NVMF_TGT_BACKEND_NULL;
		break;
	case NVMF_CFG_BACKEND_MEM:
		p.backend = NVMF_TGT_BACKEND_MEM;
		break;
	default:
		p.backend = NVMF_TGT_BACKEND_FILE;
		break;
	}
	if (!n->enable)
		return 0;
	ret = nvmf_tgt_subsys_add_ns(s, &p);
	if (ret < 0)
		apply_err(errbuf, errlen, "subsystems[%zu].namespaces[%zu].device%s: %s", si, ni,
			  p.backend == NVMF_TGT_BACKEND_FILE ? ".path" : "", strerror(-ret));
	return ret;
}

static int apply_subsys(struct nvmf_tgt *tgt, const struct nvmf_cfg_subsys *c, size_t i,
			struct nvmf_tgt_subsys **out, char *errbuf, size_t errlen)
{
	struct nvmf_tgt_subsys_params p = {
		.nqn = c->nqn,
		.serial = c->serial,
		.model = c->model,
		.firmware = c->firmware,
		.version = c->version,
		.cntlid_min = c->cntlid_min,
		.cntlid_max = c->cntlid_max,
		.allow_any_host = c->allow_any_host,
	};
	int ret;

	ret = nvmf_tgt_add_subsys(tgt, &p, out);
	if (ret < 0) {
		apply_err(errbuf, errlen, "subsystems[%zu].nqn: %s", i, strerror(-ret));
		return ret;
	}
	for (size_t h = 0; h < c->nr_allowed_hosts; h++) {
		ret = nvmf_tgt_subsys_allow_host(*out, c->allowed_hosts[h]);
		if (ret < 0) {
			apply_err(errbuf, errlen, "subsystems[%zu].allowed_hosts[%zu]: %s", i, h,
				  strerror(-ret));
			return ret;
		}
	}
	for (size_t n = 0; n < c->nr_ns; n++) {
		ret = apply_ns(*out, &c->ns[n], i, n, errbuf, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int apply_port(struct nvmf_tgt *tgt, const struct nvmf_cfg_port *c, size_t i,
		      struct nvmf_tgt_subsys **subsys, char *errbuf, size_t errlen)
{
	struct nvmf_tgt_port_params p = {
		.portid = c->portid,
		.trtype = c->addr.trtype,
		.adrfam = c->addr.adrfam,
		.traddr = c->addr.traddr,
		.trsvcid = c->addr.trsvcid,
		.treq = c->addr.treq,
		.vfio_user = c->vfio_user,
		/* like nvmet: groups not listed on a port are inaccessible through it */
		.ana_default_state = NVME_ANA_INACCESSIBLE,
	};
	struct nvmf_tgt_port *port;
	int ret;

	ret = nvmf_tgt_add_port(tgt, &p, &port);
	if (ret == -EPROTONOSUPPORT) {
		apply_err(errbuf, errlen,
			  "ports[%zu].addr.trtype: transport not served by this daemon yet "
			  "(supported: tcp)",
			  i);
		return ret;
	}
	if (ret < 0) {
		apply_err(errbuf, errlen, "ports[%zu]: %s", i, strerror(-ret));
		return ret;
	}
	for (size_t s = 0; s < c->nr_subsys; s++) {
		ret = nvmf_tgt_port_add_subsys(port, subsys[c->subsys_idx[s]]);
		if (ret < 0)
			return ret;
	}
	for (size_t r = 0; r < c->nr_referrals; r++) {
		const struct nvmf_cfg_referral *ref = &c->referrals[r];
		struct nvmf_tgt_port_params rp = {
			.portid = ref->portid,
			.trtype = ref->addr.trtype,
			.adrfam = ref->addr.adrfam,
			.traddr = ref->addr.traddr,
			.trsvcid = ref->addr.trsvcid,
			.treq = ref->addr.treq,
		};

		if (!ref->enable)
			continue;
		ret = nvmf_tgt_port_add_referral(port, &rp);
		if (ret < 0) {
			apply_err(errbuf, errlen, "ports[%zu].referrals[%zu]: %s", i, r,
				  strerror(-ret));
			return ret;
		}
	}
	for (size_t g = 0; g < c->nr_ana_groups; g++) {
		ret = nvmf_tgt_port_set_ana_state(port, c->ana_groups[g].grpid,
						  c->ana_groups[g].state);
		if (ret < 0) {
			apply_err(errbuf, errlen, "ports[%zu].ana_groups[%zu]: %s", i, g,
				  strerror(-ret));
			return ret;
		}
	}
	/* saved by save_config after disable_port: configured, but not listening */
	if (c->disabled) {
		ret = nvmf_tgt_port_disable(port);
		if (ret < 0) {
			apply_err(errbuf, errlen, "ports[%zu].enabled: %s", i, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int nvmf_cfg_apply(struct nvmf_tgt *tgt, const struct nvmf_cfg *cfg, uint8_t only_trtype,
		   char *errbuf, size_t errlen)
{
	struct nvmf_tgt_subsys **subsys = calloc(cfg->nr_subsys + 1, sizeof(*subsys));
	int ret = 0;

	apply_err(errbuf, errlen, "%s", "");
	if (!subsys)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->nr_subsys; i++) {
		ret = apply_subsys(tgt, &cfg->subsys[i], i, &subsys[i], errbuf, errlen);
		if (ret < 0)
			goto out;
	}
	for (size_t i = 0; i < cfg->nr_ports; i++) {
		if (only_trtype && cfg->ports[i].addr.trtype != only_trtype)
			continue;
		ret = apply_port(tgt, &cfg->ports[i], i, subsys, errbuf, errlen);
		if (ret < 0)
			goto out;
	}
out:
	free(subsys);
	return ret;
}

void nvmf_cfg_tgt_opts(struct nvmf_tgt_opts *opts, const struct nvmf_cfg *cfg)
{
	/* the caller's reactor count or CPUs (the command line) replace both keys of the file */
	if (!opts->nr_reactors && !opts->nr_cpus) {
		opts->nr_reactors = cfg->reactors;
		opts->cpus = cfg->cpus;
		opts->nr_cpus = cfg->nr_cpus;
	}
	for (size_t i = 0; i < cfg->nr_ports; i++) {
		const struct nvmf_cfg_port *p = &cfg->ports[i];

		if (p->inline_data_size >= 0 &&
		    (uint32_t)p->inline_data_size > opts->inline_data_size)
			opts->inline_data_size = (uint32_t)p->inline_data_size;
		if (p->max_queue_size > 0 && p->max_queue_size <= 65535 &&
		    (!opts->io_queue_depth || p->max_queue_size < opts->io_queue_depth))
			opts->io_queue_depth = (uint16_t)p->max_queue_size;
	}
}
