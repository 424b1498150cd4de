// SPDX-License-Identifier: MIT
/*
 * Multipath subcommands over a libnvmf host subsystem (include/nvmf/host.h, "Multipath"):
 * connect with several -a/-s paths (namespace heads, the I/O policy, each path's controller
 * and ANA state, kept until a signal), and list-subsys (nvme-cli's view of a subsystem's
 * paths with the ANA state of a namespace through each, NVMe Base 2.0c 8.1.3).
 */
#include "cli.h"
#include "print.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* the connection of one -a/-s pair, as the library reports it in the state callback */
struct mp_path {
	struct mp_run *run;
	unsigned int idx; /* position on the command line: the path's name is nvme<idx> */
	struct nvmf_host_ctrl *ctrl;
	char traddr[256];
	char trsvcid[32];
};

struct mp_run {
	struct cli_ctx *ctx;
	struct nvmf_host_subsys *s;
	enum nvmf_host_iopolicy policy;
	bool running; /* print state changes and events */
	unsigned int nr;
	unsigned int failed; /* paths that did not connect */
	struct mp_path path[CLI_MAX_PATHS];
};

static volatile sig_atomic_t mp_stop;

static void mp_on_signal(int sig)
{
	mp_stop = sig;
}

/* --iopolicy NAME (NULL: numa, Linux's default) */
static int parse_policy(struct cli_ctx *ctx, const char *name, enum nvmf_host_iopolicy *out)
{
	int ret = name ? nvmf_host_iopolicy_parse(name) : NVMF_IOPOLICY_NUMA;

	if (ret < 0)
		return cli_usage_error(
			ctx, "invalid --iopolicy '%s' (numa, round-robin, queue-depth)", name);
	*out = (enum nvmf_host_iopolicy)ret;
	return CLI_PROCEED;
}

unsigned int cli_nr_paths(const struct cli_ctx *ctx)
{
	const struct cli_conn *c = &ctx->conn;
	unsigned int n = c->nr_traddrs > c->nr_trsvcids ? c->nr_traddrs : c->nr_trsvcids;

	return n ? n : 1;
}

static void mp_on_state(struct nvmf_host_ctrl *ctrl, enum nvmf_host_ctrl_state old,
			enum nvmf_host_ctrl_state state, void *arg)
{
	struct mp_path *p = arg;

	if (p->run->running)
		fprintf(stderr, "nvmf: nvme%u (traddr=%s,trsvcid=%s): controller state %s -> %s\n",
			p->idx, p->traddr, p->trsvcid, nvmf_host_ctrl_state_name(old),
			nvmf_host_ctrl_state_name(state));
}

static void mp_on_aen(struct nvmf_host_ctrl *ctrl, uint32_t dw0, void *arg)
{
	struct mp_path *p = arg;

	if (p->run->running)
		fprintf(stderr,
			"nvmf: nvme%u: asynchronous event %#010x (type %u, info %#x, log %#x)\n",
			p->idx, dw0, dw0 & 7, (dw0 >> 8) & 0xff, (dw0 >> 16) & 0xff);
}

/* the path's name (nvme<i>, i its -a/-s position) from the library's controller */
static const struct mp_path *mp_find(const struct mp_run *run, const struct nvmf_host_ctrl *ctrl)
{
	for (unsigned int i = 0; i < run->nr; i++)
		if (run->path[i].ctrl == ctrl)
			return &run->path[i];
	return NULL;
}

/*
 * Create the host subsystem and add one path per -a/-s pair. A path that cannot connect is
 * reported and left out; at least one must connect.
 */
static int mp_connect(struct cli_ctx *ctx, struct mp_run *run, const struct nvmf_host_opts *base,
		      unsigned int delayed_removal_s)
{
	const struct cli_conn *c = &ctx->conn;
	struct nvmf_host_subsys_opts so = {
		.subnqn = ctx->subnqn,
		.iopolicy = run->policy,
		.delayed_removal_secs = delayed_removal_s,
	};
	unsigned int nr = cli_nr_paths(ctx), ok = 0;
	int ret;

	run->ctx = ctx;
	ret = nvmf_host_subsys_create(&so, &run->s);
	if (ret)
		return cli_result(ctx, ret, "create the host subsystem");
	for (unsigned int i = 0; i < nr; i++) {
		struct mp_path *p = &run->path[i];
		struct nvmf_host_opts o = *base;

		p->run = run;
		p->idx = i;
		o.traddr = c->nr_traddrs > 1 ? c->traddrs[i] : base->traddr;
		o.trsvcid = c->nr_trsvcids > 1 ? c->trsvcids[i] : base->trsvcid;
		o.state_cb = mp_on_state;
		o.aen_cb = mp_on_aen;
		o.cb_arg = p;
		snprintf(p->traddr, sizeof(p->traddr), "%s", o.traddr);
		snprintf(p->trsvcid, sizeof(p->trsvcid), "%s", o.trsvcid);
		run->nr = i + 1;
		ret = nvmf_host_subsys_add_path(run->s, &o, &p->ctrl);
		if (ret) {
			p->ctrl = NULL;
			if (ret > 0)
				fprintf(stderr, "connect tcp:%s:%s %s: NVMe status: %s(%#x)\n",
					p->traddr, p->trsvcid, ctx->subnqn,
					nvme_status_str(ret, true), (unsigned int)ret);
			else
				fprintf(stderr, "connect tcp:%s:%s %s: %s\n", p->traddr, p->trsvcid,
					ctx->subnqn, strerror(-ret));
			run->failed++;
			continue;
		}
		ok++;
	}
	if (!ok) {
		nvmf_host_subsys_destroy(run->s);
		run->s = NULL;
		return CLI_EXIT_FAIL;
	}
	return CLI_PROCEED;
}

static void mp_destroy(struct mp_run *run)
{
	run->running = false;
	if (run->s)
		nvmf_host_subsys_destroy(run->s);
	run->s = NULL;
}

static void hex_str(char *out, const uint8_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", v[i]);
	out[2 * n] = '\0';
}

static bool all_zero(const uint8_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i])
			return false;
	return true;
}

/* "traddr=127.0.0.1,trsvcid=4420", as nvme-cli's Address */
static void path_address(char *out, size_t len, const struct nvmf_host_path_info *pi)
{
	snprintf(out, len, "traddr=%s,trsvcid=%s", pi->traddr, pi->trsvcid);
}

/* nvme-cli's path line: " +- nvme0 tcp traddr=...,trsvcid=... live optimized" */
static void print_path_line(const struct mp_run *run, const struct nvmf_host_path_info *pi,
			    const char *indent)
{
	const struct mp_path *p = mp_find(run, pi->ctrl);
	char addr[320];

	path_address(addr, sizeof(addr), pi);
	printf("%s+- nvme%u %s %s %s", indent, p ? p->idx : 0, pi->trtype, addr,
	       nvmf_host_ctrl_state_name(pi->state));
	if (pi->ana_state)
		printf(" %s", nvme_ana_state_str(pi->ana_state));
	printf("\n");
}

static struct json_object *path_json(const struct mp_run *run, const struct nvmf_host_path_info *pi,
				     bool ns)
{
	const struct mp_path *p = mp_find(run, pi->ctrl);
	struct json_object *o = json_object_new_object();
	char name[32], addr[320];

	snprintf(name, sizeof(name), "nvme%u", p ? p->idx : 0);
	path_address(addr, sizeof(addr), pi);
	json_object_object_add(o, "Name", json_object_new_string(name));
	json_object_object_add(o, "Transport", json_object_new_string(pi->trtype));
	json_object_object_add(o, "Address", json_object_new_string(addr));
	json_object_object_add(o, "State",
			       json_object_new_string(nvmf_host_ctrl_state_name(pi->state)));
	json_object_object_add(o, "Cntlid", json_object_new_int(pi->cntlid));
	if (ns && pi->ana_state) {
		json_object_object_add(o, "ANAState",
				       json_object_new_string(nvme_ana_state_str(pi->ana_state)));
		json_object_object_add(o, "ANAGroup", json_object_new_uint64(pi->anagrpid));
	}
	if (ns) {
		json_object_object_add(o, "Current", json_object_new_boolean(pi->current));
		json_object_object_add(o, "Submitted", json_object_new_uint64(pi->submitted));
		json_object_object_add(o, "Failovers", json_object_new_uint64(pi->failovers));
	}
	return o;
}

/* the heads and each one's paths; NULL on allocation failure */
static struct nvmf_host_head_info *get_heads(struct nvmf_host_subsys *s, size_t *nr)
{
	size_t n = nvmf_host_subsys_heads(s, NULL, 0);
	struct nvmf_host_head_info *h = calloc(n ? n : 1, sizeof(*h));

	*nr = h ? nvmf_host_subsys_heads(s, h, n) : 0;
	if (*nr > n)
		*nr = n;
	return h;
}

static void show_mp_connected(struct mp_run *run)
{
	struct cli_ctx *ctx = run->ctx;
	struct nvmf_host_path_info pi[CLI_MAX_PATHS];
	size_t nr_heads, np = nvmf_host_subsys_paths(run->s, 0, pi, CLI_MAX_PATHS);
	struct nvmf_host_head_info *h = get_heads(run->s, &nr_heads);
	char id[40];

	if (np > CLI_MAX_PATHS)
		np = CLI_MAX_PATHS;
	if (ctx->fmt == CLI_FMT_JSON) {
		struct json_object *r = json_object_new_object();
		struct json_object *paths = json_object_new_array();
		struct json_object *nss = json_object_new_array();

		json_object_object_add(r, "subnqn", json_object_new_string(ctx->subnqn));
		json_object_object_add(
			r, "iopolicy",
			json_object_new_string(nvmf_host_iopolicy_name(run->policy)));
		for (size_t i = 0; i < np; i++)
			json_object_array_add(paths, path_json(run, &pi[i], false));
		json_object_object_add(r, "paths", paths);
		for (size_t i = 0; i < nr_heads; i++) {
			struct json_object *o = json_object_new_object();
			struct json_object *hp = json_object_new_array();
			struct nvmf_host_path_info npi[CLI_MAX_PATHS];
			size_t n = nvmf_host_subsys_paths(run->s, h[i].nsid, npi, CLI_MAX_PATHS);

			json_object_object_add(o, "nsid", json_object_new_uint64(h[i].nsid));
			json_object_object_add(o, "nsze", json_object_new_uint64(h[i].nsze));
			json_object_object_add(o, "lba_size",
					       json_object_new_uint64(1ull << h[i].lba_shift));
			if (!all_zero(h[i].nguid, sizeof(h[i].nguid))) {
				hex_str(id, h[i].nguid, sizeof(h[i].nguid));
				json_object_object_add(o, "nguid", json_object_new_string(id));
			}
			json_object_object_add(o, "nr_paths",
					       json_object_new_uint64(h[i].nr_paths));
			for (size_t j = 0; j < n && j < CLI_MAX_PATHS; j++)
				json_object_array_add(hp, path_json(run, &npi[j], true));
			json_object_object_add(o, "paths", hp);
			json_object_array_add(nss, o);
		}
		json_object_object_add(r, "namespaces", nss);
		json_print(r);
	} else {
		printf("connected to %s through %zu path(s), iopolicy %s\n", ctx->subnqn, np,
		       nvmf_host_iopolicy_name(run->policy));
		for (size_t i = 0; i < np; i++) {
			printf("  cntlid %#x ", pi[i].cntlid);
			print_path_line(run, &pi[i], "");
		}
		printf("namespaces: %zu\n", nr_heads);
		for (size_t i = 0; i < nr_heads; i++) {
			struct nvmf_host_path_info npi[CLI_MAX_PATHS];
			size_t n = nvmf_host_subsys_paths(run->s, h[i].nsid, npi, CLI_MAX_PATHS);
			uint64_t bytes = h[i].nsze << h[i].lba_shift;

			printf("  nsid %#x: %llu blocks of %u bytes (%.2f MiB), %u path(s)",
			       h[i].nsid, (unsigned long long)h[i].nsze, 1u << h[i].lba_shift,
			       (double)bytes / (1 << 20), h[i].nr_paths);
			if (!all_zero(h[i].nguid, sizeof(h[i].nguid))) {
				hex_str(id, h[i].nguid, sizeof(h[i].nguid));
				printf(", nguid %s", id);
			}
			printf("\n");
			for (size_t j = 0; j < n && j < CLI_MAX_PATHS; j++)
				print_path_line(run, &npi[j], "     ");
		}
		printf("Connected; SIGINT (Ctrl-C) or SIGTERM disconnects.\n");
	}
	fflush(stdout);
	free(h);
}

/* a path controller that could still carry I/O */
static bool any_path_alive(struct mp_run *run)
{
	struct nvmf_host_path_info pi[CLI_MAX_PATHS];
	size_t n = nvmf_host_subsys_paths(run->s, 0, pi, CLI_MAX_PATHS);

	for (size_t i = 0; i < n && i < CLI_MAX_PATHS; i++)
		if (pi[i].state != NVMF_CTRL_DEAD && pi[i].state != NVMF_CTRL_DELETING)
			return true;
	return false;
}

int cli_mpath_connect(struct cli_ctx *ctx, const struct nvmf_host_opts *o, const char *iopolicy,
		      unsigned int delayed_removal_s)
{
	struct sigaction sa = { .sa_handler = mp_on_signal };
	static struct mp_run run; /* the callbacks point into it until the subsystem goes */
	int ret;

	memset(&run, 0, sizeof(run));
	ret = parse_policy(ctx, iopolicy, &run.policy);
	if (ret != CLI_PROCEED)
		return ret;
	/* no SA_RESTART: a signal ends the poll's wait at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ret = mp_connect(ctx, &run, o, delayed_removal_s);
	if (ret != CLI_PROCEED)
		return ret;
	show_mp_connected(&run);
	run.running = true;
	while (!mp_stop) {
		ret = nvmf_host_subsys_poll(run.s, 200);
		if (ret < 0 && ret != -EINTR) {
			mp_destroy(&run);
			return cli_result(ctx, ret, "poll");
		}
		if (!any_path_alive(&run)) {
			mp_destroy(&run);
			fprintf(stderr, "nvmf: every path is gone (ctrl-loss-tmo expired)\n");
			return CLI_EXIT_FAIL;
		}
	}
	fprintf(stderr, "nvmf: %s: disconnecting\n", strsignal(mp_stop));
	mp_destroy(&run);
	if (ctx->fmt != CLI_FMT_JSON)
		printf("Disconnected from %s\n", ctx->subnqn);
	return CLI_EXIT_OK;
}

/*
 * list-subsys: connect every path given, then print the subsystem as nvme-cli 2.x does
 *   nvme-subsys0 - NQN=<subnqn>
 *                  iopolicy=<policy>
 *   \
 *    +- nvme0 tcp traddr=<addr>,trsvcid=<port> live optimized
 * with the ANA state of --namespace-id (default: the first namespace) through each path.
 */
int cmd_list_subsys(struct cli_ctx *ctx, int argc, char **argv)
{
	static struct mp_run run;
	const char *iopolicy = NULL;
	uint32_t nsid = 0;
	struct cli_opt opts[] = {
		CLI_OPT("namespace-id", 0, CLI_OPT_U32, &nsid, "NSID",
			"the namespace whose ANA state each path shows (default: the first)"),
		CLI_OPT("iopolicy", 0, CLI_OPT_STR, &iopolicy, "POLICY",
			"numa (default), round-robin or queue-depth"),
		CLI_END,
	};
	struct nvmf_host_path_info pi[CLI_MAX_PATHS];
	struct nvmf_host_head_info head;
	struct nvmf_host_opts o;
	size_t np;
	int ret = cli_parse(ctx, argc, argv, opts);

	if (ret != CLI_PROCEED)
		return ret;
	memset(&run, 0, sizeof(run));
	ret = parse_policy(ctx, iopolicy, &run.policy);
	if (ret != CLI_PROCEED)
		return ret;
	ret = cli_prepare(ctx, &o);
	if (ret != CLI_PROCEED)
		return ret;
	if (strcmp(o.trtype, "tcp")) {
		cli_disconnect(ctx);
		return cli_usage_error(ctx, "list-subsys needs -t tcp");
	}
	ret = mp_connect(ctx, &run, &o, 0);
	if (ret != CLI_PROCEED) {
		cli_disconnect(ctx);
		return ret;
	}
	if (!nsid && nvmf_host_subsys_heads(run.s, &head, 1) >= 1)
		nsid = head.nsid;
	np = nvmf_host_subsys_paths(run.s, nsid, pi, CLI_MAX_PATHS);
	if (np > CLI_MAX_PATHS)
		np = CLI_MAX_PATHS;
	if (ctx->fmt == CLI_FMT_JSON) {
		struct json_object *top = json_object_new_array();
		struct json_object *host = json_object_new_object();
		struct json_object *subs = json_object_new_array();
		struct json_object *sub = json_object_new_object();
		struct json_object *paths = json_object_new_array();

		json_object_object_add(sub, "Name", json_object_new_string("nvme-subsys0"));
		json_object_object_add(sub, "NQN", json_object_new_string(ctx->subnqn));
		json_object_object_add(sub, "IOPolicy",
				       json_object_new_string(nvmf_host_iopolicy_name(run.policy)));
		if (nsid)
			json_object_object_add(sub, "NSID", json_object_new_uint64(nsid));
		for (size_t i = 0; i < np; i++)
			json_object_array_add(paths, path_json(&run, &pi[i], nsid != 0));
		json_object_object_add(sub, "Paths", paths);
		json_object_array_add(subs, sub);
		json_object_object_add(host, "Subsystems", subs);
		json_object_array_add(top, host);
		json_print(top);
	} else {
		printf("nvme-subsys0 - NQN=%s\n", ctx->subnqn);
		printf("               iopolicy=%s\n", nvmf_host_iopolicy_name(run.policy));
		printf("\\\n");
		for (size_t i = 0; i < np; i++)
			print_path_line(&run, &pi[i], " ");
	}
	fflush(stdout);
	mp_destroy(&run);
	cli_disconnect(ctx);
	return run.failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
