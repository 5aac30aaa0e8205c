/** @siked/cli: the `siked` command, also usable programmatically. */
export { main } from './main';
export { createProgram } from './program';
