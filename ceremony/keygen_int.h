#ifndef CER_KEYGEN_INT_H
#define CER_KEYGEN_INT_H

/*
 * Inside the key ceremony only (ceremony/keygen*.c and package.c): what its
 * pieces share.  One concern per file:
 *   keygen_names.c     counts, custodian names, passphrase rules
 *   keygen_paths.c     DIR and key paths: checks, stale temporaries
 *   keygen_cert.c      certificates and JWKs
 *   keygen_rsa.c       the key pairs: worker threads racing for slots, tokens
 *   keygen_files.c     writing files and moving the set into place
 *   keygen_manifest.c  download-request.json, ceremony.json, the az command
 *   keygen.c           cer_keygen: the steps in order
 *   package.c          cer_package: the JSON files for existing certificates
 */

#include <jansson.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include "ceremony/keygen.h"
#include "ceremony/keys.h"
#include "ceremony/token_keygen.h"

/* ---- keygen_paths.c ---- */

/* True when custodian i's key is made on a token. */
bool cer_kg_is_token(const struct cer_keygen_params *p, unsigned i);
/* dir/name into out; CER_EUSAGE when too long. */
int cer_kg_path_join(char out[static CER_KG_PATH_MAX], const char *dir, const char *name);
/* DIR without trailing slashes, its parent and its last component. */
int cer_kg_split_dir(const char *dir, char clean[static CER_KG_PATH_MAX],
                     char parent[static CER_KG_PATH_MAX], char base[static NAME_MAX + 1]);
/* 1 when path has entries, 0 when empty, -1 (error set) when unreadable. */
int cer_kg_dir_nonempty(const char *path);
/* The certificate copy's path beside a key written outside DIR. */
int cer_kg_cert_beside(const char *key_path, char out[static CER_KG_PATH_MAX]);
/* NULL or "": the key goes to DIR/cert_i.key. */
bool cer_kg_is_default_key_path(const char *kp);
/* The name custodian i gets (cer_keygen_name of its name). */
void cer_kg_effective_name(const struct cer_keygen_params *p, unsigned i,
                           char out[static CER_NAME_MAX + 1]);

/* ---- keygen_cert.c ---- */

/* What the manifest and the result say about one certificate (jwk owned). */
struct cer_kg_cert_info {
	char name[CER_NAME_MAX + 1];
	char thumb_b64url[44];
	char thumb_hex[65];
	char not_before[21];
	char not_after[21];
	char serial_hex[2 * 20 + 1];
	unsigned bits;
	json_t *jwk;
};

int cer_kg_cert_describe(const struct cer_cert *c, const char *label,
                         struct cer_kg_cert_info *info) CER_WUR;
void cer_kg_key_describe(struct cer_keygen_key *k, const struct cer_kg_cert_info *info);
/* An unsigned certificate for pub (CN = name, valid `days`). */
int cer_kg_cert_fields(EVP_PKEY *pub, const char *name, unsigned days, X509 **out) CER_WUR;
/* The same, self-signed with key. */
int cer_kg_make_cert(EVP_PKEY *key, const char *name, unsigned days, X509 **out) CER_WUR;
/* PEM text of x (malloc'ed). */
int cer_kg_pem_cert(X509 *x, char **pem, size_t *len) CER_WUR;
/* x as the rest of the project reads certificates. */
int cer_kg_cert_of(X509 *x, const char *name, struct cer_cert **out) CER_WUR;

/* ---- keygen_rsa.c ---- */

/* One custodian's key pair while it is made; key_pem is secret. */
struct cer_kg_slot {
	atomic_bool won;
	bool started;
	unsigned racers;
	EVP_PKEY *key;
	struct cer_cert *cert;
	BIO *key_pem; /* secure-heap memory BIO: the encoded private key */
	char *cert_pem;
	size_t cert_pem_len;
	char name[CER_NAME_MAX + 1];
	struct cer_token_key *tok; /* a custodian on a token: its session, until the end */
	struct cer_token_generated gen;
};

struct cer_kg_job {
	const struct cer_keygen_params *p;
	struct cer_kg_slot slots[CER_KEYGEN_MAX_KEYS];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned finished;
	atomic_bool failed;
	int status;
	char err[512];
};

/* The caller's cancel flag is set. */
bool cer_kg_cancelled(const struct cer_keygen_params *p);
/* Frees every slot (wiping keys); undo_tokens destroys the objects made on tokens. */
void cer_kg_job_clear(struct cer_kg_job *j, bool undo_tokens);
/* Custodian i on its token, in the calling thread. */
int cer_kg_token_slot(struct cer_kg_job *j, unsigned i,
                      const struct cer_progress *progress) CER_WUR;
/* Every file key pair, on worker threads; progress from the calling thread. */
int cer_kg_run_job(struct cer_kg_job *j, const struct cer_progress *progress) CER_WUR;

/* ---- keygen_files.c ---- */

/* A file written beside its final name outside DIR, until it is placed. */
struct cer_kg_outside {
	char final[CER_KG_PATH_MAX];
	char tmp[CER_KG_PATH_MAX];
	bool linked;
};

/* Creates path (O_EXCL, never following a link) and writes data; removes it on failure. */
int cer_kg_write_new(const char *path, const void *data, size_t len, mode_t mode) CER_WUR;
/* A fresh temporary file beside path holding data; its name in tmp. */
int cer_kg_write_temp_beside(const char *path, const void *data, size_t len, mode_t mode,
                             char tmp[static CER_KG_PATH_MAX]) CER_WUR;
void cer_kg_fsync_dir(const char *dir);
/* Removes the files in dir (no subdirectories) and dir. */
void cer_kg_remove_tree_flat(const char *dir);
/* Moves o's temporary to its final name, never replacing a file. */
int cer_kg_place_new(struct cer_kg_outside *o) CER_WUR;
/* Removes what o[0..n-1] placed or left as temporaries. */
void cer_kg_outside_undo(struct cer_kg_outside *o, size_t n);
/* Puts tmpdir in place of DIR, moving a non-empty DIR aside (to old) when force. */
int cer_kg_install_dir(const char *tmpdir, const char *clean, bool force,
                       char old[static CER_KG_PATH_MAX]) CER_WUR;

/* ---- keygen_manifest.c ---- */

extern const char cer_kg_request_name[];  /* download-request.json */
extern const char cer_kg_manifest_name[]; /* ceremony.json */

/* The next step on the admin host, one line, paths shell-quoted (malloc'ed). */
char *cer_kg_az_command(const struct cer_keygen_result *r);
/* Request and manifest texts (malloc'ed); file names as given. */
int cer_kg_build_json(struct cer_keygen_result *r, struct cer_kg_cert_info *info,
                      const char *const *cert_files, const char *const *key_files,
                      json_t *const *tokens, unsigned bits, unsigned days, char **request,
                      char **manifest) CER_WUR;
/* r->json: the manifest with the result's paths. */
int cer_kg_summary_json(struct cer_keygen_result *r, const char *manifest) CER_WUR;

/* ---- keygen_report.c ---- */

struct cer_transcript;
/* The "FLOW start: ..." record (bits 0: a package); CER_EIO if it is lost. */
int cer_kg_transcript_start(struct cer_transcript *t, const char *flow, unsigned count,
                            unsigned bits, unsigned quorum, unsigned days, const char *dir) CER_WUR;
/* The end: on success the report, each public file's SHA-256 and the result;
 * on failure (ret) the failure, message kept.  Returns ret, or CER_EIO when
 * a record is lost after a success.  t NULL: returns ret. */
int cer_kg_transcript_end(struct cer_transcript *t, const char *flow,
                          const struct cer_keygen_result *r, int ret) CER_WUR;

#endif
