#!/usr/bin/env node
'use strict';
require('./cli-bundle.js').main(process.argv.slice(2), 'ae-state');
