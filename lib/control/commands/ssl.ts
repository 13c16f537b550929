// HTTP header insertion and the TLS settings that commands can change (spec/penctl.md,
// spec/ssl.md). The certificate itself (-E, -K, -G, -A, -R, -Z, -L) is start-up only.
//
// Every change takes effect for new handshakes when the data plane gets its next snapshot:
// the TLS contexts are rebuilt (native/tls/) when a setting or one of the files changed, so
// `ssl_ocsp_response FILE` after a cron job refreshed FILE re-reads it (Pen forgot FILE after
// one read), and HUP picks up new certificate files. Open connections keep their session.
// Unlike Pen, nothing is ignored silently: an unknown ssl_option word, a cipher list OpenSSL
// does not know or an unreadable file is refused and the previous setting stays.
import path from 'node:path';
import { z } from '../../config/zod.js';
import { SSL_OPTIONS, type Settings } from '../../config/settings.js';
import { command, type Command } from '../command.js';
import { INT_MAX, int, none, oneOf, word } from '../args.js';
import { commandError, fail } from '../reply.js';

type PathKey = 'sslSniPath' | 'sslOcspResponse';
type CipherKey = 'sslCiphers' | 'sslCiphersuites';

/** `word [VALUE]` shows or sets a path (made absolute); `no word` turns it off. */
function pathSetting(word_: string, key: PathKey, help: string, offHelp: string): Command[] {
  return [
    command({
      name: [word_], help, args: z.tuple([word.optional()]),
      run: async (ctx, [p]) => {
        if (p === undefined) return ctx.settings()[key] === null ? '' : `${ctx.settings()[key]}\n`;
        await ctx.update((d) => { d[key] = path.resolve(p); });
      },
      render: (s) => (s[key] === null ? [] : [`${word_} ${s[key]}`]),
    }),
    command({
      name: [`no ${word_}`], help: `no ${word_}: ${offHelp}`, args: none,
      run: async (ctx) => { await ctx.update((d) => { d[key] = null; }); },
    }),
  ];
}

/** `word [LIST]` sets an OpenSSL cipher string; without LIST it goes back to OpenSSL's default. */
function cipherSetting(word_: string, key: CipherKey, help: string): Command {
  return command({
    name: [word_], help, args: z.tuple([word.optional()]),
    run: async (ctx, [list]) => { await ctx.update((d) => { d[key] = list ?? null; }); },
    render: (s) => (s[key] === null ? [] : [`${word_} ${s[key]}`]),
  });
}

function refuseWithUdp(s: Readonly<Settings>, what: string): void {
  if (s.udp) throw commandError(`${what} needs TCP: pen runs in UDP mode (-U)`);
}

export const commands: Command[] = [
  command({
    name: ['http'], help: 'http: add X-Forwarded-For and X-Forwarded-Proto to every HTTP request (-H)', args: none,
    run: async (ctx) => {
      refuseWithUdp(ctx.settings(), 'http');
      await ctx.update((d) => { d.http = true; });
    },
    render: (s) => [s.http ? 'http' : 'no http'],
  }),
  command({
    name: ['no http'], help: 'no http: relay HTTP requests unchanged', args: none,
    run: async (ctx) => { await ctx.update((d) => { d.http = false; }); },
  }),

  cipherSetting('ssl_ciphers', 'sslCiphers',
    'ssl_ciphers [LIST]: OpenSSL cipher list for TLS 1.2 (no LIST: the default)'),
  cipherSetting('ssl_ciphersuites', 'sslCiphersuites',
    'ssl_ciphersuites [LIST]: OpenSSL ciphersuites for TLS 1.3 (no LIST: the default)'),
  command({
    name: ['ssl_option'],
    help: `ssl_option OPT: add a TLS option (${SSL_OPTIONS.join(', ')})`,
    args: z.tuple([oneOf('the option', SSL_OPTIONS).optional()]),
    run: async (ctx, [opt]) => {
      if (opt === undefined) return fail(`pen: ssl_option: missing option (one of ${SSL_OPTIONS.join(', ')})\n`);
      await ctx.update((d) => { if (!d.sslOptions.includes(opt)) d.sslOptions.push(opt); });
    },
    render: (s) => s.sslOptions.map((o) => `ssl_option ${o}`),
  }),
  command({
    name: ['no ssl_option'], help: 'no ssl_option: clear every ssl_option', args: none,
    run: async (ctx) => { await ctx.update((d) => { d.sslOptions = []; }); },
  }),
  ...pathSetting('ssl_sni_path', 'sslSniPath',
    'ssl_sni_path [DIR]: show, or serve DIR/NAME.crt (.key, .ca, .ocsp) to clients asking for NAME',
    'serve the default certificate to every client'),
  ...pathSetting('ssl_ocsp_response', 'sslOcspResponse',
    'ssl_ocsp_response [FILE]: show, or staple the DER OCSP response in FILE (re-read now)',
    'staple no OCSP response'),
  command({
    name: ['ssl_client_renegotiation_interval'],
    help: 'ssl_client_renegotiation_interval [S]: show or set (kept for Pen; client renegotiation is always refused)',
    args: z.tuple([int('the interval', 0, INT_MAX).optional()]),
    run: async (ctx, [n]) => {
      if (n === undefined) return `${ctx.settings().sslRenegotiationInterval}\n`;
      await ctx.update((d) => { d.sslRenegotiationInterval = n; });
    },
    render: (s) => (s.sslRenegotiationInterval === 3600 ? [] : [`ssl_client_renegotiation_interval ${s.sslRenegotiationInterval}`]),
  }),
];
