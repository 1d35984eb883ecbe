// Google's own Node.js clients against cbcs-sim gcpcas: google-auth-library
// fetches a token with the simulator's key file, then
// @google-cloud/security-private-ca (REST fallback) lists pools, creates a
// certificate, gets it and revokes it. Prints one JSON line of what it saw.
// Environment: SIM_URL, KEY_FILE, PROJECT, LOCATION, CSR_FILE; the simulator's
// CA comes in through NODE_EXTRA_CA_CERTS.
'use strict';

const fs = require('fs');
const {JWT} = require('google-auth-library');
const {CertificateAuthorityServiceClient} = require('@google-cloud/security-private-ca');

async function main() {
  const sim = new URL(process.env.SIM_URL);
  const key = JSON.parse(fs.readFileSync(process.env.KEY_FILE, 'utf8'));
  const parent = `projects/${process.env.PROJECT}/locations/${process.env.LOCATION}`;
  const out = {};

  // google-auth-library posts to https://oauth2.googleapis.com/token whatever
  // the key file's token_uri says: its transporter sends that request to the
  // key file's token_uri (the simulator) instead.
  const auth = new JWT({
    email: key.client_email,
    key: key.private_key,
    keyId: key.private_key_id,
    scopes: ['https://www.googleapis.com/auth/cloud-platform'],
  });
  auth.transporter.interceptors.request.add({
    resolved: async config => {
      const url = new URL(config.url.toString());
      if (url.host === 'oauth2.googleapis.com') config.url = key.token_uri;
      return config;
    },
  });
  const token = await auth.getAccessToken();
  out.token = token.token ? token.token.slice(0, 9) : null;

  const options = {fallback: true, apiEndpoint: sim.hostname, port: Number(sim.port), protocol: 'https'};
  // With an OAuth token (the client above) ...
  const client = new CertificateAuthorityServiceClient({...options, authClient: auth});
  const [pools] = await client.listCaPools({parent});
  out.pools = pools.map(p => ({name: p.name, tier: String(p.tier)}));
  const poolName = pools[0].name;

  const certificateId = 'node-' + Date.now();
  const [created] = await client.createCertificate({
    parent: poolName,
    certificateId,
    requestId: '3f2c4a9e-1b7d-4c55-9e21-' + String(Date.now()).slice(-12).padStart(12, '0'),
    certificate: {
      pemCsr: fs.readFileSync(process.env.CSR_FILE, 'utf8'),
      lifetime: {seconds: 86400},
      labels: {made_by: 'google-cloud-node'},
    },
  });
  out.created = {name: created.name, chain: created.pemCertificateChain.length,
                 pem: created.pemCertificate.startsWith('-----BEGIN CERTIFICATE-----')};

  // ... and with the key file as credentials: Google's client then signs its
  // own JWT as the bearer (no token endpoint).
  const selfSigned = new CertificateAuthorityServiceClient({
    ...options,
    credentials: {client_email: key.client_email, private_key: key.private_key},
    projectId: process.env.PROJECT,
  });
  const [got] = await selfSigned.getCertificate({name: created.name});
  out.got = {name: got.name, same: got.pemCertificate === created.pemCertificate};

  const [revoked] = await client.revokeCertificate({
    name: created.name,
    reason: 'KEY_COMPROMISE',
    requestId: '7b1e2d3c-4a5b-4c6d-8e7f-' + String(Date.now()).slice(-12).padStart(12, '0'),
  });
  out.revoked = {state: String(revoked.revocationDetails && revoked.revocationDetails.revocationState)};

  // An error in Google's shape reaches the client as a gRPC status.
  try {
    await client.getCertificate({name: poolName + '/certificates/does-not-exist'});
    out.not_found = 'no error';
  } catch (e) {
    out.not_found = {code: e.code, message: String(e.message).slice(0, 120)};
  }
  console.log(JSON.stringify(out));
}

main().catch(e => {
  console.error('gcpcas_client.js: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
