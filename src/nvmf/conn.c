// SPDX-License-Identifier: MIT
/*
 * The CLI's connection: nvme-cli connect flags or an SPDK-style transport ID become
 * struct nvmf_host_opts; -t loop first builds and starts an in-process target from an
 * nvmetcli JSON file (the same mapping the daemon uses, src/nvmf-tgt/apply.c). Also the
 * reporting of results nvme-cli's way, and small I/O helpers the subcommands share.
 */
#include "cli.h"
#include "print.h"

#include "apply.h"
#include "config.h"

#include "common/log.h"
#include "nvmf/target.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int parse_uuid(const char *s, uint8_t out[16])
{
	unsigned int n = 0;

	for (; *s && n < 32; s++) {
		int v;

		if (*s == '-')
			continue;
		if (!isxdigit((unsigned char)*s))
			return -EINVAL;
		v = isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10);
		if (n % 2)
			out[n / 2] |= (uint8_t)v;
		else
			out[n / 2] = (uint8_t)(v << 4);
		n++;
	}
	return n == 32 && !*s ? 0 : -EINVAL;
}

/*
 * "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:4420 subnqn:nqn..." (spdk_nvme_transport_id
 * syntax: whitespace-separated key:value or key=value pairs, keys case-insensitive). Values
 * fill only what the flags left unset.
 */
static int parse_trid(struct cli_ctx *ctx)
{
	struct cli_conn *c = &ctx->conn;
	char *save = NULL, *tok;

	ctx->trid_copy = strdup(c->trid);
	if (!ctx->trid_copy)
		return -ENOMEM;
	for (tok = strtok_r(ctx->trid_copy, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		size_t klen = strcspn(tok, ":=");
		const char *val = tok + klen + 1;
		const char **dst = NULL;

		if (!tok[klen] || !*val)
			return cli_usage_error(ctx, "--trid: '%s' is not key:value", tok);
		tok[klen] = '\0';
		if (!strcasecmp(tok, "trtype"))
			dst = &c->transport;
		else if (!strcasecmp(tok, "traddr"))
			dst = &c->traddr;
		else if (!strcasecmp(tok, "trsvcid"))
			dst = &c->trsvcid;
		else if (!strcasecmp(tok, "subnqn"))
			dst = &c->nqn;
		else if (!strcasecmp(tok, "hostnqn"))
			dst = &c->hostnqn;
		else if (!strcasecmp(tok, "hostid"))
			dst = &c->hostid;
		else if (strcasecmp(tok, "adrfam"))
			return cli_usage_error(ctx, "--trid: unknown key '%s'", tok);
		if (dst && !*dst)
			*dst = val;
	}
	return 0;
}

/* Blocked while the loop target starts, so that its reactor threads never take them. */
static void block_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

static int loop_start(struct cli_ctx *ctx)
{
	const char *path = ctx->conn.loop_config;
	const struct nvmf_cfg_port *port = NULL;
	struct nvmf_tgt_opts topts = { 0 };
	struct nvmf_cfg *cfg = NULL;
	char err[1024];
	sigset_t old;
	int ret;

	if (!path)
		return cli_usage_error(ctx, "-t loop needs --loop-config FILE");
	ret = nvmf_cfg_load_file(path, &cfg, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "nvmf: %s\n", err);
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; i < cfg->nr_ports && !port; i++)
		if (cfg->ports[i].addr.trtype == NVMF_CFG_TRTYPE_LOOP)
			port = &cfg->ports[i];
	if (!port) {
		fprintf(stderr, "nvmf: %s: no port with addr.trtype \"loop\"\n", path);
		nvmf_cfg_free(cfg);
		return CLI_EXIT_USAGE;
	}
	if (!ctx->conn.nqn && !(ctx->cmd->flags & CLI_CMD_DISCOVERY)) {
		if (!port->nr_subsys) {
			fprintf(stderr, "nvmf: %s: the loop port exports no subsystem\n", path);
			nvmf_cfg_free(cfg);
			return CLI_EXIT_USAGE;
		}
		snprintf(ctx->subnqn, sizeof(ctx->subnqn), "%s",
			 cfg->subsys[port->subsys_idx[0]].nqn);
	}

	nvmf_cfg_tgt_opts(&topts, cfg);
	ctx->loop_tgt = nvmf_tgt_create(&topts);
	if (!ctx->loop_tgt) {
		ret = -errno;
		fprintf(stderr, "nvmf: loop target: %s\n", strerror(-ret));
		nvmf_cfg_free(cfg);
		return CLI_EXIT_FAIL;
	}
	ret = nvmf_cfg_apply(ctx->loop_tgt, cfg, NVMF_CFG_TRTYPE_LOOP, err, sizeof(err));
	nvmf_cfg_free(cfg);
	if (ret == -EPROTONOSUPPORT) {
		fprintf(stderr,
			"nvmf: %s: the loop transport is not served by the target "
			"library of this build\n",
			path);
		return CLI_EXIT_FAIL;
	}
	if (ret < 0) {
		fprintf(stderr, "nvmf: %s: %s\n", path, err[0] ? err : strerror(-ret));
		return CLI_EXIT_USAGE;
	}
	block_signals(&old);
	ret = nvmf_tgt_start(ctx->loop_tgt);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret < 0) {
		fprintf(stderr, "nvmf: loop target: cannot start: %s\n", strerror(-ret));
		return CLI_EXIT_FAIL;
	}
	return CLI_PROCEED;
}

int cli_prepare(struct cli_ctx *ctx, struct nvmf_host_opts *o)
{
	struct cli_conn *c = &ctx->conn;
	bool disc = ctx->cmd->flags & CLI_CMD_DISCOVERY;
	int ret;

	nvmf_log_set_level(ctx->verbose >= 3   ? NVMF_LOG_DEBUG
			   : ctx->verbose == 2 ? NVMF_LOG_INFO
			   : ctx->verbose == 1 ? NVMF_LOG_NOTICE
					       : NVMF_LOG_ERR);
	if (c->trid) {
		ret = parse_trid(ctx);
		if (ret)
			return ret < 0 ? cli_usage_error(ctx, "--trid: %s", strerror(-ret)) : ret;
	}
	if (!c->transport)
		c->transport = "tcp";
	if (c->nr_traddrs > 1 || c->nr_trsvcids > 1) {
		if (!(ctx->cmd->flags & CLI_CMD_PATHS))
			return cli_usage_error(ctx, "several --traddr/--trsvcid: only connect and "
						    "list-subsys take more than one path");
		if (strcasecmp(c->transport, "tcp"))
			return cli_usage_error(ctx, "several paths need -t tcp");
		if (c->nr_traddrs > 1 && c->nr_trsvcids > 1 && c->nr_trsvcids != c->nr_traddrs)
			return cli_usage_error(ctx,
					       "%u --traddr but %u --trsvcid: give one of them for "
					       "all paths, or as many of each",
					       c->nr_traddrs, c->nr_trsvcids);
	}
	if (c->hostid) {
		if (parse_uuid(c->hostid, ctx->hostid))
			return cli_usage_error(ctx, "invalid --hostid '%s' (a UUID)", c->hostid);
		ctx->has_hostid = true;
	}
	if (c->nqn)
		snprintf(ctx->subnqn, sizeof(ctx->subnqn), "%s", c->nqn);
	else if (disc)
		snprintf(ctx->subnqn, sizeof(ctx->subnqn), "%s", NVME_DISC_SUBSYS_NAME);

	*o = (struct nvmf_host_opts){
		.trtype = c->transport,
		.hostnqn = c->hostnqn,
		.hostid = ctx->has_hostid ? ctx->hostid : NULL,
		.hdgst = c->hdgst,
		.ddgst = c->ddgst,
		.nr_io_queues = c->nr_io_queues > 0 ? (unsigned int)c->nr_io_queues : 0,
		.queue_size = c->queue_size > 0 ? (unsigned int)c->queue_size : 0,
		/* the library takes 0 as "default" and a negative value as "none" */
		.kato_ms = c->kato_s < 0    ? 0
			   : c->kato_s == 0 ? -1
					    : c->kato_s * 1000,
		.reconnect_delay_s = c->reconnect_delay_s,
		.ctrl_loss_tmo_s = c->ctrl_loss_tmo_s,
		.fast_io_fail_tmo_s = c->fast_io_fail_tmo_s,
		.admin_timeout_ms = ctx->timeout_ms,
		.io_timeout_ms = ctx->timeout_ms,
	};

	if (!strcasecmp(c->transport, "tcp")) {
		if (!c->traddr)
			return cli_usage_error(ctx, "required argument [--traddr | -a] not "
						    "specified");
		if (!ctx->subnqn[0])
			return cli_usage_error(ctx, "required argument --nqn not specified");
		o->trtype = "tcp";
		o->traddr = c->traddr;
		o->trsvcid = c->trsvcid ? c->trsvcid : disc ? "8009" : "4420";
		snprintf(ctx->devname, sizeof(ctx->devname), "tcp:%s:%s", o->traddr, o->trsvcid);
	} else if (!strcasecmp(c->transport, "loop")) {
		ret = loop_start(ctx);
		if (ret != CLI_PROCEED)
			return ret;
		o->trtype = "loop";
		o->loop_tgt = ctx->loop_tgt;
		snprintf(ctx->devname, sizeof(ctx->devname), "loop");
	} else if (!strcasecmp(c->transport, "vfio-user")) {
		/* a PCIe controller: the socket is the address, Identify names the subsystem */
		if (!c->traddr)
			return cli_usage_error(ctx, "required argument [--traddr | -a] not "
						    "specified (the vfio-user socket path)");
		o->trtype = "vfio-user";
		o->traddr = c->traddr;
		snprintf(ctx->devname, sizeof(ctx->devname), "vfio-user:%s", o->traddr);
	} else {
		return cli_usage_error(ctx,
				       "transport '%s' is not supported (tcp, loop, vfio-user)",
				       c->transport);
	}
	o->subnqn = ctx->subnqn;
	return CLI_PROCEED;
}

int cli_connect_with(struct cli_ctx *ctx, const struct nvmf_host_opts *o)
{
	int ret = nvmf_host_ctrl_connect(o, &ctx->ctrl);

	if (!ret) {
		if (o->trtype && !strcmp(o->trtype, "vfio-user")) {
			const struct nvme_id_ctrl *id = nvmf_host_ctrl_id(ctx->ctrl);

			snprintf(ctx->subnqn, sizeof(ctx->subnqn), "%.*s", (int)sizeof(id->subnqn),
				 id->subnqn);
		}
		return CLI_PROCEED;
	}
	ctx->ctrl = NULL;
	if (ret > 0)
		fprintf(stderr, "connect %s %s: NVMe status: %s(%#x)\n", ctx->devname, ctx->subnqn,
			nvme_status_str(ret, true), (unsigned int)ret);
	else
		fprintf(stderr, "connect %s %s: %s\n", ctx->devname, ctx->subnqn, strerror(-ret));
	return CLI_EXIT_FAIL;
}

int cli_connect(struct cli_ctx *ctx)
{
	struct nvmf_host_opts o;
	int ret = cli_prepare(ctx, &o);

	if (ret != CLI_PROCEED)
		return ret;
	return cli_connect_with(ctx, &o);
}

void cli_disconnect(struct cli_ctx *ctx)
{
	if (ctx->ctrl) {
		nvmf_host_ctrl_delete(ctx->ctrl);
		ctx->ctrl = NULL;
	}
	if (ctx->loop_tgt) {
		nvmf_tgt_stop(ctx->loop_tgt);
		nvmf_tgt_destroy(ctx->loop_tgt);
		ctx->loop_tgt = NULL;
	}
	free(ctx->trid_copy);
	ctx->trid_copy = NULL;
}

int cli_result(const struct cli_ctx *ctx, int ret, const char *what)
{
	if (!ret)
		return CLI_EXIT_OK;
	if (ret > 0)
		fprintf(stderr, "NVMe status: %s(%#x)\n", nvme_status_str(ret, false),
			(unsigned int)ret);
	else
		fprintf(stderr, "%s: %s\n", what, strerror(-ret));
	return CLI_EXIT_FAIL;
}

uint32_t cli_default_nsid(struct cli_ctx *ctx)
{
	struct nvmf_host_ns_info info;

	if (ctx->ctrl && nvmf_host_ns_list(ctx->ctrl, &info, 1) >= 1)
		return info.nsid;
	return 1;
}

int cli_get_log(struct cli_ctx *ctx, uint8_t lid, uint32_t nsid, uint8_t lsp, uint64_t lpo,
		bool rae, void *buf, uint32_t len, uint32_t xfer)
{
	uint32_t done = 0;

	if (!xfer)
		xfer = 4096;
	while (done < len) {
		uint32_t n = len - done < xfer ? len - done : xfer;
		/* keep the event retained until the last piece has been read */
		bool last = done + n == len;
		int ret = nvmf_host_get_log(ctx->ctrl, lid, nsid, lsp, lpo + done,
					    last ? rae : true, (uint8_t *)buf + done, n);

		if (ret)
			return ret;
		done += n;
	}
	return 0;
}

ssize_t cli_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (uint8_t *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int cli_write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const uint8_t *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}
