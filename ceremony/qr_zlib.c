#include "ceremony/qr.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int cer_qr_deflate(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len)
{
	uLongf n = compressBound((uLong)len);
	uint8_t *buf;

	*out = NULL;
	*out_len = 0;
	if (len > CER_QR_MAX_FILE)
		return cer_fail(CER_EINPUT, "file too large to compress (%zu bytes)", len);
	buf = malloc(n ? n : 1);
	if (buf == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	if (compress2(buf, &n, data, (uLong)len, Z_BEST_COMPRESSION) != Z_OK) {
		free(buf);
		return cer_fail(CER_EINTERNAL, "zlib compression failed");
	}
	*out = buf;
	*out_len = n;
	return CER_OK;
}

int cer_qr_inflate(const uint8_t *in, size_t in_len, size_t want, uint8_t **out)
{
	z_stream z;
	uint8_t *buf, spare;
	int zr, ret;

	*out = NULL;
	if (want > CER_QR_MAX_FILE)
		return cer_fail(CER_EINPUT, "part 1 declares a file of %zu bytes, more than %zu",
		                want, CER_QR_MAX_FILE);
	if (in_len > UINT_MAX)
		return cer_fail(CER_EINPUT, "compressed data too large");
	buf = malloc(want + 1);
	if (buf == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	memset(&z, 0, sizeof z);
	if (inflateInit(&z) != Z_OK) {
		free(buf);
		return cer_fail(CER_EINTERNAL, "zlib: cannot start decompression");
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)in_len;
	z.next_out = buf;
	z.avail_out = (uInt)want;
	zr = inflate(&z, Z_FINISH);
	if (zr == Z_BUF_ERROR && z.avail_out == 0 && z.avail_in > 0) {
		/* Output full but input left: one more byte tells a bomb from trailing data. */
		z.next_out = &spare;
		z.avail_out = 1;
		zr = inflate(&z, Z_FINISH);
		if (z.avail_out == 0) {
			ret = cer_fail(CER_EINPUT,
			               "compressed data inflates to more than the %zu bytes "
			               "part 1 declares: refused",
			               want);
			goto out;
		}
	}
	if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT) {
		ret = cer_fail(CER_EINPUT, "compressed data is corrupted (%s)",
		               z.msg != NULL ? z.msg : "zlib data error");
		goto out;
	}
	if (zr != Z_STREAM_END) {
		ret = cer_fail(CER_EINPUT, "compressed data is truncated");
		goto out;
	}
	if (z.avail_in != 0) {
		ret = cer_fail(CER_EINPUT, "%u bytes after the end of the compressed data",
		               z.avail_in);
		goto out;
	}
	if (z.total_out != want) {
		ret = cer_fail(CER_EINPUT,
		               "compressed data inflates to %lu bytes but part 1 says "
		               "the file has %zu",
		               z.total_out, want);
		goto out;
	}
	buf[want] = 0;
	*out = buf;
	buf = NULL;
	ret = CER_OK;
out:
	inflateEnd(&z);
	free(buf);
	return ret;
}
