#ifndef CER_SD_H
#define CER_SD_H

/*
 * A security-domain file (FORMAT.md sections 1-2), parsed once.
 *
 * Accepted forms: the JSON itself, the {"value": "<JSON>"} wrapper, or b64
 * of the JSON.  Versions 2 (SharedKeys, shamir_share) and 1 (SplitKeys,
 * xor_split).  Files above CER_MAX_INPUT are refused before parsing.
 *
 * cer_sd_load fails (CER_EINPUT, message naming the file and the field)
 * only for defects of the whole: not JSON, not an object, missing or
 * mistyped EncData / data / SharedKeys / SplitKeys / required / version,
 * an unsupported version.  Defects of single entries (an item or share that
 * is not an object, lacks a field, has bad base64url or a malformed JWE, an
 * unknown alg/enc) are recorded on the entry (`problem`, non-NULL) so that
 * inspect can list them all; recovery refuses to use such an entry.
 * Everything here is public data.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ceremony/cer.h"
#include "ceremony/crypto.h"
#include "ceremony/keys.h"

enum cer_sd_form { CER_SD_FORM_JSON, CER_SD_FORM_VALUE, CER_SD_FORM_B64 };

struct cer_sd_item {
	char *tag;           /* NULL if missing */
	struct cer_jwe *jwe; /* NULL if malformed */
	size_t jwe_len;      /* characters of compact_jwe */
	char *problem;       /* NULL, or what is wrong ("bad base64url in part 4") */
};

struct cer_sd_share {
	char *x5t_256; /* as written in the file, NULL if missing */
	uint8_t thumb[CER_THUMB_LEN];
	bool thumb_ok;       /* x5t_256 decoded to 32 bytes */
	struct cer_jwe *jwe; /* enc_key parsed, NULL if malformed */
	unsigned pair;       /* version 1: index of the SplitKeys entry */
	unsigned half;       /* version 1: 1 for key1, 2 for key2; version 2: 0 */
	char *problem;
};

struct cer_sd;

/* path is kept for messages; the file's SHA-256 is computed as it is read. */
int cer_sd_load(const char *path, struct cer_sd **out) CER_WUR;
/* Parses bytes already in memory; `name` names them in messages. */
int cer_sd_parse(const uint8_t *data, size_t len, const char *name, struct cer_sd **out) CER_WUR;
void cer_sd_free(struct cer_sd *sd);

const char *cer_sd_name(const struct cer_sd *sd);
const char *cer_sd_sha256_hex(const struct cer_sd *sd); /* of the file's bytes */
size_t cer_sd_size(const struct cer_sd *sd);            /* file size in bytes */
enum cer_sd_form cer_sd_form(const struct cer_sd *sd);
unsigned cer_sd_version(const struct cer_sd *sd); /* 1 or 2 */
/* Shares needed: "required" for version 2, 2 for version 1 (both halves of a pair). */
unsigned cer_sd_required(const struct cer_sd *sd);
const char *cer_sd_key_algorithm(const struct cer_sd *sd); /* "shamir_share", "xor_split", ... */
const char *cer_sd_kdf(const struct cer_sd *sd);           /* "" if absent */

size_t cer_sd_share_count(const struct cer_sd *sd);
const struct cer_sd_share *cer_sd_share(const struct cer_sd *sd, size_t i);
size_t cer_sd_item_count(const struct cer_sd *sd);
const struct cer_sd_item *cer_sd_item(const struct cer_sd *sd, size_t i);

/* Index of the first share whose thumbprint is thumb, or -1. */
long cer_sd_find_share(const struct cer_sd *sd, const uint8_t thumb[static CER_THUMB_LEN],
                       size_t from);

/*
 * CER_OK when the file can be used for recovery: every item well formed
 * with a tag and a supported enc, kdf "sp108_kdf", a supported algorithm.
 * Otherwise CER_EINPUT naming the first defect (item by tag).
 */
int cer_sd_check_items(const struct cer_sd *sd) CER_WUR;

#endif
