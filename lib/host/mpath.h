/* SPDX-License-Identifier: MIT */
/*
 * What the controller core tells the multipath layer (mpath.c) about a controller that is a
 * path of a host subsystem (ctrl->mpath set). All of it on the subsystem's reactor thread.
 */
#ifndef NVMF_HOST_MPATH_H
#define NVMF_HOST_MPATH_H

#include "host-internal.h"

/**
 * nvmf_host_mpath_ctrl_state() - a path controller changed state (before the user's
 * state_cb): LIVE resends queued head I/O, DEAD takes the path out of its heads
 * @ctrl: path controller
 * @old: previous enum nvmf_host_ctrl_state
 * @state: new enum nvmf_host_ctrl_state
 */
void nvmf_host_mpath_ctrl_state(struct nvmf_host_ctrl *ctrl, int old, int state);

/**
 * nvmf_host_mpath_scanned() - a namespace scan of a path controller finished: its namespaces
 * join heads, make new ones or leave them (Linux nvme_scan_ns() / nvme_ns_remove())
 * @ctrl: path controller, ctrl->ns as the scan left it
 */
void nvmf_host_mpath_scanned(struct nvmf_host_ctrl *ctrl);

/**
 * nvmf_host_mpath_ana_read() - the ANA log of a path controller was read (ctrl->ns[].info
 * .ana_state, ctrl->ana_nr_change): clear ANA-pending, resend queued I/O if a state changed,
 * arm or cancel the ANATT timer (Linux nvme_read_ana_log())
 * @ctrl: path controller
 */
void nvmf_host_mpath_ana_read(struct nvmf_host_ctrl *ctrl);

/**
 * nvmf_host_mpath_kick() - run the subsystem's requeue work (fast_io_fail_tmo expired on
 * @ctrl: queued head I/O no longer waits for it)
 * @ctrl: path controller
 */
void nvmf_host_mpath_kick(struct nvmf_host_ctrl *ctrl);

/**
 * nvmf_host_mpath_delete_path() - nvmf_host_ctrl_delete() of a path controller: removed from
 * its subsystem as by nvmf_host_subsys_remove_path() (logged if refused, e.g. from a callback)
 * @ctrl: path controller
 */
void nvmf_host_mpath_delete_path(struct nvmf_host_ctrl *ctrl);

/**
 * nvmf_host_mpath_in_cb() - the subsystem of path @ctrl is running a head I/O's callback, or
 * a completion callback of any of its paths (they share one reactor), on this thread: no
 * synchronous wait may start there
 * @ctrl: path controller
 * Return: true inside such a callback.
 */
bool nvmf_host_mpath_in_cb(struct nvmf_host_ctrl *ctrl);

#endif
