#ifndef CER_TOKEN_H
#define CER_TOKEN_H

/*
 * Custodian keys on PKCS#11 tokens (smart cards, YubiKey PIV, SoftHSM,
 * offline HSMs), reached through p11-kit.
 *
 * A key is named by a PKCS#11 URI (RFC 7512), e.g.
 * "pkcs11:token=alice;object=sd-wrap", parsed by p11-kit.  The URI's token
 * attributes (token, serial, manufacturer, model), slot-id and library
 * attributes pick the token; its object and id attributes pick the RSA
 * private key on it.  A URI carrying a PIN (pin-value, pin-source) is
 * refused: a command line is visible to other processes.
 *
 * Modules: those registered with p11-kit on the system (Debian:
 * /usr/share/p11-kit/modules/: softhsm2, OpenSC, ykcs11), or the one
 * module file given to cer_tokens_open.
 *
 * Everything here is public except the PIN (the caller's, in secret memory)
 * and the content keys unwrapped on the token (token_unwrap.h).  Sessions
 * are logged out and closed by cer_token_key_close on every path.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ceremony/cer.h"
#include "ceremony/keys.h"

struct evp_pkey_st;

#define CER_TOKEN_URI_PREFIX "pkcs11:"

/* True when s is a PKCS#11 URI (starts with "pkcs11:"), i.e. names a token key, not a file. */
bool cer_token_is_uri(const char *s);

/* The PKCS#11 modules, loaded and initialised. */
struct cer_tokens;

/*
 * Loads the module file module_path, or (NULL) every module registered with
 * p11-kit.  CER_EIO when a module cannot be loaded or initialised (message
 * naming it, with p11-kit's reason).  Free with cer_tokens_close.
 */
int cer_tokens_open(const char *module_path, struct cer_tokens **out) CER_WUR;
void cer_tokens_close(struct cer_tokens *t);

/*
 * How shares are unwrapped (token_unwrap.h): AUTO uses CKM_RSA_PKCS_OAEP
 * on the token when it takes the JWE's hash, else CKM_RSA_X_509 and a host
 * decode; RAW always takes the second way (for tests of that path, and for
 * tokens whose OAEP is broken).
 */
enum cer_token_unwrap { CER_TOKEN_UNWRAP_AUTO = 0, CER_TOKEN_UNWRAP_RAW };
void cer_tokens_set_unwrap(struct cer_tokens *t, enum cer_token_unwrap mode);
enum cer_token_unwrap cer_tokens_unwrap(const struct cer_tokens *t);

/* A token as it describes itself (fixed-width PKCS#11 fields, trailing blanks removed). */
struct cer_token_info {
	char label[33];
	char serial[17];
	char manufacturer[33];
	char model[17];
	char module[256];    /* the module's file name */
	unsigned long slot;  /* slot id within the module */
	bool login_required; /* CKF_LOGIN_REQUIRED */
	bool pin_pad;        /* CKF_PROTECTED_AUTHENTICATION_PATH: the PIN is typed on the device */
	bool pin_count_low;  /* CKF_USER_PIN_COUNT_LOW: a wrong PIN was entered since the last good
	                        one */
	bool pin_final_try;  /* CKF_USER_PIN_FINAL_TRY: one more wrong PIN locks it */
	bool pin_locked;     /* CKF_USER_PIN_LOCKED */
};

/*
 * "token 'alice' (serial 18ecd3e4f8a47544)": how messages name a token.
 * out has room for CER_TOKEN_NAME_LEN bytes.
 */
#define CER_TOKEN_NAME_LEN 96
void cer_token_name(const struct cer_token_info *info, char out[static CER_TOKEN_NAME_LEN]);

/*
 * "pkcs11:token=<label>;serial=<serial>", with ";object=<object>" when
 * object is not NULL: a URI naming that one token (for a front end that
 * lets a person pick a token from cer_tokens_info).
 */
void cer_token_uri_for(const struct cer_token_info *info, const char *object, char *out,
                       size_t cap);

/*
 * What to tell a person before the next PIN is typed, as the token reports
 * it ("final try: one more wrong PIN locks the token"), or NULL.
 */
const char *cer_token_pin_warning(const struct cer_token_info *info);

/* The tokens present, in module and slot order (for `token list`). */
size_t cer_tokens_count(const struct cer_tokens *t);
const struct cer_token_info *cer_tokens_info(const struct cer_tokens *t, size_t i);

/* A session on one token, and (after cer_token_key_select) one RSA key on it. */
struct cer_token_key;

/*
 * Finds the one token present that uri names and opens a session on it (not
 * logged in).  CER_EUSAGE: not a PKCS#11 URI, unparsable, carries a PIN, or
 * names several tokens present (message lists them); CER_EIO: no token
 * present matches (message lists those present).  uri is copied.
 */
int cer_token_key_open(struct cer_tokens *t, const char *uri, struct cer_token_key **out) CER_WUR;
/* The same with a read-write session (keygen writes objects). */
int cer_token_key_open_rw(struct cer_tokens *t, const char *uri,
                          struct cer_token_key **out) CER_WUR;
/* The same for token i of cer_tokens_info, selecting by the URI "pkcs11:" (any key). */
int cer_token_key_open_index(struct cer_tokens *t, size_t i, struct cer_token_key **out) CER_WUR;
/* Logs out (when logged in), closes the session, frees.  Accepts NULL. */
void cer_token_key_close(struct cer_token_key *k);

const char *cer_token_key_uri(const struct cer_token_key *k);
/* The URI's object= value (CKA_LABEL) into out, "" when it has none. */
void cer_token_key_uri_label(const struct cer_token_key *k, char *out, size_t cap);
/* The token's information, its PIN flags as of the last open, login or refresh. */
const struct cer_token_info *cer_token_key_info(const struct cer_token_key *k);
/* Re-reads the token's flags (after a failed login, before asking again). */
int cer_token_key_refresh(struct cer_token_key *k) CER_WUR;

/*
 * Logs in as the user.  pin (secret memory, NUL-terminated) may be NULL only
 * on a token with a PIN pad or one that needs no login.  CER_EAUTH when the
 * PIN is wrong ("token 'alice' (serial ...): wrong PIN") or locked, the
 * flags refreshed; CER_EIO when the token is gone.
 */
int cer_token_key_login(struct cer_token_key *k, const char *pin) CER_WUR;
bool cer_token_key_logged_in(const struct cer_token_key *k);

/*
 * Picks the one RSA private key that the URI's object/id attributes name
 * (after login, where private keys are visible) and reads its public key.
 * CER_EINPUT when none matches, or the key is not RSA of at least
 * CER_MIN_RSA_BITS bits; CER_EUSAGE when several do (message names them and
 * says to add object= or id=).
 */
int cer_token_key_select(struct cer_token_key *k) CER_WUR;

/* The selected key (after cer_token_key_select). */
struct cer_token_key_attrs {
	char label[128];  /* CKA_LABEL, "" if none */
	char id_hex[130]; /* CKA_ID in hex, "" if none (up to 64 bytes) */
	char id_uri[200]; /* CKA_ID as a URI value, "%01%02" */
	unsigned bits;    /* modulus bits */
	bool sensitive;   /* CKA_SENSITIVE */
	bool extractable; /* CKA_EXTRACTABLE */
	bool can_decrypt; /* CKA_DECRYPT */
};
const struct cer_token_key_attrs *cer_token_key_attrs(const struct cer_token_key *k);
/* Public key of the selected key (owned by k). */
struct evp_pkey_st *cer_token_key_pubkey(const struct cer_token_key *k);
/*
 * How messages name the selected key: "token 'alice' (serial ...) key
 * 'sd-wrap' (id 01)"; before select, the token alone.
 */
const char *cer_token_key_name(const struct cer_token_key *k);

/*
 * The selected key's certificate: an X.509 certificate object on the token
 * with the key's CKA_ID and public key; else, with certs_dir, a certificate
 * file there with the key's public key.  CER_EINPUT when there is none
 * (message names the key and where it looked).  A certificate from the
 * token has cer_cert_source "<uri>;type=cert".
 */
int cer_token_key_cert(struct cer_token_key *k, const char *certs_dir,
                       struct cer_cert **out) CER_WUR;

/*
 * For token_unwrap.c and token_keygen.c: the raw PKCS#11 handles.  Nothing
 * outside ceremony/token*.c uses them.
 */
struct cer_token_raw {
	void *functions;       /* CK_FUNCTION_LIST_PTR */
	unsigned long session; /* CK_SESSION_HANDLE */
	unsigned long slot;    /* CK_SLOT_ID */
	unsigned long key;     /* CK_OBJECT_HANDLE of the selected key, 0 if none */
	size_t modulus_len;    /* bytes */
};
void cer_token_key_raw(const struct cer_token_key *k, struct cer_token_raw *out);
/* A PKCS#11 return value's name, "CKR_PIN_INCORRECT" (or "CKR 0x...", in a static buffer). */
const char *cer_token_rv_name(unsigned long rv);

#endif
