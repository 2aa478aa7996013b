/** Kept equal to package.json's version by a test (a bundled binary has no package.json to read). */
export const VERSION = '0.1.0';
