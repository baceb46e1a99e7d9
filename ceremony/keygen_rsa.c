#include "ceremony/keygen_int.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ceremony/crypto.h"
#include "ceremony/pkcs8.h"
#include "ceremony/token.h"

struct race {
	struct cer_kg_job *job;
	struct cer_kg_slot *slot;
};

bool cer_kg_cancelled(const struct cer_keygen_params *p)
{
	return p->cancel != NULL && atomic_load(p->cancel) != 0;
}

/* OpenSSL calls this while it searches for primes; 0 stops the search. */
static int gen_cb(EVP_PKEY_CTX *ctx)
{
	struct race *r = EVP_PKEY_CTX_get_app_data(ctx);

	return !atomic_load(&r->slot->won) && !atomic_load(&r->job->failed) &&
	       !cer_kg_cancelled(r->job->p);
}

/*
 * An RSA key pair of `bits` bits with e = 65537 from EVP_PKEY_keygen, in the
 * provider that the OpenSSL configuration selects for RSA; the private
 * numbers stay inside that provider (the default one keeps them on the
 * secure heap).  Several threads may race for one slot; gen_cb stops the
 * losers.  The winner gets the pairwise check in finish_slot.
 */
static int rsa_generate(int bits, struct race *race, EVP_PKEY **key)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	BIGNUM *e = BN_new();
	int ok = 0;

	*key = NULL;
	if (pctx == NULL || e == NULL || BN_set_word(e, RSA_F4) != 1 ||
	    EVP_PKEY_keygen_init(pctx) != 1 || EVP_PKEY_CTX_set_rsa_keygen_bits(pctx, bits) != 1 ||
	    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(pctx, e) != 1)
		goto out;
	EVP_PKEY_CTX_set_app_data(pctx, race);
	EVP_PKEY_CTX_set_cb(pctx, gen_cb);
	if (EVP_PKEY_keygen(pctx, key) != 1) {
		EVP_PKEY_free(*key);
		*key = NULL;
		goto out;
	}
	ok = 1;
out:
	BN_free(e);
	EVP_PKEY_CTX_free(pctx);
	return ok;
}

/* Not an error: another thread made this slot's key first. */
#define LOST_RACE (-1)

/* CER_OK with *key, LOST_RACE, or an error. */
static int generate_rsa(struct cer_kg_job *j, struct cer_kg_slot *s, EVP_PKEY **key)
{
	struct race r = {j, s};
	char why[256] = "";
	unsigned long e;

	if (rsa_generate((int)j->p->bits, &r, key) == 1)
		return CER_OK;
	e = ERR_peek_last_error();
	if (e != 0)
		ERR_error_string_n(e, why, sizeof why);
	ERR_clear_error();
	if (cer_kg_cancelled(j->p))
		return cer_fail(CER_EUSAGE, "key generation cancelled; nothing was written");
	if (atomic_load(&s->won) || atomic_load(&j->failed))
		return LOST_RACE;
	return cer_fail(CER_EINTERNAL,
	                "%s: RSA key generation failed (%s); does the OpenSSL "
	                "configuration (OPENSSL_CONF) load a provider with RSA?",
	                s->name, why[0] != '\0' ? why : "no reason given");
}

static int encode_key(const struct cer_keygen_params *p, unsigned i, EVP_PKEY *key, BIO **out)
{
	char what[32];
	BIO *bio;

	snprintf(what, sizeof what, "custodian %u", i + 1);
	*out = NULL;
	if (!p->no_passphrase)
		return cer_pkcs8_encrypt_pem(key, p->custodians[i].passphrase, what, out);
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
		BIO_free(bio);
		return cer_fail(CER_EINTERNAL, "%s: cannot encode the key", what);
	}
	*out = bio;
	return CER_OK;
}

static int finish_slot(struct cer_kg_job *j, unsigned i)
{
	struct cer_kg_slot *s = &j->slots[i];
	X509 *x = NULL;
	int ret;

	ret = cer_rsa_pairwise_check(s->key, s->name);
	if (ret != CER_OK)
		ret = cer_fail_context(CER_EINTERNAL, "generated key");
	if (ret == CER_OK)
		ret = cer_kg_make_cert(s->key, s->name, j->p->days, &x);
	if (ret == CER_OK)
		ret = cer_kg_pem_cert(x, &s->cert_pem, &s->cert_pem_len);
	if (ret == CER_OK)
		ret = cer_kg_cert_of(x, s->name, &s->cert);
	if (ret == CER_OK)
		ret = encode_key(j->p, i, s->key, &s->key_pem);
	X509_free(x);
	EVP_PKEY_free(s->key);
	s->key = NULL;
	return ret;
}

static int pick_slot(struct cer_kg_job *j)
{
	unsigned i, best_racers = UINT_MAX;
	int best = -1;

	if (atomic_load(&j->failed))
		return -1;
	for (i = 0; i < j->p->count; i++)
		if (!j->slots[i].started)
			return (int)i;
	/* Everything started: race an unfinished key instead of idling. */
	for (i = 0; i < j->p->count; i++) {
		struct cer_kg_slot *s = &j->slots[i];

		if (!atomic_load(&s->won) && s->racers < best_racers) {
			best = (int)i;
			best_racers = s->racers;
		}
	}
	return best;
}

static void job_fail(struct cer_kg_job *j, int status)
{
	if (!atomic_load(&j->failed)) {
		j->status = status;
		snprintf(j->err, sizeof j->err, "%s", cer_errmsg());
		atomic_store(&j->failed, true);
	}
}

static void *worker(void *arg)
{
	struct cer_kg_job *j = arg;

	for (;;) {
		EVP_PKEY *key = NULL;
		struct cer_kg_slot *s;
		bool mine = false;
		int i, st;

		pthread_mutex_lock(&j->lock);
		i = pick_slot(j);
		if (i < 0) {
			pthread_mutex_unlock(&j->lock);
			break;
		}
		s = &j->slots[i];
		s->started = true;
		s->racers++;
		pthread_mutex_unlock(&j->lock);

		st = generate_rsa(j, s, &key);

		pthread_mutex_lock(&j->lock);
		s->racers--;
		if (st == CER_OK && !atomic_load(&s->won)) {
			atomic_store(&s->won, true);
			s->key = key;
			key = NULL;
			mine = true;
		} else if (st != CER_OK && st != LOST_RACE) {
			job_fail(j, st);
			pthread_cond_broadcast(&j->cond);
		}
		pthread_mutex_unlock(&j->lock);
		EVP_PKEY_free(key);
		if (!mine)
			continue;
		st = finish_slot(j, (unsigned)i);
		pthread_mutex_lock(&j->lock);
		if (st != CER_OK)
			job_fail(j, st);
		else
			j->finished++;
		pthread_cond_broadcast(&j->cond);
		pthread_mutex_unlock(&j->lock);
	}
	return NULL;
}

void cer_kg_job_clear(struct cer_kg_job *j, bool undo_tokens)
{
	unsigned i;

	for (i = 0; i < CER_KEYGEN_MAX_KEYS; i++) {
		if (j->slots[i].tok != NULL && undo_tokens)
			cer_token_generated_destroy(j->slots[i].tok, &j->slots[i].gen);
		cer_token_key_close(j->slots[i].tok);
		EVP_PKEY_free(j->slots[i].key);
		cer_cert_free(j->slots[i].cert);
		BIO_free(j->slots[i].key_pem);
		free(j->slots[i].cert_pem);
	}
}

static unsigned thread_count(const struct cer_keygen_params *p)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = p->threads != 0 ? p->threads : cpus > 0 ? (unsigned)cpus : 1, files = 0, i;

	for (i = 0; i < p->count; i++)
		files += !cer_kg_is_token(p, i);
	return n > files ? files : n;
}

/*
 * Custodian i on a token, in the calling thread: log in, generate the pair
 * there, sign its certificate there, store the certificate beside it, and
 * send a value through it as a recovery will.  The slot is then done.
 */
int cer_kg_token_slot(struct cer_kg_job *j, unsigned i, const struct cer_progress *progress)
{
	const struct cer_keygen_custodian *c = &j->p->custodians[i];
	struct cer_kg_slot *s = &j->slots[i];
	char label[64], what[CER_NAME_MAX + 40];
	unsigned char *der = NULL;
	X509 *x = NULL;
	int len, ret;

	snprintf(what, sizeof what, "custodian %u (%s)", i + 1, s->name);
	ret = cer_token_key_open_rw(j->p->tokens, c->token_uri, &s->tok);
	if (ret == CER_OK)
		ret = cer_token_key_login(s->tok, c->pin);
	if (ret == CER_OK) {
		cer_token_key_uri_label(s->tok, label, sizeof label);
		ret = cer_token_generate(s->tok, j->p->bits,
		                         label[0] ? label : CER_TOKEN_KEYGEN_LABEL, &s->gen);
	}
	if (ret == CER_OK)
		ret = cer_kg_cert_fields(cer_token_key_pubkey(s->tok), s->name, j->p->days, &x);
	if (ret == CER_OK)
		ret = cer_token_sign_cert(s->tok, x);
	if (ret == CER_OK && (len = i2d_X509(x, &der)) <= 0)
		ret = cer_fail(CER_EINTERNAL, "%s: cannot encode the certificate", s->name);
	if (ret == CER_OK)
		ret = cer_token_store_cert(s->tok, der, (size_t)len, &s->gen);
	if (ret == CER_OK)
		ret = cer_token_roundtrip(s->tok, what);
	if (ret == CER_OK)
		ret = cer_kg_pem_cert(x, &s->cert_pem, &s->cert_pem_len);
	if (ret == CER_OK)
		ret = cer_kg_cert_of(x, s->name, &s->cert);
	OPENSSL_free(der);
	X509_free(x);
	if (ret != CER_OK)
		return cer_fail_context(ret, what);
	s->started = true;
	atomic_store(&s->won, true);
	j->finished++;
	cer_progress_note(progress,
	                  "%s: RSA-%u key generated on %s (sensitive, not "
	                  "extractable), its certificate signed there and stored with it",
	                  what, j->p->bits, cer_token_key_name(s->tok));
	return CER_OK;
}

int cer_kg_run_job(struct cer_kg_job *j, const struct cer_progress *progress)
{
	static const char what[] = "generating keys";
	pthread_t tids[CER_KEYGEN_MAX_KEYS];
	unsigned n = thread_count(j->p), started = 0, shown = 0, i;
	int ret = CER_OK;

	cer_progress_step(progress, what, 0, j->p->count);
	for (i = 0; i < n; i++) {
		if (pthread_create(&tids[i], NULL, worker, j) != 0)
			break;
		started++;
	}
	pthread_mutex_lock(&j->lock);
	if (started == 0 && n > 0) {
		cer_fail(CER_EINTERNAL, "cannot start a key generation thread");
		job_fail(j, CER_EINTERNAL);
	}
	while (j->finished < j->p->count && !atomic_load(&j->failed)) {
		pthread_cond_wait(&j->cond, &j->lock);
		if (j->finished != shown && !atomic_load(&j->failed)) {
			shown = j->finished;
			pthread_mutex_unlock(&j->lock);
			cer_progress_step(progress, what, shown, j->p->count);
			pthread_mutex_lock(&j->lock);
		}
	}
	pthread_mutex_unlock(&j->lock);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (atomic_load(&j->failed))
		ret = cer_fail(j->status, "%s", j->err);
	return ret;
}
