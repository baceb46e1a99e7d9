#!/usr/bin/env bash
# Hostile input and interrupted prompts through the binary: a tag with
# terminal escapes and a newline stays one harmless line in messages and
# reports; a FIFO where a file is read is refused at once; private keys in
# any encoding never become QR codes; qr join reads at most 3 MiB; Ctrl-C,
# Ctrl-\ or Ctrl-Z at a password prompt never leave the terminal without echo.
. tests/lib.sh

SD="$VEC/sd"
KEYS="$SD/keys"
X="$SD/exchange/exchange.cer"
P2=$(head -n1 "$KEYS/cert_2.pass")
ESC=$(printf '\033')

# --- control characters from the file ---
python3 - "$VEC/bad/good.json" "$TMP/esc.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["EncData"]["data"][0]["tag"] = "evil\u001b]0;owned\u0007\u001b[2J\nFAKE: Result: VERIFIED\u009b31m"
json.dump(d, open(sys.argv[2], "w"))
EOF
mkdir -p "$TMP/out"
expect_exit "escape tag: restore-blob fails authentication" 4 "$SDC" restore-blob \
	--sd-file "$TMP/esc.json" --sd-exchange-key "$X" \
	--sd-wrapping-keys "$KEYS/cert_0.key" "$KEYS/cert_1.key" \
	--sd-file-restore-blob "$TMP/out/blob.json" </dev/null
expect_err "escape tag: the message names the tag, control characters shown as ?" \
	"item 'evil\?\]0;owned\?\?\[2J\?FAKE: Result: VERIFIED\?\?31m'"
if [ "$(wc -l <"$TMP/.err")" -eq 1 ] && ! grep -qF -- "$ESC" "$TMP/.err"; then
	ok "escape tag: one line, no escape byte on stderr"
else
	not_ok "escape tag: one line, no escape byte on stderr"; sed -n l "$TMP/.err" | sed 's/^/# /'
fi
"$SDC" inspect --sd-file "$TMP/esc.json" >"$TMP/inspect.out" 2>&1
if ! grep -qF -- "$ESC" "$TMP/inspect.out" && ! grep -q '^FAKE' "$TMP/inspect.out" &&
	grep -q 'evil?\]0;owned' "$TMP/inspect.out"; then
	ok "escape tag: inspect's report has no escape byte and no forged line"
else
	not_ok "escape tag: inspect's report"; sed -n l "$TMP/inspect.out" | sed 's/^/# /' | head
fi
"$SDC" verify --sd-file "$TMP/esc.json" --sd-wrapping-keys "$KEYS/cert_0.key" \
	"$KEYS/cert_1.key" >"$TMP/verify.out" 2>&1 </dev/null
if ! grep -qF -- "$ESC" "$TMP/verify.out" && ! grep -q '^FAKE' "$TMP/verify.out" &&
	grep -q '^Result: FAILED' "$TMP/verify.out"; then
	ok "escape tag: verify's report has no escape byte and no forged line"
else
	not_ok "escape tag: verify's report"; sed -n l "$TMP/verify.out" | sed 's/^/# /' | head
fi
"$SDC" inspect --sd-file "$TMP/esc.json" --json >"$TMP/inspect.json" 2>/dev/null
check "escape tag: the JSON report keeps the tag exactly" python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["data"][0]["tag"]
sys.exit(t != "evil\u001b]0;owned\u0007\u001b[2J\nFAKE: Result: VERIFIED\u009b31m")' "$TMP/inspect.json"

# --- FIFOs are refused, not waited on ---
mkfifo "$TMP/sd.fifo"
expect_exit "FIFO as the security-domain file: exit 5 at once" 5 \
	timeout 10 "$SDC" inspect --sd-file "$TMP/sd.fifo"
expect_err "FIFO as the security-domain file: message" "sd.fifo: not a regular file"
mkdir -p "$TMP/certs"
mkfifo "$TMP/certs/a.cer"
cp "$KEYS/cert_0.cer" "$TMP/certs/b.cer"
expect_exit "FIFO among --certs: inspect still names the certificate" 0 \
	timeout 10 "$SDC" inspect --sd-file "$SD/q2_n3.json" --certs "$TMP/certs"
cp "$TMP/.out" "$TMP/certs.out"
check "FIFO among --certs: the real certificate is found" grep -q "certificate .*b.cer" \
	"$TMP/certs.out"

# --- private keys never become QR codes, in any encoding ---
expect_exit "qr split of a PKCS#12 file: refused" 3 "$SDC" qr split "$KEYS/cert_5.pfx" \
	--out "$TMP/qr"
expect_err "qr split of a PKCS#12 file: message" "PKCS#12 file: private keys never"
[ ! -e "$TMP/qr" ] && ok "qr split of a PKCS#12 file: nothing written" ||
	not_ok "qr split of a PKCS#12 file: nothing written"

# --- qr join's standard input limit is the documented one ---
head -c $((3 * 1024 * 1024)) /dev/zero | tr '\0' '\n' >"$TMP/blank"
expect_exit "qr join: 3 MiB of input is read" 3 "$SDC" qr join --out "$TMP/j" <"$TMP/blank"
expect_err "qr join: 3 MiB of input is read (no part in it)" "no QR part given"
echo >>"$TMP/blank"
expect_exit "qr join: one byte more is refused" 3 "$SDC" qr join --out "$TMP/j" <"$TMP/blank"
expect_err "qr join: one byte more is refused (message)" "more than 3145728 bytes"

# --- the password prompt and signals ---
# prompt KEYS...: runs verify with the encrypted cert_2.key on a pseudo-terminal
# as a job-control shell would (in its own foreground process group), waits
# for the prompt, then types each KEY: a control character, PASS (the right
# password and Enter) or WAIT (wait for the prompt again).  Prints what the
# parent saw: "stopped echo=0|1" while stopped, then "exit=N echo=0|1" or
# "signal=N echo=0|1"; the terminal's output goes to $TMP/prompt.log.
prompt() {
	python3 - "$SDC" "$SD/q2_n3.json" "$KEYS/cert_2.key" "$KEYS/cert_1.key" "$P2" \
		"$TMP/prompt.log" "$@" <<'EOF'
import os, pty, select, signal, sys, termios, time
sdc, sd, k2, k1, pw, log = sys.argv[1:7]
keys = sys.argv[7:]
res = log + ".res"
pid, master = pty.fork()
if pid == 0:
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    g = os.fork()
    if g == 0:
        os.setpgid(0, 0)
        os.tcsetpgrp(0, os.getpgrp())
        signal.signal(signal.SIGTTOU, signal.SIG_DFL)
        # As from a terminal's shell: a harness that started this test in
        # the background (SIGINT and SIGQUIT ignored) must not decide it.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGQUIT, signal.SIG_DFL)
        os.execv(sdc, [sdc, "verify", "--sd-file", sd, "--sd-wrapping-keys", k2, k1])
    try:
        os.setpgid(g, g)
        os.tcsetpgrp(0, g)
    except OSError:
        pass
    out = []
    echo = lambda: 1 if termios.tcgetattr(0)[3] & termios.ECHO else 0
    while True:
        _, st = os.waitpid(g, os.WUNTRACED)
        if os.WIFSTOPPED(st):
            out.append("stopped echo=%d" % echo())
            os.tcsetpgrp(0, g)
            os.killpg(g, signal.SIGCONT)
            continue
        if os.WIFSIGNALED(st):
            out.append("signal=%d echo=%d" % (os.WTERMSIG(st), echo()))
        else:
            out.append("exit=%d echo=%d" % (os.WEXITSTATUS(st), echo()))
        break
    open(res, "w").write("\n".join(out) + "\n")
    os._exit(0)
text = b""
def pump(until, timeout=20):
    global text
    end = time.time() + timeout
    while time.time() < end and not until(text):
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            text += data
    return until(text)
prompts = lambda n: (lambda t: t.count(b"Password for key") >= n)
seen = 1
pump(prompts(1))
for k in keys:
    time.sleep(0.3)
    if k == "WAIT":
        seen += 1
        pump(prompts(seen))
    elif k == "PASS":
        os.write(master, pw.encode() + b"\n")
    else:
        os.write(master, k.encode().decode("unicode_escape").encode())
pump(lambda t: False, timeout=3)
os.waitpid(pid, 0)
open(log, "wb").write(text)
sys.stdout.write(open(res).read())
EOF
}

r=$(prompt 'abc' '\x03')
[ "$r" = "signal=2 echo=1" ] && ok "Ctrl-C at the password prompt: ends by SIGINT, echo back on" ||
	not_ok "Ctrl-C at the password prompt: ends by SIGINT, echo back on ($r)"
r=$(prompt 'abc' '\x1c')
[ "$r" = "signal=3 echo=1" ] && ok "Ctrl-\\ at the password prompt: ends by SIGQUIT, echo back on" ||
	not_ok "Ctrl-\\ at the password prompt: ends by SIGQUIT, echo back on ($r)"
r=$(prompt 'abc' '\x1a' WAIT PASS)
if [ "$r" = "stopped echo=1
exit=0 echo=1" ] && grep -q "Result: VERIFIED" "$TMP/prompt.log"; then
	ok "Ctrl-Z at the password prompt: stopped with echo on, asked again on resuming, verifies"
else
	not_ok "Ctrl-Z at the password prompt: stopped with echo on, asked again ($r)"
	sed 's/^/# /' "$TMP/prompt.log" | head
fi
r=$(prompt PASS)
if [ "$r" = "exit=0 echo=1" ] && grep -q "Result: VERIFIED" "$TMP/prompt.log"; then
	ok "no signal: the password verifies and echo is back on"
else
	not_ok "no signal: the password verifies and echo is back on ($r)"
fi
done_testing
