/* SPDX-License-Identifier: MIT */
/*
 * Build a target from a loaded configuration (config.h) through the public target API
 * (nvmf/target.h). Shared by the daemon nvmf-tgt and by the CLI's in-process loop transport
 * (`nvmf ... -t loop --loop-config FILE`).
 */
#ifndef NVMF_TGT_APPLY_H
#define NVMF_TGT_APPLY_H

#include "config.h"

#include "nvmf/target.h"

#include <stddef.h>
#include <stdint.h>

/**
 * nvmf_cfg_tgt_opts() - fill the target-wide settings a configuration implies
 * @opts: settings to complete; fields already set (non-zero) by the caller are kept, except
 *	that the ports' params may lower io_queue_depth and raise inline_data_size
 * @cfg: loaded configuration
 *
 * nr_reactors from "nvmf.reactors" and cpus/nr_cpus from "nvmf.cpumask", together, unless
 * the caller set either nr_reactors or nr_cpus (then neither key is used); cpus points into
 * @cfg, so @cfg must outlive nvmf_tgt_create(). inline_data_size from the largest
 * "param.inline_data_size" of the ports; io_queue_depth from the smallest
 * "param.max_queue_size".
 */
void nvmf_cfg_tgt_opts(struct nvmf_tgt_opts *opts, const struct nvmf_cfg *cfg);

/**
 * nvmf_cfg_apply() - add a configuration's subsystems, namespaces and ports to a target
 * @tgt: created, not yet started target
 * @cfg: loaded configuration
 * @only_trtype: add only the ports of this transport (NVMF_CFG_TRTYPE_*), 0 for all of them
 * @errbuf: on error, receives one line "<where>: <what>" naming the configuration element
 *	at fault ("subsystems[0].namespaces[1].device.path: No such file or directory"), or ""
 *	when the failure has no further explanation. May be NULL.
 * @errlen: size of @errbuf in bytes
 *
 * Disabled namespaces and referrals are skipped; a port with "enabled": false is added and
 * then disabled (nvmf_tgt_port_disable()). As nvmet does, ANA groups a port does not list
 * are inaccessible through it (nvmf_tgt_port_params.ana_default_state).
 *
 * Return: 0, or the negative errno of the target API call that failed (-EPROTONOSUPPORT:
 * a port's transport is not served by the target library).
 */
int nvmf_cfg_apply(struct nvmf_tgt *tgt, const struct nvmf_cfg *cfg, uint8_t only_trtype,
		   char *errbuf, size_t errlen);

#endif /* NVMF_TGT_APPLY_H */
