/* SPDX-License-Identifier: MIT */
/*
 * ANA (Asymmetric Namespace Access, NVMe Base 2.0c 8.1) state names, spelled as Linux nvmet
 * spells them in configfs (ports/N/ana_groups/G/ana_state) and nvmetcli saves them. One place
 * for the target daemon's configuration and control socket and for the CLI.
 */
#ifndef NVMF_COMMON_ANA_H
#define NVMF_COMMON_ANA_H

#include "nvmf/spec.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/**
 * nvmf_ana_state_name() - the name of an ANA state
 * @state: ANA state as in the ANA Group Descriptor's ANA State field (enum nvme_ana_state,
 *	NVMe Base 2.0c 5.16.1.12)
 *
 * Return: "optimized", "non-optimized", "inaccessible", "persistent-loss" or "change"; any
 * other value (0, reserved states) gives "unknown".
 */
static inline const char *nvmf_ana_state_name(uint8_t state)
{
	switch (state) {
	case NVME_ANA_OPTIMIZED:
		return "optimized";
	case NVME_ANA_NONOPTIMIZED:
		return "non-optimized";
	case NVME_ANA_INACCESSIBLE:
		return "inaccessible";
	case NVME_ANA_PERSISTENT_LOSS:
		return "persistent-loss";
	case NVME_ANA_CHANGE:
		return "change";
	default:
		return "unknown";
	}
}

/**
 * nvmf_ana_state_valid() - whether @state is one of the five ANA states (NVMe Base 2.0c 8.1.3:
 * optimized, non-optimized, inaccessible, persistent loss, change), not 0 or a reserved value
 */
static inline bool nvmf_ana_state_valid(uint8_t state)
{
	switch (state) {
	case NVME_ANA_OPTIMIZED:
	case NVME_ANA_NONOPTIMIZED:
	case NVME_ANA_INACCESSIBLE:
	case NVME_ANA_PERSISTENT_LOSS:
	case NVME_ANA_CHANGE:
		return true;
	default:
		return false;
	}
}

/**
 * nvmf_ana_state_parse() - an ANA state from its name
 * @name: one of the names nvmf_ana_state_name() gives for a defined state, exact case
 *	("unknown" is not a state); NULL is refused
 *
 * Return: the enum nvme_ana_state value (01h..04h, 0Fh), or -EINVAL.
 */
static inline int nvmf_ana_state_parse(const char *name)
{
	static const uint8_t states[] = {
		NVME_ANA_OPTIMIZED,	  NVME_ANA_NONOPTIMIZED, NVME_ANA_INACCESSIBLE,
		NVME_ANA_PERSISTENT_LOSS, NVME_ANA_CHANGE,
	};

	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (!strcmp(name, nvmf_ana_state_name(states[i])))
			return states[i];
	return -EINVAL;
}

#endif /* NVMF_COMMON_ANA_H */
