// SPDX-License-Identifier: MIT
/*
 * Fabrics subcommands: discover (Discovery Log Page, NVMe Base 2.0c 5.16.1.23), connect (stay
 * associated until a signal) and reset (controller reset through the host state machine).
 */
#include "cli.h"
#include "print.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DISC_LOG_MAX_RECORDS 4096
#define DISC_LOG_RETRIES 10
#define RESET_TIMEOUT_MS 120000

/*
 * Read the whole Discovery Log Page so that it is consistent: header, records, then the
 * header again; retry while the generation counter moves (as libnvme's
 * nvme_get_discovery_log() does).
 */
static int get_disc_log(struct cli_ctx *ctx, struct nvmf_disc_rsp_page_hdr **out, uint64_t *numrec)
{
	struct nvmf_disc_rsp_page_hdr *hdr = NULL, *log = NULL;
	int ret = -EAGAIN;

	hdr = malloc(sizeof(*hdr));
	if (!hdr)
		return -ENOMEM;
	for (int i = 0; i < DISC_LOG_RETRIES; i++) {
		uint64_t genctr, n;
		size_t size;
		void *p;

		ret = cli_get_log(ctx, NVME_LOG_DISC, 0, 0, 0, true, hdr, sizeof(*hdr), 0);
		if (ret)
			break;
		genctr = hdr->genctr;
		n = hdr->numrec;
		if (n > DISC_LOG_MAX_RECORDS) {
			fprintf(stderr, "discover: %llu records is more than %u\n",
				(unsigned long long)n, DISC_LOG_MAX_RECORDS);
			ret = -EOVERFLOW;
			break;
		}
		size = sizeof(*hdr) + n * sizeof(hdr->entries[0]);
		p = realloc(log, size);
		if (!p) {
			ret = -ENOMEM;
			break;
		}
		log = p;
		ret = cli_get_log(ctx, NVME_LOG_DISC, 0, 0, 0, true, log, (uint32_t)size, 0);
		if (ret)
			break;
		ret = cli_get_log(ctx, NVME_LOG_DISC, 0, 0, 0, false, hdr, sizeof(*hdr), 0);
		if (ret)
			break;
		if (hdr->genctr == genctr && log->genctr == genctr && hdr->numrec == n) {
			*out = log;
			*numrec = n;
			free(hdr);
			return 0;
		}
		ret = -EAGAIN;
	}
	free(hdr);
	free(log);
	return ret;
}

int cmd_discover(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *raw = NULL;
	struct cli_opt opts[] = {
		CLI_OPT("raw", 'r', CLI_OPT_STR, &raw, "FILE", "save raw output to file"),
		CLI_END,
	};
	struct nvmf_disc_rsp_page_hdr *log = NULL;
	uint64_t numrec = 0;
	int ret = cli_parse(ctx, argc, argv, opts);

	if (ret != CLI_PROCEED)
		return ret;
	ret = cli_connect(ctx);
	if (ret != CLI_PROCEED)
		return ret;
	ret = get_disc_log(ctx, &log, &numrec);
	if (ret)
		return cli_result(ctx, ret, "failed to get discovery log");
	if (raw) {
		int fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		size_t size = sizeof(*log) + numrec * sizeof(log->entries[0]);

		ret = fd < 0 ? -errno : cli_write_full(fd, log, size);
		if (fd >= 0)
			close(fd);
		if (ret) {
			free(log);
			fprintf(stderr, "%s: %s\n", raw, strerror(-ret));
			return CLI_EXIT_FAIL;
		}
		if (ctx->fmt != CLI_FMT_JSON)
			printf("Discovery log is saved to %s\n", raw);
	} else {
		show_discovery_log(log, numrec, ctx->fmt);
	}
	if (raw && ctx->fmt == CLI_FMT_JSON)
		show_discovery_log(log, numrec, ctx->fmt);
	free(log);
	return CLI_EXIT_OK;
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct watch {
	bool running;	/* print state changes */
	bool left_live; /* the controller went through a reset */
	enum nvmf_host_ctrl_state state;
};

static void on_state(struct nvmf_host_ctrl *ctrl, enum nvmf_host_ctrl_state old,
		     enum nvmf_host_ctrl_state state, void *arg)
{
	struct watch *w = arg;

	w->state = state;
	if (old == NVMF_CTRL_LIVE && state != NVMF_CTRL_LIVE)
		w->left_live = true;
	if (w->running)
		fprintf(stderr, "nvmf: controller state %s -> %s\n", nvmf_host_ctrl_state_name(old),
			nvmf_host_ctrl_state_name(state));
}

static void on_aen(struct nvmf_host_ctrl *ctrl, uint32_t dw0, void *arg)
{
	struct watch *w = arg;

	if (w->running)
		fprintf(stderr, "nvmf: asynchronous event %#010x (type %u, info %#x, log %#x)\n",
			dw0, dw0 & 7, (dw0 >> 8) & 0xff, (dw0 >> 16) & 0xff);
}

static void show_connected(struct cli_ctx *ctx)
{
	const struct nvme_id_ctrl *id = nvmf_host_ctrl_id(ctx->ctrl);
	size_t nr = nvmf_host_ns_list(ctx->ctrl, NULL, 0);
	struct nvmf_host_ns_info *ns = calloc(nr ? nr : 1, sizeof(*ns));

	nr = ns ? nvmf_host_ns_list(ctx->ctrl, ns, nr) : 0;
	if (ctx->fmt == CLI_FMT_JSON) {
		struct json_object *r = json_object_new_object();
		struct json_object *a = json_object_new_array();

		json_object_object_add(r, "device", json_object_new_string(ctx->devname));
		json_object_object_add(r, "subnqn", json_object_new_string(ctx->subnqn));
		json_object_object_add(r, "transport", json_object_new_string(ctx->conn.transport));
		if (ctx->conn.traddr)
			json_object_object_add(r, "traddr",
					       json_object_new_string(ctx->conn.traddr));
		json_object_object_add(r, "cntlid",
				       json_object_new_int(nvmf_host_ctrl_cntlid(ctx->ctrl)));
		json_object_object_add(r, "state",
				       json_object_new_string(nvmf_host_ctrl_state_name(
					       nvmf_host_ctrl_get_state(ctx->ctrl))));
		json_object_object_add(
			r, "io_queues",
			json_object_new_int((int)nvmf_host_ctrl_nr_io_queues(ctx->ctrl)));
		json_object_object_add(
			r, "sn",
			json_object_new_string_len(id->sn, (int)strnlen(id->sn, sizeof(id->sn))));
		json_object_object_add(
			r, "mn",
			json_object_new_string_len(id->mn, (int)strnlen(id->mn, sizeof(id->mn))));
		json_object_object_add(
			r, "fr",
			json_object_new_string_len(id->fr, (int)strnlen(id->fr, sizeof(id->fr))));
		for (size_t i = 0; i < nr && i < 1024; i++) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "nsid", json_object_new_uint64(ns[i].nsid));
			json_object_object_add(o, "nsze", json_object_new_uint64(ns[i].nsze));
			json_object_object_add(o, "lba_size",
					       json_object_new_uint64(1ull << ns[i].lba_shift));
			json_object_object_add(o, "anagrpid",
					       json_object_new_uint64(ns[i].anagrpid));
			if (ns[i].ana_state)
				json_object_object_add(o, "ana_state",
						       json_object_new_string(nvme_ana_state_str(
							       ns[i].ana_state)));
			json_object_array_add(a, o);
		}
		json_object_object_add(r, "namespaces", a);
		json_print(r);
	} else {
		printf("connected to %s at %s: cntlid %#x, %u I/O queue(s), state %s\n",
		       ctx->subnqn, ctx->devname, nvmf_host_ctrl_cntlid(ctx->ctrl),
		       nvmf_host_ctrl_nr_io_queues(ctx->ctrl),
		       nvmf_host_ctrl_state_name(nvmf_host_ctrl_get_state(ctx->ctrl)));
		printf("controller: sn %.*s, mn %.*s, fr %.*s\n", (int)sizeof(id->sn), id->sn,
		       (int)sizeof(id->mn), id->mn, (int)sizeof(id->fr), id->fr);
		printf("namespaces: %zu\n", nr);
		for (size_t i = 0; i < nr; i++) {
			uint64_t bytes = ns[i].nsze << ns[i].lba_shift;

			printf("  nsid %#x: %llu blocks of %u bytes (%.2f MiB)", ns[i].nsid,
			       (unsigned long long)ns[i].nsze, 1u << ns[i].lba_shift,
			       (double)bytes / (1 << 20));
			if (ns[i].anagrpid)
				printf(", ANA group %u %s", ns[i].anagrpid,
				       nvme_ana_state_str(ns[i].ana_state));
			printf("\n");
		}
		printf("Connected; SIGINT (Ctrl-C) or SIGTERM disconnects.\n");
	}
	fflush(stdout);
	free(ns);
}

/* The controller calls back into @w until it is deleted: the callers delete it before @w goes. */
static int connect_run(struct cli_ctx *ctx, struct watch *w, struct nvmf_host_opts *o)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int ret;

	o->state_cb = on_state;
	o->aen_cb = on_aen;
	o->cb_arg = w;
	/* no SA_RESTART: a signal ends the poll's wait at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ret = cli_connect_with(ctx, o);
	if (ret != CLI_PROCEED)
		return ret;
	show_connected(ctx);
	w->running = true;
	while (!stop_signal) {
		ret = nvmf_host_poll(ctx->ctrl, 200);
		if (ret < 0 && ret != -EINTR) {
			w->running = false;
			return cli_result(ctx, ret, "poll");
		}
		if (nvmf_host_ctrl_get_state(ctx->ctrl) == NVMF_CTRL_DEAD) {
			w->running = false;
			fprintf(stderr, "nvmf: the controller is gone (ctrl-loss-tmo expired)\n");
			return CLI_EXIT_FAIL;
		}
	}
	w->running = false;
	fprintf(stderr, "nvmf: %s: disconnecting\n", strsignal(stop_signal));
	cli_disconnect(ctx);
	if (ctx->fmt != CLI_FMT_JSON)
		printf("Disconnected from %s\n", ctx->subnqn);
	return CLI_EXIT_OK;
}

int cmd_connect(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *iopolicy = NULL;
	uint32_t delayed_removal_s = 0;
	struct cli_opt opts[] = {
		CLI_OPT("iopolicy", 0, CLI_OPT_STR, &iopolicy, "POLICY",
			"multipath I/O policy: numa (default), round-robin or queue-depth"),
		CLI_OPT("delayed-removal-secs", 0, CLI_OPT_U32, &delayed_removal_s, "SEC",
			"multipath: keep a namespace with no path left, and its queued I/O, "
			"this long (default 0)"),
		CLI_END,
	};
	struct watch w = { 0 };
	struct nvmf_host_opts o;
	int ret = cli_parse(ctx, argc, argv, opts);

	if (ret != CLI_PROCEED)
		return ret;
	ret = cli_prepare(ctx, &o);
	if (ret != CLI_PROCEED)
		return ret;
	if (cli_nr_paths(ctx) > 1 || iopolicy || cli_opt_seen(opts, "delayed-removal-secs")) {
		if (strcmp(o.trtype, "tcp")) {
			cli_disconnect(ctx);
			return cli_usage_error(ctx, "multipath needs -t tcp");
		}
		ret = cli_mpath_connect(ctx, &o, iopolicy, delayed_removal_s);
		cli_disconnect(ctx);
		return ret;
	}
	ret = connect_run(ctx, &w, &o);
	w.running = false;
	cli_disconnect(ctx);
	return ret;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int reset_run(struct cli_ctx *ctx, struct watch *w, struct nvmf_host_opts *o)
{
	uint16_t before;
	uint64_t deadline;
	int ret;

	o->state_cb = on_state;
	o->cb_arg = w;
	ret = cli_connect_with(ctx, o);
	if (ret != CLI_PROCEED)
		return ret;
	before = nvmf_host_ctrl_cntlid(ctx->ctrl);
	w->left_live = false;
	ret = nvmf_host_ctrl_reset(ctx->ctrl);
	if (ret)
		return cli_result(ctx, ret, "Reset");
	deadline = now_ms() + RESET_TIMEOUT_MS;
	for (;;) {
		enum nvmf_host_ctrl_state s = nvmf_host_ctrl_get_state(ctx->ctrl);

		if (w->left_live && s == NVMF_CTRL_LIVE)
			break;
		if (s == NVMF_CTRL_DEAD)
			return cli_result(ctx, -ENOTCONN, "Reset");
		if (now_ms() > deadline)
			return cli_result(ctx, -ETIMEDOUT, "Reset");
		ret = nvmf_host_poll(ctx->ctrl, 50);
		if (ret < 0 && ret != -EINTR)
			return cli_result(ctx, ret, "Reset");
	}
	if (ctx->fmt == CLI_FMT_JSON) {
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "cntlid_before", json_object_new_int(before));
		json_object_object_add(r, "cntlid",
				       json_object_new_int(nvmf_host_ctrl_cntlid(ctx->ctrl)));
		json_object_object_add(r, "state", json_object_new_string("live"));
		json_print(r);
	} else if (ctx->verbose) {
		printf("reset: cntlid %#x -> %#x, live\n", before,
		       nvmf_host_ctrl_cntlid(ctx->ctrl));
	}
	return CLI_EXIT_OK;
}

int cmd_reset(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt opts[] = { CLI_END };
	struct watch w = { 0 };
	struct nvmf_host_opts o;
	int ret = cli_parse(ctx, argc, argv, opts);

	if (ret != CLI_PROCEED)
		return ret;
	ret = cli_prepare(ctx, &o);
	if (ret != CLI_PROCEED)
		return ret;
	ret = reset_run(ctx, &w, &o);
	cli_disconnect(ctx);
	return ret;
}
