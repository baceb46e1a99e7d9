#include "ceremony/keygen_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceremony/token.h"

void cer_keygen_result_free(struct cer_keygen_result *r)
{
	if (r == NULL)
		return;
	free(r->az_command);
	free(r->json);
	free(r);
}

static int write_set(const struct cer_keygen_params *p, struct cer_kg_job *j,
                     struct cer_keygen_result *r, const struct cer_progress *progress)
{
	char clean[CER_KG_PATH_MAX], parent[CER_KG_PATH_MAX], base[NAME_MAX + 1];
	char tmpdir[CER_KG_PATH_MAX], path[CER_KG_PATH_MAX];
	char cert_files[CER_KEYGEN_MAX_KEYS][32],
	        key_files_buf[CER_KEYGEN_MAX_KEYS][CER_KG_PATH_MAX];
	const char *cert_names[CER_KEYGEN_MAX_KEYS] = {NULL};
	const char *key_names[CER_KEYGEN_MAX_KEYS] = {NULL};
	struct cer_kg_cert_info info[CER_KEYGEN_MAX_KEYS];
	struct cer_kg_outside outside[2 * CER_KEYGEN_MAX_KEYS];
	json_t *token_json[CER_KEYGEN_MAX_KEYS] = {NULL};
	size_t n_out = 0;
	char *request = NULL, *manifest = NULL;
	bool tmp_made = false;
	unsigned i;
	int ret;

	memset(info, 0, sizeof info);
	memset(outside, 0, sizeof outside);
	ret = cer_kg_split_dir(p->out_dir, clean, parent, base);
	if (ret != CER_OK)
		goto out;
	if (snprintf(tmpdir, sizeof tmpdir, "%s/.%s.tmp-XXXXXX", parent, base) >=
	    (int)sizeof tmpdir) {
		ret = cer_fail(CER_EUSAGE, "%s: path too long", p->out_dir);
		goto out;
	}
	if (mkdtemp(tmpdir) == NULL) {
		ret = cer_fail(CER_EIO, "%s: cannot create a directory in %s: %s", p->out_dir,
		               parent, strerror(errno));
		goto out;
	}
	tmp_made = true;
	snprintf(r->out_dir, sizeof r->out_dir, "%s", clean);
	for (i = 0; i < p->count; i++) {
		struct cer_kg_slot *s = &j->slots[i];
		struct cer_keygen_key *k = &r->keys[i];
		const char *kp = p->custodians[i].key_path;
		const char *pem;
		long pem_len;

		ret = cer_kg_cert_describe(s->cert, s->name, &info[i]);
		if (ret != CER_OK)
			goto out;
		snprintf(cert_files[i], sizeof cert_files[i], "cert_%u.cer", i);
		cert_names[i] = cert_files[i];
		if ((ret = cer_kg_path_join(path, tmpdir, cert_files[i])) != CER_OK ||
		    (ret = cer_kg_write_new(path, s->cert_pem, s->cert_pem_len, 0644)) != CER_OK ||
		    (ret = cer_kg_path_join(k->cert_path, clean, cert_files[i])) != CER_OK)
			goto out;
		if (s->tok != NULL) {
			token_json[i] =
			        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "label",
			                  cer_token_key_info(s->tok)->label, "serial",
			                  cer_token_key_info(s->tok)->serial, "object",
			                  s->gen.label, "id", s->gen.id_hex, "uri", s->gen.uri,
			                  "module", cer_token_key_info(s->tok)->module);
			if (token_json[i] == NULL) {
				ret = cer_fail(CER_EINTERNAL, "out of memory");
				goto out;
			}
			snprintf(k->name, sizeof k->name, "%s", s->name);
			snprintf(k->token_uri, sizeof k->token_uri, "%s", s->gen.uri);
			cer_kg_key_describe(k, &info[i]);
			k->encrypted = false;
			continue;
		}
		pem_len = BIO_get_mem_data(s->key_pem, &pem);
		if (pem_len <= 0) {
			ret = cer_fail(CER_EINTERNAL, "custodian %u: empty key", i + 1);
			goto out;
		}
		if (cer_kg_is_default_key_path(kp)) {
			snprintf(key_files_buf[i], sizeof key_files_buf[i], "cert_%u.key", i);
			if ((ret = cer_kg_path_join(path, tmpdir, key_files_buf[i])) != CER_OK ||
			    (ret = cer_kg_write_new(path, pem, (size_t)pem_len, 0600)) != CER_OK ||
			    (ret = cer_kg_path_join(k->key_path, clean, key_files_buf[i])) !=
			            CER_OK)
				goto out;
		} else {
			snprintf(key_files_buf[i], sizeof key_files_buf[i], "%s", kp);
			snprintf(k->key_path, sizeof k->key_path, "%s", kp);
			ret = cer_kg_cert_beside(kp, k->key_cert_path);
			if (ret != CER_OK)
				goto out;
			snprintf(outside[n_out].final, sizeof outside[n_out].final, "%s", kp);
			ret = cer_kg_write_temp_beside(kp, pem, (size_t)pem_len, 0600,
			                               outside[n_out].tmp);
			n_out++;
			if (ret != CER_OK)
				goto out;
			snprintf(outside[n_out].final, sizeof outside[n_out].final, "%s",
			         k->key_cert_path);
			ret = cer_kg_write_temp_beside(k->key_cert_path, s->cert_pem,
			                               s->cert_pem_len, 0644, outside[n_out].tmp);
			n_out++;
			if (ret != CER_OK)
				goto out;
		}
		key_names[i] = key_files_buf[i];
		snprintf(k->name, sizeof k->name, "%s", s->name);
		cer_kg_key_describe(k, &info[i]);
		k->encrypted = !p->no_passphrase;
	}
	ret = cer_kg_build_json(r, info, cert_names, key_names, token_json, p->bits, p->days,
	                        &request, &manifest);
	if (ret != CER_OK)
		goto out;
	if ((ret = cer_kg_path_join(path, tmpdir, cer_kg_request_name)) != CER_OK ||
	    (ret = cer_kg_write_new(path, request, strlen(request), 0644)) != CER_OK ||
	    (ret = cer_kg_path_join(path, tmpdir, cer_kg_manifest_name)) != CER_OK ||
	    (ret = cer_kg_write_new(path, manifest, strlen(manifest), 0644)) != CER_OK ||
	    (ret = cer_kg_path_join(r->request_path, clean, cer_kg_request_name)) != CER_OK ||
	    (ret = cer_kg_path_join(r->manifest_path, clean, cer_kg_manifest_name)) != CER_OK)
		goto out;
	cer_kg_fsync_dir(tmpdir);
	r->az_command = cer_kg_az_command(r);
	if (r->az_command == NULL || cer_kg_summary_json(r, manifest) != CER_OK) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	if (cer_kg_cancelled(p)) {
		ret = cer_fail(CER_EUSAGE, "key generation cancelled; nothing was written");
		goto out;
	}
	for (i = 0; i < n_out; i++) {
		ret = cer_kg_place_new(&outside[i]);
		if (ret != CER_OK)
			goto out;
	}
	ret = cer_kg_install_dir(tmpdir, clean, p->force, r->old_dir);
	if (ret != CER_OK)
		goto out;
	tmp_made = false;
	for (i = 0; i < n_out; i++) {
		if (outside[i].tmp[0] != '\0')
			unlink(outside[i].tmp);
		outside[i].tmp[0] = '\0';
		outside[i].linked = false;
		memcpy(path, outside[i].final, sizeof path);
		if (strrchr(path, '/') != NULL) {
			*strrchr(path, '/') = '\0';
			cer_kg_fsync_dir(path[0] != '\0' ? path : "/");
		} else {
			cer_kg_fsync_dir(".");
		}
	}
	cer_kg_fsync_dir(parent);
	if (r->old_dir[0] != '\0')
		cer_progress_note(progress, "%s was not empty: moved aside to %s", clean,
		                  r->old_dir);
	ret = CER_OK;
out:
	if (ret != CER_OK)
		cer_kg_outside_undo(outside, n_out);
	if (tmp_made)
		cer_kg_remove_tree_flat(tmpdir);
	for (i = 0; i < CER_KEYGEN_MAX_KEYS; i++) {
		json_decref(info[i].jwk);
		json_decref(token_json[i]);
	}
	free(request);
	free(manifest);
	return ret;
}

int cer_keygen(const struct cer_keygen_params *p, const struct cer_progress *progress,
               struct cer_keygen_result **out)
{
	struct cer_keygen_result *r = NULL;
	struct cer_kg_job *j = NULL;
	bool written = false;
	unsigned i;
	int ret;

	*out = NULL;
	ret = cer_keygen_check_params(p);
	if (ret == CER_OK)
		ret = cer_kg_transcript_start(p->transcript, "keygen", p->count, p->bits, p->quorum,
		                              p->days, p->out_dir);
	if (ret != CER_OK)
		return ret;
	j = calloc(1, sizeof *j);
	r = calloc(1, sizeof *r);
	if (j == NULL || r == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	j->p = p;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	for (i = 0; i < p->count; i++)
		cer_kg_effective_name(p, i, j->slots[i].name);
	r->count = p->count;
	r->quorum = p->quorum;
	if (p->no_passphrase)
		cer_progress_note(
		        progress,
		        "WARNING: the private keys are written WITHOUT a "
		        "passphrase; anyone who copies them can open the security domain");
	for (i = 0; i < p->count && ret == CER_OK; i++)
		if (cer_kg_is_token(p, i))
			ret = cer_kg_token_slot(j, i, progress);
	if (ret == CER_OK)
		ret = cer_kg_run_job(j, progress);
	if (ret == CER_OK)
		ret = write_set(p, j, r, progress);
	written = ret == CER_OK;
	ret = cer_kg_transcript_end(p->transcript, "keygen", r, ret);
	if (!written)
		goto out;
	*out = r; /* also when only the transcript failed: the set is written */
	r = NULL;
out:
	if (j != NULL) {
		cer_kg_job_clear(j, !written);
		pthread_mutex_destroy(&j->lock);
		pthread_cond_destroy(&j->cond);
		free(j);
	}
	cer_keygen_result_free(r);
	return ret;
}
