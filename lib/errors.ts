// The PEN_ERR_* table: every error pen reports on purpose has one row here.
//
// Contract:
//  - `template` is the message; `{name}` placeholders are filled from the params given to
//    `new PenError(code, params)` (the compiler checks that every placeholder is supplied).
//  - `exitCode` is what the `pen` command exits with when the error ends start-up:
//    2 = the invocation is wrong (fix the command line or the config), 1 = the system refused
//    (resolver, bind, addon). Unlike Pen, which exits 0 after printing its usage, no error
//    ever exits 0.
//  - `hint` (optional) is appended by formatError() when printing for a human.
//  - Messages carry no program name; formatError() adds it.
//  - man/pen.1 (EXIT STATUS) lists every code; a unit test keeps the two in step.

export type ErrorKind = 'usage' | 'config' | 'system' | 'internal';

interface ErrorRow {
  readonly template: string;
  readonly exitCode: 1 | 2;
  readonly kind: ErrorKind;
  readonly hint?: string;
}

export const ERRORS = {
  PEN_ERR_USAGE: { template: '{detail}', exitCode: 2, kind: 'usage', hint: '(try pen --help)' },
  PEN_ERR_UNSUPPORTED: { template: '{detail}', exitCode: 2, kind: 'usage' },
  PEN_ERR_RANGE: {
    template: '{what} must be {expected}, got "{value}"', exitCode: 2, kind: 'config',
    hint: '(try pen --help)',
  },
  PEN_ERR_SERVER_SPEC: { template: '{role} "{spec}" {reason}', exitCode: 2, kind: 'config' },
  PEN_ERR_LISTEN_SPEC: { template: 'listen address "{spec}" {reason}', exitCode: 2, kind: 'config' },
  PEN_ERR_CONFIG: { template: '{detail}', exitCode: 2, kind: 'config' },
  PEN_ERR_START: { template: '{detail}', exitCode: 1, kind: 'system' },
  PEN_ERR_RESOLVE: { template: 'unknown or invalid address [{host}]', exitCode: 1, kind: 'system' },
  PEN_ERR_BIND: { template: 'cannot listen on {address}: {reason}', exitCode: 1, kind: 'system' },
  PEN_ERR_ADDON: { template: 'native addon: {detail}', exitCode: 1, kind: 'system' },
  PEN_ERR_SNAPSHOT: { template: 'bad snapshot at {path}: {reason}', exitCode: 1, kind: 'internal' },
  PEN_ERR_TLS: { template: 'TLS: {detail}', exitCode: 2, kind: 'config' },
  PEN_ERR_GEOIP: { template: '{detail}', exitCode: 2, kind: 'config' },
  // Raised by the addon (native/); listed so that every code pen can report has its row.
  PEN_ERR_POLLER: { template: '{detail}', exitCode: 2, kind: 'config' },
  PEN_ERR_ENGINE: { template: '{detail}', exitCode: 1, kind: 'system' },
  PEN_ERR_WORKERS: { template: '{detail}', exitCode: 2, kind: 'config' },
  PEN_ERR_CHROOT: { template: '{detail}', exitCode: 1, kind: 'system' },
  PEN_ERR_CAPABILITIES: { template: '{detail}', exitCode: 1, kind: 'system' },
  PEN_ERR_DATAGRAM: { template: '{detail}', exitCode: 1, kind: 'system' },
  PEN_ERR_CLOSED: { template: '{detail}', exitCode: 1, kind: 'internal' },
  PEN_ERR_EVENTS: { template: '{detail}', exitCode: 1, kind: 'internal' },
} as const satisfies Record<string, ErrorRow>;

export type PenErrorCode = keyof typeof ERRORS;

/** The placeholder names of a template string, e.g. 'a {x} b {y}' -> 'x' | 'y'. */
type Placeholders<T extends string> =
  T extends `${string}{${infer P}}${infer Rest}` ? P | Placeholders<Rest> : never;

export type PenErrorParams<C extends PenErrorCode> =
  Record<Placeholders<(typeof ERRORS)[C]['template']>, string | number>;

/** Fills `{name}` placeholders; an unknown name is left as written. */
function fill(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole);
}

export class PenError<C extends PenErrorCode = PenErrorCode> extends Error {
  readonly code: C;
  readonly exitCode: 1 | 2;
  readonly kind: ErrorKind;
  /** The values the message was filled with (e.g. `host` of PEN_ERR_RESOLVE). */
  readonly params: PenErrorParams<C>;

  constructor(code: C, params: PenErrorParams<C>, options?: { cause?: unknown }) {
    const row: ErrorRow = ERRORS[code];
    super(fill(row.template, params as Record<string, string | number>), options);
    this.name = 'PenError';
    this.code = code;
    this.params = params;
    this.exitCode = row.exitCode;
    this.kind = row.kind;
  }

  /** The row's hint, if any (e.g. "(try pen --help)"). */
  get hint(): string | undefined {
    const row: ErrorRow = ERRORS[this.code];
    return row.hint;
  }
}

export function isPenError(e: unknown): e is PenError {
  return e instanceof PenError;
}

/** One line for a human: "pen: <message> <hint>". */
export function formatError(e: PenError, program = 'pen'): string {
  return e.hint ? `${program}: ${e.message} ${e.hint}` : `${program}: ${e.message}`;
}

/**
 * An EACCES/EPERM from a file operation made after `-u` -> a note saying whose rights apply
 * (" (pen runs as user nobody now, -u)"), else ''.
 */
export function accessNote(err: unknown, user: string | null): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (user === null || (code !== 'EACCES' && code !== 'EPERM')) return '';
  return ` (pen runs as user '${user}' now, -u: the file must be accessible to that user)`;
}
