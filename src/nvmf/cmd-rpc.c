// SPDX-License-Identifier: MIT
/*
 * nvmf rpc: one JSON-RPC 2.0 request to an nvmf-tgt control socket. The result is printed as
 * pretty JSON on stdout (exit 0); a JSON-RPC error is printed on stderr (exit 1); a bad
 * command line or an unreachable socket exits 2.
 */
#include "cli.h"
#include "rpc.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define RPC_DEFAULT_SOCKET "/var/tmp/nvmf-tgt.sock"

static void rpc_usage(FILE *f)
{
	fprintf(f,
		"Usage: nvmf rpc [-s SOCKET] [--timeout S] METHOD ['JSON-PARAMS']\n"
		"Send one JSON-RPC 2.0 request to a running nvmf-tgt (nvmf-tgt -r SOCKET) and "
		"print the result.\n\n"
		"  -s, --socket PATH   control socket (default %s, or $NVMF_RPC_SOCKET)\n"
		"  -t, --timeout S     give up after S seconds (default 60)\n"
		"  -h, --help          this text\n\n"
		"Exit status: 0 result printed, 1 the target answered with an error, 2 usage or "
		"socket error.\n\n%s"
		"\nExamples:\n"
		"  nvmf rpc get_controllers\n"
		"  nvmf rpc add_namespace '{\"nqn\":\"nqn.2014-08.org.nvmexpress:nvmf-default\","
		"\"nsid\":2,\"backend\":\"mem\",\"size\":67108864}'\n"
		"  nvmf rpc add_fault '{\"action\":\"delay\",\"queue\":\"io\",\"delay_ms\":50,"
		"\"delay_max_ms\":500}'\n",
		RPC_DEFAULT_SOCKET, nvmf_rpc_help_text);
}

static int rpc_connect(const char *path, int timeout_s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_s };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "nvmf rpc: %s: path too long\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "nvmf rpc: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

int cmd_rpc(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("NVMF_RPC_SOCKET");
	struct json_object *req, *params = NULL, *resp = NULL, *err, *res;
	struct json_tokener *tok;
	const char *out;
	int timeout_s = 60, c, fd, ret = CLI_EXIT_USAGE;
	char buf[65536];

	(void)ctx;
	if (!path || !*path)
		path = RPC_DEFAULT_SOCKET;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+s:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 't':
			timeout_s = atoi(optarg);
			break;
		case 'h':
			rpc_usage(stdout);
			return CLI_EXIT_OK;
		default:
			rpc_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc || argc - optind > 2) {
		rpc_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (argc - optind == 2) {
		enum json_tokener_error jerr;

		params = json_tokener_parse_verbose(argv[optind + 1], &jerr);
		if (!params || !json_object_is_type(params, json_type_object)) {
			fprintf(stderr, "nvmf rpc: JSON-PARAMS must be a JSON object: %s\n",
				params ? "not an object" : json_tokener_error_desc(jerr));
			json_object_put(params);
			return CLI_EXIT_USAGE;
		}
	}
	req = json_object_new_object();
	json_object_object_add(req, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(req, "method", json_object_new_string(argv[optind]));
	if (params)
		json_object_object_add(req, "params", params);
	json_object_object_add(req, "id", json_object_new_int(1));

	fd = rpc_connect(path, timeout_s);
	if (fd < 0) {
		json_object_put(req);
		return CLI_EXIT_USAGE;
	}
	out = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	if (send(fd, out, strlen(out), MSG_NOSIGNAL) != (ssize_t)strlen(out)) {
		fprintf(stderr, "nvmf rpc: %s: send: %s\n", path, strerror(errno));
		goto out;
	}
	tok = json_tokener_new();
	while (!resp) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		enum json_tokener_error jerr;

		if (n <= 0) {
			fprintf(stderr, "nvmf rpc: %s: %s\n", path,
				n == 0		  ? "connection closed before the response"
				: errno == EAGAIN ? "timed out"
						  : strerror(errno));
			break;
		}
		resp = json_tokener_parse_ex(tok, buf, (int)n);
		jerr = json_tokener_get_error(tok);
		if (!resp && jerr != json_tokener_continue) {
			fprintf(stderr, "nvmf rpc: bad response: %s\n",
				json_tokener_error_desc(jerr));
			break;
		}
	}
	json_tokener_free(tok);
	if (!resp)
		goto out;
	if (json_object_object_get_ex(resp, "error", &err)) {
		struct json_object *m = NULL, *code = NULL;

		json_object_object_get_ex(err, "message", &m);
		json_object_object_get_ex(err, "code", &code);
		fprintf(stderr, "nvmf rpc: %s: %s (code %d)\n", argv[optind],
			m ? json_object_get_string(m) : "error",
			code ? json_object_get_int(code) : 0);
		ret = CLI_EXIT_FAIL;
	} else if (json_object_object_get_ex(resp, "result", &res)) {
		printf("%s\n", json_object_to_json_string_ext(
				       res, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
		ret = CLI_EXIT_OK;
	} else {
		fprintf(stderr, "nvmf rpc: response has neither result nor error\n");
	}
	json_object_put(resp);
out:
	close(fd);
	json_object_put(req);
	return ret;
}
