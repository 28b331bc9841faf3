#!/usr/bin/env node
// Creates the blob container named by ISHCHAT_BACKUP_STORE_CONTAINER unless it exists.
// pgBackRest (like barman-cloud) never creates its container, and Azurite ships no CLI, so this
// speaks the Blob REST API itself: one signed "Create Container" request (Shared Key auth).
// Exit 0: created or already there. Exit 1: anything else, with the server's answer.
'use strict';
const crypto = require('node:crypto');
const https = require('node:https');

const account = process.env.ISHCHAT_BACKUP_STORE_ACCOUNT;
const key = Buffer.from(process.env.ISHCHAT_BACKUP_STORE_KEY, 'base64');
const container = process.env.ISHCHAT_BACKUP_STORE_CONTAINER;
const port = Number(process.env.ISHCHAT_BACKUP_STORE_PORT || 10000);

const date = new Date().toUTCString();
const version = '2021-10-04';
const path = `/${account}/${container}`;
// Path-style URL: the canonical resource repeats the account (/account + /account/container).
const stringToSign = [
  // Content-Length is signed as empty when 0 (API versions since 2015-02-21).
  'PUT', '', '', '', '', '', '', '', '', '', '', '',
  `x-ms-date:${date}\nx-ms-version:${version}`,
  `/${account}${path}\nrestype:container`,
].join('\n');
const signature = crypto.createHmac('sha256', key).update(stringToSign, 'utf8').digest('base64');

const request = https.request({
  host: '127.0.0.1', port, method: 'PUT', path: `${path}?restype=container`,
  // Our own self-signed certificate on loopback: nothing to verify it against here.
  rejectUnauthorized: false,
  headers: {
    'x-ms-date': date, 'x-ms-version': version, 'Content-Length': 0,
    Authorization: `SharedKey ${account}:${signature}`,
  },
}, (response) => {
  let body = '';
  response.on('data', (chunk) => { body += chunk; });
  response.on('end', () => {
    if (response.statusCode === 201 || response.statusCode === 409) {
      console.error(`ensure-container: container '${container}' ${response.statusCode === 201 ? 'created' : 'exists'}`);
      process.exit(0);
    }
    console.error(`ensure-container: error: HTTP ${response.statusCode}: ${body}`);
    process.exit(1);
  });
});
request.on('error', (error) => { console.error(`ensure-container: error: ${error.message}`); process.exit(1); });
request.end();
