/* SPDX-License-Identifier: MIT */
/*
 * vfio-user messages on a UNIX stream socket, one copy shared by the target's server and the
 * host's client: whole-message receive with the file descriptors that came with it, and
 * send with descriptors. No protocol logic here: callers own the socket and decide what a
 * message means (lib/vfio-user/proto.h has the wire format).
 *
 * Receive is incremental, for non-blocking sockets driven by a reactor: each call reads what
 * is there and says whether a whole message is assembled. A header whose size is below 16
 * bytes or above the receiver's limit is a protocol error (the caller ends the connection).
 */
#ifndef NVMF_VFIO_USER_MSG_H
#define NVMF_VFIO_USER_MSG_H

#include "proto.h"

#include <stddef.h>
#include <stdint.h>

/**
 * struct nvmf_vfu_rx - one message being received
 * @buf: @max_msg bytes; the header first
 * @max_msg: largest message accepted, bytes (header included)
 * @got: bytes of the current message received so far
 * @fds: descriptors received with the current message, in order (-1: taken)
 * @nr_fds: entries of @fds
 */
struct nvmf_vfu_rx {
	uint8_t *buf;
	uint32_t max_msg;
	uint32_t got;
	int fds[VFIO_USER_MAX_MSG_FDS];
	unsigned int nr_fds;
};

/** nvmf_vfu_rx_hdr() - the header of the message in @rx */
static inline struct vfio_user_header *nvmf_vfu_rx_hdr(struct nvmf_vfu_rx *rx)
{
	return (struct vfio_user_header *)rx->buf;
}

/** nvmf_vfu_rx_payload() - the payload of the message in @rx (msg_size - 16 bytes) */
static inline void *nvmf_vfu_rx_payload(struct nvmf_vfu_rx *rx)
{
	return rx->buf + sizeof(struct vfio_user_header);
}

/**
 * nvmf_vfu_rx_init() - allocate the receive buffer
 * @rx: receiver
 * @max_msg: largest message accepted, bytes (>= 16)
 *
 * Return: 0 or -ENOMEM.
 */
int nvmf_vfu_rx_init(struct nvmf_vfu_rx *rx, uint32_t max_msg);

/** nvmf_vfu_rx_fini() - free the buffer and close the descriptors not taken */
void nvmf_vfu_rx_fini(struct nvmf_vfu_rx *rx);

/**
 * nvmf_vfu_rx_read() - read from @fd until a whole message is in @rx, or nothing is left
 * @fd: connected UNIX stream socket (blocking or not)
 * @rx: receiver; after a previous message, call nvmf_vfu_rx_done() first
 *
 * Return: 1 when a whole message is in @rx (its msg_size checked against 16..max_msg), 0
 * when the socket has nothing more for now (-EAGAIN underneath), -ECONNRESET when the peer
 * closed, -EPROTO for a header whose size is impossible or for descriptors cut off
 * (MSG_CTRUNC), -EMSGSIZE for a message above @rx->max_msg, other -errno from recvmsg().
 */
int nvmf_vfu_rx_read(int fd, struct nvmf_vfu_rx *rx);

/**
 * nvmf_vfu_rx_take_fd() - take descriptor @idx of the current message
 * Return: the descriptor (the caller owns it now), or -1 if there is no such one.
 */
int nvmf_vfu_rx_take_fd(struct nvmf_vfu_rx *rx, unsigned int idx);

/** nvmf_vfu_rx_done() - the message is handled: close the descriptors not taken, reset */
void nvmf_vfu_rx_done(struct nvmf_vfu_rx *rx);

/**
 * nvmf_vfu_send() - send one message: header, then two payload pieces, with descriptors
 * @fd: connected UNIX stream socket
 * @hdr: header; msg_size is set here to 16 + @len1 + @len2
 * @p1: first payload piece (may be NULL with @len1 0)
 * @len1: bytes
 * @p2: second payload piece, e.g. region data (may be NULL with @len2 0)
 * @len2: bytes
 * @fds: descriptors to pass (SCM_RIGHTS, with the first byte), may be NULL
 * @nr_fds: entries of @fds, at most VFIO_USER_MAX_MSG_FDS
 *
 * On a non-blocking socket whose buffer is full it waits for room, at most @timeout_ms per
 * wait, so that a peer that stops reading cannot hold the caller for long.
 * Return: 0, -ETIMEDOUT when the peer did not make room in time, -EPIPE/-ECONNRESET when it
 * is gone, -EINVAL for too many descriptors, other -errno from sendmsg().
 */
int nvmf_vfu_send(int fd, struct vfio_user_header *hdr, const void *p1, size_t len1, const void *p2,
		  size_t len2, const int *fds, unsigned int nr_fds, int timeout_ms);

/**
 * nvmf_vfu_reply() - reply to the command whose header is @cmd
 * @fd: socket
 * @cmd: the command's header (msg_id and command are echoed)
 * @err: 0, or a positive errno: an error reply (VFIO_USER_F_ERROR, header only)
 * @p1: reply payload (ignored with @err)
 * @len1: bytes
 * @p2: second payload piece (ignored with @err)
 * @len2: bytes
 *
 * Return: as nvmf_vfu_send() (a 1000 ms wait limit); 0 without sending when @cmd asked for
 * no reply.
 */
int nvmf_vfu_reply(int fd, const struct vfio_user_header *cmd, int err, const void *p1, size_t len1,
		   const void *p2, size_t len2);

#endif
