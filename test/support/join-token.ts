import CryptoJS from 'crypto-js';

/** Seed 001's generateJoinToken, byte for byte (CryptoJS, MD5 of json + apiKey, expiry in Unix seconds). */
export function generateJoinToken(channel: string, data: unknown, apiKey: string, expiresInS = 60): string {
  const timestamp = Math.floor(Date.now() / 1000) + expiresInS;
  const json = JSON.stringify({ channel, timestamp, data });
  const str = json + CryptoJS.MD5(json + apiKey).toString();
  return CryptoJS.enc.Base64.stringify(CryptoJS.enc.Utf8.parse(str));
}
