// SPDX-License-Identifier: MIT
/*
 * vfio-user message I/O on a UNIX stream socket (see msg.h). Descriptors arrive attached to
 * the bytes they were sent with, so every receive asks for ancillary data and keeps what
 * comes with the message being assembled; a message is read in two steps (header, then the
 * rest) so that no byte of the next message, nor its descriptors, is ever taken early.
 */
#include "msg.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define HDR_LEN ((uint32_t)sizeof(struct vfio_user_header))

int nvmf_vfu_rx_init(struct nvmf_vfu_rx *rx, uint32_t max_msg)
{
	memset(rx, 0, sizeof(*rx));
	if (max_msg < HDR_LEN)
		max_msg = HDR_LEN;
	rx->buf = malloc(max_msg);
	if (!rx->buf)
		return -ENOMEM;
	rx->max_msg = max_msg;
	return 0;
}

void nvmf_vfu_rx_done(struct nvmf_vfu_rx *rx)
{
	for (unsigned int i = 0; i < rx->nr_fds; i++)
		if (rx->fds[i] >= 0)
			close(rx->fds[i]);
	rx->nr_fds = 0;
	rx->got = 0;
}

void nvmf_vfu_rx_fini(struct nvmf_vfu_rx *rx)
{
	nvmf_vfu_rx_done(rx);
	free(rx->buf);
	rx->buf = NULL;
}

int nvmf_vfu_rx_take_fd(struct nvmf_vfu_rx *rx, unsigned int idx)
{
	int fd;

	if (idx >= rx->nr_fds)
		return -1;
	fd = rx->fds[idx];
	rx->fds[idx] = -1;
	return fd;
}

/* Keep the descriptors of @msg; any beyond our limit are closed (the message then fails). */
static int keep_fds(struct nvmf_vfu_rx *rx, struct msghdr *msg)
{
	int ret = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		size_t n;
		int *fds;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)CMSG_DATA(c);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, &fds[i], sizeof(fd));
			if (rx->nr_fds < VFIO_USER_MAX_MSG_FDS) {
				rx->fds[rx->nr_fds++] = fd;
			} else {
				close(fd);
				ret = -EPROTO;
			}
		}
	}
	if (msg->msg_flags & MSG_CTRUNC)
		ret = -EPROTO;
	return ret;
}

int nvmf_vfu_rx_read(int fd, struct nvmf_vfu_rx *rx)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VFIO_USER_MAX_MSG_FDS)];
		struct cmsghdr align;
	} cbuf;

	for (;;) {
		uint32_t want = HDR_LEN;
		struct iovec iov;
		struct msghdr msg = { 0 };
		ssize_t n;
		int ret;

		if (rx->got >= HDR_LEN) {
			want = nvmf_vfu_rx_hdr(rx)->msg_size;
			if (rx->got == want)
				return 1;
		}
		iov.iov_base = rx->buf + rx->got;
		iov.iov_len = want - rx->got;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = sizeof(cbuf.buf);
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		ret = keep_fds(rx, &msg);
		if (ret)
			return ret;
		if (n == 0)
			return -ECONNRESET;
		rx->got += (uint32_t)n;
		if (rx->got == HDR_LEN) {
			uint32_t size = nvmf_vfu_rx_hdr(rx)->msg_size;

			if (size < HDR_LEN)
				return -EPROTO;
			if (size > rx->max_msg)
				return -EMSGSIZE;
			if (size == HDR_LEN)
				return 1;
		}
	}
}

static int wait_writable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	if (p.revents & (POLLERR | POLLHUP))
		return -EPIPE;
	return 0;
}

int nvmf_vfu_send(int fd, struct vfio_user_header *hdr, const void *p1, size_t len1, const void *p2,
		  size_t len2, const int *fds, unsigned int nr_fds, int timeout_ms)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VFIO_USER_MAX_MSG_FDS)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov[3];
	size_t total = HDR_LEN + len1 + len2;
	size_t sent = 0;

	if (nr_fds > VFIO_USER_MAX_MSG_FDS || total > UINT32_MAX)
		return -EINVAL;
	hdr->msg_size = (uint32_t)total;
	while (sent < total) {
		struct msghdr msg = { 0 };
		size_t skip = sent;
		int niov = 0;
		ssize_t n;

		/* the part of header, p1, p2 not sent yet */
		const void *base[3] = { hdr, p1, p2 };
		size_t lens[3] = { HDR_LEN, len1, len2 };

		for (int i = 0; i < 3; i++) {
			if (skip >= lens[i]) {
				skip -= lens[i];
				continue;
			}
			iov[niov].iov_base = (char *)base[i] + skip;
			iov[niov].iov_len = lens[i] - skip;
			niov++;
			skip = 0;
		}
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)niov;
		if (nr_fds && sent == 0) {
			struct cmsghdr *c;

			memset(cbuf.buf, 0, sizeof(cbuf.buf));
			msg.msg_control = cbuf.buf;
			msg.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
			c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nr_fds);
		}
		n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			int ret;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			ret = wait_writable(fd, timeout_ms);
			if (ret)
				return ret;
			continue;
		}
		sent += (size_t)n;
	}
	return 0;
}

int nvmf_vfu_reply(int fd, const struct vfio_user_header *cmd, int err, const void *p1, size_t len1,
		   const void *p2, size_t len2)
{
	struct vfio_user_header h = {
		.msg_id = cmd->msg_id,
		.command = cmd->command,
		.flags = VFIO_USER_F_TYPE_REPLY,
	};

	if (cmd->flags & VFIO_USER_F_NO_REPLY)
		return 0;
	if (err) {
		h.flags |= VFIO_USER_F_ERROR;
		h.error_reply = (uint32_t)err;
		return nvmf_vfu_send(fd, &h, NULL, 0, NULL, 0, NULL, 0, 1000);
	}
	return nvmf_vfu_send(fd, &h, p1, len1, p2, len2, NULL, 0, 1000);
}
