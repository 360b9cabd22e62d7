#!/usr/bin/env node
// The `transport-lab` command: the sources are TypeScript, so tsx is registered
// as a module loader first; the user never has to know it is there.
import { register } from 'tsx/esm/api';

register();
await import('../run.ts');
