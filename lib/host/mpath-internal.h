/* SPDX-License-Identifier: MIT */
/*
 * Multipath internals shared by mpath.c (namespace heads, path selection, head I/O,
 * failover, ANA) and mpath-subsys.c (the subsystem, its paths and reactor, information,
 * the public submission and synchronous helpers). Everything here runs on the subsystem's
 * reactor thread.
 *
 * Objects (Linux names in brackets):
 *   nvmf_host_subsys        [nvme_subsystem]  one reactor, its paths, heads and I/O slots
 *   nvmf_host_mpath_path    [nvme_ctrl side]  one path controller: ANA work, ANATT timer
 *   mpath_head              [nvme_ns_head]    NSID + NGUID/EUI-64/UUID, requeue list
 *   mpath_ns                [nvme_ns]         one namespace through one path: ANA state
 *   mpath_io                [bio]             one head I/O, from max_queued preallocated slots
 */
#ifndef NVMF_HOST_MPATH_INTERNAL_H
#define NVMF_HOST_MPATH_INTERNAL_H

#include "host-internal.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MPATH_DEFAULT_MAX_QUEUED 4096u
#define MPATH_MAX_QUEUED_LIMIT (1u << 20)
/* attempts a head I/O may fail over after its first one (mpath.c, "Head I/O") */
#define MPATH_MAX_FAILOVERS 16
/*
 * While head I/O waits with no usable path, the ANA logs of LIVE paths it waits for are
 * read again at this pace. Linux relies on the ANA Change AEN alone; a lost event (or a
 * target that sends none) would leave the I/O waiting until a reset.
 */
#define MPATH_ANA_POLL_MS 1000
/* a control operation that arrived inside a nested frame tries again this often */
#define MPATH_CTL_RETRY_MS 5

enum mpath_io_state {
	MPATH_IO_FREE = 0,
	MPATH_IO_QUEUED,   /* on its head's requeue list */
	MPATH_IO_INFLIGHT, /* sent on a path */
};

struct mpath_head;

/* One head I/O (Linux: the bio a head resubmits). */
struct mpath_io {
	struct nvme_sqe cmd;
	struct mpath_head *head;
	struct nvmf_host_mpath_path *path; /* while in flight */
	void *buf;
	uint32_t len;
	uint8_t state;
	uint8_t failovers;
	nvmf_host_cb cb;
	void *arg;
	struct mpath_io *next; /* free list or requeue list */
};

/* A namespace through one path (Linux struct nvme_ns). */
struct mpath_ns {
	struct mpath_head *head;
	struct nvmf_host_mpath_path *path;
	struct mpath_ns *sibling; /* the head's paths, in join order */
	struct mpath_ns *next;	  /* the path's namespaces */
	uint32_t nsid;
	uint32_t anagrpid;
	uint8_t ana_state;
	bool ana_pending; /* an ANA status was seen: unusable until the log is read again */
};

/* A namespace head (Linux struct nvme_ns_head). */
struct mpath_head {
	struct nvmf_host_subsys *s;
	struct mpath_head *next; /* s->heads, ascending NSIDs */
	uint32_t nsid;
	uint64_t nsze;
	uint8_t lba_shift;
	uint8_t nguid[16];
	uint8_t eui64[8];
	uint8_t uuid[16];
	struct mpath_ns *paths;
	unsigned int nr_paths;
	struct mpath_ns *current; /* numa: the path in use; round-robin: the last one used */
	struct mpath_io *rq_head, **rq_tail;
	unsigned int nr_queued;
	unsigned int inflight;
	unsigned int refs; /* one per path namespace, one while removal is pending */
	bool removal_pending;
	bool gone; /* removed: off s->heads, freed once its last I/O in flight completed */
	struct nvmf_timer remove_timer;
};

/* One path of a subsystem: a controller and what the multipath layer keeps of it. */
struct nvmf_host_mpath_path {
	struct nvmf_host_subsys *s;
	struct nvmf_host_ctrl *ctrl;
	struct nvmf_host_mpath_path *next; /* s->paths, in the order they were added */
	struct mpath_ns *ns;
	unsigned int next_q; /* round robin over the I/O queues: index of the next one */
	bool removing;
	struct nvmf_deferred ana_work;
	struct nvmf_timer anatt_timer;
	uint64_t inflight;
	uint64_t submitted;
	uint64_t failovers;
};

struct s_call;

struct nvmf_host_subsys {
	char subnqn[NVME_NQN_FIELD_LEN];
	enum nvmf_host_iopolicy iopolicy;
	unsigned int delayed_removal_secs;
	unsigned int max_queued;
	bool threaded;
	struct nvmf_reactor *r;
	pthread_mutex_t lock; /* waits of other threads for their messages */
	pthread_cond_t cond;

	struct nvmf_host_mpath_path *paths;
	unsigned int nr_paths;
	struct mpath_head *heads;
	unsigned int nr_heads;
	struct mpath_io *ios;
	struct mpath_io *free_ios;
	unsigned int refs; /* the handle, one per path, one per pending removal */

	unsigned int in_cb;	  /* head I/O callbacks running */
	unsigned int ctl_running; /* a control operation running */
	bool destroying;
	bool wait_tags; /* queued I/O found every usable path's queues full */
	struct nvmf_deferred requeue_work;
	struct nvmf_timer ana_poll_timer;
	struct s_call *ctl_pending;
	struct nvmf_timer ctl_timer;
};

#define container_of_field(ptr, type, field) ((type *)((char *)(ptr)-offsetof(type, field)))

/* mpath.c */

/** nvmf_host_mpath_requeue() - run the requeue work: queued head I/O tries its paths again */
void nvmf_host_mpath_requeue(struct nvmf_host_subsys *s);

/** nvmf_host_mpath_subsys_init() - set up @s's requeue work and ANA poll timer */
void nvmf_host_mpath_subsys_init(struct nvmf_host_subsys *s);

/** nvmf_host_mpath_path_init() - set up @p's ANA work and ANATT timer */
void nvmf_host_mpath_path_init(struct nvmf_host_mpath_path *p);

/** nvmf_host_mpath_path_usable() - Linux !nvme_path_is_disabled() and a usable ANA state */
bool nvmf_host_mpath_path_usable(const struct mpath_ns *pns);

/** nvmf_host_mpath_head_path() - @head's namespace through path @p, or NULL */
struct mpath_ns *nvmf_host_mpath_head_path(struct mpath_head *head,
					   const struct nvmf_host_mpath_path *p);

/** nvmf_host_mpath_find_head() - the head of @nsid (not removed), or NULL */
struct mpath_head *nvmf_host_mpath_find_head(const struct nvmf_host_subsys *s, uint32_t nsid);

/**
 * nvmf_host_mpath_removal_cancel() - cancel @head's pending removal, dropping the references
 * it holds (on the head and on the subsystem) exactly once; nothing if none is pending
 */
void nvmf_host_mpath_removal_cancel(struct mpath_head *head);

/**
 * nvmf_host_mpath_head_remove() - take @head off its subsystem: queued I/O fails with
 * -ENOLINK, the head is freed once no I/O of it is in flight
 */
void nvmf_host_mpath_head_remove(struct mpath_head *head);

/** nvmf_host_mpath_path_detach() - every namespace of @p leaves its head */
void nvmf_host_mpath_path_detach(struct nvmf_host_mpath_path *p);

/**
 * nvmf_host_mpath_path_sync() - @p's namespaces join, stay in or leave their heads as its
 * controller's last scan says, with their ANA states
 */
void nvmf_host_mpath_path_sync(struct nvmf_host_mpath_path *p);

/** nvmf_host_mpath_anatt_update() - arm or cancel @p's ANATT timer from its last ANA log */
void nvmf_host_mpath_anatt_update(struct nvmf_host_mpath_path *p);

/**
 * nvmf_host_mpath_submit_local() - nvmf_host_mpath_submit_io() on the reactor thread
 * Return: 0 (sent or queued: @cb runs exactly once), -ENODEV, -EAGAIN or -ENOLINK.
 */
int nvmf_host_mpath_submit_local(struct nvmf_host_subsys *s, const struct nvme_sqe *cmd, void *buf,
				 uint32_t len, nvmf_host_cb cb, void *arg);

#endif
