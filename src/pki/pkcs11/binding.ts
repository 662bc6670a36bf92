import { createRequire } from 'node:module';
import type * as Pkcs11js from 'pkcs11js';

/**
 * The pkcs11js native binding. It is CommonJS with a computed export list, which ESM named
 * imports cannot see, so it is required.
 */
export const P11 = createRequire(import.meta.url)('pkcs11js') as typeof Pkcs11js;

export type Pkcs11 = Pkcs11js.PKCS11;
export type Handle = Pkcs11js.Handle;
export type Template = Pkcs11js.Template;
export type Mechanism = Pkcs11js.Mechanism;
export type RsaPssParams = Pkcs11js.RsaPSS;
