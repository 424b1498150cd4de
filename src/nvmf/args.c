// SPDX-License-Identifier: MIT
/*
 * Option parsing for the subcommands, in the manner of nvme-cli's argconfig: each subcommand
 * declares its options (struct cli_opt); the connection options every subcommand takes are
 * added here. When a subcommand's own short letter is also a connection option's (read's
 * -s/--start-block against -s/--trsvcid), the subcommand keeps it, the connection option
 * keeps only its long form, and --help says so.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_MAX_OPTS 96
#define CLI_NR_COMMON 20
#define CLI_LONG_BASE 0x100 /* getopt values of options without a short letter */
#define HELP_COL 34

struct slot {
	struct cli_opt *o;
	int short_name;	      /* the letter in effect here, 0 if none */
	const char *taken_by; /* the subcommand option that took the letter, "" for perf */
};

/* -a and -s may come several times (connect, list-subsys: one path per pair) */
static int add_path_arg(struct cli_ctx *ctx, const char *arg, void *data)
{
	struct cli_conn *k = &ctx->conn;
	bool addr = data == &k->traddr;
	unsigned int *nr = addr ? &k->nr_traddrs : &k->nr_trsvcids;
	const char **v = addr ? k->traddrs : k->trsvcids;

	if (*nr == CLI_MAX_PATHS)
		return cli_usage_error(ctx, "at most %u %s", CLI_MAX_PATHS,
				       addr ? "--traddr" : "--trsvcid");
	v[(*nr)++] = arg;
	if (*nr == 1)
		*(const char **)data = arg;
	return 0;
}

static size_t common_opts(struct cli_ctx *ctx, struct cli_opt *c)
{
	bool disc = ctx->cmd->flags & CLI_CMD_DISCOVERY;
	struct cli_conn *k = &ctx->conn;
	size_t n = 0;

	c[n++] = (struct cli_opt)CLI_OPT("transport", 't', CLI_OPT_STR, &k->transport, "STR",
					 "transport type: tcp (default), loop or vfio-user");
	ctx->traddr_call = (struct cli_call){ add_path_arg, &k->traddr };
	ctx->trsvcid_call = (struct cli_call){ add_path_arg, &k->trsvcid };
	c[n++] = (struct cli_opt)CLI_OPT("traddr", 'a', CLI_OPT_CALL, &ctx->traddr_call, "STR",
					 ctx->cmd->flags & CLI_CMD_PATHS
						 ? "transport address; repeat -a/-s for each path "
						   "of a multipath subsystem"
						 : "transport address (IPv4/IPv6 address or host "
						   "name; vfio-user: the socket path)");
	c[n++] =
		(struct cli_opt)CLI_OPT("trsvcid", 's', CLI_OPT_CALL, &ctx->trsvcid_call, "STR",
					disc ? "transport service id, the TCP port (default 8009)"
					     : "transport service id, the TCP port (default 4420)");
	c[n++] = (struct cli_opt)CLI_OPT(
		"nqn", 'n', CLI_OPT_STR, &k->nqn, "STR",
		disc ? "subsystem NQN (default: the discovery NQN)"
		     : "subsystem NQN (required for tcp; -t loop: the loop port's first)");
	c[n++] = (struct cli_opt)CLI_OPT("hostnqn", 'q', CLI_OPT_STR, &k->hostnqn, "STR",
					 "host NQN (default /etc/nvme/hostnqn, else derived)");
	c[n++] = (struct cli_opt)CLI_OPT("hostid", 'I', CLI_OPT_STR, &k->hostid, "UUID",
					 "host identifier (default /etc/nvme/hostid, else random)");
	c[n++] = (struct cli_opt)CLI_FLAG("hdr-digest", 'g', &k->hdgst, "enable header digests");
	c[n++] = (struct cli_opt)CLI_FLAG("data-digest", 'G', &k->ddgst, "enable data digests");
	c[n++] = (struct cli_opt)CLI_OPT("keep-alive-tmo", 'k', CLI_OPT_INT, &k->kato_s, "SEC",
					 "keep alive timeout, seconds (0: none)");
	c[n++] = (struct cli_opt)CLI_OPT("nr-io-queues", 'i', CLI_OPT_INT, &k->nr_io_queues, "NUM",
					 "number of I/O queues to ask for (default 1)");
	c[n++] = (struct cli_opt)CLI_OPT("queue-size", 'Q', CLI_OPT_INT, &k->queue_size, "NUM",
					 "entries per I/O queue (default 128)");
	c[n++] = (struct cli_opt)CLI_OPT("reconnect-delay", 'c', CLI_OPT_INT, &k->reconnect_delay_s,
					 "SEC", "seconds between reconnect attempts (default 10)");
	c[n++] = (struct cli_opt)CLI_OPT("ctrl-loss-tmo", 'l', CLI_OPT_INT, &k->ctrl_loss_tmo_s,
					 "SEC", "seconds to keep reconnecting (default 600)");
	c[n++] = (struct cli_opt)CLI_OPT("fast_io_fail_tmo", 'F', CLI_OPT_INT,
					 &k->fast_io_fail_tmo_s, "SEC",
					 "seconds I/O waits for a reconnect (default -1: forever)");
	c[n++] = (struct cli_opt)CLI_OPT(
		"trid", 'r', CLI_OPT_STR, &k->trid, "TRID",
		"SPDK-style transport ID: 'trtype:tcp adrfam:ipv4 traddr:ADDR trsvcid:PORT "
		"subnqn:NQN [hostnqn:NQN]'");
	c[n++] = (struct cli_opt)CLI_OPT("loop-config", 0, CLI_OPT_STR, &k->loop_config, "FILE",
					 "-t loop: nvmetcli JSON of the in-process target");
	c[n++] = (struct cli_opt)CLI_OPT("output-format", 'o', CLI_OPT_FMT, &ctx->fmt, "FMT",
					 "output format: normal|json|binary");
	c[n++] = (struct cli_opt)CLI_OPT("verbose", 'v', CLI_OPT_INCR, &ctx->verbose, NULL,
					 "more detail (human readable fields, library log)");
	c[n++] = (struct cli_opt)CLI_OPT("timeout", 0, CLI_OPT_U32, &ctx->timeout_ms, "MS",
					 "command timeout, ms (default: the library's)");
	c[n++] = (struct cli_opt)CLI_FLAG("help", 'h', &ctx->help, "show this help");
	return n;
}

int cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nvmf %s: ", ctx->cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'nvmf %s --help' for the options.\n", ctx->cmd->name);
	return CLI_EXIT_USAGE;
}

int cli_parse_u64(const char *s, bool suffix, uint64_t *out)
{
	static const char units[] = "kmgt";
	unsigned long long v;
	const char *u;
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	if (*end && suffix && (u = strchr(units, *end | 0x20)) != NULL) {
		unsigned int shift = 10 * (unsigned int)(u - units + 1);

		end++;
		if (*end == 'i')
			end++;
		if (*end == 'B')
			end++;
		if (v > (ULLONG_MAX >> shift))
			return -EINVAL;
		v <<= shift;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_list(const char *arg, struct cli_list *l)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	l->nr = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (l->nr == CLI_LIST_MAX || cli_parse_u64(tok, false, &l->v[l->nr])) {
			ret = -EINVAL;
			break;
		}
		l->nr++;
	}
	free(copy);
	return ret;
}

static int set_value(struct cli_ctx *ctx, struct cli_opt *o, const char *arg)
{
	uint64_t v = 0;
	uint64_t max = UINT64_MAX;
	char *end;
	long l;

	switch (o->type) {
	case CLI_OPT_FLAG:
		*(bool *)o->val = true;
		return 0;
	case CLI_OPT_INCR:
		(*(int *)o->val)++;
		return 0;
	case CLI_OPT_STR:
		*(const char **)o->val = arg;
		return 0;
	case CLI_OPT_CALL:
		return ((struct cli_call *)o->val)->fn(ctx, arg, ((struct cli_call *)o->val)->data);
	case CLI_OPT_FMT:
		if (!strcmp(arg, "normal"))
			*(enum cli_fmt *)o->val = CLI_FMT_NORMAL;
		else if (!strcmp(arg, "json"))
			*(enum cli_fmt *)o->val = CLI_FMT_JSON;
		else if (!strcmp(arg, "binary"))
			*(enum cli_fmt *)o->val = CLI_FMT_BINARY;
		else
			return cli_usage_error(
				ctx, "invalid output format '%s' (normal|json|binary)", arg);
		return 0;
	case CLI_OPT_INT:
		errno = 0;
		l = strtol(arg, &end, 0);
		if (errno || end == arg || *end || l < INT_MIN || l > INT_MAX)
			break;
		*(int *)o->val = (int)l;
		return 0;
	case CLI_OPT_LIST:
		if (parse_list(arg, o->val))
			break;
		return 0;
	case CLI_OPT_U8:
		max = UINT8_MAX;
		/* fall through */
	case CLI_OPT_U16:
		if (o->type == CLI_OPT_U16)
			max = UINT16_MAX;
		/* fall through */
	case CLI_OPT_U32:
		if (o->type == CLI_OPT_U32)
			max = UINT32_MAX;
		/* fall through */
	case CLI_OPT_U64:
	case CLI_OPT_SIZE:
		if (cli_parse_u64(arg, o->type == CLI_OPT_SIZE, &v) || v > max)
			break;
		if (o->type == CLI_OPT_U8)
			*(uint8_t *)o->val = (uint8_t)v;
		else if (o->type == CLI_OPT_U16)
			*(uint16_t *)o->val = (uint16_t)v;
		else if (o->type == CLI_OPT_U32)
			*(uint32_t *)o->val = (uint32_t)v;
		else
			*(uint64_t *)o->val = v;
		return 0;
	}
	return cli_usage_error(ctx, "invalid value '%s' for --%s", arg, o->name);
}

bool cli_opt_seen(const struct cli_opt *opts, const char *name)
{
	for (; opts->name; opts++)
		if (!strcmp(opts->name, name))
			return opts->seen;
	return false;
}

static const struct cli_opt *find_long(const struct cli_opt *opts, const char *name)
{
	for (; opts->name; opts++)
		if (!strcmp(opts->name, name))
			return opts;
	return NULL;
}

static const struct cli_opt *find_short(const struct cli_opt *opts, int c)
{
	for (; opts->name; opts++)
		if (opts->short_name == c)
			return opts;
	return NULL;
}

static void print_opt(const struct slot *s)
{
	const struct cli_opt *o = s->o;
	char left[96];
	int len;

	len = snprintf(left, sizeof(left), "  %c%c%c --%s%s%s", s->short_name ? '-' : ' ',
		       s->short_name ? s->short_name : ' ', s->short_name ? ',' : ' ', o->name,
		       o->meta ? "=" : "", o->meta ? o->meta : "");
	if (len < HELP_COL - 1)
		printf("%-*s%s", HELP_COL, left, o->help);
	else
		printf("%s\n%*s%s", left, HELP_COL, "", o->help);
	if (s->taken_by && *s->taken_by)
		printf(" [-%c is --%s here]", s->o->short_name, s->taken_by);
	printf("\n");
}

static void print_help(const struct cli_ctx *ctx, const struct slot *slots, size_t n, size_t nr_cmd)
{
	bool note = false;

	printf("Usage: nvmf %s [OPTIONS]\n\n%s\n\n", ctx->cmd->name, ctx->cmd->desc);
	if (nr_cmd) {
		printf("Options:\n");
		for (size_t i = 0; i < nr_cmd; i++)
			print_opt(&slots[i]);
		printf("\n");
	}
	printf("Connection options (nvme-cli connect flags):\n");
	for (size_t i = nr_cmd; i < n; i++) {
		print_opt(&slots[i]);
		if (slots[i].taken_by)
			note = true;
	}
	if (note)
		printf("\nA connection option shown without its short letter keeps only its long "
		       "form here:\nthe letter belongs to this subcommand, as in nvme-cli.\n");
	printf("\nThe controller is reached with the connection options above (or --trid); "
	       "--transport loop\nruns the target of --loop-config in this process.\n"
	       "Exit status: 0 on success, 1 on an NVMe status or a transport error, 2 on a "
	       "usage error.\n");
}

int cli_parse(struct cli_ctx *ctx, int argc, char **argv, struct cli_opt *opts)
{
	struct cli_opt common[CLI_NR_COMMON];
	bool conn_long = ctx->cmd->flags & CLI_CMD_CONN_LONG;
	struct slot slots[CLI_MAX_OPTS];
	struct option longopts[CLI_MAX_OPTS + 1];
	char shortopts[3 * CLI_MAX_OPTS + 2];
	int short_idx[128];
	size_t n = 0, nr_cmd, nc, sl = 0;
	char prog[64];
	int c;

	for (struct cli_opt *o = opts; o->name; o++) {
		if (n == CLI_MAX_OPTS - CLI_NR_COMMON)
			break;
		slots[n++] = (struct slot){ .o = o, .short_name = o->short_name };
	}
	nr_cmd = n;
	nc = common_opts(ctx, common);
	for (size_t i = 0; i < nc; i++) {
		const struct cli_opt *mine;
		const char *taken = NULL;
		int s = common[i].short_name;

		if (find_long(opts, common[i].name))
			continue; /* the subcommand's own option of that name wins */
		if (s && (mine = find_short(opts, s)) != NULL)
			taken = mine->name;
		else if (s && conn_long && s != 'r' && s != 'h')
			taken = "";
		slots[n++] = (struct slot){ .o = &common[i],
					    .short_name = taken ? 0 : s,
					    .taken_by = taken };
	}

	memset(short_idx, -1, sizeof(short_idx));
	shortopts[sl++] = ':';
	for (size_t i = 0; i < n; i++) {
		const struct cli_opt *o = slots[i].o;
		bool arg = o->type != CLI_OPT_FLAG && o->type != CLI_OPT_INCR;

		longopts[i] = (struct option){ o->name, arg ? required_argument : no_argument, NULL,
					       CLI_LONG_BASE + (int)i };
		if (slots[i].short_name > 0 && slots[i].short_name < 128) {
			short_idx[slots[i].short_name] = (int)i;
			shortopts[sl++] = (char)slots[i].short_name;
			if (arg)
				shortopts[sl++] = ':';
		}
	}
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	shortopts[sl] = '\0';

	snprintf(prog, sizeof(prog), "nvmf %s", ctx->cmd->name);
	argv[0] = prog;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		struct cli_opt *o;
		int ret;

		if (c == '?') {
			if (optopt && optopt < CLI_LONG_BASE)
				return cli_usage_error(ctx, "unknown option -%c", optopt);
			return cli_usage_error(ctx, "unknown option '%s'", argv[optind - 1]);
		}
		if (c == ':') {
			if (optopt && optopt < CLI_LONG_BASE)
				return cli_usage_error(ctx, "option -%c requires a value", optopt);
			return cli_usage_error(ctx, "option '%s' requires a value",
					       argv[optind - 1]);
		}
		if (c >= CLI_LONG_BASE)
			o = slots[c - CLI_LONG_BASE].o;
		else if (c > 0 && c < 128 && short_idx[c] >= 0)
			o = slots[short_idx[c]].o;
		else
			return cli_usage_error(ctx, "unknown option");
		ret = set_value(ctx, o, optarg);
		if (ret)
			return ret;
		o->seen = true;
	}
	if (ctx->help) {
		print_help(ctx, slots, n, nr_cmd);
		return CLI_EXIT_OK;
	}
	if (optind < argc)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
	return CLI_PROCEED;
}
