/*
 * JSON plumbing of the nvmf-tgt configuration loader (internal to src/nvmf-tgt): a load
 * context that tracks the JSON path of the value being read and formats errors naming it,
 * typed getters for json-c values, and reading and tokenizing the document. The nvmetcli
 * schema built on it is config.c.
 *
 * Errors: every int-returning function here returns 0 (or 1, see the cfg_get_*() helpers)
 * on success or a negative errno, and has already written the message into the context's
 * error buffer when it returns one (except cfg_read_file(), which has no context). The
 * first error ends a load, so a caller just passes the value up.
 */
#ifndef NVMF_TGT_CONFIG_JSON_H
#define NVMF_TGT_CONFIG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* Largest configuration file read, in bytes. */
#define CFG_FILE_MAX_BYTES (16u << 20)
/* Size of &cfg_ctx.path in bytes, NUL included; a deeper path is truncated. */
#define CFG_JSON_PATH_SIZE 256
/* Longest excerpt of a bad value quoted in an error, in bytes (for "%.*s"). */
#define CFG_VALUE_QUOTE_MAX 64

/**
 * struct cfg_ctx - state of one configuration load
 * @prefix: prepended to every error as "<prefix>: " (the config file name), or NULL
 * @base_dir: directory relative paths in values are resolved against; NULL = getcwd()
 * @errbuf: receives the NUL-terminated error message; may be NULL
 * @errlen: size of @errbuf in bytes
 * @path_len: strlen(@path)
 * @path: JSON path of the value being parsed, in dotted form with [index]
 *	("subsystems[0].namespaces[1].device"); "" at the top level
 */
struct cfg_ctx {
	const char *prefix;
	const char *base_dir;
	char *errbuf;
	size_t errlen;
	size_t path_len;
	char path[CFG_JSON_PATH_SIZE];
};

/**
 * struct cfg_name_map - one entry of a table mapping JSON string values to numbers
 * @name: the spelling in the JSON; NULL ends the table
 * @value: the number it stands for
 */
struct cfg_name_map {
	const char *name;
	uint8_t value;
};

/**
 * cfg_ctx_init() - start a load with an empty path and no prefix or base directory
 * @ctx: context to initialise
 * @errbuf: error message buffer, set to "" here; may be NULL
 * @errlen: size of @errbuf in bytes
 */
void cfg_ctx_init(struct cfg_ctx *ctx, char *errbuf, size_t errlen);

/**
 * cfg_path_push() - enter member @key of the object at ctx->path
 * @ctx: load context
 * @key: member name
 *
 * Return: the previous path length, to hand to cfg_path_pop().
 */
size_t cfg_path_push(struct cfg_ctx *ctx, const char *key);

/**
 * cfg_path_push_idx() - enter element @idx of the array at ctx->path
 * @ctx: load context
 * @idx: 0-based element index
 *
 * Return: the previous path length, to hand to cfg_path_pop().
 */
size_t cfg_path_push_idx(struct cfg_ctx *ctx, size_t idx);

/**
 * cfg_path_pop() - leave what the matching cfg_path_push*() entered
 * @ctx: load context
 * @old: return value of that cfg_path_push() or cfg_path_push_idx()
 */
void cfg_path_pop(struct cfg_ctx *ctx, size_t old);

/**
 * cfg_err() - report an error about the value at ctx->path
 * @ctx: load context
 * @err: negative errno to return
 * @fmt: printf format of the message
 *
 * Writes "<prefix>: <path>: <message>" to ctx->errbuf (each part only if set), truncated
 * to ctx->errlen.
 *
 * Return: @err.
 */
int cfg_err(struct cfg_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * cfg_err_key() - report an error about member @key of the object at ctx->path
 * @ctx: load context
 * @key: member name, appended to the path in the message
 * @err: negative errno to return
 * @fmt: printf format of the message
 *
 * Return: @err.
 */
int cfg_err_key(struct cfg_ctx *ctx, const char *key, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/**
 * cfg_enomem() - report an allocation failure at ctx->path
 * @ctx: load context
 *
 * Return: -ENOMEM.
 */
int cfg_enomem(struct cfg_ctx *ctx);

/**
 * cfg_calloc() - calloc() that reports its failure
 * @ctx: load context
 * @n: number of elements
 * @size: size of one element in bytes
 * @ret: set to 0 on success, or to -ENOMEM (reported with cfg_enomem())
 *
 * Return: the zeroed allocation, to be released with free(), or NULL.
 */
void *cfg_calloc(struct cfg_ctx *ctx, size_t n, size_t size, int *ret);

/**
 * cfg_member() - member @key of @obj
 * @obj: JSON object
 * @key: member name
 *
 * Return: the member (borrowed from @obj), or NULL if absent; JSON null counts as absent.
 */
struct json_object *cfg_member(struct json_object *obj, const char *key);

/**
 * cfg_value_string() - the string in @v
 * @ctx: load context; errors name ctx->path, the path of @v
 * @v: JSON value
 * @out: on success, the string, borrowed from @v
 *
 * Return: 0, or -EINVAL if @v is not a string or contains a NUL character.
 */
int cfg_value_string(struct cfg_ctx *ctx, struct json_object *v, const char **out);

/*
 * The cfg_get_*() helpers read member @key of @obj with the path entered for it, so errors
 * name the member. Return: 1 if present and valid (*out set), 0 if absent and not
 * required (*out untouched), or a negative errno.
 */

/**
 * cfg_get_int() - an integer member
 * @ctx: load context, at the path of @obj
 * @obj: JSON object
 * @key: member name
 * @required: absent is an error
 * @min: lowest accepted value
 * @max: highest accepted value
 * @out: the value
 *
 * Accepts a JSON integer, or a string holding a decimal or 0x-prefixed hexadecimal integer
 * with an optional '-' and nothing else (as nvmetcli saves configfs attributes; "010" is
 * ten, not octal).
 *
 * Return: 1 if present and in [@min, @max], 0 if absent and not @required, -EINVAL
 * otherwise.
 */
int cfg_get_int(struct cfg_ctx *ctx, struct json_object *obj, const char *key, bool required,
		int64_t min, int64_t max, int64_t *out);

/**
 * cfg_get_bool() - an optional boolean member
 * @ctx: load context, at the path of @obj
 * @obj: JSON object
 * @key: member name
 * @out: the value
 *
 * Accepts a JSON boolean, the integers 0 and 1, or a string kstrtobool() takes: "1", "y",
 * "yes", "true", "on" and "0", "n", "no", "false", "off", in any case.
 *
 * Return: 1 if present and valid, 0 if absent, -EINVAL otherwise.
 */
int cfg_get_bool(struct cfg_ctx *ctx, struct json_object *obj, const char *key, bool *out);

/**
 * cfg_get_str() - a string member
 * @ctx: load context, at the path of @obj
 * @obj: JSON object
 * @key: member name
 * @required: absent is an error
 * @out: the string, borrowed from @obj
 *
 * Return: 1 if present and valid (see cfg_value_string()), 0 if absent and not @required,
 * -EINVAL otherwise.
 */
int cfg_get_str(struct cfg_ctx *ctx, struct json_object *obj, const char *key, bool required,
		const char **out);

/**
 * cfg_get_obj() - an object member
 * @ctx: load context, at the path of @obj
 * @obj: JSON object
 * @key: member name
 * @required: absent is an error
 * @out: the member, borrowed from @obj; NULL unless 1 is returned
 *
 * Return: 1 if present and an object, 0 if absent and not @required, -EINVAL otherwise.
 */
int cfg_get_obj(struct cfg_ctx *ctx, struct json_object *obj, const char *key, bool required,
		struct json_object **out);

/**
 * cfg_get_array() - an optional array member and its length
 * @ctx: load context, at the path of @obj
 * @obj: JSON object
 * @key: member name
 * @out: the member, borrowed from @obj; NULL unless 1 is returned
 * @nr: number of elements; 0 if absent or on error
 *
 * Return: 1 if present and an array, 0 if absent, -EINVAL otherwise.
 */
int cfg_get_array(struct cfg_ctx *ctx, struct json_object *obj, const char *key,
		  struct json_object **out, size_t *nr);

/**
 * cfg_get_size() - an optional size member, in bytes
 * @ctx: load context, at the path of @obj
 * @obj: JSON object
 * @key: member name
 * @out: the size in bytes, at most INT64_MAX
 *
 * Accepts a JSON integer, or a string holding an integer as cfg_get_int() takes it,
 * optionally followed by one binary suffix K, M, G or T (any case; "1G" = 2^30).
 *
 * Return: 1 if present and valid, 0 if absent, -EINVAL otherwise (negative, malformed or
 * too large).
 */
int cfg_get_size(struct cfg_ctx *ctx, struct json_object *obj, const char *key, uint64_t *out);

/**
 * cfg_get_name() - an optional string member that must be one of the names of @map
 * @ctx: load context, at the path of @obj
 * @obj: JSON object
 * @key: member name
 * @map: accepted names, ended by a NULL name
 * @what: what the value is, for the error message ("transport")
 * @choices: the accepted names, for the error message
 * @out: the value @map gives the name
 *
 * Return: 1 if present and known, 0 if absent, -EINVAL otherwise.
 */
int cfg_get_name(struct cfg_ctx *ctx, struct json_object *obj, const char *key,
		 const struct cfg_name_map *map, const char *what, const char *choices,
		 uint8_t *out);

/**
 * cfg_name_lookup() - find @name in @map
 * @map: table ended by a NULL name
 * @name: spelling to look for (case-sensitive)
 *
 * Return: the entry, or NULL if @name is not in @map.
 */
const struct cfg_name_map *cfg_name_lookup(const struct cfg_name_map *map, const char *name);

/**
 * cfg_name_of() - the name of @value in @map
 * @map: table ended by a NULL name
 * @value: value to look for
 *
 * Return: the first name with that value, or "?" if there is none.
 */
const char *cfg_name_of(const struct cfg_name_map *map, uint8_t value);

/**
 * cfg_copy_str() - copy a string into a fixed-size buffer
 * @ctx: load context, at the path of the object holding @key
 * @key: member @s came from; an error names it
 * @s: NUL-terminated string
 * @buf: destination
 * @size: size of @buf in bytes, NUL included
 *
 * Return: 0, or -EINVAL if @s does not fit.
 */
int cfg_copy_str(struct cfg_ctx *ctx, const char *key, const char *s, char *buf, size_t size);

/**
 * typedef cfg_elem_fn - callback of cfg_for_each_elem()
 * @ctx: load context, at the path of the element ("key[idx]")
 * @elem: the element, borrowed from the array
 * @idx: 0-based index of @elem
 * @arg: the @arg given to cfg_for_each_elem()
 *
 * Return: 0 to go on, or a negative errno (reported) to stop.
 */
typedef int (*cfg_elem_fn)(struct cfg_ctx *ctx, struct json_object *elem, size_t idx, void *arg);

/**
 * cfg_for_each_elem() - call @fn on each element of an array member, in order
 * @ctx: load context, at the path of the object holding @key
 * @key: member name of @arr
 * @arr: JSON array
 * @type: the JSON type every element must have
 * @fn: called with the path entered for each element
 * @arg: passed to @fn
 *
 * Return: 0, -EINVAL if an element is not of @type, or the first error of @fn.
 */
int cfg_for_each_elem(struct cfg_ctx *ctx, const char *key, struct json_object *arr,
		      enum json_type type, cfg_elem_fn fn, void *arg);

/**
 * cfg_parse_uuid() - parse a UUID in its textual form
 * @s: NUL-terminated "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hex digits in any case), the
 *	only form Linux uuid_parse() takes
 * @out: the 16 bytes, in string order; undefined on failure
 *
 * Return: true if @s is a UUID.
 */
bool cfg_parse_uuid(const char *s, uint8_t out[16]);

/**
 * cfg_parse_hex_id() - parse an identifier written as hex digit pairs (NGUID, EUI-64)
 * @s: NUL-terminated string of exactly @len hex pairs, each optionally followed by '-' or
 *	':', as nvmet parses NGUIDs
 * @out: the @len bytes; undefined on failure
 * @len: number of bytes to parse
 *
 * Return: true if @s is such an identifier.
 */
bool cfg_parse_hex_id(const char *s, uint8_t *out, size_t len);

/**
 * cfg_read_file() - read a whole file into memory
 * @path: file to read; pipes work too (e.g. /dev/stdin)
 * @out: on success, the contents plus a NUL terminator, to be released with free()
 * @out_len: on success, the length in bytes, terminator excluded
 *
 * Reports nothing: the caller words the error.
 *
 * Return: 0, -EFBIG if the file is larger than %CFG_FILE_MAX_BYTES, -ENOMEM, or the
 * negative errno of the failed open() or read() (-EIO if it set none).
 */
int cfg_read_file(const char *path, char **out, size_t *out_len);

/**
 * cfg_json_parse() - tokenize a JSON document
 * @ctx: load context; errors are reported at ctx->path (normally the top level)
 * @buf: the document; @buf[@len] must be NUL
 * @len: length of the document in bytes
 * @out: on success, the root value (NULL for the document "null"), to be released with
 *	json_object_put(); on error, NULL
 *
 * Strict JSON (as Python's json module, which nvmetcli uses, takes it) in valid UTF-8.
 * A syntax error is reported as "line L, column C: <json-c's description>", both 1-based.
 *
 * Return: 0; -EFBIG if @len does not fit json-c's int length; -EINVAL for a NUL byte in
 * the document or a syntax error; -ENOMEM.
 */
int cfg_json_parse(struct cfg_ctx *ctx, const char *buf, size_t len, struct json_object **out);

#endif /* NVMF_TGT_CONFIG_JSON_H */
