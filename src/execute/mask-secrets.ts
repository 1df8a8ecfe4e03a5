/**
 * A component may read the WAVS_ENV_ secrets it was granted, but one that prints a secret (in a log
 * line, on stdout or in its error) must not put it in the node's logs, a task timeline or an API
 * answer: every such value in what the component produced is replaced by the secret's name, and so
 * are its common encodings (base64 and base64url, hex, URL-encoding), which a component could print
 * as easily as the value itself.
 */
export function createSecretMasker(env: Env): (text: string) => string {
  const forms = Object.entries(env as unknown as Record<string, unknown>)
    .filter(
      (entry): entry is [string, string] =>
        entry[0].startsWith("WAVS_ENV_") && typeof entry[1] === "string" && entry[1].length > 0,
    )
    .flatMap(([name, value]) => encodedForms(value).map((form) => [name, form] as const))
    // longest first, so a secret (or encoding) that contains another is masked whole
    .sort((a, b) => b[1].length - a[1].length);
  if (forms.length === 0) return (text) => text;
  return (text) => forms.reduce((masked, [name, form]) => masked.replaceAll(form, `[${name}]`), text);
}

/**
 * The value and the encodings of it worth masking. Encodings shorter than 4 characters are left
 * out: masking them would shred ordinary text.
 */
export function encodedForms(value: string): string[] {
  const bytes = new TextEncoder().encode(value);
  const base64 = btoa(String.fromCharCode(...bytes));
  const base64url = base64.replaceAll("+", "-").replaceAll("/", "_");
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const forms = [
    value,
    base64,
    base64.replace(/=+$/, ""),
    base64url,
    base64url.replace(/=+$/, ""),
    hex,
    hex.toUpperCase(),
    encodeURIComponent(value),
    encodeURIComponent(value).replaceAll("%20", "+"),
  ];
  return [...new Set(forms)].filter((f) => f.length >= 4 || f === value);
}
