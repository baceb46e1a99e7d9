#include "ceremony/keygen_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceremony/io.h"

int cer_package(const struct cer_package_params *p, struct cer_keygen_result **out)
{
	struct cer_cert *certs[CER_KEYGEN_MAX_KEYS] = {NULL};
	struct cer_kg_cert_info info[CER_KEYGEN_MAX_KEYS];
	const char *key_names[CER_KEYGEN_MAX_KEYS] = {NULL};
	struct cer_keygen_result *r = NULL;
	char *request = NULL, *manifest = NULL;
	unsigned flags = p->force ? CER_WRITE_REPLACE : 0;
	bool made_dir = false, written = false;
	unsigned i, k;
	struct stat st;
	int ret;

	*out = NULL;
	memset(info, 0, sizeof info);
	ret = cer_keygen_check_counts(p->count, p->quorum);
	if (ret != CER_OK)
		return ret;
	if (p->out_dir == NULL || p->out_dir[0] == '\0')
		return cer_fail(CER_EUSAGE, "no output directory given");
	ret = cer_kg_transcript_start(p->transcript, "package", p->count, 0, p->quorum, 0,
	                              p->out_dir);
	if (ret != CER_OK)
		return ret;
	r = calloc(1, sizeof *r);
	if (r == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	r->count = p->count;
	r->quorum = p->quorum;
	for (i = 0; i < p->count; i++) {
		ret = cer_cert_load(p->cert_paths[i], &certs[i]);
		if (ret == CER_OK)
			ret = cer_kg_cert_describe(certs[i], p->cert_paths[i], &info[i]);
		if (ret != CER_OK)
			goto out;
		for (k = 0; k < i; k++) {
			if (EVP_PKEY_eq(cer_cert_pubkey(certs[k]), cer_cert_pubkey(certs[i])) ==
			    1) {
				ret = cer_fail(CER_EINPUT,
				               "%s: same public key as %s; each custodian "
				               "needs their own key",
				               p->cert_paths[i], p->cert_paths[k]);
				goto out;
			}
		}
		memcpy(r->keys[i].name, info[i].name, sizeof r->keys[i].name);
		snprintf(r->keys[i].cert_path, sizeof r->keys[i].cert_path, "%s", p->cert_paths[i]);
		cer_kg_key_describe(&r->keys[i], &info[i]);
	}
	ret = cer_kg_build_json(r, info, p->cert_paths, key_names, NULL, 0, 0, &request, &manifest);
	if (ret != CER_OK)
		goto out;
	snprintf(r->out_dir, sizeof r->out_dir, "%s", p->out_dir);
	if ((ret = cer_kg_path_join(r->request_path, p->out_dir, cer_kg_request_name)) != CER_OK ||
	    (ret = cer_kg_path_join(r->manifest_path, p->out_dir, cer_kg_manifest_name)) != CER_OK)
		goto out;
	if (!p->force && (cer_path_exists(r->request_path) || cer_path_exists(r->manifest_path))) {
		ret = cer_fail_exists(cer_path_exists(r->request_path) ? r->request_path
		                                                       : r->manifest_path);
		goto out;
	}
	if (stat(p->out_dir, &st) != 0) {
		if (errno != ENOENT || mkdir(p->out_dir, 0755) != 0) {
			ret = cer_fail(CER_EIO, "%s: cannot create the directory: %s", p->out_dir,
			               strerror(errno));
			goto out;
		}
		made_dir = true;
	} else if (!S_ISDIR(st.st_mode)) {
		ret = cer_fail(CER_EIO, "%s: not a directory", p->out_dir);
		goto out;
	}
	r->az_command = cer_kg_az_command(r);
	if (r->az_command == NULL || cer_kg_summary_json(r, manifest) != CER_OK) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	ret = cer_file_write_atomic(r->request_path, request, strlen(request), flags);
	if (ret != CER_OK)
		goto out;
	ret = cer_file_write_atomic(r->manifest_path, manifest, strlen(manifest), flags);
	if (ret != CER_OK) {
		unlink(r->request_path);
		goto out;
	}
	written = true;
	ret = cer_kg_transcript_end(p->transcript, "package", r, ret);
	*out = r; /* also when only the transcript failed: the files are written */
	r = NULL;
out:
	if (!written) {
		if (made_dir)
			rmdir(p->out_dir);
		ret = cer_kg_transcript_end(p->transcript, "package", r, ret);
	}
	for (i = 0; i < CER_KEYGEN_MAX_KEYS; i++) {
		cer_cert_free(certs[i]);
		json_decref(info[i].jwk);
	}
	free(request);
	free(manifest);
	cer_keygen_result_free(r);
	return ret;
}
