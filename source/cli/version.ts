/** The version `gantry --version` and `gantry info` print. */
export const VERSION = '0.1.0';
