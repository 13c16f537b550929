// The -F file at start-up, HUP reload as a diff (quirk 42), and include.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Settings } from '../../lib/config/settings.js';
import { describeErrors, loadConfigFile } from '../../lib/control/reload.js';
import { makeContext, run, type TestContext } from './control-fixture.js';

const FILE = '/etc/pen.cfg';

/** A context as start-up leaves it before -F, plus the file; returns the base kept for HUP. */
async function started(text: string, init: Partial<Settings> = {}) {
  const ctx = makeContext({ listen: '127.0.0.1:8080', configFile: FILE, ...init });
  ctx.files.set(FILE, text);
  const base = structuredClone(ctx.settings());
  const first = await loadConfigFile(ctx, FILE, base, { startup: true });
  return { ctx, base, first };
}

const hup = (ctx: TestContext, base: Readonly<Settings>) => loadConfigFile(ctx, FILE, base, { startup: false });

test('start-up read applies the file in one update; values echoed by settings are not printed', async () => {
  const { ctx, first } = await started('# pen config\nblacklist 10\nacl 1 permit 10.0.0.0 255.0.0.0\n' +
    'server 0 address 127.0.0.2 port 9001\nserver 1 address 127.0.0.3 port 9002\npoll\n');
  assert.deepEqual(first.errors, []);
  assert.deepEqual(first.changed.sort(), ['acls', 'blacklist', 'eventBackend', 'servers']);
  assert.equal(ctx.updates, 1);
  assert.equal(ctx.output.join(''), '');
  assert.equal(ctx.settings().servers.length, 2);
});

test('reloading an unchanged file changes nothing and does not append ACLs again', async () => {
  const { ctx, base } = await started('acl 1 permit 127.0.0.1\nlisten 127.0.0.1:8081\nserver 0 address ::1 port 9\n');
  assert.deepEqual(ctx.listens, ['127.0.0.1:8081']);
  const updates = ctx.updates;
  const again = await hup(ctx, base);
  assert.deepEqual(again, { errors: [], changed: [] });
  assert.equal(ctx.updates, updates);
  assert.equal(ctx.settings().acls[1]!.length, 1);
  assert.deepEqual(ctx.listens, ['127.0.0.1:8081'], 'unchanged listener kept');
});

test('reload applies only the differences, and reverts unsaved runtime changes', async () => {
  const { ctx, base } = await started('server 0 address 127.0.0.2 port 9001\nserver 1 address 127.0.0.3 port 9002\n' +
    'timeout 5\n');
  await run(ctx, 'tracking 77'); // runtime change, not in the file
  await run(ctx, 'clients_max 5000'); // grown at run time: tables never shrink
  ctx.files.set(FILE, 'server 0 address 127.0.0.2 port 9005\ntimeout 5\nhash\n');
  const r = await hup(ctx, base);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.changed.sort(), ['hash', 'servers', 'tracking']);
  assert.deepEqual(ctx.settings().servers.map((s) => s.port), [9005], 'server 1 left the file');
  assert.equal(ctx.settings().tracking, 0);
  assert.equal(ctx.settings().clientsMax, 5000);
  assert.equal(ctx.settings().hash, true);
});

test('a listener that cannot be opened is reported and the rest still applies', async () => {
  const { ctx, base } = await started('listen 127.0.0.1:8081\n');
  ctx.files.set(FILE, 'listen busy.example:80\nblacklist 9\n');
  ctx.output.length = 0;
  const r = await hup(ctx, base);
  assert.deepEqual(r.changed, ['blacklist']);
  assert.equal(ctx.settings().listen, '127.0.0.1:8081');
  assert.deepEqual(r.errors, [{ file: FILE, line: 0, reply: 'pen: cannot listen on busy.example:80: EADDRINUSE\n' }]);
  // Line errors describe the file as read; what failed to apply is reported after them.
  assert.equal(ctx.output.join(''), 'pen: cannot listen on busy.example:80: EADDRINUSE\n');
});

test('start-up-only settings change at start-up but not on reload', async () => {
  const { ctx, base } = await started('epoll\n');
  assert.equal(ctx.settings().eventBackend, 'epoll');
  ctx.files.set(FILE, 'poll\n');
  const r = await hup(ctx, base);
  assert.equal(ctx.settings().eventBackend, 'epoll');
  assert.deepEqual(r.errors.map((e) => e.reply),
    ['pen: reload: eventBackend can only change at start-up; restart pen to apply it\n']);
});

test('a file with bad lines applies nothing; line errors carry line numbers (issue 12, defect 3)', async () => {
  const { ctx, base } = await started('server 0 address 127.0.0.2 port 9001\n');
  ctx.files.set(FILE, 'timeout 7\nfrobnicate\nserver 0 address 127.0.0.9\ntimeout 0\n');
  ctx.output.length = 0;
  const r = await hup(ctx, base);
  assert.deepEqual(r.changed, []);
  assert.equal(ctx.updates, 1, 'only the start-up update');
  assert.equal(ctx.settings().timeout, 3);
  assert.equal(ctx.settings().servers[0]!.host, '127.0.0.2', 'the good lines did not apply either');
  assert.deepEqual(r.errors.map((e) => e.line), [2, 4]);
  assert.equal(ctx.output.join(''), `${FILE}:2: do_cmd: ignoring command starting with 'frobnicate'\n` +
    `${FILE}:4: pen: timeout: N must be a whole number from 1 to 2147483, got "0"; usage: timeout [N]\n`,
  'only the errors are printed, each with its file and line (-F echoes no values)');
  assert.equal(describeErrors(r.errors), `${FILE}:2: do_cmd: ignoring command starting with 'frobnicate'; ` +
    `${FILE}:4: timeout: N must be a whole number from 1 to 2147483, got "0"; usage: timeout [N]`);
});

test('a failing update applies nothing', async () => {
  const { ctx, base } = await started('server 0 address 127.0.0.2 port 9001\n');
  ctx.files.set(FILE, 'timeout 7\nserver 0 address gone.invalid\n');
  ctx.output.length = 0;
  const r = await hup(ctx, base);
  assert.deepEqual(r.changed, []);
  assert.equal(ctx.settings().timeout, 3);
  assert.equal(ctx.settings().servers[0]!.host, '127.0.0.2');
  assert.deepEqual(r.errors.map((e) => e.line), [0]);
  assert.equal(ctx.output.join(''), 'pen: unknown or invalid address [gone.invalid]\n', 'only the error is printed (-F echoes no values)');
});

test('runtime actions in the file run after the settings are applied', async () => {
  const { ctx } = await started('server 0 address 127.0.0.2 port 9001 blacklist 20\n');
  assert.deepEqual(ctx.engine.blacklistCalls, [{ server: 0, seconds: 20 }]);
  assert.equal(ctx.settings().servers.length, 1);
});

test('a missing file is an error, not a crash', async () => {
  const ctx = makeContext();
  const r = await loadConfigFile(ctx, '/nope.cfg', ctx.settings(), { startup: true });
  assert.deepEqual(r, { changed: [],
    errors: [{ file: '/nope.cfg', line: 0, reply: "pen: can't read config file '/nope.cfg' (ENOENT)\n" }] });
});

test('include runs a file; its error replies go to stdout, not to the control client', async () => {
  const ctx = makeContext();
  ctx.files.set('/a.cfg', 'timeout 6\ninclude /b.cfg\n');
  ctx.files.set('/b.cfg', 'blacklist 8\n');
  assert.equal(await run(ctx, 'include /a.cfg'), '');
  assert.equal(ctx.output.join(''), '');
  assert.equal(ctx.settings().blacklist, 8);

  ctx.files.set('/bad.cfg', 'timeout 4\nnonsense\n');
  assert.equal(await run(ctx, 'include /bad.cfg'),
    "pen: include: '/bad.cfg' had errors on line 2 (errors went to pen's stdout)\n");
  assert.equal(ctx.settings().timeout, 4, 'good lines still ran');
  assert.equal(ctx.output.join(''), "/bad.cfg:2: do_cmd: ignoring command starting with 'nonsense'\n");
  assert.equal(await run(ctx, 'include /missing.cfg'), "pen: include: can't read config file '/missing.cfg' (ENOENT)\n");
  assert.equal(await run(ctx, 'include'), 'pen: include: missing argument; usage: include FILE\n');
});

test('include of itself stops at the nesting limit', async () => {
  const ctx = makeContext();
  ctx.files.set('/loop.cfg', 'include /loop.cfg\n');
  const reply = await run(ctx, 'include /loop.cfg');
  assert.match(reply, /^pen: include: '\/loop.cfg' had errors on line 1/);
  assert.ok(ctx.output.some((t) => t.includes('nested more than 16 includes deep')));
});
