// SPDX-License-Identifier: MIT
/*
 * The control socket server: one thread, poll() over the listening socket and its clients.
 * Each client's bytes go through a json-c tokener; every complete JSON text is one request
 * (or batch), answered in order with one line. Requests run one at a time, so the target's
 * control path is only ever entered from this thread.
 */
#include "rpc.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define RPC_MAX_CLIENTS 16
#define RPC_MAX_REQUEST_BYTES (1u << 20)

struct rpc_client {
	int fd;
	struct json_tokener *tok;
	size_t pending; /* bytes of the request being parsed */
};

struct nvmf_rpc_server {
	struct nvmf_tgt *tgt;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	int wake[2]; /* pipe: stop */
	pthread_t thread;
	struct rpc_client clients[RPC_MAX_CLIENTS];
};

static void client_close(struct rpc_client *c)
{
	if (c->fd < 0)
		return;
	close(c->fd);
	json_tokener_free(c->tok);
	c->fd = -1;
	c->tok = NULL;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_response(struct rpc_client *c, struct json_object *resp)
{
	const char *s;
	int ret;

	if (!resp)
		return 0;
	s = json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN);
	ret = write_all(c->fd, s, strlen(s));
	if (!ret)
		ret = write_all(c->fd, "\n", 1);
	json_object_put(resp);
	return ret;
}

static struct json_object *parse_error(const char *msg)
{
	return nvmf_rpc_error_response(NULL, RPC_PARSE_ERROR, msg);
}

/* Feed @len received bytes; answer every complete request. Return: 0, or <0 to drop. */
static int client_input(struct nvmf_rpc_server *srv, struct rpc_client *c, const char *buf,
			size_t len)
{
	while (len) {
		struct json_object *req;
		enum json_tokener_error jerr;
		size_t used;

		/* leading whitespace between requests is not a request */
		if (c->pending == 0 &&
		    (*buf == ' ' || *buf == '\n' || *buf == '\r' || *buf == '\t')) {
			buf++;
			len--;
			continue;
		}
		req = json_tokener_parse_ex(c->tok, buf, (int)(len > INT32_MAX ? INT32_MAX : len));
		jerr = json_tokener_get_error(c->tok);
		used = (size_t)json_tokener_get_parse_end(c->tok);
		if (jerr == json_tokener_continue) {
			c->pending += len;
			if (c->pending > RPC_MAX_REQUEST_BYTES) {
				send_response(c, parse_error("request larger than 1 MiB"));
				return -EMSGSIZE;
			}
			return 0;
		}
		if (jerr != json_tokener_success) {
			send_response(c, parse_error(json_tokener_error_desc(jerr)));
			return -EINVAL; /* the stream cannot be resynchronised */
		}
		buf += used;
		len -= used;
		c->pending = 0;
		json_tokener_reset(c->tok);
		if (send_response(c, nvmf_rpc_handle(srv->tgt, req)) < 0) {
			json_object_put(req);
			return -EPIPE;
		}
		json_object_put(req);
	}
	return 0;
}

static void accept_client(struct nvmf_rpc_server *srv)
{
	int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (unsigned int i = 0; i < RPC_MAX_CLIENTS; i++) {
		struct rpc_client *c = &srv->clients[i];

		if (c->fd >= 0)
			continue;
		c->tok = json_tokener_new();
		if (!c->tok)
			break;
		c->fd = fd;
		c->pending = 0;
		return;
	}
	nvmf_warn("rpc: too many clients; connection refused");
	close(fd);
}

static void *server_thread(void *arg)
{
	struct nvmf_rpc_server *srv = arg;
	struct pollfd pfd[RPC_MAX_CLIENTS + 2];
	int idx[RPC_MAX_CLIENTS + 2];
	char buf[16384];

	for (;;) {
		nfds_t n = 0;

		pfd[n] = (struct pollfd){ .fd = srv->wake[0], .events = POLLIN };
		idx[n++] = -2;
		pfd[n] = (struct pollfd){ .fd = srv->listen_fd, .events = POLLIN };
		idx[n++] = -1;
		for (int i = 0; i < RPC_MAX_CLIENTS; i++) {
			if (srv->clients[i].fd < 0)
				continue;
			pfd[n] = (struct pollfd){ .fd = srv->clients[i].fd, .events = POLLIN };
			idx[n++] = i;
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			nvmf_err("rpc: poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents)
			break;
		if (pfd[1].revents & POLLIN)
			accept_client(srv);
		for (nfds_t k = 2; k < n; k++) {
			struct rpc_client *c = &srv->clients[idx[k]];
			ssize_t got;

			if (!pfd[k].revents)
				continue;
			got = recv(c->fd, buf, sizeof(buf), 0);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0 || client_input(srv, c, buf, (size_t)got) < 0)
				client_close(c);
		}
	}
	return NULL;
}

/* Is a server answering on @path? */
static bool socket_live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return live;
}

int nvmf_rpc_server_start(struct nvmf_tgt *tgt, const char *path, struct nvmf_rpc_server **out)
{
	struct nvmf_rpc_server *srv;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old_umask;
	int ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->tgt = tgt;
	srv->listen_fd = -1;
	srv->wake[0] = srv->wake[1] = -1;
	for (unsigned int i = 0; i < RPC_MAX_CLIENTS; i++)
		srv->clients[i].fd = -1;
	snprintf(srv->path, sizeof(srv->path), "%s", path);

	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			ret = -EEXIST;
			goto out_free;
		}
		if (socket_live(&sa)) {
			ret = -EADDRINUSE;
			goto out_free;
		}
		unlink(path); /* stale: its server is gone */
	}
	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv->listen_fd < 0) {
		ret = -errno;
		goto out_free;
	}
	/* 0600 from the start: no window in which another user could connect */
	old_umask = umask(0177);
	ret = bind(srv->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old_umask);
	if (ret)
		goto out_close;
	if (listen(srv->listen_fd, 16)) {
		ret = -errno;
		goto out_unlink;
	}
	if (pipe2(srv->wake, O_CLOEXEC)) {
		ret = -errno;
		goto out_unlink;
	}
	ret = -pthread_create(&srv->thread, NULL, server_thread, srv);
	if (ret)
		goto out_pipe;
	nvmf_notice("control socket %s", path);
	*out = srv;
	return 0;

out_pipe:
	close(srv->wake[0]);
	close(srv->wake[1]);
out_unlink:
	unlink(path);
out_close:
	close(srv->listen_fd);
out_free:
	free(srv);
	return ret;
}

void nvmf_rpc_server_stop(struct nvmf_rpc_server *srv)
{
	if (!srv)
		return;
	if (write(srv->wake[1], "x", 1) < 0)
		nvmf_warn("rpc: cannot wake the server thread: %s", strerror(errno));
	pthread_join(srv->thread, NULL);
	for (unsigned int i = 0; i < RPC_MAX_CLIENTS; i++)
		client_close(&srv->clients[i]);
	close(srv->listen_fd);
	close(srv->wake[0]);
	close(srv->wake[1]);
	unlink(srv->path);
	free(srv);
}
