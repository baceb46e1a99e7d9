#include "ceremony/qr_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "ceremony/codec.h"

static void html_escape(struct cer_qr_membuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': cer_qr_membuf_puts(b, "&amp;"); break;
		case '<': cer_qr_membuf_puts(b, "&lt;"); break;
		case '>': cer_qr_membuf_puts(b, "&gt;"); break;
		case '"': cer_qr_membuf_puts(b, "&quot;"); break;
		case '\'': cer_qr_membuf_puts(b, "&#39;"); break;
		default: cer_qr_membuf_put(b, s, 1);
		}
	}
}

static const char html_head[] =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<style>\n"
        "html,body{margin:0;height:100%;background:#fff;color:#000;font:16px sans-serif}\n"
        "#bar{height:2.4em;line-height:2.4em;text-align:center;white-space:nowrap;overflow:hidden}"
        "\n"
        "#help{height:2.6em;text-align:center;color:#444;font-size:13px}\n"
        "figure{margin:0;display:flex;flex-direction:column;align-items:center}\n"
        "figure img{image-rendering:pixelated;image-rendering:crisp-edges}\n"
        "body.js figure{display:none;height:calc(100% - 5.4em)}\n"
        "body.js figure.on{display:flex}\n"
        "body.js figure img{height:100%;max-width:100vw;object-fit:contain}\n"
        "figcaption{padding:.3em}\nbody.js figcaption{display:none}\n"
        "</style>\n";

static const char html_script[] =
        "<script>\n"
        "(function(){\n"
        "var f=document.getElementsByTagName('figure'),n=f.length,i=0,paused=false,\n"
        "pace=2000,slow=2000,timer=null,only=null,bar=document.getElementById('bar');\n"
        "document.body.className='js';\n"
        "function ranges(l){var o=[],k=0;while(k<l.length){var a=l[k];\n"
        "while(k+1<l.length&&l[k+1]==l[k]+1)k++;o.push(a==l[k]?''+(a+1):(a+1)+'-'+(l[k]+1));k++;}\n"
        "return o.join(', ');}\n"
        "function cycle(){if(only)return only;var a=[];for(var k=0;k<n;k++)a.push(k);return a;}\n"
        "function show(){for(var k=0;k<n;k++)f[k].className=(k==i?'on':'');\n"
        "bar.textContent=document.title+' \\u2014 part '+(i+1)+' of '+n+\n"
        "(only?' \\u2014 only '+ranges(only):'')+' \\u2014 '+\n"
        "(paused?'paused':'next in '+(pace/1000)+' s');}\n"
        "function next(d){var c=cycle(),p=c.indexOf(i);\n"
        "if(p<0){p=0;while(p<c.length&&c[p]<i)p++;if(d<0)p--;else d=0;}\n"
        "i=c[((p+d)%c.length+c.length)%c.length];}\n"
        "function arm(){if(timer)clearTimeout(timer);timer=null;\n"
        "if(!paused&&cycle().length>1)timer=setTimeout(function(){next(1);show();arm();},pace);}\n"
        "function go(d){next(d);show();arm();}\n"
        /* "have 17 of 20 parts; missing 3, 7-9" (what join prints) or "3 7-9". */
        "function parse(t){var m=t.lastIndexOf('missing');if(m>=0)t=t.slice(m+7);\n"
        "var s={},l=[],w=t.split(/[\\s,;]+/);\n"
        "for(var k=0;k<w.length;k++){if(w[k]=='')continue;\n"
        "var r=/^(\\d+)(?:-(\\d+))?$/.exec(w[k]);if(!r)return null;\n"
        "var a=+r[1],b=r[2]?+r[2]:a;if(a<1||b>n||a>b)return null;\n"
        "for(var x=a;x<=b;x++)s[x-1]=1;}\n"
        "for(var k=0;k<n;k++)if(s[k])l.push(k);return l;}\n"
        "function ask(){var t=window.prompt('Show only these parts (e.g. \"3, 7-9\", or the "
        "receiver\\'s \"missing ...\" line); empty for all:','');\n"
        "if(t===null)return;var l=parse(t);\n"
        "if(l===null){window.alert('Not part numbers from 1 to '+n+': '+t);return;}\n"
        "only=l.length&&l.length<n?l:null;if(only)i=only[0];show();arm();}\n"
        "document.addEventListener('keydown',function(e){var k=e.key;\n"
        "if(k==' '||k=='Spacebar'||k=='p'){paused=!paused;show();arm();}\n"
        "else if(k=='ArrowRight'||k=='ArrowDown'||k=='PageDown'||k=='n')go(1);\n"
        "else if(k=='ArrowLeft'||k=='ArrowUp'||k=='PageUp'||k=='b')go(-1);\n"
        "else if(k=='Home'){i=cycle()[0];show();arm();}\n"
        "else if(k=='End'){var c=cycle();i=c[c.length-1];show();arm();}\n"
        "else if(k=='+'||k=='='){pace=pace>500?pace-500:Math.max(200,pace-50);show();arm();}\n"
        "else if(k=='-'||k=='_'){pace=pace<500?pace+50:Math.min(10000,pace+500);show();arm();}\n"
        "else if(k=='c'){if(pace>250){slow=pace;pace=250;}else "
        "pace=slow;paused=false;show();arm();}\n"
        "else if(k=='m')ask();\n"
        "else if(k=='a'){only=null;show();arm();}\n"
        "else if(k=='f'){if(document.fullscreenElement)document.exitFullscreen();\n"
        "else if(document.documentElement.requestFullscreen)"
        "document.documentElement.requestFullscreen();}\n"
        "else return;e.preventDefault();});\n"
        "show();arm();\n"
        "})();\n"
        "</script>\n";

int cer_qr_html(const struct cer_qr_set *set, const char *title, uint8_t *const *pngs,
                const size_t *png_lens, char **html, size_t *html_len)
{
	struct cer_qr_membuf b = {0};
	char line[512];
	unsigned i;
	int ret;

	*html = NULL;
	*html_len = 0;
	cer_qr_membuf_puts(&b, html_head);
	cer_qr_membuf_puts(&b, "<title>");
	html_escape(&b, title);
	cer_qr_membuf_puts(&b, "</title>\n</head>\n<body>\n<div id=\"bar\">");
	html_escape(&b, title);
	snprintf(line, sizeof line, " \xe2\x80\x94 %u parts, file id %s, %zu bytes</div>\n",
	         set->count, set->id, set->file_len);
	cer_qr_membuf_puts(&b, line);
	snprintf(line, sizeof line,
	         "<div id=\"help\">space: pause/resume &middot; arrows: step &middot; "
	         "+/&minus;: faster/slower &middot; c: camera pace (4 a second) &middot; "
	         "m: only the missing parts &middot; a: all &middot; f: full screen"
	         "<br>SHA-256 %s</div>\n",
	         set->sha256_hex);
	cer_qr_membuf_puts(&b, line);
	for (i = 0; i < set->count; i++) {
		char *b64 = cer_b64_encode(pngs[i], png_lens[i]);

		if (b64 == NULL) {
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			goto out;
		}
		snprintf(line, sizeof line,
		         "<figure><img alt=\"part %u of %u\" src=\"data:image/png;base64,", i + 1,
		         set->count);
		cer_qr_membuf_puts(&b, line);
		cer_qr_membuf_puts(&b, b64);
		free(b64);
		snprintf(line, sizeof line, "\"><figcaption>part %u of %u</figcaption></figure>\n",
		         i + 1, set->count);
		cer_qr_membuf_puts(&b, line);
	}
	cer_qr_membuf_puts(&b, html_script);
	cer_qr_membuf_puts(&b, "</body>\n</html>\n");
	if (b.failed) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	*html = (char *)b.data;
	*html_len = b.len;
	b.data = NULL;
	ret = CER_OK;
out:
	free(b.data);
	return ret;
}

/* Joining. */
