/**
 * A component may read the WAVS_ENV_ secrets it was granted, but one that prints a secret (in a log
 * line, on stdout or in its error) must not put it in the node's logs, a task timeline or an API
 * answer: every such value in what the component produced is replaced by the secret's name.
 */
export function createSecretMasker(env: Env): (text: string) => string {
  const secrets = Object.entries(env as unknown as Record<string, unknown>)
    .filter((entry): entry is [string, string] => entry[0].startsWith("WAVS_ENV_") && typeof entry[1] === "string" && entry[1].length > 0)
    // longest first, so a secret that contains another is masked whole
    .sort((a, b) => b[1].length - a[1].length);
  if (secrets.length === 0) return (text) => text;
  return (text) => secrets.reduce((masked, [name, value]) => masked.replaceAll(value, `[${name}]`), text);
}
