// TLS for e2e tests: certificates made with the openssl CLI in a private temp dir (EC P-256,
// valid two days), OCSP responses made with `openssl ocsp`, and runners for the real clients
// `openssl s_client` and `curl`. Every run is bounded in time and killed by pid.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { tempDir } from './net.js';
import { withTimeout } from './time.js';

export interface KeyPair {
  cert: string;
  key: string;
  /** The certificate's subject CN. */
  cn: string;
}

export interface Ca extends KeyPair {
  dir: string;
}

function openssl(args: string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
}

/** Whether `cmd --version`-like probing works (openssl, curl). */
export function hasCommand(cmd: string, args = ['--version']): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A fresh directory with a CA named `cn` (ca.crt, ca.key). Remove it with removeDir(ca.dir). */
export function makeCa(tag: string, cn = `pen test CA ${tag}`, dir = tempDir(`tls-${tag}`)): Ca {
  const base = cn.replace(/[^A-Za-z0-9]+/g, '_');
  const cert = path.join(dir, `${base}.crt`);
  const key = path.join(dir, `${base}.key`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key,
    '-out', cert, '-days', '2', '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'], dir);
  return { dir, cert, key, cn };
}

let serial = 0x1000;

/**
 * A certificate for `cn` signed by ca (server by default: SAN DNS:cn; client: clientAuth),
 * written as `${file}.crt` / `${file}.key` in `dir` (default: the CA's dir, named after cn).
 */
export function makeCert(ca: Ca, cn: string, opts: { client?: boolean; dir?: string; file?: string } = {}): KeyPair & { serial: string } {
  const dir = opts.dir ?? ca.dir;
  const base = path.join(dir, opts.file ?? cn.replace(/[^A-Za-z0-9.-]+/g, '_'));
  const csr = `${base}.csr`;
  const ext = `${base}.ext`;
  const hex = (serial++).toString(16).toUpperCase();
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${base}.key`,
    '-out', csr, '-subj', `/CN=${cn}`], dir);
  fs.writeFileSync(ext, opts.client
    ? 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n'
    : `subjectAltName=DNS:${cn}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${hex}`,
    '-out', `${base}.crt`, '-days', '2', '-extfile', ext], dir);
  fs.rmSync(csr);
  fs.rmSync(ext);
  return { cert: `${base}.crt`, key: `${base}.key`, cn, serial: hex };
}

/** A "good" OCSP response for cert (signed by its CA) made with `openssl ocsp`; returns the DER path. */
export function makeOcspResponse(ca: Ca, cert: KeyPair & { serial: string }, out: string): string {
  const index = path.join(ca.dir, 'index.txt');
  fs.writeFileSync(index, `V\t301231235959Z\t\t${cert.serial}\tunknown\t/CN=${cert.cn}\n`);
  fs.writeFileSync(`${index}.attr`, 'unique_subject = no\n');
  const req = path.join(ca.dir, 'ocsp-req.der');
  openssl(['ocsp', '-issuer', ca.cert, '-cert', cert.cert, '-reqout', req, '-no_nonce'], ca.dir);
  openssl(['ocsp', '-index', index, '-rsigner', ca.cert, '-rkey', ca.key, '-CA', ca.cert, '-reqin', req,
    '-respout', out, '-ndays', '1'], ca.dir);
  return out;
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with `input` on stdin (then EOF); SIGKILLs it after timeoutMs. */
export async function runTool(cmd: string, args: string[], input: string | Buffer = '', timeoutMs = 10000): Promise<ToolResult> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('latin1').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  child.stdin.on('error', () => undefined);
  child.stdin.end(input);
  const done = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  try {
    const code = await withTimeout(done, timeoutMs, `${cmd} ${args.join(' ')}`);
    return { code, stdout, stderr };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

/**
 * `openssl s_client -connect host:port -CAfile ca ARGS`, stdin = input. With `wait` the client
 * keeps its side open after input (-ign_eof) until the server closes (or the timeout).
 */
export function sClient(e: { host: string; port: number }, ca: string | null, args: string[],
  input: string | Buffer = '', opts: { wait?: boolean; timeoutMs?: number } = {}): Promise<ToolResult> {
  const base = ['s_client', '-connect', `${e.host}:${e.port}`, ...(ca ? ['-CAfile', ca] : []),
    ...(opts.wait ? ['-ign_eof'] : [])];
  return runTool('openssl', [...base, ...args], input, opts.timeoutMs ?? 10000);
}

/** The subject CN of the certificate s_client printed ("subject=CN = x"). */
export function peerCn(out: string): string | null {
  const m = /^subject=.*?CN ?= ?([^,\n/]+)/m.exec(out);
  return m ? m[1]!.trim() : null;
}

/** `curl` with a resolve entry for `name` -> e, trusting ca; returns the tool result (-s -S). */
export function curl(name: string, e: { host: string; port: number }, ca: string, urlPath: string,
  extra: string[] = [], timeoutMs = 15000): Promise<ToolResult> {
  return runTool('curl', ['-sS', '--resolve', `${name}:${e.port}:${e.host}`, '--cacert', ca, ...extra,
    `https://${name}:${e.port}${urlPath}`], '', timeoutMs);
}
