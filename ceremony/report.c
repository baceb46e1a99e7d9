#include "ceremony/report.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/keys.h"
#include "ceremony/sd.h"
#include "ceremony/transcript.h"

struct cer_report {
	json_t *json;
	int status;
	char **lines;
	size_t nlines;
	bool oom;
	char *summary;
};

static void add_line(struct cer_report *r, const char *fmt, ...) CER_PRINTF(2, 3);
static void add_line(struct cer_report *r, const char *fmt, ...)
{
	va_list ap;
	char *line = NULL, **l;
	int n;

	if (r->oom)
		return;
	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	l = n < 0 ? NULL : realloc(r->lines, sizeof *l * (r->nlines + 1));
	if (l == NULL) {
		if (n >= 0)
			free(line);
		r->oom = true;
		return;
	}
	/* Tags, paths and messages come from input files: keep each line one line. */
	cer_text_sanitize(line);
	r->lines = l;
	r->lines[r->nlines++] = line;
}

static const char *str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "";
}

static long long num(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

static const char *form_name(const char *form)
{
	if (strcmp(form, "value") == 0)
		return "{\"value\": ...} wrapper";
	if (strcmp(form, "b64") == 0)
		return "base64 of the JSON";
	return "JSON";
}

static void render_inspect(struct cer_report *r)
{
	json_t *j = r->json, *arr, *e;
	size_t i;
	long long problems = num(j, "problems"), matched = num(j, "certificates_matched");
	bool no_match = json_object_get(j, "certs_dir") != NULL && matched == 0 &&
	                json_array_size(json_object_get(j, "enc_shares")) > 0;

	add_line(r, "Security domain: %s", str(j, "sd_file"));
	add_line(r, "  %lld bytes, %s, SHA-256 %s", num(j, "size"), form_name(str(j, "form")),
	         str(j, "sha256"));
	add_line(r, "Version: %lld, key algorithm %s", num(j, "version"), str(j, "key_algorithm"));
	if (num(j, "version") == 1)
		add_line(r, "Required: both halves of one pair (%lld shares)", num(j, "shares"));
	else
		add_line(r, "Required: %lld of %lld shares", num(j, "required"), num(j, "shares"));
	add_line(r, "KDF: %s", str(j, "kdf")[0] ? str(j, "kdf") : "(none)");
	json_array_foreach(json_object_get(j, "file_problems"), i, e)
	        add_line(r, "PROBLEM: %s", json_string_value(e));
	arr = json_object_get(j, "enc_shares");
	add_line(r, "Shares (%zu):", json_array_size(arr));
	json_array_foreach(arr, i, e)
	{
		char where[48] = "";
		const char *cert = str(e, "certificate");

		if (json_object_get(e, "half") != NULL)
			snprintf(where, sizeof where, " pair %lld key%lld", num(e, "pair"),
			         num(e, "half"));
		if (json_is_string(json_object_get(e, "problem")))
			add_line(r, "  #%lld%s x5t_256 %s  PROBLEM: %s", num(e, "index"), where,
			         str(e, "x5t_256")[0] ? str(e, "x5t_256") : "(none)",
			         str(e, "problem"));
		else
			add_line(r, "  #%lld%s x5t_256 %s  %s/%s%s%s", num(e, "index"), where,
			         str(e, "x5t_256"), str(e, "alg"), str(e, "enc"),
			         cert[0] ? "  certificate " : "", cert);
	}
	arr = json_object_get(j, "data");
	add_line(r, "Items (%zu):", json_array_size(arr));
	json_array_foreach(arr, i, e)
	{
		if (json_is_string(json_object_get(e, "problem")))
			add_line(r, "  #%lld %s  PROBLEM: %s", num(e, "index"),
			         str(e, "tag")[0] ? str(e, "tag") : "(no tag)", str(e, "problem"));
		else
			add_line(r, "  #%lld %s  %s, %lld bytes of ciphertext", num(e, "index"),
			         str(e, "tag"), str(e, "enc"), num(e, "size"));
	}
	if (json_object_get(j, "certs_dir") != NULL)
		add_line(r, "Certificates in %s: %lld of %zu shares matched", str(j, "certs_dir"),
		         matched, json_array_size(json_object_get(j, "enc_shares")));
	if (problems == 0 && no_match)
		add_line(r, "Result: well formed, but NO share matches a certificate in %s",
		         str(j, "certs_dir"));
	else if (problems == 0)
		add_line(r, "Result: OK, no problems found");
	else
		add_line(r, "Result: %lld problem%s found", problems, problems == 1 ? "" : "s");
	if (asprintf(&r->summary, "inspect %s: %s, %lld problem%s", str(j, "sd_file"),
	             problems != 0 ? "malformed"
	             : no_match    ? "no share matches a certificate"
	                           : "ok",
	             problems, problems == 1 ? "" : "s") < 0)
		r->summary = NULL;
	else
		cer_text_sanitize(r->summary);
}

static const char *key_status_text(const char *status)
{
	static const struct {
		const char *name, *text;
	} t[] = {
	        {"good", "[OK] share authenticated"},
	        {"needs_password", "[FAIL] needs a password"},
	        {"wrong_password", "[FAIL] wrong passphrase"},
	        {"not_a_key", "[FAIL] not a usable private key"},
	        {"no_certificate", "[FAIL] certificate not found"},
	        {"no_share", "[FAIL] no share for this certificate"},
	        {"duplicate", "[FAIL] same share as an earlier key"},
	        {"auth_failed", "[FAIL] share failed authentication"},
	        {"malformed", "[FAIL] share entry malformed"},
	        {"exchange_key", "[FAIL] this key is the exchange key's"},
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strcmp(status, t[i].name) == 0)
			return t[i].text;
	return status;
}

static void render_verify(struct cer_report *r)
{
	json_t *j = r->json, *arr, *e;
	const char *result = str(j, "result");
	size_t i, nretried = 0;
	char retries[64] = "";

	add_line(r, "Security domain: %s", str(j, "sd_file"));
	add_line(r, "  SHA-256 %s, version %lld, %s, %lld shares required", str(j, "sha256"),
	         num(j, "version"), str(j, "key_algorithm"), num(j, "required"));
	arr = json_object_get(j, "keys");
	json_array_foreach(arr, i, e)
	{
		bool good = strcmp(str(e, "status"), "good") == 0;
		bool retried = json_is_true(json_object_get(e, "superseded"));
		const char *text = key_status_text(str(e, "status"));

		if (json_is_true(json_object_get(e, "disagrees")))
			text = "[FAIL] authentic share that disagrees with the others";
		else if (retried && strncmp(text, "[FAIL] ", 7) == 0)
			text += 7;
		add_line(r, "Key %zu: %s  %s%s", i + 1, str(e, "key"), retried ? "[RETRIED] " : "",
		         text);
		if (str(e, "certificate")[0])
			add_line(r, "  certificate %s, x5t_256 %s", str(e, "certificate"),
			         str(e, "x5t_256"));
		if (!good && str(e, "message")[0])
			add_line(r, "  %s", str(e, "message"));
		if (retried) {
			json_t *by = json_array_get(arr, (size_t)num(e, "superseded_by") - 1);

			add_line(r,
			         "  not counted against the drill: key %lld gave the share of %s",
			         num(e, "superseded_by"),
			         strcmp(str(by, "key"), str(e, "key")) == 0 ? "the same key file"
			         : str(e, "x5t_256")[0] != '\0'             ? "the same certificate"
			                                                    : "a key file in it");
			nretried++;
		}
	}
	add_line(r, "Good shares: %lld of %lld required%s", num(j, "good"), num(j, "required"),
	         num(j, "needed") > 0 ? "" : " (quorum reached)");
	if (num(j, "needed") > 0)
		add_line(r, "  %lld more good share%s needed", num(j, "needed"),
		         num(j, "needed") == 1 ? "" : "s");
	if (num(j, "subsets_checked") > 0)
		add_line(r, "Share subsets checked: %lld", num(j, "subsets_checked"));
	json_array_foreach(json_object_get(j, "data"), i, e)
	{
		const char *st = str(e, "status");

		if (strcmp(st, "authenticated") == 0)
			add_line(r, "Item %s: [OK] authenticated and decrypted (%lld bytes)",
			         str(e, "tag"), num(e, "size"));
		else if (strcmp(st, "failed") == 0)
			add_line(r, "Item %s: [FAIL] authentication failed", str(e, "tag"));
		else
			add_line(r, "Item %s: not checked", str(e, "tag"));
	}
	if (strcmp(result, "verified") == 0)
		add_line(r, "Result: VERIFIED - these keys recover the security domain");
	else if (strcmp(result, "quorum_not_reached") == 0)
		add_line(r, "Result: every share given is good, but the quorum is not reached");
	else
		add_line(r, "Result: FAILED - %s", str(j, "message"));
	if (nretried > 0)
		snprintf(retries, sizeof retries, ", %zu attempt%s retried", nretried,
		         nretried == 1 ? "" : "s");
	if (asprintf(&r->summary, "verify %s (SHA-256 %s): %s, %lld of %lld good shares%s",
	             str(j, "sd_file"), str(j, "sha256"), result, num(j, "good"),
	             num(j, "required"), retries) < 0)
		r->summary = NULL;
	else
		cer_text_sanitize(r->summary);
}

/* Lines of at most 76 columns but for file names: the wizard shows them at 80. */
static void render_exchange(struct cer_report *r)
{
	json_t *j = r->json, *a = json_object_get(j, "attestation");
	const char *name = str(j, "exchange_key"), *hsm = str(j, "hsm_name");
	bool attested = strcmp(str(a, "status"), "verified") == 0;
	bool pinned = json_is_true(json_object_get(a, "mrsigner_pinned"));
	char *att = NULL;

	add_line(r, "Exchange key: %s", name);
	if (json_is_true(json_object_get(j, "from_file"))) {
		add_line(r, "  SHA-256 of the file, as sha256sum prints it:");
		add_line(r, "%s  %s", str(j, "sha256"), name);
	} else {
		add_line(r, "  SHA-256 of the %lld bytes (sha256sum of the file gives the same):",
		         num(j, "size"));
		add_line(r, "%s", str(j, "sha256"));
	}
	add_line(r, "  Subject CN: %s", str(j, "subject_cn")[0] ? str(j, "subject_cn") : "(none)");
	add_line(r, "  Thumbprint (x5t#S256): %s", str(j, "x5t_256"));
	add_line(r, "  RSA %lld bits, valid until %.10s (expiry is not enforced)",
	         num(j, "rsa_bits"), str(j, "not_after"));
	if (hsm[0])
		add_line(r, "  HSM name: %s matches the subject CN", hsm);
	else
		add_line(r, "  HSM name: not checked (none given)");
	if (attested) {
		add_line(r,
		         "  Attestation: VERIFIED, an Intel SGX enclave (not debug) holds the key");
		add_line(r, "  MRSIGNER  %s", str(a, "mrsigner"));
		add_line(r, "  MRENCLAVE %s", str(a, "mrenclave"));
		add_line(r,
		         "  ISVPRODID %lld, ISVSVN %lld; QE SVN %lld, PCE SVN %lld; PCK until "
		         "%.10s%s",
		         num(a, "isvprodid"), num(a, "isvsvn"), num(a, "qe_svn"), num(a, "pce_svn"),
		         str(a, "pck_not_after"),
		         json_is_true(json_object_get(a, "pck_valid_now")) ? "" : " (past)");
		add_line(r, "  %s",
		         pinned ? "MRSIGNER is the expected one."
		                : "MRSIGNER not pinned: compare it with the last recovery's.");
		add_line(r, "  Freshness and Intel's revocation lists cannot be checked offline.");
		if (asprintf(&att,
		             "attested by an SGX enclave (MRSIGNER %s, MRENCLAVE %s, "
		             "ISVPRODID %lld, ISVSVN %lld); freshness and Intel's revocation lists "
		             "cannot be checked offline",
		             str(a, "mrsigner"), str(a, "mrenclave"), num(a, "isvprodid"),
		             num(a, "isvsvn")) < 0)
			att = NULL;
	} else {
		add_line(r,
		         "  Attestation: NOT ATTESTED (no SGX quote, as from HSMs before 2025):");
		add_line(r, "  only the SHA-256 compared out of band vouches for this key.");
		att = strdup("not attested");
	}
	if (att == NULL ||
	    asprintf(&r->summary, "exchange key %s: sha256 %s, CN %s, x5t#S256 %s, %s", name,
	             str(j, "sha256"), str(j, "subject_cn"), str(j, "x5t_256"), att) < 0)
		r->summary = NULL;
	else
		cer_text_sanitize(r->summary);
	free(att);
}

static void render_rekey(struct cer_report *r)
{
	json_t *j = r->json, *e;
	size_t i;

	add_line(r, "Rekeyed: %s -> %s", str(j, "sd_file"), str(j, "new_sd_file"));
	add_line(r, "  old file: SHA-256 %s, version %lld, %lld required", str(j, "sha256"),
	         num(j, "version"), num(j, "required"));
	json_array_foreach(json_object_get(j, "keys"), i, e)
	        add_line(r, "    opened with %s (x5t_256 %s)", str(e, "key"), str(e, "x5t_256"));
	add_line(r, "  new file: SHA-256 %s, version 2, %lld of %zu required", str(j, "new_sha256"),
	         num(j, "new_required"), json_array_size(json_object_get(j, "new_shares")));
	json_array_foreach(json_object_get(j, "new_shares"), i, e) add_line(
	        r, "    share x=%lld to %s (CN %s, RSA %lld, x5t_256 %s)%s", num(e, "x"),
	        str(e, "certificate"), str(e, "subject_cn"), num(e, "rsa_bits"), str(e, "x5t_256"),
	        json_is_true(json_object_get(e, "in_old_file")) ? ", also in the old file" : "");
	add_line(r,
	         "  items: %zu re-encrypted under a fresh master key (same tags, order and "
	         "plaintexts)",
	         json_array_size(json_object_get(j, "data")));
	json_array_foreach(json_object_get(j, "data"), i, e)
	        add_line(r, "    %s, %lld bytes", str(e, "tag"), num(e, "size"));
	add_line(r,
	         "  checked before writing: %lld subsets of %lld new shares rebuild the new "
	         "master key; every item authenticates under it",
	         num(j, "new_subsets_checked"), num(j, "new_required"));
	add_line(r, "NEXT: each new custodian runs a drill on %s (sdceremony verify).",
	         str(j, "new_sd_file"));
	add_line(r,
	         "THEN: destroy every copy of %s: the old keys still open it, a departed "
	         "custodian's included.",
	         str(j, "sd_file"));
	if (asprintf(&r->summary, "rekey %s (sha256 %s) -> %s (sha256 %s): %lld of %zu",
	             str(j, "sd_file"), str(j, "sha256"), str(j, "new_sd_file"),
	             str(j, "new_sha256"), num(j, "new_required"),
	             json_array_size(json_object_get(j, "new_shares"))) < 0)
		r->summary = NULL;
	else
		cer_text_sanitize(r->summary);
}

/* keygen and package: what was made and where, and the next step. */
static void render_keygen(struct cer_report *r)
{
	json_t *j = r->json, *c;
	bool made = strcmp(str(j, "report"), "keygen") == 0;
	unsigned in_dir = 0;
	size_t i;

	if (made)
		add_line(r, "Made %lld custodian keys (quorum %lld) in %s:", num(j, "count"),
		         num(j, "quorum"), str(j, "out_dir"));
	json_array_foreach(json_object_get(j, "custodians"), i, c)
	{
		bool token = str(c, "token_uri")[0] != '\0';

		add_line(r, "  %zu  %-20s %s", i + 1, str(c, "name"), str(c, "certificate"));
		if (token)
			add_line(r, "     key on the token %s", str(c, "token_uri"));
		else if (made)
			add_line(r, "     key %s%s", str(c, "key"),
			         json_is_true(json_object_get(c, "key_encrypted"))
			                 ? ""
			                 : "  (NOT ENCRYPTED)");
		if (made && !token && !json_is_true(json_object_get(c, "key_outside")))
			in_dir++;
		add_line(r, "     SHA-256 thumbprint %s", str(c, "x5t#S256"));
		if (made) {
			add_line(r, "                        %s", str(c, "sha256_hex"));
			add_line(r, "     valid %s to %s", str(c, "not_before"),
			         str(c, "not_after"));
		}
	}
	add_line(r, "Download request (for az rest): %s", str(j, "download_request"));
	add_line(r, "Manifest: %s", str(j, "manifest"));
	if (str(j, "old_dir")[0] != '\0')
		add_line(r, "The previous contents of %s are in %s", str(j, "out_dir"),
		         str(j, "old_dir"));
	if (in_dir > 0) {
		add_line(r, "%s", "");
		add_line(
		        r,
		        "%u private key%s %s in %s: before that directory goes to the online side, "
		        "move each cert_<i>.key to its custodian's own medium. Only the "
		        "certificates, download-request.json and ceremony.json may leave this "
		        "machine (a key path per custodian writes keys elsewhere from the start).",
		        in_dir, in_dir == 1 ? "" : "s", in_dir == 1 ? "is" : "are",
		        str(j, "out_dir"));
	}
	add_line(r, "%s", "");
	add_line(r, "Next step, on the admin host%s:",
	         made ? " with the certificates (never the keys)" : "");
	add_line(r, "%s", str(j, "az_command"));
	if (asprintf(&r->summary, "%s: %lld %s (quorum %lld) in %s", made ? "keygen" : "package",
	             num(j, "count"), made ? "keys" : "certificates", num(j, "quorum"),
	             str(j, "out_dir")) < 0)
		r->summary = NULL;
}

static const char *tri(json_t *v, const char *yes, const char *no, const char *unknown)
{
	return json_is_true(v) ? yes : json_is_false(v) ? no : unknown;
}

static void render_token_list(struct cer_report *r)
{
	json_t *j = r->json, *t, *k, *c;
	size_t i, n, nkeys = 0;

	if (json_array_size(json_object_get(j, "tokens")) == 0)
		add_line(r, "No token present.");
	json_array_foreach(json_object_get(j, "tokens"), i, t)
	{
		add_line(r, "Token '%s' (serial %s): %s %s, module %s, slot %lld", str(t, "label"),
		         str(t, "serial"), str(t, "manufacturer"), str(t, "model"),
		         str(t, "module"), num(t, "slot"));
		if (json_is_true(json_object_get(t, "pin_locked")))
			add_line(r, "  warning: the user PIN is locked");
		else if (json_is_true(json_object_get(t, "pin_final_try")))
			add_line(r, "  warning: final PIN try: one more wrong PIN locks the token");
		else if (json_is_true(json_object_get(t, "pin_count_low")))
			add_line(r, "  warning: a wrong PIN was entered since the last good one");
		if (json_array_size(json_object_get(t, "keys")) == 0)
			add_line(r, "  no RSA key seen%s",
			         json_is_true(json_object_get(t, "logged_in")) ||
			                         !json_is_true(json_object_get(t, "login_required"))
			                 ? ""
			                 : " (not logged in: private keys stay hidden until a "
			                   "login)");
		json_array_foreach(json_object_get(t, "keys"), n, k)
		{
			nkeys++;
			c = json_object_get(k, "certificate");
			add_line(r, "  Key '%s' (id %s): RSA %lld, %s", str(k, "label"),
			         str(k, "id")[0] ? str(k, "id") : "none", num(k, "bits"),
			         !json_is_true(json_object_get(k, "private_key"))
			                 ? "private key not seen (not logged in?)"
			         : json_is_true(json_object_get(k, "sensitive")) &&
			                         json_is_false(json_object_get(k, "extractable"))
			                 ? "private key sensitive, not extractable"
			                 : "private key EXPORTABLE or not sensitive");
			if (json_is_true(json_object_get(k, "private_key")))
				add_line(r, "    sensitive %s, extractable %s, decrypt %s",
				         tri(json_object_get(k, "sensitive"), "yes", "no", "?"),
				         tri(json_object_get(k, "extractable"), "yes", "no", "?"),
				         tri(json_object_get(k, "decrypt"), "yes", "no", "?"));
			add_line(r, "    URI %s", str(k, "uri"));
			if (json_is_object(c))
				add_line(r, "    certificate CN %s, x5t_256 %s, valid until %.10s",
				         str(c, "subject_cn"), str(c, "x5t_256"),
				         str(c, "not_after"));
			else
				add_line(r, "    no certificate on the token with this id");
			if (str(k, "opens")[0])
				add_line(r, "    opens: %s", str(k, "opens"));
		}
	}
	if (asprintf(&r->summary, "token list: %zu token%s, %zu key%s",
	             json_array_size(json_object_get(j, "tokens")),
	             json_array_size(json_object_get(j, "tokens")) == 1 ? "" : "s", nkeys,
	             nkeys == 1 ? "" : "s") < 0)
		r->summary = NULL;
}

static void render_restore_blob(struct cer_report *r)
{
	json_t *j = r->json;

	add_line(r, "Restore blob written to %s", str(j, "path"));
	add_line(r, "SHA-256 %s", str(j, "sha256"));
	add_line(r, "Upload it with:");
	add_line(r, "  %s", str(j, "az_command"));
	if (asprintf(&r->summary, "restore blob: %s, sha256 %s", str(j, "path"), str(j, "sha256")) <
	    0)
		r->summary = NULL;
}

static void render_qr_split(struct cer_report *r)
{
	json_t *j = r->json;

	add_line(r,
	         "%s: %lld parts of %s (%lld bytes, SHA-256 %s), QR version %lld or below at level "
	         "%s",
	         str(j, "dir"), num(j, "parts"), str(j, "file"), num(j, "size"), str(j, "sha256"),
	         num(j, "qr_version"), str(j, "ec"));
	/* Reads as sha256sum's line, to compare with the SHA-256 the other side's join prints. */
	add_line(r, "sha256sum: %s  %s", str(j, "sha256"), str(j, "file"));
	if (asprintf(&r->summary, "qr split: %s (%lld bytes, sha256 %s) into %s: [OK] %lld parts",
	             str(j, "file"), num(j, "size"), str(j, "sha256"), str(j, "dir"),
	             num(j, "parts")) < 0)
		r->summary = NULL;
}

static void render_qr_join(struct cer_report *r)
{
	json_t *j = r->json;
	const char *path = str(j, "path");
	int n;

	if (path[0] != '\0') {
		add_line(r, "%s: joined from %lld parts, SHA-256 %s", path, num(j, "parts"),
		         str(j, "sha256"));
		add_line(r, "sha256sum: %s  %s", str(j, "sha256"), path);
		n = asprintf(&r->summary, "qr join: %lld parts into %s: [OK] %lld bytes, sha256 %s",
		             num(j, "parts"), path, num(j, "size"), str(j, "sha256"));
	} else {
		add_line(r, "%s joined from %lld QR parts, %lld bytes, SHA-256 %s", str(j, "what"),
		         num(j, "parts"), num(j, "size"), str(j, "sha256"));
		n = asprintf(&r->summary,
		             "qr join: %s joined from %lld QR parts, %lld bytes, sha256 %s",
		             str(j, "what"), num(j, "parts"), num(j, "size"), str(j, "sha256"));
	}
	if (n < 0)
		r->summary = NULL;
}

static void render_passwd(struct cer_report *r)
{
	json_t *j = r->json;
	bool plain = !json_is_true(json_object_get(j, "was_encrypted"));

	add_line(r,
	         "%s: %s key written under the new passphrase (PEM PKCS#8, scrypt, AES-256-CBC, "
	         "mode 0600)",
	         str(j, "written"), plain ? "the formerly unencrypted" : "the");
	if (plain)
		add_line(r,
		         "The key was stored in the clear: treat every medium that held %s as "
		         "exposed; keep the encrypted key on fresh media and destroy the old one.",
		         str(j, "key"));
	if (asprintf(&r->summary, "passwd %s: [OK] written to %s under a new passphrase%s",
	             str(j, "key"), str(j, "written"), plain ? " (it was not encrypted)" : "") < 0)
		r->summary = NULL;
}

int cer_report_build(struct json_t *obj, int status, struct cer_report **out)
{
	struct cer_report *r;
	const char *kind = str(obj, "report");

	*out = NULL;
	r = calloc(1, sizeof *r);
	if (r == NULL) {
		json_decref(obj);
		return cer_fail(CER_EINTERNAL, "out of memory");
	}
	r->json = obj;
	r->status = status;
	if (strcmp(kind, "inspect") == 0)
		render_inspect(r);
	else if (strcmp(kind, "exchange_key") == 0)
		render_exchange(r);
	else if (strcmp(kind, "rekey") == 0)
		render_rekey(r);
	else if (strcmp(kind, "token_list") == 0)
		render_token_list(r);
	else if (strcmp(kind, "keygen") == 0 || strcmp(kind, "package") == 0)
		render_keygen(r);
	else if (strcmp(kind, "restore_blob") == 0)
		render_restore_blob(r);
	else if (strcmp(kind, "qr_split") == 0)
		render_qr_split(r);
	else if (strcmp(kind, "qr_join") == 0)
		render_qr_join(r);
	else if (strcmp(kind, "passwd") == 0)
		render_passwd(r);
	else
		render_verify(r);
	if (r->oom || r->summary == NULL) {
		cer_report_free(r);
		return cer_fail(CER_EINTERNAL, "out of memory");
	}
	*out = r;
	return CER_OK;
}

int cer_report_status(const struct cer_report *r)
{
	return r->status;
}

size_t cer_report_line_count(const struct cer_report *r)
{
	return r->nlines;
}

const char *cer_report_line(const struct cer_report *r, size_t i)
{
	return i < r->nlines ? r->lines[i] : "";
}

char *cer_report_json(const struct cer_report *r)
{
	return json_dumps(r->json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}

const char *cer_report_summary(const struct cer_report *r)
{
	return r->summary;
}

void cer_report_free(struct cer_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nlines; i++)
		free(r->lines[i]);
	free(r->lines);
	free(r->summary);
	json_decref(r->json);
	free(r);
}

static json_t *jstr_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static int inspect_json(const struct cer_sd *sd, const char *certs_dir, json_t *j,
                        long long *problems)
{
	static const char *const forms[] = {"json", "value", "b64"};
	json_t *shares = json_array(), *data = json_array(), *fp = json_array();
	size_t i, matched = 0;
	char *cert;
	int ret = CER_OK;

	*problems = 0;
	if (shares == NULL || data == NULL || fp == NULL) {
		json_decref(shares);
		json_decref(data);
		json_decref(fp);
		return cer_fail(CER_EINTERNAL, "out of memory");
	}
	json_object_set_new(j, "sd_file", json_string(cer_sd_name(sd)));
	json_object_set_new(j, "sha256", json_string(cer_sd_sha256_hex(sd)));
	json_object_set_new(j, "size", json_integer((json_int_t)cer_sd_size(sd)));
	json_object_set_new(j, "form", json_string(forms[cer_sd_form(sd)]));
	json_object_set_new(j, "version", json_integer(cer_sd_version(sd)));
	json_object_set_new(j, "key_algorithm", json_string(cer_sd_key_algorithm(sd)));
	json_object_set_new(j, "required", json_integer(cer_sd_required(sd)));
	json_object_set_new(j, "shares", json_integer((json_int_t)cer_sd_share_count(sd)));
	json_object_set_new(j, "kdf", json_string(cer_sd_kdf(sd)));
	if (strcmp(cer_sd_key_algorithm(sd),
	           cer_sd_version(sd) == 2 ? "shamir_share" : "xor_split") != 0)
		json_array_append_new(fp, json_string("unsupported key_algorithm"));
	if (strcmp(cer_sd_kdf(sd), "sp108_kdf") != 0)
		json_array_append_new(fp, json_string("unsupported or missing EncData.kdf "
		                                      "(expected sp108_kdf)"));
	*problems += (long long)json_array_size(fp);
	for (i = 0; i < cer_sd_share_count(sd); i++) {
		const struct cer_sd_share *sh = cer_sd_share(sd, i);
		json_t *e = json_object();

		if (e == NULL)
			break;
		cert = NULL;
		if (certs_dir != NULL && sh->thumb_ok) {
			ret = cer_certs_dir_find(certs_dir, sh->thumb, &cert);
			if (ret != CER_OK) {
				json_decref(e);
				goto out;
			}
		}
		json_object_set_new(e, "index", json_integer((json_int_t)i + 1));
		json_object_set_new(e, "x5t_256", jstr_or_null(sh->x5t_256));
		json_object_set_new(e, "alg", jstr_or_null(sh->jwe ? sh->jwe->alg : NULL));
		json_object_set_new(e, "enc", jstr_or_null(sh->jwe ? sh->jwe->enc : NULL));
		json_object_set_new(e, "certificate", jstr_or_null(cert));
		if (cer_sd_version(sd) == 1) {
			json_object_set_new(e, "pair", json_integer(sh->pair + 1));
			json_object_set_new(e, "half", json_integer(sh->half));
		}
		json_object_set_new(e, "problem", jstr_or_null(sh->problem));
		*problems += sh->problem != NULL;
		json_array_append_new(shares, e);
		matched += cert != NULL;
		free(cert);
	}
	for (i = 0; i < cer_sd_item_count(sd); i++) {
		const struct cer_sd_item *it = cer_sd_item(sd, i);
		json_t *e = json_object();

		if (e == NULL)
			break;
		json_object_set_new(e, "index", json_integer((json_int_t)i + 1));
		json_object_set_new(e, "tag", jstr_or_null(it->tag));
		json_object_set_new(e, "size",
		                    json_integer(it->jwe ? (json_int_t)it->jwe->ct_len : 0));
		json_object_set_new(e, "enc", jstr_or_null(it->jwe ? it->jwe->enc : NULL));
		json_object_set_new(e, "problem", jstr_or_null(it->problem));
		*problems += it->problem != NULL;
		json_array_append_new(data, e);
	}
out:
	json_object_set_new(j, "file_problems", fp);
	json_object_set_new(j, "enc_shares", shares);
	json_object_set_new(j, "data", data);
	if (certs_dir != NULL) {
		json_object_set_new(j, "certs_dir", json_string(certs_dir));
		json_object_set_new(j, "certificates_matched", json_integer((json_int_t)matched));
	}
	json_object_set_new(j, "problems", json_integer(*problems));
	json_object_set_new(j, "ok", json_boolean(*problems == 0));
	return ret;
}

static int inspect_report(const char *sd_path, const char *certs_dir, struct cer_report **report)
{
	struct cer_sd *sd = NULL;
	json_t *j = NULL;
	long long problems = 0, matched;
	bool none_matched;
	int ret, status;

	*report = NULL;
	ret = cer_sd_load(sd_path, &sd);
	if (ret != CER_OK)
		return ret;
	j = json_object();
	if (j == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	json_object_set_new(j, "report", json_string("inspect"));
	ret = inspect_json(sd, certs_dir, j, &problems);
	if (ret != CER_OK)
		goto out;
	matched = json_integer_value(json_object_get(j, "certificates_matched"));
	none_matched = certs_dir != NULL && matched == 0 && cer_sd_share_count(sd) > 0;
	status = problems != 0 ? CER_EINPUT : none_matched ? CER_EAUTH : CER_OK;
	ret = cer_report_build(j, status, report);
	j = NULL;
	if (ret != CER_OK)
		goto out;
	ret = status;
	if (status == CER_EINPUT)
		cer_fail(status, "%s: %lld malformed part%s (see the report)", sd_path, problems,
		         problems == 1 ? "" : "s");
	else if (status == CER_EAUTH)
		cer_fail(status,
		         "%s: no certificate there matches a share of %s (another "
		         "domain's certificates, or the wrong directory?)",
		         certs_dir, sd_path);
out:
	json_decref(j);
	cer_sd_free(sd);
	return ret;
}

int cer_inspect(const char *sd_path, const char *certs_dir, struct cer_transcript *t,
                struct cer_report **report)
{
	char what[4200];
	int ret = inspect_report(sd_path, certs_dir, report);

	if (t == NULL)
		return ret;
	if (*report == NULL) {
		snprintf(what, sizeof what, "inspect %s", sd_path);
		return cer_transcript_failure(t, what, ret) != CER_OK ? CER_EIO : ret;
	}
	if (cer_transcript_add_report(t, *report) != CER_OK)
		return CER_EIO;
	return ret;
}
