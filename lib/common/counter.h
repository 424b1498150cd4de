/* SPDX-License-Identifier: MIT */
/*
 * Statistics counters with one writer and any number of readers: the writer (a reactor)
 * adds with a plain load and store, readers on other threads load them relaxed. No locked
 * read-modify-write, so a counter on the I/O path costs what a plain increment costs.
 */
#ifndef NVMF_COMMON_COUNTER_H
#define NVMF_COMMON_COUNTER_H

#include <stdatomic.h>
#include <stdint.h>

/**
 * nvmf_counter_add() - add @v to a counter only the calling thread writes
 * @c: counter
 * @v: amount (a count, bytes...)
 */
static inline void nvmf_counter_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

#endif
