// The unit project alone (no network, seconds per run): the tests the mutation run judges by.
const path = require('node:path');
const { unitProject } = require('../../jest.config.js');

/** @type {import('jest').Config} */
module.exports = { ...unitProject, rootDir: path.resolve(__dirname, '..', '..') };
