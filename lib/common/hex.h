/* SPDX-License-Identifier: MIT */
#ifndef NVMF_COMMON_HEX_H
#define NVMF_COMMON_HEX_H

#include <stdbool.h>
#include <stdint.h>

/**
 * nvmf_hex_digit() - the value of one hexadecimal digit
 * @c: '0'-'9', 'a'-'f' or 'A'-'F'
 *
 * Return: 0..15, or -1 for any other character.
 */
static inline int nvmf_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/**
 * nvmf_hex_parse_16() - read a 16-byte identifier (UUID, NGUID, host ID) written in hex
 * @s: exactly 32 hex digits, '-' allowed anywhere between them (so the UUID form, RFC 4122,
 *	and the undashed form both parse); NUL-terminated
 * @out: receives the 16 bytes, most significant digit first
 *
 * Return: true, or false if @s has another character or not exactly 32 digits.
 */
static inline bool nvmf_hex_parse_16(const char *s, uint8_t out[16])
{
	unsigned int n = 0;

	for (; *s && n < 32; s++) {
		int v = nvmf_hex_digit(*s);

		if (*s == '-')
			continue;
		if (v < 0)
			return false;
		out[n / 2] = (uint8_t)(n % 2 ? out[n / 2] | v : v << 4);
		n++;
	}
	return n == 32 && !*s;
}

#endif
