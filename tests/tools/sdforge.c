/*
 * sdforge: plays the Managed HSM in tests.  It makes a security-domain file
 * the way the service does (FORMAT.md sections 2-5): a random 32-byte master
 * key split with sss_split (x = 1..N, cert i gets x = i + 1), each share in a
 * compact JWE (A256CBC-HS512, random 64-byte CEK wrapped to the i-th
 * certificate's RSA key), EncData items of random plaintexts each encrypted
 * under KDF(master, tag).  It writes the expected plaintexts and the master
 * key to an items file so tests can check what a recovery produced.
 *
 * Usage:
 *   sdforge --certs CERT... --required Q --out SD --items-out ITEMS
 *           [--alg RSA-OAEP-256|RSA-OAEP|RSA1_5] [--version 2|1] [--shuffle]
 *           [--wrap raw|value|b64] [--tags TAG[:SIZE],...] [--item-size BYTES]
 *           [--seed TEXT] [--corrupt SPEC]...
 *
 *   --certs      wrapping certificates (PEM or DER), 2..126 of them
 *   --required   quorum Q, 2 <= Q <= N (version 2; ignored by version 1)
 *   --alg        how each share's CEK is wrapped (default RSA-OAEP-256)
 *   --version 1  legacy xor_split: for every pair i < j of certificates a
 *                random r wrapped to cert i (key1) and r ^ master to cert j (key2)
 *   --shuffle    shuffle the order of the share entries
 *   --wrap       raw JSON (default), {"value": "<JSON text>"}, or b64 of the JSON
 *   --tags       EncData tags, each optionally TAG:SIZE (plaintext bytes;
 *                default 1024 + 37 * position); without --tags: hsm_backup,
 *                base_enclave_backup, kmsp_enclave_backup with about the
 *                sizes of a real file (12 KB of plaintext)
 *   --item-count N items item_000000 .. (instead of --tags), for files of many
 *                items; their size as --tags without SIZE, or --item-size
 *   --item-size  plaintext size of every item, overriding the above
 *   --seed       derive master key, plaintexts, CEKs, IVs and the split's
 *                coefficients from TEXT (sss_split_deterministic; only RSA
 *                padding stays random), so the items file is the same on
 *                every run.  Test keys only.
 *   --corrupt    make a bad file for error tests (repeatable); I is the
 *                0-based index of a certificate in --certs:
 *                  share:I          flip a bit of share I's ciphertext
 *                  share-key:I      flip a bit of share I's wrapped CEK
 *                  share-tag:I      flip a bit of share I's authentication tag
 *                  share-notag:I    empty share I's authentication tag part
 *                  share-alg:I=ALG  write ALG as share I's header alg
 *                  share-enc:I=ENC  write ENC as share I's header enc
 *                  inconsistent:I   share I from another split of the same master
 *                                   (authentic alone, wrong with the others)
 *                  thumbprint:I     share I names a certificate nobody has
 *                  drop:I           leave share I out
 *                  item:TAG         flip a bit of item TAG's ciphertext
 *                  item-notag:TAG   empty item TAG's authentication tag part
 *                  item-enc:TAG=ENC write ENC as item TAG's header enc
 *                With --version 1 the share-* kinds apply to every JWE
 *                wrapped to certificate I; inconsistent, thumbprint and drop
 *                are refused.
 *
 * The items file (JSON): version, required, alg, wrap, master_key (hex),
 * certs, shares [{cert, x, x5t_256, present}] (version 2), items {tag: b64
 * plaintext} in file order, and corrupt [SPEC...] when any was given.
 * Exit status 0, or 1 with one line on stderr.
 */

#include <sodium.h>

#include "sss/sss.h"
#include "tests/tools/sdtool.h"

#define MAX_CERTS 126
#define MAX_TAGS 200000
#define MAX_CORRUPT 32

struct item {
	char *tag;
	size_t size;
	uint8_t *pt;
	char *enc;   /* header enc override or NULL */
	int flip_ct; /* corrupt the ciphertext */
	int no_tag;  /* empty the authentication tag */
};

struct share {
	int flip_ct, flip_ek, flip_tag, no_tag, inconsistent, bad_thumb, drop;
	char *alg, *enc;
};

static struct {
	const char *certs[MAX_CERTS];
	unsigned n, q;
	const char *alg, *out, *items_out, *wrap, *seed;
	int version, shuffle;
	long item_size;
	struct item *items; /* n_items of them */
	unsigned n_items;
	struct share shares[MAX_CERTS];
	const char *corrupt[MAX_CORRUPT];
	unsigned n_corrupt;
} opt = {.alg = "RSA-OAEP-256", .wrap = "raw", .version = 2, .item_size = -1};

static uint64_t rng_counter;

static void rnd(void *buf, size_t len)
{
	uint8_t seed[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;

	if (!opt.seed) {
		if (RAND_bytes(buf, (int)len) != 1)
			st_die("no randomness");
		return;
	}
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)opt.seed, strlen(opt.seed));
	crypto_hash_sha256_update(&st, (const uint8_t *)&rng_counter, sizeof(rng_counter));
	crypto_hash_sha256_final(&st, seed);
	rng_counter++;
	randombytes_buf_deterministic(buf, len, seed);
}

static unsigned rnd_below(unsigned n)
{
	uint32_t v;

	rnd(&v, sizeof(v));
	return (unsigned)(v % n);
}

static void usage(void)
{
	fputs("usage: sdforge --certs CERT... --required Q --out SD --items-out ITEMS\n"
	      "               [--alg RSA-OAEP-256|RSA-OAEP|RSA1_5] [--version 2|1] [--shuffle]\n"
	      "               [--wrap raw|value|b64] [--tags TAG[:SIZE],...] [--item-count N]\n"
	      "               [--item-size BYTES]\n"
	      "               [--seed TEXT] [--corrupt SPEC]...\n"
	      "Makes a security-domain file as the HSM does, and the expected items.\n"
	      "SPEC: share:I share-key:I share-tag:I share-notag:I share-alg:I=ALG\n"
	      "      share-enc:I=ENC inconsistent:I thumbprint:I drop:I item:TAG\n"
	      "      item-notag:TAG item-enc:TAG=ENC\n"
	      "      (I: 0-based index into --certs).  See the top of tests/tools/sdforge.c.\n",
	      stdout);
}

static void add_item(const char *tag, size_t size)
{
	if (opt.n_items == MAX_TAGS)
		st_die("at most %d tags", MAX_TAGS);
	if (!*tag)
		st_die("empty tag in --tags");
	if ((opt.n_items & (opt.n_items - 1)) == 0) {
		opt.items = realloc(opt.items, 2 * (opt.n_items + 1) * sizeof *opt.items);
		if (opt.items == NULL)
			st_die("out of memory");
	}
	memset(&opt.items[opt.n_items], 0, sizeof opt.items[opt.n_items]);
	opt.items[opt.n_items].tag = st_xstrdup(tag);
	opt.items[opt.n_items].size = size;
	opt.n_items++;
}

static long parse_long(const char *name, const char *v, long lo, long hi)
{
	char *end;
	long x = strtol(v, &end, 10);

	if (end == v || *end || x < lo || x > hi)
		st_die("%s wants a number in %ld..%ld, not '%s'", name, lo, hi, v);
	return x;
}

static void parse_tags(const char *list)
{
	char *copy = st_xstrdup(list), *save = NULL, *t;

	for (t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *colon = strrchr(t, ':');
		long size = -1;

		if (colon) {
			*colon = 0;
			size = parse_long("--tags TAG:SIZE", colon + 1, 0, 4 << 20);
		}
		add_item(t, (size_t)size);
	}
	free(copy);
}

static struct item *find_item(const char *tag)
{
	for (unsigned i = 0; i < opt.n_items; i++)
		if (!strcmp(opt.items[i].tag, tag))
			return &opt.items[i];
	st_die("--corrupt names tag '%s', which is not in --tags", tag);
}

static unsigned parse_index(const char *s, const char **rest)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || v >= opt.n)
		st_die("--corrupt: '%s' is not a certificate index below %u", s, opt.n);
	*rest = end;
	return (unsigned)v;
}

static void apply_corrupt(const char *spec)
{
	const char *colon = strchr(spec, ':'), *rest;
	size_t kl;
	unsigned i;

	if (!colon)
		st_die("--corrupt %s: expected KIND:WHERE", spec);
	kl = (size_t)(colon - spec);
	if (kl == 4 && !strncmp(spec, "item", 4)) {
		find_item(colon + 1)->flip_ct = 1;
		return;
	}
	if (kl == 10 && !strncmp(spec, "item-notag", 10)) {
		find_item(colon + 1)->no_tag = 1;
		return;
	}
	if (kl == 8 && !strncmp(spec, "item-enc", 8)) {
		char *tag = st_xstrdup(colon + 1), *eq = strchr(tag, '=');

		if (!eq)
			st_die("--corrupt %s: expected item-enc:TAG=ENC", spec);
		*eq = 0;
		find_item(tag)->enc = st_xstrdup(eq + 1);
		free(tag);
		return;
	}
	i = parse_index(colon + 1, &rest);
	if (kl == 9 && !strncmp(spec, "share-alg", 9) && *rest == '=')
		opt.shares[i].alg = st_xstrdup(rest + 1);
	else if (kl == 9 && !strncmp(spec, "share-enc", 9) && *rest == '=')
		opt.shares[i].enc = st_xstrdup(rest + 1);
	else if (*rest)
		st_die("--corrupt %s: unexpected '%s'", spec, rest);
	else if (kl == 5 && !strncmp(spec, "share", 5))
		opt.shares[i].flip_ct = 1;
	else if (kl == 9 && !strncmp(spec, "share-key", 9))
		opt.shares[i].flip_ek = 1;
	else if (kl == 9 && !strncmp(spec, "share-tag", 9))
		opt.shares[i].flip_tag = 1;
	else if (kl == 11 && !strncmp(spec, "share-notag", 11))
		opt.shares[i].no_tag = 1;
	else if (kl == 12 && !strncmp(spec, "inconsistent", 12))
		opt.shares[i].inconsistent = 1;
	else if (kl == 10 && !strncmp(spec, "thumbprint", 10))
		opt.shares[i].bad_thumb = 1;
	else if (kl == 4 && !strncmp(spec, "drop", 4))
		opt.shares[i].drop = 1;
	else
		st_die("--corrupt %s: unknown kind", spec);
}

static void parse_args(int argc, char **argv)
{
	const char *tags = NULL;
	unsigned item_count = 0;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage();
			exit(0);
		}
		if (!strcmp(a, "--shuffle")) {
			opt.shuffle = 1;
			continue;
		}
		if (!v)
			st_die("%s needs a value (see --help)", a);
		i++;
		if (!strcmp(a, "--certs")) {
			for (;;) {
				if (opt.n == MAX_CERTS)
					st_die("at most %d certificates", MAX_CERTS);
				opt.certs[opt.n++] = argv[i];
				if (i + 1 >= argc || !strncmp(argv[i + 1], "--", 2))
					break;
				i++;
			}
		} else if (!strcmp(a, "--required")) {
			opt.q = (unsigned)parse_long(a, v, 2, MAX_CERTS);
		} else if (!strcmp(a, "--out")) {
			opt.out = v;
		} else if (!strcmp(a, "--items-out")) {
			opt.items_out = v;
		} else if (!strcmp(a, "--alg")) {
			opt.alg = v;
		} else if (!strcmp(a, "--version")) {
			opt.version = (int)parse_long(a, v, 1, 2);
		} else if (!strcmp(a, "--wrap")) {
			opt.wrap = v;
		} else if (!strcmp(a, "--tags")) {
			tags = v;
		} else if (!strcmp(a, "--item-count")) {
			item_count = (unsigned)parse_long(a, v, 1, MAX_TAGS);
		} else if (!strcmp(a, "--item-size")) {
			opt.item_size = parse_long(a, v, 0, 4 << 20);
		} else if (!strcmp(a, "--seed")) {
			opt.seed = v;
		} else if (!strcmp(a, "--corrupt")) {
			if (opt.n_corrupt == MAX_CORRUPT)
				st_die("at most %d --corrupt", MAX_CORRUPT);
			opt.corrupt[opt.n_corrupt++] = v;
		} else {
			st_die("unknown option '%s' (see --help)", a);
		}
	}
	if (!opt.n || !opt.out || !opt.items_out || (opt.version == 2 && !opt.q))
		st_die("--certs, --required, --out and --items-out are needed (see --help)");
	if (opt.n < 2 || (opt.version == 2 && opt.q > opt.n))
		st_die("need 2 <= required <= number of certificates");
	if (strcmp(opt.alg, "RSA-OAEP-256") && strcmp(opt.alg, "RSA-OAEP") &&
	    strcmp(opt.alg, "RSA1_5"))
		st_die("--alg must be RSA-OAEP-256, RSA-OAEP or RSA1_5");
	if (strcmp(opt.wrap, "raw") && strcmp(opt.wrap, "value") && strcmp(opt.wrap, "b64"))
		st_die("--wrap must be raw, value or b64");
	if (tags) {
		parse_tags(tags);
	} else if (item_count) {
		char tag[32];

		for (unsigned k = 0; k < item_count; k++) {
			snprintf(tag, sizeof tag, "item_%06u", k);
			add_item(tag, SIZE_MAX);
		}
	} else {
		add_item("hsm_backup", 8179);
		add_item("base_enclave_backup", 2035);
		add_item("kmsp_enclave_backup", 2397);
	}
	for (unsigned k = 0; k < opt.n_items; k++) {
		if (opt.item_size >= 0)
			opt.items[k].size = (size_t)opt.item_size;
		else if (opt.items[k].size == SIZE_MAX)
			opt.items[k].size = 1024 + 37 * k;
	}
	for (unsigned k = 0; k < opt.n_corrupt; k++)
		apply_corrupt(opt.corrupt[k]);
}

static char *header_json(const char *alg, const char *enc, const char *kid)
{
	json_t *h = json_pack("{s:s, s:s, s:s}", "alg", alg, "enc", enc, "kid", kid);
	char *s = h ? json_dumps(h, JSON_COMPACT) : NULL;

	if (!s)
		st_die("cannot build a JWE header");
	json_decref(h);
	return s;
}

/* Changes one character in the middle of a part of a compact JWE. */
static void flip_part(char *jwe, int part)
{
	char *p = jwe, *end;
	size_t len;

	for (int k = 0; k < part; k++)
		p = strchr(p, '.') + 1;
	end = strchr(p, '.');
	len = end ? (size_t)(end - p) : strlen(p);
	if (len < 2)
		st_die("cannot corrupt an empty JWE part");
	p[len / 2] = p[len / 2] == 'A' ? 'B' : 'A';
}

/* A share-style JWE: random CEK wrapped to cert with alg. */
static char *wrap_secret(EVP_PKEY *pub, const struct share *s, const uint8_t *pt, size_t len)
{
	uint8_t cek[ST_CEK_LEN], iv[ST_IV_LEN], *ek;
	char *hdr, *jwe;
	size_t ek_len;

	rnd(cek, sizeof(cek));
	rnd(iv, sizeof(iv));
	ek = st_rsa_wrap(pub, opt.alg, cek, sizeof(cek), &ek_len);
	hdr = header_json(s && s->alg ? s->alg : opt.alg, s && s->enc ? s->enc : "A256CBC-HS512",
	                  "not used");
	jwe = st_jwe_encrypt(hdr, ek, ek_len, cek, iv, pt, len);
	if (s && s->flip_ct)
		flip_part(jwe, 3);
	if (s && s->flip_ek)
		flip_part(jwe, 1);
	if (s && s->flip_tag)
		flip_part(jwe, 4);
	if (s && s->no_tag)
		*(strrchr(jwe, '.') + 1) = 0;
	OPENSSL_cleanse(cek, sizeof(cek));
	free(hdr);
	free(ek);
	return jwe;
}

static json_t *key_entry(char *jwe, const char *x5t)
{
	json_t *e = json_pack("{s:s, s:s}", "enc_key", jwe, "x5t_256", x5t);

	if (!e)
		st_die("out of memory");
	free(jwe);
	return e;
}

static void shuffle(json_t *arr)
{
	size_t n = json_array_size(arr);

	for (size_t i = n; i > 1; i--) {
		size_t j = rnd_below((unsigned)i);
		json_t *a = json_incref(json_array_get(arr, i - 1));
		json_t *b = json_incref(json_array_get(arr, j));

		json_array_set_new(arr, i - 1, b);
		json_array_set_new(arr, j, a);
	}
}

static int split(uint8_t *shares[], const uint8_t master[ST_MASTER_LEN])
{
	uint8_t seed[SSS_SEEDBYTES];
	int rc;

	if (!opt.seed)
		return sss_split(shares, opt.n, opt.q, master, ST_MASTER_LEN);
	rnd(seed, sizeof(seed));
	rc = sss_split_deterministic(shares, opt.n, opt.q, master, ST_MASTER_LEN, seed);
	OPENSSL_cleanse(seed, sizeof(seed));
	return rc;
}

static json_t *shamir_keys(EVP_PKEY **pub, char **x5t, const uint8_t master[ST_MASTER_LEN],
                           json_t *share_log)
{
	uint8_t *shares[MAX_CERTS], *other[MAX_CERTS];
	json_t *arr = json_array();
	int rc;

	for (unsigned i = 0; i < opt.n; i++) {
		shares[i] = st_xmalloc(2 * ST_MASTER_LEN);
		other[i] = st_xmalloc(2 * ST_MASTER_LEN);
	}
	rc = split(shares, master);
	if (!rc)
		rc = split(other, master);
	if (rc)
		st_die("sss_split failed: %s", sss_strerror(rc));
	for (unsigned i = 0; i < opt.n; i++) {
		const struct share *s = &opt.shares[i];
		const uint8_t *sh = s->inconsistent ? other[i] : shares[i];
		char *thumb = x5t[i];
		char *bogus = NULL;

		if (s->bad_thumb) {
			uint8_t md[32];

			EVP_Digest("no such certificate", 19, md, NULL, EVP_sha256(), NULL);
			thumb = bogus = st_b64url(md, sizeof(md));
		}
		if (!s->drop)
			json_array_append_new(
			        arr,
			        key_entry(wrap_secret(pub[i], s, sh, 2 * ST_MASTER_LEN), thumb));
		json_array_append_new(share_log, json_pack("{s:s, s:i, s:s, s:b}", "cert",
		                                           opt.certs[i], "x", (int)(i + 1),
		                                           "x5t_256", x5t[i], "present", !s->drop));
		free(bogus);
	}
	for (unsigned i = 0; i < opt.n; i++) {
		st_free_secret(shares[i], 2 * ST_MASTER_LEN);
		st_free_secret(other[i], 2 * ST_MASTER_LEN);
	}
	if (opt.shuffle)
		shuffle(arr);
	return json_pack("{s:o, s:s, s:i}", "enc_shares", arr, "key_algorithm", "shamir_share",
	                 "required", (int)opt.q);
}

static json_t *xor_keys(EVP_PKEY **pub, char **x5t, const uint8_t master[ST_MASTER_LEN])
{
	json_t *arr = json_array();
	uint8_t r[ST_MASTER_LEN], rx[ST_MASTER_LEN];

	for (unsigned i = 0; i < opt.n; i++)
		if (opt.shares[i].inconsistent || opt.shares[i].bad_thumb || opt.shares[i].drop)
			st_die("--corrupt inconsistent/thumbprint/drop are for version 2 only");
	for (unsigned i = 0; i < opt.n; i++) {
		for (unsigned j = i + 1; j < opt.n; j++) {
			rnd(r, sizeof(r));
			for (size_t b = 0; b < sizeof(r); b++)
				rx[b] = r[b] ^ master[b];
			json_array_append_new(
			        arr, json_pack("{s:o, s:o}", "key1",
			                       key_entry(wrap_secret(pub[i], &opt.shares[i], r,
			                                             sizeof(r)),
			                                 x5t[i]),
			                       "key2",
			                       key_entry(wrap_secret(pub[j], &opt.shares[j], rx,
			                                             sizeof(rx)),
			                                 x5t[j])));
		}
	}
	OPENSSL_cleanse(r, sizeof(r));
	OPENSSL_cleanse(rx, sizeof(rx));
	if (opt.shuffle)
		shuffle(arr);
	return json_pack("{s:s, s:o}", "key_algorithm", "xor_split", "keys", arr);
}

static json_t *enc_data(const uint8_t master[ST_MASTER_LEN], json_t *expect)
{
	json_t *arr = json_array();

	for (unsigned k = 0; k < opt.n_items; k++) {
		struct item *it = &opt.items[k];
		uint8_t cek[ST_CEK_LEN], iv[ST_IV_LEN];
		char *hdr, *jwe, *b64;

		it->pt = st_xmalloc(it->size);
		rnd(it->pt, it->size);
		rnd(iv, sizeof(iv));
		st_kdf(master, ST_MASTER_LEN, it->tag, "", cek, sizeof(cek));
		hdr = header_json("dir", it->enc ? it->enc : "A256CBC-HS512", it->tag);
		jwe = st_jwe_encrypt(hdr, NULL, 0, cek, iv, it->pt, it->size);
		if (it->flip_ct)
			flip_part(jwe, 3);
		if (it->no_tag)
			*(strrchr(jwe, '.') + 1) = 0;
		json_array_append_new(arr,
		                      json_pack("{s:s, s:s}", "compact_jwe", jwe, "tag", it->tag));
		b64 = st_b64(it->pt, it->size);
		json_object_set_new(expect, it->tag, json_string(b64));
		OPENSSL_cleanse(cek, sizeof(cek));
		free(b64), free(jwe), free(hdr);
	}
	return json_pack("{s:o, s:s}", "data", arr, "kdf", "sp108_kdf");
}

static char *wrap_text(char *json_text)
{
	json_t *v;
	char *s;

	if (!strcmp(opt.wrap, "raw"))
		return json_text;
	if (!strcmp(opt.wrap, "b64")) {
		s = st_b64((const uint8_t *)json_text, strlen(json_text));
	} else {
		v = json_pack("{s:s}", "value", json_text);
		s = v ? json_dumps(v, 0) : NULL;
		json_decref(v);
	}
	if (!s)
		st_die("out of memory");
	free(json_text);
	return s;
}

int main(int argc, char **argv)
{
	EVP_PKEY *pub[MAX_CERTS] = {0};
	char *x5t[MAX_CERTS] = {0}, *text, hex[2 * ST_MASTER_LEN + 1];
	uint8_t master[ST_MASTER_LEN];
	json_t *sd, *expect_items = json_object(), *share_log = json_array(), *certs = json_array();
	json_t *keys, *expect;

	st_prog = "sdforge";
	if (sodium_init() < 0)
		st_die("libsodium failed to start");
	st_kdf_selftest();
	st_aead_selftest();
	parse_args(argc, argv);
	for (unsigned i = 0; i < opt.n; i++) {
		X509 *x = st_load_cert(opt.certs[i]);

		pub[i] = X509_get_pubkey(x);
		if (!pub[i] || EVP_PKEY_get_base_id(pub[i]) != EVP_PKEY_RSA)
			st_die("%s: not an RSA certificate", opt.certs[i]);
		x5t[i] = st_cert_x5t256(x);
		X509_free(x);
		json_array_append_new(certs, json_string(opt.certs[i]));
	}
	rnd(master, sizeof(master));
	if (opt.version == 2)
		keys = shamir_keys(pub, x5t, master, share_log);
	else
		keys = xor_keys(pub, x5t, master);
	sd = json_pack("{s:o, s:o, s:i}", "EncData", enc_data(master, expect_items),
	               opt.version == 2 ? "SharedKeys" : "SplitKeys", keys, "version", opt.version);
	text = sd ? json_dumps(sd, 0) : NULL;
	if (!text)
		st_die("cannot build the security-domain JSON");
	text = wrap_text(text);
	st_write_file(opt.out, text, strlen(text));

	st_hex(master, sizeof(master), hex);
	expect = json_pack("{s:i, s:i, s:s, s:s, s:s, s:o, s:o, s:o}", "version", opt.version,
	                   "required", opt.version == 2 ? (int)opt.q : 2, "alg", opt.alg, "wrap",
	                   opt.wrap, "master_key", hex, "certs", certs, "shares", share_log,
	                   "items", expect_items);
	if (!expect)
		st_die("out of memory");
	if (opt.n_corrupt) {
		json_t *c = json_array();

		for (unsigned k = 0; k < opt.n_corrupt; k++)
			json_array_append_new(c, json_string(opt.corrupt[k]));
		json_object_set_new(expect, "corrupt", c);
	}
	st_write_json(opt.items_out, expect);

	OPENSSL_cleanse(master, sizeof(master));
	OPENSSL_cleanse(hex, sizeof(hex));
	for (unsigned i = 0; i < opt.n; i++) {
		EVP_PKEY_free(pub[i]);
		free(x5t[i]);
		free(opt.shares[i].alg);
		free(opt.shares[i].enc);
	}
	for (unsigned k = 0; k < opt.n_items; k++) {
		st_free_secret(opt.items[k].pt, opt.items[k].size);
		free(opt.items[k].tag);
		free(opt.items[k].enc);
	}
	free(text);
	json_decref(sd);
	json_decref(expect);
	return 0;
}
