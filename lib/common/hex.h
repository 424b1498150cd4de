/* SPDX-License-Identifier: MIT */
#ifndef NVMF_COMMON_HEX_H
#define NVMF_COMMON_HEX_H

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

#endif
