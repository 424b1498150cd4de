// SPDX-License-Identifier: MIT
/*
 * nvmf-tgt: the NVMe over Fabrics target daemon. Loads an nvmetcli JSON file (or the default
 * target), builds the target through the public API, serves until SIGINT/SIGTERM, then
 * drains and stops.
 */
#include "apply.h"
#include "config.h"
#include "rpc.h"

#include "common/cpumask.h"
#include "common/log.h"
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
		"  -r, --rpc-socket PATH serve the JSON-RPC control socket at PATH (mode 0600;\n"
		"                        default: nvmf.rpc_socket of the config, else none)\n"
		"      --reactors N      reactor threads (default: config, else one per CPU)\n"
		"  -m, --cpumask MASK    one reactor per CPU of MASK, reactor i pinned to\n"
		"                        its i-th CPU; MASK as SPDK's -m: hex 0x3, or a list\n"
		"                        [0,2-3] (default: nvmf.cpumask of the config, else\n"
		"                        unpinned; --reactors and --cpumask replace both keys)\n"
		"      --spin-us US      keep polling US microseconds after the last event (100)\n"
		"      --mdts BYTES      largest transfer per command (default 131072)\n"
		"  -v, --verbose         more logging (repeat for debug)\n"
		"  -q, --quiet           errors and warnings only\n"
		"  -h, --help            this text\n\n"
		"Exit status: 0 after a clean stop, 1 on a runtime error, 2 on a bad "
		"configuration.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "default", required_argument, NULL, 'D' },
		{ "rpc-socket", required_argument, NULL, 'r' },
		{ "reactors", required_argument, NULL, 'R' },
		{ "cpumask", required_argument, NULL, 'm' },
		{ "spin-us", required_argument, NULL, 'S' },
		{ "mdts", required_argument, NULL, 'M' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct nvmf_tgt_opts opts = { 0 };
	const char *config = NULL, *var_dir = "var", *rpc_path = NULL, *cpumask = NULL;
	int cpus[CPU_SETSIZE];
	cpu_set_t cpu_set;
	struct nvmf_rpc_server *rpc = NULL;
	char rpc_buf[108] = "";
	int level = NVMF_LOG_NOTICE;
	char err[1024];
	struct nvmf_cfg *cfg = NULL;
	struct nvmf_tgt *tgt;
	sigset_t set;
	int c, sig, ret;

	while ((c = getopt_long(argc, argv, "c:r:m:vqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'D':
			var_dir = optarg;
			break;
		case 'r':
			rpc_path = optarg;
			break;
		case 'R':
			opts.nr_reactors = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'm':
			cpumask = optarg;
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
	if (cpumask) {
		ret = nvmf_cpumask_parse_usable(cpumask, &cpu_set, err, sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "nvmf-tgt: --cpumask: %s\n", err);
			return EXIT_CONFIG;
		}
		opts.cpus = cpus;
		opts.nr_cpus = nvmf_cpumask_to_array(&cpu_set, cpus, CPU_SETSIZE);
		if (opts.nr_reactors && opts.nr_reactors != opts.nr_cpus) {
			fprintf(stderr,
				"nvmf-tgt: --reactors %u disagrees with --cpumask %s, which has %u "
				"CPU(s): one reactor runs on each CPU of the mask\n",
				opts.nr_reactors, cpumask, opts.nr_cpus);
			return EXIT_CONFIG;
		}
	}

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
	nvmf_cfg_tgt_opts(&opts, cfg);
	if (!rpc_path && cfg->rpc_socket[0]) {
		snprintf(rpc_buf, sizeof(rpc_buf), "%s", cfg->rpc_socket);
		rpc_path = rpc_buf;
	}

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
	ret = nvmf_cfg_apply(tgt, cfg, 0, err, sizeof(err));
	nvmf_cfg_free(cfg);
	if (ret < 0) {
		if (err[0])
			fprintf(stderr, "nvmf-tgt: %s\n", err);
		nvmf_tgt_destroy(tgt);
		return EXIT_CONFIG;
	}
	ret = nvmf_tgt_start(tgt);
	if (ret < 0) {
		fprintf(stderr, "nvmf-tgt: cannot start: %s\n", strerror(-ret));
		nvmf_tgt_destroy(tgt);
		return 1;
	}
	if (rpc_path) {
		ret = nvmf_rpc_server_start(tgt, rpc_path, &rpc);
		if (ret < 0) {
			fprintf(stderr, "nvmf-tgt: control socket %s: %s\n", rpc_path,
				strerror(-ret));
			nvmf_tgt_stop(tgt);
			nvmf_tgt_destroy(tgt);
			return 1;
		}
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
	nvmf_rpc_server_stop(rpc); /* no control request runs while the target stops */
	nvmf_tgt_stop(tgt);
	nvmf_tgt_destroy(tgt);
	nvmf_notice("stopped");
	return 0;
}
