// Command lines pen must refuse (issue 2): unknown options, malformed server specs and
// out-of-range values exit 2 with a message naming the problem; options of later releases
// exit 2 saying they are not supported yet (-U, -l, -w, -a, -H and the TLS options left this list when they landed); a
// certificate that cannot be loaded exits 2 naming the file. --help and -? print the options and exit 0.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { loopback } from '../../helpers/net.js';
import { runPen } from '../../helpers/pen.js';

const ip = loopback(61);
const LISTEN = `${ip(1)}:8080`;
const BACKEND = `${ip(2)}:8081`;

interface Refusal {
  what: string;
  args: string[];
  /** The message must match this (it names the problem). */
  message: RegExp;
  code?: number;
}

const refusals: Refusal[] = [
  { what: 'unknown option', args: ['-Y', LISTEN, BACKEND], message: /-Y/ },
  { what: 'unknown long option', args: ['--frobnicate', LISTEN, BACKEND], message: /--frobnicate/ },
  { what: 'missing option argument', args: [LISTEN, BACKEND, '-x'], message: /-x/ },
  { what: 'bad server spec: port out of range', args: [LISTEN, `${ip(2)}:99999`], message: /99999/ },
  { what: 'bad server spec: maxc not a number', args: [LISTEN, `${ip(2)}:8081:lots`], message: /lots|maxc/ },
  { what: 'bad listen address', args: [`${ip(1)}:70000`, BACKEND], message: /70000/ },
  { what: '-t 0', args: ['-t', '0', LISTEN, BACKEND], message: /-t/ },
  { what: '-x not a number', args: ['-x', 'many', LISTEN, BACKEND], message: /-x.*many|many.*-x/ },
  { what: '-b negative', args: ['-b', '-1', LISTEN, BACKEND], message: /-b/ },
  { what: 'no backend', args: [LISTEN], message: /backend/i },
  { what: 'no arguments at all', args: [], message: /LISTEN|listen/ },
  { what: '-L ssl3 (insecure protocol) refused', args: ['-E', 'cert.pem', '-L', 'ssl3', LISTEN, BACKEND], message: /-L ssl3: SSLv3 is insecure/ },
  { what: '-E with a missing certificate file', args: ['-E', '/nonexistent/cert.pem', LISTEN, BACKEND], message: /TLS: cannot load the certificate '\/nonexistent\/cert.pem'/ },
  { what: '-l with a bad penlogd port', args: ['-l', 'loghost:99999', LISTEN, BACKEND], message: /-l|log destination.*99999/ },
];

describe('bad command lines exit 2 naming the problem', { concurrency: true }, () => {
  for (const r of refusals) {
    test(r.what, async () => {
      const res = await runPen(['-f', ...r.args], { timeoutMs: 8000 });
      assert.equal(res.code, r.code ?? 2, `exit status; stderr: ${res.stderr}`);
      assert.match(res.stderr, r.message);
      assert.match(res.stderr, /^pen: /m, 'the message says who is talking');
      assert.doesNotMatch(res.stderr, /\n\s+at .*\(/, 'no stack trace');
    });
  }
});

describe('help', { concurrency: true }, () => {
  for (const flag of ['--help', '-?']) {
    test(`${flag} lists the options and exits 0`, async () => {
      const res = await runPen([flag], { timeoutMs: 8000 });
      assert.equal(res.code, 0);
      assert.match(res.stdout, /usage/i);
      for (const opt of ['-b', '-c', '-e', '-f', '-h', '-p', '-r', '-s', '-t', '-T', '-W', '-x', '-O']) {
        assert.match(res.stdout, new RegExp(`^\\s+${opt.replace('?', '\\?')}\\b`, 'm'), `lists ${opt}`);
      }
    });
  }
});
