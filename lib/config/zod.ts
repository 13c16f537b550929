// The one place pen loads zod. Through require() (zod ships CommonJS too), which opens its
// files one at a time: the ESM loader opens all of zod's locale modules at once, and that
// alone exhausts a small descriptor limit (`ulimit -n 64`) before pen has started.
import { createRequire } from 'node:module';

import type * as zod from 'zod';

export const z: typeof zod.z = createRequire(import.meta.url)('zod').z;
export type { zod };
