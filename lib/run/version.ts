// pen's version, from package.json.
import fs from 'node:fs';
import path from 'node:path';

import { packageRoot } from '../engine/native.js';

export const VERSION: string = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version;
