/*
 * yaml.h - a small JSON to YAML emitter: a jansson value written as block
 * YAML, for the OpenAPI document's ?format=yaml.
 *
 * Strings are always double-quoted with JSON's escapes (plus \UXXXXXXXX for
 * characters beyond the BMP, and \u escapes for every non-ASCII character),
 * which YAML 1.1 and 1.2 read back as the same text; keys are quoted unless
 * they are plain identifiers YAML cannot mistake for another type. Empty
 * objects and arrays are written {} and [].
 */
#ifndef EVENTAPI_OPS_YAML_H
#define EVENTAPI_OPS_YAML_H

#include <jansson.h>
#include <stddef.h>

/*
 * Writes value as a YAML document (no "---" marker, ending with a newline).
 * Returns malloc'd NUL-terminated text the caller frees, its length in *len
 * (when len is not NULL), or NULL when out of memory.
 */
char *ops_yaml_dump(const json_t *value, size_t *len);

#endif
