// SPDX-License-Identifier: MIT
/*
 * nvmf: an nvme-cli for NVMe over Fabrics without a kernel. The subcommand table, `help`,
 * `version`, and the dispatch: each subcommand parses its options, connects, runs and
 * disconnects.
 */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static int cmd_help(struct cli_ctx *ctx, int argc, char **argv);
static int cmd_version(struct cli_ctx *ctx, int argc, char **argv);

static const struct cli_cmd commands[] = {
	{ "discover", cmd_discover, "Discover NVMe-oF subsystems",
	  "Send a Get Log Page request for the Discovery Log to a discovery controller and show "
	  "its records.\nWithout -s, port 8009 is used; without --nqn, the discovery NQN.",
	  CLI_CMD_DISCOVERY },
	{ "connect", cmd_connect, "Connect to a subsystem and stay connected",
	  "Connect to an NVMe-oF subsystem, show the controller and its namespaces, and keep the "
	  "association\n(keep-alive, reconnects) until SIGINT or SIGTERM, then disconnect "
	  "cleanly (CC.SHN).\nSeveral -a/-s pairs connect one controller per path as a "
	  "multipath host subsystem:\nnamespace heads, the I/O policy (--iopolicy) and each "
	  "path's state and ANA state.",
	  CLI_CMD_PATHS },
	{ "list-subsys", cmd_list_subsys, "List nvme subsystems",
	  "Connect to each -a/-s path of a subsystem and show the paths as nvme-cli's "
	  "list-subsys does:\ntransport, address, controller state and the ANA state of a "
	  "namespace (--namespace-id,\ndefault the first) through each path.",
	  CLI_CMD_PATHS },
	{ "id-ctrl", cmd_id_ctrl, "Send NVMe Identify Controller",
	  "Send an Identify Controller command to the controller and show the result in various "
	  "formats.",
	  0 },
	{ "id-ns", cmd_id_ns, "Send NVMe Identify Namespace, display structure",
	  "Send an Identify Namespace command for the given namespace (default: the first "
	  "active one)\nand show the result in various formats.",
	  0 },
	{ "list-ns", cmd_list_ns, "Send NVMe Identify List, display structure",
	  "Show the active namespace IDs greater than --namespace-id (Identify CNS 02h; "
	  "--csi: CNS 07h,\n--all: the allocated list, CNS 10h).",
	  0 },
	{ "ns-descs", cmd_ns_descs, "Send NVMe Namespace Descriptor List, display structure",
	  "Send an Identify Namespace Identification Descriptor List command for the given "
	  "namespace\nand show its descriptors (EUI-64, NGUID, UUID, CSI).",
	  0 },
	{ "smart-log", cmd_smart_log, "Retrieve SMART Log, show it",
	  "Retrieve the SMART / Health Information log page (for the controller, or one "
	  "namespace) and show it.",
	  0 },
	{ "error-log", cmd_error_log, "Retrieve Error Log, show it",
	  "Retrieve the Error Information log page (at most ELPE + 1 entries) and show it.", 0 },
	{ "effects-log", cmd_effects_log, "List the commands supported and their effects",
	  "Retrieve the Commands Supported and Effects log page and show it.", 0 },
	{ "get-log", cmd_get_log, "Generic NVMe get log, returns log in raw format",
	  "Retrieve any log page (--log-id, --log-len bytes) and show it as a hex dump or raw "
	  "binary.",
	  0 },
	{ "get-feature", cmd_get_feature, "Get feature and show the resulting value",
	  "Read the value of a feature (--feature-id); without it, every feature the controller "
	  "answers.",
	  0 },
	{ "set-feature", cmd_set_feature, "Set a feature and show the resulting value",
	  "Set a feature (--feature-id) to --value (CDW11), with an optional data buffer "
	  "(--data).",
	  0 },
	{ "admin-passthru", cmd_admin_passthru, "Submit an arbitrary admin command, return results",
	  "Send a user-defined admin command and show its result (CQE dw0) and any data it "
	  "returns.",
	  0 },
	{ "io-passthru", cmd_io_passthru, "Submit an arbitrary IO command, return results",
	  "Send a user-defined I/O command on the first I/O queue and show its result and any "
	  "data it returns.",
	  0 },
	{ "read", cmd_read, "Submit a read command, return results",
	  "Copy logical blocks of the namespace to --data (default: stdout).\n--block-count is "
	  "0's based; without it, --data-size decides the number of blocks.",
	  0 },
	{ "write", cmd_write, "Submit a write command, return results",
	  "Copy --data (default: stdin) to logical blocks of the namespace.\n--block-count is "
	  "0's based; without it, --data-size decides the number of blocks.",
	  0 },
	{ "compare", cmd_compare, "Submit a compare command, return results",
	  "Compare logical blocks of the namespace with --data (default: stdin); a mismatch "
	  "ends with\nNVMe status COMPARE_FAILED and exit status 1.",
	  0 },
	{ "flush", cmd_flush, "Submit a flush command, return results",
	  "Commit data and metadata in the volatile write cache of a namespace to "
	  "non-volatile media.",
	  0 },
	{ "write-zeroes", cmd_write_zeroes, "Submit a write zeroes command, return results",
	  "Set a range of logical blocks to zero (--block-count is 0's based).", 0 },
	{ "dsm", cmd_dsm, "Submit a Data Set Management command, return results",
	  "Send a Dataset Management command with ranges from --slbs and --blocks (deallocate "
	  "with --ad).",
	  0 },
	{ "reset", cmd_reset, "Resets the controller",
	  "Reset the controller: tear the association down and connect it again (LIVE -> "
	  "RESETTING ->\nCONNECTING -> LIVE), then show the new controller ID.",
	  0 },
	{ "perf", cmd_perf, "Benchmark I/O like spdk_nvme_perf",
	  "Run a fixed-time I/O benchmark like spdk_nvme_perf: each thread has its own "
	  "controller and\nqueues and keeps -q I/Os in flight, resubmitting from the completion "
	  "callback. Prints a\nprogress line each second, then IOPS, MiB/s, latency "
	  "(average, p50, p99, p99.9, in us)\nand CPU seconds per million I/Os.\n"
	  "The connection flags take their long form here (spdk's -q, -o, -t, -c, -n take the "
	  "letters),\nexcept -r for the transport ID, as in spdk_nvme_perf.\n"
	  "--cpumask MASK runs one thread per CPU of MASK, thread i pinned to the i-th CPU, "
	  "as\nspdk_nvme_perf's core mask (its -c; -c is --queues here). With -t loop, the "
	  "in-process\ntarget's reactors follow nvmf.cpumask of --loop-config.",
	  CLI_CMD_CONN_LONG },
	{ "rpc", cmd_rpc, "Send a JSON-RPC request to an nvmf-tgt control socket",
	  "Send one JSON-RPC 2.0 request to a running nvmf-tgt's control socket and print the "
	  "result.",
	  0 },
	{ "help", cmd_help, "Display this help", "Show the subcommands, or one subcommand's help.",
	  CLI_CMD_NO_CONN },
	{ "version", cmd_version, "Shows the program version", "Show the program version.",
	  CLI_CMD_NO_CONN },
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cli_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"nvmf-%s\nusage: nvmf <command> [<args>]\n\n"
		"The following are all implemented sub-commands:\n",
		NVMF_VERSION);
	for (size_t i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "  %-25s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nSee 'nvmf help <command>' or 'nvmf <command> --help' for more information "
		   "on a specific command.\n"
		   "Every command reaches the controller itself: -t tcp -a ADDR -s PORT -n NQN "
		   "(nvme-cli connect\nflags), --trid 'trtype:tcp traddr:ADDR trsvcid:PORT "
		   "subnqn:NQN', or -t loop --loop-config FILE\n"
		   "(but `nvmf rpc`, which talks to nvmf-tgt's control socket).\n");
}

static int cmd_help(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct cli_cmd *cmd;
	struct cli_ctx sub = { 0 };
	char *help_argv[] = { NULL, "--help", NULL };

	if (argc < 2) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	cmd = find_cmd(argv[1]);
	if (!cmd || (cmd->flags & CLI_CMD_NO_CONN)) {
		if (cmd) {
			usage(stdout);
			return CLI_EXIT_OK;
		}
		fprintf(stderr, "nvmf: unknown command '%s'\n", argv[1]);
		return CLI_EXIT_USAGE;
	}
	sub.cmd = cmd;
	sub.conn.kato_s = -1;
	help_argv[0] = (char *)cmd->name;
	return cmd->fn(&sub, 2, help_argv);
}

static int cmd_version(struct cli_ctx *ctx, int argc, char **argv)
{
	printf("nvmf version %s\n", NVMF_VERSION);
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = { 0 };
	const struct cli_cmd *cmd;
	int ret;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(&ctx, 0, NULL);
	cmd = find_cmd(argv[1]);
	if (!cmd) {
		fprintf(stderr, "nvmf: unknown command '%s'\n\n", argv[1]);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	/* a peer closing a TCP connection must be an error return, not a signal */
	signal(SIGPIPE, SIG_IGN);
	ctx.cmd = cmd;
	ctx.conn.kato_s = -1;
	ret = cmd->fn(&ctx, argc - 1, argv + 1);
	cli_disconnect(&ctx);
	fflush(stdout);
	return ret;
}
