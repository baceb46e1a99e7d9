#include "ceremony/qr_int.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/io.h"
#include "ceremony/report.h"
#include "ceremony/transcript.h"

int cer_qr_join_new(struct cer_qr_join **join)
{
	*join = calloc(1, sizeof **join);
	if (*join == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	return CER_OK;
}

void cer_qr_join_free(struct cer_qr_join *join)
{
	unsigned i;

	if (join == NULL)
		return;
	for (i = 0; join->slots != NULL && i < join->total; i++) {
		free(join->slots[i].text);
		free(join->slots[i].data);
	}
	free(join->slots);
	free(join);
}

void cer_qr_join_set_lenient(struct cer_qr_join *join, bool lenient)
{
	join->lenient = lenient;
}

unsigned cer_qr_join_skipped(const struct cer_qr_join *join, const char **first_where)
{
	if (first_where != NULL)
		*first_where = join->first_skipped;
	return join->skipped;
}

unsigned cer_qr_join_total(const struct cer_qr_join *join)
{
	return join->total;
}

unsigned cer_qr_join_count(const struct cer_qr_join *join)
{
	return join->count;
}

bool cer_qr_join_complete(const struct cer_qr_join *join)
{
	return join->total > 0 && join->count == join->total;
}

static int add_part(struct cer_qr_join *join, const char *s, size_t len, const char *where)
{
	struct cer_qr_parsed pp;
	struct cer_qr_part_slot *slot;
	int ret = cer_qr_parse_part(s, len, where, &pp);

	if (ret != CER_OK)
		return ret;
	if (join->total == 0) {
		join->slots = calloc(pp.total, sizeof *join->slots);
		if (join->slots == NULL) {
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			goto out;
		}
		join->total = pp.total;
		join->zlib = pp.zlib;
		memcpy(join->id, pp.id, sizeof join->id);
	} else if (strcmp(pp.id, join->id) != 0) {
		ret = cer_fail(CER_EINPUT,
		               "%spart %u/%u is from a different file (id %s) than the "
		               "parts before it (id %s): parts of two files are mixed",
		               where, pp.n, pp.total, pp.id, join->id);
		goto out;
	} else if (pp.zlib != join->zlib) {
		ret = cer_fail(CER_EINPUT,
		               "%spart %u/%u of file %s is %s but the parts before it "
		               "are %s: parts of two different splits are mixed",
		               where, pp.n, pp.total, pp.id, pp.zlib ? "SDC2" : "SDC1",
		               join->zlib ? "SDC2" : "SDC1");
		goto out;
	} else if (pp.total != join->total) {
		ret = cer_fail(CER_EINPUT,
		               "%spart %u/%u of file %s does not match the parts before "
		               "it, which have %u parts: parts of two different splits "
		               "of the file are mixed",
		               where, pp.n, pp.total, pp.id, join->total);
		goto out;
	}
	slot = &join->slots[pp.n - 1];
	if (slot->data != NULL) {
		if (slot->len != pp.len || memcmp(slot->data, pp.data, pp.len) != 0)
			ret = cer_fail(CER_EINPUT, "%spart %u/%u appears twice with different data",
			               where, pp.n, pp.total);
		goto out;
	}
	if (join->held + pp.len > CER_QR_STREAM_HEAD + CER_QR_MAX_FILE) {
		ret = cer_fail(CER_EINPUT,
		               "%spart %u/%u: the parts hold more than a file can be "
		               "(%zu bytes)",
		               where, pp.n, pp.total,
		               (size_t)(CER_QR_STREAM_HEAD + CER_QR_MAX_FILE));
		goto out;
	}
	slot->text = strndup(s, len);
	if (slot->text == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	slot->data = pp.data;
	slot->len = pp.len;
	pp.data = NULL;
	join->held += pp.len;
	join->count++;
out:
	free(pp.data);
	return ret;
}

/* "SDC<digits>:" of another format version, or NULL. */
static const char *next_version_marker(const char *s, const char *end)
{
	const char *m = s;

	while ((m = memmem(m, (size_t)(end - m), "SDC", 3)) != NULL) {
		const char *p = m + 3;

		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p > m + 3 && p < end && *p == ':' && p - m <= 8)
			return m;
		m += 3;
	}
	return NULL;
}

/* The first "SDC1:" or "SDC2:" in s..end, or NULL. */
static const char *first_marker(const char *s, const char *end)
{
	const char *a = memmem(s, (size_t)(end - s), CER_QR_MAGIC, strlen(CER_QR_MAGIC));
	const char *b = memmem(s, (size_t)(end - s), CER_QR_MAGIC_ZLIB, strlen(CER_QR_MAGIC_ZLIB));

	if (a == NULL || (b != NULL && b < a))
		return b;
	return a;
}

static int add_line(struct cer_qr_join *join, const char *s, size_t len, const char *where)
{
	const char *end = s + len, *m;

	while (s < end && cer_qr_is_space(*s))
		s++;
	while (end > s && cer_qr_is_space(end[-1]))
		end--;
	if (s == end)
		return CER_OK;
	if ((size_t)(end - s) > CER_QR_MAX_PART_TEXT)
		return cer_fail(CER_EINPUT,
		                "%sline of %zu characters is too long for a part (limit %u)", where,
		                (size_t)(end - s), CER_QR_MAX_PART_TEXT);
	m = first_marker(s, end);
	if (m == NULL) {
		const char *v = next_version_marker(s, end);

		if (v != NULL)
			return cer_fail(CER_EINPUT,
			                "%sunsupported part format '%.*s' (this version "
			                "reads SDC1 and SDC2)",
			                where, (int)strcspn(v, ":"), v);
		if (join->lenient) {
			if (join->skipped++ == 0)
				snprintf(join->first_skipped, sizeof join->first_skipped, "%.*s",
				         (int)(strlen(where) >= 2 ? strlen(where) - 2 : 0), where);
			return CER_OK;
		}
		return cer_fail(CER_EINPUT, "%snot a QR part (no '" CER_QR_MAGIC "' marker)",
		                where);
	}
	return add_part(join, m, (size_t)(end - m), where);
}

int cer_qr_join_add(struct cer_qr_join *join, const char *source, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	bool multi = memchr(text, '\n', len) != NULL;
	unsigned lineno = 0;
	char where[300];
	int ret = CER_OK;

	while (p < end && ret == CER_OK) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;

		lineno++;
		if (source != NULL)
			snprintf(where, sizeof where, "%.200s line %u: ", source, lineno);
		else if (multi)
			snprintf(where, sizeof where, "line %u: ", lineno);
		else
			where[0] = '\0';
		ret = add_line(join, p, (size_t)(le - p), where);
		p = nl != NULL ? nl + 1 : end;
	}
	return ret;
}

int cer_qr_join_add_line(struct cer_qr_join *join, const char *source, unsigned lineno,
                         const char *text, size_t len)
{
	char where[300];

	if (memchr(text, '\n', len) != NULL)
		return cer_fail(CER_EUSAGE, "one line at a time");
	if (source != NULL)
		snprintf(where, sizeof where, "%.200s line %u: ", source, lineno);
	else
		where[0] = '\0';
	return add_line(join, text, len, where);
}

int cer_qr_join_add_code(struct cer_qr_join *join, const char *where, const char *text, size_t len)
{
	char prefix[300];

	if (where != NULL)
		snprintf(prefix, sizeof prefix, "%.280s: ", where);
	else
		prefix[0] = '\0';
	return add_line(join, text, len, prefix);
}

int cer_qr_join_add_file(struct cer_qr_join *join, const char *path)
{
	uint8_t *buf = NULL;
	size_t len;
	int ret = cer_file_read(path, CER_QR_MAX_FILE * 3, &buf, &len);

	if (ret == CER_OK)
		ret = cer_qr_join_add(join, path, (const char *)buf, len);
	free(buf);
	return ret;
}

/* Appends "2, 5-7, 9" (the missing numbers) to out, truncated with "...". */
static void missing_list(const struct cer_qr_join *join, char *out, size_t size)
{
	size_t used = strlen(out);
	unsigned i = 0;
	bool first = true;

	while (i < join->total) {
		unsigned a, b;
		char item[32];
		int n;

		if (join->slots[i].data != NULL) {
			i++;
			continue;
		}
		a = i + 1;
		while (i < join->total && join->slots[i].data == NULL)
			i++;
		b = i;
		n = a == b ? snprintf(item, sizeof item, "%s%u", first ? "" : ", ", a)
		           : snprintf(item, sizeof item, "%s%u-%u", first ? "" : ", ", a, b);
		first = false;
		if (used + (size_t)n + 4 >= size) {
			if (used + 4 < size)
				memcpy(out + used, "...", 4);
			return;
		}
		memcpy(out + used, item, (size_t)n + 1);
		used += (size_t)n;
	}
}

void cer_qr_join_status(const struct cer_qr_join *join, char *buf, size_t size)
{
	if (size == 0)
		return;
	if (join->total == 0)
		snprintf(buf, size, "no part yet");
	else if (join->count == join->total)
		snprintf(buf, size, "all %u parts present", join->total);
	else {
		snprintf(buf, size, "have %u of %u parts; missing ", join->count, join->total);
		missing_list(join, buf, size);
	}
}

int cer_qr_join_finish(const struct cer_qr_join *join, uint8_t **data, size_t *len)
{
	uint8_t *stream = NULL, *file = NULL;
	uint8_t md[32];
	char id[CER_QR_ID_HEX + 1];
	size_t stream_len = 0, off = 0, flen;
	unsigned i;
	int ret;

	*data = NULL;
	*len = 0;
	if (join->total == 0)
		return cer_fail(CER_EINPUT, "no QR part given");
	if (join->count != join->total) {
		char msg[700];

		snprintf(msg, sizeof msg, "missing part%s ",
		         join->total - join->count > 1 ? "s" : "");
		missing_list(join, msg, sizeof msg);
		return cer_fail(CER_EINPUT, "%s of %u (file id %s; have %u): nothing written", msg,
		                join->total, join->id, join->count);
	}
	for (i = 0; i < join->total; i++)
		stream_len += join->slots[i].len;
	stream = malloc(stream_len);
	if (stream == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	for (i = 0; i < join->total; i++) {
		memcpy(stream + off, join->slots[i].data, join->slots[i].len);
		off += join->slots[i].len;
	}
	if (stream_len < CER_QR_STREAM_HEAD) {
		ret = cer_fail(CER_EINPUT, "joined parts are too short (%zu bytes) to hold a file",
		               stream_len);
		goto out;
	}
	flen = (size_t)stream[0] << 24 | (size_t)stream[1] << 16 | (size_t)stream[2] << 8 |
	       stream[3];
	if (join->zlib) {
		ret = cer_qr_inflate(stream + CER_QR_STREAM_HEAD, stream_len - CER_QR_STREAM_HEAD,
		                     flen, &file);
		if (ret != CER_OK) {
			cer_fail_context(ret, "joined SDC2 parts");
			goto out;
		}
	} else if (flen != stream_len - CER_QR_STREAM_HEAD) {
		ret = cer_fail(CER_EINPUT,
		               "joined parts hold %zu bytes but part 1 says the file has "
		               "%zu: nothing written",
		               stream_len - CER_QR_STREAM_HEAD, flen);
		goto out;
	}
	if (file == NULL) {
		file = malloc(flen + 1);
		if (file == NULL) {
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			goto out;
		}
		memcpy(file, stream + CER_QR_STREAM_HEAD, flen);
	}
	cer_qr_sha256(file, flen, md);
	cer_qr_upper_hex(md, CER_QR_ID_HEX / 2, id);
	if (sodium_memcmp(md, stream + 4, 32) != 0 || strcmp(id, join->id) != 0) {
		ret = cer_fail(CER_EINPUT,
		               "joined file does not match the SHA-256 in part 1 "
		               "(file id %s): nothing written",
		               join->id);
		goto out;
	}
	file[flen] = 0;
	*data = file;
	*len = flen;
	file = NULL;
	ret = CER_OK;
out:
	free(file);
	free(stream);
	return ret;
}

int cer_qr_join_report(const struct cer_qr_join *join, const char *path, const char *what,
                       const uint8_t *data, size_t len, struct cer_report **report)
{
	uint8_t md[32];
	char hex[65];
	json_t *j;

	*report = NULL;
	cer_qr_sha256(data, len, md);
	sodium_bin2hex(hex, sizeof hex, md, sizeof md);
	j = json_pack("{s:s, s:s, s:s, s:i, s:I, s:s}", "report", "qr_join", "path",
	              path != NULL ? path : "", "what", what != NULL ? what : "", "parts",
	              (json_int_t)join->total, "size", (json_int_t)len, "sha256", hex);
	if (j == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	return cer_report_build(j, CER_OK, report);
}

int cer_qr_join_write(const struct cer_qr_join *join, const char *path, bool replace,
                      struct cer_transcript *t, struct cer_report **report)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int ret;

	*report = NULL;
	if (!replace && cer_path_exists(path))
		ret = cer_fail_exists(path);
	else
		ret = cer_qr_join_finish(join, &data, &len);
	if (ret == CER_OK)
		ret = cer_file_write_atomic(path, data, len, replace ? CER_WRITE_REPLACE : 0);
	if (ret == CER_OK)
		ret = cer_qr_join_report(join, path, NULL, data, len, report);
	if (ret == CER_OK) {
		if (t != NULL && cer_transcript_add_report(t, *report) != CER_OK)
			ret = CER_EIO; /* the file and its report stand, the record is lost */
	} else if (cer_transcript_note(t, "qr join: into %s: [FAIL] %s (exit %d)", path,
	                               cer_errmsg(), ret) != CER_OK) {
		ret = CER_EIO;
	}
	free(data);
	return ret;
}

/* Directories. */
