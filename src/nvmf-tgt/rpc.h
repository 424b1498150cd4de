/* SPDX-License-Identifier: MIT */
/*
 * The nvmf-tgt control socket: JSON-RPC 2.0 (https://www.jsonrpc.org/specification) over a
 * Unix stream socket. Requests are JSON objects (or batches) written back to back; each
 * response is one JSON text followed by a newline. rpc.c serves the socket, rpc-methods.c
 * implements the methods against the running target.
 */
#ifndef NVMF_TGT_RPC_H
#define NVMF_TGT_RPC_H

#include <json-c/json.h>

struct nvmf_tgt;
struct nvmf_rpc_server;

/* JSON-RPC 2.0 error codes (5.1), and ours in the implementation-defined range */
#define RPC_PARSE_ERROR (-32700)
#define RPC_INVALID_REQUEST (-32600)
#define RPC_METHOD_NOT_FOUND (-32601)
#define RPC_INVALID_PARAMS (-32602)
#define RPC_INTERNAL_ERROR (-32603)
#define RPC_FAILED (-32000) /* the request was valid; the target refused it (message says why) */

/**
 * nvmf_rpc_server_start() - listen on @path (mode 0600) and serve requests in a new thread
 * @tgt: the target the methods act on
 * @path: Unix socket path; a stale socket there is replaced, a live one is an error
 * @out: the server
 *
 * Return: 0, -EADDRINUSE (another server answers on @path), -ENAMETOOLONG, or -errno.
 */
int nvmf_rpc_server_start(struct nvmf_tgt *tgt, const char *path, struct nvmf_rpc_server **out);

/**
 * nvmf_rpc_server_stop() - stop serving, close every client, remove the socket file
 * @srv: server, or NULL
 */
void nvmf_rpc_server_stop(struct nvmf_rpc_server *srv);

/**
 * nvmf_rpc_handle() - answer one JSON-RPC request object or batch
 * @tgt: target
 * @req: the parsed request
 *
 * Return: the response (caller puts it), or NULL when nothing is to be sent (notifications).
 */
struct json_object *nvmf_rpc_handle(struct nvmf_tgt *tgt, struct json_object *req);

/**
 * nvmf_rpc_error_response() - a JSON-RPC error object for request @id (NULL: id null)
 * @id: the request's id (a reference is taken), or NULL
 * @code: RPC_* error code
 * @msg: message
 *
 * Return: the response (caller puts it).
 */
struct json_object *nvmf_rpc_error_response(struct json_object *id, int code, const char *msg);

/* nvmf_rpc_help_text - the methods and their parameters, for `nvmf rpc --help` (rpc-help.c) */
extern const char nvmf_rpc_help_text[];

#endif
