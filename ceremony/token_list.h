#ifndef CER_TOKEN_LIST_H
#define CER_TOKEN_LIST_H

/*
 * `token list`: the tokens present and their RSA keys, one report (report.h)
 * with text lines and JSON.  Public information only.
 *
 * Per token, the keys are grouped by CKA_ID from the private keys, public
 * keys and X.509 certificates the session sees: without login most tokens
 * hide their private keys (the report says so); logged in, each private
 * key's CKA_SENSITIVE, CKA_EXTRACTABLE and CKA_DECRYPT are shown.  With a
 * security-domain file, each key's certificate is matched to its share by
 * thumbprint.
 *
 * JSON:
 *   {"report": "token_list", "sd_file": path|"", "tokens": [
 *     {"label", "serial", "manufacturer", "model", "module": file name,
 *      "slot": n, "login_required", "logged_in", "pin_count_low",
 *      "pin_final_try", "pin_locked": bools,
 *      "keys": [{"uri": "pkcs11:token=...;id=...", "label", "id": hex, "bits": n,
 *                "private_key": bool (seen), "sensitive", "extractable",
 *                "decrypt": bool or null (private key not seen),
 *                "certificate": {"subject_cn", "x5t_256", "not_after"} or null,
 *                "share": share number in sd_file (from 1) or null,
 *                "opens": "share #n of FILE" | "no share in FILE" | ""}]}],
 *    "exit_status": 0}
 */

#include "ceremony/cer.h"
#include "ceremony/report.h"
#include "ceremony/sd.h"
#include "ceremony/token.h"

struct cer_token_list;

/* sd (may be NULL) must outlive the list. */
int cer_token_list_new(const struct cer_sd *sd, struct cer_token_list **out) CER_WUR;
/* Adds the token of k (an open session, logged in or not) and its keys. */
int cer_token_list_add(struct cer_token_list *l, struct cer_token_key *k) CER_WUR;
/*
 * Opens every token of t in turn without logging in (so private keys a
 * token hides stay unseen), adds it, and closes it: the list a person picks
 * a key from.  sd as for cer_token_list_new.
 */
int cer_token_list_scan(struct cer_tokens *t, const struct cer_sd *sd,
                        struct cer_token_list **out) CER_WUR;

/*
 * The keys found so far, in the order the report lists them, for a front
 * end that lets a person choose one.  The strings belong to the list.
 */
struct cer_token_list_key {
	size_t token; /* which token: the order of cer_token_list_add, from 0 */
	const char *token_label, *token_serial;
	const char *uri;        /* names this one key (token, serial and id) */
	const char *label;      /* CKA_LABEL, "" if none */
	const char *id_hex;     /* CKA_ID, "" if none */
	unsigned bits;          /* 0 when no object shows the modulus */
	const char *subject_cn; /* the CN of its certificate on the token, "" if none */
	unsigned share;         /* its share in sd (from 1); 0: none, or no sd */
};
size_t cer_token_list_key_count(const struct cer_token_list *l);
void cer_token_list_key(const struct cer_token_list *l, size_t i, struct cer_token_list_key *out);

/* The report of everything added so far. */
int cer_token_list_report(struct cer_token_list *l, struct cer_report **out) CER_WUR;
void cer_token_list_free(struct cer_token_list *l);

#endif
