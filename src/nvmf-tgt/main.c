// SPDX-License-Identifier: MIT
/*
 * nvmf-tgt: the NVMe over Fabrics target daemon. Loads an nvmetcli JSON file (or the default
 * target), builds the target through the public API, serves until SIGINT/SIGTERM, then
 * drains and stops.
 */
#include "config.h"

#include "common/log.h"
#include "nvmf/spec.h"
#include "nvmf/target.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EXIT_CONFIG 2

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nvmf-tgt [-c FILE | --default DIR] [options]\n"
		"Serve NVMe over Fabrics (NVMe/TCP) namespaces.\n\n"
		"  -c, --config FILE     load an nvmetcli JSON configuration\n"
		"      --default DIR     serve the default target, image under DIR (default "
		"./var)\n"
		"  -r, --reactors N      reactor threads (default: config, else one per CPU)\n"
		"      --spin-us US      keep polling US microseconds after the last event (100)\n"
		"      --mdts BYTES      largest transfer per command (default 131072)\n"
		"  -v, --verbose         more logging (repeat for debug)\n"
		"  -q, --quiet           errors and warnings only\n"
		"  -h, --help            this text\n\n"
		"Exit status: 0 after a clean stop, 1 on a runtime error, 2 on a bad "
		"configuration.\n");
}

static int apply_ns(struct nvmf_tgt_subsys *s, const struct nvmf_cfg_ns *n, size_t si, size_t ni)
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
		fprintf(stderr, "nvmf-tgt: subsystems[%zu].namespaces[%zu].device%s: %s\n", si, ni,
			p.backend == NVMF_TGT_BACKEND_FILE ? ".path" : "", strerror(-ret));
	return ret;
}

static int apply_config(struct nvmf_tgt *tgt, const struct nvmf_cfg *cfg)
{
	struct nvmf_tgt_subsys **subsys = calloc(cfg->nr_subsys + 1, sizeof(*subsys));
	int ret = 0;

	if (!subsys)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->nr_subsys; i++) {
		const struct nvmf_cfg_subsys *c = &cfg->subsys[i];
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

		ret = nvmf_tgt_add_subsys(tgt, &p, &subsys[i]);
		if (ret < 0) {
			fprintf(stderr, "nvmf-tgt: subsystems[%zu].nqn: %s\n", i, strerror(-ret));
			goto out;
		}
		for (size_t h = 0; h < c->nr_allowed_hosts; h++) {
			ret = nvmf_tgt_subsys_allow_host(subsys[i], c->allowed_hosts[h]);
			if (ret < 0) {
				fprintf(stderr,
					"nvmf-tgt: subsystems[%zu].allowed_hosts[%zu]: %s\n", i, h,
					strerror(-ret));
				goto out;
			}
		}
		for (size_t n = 0; n < c->nr_ns; n++) {
			ret = apply_ns(subsys[i], &c->ns[n], i, n);
			if (ret < 0)
				goto out;
		}
	}
	for (size_t i = 0; i < cfg->nr_ports; i++) {
		const struct nvmf_cfg_port *c = &cfg->ports[i];
		char portid[8];
		struct nvmf_tgt_port_params p = {
			.portid = c->portid,
			.trtype = c->addr.trtype,
			.adrfam = c->addr.adrfam,
			.traddr = c->addr.traddr,
			.trsvcid = c->addr.trsvcid,
			.treq = c->addr.treq,
		};
		struct nvmf_tgt_port *port;

		snprintf(portid, sizeof(portid), "%u", c->portid);
		ret = nvmf_tgt_add_port(tgt, &p, &port);
		if (ret == -EPROTONOSUPPORT) {
			fprintf(stderr,
				"nvmf-tgt: ports[%zu].addr.trtype: transport not served by this "
				"daemon yet (supported: tcp)\n",
				i);
			goto out;
		}
		if (ret < 0) {
			fprintf(stderr, "nvmf-tgt: ports[%zu]: %s\n", i, strerror(-ret));
			goto out;
		}
		for (size_t s = 0; s < c->nr_subsys; s++) {
			ret = nvmf_tgt_port_add_subsys(port, subsys[c->subsys_idx[s]]);
			if (ret < 0)
				goto out;
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
				fprintf(stderr, "nvmf-tgt: ports[%zu].referrals[%zu]: %s\n", i, r,
					strerror(-ret));
				goto out;
			}
		}
		/* like nvmet: groups not listed on a port are inaccessible through it */
		for (uint32_t g = 2; g <= NVMF_CFG_MAX_ANAGRPID; g++)
			nvmf_tgt_port_set_ana_state(port, g, NVME_ANA_INACCESSIBLE);
		for (size_t g = 0; g < c->nr_ana_groups; g++) {
			ret = nvmf_tgt_port_set_ana_state(port, c->ana_groups[g].grpid,
							  c->ana_groups[g].state);
			if (ret < 0) {
				fprintf(stderr, "nvmf-tgt: ports[%zu].ana_groups[%zu]: %s\n", i, g,
					strerror(-ret));
				goto out;
			}
		}
	}
out:
	free(subsys);
	return ret;
}

/* Global settings the target takes at creation come from the ports' params. */
static void opts_from_config(struct nvmf_tgt_opts *opts, const struct nvmf_cfg *cfg)
{
	if (!opts->nr_reactors)
		opts->nr_reactors = cfg->reactors;
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

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "default", required_argument, NULL, 'D' },
		{ "reactors", required_argument, NULL, 'r' },
		{ "spin-us", required_argument, NULL, 'S' },
		{ "mdts", required_argument, NULL, 'M' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct nvmf_tgt_opts opts = { 0 };
	const char *config = NULL, *var_dir = "var";
	int level = NVMF_LOG_NOTICE;
	char err[1024];
	struct nvmf_cfg *cfg = NULL;
	struct nvmf_tgt *tgt;
	sigset_t set;
	int c, sig, ret;

	while ((c = getopt_long(argc, argv, "c:r:vqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'D':
			var_dir = optarg;
			break;
		case 'r':
			opts.nr_reactors = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'S':
			opts.spin_us = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'M':
			opts.mdts_bytes = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'v':
			level = level < NVMF_LOG_INFO ? NVMF_LOG_INFO : NVMF_LOG_DEBUG;
			break;
		case 'q':
			level = NVMF_LOG_WARN;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_CONFIG;
	}
	nvmf_log_set_level(level);

	if (config) {
		ret = nvmf_cfg_load_file(config, &cfg, err, sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "nvmf-tgt: %s\n", err);
			return EXIT_CONFIG;
		}
	} else {
		ret = nvmf_cfg_default(var_dir, &cfg);
		if (ret < 0) {
			fprintf(stderr, "nvmf-tgt: default target under %s: %s\n", var_dir,
				strerror(-ret));
			return EXIT_CONFIG;
		}
		if (mkdir(var_dir, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "nvmf-tgt: %s: %s\n", var_dir, strerror(errno));
			nvmf_cfg_free(cfg);
			return EXIT_CONFIG;
		}
	}
	opts_from_config(&opts, cfg);

	/* every thread inherits this mask; the main thread takes the signals with sigwait */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	tgt = nvmf_tgt_create(&opts);
	if (!tgt) {
		fprintf(stderr, "nvmf-tgt: cannot create the target: %s\n", strerror(errno));
		nvmf_cfg_free(cfg);
		return errno == EINVAL ? EXIT_CONFIG : 1;
	}
	ret = apply_config(tgt, cfg);
	nvmf_cfg_free(cfg);
	if (ret < 0) {
		nvmf_tgt_destroy(tgt);
		return EXIT_CONFIG;
	}
	ret = nvmf_tgt_start(tgt);
	if (ret < 0) {
		fprintf(stderr, "nvmf-tgt: cannot start: %s\n", strerror(-ret));
		nvmf_tgt_destroy(tgt);
		return 1;
	}
	nvmf_notice("nvmf-tgt ready");
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (sig == SIGHUP) {
			nvmf_notice("SIGHUP: configuration reload is not supported yet; ignored");
			continue;
		}
		break;
	}
	nvmf_notice("%s: draining and stopping", strsignal(sig));
	nvmf_tgt_stop(tgt);
	nvmf_tgt_destroy(tgt);
	nvmf_notice("stopped");
	return 0;
}
