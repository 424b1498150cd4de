/* SPDX-License-Identifier: MIT */
/*
 * nvmf, the command line host: nvme-cli's subcommands, flags and output over libnvmf's host
 * API. There is no kernel device: every subcommand connects to the controller itself (nvme-cli
 * connect flags, or an SPDK-style transport ID), runs, and disconnects.
 *
 * Shared by the CLI's files: the option parser (args.c), the connection (conn.c), the command
 * table (main.c) and the subcommands (cmd-*.c, perf.c).
 *
 * Exit status of every subcommand: 0 success; 1 when the controller returned an NVMe status
 * or a local/transport error occurred; 2 for a usage error (bad flag, missing argument, bad
 * --loop-config file).
 */
#ifndef NVMF_CLI_H
#define NVMF_CLI_H

#include "nvmf/host.h"
#include "nvmf/spec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2
/* cli_parse(): go on with the command (anything else is the exit status) */
#define CLI_PROCEED (-1)

#ifndef NVMF_VERSION
#define NVMF_VERSION "0.1.0"
#endif

enum cli_fmt {
	CLI_FMT_NORMAL = 0,
	CLI_FMT_JSON,
	CLI_FMT_BINARY,
};

enum cli_opt_type {
	CLI_OPT_FLAG, /* bool, no argument */
	CLI_OPT_INCR, /* int, incremented per occurrence */
	CLI_OPT_U8,
	CLI_OPT_U16,
	CLI_OPT_U32,
	CLI_OPT_U64,
	CLI_OPT_INT,  /* int, may be negative */
	CLI_OPT_SIZE, /* uint64_t with an optional k/M/G/T suffix (powers of 1024) */
	CLI_OPT_STR,  /* const char *, points into argv */
	CLI_OPT_LIST, /* struct cli_list: comma-separated numbers */
	CLI_OPT_FMT,  /* enum cli_fmt: normal|json|binary */
	CLI_OPT_CALL, /* struct cli_call: a function takes each occurrence's value */
};

#define CLI_LIST_MAX 256
#define CLI_MAX_PATHS 16 /* -a/-s pairs of connect and list-subsys */

/** struct cli_list - the values of a CLI_OPT_LIST option (e.g. dsm --slbs=0,8,16) */
struct cli_list {
	uint64_t v[CLI_LIST_MAX];
	unsigned int nr;
};

struct cli_ctx;

/**
 * struct cli_call - the target of a CLI_OPT_CALL option
 * @fn: called with each value given; returns 0, or an exit status after printing why
 * @data: for @fn
 */
struct cli_call {
	int (*fn)(struct cli_ctx *ctx, const char *arg, void *data);
	void *data;
};

/**
 * struct cli_opt - one option of a subcommand
 * @name: long name, without "--"
 * @short_name: short letter, 0 for none
 * @type: what @val points to
 * @val: where the value goes
 * @meta: placeholder of the value in --help ("NUM", "FILE")
 * @help: one line of --help
 * @seen: set by cli_parse() when the option was given
 */
struct cli_opt {
	const char *name;
	int short_name;
	enum cli_opt_type type;
	void *val;
	const char *meta;
	const char *help;
	bool seen;
};

#define CLI_OPT(n, s, t, v, m, h)                                                                  \
	{                                                                                          \
		.name = (n), .short_name = (s), .type = (t), .val = (v), .meta = (m), .help = (h)  \
	}
#define CLI_FLAG(n, s, v, h) CLI_OPT(n, s, CLI_OPT_FLAG, v, NULL, h)
#define CLI_END                                                                                    \
	{                                                                                          \
		.name = NULL                                                                       \
	}

/**
 * struct cli_conn - where and how to connect (nvme-cli connect flags)
 * @transport: "tcp" or "loop"; NULL = tcp
 * @traddr: TCP address (the first -a)
 * @trsvcid: TCP port (the first -s); NULL = 4420, or 8009 for discover
 * @traddrs: every -a given, in order (connect and list-subsys take several: one path each)
 * @nr_traddrs: entries of @traddrs
 * @trsvcids: every -s given, in order
 * @nr_trsvcids: entries of @trsvcids
 * @nqn: subsystem NQN
 * @hostnqn: host NQN
 * @hostid: host ID, UUID text
 * @trid: SPDK-style transport ID string, fills what the flags above leave unset
 * @loop_config: nvmetcli JSON served in-process for -t loop
 * @hdgst: header digest
 * @ddgst: data digest
 * @kato_s: keep-alive timeout, seconds; -1 = library default
 * @nr_io_queues: I/O queues; 0 = default
 * @queue_size: I/O queue entries; 0 = default
 * @reconnect_delay_s: 0 = default
 * @ctrl_loss_tmo_s: 0 = default
 * @fast_io_fail_tmo_s: 0 = default
 */
struct cli_conn {
	const char *transport;
	const char *traddr;
	const char *trsvcid;
	const char *traddrs[CLI_MAX_PATHS];
	unsigned int nr_traddrs;
	const char *trsvcids[CLI_MAX_PATHS];
	unsigned int nr_trsvcids;
	const char *nqn;
	const char *hostnqn;
	const char *hostid;
	const char *trid;
	const char *loop_config;
	bool hdgst;
	bool ddgst;
	int kato_s;
	int nr_io_queues;
	int queue_size;
	int reconnect_delay_s;
	int ctrl_loss_tmo_s;
	int fast_io_fail_tmo_s;
};

/* cli_cmd.flags */
#define CLI_CMD_DISCOVERY (1u << 0) /* default port 8009 and the discovery NQN */
#define CLI_CMD_CONN_LONG (1u << 1) /* connection flags in long form only (perf), but -r */
#define CLI_CMD_NO_CONN (1u << 2)   /* help, version */
#define CLI_CMD_PATHS (1u << 3)	    /* several -a/-s paths: a multipath host subsystem */

/**
 * struct cli_cmd - a subcommand
 * @name: as typed ("id-ctrl")
 * @fn: runs it; returns the exit status
 * @summary: one line for `nvmf help`
 * @desc: paragraph for `nvmf CMD --help`
 * @flags: CLI_CMD_*
 */
struct cli_cmd {
	const char *name;
	int (*fn)(struct cli_ctx *ctx, int argc, char **argv);
	const char *summary;
	const char *desc;
	unsigned int flags;
};

/**
 * struct cli_ctx - one run of a subcommand
 * @cmd: the subcommand
 * @conn: connection flags
 * @fmt: -o
 * @verbose: -v count
 * @timeout_ms: --timeout, 0 = the library's default
 * @help: --help given
 * @ctrl: the connected controller (cli_connect())
 * @loop_tgt: the in-process target of -t loop
 * @subnqn: the subsystem NQN used
 * @devname: how the controller is named in output ("tcp:127.0.0.1:4420")
 * @hostid: parsed --hostid
 * @has_hostid: --hostid given
 * @trid_copy: the parsed copy of --trid the connection strings may point into
 * @traddr_call: how -a is collected
 * @trsvcid_call: how -s is collected
 */
struct cli_ctx {
	const struct cli_cmd *cmd;
	struct cli_conn conn;
	enum cli_fmt fmt;
	int verbose;
	unsigned int timeout_ms;
	bool help;
	struct nvmf_host_ctrl *ctrl;
	struct nvmf_tgt *loop_tgt;
	char subnqn[NVME_NQN_FIELD_LEN];
	char devname[320];
	uint8_t hostid[16];
	bool has_hostid;
	char *trid_copy;
	struct cli_call traddr_call;
	struct cli_call trsvcid_call;
};

/* args.c */

/**
 * cli_parse() - parse a subcommand's options together with the connection options
 * @ctx: context; receives the connection options, -o, -v, --timeout
 * @argc: arguments, argv[0] being the subcommand name
 * @argv: arguments
 * @opts: the subcommand's options, ended by CLI_END; their short letters win over those of
 *	the connection options, which then only have their long form in this subcommand
 *
 * Prints --help (and returns 0), or a usage error (and returns 2).
 * Return: CLI_PROCEED, or the exit status.
 */
int cli_parse(struct cli_ctx *ctx, int argc, char **argv, struct cli_opt *opts);

/** cli_opt_seen() - whether the option @name was given on the command line */
bool cli_opt_seen(const struct cli_opt *opts, const char *name);

/** cli_usage_error() - print "nvmf CMD: <message>" and a --help hint; return 2 */
int cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * cli_parse_u64() - parse a number: decimal, 0x hexadecimal or 0 octal, with an optional
 * binary suffix (k, M, G, T, with or without "i"/"iB") when @suffix
 * Return: 0 or -EINVAL.
 */
int cli_parse_u64(const char *s, bool suffix, uint64_t *out);

/* conn.c */

/**
 * cli_prepare() - resolve the transport ID and start the -t loop target, without connecting
 * @ctx: parsed context
 * @o: receives the host options (pointing into @ctx; valid while it lives)
 * Return: CLI_PROCEED, or an exit status after printing why.
 */
int cli_prepare(struct cli_ctx *ctx, struct nvmf_host_opts *o);

/**
 * cli_connect_with() - connect @ctx->ctrl with prepared options
 * Return: CLI_PROCEED, or an exit status after printing why.
 */
int cli_connect_with(struct cli_ctx *ctx, const struct nvmf_host_opts *o);

/**
 * cli_connect() - cli_prepare(), then connect @ctx->ctrl (polled from this thread)
 * Return: CLI_PROCEED, or an exit status after printing why.
 */
int cli_connect(struct cli_ctx *ctx);

/**
 * cli_disconnect() - delete the controller, stop the loop target, release what
 * cli_prepare() took; safe to call more than once
 */
void cli_disconnect(struct cli_ctx *ctx);

/**
 * cli_result() - report the outcome of a library call nvme-cli's way
 * @ctx: context
 * @ret: 0, a positive NVMe status, or a negative errno
 * @what: what failed, for errno failures ("identify controller")
 *
 * Prints "NVMe status: NAME: description(0x...)" or "<what>: <strerror>" on stderr.
 * Return: the exit status (0 or 1).
 */
int cli_result(const struct cli_ctx *ctx, int ret, const char *what);

/** cli_default_nsid() - the first active namespace, or 1 */
uint32_t cli_default_nsid(struct cli_ctx *ctx);

/**
 * cli_get_log() - Get Log Page in pieces of at most @xfer bytes (0: 4096), as nvme-cli does
 * Return: 0, a positive NVMe status, or -errno.
 */
int cli_get_log(struct cli_ctx *ctx, uint8_t lid, uint32_t nsid, uint8_t lsp, uint64_t lpo,
		bool rae, void *buf, uint32_t len, uint32_t xfer);

/** cli_read_full() - read up to @len bytes of @fd (a file or a pipe); -errno or the count */
ssize_t cli_read_full(int fd, void *buf, size_t len);
/** cli_write_full() - write all of @buf to @fd; 0 or -errno */
int cli_write_full(int fd, const void *buf, size_t len);

/* Subcommands */
int cmd_discover(struct cli_ctx *ctx, int argc, char **argv);
int cmd_connect(struct cli_ctx *ctx, int argc, char **argv);
int cmd_list_subsys(struct cli_ctx *ctx, int argc, char **argv);
int cmd_reset(struct cli_ctx *ctx, int argc, char **argv);
int cmd_id_ctrl(struct cli_ctx *ctx, int argc, char **argv);
int cmd_id_ns(struct cli_ctx *ctx, int argc, char **argv);
int cmd_list_ns(struct cli_ctx *ctx, int argc, char **argv);
int cmd_ns_descs(struct cli_ctx *ctx, int argc, char **argv);
int cmd_smart_log(struct cli_ctx *ctx, int argc, char **argv);
int cmd_error_log(struct cli_ctx *ctx, int argc, char **argv);
int cmd_effects_log(struct cli_ctx *ctx, int argc, char **argv);
int cmd_get_log(struct cli_ctx *ctx, int argc, char **argv);
int cmd_get_feature(struct cli_ctx *ctx, int argc, char **argv);
int cmd_set_feature(struct cli_ctx *ctx, int argc, char **argv);
int cmd_admin_passthru(struct cli_ctx *ctx, int argc, char **argv);
int cmd_io_passthru(struct cli_ctx *ctx, int argc, char **argv);
int cmd_read(struct cli_ctx *ctx, int argc, char **argv);
int cmd_write(struct cli_ctx *ctx, int argc, char **argv);
int cmd_compare(struct cli_ctx *ctx, int argc, char **argv);
int cmd_flush(struct cli_ctx *ctx, int argc, char **argv);
int cmd_write_zeroes(struct cli_ctx *ctx, int argc, char **argv);
int cmd_dsm(struct cli_ctx *ctx, int argc, char **argv);
int cmd_perf(struct cli_ctx *ctx, int argc, char **argv);
int cmd_rpc(struct cli_ctx *ctx, int argc, char **argv);

/* cmd-mpath.c */

/** cli_nr_paths() - paths the -a/-s pairs name (1 when neither is repeated) */
unsigned int cli_nr_paths(const struct cli_ctx *ctx);

/**
 * cli_mpath_connect() - connect every -a/-s path as one multipath host subsystem, show its
 * namespace heads and paths, and stay connected until SIGINT/SIGTERM or no path is left
 * @ctx: parsed context, cli_prepare() done
 * @o: the options of the first path (the others differ in traddr/trsvcid)
 * @iopolicy: "numa", "round-robin", "queue-depth", or NULL for numa
 * @delayed_removal_s: delayed_removal_secs of the namespace heads, seconds
 * Return: the exit status.
 */
int cli_mpath_connect(struct cli_ctx *ctx, const struct nvmf_host_opts *o, const char *iopolicy,
		      unsigned int delayed_removal_s);

#endif /* NVMF_CLI_H */
