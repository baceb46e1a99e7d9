/*
 * blobopen: plays the new HSM receiving a restore blob (FORMAT.md section 7).
 * It unwraps WrappedKey with the exchange private key (RSA-OAEP-256, then
 * A256CBC-HS512) to the new master key M', derives every item's key
 * KDF(M', tag), authenticates and decrypts every EncData item, and checks
 * that each item's header kid is its tag.
 *
 * Usage:
 *   blobopen --blob BLOB --exchange-key-private KEY.pem [--password P]
 *            [--exchange-cert CERT] [--items-out ITEMS] [--expect ITEMS]
 *
 *   --exchange-cert  also check WrappedKey.x5t_256 against this certificate
 *   --items-out      write {"items": {tag: b64 plaintext}} in blob order
 *   --expect         compare with an items file of sdforge: the same tags in
 *                    the same order with the same plaintexts
 *
 * Exit status 0 when everything opened (and matched), 1 with one line on
 * stderr naming what did not.
 */

#include "tests/tools/sdtool.h"

static const char *blob_path;

__attribute__((noreturn)) static void bad(const char *what, const char *why)
{
	st_die("%s: %s: %s", blob_path, what, why);
}

static const char *get_str(json_t *obj, const char *key, const char *where)
{
	const char *s = json_string_value(json_object_get(obj, key));

	if (!s) {
		char msg[128];

		snprintf(msg, sizeof(msg), "missing string \"%s\"", key);
		bad(where, msg);
	}
	return s;
}

static void unwrap_master(json_t *blob, EVP_PKEY *key, const char *cert_path,
                          uint8_t master[ST_MASTER_LEN])
{
	json_t *wk = json_object_get(blob, "WrappedKey");
	const char *why = NULL;
	struct st_jwe *j;
	uint8_t *cek, *m;
	size_t cek_len = 0, m_len = 0;

	if (!json_is_object(wk))
		bad("WrappedKey", "missing or not an object");
	if (cert_path) {
		X509 *x = st_load_cert(cert_path);
		char *t = st_cert_x5t256(x);

		if (strcmp(t, get_str(wk, "x5t_256", "WrappedKey")))
			bad("WrappedKey.x5t_256", "does not name the exchange certificate");
		free(t);
		X509_free(x);
	}
	j = st_jwe_parse(get_str(wk, "enc_key", "WrappedKey"), &why);
	if (!j)
		bad("WrappedKey.enc_key", why);
	if (strcmp(st_jwe_field(j, "alg"), "RSA-OAEP-256"))
		bad("WrappedKey.enc_key", "header alg is not RSA-OAEP-256");
	cek = st_rsa_unwrap(key, "RSA-OAEP-256", j->ek, j->ek_len, &cek_len);
	if (!cek || cek_len != ST_CEK_LEN)
		bad("WrappedKey.enc_key", "the exchange key cannot unwrap a 64-byte CEK");
	m = st_jwe_decrypt(j, cek, &m_len, &why);
	st_free_secret(cek, cek_len);
	if (!m)
		bad("WrappedKey.enc_key", why);
	if (m_len != ST_MASTER_LEN)
		bad("WrappedKey.enc_key", "the wrapped master key is not 32 bytes");
	memcpy(master, m, ST_MASTER_LEN);
	st_free_secret(m, m_len);
	st_jwe_free(j);
}

static json_t *open_items(json_t *blob, const uint8_t master[ST_MASTER_LEN])
{
	json_t *ed = json_object_get(blob, "EncData"), *data, *out = json_object();
	size_t i;

	if (!json_is_object(ed))
		bad("EncData", "missing or not an object");
	if (strcmp(get_str(ed, "kdf", "EncData"), "sp108_kdf"))
		bad("EncData.kdf", "is not sp108_kdf");
	data = json_object_get(ed, "data");
	if (!json_is_array(data) || json_array_size(data) == 0)
		bad("EncData.data", "missing, empty or not an array");
	for (i = 0; i < json_array_size(data); i++) {
		json_t *d = json_array_get(data, i);
		const char *tag = get_str(d, "tag", "EncData.data[]");
		const char *why = NULL;
		uint8_t cek[ST_CEK_LEN], *pt;
		size_t pt_len = 0;
		struct st_jwe *j = st_jwe_parse(get_str(d, "compact_jwe", tag), &why);
		char *b64;

		if (!j)
			bad(tag, why);
		if (strcmp(st_jwe_field(j, "kid"), tag))
			bad(tag, "header kid is not the item's tag");
		if (strcmp(st_jwe_field(j, "alg"), "dir") || j->ek_len)
			bad(tag, "not a dir JWE");
		if (json_object_get(out, tag))
			bad(tag, "tag appears twice");
		st_kdf(master, ST_MASTER_LEN, tag, "", cek, sizeof(cek));
		pt = st_jwe_decrypt(j, cek, &pt_len, &why);
		OPENSSL_cleanse(cek, sizeof(cek));
		if (!pt)
			bad(tag, why);
		b64 = st_b64(pt, pt_len);
		json_object_set_new(out, tag, json_string(b64));
		st_free_secret(pt, pt_len);
		free(b64);
		st_jwe_free(j);
	}
	return out;
}

static void compare(json_t *got, const char *expect_path)
{
	json_error_t err;
	json_t *e = json_load_file(expect_path, 0, &err), *want;
	void *ig = json_object_iter(got), *iw;

	if (!e)
		st_die("%s: line %d: %s", expect_path, err.line, err.text);
	want = json_object_get(e, "items");
	if (!json_is_object(want))
		st_die("%s: no \"items\" object", expect_path);
	iw = json_object_iter(want);
	for (; ig && iw;
	     ig = json_object_iter_next(got, ig), iw = json_object_iter_next(want, iw)) {
		const char *gt = json_object_iter_key(ig), *wt = json_object_iter_key(iw);

		if (strcmp(gt, wt))
			st_die("%s: item '%s' where %s has '%s' (tags or order differ)", blob_path,
			       gt, expect_path, wt);
		if (!json_equal(json_object_iter_value(ig), json_object_iter_value(iw)))
			st_die("%s: item '%s': plaintext differs from %s", blob_path, gt,
			       expect_path);
	}
	if (ig)
		st_die("%s: item '%s' is not in %s", blob_path, json_object_iter_key(ig),
		       expect_path);
	if (iw)
		st_die("%s: item '%s' of %s is missing", blob_path, json_object_iter_key(iw),
		       expect_path);
	json_decref(e);
}

static void usage(void)
{
	fputs("usage: blobopen --blob BLOB --exchange-key-private KEY.pem [--password P]\n"
	      "                [--exchange-cert CERT] [--items-out ITEMS] [--expect ITEMS]\n"
	      "Opens a restore blob as the HSM would; exit 0 only if every item decrypts\n"
	      "(and, with --expect, matches sdforge's items file).\n",
	      stdout);
}

int main(int argc, char **argv)
{
	const char *key_path = NULL, *pass = NULL, *cert = NULL, *items_out = NULL;
	const char *expect = NULL;
	uint8_t master[ST_MASTER_LEN];
	json_error_t err;
	json_t *blob, *items, *out;
	EVP_PKEY *key;
	int i;

	st_prog = "blobopen";
	st_kdf_selftest();
	st_aead_selftest();
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], **dst = NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage();
			return 0;
		}
		if (!strcmp(a, "--blob"))
			dst = &blob_path;
		else if (!strcmp(a, "--exchange-key-private"))
			dst = &key_path;
		else if (!strcmp(a, "--password"))
			dst = &pass;
		else if (!strcmp(a, "--exchange-cert"))
			dst = &cert;
		else if (!strcmp(a, "--items-out"))
			dst = &items_out;
		else if (!strcmp(a, "--expect"))
			dst = &expect;
		if (!dst || i + 1 == argc)
			st_die("bad option '%s' (see --help)", a);
		*dst = argv[++i];
	}
	if (!blob_path || !key_path)
		st_die("--blob and --exchange-key-private are needed (see --help)");
	blob = json_load_file(blob_path, 0, &err);
	if (!json_is_object(blob))
		st_die("%s: not a JSON object (line %d: %s)", blob_path, err.line, err.text);
	key = st_load_private_key(key_path, pass);
	unwrap_master(blob, key, cert, master);
	items = open_items(blob, master);
	OPENSSL_cleanse(master, sizeof(master));
	if (items_out) {
		out = json_pack("{s:O}", "items", items);
		st_write_json(items_out, out);
		json_decref(out);
	}
	if (expect)
		compare(items, expect);
	printf("%s: %zu items opened\n", blob_path, json_object_size(items));
	EVP_PKEY_free(key);
	json_decref(items);
	json_decref(blob);
	return 0;
}
